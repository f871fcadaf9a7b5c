#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run the test layers and end with one summary line.
#   tests/run.sh [all|unit|bpf|integration] [NAME-FILTER]
# Exit code of a test: 0 pass, 77 skip (a kernel or tool feature is missing;
# the test says which), anything else fail.
#
# Each test runs under a deadline (TEST_TIMEOUT seconds, default 900: the
# longest test takes about 4 minutes on a quiet 2-core machine) and its
# duration is printed; the slowest are listed at the end, so a CI log shows
# where the time went. With CI=true a skip fails the run unless
# tests/expected-skips names it (see that file): CI must not pass a layer
# that did not run. A test that skips some rows only (a tool one row needs is
# missing) prints "SKIP-ROW NAME: reason" for each and goes on; the rows are
# listed at the end, and with CI=true each fails the run unless
# tests/expected-skips names it as "integration/test_x.sh:NAME".
set -u
cd "$(dirname "$0")/.."
# The system's tools first: the suite needs Debian's python3 and its packages
# (deps.sh installs them there); a python3 shim of a version manager ahead in
# PATH answers without them and, at seconds a call, slows every wait.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
BUILD=${BUILD:-build}
export BUILD
layer=${1:-all}
filter=${2:-}
timeout_s=${TEST_TIMEOUT:-900}
pass=0 fail=0 skip=0
failed=()
times=()
row_skips=()
out_f=$(mktemp /tmp/satpd-run.XXXXXX)
trap 'rm -f "$out_f" "$out_f.pid"' EXIT

# expected_skip NAME: true when tests/expected-skips lists NAME with a condition
# that holds now ("-" always, or VAR=VALUE of the environment).
expected_skip() {
	local name cond reason
	while read -r name cond reason; do
		case $name in '' | '#'*) continue ;; esac
		[ "$name" = "$1" ] || continue
		[ -n "$reason" ] || continue
		[ "$cond" = - ] && return 0
		[ "$(printenv "${cond%%=*}")" = "${cond#*=}" ] && return 0
	done <tests/expected-skips
	return 1
}

# skipped_rows NAME: the rows the test's output ($out_f) says it skipped, added to
# row_skips; with CI=true false when one is not listed as "NAME:ROW" in tests/expected-skips.
skipped_rows() {
	local row ok=0
	while read -r row; do
		row_skips+=("$1:$row")
		if [ "${CI:-}" = true ] && ! expected_skip "$1:$row"; then
			printf 'CI: %s skipped row %s and it is not in tests/expected-skips: a failure here\n' "$1" "$row"
			ok=1
		fi
	done < <(sed -n 's/^SKIP-ROW \([^: ]*\):.*/\1/p' "$out_f")
	return $ok
}

run_one() {
	local name=$1 t0 t1 secs rc tee_pid
	shift
	[ -n "$filter" ] && [[ $name != *"$filter"* ]] && return
	printf '=== %s\n' "$name"
	t0=$(date +%s%N)
	# stdout through tee: the test's "SKIP-ROW NAME: reason" lines are counted below
	timeout -k 30 "$timeout_s" "$@" > >(echo "$BASHPID" >"$out_f.pid"; exec tee "$out_f")
	rc=$?
	# the tee ends when the last writer closes: a process the test left behind may hold it
	tee_pid=$(cat "$out_f.pid" 2>/dev/null)
	for _ in $(seq 1 50); do
		case $(cut -d' ' -f3 "/proc/${tee_pid:-0}/stat" 2>/dev/null) in '' | Z) break ;; esac
		sleep 0.1
	done
	t1=$(date +%s%N)
	secs=$(( (t1 - t0) / 1000000000 )).$(( (t1 - t0) / 100000000 % 10 ))
	times+=("$secs $name")
	if [ "$rc" = 77 ] && [ "${CI:-}" = true ] && ! expected_skip "$name"; then
		printf 'CI: %s skipped and is not in tests/expected-skips: a skip is a failure here\n' "$name"
		rc=1
	fi
	if ! skipped_rows "$name" && [ "$rc" = 0 ]; then rc=1; fi
	case $rc in
	0) pass=$((pass + 1)); printf -- '--- PASS %s (%s s)\n' "$name" "$secs" ;;
	77) skip=$((skip + 1)); printf -- '--- SKIP %s (%s s)\n' "$name" "$secs" ;;
	124 | 137) fail=$((fail + 1)); failed+=("$name")
		printf -- '--- FAIL %s (timed out after %s s)\n' "$name" "$timeout_s" ;;
	*) fail=$((fail + 1)); failed+=("$name"); printf -- '--- FAIL %s (exit %d, %s s)\n' "$name" "$rc" "$secs" ;;
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
if [ ${#times[@]} -gt 1 ]; then
	echo "slowest:"
	printf '%s\n' "${times[@]}" | sort -rn | head -8 | awk '{ printf "  %7.1f s  %s\n", $1, $2 }'
fi
[ ${#row_skips[@]} -gt 0 ] && printf 'rows skipped: %s\n' "${row_skips[*]}"
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[*]}"
echo "tests: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ $((pass + skip)) -gt 0 ]
