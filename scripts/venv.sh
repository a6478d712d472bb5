#!/usr/bin/env bash
# Create (or refresh) a virtualenv from pinned requirements, idempotently.
#
# usage: scripts/venv.sh VENV_DIR REQUIREMENTS_FILE [LOCK_FILE]
#
# The venv carries a stamp (.requirements.sha256) keyed on the hash of the
# requirements file, the files it includes (-r/-c), the lock file and the
# python version; when
# the stamp matches nothing is done, otherwise the venv is rebuilt from
# scratch so removed pins do not linger.
#
# LOCK_FILE (optional) is a pip constraints file pinning transitive
# dependencies; regenerate it with `make lock`. Set VENV_NO_LOCK=1 to install
# without it (used by `make lock` itself).
set -euo pipefail

venv=${1:?usage: venv.sh VENV_DIR REQUIREMENTS_FILE [LOCK_FILE]}
req=${2:?usage: venv.sh VENV_DIR REQUIREMENTS_FILE [LOCK_FILE]}
lock=${3:-}
python=${PYTHON:-python3}

if [[ ! -f "$req" ]]; then
    echo "venv.sh: requirements file $req not found" >&2
    exit 2
fi
if [[ -n "$lock" && ( "${VENV_NO_LOCK:-0}" == 1 || ! -f "$lock" ) ]]; then
    lock=
fi

# the requirements file plus everything it pulls in with -r / -c, recursively
mapfile -t hash_inputs < <("$python" - "$req" <<'PY'
import os, re, sys
seen, todo = [], [sys.argv[1]]
while todo:
    path = os.path.normpath(todo.pop(0))
    if path in seen or not os.path.isfile(path):
        continue
    seen.append(path)
    with open(path, encoding='utf-8') as handle:
        for line in handle:
            match = re.match(r'\s*(?:-r|-c|--requirement|--constraint)[\s=]+(\S+)', line)
            if match:
                todo.append(os.path.join(os.path.dirname(path), match.group(1)))
print('\n'.join(seen))
PY
)
if [[ -n "$lock" ]]; then
    hash_inputs+=("$lock")
fi
want=$(
    {
        "$python" -c 'import sys; print(sys.version)'
        echo "lock=${lock}"
        cat "${hash_inputs[@]}"
    } | sha256sum | cut -d' ' -f1
)
stamp="$venv/.requirements.sha256"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "venv.sh: $venv is up to date ($req)"
    exit 0
fi

echo "venv.sh: building $venv from $req${lock:+ (constraints: $lock)}"
rm -rf "$venv"
"$python" -m venv "$venv"
pip_args=(install --disable-pip-version-check --no-input -r "$req")
if [[ -n "$lock" ]]; then
    pip_args+=(-c "$lock")
fi
"$venv/bin/python" -m pip "${pip_args[@]}"
"$venv/bin/python" -m pip check
echo "$want" >"$stamp"
echo "venv.sh: $venv ready: $("$venv/bin/python" -c "import ansible.release as r; print('ansible-core', r.__version__)")"
