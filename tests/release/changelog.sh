#!/usr/bin/env bash
# antsibull-changelog for accountops.cloud, without consuming the fragments.
#
# usage: tests/release/changelog.sh VENV_DIR release [--date YYYY-MM-DD]
#        tests/release/changelog.sh VENV_DIR check
#
# release  (re)builds the release named by galaxy.yml's version in
#          changelogs/changelog.yaml from every fragment not in an earlier
#          release, and writes CHANGELOG.rst (changelogs/config.yaml's output)
#          and CHANGELOG.md. It runs antsibull-changelog in a scratch copy of
#          the collection, so changelogs/fragments/ stays as it is (config.yaml
#          has keep_fragments: false, which would delete them): until the
#          release is tagged, anyone may still add or fix a fragment and run
#          this again. Fragments named in changelog.yaml are never counted
#          twice. The release date of an existing entry is kept unless --date.
# check    antsibull-changelog lint (fragments) and lint-changelog-yaml; both
#          CHANGELOG files regenerate identically from changelog.yaml; lists
#          fragments that are not in any release yet (a note, not a failure).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
venv=${1:?usage: changelog.sh VENV_DIR release|check}
action=${2:?usage: changelog.sh VENV_DIR release|check}
shift 2
venv=$(cd "$venv" && pwd)
py="$venv/bin/python"
export PATH="$venv/bin:$PATH"

work=$(mktemp -d "${TMPDIR:-/tmp}/accountops-changelog.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$py" "$repo/scripts/layout_collection.py" --dest "$work/root" --quiet
copy="$work/root/ansible_collections/accountops/cloud"
export ANSIBLE_COLLECTIONS_PATH="$work/root"

version=$("$py" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' "$repo/galaxy.yml")

case "$action" in
release)
    date=
    if [[ "${1:-}" == "--date" ]]; then
        date=${2:?--date needs YYYY-MM-DD}
    fi
    # Drop the entry being (re)built from the copy's changelog.yaml, remembering its date.
    old_date=$("$py" - "$copy/changelogs/changelog.yaml" "$version" <<'PY'
import os, sys, yaml
path, version = sys.argv[1], sys.argv[2]
if not os.path.exists(path):
    sys.exit(0)
with open(path, encoding='utf-8') as handle:
    data = yaml.safe_load(handle) or {}
release = (data.get('releases') or {}).pop(version, None)
if release:
    print(release.get('release_date', ''))
with open(path, 'w', encoding='utf-8') as handle:
    yaml.safe_dump(data, handle, default_flow_style=False)
PY
)
    date=${date:-${old_date:-$(date -u +%Y-%m-%d)}}
    (cd "$copy" && antsibull-changelog release --version "$version" --date "$date" --reload-plugins)
    (cd "$copy" && antsibull-changelog generate --output CHANGELOG.md --output-format md)
    cp "$copy/changelogs/changelog.yaml" "$repo/changelogs/changelog.yaml"
    cp "$copy/CHANGELOG.rst" "$repo/CHANGELOG.rst"
    cp "$copy/CHANGELOG.md" "$repo/CHANGELOG.md"
    echo "changelog: release $version ($date) written to changelogs/changelog.yaml, CHANGELOG.rst, CHANGELOG.md;" \
         "changelogs/fragments/ left as it is"
    ;;
check)
    rc=0
    (cd "$repo" && antsibull-changelog lint) || rc=1
    if [[ ! -f "$repo/changelogs/changelog.yaml" ]]; then
        echo "changelog: changelogs/changelog.yaml is missing; run tests/release/changelog.sh VENV_DIR release" >&2
        exit 1
    fi
    (cd "$repo" && antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml) || rc=1
    # Regenerate both files from the committed changelog.yaml only (no fragments, no plugin refresh).
    rm -rf "$copy/changelogs/fragments"
    mkdir "$copy/changelogs/fragments"
    rm -f "$copy/CHANGELOG.rst" "$copy/CHANGELOG.md"
    (cd "$copy" && antsibull-changelog generate >/dev/null && antsibull-changelog generate --output CHANGELOG.md --output-format md >/dev/null) || rc=1
    for file in CHANGELOG.rst CHANGELOG.md; do
        if ! diff -u "$repo/$file" "$copy/$file" >"$work/$file.diff" 2>&1; then
            echo "changelog: $file does not match changelogs/changelog.yaml; run tests/release/changelog.sh VENV_DIR release" >&2
            head -40 "$work/$file.diff" >&2
            rc=1
        fi
    done
    "$py" - "$repo/changelogs/changelog.yaml" "$repo/changelogs/fragments" <<'PY'
import os, sys, yaml
with open(sys.argv[1], encoding='utf-8') as handle:
    releases = (yaml.safe_load(handle) or {}).get('releases') or {}
known = {name for release in releases.values() for name in release.get('fragments', [])}
present = sorted(name for name in os.listdir(sys.argv[2]) if name.endswith(('.yml', '.yaml')))
new = [name for name in present if name not in known]
if new:
    print('changelog: note: fragments not in any release yet (next release, or rerun `changelog.sh VENV release` '
          'before tagging): ' + ', '.join(new))
PY
    exit "$rc"
    ;;
*)
    echo "usage: changelog.sh VENV_DIR release|check" >&2
    exit 2
    ;;
esac
