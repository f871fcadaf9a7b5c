#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run every libFuzzer harness in build/fuzz for SECONDS over its committed
# seed corpus (tests/fuzz/corpus/<harness>/, only read), then print one line
# per harness: executions, exec/s, coverage (edges) and features.
#
#   tests/fuzz/run.sh SECONDS [OUT-CORPUS-DIR]
#
# New inputs go to OUT-CORPUS-DIR/<harness> (make fuzz keeps them in
# build/fuzz/corpus) or to a temporary directory. A crash leaves its input in
# build/fuzz/artifacts/ and fails the run: add it to the seed corpus with the
# fix, and every later run replays it first. FUZZ_SEED=N fixes libFuzzer's
# random seed (the smoke run in `make test` does, so CI explores the same
# mutations every time); unset, each run draws a new one.
set -u
cd "$(dirname "$0")/../.." || exit 1
secs=${1:?usage: run.sh SECONDS [OUT-DIR]}
out=${2:-}
FUZZ_BUILD=${FUZZ_BUILD:-build/fuzz}
art=$FUZZ_BUILD/artifacts
mkdir -p "$art"
tmp=$(mktemp -d "/tmp/satp-fuzz.$$.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
rc=0 n=0

for bin in "$FUZZ_BUILD"/fuzz_*; do
	[ -x "$bin" ] || continue
	h=${bin##*/}
	seeds=tests/fuzz/corpus/$h
	dir=${out:+$out/$h}
	dir=${dir:-$tmp/$h}
	mkdir -p "$dir"
	n=$((n + 1))
	# -close_fd_mask=1: satp decode prints a line per datagram; crash reports still show.
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -close_fd_mask=1 \
		-print_final_stats=1 ${FUZZ_SEED:+-seed="$FUZZ_SEED"} -artifact_prefix="$art/$h-" "$dir" "$seeds" \
		>"$tmp/$h.log" 2>&1
	r=$?
	runs=$(awk '/stat::number_of_executed_units:/ { print $2 }' "$tmp/$h.log")
	rate=$(awk '/stat::average_exec_per_sec:/ { print $2 }' "$tmp/$h.log")
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$tmp/$h.log" | tail -1)
	if [ "$r" -ne 0 ]; then
		rc=1
		printf 'FAIL %-14s exit %d after %s runs; the report:\n' "$h" "$r" "${runs:-?}"
		grep -vE '^#[0-9]+|^INFO:|^MS:|^stat::' "$tmp/$h.log" | head -60
	else
		printf 'ok   %-14s %6s s %10s runs %7s exec/s  %s  corpus %s\n' "$h" "$secs" \
			"${runs:-?}" "${rate:-?}" "${cov:-cov: ?}" "$(find "$dir" "$seeds" -type f | wc -l)"
	fi
done
[ "$n" -gt 0 ] || { echo "no harnesses in $FUZZ_BUILD (make fuzz-build)"; exit 1; }
exit "$rc"
