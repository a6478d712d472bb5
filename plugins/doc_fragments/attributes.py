# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
attributes:
  check_mode:
    support: full
    description: Reads only; no write and no mail is sent, and the result predicts the real run's C(changed) and C(diff).
  diff_mode:
    support: full
    description: Returns C(diff) with the managed fields before and after, only those that change, and shows it with C(--diff).
  idempotent:
    support: full
    description: A second run with the same options reports C(changed=false) and sends no write.
'''
