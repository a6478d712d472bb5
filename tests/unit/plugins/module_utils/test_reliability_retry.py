# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reliability guarantees at the transport level (issue 5): bounded retries, TLS settings, clear text refused.

The playbook-level proofs against the emulator are in tests/integration/test_reliability_*.py; these pin the
parts that are impractical to show there (a one-hour Retry-After, the jitter distribution, no DNS lookup).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

import email.utils
import json
import socket
import time

import pytest

from urllib3.util import retry as urllib3_retry

from ansible_collections.accountops.cloud.plugins.module_utils import _http
from ansible_collections.accountops.cloud.plugins.module_utils._args import InputError, RetryWarnings, cloud_client, codearts_client
from ansible_collections.accountops.cloud.plugins.module_utils._cloud import search_problem, user_list_problem, user_problem
from ansible_collections.accountops.cloud.plugins.module_utils._http import MAX_RETRY_AFTER, ApiError, BoundedRetry, HttpClient

UID = "1c234e69-5469-424a-a6d1-ff5658b387a6"


def retry_with_history(errors, **kwargs):
    retry = BoundedRetry(total=10, backoff_factor=0.5, **kwargs)
    for _index in range(errors):
        retry = retry.increment("GET", "/x", error=_http.requests.exceptions.ConnectionError("reset"))
    return retry


# -- Retry-After: seconds or an HTTP date, always capped ---------------------------------------------------------

@pytest.mark.parametrize("header,low,high", [
    ("1", 1.0, 1.0),
    ("30", 30.0, 30.0),
    ("3600", MAX_RETRY_AFTER, MAX_RETRY_AFTER),
    ("86400", MAX_RETRY_AFTER, MAX_RETRY_AFTER),
    (3600, MAX_RETRY_AFTER, MAX_RETRY_AFTER),
    (10, 7.0, 10.0),
    (-3600, 0.0, 0.0),
    ("soon", 0.0, 0.0),
])
def test_retry_after_seconds_and_http_dates_are_capped(header, low, high):
    if isinstance(header, int):
        # An HTTP date this many seconds from now, made when the test runs, not when it is collected.
        header = email.utils.formatdate(time.time() + header, usegmt=True)
    wait = BoundedRetry(total=3).parse_retry_after(header)
    assert low <= wait <= high


def test_capped_retry_after_is_what_the_retry_sleeps(monkeypatch):
    slept = []
    monkeypatch.setattr(urllib3_retry.time, "sleep", slept.append)

    class Response:
        status = 429
        headers = {"Retry-After": "3600"}

    BoundedRetry(total=3).sleep(Response())
    assert slept == [MAX_RETRY_AFTER]


# -- exponential backoff with jitter, from the first retry ---------------------------------------------------------

@pytest.mark.parametrize("errors,base", [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0)])
def test_backoff_doubles_and_is_jittered_within_half_to_full(errors, base):
    retry = retry_with_history(errors)
    waits = [retry.get_backoff_time() for _index in range(300)]
    assert all(base / 2.0 <= wait <= base for wait in waits)
    # jitter: spread over the interval, not one value
    assert min(waits) < base * 0.6 and max(waits) > base * 0.9
    assert len(set(waits)) > 250


def test_no_retry_yet_means_no_wait():
    assert BoundedRetry(total=3, backoff_factor=0.5).get_backoff_time() == 0


# -- the retry count and the time budget ---------------------------------------------------------------------------

def test_retries_option_bounds_the_attempts(server):
    server.script.extend([(503, {}, b"")] * 5)
    started = time.monotonic()
    with pytest.raises(ApiError, match="HTTP 503 on attempt 3"):
        HttpClient(retries=2).request_json("GET", server.url + "/x")
    assert len(server.seen) == 3
    gaps = [later[0] - earlier[0] for earlier, later in zip(server.seen, server.seen[1:])]
    assert 0.2 <= gaps[0] <= 0.6 and 0.45 <= gaps[1] <= 1.1, gaps
    assert time.monotonic() - started < 3


def test_retries_zero_sends_once(server):
    server.script.extend([(503, {}, b"")] * 2)
    with pytest.raises(ApiError, match="HTTP 503"):
        HttpClient(retries=0).request_json("GET", server.url + "/x")
    assert len(server.seen) == 1


def test_budget_counts_from_each_request_not_from_the_client(server):
    # Regression: the budget used to start when the client was built, so a bulk run older than the budget
    # stopped retrying.
    client = HttpClient(retries=3, retry_budget=1.0)
    time.sleep(1.2)
    server.script.extend([(503, {}, b""), (200, {}, b'{"ok": true}')])
    assert client.request_json("GET", server.url + "/x") == {"ok": True}
    assert len(server.seen) == 2


def test_budget_refuses_a_wait_that_would_overrun_it(server):
    server.script.extend([(429, {"Retry-After": "30"}, b"")] * 3)
    started = time.monotonic()
    with pytest.raises(ApiError, match="HTTP 429"):
        HttpClient(retries=3, retry_budget=5).request_json("GET", server.url + "/x")
    assert time.monotonic() - started < 2
    assert len(server.seen) == 1


def test_budget_bounds_total_time_whatever_the_retry_count(server):
    server.script.extend([(503, {}, b"")] * 20)
    started = time.monotonic()
    with pytest.raises(ApiError, match="HTTP 503"):
        HttpClient(retries=10, retry_budget=2).request_json("GET", server.url + "/x")
    assert time.monotonic() - started < 2.5
    assert 2 <= len(server.seen) <= 4


def test_each_retry_is_reported(server):
    server.script.extend([(503, {}, b""), (502, {}, b""), (200, {}, b"{}")])
    notes = []
    HttpClient(retries=3, on_retry=notes.append).request_json("GET", server.url + "/x")
    assert notes == ["GET /x: HTTP 503, retrying (attempt 2 of 4)", "GET /x: HTTP 502, retrying (attempt 3 of 4)"]


def test_retry_warnings_are_capped_per_task():
    warnings = []
    notes = RetryWarnings(warnings.append, limit=5)
    for index in range(40):
        notes("GET /x/%d: HTTP 503, retrying" % index)
    assert len(warnings) == 6
    assert warnings[0] == "transient failure: GET /x/0: HTTP 503, retrying"
    assert "only the first 5" in warnings[-1]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 500])
def test_permanent_statuses_are_not_retried(server, status):
    server.script.extend([(status, {}, b'{"error": {"code": 1, "message": "no"}}'), (200, {}, b"{}")])
    with pytest.raises(ApiError, match="HTTP %d" % status):
        HttpClient(retries=3).request_json("PUT", server.url + "/x", json_body={"version": 1})
    assert len(server.seen) == 1


# -- TLS settings win over the environment -------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,expected", [
    ({"ca_path": "/etc/private-ca.pem"}, "/etc/private-ca.pem"),
    ({"validate_certs": False}, False),
    ({"validate_certs": False, "ca_path": "/etc/private-ca.pem"}, False),
])
def test_ca_path_and_validate_certs_beat_requests_ca_bundle(server, monkeypatch, kwargs, expected):
    # requests lets REQUESTS_CA_BUNDLE override Session.verify; the client passes verify with each request.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/other-ca.pem")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/nonexistent/other-ca.pem")
    seen = []
    real_send = _http.requests.adapters.HTTPAdapter.send

    def send(adapter, request, **send_kwargs):
        seen.append(send_kwargs.get("verify"))
        return real_send(adapter, request, **send_kwargs)

    monkeypatch.setattr(_http.requests.adapters.HTTPAdapter, "send", send)
    HttpClient(**kwargs).request_json("GET", server.url + "/x")
    assert seen == [expected]


# -- clear text refused before any lookup or request ---------------------------------------------------------------

@pytest.mark.parametrize("build,params,option", [
    (cloud_client, {"base_url": "http://example.invalid", "client_id": "c", "client_secret": "s"}, "base_url"),
    (cloud_client, {"base_url": "http://localhost.example.com", "access_token": "t"}, "base_url"),
    (cloud_client, {"base_url": "http://127.0.0.1.nip.io", "access_token": "t"}, "base_url"),
    (codearts_client, {"endpoint": "http://codehub.example.invalid", "auth_token": "t"}, "endpoint"),
    (codearts_client, {"endpoint": "https://codehub.example.invalid", "iam_endpoint": "http://iam.example.invalid",
                       "user_name": "u", "password": "p", "domain_name": "d", "project_name": "p"}, "iam_endpoint"),
])
def test_clear_text_to_a_network_host_is_refused_before_dns(monkeypatch, build, params, option):
    lookups = []

    def no_dns(*args, **kwargs):
        lookups.append(args)
        raise AssertionError("DNS lookup attempted: %r" % (args,))

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    monkeypatch.setattr(socket, "gethostbyname", no_dns)
    with pytest.raises(InputError) as caught:
        build(params)
    assert option in str(caught.value) and "clear text" in str(caught.value)
    assert lookups == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:1", "http://127.8.9.10:1", "http://[::1]:1", "http://localhost:1"])
def test_clear_text_to_loopback_is_allowed(url):
    assert cloud_client({"base_url": url, "access_token": "t"}).url == url + "/api/2"


# -- answers of the wrong shape are named, not tripped over --------------------------------------------------------

@pytest.mark.parametrize("data,problem", [
    (None, "got NoneType"),
    ([], "got list"),
    ("ok", "got str"),
    ({}, "no id"),
    ({"id": UID}, "no integer version"),
    ({"id": UID, "version": "3"}, "no integer version"),
    ({"id": UID, "version": True}, "no integer version"),
    ({"id": UID, "version": 3, "contact": []}, "contact that is not an object"),
])
def test_user_answers_are_checked(data, problem):
    assert problem in user_problem(data)


def test_good_answers_pass_the_checks():
    user = {"id": UID, "version": 3, "contact": {"email": "a@example.com"}}
    assert user_problem(user) is None
    assert user_problem(dict(user, contact=None)) is None
    assert user_list_problem({"items": [user]}) is None
    assert search_problem({"items": [{"obj_type": "user"}]}) is None


@pytest.mark.parametrize("data", [None, {}, {"items": None}, {"items": [1]}, {"items": [{"login": "x"}]}])
def test_user_list_answers_are_checked(data):
    assert user_list_problem(data)


def test_malformed_answer_names_status_and_url(server):
    server.script.append((200, {}, json.dumps({"id": UID}).encode()))
    with pytest.raises(ApiError) as caught:
        HttpClient(retries=0).request_json("GET", server.url + "/api/2/users/" + UID, validate=user_problem)
    assert str(caught.value) == "GET %s/api/2/users/%s: HTTP 200 with an unexpected answer: user %s has no integer version" % (
        server.url, UID, UID)
    assert caught.value.status == 200
