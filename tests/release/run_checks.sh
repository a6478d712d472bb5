#!/usr/bin/env bash
# Release checks of accountops.cloud (issue 6): AWX credential types, execution
# environment, ansible-runner, the account_sync role, generated docs,
# changelog, release tarball, lint. Each check runs with the real tool from a
# venv of pinned versions (tests/requirements-release.txt).
#
# usage: tests/release/run_checks.sh VENV_DIR [CHECK...]
#
#   VENV_DIR  created/refreshed from tests/requirements-release.txt (+ the lock
#             tests/release/constraints.txt) when missing or out of date
#   CHECK     run only these (names as printed); default: all
#
# Prints one PASS/FAIL line per check and a closing "N passed, M failed";
# exits non-zero if any check failed. Logs of failed checks are printed.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
venv=${1:?usage: run_checks.sh VENV_DIR [CHECK...]}
shift
selected=("$@")

started=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/accountops-release.XXXXXX")
trap 'rm -rf "$work"' EXIT

if ! "$here/venv.sh" "$venv" >"$work/venv.log" 2>&1; then
    cat "$work/venv.log" >&2
    echo "release checks: could not build the venv $venv" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
venv=$(cd "$venv" && pwd)
py="$venv/bin/python"
export PATH="$venv/bin:$PATH"
echo "release checks: $("$py" - <<'PY'
import importlib.metadata as metadata
names = ('ansible-core', 'antsibull-docs', 'antsibull-changelog', 'ansible-lint', 'yamllint', 'ansible-runner',
         'ansible-builder', 'jinja2', 'pytest')
print(', '.join('%s %s' % (name, metadata.version(name)) for name in names))
PY
)"

# The working tree laid out as ansible_collections/accountops/cloud (what git would commit, incl. untracked
# files), so that tools that need an installed collection see it and write nothing into the repository.
root="$work/root"
"$py" "$repo/scripts/layout_collection.py" --dest "$root" --quiet
copy="$root/ansible_collections/accountops/cloud"
export ANSIBLE_COLLECTIONS_PATH="$root"
export ANSIBLE_LOCAL_TEMP="$work/ansible-tmp"
export XDG_CACHE_HOME="$work/xdg-cache"

passed=0
failed=0
failed_names=()

wanted() {
    [[ ${#selected[@]} -eq 0 ]] && return 0
    local name
    for name in "${selected[@]}"; do
        [[ "$name" == "$1" ]] && return 0
    done
    return 1
}

# check NAME DIR COMMAND...: run COMMAND in DIR, record PASS/FAIL with its duration.
check() {
    local name=$1 dir=$2
    shift 2
    wanted "$name" || return 0
    local log="$work/$name.log" t0 rc
    t0=$(date +%s)
    (cd "$dir" && "$@") >"$log" 2>&1
    rc=$?
    if [[ $rc -eq 0 ]]; then
        passed=$((passed + 1))
        printf 'PASS  %-28s %4ss\n' "$name" "$(($(date +%s) - t0))"
        grep -h '^changelog: note:' "$log" || true
    else
        failed=$((failed + 1))
        failed_names+=("$name")
        printf 'FAIL  %-28s %4ss  (rc=%s)\n' "$name" "$(($(date +%s) - t0))" "$rc"
        echo "----- $name: last 80 lines -----"
        tail -n 80 "$log"
        echo "----- end of $name -----"
    fi
}

pytest_awx() {
    ACCOUNTOPS_REQUIRE_TOOLS=1 ACCOUNTOPS_COLLECTIONS_ROOT="$root" "$py" -m pytest "$repo/tests/integration/test_awx.py" \
        -p no:cacheprovider -ra -q --rootdir "$repo" -k "$1"
}

# 5. generated docs: the reference pages build without an error, and antsibull-docs' own linter passes
check docs-build "$repo" docs/build.sh --venv "$venv" --dest "$work/reference"
check antsibull-docs-lint "$copy" antsibull-docs lint-collection-docs --plugin-docs \
    --validate-collection-refs all --disallow-unknown-collection-refs --check-extra-docs-refs .
# 6. changelog
check changelog "$repo" "$here/changelog.sh" "$venv" check
# 7. lint
check ansible-lint "$copy" ansible-lint --profile production --offline --nocolor roles/ docs/examples/ extensions/
check yamllint "$repo" yamllint --strict .
# 1.-4., 6. with the real tools against the emulator (tests/integration/test_awx.py)
check credential-types "$repo" pytest_awx 'credential_type or injected or render'
check account-sync-role "$repo" pytest_awx 'test_role_'
check ansible-runner "$repo" pytest_awx 'ansible_runner'
check execution-environment "$repo" pytest_awx 'execution_environment'
check release-tarball "$repo" pytest_awx 'tarball'

elapsed=$(($(date +%s) - started))
if [[ $failed -gt 0 ]]; then
    echo "release checks: failed: ${failed_names[*]} (${elapsed}s)"
else
    echo "release checks: all passed (${elapsed}s)"
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
