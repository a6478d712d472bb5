#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r'''
module: cloud_user_state
short_description: Enable or disable an Acronis Cyber Protect Cloud account
version_added: 1.0.0
description:
  - Reads the account and sends C(PUT /users/{id}) with C(enabled) and the revision C(version) just read, only when the
    account's state differs from O(state).
  - A disabled account cannot log in, and its tokens are refused.
author:
  - accountops.cloud maintainers (@accountops)
extends_documentation_fragment:
  - accountops.cloud.cloud_auth
  - accountops.cloud.connection
  - accountops.cloud.user_selector
  - accountops.cloud.attributes
options:
  state:
    description:
      - Whether the account should be V(enabled) or V(disabled).
    type: str
    required: true
    choices: [enabled, disabled]
seealso:
  - module: accountops.cloud.cloud_users
  - name: Disabling a user account (Acronis developer guide)
    description: The API call this module makes.
    link: https://developer.acronis.com/doc/account-management/v2/guide/users/disabling-user
'''

EXAMPLES = r'''
- name: Disable a leaver's account
  accountops.cloud.cloud_user_state:
    base_url: https://eu2-cloud.acronis.com
    client_id: "{{ acronis_client_id }}"
    client_secret: "{{ acronis_client_secret }}"
    login: jdoe
    state: disabled

- name: Make sure an account is enabled, showing what would change
  accountops.cloud.cloud_user_state:
    user_id: 1c234e69-5469-424a-a6d1-ff5658b387a6
    state: enabled
  check_mode: true
  diff: true
'''

RETURN = r'''
user:
  description: The account as the API returned it after the run (as read, in check mode or when nothing changed).
  returned: success
  type: dict
  sample:
    id: 1c234e69-5469-424a-a6d1-ff5658b387a6
    login: jdoe
    enabled: false
    version: 5
diff:
  description: The state before and after, when run with C(--diff). Empty dictionaries when nothing changes.
  returned: when diff mode is on
  type: dict
  sample: {before: {state: enabled}, after: {state: disabled}}
'''

from ansible_collections.accountops.cloud.plugins.module_utils._module import run_module
from ansible_collections.accountops.cloud.plugins.module_utils._tasks import CLOUD_USER_STATE


def main():
    run_module(CLOUD_USER_STATE)


if __name__ == "__main__":
    main()
