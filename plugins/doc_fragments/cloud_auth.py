# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  base_url:
    description:
      - The data-center URL of the Acronis Cyber Protect Cloud account API, as the management portal shows it
        when you create an API client, for example C(https://eu2-cloud.acronis.com).
      - A trailing C(/api/2) is accepted too.
      - C(http://) is refused unless the host is a loopback address, so that a token never crosses a network in clear text.
      - If not set, the value of the E(ACRONIS_BASE_URL) environment variable is used. One of the two is required.
    type: str
  client_id:
    description:
      - Client ID of an API client (Settings > API clients in the management portal).
      - Used with O(client_secret) to obtain a token by the OAuth client-credentials grant.
      - Also needed to find accounts by login, because it tells the API client's tenant.
      - If not set, the value of the E(ACRONIS_CLIENT_ID) environment variable is used.
    type: str
  client_secret:
    description:
      - Secret of the API client. Never written to the token cache, results or logs.
      - If not set, the value of the E(ACRONIS_CLIENT_SECRET) environment variable is used.
    type: str
  access_token:
    description:
      - A bearer token obtained elsewhere. Used instead of O(client_id) and O(client_secret) when given.
      - An access token cannot be renewed; when it expires the task fails with HTTP 401.
      - If not set, the value of the E(ACRONIS_ACCESS_TOKEN) environment variable is used.
    type: str
  token_cache:
    description:
      - Reuse a token between tasks on the same machine, so a playbook of many tasks asks for one token.
      - The token (never the secret) is kept in C($XDG_CACHE_HOME/accountops.cloud/tokens) (default C(~/.cache/...)),
        mode 0600 in a 0700 folder, and used until shortly before it expires; a cache file with looser permissions
        or another owner is refused.
      - The API client's tenant, which finding an account by its login needs, is kept with the token, so it too is
        asked for once per token rather than once per task.
      - If not set, the value of the E(ACRONIS_TOKEN_CACHE) environment variable is used.
    type: bool
    default: true
notes:
  - Set the authentication once for every task of the collection with
    C(module_defaults) and the action group C(group/accountops.cloud.cloud).
seealso:
  - name: Acronis account management API, authentication
    description: How to create an API client and what the data-center URL is.
    link: https://developer.acronis.com/doc/account-management/v2/guide/overview/auth
'''
