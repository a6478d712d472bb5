# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r'''
name: cloud_users
short_description: Acronis Cyber Protect Cloud accounts as inventory hosts
version_added: 1.0.0
description:
  - Lists every account under a tenant of the Acronis Cyber Protect Cloud account API (C(GET /users?subtree_root_tenant_id=),
    page by page) and makes each one an inventory host named after its login.
  - Account fields become host variables prefixed with O(vars_prefix) (C(cloud_user_id), C(cloud_login), C(cloud_email),
    C(cloud_enabled), C(cloud_activated), C(cloud_tenant_id), C(cloud_contact), C(cloud_version), ...).
    No credential or token is ever set as a variable or written to the inventory cache.
  - Every host gets C(ansible_connection=local). An account is not a machine, so tasks run on the controller (or on each
    AWX execution node of a sliced job), where the collection's modules run in-process through their action plugins.
  - Hosts are grouped by tenant, enabled or disabled, and activated or not; O(compose), O(groups) and O(keyed_groups)
    add variables and groups of your own.
  - The configuration file must be named C(*.cloud_users.yml) or C(*.cloud_users.yaml).
author:
  - accountops.cloud maintainers (@accountops)
requirements:
  - requests
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: Marks this file as a configuration of this plugin.
    required: true
    type: str
    choices: [accountops.cloud.cloud_users]
  base_url:
    description:
      - The data-center URL of the Acronis Cyber Protect Cloud account API, as the management portal shows it
        when you create an API client, for example C(https://eu2-cloud.acronis.com). A trailing C(/api/2) is accepted too.
      - C(http://) is refused unless the host is a loopback address.
      - One of this option and the E(ACRONIS_BASE_URL) environment variable is required.
    type: str
    env:
      - name: ACRONIS_BASE_URL
  client_id:
    description:
      - Client ID of an API client (Settings > API clients in the management portal), used with O(client_secret)
        to obtain a token by the OAuth client-credentials grant.
      - Also tells the API client's own tenant, listed when O(tenant_id) is not set.
    type: str
    env:
      - name: ACRONIS_CLIENT_ID
  client_secret:
    description:
      - Secret of the API client. Prefer the E(ACRONIS_CLIENT_SECRET) environment variable (how an AWX credential
        injects it) or a vaulted value to writing it in the file.
      - Never written to the token cache, the inventory cache or host variables.
    type: str
    env:
      - name: ACRONIS_CLIENT_SECRET
  access_token:
    description:
      - A bearer token obtained elsewhere, used instead of O(client_id) and O(client_secret). It cannot be renewed.
      - With an access token alone, O(tenant_id) is required.
    type: str
    env:
      - name: ACRONIS_ACCESS_TOKEN
  validate_certs:
    description: Whether to verify the server's TLS certificate. Only turn this off for a test system.
    type: bool
    default: true
  ca_path:
    description: PEM file of the certificate authorities to trust instead of the system store, for a private CA.
    type: path
  timeout:
    description: Seconds to wait for a connection and for each answer.
    type: float
    default: 30
  retries:
    description:
      - How many times a request is retried after HTTP 429, 502, 503, 504, a connection reset or a timeout,
        with exponential backoff, honouring C(Retry-After). V(0) turns retries off.
    type: int
    default: 3
  retry_budget:
    description:
      - The most seconds one request may take with all its retries and the waits between them.
    type: float
    default: 120
  token_cache:
    description:
      - Keep the token in the per-user cache the modules use (C($XDG_CACHE_HOME/accountops.cloud/tokens), 0600 in a
        0700 folder, the token and the API client's tenant id, never the secret), so the inventory and the tasks of the
        playbook that follows ask for one token.
    type: bool
    default: true
    env:
      - name: ACRONIS_TOKEN_CACHE
  tenant_id:
    description:
      - The tenant whose accounts (its own and its whole subtree's) become hosts.
      - Defaults to the API client's own tenant (C(GET /clients/{client_id})).
    type: str
  contact_fields:
    description:
      - The contact fields kept in C(<vars_prefix>contact), in host variables and in the inventory cache.
      - Contact fields are personal data (names, phone numbers, addresses) that end up wherever host variables go,
        for example in AWX's inventory. List only those your plays use; V([]) keeps none.
      - C(<vars_prefix>login) and C(<vars_prefix>email) are set whatever this says.
    type: list
    elements: str
    choices: [email, firstname, lastname, address1, address2, city, state, zipcode, country, phone, fax, title, website,
              industry, organization_size, language, types, email_confirmed]
    default: [email, firstname, lastname, address1, address2, city, state, zipcode, country, phone, fax, title, website,
              industry, organization_size, language, types, email_confirmed]
  include_disabled:
    description: Whether disabled accounts become hosts too (in the C(<group_prefix>disabled) group).
    type: bool
    default: true
  hostname:
    description:
      - What names the hosts. V(login) uses the login, V(user_id) the account's UUID.
      - Characters that cannot appear in an inventory host name (anything but letters, digits, C(.), C(_), C(-) and C(@))
        become C(_). When two accounts would get one name, or a name is already a host of another inventory source,
        the later one gets C(_) and the first 8 characters of its UUID appended, with a warning.
    type: str
    choices: [login, user_id]
    default: login
  vars_prefix:
    description: Prefix of the host variables this plugin sets.
    type: str
    default: cloud_
  group_prefix:
    description:
      - Prefix of the groups this plugin creates
        C(<prefix>accounts) (every account), C(<prefix>tenant_<tenant id>), C(<prefix>enabled), C(<prefix>disabled),
        C(<prefix>activated) and C(<prefix>not_activated). Dashes in tenant ids become C(_).
    type: str
    default: cloud_
notes:
  - Plays over these hosts should set C(gather_facts=false); there is no machine to gather facts from.
  - ansible-core forks a worker per host and task, about 15 to 25 ms per host on a 2-core controller whatever the task
    does. To change many accounts, prefer one M(accountops.cloud.cloud_users) task with C(run_once=true) over the
    play's hosts (for example C(users) built with C(ansible_play_hosts | map('extract', hostvars, 'desired'))); see
    C(docs/awx-job-slicing.md) for sliced AWX jobs.
  - With O(cache=true) the cache holds the account fields listed above, keyed by the configuration file, the API URL and
    the tenant; never a secret or a token.
seealso:
  - module: accountops.cloud.cloud_user_info
  - module: accountops.cloud.cloud_users
'''

EXAMPLES = r'''
# accounts.cloud_users.yml, with the credential in ACRONIS_BASE_URL, ACRONIS_CLIENT_ID and ACRONIS_CLIENT_SECRET
plugin: accountops.cloud.cloud_users

---
# A customer tenant instead of the API client's own tenant, without disabled accounts,
# only the contact fields the plays need, grouped by the contact's country, cached for an hour in JSON files
plugin: accountops.cloud.cloud_users
tenant_id: c43cda73-2ee8-41fa-8f29-820d0e70a5c1
include_disabled: false
contact_fields: [firstname, lastname, country, title]
keyed_groups:
  - key: cloud_contact.country | default('none', true) | lower
    prefix: country
groups:
  pending_activation: not cloud_activated and cloud_enabled
compose:
  wanted_email: cloud_login ~ '@example.com'
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/accountops-inventory
cache_timeout: 3600

# A playbook over those hosts: each task runs on the controller, in-process
# - hosts: cloud_enabled
#   gather_facts: false
#   tasks:
#     - accountops.cloud.cloud_user_contact:
#         user_id: "{{ cloud_user_id }}"
#         contact: {title: "{{ cloud_contact.title | default('Engineer', true) }}"}
'''

import hashlib
import re

from ansible.errors import AnsibleParserError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.accountops.cloud.plugins.module_utils._args import CLOUD_AUTH_SPEC, InputError, check_uuid, cloud_client
from ansible_collections.accountops.cloud.plugins.module_utils._http import HAS_REQUESTS, ApiError

# Host variables, by name after the prefix, and how each is read from an account of GET /users (lod=full).
ACCOUNT_FIELDS = (
    ("user_id", lambda user: user.get("id")),
    ("login", lambda user: user.get("login")),
    ("email", lambda user: (user.get("contact") or {}).get("email")),
    ("enabled", lambda user: user.get("enabled")),
    ("activated", lambda user: user.get("activated")),
    ("tenant_id", lambda user: user.get("tenant_id")),
    ("version", lambda user: user.get("version")),
    ("language", lambda user: user.get("language")),
    ("external_id", lambda user: user.get("external_id")),
    ("mfa_status", lambda user: user.get("mfa_status")),
    ("created_at", lambda user: user.get("created_at")),
    ("updated_at", lambda user: user.get("updated_at")),
)
# Contact fields kept in <prefix>contact: the writable ones of the API's contactPut schema and a few read-only facts.
CONTACT_KEYS = (
    "email", "firstname", "lastname", "address1", "address2", "city", "state", "zipcode", "country", "phone", "fax",
    "title", "website", "industry", "organization_size", "language", "types", "email_confirmed",
)
# Anything else can upset host patterns (`,` `:` `!` `&` `*` `[` `~` ...), so it becomes `_`.
UNSAFE_HOST_CHARS = re.compile(r"[^A-Za-z0-9@._-]")
# Bumped when the shape of a cached record changes, so an old cache is not misread.
CACHE_FORMAT = 1


def account_record(user, contact_keys=CONTACT_KEYS):
    """The part of an account this plugin keeps: whitelisted fields, nothing else, never a secret."""
    record = dict((name, read(user)) for name, read in ACCOUNT_FIELDS)
    contact = user.get("contact") or {}
    record["contact"] = dict((key, contact[key]) for key in contact_keys if key in contact)
    return record


def safe_host_name(value):
    return UNSAFE_HOST_CHARS.sub("_", value)


def safe_group_part(value):
    return re.sub(r"[^A-Za-z0-9_]", "_", value)


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = "accountops.cloud.cloud_users"

    def verify_file(self, path):
        if not super(InventoryModule, self).verify_file(path):
            return False
        if path.endswith(("cloud_users.yml", "cloud_users.yaml")):
            return True
        self.display.vvv("Skipping %s: an accountops.cloud.cloud_users inventory file must end with "
                         "cloud_users.yml or cloud_users.yaml" % path)
        return False

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache=cache)
        self._read_config_data(path)
        if not HAS_REQUESTS:
            raise AnsibleParserError("the accountops.cloud.cloud_users inventory plugin needs the Python library requests "
                                     "on the controller (pip install requests)")
        params = self._auth_params()
        tenant_id = self._option_text("tenant_id")
        if tenant_id:
            try:
                tenant_id = check_uuid(tenant_id, "tenant_id")
            except InputError as exc:
                raise AnsibleParserError("%s: %s" % (path, exc))

        contact_keys = tuple(key for key in CONTACT_KEYS if key in self.get_option("contact_fields"))
        cache_key = "%s_%s" % (self.get_cache_key(path), self._source_fingerprint(params, tenant_id, contact_keys))
        use_cache = self.get_option("cache")
        records = None
        if use_cache and cache:
            records = self._cached_records(cache_key)
        if records is None:
            records = self._fetch(path, params, tenant_id, contact_keys)
            if use_cache:
                self._cache[cache_key] = {"format": CACHE_FORMAT, "accounts": records}
        self._populate(records)

    # -- options ------------------------------------------------------------------------------------------------

    def _option_text(self, name):
        """A string option, decrypted if vaulted and rendered if it is a template; None when empty."""
        value = self.get_option(name)
        if value is None:
            return None
        if isinstance(value, str) and self.templar.is_template(value):
            value = self.templar.template(value)
        value = to_native(value)
        return value or None

    def _auth_params(self):
        """The options of the modules' CLOUD_AUTH_SPEC; one this plugin does not document keeps the spec's default."""
        params = {}
        for name, spec in CLOUD_AUTH_SPEC.items():
            try:
                params[name] = self._option_text(name) if spec["type"] == "str" else self.get_option(name)
            except KeyError:
                params[name] = spec.get("default")
        return params

    @staticmethod
    def _source_fingerprint(params, tenant_id, contact_keys):
        # Which API and tenant the cached accounts come from, and which contact fields they keep.
        # Only public identifiers go in, never the secret.
        text = "%s\n%s\n%s\n%s" % ((params.get("base_url") or "").rstrip("/"), params.get("client_id") or "", tenant_id or "",
                                   ",".join(contact_keys))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]

    # -- data ---------------------------------------------------------------------------------------------------

    def _cached_records(self, cache_key):
        try:
            entry = self._cache[cache_key]
        except KeyError:
            return None
        if not isinstance(entry, dict) or entry.get("format") != CACHE_FORMAT or not isinstance(entry.get("accounts"), list):
            return None
        return entry["accounts"]

    def _fetch(self, path, params, tenant_id, contact_keys):
        try:
            client = cloud_client(params, on_warning=self.display.warning)
            if not tenant_id:
                if not params.get("client_id"):
                    raise InputError("tenant_id is required when the API client is not known (access_token without client_id)")
                tenant_id = client.own_tenant_id()
            return [account_record(user, contact_keys) for user in client.iter_tenant_users(tenant_id)]
        except (InputError, ApiError) as exc:
            raise AnsibleParserError("%s: accountops.cloud.cloud_users could not list the accounts: %s" % (path, exc))

    def _populate(self, records):
        var_prefix = self.get_option("vars_prefix")
        group_prefix = self.get_option("group_prefix")
        by_user_id = self.get_option("hostname") == "user_id"
        include_disabled = self.get_option("include_disabled")
        strict = self.get_option("strict")
        compose, groups, keyed_groups = self.get_option("compose"), self.get_option("groups"), self.get_option("keyed_groups")
        all_group = self.inventory.add_group(group_prefix + "accounts")
        static_groups = {}
        mine = set()

        def group(name):
            if name not in static_groups:
                static_groups[name] = self.inventory.add_group(name)
            return static_groups[name]

        for record in records:
            if not record.get("user_id") or (not include_disabled and not record.get("enabled")):
                continue
            name = self._host_name(record, by_user_id, mine)
            mine.add(name)
            self.inventory.add_host(name, group=all_group)
            # Account data comes from the API: never templated (a login or a name may hold "{{ }}").
            hostvars = dict((var_prefix + key, wrap_var(value)) for key, value in record.items())
            hostvars["ansible_connection"] = "local"
            for key, value in hostvars.items():
                self.inventory.set_variable(name, key, value)
            if record.get("tenant_id"):
                self.inventory.add_child(group("%stenant_%s" % (group_prefix, safe_group_part(record["tenant_id"]))), name)
            self.inventory.add_child(group(group_prefix + ("enabled" if record.get("enabled") else "disabled")), name)
            self.inventory.add_child(group(group_prefix + ("activated" if record.get("activated") else "not_activated")), name)
            if compose or groups or keyed_groups:
                self._set_composite_vars(compose, hostvars, name, strict=strict)
                self._add_host_to_composed_groups(groups, hostvars, name, strict=strict)
                self._add_host_to_keyed_groups(keyed_groups, hostvars, name, strict=strict)

    def _host_name(self, record, by_user_id, taken):
        name = record["user_id"] if by_user_id else safe_host_name(record.get("login") or record["user_id"])
        if name in taken or name in self.inventory.hosts:
            unique = "%s_%s" % (name, record["user_id"][:8])
            self.display.warning("accountops.cloud.cloud_users: host %s already exists; account %s (login %r) is host %s instead"
                                 % (name, record["user_id"], record.get("login"), unique))
            name = unique
        return name
