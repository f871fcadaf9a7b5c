#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# satpd under valgrind (memcheck) for a short run: a tunnel to uanytun, pings
# both ways, a few hostile datagrams (garbage, cut, replayed), SIGUSR1, SIGTERM.
# Any memcheck error or a definite/indirect leak fails the test.
#
#   ns a: valgrind satpd --xdp-mode off  <-- veth -->  ns b: uanytun
#
# The sanitizer build (SAN=1) cannot run under valgrind: skipped there, the
# plain build's suite runs it.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

K128=000102030405060708090a0b0c0d0e0f
SALT=a0a1a2a3a4a5a6a7a8a9aaabacad
IN_A=10.99.0.1 IN_B=10.99.0.2
# valgrind runs satpd some 20-50 times slower: its start takes seconds.
START_SECONDS=60

lib_init
require_cmd valgrind uanytun python3
if ldd "$SATPD" 2>/dev/null | grep -q libasan; then
	skip "$SATPD is built with ASan (SAN=1); valgrind runs on the plain build"
fi

topo_pair a b
start_bg a satpd.log valgrind --quiet --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
	--track-fds=no "$SATPD" -U --xdp-mode off --state-dir "$TMP/state" -i $UL4_1 -r $UL4_2 \
	-e left -s 1 -w 64 -d tun0 -t tun -n $IN_A/24 -K $K128 -A $SALT
APID=$LAST_PID
wait_dev a tun0 $START_SECONDS || { cat "$TMP/satpd.log"; fail "satpd under valgrind: no tun0"; }
start_bg b uanytun.log uanytun -D -L stdout:5 -i $UL4_2 -r $UL4_1 -e right -s 2 -d tun0 -t tun \
	-n $IN_B/24 -K $K128 -A $SALT
wait_dev b tun0 || fail "uanytun: no tun0"
wait_ping b $IN_A 30 || { cat "$TMP/satpd.log"; fail "no ping through the tunnel"; }
nsx b ping -c 5 -i 0.2 -W 2 -q $IN_A >/dev/null || fail "ping b -> a through satpd"
nsx a ping -c 5 -i 0.2 -W 2 -q $IN_B >/dev/null || fail "ping a -> b through satpd"

# Hostile datagrams from the peer's namespace: every length 0..40, a bad tag, oversize.
nsx b python3 - $UL4_1 <<'PYEOF'
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for n in range(41):
    s.sendto(os.urandom(n), (sys.argv[1], 4444))
s.sendto(b"\0\0\0\x05\0\x02\0\0" + os.urandom(60), (sys.argv[1], 4444))
s.sendto(os.urandom(3000), (sys.argv[1], 4444))
PYEOF
sleep 1
bad=$(satpd_counter "$APID" "$TMP/satpd.log" rx_bad_tag)
short=$(satpd_counter "$APID" "$TMP/satpd.log" rx_too_short)
mux=$(satpd_counter "$APID" "$TMP/satpd.log" rx_wrong_mux)
trunc=$(satpd_counter "$APID" "$TMP/satpd.log" rx_truncated)
[ $((bad + short + mux + trunc)) -eq 43 ] ||
	fail "43 hostile datagrams, counted: bad tag $bad, too short $short, wrong mux $mux, truncated $trunc"
nsx b ping -c 3 -i 0.2 -W 2 -q $IN_A >/dev/null || fail "tunnel broken after the hostile datagrams"

kill -TERM "$APID"
for _ in $(seq 1 100); do
	kill -0 "$APID" 2>/dev/null || break
	sleep 0.2
done
wait "$APID"
rc=$?
if [ $rc -ne 0 ]; then
	grep -E '^==[0-9]+==' "$TMP/satpd.log" | head -60
	fail "satpd under valgrind exited with $rc (99: memcheck errors or leaks)"
fi
! grep -qE '^==[0-9]+==' "$TMP/satpd.log" || { grep -E '^==[0-9]+==' "$TMP/satpd.log" | head -40; fail "valgrind reported"; }
log "valgrind: no errors, no leaks; $(grep -c . "$TMP/satpd.log") log lines"
