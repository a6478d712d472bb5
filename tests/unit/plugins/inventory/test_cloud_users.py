# -*- coding: utf-8 -*-
# Copyright (c) accountops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Unit tests of the accountops.cloud.cloud_users inventory plugin, against an in-memory client."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type  # pylint: disable=invalid-name

import copy
import json
import os

import pytest

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader
from ansible.template import Templar

try:
    from ansible.template import trust_as_template  # ansible-core >= 2.19: only trusted strings are templates
except ImportError:  # ansible-core 2.16 - 2.18
    def trust_as_template(value):
        return value

from ansible_collections.accountops.cloud.plugins.inventory import cloud_users as plugin_module
from ansible_collections.accountops.cloud.plugins.module_utils._args import CLOUD_AUTH_SPEC
from ansible_collections.accountops.cloud.plugins.module_utils._http import ApiError

OWN_TENANT = "cc6f6ef1-7d48-4da2-9cdf-3473ba866f4a"
CUSTOMER = "c43cda73-2ee8-41fa-8f29-820d0e70a5c1"
SECRET = "s3cr3t-never-anywhere"
TOKEN = "tok-never-anywhere"
AUTH_ENV = ("ACRONIS_BASE_URL", "ACRONIS_CLIENT_ID", "ACRONIS_CLIENT_SECRET", "ACRONIS_ACCESS_TOKEN", "ACRONIS_TOKEN_CACHE",
            "ACRONIS_TENANT_ID", "ACRONIS_VALIDATE_CERTS", "ACRONIS_CA_PATH", "ANSIBLE_INVENTORY_CACHE",
            "ANSIBLE_CACHE_PLUGIN", "ANSIBLE_INVENTORY_CACHE_PLUGIN", "ANSIBLE_CACHE_PLUGIN_CONNECTION",
            "ANSIBLE_INVENTORY_CACHE_CONNECTION")


def account(index, login=None, tenant_id=CUSTOMER, enabled=True, activated=False, **contact):
    fields = {"email": "%s@example.com" % (login or "user%d" % index), "firstname": "First%d" % index, "lastname": "Last",
              "id": "c0ffee00-0000-4000-8000-%012d" % index, "created_at": "2024-01-01T00:00:00", "types": ["technical"]}
    fields.update(contact)
    return {
        "id": "1c234e69-5469-424a-a6d1-%012d" % index, "login": login or "user%d" % index, "tenant_id": tenant_id,
        "enabled": enabled, "activated": activated, "version": index + 1, "language": "en", "external_id": None,
        "mfa_status": "disabled", "created_at": "2024-01-01T00:00:00", "updated_at": "2024-02-01T00:00:00",
        "deleted_at": None, "idp_id": "11111111-1111-4111-8111-111111111111", "notifications": ["quota"],
        "access_policies": [], "business_types": [], "contact": fields,
    }


class FakeClient:
    def __init__(self, users, params):
        self.users = users
        self.params = params
        self.calls = []

    def own_tenant_id(self):
        self.calls.append(("own_tenant_id",))
        return OWN_TENANT

    def iter_tenant_users(self, tenant_id):
        self.calls.append(("list", tenant_id))
        for user in self.users:
            yield copy.deepcopy(user)


@pytest.fixture
def api(monkeypatch):
    """Replace cloud_client() in the plugin; records each client built and the options it got."""
    state = {"users": [account(1, activated=True), account(2, enabled=False), account(3, tenant_id=OWN_TENANT)],
             "clients": [], "errors": []}

    def fake_cloud_client(params, on_warning=None):
        del on_warning
        if state["errors"]:
            raise state["errors"][0]
        client = FakeClient(state["users"], dict(params))
        state["clients"].append(client)
        return client

    for name in AUTH_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(plugin_module, "cloud_client", fake_cloud_client)
    return state


def write_config(tmp_path, config, name="accounts.cloud_users.yml"):
    path = tmp_path / name
    data = {"plugin": "accountops.cloud.cloud_users", "base_url": "https://eu2-cloud.acronis.com",
            "client_id": "3663410d-4b70-4860-860c-8db82bffab8e", "client_secret": SECRET}
    data.update(config)
    path.write_text(json.dumps(data))  # JSON is YAML
    return str(path)


def parse(path, inventory=None, cache=True):
    """What InventoryManager does with one source: parse, then write the cache if it changed."""
    plugin = inventory_loader.get("accountops.cloud.cloud_users")
    inventory = inventory or InventoryData()
    plugin.parse(inventory, DataLoader(), path, cache=cache)
    try:
        plugin.update_cache_if_changed()
    except AttributeError:  # no cache configured: InventoryManager ignores this the same way
        pass
    return inventory


def host_vars(inventory, name):
    return inventory.get_host(name).get_vars()


def members(inventory, group):
    return sorted(host.name for host in inventory.groups[group].get_hosts())


def test_plugin_is_found_and_verifies_file_names(tmp_path):
    plugin = inventory_loader.get("accountops.cloud.cloud_users")
    assert plugin is not None
    for name, expected in (("a.cloud_users.yml", True), ("a.cloud_users.yaml", True), ("cloud_users.yml", True),
                           ("a.yml", False), ("a.cloud_users.json", False)):
        path = tmp_path / name
        path.write_text("plugin: accountops.cloud.cloud_users\n")
        assert plugin.verify_file(str(path)) is expected, name
    assert plugin.verify_file(str(tmp_path / "missing.cloud_users.yml")) is False


def test_accounts_become_hosts_with_prefixed_vars_and_local_connection(tmp_path, api):
    inventory = parse(write_config(tmp_path, {}))
    assert sorted(inventory.hosts) == ["user1", "user2", "user3"]
    hvars = host_vars(inventory, "user1")
    assert hvars["ansible_connection"] == "local"
    assert hvars["cloud_user_id"] == "1c234e69-5469-424a-a6d1-000000000001"
    assert hvars["cloud_login"] == "user1"
    assert hvars["cloud_email"] == "user1@example.com"
    assert hvars["cloud_enabled"] is True
    assert hvars["cloud_activated"] is True
    assert hvars["cloud_tenant_id"] == CUSTOMER
    assert hvars["cloud_version"] == 2
    assert hvars["cloud_language"] == "en"
    assert hvars["cloud_contact"]["firstname"] == "First1"
    assert hvars["cloud_contact"]["types"] == ["technical"]
    # Contact bookkeeping and account internals are left out.
    assert "id" not in hvars["cloud_contact"] and "created_at" not in hvars["cloud_contact"]
    assert not [key for key in hvars if key.endswith(("idp_id", "notifications", "access_policies", "deleted_at"))]


def test_default_tenant_is_the_api_clients_own(tmp_path, api):
    parse(write_config(tmp_path, {}))
    client = api["clients"][0]
    assert client.calls == [("own_tenant_id",), ("list", OWN_TENANT)]
    assert client.params["client_secret"] == SECRET
    assert client.params["token_cache"] is True and client.params["validate_certs"] is True


def test_given_tenant_is_listed_and_checked(tmp_path, api):
    parse(write_config(tmp_path, {"tenant_id": CUSTOMER.upper()}))
    assert api["clients"][0].calls == [("list", CUSTOMER)]
    with pytest.raises(AnsibleParserError, match="tenant_id must be a UUID"):
        parse(write_config(tmp_path, {"tenant_id": "not-a-tenant"}))


def test_access_token_alone_needs_a_tenant(tmp_path, api):
    config = {"client_id": None, "client_secret": None, "access_token": TOKEN}
    with pytest.raises(AnsibleParserError, match="tenant_id is required") as caught:
        parse(write_config(tmp_path, config))
    assert TOKEN not in str(caught.value)
    parse(write_config(tmp_path, dict(config, tenant_id=CUSTOMER)))
    assert api["clients"][-1].calls == [("list", CUSTOMER)]


def test_groups_by_tenant_state_and_activation(tmp_path, api):
    inventory = parse(write_config(tmp_path, {}))
    assert members(inventory, "cloud_accounts") == ["user1", "user2", "user3"]
    assert members(inventory, "cloud_tenant_" + CUSTOMER.replace("-", "_")) == ["user1", "user2"]
    assert members(inventory, "cloud_tenant_" + OWN_TENANT.replace("-", "_")) == ["user3"]
    assert members(inventory, "cloud_enabled") == ["user1", "user3"]
    assert members(inventory, "cloud_disabled") == ["user2"]
    assert members(inventory, "cloud_activated") == ["user1"]
    assert members(inventory, "cloud_not_activated") == ["user2", "user3"]


def test_prefixes_and_disabled_accounts_left_out(tmp_path, api):
    inventory = parse(write_config(tmp_path, {"vars_prefix": "acct_", "group_prefix": "acct_", "include_disabled": False}))
    assert sorted(inventory.hosts) == ["user1", "user3"]
    assert host_vars(inventory, "user1")["acct_login"] == "user1"
    assert "cloud_login" not in host_vars(inventory, "user1")
    assert members(inventory, "acct_enabled") == ["user1", "user3"]
    assert "acct_disabled" not in inventory.groups


def test_hostnames_are_sanitised_and_unique(tmp_path, api):
    api["users"] = [account(1, login="j doe:1,[x]*"), account(2, login="j_doe_1__x__"), account(3, login="ok.name@corp-1")]
    inventory = parse(write_config(tmp_path, {}))
    assert sorted(inventory.hosts) == ["j_doe_1__x__", "j_doe_1__x___1c234e69", "ok.name@corp-1"]
    # the original login stays in the variables
    assert host_vars(inventory, "j_doe_1__x__")["cloud_login"] == "j doe:1,[x]*"
    assert host_vars(inventory, "j_doe_1__x___1c234e69")["cloud_login"] == "j_doe_1__x__"


def test_an_existing_host_of_another_source_is_not_taken_over(tmp_path, api):
    inventory = InventoryData()
    inventory.add_host("user1")
    inventory.set_variable("user1", "ansible_connection", "ssh")
    parse(write_config(tmp_path, {}), inventory=inventory)
    assert host_vars(inventory, "user1")["ansible_connection"] == "ssh"
    assert "cloud_login" not in host_vars(inventory, "user1")
    assert host_vars(inventory, "user1_1c234e69")["cloud_login"] == "user1"


def test_hostname_by_user_id(tmp_path, api):
    inventory = parse(write_config(tmp_path, {"hostname": "user_id"}))
    assert "1c234e69-5469-424a-a6d1-000000000001" in inventory.hosts


def test_compose_groups_and_keyed_groups(tmp_path, api):
    config = {
        "compose": {"wanted_email": "cloud_login ~ '@corp.example'"},
        "groups": {"pending": "not cloud_activated and cloud_enabled"},
        "keyed_groups": [{"key": "cloud_contact.firstname | lower", "prefix": "first"}],
    }
    inventory = parse(write_config(tmp_path, config))
    assert host_vars(inventory, "user1")["wanted_email"] == "user1@corp.example"
    assert members(inventory, "pending") == ["user3"]
    assert members(inventory, "first_first2") == ["user2"]


def test_account_data_is_never_templated(tmp_path, api):
    api["users"] = [account(1, firstname="{{ 'injected' | upper }}")]
    inventory = parse(write_config(tmp_path, {"compose": {"copy_of_name": "cloud_contact.firstname"}}))
    hvars = host_vars(inventory, "user1")
    templar = Templar(loader=DataLoader(), variables=hvars)
    assert templar.template(trust_as_template("{{ copy_of_name }}")) == "{{ 'injected' | upper }}"
    assert templar.template(trust_as_template("{{ cloud_contact.firstname }}")) == "{{ 'injected' | upper }}"


def test_documents_every_auth_option_of_the_modules(api):
    del api  # clears the ACRONIS_* environment
    plugin = inventory_loader.get("accountops.cloud.cloud_users")
    plugin.set_options(direct={"plugin": "accountops.cloud.cloud_users"})
    for name, spec in CLOUD_AUTH_SPEC.items():
        assert plugin.get_option(name) == spec.get("default"), name


def test_no_secret_in_host_vars(tmp_path, api):
    inventory = parse(write_config(tmp_path, {}))
    text = json.dumps(dict((name, host_vars(inventory, name)) for name in inventory.hosts), default=str)
    assert SECRET not in text
    assert not [key for key in host_vars(inventory, "user1") if "secret" in key or "token" in key]


def test_options_from_the_environment(tmp_path, api, monkeypatch):
    monkeypatch.setenv("ACRONIS_BASE_URL", "https://us5-cloud.acronis.com")
    monkeypatch.setenv("ACRONIS_CLIENT_ID", "from-env")
    monkeypatch.setenv("ACRONIS_CLIENT_SECRET", "secret-from-env")
    monkeypatch.setenv("ACRONIS_TOKEN_CACHE", "false")
    path = tmp_path / "env.cloud_users.yml"
    path.write_text("plugin: accountops.cloud.cloud_users\ntenant_id: %s\n" % CUSTOMER)
    parse(str(path))
    client = api["clients"][0]
    assert client.params["base_url"] == "https://us5-cloud.acronis.com"
    assert client.params["client_id"] == "from-env"
    assert client.params["client_secret"] == "secret-from-env"
    assert client.params["token_cache"] is False
    assert client.calls == [("list", CUSTOMER)]


def test_templated_option(tmp_path, api, monkeypatch):
    monkeypatch.setenv("MY_SECRET_VAR", "templated-secret")
    parse(write_config(tmp_path, {"client_secret": "{{ lookup('ansible.builtin.env', 'MY_SECRET_VAR') }}"}))
    assert api["clients"][0].params["client_secret"] == "templated-secret"


def test_api_errors_become_parser_errors(tmp_path, api):
    api["errors"].append(ApiError("GET /users failed: HTTP 403, error code 1002: Forbidden", status=403))
    with pytest.raises(AnsibleParserError, match="could not list the accounts: GET /users failed: HTTP 403") as caught:
        parse(write_config(tmp_path, {}))
    assert SECRET not in str(caught.value)


def test_wrong_plugin_name_is_refused(tmp_path, api):
    path = write_config(tmp_path, {"plugin": "someone.else.cloud_users"})
    with pytest.raises(AnsibleParserError):
        parse(path)


def cache_config(tmp_path, **extra):
    config = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache"),
              "cache_prefix": "t_"}
    config.update(extra)
    return config


def read_cache_dir(directory):
    text = ""
    for name in os.listdir(directory):
        with open(os.path.join(directory, name)) as handle:
            text += handle.read()
    return text


def test_cache_is_used_and_holds_no_secret(tmp_path, api):
    path = write_config(tmp_path, cache_config(tmp_path, access_token=TOKEN))
    first = parse(path)
    assert len(api["clients"]) == 1
    stored = read_cache_dir(str(tmp_path / "cache"))
    assert "user1@example.com" in stored
    assert SECRET not in stored and TOKEN not in stored
    assert "secret" not in stored.lower() and "token" not in stored.lower()

    # A second run (cache=True, as ansible-inventory passes it) reads the cache and makes no request.
    api["users"] = []
    second = parse(path)
    assert len(api["clients"]) == 1
    assert sorted(second.hosts) == sorted(first.hosts)
    assert host_vars(second, "user1") == host_vars(first, "user1")

    # --flush-cache (cache=False) fetches again and refreshes the cache.
    third = parse(path, cache=False)
    assert len(api["clients"]) == 2
    assert not third.hosts


def test_cache_is_keyed_by_tenant(tmp_path, api):
    parse(write_config(tmp_path, cache_config(tmp_path, tenant_id=CUSTOMER)))
    parse(write_config(tmp_path, cache_config(tmp_path, tenant_id=OWN_TENANT)))
    assert [client.calls for client in api["clients"]] == [[("list", CUSTOMER)], [("list", OWN_TENANT)]]


def test_contact_fields_limit_the_personal_data_in_host_vars_and_the_cache(tmp_path, api):
    path = write_config(tmp_path, cache_config(tmp_path, contact_fields=["firstname", "country"]))
    api["users"] = [account(1, country="UK", phone="+44 20 7946 0000", city="Leeds")]
    hvars = host_vars(parse(path), "user1")
    assert hvars["cloud_contact"] == {"firstname": "First1", "country": "UK"}
    assert hvars["cloud_login"] == "user1" and hvars["cloud_email"] == "user1@example.com"
    stored = read_cache_dir(str(tmp_path / "cache"))
    assert "+44 20 7946 0000" not in stored and "Leeds" not in stored and "Last" not in stored
    # Other fields make another cache entry: the first one cannot answer for them.
    hvars = host_vars(parse(write_config(tmp_path, cache_config(tmp_path, contact_fields=[]))), "user1")
    assert hvars["cloud_contact"] == {}
    assert len(api["clients"]) == 2
    # null (an empty YAML value) is the default: every contact field
    hvars = host_vars(parse(write_config(tmp_path, {"contact_fields": None})), "user1")
    assert sorted(hvars["cloud_contact"]) == ["city", "country", "email", "firstname", "lastname", "phone", "types"]


def test_unknown_contact_field_is_refused(tmp_path, api):
    # ansible-core refuses a value outside the documented choices, naming the option, before any request.
    with pytest.raises(AnsibleError, match="contact_fields"):
        parse(write_config(tmp_path, {"contact_fields": ["shoe_size"]}))
    assert not api["clients"]


def test_unusable_cache_entry_is_refetched(tmp_path, api):
    path = write_config(tmp_path, cache_config(tmp_path))
    parse(path)
    for name in os.listdir(str(tmp_path / "cache")):
        with open(os.path.join(str(tmp_path / "cache"), name), "w") as handle:
            json.dump({"format": 0, "accounts": "garbage"}, handle)
    inventory = parse(path)
    assert len(api["clients"]) == 2
    assert "user1" in inventory.hosts
