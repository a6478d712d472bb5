# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name


class ModuleDocFragment(object):

    # Options every module of the collection takes for the HTTP connection, whichever API it talks to.
    DOCUMENTATION = r'''
options:
  validate_certs:
    description:
      - Whether to verify the server's TLS certificate. Only turn this off for a test system.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the certificate authorities to trust instead of the system store, for a private CA.
    type: path
  timeout:
    description:
      - Seconds to wait for a connection and for each answer.
    type: float
    default: 30
  retries:
    description:
      - How many times a request is retried after HTTP 429, 502, 503, 504, a connection reset or a timeout,
        with exponential backoff and jitter, honouring C(Retry-After) (capped at 60 seconds).
      - Set to V(0) to turn retries off.
      - Each retry is reported as a warning (the first five of a task one by one), so a job that only
        succeeded after retries says so.
    type: int
    default: 3
  retry_budget:
    description:
      - The most seconds one request may take with all its retries and the waits between them. No retry starts
        when it would begin later than this after the request's first attempt; the task then fails with the last
        answer or error. O(timeout) still applies to each attempt.
    type: float
    default: 120
notes:
  - On an API failure the task fails with the HTTP status, the API's own error code and message and, when the server
    sends one, its request id in C(msg), and also returns them as C(status), C(error_code), C(error_message),
    C(request_id) and C(url).
'''
