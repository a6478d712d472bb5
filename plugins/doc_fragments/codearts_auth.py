# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  endpoint:
    description:
      - The CodeArts Repo API host URL of your region, for example C(https://codehub-ext.cn-north-4.myhuaweicloud.com).
      - C(http://) is refused unless the host is a loopback address.
      - If not set, the value of the E(CODEARTS_REPO_ENDPOINT) environment variable is used. One of the two is required.
    type: str
  auth_token:
    description:
      - An IAM user token, sent as C(X-Auth-Token). Used instead of IAM password authentication when given.
      - If not set, the value of the E(HUAWEICLOUD_AUTH_TOKEN) environment variable is used.
    type: str
  iam_endpoint:
    description:
      - The IAM URL that issues tokens from O(user_name), O(password), O(domain_name) and O(project_name).
      - If not set, the value of the E(HUAWEICLOUD_IAM_ENDPOINT) environment variable is used.
    type: str
    default: https://iam.myhuaweicloud.com
  user_name:
    description:
      - IAM user name for password authentication (a HUAWEI ID cannot obtain tokens; use an IAM user).
      - If not set, the value of the E(HUAWEICLOUD_USER_NAME) environment variable is used.
    type: str
  password:
    description:
      - IAM user password. Never written to results or logs.
      - If not set, the value of the E(HUAWEICLOUD_PASSWORD) environment variable is used.
    type: str
  domain_name:
    description:
      - The account (domain) name the IAM user belongs to.
      - If not set, the value of the E(HUAWEICLOUD_DOMAIN_NAME) environment variable is used.
    type: str
  project_name:
    description:
      - The project the token is scoped to; CodeArts Repo needs a project-scoped token. Usually the region, such as C(cn-north-4).
      - If not set, the value of the E(HUAWEICLOUD_PROJECT_NAME) environment variable is used.
    type: str
notes:
  - Set the authentication once with C(module_defaults) and the action group C(group/accountops.cloud.codearts).
'''
