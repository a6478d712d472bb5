#!/usr/bin/env bash
# Create (or reuse) the release-checks virtualenv from tests/requirements-release.txt
# with tests/release/constraints.txt as the transitive lock.
#
# usage: tests/release/venv.sh VENV_DIR          build/refresh the venv (idempotent)
#        tests/release/venv.sh --lock VENV_DIR   re-resolve without the lock and rewrite it
#
# The venv carries a stamp keyed on the Python version and both files; when it
# matches nothing is done, otherwise the venv is rebuilt from scratch.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
req="$repo/tests/requirements-release.txt"
lock="$here/constraints.txt"
python=${PYTHON:-python3}

relock=0
if [[ "${1:-}" == "--lock" ]]; then
    relock=1
    shift
fi
venv=${1:?usage: venv.sh [--lock] VENV_DIR}

want=$(
    {
        "$python" -c 'import sys; print(sys.version)'
        cat "$req"
        if [[ "$relock" == 0 && -f "$lock" ]]; then cat "$lock"; fi
    } | sha256sum | cut -d' ' -f1
)
stamp="$venv/.release-requirements.sha256"
if [[ "$relock" == 0 && -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    exit 0
fi

echo "release venv: building $venv from tests/requirements-release.txt" >&2
rm -rf "$venv"
"$python" -m venv "$venv"
pip_args=(install --disable-pip-version-check --no-input -q -r "$req")
if [[ "$relock" == 0 && -f "$lock" ]]; then
    pip_args+=(-c "$lock")
fi
"$venv/bin/python" -m pip "${pip_args[@]}" >&2
"$venv/bin/python" -m pip check >&2
if [[ "$relock" == 1 ]]; then
    {
        echo "# Transitive lock (pip constraints) for tests/requirements-release.txt, Python $("$venv/bin/python" -c 'import platform; print(platform.python_version())')."
        echo "# Regenerate: tests/release/venv.sh --lock VENV_DIR; do not edit by hand."
        "$venv/bin/python" -m pip freeze --all | grep -v -E '^(pip|setuptools|wheel)==' | LC_ALL=C sort -f
    } >"$lock"
    echo "release venv: wrote $lock" >&2
    want=$(
        {
            "$python" -c 'import sys; print(sys.version)'
            cat "$req" "$lock"
        } | sha256sum | cut -d' ' -f1
    )
fi
echo "$want" >"$stamp"
