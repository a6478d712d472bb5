"""Building blocks for the playbooks the integration tests run (JSON is YAML, so plain dicts serve)."""

from __future__ import annotations

import json
import os

TOKEN_PATHS = ('/idp/token', '/v3/auth/tokens')
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def collections_root():
    """The directory that holds ansible_collections/accountops/cloud."""
    return os.path.abspath(os.environ.get('ACCOUNTOPS_COLLECTIONS_ROOT') or os.path.join(REPO_ROOT, 'build'))


def record_figures(name, **figures):
    """Append figures for docs/reliability.md when ACCOUNTOPS_RELIABILITY_FIGURES names a file."""
    path = os.environ.get('ACCOUNTOPS_RELIABILITY_FIGURES')
    if path:
        with open(path, 'a', encoding='utf-8') as handle:
            handle.write(json.dumps(dict(figures, test=name)) + '\n')


def play(tasks, cloud=None, codearts=None, name='accountops'):
    """One play on localhost; auth set once per action group through module_defaults."""
    entry = {'name': name, 'hosts': 'localhost', 'gather_facts': False, 'tasks': list(tasks)}
    defaults = {}
    if cloud:
        defaults['group/accountops.cloud.cloud'] = cloud
    if codearts:
        defaults['group/accountops.cloud.codearts'] = codearts
    if defaults:
        entry['module_defaults'] = defaults
    return entry


def book(*plays):
    return json.dumps(list(plays), indent=2)


def one_play(*tasks, **play_options):
    """A playbook of one play: the common case."""
    return book(play(tasks, **play_options))


def task(module, name, ignore_errors=False, **args):
    """A task of accountops.cloud.<module> (a full name is taken as it is)."""
    entry = {'name': name, module if '.' in module else 'accountops.cloud.' + module: args}
    if ignore_errors:
        entry['ignore_errors'] = True
    return entry


def writes(log):
    """Requests that change something: anything but GET and the token requests."""
    return [r for r in log if r['method'] != 'GET' and not r['path'].endswith(TOKEN_PATHS)]


def token_requests(log):
    return [r for r in log if r['path'].endswith(TOKEN_PATHS)]


# A connection plugin that is the local connection under another name: with it the collection's
# action plugins see a connection that is not 'local' and run the module itself, in a new process.
MODULE_LOCAL_CONNECTION = '''
from __future__ import annotations

DOCUMENTATION = """
    name: module_local
    short_description: the local connection under another name (accountops.cloud tests)
    description:
        - Runs on the controller like ansible.builtin.local, but the transport is not named local,
          so accountops.cloud action plugins fall back to running the module.
    author: accountops.cloud maintainers (@accountops)
    options: {}
    extends_documentation_fragment:
        - connection_pipelining
"""

from ansible.plugins.connection.local import Connection as LocalConnection


class Connection(LocalConnection):
    transport = 'module_local'

    def get_option(self, option, hostvars=None):
        if option in ('become_success_timeout', 'become_strip_preamble'):
            return {'become_success_timeout': 10, 'become_strip_preamble': True}[option]
        return super().get_option(option, hostvars=hostvars)
'''


def write_module_local_connection(folder):
    """Write the module_local connection plugin; return the folder to put in ANSIBLE_CONNECTION_PLUGINS."""
    plugins = os.path.join(str(folder), 'connection_plugins')
    os.makedirs(plugins, exist_ok=True)
    with open(os.path.join(plugins, 'module_local.py'), 'w', encoding='utf-8') as handle:
        handle.write(MODULE_LOCAL_CONNECTION)
    return plugins
