"""AWX/Tower and Galaxy readiness (issue 6), each piece tested with the real tool.

* credential types (extensions/awx/credential_types/*.yml): rendered the way AWX
  renders injectors (jinja2 ImmutableSandboxedEnvironment, empty fields left
  out of the namespace, every env variable set), then a module runs with
  nothing but the resulting environment against the emulator;
* the role accountops.cloud.account_sync: check mode, convergence, pending
  confirmations, per-account failures, the rescue path, argument validation;
* ansible-runner (the engine AWX uses): the role through
  ``ansible_runner.run()`` with the credential as env vars and the job
  template's extra vars; the job events carry the right ``changed`` counts,
  the set_stats artifact, and no secret;
* the execution environment: ``ansible-builder create`` on a version 3
  definition naming the built tarball, and the generated context's own
  introspection script run over an offline install of that tarball;
* the release tarball: ``ansible-galaxy collection build`` leaves tests'
  outputs and virtualenvs out, and docs/examples/demo.yml runs from an
  install of it into an empty collections path.

Tests that need a tool absent from the venv (ansible-runner, ansible-builder)
skip; tests/release/run_checks.sh runs them all in a venv that has them.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request

import pytest
import yaml
from jinja2 import meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
CREDENTIAL_TYPES_DIR = os.path.join(REPO_ROOT, 'extensions', 'awx', 'credential_types')
ACRONIS_TYPE = os.path.join(CREDENTIAL_TYPES_DIR, 'acronis_cloud.yml')
CODEARTS_TYPE = os.path.join(CREDENTIAL_TYPES_DIR, 'codearts_repo.yml')
DEMO_PLAYBOOK = os.path.join(REPO_ROOT, 'docs', 'examples', 'demo.yml')

DEMO_CLIENT_ID = '3663410d-4b70-4860-860c-8db82bffab8e'
DEMO_CLIENT_SECRET = 'demo-client-secret-0123456789'
DEMO_CODEARTS_TOKEN = 'demo-codearts-token'
IAM_USER, IAM_PASSWORD, IAM_DOMAIN = 'alice', 'demo-iam-password', 'acme'

JANE = '6c5f167d-bcb4-41f9-8958-39a366ecee7f'     # activated
PRIYA = '6e558353-dc84-4d01-bd04-8ef3c64898ec'    # not activated
TOM = '00f10a4e-5e2d-40f8-8fb7-46966b8297d4'      # activated, disabled
LI = '63c76c08-b5b6-41b6-ac9c-dc4bb817f1db'       # not activated

# AWX refuses these env variable names in custom credential types (they would
# change how the job runs); ANSIBLE_* may change Ansible's configuration.
AWX_ENV_BLOCKLIST = {'VIRTUAL_ENV', 'PATH', 'PYTHONPATH', 'JOB_ID', 'INVENTORY_ID', 'INVENTORY_SOURCE_ID',
                     'INVENTORY_UPDATE_ID', 'AD_HOC_COMMAND_ID', 'REST_API_URL', 'REST_API_TOKEN', 'MAX_EVENT_RES',
                     'CALLBACK_QUEUE', 'CALLBACK_CONNECTION', 'CACHE', 'JOB_CALLBACK_DEBUG', 'RUNNER_BASE_COMMAND'}
HIDDEN = '$encrypted$'

BIN_DIR = os.path.dirname(sys.executable)


def _tool(name):
    path = os.path.join(BIN_DIR, name)
    return path if os.access(path, os.X_OK) else None


def _missing(what):
    """Skip when a tool is not in this venv; fail under tests/release/run_checks.sh, whose venv must have it."""
    message = '%s is not installed in this venv (tests/requirements-release.txt has it)' % what
    if os.environ.get('ACCOUNTOPS_REQUIRE_TOOLS'):
        pytest.fail(message)
    pytest.skip(message)


def load_type(path):
    with open(path, encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def render_injectors(cred_type, inputs):
    """Render a credential type's injectors as AWX does; return (env, safe_env, extra_vars).

    Like AWX: a field whose value is empty is left out of the namespace (so its
    template renders as an empty string, or as a ``default`` filter's value),
    a missing boolean field is False, secrets are hidden in the safe namespace
    (what AWX stores with the job), and every env injector is set, rendered
    with ``ImmutableSandboxedEnvironment``.
    """
    secret = {field['id'] for field in cred_type['inputs']['fields'] if field.get('secret')}
    namespace, safe_namespace = {}, {}
    for key, value in inputs.items():
        if isinstance(value, bool):
            namespace[key] = safe_namespace[key] = value
            continue
        if key in secret:
            safe_namespace[key] = HIDDEN
        elif value:
            safe_namespace[key] = value
        if value:
            namespace[key] = value
    for field in cred_type['inputs']['fields']:
        if field.get('type') == 'boolean' and field['id'] not in inputs:
            namespace[field['id']] = safe_namespace[field['id']] = False
    sandbox = ImmutableSandboxedEnvironment()
    env, safe_env = {}, {}
    for name, template in cred_type['injectors'].get('env', {}).items():
        env[name] = sandbox.from_string(template).render(**namespace)
        safe_env[name] = sandbox.from_string(template).render(**safe_namespace)
    extra_vars = {name: sandbox.from_string(template).render(**namespace)
                  for name, template in cred_type['injectors'].get('extra_vars', {}).items()}
    return env, safe_env, extra_vars


def emulator_token(emulator):
    """A bearer token for the demo client, fetched straight from the emulator."""
    request = urllib.request.Request(
        emulator.url + '/api/2/idp/token', data=b'grant_type=client_credentials', method='POST',
        headers={'Content-Type': 'application/x-www-form-urlencoded'})
    import base64  # pylint: disable=import-outside-toplevel
    request.add_header('Authorization', 'Basic ' + base64.b64encode(
        ('%s:%s' % (DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)).encode()).decode())
    with urllib.request.urlopen(request, timeout=30) as response:  # nosec - loopback emulator
        return json.loads(response.read())['access_token']


def writes(emulator):
    return [entry for entry in emulator.requests('cloud') if entry['method'] in ('PUT', 'POST', 'DELETE')
            and not entry['path'].endswith('/idp/token')]


# ---------------------------------------------------------------------------------------------------------------
# 1. Credential types

@pytest.mark.parametrize('path', [ACRONIS_TYPE, CODEARTS_TYPE], ids=['acronis', 'codearts'])
def test_credential_type_is_a_valid_awx_definition(path):
    cred_type = load_type(path)
    assert set(cred_type) == {'name', 'description', 'kind', 'inputs', 'injectors'}
    assert cred_type['kind'] == 'cloud'  # custom types may only be cloud or net
    fields = cred_type['inputs']['fields']
    ids = [field['id'] for field in fields]
    assert len(ids) == len(set(ids)), 'duplicate field ids'
    for field in fields:
        assert set(field) <= {'id', 'label', 'type', 'secret', 'help_text', 'default', 'multiline', 'format', 'choices'}
        assert field['type'] in ('string', 'boolean')
        assert re.match(r'^[a-z][a-z0-9_]*$', field['id'])
        if re.search(r'secret|token|password', field['id']):
            assert field.get('secret') is True, '%s must be secret: true' % field['id']
        else:
            assert not field.get('secret'), '%s is not a secret' % field['id']
    assert set(cred_type['inputs'].get('required', [])) <= set(ids)
    env = cred_type['injectors']['env']
    assert set(cred_type['injectors']) <= {'env', 'extra_vars', 'file'}
    sandbox = ImmutableSandboxedEnvironment()
    used = set()
    for name, template in env.items():
        assert re.match(r'^[A-Z][A-Z0-9_]*$', name)
        assert name not in AWX_ENV_BLOCKLIST and not name.startswith('ANSIBLE_')
        used |= meta.find_undeclared_variables(sandbox.parse(template))
    assert used == set(ids), 'every input is injected, and only inputs are referenced'


def test_injected_variables_are_the_ones_the_modules_read():
    """The env variables injected are exactly the env fallbacks of the auth options (plugins/module_utils/_args.py)."""
    with open(os.path.join(REPO_ROOT, 'plugins', 'module_utils', '_args.py'), encoding='utf-8') as handle:
        source = handle.read()

    def fallbacks(spec_name):
        block = source.split(spec_name + ' = dict(', 1)[1].split('\n)\n', 1)[0]
        return set(re.findall(r'env_fallback, \["([A-Z_]+)"\]', block))

    acronis = set(load_type(ACRONIS_TYPE)['injectors']['env'])
    codearts = set(load_type(CODEARTS_TYPE)['injectors']['env'])
    assert acronis == fallbacks('CLOUD_AUTH_SPEC') - {'ACRONIS_TOKEN_CACHE'}
    assert codearts == fallbacks('CODEARTS_AUTH_SPEC')


def test_render_hides_secrets_in_the_stored_environment():
    env, safe_env, _extra = render_injectors(load_type(ACRONIS_TYPE), {
        'base_url': 'https://eu2-cloud.acronis.com', 'client_id': DEMO_CLIENT_ID, 'client_secret': DEMO_CLIENT_SECRET})
    assert env == {'ACRONIS_BASE_URL': 'https://eu2-cloud.acronis.com', 'ACRONIS_CLIENT_ID': DEMO_CLIENT_ID,
                   'ACRONIS_CLIENT_SECRET': DEMO_CLIENT_SECRET, 'ACRONIS_ACCESS_TOKEN': ''}
    assert safe_env['ACRONIS_CLIENT_SECRET'] == HIDDEN
    assert DEMO_CLIENT_SECRET not in json.dumps(safe_env)
    env, _safe, _extra = render_injectors(load_type(CODEARTS_TYPE), {'endpoint': 'https://codehub.example', 'auth_token': 't'})
    assert env['HUAWEICLOUD_IAM_ENDPOINT'] == 'https://iam.myhuaweicloud.com', 'an empty IAM endpoint falls back to the public one'
    assert env['HUAWEICLOUD_PASSWORD'] == '' and env['HUAWEICLOUD_USER_NAME'] == ''


CONTACT_PLAYBOOK = """
- name: Credential type smoke
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Contact from the injected credential only
      accountops.cloud.cloud_user_contact:
        user_id: 6e558353-dc84-4d01-bd04-8ef3c64898ec
        contact:
          phone: "+1 202 555 0100"
    - name: Read by login (needs the client id from the credential)
      accountops.cloud.cloud_users:
        users:
          - login: li.wei
            state: disabled
"""


def test_acronis_credential_type_drives_the_modules(demo_emulator, run_playbook):
    env, _safe, _extra = render_injectors(load_type(ACRONIS_TYPE), {
        'base_url': demo_emulator.url, 'client_id': DEMO_CLIENT_ID, 'client_secret': DEMO_CLIENT_SECRET, 'access_token': ''})
    assert env['ACRONIS_ACCESS_TOKEN'] == ''  # AWX sets it, empty: the module must ignore it
    result = run_playbook(CONTACT_PLAYBOOK, env=env).assert_ok()
    assert result.status('Contact from the injected credential only') == 'changed'
    assert result.status('Read by login (needs the client id from the credential)') == 'changed'
    assert demo_emulator.user(PRIYA)['contact']['phone'] == '+1 202 555 0100'
    assert demo_emulator.user(LI)['enabled'] is False
    again = run_playbook(CONTACT_PLAYBOOK, env=env).assert_ok()
    assert again.changed == 0
    assert DEMO_CLIENT_SECRET not in result.stdout + result.stderr + json.dumps(result.records)


def test_acronis_credential_type_with_an_access_token(demo_emulator, run_playbook):
    token = emulator_token(demo_emulator)
    env, _safe, _extra = render_injectors(load_type(ACRONIS_TYPE), {'base_url': demo_emulator.url, 'access_token': token})
    assert env['ACRONIS_CLIENT_ID'] == '' and env['ACRONIS_CLIENT_SECRET'] == ''
    playbook = """
- name: Token only
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Enable by id with a bearer token
      accountops.cloud.cloud_user_state:
        user_id: %s
        state: enabled
""" % TOM
    demo_emulator.clear_requests()
    result = run_playbook(playbook, env=env).assert_ok()
    assert result.status('Enable by id with a bearer token') == 'changed'
    assert demo_emulator.user(TOM)['enabled'] is True
    assert not [entry for entry in demo_emulator.requests('cloud') if entry['path'].endswith('/idp/token')], \
        'with an access token no token is requested'


CODEARTS_PLAYBOOK = """
- name: CodeArts credential type smoke
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Ask for a verification code
      accountops.cloud.codearts_user_email:
        email: alice@acme.example
        send_verify_code: true
      register: codearts
    - name: The code was sent
      ansible.builtin.assert:
        that: codearts.verify_code_sent
"""


@pytest.mark.parametrize('auth', ['auth_token', 'iam_password'])
def test_codearts_credential_type_drives_the_module(demo_emulator, run_playbook, auth):
    inputs = {'endpoint': demo_emulator.url}
    if auth == 'auth_token':
        inputs['auth_token'] = DEMO_CODEARTS_TOKEN
    else:
        inputs.update(iam_endpoint=demo_emulator.url, user_name=IAM_USER, password=IAM_PASSWORD, domain_name=IAM_DOMAIN,
                      project_name='cn-north-4')
    env, _safe, _extra = render_injectors(load_type(CODEARTS_TYPE), inputs)
    demo_emulator.clear_outbox()
    demo_emulator.clear_requests()
    result = run_playbook(CODEARTS_PLAYBOOK, env=env).assert_ok()
    assert result.task('Ask for a verification code')['verify_code_sent'] is True
    assert [mail for mail in demo_emulator.outbox() if 'alice@acme.example' in json.dumps(mail)]
    iam_calls = demo_emulator.requests('iam')
    assert bool(iam_calls) == (auth == 'iam_password')
    secret = DEMO_CODEARTS_TOKEN if auth == 'auth_token' else IAM_PASSWORD
    assert secret not in result.stdout + result.stderr + json.dumps(result.records)


FAKE_CREDENTIAL_TYPE_MODULE = """#!/usr/bin/python
# Test double of awx.awx.credential_type: records its arguments, talks to no AWX.
import json
import os
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(
        name=dict(required=True), description=dict(), kind=dict(), inputs=dict(type='dict'),
        injectors=dict(type='dict'), state=dict(default='present')), supports_check_mode=True)
    with open(os.environ['FAKE_AWX_RECORD'], 'a') as handle:
        handle.write(json.dumps(module.params) + '\\n')
    module.exit_json(changed=True)


main()
"""


def test_awx_credential_types_example_sends_the_shipped_definitions(run_playbook, tmp_path):
    """docs/examples/awx_credential_types.yml against a stand-in awx.awx.credential_type module."""
    from tests.integration.conftest import collections_root  # pylint: disable=import-outside-toplevel
    modules = tmp_path / 'fake' / 'ansible_collections' / 'awx' / 'awx' / 'plugins' / 'modules'
    modules.mkdir(parents=True)
    (modules / 'credential_type.py').write_text(FAKE_CREDENTIAL_TYPE_MODULE, encoding='utf-8')
    (modules.parent.parent / 'galaxy.yml').write_text('namespace: awx\nname: awx\nversion: 0.0.1\n', encoding='utf-8')
    record = tmp_path / 'record.jsonl'
    result = run_playbook(os.path.join(REPO_ROOT, 'docs', 'examples', 'awx_credential_types.yml'), env={
        'ANSIBLE_COLLECTIONS_PATH': os.pathsep.join([str(tmp_path / 'fake'), collections_root()]),
        'FAKE_AWX_RECORD': str(record)}).assert_ok()
    sent = [json.loads(line) for line in record.read_text(encoding='utf-8').splitlines()]
    expected = [load_type(ACRONIS_TYPE), load_type(CODEARTS_TYPE)]
    assert [dict((key, call[key]) for key in expected[0]) for call in sent] == expected
    assert all(call['state'] == 'present' for call in sent)
    assert result.changed == 1  # one looped task


# ---------------------------------------------------------------------------------------------------------------
# 4. The account_sync role

ROLE = 'accountops.cloud.account_sync : '  # how Ansible names a role's tasks

ROLE_PLAYBOOK = """
- name: Account sync
  hosts: localhost
  gather_facts: false
  roles:
    - role: accountops.cloud.account_sync
"""


def test_role_example_job_playbook_with_example_accounts(demo_emulator, run_playbook, emulator):
    """docs/examples/account_sync.yml with docs/examples/accounts.yml, as the example job template runs it."""
    del demo_emulator
    with open(os.path.join(REPO_ROOT, 'docs', 'examples', 'accounts.yml'), encoding='utf-8') as handle:
        variables = yaml.safe_load(handle)
    env = {'ACRONIS_BASE_URL': emulator.url, 'ACRONIS_CLIENT_ID': DEMO_CLIENT_ID, 'ACRONIS_CLIENT_SECRET': DEMO_CLIENT_SECRET}
    playbook = os.path.join(REPO_ROOT, 'docs', 'examples', 'account_sync.yml')
    first = run_playbook(playbook, extra_vars=variables, env=env).assert_ok()
    stats = first.task(ROLE + 'Publish the summary for AWX workflows')['ansible_stats']['data']['account_sync']
    assert (stats['total'], stats['failed'], stats['pending_accounts']) == (5, 0, ['sofia.alvarez'])
    assert stats['changed'] == 4
    assert run_playbook(playbook, extra_vars=variables, env=env).assert_ok().changed == 0


@pytest.fixture
def run_role(run_playbook, emulator):
    """Run the role in a play on localhost, its auth in the environment as under an AWX credential."""
    def run(extra_vars, env=None, **kwargs):
        merged = {'ACRONIS_BASE_URL': emulator.url, 'ACRONIS_CLIENT_ID': DEMO_CLIENT_ID,
                  'ACRONIS_CLIENT_SECRET': DEMO_CLIENT_SECRET}
        merged.update(env or {})
        return run_playbook(ROLE_PLAYBOOK, extra_vars=extra_vars, env=merged, **kwargs)
    return run


SYNC_ACCOUNTS = [
    {'login': 'priya.shah', 'email': 'priya.shah@globex-new.example', 'contact': {'phone': '+44 20 7946 0000'}},
    {'user_id': TOM, 'state': 'enabled'},
    {'login': 'jane.cooper', 'email': 'jane@acme-new.example'},          # activated: pending, not mailed
    {'login': 'sofia.alvarez', 'contact': {'city': 'Madrid'}},           # already so
]


def _stats(result):
    return result.task(ROLE + 'Publish the summary for AWX workflows')['ansible_stats']['data']['account_sync']


def test_role_check_mode_then_converge_then_idempotent(demo_emulator, run_role):
    variables = {'account_sync_accounts': SYNC_ACCOUNTS}
    demo_emulator.clear_outbox()

    check = run_role(variables, check=True, diff=True).assert_ok()
    stats = _stats(check)
    assert (stats['status'], stats['check_mode']) == ('pending_confirmation', True)
    assert (stats['total'], stats['changed'], stats['pending_confirmation'], stats['failed']) == (4, 2, 1, 0)
    assert stats['pending_accounts'] == ['jane.cooper']
    assert not writes(demo_emulator), 'check mode writes nothing'

    real = run_role(variables).assert_ok()
    stats = _stats(real)
    assert (stats['status'], stats['check_mode'], stats['changed'], stats['failed']) == ('pending_confirmation', False, 2, 0)
    assert real.status(ROLE + 'Converge the accounts with cloud_users') == 'changed'
    assert demo_emulator.user(PRIYA)['contact']['email'] == 'priya.shah@globex-new.example'
    assert demo_emulator.user(TOM)['enabled'] is True
    assert demo_emulator.user(JANE)['contact']['email'] == 'jane.cooper@acme-msp.example'
    assert not demo_emulator.outbox(), 'if_activated defaults to skip: nobody is mailed'
    pending = real.task(ROLE + "Report the accounts whose new email waits for the user's confirmation")
    assert pending['msg'][1] == ['jane.cooper']

    again = run_role(variables).assert_ok()
    assert again.changed == 0
    assert _stats(again)['changed'] == 0 and _stats(again)['pending_confirmation'] == 1


def test_role_reports_each_failure_and_fails_the_job(demo_emulator, run_role):
    accounts = SYNC_ACCOUNTS[:2] + [{'login': 'no.such.user', 'state': 'disabled'},
                                    {'user_id': 'not-a-uuid', 'state': 'disabled'}]
    result = run_role({'account_sync_accounts': accounts})
    assert result.rc != 0
    assert result.status(ROLE + 'Converge the accounts with cloud_users') == 'changed'  # not failed: reported below
    assert demo_emulator.user(PRIYA)['contact']['email'] == 'priya.shah@globex-new.example', 'the others converged'
    items = [item for item in result.items if item['task'] == ROLE + 'Report the accounts that failed']
    assert [item['result']['msg'] for item in items] == [
        "no account with login 'no.such.user'",
        "users[3].user_id must be a UUID such as 1c234e69-5469-424a-a6d1-ff5658b387a6, got 'not-a-uuid'"]
    stats = _stats(result)
    assert (stats['status'], stats['failed'], stats['changed']) == ('failed', 2, 2)
    assert [entry['login'] for entry in stats['failed_accounts']] == ['no.such.user', None]
    assert result.status(ROLE + 'Fail the job when accounts failed') == 'failed'
    assert '2 of 4 accounts failed' in result.task(ROLE + 'Fail the job when accounts failed')['msg']

    tolerated = run_role({'account_sync_accounts': accounts, 'account_sync_max_failures': 2})
    tolerated.assert_ok()
    assert _stats(tolerated)['status'] == 'ok'  # two failures tolerated, nothing pending
    assert tolerated.status(ROLE + 'Fail the job when accounts failed') == 'skipped'


def test_role_rescue_publishes_the_error(demo_emulator, run_role):
    result = run_role({'account_sync_accounts': SYNC_ACCOUNTS}, env={'ACRONIS_CLIENT_SECRET': 'wrong-secret'})
    assert result.rc != 0
    error = result.task(ROLE + 'Publish the error for AWX workflows')['ansible_stats']['data']['account_sync']
    assert error['status'] == 'error' and '401' in error['msg']
    assert result.status(ROLE + 'Stop the job, nothing could be converged') == 'failed'
    assert not writes(demo_emulator)


def test_role_validates_its_input_before_any_request(demo_emulator, run_role):
    demo_emulator.clear_requests()
    result = run_role({'account_sync_accounts': [{'login': 'jane.cooper', 'state': 'gone'}]})
    assert result.rc != 0
    assert 'state' in result.stdout + result.stderr and 'gone' in result.stdout + result.stderr
    assert not demo_emulator.requests(), 'argument_specs stop the job before any request'
    missing = run_role({})
    assert missing.rc != 0 and 'account_sync_accounts' in missing.stdout + missing.stderr


# ---------------------------------------------------------------------------------------------------------------
# 3. ansible-runner, as AWX runs a job

RUNNER_PLAYBOOK = """
- name: Scheduled account sync
  hosts: localhost
  gather_facts: false
  roles:
    - role: accountops.cloud.account_sync
  tasks:
    - name: Commit email of the CodeArts bot
      accountops.cloud.codearts_user_email:
        email: alice_iid@example.com
"""


def _events(artifacts_dir):
    events = []
    for path in sorted(glob.glob(os.path.join(artifacts_dir, 'job_events', '*.json'))):
        with open(path, encoding='utf-8') as handle:
            events.append(json.load(handle))
    return sorted(events, key=lambda event: event.get('counter', 0))


def _run_job(ansible_runner, private_data_dir, ident, envvars, extravars, verbosity=0):
    runner = ansible_runner.run(private_data_dir=private_data_dir, playbook='sync.yml', ident=ident, envvars=envvars,
                                extravars=extravars, quiet=True, verbosity=verbosity or None, timeout=300)
    artifacts = os.path.join(private_data_dir, 'artifacts', ident)
    return runner, artifacts, _events(artifacts)


def test_ansible_runner_job_with_injected_credentials(demo_emulator, tmp_path):
    try:
        import ansible_runner  # pylint: disable=import-outside-toplevel
    except ImportError:
        _missing('ansible-runner')
    from tests.integration.conftest import collections_root  # pylint: disable=import-outside-toplevel

    acronis_env, acronis_safe, _extra = render_injectors(load_type(ACRONIS_TYPE), {
        'base_url': demo_emulator.url, 'client_id': DEMO_CLIENT_ID, 'client_secret': DEMO_CLIENT_SECRET})
    codearts_env, _safe, _extra = render_injectors(load_type(CODEARTS_TYPE), {
        'endpoint': demo_emulator.url, 'iam_endpoint': demo_emulator.url, 'user_name': IAM_USER, 'password': IAM_PASSWORD,
        'domain_name': IAM_DOMAIN, 'project_name': 'cn-north-4'})
    secrets = [DEMO_CLIENT_SECRET, IAM_PASSWORD]

    pdd = tmp_path / 'pdd'
    (pdd / 'project').mkdir(parents=True)
    (pdd / 'inventory').mkdir()
    (pdd / 'project' / 'sync.yml').write_text(RUNNER_PLAYBOOK, encoding='utf-8')
    (pdd / 'inventory' / 'hosts').write_text(
        'localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable, encoding='utf-8')
    envvars = dict(acronis_env, **codearts_env)
    envvars.update({
        'ANSIBLE_COLLECTIONS_PATH': collections_root(),
        'XDG_CACHE_HOME': str(tmp_path / 'xdg'),
        'PATH': BIN_DIR + os.pathsep + os.environ.get('PATH', ''),
    })
    # what AWX adds to every job, and the job template's variables (a survey, say)
    extravars = {'awx_job_id': 42, 'tower_job_id': 42, 'awx_job_template_name': 'Account sync',
                 'account_sync_accounts': SYNC_ACCOUNTS}
    assert acronis_safe['ACRONIS_CLIENT_SECRET'] == HIDDEN

    runner, artifacts, events = _run_job(ansible_runner, str(pdd), 'first', envvars, extravars)
    assert runner.status == 'successful' and runner.rc == 0, runner.stdout.read()
    assert runner.stats['changed'] == {'localhost': 1}
    converge = [event for event in events if event['event'] == 'runner_on_ok'
                and event['event_data'].get('task') == 'Converge the accounts with cloud_users']
    assert len(converge) == 1
    assert converge[0]['event_data']['res']['changed'] is True
    assert converge[0]['event_data']['res']['summary'] == {'total': 4, 'changed': 2, 'pending_confirmation': 1, 'failed': 0}
    stats_event = [event for event in events if event['event'] == 'playbook_on_stats'][-1]
    assert stats_event['event_data']['changed'] == {'localhost': 1}
    assert stats_event['event_data']['artifact_data']['account_sync']['changed'] == 2, 'set_stats reaches the job artifacts'

    # second run, verbose as a troubleshooting job would be: nothing changes, nothing leaks
    runner2, artifacts2, events2 = _run_job(ansible_runner, str(pdd), 'second', envvars, extravars, verbosity=3)
    assert runner2.status == 'successful'
    assert runner2.stats['changed'] == {}
    assert [event for event in events2 if event['event'] == 'playbook_on_stats'][-1]['event_data']['changed'] == {}
    assert sum(1 for event in events2 if event['event'] == 'runner_on_ok'
               and event['event_data'].get('res', {}).get('changed')) == 0

    # What AWX keeps of a job: its events (job_events/) and its output (stdout). The artifacts' `command` file
    # holds the environment, secrets included, as AWX's private data dir does: AWX deletes it after the job.
    for directory, job_events in ((artifacts, events), (artifacts2, events2)):
        assert job_events, 'no job events written'
        kept = glob.glob(os.path.join(directory, 'job_events', '*.json')) + [os.path.join(directory, 'stdout')]
        for path in kept:
            with open(path, encoding='utf-8', errors='replace') as handle:
                text = handle.read()
            for secret in secrets:
                assert secret not in text, 'secret found in %s' % path
    verbose_output = open(os.path.join(artifacts2, 'stdout'), encoding='utf-8').read()  # pylint: disable=consider-using-with
    assert 'ACRONIS_CLIENT_SECRET' not in verbose_output and 'Converge the accounts with cloud_users' in verbose_output


# ---------------------------------------------------------------------------------------------------------------
# 6. Release tarball (shared by 2.)

FORBIDDEN_IN_TARBALL = re.compile(
    r'(^|/)(\.venv|\.cache|\.git|\.pytest_cache|\.hypothesis|\.ansible|__pycache__|\.tox)(/|$)'
    r'|^build/|^tests/output(/|$)|\.pyc$|\.tar\.gz$|^\.ci/|^Makefile$')


def _galaxy_env(collections_path):
    """ansible-galaxy with only collections_path configured, else it finds the collection already installed."""
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_path))


@pytest.fixture(scope='module')
def collection_tarball(tmp_path_factory):
    """``ansible-galaxy collection build`` of the working tree, as a release is built."""
    galaxy = _tool('ansible-galaxy')
    out = tmp_path_factory.mktemp('dist')
    proc = subprocess.run([galaxy, 'collection', 'build', '--output-path', str(out), REPO_ROOT],
                          capture_output=True, text=True, check=False, cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tarballs = glob.glob(str(out / 'accountops-cloud-*.tar.gz'))
    assert len(tarballs) == 1
    return tarballs[0]


def test_tarball_holds_no_test_output_or_virtualenv(collection_tarball):
    with tarfile.open(collection_tarball) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile('MANIFEST.json'))
    bad = [name for name in names if FORBIDDEN_IN_TARBALL.search(name)]
    assert not bad, bad
    for wanted in ('roles/account_sync/tasks/main.yml', 'roles/account_sync/meta/argument_specs.yml',
                   'extensions/awx/credential_types/acronis_cloud.yml', 'extensions/awx/credential_types/codearts_repo.yml',
                   'meta/execution-environment.yml', 'meta/runtime.yml', 'requirements.txt', 'bindep.txt',
                   'plugins/modules/cloud_users.py', 'docs/examples/demo.yml', 'changelogs/changelog.yaml'):
        assert wanted in names, wanted
    assert manifest['collection_info']['version'] == os.path.basename(collection_tarball)[len('accountops-cloud-'):-len('.tar.gz')]


def test_installed_tarball_runs_the_demo(collection_tarball, demo_emulator, run_playbook, tmp_path):
    galaxy = _tool('ansible-galaxy')
    target = tmp_path / 'collections'
    target.mkdir()
    proc = subprocess.run([galaxy, 'collection', 'install', '--offline', '-p', str(target), collection_tarball],
                          capture_output=True, text=True, check=False, env=_galaxy_env(target))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    installed = target / 'ansible_collections' / 'accountops' / 'cloud'
    assert (installed / 'MANIFEST.json').is_file()
    playbook = str(installed / 'docs' / 'examples' / 'demo.yml')
    assert os.path.isfile(playbook), 'docs/examples/demo.yml is shipped in the tarball'
    # only the installed copy is on the collections path (conftest would point at build/)
    env = {'ANSIBLE_COLLECTIONS_PATH': str(target)}
    extra = {'acronis_base_url': demo_emulator.url, 'acronis_client_id': DEMO_CLIENT_ID,
             'acronis_client_secret': DEMO_CLIENT_SECRET, 'codearts_repo_endpoint': demo_emulator.url,
             'huaweicloud_auth_token': DEMO_CODEARTS_TOKEN}
    env.update({'ACRONIS_BASE_URL': demo_emulator.url, 'ACRONIS_CLIENT_ID': DEMO_CLIENT_ID,
                'ACRONIS_CLIENT_SECRET': DEMO_CLIENT_SECRET, 'CODEARTS_REPO_ENDPOINT': demo_emulator.url,
                'HUAWEICLOUD_AUTH_TOKEN': DEMO_CODEARTS_TOKEN})
    first = run_playbook(playbook, extra_vars=extra, env=env).assert_ok()
    assert first.changed > 0, first.explain()
    second = run_playbook(playbook, extra_vars=extra, env=env).assert_ok()
    assert second.changed == 0, second.explain()


# ---------------------------------------------------------------------------------------------------------------
# 2. Execution environment

EE_DEFINITION = """
---
version: 3
images:
  base_image:
    name: quay.io/ansible/awx-ee:latest
dependencies:
  ansible_core:
    package_pip: ansible-core>=2.16
  ansible_runner:
    package_pip: ansible-runner
  galaxy:
    collections:
      - name: /build/collections/{tarball}
        type: file
additional_build_files:
  - src: {tarball}
    dest: collections
additional_build_steps:
  prepend_galaxy:
    - COPY _build/collections/ /build/collections/
"""


def test_execution_environment_context_carries_the_requirements(collection_tarball, tmp_path):
    builder = _tool('ansible-builder')
    if builder is None:
        _missing('ansible-builder')
    with open(os.path.join(REPO_ROOT, 'meta', 'execution-environment.yml'), encoding='utf-8') as handle:
        ee_meta = yaml.safe_load(handle)
    assert ee_meta['dependencies'] == {'python': 'requirements.txt', 'system': 'bindep.txt'}

    workdir = tmp_path / 'ee'
    workdir.mkdir()
    tarball = os.path.basename(collection_tarball)
    shutil.copy(collection_tarball, workdir / tarball)
    (workdir / 'execution-environment.yml').write_text(EE_DEFINITION.format(tarball=tarball), encoding='utf-8')
    context = workdir / 'context'
    proc = subprocess.run([builder, 'create', '-f', 'execution-environment.yml', '-c', str(context),
                           '--output-filename', 'Containerfile', '-v', '3'],
                          capture_output=True, text=True, check=False, cwd=str(workdir))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    containerfile = (context / 'Containerfile').read_text(encoding='utf-8')
    assert 'COPY _build/collections/ /build/collections/' in containerfile
    assert 'ansible-galaxy collection install' in containerfile and 'introspect' in containerfile
    requirements_yml = yaml.safe_load((context / '_build' / 'requirements.yml').read_text(encoding='utf-8'))
    assert requirements_yml['collections'] == [{'name': '/build/collections/' + tarball, 'type': 'file'}]
    assert (context / '_build' / 'collections' / tarball).is_file()
    introspect = context / '_build' / 'scripts' / 'introspect.py'
    assert introspect.is_file()

    # The builder stage installs the collection and runs the context's introspect.py over it. Without a container
    # engine, do the same here: an offline install of the same tarball, then that very script.
    collections = tmp_path / 'ee-collections'
    proc = subprocess.run([_tool('ansible-galaxy'), 'collection', 'install', '--offline', '-p', str(collections),
                           str(context / '_build' / 'collections' / tarball)],
                          capture_output=True, text=True, check=False, env=_galaxy_env(collections))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pip_out, bindep_out = tmp_path / 'requirements.txt', tmp_path / 'bindep.txt'
    proc = subprocess.run([sys.executable, str(introspect), 'introspect', '--sanitize',
                           '--write-pip', str(pip_out), '--write-bindep', str(bindep_out), str(collections)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pip_lines = pip_out.read_text(encoding='utf-8').splitlines()
    bindep_lines = bindep_out.read_text(encoding='utf-8').splitlines()
    assert any(re.match(r'^requests\b.*# from collection accountops\.cloud', line) for line in pip_lines), pip_lines
    with open(os.path.join(REPO_ROOT, 'bindep.txt'), encoding='utf-8') as handle:
        wanted = [line.strip() for line in handle if line.strip() and not line.startswith('#')]
    assert wanted
    for line in wanted:
        assert any(got.startswith(line) and 'accountops.cloud' in got for got in bindep_lines), (line, bindep_lines)
