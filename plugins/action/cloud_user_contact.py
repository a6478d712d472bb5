# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Runs accountops.cloud.cloud_user_contact in the worker process (see plugin_utils/_action.py)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

from ansible_collections.accountops.cloud.plugins.module_utils._tasks import CLOUD_USER_CONTACT
from ansible_collections.accountops.cloud.plugins.plugin_utils._action import TaskAction


class ActionModule(TaskAction):
    TASK = CLOUD_USER_CONTACT
    MODULE = "accountops.cloud.cloud_user_contact"
