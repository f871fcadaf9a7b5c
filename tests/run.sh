#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run the test layers and end with one summary line.
#   tests/run.sh [all|unit|bpf|integration] [NAME-FILTER]
# Exit code of a test: 0 pass, 77 skip (a kernel or tool feature is missing;
# the test says which), anything else fail.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
layer=${1:-all}
filter=${2:-}
pass=0 fail=0 skip=0
failed=()

run_one() {
	local name=$1
	shift
	[ -n "$filter" ] && [[ $name != *"$filter"* ]] && return
	printf '=== %s\n' "$name"
	"$@"
	local rc=$?
	case $rc in
	0) pass=$((pass + 1)); printf -- '--- PASS %s\n' "$name" ;;
	77) skip=$((skip + 1)); printf -- '--- SKIP %s\n' "$name" ;;
	*) fail=$((fail + 1)); failed+=("$name"); printf -- '--- FAIL %s (exit %d)\n' "$name" "$rc" ;;
	esac
}

if [ "$layer" = all ] || [ "$layer" = unit ]; then
	for t in "$BUILD"/tests/unit/test_*; do
		[ -x "$t" ] || continue
		run_one "unit/${t##*/}" "$t"
	done
fi
if [ "$layer" = all ] || [ "$layer" = bpf ]; then
	for t in "$BUILD"/tests/bpf/test_*; do
		[ -x "$t" ] || continue
		run_one "bpf/${t##*/}" "$t"
	done
fi
if [ "$layer" = all ] || [ "$layer" = integration ]; then
	for t in tests/integration/test_*.sh; do
		[ -f "$t" ] || continue
		run_one "integration/${t##*/}" bash "$t"
	done
fi

echo
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[*]}"
echo "tests: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ $((pass + skip)) -gt 0 ]
