#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# satp_rx on a real veth, native then skb mode: SATP datagrams sent through the
# kernel's UDP stack reach the AF_XDP socket, datagrams of an unknown mux are
# dropped and counted, ping (v4, v6) and a TCP transfer on the same interface
# are untouched, the pinned maps dump with their BTF field names, and with the
# program left attached but no socket SATP is dropped (fail closed) while ping
# still works (open for the host), and a restarted receiver takes the program
# over with --replace and adopts the pinned maps. Handshake datagrams (mux
# 0xFFFF) reach a UDP socket on the SATP port byte for byte: a burst per source
# address on its own budget, the rest on the shared part of the ceiling of all
# sources (pass-hs-shared), since a source address can be spoofed.
#
#   netns satpxa-PID                         netns satpxb-PID
#   +---------------------------+            +-----------------------------------+
#   | xa-PID 10.201.0.1/24      |  veth      | xb-PID 10.201.0.2/24              |
#   |        fd00:201::1/64     |<---------->|        fd00:201::2/64             |
#   | satp_send, ping, TCP send |            | satp_rx (XDP) -> AF_XDP (xsk_rx)  |
#   +---------------------------+            +-----------------------------------+
#   pin root: a private bpffs mounted at a temp dir in the root namespace
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
TOOLS=$BUILD/tests/tools
ID=$$
NSA=satpxa-$ID
NSB=satpxb-$ID
IFA=xa-$ID
IFB=xb-$ID
PORT=4444
MUX=5
BADMUX=6
NSATP=100 # per family
NBAD=50
NHS=30 # handshake datagrams per family, sent at once: a burst (5), then the shared part
HS_BURST=5
TMP=
RXPID=
TCPPID=

skip() {
	echo "SKIP: $*"
	exit 77
}

fail() {
	echo "FAIL: $*"
	[ -n "$TMP" ] && [ -f "$TMP/rx.out" ] && sed 's/^/  rx: /' "$TMP/rx.out"
	[ -n "$TMP" ] && [ -f "$TMP/rx.err" ] && grep -v '^libbpf: ' "$TMP/rx.err" | sed 's/^/  rx: /'
	exit 1
}

cleanup() {
	[ -n "$RXPID" ] && kill "$RXPID" 2>/dev/null && wait "$RXPID" 2>/dev/null
	[ -n "$TCPPID" ] && kill "$TCPPID" 2>/dev/null && wait "$TCPPID" 2>/dev/null
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	if [ -n "$TMP" ]; then
		umount "$TMP/bpffs" 2>/dev/null
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || skip "needs root (netns, XDP)"
for t in ip ping python3 bpftool; do
	command -v "$t" >/dev/null || skip "$t not installed"
done
for b in xsk_rx satp_send; do
	[ -x "$TOOLS/$b" ] || fail "$TOOLS/$b not built (make tests)"
done

TMP=$(mktemp -d /tmp/satp-xdp-veth.XXXXXX)
mkdir "$TMP/bpffs"
mount -t bpf bpf "$TMP/bpffs" || skip "cannot mount a bpffs"
PINS=$TMP/bpffs/satpd/$IFB

{ ip netns add "$NSA" && ip netns add "$NSB"; } || fail "netns"
ip -n "$NSA" link add "$IFA" type veth peer name "$IFB" netns "$NSB" || fail "veth"
ip -n "$NSA" addr add 10.201.0.1/24 dev "$IFA"
ip -n "$NSB" addr add 10.201.0.2/24 dev "$IFB"
ip -n "$NSA" addr add fd00:201::1/64 dev "$IFA" nodad
ip -n "$NSB" addr add fd00:201::2/64 dev "$IFB" nodad
for ns in "$NSA" "$NSB"; do ip -n "$ns" link set lo up; done
ip -n "$NSA" link set "$IFA" up
ip -n "$NSB" link set "$IFB" up

# start_rx MODE [extra xsk_rx args]: attach and wait until the socket is registered;
# returns 77 (xsk_rx's reason in SKIP_WHY) when the kernel lacks the mode or AF_XDP.
start_rx() {
	local mode=$1
	shift
	rm -f "$TMP/ready"
	ip netns exec "$NSB" "$TOOLS/xsk_rx" --ifname "$IFB" --pin-root "$TMP/bpffs" --mode "$mode" \
		--port $PORT --addr 10.201.0.2 --addr fd00:201::2 --mux $MUX:10:0 \
		--seconds 60 --ready "$TMP/ready" "$@" >"$TMP/rx.out" 2>"$TMP/rx.err" &
	RXPID=$!
	for _ in $(seq 100); do
		[ -f "$TMP/ready" ] && return 0
		if ! kill -0 "$RXPID" 2>/dev/null; then
			wait "$RXPID"
			local rc=$?
			RXPID=
			[ $rc -eq 77 ] && { SKIP_WHY=$(grep SKIP "$TMP/rx.out"); return 77; }
			fail "xsk_rx ($mode) exited with $rc before it was ready"
		fi
		sleep 0.1
	done
	fail "xsk_rx ($mode) not ready after 10 s"
}

stop_rx() {
	kill -INT "$RXPID"
	wait "$RXPID"
	local rc=$?
	RXPID=
	[ $rc -eq 0 ] || fail "xsk_rx exited with $rc"
}

counter() { # counter NAME: from xsk_rx's closing report
	awk -v n="$1" '$1 == "counter" && $2 == n { print $3 }' "$TMP/rx.out"
}

check_btf_dump() {
	local out
	out=$(bpftool map dump pinned "$PINS/satp_conns" 2>&1) || fail "bpftool dump satp_conns: $out"
	for f in mux tag_len window_size; do
		grep -q "\"$f\"" <<<"$out" || fail "satp_conns dump lacks field $f: $out"
	done
	out=$(bpftool map dump pinned "$PINS/satp_cfg" 2>&1) || fail "bpftool dump satp_cfg: $out"
	grep -q '"attach_mode"' <<<"$out" || fail "satp_cfg dump lacks attach_mode: $out"
	out=$(bpftool map dump pinned "$PINS/satp_counters" 2>&1) || fail "dump satp_counters: $out"
	grep -q '"packets"' <<<"$out" || fail "satp_counters dump lacks packets: $out"
	echo "ok   bpftool map dump shows BTF field names (satp_conns, satp_cfg, satp_counters)"
}

tcp_transfer() {
	local bytes=1048576 got
	ip netns exec "$NSB" python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.201.0.2", 5555)); s.listen(1); s.settimeout(20)
open(sys.argv[1] + ".ready", "w").close()
c, _ = s.accept(); n = 0
while True:
    d = c.recv(65536)
    if not d: break
    n += len(d)
open(sys.argv[1], "w").write(str(n))' "$TMP/tcp.out" &
	TCPPID=$!
	wait_file "$TMP/tcp.out.ready" || fail "TCP listener not ready after 10 s"
	rm -f "$TMP/tcp.out.ready"
	ip netns exec "$NSA" python3 -c '
import socket
s = socket.create_connection(("10.201.0.2", 5555), timeout=10)
s.sendall(b"satp" * (1048576 // 4)); s.close()' || fail "TCP client"
	wait "$TCPPID"
	TCPPID=
	got=$(cat "$TMP/tcp.out" 2>/dev/null)
	[ "$got" = "$bytes" ] || fail "TCP transfer: $got of $bytes bytes"
}

host_traffic() {
	ip netns exec "$NSA" ping -c 3 -i 0.2 -W 2 10.201.0.2 >/dev/null || fail "ping v4 ($1)"
	ip netns exec "$NSA" ping -6 -c 3 -i 0.2 -W 2 fd00:201::2 >/dev/null || fail "ping v6 ($1)"
	tcp_transfer
	echo "ok   $1: ping v4/v6 and a 1 MiB TCP transfer unaffected"
}

wait_file() { # wait_file PATH: until it exists, 10 s at most
	for _ in $(seq 100); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

send() { # send ADDR MUX COUNT
	ip netns exec "$NSA" "$TOOLS/satp_send" --udp "$1" --port $PORT --mux "$2" --count "$3" \
		>/dev/null || fail "satp_send to $1"
}

# Handshakes: a UDP socket on the SATP port (as satpd's) gets each source's burst, unchanged.
handshakes() {
	local mode=$1 got
	ip netns exec "$NSB" python3 -c '
import socket, sys, select
port, want = int(sys.argv[2]), bytes.fromhex(sys.argv[3])
socks = []
for fam, addr in ((socket.AF_INET, "10.201.0.2"), (socket.AF_INET6, "fd00:201::2")):
    s = socket.socket(fam, socket.SOCK_DGRAM); s.bind((addr, port)); socks.append(s)
open(sys.argv[1] + ".ready", "w").close()
n, bad = [0, 0], 0
# the first datagram may take a while (the sender is a python started in a namespace on a
# loaded machine); after it, 1.5 s of silence ends the burst
wait = 20
while select.select(socks, [], [], wait)[0]:
    wait = 1.5
    for i, s in enumerate(socks):
        try:
            d = s.recv(2048, socket.MSG_DONTWAIT)
        except BlockingIOError:
            continue
        n[i] += 1
        bad += d != want
open(sys.argv[1], "w").write("%d %d %d" % (n[0], n[1], bad))' "$TMP/hs.out" $PORT "$(hs_msg)" &
	TCPPID=$!
	wait_file "$TMP/hs.out.ready" || fail "$mode: handshake receiver not ready after 10 s"
	ip netns exec "$NSA" python3 -c '
import socket, sys
msg, port = bytes.fromhex(sys.argv[1]), int(sys.argv[2])
for fam, addr in ((socket.AF_INET, "10.201.0.2"), (socket.AF_INET6, "fd00:201::2")):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    for _ in range(int(sys.argv[3])):
        s.sendto(msg, (addr, port))
    s.sendto(msg[:40], (addr, port))' "$(hs_msg)" $PORT $NHS || fail "$mode: handshake sender"
	wait "$TCPPID"
	TCPPID=
	rm -f "$TMP/hs.out.ready"
	read -r -a got <"$TMP/hs.out"
	# A source past its burst still gets the ceiling's shared part (250 of 500 by default).
	for i in 0 1; do
		[ "${got[$i]}" = $NHS ] ||
			fail "$mode: ${got[0]} (v4), ${got[1]} (v6) of $NHS handshakes reached the UDP socket"
	done
	[ "${got[2]}" = 0 ] || fail "$mode: ${got[2]} handshake datagrams arrived changed"
	echo "ok   $mode: handshakes: ${got[0]} (v4) and ${got[1]} (v6) of $NHS per source reached the UDP socket unchanged"
}

hs_msg() { # a 152-byte initiation-shaped datagram: type 1, version 1, mux 0xffff, filler
	printf '010100000000ffff'
	printf '%0288x' 0 | tr 0 a
}

# run_mode MODE: the rows of one attach mode; a mode the kernel lacks is a skipped row
# (SKIP-ROW: tests/run.sh fails it under CI=true unless tests/expected-skips lists it).
run_mode() {
	local mode=$1 want=$((2 * NSATP)) got
	start_rx "$mode" || { echo "SKIP-ROW $mode-mode: $SKIP_WHY"; return 0; }
	MODES_RUN="$MODES_RUN $mode"
	grep -E '^(attached|kernel):' "$TMP/rx.out" | sed "s/^/     /"
	grep -h 'satp-xdp: satp_rx attached' "$TMP/rx.err" | sed "s/^/     /"
	grep -q "^attached: mode $mode " "$TMP/rx.out" || fail "$mode: attached in another mode"
	grep -q "^kernel: mode $mode prog_id $(awk '$1 == "attached:" { print $7 }' "$TMP/rx.out")\$" \
		"$TMP/rx.out" || fail "$mode: the kernel reports another mode or program"
	[ "$mode" = native ] && check_btf_dump
	send 10.201.0.2 $MUX $NSATP
	send fd00:201::2 $MUX $NSATP
	send 10.201.0.2 $BADMUX $NBAD
	host_traffic "$mode"
	handshakes "$mode"
	# what was sent has been judged once satp_rx counted the last of it (then the report is whole)
	wait_packets REDIRECTED "$want" || fail "$mode: satp_rx redirected $(percpu_sum "$(reason_idx REDIRECTED)") of $want"
	stop_rx
	got=$(awk '$1 == "received:" { print $3 }' "$TMP/rx.out")
	[ "$got" = "$want" ] || fail "$mode: $got SATP datagrams reached the AF_XDP socket, want $want"
	[ "$(awk '$1 == "received:" { print $5 }' "$TMP/rx.out")" = 0 ] ||
		fail "$mode: non-SATP frames reached the AF_XDP socket"
	[ "$(counter redirected)" = "$want" ] || fail "$mode: redirected $(counter redirected)"
	[ "$(counter drop-unknown-mux)" -ge "$NBAD" ] ||
		fail "$mode: drop-unknown-mux $(counter drop-unknown-mux), want >= $NBAD"
	echo "ok   $mode: $got SATP datagrams reached AF_XDP, $NBAD of unknown mux dropped and counted"
	got=$(($(counter pass-handshake) + $(counter pass-hs-shared)))
	[ "$got" = $((2 * NHS)) ] || fail "$mode: handshakes counted $got, sent $((2 * NHS))"
	# a source's own budget ran out, so some went on the shared part; none was dropped
	[ "$(counter pass-hs-shared)" -ge 1 ] && [ "$(counter pass-handshake)" -ge $((2 * HS_BURST)) ] ||
		fail "$mode: pass-handshake $(counter pass-handshake), pass-hs-shared $(counter pass-hs-shared)"
	[ $(($(counter drop-hs-ratelimit) + $(counter drop-hs-ceiling))) = 0 ] ||
		fail "$mode: handshakes dropped within the ceiling"
	[ "$(counter drop-hs-too-short)" = 2 ] ||
		fail "$mode: drop-hs-too-short $(counter drop-hs-too-short), want 2"
	echo "ok   $mode: handshake verdicts add up: pass-handshake $(counter pass-handshake)," \
		"pass-hs-shared $(counter pass-hs-shared), drop-hs-too-short 2"
}

reason_idx() { # reason_idx NAME: the index of SATP_XDP_NAME in enum satp_xdp_reason (the shared header)
	local i
	i=$(awk '/^#define SATP_XDP_REASONS/,/SATP_XDP_REDIRECTED/' include/satp_xdp.h |
		grep -o 'X(SATP_XDP_[A-Z_]*' | grep -n "X(SATP_XDP_$1\$" | cut -d: -f1)
	echo $((i - 1))
}

wait_packets() { # wait_packets NAME WANT: until the pinned counter NAME reaches WANT (10 s)
	local idx
	idx=$(reason_idx "$1")
	for _ in $(seq 100); do
		[ "$(percpu_sum "$idx")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

percpu_sum() { # percpu_sum REASON-INDEX: packets of one counter from the pinned map
	bpftool -j map lookup pinned "$PINS/satp_counters" key "$1" 0 0 0 | python3 -c '
import json, sys
v = json.load(sys.stdin)
print(sum(c["value"]["packets"] for c in v["formatted"]["values"]))'
}

fail_closed() {
	local idx before after
	idx=$(reason_idx DROP_NO_SOCKET)
	start_rx "$MODE" --keep || fail "xsk_rx ($MODE --keep): $SKIP_WHY"
	stop_rx
	ip -n "$NSB" link show dev "$IFB" | grep -q 'xdp' || fail "--keep: satp_rx not left attached"
	before=$(percpu_sum $idx)
	send 10.201.0.2 $MUX 20
	ip netns exec "$NSA" ping -c 2 -i 0.2 -W 2 10.201.0.2 >/dev/null || fail "ping, no daemon"
	wait_packets DROP_NO_SOCKET $((before + 20))
	after=$(percpu_sum $idx)
	[ $((after - before)) -eq 20 ] || fail "no socket: drop-no-socket moved by $((after - before))"
	echo "ok   no daemon: 20 SATP datagrams dropped as no-socket, ping still answered"
}

map_id() {
	bpftool -j map show pinned "$PINS/$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'
}

# A second daemon finds the kept program: refuses by default, takes over with
# --replace, and adopts the pinned maps (same kernel objects: windows survive).
restart() {
	local win rc got
	win=$(map_id satp_windows)
	ip netns exec "$NSB" "$TOOLS/xsk_rx" --ifname "$IFB" --pin-root "$TMP/bpffs" --mode "$MODE" \
		--port $PORT --mux $MUX --seconds 1 >"$TMP/rx.out" 2>"$TMP/rx.err"
	rc=$?
	[ $rc -ne 0 ] || fail "attached over a kept satp_rx without --replace"
	grep -q 'already has satp_rx from an earlier run' "$TMP/rx.err" || fail "no clear error for a busy interface"
	start_rx "$MODE" --replace || fail "xsk_rx ($MODE --replace): $SKIP_WHY"
	local red0
	red0=$(percpu_sum "$(reason_idx REDIRECTED)") # the pinned counters carry over
	send 10.201.0.2 $MUX 10
	wait_packets REDIRECTED $((red0 + 10)) || fail "after --replace: satp_rx redirected none of 10"
	stop_rx
	got=$(awk '$1 == "received:" { print $3 }' "$TMP/rx.out")
	[ "$got" = 10 ] || fail "after --replace: $got of 10 SATP datagrams reached AF_XDP"
	[ "$(map_id satp_windows)" = "$win" ] || fail "satp_windows was recreated, not adopted"
	ip -n "$NSB" link show dev "$IFB" | grep -q 'xdp' && fail "--replace run left satp_rx attached"
	echo "ok   restart: busy interface refused, --replace took over, pinned maps adopted (satp_windows id $win)"
}

# Maps pinned by something else (another satpd version): state (the window index) is refused, and
# said why; configuration (satp_cfg) is replaced with a warning, since every start writes it anew.
foreign_pins() {
	local dir=$TMP/bpffs/satpd/xf-$ID
	mkdir -p "$dir"
	bpftool map create "$dir/satp_cfg" type array key 4 value 8 entries 1 name satp_cfg ||
		fail "bpftool map create"
	bpftool map create "$dir/satp_win_idx" type hash key 4 value 8 entries 1 name satp_win_idx ||
		fail "bpftool map create"
	ip netns exec "$NSB" "$TOOLS/xsk_rx" --ifname "xf-$ID" --pin-root "$TMP/bpffs" \
		--port $PORT --mux $MUX --seconds 1 >"$TMP/rx.out" 2>"$TMP/rx.err" &&
		fail "loaded over an incompatible pinned satp_win_idx"
	grep -q "cannot load satp_rx with the maps pinned under $dir" "$TMP/rx.err" ||
		fail "no clear error for incompatible pins"
	grep -q "pinned map $dir/satp_cfg has another layout" "$TMP/rx.err" ||
		fail "an incompatible pinned satp_cfg was not replaced"
	echo "ok   incompatible pinned maps: window index refused, the message names $dir; satp_cfg replaced"
}

MODES_RUN=
run_mode native
ip -n "$NSB" link show dev "$IFB" | grep -q 'xdp' && fail "native: program left attached"
run_mode skb
ip -n "$NSB" link show dev "$IFB" | grep -q 'xdp' && fail "skb: program left attached"
[ -n "$MODES_RUN" ] || skip "neither native nor skb XDP with AF_XDP here"
# The rest in the first mode that ran (native where the kernel has it).
MODE=${MODES_RUN# }
MODE=${MODE%% *}
fail_closed
restart
foreign_pins
echo "PASS"
