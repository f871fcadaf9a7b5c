#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# No silent fallback. satpd's underlay is a bridge, which has no native XDP:
# an explicit --xdp-mode native (or a mode with no underlay to attach to) is
# an error quoting the cause, and satpd creates nothing; the default mode falls
# back to the UDP sockets and says so: a warning in the log, `satp show` (text
# and --json) and the /metrics gauge satpd_xdp_fallback, with the mode asked
# for, the mode obtained and why. Every mode that runs carries a uanytun ping,
# also after a SIGKILL left satp_rx attached (a socket-path run removes it, and
# refuses the crashed run's datagrams replayed: its windows carry over).
#
#   ns a                                          ns b
#   +------------------------------------+        +-------------------------+
#   | tun0 10.99.0.1/24   satpd          |        | tun0 10.99.0.2  uanytun |
#   | br0 10.77.0.1 (bridge: no native   |  veth  |                         |
#   |     XDP) -- port ul0               |<------>| ul0 10.77.0.2           |
#   +------------------------------------+        +-------------------------+
#
#   tests/integration/test_xdp_fallback.sh

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

K128=000102030405060708090a0b0c0d0e0f
SALT=a0a1a2a3a4a5a6a7a8a9aaabacad
IN_A=10.99.0.1
IN_B=10.99.0.2
SATP=$BUILD/satp
MPORT=$((30000 + $$ % 10000))
# The kernel's refusal of native XDP on a bridge, as satpd quotes it.
NO_NATIVE="satp_rx on br0 in native mode: Operation not supported"
NO_UNDERLAY="no underlay interface"

# satpd_args ADDRESSING: the command line of every row; "peer" gives -i/-r (the
# underlay is br0), "none" neither (satpd cannot tell an underlay).
satpd_args() {
	local a=(-U --state-dir "$TMP/state" --pin-root "$TMP/bpf/a" -e left -d tun0 -w 1024
		-n "$IN_A/24" -K "$K128" -A "$SALT" --ctl-socket "$TMP/run/a.sock")
	[ "$1" = peer ] && a+=(-i "$UL4_1" -r "$UL4_2")
	printf '%s\n' "${a[@]}"
}

topo_bridge_underlay() {
	ns_create a
	ns_create b
	ip link add name ul0 netns "$(ns a)" type veth peer name ul0 netns "$(ns b)" ||
		fail "cannot create veth pair"
	ip -n "$(ns a)" link add br0 type bridge || skip "no bridge devices in this kernel"
	ip -n "$(ns a)" link set ul0 master br0 up
	ip -n "$(ns a)" addr add "$UL4_1/24" dev br0
	ip -n "$(ns a)" link set br0 up
	ip -n "$(ns b)" addr add "$UL4_2/24" dev ul0
	ip -n "$(ns b)" link set ul0 up
}

# Refused: exit 1 with the cause quoted, no device left behind.
# "NAME|ADDRESSING|SATPD-OPTS|MESSAGE"
REFUSE_ROWS=(
	"native-explicit   |peer|--xdp-mode native|--xdp-mode native: $NO_NATIVE"
	"skb-no-underlay   |none|--xdp-mode skb   |--xdp-mode skb: $NO_UNDERLAY"
	"native-no-underlay|none|--xdp-mode native|--xdp-mode native: $NO_UNDERLAY"
)

test_refused() {
	local row name addr opts msg rc args
	for row in "${REFUSE_ROWS[@]}"; do
		IFS='|' read -r name addr opts msg <<<"$(sed -e 's/ *| */|/g' -e 's/ *$//' <<<"$row")"
		mapfile -t args < <(satpd_args "$addr")
		# shellcheck disable=SC2086 # the options split into words
		timeout 20 ip netns exec "$(ns a)" "$SATPD" "${args[@]}" $opts >"$TMP/refused.log" 2>&1
		rc=$?
		[ $rc -eq 1 ] || fail "$name: exit $rc, want 1 (a mode asked for and not had):$(sed 's/^/\n  /' "$TMP/refused.log")"
		grep -q "ERROR: $msg" "$TMP/refused.log" ||
			fail "$name: no error quoting '$msg':$(sed 's/^/\n  /' "$TMP/refused.log")"
		ip -n "$(ns a)" link show tun0 >/dev/null 2>&1 && fail "$name: tun0 left behind"
		log "ok   $name: exit 1, '$msg'"
	done
}

# Running: what show, --json and /metrics say about the data path. A fallback
# is a warning in the log; without one there is no such warning.
# "NAME|ADDRESSING|SATPD-OPTS|REQUESTED|EXPLICIT|OBTAINED|FALLBACK REASON or -"
RUN_ROWS=(
	"default            |peer|                |native|no |off   |$NO_NATIVE"
	"default-no-underlay|none|                |native|no |off   |$NO_UNDERLAY"
	"skb                |peer|--xdp-mode skb  |skb   |yes|skb   |-"
	"off                |peer|--xdp-mode off  |off   |yes|off   |-"
)

# check_show NAME REQUESTED EXPLICIT OBTAINED REASON
check_show() {
	local name=$1 req=$2 expl=$3 got=$4 why=$5 line
	line="xdp mode: requested $req$([ "$expl" = no ] && echo ' (default)'), obtained $got"
	[ "$why" != - ] && line="$line, FELL BACK: $why"
	nsx a "$SATP" show --run-dir "$TMP/run" --pin-root "$TMP/bpf/a" >"$TMP/show.txt" 2>&1
	if ! grep -qF "  $line" "$TMP/show.txt" || grep -vF "$line" "$TMP/show.txt" | grep -q "FELL BACK"; then
		fail "$name: satp show lacks '$line':$(sed 's/^/\n  /' "$TMP/show.txt")"
	fi
	nsx a "$SATP" show --json --run-dir "$TMP/run" --pin-root "$TMP/bpf/a" >"$TMP/show.json" 2>&1 ||
		fail "$name: satp show --json: $(cat "$TMP/show.json")"
	python3 - "$TMP/show.json" "$req" "$expl" "$got" "$why" <<'EOF' ||
import json, sys
doc = json.load(open(sys.argv[1]))
req, expl, got, why = sys.argv[2:]
ds = doc["daemons"] + [i["daemon"] for i in doc["interfaces"] if i["daemon"]]
assert len(ds) == 1, ds
m = ds[0]["xdp_mode"]
assert m["requested"] == req and m["explicit"] == (expl == "yes") and m["obtained"] == got, m
assert (m["fallback"] is None) if why == "-" else (why in m["fallback"]), m
assert ds[0]["rx_path"] == ("udp" if got == "off" else "xdp"), ds[0]["rx_path"]
EOF
		fail "$name: satp show --json:$(sed 's/^/\n  /' "$TMP/show.json")"
	nsx a curl -sf "http://127.0.0.1:$MPORT/metrics" >"$TMP/metrics.txt" || fail "$name: curl /metrics"
	line="satpd_xdp_fallback{requested=\"$req\",explicit=\"$expl\",obtained=\"$got\",reason=\"$([ "$why" != - ] && echo "$why")"
	if [ "$why" = - ]; then
		grep -qxF "$line\"} 0" "$TMP/metrics.txt"
	else
		grep -q "^$line.*\"} 1\$" "$TMP/metrics.txt"
	fi || fail "$name: /metrics lacks '$line...':$(grep satpd_xdp_fallback "$TMP/metrics.txt")"
}

test_running() {
	local row name addr opts req expl got why args pid
	for row in "${RUN_ROWS[@]}"; do
		IFS='|' read -r name addr opts req expl got why <<<"$(sed -e 's/ *| */|/g' -e 's/ *$//' <<<"$row")"
		mapfile -t args < <(satpd_args "$addr")
		# shellcheck disable=SC2086
		start_bg a "$name.log" "$SATPD" "${args[@]}" --metrics "127.0.0.1:$MPORT" $opts
		pid=$LAST_PID
		wait_log "$TMP/$name.log" 'satpd [0-9.]* running' 10 ||
			fail "$name: satpd does not run:$(sed 's/^/\n  /' "$TMP/$name.log")"
		if [ "$why" = - ]; then
			! grep -q "WARNING: data path: UDP sockets, not XDP" "$TMP/$name.log" ||
				fail "$name: a fallback warning without a fallback"
		else
			grep -q "WARNING: data path: UDP sockets, not XDP: --xdp-mode native (the default) cannot be had: $why" \
				"$TMP/$name.log" || fail "$name: no fallback warning quoting '$why':$(sed 's/^/\n  /' "$TMP/$name.log")"
		fi
		check_show "$name" "$req" "$expl" "$got" "$why"
		# The data path obtained carries the tunnel (uanytun speaks first when satpd has no -r).
		wait_ping b "$IN_A" 10 || fail "$name: no ping through the tunnel:$(sed 's/^/\n  /' "$TMP/$name.log")"
		stop_pid "$pid"
		log "ok   $name: requested $req (explicit $expl), obtained $got, fallback: $why; ping through"
	done
}

# A satp_rx left attached by a crash (SIGKILL) has no AF_XDP socket behind it and
# drops every SATP datagram: a next run on the UDP sockets (off, or the default's
# fallback) removes it, or the tunnel stays dead. The windows the crashed XDP run
# committed carry over (left pinned, merged into the socket path's file): what
# uanytun sent to it, replayed after the flow resumed, is all refused.
# "NAME|NEXT-RUN-OPTS"
CRASH_ROWS=(
	"crash-then-off    |--xdp-mode off"
	"crash-then-default|"
)


# crash_run NAME: satpd in skb mode carries pings (captured on b), then dies by SIGKILL.
crash_run() {
	local pid
	start_bg b "$1.tcpdump.log" tcpdump -Z root -i ul0 --immediate-mode -U -n -w "$TMP/$1.pcap" \
		"udp and src host $UL4_2 and src port 4444 and dst port 4444"
	local tpid=$LAST_PID
	wait_log "$TMP/$1.tcpdump.log" "listening on" 5 || fail "$1: tcpdump did not start"
	start_bg a "$1.1.log" "$SATPD" "${args[@]}" --xdp-mode skb
	pid=$LAST_PID
	wait_log "$TMP/$1.1.log" 'satpd [0-9.]* running' 10 || fail "$1: satpd skb does not run"
	wait_ping b "$IN_A" 10 || fail "$1: no ping through satpd in skb mode"
	nsx b ping -c 5 -i 0.1 -W 1 -q "$IN_A" >/dev/null || fail "$1: pings lost in skb mode"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	stop_pid "$tpid"
	ip -n "$(ns a)" link show br0 | grep -q 'prog/xdp' || fail "$1: no satp_rx left after SIGKILL"
}

test_after_crash() {
	local row name opts args pid n r0 r1 d
	mapfile -t args < <(satpd_args peer)
	for row in "${CRASH_ROWS[@]}"; do
		IFS='|' read -r name opts <<<"$(sed -e 's/ *| */|/g' -e 's/ *$//' <<<"$row")"
		crash_run "$name"
		# shellcheck disable=SC2086
		start_bg a "$name.2.log" "$SATPD" "${args[@]}" $opts
		pid=$LAST_PID
		wait_log "$TMP/$name.2.log" 'satpd [0-9.]* running' 10 || fail "$name: satpd does not run"
		# off removes it up front; the default's attach takes it over before native fails
		grep -Eq 'br0: removed the satp_rx an earlier run left|removing satp_rx id [0-9]+ found' \
			"$TMP/$name.2.log" ||
			fail "$name: the crashed run's satp_rx was not removed:$(sed 's/^/\n  /' "$TMP/$name.2.log")"
		ip -n "$(ns a)" link show br0 | grep -q 'prog/xdp' && fail "$name: an XDP program is left on br0"
		wait_ping b "$IN_A" 10 || fail "$name: no ping through the tunnel:$(sed 's/^/\n  /' "$TMP/$name.2.log")"
		# What the replay itself delivers: the crashed run's echo requests at a's tun0 (no
		# ping runs now), not rx_delivered, which any other datagram moves too.
		watch_start a tun0 'icmp[icmptype] == icmp-echo'
		r0=$(replay_refused "$pid" "$TMP/$name.2.log")
		n=$(nsx b python3 "$LIB_DIR/satp_inject.py" replay-old --count 100000 --to "$UL4_1" \
			--pcap "$TMP/$name.pcap" | tail -n 1)
		[ "${n:-0}" -ge 5 ] || fail "$name: only ${n:-0} datagrams captured from the skb run"
		# Every replayed datagram has its verdict once this many are refused: none is on its way.
		r1=$(wait_at_least $((r0 + n)) 20 replay_refused "$pid" "$TMP/$name.2.log")
		d=$(watch_count)
		if [ "$r1" -ne $((r0 + n)) ] || [ "$d" -ne 0 ]; then
			fail "$name: $n datagrams of the crashed skb run replayed: $((r1 - r0)) refused, $d echo requests delivered"
		fi
		stop_pid "$pid"
		log "ok   $name: the satp_rx a SIGKILL left is removed, the UDP sockets carry the tunnel, the $n datagrams of the crashed run replayed are all refused"
	done
}

lib_init
require_cmd uanytun curl python3 ping timeout tcpdump
[ -x "$SATP" ] || fail "$SATP is not built (make all)"
bpffs_init
mkdir -p "$TMP/run"
topo_bridge_underlay
# Only the pings cross the tunnel: no IPv6 chatter to count as delivered.
for side in a b; do
	nsx $side sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1
done
start_bg b uanytun.log uanytun -D -L stdout:5 -i "$UL4_2" -r "$UL4_1" -e right -d tun0 -t tun \
	-n "$IN_B/24" -K "$K128" -A "$SALT"
wait_dev b tun0 || fail "uanytun did not start: $(cat "$TMP/uanytun.log")"
test_refused
test_running
test_after_crash
log "all rows passed"
