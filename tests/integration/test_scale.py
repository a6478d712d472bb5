"""Scale tests against the emulator: cloud_users over 1,000 accounts, cloud_user_info, token reuse,
action plugin / module parity and the cloud_users inventory plugin.

Every test counts the requests the emulator logged, because "one task, ten reads" is the point.
"""

from __future__ import annotations

import copy
import glob
import json
import math
import os
import subprocess
import sys

import pytest

from tests.emulator.harness import request_kinds
from tests.integration.playbooks import write_module_local_connection

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
MSP = 'cc6f6ef1-7d48-4da2-9cdf-3473ba866f4a'      # the demo API client's own tenant
GLOBEX = 'c43cda73-2ee8-41fa-8f29-820d0e70a5c1'   # a customer under it
INITECH = '4ca1e001-9ed2-4a53-a8f0-61c0efa2402b'  # another partner, outside the client's reach
JANE = '6c5f167d-bcb4-41f9-8958-39a366ecee7f'     # demo account: activated, login jane.cooper
PRIYA = '6e558353-dc84-4d01-bd04-8ef3c64898ec'    # demo account: not activated, login priya.shah
SECRET_ENV = ('ACRONIS_BASE_URL', 'ACRONIS_CLIENT_ID', 'ACRONIS_CLIENT_SECRET')


# -- helpers ---------------------------------------------------------------------------------------------------

def scale_state(demo_state, count, tenant_id=GLOBEX, keep_demo_users=False, **generate):
    """The demo tenants and API client, with `count` generated accounts (user00001, ...), every second one activated."""
    state = copy.deepcopy(demo_state)
    if not keep_demo_users:
        state['users'] = []
    spec = {'count': count, 'tenant_id': tenant_id, 'login_prefix': 'user', 'activated_every': 2, 'seed': 1}
    spec.update(generate)
    state['generate_users'] = spec
    return state


def accounts(emulator):
    """Every account the emulator holds, in creation order."""
    return emulator.state()['users']


def kinds(log):
    """Requests of the cloud API by kind: token, read (GET), write (anything else)."""
    counts = request_kinds(log)
    del counts['errors']
    return counts


def batch_reads(log):
    return [e for e in log if e['method'] == 'GET' and e['path'] == '/api/2/users' and 'uuids' in e['query']]


def listings(log):
    return [e for e in log if e['method'] == 'GET' and e['path'] == '/api/2/users' and 'uuids' not in e['query']]


def puts(log):
    return [e for e in log if e['method'] == 'PUT']


def playbook(tasks, cloud=None, hosts='localhost', name='scale'):
    play = {'name': name, 'hosts': hosts, 'gather_facts': False, 'tasks': tasks}
    if cloud:
        play['module_defaults'] = {'group/accountops.cloud.cloud': cloud}
    return json.dumps([play], indent=1)


def unwrap(value):
    """ansible-inventory 2.19 marks untrusted strings as {"__ansible_unsafe": ...} in its JSON; 2.16 does not."""
    if isinstance(value, dict):
        if set(value) == {'__ansible_unsafe'}:
            return value['__ansible_unsafe']
        return dict((key, unwrap(item)) for key, item in value.items())
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


def collection_env(tmp_path, extra=None):
    """The environment run_playbook gives ansible-playbook, for ansible-inventory."""
    env = dict((key, value) for key, value in os.environ.items() if not key.startswith(('ACRONIS_', 'CODEARTS_', 'HUAWEICLOUD_')))
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': os.path.abspath(os.environ.get('ACCOUNTOPS_COLLECTIONS_ROOT') or os.path.join(REPO_ROOT, 'build')),
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible-tmp'),
        'XDG_CACHE_HOME': str(tmp_path / 'xdg-cache'),
    })
    env.pop('ANSIBLE_CONFIG', None)
    env.update(extra or {})
    return env


def ansible_inventory(tmp_path, source, env):
    command = [os.path.join(os.path.dirname(sys.executable), 'ansible-inventory'), '-i', source, '--list']
    proc = subprocess.run(command, env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return unwrap(json.loads(proc.stdout)), proc


def group_hosts(listing, group):
    return sorted(listing.get(group, {}).get('hosts', []))


# -- cloud_users at scale --------------------------------------------------------------------------------------

def test_cloud_users_1000_accounts_exact_request_counts(emulator, demo_state, run_playbook, cloud_auth, tmp_path):
    count = 1000
    emulator.reset(scale_state(demo_state, count))
    users = accounts(emulator)
    assert len(users) == count
    # Every tenth account gets a new first name and title; the others are asked for what they already have.
    wanted = []
    for index, user in enumerate(users):
        if index % 10 == 0:
            wanted.append({'user_id': user['id'], 'contact': {'firstname': 'Renamed%d' % index, 'title': 'Engineer'}})
        else:
            wanted.append({'user_id': user['id'], 'contact': {'firstname': user['contact']['firstname']}})
    changed_ids = set(users[index]['id'] for index in range(0, count, 10))
    book = playbook([{'name': 'Bulk', 'accountops.cloud.cloud_users': {'users': '{{ wanted }}'}}], cloud=cloud_auth)
    env = {'XDG_CACHE_HOME': str(tmp_path / 'cache')}

    emulator.clear_requests()
    run = run_playbook(book, extra_vars={'wanted': wanted}, env=env).assert_ok()
    result = run.task('Bulk')
    log = emulator.requests()
    assert result['changed'] is True
    assert result['summary'] == {'total': count, 'changed': count // 10, 'pending_confirmation': 0, 'failed': 0}
    assert [(item['index'], item['user_id']) for item in result['results']] == [(i, user['id']) for i, user in enumerate(users)]
    assert [item['login'] for item in result['results']] == [user['login'] for user in users]
    assert set(item['user_id'] for item in result['results'] if item['changed']) == changed_ids
    assert result['results'][10]['diff'] == {
        'before': {'contact': {'firstname': users[10]['contact']['firstname'], 'title': ''}},
        'after': {'contact': {'firstname': 'Renamed10', 'title': 'Engineer'}}}

    # exactly ceil(N/100) batch reads, one PUT per changed account, at most one token, nothing else
    assert kinds(log) == {'token': 1, 'read': math.ceil(count / 100), 'write': count // 10}, kinds(log)
    reads = batch_reads(log)
    assert len(reads) == math.ceil(count / 100)
    assert sorted(uid for entry in reads for uid in entry['query']['uuids'].split(',')) == sorted(user['id'] for user in users)
    writes = puts(log)
    assert sorted(entry['path'].rsplit('/', 1)[1] for entry in writes) == sorted(changed_ids)
    first = next(entry for entry in writes if entry['path'].endswith(users[10]['id']))
    assert first['body'] == {'contact': {'firstname': 'Renamed10', 'title': 'Engineer'}, 'version': 1}
    assert all(entry['status'] == 200 for entry in log)
    after = dict((user['id'], user) for user in accounts(emulator))
    assert after[users[10]['id']]['contact']['firstname'] == 'Renamed10'
    assert after[users[10]['id']]['version'] == 2
    assert after[users[11]['id']]['version'] == 1

    # The re-check reads the same ten batches, writes nothing and reuses the cached token.
    emulator.clear_requests()
    again = run_playbook(book, extra_vars={'wanted': wanted}, env=env).assert_ok()
    assert again.task('Bulk')['changed'] is False
    assert again.task('Bulk')['summary']['changed'] == 0
    assert kinds(emulator.requests()) == {'token': 0, 'read': math.ceil(count / 100), 'write': 0}


def test_cloud_users_many_logins_use_one_tenant_listing(emulator, demo_state, run_playbook, cloud_auth):
    emulator.reset(scale_state(demo_state, 300))
    users = accounts(emulator)
    wanted = [{'login': user['login'], 'state': 'enabled'} for user in users[:40]]
    wanted[5] = {'login': users[5]['login'], 'state': 'disabled'}
    book = playbook([{'name': 'By login', 'accountops.cloud.cloud_users': {'users': '{{ wanted }}'}}], cloud=cloud_auth)

    run = run_playbook(book, extra_vars={'wanted': wanted}).assert_ok()
    result = run.task('By login')
    log = emulator.requests()
    assert result['summary'] == {'total': 40, 'changed': 1, 'pending_confirmation': 0, 'failed': 0}
    assert [item['user_id'] for item in result['results']] == [user['id'] for user in users[:40]]
    # one GET /clients/{id} (the client's tenant), one page of the tenant, no search, no batch read
    assert [(e['method'], e['path']) for e in log if e['method'] == 'GET'] == [
        ('GET', '/api/2/clients/%s' % cloud_auth['client_id']), ('GET', '/api/2/users')]
    assert listings(log)[0]['query']['subtree_root_tenant_id'] == MSP
    assert [e['path'] for e in puts(log)] == ['/api/2/users/%s' % users[5]['id']]


def test_cloud_users_results_in_input_order_with_per_account_errors(emulator, demo_state, run_playbook, cloud_auth):
    emulator.reset(demo_state)
    unknown = '00000000-0000-4000-8000-000000000000'
    wanted = [
        {'user_id': PRIYA, 'contact': {'city': 'Pune'}},                 # 0 changes
        {'user_id': unknown, 'state': 'disabled'},                       # 1 no such account
        {'login': 'nobody.here', 'state': 'enabled'},                    # 2 no such login
        {'login': 'jane.cooper', 'email': 'not-an-email'},               # 3 refused before any request
        {'login': 'priya.shah', 'state': 'enabled'},                     # 4 same account as 0
        {'user_id': JANE},                                               # 5 nothing to manage
        {'login': 'jane.cooper', 'contact': {'firstname': 'Jane'}},      # 6 already so
        {'login': 'li.wei', 'state': 'disabled', 'colour': 'blue'},      # 7 unknown key
    ]
    book = playbook([{'name': 'Mixed', 'accountops.cloud.cloud_users': {'users': '{{ wanted }}'}, 'ignore_errors': True}],
                    cloud=cloud_auth)

    run = run_playbook(book, extra_vars={'wanted': wanted}).assert_ok()
    record = run.record('Mixed')
    result = record['result']
    assert record['status'] == 'failed'
    assert [item['index'] for item in result['results']] == list(range(len(wanted)))
    errors = [item['error'] for item in result['results']]
    assert errors[0] is None and errors[6] is None
    assert 'no account with user_id %s' % unknown in errors[1]
    assert "no account with login 'nobody.here'" in errors[2]
    assert 'users[3].email must be a valid email address' in errors[3]
    assert 'already listed as users[0]' in errors[4]
    assert 'sets nothing to manage' in errors[5]
    assert 'unknown keys colour' in errors[7]
    assert [item['changed'] for item in result['results']] == [True] + [False] * 7
    assert result['summary'] == {'total': 8, 'changed': 1, 'pending_confirmation': 0, 'failed': 6}
    assert result['msg'].startswith('6 of 8 accounts failed: ')
    for name in (unknown, 'nobody.here', 'jane.cooper (', 'priya.shah (', JANE, 'users[7] ('):
        assert name in result['msg'], name
    # the good entry was written despite the others
    assert [e['path'] for e in puts(emulator.requests())] == ['/api/2/users/%s' % PRIYA]
    assert emulator.user(PRIYA)['contact']['city'] == 'Pune'


def test_cloud_users_check_mode_and_diff(emulator, demo_state, run_playbook, cloud_auth):
    emulator.reset(demo_state)
    wanted = [
        {'login': 'priya.shah', 'contact': {'city': 'Pune'}, 'state': 'disabled'},
        {'login': 'jane.cooper', 'email': 'jane@new.example', 'if_activated': 'skip'},
        {'login': 'marcus.webb', 'contact': {'firstname': 'Marcus'}},
    ]
    book = playbook([{'name': 'Bulk', 'accountops.cloud.cloud_users': {'users': '{{ wanted }}'}}], cloud=cloud_auth)
    expected_diff = {'before': {'priya.shah': {'contact': {'city': ''}, 'state': 'enabled'}},
                     'after': {'priya.shah': {'contact': {'city': 'Pune'}, 'state': 'disabled'}}}

    check = run_playbook(book, extra_vars={'wanted': wanted}, check=True, diff=True).assert_ok()
    result = check.task('Bulk')
    assert result['changed'] is True
    assert result['diff'] == expected_diff
    assert result['results'][0]['diff'] == {'before': {'contact': {'city': ''}, 'state': 'enabled'},
                                            'after': {'contact': {'city': 'Pune'}, 'state': 'disabled'}}
    assert [item['changed'] for item in result['results']] == [True, False, False]
    assert '"priya.shah"' in check.stdout and '"Pune"' in check.stdout  # the diff is shown
    assert kinds(emulator.requests())['write'] == 0
    assert emulator.user(PRIYA)['enabled'] is True

    real = run_playbook(book, extra_vars={'wanted': wanted}, diff=True).assert_ok()
    assert real.task('Bulk')['diff'] == expected_diff
    assert emulator.user(PRIYA)['enabled'] is False and emulator.user(PRIYA)['contact']['city'] == 'Pune'
    emulator.clear_requests()
    again = run_playbook(book, extra_vars={'wanted': wanted}, diff=True).assert_ok()
    assert again.task('Bulk')['changed'] is False
    assert again.task('Bulk')['diff'] == {'before': {}, 'after': {}}
    assert kinds(emulator.requests())['write'] == 0
    # without --diff there is no task-level diff
    plain = run_playbook(book, extra_vars={'wanted': wanted}).assert_ok()
    assert 'diff' not in plain.task('Bulk')


# -- cloud_user_info -------------------------------------------------------------------------------------------

def test_cloud_user_info_by_ids_logins_and_tenant_with_paging(emulator, demo_state, run_playbook, cloud_auth):
    count = 2500
    emulator.reset(scale_state(demo_state, count, keep_demo_users=True))
    generated = [user for user in accounts(emulator) if user['login'].startswith('user')]
    missing_id = '00000000-0000-4000-8000-000000000001'
    ids = [user['id'] for user in generated[:250]][::-1] + [missing_id]
    logins = [user['login'] for user in generated[1000:1050]] + ['nobody.here']
    book = playbook([
        {'name': 'By ids', 'accountops.cloud.cloud_user_info': {'user_ids': '{{ ids }}'}},
        {'name': 'By logins', 'accountops.cloud.cloud_user_info': {'logins': '{{ logins }}'}},
        {'name': 'By tenant', 'accountops.cloud.cloud_user_info': {'tenant_id': GLOBEX}},
    ], cloud=cloud_auth)

    emulator.clear_requests()
    run = run_playbook(book, extra_vars={'ids': ids, 'logins': logins}, check=True).assert_ok()
    log = emulator.requests()
    assert kinds(log)['write'] == 0

    by_ids = run.task('By ids')
    assert by_ids['changed'] is False
    assert [user['id'] for user in by_ids['users']] == ids[:-1]  # input order
    assert by_ids['missing'] == [missing_id]
    assert [len(e['query']['uuids'].split(',')) for e in batch_reads(log)] == [100, 100, 51]

    by_logins = run.task('By logins')
    assert [user['login'] for user in by_logins['users']] == logins[:-1]
    assert by_logins['missing'] == ['nobody.here']
    assert not [e for e in log if e['path'] == '/api/2/search']

    by_tenant = run.task('By tenant')
    assert len(by_tenant['users']) == count + 4  # the generated accounts and the demo accounts of Globex
    assert len(set(user['id'] for user in by_tenant['users'])) == count + 4
    assert set(user['tenant_id'] for user in by_tenant['users']) == {GLOBEX}
    pages = listings(log)
    # logins: one listing of the client's tenant (3 pages of 1000); tenant: Globex (3 pages)
    assert [e['query'].get('subtree_root_tenant_id') for e in pages] == [MSP, None, None, GLOBEX, None, None]
    assert all('after' in e['query'] for e in pages if 'subtree_root_tenant_id' not in e['query'])
    assert kinds(log) == {'token': 1, 'read': 3 + 1 + 6, 'write': 0}


# -- token reuse ---------------------------------------------------------------------------------------------

def fifty_tasks():
    tasks = []
    for index in range(50):
        kind = index % 5
        if kind == 0:
            tasks.append({'name': 't%d' % index, 'accountops.cloud.cloud_user_contact': {'user_id': PRIYA, 'contact': {'title': 'T%d' % index}}})
        elif kind == 1:
            tasks.append({'name': 't%d' % index, 'accountops.cloud.cloud_user_state': {'user_id': PRIYA, 'state': 'enabled'}})
        elif kind == 2:
            tasks.append({'name': 't%d' % index, 'accountops.cloud.cloud_user_info': {'user_ids': [PRIYA, JANE]}})
        elif kind == 3:
            tasks.append({'name': 't%d' % index, 'accountops.cloud.cloud_users': {'users': [{'user_id': JANE, 'contact': {'firstname': 'Jane'}}]}})
        else:
            tasks.append({'name': 't%d' % index, 'accountops.cloud.cloud_user_email': {'user_id': PRIYA, 'email': 'priya.shah@initech.example'}})
    return tasks


def test_fifty_tasks_make_one_token_request(emulator, demo_state, run_playbook, cloud_auth):
    emulator.reset(demo_state)
    run = run_playbook(playbook(fifty_tasks(), cloud=cloud_auth)).assert_ok()
    assert len(run.results) == 50
    log = emulator.requests()
    assert kinds(log)['token'] == 1
    assert not [e for e in log if e['status'] == 401]


def test_without_token_cache_each_task_asks_for_a_token(emulator, demo_state, run_playbook, cloud_auth, tmp_path):
    emulator.reset(demo_state)
    cache_home = tmp_path / 'xdg'
    run = run_playbook(playbook(fifty_tasks(), cloud=dict(cloud_auth, token_cache=False)),
                       env={'XDG_CACHE_HOME': str(cache_home)}).assert_ok()
    assert len(run.results) == 50
    assert kinds(emulator.requests())['token'] == 50
    assert not os.path.exists(str(cache_home / 'accountops.cloud'))


def test_revoked_token_in_the_cache_is_dropped_and_renewed_once(emulator, demo_state, run_playbook, cloud_auth, tmp_path):
    emulator.reset(demo_state)
    env = {'XDG_CACHE_HOME': str(tmp_path / 'xdg')}
    book = playbook(fifty_tasks()[:10], cloud=cloud_auth)
    run_playbook(book, env=env).assert_ok()
    assert kinds(emulator.requests())['token'] == 1
    files = glob.glob(str(tmp_path / 'xdg' / 'accountops.cloud' / 'tokens' / '*.json'))
    assert len(files) == 1
    with open(files[0], encoding='utf-8') as handle:
        old = json.load(handle)
    assert set(old) == {'access_token', 'expires_on'}
    assert cloud_auth['client_secret'] not in json.dumps(old)

    emulator.reset(demo_state)  # forgets every token it issued: the cached one is now refused
    run = run_playbook(book, env=env).assert_ok()
    assert len(run.results) == 10
    log = emulator.requests()
    assert kinds(log)['token'] == 1
    assert [e['status'] for e in log if e['status'] == 401] == [401]  # one refusal, then every task uses the new token
    first_401 = next(e['seq'] for e in log if e['status'] == 401)
    token_seq = next(e['seq'] for e in log if e['path'].endswith('/idp/token'))
    assert first_401 < token_seq
    with open(files[0], encoding='utf-8') as handle:
        assert json.load(handle)['access_token'] != old['access_token']

    emulator.clear_requests()
    run_playbook(book, env=env).assert_ok()
    assert kinds(emulator.requests())['token'] == 0


# -- action plugin and module give the same result -------------------------------------------------------------

def parity_tasks(cloud_auth):
    secret = cloud_auth['client_secret']
    return [
        {'name': 'Info', 'accountops.cloud.cloud_user_info': dict(cloud_auth, user_ids=[PRIYA, JANE], logins=['nobody.here'])},
        {'name': 'Bulk', 'accountops.cloud.cloud_users': dict(cloud_auth, users=[
            {'login': 'jane.cooper', 'email': 'jane@new.example'},            # activated: mailed, warning
            {'user_id': PRIYA, 'contact': {'city': 'Pune'}},
            {'login': 'nobody.here', 'state': 'enabled'},                      # fails
        ]), 'ignore_errors': True},
        {'name': 'Contact', 'accountops.cloud.cloud_user_contact': dict(cloud_auth, login='priya.shah', contact={'title': secret})},
        {'name': 'Bad option', 'accountops.cloud.cloud_user_state': dict(cloud_auth, user_id=PRIYA, state='gone'),
         'ignore_errors': True},
    ]


def comparable(result):
    """What must be the same whichever way the task ran (time stamps set by the emulator's reset aside)."""
    drop = ('_ansible_no_log', '_ansible_delegated_vars', '_ansible_verbose_always', '_ansible_verbose_override',
            'ansible_facts', 'deprecations', 'exception', '_ansible_parsed')

    def strip(value):
        if isinstance(value, dict):
            return dict((key, strip(item)) for key, item in value.items() if key not in ('created_at', 'updated_at'))
        if isinstance(value, list):
            return [strip(item) for item in value]
        return value

    return strip(dict((key, value) for key, value in result.items() if key not in drop))


def test_action_plugin_and_module_give_the_same_results(emulator, demo_state, run_playbook, cloud_auth, tmp_path):
    plugins = write_module_local_connection(tmp_path)
    state = copy.deepcopy(demo_state)
    # A no_log value that also shows up in the API's answers must be masked in both
    secret = cloud_auth['client_secret']
    next(user for user in state['users'] if user['id'] == JANE)['contact']['title'] = secret
    book = playbook(parity_tasks(cloud_auth))
    runs = {}
    for connection in ('local', 'module_local'):
        emulator.reset(state)
        inventory = 'localhost ansible_connection=%s ansible_python_interpreter=%s\n' % (connection, sys.executable)
        run = run_playbook(book, inventory=inventory, diff=True, verbosity=3,
                           env={'ANSIBLE_CONNECTION_PLUGINS': str(plugins)}).assert_ok()
        runs[connection] = run
        assert kinds(emulator.requests())['write'] == 3, connection  # jane's email, priya's city, priya's title
    # the module really ran in its own process only on the other connection
    assert 'AnsiballZ_cloud_users.py' in runs['module_local'].stdout
    assert 'AnsiballZ_' not in runs['local'].stdout

    for name in ('Info', 'Bulk', 'Contact', 'Bad option'):
        action, module = runs['local'].task(name), runs['module_local'].task(name)
        assert sorted(comparable(action)) == sorted(comparable(module)), name
        assert comparable(action) == comparable(module), name
        assert action.get('warnings') == module.get('warnings'), name
        assert secret not in json.dumps(action) and secret not in json.dumps(module), name
    info = runs['local'].task('Info')
    assert next(user for user in info['users'] if user['id'] == JANE)['contact']['title'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'
    assert info['invocation']['module_args']['client_secret'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'
    bulk = runs['local'].task('Bulk')
    assert runs['local'].status('Bulk') == runs['module_local'].status('Bulk') == 'failed'
    assert 'nobody.here' in bulk['msg']
    assert any('confirmation link' in warning for warning in bulk['warnings'])
    assert 'value of state must be one of' in runs['local'].task('Bad option')['msg']
    for run in runs.values():
        assert secret not in run.stdout and secret not in run.stderr


# -- the inventory plugin ----------------------------------------------------------------------------------------

def write_source(tmp_path, name='accounts.cloud_users.yml', **options):
    config = {'plugin': 'accountops.cloud.cloud_users'}
    config.update(options)
    path = tmp_path / name
    path.write_text(json.dumps(config, indent=1))
    return str(path)


def auth_env(cloud_auth):
    return {'ACRONIS_BASE_URL': cloud_auth['base_url'], 'ACRONIS_CLIENT_ID': cloud_auth['client_id'],
            'ACRONIS_CLIENT_SECRET': cloud_auth['client_secret']}


def test_inventory_list_over_tls(emulator, demo_state, cloud_auth_tls, tmp_path):
    state = scale_state(demo_state, 30, keep_demo_users=True, disabled_every=3)
    state['users'].append({'id': '0d6c0b43-1111-4d3a-9f7e-0123456789ab', 'tenant_id': INITECH, 'login': 'outsider'})
    emulator.reset(state)
    source = write_source(
        tmp_path, ca_path=cloud_auth_tls['ca_path'],
        keyed_groups=[{'key': 'cloud_contact.lastname | lower', 'prefix': 'lastname'}],
        groups={'to_activate': 'cloud_enabled and not cloud_activated'},
        compose={'corp_email': "cloud_login ~ '@corp.example'"})
    env = collection_env(tmp_path, auth_env(cloud_auth_tls))
    listing, proc = ansible_inventory(tmp_path, source, env)

    hostvars = listing['_meta']['hostvars']
    everyone = [user for user in accounts(emulator) if user['tenant_id'] != INITECH]
    assert sorted(hostvars) == sorted(user['login'] for user in everyone)  # demo accounts under MSP, and the 30
    assert 'outsider' not in hostvars
    jane = hostvars['jane.cooper']
    assert jane['ansible_connection'] == 'local'
    assert (jane['cloud_user_id'], jane['cloud_login'], jane['cloud_tenant_id']) == (JANE, 'jane.cooper', MSP)
    assert jane['cloud_email'] == 'jane.cooper@acme-msp.example'
    assert jane['cloud_enabled'] is True and jane['cloud_activated'] is True
    assert jane['cloud_contact']['firstname'] == 'Jane'
    assert isinstance(jane['cloud_version'], int)
    assert jane['corp_email'] == 'jane.cooper@corp.example'
    generated = sorted(user['login'] for user in everyone if user['login'].startswith('user'))
    assert group_hosts(listing, 'cloud_tenant_' + GLOBEX.replace('-', '_'))[-30:] == generated
    assert group_hosts(listing, 'cloud_disabled') == sorted(
        [user['login'] for user in everyone if not user['enabled']])
    assert 'user00003' in group_hosts(listing, 'cloud_disabled')
    assert group_hosts(listing, 'cloud_activated') == sorted(user['login'] for user in everyone if user['activated'])
    assert 'user00001' in group_hosts(listing, 'to_activate') and 'user00002' not in group_hosts(listing, 'to_activate')
    assert 'jane.cooper' in group_hosts(listing, 'lastname_cooper')
    assert len(group_hosts(listing, 'cloud_accounts')) == len(everyone)
    # no secret and no token in the output
    assert cloud_auth_tls['client_secret'] not in proc.stdout + proc.stderr
    assert not [key for host in hostvars.values() for key in host if 'secret' in key or 'token' in key]
    log = emulator.requests()
    assert kinds(log) == {'token': 1, 'read': 2, 'write': 0}  # GET /clients/{id}, one page of users
    assert listings(log)[0]['query'] == {'subtree_root_tenant_id': MSP, 'limit': '1000', 'lod': 'full'}


def test_inventory_cache_holds_no_secret(emulator, demo_state, run_playbook, cloud_auth, tmp_path):
    emulator.reset(demo_state)
    cache_dir = tmp_path / 'inventory-cache'
    source = write_source(tmp_path, tenant_id=GLOBEX, include_disabled=False, cache=True,
                          cache_plugin='ansible.builtin.jsonfile', cache_connection=str(cache_dir))
    env = collection_env(tmp_path, auth_env(cloud_auth))
    first, _proc = ansible_inventory(tmp_path, source, env)
    assert sorted(first['_meta']['hostvars']) == ['li.wei', 'marcus.webb', 'priya.shah']  # tom.eriksen is disabled
    assert kinds(emulator.requests()) == {'token': 1, 'read': 1, 'write': 0}
    stored = ''.join(open(path, encoding='utf-8').read() for path in glob.glob(str(cache_dir / '*')))
    assert 'marcus.webb' in stored
    tokens = glob.glob(str(tmp_path / 'xdg-cache' / 'accountops.cloud' / 'tokens' / '*.json'))
    with open(tokens[0], encoding='utf-8') as handle:
        token = json.load(handle)['access_token']
    assert cloud_auth['client_secret'] not in stored and token not in stored
    assert 'secret' not in stored.lower() and 'token' not in stored.lower()

    emulator.clear_requests()
    second, _proc = ansible_inventory(tmp_path, source, env)
    assert unwrap(second['_meta']) == unwrap(first['_meta'])
    assert emulator.requests() == []  # served from the cache
    # --flush-cache (ansible-playbook's; ansible-inventory 2.16 lacks it) lists the accounts again
    refresh = run_playbook(playbook([{'name': 'Count', 'ansible.builtin.set_fact': {'n': '{{ groups.cloud_accounts | length }}'}}],
                                    hosts='cloud_accounts[0]'), inventory=source, env=auth_env(cloud_auth), args=['--flush-cache'])
    refresh.assert_ok()
    assert refresh.task('Count')['ansible_facts']['n'] in (3, '3')
    assert kinds(emulator.requests())['read'] == 1


def test_play_over_inventory_hosts(emulator, demo_state, run_playbook, cloud_auth, tmp_path):
    count = 60
    emulator.reset(scale_state(demo_state, count))
    source = write_source(tmp_path, tenant_id=GLOBEX)
    new_titles = dict(('user%05d' % index, 'Title %d' % index) for index in range(1, count + 1, 10))
    book = playbook([
        {'name': 'Title', 'accountops.cloud.cloud_user_contact': {
            'user_id': '{{ cloud_user_id }}',
            'contact': {'title': "{{ new_titles[cloud_login] | default(cloud_contact.title) }}"}}},
        {'name': 'Where', 'ansible.builtin.command': 'echo {{ inventory_hostname }}', 'changed_when': False,
         'when': "inventory_hostname == 'user00001'"},
    ], hosts='cloud_enabled')
    env = auth_env(cloud_auth)

    emulator.clear_requests()
    run = run_playbook(book, inventory=source, extra_vars={'new_titles': new_titles}, env=env).assert_ok()
    titles = run.tasks('Title')
    assert len(titles) == count
    assert sorted(r['host'] for r in titles if r['status'] == 'changed') == sorted(new_titles)
    log = emulator.requests()
    # the inventory and all 60 tasks share one token; one listing page, one read per host, one write per change
    assert kinds(log) == {'token': 1, 'read': 1 + count, 'write': len(new_titles)}
    assert run.task('Where', host='user00001')['stdout'] == 'user00001'
    for login, title in new_titles.items():
        user = next(user for user in accounts(emulator) if user['login'] == login)
        assert user['contact']['title'] == title
    assert cloud_auth['client_secret'] not in run.stdout

    emulator.clear_requests()
    again = run_playbook(book, inventory=source, extra_vars={'new_titles': new_titles}, env=env).assert_ok()
    assert again.changed == 0
    assert kinds(emulator.requests())['write'] == 0


def test_one_cloud_users_task_per_slice(emulator, demo_state, run_playbook, cloud_auth, tmp_path):
    """The docs/awx-job-slicing.md pattern: desired state composed by the inventory, one run_once task per slice."""
    emulator.reset(scale_state(demo_state, 60))
    source = write_source(tmp_path, tenant_id=GLOBEX,
                          compose={'cloud_desired': "{'user_id': cloud_user_id, 'contact': {'language': 'en'}}"})
    book = playbook([{'name': 'Slice', 'run_once': True, 'register': 'sync', 'accountops.cloud.cloud_users': {
        'if_activated': 'skip', 'users': "{{ ansible_play_hosts | map('extract', hostvars, 'cloud_desired') | list }}"}}],
        hosts='cloud_accounts')
    # An AWX slice job sees a subset of the hosts; --limit stands in for it here.
    run = run_playbook(book, inventory=source, env=auth_env(cloud_auth), args=['--limit', 'cloud_accounts[0:19]']).assert_ok()
    assert len(run.tasks('Slice')) == 1
    result = run.task('Slice')
    assert result['summary'] == {'total': 20, 'changed': 20, 'pending_confirmation': 0, 'failed': 0}
    log = emulator.requests()
    assert kinds(log) == {'token': 1, 'read': 1 + 1, 'write': 20}  # the inventory's listing, one batch read
    changed = set(entry['path'].rsplit('/', 1)[1] for entry in puts(log))
    assert changed == set(item['user_id'] for item in result['results'])
    assert all(entry['body']['contact'] == {'language': 'en'} for entry in puts(log))


@pytest.mark.parametrize('bad', ['no_url', 'wrong_secret'])
def test_inventory_errors_are_clear(emulator, demo_state, cloud_auth, tmp_path, bad):
    emulator.reset(demo_state)
    env = collection_env(tmp_path, auth_env(cloud_auth))
    if bad == 'no_url':
        env.pop('ACRONIS_BASE_URL')
    else:
        env['ACRONIS_CLIENT_SECRET'] = 'wrong-secret-value'
    source = write_source(tmp_path)
    command = [os.path.join(os.path.dirname(sys.executable), 'ansible-inventory'), '-i', source, '--list']
    proc = subprocess.run(command, env=dict(env, ANSIBLE_INVENTORY_UNPARSED_FAILED='True'), cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode != 0
    expected = 'base_url is required' if bad == 'no_url' else 'HTTP 401'
    assert expected in proc.stderr, proc.stderr
    assert 'wrong-secret-value' not in proc.stderr + proc.stdout
