# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Runs accountops.cloud.codearts_user_email in the worker process (see plugin_utils/_action.py)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

from ansible_collections.accountops.cloud.plugins.module_utils._tasks import CODEARTS_USER_EMAIL
from ansible_collections.accountops.cloud.plugins.plugin_utils._action import TaskAction


class ActionModule(TaskAction):
    TASK = CODEARTS_USER_EMAIL
    MODULE = "accountops.cloud.codearts_user_email"
