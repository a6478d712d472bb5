"""Cross-module playbook tests: module_defaults and environment auth, token reuse, finding accounts by login,
bad selectors, secrets under -vvv, and the README demo playbook."""

from __future__ import annotations

import base64
import json
import os
import urllib.request
import uuid

from tests.integration.playbooks import book, play, task, token_requests, writes

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO_PLAYBOOK = os.path.join(os.path.dirname(os.path.dirname(HERE)), 'docs', 'examples', 'demo.yml')
MSP = 'cc6f6ef1-7d48-4da2-9cdf-3473ba866f4a'  # tenant of the demo API client
GLOBEX = 'c43cda73-2ee8-41fa-8f29-820d0e70a5c1'  # a customer below it
PRIYA = '6e558353-dc84-4d01-bd04-8ef3c64898ec'
MARCUS = '2d505445-8642-4ac6-b068-374eff7ff432'
TOM = '00f10a4e-5e2d-40f8-8fb7-46966b8297d4'


def new_user(login, tenant_id=GLOBEX):
    return {'id': str(uuid.uuid5(uuid.NAMESPACE_URL, 'accountops-test/' + login)), 'tenant_id': tenant_id, 'login': login,
            'contact': {'email': login.replace('@', '.') + '@example.org', 'firstname': 'Test', 'lastname': login}}


def http_json(url, data=None, headers=None):
    request = urllib.request.Request(url, data=data, headers=headers or {}, method='POST' if data is not None else 'GET')
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b'null')


# -- module_defaults and environment ---------------------------------------------------------------------------

def test_module_defaults_set_auth_once_and_one_token_serves_the_playbook(emulator, demo_state, run_playbook, cloud_auth_tls,
                                                                         codearts_auth_tls, tmp_path):
    emulator.reset(demo_state)
    tasks = [
        task('cloud_user_email', 'Email', login='priya.shah', email='priya@globex.example'),
        task('cloud_user_contact', 'Contact', user_id=MARCUS, contact={'city': 'Bristol'}),
        task('cloud_user_state', 'State', login='tom.eriksen', state='enabled'),
        task('cloud_user_contact', 'Contact again', login='priya.shah', contact={'title': 'Engineer'}),
        task('codearts_user_email', 'Commit email', email='ALICE_IID@example.com'),
    ]
    # a fresh token cache: the first task asks for a token, the others reuse it
    env = {'XDG_CACHE_HOME': str(tmp_path / 'cache')}
    run = run_playbook(book(play(tasks, cloud=cloud_auth_tls, codearts=codearts_auth_tls)), env=env).assert_ok()
    assert [r['status'] for r in run.results] == ['changed'] * 4 + ['ok']
    log = emulator.requests()
    assert len(token_requests(log)) == 1
    assert emulator.state()['tokens_issued'] == 1
    # three tasks find accounts by login: the API client's tenant is asked for once and kept with the token
    assert len([r for r in log if r['path'].startswith('/api/2/clients/')]) == 1
    assert len([r for r in writes(log) if r['method'] == 'PUT']) == 4
    assert emulator.user(PRIYA)['contact']['email'] == 'priya@globex.example'
    assert emulator.user(MARCUS)['contact']['city'] == 'Bristol'
    assert emulator.user(TOM)['enabled'] is True

    # a second playbook with the same cache needs no token at all, and changes nothing
    emulator.clear_requests()
    again = run_playbook(book(play(tasks, cloud=cloud_auth_tls, codearts=codearts_auth_tls)), env=env).assert_ok()
    assert again.changed == 0
    assert token_requests(emulator.requests()) == []
    assert [r for r in emulator.requests() if r['path'].startswith('/api/2/clients/')] == []
    assert writes(emulator.requests()) == []


def test_auth_from_environment_variables(emulator, demo_state, run_playbook, auth_vars):
    emulator.reset(demo_state)
    tasks = [
        task('cloud_user_email', 'Email', user_id=PRIYA, email='priya@globex.example'),
        task('cloud_user_state', 'State', login='li.wei', state='disabled'),
        task('cloud_user_contact', 'Contact', login='marcus.webb', contact={'phone': '+44 20 7946 0999'}),
        task('codearts_user_email', 'Commit email', email='alice@acme.example', send_verify_code=True),
    ]
    run = run_playbook(book(play(tasks)), env=auth_vars['env']).assert_ok()
    assert [r['status'] for r in run.results] == ['changed', 'changed', 'changed', 'ok']
    assert run.task('Commit email')['verify_code_sent'] is True
    assert emulator.user(PRIYA)['contact']['email'] == 'priya@globex.example'
    assert [m['to'] for m in emulator.outbox()] == ['alice@acme.example']


# -- finding accounts by login -----------------------------------------------------------------------------------

def test_login_lookup_picks_the_exact_login_among_substring_hits(emulator, demo_state, run_playbook, cloud_auth):
    # search matches substrings: jdoe also finds jdoe2, jdoe.admin, ... (15 of them, more than search's default 10)
    similar = [new_user(login) for login in ['jdoe2', 'jdoe.admin', 'xjdoe'] + ['jdoe%02d' % i for i in range(12)]]
    exact = new_user('jdoe')
    demo_state['users'] += similar + [exact]  # the exact one last, where a 10-hit search would miss it
    emulator.reset(demo_state)
    tasks = [task('cloud_user_state', 'Exact', login='jdoe', state='disabled'),
             task('cloud_user_state', 'Substring only', ignore_errors=True, login='jdo', state='disabled')]

    run = run_playbook(book(play(tasks, cloud=cloud_auth))).assert_ok()
    assert run.task('Exact')['changed'] is True
    assert run.task('Exact')['user']['id'] == exact['id']
    assert emulator.user(exact['id'])['enabled'] is False
    assert all(emulator.user(user['id'])['enabled'] for user in similar)
    assert run.task('Substring only')['msg'] == "no account with login 'jdo' is visible to this API client"
    search = [r for r in emulator.requests() if r['path'] == '/api/2/search']
    assert [r['query']['text'] for r in search] == ['jdoe', 'jdo']
    assert int(search[0]['query']['limit']) > len(similar) + 1
    assert [r['path'] for r in writes(emulator.requests())] == ['/api/2/users/%s' % exact['id']]


def test_login_lookup_lists_the_tenant_when_search_is_cut_short(emulator, demo_state, run_playbook, cloud_auth):
    # more substring hits than the search limit, and the exact login is not among those returned
    demo_state['users'] += [new_user('jdoe.%04d' % i) for i in range(1001)] + [new_user('jdoe')]
    emulator.reset(demo_state)
    exact_id = new_user('jdoe')['id']

    run = run_playbook(book(play([task('cloud_user_contact', 'Exact', login='jdoe', contact={'city': 'Oslo'})],
                                 cloud=cloud_auth))).assert_ok()
    assert run.task('Exact')['changed'] is True
    assert run.task('Exact')['user']['id'] == exact_id
    listing = [r for r in emulator.requests() if r['path'] == '/api/2/users' and 'uuids' not in r['query']]
    assert listing and listing[0]['query']['subtree_root_tenant_id'] == MSP
    assert emulator.user(exact_id)['contact']['city'] == 'Oslo'


def test_login_lookup_not_found_and_ambiguous(emulator, demo_state, run_playbook, cloud_auth):
    # the emulator lets two accounts share a login (the real platform should not): the module must refuse to pick one
    twins = [dict(new_user('sam.twin'), id='7e1b2c3d-0000-4000-8000-00000000000%d' % i) for i in (1, 2)]
    demo_state['users'] += twins
    emulator.reset(demo_state)
    tasks = [task('cloud_user_email', 'Missing', ignore_errors=True, login='no.such.user', email='x@example.com'),
             task('cloud_user_email', 'Ambiguous', ignore_errors=True, login='sam.twin', email='x@example.com')]

    run = run_playbook(book(play(tasks, cloud=cloud_auth))).assert_ok()
    assert run.status('Missing') == 'failed'
    assert "no account with login 'no.such.user'" in run.task('Missing')['msg']
    msg = run.task('Ambiguous')['msg']
    assert "2 accounts have login 'sam.twin'" in msg and 'select one by user_id' in msg
    assert twins[0]['id'] in msg and twins[1]['id'] in msg
    assert writes(emulator.requests()) == []


# -- bad selectors and missing auth --------------------------------------------------------------------------------

def test_bad_selectors_and_missing_auth_fail_before_any_request(emulator, demo_state, run_playbook, cloud_auth, codearts_auth):
    emulator.reset(demo_state)
    no_url = dict(cloud_auth, base_url=None)
    no_secret = dict(cloud_auth, client_secret=None)
    tasks = [
        task('cloud_user_state', 'Both', True, user_id=PRIYA, login='priya.shah', state='disabled', **cloud_auth),
        task('cloud_user_state', 'Neither', True, state='disabled', **cloud_auth),
        task('cloud_user_contact', 'Malformed UUID', True, user_id='6e558353-dc84-41f9', contact={'city': 'X'}, **cloud_auth),
        task('cloud_user_email', 'No base_url', True, login='priya.shah', email='p@example.com', **no_url),
        task('cloud_user_state', 'No secret', True, login='priya.shah', state='disabled', **no_secret),
        task('codearts_user_email', 'No endpoint', True, email='a@example.com', auth_token=codearts_auth['auth_token']),
        task('codearts_user_email', 'No token', True, email='a@example.com', endpoint=codearts_auth['endpoint']),
        task('codearts_user_email', 'Partial IAM', True, email='a@example.com', endpoint=codearts_auth['endpoint'],
             user_name='alice', password='demo-iam-password'),
    ]
    run = run_playbook(book(play(tasks))).assert_ok()
    assert [r['status'] for r in run.results] == ['failed'] * len(tasks)
    expected = {
        'Both': 'parameters are mutually exclusive: user_id|login',
        'Neither': 'one of the following is required: user_id, login',
        'Malformed UUID': "user_id must be a UUID such as 1c234e69-5469-424a-a6d1-ff5658b387a6, got '6e558353-dc84-41f9'",
        'No base_url': 'base_url is required',
        'No secret': 'authentication is missing: give client_id and client_secret',
        'No endpoint': 'endpoint is required',
        'No token': 'authentication is missing: give auth_token',
        'Partial IAM': 'domain_name and project_name',
    }
    for name, text in expected.items():
        assert text in run.task(name)['msg'], (name, run.task(name)['msg'])
    assert 'Traceback' not in run.stdout + run.stderr
    assert emulator.requests() == []


# -- secrets -------------------------------------------------------------------------------------------------------

def test_no_secret_in_very_verbose_output(emulator, demo_state, run_playbook, cloud_auth, codearts_auth):
    emulator.reset(demo_state)
    basic = base64.b64encode(('%s:%s' % (cloud_auth['client_id'], cloud_auth['client_secret'])).encode()).decode()
    access_token = http_json(emulator.url + '/api/2/idp/token', b'grant_type=client_credentials',
                             {'Authorization': 'Basic ' + basic, 'Content-Type': 'application/x-www-form-urlencoded'})['access_token']
    http_json(emulator.url + '/v4/user/email-verify-code', json.dumps({'email': 'alice@acme.example'}).encode(),
              {'X-Auth-Token': codearts_auth['auth_token'], 'Content-Type': 'application/json'})
    verify_code = emulator.outbox()[-1]['code']
    iam = {'endpoint': emulator.url, 'iam_endpoint': emulator.url, 'user_name': 'bob', 'password': 'demo-iam-password-bob',
           'domain_name': 'acme', 'project_name': 'cn-north-4'}
    secrets = {
        'client_secret': cloud_auth['client_secret'],
        'access_token': access_token,
        'auth_token': codearts_auth['auth_token'],
        'password': iam['password'],
        'verify_code': verify_code,
    }
    bad_iam = dict(iam)
    bad_iam['password'] += '-x'
    with_secret = play([
        task('cloud_user_contact', 'Contact', user_id=MARCUS, contact={'city': 'York'}),
        task('cloud_user_email', 'Email', login='priya.shah', email='priya@globex.example'),
        task('codearts_user_email', 'Commit email', email='alice@acme.example', verify_code=verify_code, **codearts_auth),
        task('codearts_user_email', 'Code reused', True, email='alice2@acme.example', verify_code=verify_code, **codearts_auth),
        task('codearts_user_email', 'IAM user', email='bob.new@acme.example', send_verify_code=True, **iam),
        task('codearts_user_email', 'Bad IAM password', True, email='bob@acme.example', **bad_iam),
    ], cloud=cloud_auth, name='with client secret')
    with_token = play([task('cloud_user_state', 'State', user_id=TOM, state='enabled', base_url=cloud_auth['base_url'],
                            access_token=access_token)], name='with access token')

    run = run_playbook(book(with_secret, with_token), verbosity=3, diff=True).assert_ok()
    assert [r['status'] for r in run.results] == ['changed', 'changed', 'changed', 'failed', 'ok', 'failed', 'changed']
    assert '"invocation"' in run.stdout  # really -vvv: results are printed whole, module arguments included
    output = run.stdout + run.stderr
    recorded = json.dumps(run.records)
    for option, value in secrets.items():
        assert value not in output, option
        assert value not in recorded, option
    assert run.task('State')['invocation']['module_args']['access_token'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'
    assert emulator.user(TOM)['enabled'] is True


# -- the README demo -----------------------------------------------------------------------------------------------

def test_demo_playbook_converges_then_reports_no_change(emulator, demo_state, run_playbook, auth_vars):
    emulator.reset(demo_state)
    extra_vars = dict((key, value) for key, value in auth_vars.items() if key != 'env')

    first = run_playbook(DEMO_PLAYBOOK, extra_vars=extra_vars, env=auth_vars['env'], diff=True).assert_ok()
    assert first.changed > 0
    assert not first.failed
    assert writes(emulator.requests())
    emulator.clear_requests()
    emulator.clear_outbox()
    second = run_playbook(DEMO_PLAYBOOK, extra_vars=extra_vars, env=auth_vars['env']).assert_ok()
    assert second.summary()['changed'] == 0, second.explain()
    assert writes(emulator.requests()) == []
    assert emulator.outbox() == []
