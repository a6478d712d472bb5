"""Guarantee 6 of issue 5: property-based tests (hypothesis) against the emulator.

For random initial accounts (email, contact fields, enabled, activated) and random desired states (email,
contact, state, if_activated, selected by id or login):

* check mode predicts exactly the ``changed``, ``diff``, ``pending_confirmation`` and errors the real run then
  reports, and sends zero writes;
* after one run every account is in the desired state (an activated account's new email is pending
  confirmation, or untouched with if_activated=skip, or refused with if_activated=fail) and nothing else moved;
* a second run reports changed=false and sends zero writes, except the documented re-request of a confirmation
  mail for activated accounts under if_activated=request_confirmation.

Most examples drive the collection's own Task.run in this process (the build/ collection on sys.path, a small
context object, real HTTP to the emulator), for speed; a few go through real ansible-playbook runs.
"""

from __future__ import annotations

import copy
import json
import sys

from hypothesis import HealthCheck, given, settings, strategies as st

from tests.integration.playbooks import collections_root, record_figures

CLIENT_ID = '3663410d-4b70-4860-860c-8db82bffab8e'
ACME = 'cc6f6ef1-7d48-4da2-9cdf-3473ba866f4a'
IF_ACTIVATED = ('request_confirmation', 'skip', 'fail')
EMAILS = ('ann@example.com', 'Ann@Example.COM', 'bob@example.org', 'carol.d@example.net', 'dave+ops@example.co.uk')
FIELDS = ('firstname', 'lastname', 'city', 'title', 'phone')
VALUES = ('', 'Ann', 'ann', 'Zoë', "O'Brien", '李雷', ' padded ', 'x' * 60)
# In-process examples (fast) and real ansible-playbook examples (about 1 s each); sized for < 90 s in all.
BULK_EXAMPLES = 250
SINGLE_EXAMPLES = 250
PLAYBOOK_EXAMPLES = 12


def collection():
    """The collection's Task table and runner, imported from the laid-out build/ collection."""
    if collections_root() not in sys.path:
        sys.path.insert(0, collections_root())
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # pylint: disable=import-outside-toplevel
    from ansible_collections.accountops.cloud.plugins.module_utils._module import run_task  # pylint: disable=import-outside-toplevel
    from ansible_collections.accountops.cloud.plugins.module_utils._tasks import TASKS  # pylint: disable=import-outside-toplevel
    return ArgumentSpecValidator, run_task, TASKS


class Context:
    """What a Task sees of Ansible: check mode, diff mode and warnings."""

    def __init__(self, check_mode):
        self.check_mode = check_mode
        self.diff = True
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)


def run_in_process(name, args, check_mode):
    validator_class, run_task, tasks = collection()
    task = tasks[name]
    validation = validator_class(task.argument_spec, mutually_exclusive=task.mutually_exclusive,
                                 required_one_of=task.required_one_of).validate(args)
    assert not validation.error_messages, validation.error_messages
    failed, result = run_task(validation.validated_parameters, Context(check_mode), task)
    result['failed'] = failed
    return result


# -- the model ------------------------------------------------------------------------------------------------------

def user_id(index):
    return '10000000-0000-4000-8000-%012d' % (index + 1)


def login(index):
    return 'prop.user%d' % index


accounts = st.fixed_dictionaries({
    'activated': st.booleans(),
    'enabled': st.booleans(),
    'email': st.sampled_from(EMAILS),
    'contact': st.dictionaries(st.sampled_from(FIELDS), st.sampled_from(VALUES), max_size=4),
})
desires = st.fixed_dictionaries({}, optional={
    'email': st.sampled_from(EMAILS),
    'contact': st.dictionaries(st.sampled_from(FIELDS), st.sampled_from(VALUES), min_size=1, max_size=3),
    'state': st.sampled_from(('enabled', 'disabled')),
    'if_activated': st.sampled_from(IF_ACTIVATED),
}).filter(lambda wanted: any(key in wanted for key in ('email', 'contact', 'state')))
scenarios = st.fixed_dictionaries({
    'accounts': st.lists(st.tuples(accounts, desires, st.sampled_from(('user_id', 'login'))), min_size=1, max_size=6),
    'if_activated': st.sampled_from(IF_ACTIVATED),
})


def initial_state(demo_state, scenario):
    state = {'config': copy.deepcopy(demo_state['config']), 'tenants': copy.deepcopy(demo_state['tenants']),
             'clients': copy.deepcopy(demo_state['clients']), 'users': []}
    for index, (account, _wanted, _selector) in enumerate(scenario['accounts']):
        contact = dict(account['contact'], email=account['email'])
        state['users'].append({'id': user_id(index), 'tenant_id': ACME, 'login': login(index), 'activated': account['activated'],
                               'enabled': account['enabled'], 'contact': contact})
    return state


def items(scenario):
    out = []
    for index, (_account, wanted, selector) in enumerate(scenario['accounts']):
        item = dict(wanted)
        item[selector] = user_id(index) if selector == 'user_id' else login(index)
        out.append(item)
    return out


def email_differs(current, wanted):
    return current.strip().lower() != wanted.strip().lower()


def expected_outcome(account, wanted, default_if_activated):
    """(error expected, account after one run, pending email, re-mails on every run)"""
    if_activated = wanted.get('if_activated') or default_if_activated
    email_change = 'email' in wanted and email_differs(account['email'], wanted['email'])
    if email_change and account['activated'] and if_activated == 'fail':
        return True, account, None, False
    after = copy.deepcopy(account)
    after['contact'].update(wanted.get('contact', {}))
    if 'state' in wanted:
        after['enabled'] = wanted['state'] == 'enabled'
    pending = None
    remail = False
    if email_change:
        if not account['activated']:
            after['email'] = wanted['email']
        elif if_activated == 'request_confirmation':
            pending = wanted['email']
            remail = True
    return False, after, pending, remail


def outcome_of(result):
    """The outcome fields of a result; a single module's in the shape of a cloud_users results entry."""
    outcome = dict((key, result.get(key)) for key in ('changed', 'pending_confirmation', 'diff', 'error'))
    # A single module's diff of no change is {before: {}, after: {}}; a cloud_users entry's is {}.
    if outcome['diff'] == {'before': {}, 'after': {}}:
        outcome['diff'] = {}
    return outcome


def writes(emulator):
    return [entry for entry in emulator.requests() if entry['method'] == 'PUT']


def check_converged(emulator, scenario, real, second, second_writes):
    """The state after one run, and what the second run did."""
    by_index = dict((result['index'], result) for result in real['results'])
    remails = 0
    for index, (account, wanted, _selector) in enumerate(scenario['accounts']):
        error, after, pending, remail = expected_outcome(account, wanted, scenario['if_activated'])
        stored = emulator.user(user_id(index))
        assert bool(by_index[index]['error']) is error, (index, by_index[index])
        if error:
            assert 'if_activated=fail' in by_index[index]['error']
        assert stored['enabled'] == after['enabled'], index
        assert stored['contact']['email'] == after['email'], index
        assert stored['pending_email'] == pending, index
        for field in FIELDS:
            assert stored['contact'][field] == after['contact'].get(field, ''), (index, field)
        again = second['results'][index]
        if remail:
            remails += 1
            assert again['changed'] is True and again['pending_confirmation'] is True, again
        else:
            assert again['changed'] is False, (index, again)
            if not error:
                assert again['diff'] == {}, again
        assert bool(again['error']) is error
    assert len(second_writes) == remails
    assert all(set(entry['body']['contact']) == {'email'} for entry in second_writes)


def bulk_args(emulator, scenario):
    return {'base_url': emulator.url, 'client_id': CLIENT_ID, 'client_secret': 'demo-client-secret-0123456789', 'token_cache': False,
            'users': items(scenario), 'if_activated': scenario['if_activated']}


def start_example(emulator, demo_state, scenario, examples):
    """Count the example, load its accounts into the emulator and return the cloud_users arguments for it."""
    examples['count'] += 1
    examples['accounts'] += len(scenario['accounts'])
    emulator.reset(initial_state(demo_state, scenario))
    return bulk_args(emulator, scenario)


def test_bulk_check_mode_predicts_and_runs_converge(emulator, demo_state):
    examples = {'count': 0, 'accounts': 0, 'writes': 0}

    @settings(max_examples=BULK_EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(scenarios)
    def check(scenario):
        args = start_example(emulator, demo_state, scenario, examples)

        predicted = run_in_process('cloud_users', args, check_mode=True)
        assert writes(emulator) == []
        emulator.clear_requests()
        real = run_in_process('cloud_users', args, check_mode=False)
        examples['writes'] += len(writes(emulator))
        assert [outcome_of(result) for result in predicted['results']] == [outcome_of(result) for result in real['results']]
        for key in ('changed', 'failed', 'summary', 'diff'):
            assert predicted.get(key) == real.get(key), key
        assert all(entry['status'] == 200 for entry in writes(emulator))

        emulator.clear_requests()
        second = run_in_process('cloud_users', args, check_mode=False)
        check_converged(emulator, scenario, real, second, writes(emulator))

    check()
    record_figures('properties_bulk', examples=examples['count'], accounts=examples['accounts'], writes=examples['writes'])


single_cases = st.tuples(
    accounts,
    st.sampled_from(('cloud_user_email', 'cloud_user_contact', 'cloud_user_state')),
    st.sampled_from(EMAILS),
    st.dictionaries(st.sampled_from(FIELDS), st.sampled_from(VALUES), min_size=1, max_size=3),
    st.sampled_from(('enabled', 'disabled')),
    st.sampled_from(IF_ACTIVATED),
    st.sampled_from(('user_id', 'login')),
)


def test_single_modules_check_mode_predicts_and_runs_converge(emulator, demo_state):
    examples = {'count': 0, 'writes': 0}

    @settings(max_examples=SINGLE_EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(single_cases)
    def check(case):
        account, module, email, contact, state, if_activated, selector = case
        examples['count'] += 1
        wanted = {'cloud_user_email': {'email': email, 'if_activated': if_activated},
                  'cloud_user_contact': {'contact': contact},
                  'cloud_user_state': {'state': state}}[module]
        scenario = {'accounts': [(account, wanted, selector)], 'if_activated': if_activated}
        emulator.reset(initial_state(demo_state, scenario))
        args = {'base_url': emulator.url, 'client_id': CLIENT_ID, 'client_secret': 'demo-client-secret-0123456789', 'token_cache': False}
        args.update(wanted)
        args[selector] = user_id(0) if selector == 'user_id' else login(0)

        predicted = run_in_process(module, args, check_mode=True)
        assert writes(emulator) == []
        emulator.clear_requests()
        real = run_in_process(module, args, check_mode=False)
        examples['writes'] += len(writes(emulator))
        for key in ('failed', 'changed', 'pending_confirmation', 'diff'):
            assert predicted.get(key) == real.get(key), key
        emulator.clear_requests()
        second = run_in_process(module, args, check_mode=False)
        as_bulk = {'results': [dict(outcome_of(real), index=0, error=real.get('msg') if real['failed'] else None)]}
        again = {'results': [dict(outcome_of(second), error=second.get('msg') if second['failed'] else None)]}
        check_converged(emulator, scenario, as_bulk, again, writes(emulator))

    check()
    record_figures('properties_single', examples=examples['count'], writes=examples['writes'])


def segments(log):
    """The request log split at each token request: one segment per task (the token cache is off)."""
    parts = []
    for entry in log:
        if entry['method'] == 'POST' and entry['path'].endswith('/idp/token'):
            parts.append([])
        parts[-1].append(entry)
    return parts


def test_playbook_runs_check_mode_predicts_and_converge(emulator, demo_state, run_playbook):
    examples = {'count': 0, 'accounts': 0}

    @settings(max_examples=PLAYBOOK_EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(scenarios)
    def check(scenario):
        args = start_example(emulator, demo_state, scenario, examples)
        task = {'accountops.cloud.cloud_users': args, 'ignore_errors': True, 'diff': True}
        book = json.dumps([{'name': 'properties', 'hosts': 'localhost', 'gather_facts': False, 'tasks': [
            dict(task, name='Predict', check_mode=True), dict(task, name='Apply'), dict(task, name='Again')]}], indent=1)
        run = run_playbook(book)
        assert 'Traceback' not in run.stdout + run.stderr, run.explain()
        predicted, real, second = run.task('Predict'), run.task('Apply'), run.task('Again')
        assert [outcome_of(result) for result in predicted['results']] == [outcome_of(result) for result in real['results']]
        assert predicted['changed'] == real['changed'] and predicted['summary'] == real['summary']
        assert predicted.get('diff') == real.get('diff')
        parts = segments(emulator.requests())
        assert len(parts) == 3
        assert [entry for entry in parts[0] if entry['method'] == 'PUT'] == []
        check_converged(emulator, scenario, real, second, [entry for entry in parts[2] if entry['method'] == 'PUT'])

    check()
    record_figures('properties_playbook', examples=examples['count'], accounts=examples['accounts'])
