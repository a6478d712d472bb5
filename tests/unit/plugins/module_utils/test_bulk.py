# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

from ansible_collections.accountops.cloud.plugins.module_utils._bulk import (
    SEARCH_PER_LOGIN_MAX, bulk_failure_message, converge_many, read_accounts,
)
from ansible_collections.accountops.cloud.tests.unit.plugins.module_utils.fake_cloud import FakeCloudClient, make_user


def uid(number):
    return "00000000-0000-4000-8000-%012d" % number


def tenant(count, activated_every=0):
    return FakeCloudClient(*[make_user(user_id=uid(n), login="user%03d" % n, email="user%03d@example.com" % n,
                                       activated=bool(activated_every and n % activated_every == 0)) for n in range(count)])


def test_results_in_input_order_and_failures_do_not_stop_others():
    client = tenant(5)
    warnings = []
    items = [
        {"user_id": uid(3), "state": "disabled"},
        {"login": "user001", "contact": {"city": "Rivertown"}},
        {"user_id": "not-a-uuid", "state": "disabled"},
        {"login": "nobody", "state": "disabled"},
        {"user_id": uid(2), "email": "bad"},
        {"user_id": uid(4), "contact": {"firstname": "John"}},
        {"login": "user003", "state": "enabled"},
    ]
    results, summary = converge_many(client, items, False, warnings.append)
    assert [result["index"] for result in results] == list(range(len(items)))
    assert [result["changed"] for result in results] == [True, True, False, False, False, False, False]
    assert "users[2].user_id must be a UUID" in results[2]["error"]
    assert "no account with login 'nobody'" in results[3]["error"]
    assert "users[4].email must be a valid email" in results[4]["error"]
    assert results[5]["error"] is None and results[5]["changed"] is False
    assert "already listed as users[0]" in results[6]["error"]
    assert summary == {"total": 7, "changed": 2, "pending_confirmation": 0, "failed": 4}
    assert len(client.writes()) == 2
    assert bulk_failure_message(results, summary).startswith("4 of 7 accounts failed: users[2]")


def test_many_logins_cost_one_listing_not_one_search_each():
    client = tenant(50)
    items = [{"login": "user%03d" % n, "state": "enabled"} for n in range(SEARCH_PER_LOGIN_MAX + 5)]
    results, _summary = converge_many(client, items, False, lambda message: None)
    assert all(result["error"] is None for result in results)
    kinds = [call[0] for call in client.calls]
    assert kinds.count("LIST") == 1 and "FIND" not in kinds and "PUT" not in kinds
    # Nothing changes, so no account has a diff.
    assert all(result["diff"] == {} and result["changed"] is False for result in results)


def test_check_mode_writes_nothing_and_one_warning_for_many_pending():
    client = tenant(30, activated_every=2)
    warnings = []
    items = [{"user_id": uid(n), "email": "new%03d@example.com" % n} for n in range(30)]
    results, summary = converge_many(client, items, True, warnings.append)
    assert client.writes() == []
    assert summary["changed"] == 30 and summary["pending_confirmation"] == 15
    assert len(warnings) == 1 and warnings[0].startswith("15 activated accounts would be mailed")
    assert results[1]["diff"] == {"before": {"email": "user001@example.com"}, "after": {"email": "new001@example.com"}}


def test_read_accounts_reports_missing():
    client = tenant(3)
    found = read_accounts(client, user_ids=[uid(1), uid(9)], logins=["user002", "ghost"])
    assert [user["login"] for user in found["users"]] == ["user001", "user002"]
    assert found["missing"] == [uid(9), "ghost"]
