# Copyright: accountops.cloud maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark-only callback: when each task started and when its last result came, as JSON."""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: bench_timer
type: aggregate
short_description: task timings for tests/benchmarks/run.py
description:
  - Writes the start time of the playbook and of each task, the time of each task's last result and the
    end of the run to the JSON file named by the E(ACCOUNTOPS_BENCH_TIMINGS) environment variable.
  - Used by tests/benchmarks/run.py only; not part of the collection.
requirements:
  - enabled with ANSIBLE_CALLBACKS_ENABLED=bench_timer
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_timer'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._path = os.environ.get('ACCOUNTOPS_BENCH_TIMINGS')
        self._data = {'playbook_start': None, 'end': None, 'tasks': []}

    def _last_result(self):
        if self._data['tasks']:
            task = self._data['tasks'][-1]
            task['end'] = time.time()
            task['results'] += 1

    def v2_playbook_on_start(self, playbook):
        self._data['playbook_start'] = time.time()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._data['tasks'].append({'name': task.get_name(), 'start': time.time(), 'end': None, 'results': 0})

    def v2_runner_on_ok(self, result):
        self._last_result()

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._last_result()

    def v2_runner_on_skipped(self, result):
        self._last_result()

    def v2_runner_on_unreachable(self, result):
        self._last_result()

    def v2_playbook_on_stats(self, stats):
        self._data['end'] = time.time()
        if self._path:
            with open(self._path, 'w', encoding='utf-8') as handle:
                json.dump(self._data, handle)
