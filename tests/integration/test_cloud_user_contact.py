"""Playbook-level tests of accountops.cloud.cloud_user_contact against the emulator."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import textwrap

from tests.integration.playbooks import one_play, task as module_task, writes

MARCUS = '2d505445-8642-4ac6-b068-374eff7ff432'  # activated, version 2, many contact fields set
PRIYA = '6e558353-dc84-4d01-bd04-8ef3c64898ec'  # version 1
MODULE = 'accountops.cloud.cloud_user_contact'


def play(*tasks, cloud=None):
    return one_play(*tasks, cloud=cloud)


task = functools.partial(module_task, MODULE)


def contact_of(emulator, user_id):
    return emulator.user(user_id)['contact']


def test_partial_update_sends_only_differing_fields_then_is_idempotent(emulator, demo_state, run_playbook, cloud_auth):
    emulator.reset(demo_state)
    before = contact_of(emulator, MARCUS)
    # firstname already matches: it must not be sent
    wanted = {'firstname': 'Marcus', 'city': 'Manchester', 'title': 'Head of IT', 'zipcode': 'M1 1AE'}
    book = play(task('Contact', login='marcus.webb', contact=wanted), cloud=cloud_auth)

    first = run_playbook(book, diff=True).assert_ok()
    result = first.task('Contact')
    assert result['changed'] is True
    assert result['diff'] == {
        'before': {'contact': {'city': 'London', 'title': '', 'zipcode': 'E1 6AN'}},
        'after': {'contact': {'city': 'Manchester', 'title': 'Head of IT', 'zipcode': 'M1 1AE'}},
    }
    assert [(r['method'], r['path'], r['body']) for r in writes(emulator.requests())] == [
        ('PUT', '/api/2/users/%s' % MARCUS, {'contact': {'city': 'Manchester', 'title': 'Head of IT', 'zipcode': 'M1 1AE'}, 'version': 2})]
    after = contact_of(emulator, MARCUS)
    for key in ('email', 'firstname', 'lastname', 'phone', 'address1', 'country', 'fax'):
        assert after[key] == before[key], key  # the API merged the contact
    assert (after['city'], after['title'], after['zipcode']) == ('Manchester', 'Head of IT', 'M1 1AE')
    assert emulator.user(MARCUS)['version'] == 3
    assert result['user']['contact']['city'] == 'Manchester'
    assert emulator.outbox() == []

    emulator.clear_requests()
    second = run_playbook(book, diff=True).assert_ok()
    assert second.task('Contact')['changed'] is False
    assert second.task('Contact')['diff'] == {'before': {}, 'after': {}}
    assert writes(emulator.requests()) == []
    assert emulator.user(MARCUS)['version'] == 3


def test_empty_string_clears_and_equals_null(emulator, demo_state, run_playbook, cloud_auth):
    # the server holds null in fax and "" in address2: both equal "" in a playbook
    demo_state['users'][3]['contact'].update(fax=None, address2='')
    emulator.reset(demo_state)
    assert contact_of(emulator, PRIYA)['fax'] is None
    book = play(task('Clear', user_id=MARCUS, contact={'phone': '', 'address1': ''}),
                task('Already empty', user_id=PRIYA, contact={'fax': '', 'address2': ''}),
                # null means "don't care", not "clear"
                task('Null is ignored', user_id=PRIYA, contact={'firstname': 'Priya', 'lastname': None}),
                cloud=cloud_auth)

    run = run_playbook(book, diff=True).assert_ok()
    assert run.task('Clear')['changed'] is True
    assert run.task('Clear')['diff'] == {'before': {'contact': {'address1': '14 Harbour Street', 'phone': '+44 20 7946 0321'}},
                                         'after': {'contact': {'address1': '', 'phone': ''}}}
    assert run.task('Already empty')['changed'] is False
    assert run.task('Null is ignored')['changed'] is False
    assert [(r['path'], r['body']) for r in writes(emulator.requests())] == [
        ('/api/2/users/%s' % MARCUS, {'contact': {'address1': '', 'phone': ''}, 'version': 2})]
    marcus = contact_of(emulator, MARCUS)
    assert (marcus['phone'], marcus['address1'], marcus['city']) == ('', '', 'London')
    priya = contact_of(emulator, PRIYA)
    assert (priya['fax'], priya['lastname']) == (None, 'Shah')


def test_check_mode_sends_nothing_and_predicts_the_real_run(emulator, demo_state, run_playbook, cloud_auth):
    emulator.reset(demo_state)
    book = play(task('Contact', user_id=PRIYA, contact={'firstname': 'Priya', 'city': 'Pune', 'country': 'India'}), cloud=cloud_auth)
    expected = {'before': {'contact': {'city': '', 'country': ''}}, 'after': {'contact': {'city': 'Pune', 'country': 'India'}}}

    check = run_playbook(book, check=True, diff=True).assert_ok()
    assert check.task('Contact')['changed'] is True
    assert check.task('Contact')['diff'] == expected
    assert writes(emulator.requests()) == []
    assert emulator.user(PRIYA)['version'] == 1
    assert contact_of(emulator, PRIYA)['city'] == ''

    real = run_playbook(book, diff=True).assert_ok()
    assert real.task('Contact')['changed'] is True
    assert real.task('Contact')['diff'] == expected
    assert contact_of(emulator, PRIYA)['city'] == 'Pune'
    assert emulator.user(PRIYA)['version'] == 2


def test_bad_contact_is_refused_before_any_request(emulator, demo_state, run_playbook, cloud_auth):
    emulator.reset(demo_state)
    book = play(task('Email here', ignore_errors=True, user_id=PRIYA, contact={'firstname': 'Priya', 'email': 'p@example.com'}),
                task('Unknown key', ignore_errors=True, user_id=PRIYA, contact={'firstname': 'Priya', 'nickname': 'pri'}),
                task('Too long', ignore_errors=True, user_id=PRIYA, contact={'city': 'x' * 1001}),
                task('Nothing set', ignore_errors=True, user_id=PRIYA, contact={'city': None}),
                cloud=cloud_auth)

    run = run_playbook(book).assert_ok()
    assert [r['status'] for r in run.results] == ['failed'] * 4
    msg = run.task('Email here')['msg']
    assert 'contact.email is not managed here' in msg
    assert 'accountops.cloud.cloud_user_email' in msg
    msg = run.task('Unknown key')['msg']
    assert 'Unsupported parameters' in msg and 'contact.nickname' in msg, msg
    assert 'contact.city is 1001 characters long' in run.task('Too long')['msg']
    assert 'contact sets no field' in run.task('Nothing set')['msg']
    assert emulator.requests() == []


def test_version_conflict_between_read_and_write_keeps_both_changes(emulator, demo_state, run_playbook, cloud_auth):
    emulator.reset(demo_state)
    # someone else changes the phone number just before our PUT lands
    emulator.add_fault(kind='concurrent_modification', method='PUT', path='/users/%s$' % MARCUS,
                       patch={'contact': {'phone': '+44 20 0000 0000'}})
    book = play(task('Contact', user_id=MARCUS, contact={'city': 'Leeds'}), cloud=cloud_auth)

    run = run_playbook(book, diff=True).assert_ok()
    result = run.task('Contact')
    assert result['changed'] is True
    assert result['diff'] == {'before': {'contact': {'city': 'London'}}, 'after': {'contact': {'city': 'Leeds'}}}
    log = [(r['method'], r['status'], r['body']) for r in emulator.requests() if '/users/%s' % MARCUS in r['path']]
    assert log == [
        ('GET', 200, None),
        ('PUT', 409, {'contact': {'city': 'Leeds'}, 'version': 2}),
        ('GET', 200, None),
        ('PUT', 200, {'contact': {'city': 'Leeds'}, 'version': 3}),
    ]
    contact = contact_of(emulator, MARCUS)
    assert (contact['city'], contact['phone']) == ('Leeds', '+44 20 0000 0000')
    assert emulator.user(MARCUS)['version'] == 4
    assert result['user']['version'] == 4


def test_omitted_arguments_and_a_vaulted_secret_reach_the_module(emulator, demo_state, run_playbook, cloud_auth, tmp_path):
    """The action plugins finalize their own arguments on ansible-core 2.19: omit and vault must work as for any module."""
    emulator.reset(demo_state)
    password_file = tmp_path / 'vault-password'
    password_file.write_text('a-test-vault-password\n')
    encrypted = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), 'ansible-vault'), 'encrypt_string', '--vault-password-file',
         str(password_file), '--name', 'client_secret', cloud_auth['client_secret']],
        capture_output=True, text=True, check=True).stdout
    book = textwrap.dedent("""\
        - hosts: localhost
          gather_facts: false
          vars:
        %s
          tasks:
            - name: Contact
              accountops.cloud.cloud_user_contact:
                base_url: %s
                client_id: %s
                client_secret: "{{ client_secret }}"
                user_id: %s
                login: "{{ omit }}"
                contact:
                  title: Head of IT
                  city: "{{ omit }}"
        """) % (textwrap.indent(encrypted, '    '), cloud_auth['base_url'], cloud_auth['client_id'], MARCUS)
    run = run_playbook(book, args=['--vault-password-file', str(password_file)], verbosity=3).assert_ok()
    result = run.task('Contact')
    assert result['changed'] is True
    assert [(r['path'], r['body']) for r in writes(emulator.requests())] == [
        ('/api/2/users/%s' % MARCUS, {'contact': {'title': 'Head of IT'}, 'version': 2})]
    args = result['invocation']['module_args']
    assert args['login'] is None and args['contact']['city'] is None and args['contact']['title'] == 'Head of IT'
    assert args['client_secret'] != cloud_auth['client_secret']
    assert cloud_auth['client_secret'] not in run.stdout + run.stderr
