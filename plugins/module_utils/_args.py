# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Argument specs, input checks and client construction shared by modules and action plugins.

PRIVATE to accountops.cloud. The option documentation for the auth options
lives in plugins/doc_fragments/{cloud_auth,codearts_auth}.py and must match
the specs here.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

import re
import threading

from ansible.module_utils.basic import env_fallback

from ansible_collections.accountops.cloud.plugins.module_utils._codearts import DEFAULT_IAM_ENDPOINT

# Every module's HTTP connection options, documented in doc_fragments/connection.py.
CONNECTION_SPEC = dict(
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
    timeout=dict(type="float", default=30),
    retries=dict(type="int", default=3),
    retry_budget=dict(type="float", default=120),
)

CLOUD_AUTH_SPEC = dict(
    CONNECTION_SPEC,
    base_url=dict(type="str", fallback=(env_fallback, ["ACRONIS_BASE_URL"])),
    client_id=dict(type="str", no_log=False, fallback=(env_fallback, ["ACRONIS_CLIENT_ID"])),
    client_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["ACRONIS_CLIENT_SECRET"])),
    access_token=dict(type="str", no_log=True, fallback=(env_fallback, ["ACRONIS_ACCESS_TOKEN"])),
    token_cache=dict(type="bool", default=True, no_log=False, fallback=(env_fallback, ["ACRONIS_TOKEN_CACHE"])),
)

CODEARTS_AUTH_SPEC = dict(
    CONNECTION_SPEC,
    endpoint=dict(type="str", fallback=(env_fallback, ["CODEARTS_REPO_ENDPOINT"])),
    auth_token=dict(type="str", no_log=True, fallback=(env_fallback, ["HUAWEICLOUD_AUTH_TOKEN"])),
    iam_endpoint=dict(type="str", default=DEFAULT_IAM_ENDPOINT, fallback=(env_fallback, ["HUAWEICLOUD_IAM_ENDPOINT"])),
    user_name=dict(type="str", fallback=(env_fallback, ["HUAWEICLOUD_USER_NAME"])),
    password=dict(type="str", no_log=True, fallback=(env_fallback, ["HUAWEICLOUD_PASSWORD"])),
    domain_name=dict(type="str", fallback=(env_fallback, ["HUAWEICLOUD_DOMAIN_NAME"])),
    project_name=dict(type="str", fallback=(env_fallback, ["HUAWEICLOUD_PROJECT_NAME"])),
)

# Writable contact fields of the API's contactPut schema that a playbook may manage.
CONTACT_FIELDS = (
    "firstname", "lastname", "address1", "address2", "city", "state", "zipcode", "country",
    "phone", "fax", "title", "website", "industry", "organization_size", "language",
)
CONTACT_VALUE_MAX = 1000
EMAIL_MAX = 254

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# Printable ASCII local part, dotted domain of letters, digits and hyphens: what the API's
# mail system can deliver to. Stricter than the API's own "\S+@\S+" on purpose.
EMAIL_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")


class InputError(ValueError):
    """Bad input, found before any request is sent."""


def check_uuid(value, option):
    if not isinstance(value, str) or not UUID_RE.match(value):
        raise InputError("%s must be a UUID such as 1c234e69-5469-424a-a6d1-ff5658b387a6, got %r" % (option, value))
    return value.lower()


def check_email(value, option):
    text = value.strip() if isinstance(value, str) else value
    if not isinstance(text, str) or len(text) > EMAIL_MAX or not EMAIL_RE.match(text):
        raise InputError("%s must be a valid email address (ASCII, name@domain.tld, at most %d characters), got %r"
                         % (option, EMAIL_MAX, value))
    return text


def check_login(value, option):
    if not isinstance(value, str) or not value.strip():
        raise InputError("%s must be a non-empty login" % option)
    return value


def check_contact(contact, option):
    """Keep only the keys given; reject email (it has its own module) and overlong values."""
    if not isinstance(contact, dict):
        raise InputError("%s must be a dictionary of contact fields" % option)
    if contact.get("email") is not None:
        raise InputError("%s.email is not managed here: an activated account's email changes only after the user "
                         "confirms it, so use accountops.cloud.cloud_user_email (or the email option of cloud_users)" % option)
    unknown = sorted(set(contact) - set(CONTACT_FIELDS) - {"email"})
    if unknown:
        raise InputError("%s has unknown fields %s; supported: %s" % (option, ", ".join(unknown), ", ".join(CONTACT_FIELDS)))
    wanted = {}
    for key, value in contact.items():
        if key == "email" or value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            # A list or dict would be written as its Python repr; a bool is usually unquoted YAML (country: NO).
            raise InputError("%s.%s must be a string, got %s %r; quote the value in YAML" % (option, key, type(value).__name__, value))
        if not isinstance(value, str):
            value = str(value)
        if len(value) > CONTACT_VALUE_MAX:
            raise InputError("%s.%s is %d characters long; at most %d are accepted" % (option, key, len(value), CONTACT_VALUE_MAX))
        wanted[key] = value
    if not wanted:
        raise InputError("%s sets no field: give at least one of %s" % (option, ", ".join(CONTACT_FIELDS)))
    return wanted


def check_selector(params, option_prefix=""):
    """Exactly one of user_id and login; returns (user_id, login) normalised."""
    user_id, login = params.get("user_id"), params.get("login")
    if user_id and login:
        raise InputError("%suser_id and %slogin are mutually exclusive: select the account by one of them" % (option_prefix, option_prefix))
    if not user_id and not login:
        raise InputError("select the account with %suser_id or %slogin" % (option_prefix, option_prefix))
    if user_id:
        return check_uuid(user_id, option_prefix + "user_id"), None
    return None, check_login(login, option_prefix + "login")


def check_timeout(params):
    if params.get("timeout") is not None and params["timeout"] <= 0:
        raise InputError("timeout must be a positive number of seconds, got %r" % params["timeout"])
    if params.get("retries") is not None and not 0 <= params["retries"] <= 10:
        raise InputError("retries must be between 0 and 10, got %r" % params["retries"])
    if params.get("retry_budget") is not None and params["retry_budget"] <= 0:
        raise InputError("retry_budget must be a positive number of seconds, got %r" % params["retry_budget"])


class RetryWarnings:
    """Report retried requests as warnings: the first few one by one, then one line that more followed.

    A job that only succeeded after retries should say so, without 300 lines for a flaky bulk run.
    """

    def __init__(self, warn, limit=5):
        self.warn = warn
        self.limit = limit
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self, message):
        with self._lock:
            self.count += 1
            count = self.count
        if count <= self.limit:
            self.warn("transient failure: %s" % message)
        elif count == self.limit + 1:
            self.warn("more requests were retried after transient failures; only the first %d are listed" % self.limit)


def _retry_options(params, on_warning):
    return dict(
        timeout=params.get("timeout") or 30,
        retries=params["retries"] if params.get("retries") is not None else 3,
        retry_budget=params.get("retry_budget") or 120,
        on_retry=RetryWarnings(on_warning) if on_warning is not None else None,
    )


def cloud_client(params, on_warning=None):
    """Build a CloudClient from validated options, refusing incomplete auth before any request."""
    from ansible_collections.accountops.cloud.plugins.module_utils._cloud import CloudClient
    if not params.get("base_url"):
        raise InputError("base_url is required: the data-center URL such as https://eu2-cloud.acronis.com "
                         "(or set ACRONIS_BASE_URL)")
    if not params.get("access_token") and not (params.get("client_id") and params.get("client_secret")):
        raise InputError("authentication is missing: give client_id and client_secret (ACRONIS_CLIENT_ID, "
                         "ACRONIS_CLIENT_SECRET) or access_token (ACRONIS_ACCESS_TOKEN)")
    check_timeout(params)
    try:
        return CloudClient(
            params["base_url"], client_id=params.get("client_id"), client_secret=params.get("client_secret"),
            access_token=params.get("access_token"), validate_certs=params.get("validate_certs", True),
            ca_path=params.get("ca_path"), token_cache=params.get("token_cache", True), on_warning=on_warning,
            **_retry_options(params, on_warning))
    except ValueError as exc:
        raise InputError(str(exc))


def codearts_client(params, on_warning=None):
    from ansible_collections.accountops.cloud.plugins.module_utils._codearts import CodeArtsClient
    if not params.get("endpoint"):
        raise InputError("endpoint is required: the CodeArts Repo URL such as https://codehub-ext.cn-north-4.myhuaweicloud.com "
                         "(or set CODEARTS_REPO_ENDPOINT)")
    iam = [params.get(name) for name in ("user_name", "password", "domain_name", "project_name")]
    if not params.get("auth_token") and not all(iam):
        raise InputError("authentication is missing: give auth_token (HUAWEICLOUD_AUTH_TOKEN), or user_name, password, "
                         "domain_name and project_name (HUAWEICLOUD_USER_NAME, HUAWEICLOUD_PASSWORD, "
                         "HUAWEICLOUD_DOMAIN_NAME, HUAWEICLOUD_PROJECT_NAME) for an IAM token")
    check_timeout(params)
    try:
        return CodeArtsClient(
            params["endpoint"], auth_token=params.get("auth_token"), iam_endpoint=params.get("iam_endpoint"),
            user_name=params.get("user_name"), password=params.get("password"), domain_name=params.get("domain_name"),
            project_name=params.get("project_name"), validate_certs=params.get("validate_certs", True),
            ca_path=params.get("ca_path"), **_retry_options(params, on_warning))
    except ValueError as exc:
        raise InputError(str(exc))
