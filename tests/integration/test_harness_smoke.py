"""Smoke tests of the integration harness itself (no collection module involved).

They prove the pipeline: ansible-playbook from the venv under test, the
results callback (with no_log masking), the TLS emulator and its request log.
"""

from __future__ import annotations

import json

SMOKE_PLAYBOOK = """
- name: Harness smoke test
  hosts: localhost
  gather_facts: false
  vars:
    api: "{{ base_url | regex_replace('/+$', '') | regex_replace('/api/2$', '') }}/api/2"
  tasks:
    - name: Get a token
      ansible.builtin.uri:
        url: "{{ api }}/idp/token"
        method: POST
        body_format: form-urlencoded
        body:
          grant_type: client_credentials
        url_username: "{{ client_id }}"
        url_password: "{{ client_secret }}"
        force_basic_auth: true
        ca_path: "{{ ca_file }}"
        status_code: 200
      register: token
      no_log: true

    - name: Read one user
      ansible.builtin.uri:
        url: "{{ api }}/users/{{ user_id }}"
        headers:
          Authorization: "Bearer {{ token.json.access_token }}"
        ca_path: "{{ ca_file }}"
        return_content: true
        status_code: 200
      register: user

    - name: Never runs
      ansible.builtin.debug:
        msg: skipped
      when: false
"""

STATUS_PLAYBOOK = """
- name: Callback statuses
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Plain ok
      ansible.builtin.set_fact:
        answer: 42

    - name: Reported changed
      ansible.builtin.debug:
        msg: "{{ answer }}"
      changed_when: true

    - name: Failing but ignored
      ansible.builtin.fail:
        msg: expected failure
      ignore_errors: true

    - name: Secret output
      ansible.builtin.debug:
        msg: hunter2-not-to-be-logged
      no_log: true

    - name: Skipped
      ansible.builtin.debug:
        msg: never
      when: false
"""


def _first_user_id(state):
    users = state.get('users') or []
    assert users, 'demo state has no users'
    user = users[0]
    return user.get('id') or user.get('user_id')


def test_callback_records_each_status(run_playbook):
    result = run_playbook(STATUS_PLAYBOOK).assert_ok()

    assert [r['task'] for r in result.results] == [
        'Plain ok', 'Reported changed', 'Failing but ignored', 'Secret output', 'Skipped']
    assert result.status('Plain ok') == 'ok'
    assert result.task('Plain ok')['ansible_facts'] == {'answer': 42}
    assert result.status('Reported changed') == 'changed'
    assert result.status('Failing but ignored') == 'failed'
    assert result.record('Failing but ignored')['ignore_errors'] is True
    assert result.task('Failing but ignored')['msg'] == 'expected failure'
    assert result.status('Skipped') == 'skipped'
    assert all(r['host'] == 'localhost' for r in result.results)
    # the callback sees what Ansible hands to callbacks: no_log output is censored
    assert 'hunter2' not in json.dumps(result.records)
    assert 'censored' in result.task('Secret output')
    assert result.summary()['changed'] == 1
    assert result.summary()['ignored'] == 1


def test_token_and_one_read_against_emulator(emulator, demo_state, run_playbook, cloud_auth_tls):
    emulator.reset(demo_state)
    emulator.clear_requests()
    user_id = _first_user_id(demo_state)

    result = run_playbook(SMOKE_PLAYBOOK, extra_vars={
        'base_url': cloud_auth_tls['base_url'],
        'client_id': cloud_auth_tls['client_id'],
        'client_secret': cloud_auth_tls['client_secret'],
        'ca_file': cloud_auth_tls['ca_path'],
        'user_id': user_id,
    }).assert_ok()

    token = result.record('Get a token')
    assert token['status'] == 'ok'
    assert 'access_token' not in json.dumps(token), 'no_log result reached the callback unmasked'

    read = result.task('Read one user')
    assert read['status'] == 200
    assert read['json']['id'] == user_id
    assert result.status('Read one user') == 'ok'
    assert result.status('Never runs') == 'skipped'
    assert result.summary()['changed'] == 0

    log = emulator.requests()
    token_calls = [r for r in log if r['method'] == 'POST' and r['path'].rstrip('/').endswith('/idp/token')]
    reads = [r for r in log if r['method'] == 'GET' and r['path'].rstrip('/').endswith('/users/%s' % user_id)]
    assert len(token_calls) == 1, log
    assert len(reads) == 1, log
    assert len(log) == 2, log
    assert token_calls[0]['status'] == 200
    assert reads[0]['status'] == 200
    assert {r['api'] for r in log} == {'cloud'}
    assert emulator.requests(api='cloud') == log
