# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The collection's tasks: each one's argument spec and what it does.

PRIVATE to accountops.cloud. A module file and the action plugin of the same
name both run the Task defined here, so there is one implementation of each.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

from ansible_collections.accountops.cloud.plugins.module_utils._accounts import (
    IF_ACTIVATED_CHOICES, Desired, TaskFailed, run_single,
)
from ansible_collections.accountops.cloud.plugins.module_utils._args import (
    CLOUD_AUTH_SPEC, CODEARTS_AUTH_SPEC, CONTACT_FIELDS, InputError, check_uuid, cloud_client, codearts_client,
)
from ansible_collections.accountops.cloud.plugins.module_utils._bulk import bulk_failure_message, converge_many, read_accounts
from ansible_collections.accountops.cloud.plugins.module_utils._commit_email import converge_commit_email


class Task:
    """What a module needs: its argument spec, its validation rules and a run(params, ctx) function."""

    def __init__(self, name, argument_spec, run, mutually_exclusive=None, required_one_of=None, summarized_options=()):
        self.name = name
        self.argument_spec = argument_spec
        self.run = run
        self.mutually_exclusive = mutually_exclusive or []
        self.required_one_of = required_one_of or []
        self.summarized_options = summarized_options

    def invocation(self, params):
        """The `invocation` a result carries: the arguments, with long lists shown by their length.

        Echoing a 10,000-account input back costs masking, transfer and copying for something
        only -vvv shows; the module and its action plugin both use this, so they agree.
        """
        args = dict(params)
        for option in self.summarized_options:
            if isinstance(args.get(option), list):
                args[option] = "(%d entries, not repeated here)" % len(args[option])
        return {"module_args": args}

    def module_kwargs(self):
        return dict(argument_spec=self.argument_spec, mutually_exclusive=self.mutually_exclusive,
                    required_one_of=self.required_one_of, supports_check_mode=True)


SELECTOR_SPEC = dict(
    user_id=dict(type="str"),
    login=dict(type="str"),
)
SELECTOR_RULES = dict(mutually_exclusive=[("user_id", "login")], required_one_of=[("user_id", "login")])

# raw, not str: Ansible would turn a list or a boolean into its text ("['a', 'b']", "False") before
# check_contact() could refuse it.
CONTACT_SUBOPTIONS = dict((field, dict(type="raw")) for field in CONTACT_FIELDS)
# Declared so that the error can point to the right module instead of "unsupported parameter".
CONTACT_SUBOPTIONS["email"] = dict(type="raw")


def _cloud_spec(**options):
    spec = dict(CLOUD_AUTH_SPEC)
    spec.update(SELECTOR_SPEC)
    spec.update(options)
    return spec


def _run_cloud(params, ctx, desired_params):
    # Check every option before the first request.
    desired = Desired.from_params(desired_params)
    client = cloud_client(params, on_warning=ctx.warn)
    return run_single(params, client, ctx, desired)


def _run_email(params, ctx):
    return _run_cloud(params, ctx, {"email": params["email"], "if_activated": params["if_activated"]})


def _run_contact(params, ctx):
    return _run_cloud(params, ctx, {"contact": params["contact"]})


def _run_state(params, ctx):
    return _run_cloud(params, ctx, {"state": params["state"]})


def _run_codearts_email(params, ctx):
    client = codearts_client(params, on_warning=ctx.warn)
    return converge_commit_email(params, client, ctx)


CLOUD_USER_EMAIL = Task(
    "cloud_user_email",
    _cloud_spec(
        email=dict(type="str", required=True),
        if_activated=dict(type="str", default="request_confirmation", choices=list(IF_ACTIVATED_CHOICES)),
    ),
    _run_email, **SELECTOR_RULES)

CLOUD_USER_CONTACT = Task(
    "cloud_user_contact",
    _cloud_spec(contact=dict(type="dict", required=True, options=CONTACT_SUBOPTIONS)),
    _run_contact, **SELECTOR_RULES)

CLOUD_USER_STATE = Task(
    "cloud_user_state",
    _cloud_spec(state=dict(type="str", required=True, choices=["enabled", "disabled"])),
    _run_state, **SELECTOR_RULES)

CODEARTS_USER_EMAIL = Task(
    "codearts_user_email",
    dict(CODEARTS_AUTH_SPEC,
         email=dict(type="str", required=True),
         verify_code=dict(type="str", no_log=True),
         send_verify_code=dict(type="bool", default=False)),
    _run_codearts_email)


def _run_users(params, ctx):
    if not 1 <= params["workers"] <= 32:
        raise InputError("workers must be between 1 and 32, got %d" % params["workers"])
    tenant_id = check_uuid(params["tenant_id"], "tenant_id") if params.get("tenant_id") else None
    client = cloud_client(params, on_warning=ctx.warn)
    results, summary = converge_many(client, params["users"], ctx.check_mode, ctx.warn, workers=params["workers"],
                                     defaults={"if_activated": params["if_activated"]}, tenant_id=tenant_id)
    outcome = {"changed": summary["changed"] > 0, "results": results, "summary": summary}
    if ctx.diff:
        # One diff for the task, keyed by account, holding only the accounts that change.
        changed = [result for result in results if result["diff"]]
        outcome["diff"] = {
            "before": dict((result["login"] or result["user_id"], result["diff"]["before"]) for result in changed),
            "after": dict((result["login"] or result["user_id"], result["diff"]["after"]) for result in changed),
        }
    if summary["failed"]:
        raise TaskFailed(bulk_failure_message(results, summary), **outcome)
    return outcome


def _run_info(params, ctx):
    # Read-only: check mode and diff change nothing; warnings report retried requests.
    client = cloud_client(params, on_warning=ctx.warn)
    return read_accounts(client, user_ids=params.get("user_ids"), logins=params.get("logins"), tenant_id=params.get("tenant_id"))


CLOUD_USERS = Task(
    "cloud_users",
    dict(CLOUD_AUTH_SPEC,
         users=dict(type="list", elements="dict", required=True),
         if_activated=dict(type="str", default="request_confirmation", choices=list(IF_ACTIVATED_CHOICES)),
         workers=dict(type="int", default=8),
         tenant_id=dict(type="str")),
    _run_users, summarized_options=("users",))

CLOUD_USER_INFO = Task(
    "cloud_user_info",
    dict(CLOUD_AUTH_SPEC,
         user_ids=dict(type="list", elements="str"),
         logins=dict(type="list", elements="str", no_log=False),
         tenant_id=dict(type="str")),
    _run_info, required_one_of=[("user_ids", "logins", "tenant_id")])

TASKS = dict((task.name, task) for task in (
    CLOUD_USER_EMAIL, CLOUD_USER_CONTACT, CLOUD_USER_STATE, CODEARTS_USER_EMAIL, CLOUD_USERS, CLOUD_USER_INFO))
