# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""An in-memory stand-in for CloudClient, recording every call, for unit tests of the logic."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

import copy

from ansible_collections.accountops.cloud.plugins.module_utils._http import ApiError


def make_user(user_id="1c234e69-5469-424a-a6d1-ff5658b387a6", login="jdoe", activated=False, enabled=True, version=1, **contact):
    base = {"email": "jdoe@example.com", "firstname": "John", "lastname": "Doe", "city": None, "fax": ""}
    base.update(contact)
    return {"id": user_id, "login": login, "activated": activated, "enabled": enabled, "version": version,
            "tenant_id": "ede9f834-70b3-476c-83d9-736f9f8c7dae", "contact": base}


class FakeCloudClient:
    def __init__(self, *users):
        self.users = dict((user["id"], copy.deepcopy(user)) for user in users)
        self.calls = []
        self.before_put = []  # callables run before the next PUTs, to simulate another writer

    def writes(self):
        return [call for call in self.calls if call[0] == "PUT"]

    def get_user(self, user_id):
        self.calls.append(("GET", user_id))
        if user_id not in self.users:
            raise ApiError("GET /users/%s failed: HTTP 404" % user_id, status=404, url="/users/%s" % user_id)
        return copy.deepcopy(self.users[user_id])

    def get_users(self, user_ids, readers=1, fields=None):  # pylint: disable=unused-argument
        self.calls.append(("BATCH", tuple(user_ids)))
        users = [copy.deepcopy(self.users[uid]) for uid in user_ids if uid in self.users]
        if fields is None:
            return users
        return [dict((key, user[key]) for key in fields if key in user) for user in users]

    def find_users_by_login(self, login):
        self.calls.append(("FIND", login))
        return [copy.deepcopy(user) for user in self.users.values() if user["login"] == login]

    def own_tenant_id(self):
        return "ede9f834-70b3-476c-83d9-736f9f8c7dae"

    def iter_tenant_users(self, tenant_id):
        self.calls.append(("LIST", tenant_id))
        return [copy.deepcopy(user) for user in self.users.values()]

    def update_user(self, user_id, body):
        self.calls.append(("PUT", user_id, copy.deepcopy(body)))
        if self.before_put:
            self.before_put.pop(0)(self.users[user_id])
        user = self.users[user_id]
        if body["version"] != user["version"]:
            raise ApiError("PUT failed: HTTP 409, error code 1001: Version mismatch", status=409, code=1001)
        changed = False
        contact = dict(body.get("contact", {}))
        email = contact.pop("email", None)
        if email is not None and email != user["contact"].get("email"):
            if user["activated"]:
                user.setdefault("mails", []).append(email)
            else:
                user["contact"]["email"] = email
                changed = True
        for key, value in contact.items():
            changed = changed or user["contact"].get(key) != value
            user["contact"][key] = value
        if "enabled" in body:
            changed = changed or user["enabled"] != body["enabled"]
            user["enabled"] = body["enabled"]
        if changed:
            user["version"] += 1
        return copy.deepcopy(user)


class Context:
    def __init__(self, check_mode=False, diff=True):
        self.check_mode = check_mode
        self.diff = diff
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)
