# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Converge the CodeArts Repo commit email of the token's user.

PRIVATE to accountops.cloud. A change needs a code mailed to the new address,
so it takes two runs: one that asks for the code, one that uses it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

from ansible_collections.accountops.cloud.plugins.module_utils._accounts import TaskFailed
from ansible_collections.accountops.cloud.plugins.module_utils._args import InputError, check_email
from ansible_collections.accountops.cloud.plugins.module_utils._http import ApiError

TWO_STEPS = ("Changing a commit email takes two steps: run once with send_verify_code=true, which mails a code to %s, "
             "then run again with verify_code set to that code.")


def converge_commit_email(params, client, ctx):
    email = check_email(params.get("email"), "email")
    code = params.get("verify_code")
    if code is not None and not str(code).strip():
        raise InputError("verify_code is empty: give the code mailed to %s, or leave verify_code unset" % email)
    current = client.get_email()
    if not isinstance(current, dict):
        raise TaskFailed("GET /v4/user/emails: the answer is not a user object")
    before = {"commit_email": current.get("commit_email")}
    if (current.get("commit_email") or "").strip().lower() == email.lower():
        return _result(ctx, False, current, before, before)
    after = {"commit_email": email}
    if code:
        if ctx.check_mode:
            return _result(ctx, True, current, before, after)
        try:
            updated = client.update_email(email, str(code).strip())
        except ApiError as exc:
            if exc.status == 400:
                raise TaskFailed("%s. The code may be wrong, already used, or mailed for another address; run with "
                                 "send_verify_code=true for a new one." % exc, **exc.to_result())
            raise
        return _result(ctx, True, updated if isinstance(updated, dict) else current, before, after)
    if params.get("send_verify_code"):
        if ctx.check_mode:
            ctx.warn("check mode: a real run would mail a verification code to %s" % email)
            return _result(ctx, False, current, before, after, verify_code_sent=False)
        client.send_verify_code(email)
        ctx.warn("A verification code was mailed to %s. Run again with verify_code set to it to change the commit "
                 "email from %s." % (email, current.get("commit_email")))
        return _result(ctx, False, current, before, after, verify_code_sent=True)
    raise TaskFailed("The commit email is %s, not %s, and no verify_code was given. %s"
                     % (current.get("commit_email"), email, TWO_STEPS % email), user=current)


def _result(ctx, changed, user, before, after, verify_code_sent=False):
    result = {"changed": changed, "user": user, "commit_email": user.get("commit_email"), "verify_code_sent": verify_code_sent}
    if ctx.diff:
        result["diff"] = {"before": before, "after": after if changed else before}
    return result
