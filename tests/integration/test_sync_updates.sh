#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# satpd as an anytun sync client beyond the first record (satpd.8 -X, -M): records
# from two servers at once (-M a list), an update to a connection it already has
# (new remote, new key) while connected, and a server that dies (SIGKILL) and comes
# back with changed records: satpd reconnects (10 s after the loss, as anytun) and
# takes the full resend. Records are anytun-config's own output, served by
# fake_controld.py, which also sends lines appended to its file while connected.
#
#   netns st$$-sync (lo only)
#   +----------------------------------------------------------------------+
#   | fake_controld 127.0.0.1:P1  (mux 1, later mux 1 changed and mux 3)    |
#   | fake_controld 127.0.0.1:P2  (mux 2)                                   |
#   |       ^ TCP            ^ TCP                                          |
#   | satpd -M 127.0.0.1:P1,127.0.0.1:P2 --xdp-mode off -i 127.0.0.1 -p 4460 |
#   |   tun0 10.97.0.1/24            <- satp_forge (datagrams sealed with a  |
#   |                                   record's key, a marker inside)       |
#   +----------------------------------------------------------------------+
#
# Rows (each checks satp show --json: muxes, remotes, the connections gauge, sync_refused 0;
# and that each connection delivers a datagram sealed with its record's key from an inner
# source in its record's route):
#   two-servers  mux 1 from P1 and mux 2 from P2, with their remotes and routes
#   update       a new record for mux 1 on the open connection: remote and key replaced;
#                a datagram under the old key is no longer delivered, one under the new is
#   reconnect    P1's server SIGKILLed; its file rewritten (mux 1 moves again, mux 3 is
#                new); the server restarted on the same port: satpd reconnects, mux 3 is
#                added, mux 1 has the newest remote, mux 2 (the other server's) unchanged
. "$(dirname "$0")/lib.sh"

SATP=$BUILD/satp
FORGE=$BUILD/tests/tools/satp_forge
FAKE=$LIB_DIR/fake_controld.py
SALT=a0a1a2a3a4a5a6a7a8a9aaabacad
KEY_A=000102030405060708090a0b0c0d0e0f
KEY_B=101112131415161718191a1b1c1d1e1f
P1=$((23300 + $$ % 500))
P2=$((P1 + 1))
# satpd reconnects 10 s after losing its server (SATP_SYNC_RECONNECT_MS): a margin on top.
RECONNECT_S=30

lib_init
require_cmd anytun-config python3
for b in "$SATP" "$FORGE"; do
	[ -x "$b" ] || fail "$b not built (make tests)"
done
ns_create sync
SOCK=$(ctl_sock sync-satpd)

# record MUX REMOTE PORT KEY ROUTE: one anytun-config frame.
record() {
	anytun-config -r "$2" -o "$3" -m "$1" -w 64 -K "$4" -A $SALT -R "$5" 2>>"$TMP/config.err" ||
		fail "anytun-config: $(cat "$TMP/config.err")"
}

# start_fake N: the fake controller for server N (file $TMP/sN.frames, port P<N>).
declare -A FAKE_PID=() FAKE_STARTS=()
start_fake() {
	local n=$1 port k
	port=$((P1 + n - 1))
	k=$((${FAKE_STARTS[$n]:-0} + 1))
	FAKE_STARTS[$n]=$k
	start_bg sync "fake$n-$k.log" /usr/bin/python3 "$FAKE" "$TMP/s$n.frames" "$port"
	FAKE_PID[$n]=$LAST_PID
	FAKE_LOG[$n]=$TMP/fake$n-$k.log
	wait_log "${FAKE_LOG[$n]}" listening 10 || fail "fake controller $n: $(cat "${FAKE_LOG[$n]}")"
}
declare -A FAKE_LOG=()

# show: satpd's state as JSON in $TMP/show.json.
show() {
	nsx sync "$SATP" show --json --socket "$SOCK" >"$TMP/show.json" 2>&1 ||
		fail "satp show: $(cat "$TMP/show.json")"
}

# expect 'MUX=REMOTE ...': the connections (remote host:port each) are exactly these, the
# connections gauge says so, and nothing was refused. (Routes are shown from the pinned XDP
# tries only: here, on the socket path, delivers proves them by their effect.)
expect() {
	show
	python3 - "$TMP/show.json" "$@" <<'EOF' || fail "$TAG: satpd's state:$(sed 's/^/\n  /' "$TMP/show.json")"
import json, sys
def find(o, key):
    if isinstance(o, dict):
        if key in o and o[key] is not None:
            return o[key]
        o = list(o.values())
    for v in o if isinstance(o, list) else []:
        r = find(v, key)
        if r is not None:
            return r
j = json.load(open(sys.argv[1]))
want = dict(w.split("=") for w in sys.argv[2].split())
conns = {str(c["mux"]): c for c in find(j, "connections")}
assert sorted(conns) == sorted(want), f"muxes {sorted(conns)}, want {sorted(want)}"
for m, remote in want.items():
    assert conns[m]["remote"] == remote, f"mux {m}: remote {conns[m]['remote']}, want {remote}"
counters = find(j, "counters")
assert counters["connections"] == len(want), f"connections gauge {counters['connections']}"
assert counters["sync_refused"] == 0, f"sync_refused {counters['sync_refused']}"
EOF
}

# marks MARKER: how many packets with <MARKER> the tun took in.
marks() { pcap_marks "$TMP/tun.pcap" "<$1>"; }
# forge MUX KEY SEQ MARKER: a datagram of the client side of MUX (role right, sender 9),
# its inner source in MUX's route 10.MUX.0.0/16.
forge() {
	nsx sync "$FORGE" --to 127.0.0.1 --port 4460 --key "$2" --salt $SALT --role right \
		--mux "$1" --sid 9 --seq "$3" "$(icmp_echo_hex "10.$1.0.2" 10.97.0.1 "<$4>")" >/dev/null ||
		fail "satp_forge mux $1"
}

# delivers MUX KEY SEQ MARKER: a datagram sealed with KEY for MUX, its inner source in MUX's
# route, reaches tun0 (the key and the route are MUX's: with several connections an inner
# source no route names for MUX is dropped, rx_foreign_src).
delivers() {
	forge "$@"
	wait_at_least 1 10 marks "$4" >/dev/null || fail "$TAG: mux $1 does not deliver under key $2"
}

# ---- two-servers
TAG=two-servers
record 1 10.200.0.11 4444 $KEY_A 10.1.0.0/16 >"$TMP/s1.frames"
record 2 10.200.0.12 4444 $KEY_A 10.2.0.0/16 >"$TMP/s2.frames"
start_fake 1
start_fake 2
start_bg sync satpd.log "$SATPD" -D -L stdout:5 --xdp-mode off --state-dir "$TMP/state" \
	-i 127.0.0.1 -p 4460 -d tun0 -t tun -n 10.97.0.1/24 -M "127.0.0.1:$P1,127.0.0.1:$P2"

for m in 1 2; do
	wait_log "$TMP/satpd.log" "sync: connection mux $m added" 10 ||
		fail "$TAG: mux $m did not arrive: $(grep sync "$TMP/satpd.log")"
done
expect "1=10.200.0.11:4444 2=10.200.0.12:4444"
start_bg sync tcpdump.log tcpdump -Z root -n -U --immediate-mode -Q in -i tun0 -w "$TMP/tun.pcap" icmp
wait_log "$TMP/tcpdump.log" 'listening on' 10 || fail "tcpdump on tun0 did not start"
delivers 1 $KEY_A 1 "mux1-$$"
delivers 2 $KEY_A 1 "mux2-$$"
# An authenticated datagram moves a connection's remote to its source (as anytun): mux 2's
# is now satp_forge's; the rows below expect it to stay so (no record of theirs names mux 2).
show
M2=$(python3 -c 'import json, sys
for d in json.load(open(sys.argv[1]))["daemons"]:
    for c in d["connections"]:
        if c["mux"] == 2:
            print(c["remote"])' "$TMP/show.json")
case $M2 in 127.0.0.1:*) ;; *) fail "$TAG: mux 2 did not learn the datagram's source: '$M2'" ;; esac
echo "ok   two-servers: -M with two servers: a connection and a route from each"

# ---- update, on the open connection
TAG=update
record 1 10.200.0.21 5555 $KEY_B 10.1.0.0/16 >>"$TMP/s1.frames"
wait_log "$TMP/satpd.log" "sync: connection mux 1 updated" 10 ||
	fail "$TAG: no update of mux 1: $(grep sync "$TMP/satpd.log"; cat "${FAKE_LOG[1]}")"
expect "1=10.200.0.21:5555 2=$M2"
forge 1 $KEY_A 2 "old-key-after-$$"
delivers 1 $KEY_B 3 "new-key-$$"
[ "$(marks "old-key-after-$$")" -eq 0 ] || fail "$TAG: mux 1's replaced key still delivers"
echo "ok   update: a new record for mux 1 on the open connection replaces its remote and its key"

# ---- reconnect
TAG=reconnect
kill -KILL "${FAKE_PID[1]}"
wait "${FAKE_PID[1]}" 2>/dev/null
wait_log "$TMP/satpd.log" "sync: .*server closed the connection" 10 ||
	fail "$TAG: satpd did not notice its server went: $(grep sync "$TMP/satpd.log")"
{
	record 1 10.200.0.31 6666 $KEY_B 10.1.0.0/16
	record 3 10.200.0.13 4444 $KEY_A 10.3.0.0/16
} >"$TMP/s1.frames"
start_fake 1
wait_log "$TMP/satpd.log" "sync: connection mux 3 added" $RECONNECT_S ||
	fail "$TAG: no resend after the server came back: $(grep sync "$TMP/satpd.log")"
wait_log "${FAKE_LOG[1]}" "sent $(grep -c . "$TMP/s1.frames")" 5 || fail "$TAG: the server did not resend: $(cat "${FAKE_LOG[1]}")"
expect "1=10.200.0.31:6666 2=$M2 3=10.200.0.13:4444"
delivers 3 $KEY_A 1 "mux3-$$"
delivers 1 $KEY_B 10 "mux1-again-$$"
delivers 2 $KEY_A 10 "mux2-again-$$"
[ "$(grep -c "connected" "${FAKE_LOG[2]}")" -eq 1 ] || fail "$TAG: the other server's connection was dropped"
echo "ok   reconnect: the server SIGKILLed and restarted: satpd reconnects, takes the resend" \
	"(mux 3 added, mux 1 moved again), the other server's mux 2 untouched"
echo PASS
