# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

import pytest

from ansible_collections.accountops.cloud.plugins.module_utils._accounts import (
    Desired, Plan, TaskFailed, converge_account, managed_view, resolve_account,
)
from ansible_collections.accountops.cloud.plugins.module_utils._args import InputError
from ansible_collections.accountops.cloud.tests.unit.plugins.module_utils.fake_cloud import FakeCloudClient, make_user

UID = "1c234e69-5469-424a-a6d1-ff5658b387a6"


def converge(client, desired, check_mode=False):
    warnings = []
    result = converge_account(client, client.get_user(UID), desired, check_mode, warnings.append)
    return result, warnings


def test_plan_only_given_contact_keys_and_null_equals_empty():
    user = make_user(city=None, fax="")
    plan = Plan(user, Desired(contact={"city": "", "fax": "", "firstname": "John"}))
    assert plan.contact == {}
    plan = Plan(user, Desired(contact={"city": "Rivertown", "lastname": "Doe"}))
    assert plan.contact == {"city": "Rivertown"}


def test_plan_email_is_case_insensitive():
    assert Plan(make_user(email="JDoe@Example.com"), Desired(email="jdoe@example.COM")).email is None


def test_unchanged_account_sends_no_write():
    client = FakeCloudClient(make_user())
    result, _warnings = converge(client, Desired(contact={"firstname": "John"}, email="jdoe@example.com", enabled=True))
    assert result["changed"] is False
    assert client.writes() == []
    assert result["diff"] == {"before": {}, "after": {}}


def test_contact_sends_only_differing_keys_with_version():
    client = FakeCloudClient(make_user(version=7))
    result, _warnings = converge(client, Desired(contact={"firstname": "Johnny", "lastname": "Doe", "city": "Rivertown"}))
    assert result["changed"] is True
    assert client.writes() == [("PUT", UID, {"contact": {"city": "Rivertown", "firstname": "Johnny"}, "version": 7})]
    assert result["diff"] == {"before": {"contact": {"city": "", "firstname": "John"}},
                              "after": {"contact": {"city": "Rivertown", "firstname": "Johnny"}}}
    assert result["user"]["version"] == 8


def test_check_mode_predicts_without_writing():
    client = FakeCloudClient(make_user())
    result, _warnings = converge(client, Desired(enabled=False), check_mode=True)
    assert result["changed"] is True
    assert result["diff"] == {"before": {"state": "enabled"}, "after": {"state": "disabled"}}
    assert client.writes() == []


def test_non_activated_email_changes_in_one_put():
    client = FakeCloudClient(make_user(version=2))
    result, warnings = converge(client, Desired(email="new@example.com"))
    assert client.writes() == [("PUT", UID, {"contact": {"email": "new@example.com"}, "version": 2})]
    assert result["changed"] is True and result["pending_confirmation"] is False
    assert warnings == []


@pytest.mark.parametrize("mode,changed,writes", [("request_confirmation", True, 1), ("skip", False, 0)])
def test_activated_email(mode, changed, writes):
    client = FakeCloudClient(make_user(activated=True))
    result, warnings = converge(client, Desired(email="new@example.com", if_activated=mode))
    assert result["changed"] is changed
    assert result["pending_confirmation"] is True
    assert len(client.writes()) == writes
    assert bool(warnings) is (mode == "request_confirmation")


def test_activated_email_fail_names_the_account():
    client = FakeCloudClient(make_user(activated=True))
    with pytest.raises(TaskFailed, match="jdoe is activated"):
        converge(client, Desired(email="new@example.com", if_activated="fail"))
    assert client.writes() == []


def test_activated_email_goes_in_its_own_put_after_other_fields():
    client = FakeCloudClient(make_user(activated=True, version=3))
    result, _warnings = converge(client, Desired(email="new@example.com", contact={"city": "X"}))
    assert client.writes() == [
        ("PUT", UID, {"contact": {"city": "X"}, "version": 3}),
        ("PUT", UID, {"contact": {"email": "new@example.com"}, "version": 4}),
    ]
    assert result["pending_confirmation"] is True


def test_version_conflict_rereads_and_applies_only_what_still_differs():
    client = FakeCloudClient(make_user(version=1))

    def other_writer(user):
        # Someone else sets the same city and another field meanwhile.
        user["contact"]["city"] = "Rivertown"
        user["contact"]["title"] = "CTO"
        user["version"] += 1

    client.before_put.append(other_writer)
    result, _warnings = converge(client, Desired(contact={"city": "Rivertown", "firstname": "Johnny"}))
    puts = client.writes()
    assert len(puts) == 2
    assert puts[1] == ("PUT", UID, {"contact": {"firstname": "Johnny"}, "version": 2})
    assert result["user"]["contact"]["title"] == "CTO"
    assert result["changed"] is True


def test_endless_conflicts_give_up():
    client = FakeCloudClient(make_user())

    def bump(user):
        user["version"] += 1

    client.before_put.extend([bump] * 10)
    with pytest.raises(TaskFailed, match="version conflicts"):
        converge(client, Desired(enabled=False))


def test_resolve_by_login_none_and_several():
    client = FakeCloudClient(make_user(), make_user(user_id="2c234e69-5469-424a-a6d1-ff5658b387a6"))
    with pytest.raises(TaskFailed, match="2 accounts have login 'jdoe'"):
        resolve_account(client, login="jdoe")
    with pytest.raises(TaskFailed, match="no account with login 'nobody'"):
        resolve_account(client, login="nobody")
    with pytest.raises(TaskFailed, match="no account with user_id"):
        resolve_account(client, user_id="3c234e69-5469-424a-a6d1-ff5658b387a6")


@pytest.mark.parametrize("params,message", [
    ({"email": "not-an-email"}, "email must be a valid email"),
    ({"email": "jöe@example.com"}, "email must be a valid email"),
    ({"contact": {"email": "x@example.com"}}, "cloud_user_email"),
    ({"contact": {"nickname": "x"}}, "unknown fields nickname"),
    ({"contact": {"city": "x" * 1001}}, "contact.city is 1001 characters"),
    ({"contact": {}}, "sets no field"),
    ({"state": "paused"}, "state must be enabled or disabled"),
    ({"if_activated": "maybe"}, "if_activated must be one of"),
])
def test_bad_desired_state_is_refused(params, message):
    with pytest.raises((InputError, TaskFailed), match=message):
        Desired.from_params(params)


def test_managed_view_shapes():
    view = managed_view(make_user(), Desired(email="a@b.co", contact={"fax": "1"}, enabled=False))
    assert view == {"email": "jdoe@example.com", "contact": {"fax": ""}, "state": "enabled"}
