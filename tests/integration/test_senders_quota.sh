#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# One connection cannot take every replay-window slot (review M7, issue 13
# item 10): a tenant holding mux 1's key sends real SATP (satp_blast) from
# many sender ids; past its share they are dropped and counted
# (rx_senders_quota), and mux 2's new sender still gets a slot and is
# delivered. Both data paths of the receiver:
#
#   native: the default share, XDP's 1024 slots over 2 connections + 1 = 341;
#           400 sender ids on mux 1: 341 get slots, 59 are refused
#   off:    --max-senders 4; 10 sender ids on mux 1: 4 get slots, 6 refused
#
#   netns st$$-a                                  netns st$$-b
#   +--------------------------------+            +-----------------------------+
#   | satpd, mux 1 (-K) and mux 2    |   veth     | satp_blast: mux 1 sids 0..N |
#   |   (satp conn add), -w 64       |<---------->|   then mux 2 sid 1          |
#   +--------------------------------+  ul0       +-----------------------------+
. "$(dirname "$0")/lib.sh"

K1=000102030405060708090a0b0c0d0e0f
K2=f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff
SALT=a0a1a2a3a4a5a6a7a8a9aaabacad
SATP=$BUILD/satp
BLAST=$BUILD/tests/tools/satp_blast

lib_init
[ -x "$SATP" ] || fail "$SATP not built"
[ -x "$BLAST" ] || fail "$BLAST not built"
bpffs_init
topo_pair a b
mkdir -p "$TMP/run"

# blast MUX KEY FIRST LAST: one datagram from each sender id FIRST..LAST (one process: no exec each),
# its inner source in MUX's route 10.98.MUX.0/24 (satpd delivers only what routes back the same way).
blast() {
	nsx b bash -c 'for ((s = $4; s <= $5; s++)); do
		"$1" --dst "$2" --port 4444 --key "$3" --salt "$7" --role right --mux "$6" --sid $s \
			--inner-src "$8" --count 1 >/dev/null || exit 1
	done' blast "$BLAST" "$UL4_1" "$2" "$3" "$4" "$1" "$SALT" "10.98.$1.2" || fail "satp_blast failed"
}

# wait_counter PID LOG NAME WANT: until the counter reaches WANT (deadline 10 s); prints it.
wait_counter() {
	local v i
	for i in $(seq 1 50); do
		v=$(satpd_counter "$1" "$2" "$3")
		[ "$v" -ge "$4" ] && break
		sleep 0.2
	done
	echo "$v"
}

run_mode() {
	local mode=$1 senders=$2 share=$3 alog=$TMP/a-$1.log apid q d0 d1
	shift 3
	start_bg a "a-$mode.log" "$SATPD" -U --state-dir "$TMP/state-$mode" --pin-root "$TMP/bpf/$mode" \
		--xdp-mode "$mode" -i "$UL4_1" -r "$UL4_2" -e left -s 1 -m 1 -w 64 -d tun0 -t tun \
		-n 10.98.0.1/24 -R 10.98.1.0/24 -K $K1 -A $SALT "$@"
	apid=$LAST_PID
	wait_log "$alog" "satpd [0-9.]* running" 15 || fail "$mode: no start: $(tail -5 "$alog")"
	nsx a "$SATP" conn add 2 key $K2 salt $SALT sender 1 role left window 64 \
		remote "$UL4_2:4599" route 10.98.2.0/24 --socket "$(ctl_sock "a-a-$mode")" || fail "$mode: conn add 2"

	d0=$(satpd_counter "$apid" "$alog" rx_delivered)
	blast 1 $K1 0 $((senders - 1))
	q=$(wait_counter "$apid" "$alog" rx_senders_quota $((senders - share)))
	[ "$q" -eq $((senders - share)) ] ||
		fail "$mode: $senders sender ids on mux 1, share $share: rx_senders_quota $q, want $((senders - share))"
	d1=$(wait_counter "$apid" "$alog" rx_delivered $((d0 + share)))
	[ $((d1 - d0)) -eq "$share" ] || fail "$mode: mux 1 delivered $((d1 - d0)), want $share"
	blast 2 $K2 1 1
	d0=$(wait_counter "$apid" "$alog" rx_delivered $((d1 + 1)))
	[ $((d0 - d1)) -eq 1 ] || fail "$mode: mux 2's new sender was not delivered ($((d0 - d1)))"
	[ "$(satpd_counter "$apid" "$alog" rx_senders_full)" -eq 0 ] || fail "$mode: the pool ran full"
	echo "ok   $mode: $senders sender ids on mux 1: $share got slots, $q refused (rx_senders_quota); mux 2's new sender delivered"
	stop_pid "$apid"
}

run_mode native 400 341
run_mode off 10 4 --max-senders 4
