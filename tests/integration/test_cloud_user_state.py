"""Playbook-level tests of accountops.cloud.cloud_user_state against the emulator."""

from __future__ import annotations

import functools

from tests.integration.playbooks import one_play, task as module_task, writes

PRIYA = '6e558353-dc84-4d01-bd04-8ef3c64898ec'  # enabled, version 1
TOM = '00f10a4e-5e2d-40f8-8fb7-46966b8297d4'  # disabled, version 5
BILL = 'cf81a815-1827-4f25-9c62-20f7d67dce4e'  # in a tenant the demo API client cannot see
MODULE = 'accountops.cloud.cloud_user_state'


def play(*tasks, cloud=None):
    return one_play(*tasks, cloud=cloud)


task = functools.partial(module_task, MODULE)


def no_traceback(run):
    text = run.stdout + run.stderr
    return 'Traceback' not in text and 'traceback unavailable' not in run.stdout


def test_disable_then_enable_each_idempotent(emulator, demo_state, run_playbook, cloud_auth):
    emulator.reset(demo_state)
    steps = [('disabled', False, 1), ('enabled', True, 2)]
    for state, enabled, version in steps:
        book = play(task('State', login='priya.shah', state=state), cloud=cloud_auth)
        emulator.clear_requests()
        first = run_playbook(book, diff=True).assert_ok()
        result = first.task('State')
        assert result['changed'] is True, state
        assert result['diff'] == {'before': {'state': 'disabled' if enabled else 'enabled'}, 'after': {'state': state}}
        assert result['user']['enabled'] is enabled
        assert [(r['method'], r['body']) for r in writes(emulator.requests())] == [('PUT', {'enabled': enabled, 'version': version})]
        user = emulator.user(PRIYA)
        assert (user['enabled'], user['version']) == (enabled, version + 1)

        emulator.clear_requests()
        second = run_playbook(book, diff=True).assert_ok()
        assert second.task('State')['changed'] is False, state
        assert second.task('State')['diff'] == {'before': {}, 'after': {}}
        assert writes(emulator.requests()) == []
        assert emulator.user(PRIYA)['version'] == version + 1


def test_check_mode_sends_nothing_and_predicts_the_real_run(emulator, demo_state, run_playbook, cloud_auth):
    emulator.reset(demo_state)
    book = play(task('Back from leave', user_id=TOM, state='enabled'),
                task('Already enabled', user_id=PRIYA, state='enabled'),
                cloud=cloud_auth)

    check = run_playbook(book, check=True, diff=True).assert_ok()
    assert check.task('Back from leave')['changed'] is True
    assert check.task('Back from leave')['diff'] == {'before': {'state': 'disabled'}, 'after': {'state': 'enabled'}}
    assert check.task('Already enabled')['changed'] is False
    assert writes(emulator.requests()) == []
    assert (emulator.user(TOM)['enabled'], emulator.user(TOM)['version']) == (False, 5)
    assert '-    "state": "disabled"' in check.stdout and '+    "state": "enabled"' in check.stdout

    real = run_playbook(book, diff=True).assert_ok()
    assert real.task('Back from leave')['changed'] is True
    assert real.task('Back from leave')['diff'] == check.task('Back from leave')['diff']
    assert real.task('Already enabled')['changed'] is False
    assert (emulator.user(TOM)['enabled'], emulator.user(TOM)['version']) == (True, 6)
    assert emulator.outbox() == []


def test_version_conflict_between_read_and_write_keeps_both_changes(emulator, demo_state, run_playbook, cloud_auth):
    emulator.reset(demo_state)
    # another admin renames the user between our read and our write
    emulator.add_fault(kind='concurrent_modification', method='PUT', path='/users/%s$' % PRIYA,
                       patch={'contact': {'lastname': 'Shah-Patel'}})
    book = play(task('State', user_id=PRIYA, state='disabled'), cloud=cloud_auth)

    run = run_playbook(book).assert_ok()
    assert run.task('State')['changed'] is True
    puts = [(r['status'], r['body']) for r in writes(emulator.requests())]
    assert puts == [(409, {'enabled': False, 'version': 1}), (200, {'enabled': False, 'version': 2})]
    user = emulator.user(PRIYA)
    assert (user['enabled'], user['contact']['lastname'], user['version']) == (False, 'Shah-Patel', 3)


def test_api_errors_report_status_and_api_message_without_traceback(emulator, demo_state, run_playbook, cloud_auth):
    emulator.reset(demo_state)
    emulator.add_fault(kind='status', status=403, method='GET', path='/users/%s$' % PRIYA)
    # the bad secret goes first: a later task would reuse the token cached by an earlier one
    book = play(task('Bad secret', ignore_errors=True, user_id=PRIYA, state='disabled', client_secret='wrong-secret-value'),
                task('Injected 403', ignore_errors=True, user_id=PRIYA, state='disabled'),
                task('Other tenant', ignore_errors=True, user_id=BILL, state='disabled'),
                task('Unknown id', ignore_errors=True, user_id='00000000-0000-4000-8000-000000000000', state='disabled'),
                cloud=cloud_auth)

    run = run_playbook(book).assert_ok()
    assert [r['status'] for r in run.results] == ['failed'] * 4
    injected = run.task('Injected 403')
    assert (injected['status'], injected['error_code']) == (403, 403)
    assert 'HTTP 403' in injected['msg'] and 'Forbidden (injected fault)' in injected['msg']
    assert '/users/%s' % PRIYA in injected['msg']

    other = run.task('Other tenant')
    assert (other['status'], other['error_code']) == (403, 1002)
    assert 'outside the tenant of the API client' in other['msg']

    unknown = run.task('Unknown id')
    assert 'no account with user_id 00000000-0000-4000-8000-000000000000' in unknown['msg']
    assert 'HTTP 404' in unknown['msg']
    assert (unknown['status'], unknown['error_code']) == (404, 404)
    assert 'not found' in unknown['error_message']

    bad = run.task('Bad secret')
    assert (bad['status'], bad['error_code']) == (401, 'invalid_client')
    assert 'invalid client credentials' in bad['msg']
    assert 'wrong-secret-value' not in run.stdout + run.stderr
    assert no_traceback(run), run.explain()
    assert writes(emulator.requests()) == []
    assert emulator.user(PRIYA)['enabled'] is True
