#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Two satpd edges behind one anycast address (issue 8), BGP failover with BIRD 2:
#
#                                      +-------------------------------------------+
#                                      | e1: satpd -s 1, BIRD AS 65001             |
#                                      |  lo 192.0.2.1/32 (anycast)                |
#                                 +----| ul0 10.77.2.2   tun0 10.99.0.1/24         |
#  +---------------------+        |    +-------------------------------------------+
#  | c: uanytun -s 7     |   +----+-----------------+
#  |  -r 192.0.2.1 -w 100|   | r: BIRD AS 65000     |  +-------------------------------------------+
#  |  tun0 10.99.0.2/24  |   |  r2 10.77.2.1        |  | e2: satpd -s 2, BIRD AS 65001             |
#  |  ul0 10.77.1.2 -----+---+ r1 10.77.1.1         |  |  lo 192.0.2.1/32 (the same)               |
#  |  10.77.4.0/24 via   |   |  r3 10.77.3.1 -------+--| ul0 10.77.3.2   tun0 10.99.0.1/24 (same)  |
#  |  tun0               |   |  r4 10.77.4.1        |  +-------------------------------------------+
#  +---------------------+   +----+-----------------+
#                                 |    +---------------------------+
#                                 +----| s: ul0 10.77.4.2 (sinks)  |
#                                      +---------------------------+
#
# Both edges run satpd with the same anycast address, keys and connection, and
# distinct sender ids; each edge's BIRD announces 192.0.2.1/32 and the inner
# subnet 10.99.0.0/24 to the router while the health check
# (scripts/anycast-healthcheck.sh) finds its satpd up. The router prefers edge 1
# (local pref 200 vs 100, no ECMP) and installs the best route in its kernel.
#
# The inner server s sits behind the router, not on an edge: the client reaches
# it through the tunnel (tun0 -> SATP -> the active edge -> router -> s) and s
# answers to 10.99.0.2 by the BGP route to whichever edge announces. So an inner
# TCP connection survives the move from one edge to the other: no state of it
# lives on an edge. Rows:
#   failover  (three times: satpd on e1 stopped by SIGTERM, crashed by SIGKILL, hung by SIGSTOP)
#             a paced TCP flow (SHA-256 checked) and a 20 Hz ping run through the
#             tunnel; satpd on e1 is stopped: the route moves to e2 and the client's
#             uanytun accepts e2's packets (sender id 2 has a window of its own);
#             then e1 comes back and the traffic moves back. The longest gap
#             between two answers of the 20 Hz ping on each move is asserted under
#             a bound per signal (GAP_MAX: docs/anycast.md §7's measured worst plus
#             margin for two shared, loaded cores), as is the route's move.
#   healthcheck  its verdicts: a serving satpd is up, a reused PID is not, bad options refused
#   replay    the edges exchange replay windows (--edge-listen/--peer-edge, every
#             100 ms): a client datagram captured on its way to e1 is sent to e2 and
#             must be refused and counted there, once while both serve (live) and
#             once after e1 was stopped right after the capture (its final round
#             carries it), and at the end once more, where satp_rx on e2 must drop it
#             in XDP. A forged exchange message is a counted drop.
#
# Needs bird2 (scripts/deps.sh); skips (77) without it. A template BIRD rejects fails.
#   tests/integration/test_anycast.sh
#   ANYCAST_SATPD_OPTS="--xdp-mode off" tests/integration/test_anycast.sh   # the socket path

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/anycast-lib.sh
. "$(dirname "$0")/anycast-lib.sh"

K128=000102030405060708090a0b0c0d0e0f
SALT=a0a1a2a3a4a5a6a7a8a9aaabacad
ANYCAST=192.0.2.1
PORT=4444
# The edges' window exchange (--edge-listen / --peer-edge), on their underlay addresses.
EDGE_PORT=4445
INNER_NET=10.99.0.0/24
IN_EDGE=10.99.0.1
IN_CLIENT=10.99.0.2
SERVER=10.77.4.2
EDGE_AS=65001
ROUTER_AS=65000
HEALTHCHECK=$REPO_ROOT/scripts/anycast-healthcheck.sh
# Debian's python3, where python3-scapy is (another python3 may come first in PATH).
PY=${PYTHON_SCAPY:-/usr/bin/python3}
SATPD_OPTS=${ANYCAST_SATPD_OPTS:-}
# The flow row: seconds before stopping e1, seconds e1 stays down, seconds after it returns.
T_BEFORE=3
T_DOWN=5
T_AFTER=4
# The longest gap between two answers of the 50 ms ping, per move, in seconds. docs/anycast.md
# §7 measured the route's move at up to 0.25 s (SIGTERM), 0.4 s (SIGKILL), 0.74 s (SIGSTOP:
# the 0.5 s control-socket timeout plus the 0.2 s poll), and no loss on the way back (satpd
# serves before the route returns). Each bound is that worst case plus 1 s: on two cores shared
# with other tests the health check, BIRD and the kernel's route install each wait their turn.
# (The old bound, 80% of the pings answered over the run, let through 2.8 s.)
declare -A GAP_MAX=([TERM]=1.25 [KILL]=1.4 [STOP]=1.75 [back]=1.0)

lib_init
require_cmd bird birdc python3 ping tcpdump timeout
[ -x "$BUILD/satp" ] || fail "$BUILD/satp is not built (make all)"
bird --version >/dev/null 2>&1 || skip "bird does not run"
"$PY" -c 'import scapy' 2>/dev/null || skip "python3-scapy is not installed for $PY"
bpffs_init
mkdir -p "$TMP/bird"

build_topology() {
	ns_create c
	ns_create r
	ns_create e1
	ns_create e2
	ns_create s
	veth_link c ul0 10.77.1.2/24 fd00:77:1::2/64 r r1 10.77.1.1/24 fd00:77:1::1/64
	veth_link e1 ul0 10.77.2.2/24 fd00:77:2::2/64 r r2 10.77.2.1/24 fd00:77:2::1/64
	veth_link e2 ul0 10.77.3.2/24 fd00:77:3::2/64 r r3 10.77.3.1/24 fd00:77:3::1/64
	veth_link s ul0 10.77.4.2/24 fd00:77:4::2/64 r r4 10.77.4.1/24 fd00:77:4::1/64
	local n
	for n in c r e1 e2 s; do
		ns_sysctls "$n"
	done
	nsx r sysctl -qw net.ipv4.ip_forward=1
	# The client knows only the anycast address (via the router) and that the
	# server's subnet is behind the tunnel.
	ip -n "$(ns c)" route add "$ANYCAST/32" via 10.77.1.1
	ip -n "$(ns s)" route add default via 10.77.4.1
	local i
	for i in 1 2; do
		nsx "e$i" sysctl -qw net.ipv4.ip_forward=1
		# On loopback (no dummy module on every kernel): --xdp-dev names ul0.
		ip -n "$(ns "e$i")" addr add "$ANYCAST/32" dev lo
		ip -n "$(ns "e$i")" route add default via "10.77.$((i + 1)).1"
	done
}

# start_bird NS CONF: BIRD in the foreground with its own socket and pid file under $TMP/bird.
start_bird() {
	start_bg "$1" "bird-$1.log" bird -f -c "$2" -s "$TMP/bird/$1.ctl" -P "$TMP/bird/$1.pid"
}

start_birds() {
	local i
	fill_template "$LIB_DIR/anycast/router.conf.in" "$TMP/bird/r.conf" \
		ROUTER_ID=10.77.1.1 ROUTER_AS=$ROUTER_AS EDGE_AS=$EDGE_AS \
		EDGE1=10.77.2.2 LOCAL1=10.77.2.1 EDGE2=10.77.3.2 LOCAL2=10.77.3.1
	for i in 1 2; do
		fill_template "$LIB_DIR/anycast/edge.conf.in" "$TMP/bird/e$i.conf" \
			ROUTER_ID="10.77.$((i + 1)).2" LOCAL="10.77.$((i + 1)).2" \
			ROUTER="10.77.$((i + 1)).1" EDGE_AS=$EDGE_AS ROUTER_AS=$ROUTER_AS \
			ANYCAST=$ANYCAST INNER_NET=$INNER_NET
	done
	for n in r e1 e2; do
		# The templates are the test's own: one BIRD rejects is a bug here, not a missing feature.
		nsx "$n" bird -p -c "$TMP/bird/$n.conf" >"$TMP/bird/$n.parse" 2>&1 ||
			fail "bird2 rejects the test's configuration for $n (tests/integration/anycast/):" \
				"$(cat "$TMP/bird/$n.parse")"
		start_bird "$n" "$TMP/bird/$n.conf"
	done
}

# start_edge I: satpd on edge I (sender id I), its pid file for the health check.
# The state directory and the pinned maps outlive a restart.
start_edge() {
	local i=$1
	# shellcheck disable=SC2086 # ANYCAST_SATPD_OPTS is a list of options
	start_bg "e$i" "satpd-e$i.log" "$SATPD" -U -P "$TMP/satpd-e$i.pid" \
		--state-dir "$TMP/state-e$i" --pin-root "$TMP/bpf/e$i" --ctl-socket "$TMP/satpd-e$i.sock" \
		--xdp-dev ul0 -i "$ANYCAST" -p "$PORT" -s "$i" -e right -w 100 -K "$K128" -A "$SALT" \
		-d tun0 -t tun -n "$IN_EDGE/24" --edge-listen "10.77.$((i + 1)).2:$EDGE_PORT" \
		--peer-edge "10.77.$((4 - i)).2:$EDGE_PORT" $SATPD_OPTS
	EDGE_PID[i]=$LAST_PID
	wait_log "$TMP/satpd-e$i.log" 'satpd [0-9.]* running' 10 ||
		{ cat "$TMP/satpd-e$i.log"; fail "satpd on e$i: not running"; }
}

start_healthcheck() {
	local i=$1
	start_bg "e$i" "health-e$i.log" "$HEALTHCHECK" -p "$TMP/satpd-e$i.pid" -d tun0 \
		-c "$TMP/satpd-e$i.sock" -a "$BUILD/satp" -s "$TMP/bird/e$i.ctl" -P anycast -i 0.2
}

declare -a EDGE_PID
build_topology
start_birds
start_edge 1
start_edge 2
start_healthcheck 1
start_healthcheck 2
wait_route r "$ANYCAST" 10.77.2.2 20 ||
	{ cat "$TMP"/bird-*.log "$TMP"/health-*.log; fail "router: no route to $ANYCAST via edge 1"; }
wait_route r "$IN_CLIENT" 10.77.2.2 5 || fail "router: no route to $INNER_NET via edge 1"
nsx r birdc -s "$TMP/bird/r.ctl" show route for "$ANYCAST" all | grep -q 'BGP.local_pref: 200' ||
	fail "router: the route via edge 1 lacks local pref 200"
log "BGP up: the router reaches $ANYCAST via edge 1; edge 2 is the backup"

# No IPv6 on the client's tun0: its router solicitations would reach the edges as fresh
# datagrams in the middle of the replay rows, which count what edge 2 delivers.
nsx c sysctl -qw net.ipv6.conf.default.disable_ipv6=1
start_bg c uanytun.log uanytun -D -L stdout:5 -i 10.77.1.2 -p "$PORT" -r "$ANYCAST" -o "$PORT" \
	-s 7 -e left -w 100 -K "$K128" -A "$SALT" -d tun0 -t tun -n "$IN_CLIENT/24"
wait_dev c tun0 || { cat "$TMP/uanytun.log"; fail "uanytun: no tun0"; }
# uanytun creates tun0 before it sets it up: a route through a device that is
# not up yet is refused ("Device for nexthop is not up"), so retry for a while.
for _ in $(seq 1 50); do
	ip -n "$(ns c)" route add 10.77.4.0/24 dev tun0 2>/dev/null && break
	sleep 0.1
done
ip -n "$(ns c)" route get "$SERVER" | grep -q 'dev tun0' || fail "client: no route to the server through tun0"
wait_ping c "$SERVER" 10 || {
	tail -n 40 "$TMP"/satpd-e1.log "$TMP"/uanytun.log
	ip -n "$(ns r)" route
	fail "no ping through the tunnel"
}
log "tunnel up: client -> edge 1 -> server"

# --- replay across edges ---------------------------------------------------------
# The edges exchange their replay windows (--edge-listen / --peer-edge, every 100 ms:
# docs/anycast.md §8), so a client datagram captured on its way to edge 1 and sent to
# edge 2 must be refused there: by satp_rx in XDP (xdp_drop_replay, xdp_drop_too_old)
# or by the daemon (rx_replay, rx_too_old), and never delivered.

# refused_e2: edge 2's refusals so far, from one counter dump.
refused_e2() {
	local logf=$TMP/satpd-e2.log
	satpd_counter "${EDGE_PID[2]}" "$logf" rx_replay >/dev/null
	awk '$(NF-1) ~ /^(rx_replay|rx_too_old|xdp_drop_replay|xdp_drop_too_old)$/ { v[$(NF-1)] = $NF }
		END { print v["rx_replay"] + v["rx_too_old"] + v["xdp_drop_replay"] + v["xdp_drop_too_old"] }' \
		"$logf"
}

# capture_to_e1 PCAP: one client datagram on the router's link to edge 1 (a ping through it).
capture_to_e1() {
	: >"$TMP/tcpdump.log" # now: the child's redirection would race the wait_log below
	nsx r tcpdump -i r2 -n -U -c 1 -w "$1" "udp and dst host $ANYCAST and dst port $PORT" \
		>>"$TMP/tcpdump.log" 2>&1 &
	local tpid=$!
	LIB_PIDS+=("$tpid")
	wait_log "$TMP/tcpdump.log" "listening on" 10 || fail "replay: tcpdump on r2 did not start"
	wait_ping c "$SERVER" 10 || fail "replay: the pings to capture got no answer"
	wait "$tpid" || fail "replay: tcpdump captured nothing ($(cat "$TMP/tcpdump.log"))"
}

# xdp_refused_e2: of them, those satp_rx dropped in XDP (from the last counter dump).
xdp_refused_e2() {
	awk '$(NF-1) ~ /^xdp_drop_(replay|too_old)$/ { v[$(NF-1)] = $NF }
		END { print v["xdp_drop_replay"] + v["xdp_drop_too_old"] }' "$TMP/satpd-e2.log"
}

# replay_to_e2 TAG PCAP [xdp]: send the captured datagram (the client's echo request to the
# server) to edge 2; it must be refused, with xdp by satp_rx before the daemon sees it (unless
# on the socket path), and its echo request must not come out of edge 2's tun0.
replay_to_e2() {
	local tag=$1 before_r after_r before_x after_x seen
	before_r=$(refused_e2)
	before_x=$(xdp_refused_e2)
	watch_start e2 tun0 "icmp[icmptype] == icmp-echo and dst host $SERVER"
	nsx r "$PY" "$LIB_DIR/anycast/replay.py" "$2" r3 ||
		fail "$tag: cannot send the captured datagram to edge 2"
	after_r=$(wait_at_least $((before_r + 1)) 10 refused_e2)
	seen=$(watch_count)
	after_x=$(xdp_refused_e2)
	[ "$seen" -eq 0 ] ||
		fail "$tag: edge 2 delivered a datagram edge 1 had accepted ($seen echo requests on its tun0)"
	[ "$after_r" -gt "$before_r" ] ||
		fail "$tag: edge 2 neither delivered nor counted the replay (refusals $before_r -> $after_r)"
	if [ "${3:-}" = xdp ] && [[ $SATPD_OPTS != *"--xdp-mode off"* ]]; then
		[ "$after_x" -gt "$before_x" ] ||
			fail "$tag: the replay was refused by the daemon, not by satp_rx in XDP"
	fi
	log "$tag: PASS: edge 2 refused a datagram edge 1 had accepted" \
		"(refusals $before_r -> $after_r, in XDP $before_x -> $after_x; not on its tun0)"
}

# replay/live TAG [xdp]: both edges up; replayed once edge 2 merged edge 1's next round.
row_replay_live() {
	local cap=$TMP/to-e1.pcap before after
	before=$(satpd_counter "${EDGE_PID[2]}" "$TMP/satpd-e2.log" edge_rx_merged)
	capture_to_e1 "$cap"
	for _ in $(seq 1 20); do
		after=$(satpd_counter "${EDGE_PID[2]}" "$TMP/satpd-e2.log" edge_rx_merged)
		[ "$after" -gt "$before" ] && break
	done
	[ "$after" -gt "$before" ] ||
		fail "$1: edge 2 merged nothing from edge 1 (edge_rx_merged $before -> $after)"
	replay_to_e2 "$1" "$cap" "${2:-}"
}

# replay/stopped: captured just before satpd on edge 1 gets SIGTERM; its final round
# carries the datagram; replayed after the route moved to edge 2 (no client traffic in
# between: edge 2 knows the datagram only from the exchange). Then edge 1 comes back.
row_replay_stopped() {
	local cap=$TMP/to-e1-stop.pcap
	capture_to_e1 "$cap"
	stop_pid "${EDGE_PID[1]}"
	grep -q 'final window round sent' "$TMP/satpd-e1.log" ||
		fail "replay/stopped: satpd on edge 1 sent no final round"
	wait_log "$TMP/satpd-e2.log" 'edge 1 at .* stopped; its final windows are merged' 5 ||
		fail "replay/stopped: edge 2 did not get edge 1's final round"
	wait_route r "$ANYCAST" 10.77.3.2 10 || fail "replay/stopped: the route did not move to edge 2"
	replay_to_e2 replay/stopped "$cap"
	start_edge 1
	wait_route r "$ANYCAST" 10.77.2.2 10 || fail "replay/stopped: the route did not return to edge 1"
	wait_ping c "$SERVER" 10 || fail "replay/stopped: no ping through edge 1 after its restart"
}

# Bad exchange messages: counted drops with their reason, nothing merged. Forged in the
# router: one with edge 1's address and port and a wrong tag, one from another port.
row_edge_garbage() {
	local tag0 tag1 unk0 unk1 m0 m1
	tag0=$(satpd_counter "${EDGE_PID[2]}" "$TMP/satpd-e2.log" edge_drop_bad_tag)
	unk0=$(awk '$(NF-1) == "edge_drop_unknown_peer" { v = $NF } END { print v + 0 }' "$TMP/satpd-e2.log")
	m0=$(awk '$(NF-1) == "edge_rx_merged" { v = $NF } END { print v + 0 }' "$TMP/satpd-e2.log")
	nsx r "$PY" - "$EDGE_PORT" <<'PYEOF' || fail "edge/garbage: cannot send the forged messages"
import struct, sys
from scapy.all import IP, UDP, Ether, conf, getmacbyip, sendp
conf.verb = 0
port = int(sys.argv[1])
# magic, version, flags, edge id 1, stamp, one record, reserved; the record; a zero tag
msg = struct.pack(">IBBHQHH", 0x53455758, 1, 0, 1, 1 << 62, 1, 0)
msg += struct.pack(">HHIHH", 0, 7, 0xFFFFFFF0, 0, 0) + bytes(32)
mac = getmacbyip("10.77.3.2")
for sport in (port, port + 1):
    sendp(Ether(dst=mac) / IP(src="10.77.2.2", dst="10.77.3.2") / UDP(sport=sport, dport=port) / msg,
          iface="r3")
PYEOF
	# the message from no peer went second: once it is counted, the first was judged too
	unk1=$(wait_at_least $((unk0 + 1)) 10 satpd_counter "${EDGE_PID[2]}" "$TMP/satpd-e2.log" \
		edge_drop_unknown_peer)
	tag1=$(awk '$(NF-1) == "edge_drop_bad_tag" { v = $NF } END { print v + 0 }' "$TMP/satpd-e2.log")
	m1=$(awk '$(NF-1) == "edge_rx_merged" { v = $NF } END { print v + 0 }' "$TMP/satpd-e2.log")
	[ "$tag1" -gt "$tag0" ] || fail "edge/garbage: a wrong tag was not counted (edge_drop_bad_tag $tag0 -> $tag1)"
	[ "$unk1" -gt "$unk0" ] ||
		fail "edge/garbage: a message from no peer was not counted (edge_drop_unknown_peer $unk0 -> $unk1)"
	log "edge/garbage: PASS: forged exchange messages dropped and counted" \
		"(edge_drop_bad_tag $tag0 -> $tag1, edge_drop_unknown_peer $unk0 -> $unk1;" \
		"edge_rx_merged $m0 -> $m1 from edge 1's own rounds)"
}

# --- failover and back -------------------------------------------------------------
# row_failover SIGNAL: TERM is an orderly stop (satp_rx detached), KILL a crash (satp_rx
# stays attached with no socket behind it, dropping SATP until satpd returns), STOP a hung
# satpd (process, device and control socket still there: only the health check's question
# on the control socket goes unanswered); SIGCONT brings that one back, the others restart.
row_failover() {
	local sig=$1 tag="failover/SIG$1" d2_before d2_after t0 t1 moved back t_down t_back gap_down gap_back
	local dur=$((T_BEFORE + T_DOWN + T_AFTER + 2))
	local port=$((20000 + $$ % 10000 + ${#sig}))
	start_bg s sink.log python3 "$LIB_DIR/anycast/flow.py" sink "$port" "$((dur + 20))"
	local sinkpid=$LAST_PID
	wait_log "$TMP/sink.log" '^listening' 10 || fail "$tag: the TCP sink did not start: $(cat "$TMP/sink.log")"
	start_bg c pings.log ping -D -n -i 0.05 -W 1 -w "$dur" "$SERVER"
	local pingpid=$LAST_PID
	start_bg c flow.log python3 "$LIB_DIR/anycast/flow.py" send "$SERVER" "$port" "$dur"
	local flowpid=$LAST_PID
	d2_before=$(satpd_counter "${EDGE_PID[2]}" "$TMP/satpd-e2.log" rx_delivered)
	sleep "$T_BEFORE"

	log "$tag: SIG$sig to satpd on edge 1"
	t0=$(date +%s.%N)
	t_down=$t0
	case $sig in
	TERM) stop_pid "${EDGE_PID[1]}" ;;
	KILL)
		kill -KILL "${EDGE_PID[1]}"
		wait "${EDGE_PID[1]}" 2>/dev/null
		;;
	STOP) kill -STOP "${EDGE_PID[1]}" ;;
	esac
	wait_route r "$ANYCAST" 10.77.3.2 10 ||
		{ cat "$TMP"/health-e1.log "$TMP"/bird-e1.log; fail "$tag: the route did not move to edge 2"; }
	t1=$(date +%s.%N)
	moved=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	log "$tag: the router moved $ANYCAST to edge 2 ${moved} s after satpd stopped"
	awk -v m="$moved" -v b="${GAP_MAX[$sig]}" 'BEGIN { exit !(m <= b) }' ||
		fail "$tag: the route moved ${moved} s after the signal (bound ${GAP_MAX[$sig]} s)"
	sleep "$T_DOWN" # traffic runs through edge 2 for a while

	t0=$(date +%s.%N)
	t_back=$t0
	if [ "$sig" = STOP ]; then
		log "$tag: failback: SIGCONT to satpd on edge 1"
		kill -CONT "${EDGE_PID[1]}"
	else
		log "$tag: failback: starting satpd on edge 1 again"
		start_edge 1
	fi
	wait_route r "$ANYCAST" 10.77.2.2 10 || fail "$tag: failback: the route did not return to edge 1"
	t1=$(date +%s.%N)
	back=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	log "$tag: failback: the router moved $ANYCAST back to edge 1 ${back} s after satpd was back"

	wait "$flowpid" || { cat "$TMP/flow.log"; fail "$tag: the TCP flow broke"; }
	wait "$sinkpid" || { cat "$TMP/sink.log"; fail "$tag: the TCP sink failed"; }
	wait "$pingpid"
	local sent got
	sent=$(grep -o 'sent [0-9]* bytes sha256 [0-9a-f]*' "$TMP/flow.log")
	got=$(grep -o 'got [0-9]* bytes sha256 [0-9a-f]*' "$TMP/sink.log")
	if [ -z "$sent" ] || [ "${sent#sent }" != "${got#got }" ]; then
		fail "$tag: TCP flow: $sent, $got"
	fi
	log "$tag: one TCP connection through both moves: ${sent#sent }, intact at the server"

	d2_after=$(satpd_counter "${EDGE_PID[2]}" "$TMP/satpd-e2.log" rx_delivered)
	[ $((d2_after - d2_before)) -gt 10 ] ||
		fail "$tag: edge 2 delivered only $((d2_after - d2_before)) datagrams while edge 1 was down"
	# The interruption of each move: the longest gap between two answers around it, under
	# its bound (GAP_MAX); the ping ran on past the way back (T_AFTER), so a stream that did
	# not recover shows as a gap to its end.
	local losses summary
	losses=$(ping_losses "$TMP/pings.log" 0.05)
	summary=$(ping_summary "$TMP/pings.log")
	gap_down=$(ping_max_gap "$TMP/pings.log" "$t_down" "$t_back")
	gap_back=$(ping_max_gap "$TMP/pings.log" "$t_back" 1e12)
	log "$tag: ping every 50 ms through the tunnel: $summary"
	log "$tag: INTERRUPTION: ${losses:-no ping lost}; longest time between two answers:" \
		"${gap_down} s on the move to edge 2 (bound ${GAP_MAX[$sig]}), ${gap_back} s on the way back" \
		"(bound ${GAP_MAX[back]})"
	awk -v g="$gap_down" -v b="${GAP_MAX[$sig]}" 'BEGIN { exit !(g <= b) }' ||
		fail "$tag: the move to edge 2 interrupted the pings for ${gap_down} s (bound ${GAP_MAX[$sig]} s)"
	awk -v g="$gap_back" -v b="${GAP_MAX[back]}" 'BEGIN { exit !(g <= b) }' ||
		fail "$tag: the way back interrupted the pings for ${gap_back} s (bound ${GAP_MAX[back]} s)"
	# the stream recovered: one of the last 20 pings sent (a second's worth) was answered
	local last_ans sent_n
	last_ans=$(grep -o 'icmp_seq=[0-9]*' "$TMP/pings.log" | tail -n 1 | cut -d= -f2)
	sent_n=$(awk '/packets transmitted/ { print $1 }' "$TMP/pings.log")
	[ "${last_ans:-0}" -gt $((${sent_n:-0} - 20)) ] ||
		fail "$tag: the ping stream did not recover: last answer icmp_seq ${last_ans:-none} ($summary)"
	! grep -qi 'replay' "$TMP/uanytun.log" ||
		fail "$tag: uanytun refused edge packets as replays ($(grep -ci replay "$TMP/uanytun.log"))"
	log "$tag: uanytun accepted sender ids 1 and 2 with no replay complaint"
}

# check_data_path I: edge I's satpd carried the traffic on the path asked for: with XDP
# (the default), satp_rx on ul0 (not lo, where the anycast address is) and AF_XDP TX.
check_data_path() {
	local i=$1 logf=$TMP/satpd-e$1.log
	if [[ $SATPD_OPTS == *"--xdp-mode off"* ]]; then
		grep -q 'data path: UDP sockets' "$logf" || fail "edge $i: not on the UDP sockets"
		return 0
	fi
	grep -q 'XDP: satp_rx on ul0' "$logf" || fail "edge $i: satp_rx is not on ul0"
	[ "$(satpd_counter "${EDGE_PID[i]}" "$logf" tx_xsk_packets)" -gt 0 ] ||
		fail "edge $i: nothing sent by AF_XDP TX"
}

# --- the health check's own verdicts --------------------------------------------------
row_healthcheck() {
	local out
	out=$("$HEALTHCHECK" -p x -d y -i 0.2s -1 2>&1) && fail "healthcheck: -i 0.2s accepted"
	[[ $out == *"'0.2s'"* ]] || fail "healthcheck: a bad interval is not quoted: $out"
	out=$(nsx e2 "$HEALTHCHECK" -p "$TMP/satpd-e2.pid" -d tun0 -c "$TMP/satpd-e2.sock" \
		-a "$BUILD/satp" -1) || fail "healthcheck: edge 2 is '$out'"
	# A live process that is not satpd (a reused PID) is down.
	echo $$ >"$TMP/not-satpd.pid"
	out=$(nsx e2 "$HEALTHCHECK" -p "$TMP/not-satpd.pid" -d tun0 -1) &&
		fail "healthcheck: PID $$ (bash) counts as satpd"
	log "healthcheck: PASS: edge 2 up, a reused PID down, a bad interval refused"
}

row_healthcheck
# Edge 2 has not served the client yet: with no -r it passes every datagram to the daemon
# until one of its own fixes the mux (as anytun adopts it), so the daemon refuses this one.
row_replay_live replay/live
row_edge_garbage
# Before replay/stopped restarts it: a fresh satpd sends its first answers by the socket
# until the next hop is resolved.
check_data_path 1
row_replay_stopped
row_failover TERM
check_data_path 2
row_failover KILL
row_failover STOP
# Edge 2 has served the client now: satp_rx drops the replay before the daemon sees it.
row_replay_live replay/live-xdp xdp
log "PASS: anycast failover (stop, crash, hang)"
exit 0
