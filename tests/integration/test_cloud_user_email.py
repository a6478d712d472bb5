"""Playbook-level tests of accountops.cloud.cloud_user_email against the emulator."""

from __future__ import annotations

from tests.integration.playbooks import one_play, task as module_task, writes

PRIYA = '6e558353-dc84-4d01-bd04-8ef3c64898ec'  # not activated, version 1
JANE = '6c5f167d-bcb4-41f9-8958-39a366ecee7f'  # activated, version 1
MODULE = 'accountops.cloud.cloud_user_email'


def play(*tasks, cloud=None):
    return one_play(*tasks, cloud=cloud)


def task(name, ignore_errors=False, **args):
    entry = module_task(MODULE, name, ignore_errors, **args)
    entry['register'] = 'out'
    return entry


def warnings_of(result):
    return ' '.join(result.get('warnings') or [])


def test_non_activated_account_changes_at_once_then_is_idempotent(emulator, demo_state, run_playbook, cloud_auth):
    emulator.reset(demo_state)
    book = play(task('Email', login='priya.shah', email='priya.shah@newmail.example'), cloud=cloud_auth)

    first = run_playbook(book).assert_ok()
    result = first.task('Email')
    assert result['changed'] is True
    assert result['pending_confirmation'] is False
    assert result['user']['contact']['email'] == 'priya.shah@newmail.example'
    assert 'diff' not in result  # only with --diff
    puts = writes(emulator.requests())
    assert [(r['method'], r['path'], r['body']) for r in puts] == [
        ('PUT', '/api/2/users/%s' % PRIYA, {'contact': {'email': 'priya.shah@newmail.example'}, 'version': 1})]
    user = emulator.user(PRIYA)
    assert (user['contact']['email'], user['version'], user['pending_email']) == ('priya.shah@newmail.example', 2, None)
    assert emulator.outbox() == []

    emulator.clear_requests()
    second = run_playbook(book).assert_ok()
    assert second.task('Email')['changed'] is False
    assert second.changed == 0
    assert writes(emulator.requests()) == []
    assert emulator.user(PRIYA)['version'] == 2


def test_check_mode_sends_nothing_and_predicts_the_real_run(emulator, demo_state, run_playbook, cloud_auth):
    emulator.reset(demo_state)
    book = play(task('Non-activated', login='priya.shah', email='priya@newmail.example'),
                task('Activated', login='jane.cooper', email='jane@newmail.example'),
                cloud=cloud_auth)

    check = run_playbook(book, check=True, diff=True).assert_ok()
    assert writes(emulator.requests()) == []
    assert emulator.outbox() == []
    assert emulator.user(PRIYA)['version'] == 1
    assert emulator.user(JANE)['pending_email'] is None
    expected = {
        'Non-activated': {'before': {'email': 'priya.shah@globex.example'}, 'after': {'email': 'priya@newmail.example'}},
        'Activated': {'before': {'email': 'jane.cooper@acme-msp.example'}, 'after': {'email': 'jane@newmail.example'}},
    }
    for name, diff in expected.items():
        result = check.task(name)
        assert result['changed'] is True, name
        assert result['diff'] == diff, name
    assert check.task('Non-activated')['pending_confirmation'] is False
    assert check.task('Activated')['pending_confirmation'] is True
    assert 'would mail' in warnings_of(check.task('Activated'))
    # the --diff text shows the managed field only
    assert '-    "email": "priya.shah@globex.example"' in check.stdout
    assert '+    "email": "priya@newmail.example"' in check.stdout

    emulator.clear_requests()
    real = run_playbook(book, diff=True).assert_ok()
    for name, diff in expected.items():
        assert real.task(name)['changed'] is True, name
        assert real.task(name)['diff'] == diff, name
    assert len([r for r in writes(emulator.requests()) if r['method'] == 'PUT']) == 2
    assert [mail['kind'] for mail in emulator.outbox()] == ['email_confirmation']


def test_activated_account_request_confirmation_then_user_confirms(emulator, demo_state, run_playbook, cloud_auth):
    emulator.reset(demo_state)
    book = play(task('Email', user_id=JANE, email='jane@newmail.example', if_activated='request_confirmation'), cloud=cloud_auth)

    first = run_playbook(book).assert_ok()
    result = first.task('Email')
    assert result['changed'] is True
    assert result['pending_confirmation'] is True
    assert 'jane.cooper is activated' in warnings_of(result)
    assert 'confirmation link' in warnings_of(result)
    assert [(r['method'], r['body']) for r in writes(emulator.requests())] == [
        ('PUT', {'contact': {'email': 'jane@newmail.example'}, 'version': 1})]
    # the platform mails the old address; the email and the version stay until the user confirms
    mails = emulator.outbox()
    assert [(m['kind'], m['to'], m['new_email']) for m in mails] == [
        ('email_confirmation', 'jane.cooper@acme-msp.example', 'jane@newmail.example')]
    user = emulator.user(JANE)
    assert (user['contact']['email'], user['version'], user['pending_email']) == (
        'jane.cooper@acme-msp.example', 1, 'jane@newmail.example')
    assert result['user']['contact']['email'] == 'jane.cooper@acme-msp.example'

    emulator.confirm_email(JANE)
    emulator.clear_requests()
    emulator.clear_outbox()
    second = run_playbook(book).assert_ok()
    assert second.task('Email')['changed'] is False
    assert second.task('Email')['pending_confirmation'] is False
    assert 'warnings' not in second.task('Email')
    assert writes(emulator.requests()) == []
    assert emulator.outbox() == []
    assert emulator.user(JANE)['contact']['email'] == 'jane@newmail.example'


def test_activated_account_skip_sends_nothing(emulator, demo_state, run_playbook, cloud_auth):
    emulator.reset(demo_state)
    book = play(task('Email', login='jane.cooper', email='jane@newmail.example', if_activated='skip'),
                {'name': 'Report', 'ansible.builtin.debug': {'msg': '{{ out.user.login }} pending'}, 'when': 'out.pending_confirmation'},
                cloud=cloud_auth)

    run = run_playbook(book, diff=True).assert_ok()
    result = run.task('Email')
    assert result['changed'] is False
    assert result['pending_confirmation'] is True
    assert result['diff'] == {'before': {}, 'after': {}}
    assert run.task('Report')['msg'] == 'jane.cooper pending'
    assert writes(emulator.requests()) == []
    assert emulator.outbox() == []
    assert emulator.user(JANE)['pending_email'] is None


def test_activated_account_fail_fails_clearly(emulator, demo_state, run_playbook, cloud_auth):
    emulator.reset(demo_state)
    book = play(task('Email', login='jane.cooper', email='jane@newmail.example', if_activated='fail', ignore_errors=True), cloud=cloud_auth)

    run = run_playbook(book).assert_ok()
    assert run.status('Email') == 'failed'
    result = run.task('Email')
    assert 'account jane.cooper is activated' in result['msg']
    assert 'if_activated=fail' in result['msg']
    assert 'jane@newmail.example' in result['msg']
    assert result['changed'] is False
    assert result['pending_confirmation'] is True
    assert writes(emulator.requests()) == []
    assert emulator.outbox() == []


def test_email_compare_ignores_case(emulator, demo_state, run_playbook, cloud_auth):
    emulator.reset(demo_state)
    book = play(task('Non-activated', login='priya.shah', email='Priya.Shah@GLOBEX.example'),
                task('Activated', user_id=JANE, email='JANE.COOPER@acme-msp.example', if_activated='fail'),
                cloud=cloud_auth)

    run = run_playbook(book, diff=True).assert_ok()
    for name in ('Non-activated', 'Activated'):
        assert run.task(name)['changed'] is False, name
        assert run.task(name)['pending_confirmation'] is False, name
        assert run.task(name)['diff'] == {'before': {}, 'after': {}}, name
    assert writes(emulator.requests()) == []
    assert emulator.user(PRIYA)['contact']['email'] == 'priya.shah@globex.example'


def test_invalid_email_fails_before_any_request(emulator, demo_state, run_playbook, cloud_auth):
    emulator.reset(demo_state)
    bad = ['not-an-email', 'jane@', 'jane@localhost', 'j\u00f6rg@example.com', 'two words@example.com', 'x' * 250 + '@example.com', '']
    book = play({'name': 'Email', MODULE: {'login': 'priya.shah', 'email': '{{ item }}'}, 'loop': bad, 'ignore_errors': True},
                cloud=cloud_auth)

    run = run_playbook(book).assert_ok()
    assert [item['status'] for item in run.items] == ['failed'] * len(bad)
    for item in run.items:
        assert 'email must be a valid email address' in item['result']['msg'], item
    # not even a token request
    assert emulator.requests() == []
