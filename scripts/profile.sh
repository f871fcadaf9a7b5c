#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Where satpd's time goes: perf record -g on the tunnel daemons of the bench
# topology (scripts/bench-lib.sh) during one iperf3 TCP run a -> b, then the
# top symbols (self time, call graphs folded away) and the split by DSO.
#
# Environment: BUILD; A and B, the implementations of the two ends (satpd,
# satpd-off, uanytun, anytun; default satpd for both); DURATION (seconds, 10);
# TOP (symbols shown, 15); SCOPE=daemons (the two daemons' threads, the default)
# or SCOPE=system (every CPU: softirq work such as XDP in NAPI is charged to no
# process, so only this sees it; other work on the machine shows up too);
# CALLGRAPH (fp, the default, or dwarf: user stacks through code built without
# frame pointers, libcrypto's); PERF_OUT (a path to keep perf.data at).
set -u
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

A=${A:-satpd}
B=${B:-satpd}
DURATION=${DURATION:-10}
TOP=${TOP:-15}
SCOPE=${SCOPE:-daemons}
CALLGRAPH=${CALLGRAPH:-fp}

command -v perf >/dev/null 2>&1 || skip "perf is not installed (apt-get install linux-perf)"
perf version >/dev/null 2>&1 || skip "perf does not run on this kernel"
bench_init
pair_start "$A" "$B" || {
	tail -n 5 "$PAIR_LOG_A" "$PAIR_LOG_B"
	fail "$A -> $B: the tunnel did not come up"
}
[[ $B == satpd* ]] && log "b: $(satpd_path "$PAIR_LOG_B")"

start_bg b iperf-server.log iperf3 -s -1 -p 5201
sleep 0.3
start_bg a iperf-client.log iperf3 -c "$IN_B" -p 5201 -t $((DURATION + 2)) -f m
CLIENT=$LAST_PID
sleep 1
case $SCOPE in
system) TARGET=(-a) ;;
*) TARGET=(-p "$PAIR_PID_A,$PAIR_PID_B") ;;
esac
log "perf record --call-graph $CALLGRAPH ${TARGET[*]} for $DURATION s ($A -> $B, iperf3 TCP a -> b)"
perf record -q --call-graph "$CALLGRAPH" -o "$TMP/perf.data" "${TARGET[@]}" -- sleep "$DURATION" 2>"$TMP/perf.err" ||
	{ cat "$TMP/perf.err"; fail "perf record failed"; }
wait "$CLIENT"
log "iperf3: $(grep -E 'receiver' "$TMP/iperf-client.log" | tail -1 | sed 's/  */ /g')"

echo
# report ARGS...: the sample lines of one perf report, without perf's empty columns.
report() {
	perf report -i "$TMP/perf.data" --stdio -g none "$@" 2>/dev/null | grep -E '^ +[0-9]' |
		sed -E 's/( +-)+ *$//'
}
echo "== top $TOP symbols (self, % of samples)"
report --no-children --sort comm,dso,symbol --percent-limit 0.3 | head -n "$TOP"
echo
echo "== by DSO (self)"
report --no-children --sort comm,dso --percent-limit 1 | head -n 12
echo
echo "== top $TOP call chains (inclusive: children included)"
report --children --sort symbol --percent-limit 2 | head -n "$TOP"
[ -n "${PERF_OUT:-}" ] && cp "$TMP/perf.data" "$PERF_OUT" && log "perf.data kept at $PERF_OUT"
exit 0
