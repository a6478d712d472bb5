#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r'''
module: cloud_users
short_description: Converge many Acronis Cyber Protect Cloud accounts in one task
version_added: 1.0.0
description:
  - Brings a list of accounts to their desired email, contact fields and enabled state in one task, with the same rules
    as M(accountops.cloud.cloud_user_email), M(accountops.cloud.cloud_user_contact) and M(accountops.cloud.cloud_user_state)
    (the same code does the work).
  - Reads accounts in batches of 100 (C(GET /users?uuids=)). Logins are looked up with a search each when there are at most
    ten, otherwise with one listing of the tenant. Writes only what differs, with O(workers) concurrent writers, each write
    carrying the revision C(version) just read.
  - Every entry gets a result in RV(results), in input order. An invalid entry or one account's failure does not stop the
    others; the task fails at the end, naming each failed account.
author:
  - accountops.cloud maintainers (@accountops)
extends_documentation_fragment:
  - accountops.cloud.cloud_auth
  - accountops.cloud.connection
  - accountops.cloud.attributes
options:
  users:
    description:
      - The accounts and their desired state. Each entry is a dictionary with
      - C(user_id) (UUID) B(or) C(login) (exact login) to select the account;
      - and at least one of C(email) (as O(accountops.cloud.cloud_user_email#module:email)),
        C(contact) (a dictionary of contact fields, as O(accountops.cloud.cloud_user_contact#module:contact)),
        C(state) (V(enabled) or V(disabled)), and optionally C(if_activated) to override O(if_activated) for that account.
      - Entries are checked one by one before any request; a bad entry gets its error in its result and the others go on.
    type: list
    elements: dict
    required: true
  if_activated:
    description:
      - What to do when an account is activated and its email differs; see
        O(accountops.cloud.cloud_user_email#module:if_activated).
      - Scheduled runs should use V(skip), so that users are not mailed on every run.
    type: str
    choices: [request_confirmation, skip, fail]
    default: request_confirmation
  workers:
    description:
      - How many writes run at the same time (1 to 32).
    type: int
    default: 8
  tenant_id:
    description:
      - The tenant to list when many logins are looked up. Defaults to the API client's own tenant.
    type: str
seealso:
  - module: accountops.cloud.cloud_user_info
  - plugin: accountops.cloud.cloud_users
    plugin_type: inventory
'''

EXAMPLES = r'''
- name: Converge a tenant's accounts from a list kept in the inventory
  accountops.cloud.cloud_users:
    base_url: https://eu2-cloud.acronis.com
    client_id: "{{ acronis_client_id }}"
    client_secret: "{{ acronis_client_secret }}"
    if_activated: skip
    users:
      - login: jdoe
        email: john.doe@example.com
        contact: {firstname: John, lastname: Doe}
      - user_id: 1c234e69-5469-424a-a6d1-ff5658b387a6
        state: disabled
  register: sync

- name: List the accounts whose new email waits for a confirmation
  ansible.builtin.debug:
    msg: "{{ sync.results | selectattr('pending_confirmation') | map(attribute='login') | list }}"
'''

RETURN = r'''
results:
  description: One entry per input account, in input order.
  returned: always
  type: list
  elements: dict
  contains:
    index:
      description: Position of the entry in O(users).
      type: int
    user_id:
      description: The account's UUID (when found).
      type: str
    login:
      description: The account's login (when found).
      type: str
    changed:
      description: Whether this account was (or in check mode would be) changed.
      type: bool
    pending_confirmation:
      description: The account is activated and its email differs, so the change waits for the user's confirmation.
      type: bool
    diff:
      description:
        - The managed fields that change, as C(before) and C(after).
        - An empty dictionary when nothing changes (or the account failed).
      type: dict
    error:
      description: Why this account failed, or V(null).
      type: str
  sample:
    - {index: 0, user_id: 1c234e69-5469-424a-a6d1-ff5658b387a6, login: jdoe, changed: true, pending_confirmation: false,
       diff: {before: {contact: {firstname: Jon}}, after: {contact: {firstname: John}}}, error: null}
summary:
  description: Counts of accounts in total, changed, pending a confirmation, and failed.
  returned: always
  type: dict
  sample: {total: 2, changed: 1, pending_confirmation: 0, failed: 0}
diff:
  description: The changes by account (login or id), when run with C(--diff).
  returned: when diff mode is on
  type: dict
'''

from ansible_collections.accountops.cloud.plugins.module_utils._module import run_module
from ansible_collections.accountops.cloud.plugins.module_utils._tasks import CLOUD_USERS


def main():
    run_module(CLOUD_USERS)


if __name__ == "__main__":
    main()
