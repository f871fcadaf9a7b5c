#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# satpd against the real Debian anytun 0.3.8 and uanytun 0.3.7 (and itself),
# through a tun/tap tunnel over a veth pair:
#
#   ns A                                        ns B
#   +--------------------------+                +--------------------------+
#   | tun0 10.99.0.1/24        |                | tun0 10.99.0.2/24        |
#   |   satpd (or peer)        |   SATP / UDP   |   uanytun|anytun|satpd   |
#   | ul0 10.77.0.1 fd00:77::1 |<-------------->| ul0 10.77.0.2 fd00:77::2 |
#   +--------------------------+      veth      +--------------------------+
#
# One table row per case, run by run_row: ping both ways through the tunnel
# and a TCP transfer each way whose SHA-256 must match at the far end. Then a
# replayed datagram against -w 100, and two uanytun clients with different
# sender ids on one mux against one satpd (three namespaces).
#
#   tests/integration/test_interop.sh [ROW-NAME-FILTER]

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

K128=000102030405060708090a0b0c0d0e0f
K256=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
SALT=a0a1a2a3a4a5a6a7a8a9aaabacad
KEYS="-K $K128 -A $SALT" # for the row strings
KEYV=(-K "$K128" -A "$SALT")
IN_A=10.99.0.1
IN_B=10.99.0.2
# TCP megabytes per direction: 20 for the main rows, less for the mode rows.
BIG=20
SMALL=2

FILTER=${1:-}

# peer_cmd IMPL NAME: the command line prefix of one implementation. satpd gets
# a state directory of its own per run so that sequence numbers start fresh.
peer_cmd() {
	case $1 in
	satpd) echo "$SATPD -U --xdp-mode off --state-dir $TMP/state-$2" ;;
	uanytun) echo "uanytun -D -L stdout:5" ;;
	anytun) echo "anytun -D -L stdout:5" ;;
	esac
}

# start_side NS IMPL ROLE REMOTE|- LOCAL INNER DEVTYPE OPTS: start one end, wait for its device.
start_side() {
	local n=$1 impl=$2 role=$3 remote=$4 local_addr=$5 inner=$6 type=$7 opts=$8 cmd r=""
	cmd=$(peer_cmd "$impl" "$n")
	[ "$remote" != - ] && r="-r $remote"
	# shellcheck disable=SC2086 # word splitting of the option strings is wanted
	start_bg "$n" "$n.log" $cmd -i "$local_addr" $r -e "$role" -d "${type}0" -t "$type" \
		-n "$inner/24" $opts
	wait_dev "$n" "${type}0" || { cat "$TMP/$n.log"; fail "$impl in ns $n: no ${type}0"; }
}

# check_satpd_log LOG: no failed authentication and something delivered.
check_satpd_log() {
	local bad delivered
	bad=$(awk '$(NF-1) == "rx_bad_tag" { v = $NF } END { print v + 0 }' "$1")
	delivered=$(awk '$(NF-1) == "rx_delivered" { v = $NF } END { print v + 0 }' "$1")
	[ "$bad" -eq 0 ] || fail "satpd counted $bad datagrams with a bad tag ($1)"
	! grep -E 'Sanitizer|runtime error' "$1" || fail "satpd: sanitizer report in $1"
	[ "$delivered" -gt 0 ] || fail "satpd delivered nothing ($1)"
}

# run_row "NAME|A-IMPL|B-IMPL|A-ROLE|A-HAS-R|B-HAS-R|UNDERLAY 4|6|DEV tun|tap|MB|A-OPTS|B-OPTS|BOTH-OPTS"
run_row() {
	local name a b arole ar br ul type mb aopts bopts both brole a_ul b_ul pa pb first second
	IFS='|' read -r name a b arole ar br ul type mb aopts bopts both <<<"$1"
	[ -n "$FILTER" ] && [[ $name != *"$FILTER"* ]] && return 0
	log "row: $name"
	[ "$arole" = left ] && brole=right || brole=left
	if [ "$ul" = 6 ]; then
		a_ul=$UL6_1 b_ul=$UL6_2
	else
		a_ul=$UL4_1 b_ul=$UL4_2
	fi
	[ "$ar" = yes ] && pa=$b_ul || pa=-
	[ "$br" = yes ] && pb=$a_ul || pb=-
	start_side a "$a" "$arole" "$pa" "$a_ul" "$IN_A" "$type" "$aopts $both"
	local apid=$LAST_PID
	start_side b "$b" "$brole" "$pb" "$b_ul" "$IN_B" "$type" "$bopts $both"
	local bpid=$LAST_PID
	# The side that knows its remote speaks first; the other learns it.
	if [ "$ar" = yes ]; then
		first=a second=b
	else
		first=b second=a
	fi
	local to_first=$IN_A to_second=$IN_B
	[ $first = b ] && to_first=$IN_B to_second=$IN_A
	wait_ping "$first" "$to_second" 10 ||
		{ cat "$TMP/a.log" "$TMP/b.log"; fail "$name: no ping from $first through the tunnel"; }
	nsx "$first" ping -c 3 -i 0.2 -W 2 -q "$to_second" >/dev/null || fail "$name: ping $first -> $second"
	nsx "$second" ping -c 3 -i 0.2 -W 2 -q "$to_first" >/dev/null || fail "$name: ping $second -> $first"
	local r1 r2
	r1=$(tcp_transfer a b "$IN_B" "$mb") || fail "$name: TCP a -> b: checksum mismatch"
	r2=$(tcp_transfer b a "$IN_A" "$mb") || fail "$name: TCP b -> a: checksum mismatch"
	log "  $a($arole) <-> $b($brole): a->b $r1; b->a $r2"
	stop_pid "$apid"
	stop_pid "$bpid"
	[ "$a" = satpd ] && check_satpd_log "$TMP/a.log"
	[ "$b" = satpd ] && check_satpd_log "$TMP/b.log"
	rm -f "$TMP/a.log" "$TMP/b.log"
	return 0
}

ROWS=(
	# name                  |A     |B      |A role|A -r|B -r|ul|dev|MB    |A opts |B opts |both
	"satpd-uanytun          |satpd |uanytun|left  |yes |yes |4 |tun|$BIG  |-s 1   |-s 2   |$KEYS"
	"satpd-server-uanytun   |satpd |uanytun|right |no  |yes |4 |tun|$BIG  |-s 1   |-s 2   |$KEYS"
	"satpd-anytun           |satpd |anytun |left  |yes |yes |4 |tun|$BIG  |-s 1   |-s 2   |$KEYS"
	"satpd-anytun-server    |satpd |anytun |right |yes |no  |4 |tun|$BIG  |-s 1   |-s 2   |$KEYS"
	"satpd-satpd            |satpd |satpd  |left  |yes |yes |4 |tun|$BIG  |-s 1   |-s 2 --xdp-mode native|$KEYS"
	"satpd-server-satpd     |satpd |satpd  |right |no  |yes |4 |tun|$BIG  |-s 1   |-s 2   |$KEYS"
	"tap                    |satpd |uanytun|left  |yes |yes |4 |tap|$SMALL|-s 1   |-s 2   |$KEYS"
	"tap-anytun             |satpd |anytun |left  |yes |yes |4 |tap|$SMALL|-s 1   |-s 2   |$KEYS"
	"ipv6-underlay          |satpd |uanytun|left  |yes |yes |6 |tun|$SMALL|-s 1   |-s 2   |$KEYS"
	"passphrase             |satpd |uanytun|left  |yes |yes |4 |tun|$SMALL|       |       |-E satpd-interop-passphrase"
	"aes-ctr-256            |satpd |uanytun|left  |yes |yes |4 |tun|$SMALL|-s 1   |-s 2   |-c aes-ctr-256 -k aes-ctr-256 -K $K256 -A $SALT"
	"tag-20                 |satpd |uanytun|left  |yes |yes |4 |tun|$SMALL|-s 1   |-s 2   |-b 20 $KEYS"
	"null-null              |satpd |uanytun|left  |yes |yes |4 |tun|$SMALL|-s 1   |-s 2   |-c null -a null"
	"mux-5                  |satpd |uanytun|left  |yes |yes |4 |tun|$SMALL|-s 1   |-s 2   |-m 5 $KEYS"
	"mux-5-anytun           |satpd |anytun |left  |yes |yes |4 |tun|$SMALL|-s 1   |-s 2   |-m 5 $KEYS"
	"satpd-server-adopts-mux|satpd |uanytun|right |no  |yes |4 |tun|$SMALL|-m 0   |-m 9   |$KEYS"
)

# Traffic satpd must refuse, one row each: the counter that must move, and
# nothing may be delivered. "NAME|SATPD-OPTS|UANYTUN-OPTS|UANYTUN-DEV|COUNTER"
REJECT_ROWS=(
	"wrong-mux|-m 1|-m 2|tun|rx_wrong_mux"
	"wrong-key|-m 1|-m 1 -K 0f0e0d0c0b0a09080706050403020100|tun|rx_bad_tag"
	"wrong-role|-m 1|-m 1 -e left|tun|rx_bad_tag"
	"tap-into-tun|-m 1|-m 1|tap|rx_bad_ptype"
)

test_rejects() {
	local row name sopts uopts utype counter apid v deliv
	for row in "${REJECT_ROWS[@]}"; do
		IFS='|' read -r name sopts uopts utype counter <<<"$row"
		[ -n "$FILTER" ] && [[ $name != *"$FILTER"* ]] && continue
		log "row: $name"
		start_side a satpd left "$UL4_2" "$UL4_1" "$IN_A" tun "$sopts $KEYS"
		apid=$LAST_PID
		# shellcheck disable=SC2086
		start_bg b b.log uanytun -D -L stdout:5 -i "$UL4_2" -r "$UL4_1" -e right -d "${utype}0" \
			-t "$utype" -n "$IN_B/24" $KEYS $uopts
		wait_dev b "${utype}0" || fail "$name: uanytun did not start"
		nsx b ping -c 3 -i 0.2 -W 1 -q "$IN_A" >/dev/null 2>&1 && fail "$name: the tunnel works"
		v=$(satpd_counter "$apid" "$TMP/a.log" "$counter")
		deliv=$(satpd_counter "$apid" "$TMP/a.log" rx_delivered)
		[ "$v" -gt 0 ] || fail "$name: $counter did not move"
		[ "$deliv" -eq 0 ] || fail "$name: $deliv packets delivered"
		log "  refused: $counter $v, rx_delivered 0"
		stop_pid "$apid"
		stop_pid "$LAST_PID"
		rm -f "$TMP/a.log" "$TMP/b.log"
	done
}

# A datagram captured on its way to satpd (-w 100) and sent again from the peer's
# namespace must be counted as a replay and deliver nothing.
test_replay() {
	[ -n "$FILTER" ] && [[ replay != *"$FILTER"* ]] && return 0
	require_cmd tcpdump
	log "row: replay"
	start_side a satpd left "$UL4_2" "$UL4_1" "$IN_A" tun "-s 1 -w 100 $KEYS"
	local apid=$LAST_PID
	start_side b uanytun right "$UL4_1" "$UL4_2" "$IN_B" tun "-s 2 $KEYS"
	wait_ping b "$IN_A" 10 || fail "replay: tunnel does not come up"
	start_bg a tcpdump.log tcpdump -Z root -i ul0 --immediate-mode -U -n -c 1 -w "$TMP/replay.pcap" \
		"udp and src host $UL4_2 and dst port 4444"
	local tpid=$LAST_PID
	wait_log "$TMP/tcpdump.log" "listening on" 5 || fail "replay: tcpdump did not start"
	nsx b ping -c 2 -i 0.2 -W 2 -q "$IN_A" >/dev/null || fail "replay: ping before the replay"
	wait_log "$TMP/tcpdump.log" "packets captured" 5
	stop_pid "$tpid"
	[ -s "$TMP/replay.pcap" ] || fail "replay: nothing captured"

	local replay0 deliv0 remote0 replay1 deliv1 remote1
	replay0=$(satpd_counter "$apid" "$TMP/a.log" rx_replay)
	deliv0=$(satpd_counter "$apid" "$TMP/a.log" rx_delivered)
	remote0=$(satpd_counter "$apid" "$TMP/a.log" remote_changes)
	# Re-inject the captured datagram's UDP payload, byte for byte, from another port.
	nsx b python3 - "$TMP/replay.pcap" "$UL4_1" <<'EOF' || fail "replay: cannot re-inject"
import socket, struct, sys
data = open(sys.argv[1], 'rb').read()
off = 24 + 16                      # pcap global header, first record header
eth = 14
ihl = (data[off + eth] & 0x0f) * 4
udp = off + eth + ihl
length = struct.unpack('!H', data[udp + 4:udp + 6])[0]
payload = data[udp + 8:udp + length]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(payload, (sys.argv[2], 4444))
EOF
	sleep 0.5
	replay1=$(satpd_counter "$apid" "$TMP/a.log" rx_replay)
	deliv1=$(satpd_counter "$apid" "$TMP/a.log" rx_delivered)
	remote1=$(satpd_counter "$apid" "$TMP/a.log" remote_changes)
	[ "$replay1" -eq $((replay0 + 1)) ] || fail "replay: rx_replay went $replay0 -> $replay1, want +1"
	[ "$deliv1" -eq "$deliv0" ] || fail "replay: the replayed datagram was delivered ($deliv0 -> $deliv1)"
	[ "$remote1" -eq "$remote0" ] || fail "replay: a replay moved the remote endpoint"
	nsx b ping -c 2 -i 0.2 -W 2 -q "$IN_A" >/dev/null || fail "replay: tunnel broken after the replay"
	log "  replayed datagram: rx_replay $replay0 -> $replay1, rx_delivered unchanged ($deliv1)"
	stop_pid "$apid"
	stop_pid "$LAST_PID"
	rm -f "$TMP/a.log" "$TMP/b.log"
}

# satpd restarted with the same key must not reuse sequence numbers: a uanytun
# peer with -w 100 would reject seq 0.. again as replays. Also: -x runs with the
# device name, and -n gives the device MTU 1400 as both reference daemons do.
test_restart() {
	[ -n "$FILTER" ] && [[ restart != *"$FILTER"* ]] && return 0
	log "row: restart"
	local args=(-U --xdp-mode off --state-dir "$TMP/state-restart" -i "$UL4_1" -r "$UL4_2" -s 1
		-e left -d tun0 -n "$IN_A/24" -x "$TMP/up.sh" "${KEYV[@]}")
	# shellcheck disable=SC2016 # $1 is the script's, not ours
	printf 'echo "$1" > %s/up.out\n' "$TMP" >"$TMP/up.sh"
	start_bg a a.log "$SATPD" "${args[@]}"
	local apid=$LAST_PID
	start_side b uanytun right "$UL4_1" "$UL4_2" "$IN_B" tun "-s 2 -w 100 $KEYS"
	local bpid=$LAST_PID
	wait_dev a tun0 || fail "restart: no tun0"
	wait_ping a "$IN_B" 10 || fail "restart: tunnel does not come up"
	[ "$(cat "$TMP/up.out" 2>/dev/null)" = tun0 ] || fail "restart: post-up script did not get tun0"
	ip -n "$(ns a)" link show tun0 | grep -q 'mtu 1400' || fail "restart: tun0 MTU is not 1400"
	nsx a ping -c 3 -i 0.2 -W 2 -q "$IN_B" >/dev/null || fail "restart: ping before the restart"
	stop_pid "$apid"
	start_bg a a2.log "$SATPD" "${args[@]}"
	apid=$LAST_PID
	wait_log "$TMP/a2.log" "running" 10 || fail "restart: satpd did not come back"
	# Every echo must come back: a reused number is dropped by uanytun as a replay.
	nsx a ping -c 3 -i 0.2 -W 2 "$IN_B" | grep -q ' 3 received' ||
		fail "restart: uanytun -w 100 drops satpd's packets after a restart (sequence numbers reused?)"
	grep -q 'replay' "$TMP/b.log" && fail "restart: uanytun saw replays"
	grep -q 'start at 1048576' "$TMP/a2.log" || fail "restart: sequence numbers did not continue"
	log "  restarted satpd continues at seq 1048576; uanytun -w 100 accepts it; -x and MTU 1400 ok"
	stop_pid "$apid"
	stop_pid "$bpid"
	rm -f "$TMP/a.log" "$TMP/a2.log" "$TMP/b.log"
}

# The end of the sequence space: satpd sends up to 2^32-1 with one key, then
# refuses (counted) rather than wrap and reuse keystream. A used-up or corrupt
# state file, or a bad option, stops satpd before it creates anything.
test_seq_end() {
	[ -n "$FILTER" ] && [[ seq-end != *"$FILTER"* ]] && return 0
	log "row: seq-end"
	mkdir -p "$TMP/state-end"
	echo 4294967293 >"$TMP/state-end/tx-seq.mux0"
	start_bg a a.log "$SATPD" -U --xdp-mode off --state-dir "$TMP/state-end" -i "$UL4_1" \
		-r "$UL4_2" -e left -d tun0 -n "$IN_A/24" "${KEYV[@]}"
	local apid=$LAST_PID
	start_side b uanytun right "$UL4_1" "$UL4_2" "$IN_B" tun "${KEYV[*]}"
	local bpid=$LAST_PID
	wait_dev a tun0 || fail "seq-end: no tun0"
	# Three numbers are left (2^32-3 .. 2^32-1): three datagrams (echo requests, or
	# the kernel's own IPv6 chatter on tun0), then nothing more.
	nsx a ping -c 6 -i 0.2 -W 1 "$IN_B" >"$TMP/ping.out" 2>&1
	grep -q ' [123] received' "$TMP/ping.out" || fail "seq-end: want 1..3 echoes: $(tail -2 "$TMP/ping.out")"
	local sent ex
	sent=$(satpd_counter "$apid" "$TMP/a.log" tx_packets)
	ex=$(satpd_counter "$apid" "$TMP/a.log" tx_seq_exhausted)
	[ "$sent" -eq 3 ] || fail "seq-end: sent $sent datagrams, want 3"
	[ "$ex" -ge 3 ] || fail "seq-end: tx_seq_exhausted $ex, want >= 3"
	stop_pid "$apid"
	stop_pid "$bpid"
	log "  3 numbers left: 3 sent, then refused (tx_seq_exhausted $ex)"

	local bad rc
	for bad in 4294967296 garbage; do
		echo "$bad" >"$TMP/state-end/tx-seq.mux0"
		nsx a "$SATPD" -U --xdp-mode off --state-dir "$TMP/state-end" -d tun1 "${KEYV[@]}" \
			>"$TMP/a.log" 2>&1
		rc=$?
		[ $rc -ne 0 ] || fail "seq-end: satpd started with state '$bad'"
		ip -n "$(ns a)" link show tun1 >/dev/null 2>&1 && fail "seq-end: tun1 left behind"
	done
	nsx a "$SATPD" -U --xdp-mode off -d tun1 -w lots "${KEYV[@]}" >"$TMP/a.log" 2>&1
	rc=$?
	[ $rc -eq 2 ] || fail "bad option: exit $rc, want 2"
	grep -q "'lots'" "$TMP/a.log" || fail "bad option: the message does not quote 'lots'"
	ip -n "$(ns a)" link show tun1 >/dev/null 2>&1 && fail "bad option: tun1 created"
	log "  used-up and corrupt state files and a bad option: exit non-zero, nothing created"
	rm -f "$TMP/a.log" "$TMP/b.log"
}

# Two uanytun clients, sender ids 1 and 2 on mux 0, against one satpd without -r:
#
#   ns c1 (10.99.0.2) --- ul 10.77.1.0/24 ---+
#                                            +--- ns hub: satpd 10.99.0.1, -w 100
#   ns c2 (10.99.0.3) --- ul 10.77.2.0/24 ---+
test_two_clients() {
	[ -n "$FILTER" ] && [[ two-clients != *"$FILTER"* ]] && return 0
	log "row: two-clients"
	topo_star hub c1 c2
	start_bg hub hub.log "$SATPD" -U --xdp-mode off --state-dir "$TMP/state-hub" -e left -w 100 \
		-d tun0 -n "$IN_A/24" "${KEYV[@]}"
	local hpid=$LAST_PID
	wait_dev hub tun0 || fail "two-clients: no tun0 in the hub"
	start_bg c1 c1.log uanytun -D -L stdout:5 -i 10.77.1.2 -r 10.77.1.1 -s 1 -e right -d tun0 \
		-t tun -n 10.99.0.2/24 "${KEYV[@]}"
	start_bg c2 c2.log uanytun -D -L stdout:5 -i 10.77.2.2 -r 10.77.2.1 -s 2 -e right -d tun0 \
		-t tun -n 10.99.0.3/24 "${KEYV[@]}"
	wait_dev c1 tun0 && wait_dev c2 tun0 || fail "two-clients: no client tun0"
	# The hub answers whoever spoke last (anytun's one remote per connection).
	wait_ping c1 "$IN_A" 10 || fail "two-clients: c1 gets no answer"
	nsx c2 ping -c 3 -i 0.2 -W 2 -q "$IN_A" >/dev/null || fail "two-clients: c2 gets no answer"
	nsx c1 ping -c 3 -i 0.2 -W 2 -q "$IN_A" >/dev/null || fail "two-clients: c1 after c2"
	local replay senders
	replay=$(satpd_counter "$hpid" "$TMP/hub.log" rx_replay)
	senders=$(grep 'counters (' "$TMP/hub.log" | tail -n 1 | sed 's/.*, \([0-9]*\) sender.*/\1/')
	[ "$replay" -eq 0 ] || fail "two-clients: $replay datagrams taken for replays"
	[ "$senders" = 2 ] || fail "two-clients: $senders replay windows, want one per sender id (2)"
	log "  two senders on mux 0: 2 windows, no replay drops"
}

lib_init
require_cmd uanytun anytun python3 ping
topo_pair a b
for row in "${ROWS[@]}"; do
	run_row "$(sed -e 's/ *| */|/g' -e 's/ *$//' <<<"$row")"
done
test_rejects
test_replay
test_restart
test_seq_end
test_two_clients
log "all rows passed"
