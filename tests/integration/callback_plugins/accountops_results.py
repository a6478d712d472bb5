# Copyright: accountops.cloud maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: one JSON line per task result, for tests/integration/conftest.py."""

from __future__ import annotations

import json
import os

from ansible.module_utils.common.json import AnsibleJSONEncoder
from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: accountops_results
type: aggregate
short_description: write each task result as a JSON line (test harness)
description:
  - Appends one JSON object per task result (and a final stats line) to the
    file named by the E(ACCOUNTOPS_RESULTS_FILE) environment variable.
  - C(task) is the displayed name (prefixed with the role inside a role),
    C(name) the task's own name (its action when it has none) and C(role) the
    role name.
  - The recorded result is the dictionary Ansible hands to callbacks, that is
    already censored for C(no_log).
  - Used by tests/integration/conftest.py only; not part of the collection.
requirements:
  - enabled with ANSIBLE_CALLBACKS_ENABLED=accountops_results
"""

ENV_VAR = 'ACCOUNTOPS_RESULTS_FILE'


def _jsonable(value):
    """Return value serialised to JSON text, falling back to repr() for odd objects."""
    try:
        return json.dumps(value, cls=AnsibleJSONEncoder, sort_keys=True)
    except (TypeError, ValueError):
        return json.dumps(value, default=repr, sort_keys=True)


class CallbackModule(CallbackBase):
    """Record task results for the integration test harness."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'accountops_results'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._path = os.environ.get(ENV_VAR)
        self._seq = 0

    def _write(self, record):
        if not self._path:
            return
        self._seq += 1
        record['seq'] = self._seq
        with open(self._path, 'a', encoding='utf-8') as handle:
            handle.write(_jsonable(record) + '\n')

    @staticmethod
    def _result_dict(result):
        # ansible-core >= 2.19 exposes .result; older versions only ._result
        value = getattr(result, 'result', None)
        if not isinstance(value, dict):
            value = getattr(result, '_result', None)
        return dict(value or {})

    @staticmethod
    def _host_name(result):
        host = getattr(result, 'host', None) or getattr(result, '_host', None)
        return host.get_name() if host is not None else None

    @staticmethod
    def _task(result):
        return getattr(result, 'task', None) or getattr(result, '_task', None)

    def _record(self, result, status, event='task', ignore_errors=None):
        task = self._task(result)
        data = self._result_dict(result)
        if status == 'ok' and data.get('changed'):
            status = 'changed'
        role = getattr(task, '_role', None)
        record = {
            'event': event,
            'task': task.get_name() if task is not None else None,
            'name': (getattr(task, 'name', None) or getattr(task, 'action', None)) if task is not None else None,
            'role': role.get_name() if role is not None else None,
            'action': getattr(task, 'action', None),
            'host': self._host_name(result),
            'status': status,
            'result': data,
        }
        if ignore_errors is not None:
            record['ignore_errors'] = bool(ignore_errors)
        self._write(record)

    def v2_runner_on_ok(self, result):
        self._record(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'failed', ignore_errors=ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._record(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._record(result, 'unreachable')

    def v2_runner_item_on_ok(self, result):
        self._record(result, 'ok', event='item')

    def v2_runner_item_on_failed(self, result):
        self._record(result, 'failed', event='item')

    def v2_runner_item_on_skipped(self, result):
        self._record(result, 'skipped', event='item')

    def v2_playbook_on_stats(self, stats):
        summary = {}
        for host in sorted(stats.processed.keys()):
            summary[host] = stats.summarize(host)
        self._write({'event': 'stats', 'stats': summary})
