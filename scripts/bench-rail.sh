#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# RAIL's cost of a duplicate: every datagram arrives once per path and all but
# the first copy are dropped as replays of a committed seq. With XDP, satp_rx
# drops them in the driver (its read-only window check); with --xdp-mode off the
# daemon receives every copy, checks the tag and loses the atomic commit.
# satp_blast --mode replay seals a ring once (the first pass commits its seqs)
# and then replays it at full speed at a RAIL satpd (-p 4444:4445), i.e. what a
# receiver sees of the later copies. Per data path: the copies sent per second,
# those dropped per second and where (XDP / daemon), and satpd's CPU.
#
#   ns a: satp_blast (sendmmsg) 10.77.0.1 --- veth --- 10.77.0.2 ul0, ns b: satpd
#
# Environment: BUILD, SECONDS_PER_RUN (default 5), MODES (default "native off").
set -u
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

RUN_S=${SECONDS_PER_RUN:-5}
MODES=${MODES:-native off}
RING=4096

bench_init

# blast SECONDS ARGS...: satp_blast from ns a at b's port 4444 in the background
# (BLAST_PID, report in $TMP/blast.out); returns once its ring is sealed.
blast() {
	local t=$1
	shift
	rm -f "$TMP/blast.ready"
	nsx a "$BLAST" --dst "$UL4_2" --port 4444 --key "$BENCH_KEY" --salt "$BENCH_SALT" \
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

printf '%-8s %12s %14s %14s %12s\n' "rx path" "sent pps" "XDP drop pps" "satpd drop pps" "satpd CPU %"
for mode in $MODES; do
	log=$TMP/b-$mode.log
	start_bg b "b-$mode.log" "$SATPD" -U --state-dir "$TMP/state-$mode" \
		${BPFFS:+--pin-root "$BPFFS/b-$mode"} --xdp-mode "$mode" --xdp-dev ul0 -i "$UL4_2" \
		-p 4444:4445 -r "$UL4_1" -o 4444:4445 -e right -s 2 -w 1024 -d tun0 -t tun \
		-n "$IN_B/24" -K "$BENCH_KEY" -A "$BENCH_SALT"
	pid=$LAST_PID
	wait_dev b tun0 10 || fail "$mode: satpd did not come up: $(tail -n 5 "$log")"
	sleep 1
	# The first pass commits the ring's seqs; give it time before measuring.
	blast $((RUN_S + 2)) --mode replay --ring $RING --sid 1 || fail "satp_blast: $(cat "$TMP/blast.out")"
	sleep 1
	satpd_dump "$pid" "$log"
	x0=$(counter_of "$log" xdp_drop_replay) d0=$(counter_of "$log" rx_replay)
	c0=$(cpu_ticks "$pid") t0=$(date +%s.%N)
	sleep "$RUN_S"
	satpd_dump "$pid" "$log"
	x1=$(counter_of "$log" xdp_drop_replay) d1=$(counter_of "$log" rx_replay)
	c1=$(cpu_ticks "$pid") t1=$(date +%s.%N)
	wait "$BLAST_PID"
	BLAST_PPS=$(awk '{ for (i = 1; i < NF; i++) if ($(i + 1) == "pps") print $i }' "$TMP/blast.out")
	hz=$(getconf CLK_TCK)
	awk -v m="$mode" -v s="${BLAST_PPS:-0}" -v x=$((x1 - x0)) -v d=$((d1 - d0)) -v c=$((c1 - c0)) \
		-v a="$t0" -v b="$t1" -v hz="$hz" 'BEGIN {
		t = b - a
		printf "%-8s %12.0f %14.0f %14.0f %12.0f\n", m, s, x / t, d / t, 100 * c / hz / t }'
	grep -q 'data path: ' "$log" && grep 'data path: ' "$log" | sed 's/^/#   /' | head -n 1
	stop_pid "$pid"
done
log "sent pps: satp_blast's own figure over its whole run (first pass included)"
