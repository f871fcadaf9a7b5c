# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# What the RAIL tests share (test_rail.sh: paths by port, test_rail_hosts.sh: paths by remote
# host): random loss per link with nftables, a UDP stream from ns a to ns b counting what
# arrives and what arrives twice, the per-path counter dump. Sourced after lib.sh; uses
# UDP_N (datagrams a stream sends), IN_B (b's tunnel address), RAIL_IFS (each side's links),
# RAIL_DPORTS (the SATP ports loss applies to).

# rail_nft_init: a netdev table with an egress chain per link on both sides, or skip.
# Loss on a link as the sender cannot see it: nftables' egress hook of each veth (a drop in
# the output hook would fail the sendmsg, which a sender may answer by sending again).
rail_nft_init() {
	local n i
	for n in a b; do
		for i in $RAIL_IFS; do
			nsx $n nft add table netdev rail$i ||
				skip "nft cannot create a netdev table in a namespace"
			nsx $n nft add chain netdev rail$i out "{ type filter hook egress device $i priority 0; }" ||
				skip "no nftables egress hook in this kernel (CONFIG_NETFILTER_EGRESS)"
		done
	done
}

# loss SIDE IF PERCENT: drop that share of the side's datagrams leaving by IF (100: cut).
loss() {
	if [ "$3" -ge 100 ]; then
		nsx "$1" nft add rule netdev "rail$2" out udp dport "$RAIL_DPORTS" counter drop
	else
		nsx "$1" nft add rule netdev "rail$2" out udp dport "$RAIL_DPORTS" \
			numgen random mod 100 '<' "$3" counter drop
	fi
}
# loss_applied SIDE: after a stream at 20% loss per link, each of SIDE's links dropped about a
# fifth of the UDP_N datagrams it carried (600 of 3000: at least half of that, 300, is more
# than 10 standard deviations below): the loss the stream's bound was measured against was
# there. Logs the drops.
loss_applied() {
	local i d out=""
	for i in $RAIL_IFS; do
		d=$(nsx "$1" nft list chain netdev "rail$i" out | grep -o 'packets [0-9]*' | awk '{ s += $2 } END { print s + 0 }')
		[ "$d" -ge $((UDP_N / 10)) ] || fail "$1's nftables dropped $d datagrams on $i (want >= $((UDP_N / 10)))"
		out="$out $i $d"
	done
	log "$1's nftables drops:$out"
}

clear_loss() {
	local n i
	for n in a b; do
		for i in $RAIL_IFS; do
			nsx $n nft flush chain netdev "rail$i" out
		done
	done
}

# rail_udp_rx: a UDP receiver on b counting datagrams and repeated indexes until told to stop.
rail_udp_rx() {
	start_bg b udp_rx.log python3 -c '
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
s.bind(("'$IN_B'", 9999))
print("ready", flush=True)
seen, dups, done = set(), 0, set()
while True:
    b = s.recv(2048)
    if b.startswith(b"report:"):
        if b not in done:
            print("%s received %d dups %d" % (b[7:].decode(), len(seen), dups), flush=True)
            done.add(b)
            seen, dups = set(), 0
        continue
    i = struct.unpack("!I", b[:4])[0]
    if i in seen:
        dups += 1
    seen.add(i)
'
	wait_log "$TMP/udp_rx.log" '^ready' 10 || fail "the UDP receiver on b did not start: $(cat "$TMP/udp_rx.log")"
}

tun_rx() { nsx b cat /sys/class/net/tun0/statistics/rx_packets; }

# udp_stream LABEL TAG: UDP_N datagrams a -> b paced at ~5000/s; sets RECV DUPS TUN_DELTA LOSS.
udp_stream() {
	local before after line
	before=$(tun_rx)
	nsx a python3 -c '
import socket, struct, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range('"$UDP_N"'):
    s.sendto(struct.pack("!I", i) + b"r" * 200, ("'$IN_B'", 9999))
    if i % 50 == 49:
        time.sleep(0.01)
time.sleep(0.5)
'
	# The report itself may be lost on the lossy paths: ask until it comes.
	for _ in $(seq 1 20); do
		nsx a python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"report:'"$2"'", ("'$IN_B'", 9999))'
		sleep 0.3
		grep -q "^$2 received" "$TMP/udp_rx.log" && break
	done
	line=$(grep "^$2 received" "$TMP/udp_rx.log" | head -n 1)
	[ -n "$line" ] || fail "$1: the UDP receiver did not report"
	after=$(tun_rx)
	RECV=$(echo "$line" | awk '{ print $3 }')
	DUPS=$(echo "$line" | awk '{ print $5 }')
	TUN_DELTA=$((after - before))
	LOSS=$(awk -v n="$UDP_N" -v r="$RECV" 'BEGIN { printf "%.2f", 100 * (n - r) / n }')
	log "$1: sent $UDP_N, received $RECV (loss $LOSS%), duplicates at the receiver $DUPS," \
		"far tun rx_packets +$TUN_DELTA"
	[ "$DUPS" -eq 0 ] || fail "$1: $DUPS duplicates reached the inner device"
	# The tun also carries the TCP/ping-free reports: a few beyond UDP_N at most, never 2x.
	[ "$TUN_DELTA" -le $((UDP_N + 25)) ] || fail "$1: the far tun got $TUN_DELTA packets for $UDP_N sent"
}

rail_counters() { # PID LOG [PATHS]: per-path lines of a fresh counter dump
	satpd_dump "$1" "$2"
	grep 'rail path' "$2" | tail -n "${3:-2}"
}

