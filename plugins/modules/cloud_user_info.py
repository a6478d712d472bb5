#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r'''
module: cloud_user_info
short_description: Read Acronis Cyber Protect Cloud accounts
version_added: 1.0.0
description:
  - Reads accounts by UUID, by exact login, or every account under a tenant. Changes nothing.
  - UUIDs are read in batches of 100 (C(GET /users?uuids=)); a tenant is listed page by page
    (C(GET /users?subtree_root_tenant_id=)).
author:
  - accountops.cloud maintainers (@accountops)
extends_documentation_fragment:
  - accountops.cloud.cloud_auth
  - accountops.cloud.connection
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: N/A
    description: Changes nothing, so there is no diff.
  idempotent:
    support: full
    description: Read-only.
options:
  user_ids:
    description: UUIDs of the accounts to read.
    type: list
    elements: str
  logins:
    description: Exact logins of the accounts to read. Logins not found are listed in RV(missing).
    type: list
    elements: str
  tenant_id:
    description: Read every account under this tenant (the tenant and its whole subtree).
    type: str
notes:
  - At least one of O(user_ids), O(logins) and O(tenant_id) is required; they can be combined.
seealso:
  - module: accountops.cloud.cloud_users
'''

EXAMPLES = r'''
- name: Every account of a tenant
  accountops.cloud.cloud_user_info:
    tenant_id: ede9f834-70b3-476c-83d9-736f9f8c7dae
  register: tenant_accounts

- name: Accounts by login
  accountops.cloud.cloud_user_info:
    logins: [jdoe, asmith]
  register: found

- name: Fail when a login does not exist
  ansible.builtin.assert:
    that: found.missing | length == 0
    fail_msg: "unknown logins: {{ found.missing | join(', ') }}"
'''

RETURN = r'''
users:
  description: The accounts found, as the API returns them.
  returned: success
  type: list
  elements: dict
  sample: [{id: 1c234e69-5469-424a-a6d1-ff5658b387a6, login: jdoe, enabled: true, activated: true, version: 3,
            contact: {email: john.doe@example.com, firstname: John, lastname: Doe}}]
missing:
  description: The requested logins and UUIDs that match no account.
  returned: success
  type: list
  elements: str
  sample: [nobody]
'''

from ansible_collections.accountops.cloud.plugins.module_utils._module import run_module
from ansible_collections.accountops.cloud.plugins.module_utils._tasks import CLOUD_USER_INFO


def main():
    run_module(CLOUD_USER_INFO)


if __name__ == "__main__":
    main()
