# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""HTTP transport shared by every API client of this collection.

PRIVATE to accountops.cloud: the leading underscore means this module is not
a public API and may change in any release.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

import ipaddress
import json
import random
import threading
import time
import traceback

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported by the collection
    from urlparse import urlsplit  # type: ignore

try:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.exceptions import MaxRetryError, ResponseError
    from urllib3.util.retry import Retry
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised through missing_required_lib
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
    Retry = object  # so that the subclass below can still be defined

COLLECTION_VERSION = "1.0.0"
USER_AGENT = "accountops.cloud/%s (Ansible collection; +https://github.com/accountops/cloud)" % COLLECTION_VERSION

# Statuses that mean "the server did not do it, ask again later".
RETRY_STATUSES = (429, 502, 503, 504)
# A Retry-After longer than this is capped: an hourly job must not sleep for a day.
MAX_RETRY_AFTER = 60.0
# Responses larger than this are refused instead of being parsed into memory.
MAX_BODY_BYTES = 16 * 1024 * 1024

# When this thread's current request started: a request's retry budget counts from its first attempt.
_REQUEST_STARTED = threading.local()


class ApiError(Exception):
    """One error type for every API: HTTP status, the API's own code and message, request id."""

    def __init__(self, message, status=None, code=None, api_message=None, request_id=None, method=None, url=None, body=None):
        super(ApiError, self).__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.api_message = api_message
        self.request_id = request_id
        self.method = method
        self.url = url
        self.body = body

    def __str__(self):
        return self.message

    def to_result(self):
        """Fields a module adds to its failure result (never the request body: it may hold secrets)."""
        return {
            "status": self.status,
            "error_code": self.code,
            "error_message": self.api_message,
            "request_id": self.request_id,
            "url": self.url,
        }


class BoundedRetry(Retry):
    """urllib3 Retry with a cap on Retry-After, backoff with jitter from the first retry, and a time budget.

    urllib3 honours Retry-After (seconds or an HTTP date) but does not cap it,
    retries the first time without waiting, and counts attempts but not elapsed
    time. A scheduled job needs all of these bounded. The budget is per request:
    no retry is started that would begin more than time_budget seconds after the
    request's first attempt.
    """

    def __init__(self, *args, **kwargs):
        self.time_budget = kwargs.pop("time_budget", None)
        self.started = kwargs.pop("started", None)
        self.on_retry = kwargs.pop("on_retry", None)
        super(BoundedRetry, self).__init__(*args, **kwargs)

    def new(self, **kwargs):
        kwargs.setdefault("time_budget", self.time_budget)
        kwargs.setdefault("started", self.started)
        kwargs.setdefault("on_retry", self.on_retry)
        return super(BoundedRetry, self).new(**kwargs)

    def parse_retry_after(self, retry_after):
        try:
            seconds = super(BoundedRetry, self).parse_retry_after(retry_after)
        except Exception:  # pylint: disable=broad-except
            # An unparsable header falls back to our own exponential backoff.
            return 0.0
        return min(float(seconds), MAX_RETRY_AFTER)

    def _backoff_base(self):
        # backoff_factor * 2 ** (n - 1) for the n-th consecutive error, so the first retry waits too.
        errors = len(self.history)
        if errors < 1 or not self.backoff_factor:
            return 0
        return min(self.backoff_max, self.backoff_factor * (2 ** (errors - 1)))

    def get_backoff_time(self):
        # Jitter keeps many workers from retrying in lock-step.
        base = self._backoff_base()
        return random.uniform(base / 2.0, base) if base > 0 else 0

    def _longest_wait(self, response):
        """The most this retry sleeps before its next attempt: Retry-After if given, else the backoff without jitter."""
        if response is not None and self.respect_retry_after_header:
            retry_after = self.get_retry_after(response)
            if retry_after:
                return retry_after
        return self._backoff_base()

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        new_retry = super(BoundedRetry, self).increment(method, url, response, error, _pool, _stacktrace)
        started = self.started
        if started is None:
            started = getattr(_REQUEST_STARTED, "value", None) or time.monotonic()
        new_retry.started = started
        if self.time_budget is not None and time.monotonic() - started + new_retry._longest_wait(response) > self.time_budget:
            # Out of budget: stop now; the caller turns the last answer or error into an ApiError.
            raise MaxRetryError(_pool, url, error or ResponseError("retry time budget of %s s used up" % self.time_budget))
        if self.on_retry is not None:
            reason = "HTTP %s" % response.status if response is not None else type(error).__name__
            attempt = len(new_retry.history) + 1
            of = " of %d" % (attempt + new_retry.total) if isinstance(new_retry.total, int) else ""
            self.on_retry("%s %s: %s, retrying (attempt %d%s)" % (method, url, reason, attempt, of))
        return new_retry


def is_loopback(host):
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url, option):
    """Refuse a malformed URL, or a clear-text one that would carry a token across a network."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("%s must be an http:// or https:// URL, got %r" % (option, url))
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError(
            "%s uses http:// with host %s: credentials would cross the network in clear text. "
            "Use https://, or http:// only with a loopback address" % (option, parts.hostname))
    return url.rstrip("/")


class HttpClient:
    """A requests.Session with the collection's timeouts, TLS settings, retries and error mapping."""

    def __init__(self, validate_certs=True, ca_path=None, timeout=30, retries=3, retry_budget=120, error_parser=None, on_retry=None):
        self.timeout = timeout
        self.error_parser = error_parser or parse_error_body
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept"] = "application/json"
        # ca_path wins over the system store; validate_certs=false turns checking off entirely.
        # Passed with every request too: requests lets REQUESTS_CA_BUNDLE override a session-level setting.
        self.verify = (ca_path or True) if validate_certs else False
        self.session.verify = self.verify
        retry = BoundedRetry(
            total=retries, connect=retries, read=retries, status=retries, other=0,
            backoff_factor=0.5, status_forcelist=RETRY_STATUSES,
            # PUT carries a version, POSTs are token requests or a mail the server refused: all safe to repeat.
            allowed_methods=frozenset(["GET", "PUT", "POST"]),
            respect_retry_after_header=True, raise_on_status=False,
            time_budget=retry_budget, on_retry=on_retry,
        )
        adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=32)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def request(self, method, url, params=None, json_body=None, data=None, headers=None, auth=None, expect=(200, 201, 204)):
        """Send one request; return the response, or raise ApiError with the API's own error."""
        _REQUEST_STARTED.value = time.monotonic()
        try:
            response = self.session.request(
                method, url, params=params, json=json_body, data=data, headers=headers, auth=auth,
                timeout=self.timeout, stream=True, verify=self.verify)
        except requests.exceptions.SSLError as exc:
            raise ApiError("%s %s: TLS verification failed (%s). Set ca_path to your CA bundle, "
                           "or validate_certs=false for a test system only" % (method, url, _short(exc)), method=method, url=url)
        except requests.exceptions.RetryError as exc:
            raise ApiError("%s %s: gave up after retries (%s)" % (method, url, _short(exc)), method=method, url=url)
        except requests.exceptions.Timeout as exc:
            raise ApiError("%s %s: timed out after %s s (%s)" % (method, url, self.timeout, _short(exc)), method=method, url=url)
        except requests.exceptions.RequestException as exc:
            raise ApiError("%s %s: connection failed (%s)" % (method, url, _short(exc)), method=method, url=url)
        body = _read_limited(response, method, url)
        request_id = response.headers.get("X-Request-Id") or response.headers.get("X-Request-ID")
        if response.status_code not in expect:
            code, api_message = self.error_parser(body)
            text = "%s %s failed: HTTP %s" % (method, url, response.status_code)
            attempts = _attempts(response)
            if attempts > 1:
                text += " on attempt %d" % attempts
            if code is not None:
                text += ", error code %s" % code
            if api_message:
                text += ": %s" % api_message
            elif not code:
                text += ": %s" % (_snippet(body) or response.reason or "no response body")
            if request_id:
                text += " (request id %s)" % request_id
            raise ApiError(text, status=response.status_code, code=code, api_message=api_message,
                           request_id=request_id, method=method, url=url, body=body)
        response.body_bytes = body
        response.request_id = request_id
        return response

    def request_json(self, method, url, validate=None, **kwargs):
        """Like request(), and parse the JSON body (None for an empty 204).

        validate(data) returns what is wrong with a parsed answer, or None; a problem becomes an ApiError
        that names the status and URL, before the caller can trip over a missing field.
        """
        response = self.request(method, url, **kwargs)
        if response.status_code == 204:
            return None
        try:
            data = json.loads(response.body_bytes.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise ApiError("%s %s: HTTP %s with a body that is not JSON: %s" % (method, url, response.status_code, _snippet(response.body_bytes)),
                           status=response.status_code, request_id=response.request_id, method=method, url=url)
        problem = validate(data) if validate is not None else None
        if problem:
            raise ApiError("%s %s: HTTP %s with an unexpected answer: %s" % (method, url, response.status_code, problem),
                           status=response.status_code, request_id=response.request_id, method=method, url=url)
        return data


def _attempts(response):
    retries = getattr(getattr(response, "raw", None), "retries", None)
    return len(getattr(retries, "history", None) or ()) + 1


def _read_limited(response, method, url):
    chunks = []
    size = 0
    try:
        for chunk in response.iter_content(65536):
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                response.close()
                raise ApiError("%s %s: HTTP %s response is larger than %d bytes; refused"
                               % (method, url, response.status_code, MAX_BODY_BYTES), status=response.status_code, method=method, url=url)
            chunks.append(chunk)
    except requests.exceptions.RequestException as exc:
        raise ApiError("%s %s: connection broke while reading the response (%s)" % (method, url, _short(exc)),
                       status=response.status_code, method=method, url=url)
    return b"".join(chunks)


def parse_error_body(body):
    """Return (code, message) from any error body shape the two APIs use, or (None, None)."""
    try:
        data = json.loads(body.decode("utf-8")) if body else None
    except (ValueError, UnicodeDecodeError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    error = data.get("error")
    if isinstance(error, dict):
        # Cloud API errorScheme; details.info is the most specific text it gives.
        details = error.get("details") if isinstance(error.get("details"), dict) else {}
        message = error.get("message")
        info = details.get("info")
        if info and message and info != message:
            message = "%s (%s)" % (message, info)
        return error.get("code"), message or info or error.get("title")
    if "error_code" in data or "error_msg" in data:
        # CodeArts Repo and the Huawei API gateway.
        return data.get("error_code"), data.get("error_msg")
    if isinstance(error, str):
        # OAuth token endpoint.
        return error, data.get("error_description")
    return data.get("code"), data.get("message")


def _snippet(body, limit=200):
    if not body:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    text = " ".join(text.split())
    return text[:limit] + ("..." if len(text) > limit else "")


def _short(exc):
    text = str(exc)
    return text if len(text) < 300 else text[:300] + "..."
