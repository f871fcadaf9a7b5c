#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Two anycast edges with the same sender id (-s) and key would send with the
# same keys, mux, sender id and overlapping seqs: AES-CTR keystream reuse
# (docs/anycast.md §6). Their window exchange is where one hears the other
# announce its own id: each logs an error, counts it (edge_twin_id), and stops
# sending under the static keys: pings into its tun then leave nothing on the
# wire (tx_packets unchanged, tx_edge_twin up by at least as many).
#
#   netns st<PID>-a                             netns st<PID>-b
#   +----------------------------------+  veth  +----------------------------------+
#   | satpd -s 1 (edge, key K)         |<------>| satpd -s 1 (edge, key K)         |
#   | ul0 10.77.0.1  tun0 10.99.0.1    |  ul0   | ul0 10.77.0.2  tun0 10.99.0.3    |
#   +----------------------------------+        +----------------------------------+
. "$(dirname "$0")/lib.sh"

K128=000102030405060708090a0b0c0d0e0f
SALT=a0a1a2a3a4a5a6a7a8a9aaabacad
PINGS=5

lib_init
require_cmd ping
topo_pair a b
port=$((30000 + $$ % 20000))
eport=$((port + 1))

# start_edge NS ADDR PEER INNER
start_edge() {
	start_bg "$1" "$1.log" "$SATPD" -U -L stdout:5 --xdp-mode off --state-dir "$TMP/state-$1" \
		-i "$2" -p "$port" -r "$3" -o "$((port + 2))" -s 1 -w 100 -e right -d tun0 -t tun \
		-n "$4/24" -K "$K128" -A "$SALT" --edge-listen "$2:$eport" --peer-edge "$3:$eport" \
		--edge-interval 100
	eval "PID_$1=\$LAST_PID"
}
start_edge a "$UL4_1" "$UL4_2" 10.99.0.1
start_edge b "$UL4_2" "$UL4_1" 10.99.0.3
for n in a b; do
	wait_log "$TMP/$n.log" "sends as this edge's id 1 under the same key" 15 ||
		fail "$n did not notice the other edge with its id: $(grep edge: "$TMP/$n.log")"
	wait_route_to "$n" 10.99.0.2 || fail "$n: no tun0"
done
[ "$(satpd_counter "$PID_a" "$TMP/a.log" edge_twin_id)" -ge 1 ] || fail "a: edge_twin_id not counted"
tx0=$(satpd_counter "$PID_a" "$TMP/a.log" tx_packets)
tw0=$(satpd_counter "$PID_a" "$TMP/a.log" tx_edge_twin)
nsx a ping -c "$PINGS" -i 0.1 -W 1 -q 10.99.0.2 >/dev/null 2>&1
tx1=$(satpd_counter "$PID_a" "$TMP/a.log" tx_packets)
tw1=$(satpd_counter "$PID_a" "$TMP/a.log" tx_edge_twin)
[ "$tx1" -eq "$tx0" ] || fail "a sent $((tx1 - tx0)) datagrams after hearing its twin"
[ $((tw1 - tw0)) -ge "$PINGS" ] || fail "a: tx_edge_twin $tw0 -> $tw1 for $PINGS pings"
log "both edges saw the other use id 1; a sent nothing for $PINGS pings (tx_edge_twin +$((tw1 - tw0)))"
echo PASS
