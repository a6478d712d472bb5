"""Fixtures for playbook-level integration tests of accountops.cloud.

* ``emulator``: a TLS-enabled API emulator (tests/emulator/harness.py), one per
  pytest(-xdist) worker for the whole session; tests reset it to the state
  they need (``emulator.reset(state)``, ``demo_state``).
* ``run_playbook``: runs the real ``ansible-playbook`` of the venv pytest runs
  in (so the ansible-core version under test), with the collection laid out
  under build/ansible_collections/accountops/cloud, and returns a
  :class:`PlaybookResult` whose ``results`` are captured by the test callback
  tests/integration/callback_plugins/accountops_results.py.
* ``cloud_auth`` / ``codearts_auth`` (plain HTTP), ``cloud_auth_tls`` /
  ``codearts_auth_tls`` (HTTPS + ca_path) and ``auth_vars`` (flat playbook
  variables plus an ``env`` dict of ACRONIS_* / CODEARTS_* / HUAWEICLOUD_*):
  the demo client's credentials.

``pytest tests/integration`` works standalone: the collection is (re)laid out
by scripts/layout_collection.py at session start (incrementally, under a lock).
"""

from __future__ import annotations

import copy
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
CALLBACK_DIR = os.path.join(HERE, 'callback_plugins')
CALLBACK_NAME = 'accountops_results'
DEMO_STATE_FILE = os.path.join(REPO_ROOT, 'tests', 'emulator', 'demo_state.json')

DEMO_CLIENT_ID = '3663410d-4b70-4860-860c-8db82bffab8e'
DEMO_CLIENT_SECRET = 'demo-client-secret-0123456789'
DEMO_CODEARTS_TOKEN = 'demo-codearts-token'

PLAYBOOK_TIMEOUT = int(os.environ.get('ACCOUNTOPS_PLAYBOOK_TIMEOUT', '300'))

if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from tests.integration.playbooks import collections_root  # noqa: E402  pylint: disable=wrong-import-position


def _layout_collection():
    """Mirror the working tree into the collections root (fast no-op when already current)."""
    subprocess.run(
        [sys.executable, os.path.join(REPO_ROOT, 'scripts', 'layout_collection.py'), '--dest', collections_root(), '--quiet'],
        check=True,
    )


def pytest_configure(config):
    """Lay the collection out once per process (controller and each xdist worker; it is locked and incremental)."""
    del config
    _layout_collection()


class PlaybookResult:
    """Outcome of one ansible-playbook run."""

    def __init__(self, rc, stdout, stderr, results, command, playbook):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.command = command
        self.playbook = playbook
        self.records = results
        self.results = [r for r in results if r.get('event') == 'task']
        self.items = [r for r in results if r.get('event') == 'item']
        stats = [r for r in results if r.get('event') == 'stats']
        self.stats = stats[-1]['stats'] if stats else {}

    def __repr__(self):
        return '<PlaybookResult rc=%s tasks=%d>' % (self.rc, len(self.results))

    def tasks(self, name):
        """Return every task record (one per host/run) called ``name``.

        ``name`` matches the displayed name (``role : task`` inside a role) or the
        task's own name (its action when it has no name).
        """
        return [r for r in self.results if name in (r.get('task'), r.get('name'))]

    def task(self, name, host=None):
        """Return the result dict of the (last) task called ``name``; KeyError if it did not run."""
        matches = [r for r in self.tasks(name) if host is None or r.get('host') == host]
        if not matches:
            raise KeyError('task %r not in results; ran: %r' % (name, [r.get('task') for r in self.results]))
        return matches[-1]['result']

    def record(self, name, host=None):
        """Like :meth:`task` but return the whole record (task, host, status, result, ...)."""
        matches = [r for r in self.tasks(name) if host is None or r.get('host') == host]
        if not matches:
            raise KeyError('task %r not in results; ran: %r' % (name, [r.get('task') for r in self.results]))
        return matches[-1]

    def status(self, name, host=None):
        """Return ok/changed/failed/skipped/unreachable for the task called ``name``."""
        return self.record(name, host)['status']

    @property
    def changed(self):
        """Number of changed task results across all hosts."""
        return sum(1 for r in self.results if r.get('status') == 'changed')

    @property
    def failed(self):
        """Task records that failed (ignored failures included)."""
        return [r for r in self.results if r.get('status') in ('failed', 'unreachable')]

    def summary(self, host='localhost'):
        """Return the PLAY RECAP counters for host (ok, changed, failures, ...)."""
        return self.stats.get(host, {})

    def explain(self):
        """Text to put in an assertion message."""
        return 'rc=%s\ncommand: %s\n--- stdout ---\n%s\n--- stderr ---\n%s' % (
            self.rc, shlex.join(self.command), self.stdout[-20000:], self.stderr[-20000:])

    def assert_ok(self):
        """Assert the run succeeded; returns self for chaining."""
        assert self.rc == 0, self.explain()
        return self


def _bin_dir():
    return os.path.dirname(sys.executable)


def _playbook_runner(tmp_dir):
    counter = {'n': 0}

    def run_playbook(playbook, extra_vars=None, check=False, diff=False, verbosity=0, env=None, inventory=None,
                     timeout=PLAYBOOK_TIMEOUT, args=None):
        """Run ansible-playbook; ``playbook`` is a path or YAML text. Returns a PlaybookResult."""
        counter['n'] += 1
        run_dir = os.path.join(tmp_dir, 'run-%03d' % counter['n'])
        os.makedirs(run_dir)

        if '\n' in playbook or not os.path.exists(playbook):
            path = os.path.join(run_dir, 'playbook.yml')
            with open(path, 'w', encoding='utf-8') as handle:
                handle.write(playbook)
            playbook = path
        else:
            playbook = os.path.abspath(playbook)

        if inventory is None:
            inventory = os.path.join(run_dir, 'inventory.ini')
            with open(inventory, 'w', encoding='utf-8') as handle:
                handle.write('localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)
        elif '\n' in inventory:
            path = os.path.join(run_dir, 'inventory.ini')
            with open(path, 'w', encoding='utf-8') as handle:
                handle.write(inventory)
            inventory = path

        results_file = os.path.join(run_dir, 'results.jsonl')
        command = [os.path.join(_bin_dir(), 'ansible-playbook'), '-i', inventory, playbook]
        if extra_vars:
            vars_file = os.path.join(run_dir, 'extra_vars.json')
            with open(vars_file, 'w', encoding='utf-8') as handle:
                json.dump(extra_vars, handle)
            command += ['-e', '@' + vars_file]
        if check:
            command.append('--check')
        if diff:
            command.append('--diff')
        if verbosity:
            command.append('-' + 'v' * int(verbosity))
        command += list(args or ())

        run_env = dict(os.environ)
        for key in [k for k in run_env if k.startswith(('ACRONIS_', 'CODEARTS_', 'HUAWEICLOUD_'))]:
            del run_env[key]  # nothing leaks in from the developer's shell
        run_env.update({
            'ANSIBLE_COLLECTIONS_PATH': collections_root(),
            'ANSIBLE_CALLBACK_PLUGINS': CALLBACK_DIR,
            'ANSIBLE_CALLBACKS_ENABLED': CALLBACK_NAME,
            'ANSIBLE_FORCE_COLOR': '0',
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_HOST_KEY_CHECKING': 'False',
            'ANSIBLE_RETRY_FILES_ENABLED': 'False',
            'ANSIBLE_LOCAL_TEMP': os.path.join(run_dir, 'tmp'),
            'ANSIBLE_REMOTE_TEMP': os.path.join(run_dir, 'remote_tmp'),
            'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
            'ANSIBLE_DEPRECATION_WARNINGS': 'True',
            # the modules' API token cache lives under $XDG_CACHE_HOME: one per run,
            # so runs never share tokens (pass env={'XDG_CACHE_HOME': ...} to share)
            'XDG_CACHE_HOME': os.path.join(run_dir, 'xdg-cache'),
            'ACCOUNTOPS_RESULTS_FILE': results_file,
            'PATH': _bin_dir() + os.pathsep + run_env.get('PATH', ''),
            'PYTHONUNBUFFERED': '1',
        })
        run_env.pop('ANSIBLE_CONFIG', None)
        if env:
            for key, value in env.items():
                if value is None:
                    run_env.pop(key, None)
                else:
                    run_env[key] = str(value)

        started = time.monotonic()
        try:
            proc = subprocess.run(command, env=run_env, cwd=run_dir, capture_output=True, text=True,
                                  timeout=timeout, check=False, stdin=subprocess.DEVNULL)
            rc, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as ex:
            rc = -1
            stdout = ex.stdout.decode() if isinstance(ex.stdout, bytes) else (ex.stdout or '')
            stderr = (ex.stderr.decode() if isinstance(ex.stderr, bytes) else (ex.stderr or '')) + \
                '\n[conftest] ansible-playbook timed out after %ss' % timeout
        records = []
        if os.path.exists(results_file):
            with open(results_file, encoding='utf-8') as handle:
                records = [json.loads(line) for line in handle if line.strip()]
        result = PlaybookResult(rc, stdout, stderr, records, command, playbook)
        result.duration = time.monotonic() - started
        return result

    return run_playbook


@pytest.fixture
def run_playbook(tmp_path):
    """Return ``run_playbook(playbook, extra_vars=None, check=False, diff=False, verbosity=0, env=None, inventory=None)``."""
    return _playbook_runner(str(tmp_path))


@pytest.fixture(scope='session')
def emulator_class():
    """The Emulator class from tests/emulator/harness.py."""
    from tests.emulator.harness import Emulator  # pylint: disable=import-outside-toplevel
    return Emulator


@pytest.fixture(scope='session')
def emulator(emulator_class, tmp_path_factory):
    """One TLS-enabled emulator per session (so per xdist worker); reset it in each test."""
    workdir = tmp_path_factory.mktemp('emulator')
    instance = emulator_class(tls=True, workdir=str(workdir))
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture(scope='session')
def demo_state_data():
    """The ready-made demo state (tests/emulator/demo_state.json) as loaded from disk."""
    with open(DEMO_STATE_FILE, encoding='utf-8') as handle:
        return json.load(handle)


@pytest.fixture
def demo_state(demo_state_data):
    """A fresh deep copy of the demo state that a test may modify before ``emulator.reset``."""
    return copy.deepcopy(demo_state_data)


@pytest.fixture
def demo_emulator(emulator, demo_state):
    """The session emulator reset to the demo state, with empty request log."""
    emulator.reset(demo_state)
    emulator.clear_requests()
    return emulator


@pytest.fixture
def cloud_auth(emulator):
    """Module options for the demo Acronis API client over plain HTTP (base_url, client_id, client_secret)."""
    return {
        'base_url': emulator.url,
        'client_id': DEMO_CLIENT_ID,
        'client_secret': DEMO_CLIENT_SECRET,
    }


@pytest.fixture
def cloud_auth_tls(emulator, cloud_auth):
    """Like ``cloud_auth`` but over HTTPS, trusting the emulator's CA (ca_path)."""
    return dict(cloud_auth, base_url=emulator.https_url, ca_path=emulator.ca_file)


@pytest.fixture
def codearts_auth(emulator):
    """Module options for the demo CodeArts Repo endpoint over plain HTTP (endpoint, auth_token)."""
    return {
        'endpoint': emulator.url,
        'auth_token': DEMO_CODEARTS_TOKEN,
    }


@pytest.fixture
def codearts_auth_tls(emulator, codearts_auth):
    """Like ``codearts_auth`` but over HTTPS, trusting the emulator's CA (ca_path)."""
    return dict(codearts_auth, endpoint=emulator.https_url, ca_path=emulator.ca_file)


@pytest.fixture
def auth_vars(emulator, cloud_auth, codearts_auth):
    """Flat variables for playbooks: acronis_* / codearts_* plus the env-var form (``env``)."""
    variables = {
        'acronis_base_url': cloud_auth['base_url'],
        'acronis_client_id': cloud_auth['client_id'],
        'acronis_client_secret': cloud_auth['client_secret'],
        'codearts_repo_endpoint': codearts_auth['endpoint'],
        'huaweicloud_auth_token': codearts_auth['auth_token'],
        'emulator_https_url': emulator.https_url,
        'emulator_ca_file': emulator.ca_file,
    }
    variables['env'] = {
        'ACRONIS_BASE_URL': cloud_auth['base_url'],
        'ACRONIS_CLIENT_ID': cloud_auth['client_id'],
        'ACRONIS_CLIENT_SECRET': cloud_auth['client_secret'],
        'CODEARTS_REPO_ENDPOINT': codearts_auth['endpoint'],
        'HUAWEICLOUD_AUTH_TOKEN': codearts_auth['auth_token'],
    }
    return variables


@pytest.fixture
def tmp_playbook_dir():
    """A scratch directory for tests that write several files (roles, vars)."""
    with tempfile.TemporaryDirectory(prefix='accountops-it-') as path:
        yield path
