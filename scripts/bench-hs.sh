#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# What a flood of handshake initiations costs a legitimate flow (issue 10's
# ">= 80%" figure; test_handshake.sh only reports one short transfer of it).
# Two satpd in handshake mode (--private-key/--peer-key); per data path, ROUNDS
# rounds of an iperf3 TCP run a -> b without, then with a flood of initiations
# from spoofed sources with a valid mac1 (anyone who knows b's public key can
# make them) at FLOOD_PPS. Printed: the medians of both throughputs, of their
# ratio, the flood's real rate, b's CPU without and with the flood, and the
# generator's (on these 2 cores the flood's sender takes its CPU from the flow).
#
#   ns a: satpd a, iperf3 -c, hs_inject.py flood --- veth --- ns b: satpd b, iperf3 -s
#
# Environment: BUILD, SECONDS_PER_RUN (default 5), ROUNDS (3), MODES ("off native"),
# FLOOD_PPS (10000; 0: as fast as one Python process sends).
set -u
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

RUN_S=${SECONDS_PER_RUN:-5}
ROUNDS=${ROUNDS:-3}
MODES=${MODES:-off native}
FLOOD_PPS=${FLOOD_PPS:-10000}
SATP=$BUILD/satp
INJ=$LIB_DIR/hs_inject.py

bench_init
require_cmd python3
[ -x "$SATP" ] || fail "$SATP is not built (make all)"
umask 077
for k in a b; do
	"$SATP" genkey >"$TMP/$k.key" || fail "satp genkey"
	"$SATP" pubkey <"$TMP/$k.key" >"$TMP/$k.pub" || fail "satp pubkey"
done
ip -n "$(ns b)" route add 198.18.0.0/15 via "$UL4_1" # cookie replies go somewhere

# hs_start MODE SIDE PEER ADDR REMOTE ROLE SID INNER: one handshake-mode satpd; its PID in LAST_PID.
hs_start() {
	start_bg "$2" "$2-$1.log" "$SATPD" -D -L stdout:3 --state-dir "$TMP/st-$2-$1" \
		${BPFFS:+--pin-root "$BPFFS/$2-$1"} --xdp-mode "$1" -i "$4" -p "$BENCH_PORT" \
		-r "$5" -o "$BENCH_PORT" -e "$6" -s "$7" -d tun0 -t tun -n "$8/24" \
		--private-key "$TMP/$2.key" --peer-key "$TMP/$3.pub"
}

# mbps JSON: the receiver's TCP throughput of an iperf3 run, in Mbit/s.
mbps() { jq '.end.sum_received.bits_per_second / 1e6' <<<"$1"; }
# pct TICKS: CPU ticks over one run as a percentage of a core.
pct() { awk -v t="$1" -v hz="$(getconf CLK_TCK)" -v s="$RUN_S" 'BEGIN { printf "%.0f\n", 100 * t / hz / s }'; }
# median: of the numbers on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

printf '%-8s %11s %12s %6s %13s %18s %14s\n' "rx path" "TCP Mbit/s" "under flood" "kept" \
	"flood init/s" "b CPU % w/o -> w/" "generator CPU %"
for mode in $MODES; do
	hs_start "$mode" b a "$UL4_2" "$UL4_1" right 2 "$IN_B"
	pid_b=$LAST_PID
	hs_start "$mode" a b "$UL4_1" "$UL4_2" left 1 "$IN_A"
	pid_a=$LAST_PID
	if ! { wait_dev a tun0 10 && wait_dev b tun0 10 && wait_ping a "$IN_B" 15; }; then
		fail "$mode: no tunnel: $(tail -n 5 "$TMP/a-$mode.log")"
	fi
	: >"$TMP/base" && : >"$TMP/under" && : >"$TMP/kept" && : >"$TMP/rate"
	: >"$TMP/cpu0" && : >"$TMP/cpu" && : >"$TMP/gen"
	for _ in $(seq 1 "$ROUNDS"); do
		t0=$(cpu_ticks "$pid_b")
		j=$(iperf a b "$IN_B" "$RUN_S") || fail "$mode: iperf3 without the flood"
		t1=$(cpu_ticks "$pid_b")
		pct $((t1 - t0)) >>"$TMP/cpu0"
		base=$(mbps "$j")
		# Not through nsx (a function, so a subshell): $! is then python itself, for cpu_ticks.
		ip netns exec "$(ns a)" python3 "$INJ" flood --to "$UL4_2" --port "$BENCH_PORT" --pub "$TMP/b.pub" \
			--seconds $((RUN_S + 2)) --pps "$FLOOD_PPS" >"$TMP/flood.out" 2>&1 &
		flood=$!
		LIB_PIDS+=("$flood")
		sleep 0.5
		t0=$(cpu_ticks "$pid_b")
		g0=$(cpu_ticks "$flood")
		j=$(iperf a b "$IN_B" "$RUN_S") || fail "$mode: iperf3 under the flood"
		t1=$(cpu_ticks "$pid_b")
		g1=$(cpu_ticks "$flood")
		wait "$flood"
		under=$(mbps "$j")
		echo "$base" >>"$TMP/base"
		echo "$under" >>"$TMP/under"
		awk -v a="$base" -v b="$under" 'BEGIN { printf "%.3f\n", b / a }' >>"$TMP/kept"
		awk -v n="$(tail -n 1 "$TMP/flood.out")" -v s=$((RUN_S + 2)) \
			'BEGIN { printf "%.0f\n", n / s }' >>"$TMP/rate"
		pct $((t1 - t0)) >>"$TMP/cpu"
		pct $((g1 - g0)) >>"$TMP/gen"
	done
	printf '%-8s %11.0f %12.0f %5.0f%% %13s %18s %14s\n' "$mode" "$(median <"$TMP/base")" \
		"$(median <"$TMP/under")" "$(awk '{ print 100 * $1 }' "$TMP/kept" | median)" \
		"$(median <"$TMP/rate")" "$(median <"$TMP/cpu0") -> $(median <"$TMP/cpu")" \
		"$(median <"$TMP/gen")"
	grep -q 'AF_XDP worker' "$TMP/a-$mode.log" || [ "$mode" = off ] ||
		echo "   ($mode: satpd fell back: $(satpd_path "$TMP/a-$mode.log"))"
	stop_pid "$pid_a"
	stop_pid "$pid_b"
	ip -n "$(ns a)" link del tun0 2>/dev/null
	ip -n "$(ns b)" link del tun0 2>/dev/null
done
echo "kept: the median over $ROUNDS rounds of TCP under the flood / TCP without, each ${RUN_S} s"
