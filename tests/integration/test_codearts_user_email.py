"""Playbook-level tests of accountops.cloud.codearts_user_email against the emulator (CodeArts Repo and IAM)."""

from __future__ import annotations

import functools

from tests.integration.playbooks import one_play, task as module_task

MODULE = 'accountops.cloud.codearts_user_email'
ALICE_EMAIL = 'alice_iid@example.com'  # commit email of the user of the demo token
NEW = 'alice@acme.example'


def play(*tasks, codearts=None):
    return one_play(*tasks, codearts=codearts)


task = functools.partial(module_task, MODULE)


def calls(emulator):
    return [(r['method'], r['path'], r['status']) for r in emulator.requests()]


def commit_email(emulator, iam_user='alice'):
    return [u for u in emulator.state()['codearts']['users'] if u['iam_user'] == iam_user][0]['commit_email']


def codes_to(emulator, address):
    return [m['code'] for m in emulator.outbox() if m['kind'] == 'verify_code' and m['to'] == address]


def test_same_email_in_any_case_reads_only(emulator, demo_state, run_playbook, codearts_auth):
    emulator.reset(demo_state)
    book = play(task('Commit email', email='Alice_IID@Example.COM', send_verify_code=True), codearts=codearts_auth)

    run = run_playbook(book, diff=True).assert_ok()
    result = run.task('Commit email')
    assert (result['changed'], result['verify_code_sent'], result['commit_email']) == (False, False, ALICE_EMAIL)
    assert result['diff'] == {'before': {'commit_email': ALICE_EMAIL}, 'after': {'commit_email': ALICE_EMAIL}}
    assert calls(emulator) == [('GET', '/v4/user/emails', 200)]
    assert emulator.outbox() == []


def test_two_step_change_with_the_mailed_code(emulator, demo_state, run_playbook, codearts_auth):
    emulator.reset(demo_state)
    send = play(task('Send code', email=NEW, send_verify_code=True), codearts=codearts_auth)

    first = run_playbook(send, diff=True).assert_ok()
    result = first.task('Send code')
    assert (result['changed'], result['verify_code_sent'], result['commit_email']) == (False, True, ALICE_EMAIL)
    assert 'A verification code was mailed to %s' % NEW in ' '.join(result['warnings'])
    assert calls(emulator) == [('GET', '/v4/user/emails', 200), ('POST', '/v4/user/email-verify-code', 201)]
    assert emulator.requests()[1]['body'] == {'email': NEW}
    codes = codes_to(emulator, NEW)
    assert len(codes) == 1
    assert commit_email(emulator) == ALICE_EMAIL

    emulator.clear_requests()
    change = play(task('Change', email=NEW, verify_code=codes[0]), codearts=codearts_auth)
    second = run_playbook(change, diff=True).assert_ok()
    result = second.task('Change')
    assert (result['changed'], result['verify_code_sent'], result['commit_email']) == (True, False, NEW)
    assert result['diff'] == {'before': {'commit_email': ALICE_EMAIL}, 'after': {'commit_email': NEW}}
    assert calls(emulator) == [('GET', '/v4/user/emails', 200), ('PUT', '/v4/user/emails', 200)]
    assert emulator.requests()[1]['body'] == {'email': NEW, 'verify_code': '********'}
    assert commit_email(emulator) == NEW

    # the same task again: nothing to do, the code is not sent again
    emulator.clear_requests()
    third = run_playbook(change).assert_ok()
    assert third.task('Change')['changed'] is False
    assert calls(emulator) == [('GET', '/v4/user/emails', 200)]


def test_wrong_or_reused_code_fails_with_the_api_error(emulator, demo_state, run_playbook, codearts_auth):
    emulator.reset(demo_state)
    run_playbook(play(task('Send code', email=NEW, send_verify_code=True), codearts=codearts_auth)).assert_ok()
    code = codes_to(emulator, NEW)[0]
    # bob@acme.example belongs to another CodeArts user: a valid code for it still cannot take it
    run_playbook(play(task('Send code', email='bob@acme.example', send_verify_code=True), codearts=codearts_auth)).assert_ok()
    bob_code = codes_to(emulator, 'bob@acme.example')[0]
    emulator.clear_requests()
    book = play(task('Code of another address', ignore_errors=True, email='other@acme.example', verify_code=code),
                task('Wrong code', ignore_errors=True, email=NEW, verify_code='ZZZZZZ'),
                task('Address taken', ignore_errors=True, email='bob@acme.example', verify_code=bob_code),
                codearts=codearts_auth)

    run = run_playbook(book).assert_ok()
    for name in ('Code of another address', 'Wrong code'):
        result = run.task(name)
        assert run.status(name) == 'failed'
        assert (result['status'], result['error_code'], result['error_message']) == (400, 'CH.010001', 'Invalid verification code.')
        assert 'HTTP 400, error code CH.010001: Invalid verification code.' in result['msg']
        assert 'send_verify_code=true' in result['msg']
    taken = run.task('Address taken')
    assert (taken['error_code'], taken['error_message']) == ('CH.010002', 'The email address is already used by another user.')
    assert [m for m, _p, _s in calls(emulator)].count('PUT') == 3
    assert commit_email(emulator) == ALICE_EMAIL
    assert 'Traceback' not in run.stdout + run.stderr


def test_no_code_and_no_send_explains_the_two_steps(emulator, demo_state, run_playbook, codearts_auth):
    emulator.reset(demo_state)
    book = play(task('Commit email', ignore_errors=True, email=NEW),
                task('Empty code', ignore_errors=True, email=NEW, verify_code='  '),
                task('Invalid email', ignore_errors=True, email='alice at acme', send_verify_code=True),
                codearts=codearts_auth)

    run = run_playbook(book).assert_ok()
    msg = run.task('Commit email')['msg']
    assert 'The commit email is %s, not %s, and no verify_code was given' % (ALICE_EMAIL, NEW) in msg
    assert 'run once with send_verify_code=true' in msg and 'then run again with verify_code' in msg
    assert 'verify_code is empty' in run.task('Empty code')['msg']
    assert 'email must be a valid email address' in run.task('Invalid email')['msg']
    # one read for the first task, nothing for the bad input
    assert calls(emulator) == [('GET', '/v4/user/emails', 200)]
    assert emulator.outbox() == []


def test_iam_password_authentication(emulator, demo_state, run_playbook):
    emulator.reset(demo_state)
    iam = {'endpoint': emulator.url, 'iam_endpoint': emulator.url, 'user_name': 'bob', 'password': 'demo-iam-password-bob',
           'domain_name': 'acme', 'project_name': 'cn-north-4'}
    book = play(task('Send code', email='robert@acme.example', send_verify_code=True),
                task('Wrong password', ignore_errors=True, email='robert@acme.example', password='not-the-password'),
                codearts=iam)

    run = run_playbook(book).assert_ok()
    assert run.task('Send code')['verify_code_sent'] is True
    assert run.task('Send code')['user']['name'] == 'bob'
    log = emulator.requests()
    token = log[0]
    assert (token['api'], token['method'], token['path'], token['status'], token['query']) == (
        'iam', 'POST', '/v3/auth/tokens', 201, {'nocatalog': 'true'})
    assert token['body']['auth']['scope'] == {'project': {'name': 'cn-north-4'}}
    assert [(r['method'], r['path']) for r in log[1:3]] == [('GET', '/v4/user/emails'), ('POST', '/v4/user/email-verify-code')]
    assert codes_to(emulator, 'robert@acme.example')
    wrong = run.task('Wrong password')
    assert wrong['status'] == 401 and 'The username or password is wrong.' in wrong['msg']
    assert 'not-the-password' not in run.stdout + run.stderr
    assert [(r['api'], r['status']) for r in log[3:]] == [('iam', 401)]

    code = codes_to(emulator, 'robert@acme.example')[0]
    change = run_playbook(play(task('Change', email='robert@acme.example', verify_code=code), codearts=iam)).assert_ok()
    assert change.task('Change')['changed'] is True
    assert commit_email(emulator, 'bob') == 'robert@acme.example'


def test_check_mode_sends_no_mail_and_no_change(emulator, demo_state, run_playbook, codearts_auth):
    emulator.reset(demo_state)
    send = play(task('Send code', email=NEW, send_verify_code=True), codearts=codearts_auth)

    check = run_playbook(send, check=True, diff=True).assert_ok()
    result = check.task('Send code')
    assert (result['changed'], result['verify_code_sent']) == (False, False)
    assert 'check mode: a real run would mail a verification code to %s' % NEW in result['warnings']
    assert calls(emulator) == [('GET', '/v4/user/emails', 200)]
    assert emulator.outbox() == []

    run_playbook(send).assert_ok()
    code = codes_to(emulator, NEW)[0]
    change = play(task('Change', email=NEW, verify_code=code), codearts=codearts_auth)
    emulator.clear_requests()
    check = run_playbook(change, check=True, diff=True).assert_ok()
    expected = {'before': {'commit_email': ALICE_EMAIL}, 'after': {'commit_email': NEW}}
    assert (check.task('Change')['changed'], check.task('Change')['diff']) == (True, expected)
    assert calls(emulator) == [('GET', '/v4/user/emails', 200)]
    assert commit_email(emulator) == ALICE_EMAIL

    # the code was not spent by check mode: the real run can still use it
    real = run_playbook(change, diff=True).assert_ok()
    assert (real.task('Change')['changed'], real.task('Change')['diff']) == (True, expected)
    assert commit_email(emulator) == NEW
