# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run a collection Task inside the Ansible worker instead of a new module process.

PRIVATE to accountops.cloud. A module loop item costs a fresh Python process
(about 0.4 s); this costs a few milliseconds. Arguments are checked against the
module's own argument spec, results are masked for no_log values the way
AnsibleModule masks them, and the same module_utils code does the work. When the
task's connection is not local, the module itself runs on the target instead.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

import datetime
import json
import os

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase

from ansible_collections.accountops.cloud.plugins.module_utils._http import HAS_REQUESTS
from ansible_collections.accountops.cloud.plugins.module_utils._module import given_no_log_values, run_task

LOCAL_CONNECTIONS = ("local",)
# ansible-core 2.19 and later let an action plugin finalize its own arguments (see TaskAction.finalize_task_arg).
FINALIZES_ARGS = hasattr(ActionBase, "finalize_task_arg")


def plain(value):
    """The task arguments as plain Python types, as a module gets them after their JSON trip.

    ansible-core 2.19 hands an action plugin tagged str/int/float subclasses, which deepcopy and pickle
    through __reduce_ex__: for a cloud_users list of 10,000 accounts, argument validation (which deep-copies
    its input) and sending the result back to the controller took about two and a half seconds more than
    with plain values. Dates become ISO strings as in JSON; str() of a vaulted value decrypts it, as
    templating does. Used argument by argument as they are templated (2.19 and later), or on the whole
    arguments in run() (2.16 to 2.18, where it is a cheap copy).
    """
    if isinstance(value, dict):
        return dict((plain(key), plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(item) for item in value]
    if value is None or type(value) in (bool, int, float, str):
        return value
    for kind in (bool, int, float):
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return to_text(value, errors="surrogate_or_strict")
    return str(value)


def masked(result, no_log_values):
    """remove_values(result, no_log_values), with the walk skipped where it provably changes nothing.

    remove_values walks every string of the result: about 0.2 s for a 10,000-account cloud_users result.
    The invocation echoes the arguments, secrets included, so it always takes the walk (it is small: long
    lists are summarized). The rest is returned as is when no secret occurs in its JSON text; that proof
    only holds for secrets JSON writes as they are (no quote, backslash or control character), so a
    result with other secrets takes the full walk.
    """
    secrets = [value for value in no_log_values if value]
    if not secrets:
        return result
    # remove_values also masks True/False/None whose str() is a secret; JSON spells those differently.
    written_as_is = all(json.dumps(value, ensure_ascii=False)[1:-1] == value and value not in ("True", "False", "None")
                        for value in secrets)
    if not written_as_is:
        return remove_values(result, no_log_values)
    rest = dict((key, value) for key, value in result.items() if key != "invocation")
    text = json.dumps(rest, ensure_ascii=False, default=str)
    if any(value in text for value in secrets):
        rest = remove_values(rest, no_log_values)
    if "invocation" in result:
        rest["invocation"] = remove_values(result["invocation"], no_log_values)
    return rest


class ActionContext:
    def __init__(self, check_mode, diff):
        self.check_mode = check_mode
        self.diff = diff
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)


class TaskAction(ActionBase):
    """Subclasses set TASK (a module_utils._tasks.Task) and MODULE (the module's full name)."""

    TASK = None
    MODULE = None
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    @classmethod
    def finalize_task_arg(cls, name, value, templar, context):
        """Template an argument as usual, then keep plain Python types (ansible-core 2.19 and later call this).

        The worker otherwise carries the tagged values to the controller and back with the task's fields:
        for a 10,000-account users list that cost about 0.35 s more than plain values.
        """
        return plain(super(TaskAction, cls).finalize_task_arg(name, value, templar, context))

    def _runs_locally(self):
        return self._connection is None or self._connection.transport in LOCAL_CONNECTIONS or \
            getattr(self._play_context, "connection", None) in LOCAL_CONNECTIONS

    def _apply_task_environment(self):
        # A module sees the task's `environment:` keyword; so must the in-process run, for the env fallbacks.
        # Each task runs in its own forked worker, so this does not leak into other tasks.
        for entry in self._task.environment or []:
            entry = self._templar.template(entry)
            if isinstance(entry, dict):
                os.environ.update(dict((str(key), str(value)) for key, value in entry.items()))

    def run(self, tmp=None, task_vars=None):
        if not self._runs_locally():
            return self._execute_module(module_name=self.MODULE, module_args=self._task.args, task_vars=task_vars)
        result = super(TaskAction, self).run(tmp, task_vars)
        del tmp
        if not HAS_REQUESTS:
            result.update(failed=True, msg=missing_required_lib("requests"))
            return result
        self._apply_task_environment()
        validator = ArgumentSpecValidator(self.TASK.argument_spec, mutually_exclusive=self.TASK.mutually_exclusive,
                                          required_one_of=self.TASK.required_one_of)
        # Already plain, argument by argument, where finalize_task_arg ran; only the dict holding them is tagged.
        args = dict(self._task.args) if FINALIZES_ARGS else plain(self._task.args)
        validation = validator.validate(args)
        no_log_values = set(getattr(validation, "_no_log_values", set())) | given_no_log_values(self.TASK.argument_spec, args)
        if validation.error_messages:
            # Word unknown options the way AnsibleModule does; the bare validator message starts with the option name.
            messages = ["Unsupported parameters for (%s) module: %s" % (self.MODULE, error.msg) if isinstance(error, UnsupportedError)
                        else error.msg for error in validation.errors.errors]
            # AnsibleModule's failure carries the invocation too (no_log values masked below).
            result.update(failed=True, msg="; ".join(messages), invocation=self.TASK.invocation(validation.validated_parameters))
            return masked(result, no_log_values)
        ctx = ActionContext(check_mode=bool(self._play_context.check_mode), diff=bool(self._play_context.diff))
        failed, outcome = run_task(validation.validated_parameters, ctx, self.TASK)
        result.update(outcome)
        if failed:
            result["failed"] = True
        if ctx.warnings:
            result["warnings"] = ctx.warnings
        result["invocation"] = self.TASK.invocation(validation.validated_parameters)
        return masked(result, no_log_values)
