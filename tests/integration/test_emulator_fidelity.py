# Copyright: accountops.cloud maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator in tests/emulator must behave like the documented APIs, or module tests prove nothing.

Responses and accepted requests are checked with openapi-core against the vendor's own OpenAPI document;
behaviour that the spec cannot express (versions, pending emails, CodeArts codes, faults) is checked directly.
Run: python -m pytest tests/integration/test_emulator_fidelity.py -q
"""

import copy
import importlib.util
import json
import os
import re
import subprocess
import sys
import time

import pytest
import requests
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.exceptions import OpenAPIError
from openapi_schema_validator import OAS30Validator

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EMULATOR_DIR = os.path.join(REPO, 'tests', 'emulator')
SPEC_PATH = os.path.join(EMULATOR_DIR, 'acronis-account-management-v2-openapi.json')


def load_harness():
    # By path, so the test does not depend on how sys.path is set up.
    spec = importlib.util.spec_from_file_location('accountops_emulator_harness', os.path.join(EMULATOR_DIR, 'harness.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


harness = load_harness()

with open(os.path.join(EMULATOR_DIR, 'demo_state.json'), encoding='utf-8') as _handle:
    DEMO = json.load(_handle)

CLIENT_ID = '3663410d-4b70-4860-860c-8db82bffab8e'
CLIENT_SECRET = 'demo-client-secret-0123456789'
PARTNER = 'cc6f6ef1-7d48-4da2-9cdf-3473ba866f4a'
CUSTOMER = 'c43cda73-2ee8-41fa-8f29-820d0e70a5c1'
OUTSIDE_TENANT = '4ca1e001-9ed2-4a53-a8f0-61c0efa2402b'
JANE = '6c5f167d-bcb4-41f9-8958-39a366ecee7f'      # activated, partner tenant
MARCUS = '2d505445-8642-4ac6-b068-374eff7ff432'    # activated, version 2
PRIYA = '6e558353-dc84-4d01-bd04-8ef3c64898ec'     # not activated, version 1
TOM = '00f10a4e-5e2d-40f8-8fb7-46966b8297d4'       # disabled
BILL = 'cf81a815-1827-4f25-9c62-20f7d67dce4e'      # outside the client's tenant tree
UNKNOWN = '0badc0de-0000-4000-8000-000000000000'
IAM_PASSWORD = 'demo-iam-password'
CODEARTS_TOKEN = 'demo-codearts-token'

# openapi-core cannot check oauth2 security schemes and says so on every request; the emulator checks tokens itself.
pytestmark = pytest.mark.filterwarnings('ignore:Unsupported scheme type:UserWarning')


def fix_nullable_allof(node, schemas):
    """Return a copy of the spec where `nullable` next to `allOf: [$ref]` works.

    openapi-schema-validator follows OAS 3.0.3: nullable only counts beside an explicit `type`. The vendor writes
    {nullable: true, allOf: [{$ref: item1}]} for timestamps such as the required `deleted_at`, so even the spec's own
    example fails. Inlining the referenced simple schema keeps every constraint and lets null through as intended.
    """
    if isinstance(node, list):
        return [fix_nullable_allof(item, schemas) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get('nullable') and 'type' not in node and len(node.get('allOf', ())) == 1 and '$ref' in node['allOf'][0]:
        target = schemas[node['allOf'][0]['$ref'].rsplit('/', 1)[1]]
        if 'type' in target and '$ref' not in json.dumps(target):
            merged = {key: value for key, value in node.items() if key != 'allOf'}
            merged.update(target)
            return merged
    return {key: fix_nullable_allof(value, schemas) for key, value in node.items()}


@pytest.fixture(scope='module')
def emu():
    with harness.Emulator(tls=True) as server:
        yield server


@pytest.fixture(scope='module')
def raw_spec():
    with open(SPEC_PATH, encoding='utf-8') as handle:
        spec = json.load(handle)
    spec = fix_nullable_allof(spec, spec['components']['schemas'])
    # The token endpoint's Authorization pattern demands exactly one trailing '=', but base64 of client_id:secret
    # ends in zero, one or two '=' depending on its length; the real server cannot require that, so relax it.
    header = spec['paths']['/idp/token']['post']['parameters'][0]
    assert header['name'] == 'Authorization' and header['schema']['pattern'].endswith('*=$')
    header['schema']['pattern'] = header['schema']['pattern'][:-len('=$')] + '={0,2}$'
    return spec


@pytest.fixture(scope='module')
def openapi(emu, raw_spec):
    spec = copy.deepcopy(raw_spec)
    # The vendor's server is https://dev-cloud.acronis.com/api/2; point it at the emulator instead.
    spec['servers'] = [{'url': f'{emu.url}/api/2'}, {'url': f'{emu.https_url}/api/2'}]
    return OpenAPI.from_dict(spec)


@pytest.fixture(scope='module')
def error_validator(raw_spec):
    schema = dict(raw_spec['components']['schemas']['errorScheme'], components=raw_spec['components'])
    return OAS30Validator(schema)


class Cloud:
    """A keep-alive client for /api/2 with a bearer token, like a module would use."""

    def __init__(self, base, verify=True):
        self.base = base
        self.session = requests.Session()
        # REQUESTS_CA_BUNDLE in the environment would silently override session.verify.
        self.session.trust_env = False
        self.session.verify = verify
        self.token_response = self.session.post(f'{base}/api/2/idp/token', data={'grant_type': 'client_credentials'},
                                                auth=(CLIENT_ID, CLIENT_SECRET))
        assert self.token_response.status_code == 200, self.token_response.text
        self.session.headers['Authorization'] = f"Bearer {self.token_response.json()['access_token']}"

    def get(self, path, **kwargs):
        return self.session.get(f'{self.base}/api/2{path}', **kwargs)

    def put(self, path, body, **kwargs):
        return self.session.put(f'{self.base}/api/2{path}', json=body, **kwargs)


@pytest.fixture()
def cloud(emu):
    emu.reset(DEMO)
    return Cloud(emu.url)


def validate(openapi, response):
    """Both halves of the exchange must satisfy the vendor spec."""
    request = RequestsOpenAPIRequest(response.request)
    openapi.validate_request(request)
    openapi.validate_response(request, RequestsOpenAPIResponse(response))


def assert_error(response, status, error_validator, code=None, info_contains=None):
    assert response.status_code == status, response.text
    body = response.json()
    assert not list(error_validator.iter_errors(body)), body
    assert body['error']['domain'] == 'PlatformAccountServer'
    assert body['error']['context'] == {}
    if code is not None:
        assert body['error']['code'] == code
    if info_contains is not None:
        assert info_contains in body['error']['details']['info'], body
    return body


def generated(count, tenant=CUSTOMER, **extra):
    state = copy.deepcopy(DEMO)
    state['generate_users'] = dict({'count': count, 'tenant_id': tenant, 'login_prefix': 'user', 'activated_every': 2, 'seed': 1}, **extra)
    return state


# ------------------------------------------------------------------------------------------------------------
# Spec fidelity (openapi-core)

def test_token_exchange_matches_spec(emu, openapi):
    emu.reset(DEMO)
    response = requests.post(f'{emu.url}/api/2/idp/token', data={'grant_type': 'client_credentials'}, auth=(CLIENT_ID, CLIENT_SECRET))
    validate(openapi, response)
    body = response.json()
    assert body['token_type'] == 'bearer' and body['expires_in'] == 7200
    assert abs(body['expires_on'] - (time.time() + 7200)) < 5
    assert body['id_token'] and body['access_token']
    assert response.headers['Cache-Control'] == 'no-store'

    # client_id/client_secret as form fields work too
    form = requests.post(f'{emu.url}/api/2/idp/token',
                         data={'grant_type': 'client_credentials', 'client_id': CLIENT_ID, 'client_secret': CLIENT_SECRET})
    validate(openapi, form)

    bad = requests.post(f'{emu.url}/api/2/idp/token', data={'grant_type': 'client_credentials'}, auth=(CLIENT_ID, 'wrong'))
    assert bad.status_code == 401
    assert bad.json()['error'] == 'invalid_client' and bad.json()['error_description']

    other = requests.post(f'{emu.url}/api/2/idp/token', data={'grant_type': 'password', 'username': 'x', 'password': 'y'},
                          auth=(CLIENT_ID, CLIENT_SECRET))
    validate(openapi, other)
    assert other.status_code == 400 and other.json()['error'] == 'invalid_request'


def test_get_user_matches_spec(cloud, openapi):
    response = cloud.get(f'/users/{MARCUS}')
    validate(openapi, response)
    user = response.json()
    assert user['id'] == MARCUS and user['version'] == 2 and user['login'] == 'marcus.webb'
    assert user['contact']['email'] == 'marcus.webb@globex.example'
    assert user['deleted_at'] is None
    assert re.match(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$', user['updated_at'])
    assert 'pending_email' not in user


def test_get_client_and_tenant_users_match_spec(cloud, openapi):
    response = cloud.get(f'/clients/{CLIENT_ID}')
    validate(openapi, response)
    assert response.json()['tenant_id'] == PARTNER and response.json()['type'] == 'api_client'
    response = cloud.get(f'/tenants/{CUSTOMER}/users')
    validate(openapi, response)
    assert set(response.json()['items']) == {MARCUS, PRIYA, TOM, '63c76c08-b5b6-41b6-ac9c-dc4bb817f1db'}


def test_batch_get_matches_spec(cloud, openapi):
    response = cloud.get('/users', params={'uuids': f'{PRIYA},{UNKNOWN},{MARCUS}'})
    validate(openapi, response)
    body = response.json()
    assert [item['id'] for item in body['items']] == [PRIYA, MARCUS]  # requested order, unknown omitted
    assert 'after' not in body['paging']['cursors']


@pytest.mark.parametrize('lod', ['stamps', 'basic', 'full'])
def test_subtree_listing_matches_spec(emu, openapi, lod):
    emu.reset(generated(30))
    client = Cloud(emu.url)
    response = client.get('/users', params={'subtree_root_tenant_id': PARTNER, 'limit': 20, 'lod': lod})
    validate(openapi, response)
    item = response.json()['items'][0]
    assert ('login' in item) == (lod != 'stamps')
    assert ('contact' in item) == (lod == 'full')
    after = response.json()['paging']['cursors']['after']
    validate(openapi, client.get('/users', params={'after': after}))


def test_search_matches_spec(cloud, openapi):
    response = cloud.get('/search', params={'tenant': PARTNER, 'text': 'globex'})
    validate(openapi, response)
    items = response.json()['items']
    kinds = {(item['obj_type'], item.get('login') or item.get('name')) for item in items}
    assert ('tenant', 'Globex Corporation') in kinds
    assert ('user', 'marcus.webb') in kinds  # matched by the email domain only
    for item in items:
        assert 'email' not in item
        if item['obj_type'] == 'user':
            assert item['parent_id'] == CUSTOMER and item['path'] == ['Acme MSP', 'Globex Corporation']


def test_put_matches_spec(cloud, openapi):
    response = cloud.put(f'/users/{PRIYA}', {'version': 1, 'contact': {'firstname': 'Priyanka', 'phone': None}, 'language': 'de'})
    validate(openapi, response)
    assert response.json()['version'] == 2


def test_error_responses_match_spec(cloud, openapi, error_validator):
    missing = cloud.get(f'/users/{UNKNOWN}')
    validate(openapi, missing)
    assert_error(missing, 404, error_validator)
    conflict = cloud.put(f'/users/{MARCUS}', {'version': 1, 'enabled': False})
    validate(openapi, conflict)
    assert_error(conflict, 409, error_validator, code=1001)
    forbidden = cloud.get(f'/users/{BILL}')
    validate(openapi, forbidden)
    assert_error(forbidden, 403, error_validator)


PUT_REFUSALS = [
    ({'version': 2, 'nickname': 'm'}, 'nickname'),
    ({'contact': {'firstname': 'M'}}, 'version'),
    ({'version': 2, 'contact': {'nickname': 'm'}}, 'nickname'),
    ({'version': 2, 'contact': {'types': []}}, 'contact.types'),
    ({'version': 2, 'contact': {'email': None}}, 'contact.email'),
    ({'version': 2, 'contact': {'email': 'not-an-address'}}, 'contact.email'),
    ({'version': '2'}, 'version'),
    ({'version': 2, 'enabled': 'yes'}, 'enabled'),
    ({'version': 2, 'notifications': ['sms']}, 'notifications.0'),
    ({'version': 2, 'disable_after': 'tomorrow'}, 'disable_after'),
    ({'version': 2, 'id': MARCUS}, "'id'"),
    ([{'version': 2}], 'body'),
]


@pytest.mark.parametrize('body,field', PUT_REFUSALS)
def test_put_refusals_agree_with_openapi_core(cloud, openapi, error_validator, body, field):
    response = cloud.put(f'/users/{MARCUS}', body)
    assert_error(response, 400, error_validator, info_contains=field)
    with pytest.raises(OpenAPIError):
        openapi.validate_request(RequestsOpenAPIRequest(response.request))
    assert cloud.get(f'/users/{MARCUS}').json()['version'] == 2


def test_accepted_bodies_agree_with_openapi_core(cloud, openapi):
    bodies = [
        {'version': 2},
        {'version': 2, 'contact': {}},
        {'version': 2, 'contact': {'email': ''}},
        {'version': 2, 'contact': {'types': ['billing', 'technical'], 'fax': None, 'email_confirmed': None}},
        {'version': 2, 'contact': {'tenant_id': CUSTOMER, 'user_id': MARCUS}},
        {'version': 2, 'notifications': [], 'disable_after': '2030-01-01T00:00:00'},
        {'version': 2, 'idp_id': '11111111-1111-1111-1111-111111111111', 'external_id': 'S-1-5-21'},
        {'version': 2, 'login': 'marcus.webb', 'language': 'en', 'enabled': True},
    ]
    for body in bodies:
        response = cloud.put(f'/users/{MARCUS}', dict(body, version=cloud.get(f'/users/{MARCUS}').json()['version']))
        assert response.status_code == 200, (body, response.text)
        validate(openapi, response)


# ------------------------------------------------------------------------------------------------------------
# Cloud behaviour

@pytest.mark.parametrize('status', [409, 426])
def test_version_conflict_status_is_configurable(emu, cloud, error_validator, status):
    emu.set_config(conflict_status=status)
    response = cloud.put(f'/users/{MARCUS}', {'version': 1, 'contact': {'firstname': 'X'}})
    body = assert_error(response, status, error_validator, code=1001)
    assert body['error']['message'] == 'Version mismatch'
    assert cloud.get(f'/users/{MARCUS}').json()['contact']['firstname'] == 'Marcus'


def test_contact_is_merged_not_replaced(cloud):
    before = cloud.get(f'/users/{MARCUS}').json()
    response = cloud.put(f'/users/{MARCUS}', {'version': 2, 'contact': {'address1': 'John Doe Str.', 'firstname': 'Foo'}})
    after = response.json()
    assert after['version'] == 3
    assert after['updated_at'] > before['updated_at']
    assert after['contact']['address1'] == 'John Doe Str.' and after['contact']['firstname'] == 'Foo'
    for key in ('email', 'lastname', 'phone', 'city', 'zipcode', 'country'):
        assert after['contact'][key] == before['contact'][key]
    assert cloud.get(f'/users/{MARCUS}').json() == after


def test_activated_email_change_waits_for_confirmation(emu, cloud):
    before = cloud.get(f'/users/{MARCUS}').json()
    response = cloud.put(f'/users/{MARCUS}', {'version': 2, 'contact': {'email': 'marcus@new.example'}})
    assert response.status_code == 200
    assert response.json()['version'] == 2
    assert response.json()['contact']['email'] == 'marcus.webb@globex.example'
    assert cloud.get(f'/users/{MARCUS}').json() == before
    mails = emu.outbox()
    assert len(mails) == 1
    assert {k: mails[0][k] for k in ('kind', 'user_id', 'login', 'to', 'new_email')} == {
        'kind': 'email_confirmation', 'user_id': MARCUS, 'login': 'marcus.webb',
        'to': 'marcus.webb@globex.example', 'new_email': 'marcus@new.example'}
    assert emu.user(MARCUS)['pending_email'] == 'marcus@new.example'

    confirmed = emu.confirm_email(MARCUS)
    assert confirmed['version'] == 3
    user = cloud.get(f'/users/{MARCUS}').json()
    assert user['contact']['email'] == 'marcus@new.example' and user['version'] == 3
    assert emu.user(MARCUS)['pending_email'] is None


def test_activated_email_change_with_other_fields(emu, cloud):
    response = cloud.put(f'/users/{MARCUS}', {'version': 2, 'contact': {'email': 'marcus@new.example', 'lastname': 'Webber'}})
    user = response.json()
    assert user['version'] == 3 and user['contact']['lastname'] == 'Webber'
    assert user['contact']['email'] == 'marcus.webb@globex.example'
    assert [mail['kind'] for mail in emu.outbox()] == ['email_confirmation']


def test_non_activated_email_changes_at_once(emu, cloud):
    response = cloud.put(f'/users/{PRIYA}', {'version': 1, 'contact': {'email': 'priya@new.example'}})
    assert response.json()['version'] == 2 and response.json()['contact']['email'] == 'priya@new.example'
    assert emu.outbox() == []
    hits = cloud.get('/search', params={'tenant': PARTNER, 'text': 'priya@new'}).json()['items']
    assert [hit['id'] for hit in hits] == [PRIYA]


def test_noop_put_version_knob(emu, cloud):
    first = cloud.put(f'/users/{MARCUS}', {'version': 2, 'enabled': True, 'contact': {'firstname': 'Marcus'}}).json()
    assert first['version'] == 2
    emu.set_config(noop_put_bumps_version=True)
    assert cloud.put(f'/users/{MARCUS}', {'version': 2, 'enabled': True}).json()['version'] == 3


def test_disable_user(cloud):
    user = cloud.put(f'/users/{JANE}', {'version': 1, 'enabled': False}).json()
    assert user['enabled'] is False and user['version'] == 2


def test_delete_is_soft(cloud, openapi, error_validator):
    assert_error(cloud.session.delete(f'{cloud.base}/api/2/users/{MARCUS}', params={'version': 2}), 400, error_validator)
    assert_error(cloud.session.delete(f'{cloud.base}/api/2/users/{TOM}', params={'version': 4}), 409, error_validator, code=1001)
    deleted = cloud.session.delete(f'{cloud.base}/api/2/users/{TOM}', params={'version': 5})
    assert deleted.status_code == 204 and deleted.content == b''
    # the spec's 204 has `content: {}`, which openapi-core reads as "a body is required"; check the request only
    openapi.validate_request(RequestsOpenAPIRequest(deleted.request))
    assert_error(cloud.get(f'/users/{TOM}'), 404, error_validator)
    kept = cloud.get(f'/users/{TOM}', params={'allow_deleted': 'true'})
    validate(openapi, kept)
    assert kept.json()['deleted_at'] and kept.json()['version'] == 6
    assert TOM not in cloud.get(f'/tenants/{CUSTOMER}/users').json()['items']
    assert cloud.get('/search', params={'tenant': PARTNER, 'text': 'eriksen'}).json()['items'] == []


def test_activation_endpoints(emu, cloud, error_validator):
    sent = cloud.session.post(f'{cloud.base}/api/2/users/{PRIYA}/send-activation-email', json={})
    assert sent.status_code == 204
    assert emu.outbox()[-1]['kind'] == 'activation' and emu.outbox()[-1]['to'] == 'priya.shah@globex.example'
    assert cloud.session.post(f'{cloud.base}/api/2/users/{PRIYA}/password', json={'password': 'Secr3t-passw0rd!'}).status_code == 204
    user = cloud.get(f'/users/{PRIYA}').json()
    assert user['activated'] is True and user['version'] == 2
    assert 'Secr3t-passw0rd!' not in json.dumps(emu.requests())
    # only users of sub-tenants, per the developer guide
    assert_error(cloud.session.post(f'{cloud.base}/api/2/users/{JANE}/send-activation-email', json={}), 403, error_validator)


def test_token_expiry(emu, error_validator):
    emu.reset(dict(DEMO, config={'token_ttl': 1}))
    client = Cloud(emu.url)
    assert client.token_response.json()['expires_in'] == 1
    assert client.get(f'/users/{MARCUS}').status_code == 200
    time.sleep(1.1)
    assert_error(client.get(f'/users/{MARCUS}'), 401, error_validator, info_contains='expired')


def test_authentication_and_scope(emu, cloud, error_validator):
    anonymous = requests.get(f'{emu.url}/api/2/users/{MARCUS}')
    assert_error(anonymous, 401, error_validator)
    forged = requests.get(f'{emu.url}/api/2/users/{MARCUS}', headers={'Authorization': 'Bearer forged'})
    assert_error(forged, 401, error_validator)
    token = cloud.session.headers['Authorization'].split(' ', 1)[1]
    assert requests.get(f'{emu.url}/api/2/users/{MARCUS}', params={'access_token': token}).status_code == 200
    assert_error(cloud.get(f'/users/{BILL}'), 403, error_validator)
    assert_error(cloud.put(f'/users/{BILL}', {'version': 1, 'enabled': False}), 403, error_validator)
    assert_error(cloud.get('/search', params={'tenant': OUTSIDE_TENANT, 'text': 'bill'}), 403, error_validator)
    assert_error(cloud.get('/users', params={'subtree_root_tenant_id': OUTSIDE_TENANT}), 403, error_validator)
    assert cloud.get('/users', params={'uuids': BILL}).json()['items'] == []


def test_bad_and_unknown_ids(cloud, error_validator):
    assert_error(cloud.get('/users/NOT-A-UUID'), 400, error_validator, info_contains='user_id')
    assert_error(cloud.get(f'/users/{MARCUS.upper()}'), 400, error_validator, info_contains='user_id')
    assert_error(cloud.get(f'/users/{UNKNOWN}'), 404, error_validator)
    assert_error(cloud.put(f'/users/{UNKNOWN}', {'version': 1}), 404, error_validator)
    assert_error(cloud.get('/no/such/endpoint'), 404, error_validator)


def test_wrong_content_type_is_415(cloud, error_validator):
    response = cloud.session.put(f'{cloud.base}/api/2/users/{MARCUS}', data='version=2&enabled=false',
                                 headers={'Content-Type': 'application/x-www-form-urlencoded'})
    assert_error(response, 415, error_validator)
    response = cloud.session.put(f'{cloud.base}/api/2/users/{MARCUS}', data=b'{"version": 2}')
    assert_error(response, 415, error_validator)
    ok = cloud.session.put(f'{cloud.base}/api/2/users/{MARCUS}', data=b'{"version": 2}',
                           headers={'Content-Type': 'application/json; charset=utf-8'})
    assert ok.status_code == 200
    assert_error(cloud.get(f'/users/{MARCUS}', headers={'Accept': 'text/html'}), 415, error_validator)
    assert cloud.get(f'/users/{MARCUS}', headers={'Accept': 'text/html, application/json;q=0.9'}).status_code == 200


def test_search_limit_and_substring(emu):
    emu.reset(generated(25))
    client = Cloud(emu.url)
    hits = client.get('/search', params={'tenant': PARTNER, 'text': 'USER000'}).json()['items']
    assert len(hits) == 10
    assert all(hit['obj_type'] == 'user' and 'user000' in hit['login'] for hit in hits)
    assert len(client.get('/search', params={'tenant': PARTNER, 'text': 'user0', 'limit': 100}).json()['items']) == 25
    emu.set_config(search_default_limit=3)
    assert len(client.get('/search', params={'tenant': PARTNER, 'text': 'user0'}).json()['items']) == 3
    by_last = client.get('/search', params={'tenant': PARTNER, 'text': 'cOoPeR'}).json()['items']
    assert [hit['login'] for hit in by_last] == ['jane.cooper']


def test_uuids_limit_and_mutual_exclusion(emu, error_validator):
    emu.reset(generated(120))
    client = Cloud(emu.url)
    ids = [user['id'] for user in emu.state()['users'] if user['login'].startswith('user')]
    assert len(client.get('/users', params={'uuids': ','.join(ids[:100])}).json()['items']) == 100
    assert_error(client.get('/users', params={'uuids': ','.join(ids[:101])}), 400, error_validator, info_contains='uuids')
    assert_error(client.get('/users', params={'uuids': ids[0], 'subtree_root_tenant_id': PARTNER}), 400, error_validator)
    assert_error(client.get('/users', params={'uuids': ids[0], 'tenant_id': PARTNER}), 400, error_validator)
    assert_error(client.get('/users', params={'tenant_id': PARTNER}), 400, error_validator)
    assert_error(client.get('/users'), 400, error_validator)
    assert_error(client.get('/users', params={'subtree_root_tenant_id': PARTNER, 'limit': 0}), 400, error_validator, info_contains='limit')
    assert_error(client.get('/users', params={'subtree_root_tenant_id': PARTNER, 'lod': 'huge'}), 400, error_validator, info_contains='lod')
    assert_error(client.get('/users', params={'after': 'garbage'}), 400, error_validator, info_contains='after')


def test_generated_users_are_deterministic(emu):
    emu.reset(generated(4))
    first = [(u['id'], u['login'], u['contact']['email'], u['activated']) for u in emu.state()['users'] if u['login'].startswith('user')]
    emu.reset(generated(4))
    second = [(u['id'], u['login'], u['contact']['email'], u['activated']) for u in emu.state()['users'] if u['login'].startswith('user')]
    assert first == second
    assert first[0][1:] == ('user00001', 'user00001@example.com', False)
    assert first[1][3] is True


def test_paging_250_users(emu, openapi):
    emu.reset(generated(250))
    client = Cloud(emu.url)
    pages = []
    params = {'subtree_root_tenant_id': PARTNER, 'limit': 100}
    while True:
        response = client.get('/users', params=params)
        assert response.status_code == 200
        body = response.json()
        pages.append(body['items'])
        after = body['paging']['cursors'].get('after')
        if not after:
            break
        params = {'after': after}
    validate(openapi, response)
    assert [len(page) for page in pages] == [100, 100, 56]  # 250 generated + 6 demo users under the partner
    ids = [item['id'] for page in pages for item in page]
    assert len(set(ids)) == 256 and BILL not in ids
    default = client.get('/users', params={'subtree_root_tenant_id': CUSTOMER}).json()
    assert len(default['items']) == 254 and 'after' not in default['paging']['cursors']


# ------------------------------------------------------------------------------------------------------------
# IAM and CodeArts Repo

def iam_token(emu, user='alice', password=IAM_PASSWORD, scope=None):
    body = {'auth': {'identity': {'methods': ['password'],
                                  'password': {'user': {'name': user, 'password': password, 'domain': {'name': 'acme'}}}},
                     'scope': scope or {'project': {'name': 'cn-north-4'}}}}
    return requests.post(f'{emu.url}/v3/auth/tokens', json=body)


def test_iam_password_token(emu):
    emu.reset(DEMO)
    response = iam_token(emu)
    assert response.status_code == 201
    assert response.headers['X-Subject-Token']
    token = response.json()['token']
    assert token['methods'] == ['password'] and token['user']['name'] == 'alice'
    assert token['project']['name'] == 'cn-north-4' and token['roles'] == [] and token['catalog'] == []
    assert token['expires_at'].endswith('Z') and token['issued_at'] < token['expires_at']
    domain = iam_token(emu, scope={'domain': {'name': 'acme'}})
    assert domain.status_code == 201 and domain.json()['token']['domain']['name'] == 'acme'
    wrong = iam_token(emu, password='nope')
    assert wrong.status_code == 401
    assert wrong.json() == {'error': {'code': 401, 'message': 'The username or password is wrong.', 'title': 'Unauthorized'}}


def codearts(emu, method, path, token=CODEARTS_TOKEN, **kwargs):
    headers = {'X-Auth-Token': token} if token else {}
    return requests.request(method, f'{emu.url}{path}', headers=headers, **kwargs)


def test_codearts_commit_email_flow(emu):
    emu.reset(DEMO)
    token = iam_token(emu).headers['X-Subject-Token']
    user = codearts(emu, 'GET', '/v4/user/emails', token).json()
    assert set(user) == {'id', 'name', 'username', 'state', 'created_at', 'updated_at', 'last_activity_on', 'commit_email', 'is_default'}
    assert user['commit_email'] == 'alice_iid@example.com' and user['is_default'] is True

    sent = codearts(emu, 'POST', '/v4/user/email-verify-code', token, json={'email': 'alice@acme.example'})
    assert sent.status_code == 201 and sent.json() == {'result': 'Verification Code Sent'}
    mail = emu.outbox()[-1]
    assert mail['kind'] == 'verify_code' and mail['to'] == 'alice@acme.example' and mail['user'] == 'alice'
    assert re.match(r'^[A-Z0-9]{6}$', mail['code'])

    wrong_code = 'AAAAAA' if mail['code'] != 'AAAAAA' else 'BBBBBB'
    wrong = codearts(emu, 'PUT', '/v4/user/emails', token, json={'email': 'alice@acme.example', 'verify_code': wrong_code})
    assert wrong.status_code == 400 and wrong.json()['error_code'] == 'CH.010001'
    missing = codearts(emu, 'PUT', '/v4/user/emails', token, json={'email': 'alice@acme.example'})
    assert missing.status_code == 400

    done = codearts(emu, 'PUT', '/v4/user/emails', token, json={'email': 'alice@acme.example', 'verify_code': mail['code']})
    assert done.status_code == 200
    assert done.json()['commit_email'] == 'alice@acme.example' and done.json()['is_default'] is False
    assert codearts(emu, 'GET', '/v4/user/emails').json()['commit_email'] == 'alice@acme.example'  # static token: same user

    reuse = codearts(emu, 'PUT', '/v4/user/emails', token, json={'email': 'alice@acme.example', 'verify_code': mail['code']})
    assert reuse.status_code == 400 and 'already been used' in reuse.json()['error_msg']


def test_codearts_refusals(emu):
    emu.reset(DEMO)
    codearts(emu, 'POST', '/v4/user/email-verify-code', json={'email': 'bob@acme.example'})
    code = emu.outbox()[-1]['code']
    taken = codearts(emu, 'PUT', '/v4/user/emails', json={'email': 'bob@acme.example', 'verify_code': code})
    assert taken.status_code == 400 and 'another user' in taken.json()['error_msg']
    for bad in ('not-an-email', 'a' * 195 + '@x.example'):
        response = codearts(emu, 'POST', '/v4/user/email-verify-code', json={'email': bad})
        assert response.status_code == 400 and response.json()['error_code'] == 'CH.010001'
    expired = {'error_code': 'DEV.00000003', 'error_msg': 'Authentication information expired.'}
    assert codearts(emu, 'GET', '/v4/user/emails', token=None).json() == expired
    assert codearts(emu, 'GET', '/v4/user/emails', token='bogus').status_code == 401
    unknown = codearts(emu, 'GET', '/v4/user/whatever')
    assert unknown.status_code == 404 and unknown.json()['error_code'] == 'APIGW.0101'
    emu.set_config(iam_token_ttl=0)
    stale = iam_token(emu).headers['X-Subject-Token']
    assert codearts(emu, 'GET', '/v4/user/emails', token=stale).status_code == 401


def test_every_response_has_request_id(emu, cloud):
    responses = [
        cloud.get(f'/users/{MARCUS}'), cloud.get(f'/users/{UNKNOWN}'), cloud.put(f'/users/{MARCUS}', {}),
        requests.get(f'{emu.url}/api/2/users/{MARCUS}'), iam_token(emu), iam_token(emu, password='x'),
        codearts(emu, 'GET', '/v4/user/emails'), codearts(emu, 'GET', '/v4/nope'), codearts(emu, 'GET', '/v4/user/emails', token=None),
        requests.get(f'{emu.url}/_emulator/state'),
    ]
    ids = [response.headers.get('X-Request-Id') for response in responses]
    assert all(ids) and len(set(ids)) == len(ids)
    logged = {entry['request_id'] for entry in emu.requests()}
    assert set(ids[:-1]) <= logged


# ------------------------------------------------------------------------------------------------------------
# Faults, request log, redaction, TLS

def test_fault_status_with_retry_after(emu, cloud, error_validator):
    emu.add_fault(method='GET', path='/users/', kind='status', status=429, retry_after='2', count=2)
    for _attempt in range(2):
        response = cloud.get(f'/users/{MARCUS}')
        assert_error(response, 429, error_validator)
        assert response.headers['Retry-After'] == '2'
    assert cloud.get(f'/users/{MARCUS}').status_code == 200
    assert cloud.put(f'/users/{MARCUS}', {'version': 2}).status_code == 200  # method filter
    emu.add_fault(path='/v4/', kind='status', status=503)
    response = codearts(emu, 'GET', '/v4/user/emails')
    assert response.status_code == 503 and 'error_code' in response.json()
    log = [entry for entry in emu.requests(api='cloud') if entry['path'].startswith('/api/2/users/')]
    assert [entry['fault'] for entry in log[:3]] == ['status', 'status', None]
    assert log[0]['status'] == 429


def test_fault_reset(emu, cloud):
    emu.add_fault(path='/users/', kind='reset')
    with pytest.raises(requests.exceptions.ConnectionError):
        cloud.get(f'/users/{MARCUS}')
    assert cloud.get(f'/users/{MARCUS}').status_code == 200
    assert emu.requests()[-2]['fault'] == 'reset' and emu.requests()[-2]['status'] is None


def test_fault_latency(emu, cloud):
    emu.add_fault(path='/users/', kind='latency', latency_ms=300)
    start = time.monotonic()
    assert cloud.get(f'/users/{MARCUS}').status_code == 200
    assert time.monotonic() - start >= 0.3
    assert emu.requests()[-1]['fault'] == 'latency'


@pytest.mark.parametrize('kind', ['html', 'empty', 'invalid_json', 'huge'])
def test_fault_broken_bodies(emu, cloud, kind):
    emu.add_fault(path='/users/', kind=kind)
    response = cloud.get(f'/users/{MARCUS}')
    if kind == 'html':
        assert response.status_code == 502 and response.headers['Content-Type'].startswith('text/html')
        assert '<html>' in response.text
    elif kind == 'empty':
        assert response.status_code == 200 and response.content == b''
    elif kind == 'invalid_json':
        assert response.status_code == 200
        with pytest.raises(ValueError):
            response.json()
    else:
        assert response.status_code == 200 and len(response.content) >= 20 * 1024 * 1024
    assert cloud.get(f'/users/{MARCUS}').json()['id'] == MARCUS


def test_fault_concurrent_modification(emu, cloud, error_validator):
    version = cloud.get(f'/users/{MARCUS}').json()['version']
    emu.add_fault(method='PUT', path=f'/users/{MARCUS}', kind='concurrent_modification', patch={'contact': {'phone': '+1 555 0100'}})
    assert_error(cloud.put(f'/users/{MARCUS}', {'version': version, 'enabled': False}), 409, error_validator, code=1001)
    user = cloud.get(f'/users/{MARCUS}').json()
    assert user['version'] == version + 1 and user['contact']['phone'] == '+1 555 0100' and user['enabled'] is True
    assert cloud.put(f'/users/{MARCUS}', {'version': version + 1, 'enabled': False}).status_code == 200


def test_fault_probability_is_seeded(emu, cloud):
    outcomes = []
    for _round in range(2):
        emu.clear_faults()
        emu.add_fault(path='/users/', kind='status', status=500, probability=0.3, seed=42)
        outcomes.append([cloud.get(f'/users/{MARCUS}').status_code for _i in range(40)])
    assert outcomes[0] == outcomes[1]
    assert 0 < outcomes[0].count(500) < 40
    emu.clear_faults()
    assert cloud.get(f'/users/{MARCUS}').status_code == 200


def test_patch_user_as_someone_else(emu, cloud):
    emu.patch_user(MARCUS, {'contact': {'city': 'Leeds'}, 'enabled': False})
    user = cloud.get(f'/users/{MARCUS}').json()
    assert user['version'] == 3 and user['contact']['city'] == 'Leeds' and user['enabled'] is False
    assert user['contact']['email'] == 'marcus.webb@globex.example'


def test_request_log_redacts_secrets(emu):
    emu.reset(DEMO)
    client = Cloud(emu.url)
    access_token = client.session.headers['Authorization'].split(' ', 1)[1]
    requests.post(f'{emu.url}/api/2/idp/token',
                  data={'grant_type': 'client_credentials', 'client_id': CLIENT_ID, 'client_secret': CLIENT_SECRET})
    requests.get(f'{emu.url}/api/2/users/{MARCUS}', params={'access_token': access_token})
    subject_token = iam_token(emu).headers['X-Subject-Token']
    codearts(emu, 'POST', '/v4/user/email-verify-code', subject_token, json={'email': 'alice@acme.example'})
    code = emu.outbox()[-1]['code']
    codearts(emu, 'PUT', '/v4/user/emails', subject_token, json={'email': 'alice@acme.example', 'verify_code': code})
    log = emu.requests()
    text = json.dumps(log)
    for secret in (CLIENT_SECRET, IAM_PASSWORD, access_token, subject_token, code, CODEARTS_TOKEN):
        assert secret not in text
    assert {'cloud', 'iam', 'codearts'} == {entry['api'] for entry in log}
    assert not any('authorization' in entry['headers'] or 'x-auth-token' in entry['headers'] for entry in log)
    form = [entry for entry in log if entry['path'] == '/api/2/idp/token'][1]['body']
    assert form == {'grant_type': 'client_credentials', 'client_id': CLIENT_ID, 'client_secret': '********'}
    assert not any(entry['path'].startswith('/_emulator') for entry in log)
    emu.clear_requests()
    assert emu.requests() == []


def test_https_with_generated_ca(emu):
    emu.reset(DEMO)
    client = Cloud(emu.https_url, verify=emu.ca_file)
    assert client.get(f'/users/{MARCUS}').status_code == 200
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f'{emu.https_url}/api/2/users/{MARCUS}', verify=emu.other_ca_file)
    localhost = emu.https_url.replace('127.0.0.1', 'localhost')
    assert requests.get(f'{localhost}/v4/user/emails', headers={'X-Auth-Token': CODEARTS_TOKEN}, verify=emu.ca_file).status_code == 200


def test_serve_and_stop_commands(tmp_path):
    ready = tmp_path / 'emulator.json'
    script = os.path.join(EMULATOR_DIR, 'harness.py')
    proc = subprocess.Popen([sys.executable, script, 'serve', '--ready-file', str(ready)])
    try:
        deadline = time.monotonic() + 20
        while not ready.exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        response = requests.post(f"{info['http']}/api/2/idp/token", data={'grant_type': 'client_credentials'}, auth=(CLIENT_ID, CLIENT_SECRET))
        assert response.status_code == 200
        subprocess.run([sys.executable, script, 'stop', '--ready-file', str(ready)], check=True, timeout=30)
        assert proc.wait(10) == 0
        assert not ready.exists()
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(info['http'] + '/_emulator/health', timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
