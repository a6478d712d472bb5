"""Guarantee 2 of issue 5: no lost updates.

Two real ansible-playbook processes run at the same time against the same 50 accounts: one sets contact
fields, the other the enabled state (both must land), or both set the same fields to different values (each
account ends with one run's values, never a mix). Once with the bulk module cloud_users, once with loops of
the single-account modules. Both processes wait at a wall-clock barrier (loops: one per account) and the
emulator holds their reads back, so that both read each account before either writes it; the request log
shows the version conflicts (409) that were resolved by re-reading.
"""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from tests.integration.playbooks import record_figures

ACME = 'cc6f6ef1-7d48-4da2-9cdf-3473ba866f4a'
COUNT = 50
LOOP_READ_MS = 50


# A controller-side action plugin (test-only, no module process) that sleeps until a wall-clock time: both
# processes pass each barrier within milliseconds of each other.
SLEEP_UNTIL = """
import time
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        time.sleep(max(0.0, float(self._task.args['at']) - time.time()))
        result['changed'] = False
        return result
"""
# Seconds from starting both processes to the first barrier: more than ansible-playbook needs to start on a busy box.
START_DELAY = 6
# Loops: one slot per account, long enough for a read, a conflict, a re-read and a write.
SLOT = 0.25


def play(cloud, *tasks):
    barrier = {'name': 'Barrier', 'sleep_until': {'at': '{{ start_at }}'}}
    return json.dumps([{'name': 'concurrent', 'hosts': 'localhost', 'gather_facts': False,
                        'module_defaults': {'group/accountops.cloud.cloud': cloud}, 'tasks': [barrier] + list(tasks)}], indent=1)


def bulk(users):
    return {'name': 'Bulk', 'accountops.cloud.cloud_users': {'users': users, 'workers': 8}}


def loop(directory, name, module, args):
    """Loop a single-account module over every account, item k starting at start_at + k * SLOT in both processes."""
    path = os.path.join(directory, name + '.yml')
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(json.dumps([
            {'name': 'Slot', 'sleep_until': {'at': '{{ start_at + %s * (index + 1) }}' % SLOT}},
            {'name': 'Write', 'accountops.cloud.' + module: dict(args, user_id='{{ item }}')},
        ], indent=1))
    return {'name': 'Loop', 'ansible.builtin.include_tasks': path, 'loop': '{{ ids }}', 'loop_control': {'index_var': 'index'}}


def run_together(run_playbook, books, extra_vars, plugin_dir):
    """Start both ansible-playbook processes at once; return their results in order."""
    results = [None] * len(books)
    extra_vars = dict(extra_vars, start_at=time.time() + START_DELAY)
    env = {'ANSIBLE_ACTION_PLUGINS': plugin_dir}

    def one(index):
        results[index] = run_playbook(books[index], extra_vars=extra_vars, env=env)

    threads = [threading.Thread(target=one, args=(index,)) for index in range(len(books))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def plugin_dir(tmp_path):
    directory = tmp_path / 'action_plugins'
    directory.mkdir()
    (directory / 'sleep_until.py').write_text(SLEEP_UNTIL, encoding='utf-8')
    return str(directory)


def changed_accounts(run, mode):
    if mode == 'bulk':
        return run.task('Bulk')['summary']['changed']
    return sum(1 for record in run.tasks('Write') if record['result'].get('changed'))


@pytest.fixture
def accounts(emulator, demo_state):
    demo_state['generate_users'] = {'count': COUNT, 'tenant_id': ACME, 'login_prefix': 'race', 'seed': 5}
    emulator.reset(demo_state)
    users = [user for user in emulator.state()['users'] if user['login'].startswith('race')]
    assert len(users) == COUNT
    return users


def hold_reads(emulator, mode):
    """Delay the answers to reads, so that both runs have read an account before either writes it."""
    if mode == 'bulk':
        # one batch read of 50 ids per run
        emulator.add_fault(method='GET', path=r'^/api/2/users$', kind='latency', latency_ms=1000, count=2)
    else:
        emulator.add_fault(method='GET', path=r'^/api/2/users/[0-9a-f-]{36}$', kind='latency', latency_ms=LOOP_READ_MS, probability=1.0)


def conflicts(emulator):
    return [r for r in emulator.requests() if r['method'] == 'PUT' and r['status'] == 409]


@pytest.mark.parametrize('mode', ['bulk', 'loop'])
def test_different_fields_both_land(emulator, accounts, run_playbook, cloud_auth, plugin_dir, mode):
    ids = [user['id'] for user in accounts]
    hold_reads(emulator, mode)
    if mode == 'bulk':
        contact = play(cloud_auth, bulk([{'user_id': uid, 'contact': {'title': 'Contact run', 'city': 'Oslo'}} for uid in ids]))
        state = play(cloud_auth, bulk([{'user_id': uid, 'state': 'disabled'} for uid in ids]))
    else:
        contact = play(cloud_auth, loop(plugin_dir, 'contact', 'cloud_user_contact', {'contact': {'title': 'Contact run', 'city': 'Oslo'}}))
        state = play(cloud_auth, loop(plugin_dir, 'state', 'cloud_user_state', {'state': 'disabled'}))
    first, second = run_together(run_playbook, [contact, state], {'ids': ids}, plugin_dir)
    first.assert_ok()
    second.assert_ok()

    lost = []
    for uid in ids:
        user = emulator.user(uid)
        if not (user['contact']['title'] == 'Contact run' and user['contact']['city'] == 'Oslo' and user['enabled'] is False):
            lost.append(uid)
        # firstname, lastname and email were not managed by either run and are untouched
        assert user['contact']['email'].startswith('race')
    assert lost == []
    # each run reports every account as changed: each changed it
    assert changed_accounts(first, mode) == COUNT and changed_accounts(second, mode) == COUNT
    resolved = len(conflicts(emulator))
    assert resolved >= COUNT // 2, 'the runs did not overlap'
    writes = [r for r in emulator.requests() if r['method'] == 'PUT' and r['status'] == 200]
    assert len(writes) == 2 * COUNT  # every account written once by each run, nothing twice
    record_figures('different_fields_' + mode, accounts=COUNT, runs=2, conflicts_resolved=resolved, lost_updates=len(lost))


@pytest.mark.parametrize('mode', ['bulk', 'loop'])
def test_same_fields_end_with_one_runs_values_never_a_mix(emulator, accounts, run_playbook, cloud_auth, plugin_dir, mode):
    ids = [user['id'] for user in accounts]
    hold_reads(emulator, mode)
    alpha = {'firstname': 'Alpha', 'lastname': 'Anders', 'phone': '+1 111'}
    bravo = {'firstname': 'Bravo', 'lastname': 'Brown', 'phone': '+2 222'}
    if mode == 'bulk':
        books = [play(cloud_auth, bulk([{'user_id': uid, 'contact': values} for uid in ids])) for values in (alpha, bravo)]
    else:
        books = [play(cloud_auth, loop(plugin_dir, name, 'cloud_user_contact', {'contact': values}))
                 for name, values in (('alpha', alpha), ('bravo', bravo))]
    first, second = run_together(run_playbook, books, {'ids': ids}, plugin_dir)
    first.assert_ok()
    second.assert_ok()

    winners = {'alpha': 0, 'bravo': 0}
    mixed = []
    for uid in ids:
        contact = emulator.user(uid)['contact']
        seen = dict((key, contact[key]) for key in alpha)
        if seen == alpha:
            winners['alpha'] += 1
        elif seen == bravo:
            winners['bravo'] += 1
        else:
            mixed.append((uid, seen))
    assert mixed == []
    resolved = len(conflicts(emulator))
    assert resolved >= COUNT // 2, 'the runs did not overlap'
    record_figures('same_fields_' + mode, accounts=COUNT, runs=2, conflicts_resolved=resolved, mixed=len(mixed), **winners)
