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
    module = AnsibleModule(**task.module_kwargs())
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
    failed, result = run_task(module.params, ModuleContext(module), task)
    if failed:
        module.fail_json(**result)
    module.exit_json(**result)
