# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

import os
import stat
import time

import pytest

from ansible_collections.accountops.cloud.plugins.module_utils._token_cache import FileTokenCache, TokenCacheError


def test_round_trip_and_permissions(tmp_path):
    cache = FileTokenCache(str(tmp_path / "tokens"))
    cache.put("https://x/api/2", "client", "tok-1", time.time() + 3600)
    assert cache.get("https://x/api/2", "client") == "tok-1"
    assert cache.get("https://x/api/2", "other-client") is None
    assert stat.S_IMODE(os.stat(cache.directory).st_mode) == 0o700
    files = os.listdir(cache.directory)
    assert len(files) == 1
    assert stat.S_IMODE(os.stat(os.path.join(cache.directory, files[0])).st_mode) == 0o600
    with open(os.path.join(cache.directory, files[0])) as handle:
        assert "client" not in handle.read().replace("tok-1", "")


def test_the_entry_keeps_the_client_tenant(tmp_path):
    cache = FileTokenCache(str(tmp_path / "tokens"))
    expires_on = time.time() + 3600
    cache.put("https://x/api/2", "client", "tok-1", expires_on, secret="s")
    assert cache.get_entry("https://x/api/2", "client", secret="s") == {"access_token": "tok-1", "expires_on": expires_on}
    cache.put("https://x/api/2", "client", "tok-1", expires_on, secret="s", tenant_id="t-1")
    assert cache.get_entry("https://x/api/2", "client", secret="s")["tenant_id"] == "t-1"
    assert cache.get("https://x/api/2", "client", secret="s") == "tok-1"
    assert cache.get_entry("https://x/api/2", "client", secret="other") is None


def test_token_close_to_expiry_is_not_reused(tmp_path):
    cache = FileTokenCache(str(tmp_path))
    os.chmod(str(tmp_path), 0o700)
    cache.put("u", "c", "tok", time.time() + 60)
    assert cache.get("u", "c") is None


def test_loose_permissions_are_refused(tmp_path):
    cache = FileTokenCache(str(tmp_path / "tokens"))
    cache.put("u", "c", "tok", time.time() + 3600)
    path = os.path.join(cache.directory, os.listdir(cache.directory)[0])
    os.chmod(path, 0o644)
    with pytest.raises(TokenCacheError, match="looser than 0600"):
        cache.get("u", "c")
    os.chmod(path, 0o600)
    os.chmod(cache.directory, 0o755)
    with pytest.raises(TokenCacheError, match="looser than 0700"):
        cache.get("u", "c")


def test_drop(tmp_path):
    cache = FileTokenCache(str(tmp_path / "tokens"))
    cache.put("u", "c", "tok", time.time() + 3600)
    cache.drop("u", "c")
    assert cache.get("u", "c") is None


def test_a_different_secret_does_not_reuse_the_token(tmp_path):
    cache = FileTokenCache(str(tmp_path / "tokens"))
    cache.put("u", "c", "tok", time.time() + 3600, secret="right")
    assert cache.get("u", "c", secret="right") == "tok"
    assert cache.get("u", "c", secret="wrong") is None
    with open(os.path.join(cache.directory, os.listdir(cache.directory)[0])) as handle:
        assert "right" not in handle.read()
