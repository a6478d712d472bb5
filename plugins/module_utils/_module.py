# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run a Task as an Ansible module. PRIVATE to accountops.cloud."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.accountops.cloud.plugins.module_utils._accounts import TaskFailed
from ansible_collections.accountops.cloud.plugins.module_utils._args import InputError
from ansible_collections.accountops.cloud.plugins.module_utils._http import HAS_REQUESTS, REQUESTS_IMPORT_ERROR, ApiError


def given_no_log_values(argument_spec, params):
    """The values given for top-level no_log options, found even when argument validation failed part-way.

    ansible-core stops collecting no_log values at the first option with suboptions whose value is not a dict
    (for example contact: "text"), and then fails with an invocation that shows every parameter, secrets
    included. Masking these as well closes that gap.
    """
    values = set()
    if not isinstance(params, dict):
        return values
    for name, spec in argument_spec.items():
        value = params.get(name)
        if spec.get("no_log") and value is not None and value != "":
            values.add(value if isinstance(value, str) else str(value))
    return values


class _Module(AnsibleModule):
    def fail_json(self, msg, **kwargs):  # pylint: disable=arguments-differ
        self.no_log_values.update(given_no_log_values(self.argument_spec, self.params))
        super(_Module, self).fail_json(msg, **kwargs)


class ModuleContext:
    """The reporting interface a Task sees: check mode, diff mode and warnings."""

    def __init__(self, module):
        self.module = module
        self.check_mode = module.check_mode
        self.diff = module._diff

    def warn(self, message):
        self.module.warn(message)


def run_task(params, ctx, task):
    """Run a task; return (failed, result). Shared by modules and action plugins."""
    try:
        return False, task.run(params, ctx)
    except InputError as exc:
        return True, {"msg": str(exc), "changed": False}
    except TaskFailed as exc:
        result = dict(exc.result)
        result.setdefault("changed", False)
        result["msg"] = exc.msg
        return True, result
    except ApiError as exc:
        result = exc.to_result()
        result.update(msg=str(exc), changed=False)
        return True, result


def run_module(task):
    module = _Module(**task.module_kwargs())
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
    failed, result = run_task(module.params, ModuleContext(module), task)
    result["invocation"] = task.invocation(module.params)
    if failed:
        module.fail_json(**result)
    module.exit_json(**result)
