# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Many accounts in one task: batch reads, bulk login resolution, a bounded pool of writers.

PRIVATE to accountops.cloud. Each account is converged by the same
converge_account() the single modules use.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

import threading
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.accountops.cloud.plugins.module_utils._accounts import Desired, TaskFailed, converge_account
from ansible_collections.accountops.cloud.plugins.module_utils._args import InputError, check_login, check_selector, check_uuid
from ansible_collections.accountops.cloud.plugins.module_utils._http import ApiError

# Up to this many logins are looked up one search each; more cost one listing of the tenant instead.
SEARCH_PER_LOGIN_MAX = 10
# Concurrent batch reads: enough to hide round trips, few enough to be gentle with the API.
READERS_MAX = 4
# What converge_account() reads of an account; the rest of a batch-read account is dropped on arrival.
CONVERGE_FIELDS = ("id", "login", "version", "enabled", "activated", "contact")
ITEM_KEYS = ("user_id", "login", "email", "contact", "state", "if_activated")
# Warnings name at most this many accounts, so 5,000 pending confirmations stay one readable line.
NAMES_IN_WARNING = 10


def _error_text(exc):
    return exc.msg if isinstance(exc, TaskFailed) else str(exc)


def resolve_logins(client, logins, tenant_id=None):
    """Map each login to the accounts that have it exactly: a search each when few, one tenant listing when many."""
    found = dict((login, []) for login in logins)
    if not logins:
        return found
    if len(logins) <= SEARCH_PER_LOGIN_MAX:
        for login in logins:
            found[login] = client.find_users_by_login(login)
        return found
    for user in client.iter_tenant_users(tenant_id or client.own_tenant_id()):
        if user.get("login") in found and not user.get("deleted_at"):
            found[user["login"]].append(user)
    return found


def read_accounts(client, user_ids=None, logins=None, tenant_id=None):
    """The cloud_user_info job: accounts by ids, by exact logins, or every account under a tenant."""
    users, missing = [], []
    if tenant_id:
        users.extend(client.iter_tenant_users(check_uuid(tenant_id, "tenant_id")))
    ids = [check_uuid(value, "user_ids[%d]" % index) for index, value in enumerate(user_ids or [])]
    if ids:
        by_id = dict((user["id"], user) for user in client.get_users(ids))
        users.extend(by_id[uid] for uid in ids if uid in by_id)
        missing.extend(uid for uid in ids if uid not in by_id)
    names = [check_login(value, "logins[%d]" % index) for index, value in enumerate(logins or [])]
    if names:
        matches = resolve_logins(client, names)
        for name in names:
            users.extend(matches[name])
            if not matches[name]:
                missing.append(name)
    return {"changed": False, "users": users, "missing": missing}


class _Item:
    """One entry of the users list, with its outcome."""

    def __init__(self, index, raw):
        self.index = index
        self.raw = raw if isinstance(raw, dict) else {}
        self.user_id = None
        self.login = None
        self.desired = None
        self.account = None
        # diff stays {} unless the account changes: 10,000 unchanged accounts then cost one empty dict each, not
        # three, in a result that ansible-core pickles and copies several times (a 10,000-account re-check: -0.17 s).
        self.outcome = {"changed": False, "pending_confirmation": False, "diff": {}, "error": None}

    def check(self, defaults):
        prefix = "users[%d]." % self.index
        unknown = sorted(set(self.raw) - set(ITEM_KEYS))
        if unknown:
            raise InputError("%s has unknown keys %s; supported: %s" % ("users[%d]" % self.index, ", ".join(unknown), ", ".join(ITEM_KEYS)))
        self.user_id, self.login = check_selector(self.raw, prefix)
        params = dict(self.raw)
        params.setdefault("if_activated", defaults.get("if_activated"))
        if all(params.get(key) is None for key in ("email", "contact", "state")):
            raise InputError("%s sets nothing to manage: give email, contact or state" % ("users[%d]" % self.index))
        self.desired = Desired.from_params(params, prefix)

    def fail(self, message):
        self.outcome["error"] = message

    def result(self):
        account = self.account or {}
        return dict(self.outcome, index=self.index, user_id=account.get("id") or self.user_id,
                    login=account.get("login") or self.login)


def converge_many(client, raw_items, check_mode, warn, workers=8, defaults=None, tenant_id=None):
    """The cloud_users job. Every input account gets a result, in input order; failures do not stop the others."""
    items = [_Item(index, raw) for index, raw in enumerate(raw_items)]
    for item in items:
        try:
            item.check(defaults or {})
        except (InputError, TaskFailed) as exc:
            item.fail(_error_text(exc))
    valid = [item for item in items if item.outcome["error"] is None]

    # Read: ids in batches of 100, logins by search or one tenant listing.
    wanted_ids = sorted(set(item.user_id for item in valid if item.user_id))
    by_id = dict((user["id"], user) for user in client.get_users(wanted_ids, readers=min(workers, READERS_MAX), fields=CONVERGE_FIELDS))
    by_login = resolve_logins(client, sorted(set(item.login for item in valid if item.login)), tenant_id)
    owners = {}
    for item in valid:
        if item.user_id:
            item.account = by_id.get(item.user_id)
            if item.account is None:
                item.fail("no account with user_id %s" % item.user_id)
                continue
        else:
            matches = by_login[item.login]
            if len(matches) != 1:
                item.fail("no account with login %r" % item.login if not matches else
                          "%d accounts have login %r (%s); select one by user_id"
                          % (len(matches), item.login, ", ".join(sorted(user["id"] for user in matches))))
                continue
            item.account = matches[0]
        first = owners.setdefault(item.account["id"], item.index)
        if first != item.index:
            # Two entries for one account would race each other; the first one wins.
            item.fail("account %s is already listed as users[%d]" % (item.account["id"], first))

    pending_mailed = []

    def converge(item):
        notes = []
        try:
            outcome = converge_account(client, item.account, item.desired, check_mode, notes.append)
        except (TaskFailed, ApiError) as exc:
            item.fail(_error_text(exc))
            return
        item.account = outcome.pop("user")
        diff = outcome.pop("diff")
        item.outcome.update(outcome)
        if diff["before"] or diff["after"]:
            item.outcome["diff"] = diff
        if notes:
            pending_mailed.append(item.account.get("login") or item.account["id"])

    todo = [item for item in items if item.outcome["error"] is None]
    if todo:
        pending = iter(todo)
        pending_lock = threading.Lock()

        def drain():
            # Each writer takes the next account until none is left: one future per writer, not one per account
            # (for 10,000 accounts that need no write, 1.0 s became 0.75 s on a 2-core machine).
            while True:
                with pending_lock:
                    item = next(pending, None)
                if item is None:
                    return
                converge(item)

        count = max(1, min(workers, len(todo)))
        with ThreadPoolExecutor(max_workers=count) as pool:
            for future in [pool.submit(drain) for _index in range(count)]:
                future.result()

    if pending_mailed:
        names = sorted(pending_mailed)
        warn("%d activated accounts %s a confirmation link for their new email (%s%s); each address changes only when its "
             "user opens the link. Use if_activated=skip in scheduled runs so users are not mailed on every run."
             % (len(names), "would be mailed" if check_mode else "were mailed", ", ".join(names[:NAMES_IN_WARNING]),
                ", ..." if len(names) > NAMES_IN_WARNING else ""))
    results = [item.result() for item in items]
    summary = {
        "total": len(results),
        "changed": sum(1 for result in results if result["changed"]),
        "pending_confirmation": sum(1 for result in results if result["pending_confirmation"]),
        "failed": sum(1 for result in results if result["error"]),
    }
    return results, summary


def bulk_failure_message(results, summary):
    failed = [result for result in results if result["error"]]
    names = ["%s (%s)" % (result["login"] or result["user_id"] or "users[%d]" % result["index"], result["error"]) for result in failed]
    return "%d of %d accounts failed: %s" % (summary["failed"], summary["total"], "; ".join(names))
