# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Secrets guarantee, token cache part (issue 5): only the token is written, 0600 in 0700, and a cache that
another user owns or that others can read is neither read nor written.

"Another owner" cannot be set up without root, so os.lstat is patched; the looser-permissions case is also
proven end to end in tests/integration/test_reliability_secrets.py.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

import json
import os
import stat
import time

import pytest

from ansible_collections.accountops.cloud.plugins.module_utils import _token_cache
from ansible_collections.accountops.cloud.plugins.module_utils._cloud import CloudClient
from ansible_collections.accountops.cloud.plugins.module_utils._token_cache import FileTokenCache, TokenCacheError

URL = "https://eu2-cloud.example.com/api/2"
SECRET = "client-secret-never-written-4711"


def foreign_lstat(monkeypatch, owner_of):
    """Make os.lstat (as the cache module sees it) report another uid for the paths owner_of(path) selects."""
    real_lstat = os.lstat

    def lstat(path, *args, **kwargs):
        info = real_lstat(path, *args, **kwargs)
        if not owner_of(str(path)):
            return info
        fields = list(info)
        fields[stat.ST_UID] = os.getuid() + 1000
        return os.stat_result(fields)

    monkeypatch.setattr(_token_cache.os, "lstat", lstat)


def test_cache_file_holds_only_the_token_0600_in_0700(tmp_path):
    cache = FileTokenCache(str(tmp_path / "tokens"))
    cache.put(URL, "client", "tok-abc", time.time() + 3600)
    files = os.listdir(cache.directory)
    assert len(files) == 1
    path = os.path.join(cache.directory, files[0])
    with open(path) as handle:
        entry = json.load(handle)
    assert sorted(entry) == ["access_token", "expires_on"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(cache.directory).st_mode) == 0o700
    # The file name is a hash: neither the client id nor the URL shows in the folder listing.
    assert "client" not in files[0] and "example" not in files[0]


@pytest.mark.parametrize("target", ["file", "folder"])
def test_cache_owned_by_another_user_is_refused(tmp_path, monkeypatch, target):
    cache = FileTokenCache(str(tmp_path / "tokens"))
    cache.put(URL, "client", "planted-token", time.time() + 3600)
    if target == "file":
        foreign_lstat(monkeypatch, lambda path: path.endswith(".json"))
    else:
        foreign_lstat(monkeypatch, lambda path: path == cache.directory)
    with pytest.raises(TokenCacheError, match="belongs to another user"):
        cache.get(URL, "client")


def test_foreign_cache_is_not_written_either(tmp_path, monkeypatch):
    cache = FileTokenCache(str(tmp_path / "tokens"))
    os.makedirs(cache.directory, mode=0o700)
    foreign_lstat(monkeypatch, lambda path: path == cache.directory)
    with pytest.raises(TokenCacheError, match="belongs to another user"):
        cache.put(URL, "client", "tok", time.time() + 3600)
    assert os.listdir(cache.directory) == []


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o666])
def test_cache_file_readable_by_others_is_refused(tmp_path, mode):
    cache = FileTokenCache(str(tmp_path / "tokens"))
    cache.put(URL, "client", "tok", time.time() + 3600)
    path = os.path.join(cache.directory, os.listdir(cache.directory)[0])
    os.chmod(path, mode)
    with pytest.raises(TokenCacheError, match="looser than 0600"):
        cache.get(URL, "client")


def test_symlinked_cache_file_is_refused(tmp_path):
    cache = FileTokenCache(str(tmp_path / "tokens"))
    cache.put(URL, "client", "tok", time.time() + 3600)
    path = os.path.join(cache.directory, os.listdir(cache.directory)[0])
    target = tmp_path / "elsewhere.json"
    os.rename(path, str(target))
    os.symlink(str(target), path)
    with pytest.raises(TokenCacheError, match="not a regular file"):
        cache.get(URL, "client")


class TokenServer:
    """Stands in for HttpClient.request_json of the token endpoint."""

    def __init__(self):
        self.calls = 0

    def __call__(self, method, url, **kwargs):
        self.calls += 1
        assert method == "POST" and url.endswith("/idp/token")
        return {"access_token": "fresh-token-%d" % self.calls, "expires_in": 7200}


def test_client_ignores_a_foreign_cache_warns_and_asks_for_a_token(tmp_path, monkeypatch):
    directory = str(tmp_path / "tokens")
    FileTokenCache(directory).put(URL, "client", "planted-token", time.time() + 3600, secret=SECRET)
    foreign_lstat(monkeypatch, lambda path: path.endswith(".json"))
    warnings = []
    client = CloudClient(URL, client_id="client", client_secret=SECRET, cache_dir=directory, on_warning=warnings.append)
    server = TokenServer()
    client.http.request_json = server
    assert client._current_token() == "fresh-token-1"  # pylint: disable=protected-access
    assert server.calls == 1
    assert len(warnings) == 1 and "belongs to another user" in warnings[0]
    assert "planted-token" not in warnings[0] and SECRET not in warnings[0]


def test_secret_never_reaches_the_cache(tmp_path):
    directory = str(tmp_path / "tokens")
    client = CloudClient(URL, client_id="client", client_secret=SECRET, cache_dir=directory)
    client.http.request_json = TokenServer()
    client._current_token()  # pylint: disable=protected-access
    for name in os.listdir(directory):
        with open(os.path.join(directory, name)) as handle:
            text = handle.read()
        assert SECRET not in text
        assert json.loads(text)["access_token"] == "fresh-token-1"
