# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

import pytest

from ansible.module_utils.common.parameters import remove_values

from ansible_collections.accountops.cloud.plugins.plugin_utils._action import masked

RESULT = {"msg": "PUT https://x/api/2/users/1 failed", "results": [{"login": "jdoe", "changed": True, "n": 1234}],
          "invocation": {"module_args": {"client_secret": "s3cr3t", "flag": True}}}


@pytest.mark.parametrize("secrets", [
    {"s3cr3t"},                 # only in the invocation: the rest takes the fast path
    {"jdoe"},                   # outside the invocation: full walk
    {"absent-secret"},          # absent: the fast path, same answer
    {"1234"},                   # a number's text
    {"jd"},                     # a substring of another value
    {'with"quote'},             # JSON escapes it: full walk
    {"True"},                   # str(True): full walk
    {"ünïcode"},
    set(),
])
def test_masked_equals_remove_values(secrets):
    assert masked(RESULT, secrets) == remove_values(RESULT, secrets)
