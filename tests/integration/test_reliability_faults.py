"""Guarantee 1 of issue 5: transient faults are retried, bounded; permanent errors are not.

Every test injects faults into the emulator, runs a real ansible-playbook and reads the emulator's request log:
429 with Retry-After in seconds and as an HTTP date, 502/503/504, connection resets, read timeouts, the
``retries`` and ``retry_budget`` options, backoff with jitter, a write whose answer is lost after it applied,
an expired token (exactly one re-authentication) and 400/401/403/404 (exactly one attempt).
"""

from __future__ import annotations

import email.utils
import json
import time

import pytest

from tests.integration.playbooks import record_figures

JANE = '6c5f167d-bcb4-41f9-8958-39a366ecee7f'    # activated, version 1, firstname Jane
PRIYA = '6e558353-dc84-4d01-bd04-8ef3c64898ec'   # not activated
ACME = 'cc6f6ef1-7d48-4da2-9cdf-3473ba866f4a'    # the demo API client's tenant
USER_PATH = r'^/api/2/users/[0-9a-f-]{36}$'
BATCH_PATH = r'^/api/2/users$'


def play(*tasks, cloud=None):
    entry = {'name': 'reliability faults', 'hosts': 'localhost', 'gather_facts': False, 'tasks': list(tasks)}
    if cloud:
        entry['module_defaults'] = {'group/accountops.cloud.cloud': cloud}
    return json.dumps([entry], indent=1)


def task(name, module, **args):
    return {'name': name, 'accountops.cloud.' + module: args, 'ignore_errors': True}


def calls(log, method, path_regex_suffix=''):
    return [r for r in log if r['method'] == method and r['path'].endswith(path_regex_suffix)]


def token_posts(log):
    return [r for r in log if r['method'] == 'POST' and r['path'].endswith('/idp/token')]


def gaps(entries):
    return [later['time'] - earlier['time'] for earlier, later in zip(entries, entries[1:])]


def assert_clean(run):
    """No traceback anywhere: ours would show as 'Traceback' or a module_stderr, Ansible's own catch-all as
    'Unexpected failure'. (ansible-core 2.19 adds exception='(traceback unavailable)' to every failed result.)"""
    text = run.stdout + run.stderr
    assert 'Traceback' not in text and 'Unexpected failure' not in text, run.explain()
    for record in run.results + run.items:
        result = record['result']
        assert 'module_stderr' not in result and 'Traceback' not in str(result.get('exception', '')), json.dumps(record)
        assert result.get('exception', '(traceback unavailable)') == '(traceback unavailable)', json.dumps(record)


@pytest.fixture
def demo(emulator, demo_state):
    emulator.reset(demo_state)
    return emulator


def contact_change(cloud_auth, firstname='Janet', **extra):
    return play(task('Contact', 'cloud_user_contact', user_id=JANE, contact={'firstname': firstname}, **extra), cloud=dict(cloud_auth))


# -- 429 and Retry-After -------------------------------------------------------------------------------------------

@pytest.mark.parametrize('form', ['seconds', 'http-date'])
def test_429_retry_after_is_honoured(demo, run_playbook, cloud_auth, form):
    # The date is made now and met after ansible-playbook has started (1-3 s later): far enough ahead to show.
    retry_after = '2' if form == 'seconds' else email.utils.formatdate(time.time() + 6, usegmt=True)
    demo.add_fault(method='GET', path=USER_PATH, kind='status', status=429, retry_after=retry_after, count=1)
    run = run_playbook(contact_change(cloud_auth), diff=True)
    assert_clean(run)
    result = run.task('Contact')
    assert run.status('Contact') != 'failed', run.explain()
    assert result['changed'] is True
    reads = calls(demo.requests(), 'GET', JANE)
    assert [(r['status'], r['fault']) for r in reads] == [(429, 'status'), (200, None)]
    # The wait came from Retry-After (>= 1.5 s), not from the 0.25-0.5 s backoff of a first retry.
    assert 1.5 <= gaps(reads)[0] <= 6.5, gaps(reads)
    assert any('HTTP 429, retrying (attempt 2 of 4)' in warning for warning in result['warnings'])
    assert demo.user(JANE)['contact']['firstname'] == 'Janet'
    record_figures('429_retry_after_' + form, faults=1, survived=1, waited=round(gaps(reads)[0], 2))


def test_long_retry_after_is_bounded_by_the_budget(demo, run_playbook, cloud_auth):
    # Retry-After is capped at 60 s (unit-tested); a budget shorter than the wait gives up at once
    # instead of sleeping through a scheduled job.
    demo.add_fault(method='GET', path=USER_PATH, kind='status', status=429, retry_after='3600', count=5)
    started = time.monotonic()
    run = run_playbook(contact_change(cloud_auth, retry_budget=5))
    assert time.monotonic() - started < 30
    assert_clean(run)
    result = run.task('Contact')
    assert run.status('Contact') == 'failed'
    assert 'HTTP 429' in result['msg'] and '/api/2/users/%s' % JANE in result['msg']
    assert result['status'] == 429
    assert len(calls(demo.requests(), 'GET', JANE)) == 1
    assert demo.user(JANE)['version'] == 1
    record_figures('429_retry_after_3600_budget_5', faults=1, survived=0, gave_up_cleanly=1)


# -- gateway errors, resets, timeouts ------------------------------------------------------------------------------

@pytest.mark.parametrize('status', [502, 503, 504])
def test_gateway_errors_are_retried(demo, run_playbook, cloud_auth, status):
    demo.add_fault(method='PUT', path=USER_PATH, kind='status', status=status, count=2)
    demo.add_fault(method='GET', path=USER_PATH, kind='status', status=status, count=1)
    run = run_playbook(contact_change(cloud_auth))
    assert_clean(run)
    assert run.task('Contact')['changed'] is True, run.explain()
    log = demo.requests()
    assert [r['status'] for r in calls(log, 'PUT', JANE)] == [status, status, 200]
    assert [r['status'] for r in calls(log, 'GET', JANE)] == [status, 200]
    assert demo.user(JANE)['version'] == 2  # applied exactly once
    record_figures('gateway_%d' % status, faults=3, survived=3)


def test_connection_resets_are_retried(demo, run_playbook, cloud_auth):
    demo.add_fault(method='POST', path='/idp/token$', kind='reset', count=1)
    demo.add_fault(method='GET', path=USER_PATH, kind='reset', count=2)
    demo.add_fault(method='PUT', path=USER_PATH, kind='reset', count=1)
    run = run_playbook(contact_change(cloud_auth))
    assert_clean(run)
    result = run.task('Contact')
    assert result['changed'] is True, run.explain()
    log = demo.requests()
    assert [r['fault'] for r in token_posts(log)] == ['reset', None]
    assert [r['fault'] for r in calls(log, 'GET', JANE)] == ['reset', 'reset', None]
    assert [r['fault'] for r in calls(log, 'PUT', JANE)] == ['reset', None]
    assert demo.user(JANE)['version'] == 2
    assert sum(1 for warning in result['warnings'] if 'transient failure' in warning) == 4
    record_figures('connection_resets', faults=4, survived=4)


def test_read_timeouts_are_retried(demo, run_playbook, cloud_auth):
    demo.add_fault(method='GET', path=USER_PATH, kind='latency', latency_ms=2500, count=1)
    started = time.monotonic()
    run = run_playbook(contact_change(cloud_auth, timeout=0.5))
    assert_clean(run)
    assert run.task('Contact')['changed'] is True, run.explain()
    assert [r['fault'] for r in calls(demo.requests(), 'GET', JANE)] == ['latency', None]
    assert time.monotonic() - started < 20
    record_figures('read_timeout', faults=1, survived=1)


def test_timeouts_that_never_end_fail_cleanly(demo, run_playbook, cloud_auth):
    demo.add_fault(method='GET', path=USER_PATH, kind='latency', latency_ms=1500, count=10)
    run = run_playbook(contact_change(cloud_auth, timeout=0.3, retries=1))
    assert_clean(run)
    result = run.task('Contact')
    assert run.status('Contact') == 'failed'
    assert 'timed out' in result['msg'] and '/api/2/users/%s' % JANE in result['msg']
    assert len(calls(demo.requests(), 'GET', JANE)) == 2
    assert demo.user(JANE)['version'] == 1


# -- a write whose answer is lost after it applied -----------------------------------------------------------------

@pytest.mark.parametrize('module', ['cloud_user_contact', 'cloud_users'])
def test_lost_answer_to_an_applied_put_is_safe(demo, run_playbook, cloud_auth, module):
    """The PUT applies, its answer never arrives (read timeout), urllib3 sends it again with the same version:
    409, re-read, nothing left to do. Applied exactly once, and reported as the change it was."""
    demo.add_fault(method='PUT', path=USER_PATH, kind='latency', latency_ms=3000, count=1)
    if module == 'cloud_users':
        book = play(task('Contact', 'cloud_users', users=[{'user_id': JANE, 'contact': {'firstname': 'Janet'}}], timeout=1),
                    cloud=dict(cloud_auth))
    else:
        book = contact_change(cloud_auth, timeout=1)
    run = run_playbook(book, diff=True)
    assert_clean(run)
    result = run.task('Contact')
    assert run.status('Contact') != 'failed', run.explain()
    assert result['changed'] is True
    outcome = result['results'][0] if module == 'cloud_users' else result
    assert outcome['changed'] is True
    assert outcome['diff'] == {'before': {'contact': {'firstname': 'Jane'}}, 'after': {'contact': {'firstname': 'Janet'}}}
    log = demo.requests()
    assert [(r['method'], r['status'], r['fault']) for r in log if JANE in r['path'] or r['path'].endswith('/users')][-3:] == [
        ('PUT', 200, 'latency'), ('PUT', 409, None), ('GET', 200, None)]
    user = demo.user(JANE)
    assert user['contact']['firstname'] == 'Janet'
    assert user['version'] == 2  # one write applied, not two

    demo.clear_requests()
    again = run_playbook(book, diff=True).assert_ok()
    assert again.task('Contact')['changed'] is False
    assert calls(demo.requests(), 'PUT') == []
    record_figures('lost_put_answer_' + module, faults=1, survived=1, applied_writes=1)


def test_write_applied_by_an_earlier_attempt_then_reset(demo, run_playbook, cloud_auth):
    """Emulates 'the PUT applied, then the connection was reset': the retry finds the change already there."""
    demo.add_fault(method='PUT', path=USER_PATH, kind='reset', count=1)
    demo.add_fault(method='PUT', path=USER_PATH, kind='concurrent_modification', patch={'contact': {'firstname': 'Janet'}}, count=1)
    run = run_playbook(contact_change(cloud_auth), diff=True)
    assert_clean(run)
    result = run.task('Contact')
    assert result['changed'] is True, run.explain()
    assert result['diff'] == {'before': {'contact': {'firstname': 'Jane'}}, 'after': {'contact': {'firstname': 'Janet'}}}
    assert [(r['status'], r['fault']) for r in calls(demo.requests(), 'PUT', JANE)] == [(None, 'reset'), (409, 'concurrent_modification')]
    assert demo.user(JANE)['version'] == 2
    record_figures('applied_then_reset', faults=2, survived=2, applied_writes=1)


# -- the retries and retry_budget options, backoff -----------------------------------------------------------------

@pytest.mark.parametrize('retries,faults,attempts,ok', [(0, 1, 1, False), (2, 5, 3, False), (2, 2, 3, True), (5, 5, 6, True)])
def test_retries_option(demo, run_playbook, cloud_auth, retries, faults, attempts, ok):
    demo.add_fault(method='PUT', path=USER_PATH, kind='status', status=503, count=faults)
    run = run_playbook(contact_change(cloud_auth, retries=retries))
    assert_clean(run)
    result = run.task('Contact')
    assert len(calls(demo.requests(), 'PUT', JANE)) == attempts
    if ok:
        assert result['changed'] is True
        assert demo.user(JANE)['version'] == 2
    else:
        assert run.status('Contact') == 'failed'
        assert 'HTTP 503' in result['msg'] and '/api/2/users/%s' % JANE in result['msg']
        if attempts > 1:
            assert 'on attempt %d' % attempts in result['msg']
        assert demo.user(JANE)['version'] == 1
    record_figures('retries_%d_faults_%d' % (retries, faults), faults=min(faults, attempts), survived=int(ok))


def test_retry_budget_option_bounds_the_time(demo, run_playbook, cloud_auth):
    demo.add_fault(method='GET', path=USER_PATH, kind='status', status=503, count=50)
    run = run_playbook(contact_change(cloud_auth, retries=10, retry_budget=2))
    assert_clean(run)
    result = run.task('Contact')
    assert run.status('Contact') == 'failed' and 'HTTP 503' in result['msg']
    reads = calls(demo.requests(), 'GET', JANE)
    assert 2 <= len(reads) <= 4, reads
    assert reads[-1]['time'] - reads[0]['time'] < 2.0


def test_backoff_is_exponential_with_jitter(demo, run_playbook, cloud_auth):
    demo.add_fault(method='GET', path=USER_PATH, kind='status', status=503, count=3)
    run = run_playbook(contact_change(cloud_auth))
    assert_clean(run)
    assert run.task('Contact')['changed'] is True, run.explain()
    waits = gaps(calls(demo.requests(), 'GET', JANE))
    assert len(waits) == 3
    # 0.5 s * 2^(n-1), jittered into [base/2, base]; a little slack for the round trip
    for wait, base in zip(waits, (0.5, 1.0, 2.0)):
        assert base / 2 - 0.05 <= wait <= base + 0.35, waits
    record_figures('backoff', faults=3, survived=3, waits=[round(wait, 2) for wait in waits])


# -- expired tokens: exactly one re-authentication -----------------------------------------------------------------

def test_expired_token_gets_exactly_one_reauthentication(emulator, demo_state, run_playbook, cloud_auth):
    demo_state['config']['token_ttl'] = 2
    emulator.reset(demo_state)
    # The read is slow enough for the token to expire before the write.
    emulator.add_fault(method='GET', path=USER_PATH, kind='latency', latency_ms=2500, count=1)
    run = run_playbook(contact_change(cloud_auth))
    assert_clean(run)
    assert run.task('Contact')['changed'] is True, run.explain()
    log = emulator.requests()
    assert len(token_posts(log)) == 2
    assert [r['status'] for r in calls(log, 'PUT', JANE)] == [401, 200]
    record_figures('expired_token_single', faults=1, survived=1, reauthentications=1)


def test_expired_token_in_a_bulk_run_gets_exactly_one_reauthentication(emulator, demo_state, run_playbook, cloud_auth):
    demo_state['config']['token_ttl'] = 3
    demo_state['generate_users'] = {'count': 40, 'tenant_id': ACME, 'login_prefix': 'ttl', 'seed': 11}
    emulator.reset(demo_state)
    ids = [user['id'] for user in emulator.state()['users'] if user['login'].startswith('ttl')]
    emulator.add_fault(method='GET', path=BATCH_PATH, kind='latency', latency_ms=3500, count=1)
    users = [{'user_id': uid, 'contact': {'title': 'Renewed'}} for uid in ids]
    run = run_playbook(play(task('Bulk', 'cloud_users', users=users, workers=8), cloud=dict(cloud_auth)))
    assert_clean(run)
    result = run.task('Bulk')
    assert run.status('Bulk') != 'failed', run.explain()
    assert result['summary']['changed'] == 40
    log = emulator.requests()
    assert len(token_posts(log)) == 2  # the first token and one renewal, shared by all eight writers
    rejected = [r for r in calls(log, 'PUT') if r['status'] == 401]
    assert 1 <= len(rejected) <= 8
    assert len([r for r in calls(log, 'PUT') if r['status'] == 200]) == 40
    assert all(emulator.user(uid)['contact']['title'] == 'Renewed' for uid in ids)
    record_figures('expired_token_bulk', faults=len(rejected), survived=len(rejected), reauthentications=1)


def test_expired_iam_token_gets_exactly_one_reauthentication(emulator, demo_state, run_playbook, codearts_auth):
    demo_state['config']['iam_token_ttl'] = 2
    emulator.reset(demo_state)
    emulator.add_fault(method='GET', path='^/v4/user/emails$', kind='latency', latency_ms=2500, count=1)
    iam = dict(endpoint=codearts_auth['endpoint'], iam_endpoint=codearts_auth['endpoint'], user_name='alice',
               password='demo-iam-password', domain_name='acme', project_name='cn-north-4')
    book = play(task('Ask for a code', 'codearts_user_email', email='alice@acme.example', send_verify_code=True, **iam))
    run = run_playbook(book)
    assert_clean(run)
    assert run.task('Ask for a code')['verify_code_sent'] is True, run.explain()
    log = emulator.requests()
    assert len([r for r in log if r['path'] == '/v3/auth/tokens']) == 2
    assert [r['status'] for r in log if r['path'] == '/v4/user/email-verify-code'] == [401, 201]
    assert len([mail for mail in emulator.outbox() if mail.get('kind') == 'verify_code']) == 1
    record_figures('expired_iam_token', faults=1, survived=1, reauthentications=1)


def test_a_token_refused_again_after_renewal_fails_without_looping(demo, run_playbook, cloud_auth):
    demo.add_fault(method='GET', path=USER_PATH, kind='status', status=401, count=5)
    run = run_playbook(contact_change(cloud_auth))
    assert_clean(run)
    result = run.task('Contact')
    assert run.status('Contact') == 'failed' and 'HTTP 401' in result['msg']
    log = demo.requests()
    assert len(token_posts(log)) == 2
    assert len(calls(log, 'GET', JANE)) == 2


# -- permanent errors: one attempt ---------------------------------------------------------------------------------

@pytest.mark.parametrize('status', [400, 403, 404, 500])
def test_permanent_errors_are_not_retried(demo, run_playbook, cloud_auth, status):
    demo.add_fault(method='GET', path=USER_PATH, kind='status', status=status, count=5)
    run = run_playbook(contact_change(cloud_auth))
    assert_clean(run)
    result = run.task('Contact')
    assert run.status('Contact') == 'failed'
    assert 'HTTP %d' % status in result['msg'] or ('no account' in result['msg'] and status == 404)
    assert result['status'] == status
    assert '/api/2/users/%s' % JANE in result['msg'] + (result.get('url') or '')
    assert len(calls(demo.requests(), 'GET', JANE)) == 1
    assert not result.get('warnings')
    record_figures('permanent_%d' % status, faults=1, attempts=1)


def test_wrong_client_secret_is_not_retried(demo, run_playbook, cloud_auth):
    run = run_playbook(contact_change(dict(cloud_auth, client_secret='wrong-secret')))
    assert_clean(run)
    result = run.task('Contact')
    assert run.status('Contact') == 'failed' and 'HTTP 401' in result['msg'] and 'invalid_client' in result['msg']
    assert len(token_posts(demo.requests())) == 1


# -- the other modules retry too -----------------------------------------------------------------------------------

def test_info_and_codearts_modules_retry(demo, run_playbook, cloud_auth, codearts_auth):
    demo.add_fault(method='GET', path=BATCH_PATH, kind='status', status=429, retry_after='1', count=1)
    demo.add_fault(method='GET', path='^/v4/user/emails$', kind='status', status=503, count=1)
    demo.add_fault(method='POST', path='^/v3/auth/tokens$', kind='reset', count=1)
    iam = dict(endpoint=codearts_auth['endpoint'], iam_endpoint=codearts_auth['endpoint'], user_name='alice',
               password='demo-iam-password', domain_name='acme', project_name='cn-north-4')
    book = play(task('Info', 'cloud_user_info', user_ids=[JANE, PRIYA]),
                task('Commit email by token', 'codearts_user_email', email='alice_iid@example.com', **codearts_auth),
                task('Commit email by IAM password', 'codearts_user_email', email='alice_iid@example.com', **iam),
                cloud=dict(cloud_auth))
    run = run_playbook(book)
    assert_clean(run)
    assert [user['id'] for user in run.task('Info')['users']] == [JANE, PRIYA], run.explain()
    for name in ('Commit email by token', 'Commit email by IAM password'):
        assert run.status(name) != 'failed', run.explain()
        assert run.task(name)['changed'] is False
    log = demo.requests()
    assert [r['fault'] for r in log if r['path'] == '/v3/auth/tokens'] == ['reset', None]
    assert [r['status'] for r in log if r['path'] == '/v4/user/emails'][:2] == [503, 200]
    assert any('HTTP 429' in warning for warning in run.task('Info')['warnings'])
    record_figures('other_modules', faults=3, survived=3)
