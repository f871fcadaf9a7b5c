#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A connection deleted and re-added keeps its replay windows (review M6,
# issue 13 item 9), on both data paths of the receiver:
#
#   1. B pings A through the tunnel; B's datagrams are captured on B's ul0.
#   2. `satp conn del 0` and `satp conn add 0` with the same keys on A.
#   3. The capture is sent to A again: every datagram is refused as a replay
#      (rx_replay/rx_too_old, or XDP's drop-replay/drop-too-old), and no echo
#      request of it comes out of A's tun0. B's new pings still pass.
#   4. A key change: `conn del`, `conn add` with other keys (windows start
#      empty), `conn del`, `conn add` with the first keys: refused, the error
#      says why.
#   5. Restarted (same state directory and bpffs), A still refuses them.
#
#   netns st$$-a                                  netns st$$-b
#   +--------------------------------+            +-----------------------------+
#   | satpd (XDP native, then off)   |   veth     | satpd (--xdp-mode off)      |
#   |   tun0 10.98.0.1  mux 0 -w 64  |<---------->|   tun0 10.98.0.2            |
#   |   ctl $TMP/run/a-*.sock        |  ul0       |   tcpdump on ul0 -> A       |
#   +--------------------------------+            +-----------------------------+
. "$(dirname "$0")/lib.sh"

K1=000102030405060708090a0b0c0d0e0f
K2=f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff
SALT=a0a1a2a3a4a5a6a7a8a9aaabacad
SATP=$BUILD/satp
INJECT=$LIB_DIR/satp_inject.py
WINDOW=64
PINGS=10

lib_init
require_cmd tcpdump python3
[ -x "$SATP" ] || fail "$SATP not built"
bpffs_init
topo_pair a b
mkdir -p "$TMP/run"

# refused MODE LOG PID: the datagrams A refused as replays so far, daemon and XDP together.
refused() {
	local d x=0
	d=$(($(satpd_counter "$3" "$2" rx_replay) + $(satpd_counter "$3" "$2" rx_too_old)))
	if [ "$1" = native ]; then
		x=$(nsx a "$SATP" show ul0 --json --pin-root "$TMP/bpf/a-$1" 2>/dev/null | python3 -c '
import json, sys
c = json.load(sys.stdin)["interfaces"][0]["xdp"]["counters"]
print(c["drop-replay"]["packets"] + c["drop-too-old"]["packets"])') || x=0
	fi
	echo $((d + x))
}

# ctl_a ARGS...: satp against A's control socket.
ctl_a() { nsx a "$SATP" "$@" --socket "$ASOCK"; }

run_mode() {
	local mode=$1 alog bpid apid n r0 r1 i echo
	alog=$TMP/a-$mode.log
	ASOCK=$(ctl_sock "a-a-$mode")
	start_bg a "a-$mode.log" "$SATPD" -U --state-dir "$TMP/state-a-$mode" \
		--pin-root "$TMP/bpf/a-$mode" --xdp-mode "$mode" -i "$UL4_1" -r "$UL4_2" -e left -s 1 \
		-w $WINDOW -d tun0 -t tun -n 10.98.0.1/24 -K $K1 -A $SALT
	apid=$LAST_PID
	start_bg b "b-$mode.log" "$SATPD" -U --state-dir "$TMP/state-b-$mode" --xdp-mode off \
		-i "$UL4_2" -r "$UL4_1" -e right -s 2 -w $WINDOW -d tun0 -t tun -n 10.98.0.2/24 \
		-K $K1 -A $SALT
	bpid=$LAST_PID
	wait_ping b 10.98.0.1 15 || fail "$mode: no ping through the tunnel: $(tail -5 "$alog")"
	[ "$mode" = off ] || grep -q "XDP" "$alog" || fail "$mode: A runs without XDP: $(tail -5 "$alog")"

	# 1. The capture: B's datagrams to A, pings among them.
	start_bg b "cap-$mode.log" tcpdump -n -U --immediate-mode -i ul0 -w "$TMP/cap-$mode.pcap" \
		"udp and dst host $UL4_1 and dst port 4444"
	local cpid=$LAST_PID
	wait_log "$TMP/cap-$mode.log" "listening on" 10 || fail "$mode: tcpdump did not start"
	nsx b ping -c $PINGS -i 0.1 -W 1 -q 10.98.0.1 >/dev/null || fail "$mode: pings lost"
	# tcpdump -U writes each packet as it comes: wait until every echo request's datagram is in.
	wait_at_least $PINGS 10 pcap_count "$TMP/cap-$mode.pcap" >/dev/null ||
		fail "$mode: the capture holds $(pcap_count "$TMP/cap-$mode.pcap") of $PINGS datagrams"
	kill -INT "$cpid"
	wait "$cpid" 2>/dev/null

	# 2. Delete and re-add with the same keys, once the daemon has decided on the windows.
	ctl_a conn del 0 || fail "$mode: conn del 0"
	wait_log "$alog" "mux 0: .*replay window slot.* \(kept\|freed\)" 10 ||
		fail "$mode: no word on mux 0's windows after the delete: $(tail -5 "$alog")"
	ctl_a conn add 0 key $K1 salt $SALT sender 1 role left window $WINDOW \
		remote "$UL4_2:4444" || fail "$mode: conn add 0 with the same keys"

	# 3. The capture again: refused, nothing delivered.
	start_bg a "tun-$mode.log" tcpdump -n -U --immediate-mode -Q in -i tun0 \
		-w "$TMP/tun-$mode.pcap" "icmp[icmptype] == icmp-echo"
	local tpid=$LAST_PID
	wait_log "$TMP/tun-$mode.log" "listening on" 10 || fail "$mode: tcpdump on tun0 did not start"
	r0=$(refused "$mode" "$alog" "$apid")
	n=$(nsx b python3 "$INJECT" replay-old --count 100000 --to "$UL4_1" \
		--pcap "$TMP/cap-$mode.pcap" | tail -1)
	[ "$n" -ge $PINGS ] || fail "$mode: only $n datagrams captured"
	for i in $(seq 1 25); do
		r1=$(refused "$mode" "$alog" "$apid")
		[ $((r1 - r0)) -ge "$n" ] && break
		sleep 0.2
	done
	# every replayed datagram has its verdict (or the check below fails): none is on its way
	kill -INT "$tpid"
	wait "$tpid" 2>/dev/null
	echo=$(tcpdump -n -r "$TMP/tun-$mode.pcap" 2>/dev/null | grep -c "echo request")
	[ "$echo" -eq 0 ] || fail "$mode: $echo replayed echo requests delivered after the re-add"
	[ $((r1 - r0)) -ge "$n" ] ||
		fail "$mode: $((r1 - r0)) of $n replayed datagrams refused after the re-add"
	wait_ping b 10.98.0.1 10 || fail "$mode: the re-added connection carries nothing"
	echo "ok   $mode: conn del/add with the same keys: $n captured datagrams replayed, $((r1 - r0)) refused, 0 delivered"

	# 4. A key change: windows start empty, and the first keys are refused from then on.
	# (XDP: while the deleted connection may still be in use, for a second, new keys wait)
	ctl_a conn del 0 || fail "$mode: conn del 0 (2)"
	for i in $(seq 1 50); do
		ctl_a conn add 0 key $K2 salt $SALT sender 1 role left window $WINDOW \
			remote "$UL4_2:4444" 2>"$TMP/err" && break
		grep -q "new keys can take the mux in a second" "$TMP/err" ||
			fail "$mode: conn add 0 with new keys: $(cat "$TMP/err")"
		sleep 0.1
	done
	[ "$i" -lt 50 ] || fail "$mode: new keys never took mux 0: $(cat "$TMP/err")"
	grep -q "mux 0: re-added with new keys" "$alog" || fail "$mode: no word of the key change"
	ctl_a conn del 0 || fail "$mode: conn del 0 (3)"
	ctl_a conn add 0 key $K1 salt $SALT sender 1 role left window $WINDOW \
		remote "$UL4_2:4444" 2>"$TMP/err" && fail "$mode: keys whose windows are gone were taken"
	grep -q "mux 0: these keys were used on this mux before .* use new keys" "$TMP/err" ||
		fail "$mode: refusal: $(cat "$TMP/err")"
	echo "ok   $mode: a key change starts empty; the first keys again: $(cat "$TMP/err")"

	# 5. A restart remembers it (the state directory's rx-window-keys).
	stop_pid "$apid"
	start_bg a "a2-$mode.log" "$SATPD" -U --state-dir "$TMP/state-a-$mode" \
		--pin-root "$TMP/bpf/a-$mode" --xdp-mode "$mode" -i "$UL4_1" -r "$UL4_2" -e left -s 1 \
		-w $WINDOW -d tun0 -t tun -n 10.98.0.1/24 -K $K2 -A $SALT
	apid=$LAST_PID
	ASOCK=$(ctl_sock "a-a2-$mode")
	wait_log "$TMP/a2-$mode.log" "satpd [0-9.]* running" 15 ||
		fail "$mode: A did not restart: $(tail -5 "$TMP/a2-$mode.log")"
	ctl_a conn del 0 || fail "$mode: conn del 0 after the restart"
	ctl_a conn add 0 key $K1 salt $SALT sender 1 role left window $WINDOW \
		remote "$UL4_2:4444" 2>"$TMP/err" && fail "$mode: after a restart the first keys were taken"
	grep -q "mux 0: these keys were used on this mux before" "$TMP/err" ||
		fail "$mode: refusal after the restart: $(cat "$TMP/err")"
	echo "ok   $mode: after a restart the first keys are still refused"
	stop_pid "$apid"
	stop_pid "$bpid"
}

for mode in native off; do
	run_mode $mode
done
