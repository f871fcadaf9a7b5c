#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make demo: satpd against a real uanytun, in two network namespaces.
#
#   ns "left" (satpd)                          ns "right" (uanytun 0.3.7)
#   tun0 10.99.0.1/24                          tun0 10.99.0.2/24
#   ul0  10.77.0.1  <-------- veth -------->   ul0  10.77.0.2
#
# satpd attaches its XDP program to ul0 in native mode and moves the tunnel's
# packets through AF_XDP sockets (it says so in its log, and falls back to its
# UDP sockets when the kernel cannot). Brings the tunnel up, pings through it
# both ways, prints satpd's counters and the XDP program's (SIGUSR1) and
# removes everything again. Exit 0 when the pings came through.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/integration/lib.sh

KEY=000102030405060708090a0b0c0d0e0f
SALT=a0a1a2a3a4a5a6a7a8a9aaabacad

say() { printf '\n==> %s\n' "$*"; }

lib_init
require_cmd uanytun ping

say "creating namespaces $(ns left) and $(ns right), joined by a veth pair (10.77.0.1 <-> 10.77.0.2)"
topo_pair left right

SATPD_ARGS=(-U --state-dir "$TMP/state" -i "$UL4_1" -r "$UL4_2" -s 1 -e left
	-w 100 -K "$KEY" -A "$SALT" -d tun0 -n 10.99.0.1/24)
UANYTUN_ARGS=(-D -L stdout:5 -i "$UL4_2" -r "$UL4_1" -s 2 -e right -K "$KEY" -A "$SALT"
	-d tun0 -t tun -n 10.99.0.2/24)
say "starting satpd in $(ns left):"
echo "    satpd ${SATPD_ARGS[*]}"
start_bg left satpd.log "$SATPD" "${SATPD_ARGS[@]}"
SATPD_PID=$LAST_PID
say "starting uanytun in $(ns right):"
echo "    uanytun ${UANYTUN_ARGS[*]}"
start_bg right uanytun.log uanytun "${UANYTUN_ARGS[@]}"
wait_dev left tun0 && wait_dev right tun0 || {
	cat "$TMP/satpd.log" "$TMP/uanytun.log"
	fail "the tunnel devices did not appear"
}

ok=0
say "ping satpd -> uanytun through the tunnel (10.99.0.1 -> 10.99.0.2)"
wait_ping left 10.99.0.2 10 && nsx left ping -c 3 -i 0.3 10.99.0.2 || ok=1
say "ping uanytun -> satpd through the tunnel (10.99.0.2 -> 10.99.0.1)"
nsx right ping -c 3 -i 0.3 10.99.0.1 || ok=1

say "satpd's counters (kill -USR1):"
satpd_counter "$SATPD_PID" "$TMP/satpd.log" rx_delivered >/dev/null
awk '/counters \(/ { n = NR } { line[NR] = $0 } END { for (i = n; i <= NR; i++) print "    " line[i] }' \
	"$TMP/satpd.log"

say "satpd's log:"
sed -n '1,/counters (/p' "$TMP/satpd.log" | grep -v 'counters (' | sed 's/^/    /'

say "tearing down: stopping satpd and uanytun, deleting the namespaces"
stop_pid "$SATPD_PID"
lib_cleanup
trap - EXIT
if [ $ok -eq 0 ]; then
	say "demo passed: satpd and uanytun exchanged packets in both directions"
else
	say "demo FAILED: see the ping output above"
fi
exit $ok
