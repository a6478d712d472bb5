"""Guarantee 4 of issue 5: secrets never appear in any output channel, the token cache holds only the token.

The emulator is loaded with fresh random secrets (client_secret, IAM password, CodeArts token); a full run of
every module, failures included, at -vvv with --diff, then a check-mode run and the second CodeArts step with the
mailed verify_code, then each module run as a plain module process. Every output channel is searched for every
secret: stdout, stderr, the Ansible log file, the callback's task results, every file the runs left behind, the
token cache and the inventory cache. The cloud access token the emulator issued is read from the token cache
(the one place it may be); IAM tokens are recognised by their shape.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import stat
import subprocess
import sys
import urllib.parse
import urllib.request

import pytest

from tests.integration.playbooks import collections_root, record_figures

DEMO_CLIENT_ID = '3663410d-4b70-4860-860c-8db82bffab8e'
JANE = '6c5f167d-bcb4-41f9-8958-39a366ecee7f'    # activated
PRIYA = '6e558353-dc84-4d01-bd04-8ef3c64898ec'   # not activated
TOM = '00f10a4e-5e2d-40f8-8fb7-46966b8297d4'     # disabled
BILL = 'cf81a815-1827-4f25-9c62-20f7d67dce4e'    # only the 'Overloaded API fails' task reads this one
MISSING = '0badc0de-0000-4000-8000-000000000000'
IAM_TOKEN_SHAPE = re.compile(r'MII[A-Za-z0-9_-]{60,}')
MODULES = ('cloud_user_email', 'cloud_user_contact', 'cloud_user_state', 'cloud_users', 'cloud_user_info', 'codearts_user_email')


@pytest.fixture
def secret_values():
    tag = secrets.token_hex(6)
    return {
        'client_secret': 'cs-%s-%s' % (tag, secrets.token_hex(12)),
        'wrong_client_secret': 'wrong-cs-%s' % secrets.token_hex(12),
        'iam_password': 'iam-pw-%s-%s' % (tag, secrets.token_hex(12)),
        'codearts_token': 'ca-token-%s-%s' % (tag, secrets.token_hex(12)),
        'wrong_verify_code': 'ZX%s' % secrets.token_hex(4).upper(),
    }


@pytest.fixture
def secret_state(emulator, demo_state, secret_values):
    demo_state['clients'][0]['client_secret'] = secret_values['client_secret']
    demo_state['codearts']['iam_users'][0]['password'] = secret_values['iam_password']
    demo_state['codearts']['tokens'] = {secret_values['codearts_token']: 'alice'}
    emulator.reset(demo_state)
    return emulator


def fetch_token(emulator, client_secret):
    """An access token obtained outside Ansible, handed to a task with access_token (as AWX might)."""
    data = urllib.parse.urlencode({'grant_type': 'client_credentials'}).encode()
    request = urllib.request.Request(emulator.url + '/api/2/idp/token', data=data, method='POST')
    request.add_header('Content-Type', 'application/x-www-form-urlencoded')
    request.add_header('Authorization', 'Basic ' + base64.b64encode(('%s:%s' % (DEMO_CLIENT_ID, client_secret)).encode()).decode())
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())['access_token']


def token_cache_dir(xdg):
    return os.path.join(xdg, 'accountops.cloud', 'tokens')


def token_cache_file(xdg, base_url, client_secret):
    """Where the modules keep the token for this API client (the collection's own code computes the name)."""
    if collections_root() not in sys.path:
        sys.path.insert(0, collections_root())
    from ansible_collections.accountops.cloud.plugins.module_utils._token_cache import FileTokenCache  # pylint: disable=import-outside-toplevel
    cache = FileTokenCache(token_cache_dir(xdg))
    return cache._path(base_url.rstrip('/') + '/api/2', DEMO_CLIENT_ID, client_secret)  # pylint: disable=protected-access


def t(name, module, **args):
    return {'name': name, 'accountops.cloud.' + module: args, 'ignore_errors': True}


def full_run_playbook():
    """Every module, successes and failures; secrets come in as extra vars, as from an AWX credential."""
    cloud = {'base_url': '{{ base_url }}', 'client_id': '{{ client_id }}', 'client_secret': '{{ client_secret }}'}
    codearts = {'endpoint': '{{ base_url }}', 'auth_token': '{{ codearts_token }}'}
    iam = {'endpoint': '{{ base_url }}', 'iam_endpoint': '{{ base_url }}', 'user_name': 'alice', 'password': '{{ iam_password }}',
           'domain_name': 'acme', 'project_name': 'cn-north-4'}
    wrong_secret = dict(cloud, user_id=TOM, state='enabled')
    wrong_secret['client_secret'] = '{{ wrong_client_secret }}'
    wrong_password = dict(iam)
    wrong_password['password'] = '{{ wrong_client_secret }}'
    tasks = [
        t('Email, not activated', 'cloud_user_email', user_id=PRIYA, email='priya.new@globex.example'),
        t('Email, activated', 'cloud_user_email', login='jane.cooper', email='jane.new@acme-msp.example'),
        t('Contact', 'cloud_user_contact', login='marcus.webb', contact={'title': 'CTO', 'city': 'Leeds'}),
        t('State', 'cloud_user_state', user_id=TOM, state='enabled'),
        t('Bulk with a bad item', 'cloud_users', users=[
            {'user_id': PRIYA, 'contact': {'firstname': 'Priyanka'}},
            {'user_id': 'not-a-uuid', 'state': 'enabled'},
            {'login': 'li.wei', 'state': 'disabled'}]),
        t('Info', 'cloud_user_info', logins=['jane.cooper', 'nobody'], user_ids=[JANE]),
        t('Contact with a given access token', 'cloud_user_contact', base_url='{{ base_url }}', access_token='{{ given_token }}',
          user_id=JANE, contact={'phone': '+1 000'}),
        t('Missing account fails', 'cloud_user_contact', user_id=MISSING, contact={'title': 'x'}),
        # the token cache is keyed by the secret too: a cached token is not used with a wrong secret
        t('Wrong secret fails', 'cloud_user_state', **wrong_secret),
        t('Overloaded API fails', 'cloud_user_contact', user_id=BILL, contact={'title': 'x'}, retries=1),
        t('Bad argument fails', 'cloud_user_contact', user_id=JANE, contact='not a dict'),
        t('CodeArts by token, ask for a code', 'codearts_user_email', email='alice@acme.example', send_verify_code=True, **codearts),
        t('CodeArts by IAM password, ask for a code', 'codearts_user_email', email='alice@acme.example', send_verify_code=True, **iam),
        t('CodeArts wrong code fails', 'codearts_user_email', email='alice@acme.example', verify_code='{{ wrong_verify_code }}', **codearts),
        t('CodeArts wrong IAM password fails', 'codearts_user_email', email='alice@acme.example', **wrong_password),
    ]
    for task in tasks:
        module = next(key for key in task if key.startswith('accountops.cloud.'))
        if not module.endswith('codearts_user_email') and 'base_url' not in task[module]:
            task[module] = dict(cloud, **task[module])
    return json.dumps([{'name': 'every module', 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}], indent=1)


def second_step_playbook():
    codearts = {'endpoint': '{{ base_url }}', 'auth_token': '{{ codearts_token }}'}
    iam = {'endpoint': '{{ base_url }}', 'iam_endpoint': '{{ base_url }}', 'user_name': 'alice', 'password': '{{ iam_password }}',
           'domain_name': 'acme', 'project_name': 'cn-north-4'}
    return json.dumps([{'name': 'second step', 'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        t('CodeArts by token, use the code', 'codearts_user_email', email='alice@acme.example', verify_code='{{ verify_code }}', **codearts),
        t('CodeArts by IAM password, already done', 'codearts_user_email', email='alice@acme.example', verify_code='{{ verify_code }}', **iam),
    ]}], indent=1)


class Channels:
    """Every piece of output collected so far, by name."""

    def __init__(self):
        self.texts = {}

    def add(self, name, text):
        self.texts[name] = text

    def add_run(self, label, run, log_path):
        self.add(label + ' stdout', run.stdout)
        self.add(label + ' stderr', run.stderr)
        self.add(label + ' results', json.dumps(run.records))
        if os.path.exists(log_path):
            with open(log_path, encoding='utf-8', errors='replace') as handle:
                self.add(label + ' ansible log', handle.read())

    def add_tree(self, label, top, skip=()):
        for folder, _dirs, files in os.walk(top):
            for name in files:
                path = os.path.join(folder, name)
                if name in skip:
                    continue
                with open(path, 'rb') as handle:
                    self.add('%s %s' % (label, os.path.relpath(path, top)), handle.read().decode('utf-8', 'replace'))

    def find(self, values):
        found = []
        for channel, text in self.texts.items():
            for label, value in values.items():
                if value and value in text:
                    found.append((label, channel))
            for match in IAM_TOKEN_SHAPE.finditer(text):
                found.append(('an IAM token', '%s: %s...' % (channel, match.group(0)[:12])))
        return found

    def size(self):
        return sum(len(text) for text in self.texts.values())


def test_no_secret_in_any_output_of_a_full_run(secret_state, secret_values, run_playbook, tmp_path, cloud_auth):
    emulator = secret_state
    xdg = str(tmp_path / 'xdg')
    log_path = str(tmp_path / 'ansible.log')
    env = {'XDG_CACHE_HOME': xdg, 'ANSIBLE_LOG_PATH': log_path}
    given_token = fetch_token(emulator, secret_values['client_secret'])
    extra = dict(secret_values, base_url=emulator.url, client_id=DEMO_CLIENT_ID, given_token=given_token)
    overloaded = {'method': 'GET', 'path': '^/api/2/users/%s$' % BILL, 'kind': 'status', 'status': 503, 'count': 2}

    channels = Channels()
    emulator.add_fault(**overloaded)
    check = run_playbook(full_run_playbook(), extra_vars=extra, check=True, diff=True, verbosity=3, env=env)
    channels.add_run('check run', check, log_path)
    emulator.clear_faults()
    emulator.add_fault(**overloaded)
    full = run_playbook(full_run_playbook(), extra_vars=extra, diff=True, verbosity=3, env=env)
    channels.add_run('full run', full, log_path)

    # the runs did what they should, failures included
    assert full.status('Email, not activated') == 'changed', full.explain()
    assert any('confirmation' in warning for warning in full.task('Email, activated')['warnings'])
    assert full.status('Contact with a given access token') == 'changed'
    for name in ('Bulk with a bad item', 'Missing account fails', 'Wrong secret fails', 'Overloaded API fails', 'Bad argument fails',
                 'CodeArts wrong code fails', 'CodeArts wrong IAM password fails'):
        assert full.status(name) == 'failed', name
    assert full.task('CodeArts by token, ask for a code')['verify_code_sent'] is True
    codes = [mail['code'] for mail in emulator.outbox() if mail.get('kind') == 'verify_code']
    assert codes, emulator.outbox()
    secret_values = dict(secret_values, given_access_token=given_token)
    secret_values.update(('verify_code_%d' % index, code) for index, code in enumerate(codes))

    second = run_playbook(second_step_playbook(), extra_vars=dict(extra, verify_code=codes[-1]), diff=True, verbosity=3, env=env)
    channels.add_run('second step', second, log_path)
    assert second.status('CodeArts by token, use the code') == 'changed', second.explain()

    # the cloud token the emulator issued to the modules is in the token cache, and only there
    assert len(os.listdir(token_cache_dir(xdg))) == 1  # nothing cached for the wrong secret
    cache_file = token_cache_file(xdg, emulator.url, secret_values['client_secret'])
    with open(cache_file, encoding='utf-8') as handle:
        entry = json.load(handle)
    # the token, its expiry and the API client's tenant (learned by the login lookups): nothing else
    assert sorted(entry) == ['access_token', 'expires_on', 'tenant_id']
    assert entry['tenant_id'] == emulator.state()['clients'][0]['tenant_id']
    assert stat.S_IMODE(os.stat(cache_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(token_cache_dir(xdg)).st_mode) == 0o700
    issued = entry['access_token']
    assert issued and issued != given_token
    cache_text = json.dumps(entry)
    for label, value in secret_values.items():
        if label not in ('given_access_token',) and value:
            assert value not in cache_text, label

    # every file the runs left behind (temp dirs, callback files), except the inputs that hold secrets by design
    channels.add_tree('run files', str(tmp_path), skip=('extra_vars.json', os.path.basename(cache_file)))
    values = dict(secret_values, issued_access_token=issued)
    found = channels.find(values)
    assert found == []
    record_figures('secrets_full_run', secrets=len([v for v in values.values() if v]), channels=len(channels.texts),
                   bytes_scanned=channels.size(), found=len(found), tasks=len(full.results) + len(check.results) + len(second.results))


def run_module_process(module, args, tmp_path):
    """Run a module as its own process, the way it runs on a remote target (not through the action plugin)."""
    args_file = tmp_path / ('%s-args.json' % module)
    args_file.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': dict(args, _ansible_check_mode=False, _ansible_diff=True)}))
    path = os.path.join(collections_root(), 'ansible_collections', 'accountops', 'cloud', 'plugins', 'modules', module + '.py')
    env = dict(os.environ, PYTHONPATH=collections_root(), XDG_CACHE_HOME=str(tmp_path / 'module-xdg'))
    proc = subprocess.run([sys.executable, path, str(args_file)], capture_output=True, text=True, env=env, timeout=120, check=False)
    return proc


def test_no_secret_in_module_process_output(secret_state, secret_values, tmp_path):
    emulator = secret_state
    cloud = {'base_url': emulator.url, 'client_id': DEMO_CLIENT_ID, 'client_secret': secret_values['client_secret']}
    iam = {'endpoint': emulator.url, 'iam_endpoint': emulator.url, 'user_name': 'alice', 'password': secret_values['iam_password'],
           'domain_name': 'acme', 'project_name': 'cn-north-4'}
    cases = [
        ('cloud_user_contact', dict(cloud, user_id=JANE, contact={'title': 'Module process'})),
        ('cloud_user_contact', dict(cloud, user_id=MISSING, contact={'title': 'x'})),
        # a suboption-bearing option of the wrong type: ansible-core alone would show client_secret in the invocation
        ('cloud_user_contact', dict(cloud, user_id=JANE, contact='not a dict')),
        ('cloud_user_state', dict(cloud, client_secret=secret_values['wrong_client_secret'], user_id=TOM, state='enabled')),
        ('cloud_users', dict(cloud, users=[{'user_id': PRIYA, 'state': 'disabled'}, {'user_id': 'bad'}])),
        ('cloud_user_info', dict(cloud, user_ids=[JANE])),
        ('cloud_user_email', dict(cloud, user_id=JANE, email='jane.other@acme-msp.example')),
        ('codearts_user_email', dict(iam, email='alice@acme.example', send_verify_code=True)),
        ('codearts_user_email', dict(iam, email='alice@acme.example', verify_code=secret_values['wrong_verify_code'])),
        ('codearts_user_email', dict(endpoint=emulator.url, auth_token=secret_values['codearts_token'], email='alice@acme.example',
                                     verify_code=secret_values['wrong_verify_code'])),
    ]
    channels = Channels()
    outcomes = []
    for index, (module, args) in enumerate(cases):
        proc = run_module_process(module, args, tmp_path)
        channels.add('%d %s stdout' % (index, module), proc.stdout)
        channels.add('%d %s stderr' % (index, module), proc.stderr)
        result = json.loads(proc.stdout)
        assert 'Traceback' not in proc.stdout + proc.stderr
        outcomes.append(bool(result.get('failed')))
    assert outcomes == [False, True, True, True, True, False, False, False, True, True]
    channels.add_tree('module cache', str(tmp_path / 'module-xdg'))
    found = channels.find(dict(secret_values))
    assert found == []
    record_figures('secrets_module_processes', secrets=len(secret_values), channels=len(channels.texts), bytes_scanned=channels.size(),
                   found=len(found), runs=len(cases))


def test_token_cache_with_loose_permissions_is_refused(secret_state, secret_values, run_playbook, tmp_path, cloud_auth):
    emulator = secret_state
    xdg = str(tmp_path / 'xdg')
    cache_file = token_cache_file(xdg, emulator.url, secret_values['client_secret'])
    os.makedirs(os.path.dirname(cache_file), mode=0o700)
    planted = {'access_token': 'planted-token-' + secrets.token_hex(8), 'expires_on': 4102444800}
    with open(cache_file, 'w', encoding='utf-8') as handle:
        json.dump(planted, handle)
    os.chmod(cache_file, 0o644)
    book = json.dumps([{'name': 'loose cache', 'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'name': 'Contact', 'accountops.cloud.cloud_user_contact': dict(cloud_auth, client_secret=secret_values['client_secret'],
                                                                        user_id=JANE, contact={'title': 'Loose cache'})}]}])
    run = run_playbook(book, env={'XDG_CACHE_HOME': xdg}).assert_ok()
    result = run.task('Contact')
    assert result['changed'] is True
    assert any('looser than 0600; refusing to use it' in warning for warning in result['warnings']), result.get('warnings')
    # the planted token was never sent (it would have met a 401), and the file was neither read into output nor replaced
    log = emulator.requests()
    assert [r['status'] for r in log if r['method'] == 'PUT'] == [200] and all(r['status'] != 401 for r in log)
    with open(cache_file, encoding='utf-8') as handle:
        assert json.load(handle) == planted
    assert stat.S_IMODE(os.stat(cache_file).st_mode) == 0o644
    assert planted['access_token'] not in run.stdout + run.stderr + json.dumps(run.records)


def test_token_cache_folder_with_loose_permissions_is_refused(secret_state, secret_values, run_playbook, tmp_path, cloud_auth):
    emulator = secret_state
    xdg = str(tmp_path / 'xdg')
    os.makedirs(token_cache_dir(xdg))
    os.chmod(token_cache_dir(xdg), 0o755)
    book = json.dumps([{'name': 'loose folder', 'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'name': 'Info', 'accountops.cloud.cloud_user_info': dict(cloud_auth, client_secret=secret_values['client_secret'], user_ids=[JANE])}]}])
    run = run_playbook(book, env={'XDG_CACHE_HOME': xdg}).assert_ok()
    assert any('looser than 0700' in warning for warning in run.task('Info')['warnings'])
    assert os.listdir(token_cache_dir(xdg)) == []  # no token written into a folder others can read
    assert [r['status'] for r in emulator.requests() if r['path'].endswith('/idp/token')] == [200]


def test_no_secret_or_token_in_the_inventory_cache(secret_state, secret_values, run_playbook, tmp_path, cloud_auth):
    plugin = os.path.join(collections_root(), 'ansible_collections', 'accountops', 'cloud', 'plugins', 'inventory', 'cloud_users.py')
    if not os.path.exists(plugin):
        pytest.skip('the cloud_users inventory plugin is not in the collection yet')
    emulator = secret_state
    xdg = str(tmp_path / 'xdg')
    cache_dir = tmp_path / 'inventory-cache'
    inventory = tmp_path / 'accounts.cloud_users.yml'
    inventory.write_text(json.dumps({
        'plugin': 'accountops.cloud.cloud_users', 'cache': True, 'cache_plugin': 'ansible.builtin.jsonfile',
        'cache_connection': str(cache_dir), 'cache_timeout': 3600}))
    env = {'XDG_CACHE_HOME': xdg, 'ACRONIS_BASE_URL': emulator.url, 'ACRONIS_CLIENT_ID': DEMO_CLIENT_ID,
           'ACRONIS_CLIENT_SECRET': secret_values['client_secret']}
    book = json.dumps([{'name': 'inventory', 'hosts': 'cloud_accounts', 'gather_facts': False, 'tasks': [
        {'name': 'Vars', 'ansible.builtin.debug': {'var': 'hostvars[inventory_hostname]'}}]}])
    run = run_playbook(book, inventory=str(inventory), env=env, verbosity=3)
    assert run.rc == 0, run.explain()
    assert len(run.tasks('Vars')) >= 6  # the accounts under the API client's tenant
    channels = Channels()
    channels.add_run('inventory run', run, '/nonexistent')
    channels.add_tree('inventory cache', str(cache_dir))
    assert any(name.startswith('inventory cache') for name in channels.texts), 'no inventory cache was written'
    with open(token_cache_file(xdg, emulator.url, secret_values['client_secret']), encoding='utf-8') as handle:
        issued = json.load(handle)['access_token']
    found = channels.find(dict(secret_values, issued_access_token=issued))
    assert found == []
    record_figures('secrets_inventory_cache', secrets=len(secret_values) + 1, channels=len(channels.texts), bytes_scanned=channels.size(),
                   found=len(found))


def test_all_modules_are_covered():
    text = full_run_playbook()
    assert all('accountops.cloud.' + module in text for module in MODULES)
