#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r'''
module: cloud_user_email
short_description: Set the email address of an Acronis Cyber Protect Cloud account
version_added: 1.0.0
description:
  - Reads the account, and changes its email with C(PUT /users/{id}) only when it differs (compared case-insensitively),
    carrying the revision C(version) just read.
  - A B(non-activated) account's email changes at once.
  - An B(activated) account's email does not change on the API call; the platform mails a confirmation link and the address
    changes only when the user opens it. O(if_activated) chooses what to do then. A scheduled compliance run wants
    O(if_activated=skip), so that the user is not mailed on every run.
  - If the account was changed by someone else between the read and the write, the module reads it again and applies only
    what still differs.
author:
  - accountops.cloud maintainers (@accountops)
extends_documentation_fragment:
  - accountops.cloud.cloud_auth
  - accountops.cloud.connection
  - accountops.cloud.user_selector
  - accountops.cloud.attributes
options:
  email:
    description:
      - The email address the account should have.
      - Checked before any request; it must be an ASCII address such as C(name@example.com).
    type: str
    required: true
  if_activated:
    description:
      - What to do when the account is activated and its email differs.
      - V(request_confirmation) sends the change; the platform mails a confirmation link. The task reports C(changed=true),
        RV(pending_confirmation=true) and a warning. Every run until the user confirms mails the user again.
      - V(skip) sends nothing and reports C(changed=false) and RV(pending_confirmation=true).
      - V(fail) fails the task with a message naming the account.
    type: str
    choices: [request_confirmation, skip, fail]
    default: request_confirmation
seealso:
  - module: accountops.cloud.cloud_user_contact
  - module: accountops.cloud.cloud_users
  - name: Changing a user account email (Acronis developer guide)
    description: The API behaviour this module implements.
    link: https://developer.acronis.com/doc/account-management/v2/guide/users/changing-email
'''

EXAMPLES = r'''
- name: Set the email of an account found by login
  accountops.cloud.cloud_user_email:
    base_url: https://eu2-cloud.acronis.com
    client_id: "{{ acronis_client_id }}"
    client_secret: "{{ acronis_client_secret }}"
    login: jdoe
    email: john.doe@example.com

- name: Hourly compliance run - never mail activated users, just report them
  accountops.cloud.cloud_user_email:
    user_id: 1c234e69-5469-424a-a6d1-ff5658b387a6
    email: john.doe@example.com
    if_activated: skip
  register: email_result

- name: Tell someone which accounts still wait for a confirmation
  ansible.builtin.debug:
    msg: "{{ email_result.user.login }} has not confirmed its new email yet"
  when: email_result.pending_confirmation

- name: Authentication from the environment (ACRONIS_BASE_URL, ACRONIS_CLIENT_ID, ACRONIS_CLIENT_SECRET) or module_defaults
  module_defaults:
    group/accountops.cloud.cloud:
      base_url: https://eu2-cloud.acronis.com
      client_id: "{{ acronis_client_id }}"
      client_secret: "{{ acronis_client_secret }}"
  block:
    - name: Set the email
      accountops.cloud.cloud_user_email:
        login: jdoe
        email: john.doe@example.com
'''

RETURN = r'''
user:
  description: The account as the API returned it after the run (as read, in check mode or when nothing changed).
  returned: success
  type: dict
  sample:
    id: 1c234e69-5469-424a-a6d1-ff5658b387a6
    login: jdoe
    version: 3
    activated: false
    enabled: true
    contact: {email: john.doe@example.com, firstname: John, lastname: Doe}
pending_confirmation:
  description:
    - V(true) when the account is activated and its email differs from O(email), so the change waits for the user
      to open a confirmation link (whether or not one was requested in this run).
  returned: success
  type: bool
  sample: false
diff:
  description: The email before and after, when run with C(--diff). Empty dictionaries when nothing changes.
  returned: when diff mode is on
  type: dict
  sample: {before: {email: old@example.com}, after: {email: john.doe@example.com}}
'''

from ansible_collections.accountops.cloud.plugins.module_utils._module import run_module
from ansible_collections.accountops.cloud.plugins.module_utils._tasks import CLOUD_USER_EMAIL


def main():
    run_module(CLOUD_USER_EMAIL)


if __name__ == "__main__":
    main()
