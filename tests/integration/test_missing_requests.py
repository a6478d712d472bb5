"""A module whose Python lacks requests fails with Ansible's missing_required_lib message, before any request."""

from __future__ import annotations

import subprocess
import sys

from tests.integration.playbooks import one_play, task, write_module_local_connection

PRIYA = '6e558353-dc84-4d01-bd04-8ef3c64898ec'


def test_module_without_requests_fails_with_missing_required_lib(emulator, demo_state, run_playbook, cloud_auth, tmp_path):
    bare = tmp_path / 'bare-venv'
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(bare)], check=True)
    python = bare / 'bin' / 'python'
    assert subprocess.run([str(python), '-c', 'import requests'], capture_output=True, check=False).returncode != 0
    # Not the local connection, so the action plugin runs the module itself with that interpreter.
    plugins = write_module_local_connection(tmp_path)
    inventory = 'localhost ansible_connection=module_local ansible_python_interpreter=%s\n' % python
    emulator.reset(demo_state)

    run = run_playbook(one_play(task('cloud_user_state', 'State', ignore_errors=True, user_id=PRIYA, state='disabled'), cloud=cloud_auth),
                       inventory=inventory, env={'ANSIBLE_CONNECTION_PLUGINS': plugins})

    result = run.task('State')
    assert run.status('State') == 'failed'
    assert 'Failed to import the required Python library (requests)' in result['msg']
    assert 'Traceback' not in result['msg']
    assert emulator.requests() == []
