#!/usr/bin/env bash
# `make demo`: start the bundled API emulator with the demo state, run
# docs/examples/demo.yml against it twice (the second run must report
# changed=0) and stop the emulator whatever happens.
#
# usage: scripts/demo.sh VENV_DIR COLLECTIONS_ROOT [ansible-playbook args...]
# (DEMO_PLAYBOOK=path overrides docs/examples/demo.yml)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
venv=${1:?usage: demo.sh VENV_DIR COLLECTIONS_ROOT}
root=${2:?usage: demo.sh VENV_DIR COLLECTIONS_ROOT}
shift 2  # anything else is passed on to ansible-playbook (e.g. -v)
venv=$(cd "$venv" && pwd)
mkdir -p "$root"
root=$(cd "$root" && pwd)
cd "$repo"

playbook=${DEMO_PLAYBOOK:-docs/examples/demo.yml}
harness=tests/emulator/harness.py
state=tests/emulator/demo_state.json
for f in "$playbook" "$harness" "$state"; do
    if [[ ! -f "$f" ]]; then
        echo "demo: $f does not exist (yet) - cannot run the demo" >&2
        exit 1
    fi
done

"$venv/bin/python" "$here/layout_collection.py" --dest "$root" --quiet

work=$(mktemp -d "${TMPDIR:-/tmp}/accountops-demo.XXXXXX")
ready="$work/emulator.json"
emulator_pid=

stop_emulator() {
    local rc=$?
    if [[ -n "$emulator_pid" ]]; then
        "$venv/bin/python" "$harness" stop --ready-file "$ready" >/dev/null 2>&1 || true
        if kill -0 "$emulator_pid" 2>/dev/null; then
            kill "$emulator_pid" 2>/dev/null || true
        fi
        wait "$emulator_pid" 2>/dev/null || true
        echo "demo: emulator stopped"
    fi
    rm -rf "$work"
    exit "$rc"
}
trap stop_emulator EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$venv/bin/python" "$harness" serve --state "$state" --ready-file "$ready" >"$work/emulator.out" 2>&1 &
emulator_pid=$!

for _ in $(seq 1 300); do
    [[ -s "$ready" ]] && break
    if ! kill -0 "$emulator_pid" 2>/dev/null; then
        echo "demo: the emulator exited before it was ready:" >&2
        cat "$work/emulator.out" >&2
        exit 1
    fi
    sleep 0.1
done
if [[ ! -s "$ready" ]]; then
    echo "demo: the emulator did not become ready within 30 s:" >&2
    cat "$work/emulator.out" >&2
    exit 1
fi
url=$("$venv/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["http"])' "$ready")
echo "demo: emulator listening on $url (state: $state)"

cat >"$work/inventory.ini" <<EOF
localhost ansible_connection=local ansible_python_interpreter=$venv/bin/python
EOF

export ANSIBLE_COLLECTIONS_PATH="$root"
export ANSIBLE_RETRY_FILES_ENABLED=False
export ACRONIS_BASE_URL="$url"
export ACRONIS_CLIENT_ID=3663410d-4b70-4860-860c-8db82bffab8e
export ACRONIS_CLIENT_SECRET=demo-client-secret-0123456789
export CODEARTS_REPO_ENDPOINT="$url"
export HUAWEICLOUD_AUTH_TOKEN=demo-codearts-token
# the modules cache API tokens under $XDG_CACHE_HOME; keep the demo's private
export XDG_CACHE_HOME="$work/cache"
export PATH="$venv/bin:$PATH"

run_playbook() {
    ansible-playbook -i "$work/inventory.ini" "$playbook" \
        -e "acronis_base_url=$ACRONIS_BASE_URL" \
        -e "acronis_client_id=$ACRONIS_CLIENT_ID" \
        -e "acronis_client_secret=$ACRONIS_CLIENT_SECRET" \
        -e "codearts_repo_endpoint=$CODEARTS_REPO_ENDPOINT" \
        -e "huaweicloud_auth_token=$HUAWEICLOUD_AUTH_TOKEN" \
        "$@"
}

echo
echo "demo: ==== first run: converges the accounts ===="
run_playbook "$@"

echo
echo "demo: ==== second run: nothing left to change (expect changed=0) ===="
run_playbook "$@" | tee "$work/second-run.log"

if ! grep -qE '^[^ ].*: ok=' "$work/second-run.log"; then
    echo "demo: no PLAY RECAP in the second run's output" >&2
    exit 1
fi
if grep -E ': ok=' "$work/second-run.log" | grep -vqE '[[:space:]]changed=0[[:space:]]'; then
    echo "demo: FAILED - the second run still changed something (it must be idempotent)" >&2
    exit 1
fi
echo "demo: second run reported changed=0 - idempotent"
