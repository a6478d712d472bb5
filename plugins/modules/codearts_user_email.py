#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r'''
module: codearts_user_email
short_description: Set the commit email of the Huawei CodeArts Repo user
version_added: 1.0.0
description:
  - Reads the commit email of the user the token belongs to (C(GET /v4/user/emails)) and changes it only when it differs
    (compared case-insensitively).
  - A change needs a verification code mailed to the new address, so it takes two runs. Run with
    O(send_verify_code=true) to have the code mailed; then run with O(verify_code) set to it, which sends
    C(PUT /v4/user/emails).
  - When the address differs and neither O(verify_code) nor O(send_verify_code) is given, the task fails and explains
    the two steps.
author:
  - accountops.cloud maintainers (@accountops)
extends_documentation_fragment:
  - accountops.cloud.codearts_auth
  - accountops.cloud.connection
  - accountops.cloud.attributes
options:
  email:
    description:
      - The commit email the user should have. It must be unique among CodeArts users.
    type: str
    required: true
  verify_code:
    description:
      - The verification code mailed to O(email) by an earlier run with O(send_verify_code=true).
      - Used only when the address differs; never shown in results or logs.
    type: str
  send_verify_code:
    description:
      - When the address differs and no O(verify_code) is given, ask CodeArts to mail a code to O(email)
        (C(POST /v4/user/email-verify-code)). The task then reports C(changed=false), RV(verify_code_sent=true) and a warning.
      - Check mode never sends the mail.
    type: bool
    default: false
seealso:
  - name: Updating an email address (CodeArts Repo API)
    description: The API call this module makes.
    link: https://support.huaweicloud.com/intl/en-us/api-codeartsrepo/UpdateUserEmails.html
'''

EXAMPLES = r'''
- name: Step 1 - have a verification code mailed to the new commit email
  accountops.cloud.codearts_user_email:
    endpoint: https://codehub-ext.cn-north-4.myhuaweicloud.com
    auth_token: "{{ codearts_token }}"
    email: jdoe@example.com
    send_verify_code: true

- name: Step 2 - change it with the code from the mailbox
  accountops.cloud.codearts_user_email:
    endpoint: https://codehub-ext.cn-north-4.myhuaweicloud.com
    auth_token: "{{ codearts_token }}"
    email: jdoe@example.com
    verify_code: "{{ code_from_mail }}"

- name: With an IAM token obtained from user name and password (all settable through HUAWEICLOUD_* variables)
  accountops.cloud.codearts_user_email:
    endpoint: https://codehub-ext.cn-north-4.myhuaweicloud.com
    user_name: ci-bot
    password: "{{ iam_password }}"
    domain_name: acme
    project_name: cn-north-4
    email: ci-bot@example.com
    send_verify_code: true
'''

RETURN = r'''
commit_email:
  description: The user's commit email after the run.
  returned: success
  type: str
  sample: jdoe@example.com
verify_code_sent:
  description: V(true) when this run mailed a verification code to O(email).
  returned: success
  type: bool
  sample: false
user:
  description: The CodeArts user as the API returned it (C(id), C(name), C(username), C(state), C(commit_email), ...).
  returned: success
  type: dict
  sample: {id: 21820, name: jdoe, username: ac105e52a4764a4c8f29b306508f016d, state: active, commit_email: jdoe@example.com}
diff:
  description: The commit email before and after, when run with C(--diff).
  returned: when diff mode is on
  type: dict
  sample: {before: {commit_email: jdoe_iid@example.com}, after: {commit_email: jdoe@example.com}}
'''

from ansible_collections.accountops.cloud.plugins.module_utils._module import run_module
from ansible_collections.accountops.cloud.plugins.module_utils._tasks import CODEARTS_USER_EMAIL


def main():
    run_module(CODEARTS_USER_EMAIL)


if __name__ == "__main__":
    main()
