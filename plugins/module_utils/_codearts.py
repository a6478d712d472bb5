# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Client for Huawei CodeArts Repo (v4 user email API) and the IAM token it needs.

PRIVATE to accountops.cloud.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

from ansible_collections.accountops.cloud.plugins.module_utils._http import ApiError, HttpClient, check_url

DEFAULT_IAM_ENDPOINT = "https://iam.myhuaweicloud.com"


class CodeArtsClient:
    def __init__(self, endpoint, auth_token=None, iam_endpoint=None, user_name=None, password=None,
                 domain_name=None, project_name=None, validate_certs=True, ca_path=None, timeout=30,
                 retries=3, retry_budget=120, on_retry=None):
        self.url = check_url(endpoint, "endpoint")
        self.iam_url = check_url(iam_endpoint or DEFAULT_IAM_ENDPOINT, "iam_endpoint")
        self.given_token = auth_token
        self.user_name = user_name
        self.password = password
        self.domain_name = domain_name
        self.project_name = project_name
        self.http = HttpClient(validate_certs=validate_certs, ca_path=ca_path, timeout=timeout,
                               retries=retries, retry_budget=retry_budget, on_retry=on_retry)
        self._token = auth_token
        self.token_requests = 0

    def _can_login(self):
        return bool(self.user_name and self.password and self.domain_name and self.project_name)

    def _fetch_token(self):
        """IAM password authentication with project scope; the token is the X-Subject-Token header."""
        if not self._can_login():
            raise ApiError("no credentials: set auth_token (HUAWEICLOUD_AUTH_TOKEN), or user_name, password, "
                           "domain_name and project_name for an IAM token")
        self.token_requests += 1
        body = {"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": self.user_name, "password": self.password, "domain": {"name": self.domain_name}}}},
            "scope": {"project": {"name": self.project_name}},
        }}
        url = self.iam_url + "/v3/auth/tokens"
        response = self.http.request("POST", url, params={"nocatalog": "true"}, json_body=body, expect=(201,))
        token = response.headers.get("X-Subject-Token")
        if not token:
            raise ApiError("POST %s: HTTP 201 without an X-Subject-Token header" % url, status=201, url=url)
        return token

    def request(self, method, path, json_body=None, expect=(200, 201), validate=None):
        for attempt in (1, 2):
            if not self._token:
                self._token = self._fetch_token()
            try:
                return self.http.request_json(method, self.url + path, json_body=json_body, validate=validate,
                                              headers={"X-Auth-Token": self._token}, expect=expect)
            except ApiError as exc:
                # Only a token we obtained ourselves can be renewed.
                if exc.status != 401 or attempt == 2 or not self._can_login():
                    raise
                self._token = None
        raise AssertionError("unreachable")  # pragma: no cover

    def get_email(self):
        return self.request("GET", "/v4/user/emails", validate=email_user_problem)

    def send_verify_code(self, email):
        return self.request("POST", "/v4/user/email-verify-code", json_body={"email": email}, expect=(200, 201))

    def update_email(self, email, verify_code):
        return self.request("PUT", "/v4/user/emails", json_body={"email": email, "verify_code": verify_code}, validate=email_user_problem)


def email_user_problem(data):
    """What keeps data from being the user object of /v4/user/emails, or None."""
    if not isinstance(data, dict):
        return "a user object was expected, got %s" % type(data).__name__
    if not isinstance(data.get("commit_email"), str):
        return "the user object has no commit_email"
    return None
