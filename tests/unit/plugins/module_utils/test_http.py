# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

import json

import pytest

from ansible_collections.accountops.cloud.plugins.module_utils._http import (
    ApiError, HttpClient, check_url, parse_error_body,
)


@pytest.mark.parametrize("body,expected", [
    (b'{"error": {"code": 1001, "message": "Version mismatch", "details": {"info": "stale"}}}', (1001, "Version mismatch (stale)")),
    (b'{"error_code": "DEV.00000003", "error_msg": "Authentication information expired."}', ("DEV.00000003", "Authentication information expired.")),
    (b'{"error": "invalid_client", "error_description": "bad secret"}', ("invalid_client", "bad secret")),
    (b"<html>Bad gateway</html>", (None, None)),
    (b"", (None, None)),
])
def test_parse_error_body(body, expected):
    assert parse_error_body(body) == expected


@pytest.mark.parametrize("url,ok", [
    ("https://eu2-cloud.acronis.com", True),
    ("http://127.0.0.1:8080", True),
    ("http://localhost", True),
    ("http://[::1]:9", True),
    ("http://eu2-cloud.acronis.com", False),
    ("ftp://x", False),
    ("eu2-cloud.acronis.com", False),
])
def test_check_url_refuses_clear_text_off_loopback(url, ok):
    if ok:
        assert check_url(url, "base_url") == url.rstrip("/")
    else:
        with pytest.raises(ValueError, match="base_url"):
            check_url(url, "base_url")


def test_api_error_names_status_code_message_and_request_id(server):
    server.script.append((409, {"X-Request-Id": "req-1"}, json.dumps({"error": {"code": 1001, "message": "Version mismatch"}}).encode()))
    client = HttpClient(retries=0)
    with pytest.raises(ApiError) as caught:
        client.request_json("PUT", server.url + "/api/2/users/x", json_body={})
    error = caught.value
    assert (error.status, error.code, error.api_message, error.request_id) == (409, 1001, "Version mismatch", "req-1")
    assert str(error) == "PUT %s/api/2/users/x failed: HTTP 409, error code 1001: Version mismatch (request id req-1)" % server.url


def test_html_error_page_is_a_clean_error(server):
    server.script.append((502, {"Content-Type": "text/html"}, b"<html><body>Bad Gateway</body></html>"))
    with pytest.raises(ApiError, match="HTTP 502: <html><body>Bad Gateway"):
        HttpClient(retries=0).request_json("GET", server.url + "/x")


def test_invalid_json_on_success_is_a_clean_error(server):
    server.script.append((200, {}, b"{not json"))
    with pytest.raises(ApiError, match="not JSON"):
        HttpClient(retries=0).request_json("GET", server.url + "/x")


def test_retries_503_then_succeeds(server):
    server.script.extend([(503, {}, b""), (429, {"Retry-After": "0"}, b""), (200, {}, b'{"ok": true}')])
    retried = []
    client = HttpClient(retries=3, on_retry=retried.append)
    assert client.request_json("GET", server.url + "/x") == {"ok": True}
    assert len(server.seen) == 3
    assert len(retried) == 2


def test_permanent_errors_are_not_retried(server):
    server.script.extend([(404, {}, b'{"error": {"code": 404, "message": "Not found"}}'), (200, {}, b"{}")])
    with pytest.raises(ApiError, match="HTTP 404"):
        HttpClient(retries=3).request_json("GET", server.url + "/x")
    assert len(server.seen) == 1


def test_connection_refused_is_a_clean_error():
    with pytest.raises(ApiError, match="connection failed"):
        HttpClient(retries=0, timeout=2).request_json("GET", "http://127.0.0.1:9/x")
