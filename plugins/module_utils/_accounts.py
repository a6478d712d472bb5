# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What it means to converge one cloud account: read, compare, write only the difference.

PRIVATE to accountops.cloud. One implementation shared by the modules, their
controller-side action plugins and the bulk module. Functions here take
validated parameters, a client and a small context (check_mode, warn); they
never touch AnsibleModule.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

from ansible.module_utils.common.dict_transformations import recursive_diff

from ansible_collections.accountops.cloud.plugins.module_utils._args import (
    check_contact, check_email, check_selector,
)
from ansible_collections.accountops.cloud.plugins.module_utils._cloud import is_conflict
from ansible_collections.accountops.cloud.plugins.module_utils._http import ApiError

IF_ACTIVATED_CHOICES = ("request_confirmation", "skip", "fail")
# How many times a write that lost a race (stale version) is recomputed and retried.
MAX_CONFLICT_RETRIES = 3


class TaskFailed(Exception):
    """A failure to report as the task's result: a message plus extra result fields."""

    def __init__(self, msg, **result):
        super(TaskFailed, self).__init__(msg)
        self.msg = msg
        self.result = result


class Desired:
    """The part of an account a task manages; None means "don't care"."""

    def __init__(self, email=None, contact=None, enabled=None, if_activated="request_confirmation"):
        self.email = email
        self.contact = contact or {}
        self.enabled = enabled
        self.if_activated = if_activated or "request_confirmation"

    @classmethod
    def from_params(cls, params, option_prefix=""):
        """Check and normalise the desired-state options before any request is made."""
        email = params.get("email")
        contact = params.get("contact")
        state = params.get("state")
        if_activated = params.get("if_activated") or "request_confirmation"
        if if_activated not in IF_ACTIVATED_CHOICES:
            raise TaskFailed("%sif_activated must be one of %s, got %r" % (option_prefix, ", ".join(IF_ACTIVATED_CHOICES), if_activated))
        if state not in (None, "enabled", "disabled"):
            raise TaskFailed("%sstate must be enabled or disabled, got %r" % (option_prefix, state))
        return cls(
            email=check_email(email, option_prefix + "email") if email is not None else None,
            contact=check_contact(contact, option_prefix + "contact") if contact is not None else None,
            enabled=None if state is None else state == "enabled",
            if_activated=if_activated,
        )


def _text(value):
    # The API returns null or "" for an empty field; a playbook says "" to clear one.
    return "" if value is None else str(value)


def _same_email(left, right):
    return _text(left).strip().lower() == _text(right).strip().lower()


def managed_view(user, desired):
    """The managed fields of an account, in the shape used for diffs."""
    contact = user.get("contact") or {}
    view = {}
    if desired.email is not None:
        view["email"] = _text(contact.get("email"))
    if desired.contact:
        view["contact"] = dict((key, _text(contact.get(key))) for key in sorted(desired.contact))
    if desired.enabled is not None:
        view["state"] = "enabled" if user.get("enabled") else "disabled"
    return view


class Plan:
    """The writes one account needs, computed from what was just read."""

    def __init__(self, user, desired):
        contact = user.get("contact") or {}
        self.contact = dict((key, value) for key, value in sorted(desired.contact.items())
                            if _text(contact.get(key)) != value)
        self.enabled = desired.enabled if desired.enabled is not None and bool(user.get("enabled")) != desired.enabled else None
        self.email = desired.email if desired.email is not None and not _same_email(contact.get("email"), desired.email) else None
        # An activated account keeps its email until the user confirms a mailed link.
        self.email_needs_confirmation = self.email is not None and bool(user.get("activated"))

    def other_fields(self, version):
        body = {}
        if self.contact:
            body["contact"] = dict(self.contact)
        if self.enabled is not None:
            body["enabled"] = self.enabled
        if body:
            body["version"] = version
        return body


def converge_account(client, user, desired, check_mode, warn):
    """Bring one account to the desired state; return the result fields for it.

    Writes carry the version just read. A stale version means someone else changed
    the account: re-read, recompute, and apply only what still differs.
    """
    before = managed_view(user, desired)
    label = user.get("login") or user.get("id")
    for _attempt in range(MAX_CONFLICT_RETRIES + 1):
        plan = Plan(user, desired)
        send_email = plan.email is not None
        pending = False
        if plan.email_needs_confirmation:
            pending = True
            if desired.if_activated == "fail":
                raise TaskFailed(
                    "account %s is activated: its email changes from %s to %s only after the user opens a confirmation "
                    "link, and if_activated=fail forbids asking for one" % (label, _text((user.get("contact") or {}).get("email")), plan.email),
                    user=user, pending_confirmation=True, changed=False)
            if desired.if_activated == "skip":
                send_email = False
        other = plan.other_fields(user.get("version"))
        # After a conflict, start from what was just re-read: when our own earlier write applied but its answer was
        # lost (and the retry met a stale version), the account has changed since `before` although nothing is left
        # to send, and the result must still say changed.
        after = managed_view(user, desired)
        if plan.contact:
            after["contact"] = dict(after["contact"], **plan.contact)
        if plan.enabled is not None:
            after["state"] = "enabled" if plan.enabled else "disabled"
        if send_email:
            after["email"] = plan.email
        changed = bool(other) or send_email or after != before
        if not changed or check_mode:
            return _result(user, changed, pending, before, after, desired, check_mode, warn, label, send_email)
        try:
            if other and (plan.email_needs_confirmation or not send_email):
                user = client.update_user(user["id"], other)
                other = {}
            if send_email:
                body = {"contact": dict(other.get("contact", {}), email=plan.email), "version": user.get("version")}
                if "enabled" in other:
                    body["enabled"] = other["enabled"]
                user = client.update_user(user["id"], body)
        except ApiError as exc:
            if not is_conflict(exc):
                raise
            # Someone else changed the account between our read and write.
            user = client.get_user(user["id"])
            continue
        if send_email and not plan.email_needs_confirmation and not _same_email((user.get("contact") or {}).get("email"), plan.email):
            # The API kept the old address although the account looked not activated: a confirmation is pending.
            pending = True
        return _result(user, True, pending, before, after, desired, check_mode, warn, label, send_email)
    raise TaskFailed("account %s changed under us %d times in a row (version conflicts); giving up so as not to overwrite "
                     "someone else's change. Run again." % (label, MAX_CONFLICT_RETRIES + 1), user=user)


def _result(user, changed, pending, before, after, desired, check_mode, warn, label, sent_email):
    if pending and sent_email:
        warn("account %s is activated: %s a confirmation link for the change of email to %s; the address changes only "
             "when the user opens it. Use if_activated=skip in scheduled runs so the user is not mailed on every run."
             % (label, "the API would mail" if check_mode else "the API mailed", desired.email))
    # Diffs show only what changes.
    delta = recursive_diff(before, after) or ({}, {})
    return {
        "changed": changed,
        "pending_confirmation": pending,
        "user": user,
        "diff": {"before": delta[0], "after": delta[1]},
    }


def resolve_account(client, user_id=None, login=None):
    """Read one account by id, or find it by exact login; fail clearly on none or several."""
    if user_id:
        try:
            return client.get_user(user_id)
        except ApiError as exc:
            if exc.status == 404:
                raise TaskFailed("no account with user_id %s (HTTP 404 from %s)" % (user_id, exc.url), **exc.to_result())
            raise
    found = client.find_users_by_login(login)
    if not found:
        raise TaskFailed("no account with login %r is visible to this API client" % login)
    if len(found) > 1:
        raise TaskFailed("%d accounts have login %r (%s); select one by user_id"
                         % (len(found), login, ", ".join(sorted(user["id"] for user in found))))
    return found[0]


def run_single(params, client, ctx, desired):
    """The whole job of one single-account module, shared by all three cloud modules."""
    user_id, login = check_selector(params)
    user = resolve_account(client, user_id=user_id, login=login)
    result = converge_account(client, user, desired, ctx.check_mode, ctx.warn)
    if not ctx.diff:
        result.pop("diff")
    return result
