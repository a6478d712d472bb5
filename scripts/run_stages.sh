#!/usr/bin/env bash
# Run `make <stage>` for each stage given, keep going after a failure, time
# each one and print a summary; exit non-zero if any stage failed.
# usage: scripts/run_stages.sh sanity units integration ...
set -uo pipefail

make_cmd=${MAKE:-make}
declare -a names=() results=() seconds=()
failed=0
start_all=$SECONDS

for stage in "$@"; do
    echo
    echo "================================================================"
    echo "== make $stage"
    echo "================================================================"
    start=$SECONDS
    if "$make_cmd" --no-print-directory "$stage"; then
        results+=(PASS)
    else
        results+=("FAIL")
        failed=$((failed + 1))
    fi
    names+=("$stage")
    seconds+=($((SECONDS - start)))
done

echo
echo "================================================================"
echo "== summary"
echo "================================================================"
for i in "${!names[@]}"; do
    printf '%-20s %-5s %5ss\n' "${names[$i]}" "${results[$i]}" "${seconds[$i]}"
done
printf '%-20s %-5s %5ss\n' total "" "$((SECONDS - start_all))"
if [[ "$failed" -gt 0 ]]; then
    echo "make test: $failed of ${#names[@]} stage(s) FAILED"
    exit 1
fi
echo "make test: all ${#names[@]} stages passed"
