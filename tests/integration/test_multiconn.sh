#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# One satpd serving many connections (issue 8), against the real uanytun and
# against itself:
#
#   1. a config file with three `connection` blocks (muxes 1 2 3, own keys,
#      roles, routes) and three uanytun peers in ns b (ports 4501-4503, one tun
#      each): every peer's ping is answered through its own connection (the
#      hub's routes pick it); a destination without a route is dropped and
#      counted (tx_no_route).
#   2. while mux 1 carries a ping flow: `satp conn add 4` (a fourth uanytun
#      talks to it), `satp conn del 4` (its datagrams are refused again),
#      `satp reset-window 1 11`; the flow on mux 1 loses nothing.
#   3. satpd <-> satpd (mux 7): `satp keys` on both ends a second apart with a
#      grace period while a ping flow runs: no loss, both switch.
#   4. 1000 connections on both satpd ends (config files generated here, one
#      route each): traffic on a sample of them.
#
#   netns st$$-hub                              netns st$$-b
#   +-------------------------------+  veth    +--------------------------------+
#   | satpd (XDP on ul0) :4444      |<-------->| uanytun x3 (+1) :4501-4504     |
#   |   tun0 10.201-203.0.1/24      |   ul0    |   tunp1-4 10.20N.0.2/24        |
#   | satpd --xdp-mode off :4600    |          | satpd (XDP on ul0) :4600 (3.)  |
#   | satpd, 1000 conns :4700 (4.)  |          | satpd, 1000 conns :4700 (4.)   |
#   +-------------------------------+          +--------------------------------+
. "$(dirname "$0")/lib.sh"

SALT=a0a1a2a3a4a5a6a7a8a9aaabacad
SATP=$BUILD/satp
N_MANY=${MULTICONN_N:-1000}

lib_init
require_cmd uanytun python3
[ -x "$SATP" ] || fail "$SATP not built"
bpffs_init
topo_pair hub b
mkdir -p "$TMP/run"

key_of() { printf '%032x' "$1"; }

# json_conn MUX FIELD: a field of the hub's connection MUX from $TMP/show.json.
json_conn() {
	python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))["interfaces"][0]["daemon"]
print([c for c in d["connections"] if c["mux"] == int(sys.argv[2])][0][sys.argv[3]])' \
		"$TMP/show.json" "$1" "$2"
}
json_counter() {
	python3 -c 'import json,sys
print(json.load(open(sys.argv[1]))["interfaces"][0]["daemon"]["counters"][sys.argv[2]])' \
		"$TMP/show.json" "$1"
}
hub_show() {
	nsx hub "$SATP" show ul0 --json --pin-root "$TMP/bpf/hub" --socket "$HUB_SOCK" \
		>"$TMP/show.json" 2>&1 || fail "show: $(cat "$TMP/show.json")"
}

# peer_uanytun N ROLE: uanytun for mux N on port 450N, tunpN 10.20N.0.2/24.
peer_uanytun() {
	start_bg b "u$1.log" uanytun -D -L stdout:5 -i "$UL4_2" -p "450$1" -r "$UL4_1" -o 4444 \
		-m "$1" -s "1$1" -e "$2" -w 64 -d "tunp$1" -t tun -n "10.20$1.0.2/24" \
		-K "$(key_of "$1")" -A "$SALT"
	eval "U$1=\$LAST_PID"
	wait_dev b "tunp$1" || fail "uanytun $1: $(cat "$TMP/u$1.log")"
}

# ---------------------------------------------------------------- 1. config blocks
CFG=$TMP/hub.conf
{
	echo "# global options first"
	echo "interface $UL4_1"
	echo "port 4444"
	for n in 1 2 3; do
		role=left
		[ $n = 2 ] && role=right
		printf 'connection\nmux %s\nsender-id 1\nrole %s\nwindow-size 64\n' $n $role
		printf 'remote-host %s\nremote-port 450%s\nkey %s\nsalt %s\nroute 10.20%s.0.0/24\n' \
			"$UL4_2" $n "$(key_of $n)" "$SALT" $n
	done
} >"$CFG"
HUB_SOCK=$(ctl_sock hub-hub)
start_bg hub hub.log "$SATPD" -U --state-dir "$TMP/state-hub" --pin-root "$TMP/bpf/hub" \
	--config "$CFG" -d tun0 -t tun -n 10.201.0.1/24
HUB=$LAST_PID
wait_log "$TMP/hub.log" 'satpd [0-9.]* running' 15 || fail "hub: $(cat "$TMP/hub.log")"
grep -q "3 connections" "$TMP/hub.log" || fail "hub did not take 3 connections: $(cat "$TMP/hub.log")"
nsx hub ip addr add 10.202.0.1/24 dev tun0
nsx hub ip addr add 10.203.0.1/24 dev tun0
nsx hub ip route add 10.209.0.0/24 dev tun0
peer_uanytun 1 right
peer_uanytun 2 left
peer_uanytun 3 right
for n in 1 2 3; do
	wait_ping b "10.20$n.0.1" 10 || fail "no ping over mux $n:$(cat "$TMP/hub.log" "$TMP/u$n.log")"
	nsx b ping -c 5 -i 0.05 -q "10.20$n.0.1" >/dev/null || fail "mux $n lost pings"
done
hub_show
for n in 1 2 3; do
	[ "$(json_conn $n rx_packets)" -ge 5 ] && [ "$(json_conn $n tx_packets)" -ge 5 ] ||
		fail "mux $n: rx $(json_conn $n rx_packets) tx $(json_conn $n tx_packets)"
done
[ "$(json_conn 2 role)" = right ] || fail "mux 2 role $(json_conn 2 role)"
nsx hub ping -c 3 -i 0.05 -W 1 -q 10.209.0.5 >/dev/null 2>&1
hub_show
[ "$(json_counter tx_no_route)" -ge 3 ] || fail "tx_no_route $(json_counter tx_no_route)"
[ "$(json_counter rx_bad_tag)" -eq 0 ] || fail "bad tags: $(json_counter rx_bad_tag)"
echo "ok   3 connection blocks, 3 uanytun peers: routes pick each one's connection; no route: dropped, counted"

# ---------------------------------------------------------------- 2. runtime changes
nsx b ping -c 250 -i 0.02 -q 10.201.0.1 >"$TMP/flow1.txt" 2>&1 &
FLOW=$!
sleep 0.5
nsx hub "$SATP" conn add 4 key "$(key_of 4)" salt "$SALT" sender 1 role left window 64 \
	remote "$UL4_2:4504" --socket "$HUB_SOCK" || fail "conn add 4: $(tail -3 "$TMP/hub.log")"
nsx hub ip addr add 10.204.0.1/24 dev tun0
peer_uanytun 4 right
nsx b ping -c 3 -i 0.1 -W 1 -q 10.204.0.1 >/dev/null 2>&1 # requests reach the hub; no route back
hub_show
[ "$(json_conn 4 rx_packets)" -ge 3 ] || fail "mux 4 received $(json_conn 4 rx_packets)"
nsx hub "$SATP" reset-window 1 11 --socket "$HUB_SOCK" || fail "reset-window 1 11"
nsx hub "$SATP" conn del 4 --socket "$HUB_SOCK" || fail "conn del 4"
before=$(json_conn 1 rx_packets)
nsx b ping -c 3 -i 0.1 -W 1 -q 10.204.0.1 >/dev/null 2>&1
hub_show
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["interfaces"][0]["daemon"]; assert 4 not in [c["mux"] for c in d["connections"]]' \
	"$TMP/show.json" || fail "mux 4 still shown after del"
wait "$FLOW" || fail "the flow on mux 1 failed: $(cat "$TMP/flow1.txt")"
grep -q " 0% packet loss" "$TMP/flow1.txt" || fail "mux 1 lost packets meanwhile: $(cat "$TMP/flow1.txt")"
[ "$(json_conn 1 rx_packets)" -gt "$before" ] || fail "mux 1 stopped"
echo "ok   conn add 4 / reset-window / conn del 4 at run time; mux 1's flow: $(grep -o '[0-9]* received' "$TMP/flow1.txt"), 0% loss"
for p in "$U1" "$U2" "$U3" "$U4" "$HUB"; do stop_pid "$p"; done

# ---------------------------------------------------------------- 3. key change, grace period
KA=$(key_of 70)
KB=$(key_of 71)
start_bg hub k-hub.log "$SATPD" -U --xdp-mode off --state-dir "$TMP/state-khub" -i "$UL4_1" \
	-p 4600 -r "$UL4_2" -o 4600 -m 7 -s 1 -e left -w 64 -d tunk -t tun -n 10.210.0.1/24 \
	-K "$KA" -A "$SALT"
KHUB=$LAST_PID
start_bg b k-b.log "$SATPD" -U --state-dir "$TMP/state-kb" --pin-root "$TMP/bpf/kb" \
	-i "$UL4_2" -p 4600 -r "$UL4_1" -o 4600 -m 7 -s 2 -e right -w 64 -d tunk -t tun \
	-n 10.210.0.2/24 -K "$KA" -A "$SALT"
KB_PID=$LAST_PID
for s in k-hub k-b; do
	wait_log "$TMP/$s.log" 'satpd [0-9.]* running' 15 || fail "$s: $(cat "$TMP/$s.log")"
done
wait_ping b 10.210.0.1 10 || fail "no ping over mux 7: $(cat "$TMP/k-hub.log" "$TMP/k-b.log")"
nsx b ping -c 800 -i 0.01 -q 10.210.0.1 >"$TMP/flow7.txt" 2>&1 &
FLOW=$!
sleep 1
nsx hub "$SATP" keys 7 key "$KB" salt "$SALT" grace 6 --socket "$(ctl_sock hub-k-hub)" ||
	fail "keys on hub"
sleep 1
nsx b "$SATP" keys 7 key "$KB" salt "$SALT" grace 6 --socket "$(ctl_sock b-k-b)" ||
	fail "keys on b"
wait "$FLOW" || fail "flow over the key change: $(cat "$TMP/flow7.txt")"
grep -q " 0% packet loss" "$TMP/flow7.txt" || fail "lost packets over the key change: $(cat "$TMP/flow7.txt")"
for s in k-hub k-b; do
	grep -q "sending with the new keys" "$TMP/$s.log" || fail "$s never switched: $(cat "$TMP/$s.log")"
done
wait_log "$TMP/k-hub.log" "old keys no longer accepted" 8 || fail "hub kept the old keys"
nsx b ping -c 5 -i 0.05 -q 10.210.0.1 >/dev/null || fail "no traffic with the new keys alone"
echo "ok   keys changed on both ends 1 s apart, grace 6 s: $(grep -o '[0-9]* received' "$TMP/flow7.txt"), 0% loss"
stop_pid "$KHUB"
stop_pid "$KB_PID"

# ---------------------------------------------------------------- 4. a thousand connections
# Connection i: mux 1000+i, its own key; the hub routes 10.(96+i/256).(i%256).0/24 (b's
# side) to it, b routes 10.(64+i/256).(i%256).0/24 (the hub's side).
gen_many() { # ROLE REMOTE ROUTE-BASE LOCAL SENDER-ID
	local i
	printf 'interface %s\nport 4700\n' "$4"
	for ((i = 0; i < N_MANY; i++)); do
		printf 'connection\nmux %d\nsender-id %d\nrole %s\nwindow-size 64\n' \
			$((1000 + i)) "$5" "$1"
		printf 'remote-host %s\nremote-port 4700\nkey %s\nsalt %s\nroute 10.%d.%d.0/24\n' \
			"$2" "$(key_of $((i + 1)))" "$SALT" $(($3 + i / 256)) $((i % 256))
	done
}
gen_many left "$UL4_2" 96 "$UL4_1" 1 >"$TMP/many-hub.conf"
gen_many right "$UL4_1" 64 "$UL4_2" 2 >"$TMP/many-b.conf"
start_bg hub m-hub.log "$SATPD" -U --state-dir "$TMP/state-mhub" --pin-root "$TMP/bpf/mhub" \
	--config "$TMP/many-hub.conf" -d tunm -t tun -n 10.63.0.1/32
MHUB=$LAST_PID
start_bg b m-b.log "$SATPD" -U --xdp-mode off --state-dir "$TMP/state-mb" \
	--config "$TMP/many-b.conf" -d tunm -t tun -n 10.63.0.2/32
for s in m-hub m-b; do
	wait_log "$TMP/$s.log" 'satpd [0-9.]* running' 60 || fail "$s: $(tail -5 "$TMP/$s.log")"
	grep -q "$N_MANY connections" "$TMP/$s.log" || fail "$s: not $N_MANY connections"
done
nsx hub ip route add 10.96.0.0/11 dev tunm
nsx b ip route add 10.64.0.0/11 dev tunm
ok=0
for i in 0 1 255 256 500 511 700 998 $((N_MANY - 1)); do
	[ "$i" -lt "$N_MANY" ] || continue
	h=10.$((64 + i / 256)).$((i % 256)).1
	c=10.$((96 + i / 256)).$((i % 256)).2
	nsx hub ip addr add "$h/32" dev tunm
	nsx b ip addr add "$c/32" dev tunm
	nsx b ping -c 2 -i 0.1 -W 2 -q -I "$c" "$h" >/dev/null ||
		fail "connection $i (mux $((1000 + i))): no ping $c -> $h: $(tail -5 "$TMP/m-hub.log")"
	ok=$((ok + 1))
done
nsx hub "$SATP" show ul0 --json --pin-root "$TMP/bpf/mhub" --socket "$(ctl_sock hub-m-hub)" \
	>"$TMP/show.json" || fail "show of the 1000-connection hub"
[ "$(json_counter connections)" -eq "$N_MANY" ] || fail "hub reports $(json_counter connections)"
[ "$(json_counter rx_bad_tag)" -eq 0 ] || fail "bad tags among $N_MANY connections"
echo "ok   $N_MANY connections each side (XDP hub, socket-path peer): $ok sampled connections carry pings"
echo "PASS"
