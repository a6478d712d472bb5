"""Guarantee 3 of issue 5: TLS is verified by default, ca_path trusts a private CA, clear text is refused off loopback.

The emulator serves HTTPS with a certificate from its own generated CA (emulator.ca_file); emulator.other_ca_file
is an unrelated CA. A handshake that fails never reaches the HTTP layer, so the emulator's request log stays empty:
no token request, no credentials sent.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.playbooks import record_figures

JANE = '6c5f167d-bcb4-41f9-8958-39a366ecee7f'


def play(*tasks):
    return json.dumps([{'name': 'tls', 'hosts': 'localhost', 'gather_facts': False, 'tasks': list(tasks)}], indent=1)


def info(name, **auth):
    return {'name': name, 'accountops.cloud.cloud_user_info': dict(auth, user_ids=[JANE]), 'ignore_errors': True}


def commit_email(name, **auth):
    return {'name': name, 'accountops.cloud.codearts_user_email': dict(auth, email='alice_iid@example.com'), 'ignore_errors': True}


@pytest.fixture
def demo(emulator, demo_state):
    emulator.reset(demo_state)
    return emulator


def assert_no_traceback(run):
    assert 'Traceback' not in run.stdout + run.stderr, run.explain()


def test_certificates_are_verified_by_default(demo, run_playbook, cloud_auth, codearts_auth):
    run = run_playbook(play(
        info('Cloud, system store', **dict(cloud_auth, base_url=demo.https_url)),
        commit_email('CodeArts, system store', endpoint=demo.https_url, auth_token=codearts_auth['auth_token'])))
    assert_no_traceback(run)
    for name in ('Cloud, system store', 'CodeArts, system store'):
        assert run.status(name) == 'failed'
        message = run.task(name)['msg']
        assert 'TLS verification failed' in message and 'CERTIFICATE_VERIFY_FAILED' in message, message
        assert demo.https_url in message
        assert 'ca_path' in message  # says what to do
    assert demo.requests() == []  # the handshake failed: no request, no credentials sent
    record_figures('tls_default_verify', attempts=2, refused=2, requests_sent=0)


def test_ca_path_trusts_a_private_ca(demo, run_playbook, cloud_auth, codearts_auth):
    https_cloud = dict(cloud_auth, base_url=demo.https_url, ca_path=demo.ca_file)
    https_localhost = dict(https_cloud, base_url=demo.https_url.replace('127.0.0.1', 'localhost'))
    run = run_playbook(play(
        info('Cloud by IP', **https_cloud),
        info('Cloud by name', **https_localhost),
        commit_email('CodeArts', endpoint=demo.https_url, ca_path=demo.ca_file, auth_token=codearts_auth['auth_token'])))
    run.assert_ok()
    assert [user['id'] for user in run.task('Cloud by IP')['users']] == [JANE]
    assert [user['id'] for user in run.task('Cloud by name')['users']] == [JANE]
    assert run.task('CodeArts')['commit_email'] == 'alice_iid@example.com'
    assert run.failed == []
    record_figures('tls_ca_path', attempts=3, succeeded=3)


def test_the_wrong_ca_is_refused(demo, run_playbook, cloud_auth, codearts_auth):
    run = run_playbook(play(
        info('Cloud', **dict(cloud_auth, base_url=demo.https_url, ca_path=demo.other_ca_file)),
        commit_email('CodeArts', endpoint=demo.https_url, ca_path=demo.other_ca_file, auth_token=codearts_auth['auth_token'])))
    assert_no_traceback(run)
    for name in ('Cloud', 'CodeArts'):
        assert run.status(name) == 'failed'
        assert 'TLS verification failed' in run.task(name)['msg']
    assert demo.requests() == []
    record_figures('tls_wrong_ca', attempts=2, refused=2, requests_sent=0)


def test_validate_certs_false_skips_verification(demo, run_playbook, cloud_auth):
    run = run_playbook(play(info('Unverified', **dict(cloud_auth, base_url=demo.https_url, validate_certs=False))))
    run.assert_ok()
    assert [user['id'] for user in run.task('Unverified')['users']] == [JANE]


@pytest.mark.parametrize('setting', ['ca_path', 'validate_certs'])
def test_task_settings_beat_requests_ca_bundle_in_the_environment(demo, run_playbook, cloud_auth, setting):
    """AWX execution environments often set REQUESTS_CA_BUNDLE; requests would let it override the task's choice."""
    auth = dict(cloud_auth, base_url=demo.https_url)
    auth.update({'ca_path': demo.ca_file} if setting == 'ca_path' else {'validate_certs': False})
    env = {'REQUESTS_CA_BUNDLE': demo.other_ca_file, 'CURL_CA_BUNDLE': demo.other_ca_file}
    run = run_playbook(play(info('Task setting', **auth)), env=env)
    run.assert_ok()
    assert [user['id'] for user in run.task('Task setting')['users']] == [JANE]


def test_environment_ca_bundle_still_serves_the_default(demo, run_playbook, cloud_auth):
    # Without ca_path, "the system store" is whatever REQUESTS_CA_BUNDLE names, as for any requests-based tool.
    run = run_playbook(play(info('Env bundle', **dict(cloud_auth, base_url=demo.https_url))), env={'REQUESTS_CA_BUNDLE': demo.ca_file})
    run.assert_ok()


@pytest.mark.parametrize('option,url', [
    ('base_url', 'http://example.invalid'),
    ('base_url', 'http://eu2-cloud.acronis.com'),
    ('base_url', 'http://localhost.example.invalid:8080'),
    ('base_url', 'http://10.0.0.1'),
    ('endpoint', 'http://codehub.example.invalid'),
    ('iam_endpoint', 'http://iam.example.invalid'),
])
def test_clear_text_off_loopback_is_refused_before_any_request(demo, run_playbook, cloud_auth, codearts_auth, option, url):
    if option == 'base_url':
        book = play(info('Clear text', **dict(cloud_auth, base_url=url)))
    elif option == 'endpoint':
        book = play(commit_email('Clear text', endpoint=url, auth_token=codearts_auth['auth_token']))
    else:
        book = play(commit_email('Clear text', endpoint=demo.https_url, ca_path=demo.ca_file, iam_endpoint=url, user_name='alice',
                                 password='demo-iam-password', domain_name='acme', project_name='cn-north-4'))
    run = run_playbook(book)
    assert_no_traceback(run)
    assert run.status('Clear text') == 'failed'
    message = run.task('Clear text')['msg']
    assert option in message and 'clear text' in message and 'https://' in message, message
    # refused before DNS and before any connection: the message is ours, not a resolver's or a socket's
    assert 'Name or service not known' not in message and 'connection failed' not in message
    assert demo.requests() == []
    record_figures('clear_text_' + option, attempts=1, refused=1, requests_sent=0)


def test_clear_text_to_loopback_is_allowed(demo, run_playbook, cloud_auth):
    run = run_playbook(play(info('Loopback', **dict(cloud_auth, base_url=demo.url))))
    run.assert_ok()
    assert demo.url.startswith('http://127.0.0.1:')
