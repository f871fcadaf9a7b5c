#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The interface for an external key exchange (docs/kx.md): two satpd start
# with placeholder keys that do not agree (nothing passes), the example
# key-exchange client (scripts/kx-example.py, one per satpd) exchanges its
# messages through the satpd ports (kx socket) and installs the session keys
# through the control socket (op=set-session); then ping and a TCP transfer
# pass. A second session replaces the first under a ping flood (none
# lost, as docs/kx.md promises); del-session stops the traffic (counted on both sides); a third
# session restarts it. The kx socket refuses a non-external type and a
# forged SATP datagram (counted, with the reason quoted back), a second
# subscriber; with no subscriber external datagrams are counted as dropped,
# and for a client that does not read, what exceeds its queue is. Bad
# set-session input is refused with a message quoting it.
#
#   netns st$$-a                                   netns st$$-b
#   +---------------------------------+            +---------------------------------+
#   | satpd --xdp-mode off  -e left   |   veth     | satpd --xdp-mode off -e right   |
#   |   tun0 10.99.0.1  port 4444     |<---------->|   tun0 10.99.0.2  port 4444     |
#   |   $TMP/run/a.sock, a.kx.sock    |  ul0       |   $TMP/run/b.sock, b.kx.sock    |
#   | kx-example.py respond           |            | kx-example.py initiate          |
#   +---------------------------------+            +---------------------------------+
#
# The first pair runs --xdp-mode off (the socket path). Then a second pair
# whose receiver runs satp_rx: the key exchange's messages reach satpd through
# XDP (pass-handshake), and the first session sets the mux's
# SATP_XDP_CONN_NO_PREFILTER (sessions restart their seqs at 0).
. "$(dirname "$0")/lib.sh"

SATP=$BUILD/satp
KX=$REPO_ROOT/scripts/kx-example.py
PORT=4444
MUX=0

lib_init
require_cmd python3 ping
[ -x "$SATP" ] || fail "$SATP not built"
topo_pair a b
mkdir -m 755 "$TMP/run"
chmod 755 "$TMP"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TMP/psk"
chmod 600 "$TMP/psk"

rnd() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }
for side in a b; do
	if [ $side = a ]; then args=(-i "$UL4_1" -r "$UL4_2" -e left -s 1 -n 10.99.0.1/24)
	else args=(-i "$UL4_2" -r "$UL4_1" -e right -s 2 -n 10.99.0.2/24); fi
	# placeholder keys, different on each side: nothing verifies until a session is installed
	start_bg $side satpd-$side.log "$SATPD" -U --xdp-mode off --state-dir "$TMP/state-$side" \
		--ctl-socket "$TMP/run/$side.sock" -p $PORT -o $PORT -w 64 -m $MUX -d tun0 -t tun \
		-K "$(rnd 16)" -A "$(rnd 14)" "${args[@]}"
	eval "PID_$side=$LAST_PID"
done
for side in a b; do
	wait_dev $side tun0 || fail "no tun0 in $side: $(cat "$TMP"/satpd-*.log)"
	wait_log "$TMP/satpd-$side.log" "kx socket $TMP/run/$side.kx.sock" ||
		fail "$side: no kx socket: $(cat "$TMP/satpd-$side.log")"
done
[ "$(stat -c %a "$TMP/run/a.kx.sock")" = 660 ] || fail "kx socket mode $(stat -c %a "$TMP/run/a.kx.sock")"
nsx b ping -c 2 -W 1 -q 10.99.0.1 >/dev/null 2>&1 && fail "placeholder keys let ping through"
echo "ok   two satpd with disagreeing placeholder keys: no traffic, kx sockets beside the control sockets"

counter() { satpd_counter "$1" "$TMP/satpd-$2.log" "$3"; } # counter PID SIDE NAME

# external DATAGRAM_HEX ADDR: a raw UDP datagram from b's namespace to ADDR:PORT
external() {
	nsx b python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.sendto(bytes.fromhex(sys.argv[1]),(sys.argv[2],int(sys.argv[3])))' "$1" "$2" $PORT
}
before=$(counter "$PID_a" a kx_rx_no_client)
# type 1 first: satpd reads the socket in order, so once the 3 after it are counted it was judged
external 010100000000ffff00 "$UL4_1" # type 1: satpd's own handshake, not relayed
for _ in 1 2 3; do external 800100000000ffff00 "$UL4_1"; done
after=$(wait_at_least $((before + 3)) 10 counter "$PID_a" a kx_rx_no_client)
[ $((after - before)) -eq 3 ] || fail "no subscriber: kx_rx_no_client went $before -> $after, want +3"
echo "ok   no kx client: the 3 external datagrams are counted as dropped (kx_rx_no_client), type 1 is not"

# ---------------------------------------------------------------- first session
kxargs() { printf '%s\n' --kx-socket "$TMP/run/$1.kx.sock" --ctl-socket "$TMP/run/$1.sock" \
	--mux $MUX --psk-file "$TMP/psk"; }
mapfile -t KA < <(kxargs a)
mapfile -t KB < <(kxargs b)
start_bg a kx-a.log python3 "$KX" respond "${KA[@]}" --grace 4
KXA=$LAST_PID
wait_log "$TMP/kx-a.log" "responding" || fail "responder did not start: $(cat "$TMP/kx-a.log")"
nsx b python3 "$KX" initiate "${KB[@]}" --peer "$UL4_1:$PORT" --session 1 --grace 0 >"$TMP/kx-b.log" 2>&1 ||
	fail "session 1: $(cat "$TMP/kx-b.log" "$TMP/kx-a.log")"
wait_log "$TMP/kx-a.log" "session 1 installed" || fail "responder installed nothing: $(cat "$TMP/kx-a.log")"
wait_ping b 10.99.0.1 10 || fail "no ping under session 1: $(tail -20 "$TMP"/satpd-*.log)"
nsx b ping -c 20 -i 0.05 -q 10.99.0.1 >"$TMP/ping1" || fail "ping lost packets: $(cat "$TMP/ping1")"
tcp_transfer b a 10.99.0.1 2 >"$TMP/tcp1" || fail "TCP transfer under session 1"
relayed=$(counter "$PID_a" a kx_rx_relayed) sent=$(counter "$PID_a" a kx_tx_sent)
[ "$relayed" -ge 1 ] && [ "$sent" -ge 1 ] || fail "a relayed $relayed and sent $sent kx datagrams"
echo "ok   session 1 agreed through the satpd ports (a relayed $relayed, sent $sent), installed; ping, TCP $(cat "$TMP/tcp1")"

# session_of SIDE: the session satpd sends with, from the control socket's snapshot
session_of() {
	nsx "$1" "$SATP" show --json --socket "$TMP/run/$1.sock" 2>/dev/null |
		python3 -c 'import json,sys; d=json.load(sys.stdin); c=(d.get("daemons") or d["interfaces"])[0]; c=c.get("daemon", c)["connections"][0]; print(c["counters"]["session"], c["counters"]["session_removed"])'
}
[ "$(session_of a)" = "1 0" ] && [ "$(session_of b)" = "1 0" ] ||
	fail "show: a has session '$(session_of a)', b '$(session_of b)', want '1 0'"

# ---------------------------------------------------------------- replace under a flood
# tun_tx NS: packets NS's tun0 sent (into the tunnel): a flood is under way once it grows
tun_tx() { nsx "$1" cat /sys/class/net/tun0/statistics/tx_packets; }
tx0=$(tun_tx b)
nsx b ping -q -i 0.002 -c 3000 -W 1 10.99.0.1 >"$TMP/flood" 2>&1 &
FLOOD=$!
LIB_PIDS+=("$FLOOD")
wait_at_least $((tx0 + 200)) 10 tun_tx b >/dev/null || fail "the ping flood from b does not start"
nsx b python3 "$KX" initiate "${KB[@]}" --peer "$UL4_1:$PORT" --session 2 --grace 4 >>"$TMP/kx-b.log" 2>&1 ||
	fail "session 2: $(cat "$TMP/kx-b.log")"
wait "$FLOOD"
tx=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$TMP/flood")
rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$TMP/flood")
[ -n "$tx" ] && [ -n "$rx" ] || fail "ping flood: $(cat "$TMP/flood")"
# docs/kx.md: both ends installing within half the grace period lose nothing
[ $((tx - rx)) -eq 0 ] || fail "session 2 replaced session 1 losing $((tx - rx)) of $tx pings"
for side in a b; do
	for _ in $(seq 30); do [ "$(session_of $side)" = "2 0" ] && break; sleep 0.2; done
	[ "$(session_of $side)" = "2 0" ] || fail "$side sends with session '$(session_of $side)', want 2"
done
nsx b ping -c 10 -i 0.05 -q 10.99.0.1 >/dev/null || fail "ping lost packets under session 2"
echo "ok   session 2 replaced session 1 under $tx pings at 500/s: $((tx - rx)) lost (seqs restart at 0, fresh windows)"

# ---------------------------------------------------------------- the kx socket's refusals
nsx a python3 - "$TMP/run/a.kx.sock" <<'EOF' >"$TMP/busy" 2>&1 || fail "second subscriber: $(cat "$TMP/busy")"
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.settimeout(3)
r = s.recv(4096)
kind, _, _, _, value = struct.unpack_from("!BBH16sI", r)
assert kind == 4 and value == 16, (kind, value)  # ERROR, EBUSY
assert b"kx client already" in r[24:], r[24:]
EOF
kill "$KXA" && wait "$KXA" 2>/dev/null
wait_log "$TMP/satpd-a.log" "kx: client pid .* gone" || fail "a did not notice the client leave"
bad_b=$(counter "$PID_b" b rx_bad_tag)
nsx a python3 - "$TMP/run/a.kx.sock" "$UL4_2" $PORT <<'EOF' >"$TMP/refuse" 2>&1 || fail "refusals: $(cat "$TMP/refuse")"
import ipaddress, socket, struct, sys
REC = struct.Struct("!BBH16sI")
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.settimeout(3)
kind, _, _, _, value = REC.unpack_from(s.recv(4096))
assert kind == 1 and value == 1, ("hello", kind, value)
to = ipaddress.IPv6Address("::ffff:" + sys.argv[2]).packed
port = int(sys.argv[3])

def tx(payload, kind=3, version=1):
    s.send(REC.pack(kind, version, port, to, 0) + payload)

def refused(what, payload, errno, text, **kw):
    tx(payload, **kw)
    r = s.recv(4096)
    k, _, _, _, v = REC.unpack_from(r)
    msg = r[REC.size:].decode()
    assert k == 4 and v == errno and text in msg, (what, k, v, msg)
    print(f"refused {what}: {msg}")

refused("type 1 (satpd's handshake)", bytes.fromhex("010100000000ffff") + bytes(143), 1,
        "01 01 00 00 00 00 ff ff: type 0x01 mux 0xffff")
# an SATP data packet: seq 7, sender 2, mux 0, a payload and a tag
refused("forged SATP data", bytes.fromhex("0000000700020000") + bytes(40), 1,
        "00 00 00 07 00 02 00 00: type 0x00 mux 0x0000")
refused("external type with mux 0", bytes.fromhex("8001000000000000"), 1, "mux 0x0000")
refused("short datagram", bytes.fromhex("80ffff"), 22, "shorter than the 8-byte handshake header")
refused("record kind", bytes.fromhex("800100000000ffff"), 22, "record kind 2", kind=2)
refused("too long", bytes.fromhex("800100000000ffff") + bytes(1500), 90, "longer than 1452")
tx(bytes.fromhex("800100000000ffff") + b"hello b")  # fine: goes out, no answer
s.settimeout(0.5)
try:
    r = s.recv(4096)
    raise SystemExit(f"an answer to a good TX: {r!r}")
except socket.timeout:
    pass
EOF
sed 's/^/  /' "$TMP/refuse"
refused=$(counter "$PID_a" a kx_tx_refused)
[ "$refused" -eq 6 ] || fail "a counted $refused refused kx datagrams, want 6"
for _ in $(seq 20); do
	[ "$(counter "$PID_b" b kx_rx_no_client)" -ge 1 ] && break
	sleep 0.2
done
[ "$(counter "$PID_b" b kx_rx_no_client)" -ge 1 ] || fail "b did not count the good datagram (no client there)"
[ "$(counter "$PID_b" b rx_bad_tag)" -eq "$bad_b" ] || fail "b took a kx datagram for SATP data"
echo "ok   kx socket refuses a second subscriber, non-external types, forged SATP data, bad records (6 counted, reasons quoted); a good one reaches b"

# A client that does not read: what exceeds its queue (SATPD_KX_QUEUE_BYTES) is dropped and
# counted, and the next record that reaches it says how many it lost.
dropped0=$(counter "$PID_a" a kx_rx_dropped) relayed0=$(counter "$PID_a" a kx_rx_relayed)
rm -f "$TMP/slow.ready" "$TMP/slow.go"
nsx a python3 - "$TMP/run/a.kx.sock" "$TMP/slow.ready" "$TMP/slow.go" >"$TMP/slow" 2>&1 <<'EOF' &
import os, socket, struct, sys, time
REC = struct.Struct("!BBH16sI")
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.settimeout(5)
assert REC.unpack_from(s.recv(4096))[0] == 1
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):  # the flood is sent while we do not read
    time.sleep(0.05)
s.settimeout(3)
got = 0
try:
    while True:
        r = s.recv(4096)
        kind, _, _, _, lost = REC.unpack_from(r)
        if r[REC.size:] == bytes.fromhex("800100000000ffff") + b"last":
            print(f"read {got} last-lost {lost}")
            break
        if not got:  # its queue has room again: the test sends "last"
            open(sys.argv[3] + ".reading", "w").close()
        got += 1
except socket.timeout:
    print(f"read {got} no-last")
EOF
SLOW=$!
LIB_PIDS+=("$SLOW")
for _ in $(seq 50); do [ -f "$TMP/slow.ready" ] && break; sleep 0.1; done
[ -f "$TMP/slow.ready" ] || fail "slow client did not subscribe: $(cat "$TMP/slow")"
nsx b python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(300):
    s.sendto(bytes.fromhex("800100000000ffff") + bytes(1000), (sys.argv[1], int(sys.argv[2])))
    if i % 20 == 19:
        time.sleep(0.005)  # paced: the losses are the kx queue, not the UDP socket
' "$UL4_1" $PORT
# satpd has judged the 300 (relayed or dropped); a datagram lost before satpd read it is
# neither, so under load the sum may stay short: then the deadline ends the wait
judged() { echo $(($(counter "$PID_a" a kx_rx_dropped) - dropped0 + $(counter "$PID_a" a kx_rx_relayed) - relayed0)); }
wait_at_least 300 10 judged >/dev/null
touch "$TMP/slow.go"
wait_until 10 test -f "$TMP/slow.go.reading" || fail "the slow client does not read: $(cat "$TMP/slow")"
external 800100000000ffff6c617374 "$UL4_1" # "last"
wait "$SLOW"
dropped=$(($(counter "$PID_a" a kx_rx_dropped) - dropped0))
relayed=$(($(counter "$PID_a" a kx_rx_relayed) - relayed0))
read -r _ got _ lost <"$TMP/slow" || fail "slow client: $(cat "$TMP/slow")"
# (a datagram lost before satpd read it would be neither: under load the sum may fall short)
[ "$dropped" -ge 1 ] && [ $((dropped + relayed)) -le 301 ] ||
	fail "300 + 1 datagrams to a slow client: $relayed relayed, $dropped dropped; client: $(cat "$TMP/slow")"
[ "$got" -eq $((relayed - 1)) ] && [ "$lost" = "$dropped" ] ||
	fail "the client read $got (satpd relayed $relayed) and was told of $lost lost ($dropped dropped)"
echo "ok   a client that does not read: $relayed of 301 relayed, $dropped dropped (kx_rx_dropped), the next record tells it $lost were lost"

# ---------------------------------------------------------------- bad set-session input
expect_refusal() { # expect_refusal TEXT ARGS...
	local want=$1
	shift
	if nsx b "$SATP" session "$@" --socket "$TMP/run/b.sock" >/dev/null 2>"$TMP/err"; then
		fail "satp session $* was accepted"
	fi
	grep -qF -- "$want" "$TMP/err" || fail "satp session $*: unclear refusal: $(cat "$TMP/err")"
}
K=$(rnd 16) S=$(rnd 14)
expect_refusal "invalid tx-key: expected 32, 48 or 64 hex digits, got 3 characters" \
	set $MUX tx-key abc tx-salt "$S" rx-key "$K" rx-salt "$S"
expect_refusal "invalid rx-salt: expected 28 hex digits, got 4 characters" \
	set $MUX tx-key "$K" tx-salt "$S" rx-key "$K" rx-salt 0102
expect_refusal "op=set-session needs rx-key=" set $MUX tx-key "$K" tx-salt "$S" rx-salt "$S"
expect_refusal "invalid session '-1'" set $MUX tx-key "$K" tx-salt "$S" rx-key "$K" rx-salt "$S" session -1
expect_refusal "no connection with mux 7" set 7 tx-key "$K" tx-salt "$S" rx-key "$K" rx-salt "$S"
expect_refusal "tx-key is 32 bytes and rx-key 16, but kd-prf aes-ctr-128 of mux 0 needs 16" \
	set $MUX tx-key "$(rnd 32)" tx-salt "$S" rx-key "$K" rx-salt "$S"
expect_refusal "key 'key' does not belong to op=set-session" set $MUX key "$K" tx-salt "$S"
expect_refusal "no connection with mux 9" del 9
grep -qF "$K" "$TMP"/satpd-*.log && fail "a key shows up in satpd's log"
[ "$(session_of b)" = "2 0" ] || fail "a refused set-session changed b's session: $(session_of b)"
echo "ok   satp session refuses bad keys, salts, a missing field, a bad session, unknown muxes, a key of the wrong length, quoting them (never a key)"

# ---------------------------------------------------------------- remove
nsx a "$SATP" session del $MUX --socket "$TMP/run/a.sock" || fail "session del on a"
bad_a=$(counter "$PID_a" a rx_bad_tag)
nsx b ping -c 5 -i 0.1 -W 1 -q 10.99.0.1 >/dev/null 2>&1 && fail "ping passed after a removed its session"
bad_a2=$(counter "$PID_a" a rx_bad_tag)
[ $((bad_a2 - bad_a)) -ge 5 ] || fail "a counted $((bad_a2 - bad_a)) bad tags for b's 5 pings"
nsx b "$SATP" session del $MUX --socket "$TMP/run/b.sock" || fail "session del on b"
nokeys=$(counter "$PID_b" b tx_no_keys)
nsx b ping -c 5 -i 0.1 -W 1 -q 10.99.0.1 >/dev/null 2>&1 && fail "ping passed after both removed their sessions"
nokeys2=$(counter "$PID_b" b tx_no_keys)
[ $((nokeys2 - nokeys)) -ge 5 ] || fail "b counted $((nokeys2 - nokeys)) tx_no_keys for 5 pings"
[ "$(session_of b)" = "0 1" ] || fail "b after del: '$(session_of b)', want '0 1'"
echo "ok   session del: traffic stops, a counts b's datagrams as bad tags (+$((bad_a2 - bad_a))), b its own as tx_no_keys (+$((nokeys2 - nokeys)))"

start_bg a kx-a2.log python3 "$KX" respond "${KA[@]}" --grace 4
wait_log "$TMP/kx-a2.log" "responding" || fail "responder did not restart: $(cat "$TMP/kx-a2.log")"
nsx b python3 "$KX" initiate "${KB[@]}" --peer "$UL4_1:$PORT" --session 3 --grace 4 >>"$TMP/kx-b.log" 2>&1 ||
	fail "session 3: $(cat "$TMP/kx-b.log" "$TMP/kx-a2.log")"
wait_ping b 10.99.0.1 5 || fail "no ping under session 3"
nsx b ping -c 10 -i 0.05 -q 10.99.0.1 >/dev/null || fail "ping lost packets under session 3"
[ "$(session_of a)" = "3 0" ] || fail "a after session 3: '$(session_of a)'"
echo "ok   session 3 after a removal: traffic flows at once (grace 4, nothing to wait for)"

# ---------------------------------------------------------------- re-installed session keys
# A session's seqs start at 0: its keys installed again would repeat keystream and accept the
# first installation's datagrams again. The same keys (either direction, also after a
# del-session) are refused, quoted by direction, and counted.
K3=$(rnd 16) S3=$(rnd 14) K4=$(rnd 16) S4=$(rnd 14)
reused0=$(counter "$PID_b" b kx_session_reused)
nsx b "$SATP" session set $MUX tx-key "$K3" tx-salt "$S3" rx-key "$K4" rx-salt "$S4" session 10 \
	grace 4 --socket "$TMP/run/b.sock" || fail "session 10 on b"
expect_refusal "mux 0 session 11: the tx key and salt were installed before" \
	set $MUX tx-key "$K3" tx-salt "$S3" rx-key "$K4" rx-salt "$S4" session 11
expect_refusal "mux 0 session 12: the tx key and salt were installed before" \
	set $MUX tx-key "$K4" tx-salt "$S4" rx-key "$K3" rx-salt "$S3" session 12
expect_refusal "mux 0 session 13: the rx key and salt were installed before" \
	set $MUX tx-key "$(rnd 16)" tx-salt "$S3" rx-key "$K4" rx-salt "$S4" session 13
nsx b "$SATP" session del $MUX --socket "$TMP/run/b.sock" || fail "session del on b (2)"
expect_refusal "mux 0 session 14: the tx key and salt were installed before" \
	set $MUX tx-key "$K3" tx-salt "$S3" rx-key "$(rnd 16)" rx-salt "$S4" session 14
reused=$(($(counter "$PID_b" b kx_session_reused) - reused0))
[ "$reused" -eq 4 ] || fail "kx_session_reused moved by $reused for 4 refusals"
grep -qF "$K3" "$TMP"/satpd-*.log && fail "a session key shows up in satpd's log"
echo "ok   the same session keys again (as sent, swapped, one direction, after del-session): refused, kx_session_reused +$reused"

# ---------------------------------------------------------------- XDP path
# A pair whose receiver c runs satp_rx (native XDP): static keys first, so that XDP's window
# of d's sender is far past 0; then session 7 agreed by the example clients, whose messages
# reach c's socket through XDP (pass-handshake, within the per-source budget), under a ping
# flood; then session 8 set by hand (satp session set). Sessions start their seqs at 0 again:
# the first one sets the mux's SATP_XDP_CONN_NO_PREFILTER, or XDP would drop them as too old.
bpffs_init
topo_pair c d
K=$(rnd 16) S=$(rnd 14)
start_bg c satpd-c.log "$SATPD" -U --xdp-mode native --pin-root "$TMP/bpf/c" --state-dir "$TMP/state-c" \
	--ctl-socket "$TMP/run/c.sock" -p $PORT -o $PORT -w 64 -d tun0 -t tun -K "$K" -A "$S" \
	-i "$UL4_1" -r "$UL4_2" -e left -s 1 -n 10.99.0.1/24
start_bg d satpd-d.log "$SATPD" -U --xdp-mode off --state-dir "$TMP/state-d" \
	--ctl-socket "$TMP/run/d.sock" -p $PORT -o $PORT -w 64 -d tun0 -t tun -K "$K" -A "$S" \
	-i "$UL4_2" -r "$UL4_1" -e right -s 2 -n 10.99.0.2/24
wait_dev c tun0 && wait_dev d tun0 || fail "no tun0: $(cat "$TMP"/satpd-[cd].log)"
# This half is about XDP: satpd c must have it (native, no fallback), by its own report.
wait_log "$TMP/satpd-c.log" "satpd [0-9.]* running" 10 || fail "c does not run: $(cat "$TMP/satpd-c.log")"
require_xdp_mode c "$TMP/run/c.sock" native "satpd c (the XDP receiver)"
wait_log "$TMP/satpd-c.log" "kx socket $TMP/run/c.kx.sock" || fail "c: no kx socket"
wait_ping d 10.99.0.1 10 || fail "no ping with static keys over XDP: $(tail "$TMP"/satpd-[cd].log)"
nsx d ping -q -i 0.005 -c 300 10.99.0.1 >/dev/null || fail "ping with static keys lost packets"
mapfile -t KC < <(kxargs c)
mapfile -t KD < <(kxargs d)
start_bg c kx-c.log python3 "$KX" respond "${KC[@]}" --grace 4
wait_log "$TMP/kx-c.log" "responding" || fail "responder on c did not start: $(cat "$TMP/kx-c.log")"

# flood_loss NS: pings lost by the flood whose output is in $TMP/flood.NS ("" if unreadable)
flood_loss() {
	local tx rx
	tx=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$TMP/flood.$1")
	rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$TMP/flood.$1")
	[ -n "$tx" ] && [ -n "$rx" ] && echo "$((tx - rx)) of $tx"
}
tx0=$(tun_tx d)
nsx d ping -q -i 0.005 -c 1200 -W 1 10.99.0.1 >"$TMP/flood.d" 2>&1 &
FLOOD=$!
LIB_PIDS+=("$FLOOD")
wait_at_least $((tx0 + 100)) 10 tun_tx d >/dev/null || fail "the ping flood from d does not start"
nsx d python3 "$KX" initiate "${KD[@]}" --peer "$UL4_1:$PORT" --session 7 --grace 4 >"$TMP/kx-d.log" 2>&1 ||
	fail "session 7 through XDP: $(cat "$TMP/kx-d.log" "$TMP/kx-c.log")"
wait "$FLOOD"
lost=$(flood_loss d)
[ -n "$lost" ] && [ "${lost%% *}" -eq 0 ] || fail "XDP path: session 7 took over losing: $(cat "$TMP/flood.d")"
grep -q "mux $MUX: sessions: XDP no longer pre-filters" "$TMP/satpd-c.log" || fail "c kept XDP's pre-filter"
for side in c d; do
	for _ in $(seq 30); do [ "$(session_of $side)" = "7 0" ] && break; sleep 0.2; done
	[ "$(session_of $side)" = "7 0" ] || fail "$side sends with session '$(session_of $side)', want 7"
done
nsx c "$SATP" show ul0 --json --pin-root "$TMP/bpf/c" >"$TMP/c.json" 2>&1 || fail "show c: $(cat "$TMP/c.json")"
python3 - "$TMP/c.json" <<'EOF' || fail "c's XDP did not pass the handshakes: $(cat "$TMP/c.json")"
import json, sys
x = json.load(open(sys.argv[1]))["interfaces"][0]["xdp"]["counters"]
assert x["pass-handshake"]["packets"] >= 1, x["pass-handshake"]
EOF
echo "ok   XDP receiver: static keys, then session 7 agreed through satp_rx (pass-handshake): $lost pings lost"

K1=$(rnd 16) S1=$(rnd 14) K2=$(rnd 16) S2=$(rnd 14)
nsx c "$SATP" session set $MUX tx-key "$K1" tx-salt "$S1" rx-key "$K2" rx-salt "$S2" session 8 \
	grace 4 --socket "$TMP/run/c.sock" || fail "session set on c"
nsx d "$SATP" session set $MUX tx-key "$K2" tx-salt "$S2" rx-key "$K1" rx-salt "$S1" session 8 \
	grace 4 --socket "$TMP/run/d.sock" || fail "session set on d"
nsx d ping -q -i 0.01 -c 400 -W 1 10.99.0.1 >"$TMP/flood.d" 2>&1
lost=$(flood_loss d)
[ -n "$lost" ] && [ "${lost%% *}" -eq 0 ] || fail "XDP path: session 8 took over losing: $(cat "$TMP/flood.d")"
for side in c d; do
	[ "$(session_of $side)" = "8 0" ] || fail "$side sends with session '$(session_of $side)', want 8"
done
echo "ok   session 8 by hand (satp session set on both): $lost pings lost"
echo PASS
