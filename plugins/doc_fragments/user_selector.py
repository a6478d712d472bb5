# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  user_id:
    description:
      - UUID of the account.
      - Exactly one of O(user_id) and O(login) is required.
    type: str
  login:
    description:
      - Exact login of the account. It is found with the API's search and a batch read, and compared exactly
        (search alone matches substrings).
      - The task fails, naming the login, when no account or more than one account has it.
      - Needs O(client_id), which tells the API client's tenant to search in.
    type: str
'''
