#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Features end to end on the XDP path (issue 14), one row each; every satpd asks for
# native XDP and the row fails unless it got it (satp show --json: xdp_mode obtained
# native, no fallback):
#
#   tap-learn    a hub in tap mode with two connections (b: mux 1, c: mux 2), three satpd
#                on one Ethernet segment. Frames to an unknown MAC (marker payload) reach
#                both b's and c's tap and count as floods (tx_flooded); frames to b's
#                learned MAC reach b only, sent through AF_XDP (tx_xsk_packets).
#   queues-2     veths with 2 rx and 2 tx queues, satpd --queues 2 on both ends: 2 workers
#                each; 32 inner UDP flows (distinct ports, so the tun spreads them over
#                its queues and so over both workers' AF_XDP TX queues) arrive redirected
#                on both of the receiver's rx queues (ethtool -S rx_queue_N_xdp_redirect).
#   hs-v6-mixed  one satpd each side, configured by file only, IPv6 underlay: connection
#                block mux 1 in handshake mode (peer-key), mux 2 with static keys; pings
#                through each connection both ways, each counted on its own connection;
#                mux 1 has a confirmed session.
#
#   tap-learn (topo_bridge)                  queues-2, hs-v6-mixed (topo_pair / 2-queue veth)
#   +-----------+ +-----------+ +-----------+    +----------------+      +----------------+
#   | ns hub    | | ns b      | | ns c      |    | ns a           | veth | ns b           |
#   | satpd tap | | satpd tap | | satpd tap |    | satpd (XDP)    |<---->| satpd (XDP)    |
#   | mux 1, 2  | | mux 1     | | mux 2     |    | ul0            | ul0  | ul0            |
#   +----ul0----+ +----ul0----+ +----ul0----+    +----------------+      +----------------+
#        +------------ br0 (ns hub-sw) ---+
#
#   tests/integration/test_features.sh [ROW]   (ROW: run only the rows whose name has it)
. "$(dirname "$0")/lib.sh"

SATP=$BUILD/satp
SALT=a0a1a2a3a4a5a6a7a8a9aaabacad
ONLY=${1:-}
# What every satpd asks for; another value shows that expect_native can fail.
XDP_MODE=${FEATURES_XDP_MODE:-native}

lib_init
require_cmd python3
[ -x "$SATP" ] || fail "$SATP is not built (make all)"
bpffs_init

key_of() { printf '%032x' "$1"; }

# show NS: satp show --json of NS's satpd (start_satpd), in $TMP/show.json.
show() {
	nsx "$1" "$SATP" show --json --pin-root "$TMP/bpf/$1" --socket "$(ctl_sock "$1-$1")" \
		>"$TMP/show.json" 2>"$TMP/show.err" || fail "satp show in ns $1: $(cat "$TMP/show.err")"
}
# show_get PY: evaluate PY over d, the daemon object of $TMP/show.json (the one with
# "connections" and "rx_path"; XDP's section has connections too), and conn(mux), one of
# the daemon's connections, and redirected(), the datagrams satp_rx handed to AF_XDP.
show_get() {
	python3 -c 'import json, sys
def find(o):
    if isinstance(o, dict):
        if "connections" in o and "rx_path" in o:
            return o
        o = list(o.values())
    for v in o if isinstance(o, list) else []:
        r = find(v)
        if r:
            return r
j = json.load(open(sys.argv[1]))
d = find(j)
conn = lambda m: [c for c in d["connections"] if c["mux"] == m][0]
redirected = lambda: [i["xdp"] for i in j["interfaces"] if i.get("xdp")][0]["counters"]["redirected"]["packets"]
print(eval(sys.argv[2]))' "$TMP/show.json" "$1"
}

# expect_native NS: the row asked for native XDP; fail unless NS's satpd got it.
expect_native() {
	local m
	show "$1"
	m=$(show_get '"%s %s" % (d["xdp_mode"]["obtained"], d["xdp_mode"].get("fallback"))')
	[ "$m" = "native None" ] || fail "$1: asked for native XDP, satp show says obtained/fallback: $m"
}

# start_satpd NS ARGS...: NS's satpd, native XDP, pins and state of its own; waits until it
# runs. Its PID in LAST_PID, its log $TMP/NS.log.
start_satpd() {
	local n=$1
	shift
	start_bg "$n" "$n.log" "$SATPD" -U --xdp-mode "$XDP_MODE" --pin-root "$TMP/bpf/$n" \
		--state-dir "$TMP/state-$n" "$@"
	wait_log "$TMP/$n.log" 'satpd [0-9.]* running' 15 || fail "satpd in ns $n: $(cat "$TMP/$n.log")"
}

# marks PCAP MARKER: how many captured frames carry MARKER (read from the pcap itself:
# tcpdump prints an unknown EtherType's payload in hex and ASCII, a marker several times).
marks() {
	python3 -c 'import struct, sys
try:
    d = open(sys.argv[1], "rb").read()
except FileNotFoundError:
    d = b""
e = "<" if d[:4] == bytes.fromhex("d4c3b2a1") else ">"
m, n, o = sys.argv[2].encode(), 0, 24
while o + 16 <= len(d):
    l = struct.unpack_from(e + "I", d, o + 8)[0]
    n += m in d[o + 16:o + 16 + l]
    o += 16 + l
print(n)' "$1" "$2"
}

# capture NS DEV NAME FILTER: tcpdump DEV into $TMP/NAME.pcap; its PID in LAST_PID.
capture() {
	start_bg "$1" "$3.tcpdump.log" tcpdump -Z root -n -U --immediate-mode -i "$2" \
		-w "$TMP/$3.pcap" "$4"
	wait_log "$TMP/$3.tcpdump.log" 'listening on' 10 || fail "tcpdump on $2 in ns $1 did not start"
}

# send_frames NS DEV DSTMAC MARKER COUNT: COUNT Ethernet frames (EtherType 0x88b5, local
# experimental: no stack answers them) out of DEV, MARKER in the payload.
send_frames() {
	nsx "$1" python3 -c 'import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
src = open("/sys/class/net/%s/address" % sys.argv[1]).read().strip()
f = bytes.fromhex(sys.argv[2].replace(":", "") + src.replace(":", "") + "88b5") + sys.argv[3].encode() * 4
for _ in range(int(sys.argv[4])):
    s.send(f)' "$2" "$3" "$4" "$5" || fail "cannot send frames out of $2 in ns $1"
}

# ---------------------------------------------------------------- tap-learn
row_tap_learn() {
	local n mux peer ip fl0 fl1 xsk0 xsk1 MAC_B want kind rd
	local -A rd0
	topo_bridge hub b c
	{
		printf 'port 4444\n'
		for mux in 1 2; do
			printf 'connection\nmux %s\nsender-id 1\nremote-host 10.77.0.%s\nremote-port 4444\n' \
				"$mux" $((mux + 1))
			printf 'key %s\nsalt %s\nwindow-size 64\n' "$(key_of $((40 + mux)))" "$SALT"
		done
	} >"$TMP/tap-hub.conf"
	start_satpd hub -i 10.77.0.1 --config "$TMP/tap-hub.conf" -d tap0 -t tap -n 10.230.0.1/24
	for peer in b:1 c:2; do
		n=${peer%:*} mux=${peer#*:}
		start_satpd "$n" -i "10.77.0.$((mux + 1))" -p 4444 -r 10.77.0.1 -o 4444 -m "$mux" \
			-s 2 -e right -w 64 -d tap0 -t tap -n "10.230.0.$((mux + 1))/24" \
			-K "$(key_of $((40 + mux)))" -A "$SALT"
	done
	for n in hub b c; do expect_native "$n"; done
	for ip in 10.230.0.2 10.230.0.3; do
		wait_ping hub "$ip" 15 || fail "tap-learn: no ping hub -> $ip: $(tail -5 "$TMP/hub.log")"
		nsx hub ping -c 3 -i 0.1 -W 2 -q "$ip" >/dev/null || fail "tap-learn: pings hub -> $ip lost"
	done
	nsx b ping -c 3 -i 0.1 -W 2 -q 10.230.0.1 >/dev/null || fail "tap-learn: pings b -> hub lost"
	nsx c ping -c 3 -i 0.1 -W 2 -q 10.230.0.1 >/dev/null || fail "tap-learn: pings c -> hub lost"

	capture b tap0 tap-b 'ether proto 0x88b5'
	capture c tap0 tap-c 'ether proto 0x88b5'
	for n in b c; do
		show "$n"
		rd0[$n]=$(show_get 'redirected()')
	done
	show hub
	fl0=$(show_get 'd["counters"]["tx_flooded"]') xsk0=$(show_get 'd["counters"]["tx_xsk_packets"]')
	# An unknown destination: every connection gets a copy.
	send_frames hub tap0 02:00:5e:77:00:01 "flood-$$" 5
	# b's MAC: learned behind mux 1 from b's frames (a fresh ping: a MAC silent for 60 s is
	# forgotten, and a loaded machine is slow); frames to it go to b alone.
	MAC_B=$(nsx b cat /sys/class/net/tap0/address)
	nsx b ping -c 1 -W 2 -q 10.230.0.1 >/dev/null || fail "tap-learn: ping b -> hub lost"
	send_frames hub tap0 "$MAC_B" "learnt-$$" 5
	# A last flood behind the unicast frames: once c has it, c had its chance to see any unicast.
	send_frames hub tap0 ff:ff:ff:ff:ff:ff "last-$$" 1
	for n in b c; do
		wait_at_least 1 20 marks "$TMP/tap-$n.pcap" "last-$$" >/dev/null ||
			fail "tap-learn: the closing broadcast did not reach $n"
	done
	for want in "b flood 5" "c flood 5" "b learnt 5" "c learnt 0"; do
		read -r peer kind want <<<"$want"
		n=$(marks "$TMP/tap-$peer.pcap" "$kind-$$")
		[ "$n" -eq "$want" ] || fail "tap-learn: $peer got $n '$kind' frames, want $want"
	done
	# What b and c got came through satp_rx to AF_XDP: b 11 frames, c 6.
	for want in b:11 c:6; do
		n=${want%:*}
		show "$n"
		rd=$(($(show_get 'redirected()') - rd0[$n]))
		[ "$rd" -ge "${want#*:}" ] ||
			fail "tap-learn: $n's satp_rx redirected +$rd to AF_XDP, want >= ${want#*:}"
	done
	show hub
	fl1=$(show_get 'd["counters"]["tx_flooded"]') xsk1=$(show_get 'd["counters"]["tx_xsk_packets"]')
	# 6 flooded frames to 2 connections: 12 copies at least (the taps' own IPv6 chatter adds).
	[ $((fl1 - fl0)) -ge 12 ] || fail "tap-learn: tx_flooded +$((fl1 - fl0)), want >= 12"
	# The 5 unicast frames leave through AF_XDP TX (floods go by the socket: datapath.c flood()).
	[ $((xsk1 - xsk0)) -ge 5 ] || fail "tap-learn: tx_xsk_packets +$((xsk1 - xsk0)), want >= 5"
	log "ok   tap-learn: unknown MAC flooded to both (5+5), b's learned MAC to b only (5, c 0);" \
		"tx_flooded +$((fl1 - fl0)), tx_xsk_packets +$((xsk1 - xsk0))"
}

# ---------------------------------------------------------------- queues-2
# redirects NS: rx_queue_0_xdp_redirect and rx_queue_1_xdp_redirect of NS's ul0.
redirects() {
	nsx "$1" ethtool -S ul0 | awk '$1 == "rx_queue_0_xdp_redirect:" { a = $2 }
		$1 == "rx_queue_1_xdp_redirect:" { b = $2 } END { print a + 0, b + 0 }'
}
redirect_sum() { redirects "$1" | awk '{ print $1 + $2 }'; }

row_queues_2() {
	local n mine peer ip q0 q1 r0 r1 d0 d1 cnt
	local flows=32 per=20
	ns_create a
	ns_create b
	# 2 rx and 2 tx queues on each end: native XDP on a veth wants as many rx queues as the
	# peer has tx queues, and each worker's AF_XDP TX queue is the peer's rx queue.
	ip link add name ul0 netns "$(ns a)" numtxqueues 2 numrxqueues 2 type veth \
		peer name ul0 netns "$(ns b)" numtxqueues 2 numrxqueues 2 || fail "cannot create a 2-queue veth"
	for n in a:1 b:2; do
		ip -n "$(ns "${n%:*}")" addr add "10.77.0.${n#*:}/24" dev ul0
		ip -n "$(ns "${n%:*}")" link set ul0 up
	done
	start_satpd a -i "$UL4_1" -p 4444 -r "$UL4_2" -o 4444 -m 1 -s 1 -e left -w 64 -d tun0 -t tun \
		-n 10.231.0.1/24 -K "$(key_of 50)" -A "$SALT" --queues 2
	start_satpd b -i "$UL4_2" -p 4444 -r "$UL4_1" -o 4444 -m 1 -s 2 -e right -w 64 -d tun0 -t tun \
		-n 10.231.0.2/24 -K "$(key_of 50)" -A "$SALT" --queues 2
	for n in a b; do
		expect_native "$n"
		cnt=$(show_get 'd["workers"]')
		[ "$cnt" = 2 ] || fail "queues-2: satpd in ns $n runs $cnt workers, want 2 (--queues 2)"
	done
	wait_ping a 10.231.0.2 15 || fail "queues-2: no ping a -> b: $(tail -5 "$TMP/a.log")"
	for n in a b; do
		wait_xsk_tx "$TMP/$n.log" || fail "queues-2: satpd $n never sent by AF_XDP TX"
	done
	for n in a:b:10.231.0.2 b:a:10.231.0.1; do
		IFS=: read -r mine peer ip <<<"$n"
		read -r q0 q1 <<<"$(redirects "$peer")"
		# $flows flows (one destination port each) of $per datagrams: the tun hashes each flow
		# to one of its queues, and a worker's datagrams leave by its own AF_XDP TX queue.
		nsx "$mine" python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[3])):
    for p in range(int(sys.argv[2])):
        s.sendto(b"queues-2 %d %d" % (p, i), (sys.argv[1], 5000 + p))
    time.sleep(0.01)' "$ip" "$flows" "$per" || fail "queues-2: cannot send from $mine"
		# Both queues: at least one whole flow each (all $flows flows hashed to one queue has
		# odds of 2^-31). Every datagram is redirected: their sum reaches flows * per.
		wait_at_least $((q0 + q1 + flows * per)) 15 redirect_sum "$peer" >/dev/null
		read -r r0 r1 <<<"$(redirects "$peer")"
		d0=$((r0 - q0)) d1=$((r1 - q1))
		[ $((d0 + d1)) -ge $((flows * per)) ] ||
			fail "queues-2: $mine -> $peer: +$((d0 + d1)) redirected, want >= $((flows * per))"
		if [ "$d0" -lt "$per" ] || [ "$d1" -lt "$per" ]; then
			fail "queues-2: $mine -> $peer: rx queue 0 redirected +$d0, queue 1 +$d1; want >= $per each"
		fi
		log "ok   queues-2: $mine -> $peer: $flows flows, rx queue 0 +$d0, queue 1 +$d1 to AF_XDP"
	done
}

# ---------------------------------------------------------------- hs-v6-mixed
# hs_conf SIDE N MY-V6 ROLE PEER-V6 PEER: SIDE's config file, all of its configuration:
# connection 1 in handshake mode (PEER's public key), connection 2 with static keys, one
# route each; SIDE's inner addresses end in N.
hs_conf() {
	cat <<EOF
interface $3
port 4444
dev tun0
type tun
ifconfig 10.232.1.$2/24
private-key $TMP/$1.key
connection
mux 1
sender-id $2
role $4
remote-host $5
remote-port 4444
window-size 64
peer-key $TMP/$6.pub
route 10.232.1.0/24
connection
mux 2
sender-id $2
role $4
remote-host $5
remote-port 4444
window-size 64
key $(key_of 60)
salt $SALT
route 10.232.2.0/24
EOF
}

row_hs_v6_mixed() {
	local n k mine peer hop got want c0 c1 mux tx0 rx0 rd0 tx1 rx1 rd1
	topo_pair a b
	( umask 077
	for k in a b; do
		"$SATP" genkey >"$TMP/$k.key" && "$SATP" pubkey <"$TMP/$k.key" >"$TMP/$k.pub" ||
			exit 1
	done ) || fail "hs-v6-mixed: satp genkey/pubkey"
	hs_conf a 1 "$UL6_1" left "$UL6_2" b >"$TMP/a.conf"
	hs_conf b 2 "$UL6_2" right "$UL6_1" a >"$TMP/b.conf"
	for n in a:1 b:2; do
		start_satpd "${n%:*}" --config "$TMP/${n%:*}.conf"
		# The tun's second address, in connection 2's route (ifconfig gives one).
		nsx "${n%:*}" ip addr add "10.232.2.${n#*:}/24" dev tun0 || fail "hs-v6-mixed: address on tun0"
	done
	for n in a b; do expect_native "$n"; done
	wait_ping a 10.232.1.2 15 || fail "hs-v6-mixed: no ping through the handshake: $(tail -5 "$TMP/a.log")"
	# Each connection both ways: 5 pings, every one answered, and the connection's own
	# counter moved by them (the other connection's traffic cannot).
	for hop in a:b:1 a:b:2 b:a:1 b:a:2; do
		IFS=: read -r mine peer mux <<<"$hop"
		show "$mine"
		c0=$(show_get "conn($mux)[\"tx_packets\"], conn($mux)[\"rx_packets\"], redirected()")
		nsx "$mine" ping -c 5 -i 0.2 -W 2 -q "10.232.$mux.$([ "$peer" = a ] && echo 1 || echo 2)" \
			>/dev/null || fail "hs-v6-mixed: pings $mine -> $peer over mux $mux lost"
		show "$mine"
		c1=$(show_get "conn($mux)[\"tx_packets\"], conn($mux)[\"rx_packets\"], redirected()")
		read -r tx0 rx0 rd0 <<<"${c0//[(),]/}"
		read -r tx1 rx1 rd1 <<<"${c1//[(),]/}"
		if [ $((tx1 - tx0)) -lt 5 ] || [ $((rx1 - rx0)) -lt 5 ]; then
			fail "hs-v6-mixed: $mine's mux $mux sent +$((tx1 - tx0)), received +$((rx1 - rx0))" \
				"for 5 pings; want >= 5 each (the other connection?)"
		fi
		# The 5 echo replies came in through satp_rx to AF_XDP, not by the socket.
		[ $((rd1 - rd0)) -ge 5 ] ||
			fail "hs-v6-mixed: $mine: satp_rx redirected +$((rd1 - rd0)) for 5 echo replies over mux $mux"
	done
	# Mux 1's session is confirmed with the peer's IPv6 address; mux 2 has no session.
	for n in a:"$UL6_2" b:"$UL6_1"; do
		show "${n%%:*}"
		got=$(show_get 'conn(1)["counters"].get("hs_confirmed"), conn(1)["remote"], "hs_confirmed" in conn(2)["counters"]')
		want="(1, '[${n#*:}]:4444', False)"
		[ "$got" = "$want" ] ||
			fail "hs-v6-mixed: ${n%%:*}: mux 1 hs_confirmed and remote, mux 2 has a session: $got; want $want"
	done
	log "ok   hs-v6-mixed: IPv6 underlay, config blocks: mux 1 (handshake, confirmed) and mux 2" \
		"(static keys) each carry 5 pings both ways"
}

# Rows: NAME TOOLS (comma-separated, beyond python3): a missing tool skips only its row.
ROWS=(
	"tap_learn tcpdump"
	"queues_2 ethtool"
	"hs_v6_mixed -"
)
skipped=() ran=0
for r in "${ROWS[@]}"; do
	read -r row tools <<<"$r"
	[ -n "$ONLY" ] && [[ $row != *"$ONLY"* ]] && continue
	missing=
	for t in ${tools//,/ }; do
		[ "$t" = - ] || command -v "$t" >/dev/null 2>&1 || missing+=" $t"
	done
	if [ -n "$missing" ]; then
		skip_row "$row" "not installed:$missing (scripts/deps.sh installs it)"
		skipped+=("$row")
		continue
	fi
	log "row: $row"
	"row_$row"
	ran=$((ran + 1))
	# Each row starts from nothing: its namespaces, daemons and pins go with it.
	lib_cleanup
	TMP=$(mktemp -d "/tmp/satpd-test.$$.XXXXXX")
	bpffs_init
done
[ "$ran" -gt 0 ] || skip "no row could run: ${skipped[*]}"
