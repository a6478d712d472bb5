#!/usr/bin/env python
"""Pre-seed ansible-test's pip bootstrap cache with an offline stand-in.

`ansible-test ... --venv` bootstraps pip into every virtualenv it creates by
running a get-pip.py that it downloads from a host this project's machines
cannot reach, caching it as ~/.ansible/test/cache/get_pip_<version>.py
(version dots replaced by underscores). This script writes, for the pip
version(s) the running ansible-test asks for, a small stand-in that runs
`python -m ensurepip` and then `python -m pip install <its arguments>` (the
arguments are the pinned pip/setuptools/wheel requirements ansible-test
passes), which works with only the package registry reachable.

Run it with the python of the venv holding ansible-core (it inspects that
venv's ansible_test to find the pip version). A cache file that is not ours
(e.g. a real get-pip.py someone downloaded) is left alone.
"""

from __future__ import annotations

import os
import re
import sys

MARKER = 'accountops-offline-get-pip-shim'
FALLBACK_VERSIONS = ('24.2', '23.1.2')

SHIM = '''"""Offline stand-in for get-pip.py written by scripts/seed_get_pip.py (%(marker)s)."""
import subprocess
import sys

DROPPED = ('--no-setuptools', '--no-wheel', '--no-pip')


def main():
    """Install pip via ensurepip, then pip install whatever get-pip.py was asked for."""
    args = [arg for arg in sys.argv[1:] if arg not in DROPPED]
    subprocess.run([sys.executable, '-m', 'ensurepip', '--default-pip'], check=True, stdout=subprocess.DEVNULL)
    if [arg for arg in args if not arg.startswith('-')]:
        subprocess.run([sys.executable, '-m', 'pip', 'install'] + args, check=True)


main()
'''


def wanted_versions():
    """Return the pip versions ansible-test (importable from this python) bootstraps."""
    versions = set()
    try:
        import ansible_test  # pylint: disable=import-outside-toplevel
    except ImportError:
        return set(FALLBACK_VERSIONS)
    source = os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py')
    with open(source, encoding='utf-8') as handle:
        text = handle.read()
    versions.update(re.findall(r"""\bpip\s*=\s*['"]([0-9][0-9.]*)['"]""", text))
    return versions or set(FALLBACK_VERSIONS)


def seed(cache_dir, versions):
    """Write the shim for each version unless a foreign file already sits there."""
    os.makedirs(cache_dir, exist_ok=True)
    content = SHIM % {'marker': MARKER}
    for version in sorted(versions):
        path = os.path.join(cache_dir, 'get_pip_%s.py' % version.replace('.', '_'))
        if os.path.exists(path):
            with open(path, encoding='utf-8', errors='replace') as handle:
                current = handle.read()
            if MARKER not in current or current == content:
                continue
        tmp_path = path + '.tmp-%d' % os.getpid()
        with open(tmp_path, 'w', encoding='utf-8') as handle:
            handle.write(content)
        os.replace(tmp_path, path)
        print('seed_get_pip: wrote %s' % path)


def main():
    """Command line entry point."""
    cache_dir = os.path.expanduser(os.path.join('~', '.ansible', 'test', 'cache'))
    seed(cache_dir, wanted_versions() | set(sys.argv[1:]))
    return 0


if __name__ == '__main__':
    sys.exit(main())
