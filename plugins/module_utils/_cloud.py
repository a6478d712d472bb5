# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Client for the Acronis Cyber Protect Cloud account management API v2.

PRIVATE to accountops.cloud. Knows *how* to talk to the API: tokens, paths,
batching, paging and error shapes. What to change is decided elsewhere.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

import threading
import time

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.accountops.cloud.plugins.module_utils._http import ApiError, HttpClient, check_url
from ansible_collections.accountops.cloud.plugins.module_utils._token_cache import FileTokenCache, TokenCacheError

API_PREFIX = "/api/2"
BATCH_SIZE = 100  # the API's maximum number of uuids per GET /users
PAGE_SIZE = 1000
SEARCH_LIMIT = 1000
# A stale version is 409 on users; the platform uses 426 for the same thing on quotas.
CONFLICT_STATUSES = (409, 426)


def api_url(base_url):
    """Accept the data-center URL as the console shows it, with or without a trailing /api/2."""
    url = check_url(base_url, "base_url")
    if url.endswith(API_PREFIX):
        url = url[:-len(API_PREFIX)]
    return url + API_PREFIX


def is_conflict(error):
    return isinstance(error, ApiError) and error.status in CONFLICT_STATUSES


class CloudClient:
    def __init__(self, base_url, client_id=None, client_secret=None, access_token=None, validate_certs=True,
                 ca_path=None, timeout=30, retries=3, retry_budget=120, token_cache=True, cache_dir=None,
                 on_retry=None, on_warning=None):
        self.url = api_url(base_url)
        self.client_id = client_id
        self.client_secret = client_secret
        self.given_token = access_token
        self.http = HttpClient(validate_certs=validate_certs, ca_path=ca_path, timeout=timeout,
                               retries=retries, retry_budget=retry_budget, on_retry=on_retry)
        self.cache = FileTokenCache(cache_dir) if token_cache and not access_token else None
        self.on_warning = on_warning
        self._token = access_token
        self._token_expires_on = None
        self._tenant_id = None
        self.token_requests = 0
        # Bulk writes run in threads; only one of them may fetch a token.
        self._token_lock = threading.Lock()

    # -- authentication -------------------------------------------------

    def _fetch_token(self):
        if not (self.client_id and self.client_secret):
            raise ApiError("no credentials: set access_token, or client_id and client_secret "
                           "(or the ACRONIS_CLIENT_ID and ACRONIS_CLIENT_SECRET environment variables)")
        self.token_requests += 1
        data = self.http.request_json(
            "POST", self.url + "/idp/token", data={"grant_type": "client_credentials"},
            auth=(self.client_id, self.client_secret))
        if not isinstance(data, dict) or not data.get("access_token"):
            raise ApiError("POST %s/idp/token: the answer carries no access_token" % self.url, url=self.url + "/idp/token")
        self._token_expires_on = data.get("expires_on") or (time.time() + float(data.get("expires_in") or 0))
        self._store_token(data["access_token"])
        return data["access_token"]

    def _store_token(self, token):
        if self.cache is None:
            return
        try:
            self.cache.put(self.url, self.client_id, token, self._token_expires_on, secret=self.client_secret, tenant_id=self._tenant_id)
        except (TokenCacheError, OSError) as exc:
            self._warn("token cache not written: %s" % exc)

    def _current_token(self):
        with self._token_lock:
            return self._token or self._load_token()

    def _load_token(self):
        if self.cache is not None:
            try:
                entry = self.cache.get_entry(self.url, self.client_id, secret=self.client_secret)
            except (TokenCacheError, OSError) as exc:
                self._warn("token cache not used: %s" % exc)
                self.cache = None
                entry = None
            if entry:
                self._token, self._token_expires_on = entry["access_token"], entry["expires_on"]
                self._tenant_id = self._tenant_id or entry.get("tenant_id")
        if not self._token:
            self._token = self._fetch_token()
        return self._token

    def _warn(self, message):
        if self.on_warning is not None:
            self.on_warning(message)

    def _forget_token(self, token):
        with self._token_lock:
            if self._token == token:
                if self.cache is not None:
                    self.cache.drop(self.url, self.client_id, secret=self.client_secret)
                self._token = None

    def request(self, method, path, params=None, json_body=None):
        """One authenticated call; an expired token is renewed once; a malformed answer is an ApiError."""
        validate = answer_check(method, path)
        for attempt in (1, 2):
            token = self._current_token()
            try:
                return self.http.request_json(method, self.url + path, params=params, json_body=json_body, validate=validate,
                                              headers={"Authorization": "Bearer %s" % token})
            except ApiError as exc:
                can_renew = self.client_id and self.client_secret
                if exc.status != 401 or attempt == 2 or not can_renew:
                    raise
                self._forget_token(token)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- users ------------------------------------------------------------

    def get_user(self, user_id):
        return self.request("GET", "/users/%s" % user_id)

    def get_users(self, user_ids, readers=1, fields=None):
        """Batch read in chunks of 100, up to `readers` chunks at a time; unknown ids are simply absent.

        fields: keep only these top-level fields of each account, chunk by chunk. A caller that holds
        10,000 accounts at once and needs a few fields keeps a third of the memory.
        """
        ids = list(user_ids)
        chunks = [ids[start:start + BATCH_SIZE] for start in range(0, len(ids), BATCH_SIZE)]

        def read(chunk):
            users = self.request("GET", "/users", params={"uuids": ",".join(chunk)})["items"]
            if fields is None:
                return users
            return [dict((key, user[key]) for key in fields if key in user) for user in users]

        if readers > 1 and len(chunks) > 1:
            # Reads are independent: a small pool hides the round trips of 100 sequential calls.
            with ThreadPoolExecutor(max_workers=min(readers, len(chunks))) as pool:
                pages = list(pool.map(read, chunks))
        else:
            pages = [read(chunk) for chunk in chunks]
        return [user for page in pages for user in page]

    def iter_tenant_users(self, tenant_id, page_size=PAGE_SIZE):
        """Every account under a tenant, following paging cursors."""
        params = {"subtree_root_tenant_id": tenant_id, "limit": page_size, "lod": "full"}
        while True:
            data = self.request("GET", "/users", params=params)
            yield from data["items"]
            paging = data.get("paging") if isinstance(data.get("paging"), dict) else {}
            cursors = paging.get("cursors") if isinstance(paging.get("cursors"), dict) else {}
            after = cursors.get("after")
            if not after or not data.get("items"):
                return
            # The cursor encodes every filter: send it alone.
            params = {"after": after}

    def update_user(self, user_id, body):
        return self.request("PUT", "/users/%s" % user_id, json_body=body)

    def own_tenant_id(self):
        """The tenant of the API client: the root of what it may see and search.

        Learned once per token and kept with it in the token cache, so a playbook of login lookups
        asks for it once, not once per task.
        """
        if not self.client_id:
            raise ApiError("finding an account by login needs client_id (to learn the API client's tenant); "
                           "give client_id, or select the account by user_id")
        token = self._current_token()  # a cached token brings the tenant learned with it
        if self._tenant_id is None:
            data = self.request("GET", "/clients/%s" % self.client_id)
            tenant_id = data.get("tenant_id") if isinstance(data, dict) else None
            if not tenant_id:
                raise ApiError("GET /clients/%s: the answer carries no tenant_id" % self.client_id)
            self._tenant_id = tenant_id
            if self._token == token and self._token_expires_on:
                self._store_token(token)
        return self._tenant_id

    def search_user_ids(self, text, tenant_id=None, limit=SEARCH_LIMIT):
        """User ids whose login matches text exactly, and whether search may have cut its list short."""
        data = self.request("GET", "/search", params={"tenant": tenant_id or self.own_tenant_id(), "text": text, "limit": limit})
        items = data["items"]
        ids = [item.get("id") for item in items
               if item.get("obj_type") == "user" and item.get("login") == text and item.get("id")]
        return ids, len(items) >= limit

    def find_users_by_login(self, login):
        """Accounts whose login equals login exactly: search, then a batch read and an exact comparison.

        Search matches substrings and stops at its limit; when the list may be cut short and
        holds no exact hit, the tenant is listed instead, so an account is never missed.
        """
        ids, truncated = self.search_user_ids(login)
        if ids:
            users = self.get_users(ids)
        elif truncated:
            users = self.iter_tenant_users(self.own_tenant_id())
        else:
            users = []
        return [user for user in users if user.get("login") == login and not user.get("deleted_at")]


def user_problem(data):
    """What keeps data from being a user object this module can work with, or None."""
    if not isinstance(data, dict):
        return "a user object was expected, got %s" % type(data).__name__
    if not isinstance(data.get("id"), str) or not data["id"]:
        return "the user object has no id"
    if not isinstance(data.get("version"), int) or isinstance(data.get("version"), bool):
        return "user %s has no integer version" % data["id"]
    if not isinstance(data.get("contact", {}), (dict, type(None))):
        return "user %s has a contact that is not an object" % data["id"]
    return None


def _items_problem(data, item_problem):
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        return "the answer has no 'items' list"
    for index, item in enumerate(data["items"]):
        problem = item_problem(item)
        if problem:
            return "items[%d]: %s" % (index, problem)
    return None


def user_list_problem(data):
    return _items_problem(data, user_problem)


def search_problem(data):
    return _items_problem(data, lambda item: None if isinstance(item, dict) else "a search hit was expected, got %s" % type(item).__name__)


def answer_check(method, path):
    """The check for the answer of a call, by method and path (None: the caller checks what it uses)."""
    if path == "/search":
        return search_problem
    if path == "/users" and method == "GET":
        return user_list_problem
    if path.startswith("/users/") and path.count("/") == 2 and method in ("GET", "PUT"):
        return user_problem
    return None
