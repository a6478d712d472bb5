# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""A per-user file cache of bearer tokens, so fifty tasks ask for one token, not fifty.

PRIVATE to accountops.cloud. Only the token, its expiry and the API client's
tenant id (learned once per token, so login lookups do not ask for it in every
task) are written, never the client secret. Files are 0600 in a 0700 folder; a file with looser
permissions or another owner is refused (and never read).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

import hashlib
import json
import os
import stat
import tempfile
import time

# Tokens are reused until this many seconds before they expire.
EXPIRY_MARGIN = 300


def default_cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "accountops.cloud", "tokens")


class TokenCacheError(Exception):
    pass


class FileTokenCache:
    def __init__(self, directory=None):
        self.directory = directory or default_cache_dir()

    def _path(self, url, client_id, secret=None):
        # The secret's hash is part of the key, so a wrong or rotated secret never rides on a token
        # fetched with the right one. Only this one-way digest of it reaches the file name.
        parts = [url, client_id]
        if secret is not None:
            parts.append(hashlib.sha256(secret.encode("utf-8")).hexdigest())
        key = hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()
        return os.path.join(self.directory, key + ".json")

    def _check_safe(self, path, want_dir):
        info = os.lstat(path)
        if want_dir and not stat.S_ISDIR(info.st_mode) or not want_dir and not stat.S_ISREG(info.st_mode):
            raise TokenCacheError("token cache %s is not a regular %s" % (path, "folder" if want_dir else "file"))
        if info.st_uid != os.getuid():
            raise TokenCacheError("token cache %s belongs to another user (uid %s); refusing to use it" % (path, info.st_uid))
        if info.st_mode & 0o077:
            raise TokenCacheError("token cache %s has permissions %s, looser than %s; refusing to use it"
                                  % (path, oct(info.st_mode & 0o777), "0700" if want_dir else "0600"))

    def _ensure_dir(self):
        if not os.path.isdir(self.directory):
            os.makedirs(self.directory, mode=0o700)
        self._check_safe(self.directory, want_dir=True)

    def get_entry(self, url, client_id, secret=None):
        """The entry of a token still valid for EXPIRY_MARGIN seconds, else None.

        An entry is {"access_token", "expires_on"} and, once learned, the API client's "tenant_id".
        """
        path = self._path(url, client_id, secret)
        if not os.path.exists(path):
            return None
        self._check_safe(self.directory, want_dir=True)
        self._check_safe(path, want_dir=False)
        try:
            with open(path) as handle:
                entry = json.load(handle)
            if entry["access_token"] and float(entry["expires_on"]) - EXPIRY_MARGIN > time.time():
                return entry
        except (ValueError, KeyError, TypeError, OSError):
            pass
        return None

    def get(self, url, client_id, secret=None):
        """A token still valid for EXPIRY_MARGIN seconds, else None."""
        entry = self.get_entry(url, client_id, secret)
        return entry["access_token"] if entry else None

    def put(self, url, client_id, access_token, expires_on, secret=None, tenant_id=None):
        """Store a token (and the API client's tenant, when known) for url and client_id."""
        entry = {"access_token": access_token, "expires_on": expires_on}
        if tenant_id:
            entry["tenant_id"] = tenant_id
        self._ensure_dir()
        # Write to a 0600 temp file, then rename: readers never see a half-written token.
        handle, temp_path = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
        try:
            os.fchmod(handle, 0o600)
            with os.fdopen(handle, "w") as stream:
                json.dump(entry, stream)
            os.rename(temp_path, self._path(url, client_id, secret))
        except BaseException:
            if os.path.exists(temp_path):
                os.unlink(temp_path)
            raise

    def drop(self, url, client_id, secret=None):
        try:
            os.unlink(self._path(url, client_id, secret))
        except OSError:
            pass
