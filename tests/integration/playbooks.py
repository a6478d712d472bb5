"""Building blocks for the playbooks the integration tests run (JSON is YAML, so plain dicts serve)."""

from __future__ import annotations

import json

TOKEN_PATHS = ('/idp/token', '/v3/auth/tokens')


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
