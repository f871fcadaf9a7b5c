#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# RAIL's cost of a duplicate: every datagram arrives once per path and all but
# the first copy are dropped as replays of a committed seq. With XDP, satp_rx
# drops them in the driver (its read-only window check); with --xdp-mode off the
# daemon receives every copy, checks the tag and loses the atomic commit.
# satp_blast --mode replay seals a ring once (the first pass is accepted and
# commits its seqs) and then replays it at a RAIL satpd (-p 4444:4445), i.e.
# what a receiver sees of the later copies, paced at RAIL_PPS so that every
# data path gets the same offered load. Every round runs every data path once
# (native off native off ...: drift and the machine's other work hit all
# alike), each with a fresh satpd. Per data path, medians over the rounds,
# all over the same measured window: the copies offered per second (counted
# leaving a's ul0), those dropped per second and where (XDP / daemon), the
# share of the offered copies counted as replays, and CPU in % of one core:
# satpd's process, the machine's softirq (XDP runs there), the machine's busy
# time (/proc/stat user+nice+system+irq+softirq+steal: everything on the
# machine, the generator and other users included).
#
#   ns a: satp_blast (sendmmsg) 10.77.0.1 --- veth --- 10.77.0.2 ul0, ns b: satpd
#
# The benchmark fails when a prerequisite does: satpd not up, not in the XDP
# mode asked for, no replay counted, or an offered rate below OFFERED_MIN of
# RAIL_PPS (the loads would differ).
#
# Environment: BUILD, SECONDS_PER_RUN (default 5), ROUNDS (3), MODES ("native off"),
# RAIL_PPS (50000), QUICK=1 (2 rounds of 3 s).
set -u
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

if [ -n "${QUICK:-}" ]; then
	SECONDS_PER_RUN=${SECONDS_PER_RUN:-3} ROUNDS=${ROUNDS:-2}
fi
RUN_S=${SECONDS_PER_RUN:-5}
ROUNDS=${ROUNDS:-3}
MODES=${MODES:-native off}
RAIL_PPS=${RAIL_PPS:-50000} # what sendmmsg keeps here with margin while the cores are shared
OFFERED_MIN=0.9
WINDOW=1024
RING=512 # within the window: every copy is a replay of a seq it holds (a RAIL duplicate comes moments
         # after the first copy), not a too-old seq; both verdicts are counted anyway

bench_init
[ "$RAIL_PPS" -gt 0 ] 2>/dev/null || fail "RAIL_PPS must be > 0: an unpaced blast offers each data path another load"

# blast SECONDS ARGS...: satp_blast from ns a at b's port 4444 in the background
# (BLAST_PID, report in $TMP/blast.out); returns once its ring is sealed.
blast() {
	local t=$1
	shift
	rm -f "$TMP/blast.ready"
	ip netns exec "$(ns a)" "$BLAST" --dst "$UL4_2" --port 4444 --key "$BENCH_KEY" --salt "$BENCH_SALT" \
		--role left --inner-src "$IN_A" --inner-dst "$IN_B" --seconds "$t" \
		--ready "$TMP/blast.ready" "$@" >"$TMP/blast.out" 2>&1 &
	BLAST_PID=$!
	LIB_PIDS+=("$BLAST_PID")
	for _ in $(seq 1 600); do
		[ -f "$TMP/blast.ready" ] && return 0
		kill -0 "$BLAST_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# counter_of LOG NAME: the last dumped value of a counter.
counter_of() { awk -v n="$2" '$(NF-1) == n { v = $NF } END { print v + 0 }' "$1"; }

# cut_now PID LOG: "xdp-refused daemon-refused sent proc-ticks machine-busy machine-softirq
# time"; refused: replay and too-old verdicts. The cheap reads come first, just
# before the dump is asked for (it is taken at once; satpd_dump then waits for the log).
cut_now() {
	local head
	head="$(dev_counter a ul0 tx_packets) $(cpu_ticks "$1") $(machine_ticks) $(date +%s.%N)"
	satpd_dump "$1" "$2" || fail "satpd $1 did not dump its counters"
	echo "$(($(counter_of "$2" xdp_drop_replay) + $(counter_of "$2" xdp_drop_too_old)))" \
		"$(($(counter_of "$2" rx_replay) + $(counter_of "$2" rx_too_old))) $head"
}

# run MODE ROUND: one satpd in MODE under the paced replay blast; figures appended to $TMP/MODE.*.
run() {
	local mode=$1 r=$2 log pid why c0 c1
	log=$TMP/b-$mode-$r.log
	start_bg b "b-$mode-$r.log" "$SATPD" -U -L stdout:3 --state-dir "$TMP/state-$mode-$r" \
		${BPFFS:+--pin-root "$BPFFS/b-$mode-$r"} --xdp-mode "$mode" --xdp-dev ul0 -i "$UL4_2" \
		-p 4444:4445 -r "$UL4_1" -o 4444:4445 -e right -s 2 -w $WINDOW -d tun0 -t tun \
		-n "$IN_B/24" -K "$BENCH_KEY" -A "$BENCH_SALT"
	pid=$LAST_PID
	wait_log "$log" 'running' 10 || fail "$mode: satpd did not come up: $(tail -n 5 "$log")"
	if [ "$mode" != off ]; then
		why=$(require_xdp "$log" "$mode") || fail "$mode, round $r: $why"
	fi
	blast $((RUN_S + 30)) --mode replay --ring $RING --sid 1 --pps "$RAIL_PPS" ||
		fail "satp_blast: $(cat "$TMP/blast.out")"
	# The first pass commits the ring's seqs: measure once replays are refused.
	wait_at_least 1 15 replay_refused "$pid" "$log" >/dev/null ||
		fail "$mode: no replay refused 15 s into the blast: $(satpd_path "$log")"
	c0=$(cut_now "$pid" "$log")
	sleep "$RUN_S"
	c1=$(cut_now "$pid" "$log")
	kill -TERM "$BLAST_PID" 2>/dev/null
	wait "$BLAST_PID" 2>/dev/null
	forget_pid "$BLAST_PID"
	stop_pid "$pid"
	forget_pid "$pid"
	ip -n "$(ns b)" link del tun0 2>/dev/null
	awk -v a="$c0" -v b="$c1" -v hz="$(getconf CLK_TCK)" -v m="$mode" -v r="$r" -v f="$TMP/$mode" '
	BEGIN {
		split(a, x, " "); split(b, y, " ")
		t = y[7] - x[7]; sent = y[3] - x[3]; xd = y[1] - x[1]; dd = y[2] - x[2]
		print sent / t >> (f ".sent"); print xd / t >> (f ".xdp"); print dd / t >> (f ".daemon")
		print (sent ? 100 * (xd + dd) / sent : 0) >> (f ".share")
		print 100 * (y[4] - x[4]) / hz / t >> (f ".proc")
		print 100 * (y[6] - x[6]) / hz / t >> (f ".soft")
		print 100 * (y[5] - x[5]) / hz / t >> (f ".busy")
		printf("# round %s %s: %.0f offered/s, %.0f XDP + %.0f daemon refused/s\n", r, m,
			sent / t, xd / t, dd / t)
	}'
	awk -v s="$(tail -n 1 "$TMP/$mode.sent")" -v p="$RAIL_PPS" -v m="$OFFERED_MIN" \
		'BEGIN { exit !(s < m * p) }' && SHORT="$SHORT $mode/round $r: $(printf '%.0f' "$(tail -n 1 "$TMP/$mode.sent")")/s"
	[ "$(awk '{ v = $1 } END { print (v > 0) }' "$TMP/$mode.share")" = 1 ] ||
		fail "$mode, round $r: no replay counted in the measured window"
}

median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

SHORT=""
for r in $(seq 1 "$ROUNDS"); do
	for mode in $MODES; do
		run "$mode" "$r"
	done
done

printf '%-8s %12s %13s %15s %9s %12s %11s %11s\n' "rx path" "offered pps" "XDP refused/s" \
	"satpd refused/s" "counted" "satpd CPU %" "softirq %" "machine %"
for mode in $MODES; do
	f=$TMP/$mode
	printf '%-8s %12.0f %13.0f %15.0f %8.1f%% %12.0f %11.0f %11.0f\n' "$mode" "$(median "$f.sent")" \
		"$(median "$f.xdp")" "$(median "$f.daemon")" "$(median "$f.share")" "$(median "$f.proc")" \
		"$(median "$f.soft")" "$(median "$f.busy")"
	grep -h 'data path: \|XDP: satp_rx' "$TMP"/b-"$mode"-1.log | head -n 1 | sed 's/^/#   /'
done
echo "medians of $ROUNDS rounds of ${RUN_S} s, data paths interleaved round by round, every column over the"
echo "same window; offered: ul0 tx_packets in a (the paced blast, $RAIL_PPS/s); counted: the offered copies"
echo "refused as replays or too old (XDP + daemon; the rest is lost before satpd, e.g. a full socket"
echo "buffer); CPU in % of one core: satpd's process, the machine's softirq and busy time (/proc/stat,"
echo "everything on the machine)"
[ -z "$SHORT" ] || fail "the blast offered less than $OFFERED_MIN x $RAIL_PPS/s in:$SHORT (the loads differ: not comparable)"
exit 0
