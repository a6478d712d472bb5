#!/usr/bin/env bash
# Run the playbook-level integration suite (pytest tests/integration) with the
# given venv's python, so its ansible-playbook (and ansible-core version) is
# the one under test.
# usage: scripts/integration.sh VENV_DIR COLLECTIONS_ROOT WORKERS [pytest args...]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
venv=${1:?usage: integration.sh VENV_DIR COLLECTIONS_ROOT WORKERS [PYTEST_ARGS...]}
root=${2:?usage: integration.sh VENV_DIR COLLECTIONS_ROOT WORKERS [PYTEST_ARGS...]}
workers=${3:?usage: integration.sh VENV_DIR COLLECTIONS_ROOT WORKERS [PYTEST_ARGS...]}
shift 3
venv=$(cd "$venv" && pwd)
mkdir -p "$root"
root=$(cd "$root" && pwd)

"$venv/bin/python" "$here/layout_collection.py" --dest "$root" --quiet
# conftest.py gives ansible-playbook ANSIBLE_COLLECTIONS_PATH=$root itself; it is
# deliberately not exported here, so other tools the tests run (ansible-galaxy
# install of a built tarball, ...) see a default environment
export ACCOUNTOPS_COLLECTIONS_ROOT="$root"
export PATH="$venv/bin:$PATH"

args=(-p no:cacheprovider -ra)
if [[ "$workers" != 0 && "$workers" != 1 ]]; then
    # one emulator per xdist worker; a test module stays on one worker
    args+=(-n "$workers" --dist loadfile)
fi

cd "$repo"
echo "+ pytest tests/integration ${args[*]} $*   [$("$venv/bin/python" -c "import ansible.release as r; print('ansible-core', r.__version__)")]"
rc=0
"$venv/bin/python" -m pytest tests/integration "${args[@]}" "$@" || rc=$?
if [[ "$rc" -eq 5 ]]; then
    echo "integration: no tests were collected under tests/integration"
    exit 0
fi
exit "$rc"
