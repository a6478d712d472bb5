"""Guarantee 7 of issue 5: soak.

One cloud_users task converges 2,000 accounts (half selected by id, half by login, so the tenant listing pages
too) while the emulator answers about 10% of all requests with 429 (Retry-After: 1) or 503, and resets a few
connections. The run completes; every account is reported once and converged; and the request log balances:
the PUTs sent equal the accounts changed plus the PUTs that met a fault and were sent again.
"""

from __future__ import annotations

import json
import time
from collections import Counter

from tests.integration.playbooks import record_figures

ACME = 'cc6f6ef1-7d48-4da2-9cdf-3473ba866f4a'
COUNT = 2000
# 429 on 5% of requests, 503 on 5.3% of the rest: 10% in all; then a few resets.
FAULTS = [
    {'kind': 'status', 'status': 429, 'retry_after': '1', 'probability': 0.05, 'seed': 429},
    {'kind': 'status', 'status': 503, 'probability': 0.0527, 'seed': 503},
    {'kind': 'reset', 'probability': 0.004, 'count': 6, 'seed': 104},
]
RETRIES = 6


def desired(index, user):
    """Every 4th account is already as wanted; every 10th is disabled too."""
    item = {'user_id': user['id']} if index % 2 else {'login': user['login']}
    item['contact'] = {'title': ''} if index % 4 == 0 else {'title': 'Soak %d' % (index % 7)}
    if index % 10 == 0:
        item['state'] = 'disabled'
    return item


def test_soak_2000_accounts_under_faults(emulator, demo_state, run_playbook, cloud_auth):
    demo_state['generate_users'] = {'count': COUNT, 'tenant_id': ACME, 'login_prefix': 'soak', 'seed': 2000}
    emulator.reset(demo_state)
    accounts = [user for user in emulator.state()['users'] if user['login'].startswith('soak')]
    assert len(accounts) == COUNT
    users = [desired(index, user) for index, user in enumerate(accounts)]
    expected_changes = sum(1 for index, user in enumerate(accounts)
                           if index % 4 or (index % 10 == 0 and user['enabled']))
    for rule in FAULTS:
        emulator.add_fault(api='cloud', **rule)

    book = json.dumps([{'name': 'soak', 'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'name': 'Soak', 'accountops.cloud.cloud_users': dict(cloud_auth, users=users, workers=8, retries=RETRIES)}]}])
    started = time.monotonic()
    run = run_playbook(book, timeout=600)
    duration = time.monotonic() - started
    assert run.rc == 0, run.explain()
    assert 'Traceback' not in run.stdout + run.stderr
    result = run.task('Soak')

    # every account reported, once, in input order, none failed
    summary = result['summary']
    assert summary == {'total': COUNT, 'changed': expected_changes, 'pending_confirmation': 0, 'failed': 0}
    assert [item['index'] for item in result['results']] == list(range(COUNT))
    assert sorted(item['user_id'] for item in result['results']) == sorted(user['id'] for user in accounts)
    assert all(item['error'] is None for item in result['results'])

    # every account converged
    stored = dict((user['id'], user) for user in emulator.state()['users'])
    unconverged = []
    for index, user in enumerate(accounts):
        now = stored[user['id']]
        wanted = users[index]
        if now['contact']['title'] != wanted['contact']['title'] or ('state' in wanted and now['enabled']):
            unconverged.append(user['login'])
    assert unconverged == []

    # the log balances: PUTs = changed accounts + PUTs that met a fault and were retried
    log = emulator.requests(api='cloud')
    puts = [entry for entry in log if entry['method'] == 'PUT']
    faulted_puts = [entry for entry in puts if entry['fault']]
    applied = [entry for entry in puts if entry['status'] == 200]
    assert len(applied) == summary['changed']
    assert len(puts) == summary['changed'] + len(faulted_puts)
    assert not [entry for entry in puts if entry['status'] == 409]
    assert len(set(entry['path'] for entry in applied)) == summary['changed']  # no account written twice

    faults = Counter('reset' if entry['fault'] == 'reset' else str(entry['status']) for entry in log if entry['fault'])
    assert faults['429'] and faults['503'] and faults['reset']
    share = sum(faults.values()) / float(len(log))
    assert 0.07 <= share <= 0.14, share
    warnings = result.get('warnings') or []
    assert sum(1 for warning in warnings if warning.startswith('transient failure')) == 5
    assert any('only the first 5 are listed' in warning for warning in warnings)
    assert duration < 120, duration
    record_figures('soak', accounts=COUNT, changed=summary['changed'], requests=len(log), faults=dict(faults),
                   fault_share=round(share, 3), puts=len(puts), faulted_puts=len(faulted_puts), failed=summary['failed'],
                   retries_option=RETRIES, seconds=round(duration, 1))
