#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Restart soak: no replay is accepted across restarts, reboots and data-path
# changes. satpd (ns a) restarts SOAK_RESTARTS (20) times under a steady UDP
# flow from a real uanytun (ns b), each time in a mode drawn at random among
# native, skb and off; some stops are a SIGKILL instead of a SIGTERM, and some
# wipe the pins afterwards (--pin-root removed, XDP detached: what a reboot
# leaves). tcpdump on b's ul0 captures every SATP datagram uanytun sends.
# After each restart:
#   1. the flow resumes: markers sent after the restart reach a's receiver
#      (deadline);
#   2. every datagram captured so far is replayed from b, oldest first (the
#      attacker who recorded the tunnel), from another port;
#   3. a flow marker sent after the last replay arrives (so satpd has judged
#      every replay before it: one veth, one queue, in order);
#   4. no marker reached the receiver twice: a replay that satpd delivers
#      carries a marker the receiver already had (the check counts the
#      replayed datagrams themselves, not a global counter); and satpd's
#      replay verdicts rose by exactly the number replayed, less those
#      delivered late (next paragraph): every replay was judged.
# A replayed datagram that was lost while satpd was down may be delivered once
# (a late datagram inside the window, -w 4096): it is not a duplicate. Nothing
# else is, not even after a crash followed by a reboot (SIGKILL of an XDP run,
# then the pins wiped): the XDP workers commit into the state file as well
# (docs/windows.md).
#
#   ns a                                           ns b
#   +---------------------------------+            +----------------------------------+
#   | receiver: UDP 0.0.0.0:PORT      |            | sender: "soak N" to 10.99.0.1    |
#   |   (one line per marker)         |            |   every FLOW_GAP s               |
#   | tun0 10.99.0.1/24               |            | tun0 10.99.0.2/24                |
#   |   satpd -w 4096 --xdp-mode M    |  SATP/UDP  |   uanytun                        |
#   | ul0 10.77.0.1                   |<-----------| ul0 10.77.0.2   tcpdump (capture)|
#   +---------------------------------+    veth    |   satp_inject.py (replays)       |
#                                                  +----------------------------------+
#
#   tests/integration/test_restart_soak.sh
#   SOAK_SEED=1234 tests/integration/test_restart_soak.sh      # repeat a run
#   SOAK_RESTARTS=5 tests/integration/test_restart_soak.sh     # a shorter one
#   SOAK_MODES=off tests/integration/test_restart_soak.sh      # one data path only

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

K128=000102030405060708090a0b0c0d0e0f
SALT=a0a1a2a3a4a5a6a7a8a9aaabacad
IN_A=10.99.0.1
IN_B=10.99.0.2
FLOW_PORT=$((40000 + $$ % 10000))
FLOW_GAP=0.03 # ~33 datagrams a second: a few thousand in the soak, all inside -w 4096
WINDOW=4096
read -ra MODES <<<"${SOAK_MODES:-native skb off}"
RESTARTS=${SOAK_RESTARTS:-20}
SEED=${SOAK_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
PIN= # the --pin-root, under the test's bpffs
SAT_PID=

# flow_start: the receiver in a (one line per datagram: its marker), the sender in b
# (writes the last marker it sent to $TMP/sent, so that a later one is known to be later).
flow_start() {
	cat >"$TMP/receiver.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        d = s.recv(2048)
        if d.startswith(b"soak "):
            f.write(d[5:].decode() + "\n")
EOF
	cat >"$TMP/sender.py" <<'EOF'
import os, socket, sys, time
dst, gap, path = (sys.argv[1], int(sys.argv[2])), float(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
n = 0
while True:
    n += 1
    try:
        s.sendto(b"soak %d" % n, dst)
    except OSError:
        pass  # no route while uanytun's tun0 is not up yet
    with open(path + ".tmp", "w") as f:
        f.write("%d\n" % n)
    os.replace(path + ".tmp", path)
    time.sleep(gap)
EOF
	start_bg a receiver.log python3 -u "$TMP/receiver.py" "$FLOW_PORT" "$TMP/received"
	start_bg b sender.log python3 -u "$TMP/sender.py" "$IN_A" "$FLOW_PORT" "$FLOW_GAP" "$TMP/sent"
}

# received_max: the highest marker a has received (0: none).
received_max() { sort -n "$TMP/received" 2>/dev/null | awk '{ m = $1 } END { print m + 0 }'; }
sent_last() { awk '{ print $1 + 0 }' "$TMP/sent" 2>/dev/null; }
# again L0: markers received after line L0 of the receiver's file that it had already:
# each one a replayed datagram delivered a second time.
again() { awk -v l0="$1" '($1 in seen) && NR > l0 { print $1 } { seen[$1] = 1 }' "$TMP/received"; }

# wait_received N SECONDS: until a has received a marker above N.
wait_received() {
	local i
	for i in $(seq 1 $(($2 * 20))); do
		[ "$(received_max)" -gt "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

satpd_start() { # satpd_start MODE LOG
	start_bg a "$2" "$SATPD" -U --state-dir "$TMP/state" --pin-root "$PIN" -i "$UL4_1" -r "$UL4_2" \
		-e left -s 1 -w $WINDOW -d tun0 -n "$IN_A/24" -K "$K128" -A "$SALT" --xdp-mode "$1"
	SAT_PID=$LAST_PID
	wait_log "$TMP/$2" 'satpd [0-9.]* running' 15 ||
		fail "satpd --xdp-mode $1 did not start:$(sed 's/^/\n  /' "$TMP/$2")"
	if [ "$1" = off ]; then
		grep -q 'data path: UDP sockets (--xdp-mode off)' "$TMP/$2"
	else
		grep -q "XDP: satp_rx on ul0 in $1 mode" "$TMP/$2"
	fi || fail "satpd is not on the $1 data path:$(sed 's/^/\n  /' "$TMP/$2")"
}

satpd_stop() { # satpd_stop TERM|KILL
	kill "-$1" "$SAT_PID" 2>/dev/null
	if [ "$1" = TERM ]; then
		stop_pid "$SAT_PID"
	else
		wait "$SAT_PID" 2>/dev/null
	fi
}

# wipe_pins: a reboot's view of the XDP state: the bpffs is empty and no program is attached.
wipe_pins() {
	ip -n "$(ns a)" link set dev ul0 xdp off 2>/dev/null
	rm -r "$PIN" 2>/dev/null
	[ ! -e "$PIN" ] || fail "cannot wipe $PIN"
}

# replay_all: every datagram captured so far, oldest first, from b through a UDP socket of
# its own (another source port: tcpdump does not capture it again), paced so that no
# socket buffer or AF_XDP ring on a's side overflows: satpd judges every one. Prints
# how many.
replay_all() {
	cp "$TMP/underlay.pcap" "$TMP/replay.pcap"
	nsx b python3 - "$LIB_DIR" "$TMP/replay.pcap" "$UL4_1" <<'EOF'
import socket, sys, time
sys.path.insert(0, sys.argv[1])
from satp_inject import captured
caps = captured(sys.argv[2], 4444)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i, d in enumerate(caps):
    s.sendto(d, (sys.argv[3], 4444))
    if i % 8 == 7:
        time.sleep(0.001)
print(len(caps))
EOF
}

# refused LOG: replay verdicts so far in satpd's counters, XDP's pre-filter and the daemon's.
refused() {
	satpd_dump "$SAT_PID" "$TMP/$1" || fail "satpd does not dump its counters"
	awk '$(NF-1) ~ /^(rx_replay|rx_too_old|xdp_drop_replay|xdp_drop_too_old)$/ { v[$(NF-1)] = $NF }
		END { for (k in v) s += v[k]; print s + 0 }' "$TMP/$1"
}

# late L0 S0: markers first received after line L0 of the receiver's file that are not
# above S0, the highest one received by then: datagrams lost while satpd was down
# (never delivered), which a replay may deliver once, inside the window.
late() {
	awk -v l0="$1" -v s0="$2" 'NR <= l0 { seen[$1] = 1; next }
		$1 <= s0 && !($1 in seen) { seen[$1] = 1; n++ } END { print n + 0 }' "$TMP/received"
}

# check_again WHAT L0 BEFORE: no replay delivered a second time, whatever the stop
# was (a crash + reboot included: docs/windows.md, "what can be lost").
check_again() {
	local what=$1 l0=$2 before=$3 ag n
	ag=$(again "$l0")
	n=$(printf '%s' "$ag" | grep -c .)
	[ "$n" -eq 0 ] && return 0
	fail "$what: $n replayed datagrams delivered again (markers $(printf '%s\n' "$ag" | sort -n | head -n 5 | tr '\n' ' ')..., the last before the stop: $before)"
}

soak_one() { # soak_one I
	local i=$1 mode stop wipe before t0 t1 n sent what log l0 s0 r0 r1 lt crash=""
	mode=${MODES[RANDOM % ${#MODES[@]}]}
	stop=TERM
	[ $((RANDOM % 3)) -eq 0 ] && stop=KILL
	wipe=no
	[ $((RANDOM % 4)) -eq 0 ] && wipe=yes
	[ $stop = KILL ] && [ $wipe = yes ] && [ "$PREV_MODE" != off ] && crash=" (XDP crash + reboot)"
	what="restart $i/$RESTARTS: SIG$stop, $([ $wipe = yes ] && echo 'pins wiped, ')--xdp-mode $mode$crash"
	log=satpd.$i.log
	satpd_stop $stop
	[ $wipe = yes ] && wipe_pins
	before=$(received_max)
	t0=$(date +%s.%N)
	satpd_start "$mode" "$log"
	PREV_MODE=$mode
	wait_received "$before" 15 || fail "$what: the flow did not resume within 15 s (last marker $before)"
	t1=$(date +%s.%N)
	# What a has by now: nothing older than s0 is still on its way (one path, in order).
	l0=$(wc -l <"$TMP/received")
	s0=$(head -n "$l0" "$TMP/received" | sort -n | tail -n 1)
	r0=$(refused "$log")
	n=$(replay_all) || fail "$what: cannot replay the capture"
	[ "$n" -gt 0 ] || fail "$what: nothing captured to replay"
	sent=$(sent_last)
	wait_received "$sent" 15 || fail "$what: no marker sent after the replays arrived (after $sent)"
	check_again "$what" "$l0" "$before"
	r1=$(refused "$log")
	lt=$(late "$l0" "$s0")
	# Each replay was judged: refused, or delivered for the first time (lost while down).
	[ $((r1 - r0)) -eq $((n - lt)) ] ||
		fail "$what: $n replayed, $lt delivered late, but $((r1 - r0)) refused (want $((n - lt)))"
	log "$(printf '%-80s' "$what"): flow back in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s; $n replayed: $((r1 - r0)) refused, $lt late"
}

lib_init
require_cmd uanytun tcpdump python3
bpffs_init
PIN=$TMP/bpf/a
topo_pair a b
# Only the flow crosses the tunnel: no IPv6 chatter on either tun0.
for side in a b; do
	nsx $side sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1
done
RANDOM=$SEED
log "seed $SEED (SOAK_SEED=$SEED repeats this run), $RESTARTS restarts"

start_bg b tcpdump.log tcpdump -Z root -i ul0 --immediate-mode -U -n -w "$TMP/underlay.pcap" \
	"udp and src host $UL4_2 and src port 4444 and dst port 4444"
wait_log "$TMP/tcpdump.log" "listening on" 5 || fail "tcpdump did not start"
PREV_MODE=${MODES[RANDOM % ${#MODES[@]}]}
satpd_start "$PREV_MODE" satpd.0.log
start_bg b uanytun.log uanytun -D -L stdout:5 -i "$UL4_2" -r "$UL4_1" -e right -s 2 -d tun0 -t tun \
	-n "$IN_B/24" -K "$K128" -A "$SALT"
wait_dev b tun0 || fail "uanytun did not start: $(cat "$TMP/uanytun.log")"
flow_start
wait_received 0 15 || fail "the flow does not come through the tunnel"
for i in $(seq 1 "$RESTARTS"); do
	soak_one "$i"
done
satpd_stop TERM
log "$RESTARTS restarts: the flow resumed every time, no replayed datagram delivered again"

