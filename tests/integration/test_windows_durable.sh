#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Replay windows survive what bpffs does not (docs/windows.md): satpd (-w 100)
# against uanytun, datagrams from uanytun captured on the way in, satpd
# restarted, the capture replayed before uanytun sends anything new.
#
#   ns a                                        ns b
#   +--------------------------+                +--------------------------+
#   | tun0 10.99.0.1/24        |                | tun0 10.99.0.2/24        |
#   |   satpd -w 100           |   SATP / UDP   |   uanytun -w 100         |
#   | ul0 10.77.0.1            |<-------------->| ul0 10.77.0.2 (tcpdump)  |
#   +--------------------------+      veth      +--------------------------+
#
# Rows, in order (each satpd run keeps --state-dir; the pins are under $PINS):
#   reboot     XDP run, pins wiped (what a reboot does to bpffs), XDP again
#   xdp-off    restart with --xdp-mode off
#   back-to-xdp  socket-path run captured, then XDP over the older pins
#   killed     XDP run SIGKILLed right after the capture, restart with
#              --xdp-mode off: the windows come from the pins it left
#   crash-reboot  XDP run SIGKILLed right after the capture (no write-back
#              interval waited), pins wiped and XDP detached (a crash then a
#              reboot), restart on XDP, then again with --xdp-mode off: the
#              windows come from the state file alone, which the XDP workers
#              commit into
#   sizes      a -w 0 block ahead of a -w 100 one (mux 6, its own uanytun on
#              port 4506, tun1/tunp6), restarted: mux 6 keeps its -w 100
# Each replay must be refused datagram by datagram (replay verdicts +N, none
# of the captured echo requests, marked by their payload, on a's tun0) and the
# tunnel must carry traffic afterwards.
#
#   tests/integration/test_windows_durable.sh [ROW-NAME-FILTER]

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

KEYV=(-K 000102030405060708090a0b0c0d0e0f -A a0a1a2a3a4a5a6a7a8a9aaabacad)
IN_A=10.99.0.1
IN_B=10.99.0.2
N=3 # datagrams per capture
FILTER=${1:-}

# start_satpd LOG [OPTS...]: satpd in ns a, until it runs; its PID in APID.
start_satpd() {
	local logf=$1
	shift
	start_bg a "$logf" "$SATPD" -U --state-dir "$TMP/state" --pin-root "$PINS" -i "$UL4_1" \
		-r "$UL4_2" -s 1 -w 100 -e left -d tun0 -n "$IN_A/24" "${KEYV[@]}" "$@"
	APID=$LAST_PID
	wait_log "$TMP/$logf" 'satpd [0-9.]* running' 15 || { cat "$TMP/$logf"; fail "satpd did not start"; }
}

# capture PCAP MARK [CMD...]: N pings from b whose payload is MARK (8 hex digits),
# their SATP datagrams captured on b's side; CMD runs the moment the pings are
# answered, before the capture is closed.
capture() {
	start_bg b tcpdump.log tcpdump -Z root -i ul0 --immediate-mode -U -n -c "$N" -w "$1" \
		"udp and src host $UL4_2 and src port $PORT_B and dst port 4444"
	local tpid=$LAST_PID
	wait_log "$TMP/tcpdump.log" "listening on" 5 || fail "tcpdump did not start"
	nsx b ping -c "$N" -i 0.2 -W 2 -q -p "$2" "$TO_A" >/dev/null || fail "ping before the capture's end"
	[ $# -lt 3 ] || "${@:3}"
	wait_log "$TMP/tcpdump.log" "packets captured" 5
	stop_pid "$tpid"
	rm -f "$TMP/tcpdump.log"
	[ "$(pcap_count "$1")" -eq "$N" ] || fail "captured $(pcap_count "$1") datagrams, want $N"
}

pcap_count() {
	python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
off, n = 24, 0
while off + 16 <= len(d):
    off += 16 + struct.unpack('<I', d[off + 8:off + 12])[0]
    n += 1
print(n)
PY
}

# replay PCAP: every captured UDP payload again, oldest first, from another port of b.
replay() {
	nsx b python3 - "$1" "$UL4_1" <<'PY' || fail "cannot replay"
import socket, struct, sys
d = open(sys.argv[1], 'rb').read()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
off = 24
while off + 16 <= len(d):
    incl = struct.unpack('<I', d[off + 8:off + 12])[0]
    pkt = d[off + 16:off + 16 + incl]
    off += 16 + incl
    udp = 14 + (pkt[14] & 0x0f) * 4
    length = struct.unpack('!H', pkt[udp + 4:udp + 6])[0]
    s.sendto(pkt[udp + 8:udp + length], (sys.argv[2], 4444))
PY
}

# refused LOG: replay verdicts so far of the satpd in APID (lib.sh's replay_refused).
refused() { replay_refused "$APID" "$TMP/$1"; }

# expect_refused ROW LOG PCAP MARK: the replayed capture is refused, datagram
# by datagram, and none of its echo requests (payload MARK) reaches a's
# $TUN_A; then the tunnel works both ways.
expect_refused() {
	local row=$1 logf=$2 ref0 ref i tpid delivered
	start_bg a tun.log tcpdump -Z root -i "$TUN_A" --immediate-mode -U -n -w "$TMP/tun.pcap" \
		"icmp and icmp[0] == 8 and icmp[24:4] == 0x$4"
	tpid=$LAST_PID
	wait_log "$TMP/tun.log" "listening on" 5 || fail "tcpdump on $TUN_A did not start"
	ref0=$(refused "$logf")
	replay "$3"
	# Until all are refused; a delivered one never is, and the deadline ends the wait.
	for i in $(seq 1 20); do
		ref=$(refused "$logf")
		[ "$ref" -ge $((ref0 + N)) ] && break
	done
	stop_pid "$tpid"
	delivered=$(pcap_count "$TMP/tun.pcap")
	rm -f "$TMP/tun.log" "$TMP/tun.pcap"
	[ "$delivered" -eq 0 ] ||
		fail "$row: $delivered of $N replayed datagrams delivered (refused $ref0 -> $ref)"
	[ "$ref" -eq $((ref0 + N)) ] || fail "$row: replay verdicts $ref0 -> $ref, want +$N"
	nsx b ping -c 2 -i 0.2 -W 2 -q "$TO_A" >/dev/null || fail "$row: no traffic from b after the replay"
	nsx a ping -c 2 -i 0.2 -W 2 -q "$TO_B" >/dev/null || fail "$row: no traffic from a after the replay"
	log "  $row: $N replayed datagrams refused, none delivered; the tunnel carries on"
}

want_row() { [ -z "$FILTER" ] || [[ $1 == *"$FILTER"* ]]; }

# The tunnel the rows use: a's device, its inner address, b's, b's SATP port
# (the capture takes that peer's datagrams only: another one's could be in it).
TUN_A=tun0 TO_A=$IN_A TO_B=$IN_B PORT_B=4444

lib_init
require_cmd uanytun tcpdump python3 ping
bpffs_init
topo_pair a b
PINS=$TMP/bpf/a

start_satpd a1.log
start_bg b b.log uanytun -D -L stdout:5 -i "$UL4_2" -r "$UL4_1" -e right -d tun0 -t tun \
	-n "$IN_B/24" -s 2 -w 100 "${KEYV[@]}"
wait_dev b tun0 || fail "uanytun: no tun0"
grep -q 'XDP: satp_rx on ul0' "$TMP/a1.log" || skip "no XDP on this veth: $(grep -i xdp "$TMP/a1.log" | head -n 1)"
wait_ping b "$IN_A" 10 || fail "tunnel does not come up"
capture "$TMP/xdp.pcap" 5ea1ed01
nsx b ping -c 2 -i 0.2 -W 2 -q "$IN_A" >/dev/null || fail "ping after the capture"

if want_row reboot; then
	log "row: reboot (XDP, pins wiped, XDP)"
	stop_pid "$APID"
	rm -r "$PINS"
	start_satpd a2.log
	grep -q 'XDP: satp_rx on ul0' "$TMP/a2.log" || fail "reboot: not on XDP"
	expect_refused reboot a2.log "$TMP/xdp.pcap" 5ea1ed01
fi

if want_row xdp-off; then
	log "row: xdp-off (XDP, then the UDP sockets)"
	stop_pid "$APID"
	start_satpd a3.log --xdp-mode off
	expect_refused xdp-off a3.log "$TMP/xdp.pcap" 5ea1ed01
fi

if want_row back-to-xdp; then
	log "row: back-to-xdp (the UDP sockets, then XDP over older pins)"
	stop_pid "$APID"
	start_satpd a3b.log --xdp-mode off
	capture "$TMP/sock.pcap" 5ea1ed02
	nsx b ping -c 2 -i 0.2 -W 2 -q "$IN_A" >/dev/null || fail "ping after the capture"
	stop_pid "$APID"
	start_satpd a4.log
	grep -q 'XDP: satp_rx on ul0' "$TMP/a4.log" || fail "back-to-xdp: not on XDP"
	expect_refused back-to-xdp a4.log "$TMP/sock.pcap" 5ea1ed02
fi

if want_row killed; then
	log "row: killed (XDP SIGKILLed, then the UDP sockets)"
	stop_pid "$APID"
	start_satpd a5.log
	capture "$TMP/killed.pcap" 5ea1ed03
	kill -KILL "$APID"
	wait "$APID" 2>/dev/null
	# A killed satpd leaves satp_rx attached, dropping SATP with no socket behind
	# it (fail closed); --xdp-mode off does not take it over: the operator does.
	ip -n "$(ns a)" link set ul0 xdp off
	start_satpd a6.log --xdp-mode off
	grep -qE 'replay windows? merged from' "$TMP/a6.log" || fail "killed: the pinned windows were not merged"
	expect_refused killed a6.log "$TMP/killed.pcap" 5ea1ed03
fi

if want_row crash-reboot; then
	for m in xdp off; do
		mark=5ea1ed1$([ $m = off ] && echo 1 || echo 0)
		log "row: crash-reboot (XDP SIGKILLed, pins wiped, restart --xdp-mode $m)"
		stop_pid "$APID"
		start_satpd a7$m.log
		grep -q 'XDP: satp_rx on ul0' "$TMP/a7$m.log" || fail "crash-reboot: not on XDP"
		# Killed the moment the last ping is answered: well inside the 1 s
		# write-back interval, so only a commit into the record itself survives.
		capture "$TMP/crash-$m.pcap" "$mark" kill -KILL "$APID"
		wait "$APID" 2>/dev/null
		ip -n "$(ns a)" link set ul0 xdp off
		rm -r "$PINS"
		if [ $m = off ]; then
			start_satpd a8$m.log --xdp-mode off
		else
			start_satpd a8$m.log
			grep -q 'XDP: satp_rx on ul0' "$TMP/a8$m.log" || fail "crash-reboot: not on XDP"
		fi
		! grep -qE 'replay windows? merged from' "$TMP/a8$m.log" ||
			fail "crash-reboot: pins were left to merge"
		expect_refused "crash-reboot ($m)" a8$m.log "$TMP/crash-$m.pcap" "$mark"
	done
fi
stop_pid "$APID"

# sizes: two connection blocks, the first -w 0 (anytun's default), the second
# -w 100 with a uanytun peer; a plain restart (pins and state kept) must leave
# the second one's window at 100, so its captured traffic is still refused.
if want_row sizes; then
	log "row: sizes (a -w 0 block ahead of a -w 100 one, restarted)"
	{
		printf 'interface %s\nport 4444\n' "$UL4_1"
		printf 'connection\nmux 5\nsender-id 1\nrole left\nwindow-size 0\nkey %s\nsalt %s\n' \
			"${KEYV[1]}" "${KEYV[3]}"
		printf 'remote-host %s\nremote-port 4505\nroute 10.205.0.0/24\n' "$UL4_2"
		printf 'connection\nmux 6\nsender-id 1\nrole left\nwindow-size 100\nkey %s\nsalt %s\n' \
			"${KEYV[1]}" "${KEYV[3]}"
		printf 'remote-host %s\nremote-port 4506\nroute 10.206.0.0/24\n' "$UL4_2"
	} >"$TMP/sizes.conf"
	sizes_satpd() {
		start_bg a "$1" "$SATPD" -U --state-dir "$TMP/state-sizes" --pin-root "$TMP/bpf/sizes" \
			--config "$TMP/sizes.conf" -d tun1 -t tun -n 10.206.0.1/24
		APID=$LAST_PID
		wait_log "$TMP/$1" 'satpd [0-9.]* running' 15 || { cat "$TMP/$1"; fail "sizes: satpd did not start"; }
	}
	TUN_A=tun1 TO_A=10.206.0.1 TO_B=10.206.0.2 PORT_B=4506
	sizes_satpd s1.log
	start_bg b u6.log uanytun -D -L stdout:5 -i "$UL4_2" -p 4506 -r "$UL4_1" -o 4444 -m 6 -s 16 \
		-e right -w 100 -d tunp6 -t tun -n 10.206.0.2/24 "${KEYV[@]}"
	wait_dev b tunp6 || fail "sizes: uanytun: no tunp6"
	wait_ping b "$TO_A" 10 || fail "sizes: mux 6 does not come up"
	capture "$TMP/sizes.pcap" 5ea1ed04
	stop_pid "$APID"
	sizes_satpd s2.log
	expect_refused sizes s2.log "$TMP/sizes.pcap" 5ea1ed04
	stop_pid "$APID"
fi
log "all rows passed"
