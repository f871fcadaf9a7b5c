#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The edges' replay-window exchange under a cluster key (--edge-key, satp genkey) and
# across a SIGKILL of one edge (satpd.8 --peer-edge, docs/anycast.md §8). A client
# datagram is forged here with the tunnel's keys (satp_forge: sender 7, a marker in
# its inner ICMP payload) so that the very same bytes can be sent to either edge; what
# an edge delivered is counted by its marker at that edge's tun0, never by a global
# counter. Each refusal is followed by a fresh datagram to the same edge that must be
# delivered: datagrams on one edge are taken in order, so once the fresh one is at the
# tun the replay had its chance.
#
#   netns st$$-a              netns st$$-b              netns st$$-c
#   satpd -s 1 (edge)         satpd -s 2 (edge)         satp_forge (the client,
#   ul0 10.77.0.1             ul0 10.77.0.2             ul0 10.77.0.3  sender 7)
#   tun0 10.99.0.1            tun0 10.99.0.1
#         |                         |                         |
#   ------+------- one Ethernet segment (bridge in st$$-a-sw) +------
#   edges exchange windows on 10.77.0.{1,2}:EPORT every 100 ms, keyed by $TMP/edge.key
#
# Rows:
#   key      both edges log that they receive the other's windows, and neither derived
#            the exchange key from the tunnel's (--edge-key is what they use)
#   live     a datagram a accepted is refused by b (b merged a's window)
#   killed   b is SIGKILLed; a accepts a datagram while b is down; b restarts on its state
#            directory: b's own earlier datagram is still refused (its windows file), the
#            one a accepted while b was down is refused too (a's full round answering b's
#            hello), and a takes b's messages again (the restarted b's stamps rise above
#            the old b's: edge_drop_replayed does not move) so a datagram b accepted after
#            its restart is refused by a. The exchange carries windows only: remotes are
#            learned by each edge from the client's own datagrams.
# EDGE_XDP_MODES="off native" (the default) runs the rows on both data paths: on XDP a
# replay must be refused by satp_rx before the daemon sees it (xdp_drop_replay or
# xdp_drop_too_old moves).
. "$(dirname "$0")/lib.sh"

K128=000102030405060708090a0b0c0d0e0f
SALT=a0a1a2a3a4a5a6a7a8a9aaabacad
SATP=$BUILD/satp
FORGE=$BUILD/tests/tools/satp_forge
PORT=4444
EPORT=4445
CLIENT=10.77.0.3
MODES=${EDGE_XDP_MODES:-off native}

lib_init
require_cmd tcpdump python3
for b in "$SATP" "$FORGE"; do
	[ -x "$b" ] || fail "$b not built (make tests)"
done
bpffs_init
topo_bridge a b c
umask 077
"$SATP" genkey >"$TMP/edge.key" || fail "satp genkey"
declare -A ADDR=([a]=10.77.0.1 [b]=10.77.0.2) PEER=([a]=10.77.0.2 [b]=10.77.0.1)
declare -A SID=([a]=1 [b]=2) PID=() STARTS=([a]=0 [b]=0)

# start_edge E MODE: satpd on edge E; its log is E-N.log for the Nth start (an old line
# cannot match), and a tcpdump on its tun0 records what it delivers, for the markers.
start_edge() {
	local e=$1 n
	n=$((STARTS[$e] + 1))
	STARTS[$e]=$n
	start_bg "$e" "$e-$n.log" "$SATPD" -D -L stdout:5 --xdp-mode "$2" --state-dir "$TMP/state-$e" \
		--pin-root "$TMP/bpf/$e" -i "${ADDR[$e]}" -p $PORT -r $CLIENT -o $PORT -s "${SID[$e]}" \
		-w 100 -e right -d tun0 -t tun -n 10.99.0.1/24 -K $K128 -A $SALT \
		--edge-listen "${ADDR[$e]}:$EPORT" --peer-edge "${PEER[$e]}:$EPORT" \
		--edge-key "$TMP/edge.key" --edge-interval 100
	PID[$e]=$LAST_PID
	LOG[$e]=$TMP/$e-$n.log
	wait_route_to "$e" 10.99.0.2 10 || fail "$e: no tun0: $(cat "${LOG[$e]}")"
	start_bg "$e" "tcpdump-$e-$n.log" tcpdump -Z root -n -U --immediate-mode -Q in -i tun0 \
		-w "$TMP/tun-$e-$n.pcap" icmp
	wait_log "$TMP/tcpdump-$e-$n.log" 'listening on' 10 || fail "tcpdump on $e's tun0 did not start"
	CAP[$e]=$TMP/tun-$e-$n.pcap
}
declare -A LOG=() CAP=()

# send E SEQ MARKER: the client's datagram with this seq and marker, to edge E. The same
# seq and marker give the same bytes: sent twice, it is a replay.
send() {
	nsx c "$FORGE" --to "${ADDR[$1]}" --port $PORT --key $K128 --salt $SALT --role left \
		--sid 7 --seq "$2" "$(icmp_echo_hex 10.99.0.2 10.99.0.1 "<$3>")" >/dev/null || fail "satp_forge to $1"
}

# marks E MARKER: how many packets with <MARKER> edge E's tun0 took in (this start of E);
# the brackets: no marker counts as another that it begins.
marks() { pcap_marks "${CAP[$1]}" "<$2>"; }

# delivered E SEQ MARKER: send, and wait until E's tun0 has it.
delivered() {
	send "$@"
	wait_at_least 1 10 marks "$1" "$3" >/dev/null ||
		fail "$1 did not deliver seq $2 ($3): $(tail -5 "${LOG[$1]}")"
}

# xdp_refused E: replays satp_rx dropped on E so far (0 on the socket path).
xdp_refused() {
	local n=0 c
	for c in xdp_drop_replay xdp_drop_too_old; do
		n=$((n + $(counter "$1" $c)))
	done
	echo "$n"
}

# refused E SEQ MARKER: resend an earlier datagram to E; then a fresh one (SEQ + 1) must
# be delivered, and the replay must not have been. On XDP, satp_rx dropped it: nothing
# else sends this edge a replay, so the count moves by this one.
refused() {
	local x0
	[ "$mode" = off ] || x0=$(xdp_refused "$1")
	send "$@"
	delivered "$1" $(($2 + 1)) "$3-after"
	[ "$(marks "$1" "$3")" -eq 0 ] || fail "$1 delivered seq $2 ($3), a replay"
	if [ "$mode" != off ]; then
		[ "$(xdp_refused "$1")" -gt "$x0" ] || fail "$1: seq $2 was refused, not by satp_rx in XDP"
	fi
}

# window_top E: edge E's window top for the client's sender 7 (0 while it has none).
window_top() {
	local n=${LOG[$1]##*/}
	nsx "$1" "$SATP" show --json --socket "$(ctl_sock "$1-${n%.log}")" 2>/dev/null |
		python3 -c 'import json, sys
def conns(o):
    if isinstance(o, dict):
        if "connections" in o and isinstance(o["connections"], list) and o["connections"] and "senders" in o["connections"][0]:
            return o["connections"]
        o = list(o.values())
    for v in o if isinstance(o, list) else []:
        r = conns(v)
        if r:
            return r
    return []
tops = [s.get("window_top", 0) for c in conns(json.load(sys.stdin)) for s in c.get("senders", []) if s.get("sender_id") == 7]
print(max(tops or [0]))'
}

# counter E NAME: one of E's counters, from a SIGUSR1 dump.
counter() { satpd_counter "${PID[$1]}" "${LOG[$1]}" "$2"; }

seq=0
for mode in $MODES; do
	log "---- data path: --xdp-mode $mode"
	STARTS=([a]=0 [b]=0)
	rm -rf "$TMP/state-a" "$TMP/state-b" "$TMP/bpf/a" "$TMP/bpf/b"
	start_edge a "$mode"
	start_edge b "$mode"
	# ---- key
	wait_log "${LOG[a]}" "receiving replay windows from edge 2" 10 || fail "$mode/key: a hears nothing from b"
	wait_log "${LOG[b]}" "receiving replay windows from edge 1" 10 || fail "$mode/key: b hears nothing from a"
	grep -q "exchange key derived" "${LOG[a]}" "${LOG[b]}" && fail "$mode/key: an edge derived its key"
	echo "ok   $mode/key: the edges exchange windows under the --edge-key cluster key"

	# ---- live
	delivered a $((seq + 10)) "live-$mode-$$"
	wait_at_least $((seq + 10)) 10 window_top b >/dev/null || fail "$mode/live: b did not merge a's window"
	refused b $((seq + 10)) "live-$mode-$$"
	echo "ok   $mode/live: a datagram a accepted is refused by b, and the next one delivered"

	# ---- killed: b SIGKILLed, a accepts while b is down, b restarts
	kill -KILL "${PID[b]}"
	wait "${PID[b]}" 2>/dev/null
	delivered a $((seq + 20)) "down-$mode-$$"
	drop0=$(counter a edge_drop_replayed)
	rx0=$(counter a edge_rx_msgs)
	start_edge b "$mode"
	wait_log "${LOG[b]}" "receiving replay windows from edge 1" 10 ||
		fail "$mode/killed: the restarted b hears nothing from a"
	wait_at_least $((rx0 + 5)) 10 counter a edge_rx_msgs >/dev/null ||
		fail "$mode/killed: a takes no messages from the restarted b"
	[ "$(counter a edge_drop_replayed)" -eq "$drop0" ] ||
		fail "$mode/killed: a dropped the restarted b's messages as replayed"
	wait_at_least $((seq + 20)) 10 window_top b >/dev/null ||
		fail "$mode/killed: the restarted b did not get what a accepted while it was down"
	refused b $((seq + 11)) "live-$mode-$$-after" # b's own, before the SIGKILL
	refused b $((seq + 20)) "down-$mode-$$"
	delivered b $((seq + 30)) "back-$mode-$$"
	wait_at_least $((seq + 30)) 10 window_top a >/dev/null || fail "$mode/killed: a did not merge the restarted b's window"
	refused a $((seq + 30)) "back-$mode-$$"
	echo "ok   $mode/killed: after b's SIGKILL and restart, b refuses its own and a's datagrams," \
		"and a refuses what the new b accepted"
	for e in a b; do
		stop_pid "${PID[$e]}"
	done
	seq=$((seq + 1000))
done
echo PASS
