# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

import time

import pytest

from ansible_collections.accountops.cloud.plugins.module_utils._cloud import CloudClient, api_url
from ansible_collections.accountops.cloud.plugins.module_utils._http import ApiError


def uid(number):
    return "00000000-0000-4000-8000-%012d" % number


class Recorder:
    """Replaces CloudClient.request: records calls and answers from a function."""

    def __init__(self, answer):
        self.calls = []
        self.answer = answer

    def __call__(self, method, path, params=None, json_body=None):
        self.calls.append((method, path, dict(params or {})))
        return self.answer(method, path, params or {})


def client_with(answer):
    client = CloudClient("http://127.0.0.1:1", client_id="cid", access_token="token")
    client.request = Recorder(answer)
    return client


@pytest.mark.parametrize("given", ["https://eu2-cloud.acronis.com", "https://eu2-cloud.acronis.com/", "https://eu2-cloud.acronis.com/api/2"])
def test_api_url_accepts_console_url_with_or_without_api_2(given):
    assert api_url(given) == "https://eu2-cloud.acronis.com/api/2"


def test_get_users_asks_at_most_100_per_call():
    client = client_with(lambda method, path, params: {"items": [{"id": u} for u in params["uuids"].split(",")]})
    users = client.get_users([uid(n) for n in range(250)])
    assert len(users) == 250
    assert [len(call[2]["uuids"].split(",")) for call in client.request.calls] == [100, 100, 50]


def test_get_users_keeps_only_the_fields_asked_for():
    client = client_with(lambda method, path, params: {"items": [{"id": u, "login": "x", "language": "en", "contact": {"firstname": "A"}}
                                                                 for u in params["uuids"].split(",")]})
    users = client.get_users([uid(1), uid(2)], fields=("id", "contact", "version"))
    assert users == [{"id": uid(1), "contact": {"firstname": "A"}}, {"id": uid(2), "contact": {"firstname": "A"}}]


def test_tenant_listing_follows_cursors_and_sends_the_cursor_alone():
    pages = {None: ({"items": [{"id": uid(1)}], "paging": {"cursors": {"after": "c1"}}}),
             "c1": ({"items": [{"id": uid(2)}], "paging": {"cursors": {}}})}
    client = client_with(lambda method, path, params: pages[params.get("after")])
    assert [user["id"] for user in client.iter_tenant_users(uid(0))] == [uid(1), uid(2)]
    assert client.request.calls[1][2] == {"after": "c1"}


def test_find_by_login_compares_exactly_after_substring_search():
    def answer(method, path, params):
        if path.startswith("/clients/"):
            return {"tenant_id": uid(0)}
        if path == "/search":
            return {"items": [{"obj_type": "user", "id": uid(1), "login": "jdoe2"}, {"obj_type": "user", "id": uid(2), "login": "jdoe"},
                              {"obj_type": "tenant", "id": uid(3), "name": "jdoe"}]}
        return {"items": [{"id": uid(2), "login": "jdoe"}]}
    client = client_with(answer)
    assert client.find_users_by_login("jdoe") == [{"id": uid(2), "login": "jdoe"}]
    assert client.request.calls[-1][2] == {"uuids": uid(2)}


def test_find_by_login_lists_the_tenant_when_search_may_be_cut_short():
    def answer(method, path, params):
        if path.startswith("/clients/"):
            return {"tenant_id": uid(0)}
        if path == "/search":
            return {"items": [{"obj_type": "user", "id": uid(n), "login": "ab%d" % n} for n in range(params["limit"])]}
        return {"items": [{"id": uid(9999), "login": "ab"}]}
    client = client_with(answer)
    assert client.find_users_by_login("ab") == [{"id": uid(9999), "login": "ab"}]
    assert client.request.calls[-1][2]["subtree_root_tenant_id"] == uid(0)


def test_login_lookup_without_client_id_is_a_clear_error():
    client = CloudClient("http://127.0.0.1:1", access_token="token")
    with pytest.raises(ApiError, match="needs client_id"):
        client.own_tenant_id()


def cached_client(cache_dir, answer):
    client = CloudClient("http://127.0.0.1:1", client_id="cid", client_secret="secret", cache_dir=cache_dir)
    client.request = Recorder(answer)
    client._fetch_token = lambda: client._store_token("tok") or "tok"  # pylint: disable=protected-access
    client._token_expires_on = time.time() + 3600  # pylint: disable=protected-access
    return client


def test_the_client_tenant_is_learned_once_per_token_and_kept_in_the_token_cache(tmp_path):
    def answer(method, path, params):
        return {"tenant_id": uid(7)} if path.startswith("/clients/") else {}
    cache_dir = str(tmp_path / "tokens")
    first = cached_client(cache_dir, answer)
    assert first.own_tenant_id() == uid(7)
    assert first.own_tenant_id() == uid(7)
    assert [call[1] for call in first.request.calls] == ["/clients/cid"]
    # The next task (a new client, as in a new module run) reads it with the token: no GET /clients.
    second = cached_client(cache_dir, answer)
    assert second.own_tenant_id() == uid(7)
    assert second.request.calls == []
    # A client with another secret has its own token and learns the tenant itself.
    other = CloudClient("http://127.0.0.1:1", client_id="cid", client_secret="other", cache_dir=cache_dir)
    other.request = Recorder(answer)
    other._fetch_token = lambda: "tok2"  # pylint: disable=protected-access
    assert other.own_tenant_id() == uid(7)
    assert [call[1] for call in other.request.calls] == ["/clients/cid"]
