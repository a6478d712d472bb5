#!/usr/bin/env python
"""Lay the collection out as DEST/ansible_collections/NAMESPACE/NAME.

ansible-test and ANSIBLE_COLLECTIONS_PATH both need the collection to live at
a path ending in ansible_collections/<namespace>/<name>. This script mirrors
the repository into such a path (default: <repo>/build) with an incremental,
rsync-like copy:

* the file set is what git would commit: tracked files plus untracked files
  that are not ignored (so .venv, build, tests/output, caches never go in);
  without git (e.g. an exported tarball) the tree is walked with the same
  exclusions;
* only files whose size or mtime changed are copied (atomically), files that
  disappeared from the source are removed from the copy;
* tests/output inside the copy (ansible-test results and its managed venvs)
  is preserved;
* an flock serialises concurrent runs (pytest-xdist workers, parallel make).

Only the standard library is used, so it runs with any python3.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import shutil
import subprocess
import sys

EXCLUDED_TOP = ('.git', '.venv', '.cache', 'build', '.tox', '.pytest_cache', '.hypothesis')
EXCLUDED_ANY_DIR = ('__pycache__', '.pytest_cache', '.hypothesis', '.mypy_cache')
EXCLUDED_SUFFIXES = ('.pyc', '.pyo', '.retry')
PRESERVED = ('tests/output',)


def read_galaxy_name(src):
    """Return (namespace, name) read from galaxy.yml without needing PyYAML."""
    values = {}
    with open(os.path.join(src, 'galaxy.yml'), encoding='utf-8') as galaxy:
        for line in galaxy:
            match = re.match(r'^(namespace|name):\s*["\']?([A-Za-z0-9_]+)["\']?\s*$', line)
            if match:
                values[match.group(1)] = match.group(2)
    if 'namespace' not in values or 'name' not in values:
        raise SystemExit('layout_collection: galaxy.yml lacks namespace/name')
    return values['namespace'], values['name']


def is_excluded(rel):
    """Return True if the relative path must never be part of the laid out collection."""
    parts = rel.split('/')
    if parts[0] in EXCLUDED_TOP:
        return True
    if rel == 'tests/output' or rel.startswith('tests/output/'):
        return True
    if any(part in EXCLUDED_ANY_DIR for part in parts[:-1]):
        return True
    return rel.endswith(EXCLUDED_SUFFIXES)


def git_files(src):
    """Return the relative paths git would commit, or None when src is not a git work tree."""
    if not os.path.exists(os.path.join(src, '.git')) or not shutil.which('git'):
        return None
    try:
        out = subprocess.run(
            ['git', '-C', src, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
            check=True, capture_output=True,
        ).stdout
    except subprocess.CalledProcessError:
        return None
    return sorted({p for p in out.decode('utf-8', 'surrogateescape').split('\0') if p})


def walked_files(src):
    """Return the relative paths of all files below src, minus the exclusions."""
    paths = []
    for root, dirs, files in os.walk(src):
        rel_root = os.path.relpath(root, src).replace(os.sep, '/')
        rel_root = '' if rel_root == '.' else rel_root + '/'
        dirs[:] = [d for d in dirs if not is_excluded(rel_root + d + '/x')]
        paths.extend(rel_root + f for f in files)
    return sorted(paths)


def source_files(src):
    """Return the relative paths (files and symlinks) to mirror."""
    paths = git_files(src)
    if paths is None:
        paths = walked_files(src)
    return [p for p in paths if not is_excluded(p) and os.path.lexists(os.path.join(src, p))
            and not os.path.isdir(os.path.join(src, p))]


def up_to_date(src_path, dst_path):
    """Return True when dst_path already mirrors src_path."""
    if os.path.islink(src_path):
        return os.path.islink(dst_path) and os.readlink(dst_path) == os.readlink(src_path)
    if os.path.islink(dst_path) or not os.path.isfile(dst_path):
        return False
    src_stat = os.stat(src_path)
    dst_stat = os.stat(dst_path)
    return (src_stat.st_size == dst_stat.st_size and src_stat.st_mtime_ns == dst_stat.st_mtime_ns
            and (src_stat.st_mode & 0o777) == (dst_stat.st_mode & 0o777))


def copy_one(src_path, dst_path):
    """Atomically copy one file or symlink."""
    os.makedirs(os.path.dirname(dst_path), exist_ok=True)
    tmp_path = '%s.layout-tmp-%d' % (dst_path, os.getpid())
    if os.path.islink(src_path):
        os.symlink(os.readlink(src_path), tmp_path)
    else:
        shutil.copy2(src_path, tmp_path)
    if os.path.isdir(dst_path) and not os.path.islink(dst_path):
        shutil.rmtree(dst_path)
    os.replace(tmp_path, dst_path)


def preserved(rel):
    """Return True for paths inside the copy that belong to test tooling, not to the source."""
    return any(rel == p or rel.startswith(p + '/') for p in PRESERVED)


def prune(dst, keep):
    """Remove files and empty directories of dst that are not in keep; return the removed file count."""
    removed = 0
    visited = []
    for root, dirs, files in os.walk(dst):
        rel_root = os.path.relpath(root, dst).replace(os.sep, '/')
        rel_root = '' if rel_root == '.' else rel_root + '/'
        dirs[:] = [d for d in dirs if not preserved(rel_root + d)]
        visited.append(root)
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            if rel_root + name not in keep:
                os.unlink(os.path.join(root, name))
                removed += 1
    for root in sorted(visited, key=len, reverse=True):
        if root != dst and os.path.isdir(root) and not os.path.islink(root) and not os.listdir(root):
            os.rmdir(root)
    return removed


def layout(src, dest_root, quiet=False):
    """Mirror src into dest_root/ansible_collections/<ns>/<name> and return that path."""
    src = os.path.abspath(src)
    dest_root = os.path.abspath(dest_root)
    namespace, name = read_galaxy_name(src)
    dst = os.path.join(dest_root, 'ansible_collections', namespace, name)
    os.makedirs(dst, exist_ok=True)

    with open(os.path.join(dest_root, '.layout.lock'), 'w', encoding='utf-8') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        files = source_files(src)
        copied = 0
        for rel in files:
            src_path = os.path.join(src, rel)
            dst_path = os.path.join(dst, rel)
            if not up_to_date(src_path, dst_path):
                copy_one(src_path, dst_path)
                copied += 1
        removed = prune(dst, set(files))

    if not quiet:
        print('layout_collection: %s.%s -> %s (%d files, %d copied, %d removed)'
              % (namespace, name, dst, len(files), copied, removed))
    return dst


def main():
    """Command line entry point."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--src', default=repo, help='collection source tree (default: the repository)')
    parser.add_argument('--dest', default=os.path.join(repo, 'build'),
                        help='collections root to create ansible_collections/NS/NAME in (default: <repo>/build)')
    parser.add_argument('--quiet', action='store_true')
    parser.add_argument('--print-path', action='store_true', help='print only the collection path')
    args = parser.parse_args()
    path = layout(args.src, args.dest, quiet=args.quiet or args.print_path)
    if args.print_path:
        print(path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
