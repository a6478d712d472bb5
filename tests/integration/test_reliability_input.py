"""Guarantee 5 of issue 5: bad input never half-applies.

* A table of bad module arguments (malformed UUIDs and emails, unknown contact keys, overlong and non-ASCII
  values, wrong types, conflicting options, missing auth, bad transport settings), each a task of one playbook:
  every one fails with a message naming the option, and the emulator's log shows zero requests.
* Malformed server answers (an HTML error page from a proxy, an empty body, invalid JSON, a 20 MB body, and 200
  answers of the wrong shape from a stub server): a clean failure naming the status and the URL, no traceback,
  nothing written.
* In cloud_users, invalid items are reported one by one and the valid ones still converge.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.integration.playbooks import record_figures

JANE = '6c5f167d-bcb4-41f9-8958-39a366ecee7f'    # activated
PRIYA = '6e558353-dc84-4d01-bd04-8ef3c64898ec'   # not activated
TOM = '00f10a4e-5e2d-40f8-8fb7-46966b8297d4'     # disabled
LI = '63c76c08-b5b6-41b6-ac9c-dc4bb817f1db'
ACME = 'cc6f6ef1-7d48-4da2-9cdf-3473ba866f4a'
MISSING = '0badc0de-0000-4000-8000-000000000000'
USER_PATH = r'^/api/2/users/[0-9a-f-]{36}$'


def assert_clean(run):
    """No traceback: not in the output, not as module_stderr, not as Ansible's 'Unexpected failure'.
    (ansible-core 2.19 adds exception='(traceback unavailable)' to every failed result.)"""
    text = run.stdout + run.stderr
    assert 'Traceback' not in text and 'Unexpected failure' not in text, run.explain()
    for record in run.results + run.items:
        result = record['result']
        assert 'module_stderr' not in result, json.dumps(record)
        assert result.get('exception', '(traceback unavailable)') == '(traceback unavailable)', json.dumps(record)


# (module, arguments on top of valid ones, texts the failure message must contain)
CLOUD = object()      # marker: the module gets the emulator's cloud credentials
CODEARTS = object()   # marker: the module gets the emulator's CodeArts token
BAD_ARGUMENTS = [
    # malformed UUIDs
    ('cloud_user_email', CLOUD, {'user_id': 'not-a-uuid', 'email': 'a@example.com'}, ['user_id must be a UUID']),
    ('cloud_user_email', CLOUD, {'user_id': JANE[:-1], 'email': 'a@example.com'}, ['user_id must be a UUID']),
    ('cloud_user_contact', CLOUD, {'user_id': JANE.replace('6c5f', 'zz5f'), 'contact': {'title': 'x'}}, ['user_id must be a UUID']),
    ('cloud_user_state', CLOUD, {'user_id': JANE.replace('-', ''), 'state': 'enabled'}, ['user_id must be a UUID']),
    ('cloud_user_state', CLOUD, {'user_id': JANE[:8] + 'ü' + JANE[9:], 'state': 'enabled'}, ['user_id must be a UUID']),
    ('cloud_user_info', CLOUD, {'user_ids': [JANE, 'nope']}, ['user_ids[1] must be a UUID']),
    ('cloud_user_info', CLOUD, {'tenant_id': 'acme'}, ['tenant_id must be a UUID']),
    ('cloud_users', CLOUD, {'tenant_id': '123', 'users': [{'login': 'jane.cooper', 'state': 'enabled'}]}, ['tenant_id must be a UUID']),
    # malformed emails
    ('cloud_user_email', CLOUD, {'user_id': PRIYA, 'email': 'not-an-email'}, ['email must be a valid email']),
    ('cloud_user_email', CLOUD, {'user_id': PRIYA, 'email': 'priya@localhost'}, ['email must be a valid email']),
    ('cloud_user_email', CLOUD, {'user_id': PRIYA, 'email': 'priya shah@example.com'}, ['email must be a valid email']),
    ('cloud_user_email', CLOUD, {'user_id': PRIYA, 'email': 'prïya@example.com'}, ['email must be a valid email']),
    ('cloud_user_email', CLOUD, {'user_id': PRIYA, 'email': 'priya@exämple.com'}, ['email must be a valid email']),
    ('cloud_user_email', CLOUD, {'user_id': PRIYA, 'email': 'priya@@example.com'}, ['email must be a valid email']),
    ('cloud_user_email', CLOUD, {'user_id': PRIYA, 'email': 'p' * 250 + '@example.com'}, ['email must be a valid email', 'at most 254']),
    ('cloud_user_email', CLOUD, {'user_id': PRIYA, 'email': ['priya@example.com']}, ['email must be a valid email']),
    ('codearts_user_email', CODEARTS, {'email': 'alice at example.com'}, ['email must be a valid email']),
    # contact: unknown keys, overlong values, wrong types, email in the wrong module
    ('cloud_user_contact', CLOUD, {'user_id': PRIYA, 'contact': {'nickname': 'P'}}, ['contact.nickname']),
    ('cloud_user_contact', CLOUD, {'user_id': PRIYA, 'contact': {'firstname': 'P' * 1001}}, ['contact.firstname is 1001 characters long']),
    ('cloud_user_contact', CLOUD, {'user_id': PRIYA, 'contact': {'city': 'Ω' * 1001}}, ['contact.city is 1001 characters long']),
    ('cloud_user_contact', CLOUD, {'user_id': PRIYA, 'contact': {'firstname': ['P', 'S']}}, ['contact.firstname must be a string']),
    ('cloud_user_contact', CLOUD, {'user_id': PRIYA, 'contact': {'country': False}}, ['contact.country must be a string']),
    ('cloud_user_contact', CLOUD, {'user_id': PRIYA, 'contact': {'title': {'a': 1}}}, ['contact.title must be a string']),
    ('cloud_user_contact', CLOUD, {'user_id': PRIYA, 'contact': 'firstname Priya'}, ["'contact'"]),
    ('cloud_user_contact', CLOUD, {'user_id': PRIYA, 'contact': {'email': 'p@example.com'}}, ['contact.email is not managed here']),
    ('cloud_user_contact', CLOUD, {'user_id': PRIYA, 'contact': {}}, ['contact sets no field']),
    ('cloud_user_contact', CLOUD, {'user_id': PRIYA, 'contact': {'lastname': None}}, ['contact sets no field']),
    # choices and required options
    ('cloud_user_state', CLOUD, {'user_id': PRIYA, 'state': 'on'}, ['state', 'enabled, disabled']),
    ('cloud_user_state', CLOUD, {'user_id': PRIYA}, ['missing required arguments: state']),
    ('cloud_user_email', CLOUD, {'user_id': JANE, 'email': 'j@example.com', 'if_activated': 'sometimes'}, ['if_activated']),
    ('cloud_user_email', CLOUD, {'user_id': PRIYA}, ['missing required arguments: email']),
    ('cloud_user_info', CLOUD, {}, ['one of the following is required: user_ids, logins, tenant_id']),
    # conflicting options
    ('cloud_user_email', CLOUD, {'user_id': PRIYA, 'login': 'priya.shah', 'email': 'p@example.com'}, ['mutually exclusive', 'user_id', 'login']),
    ('cloud_user_contact', CLOUD, {'contact': {'title': 'x'}}, ['one of the following is required', 'user_id', 'login']),
    ('cloud_user_state', CLOUD, {'login': '   ', 'state': 'enabled'}, ['login must be a non-empty login']),
    # wrong types and ranges of the common options
    ('cloud_user_state', CLOUD, {'user_id': PRIYA, 'state': 'enabled', 'timeout': 'soon'}, ["'timeout'", 'float']),
    ('cloud_user_state', CLOUD, {'user_id': PRIYA, 'state': 'enabled', 'timeout': 0}, ['timeout must be a positive number']),
    ('cloud_user_state', CLOUD, {'user_id': PRIYA, 'state': 'enabled', 'retries': 'many'}, ["'retries'", 'int']),
    ('cloud_user_state', CLOUD, {'user_id': PRIYA, 'state': 'enabled', 'retries': 11}, ['retries must be between 0 and 10']),
    ('cloud_user_state', CLOUD, {'user_id': PRIYA, 'state': 'enabled', 'retries': -1}, ['retries must be between 0 and 10']),
    ('cloud_user_state', CLOUD, {'user_id': PRIYA, 'state': 'enabled', 'retry_budget': -5}, ['retry_budget must be a positive number']),
    ('cloud_user_state', CLOUD, {'user_id': PRIYA, 'state': 'enabled', 'validate_certs': 'maybe'}, ["'validate_certs'", 'bool']),
    ('cloud_user_state', CLOUD, {'user_id': PRIYA, 'state': 'enabled', 'colour': 'blue'}, ['Unsupported parameters', 'colour']),
    ('cloud_users', CLOUD, {'users': 'jane.cooper'}, ["'users'", 'dict']),
    ('cloud_users', CLOUD, {'users': [{'login': 'jane.cooper', 'state': 'enabled'}], 'workers': 0}, ['workers must be between 1 and 32']),
    ('cloud_users', CLOUD, {'users': [{'login': 'jane.cooper', 'state': 'enabled'}], 'workers': 64}, ['workers must be between 1 and 32']),
    ('codearts_user_email', CODEARTS, {'email': 'alice@example.com', 'verify_code': '  '}, ['verify_code is empty']),
    # missing or unusable authentication and endpoints
    ('cloud_user_state', {'client_id': 'x'}, {'user_id': PRIYA, 'state': 'enabled'}, ['base_url is required']),
    ('cloud_user_state', {'base_url': 'EMULATOR', 'client_id': 'x'}, {'user_id': PRIYA, 'state': 'enabled'}, ['authentication is missing', 'client_secret']),
    ('cloud_user_state', {'base_url': 'EMULATOR', 'client_secret': 'some-secret'}, {'user_id': PRIYA, 'state': 'enabled'}, ['authentication is missing']),
    ('cloud_user_state', {'base_url': 'ftp://127.0.0.1', 'access_token': 'some-access-token'}, {'user_id': PRIYA, 'state': 'enabled'},
     ['base_url must be an http']),
    ('cloud_user_state', {'base_url': '127.0.0.1:8080', 'access_token': 'some-access-token'}, {'user_id': PRIYA, 'state': 'enabled'},
     ['base_url must be an http']),
    ('codearts_user_email', {'auth_token': 'some-auth-token'}, {'email': 'alice@example.com'}, ['endpoint is required']),
    ('codearts_user_email', {'endpoint': 'EMULATOR'}, {'email': 'alice@example.com'}, ['authentication is missing', 'auth_token']),
    ('codearts_user_email', {'endpoint': 'EMULATOR', 'user_name': 'alice', 'password': 'x'}, {'email': 'alice@example.com'},
     ['authentication is missing', 'domain_name']),
    # a bulk run whose every item is bad sends nothing either
    ('cloud_users', CLOUD, {'users': [{'user_id': 'bad', 'state': 'enabled'}, {'login': 'jane.cooper'}, {'login': 'x', 'colour': 'red'},
                                      {'user_id': PRIYA, 'state': 'paused'}, {'user_id': PRIYA, 'email': 'nope'}]},
     ['users[0].user_id must be a UUID', 'users[1] sets nothing to manage', 'users[2] has unknown keys colour',
      'users[3].state must be enabled or disabled', 'users[4].email must be a valid email']),
]


def option_table(emulator, cloud_auth, codearts_auth):
    tasks = []
    for index, (module, auth, args, _expected) in enumerate(BAD_ARGUMENTS):
        if auth is CLOUD:
            auth = cloud_auth
        elif auth is CODEARTS:
            auth = codearts_auth
        else:
            auth = dict((key, emulator.url if value == 'EMULATOR' else value) for key, value in auth.items())
        tasks.append({'name': 'case %02d' % index, 'accountops.cloud.' + module: dict(auth, **args), 'ignore_errors': True})
    return json.dumps([{'name': 'bad arguments', 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}], indent=1)


def test_bad_arguments_fail_clearly_before_any_request(emulator, demo_state, run_playbook, cloud_auth, codearts_auth):
    emulator.reset(demo_state)
    before = emulator.state()['users']
    run = run_playbook(option_table(emulator, cloud_auth, codearts_auth), diff=True)
    assert_clean(run)
    problems = []
    for index, (module, _auth, args, expected) in enumerate(BAD_ARGUMENTS):
        name = 'case %02d' % index
        if run.status(name) != 'failed':
            problems.append((name, module, args, 'did not fail'))
            continue
        message = run.task(name)['msg']
        missing = [text for text in expected if text not in message]
        if missing:
            problems.append((name, module, args, message, missing))
    assert problems == [], json.dumps(problems, indent=1, ensure_ascii=False)
    assert emulator.requests() == []  # not one request for any of them: no token, no read, no write
    assert emulator.state()['users'] == before
    record_figures('bad_arguments', inputs=len(BAD_ARGUMENTS), failed_clearly=len(BAD_ARGUMENTS) - len(problems), requests_sent=0)


def test_the_same_table_in_check_mode_sends_nothing_either(emulator, demo_state, run_playbook, cloud_auth, codearts_auth):
    emulator.reset(demo_state)
    run = run_playbook(option_table(emulator, cloud_auth, codearts_auth), check=True)
    assert_clean(run)
    assert all(run.status('case %02d' % index) == 'failed' for index in range(len(BAD_ARGUMENTS)))
    assert emulator.requests() == []


def test_non_ascii_contact_values_are_fine(emulator, demo_state, run_playbook, cloud_auth):
    """Non-ASCII is bad in an email address, not in a name: the control case of the table."""
    emulator.reset(demo_state)
    wanted = {'firstname': 'Zoë', 'lastname': 'Łukasiewicz-Øster', 'city': '東京', 'title': 'Ω' * 1000, 'zipcode': 12345}
    book = json.dumps([{'name': 'unicode', 'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'name': 'Contact', 'accountops.cloud.cloud_user_contact': dict(cloud_auth, user_id=PRIYA, contact=wanted)}]}])
    run_playbook(book).assert_ok()
    contact = emulator.user(PRIYA)['contact']
    assert dict((key, contact[key]) for key in wanted) == dict(wanted, zipcode='12345')
    again = run_playbook(book).assert_ok()
    assert again.task('Contact')['changed'] is False


# -- malformed answers ---------------------------------------------------------------------------------------------

MALFORMED = [
    # kind, status, what the message must say
    ('html', 502, 'HTTP 502'),            # a proxy's error page, after the retries
    ('html', 200, 'HTTP 200 with a body that is not JSON'),
    ('empty', 200, 'HTTP 200 with a body that is not JSON'),
    ('invalid_json', 200, 'HTTP 200 with a body that is not JSON'),
    ('huge', 200, 'HTTP 200 response is larger than'),
]


@pytest.mark.parametrize('kind,status,expected', MALFORMED)
@pytest.mark.parametrize('target', ['read', 'write'])
def test_malformed_answers_fail_cleanly(emulator, demo_state, run_playbook, cloud_auth, kind, status, expected, target):
    emulator.reset(demo_state)
    method = 'GET' if target == 'read' else 'PUT'
    emulator.add_fault(method=method, path=USER_PATH, kind=kind, status=status, count=10)
    book = json.dumps([{'name': 'malformed', 'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'name': 'Contact', 'accountops.cloud.cloud_user_contact': dict(cloud_auth, user_id=PRIYA, contact={'title': 'Malformed'}, retries=1),
         'ignore_errors': True}]}])
    run = run_playbook(book, verbosity=3)
    assert_clean(run)
    assert run.status('Contact') == 'failed'
    result = run.task('Contact')
    assert expected in result['msg'], result['msg']
    assert '%s %s/api/2/users/%s' % (method, cloud_auth['base_url'], PRIYA) in result['msg']
    assert result['changed'] is False
    assert len(result['msg']) < 1000  # a snippet of the body at most, never 20 MB of it
    assert emulator.user(PRIYA)['contact']['title'] == ''
    record_figures('malformed_%s_%d_%s' % (kind, status, target), faults=1, failed_cleanly=1)


class StubApi(BaseHTTPRequestHandler):
    """Answers like the cloud API, except for the paths the test gives its own (well-formed JSON, wrong shape)."""
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass

    def do_GET(self):  # pylint: disable=invalid-name
        length = int(self.headers.get('Content-Length') or 0)
        if length:
            self.rfile.read(length)
        path = self.path.split('?')[0]
        self.server.seen.append((self.command, path))
        if path.endswith('/idp/token'):
            body = {'access_token': 'stub-token', 'token_type': 'bearer', 'expires_in': 3600}
        elif path.startswith('/api/2/clients/'):
            body = {'tenant_id': ACME}
        else:
            body = self.server.answers.get(path, {})
        raw = json.dumps(body).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_POST = do_PUT = do_GET


@pytest.fixture
def stub_api():
    server = ThreadingHTTPServer(('127.0.0.1', 0), StubApi)
    server.answers = {}
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = 'http://127.0.0.1:%d' % server.server_address[1]
    yield server
    server.shutdown()
    server.server_close()


WRONG_SHAPES = [
    ('user', None, 'a user object was expected, got NoneType'),
    ('user', [], 'a user object was expected, got list'),
    ('user', 'ok', 'a user object was expected, got str'),
    ('user', {}, 'the user object has no id'),
    ('user', {'id': PRIYA, 'login': 'priya.shah'}, 'has no integer version'),
    ('user', {'id': PRIYA, 'version': '1'}, 'has no integer version'),
    ('user', {'id': PRIYA, 'version': 1, 'contact': 'priya'}, 'contact that is not an object'),
    ('batch', {}, "the answer has no 'items' list"),
    ('batch', {'items': {'id': PRIYA}}, "the answer has no 'items' list"),
    ('batch', {'items': [{'login': 'priya.shah'}]}, 'items[0]: the user object has no id'),
    ('search', {'items': None}, "the answer has no 'items' list"),
    ('search', {'items': ['priya.shah']}, 'items[0]: a search hit was expected'),
]


@pytest.mark.parametrize('where,answer,expected', WRONG_SHAPES)
def test_answers_of_the_wrong_shape_fail_cleanly(stub_api, run_playbook, where, answer, expected):
    auth = {'base_url': stub_api.url, 'client_id': '3663410d-4b70-4860-860c-8db82bffab8e', 'client_secret': 'stub-secret'}
    path = {'user': '/api/2/users/' + PRIYA, 'batch': '/api/2/users', 'search': '/api/2/search'}[where]
    stub_api.answers[path] = answer
    if where == 'user':
        module, args = 'cloud_user_contact', {'user_id': PRIYA, 'contact': {'title': 'x'}}
    elif where == 'batch':
        module, args = 'cloud_users', {'users': [{'user_id': PRIYA, 'state': 'enabled'}]}
    else:
        module, args = 'cloud_user_info', {'logins': ['priya.shah']}
    book = json.dumps([{'name': 'wrong shape', 'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'name': 'Task', 'accountops.cloud.' + module: dict(auth, **args), 'ignore_errors': True}]}])
    run = run_playbook(book)
    assert_clean(run)
    assert run.status('Task') == 'failed'
    message = run.task('Task')['msg']
    assert expected in message and 'HTTP 200' in message and stub_api.url + path in message, message
    assert [call for call in stub_api.seen if call[0] == 'PUT'] == []  # nothing written on the strength of a bad answer
    record_figures('wrong_shape_%s' % where, faults=1, failed_cleanly=1)


# -- cloud_users: the bad items are reported, the good ones converge -----------------------------------------------

def test_bulk_reports_bad_items_and_converges_the_rest(emulator, demo_state, run_playbook, cloud_auth):
    emulator.reset(demo_state)
    # one account's write meets a malformed answer: only that account fails
    emulator.add_fault(method='PUT', path='^/api/2/users/%s$' % LI, kind='invalid_json', count=5)
    users = [
        {'user_id': PRIYA, 'contact': {'title': 'Engineer'}},             # 0 valid
        {'user_id': 'not-a-uuid', 'state': 'enabled'},                    # 1 bad uuid
        {'login': 'marcus.webb', 'contact': {'city': 'Leeds'}},           # 2 valid, by login
        {'user_id': PRIYA, 'state': 'disabled'},                          # 3 duplicate account
        {'user_id': TOM, 'state': 'enabled', 'colour': 'red'},            # 4 unknown key
        {'user_id': MISSING, 'state': 'enabled'},                         # 5 no such account
        {'login': 'sofia.alvarez', 'email': 'sofia@@acme'},               # 6 bad email
        {'user_id': TOM, 'state': 'enabled'},                             # 7 valid
        {'login': 'nobody.here', 'state': 'enabled'},                     # 8 no such login
        {'user_id': LI, 'contact': {'title': 'Lead'}},                    # 9 valid input, malformed answer
        {'login': 'sofia.alvarez', 'contact': {'firstname': ['S']}},      # 10 wrong type
        {'user_id': JANE, 'email': 'jane.new@acme-msp.example', 'if_activated': 'skip', 'contact': {'title': 'Boss'}},  # 11 valid
    ]
    book = json.dumps([{'name': 'bulk', 'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'name': 'Bulk', 'accountops.cloud.cloud_users': dict(cloud_auth, users=users), 'ignore_errors': True}]}])
    run = run_playbook(book, diff=True)
    assert_clean(run)
    assert run.status('Bulk') == 'failed'
    result = run.task('Bulk')
    by_index = dict((item['index'], item) for item in result['results'])
    assert sorted(by_index) == list(range(len(users)))  # every item reported, in input order
    bad = {1: 'users[1].user_id must be a UUID', 3: 'already listed as users[0]', 4: 'users[4] has unknown keys colour',
           5: 'no account with user_id %s' % MISSING, 6: 'users[6].email must be a valid email', 8: "no account with login 'nobody.here'",
           9: 'HTTP 200 with a body that is not JSON', 10: 'users[10].contact.firstname must be a string'}
    for index, text in bad.items():
        assert by_index[index]['error'] and text in by_index[index]['error'], (index, by_index[index])
        assert by_index[index]['changed'] is False
    for index in (0, 2, 7, 11):
        assert by_index[index]['error'] is None and by_index[index]['changed'] is True, by_index[index]
    assert result['summary'] == {'total': 12, 'changed': 4, 'pending_confirmation': 1, 'failed': 8}
    assert '8 of 12 accounts failed' in result['msg']
    # the valid ones converged; the failed ones were not touched
    assert emulator.user(PRIYA)['contact']['title'] == 'Engineer' and emulator.user(PRIYA)['enabled'] is True
    assert emulator.user('2d505445-8642-4ac6-b068-374eff7ff432')['contact']['city'] == 'Leeds'
    assert emulator.user(TOM)['enabled'] is True
    assert emulator.user(JANE)['contact']['title'] == 'Boss' and emulator.user(JANE)['pending_email'] is None
    assert emulator.user(LI)['contact']['title'] == ''
    sofia = emulator.user('a49a93c6-7c2f-4b2d-8ccd-a3005cbd081c')
    assert sofia['version'] == 3 and sofia['contact']['firstname'] == 'Sofia'
    record_figures('bulk_mixed_items', items=len(users), bad=len(bad), converged=4)
