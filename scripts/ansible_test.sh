#!/usr/bin/env bash
# Run ansible-test from a laid-out copy of the collection.
#
# usage: scripts/ansible_test.sh VENV_DIR COLLECTIONS_ROOT ansible-test-args...
#   e.g. scripts/ansible_test.sh .venv build sanity --venv --python 3.11
#
# * mirrors the repository into COLLECTIONS_ROOT/ansible_collections/NS/NAME
#   (scripts/layout_collection.py; ansible-test needs that path and works from
#   the cwd, so no symlink trick) and runs ansible-test there with
#   ANSIBLE_TEST_CONTENT_ROOT set; results land in that copy's tests/output;
# * seeds ansible-test's get-pip cache with an offline shim
#   (scripts/seed_get_pip.py) so --venv works without internet;
# * puts VENV_DIR/bin first on PATH (ansible-test, shellcheck);
# * `units` with no tests/unit/**/test_*.py exits 0 with a message.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
venv=${1:?usage: ansible_test.sh VENV_DIR COLLECTIONS_ROOT ARGS...}
root=${2:?usage: ansible_test.sh VENV_DIR COLLECTIONS_ROOT ARGS...}
shift 2
venv=$(cd "$venv" && pwd)

if [[ ! -x "$venv/bin/ansible-test" ]]; then
    echo "ansible_test.sh: $venv/bin/ansible-test missing (run make venv)" >&2
    exit 2
fi

collection=$("$venv/bin/python" "$here/layout_collection.py" --dest "$root" --print-path)
"$venv/bin/python" "$here/seed_get_pip.py"

if [[ "${1:-}" == units ]]; then
    count=$(find "$collection/tests/unit" -name 'test_*.py' -type f 2>/dev/null | wc -l)
    if [[ "$count" -eq 0 ]]; then
        echo "units: no unit tests found (tests/unit/**/test_*.py) - nothing to run"
        exit 0
    fi
    echo "units: $count unit test file(s)"
fi

export PATH="$venv/bin:$PATH"
# The copy lives inside the repository's git work tree (build/ is ignored);
# without this ansible-test walks up, finds the outer .git, asks it for the
# copy's files and sees none ("All targets skipped"). Pinning the content
# root makes it use its plain directory walker, which also skips tests/output.
export ANSIBLE_TEST_CONTENT_ROOT="$collection"
cd "$collection"
echo "+ (cd $collection && ansible-test $*)   [$("$venv/bin/python" -c "import ansible.release as r; print('ansible-core', r.__version__)")]"
exec ansible-test "$@"
