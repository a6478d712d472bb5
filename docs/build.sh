#!/usr/bin/env bash
# Build the module, plugin and role reference pages from the plugins' own
# documentation with antsibull-docs (the tool docs.ansible.com uses).
#
# usage: docs/build.sh [--venv VENV_DIR] [--dest DIR] [--format simplified-rst|ansible-docsite]
#
#   --venv    a venv with antsibull-docs (default: .cache/venv-release, built
#             from tests/requirements-release.txt if missing)
#   --dest    output directory (default: docs/reference; it is git-ignored
#             except its README.md, the pages are generated, not committed)
#   --format  simplified-rst (default): plain RST that docutils renders on its
#             own; ansible-docsite: RST for a Sphinx site made with
#             `antsibull-docs sphinx-init`.
#
# It fails on any documentation parse or schema error (--fail-on-error);
# tests/release/run_checks.sh runs it and antsibull-docs lint-collection-docs.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
venv="$repo/.cache/venv-release"
dest="$here/reference"
format=simplified-rst
while [[ $# -gt 0 ]]; do
    case "$1" in
    --venv) venv=${2:?--venv needs a directory}; shift 2 ;;
    --dest) dest=${2:?--dest needs a directory}; shift 2 ;;
    --format) format=${2:?--format needs a value}; shift 2 ;;
    *) echo "usage: docs/build.sh [--venv VENV_DIR] [--dest DIR] [--format simplified-rst|ansible-docsite]" >&2; exit 2 ;;
    esac
done

if [[ ! -x "$venv/bin/antsibull-docs" ]]; then
    "$repo/tests/release/venv.sh" "$venv"
fi
venv=$(cd "$venv" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/accountops-docs.XXXXXX")
trap 'rm -rf "$work"' EXIT
# antsibull-docs documents installed collections: lay the working tree out as one.
"$venv/bin/python" "$repo/scripts/layout_collection.py" --dest "$work/root" --quiet

mkdir -p "$dest"
chmod go-w "$dest"  # antsibull-docs refuses a destination others can write to
ANSIBLE_COLLECTIONS_PATH="$work/root" PATH="$venv/bin:$PATH" \
    "$venv/bin/antsibull-docs" collection --use-current --squash-hierarchy --fail-on-error \
    --output-format "$format" --no-add-antsibull-docs-version --cleanup similar-files \
    --dest-dir "$dest" accountops.cloud
echo "docs: reference pages written to $dest ($(find "$dest" -name '*.rst' | wc -l) files, $format)"
