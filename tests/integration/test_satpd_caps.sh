#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# satpd runs with the capabilities it needs only (satp.8, CAPABILITIES): with
# -u nobody -g nogroup, after setup every thread of it (main, AF_XDP workers,
# metrics) has exactly CAP_NET_ADMIN and CAP_NET_RAW permitted and effective,
# nothing inheritable or ambient, the same two in its bounding set, and
# no_new_privs; the tunnel to uanytun carries a ping; and a SIGTERM still
# detaches satp_rx (CAP_NET_ADMIN kept) and removes the tun.
#
#   netns st<PID>-a                          netns st<PID>-b
#   +-------------------------------+        +-------------------------------+
#   | satpd -u nobody -g nogroup    |  veth  | uanytun                       |
#   | ul0 10.77.0.1 (satp_rx, XDP)  |<------>| ul0 10.77.0.2                 |
#   | tun0 10.99.0.1                |        | tun0 10.99.0.2                |
#   +-------------------------------+        +-------------------------------+
. "$(dirname "$0")/lib.sh"

K128=000102030405060708090a0b0c0d0e0f
SALT=a0a1a2a3a4a5a6a7a8a9aaabacad
IN_A=10.99.0.1
IN_B=10.99.0.2
# CAP_NET_ADMIN (12) and CAP_NET_RAW (13), as /proc/PID/status prints a set.
KEPT=0000000000003000

lib_init
require_cmd uanytun ping
getent passwd nobody >/dev/null && getent group nogroup >/dev/null ||
	skip "no user nobody or group nogroup"
bpffs_init
topo_pair a b
port=$((30000 + $$ % 20000))
mport=$((port + 1))

start_bg a a.log "$SATPD" -D -U -L stdout:5 --state-dir "$TMP/state" --pin-root "$TMP/bpf/a" \
	--xdp-mode native --metrics "127.0.0.1:$mport" -u nobody -g nogroup \
	-i "$UL4_1" -p "$port" -r "$UL4_2" -o "$port" -s 1 -w 100 -e left -d tun0 -t tun \
	-n "$IN_A/24" -K "$K128" -A "$SALT"
apid=$LAST_PID
start_bg b b.log uanytun -D -L stdout:5 -i "$UL4_2" -p "$port" -r "$UL4_1" -o "$port" -s 2 \
	-w 100 -e right -d tun0 -t tun -n "$IN_B/24" -K "$K128" -A "$SALT"
wait_log "$TMP/a.log" 'satpd [0-9.]* running' 10 || { cat "$TMP/a.log"; fail "satpd not running"; }
wait_dev b tun0 || fail "uanytun: no tun0"
wait_ping a "$IN_B" 10 || { cat "$TMP/a.log"; fail "no ping through the tunnel after -u nobody"; }
grep -q 'XDP.*native\|native.*XDP\|attached' "$TMP/a.log" || log "note: satp_rx not attached natively"
ip -n "$(ns a)" link show ul0 | grep -q 'xdp' || fail "satp_rx is not attached to ul0"

# Every thread: the metrics thread and the AF_XDP workers start after the drop.
nthreads=0
for st in /proc/"$apid"/task/*/status; do
	nthreads=$((nthreads + 1))
	tid=${st#/proc/$apid/task/}
	tid=${tid%/status}
	uid=$(awk '/^Uid:/ { print $2 $3 $4 $5 }' "$st")
	[ "$uid" = 65534655346553465534 ] || fail "thread $tid: uids $(grep ^Uid: "$st")"
	for f in CapPrm CapEff CapBnd; do
		v=$(awk -v f="$f:" '$1 == f { print $2 }' "$st")
		[ "$v" = "$KEPT" ] || fail "thread $tid: $f is $v, not $KEPT (NET_ADMIN, NET_RAW)"
	done
	for f in CapInh CapAmb; do
		v=$(awk -v f="$f:" '$1 == f { print $2 }' "$st")
		[ "$v" = 0000000000000000 ] || fail "thread $tid: $f is $v, not empty"
	done
	grep -q '^NoNewPrivs:[[:space:]]*1' "$st" || fail "thread $tid: no_new_privs not set"
done
[ "$nthreads" -ge 3 ] || fail "expected the main thread, the metrics thread and a worker ($nthreads)"
log "$nthreads threads, each uid nobody with CapPrm=CapEff=CapBnd=$KEPT, no_new_privs"
nsx a ping -c 3 -i 0.2 -W 2 -q "$IN_B" >/dev/null || fail "ping after the checks"

# The state directory satpd created is nobody's, so reservations are renewed (write, rename in
# it) after the drop; a connection added at run time gets its tx-seq file there, nobody's too
# ($TMP itself is root's 0700: the path is not walked after the drop).
[ "$(stat -c %U:%a "$TMP/state")" = nobody:700 ] ||
	fail "state dir is $(stat -c %U:%a "$TMP/state"), want nobody:700"
for f in tx-seq.mux0 satpd.lock; do
	[ "$(stat -c %U "$TMP/state/$f")" = nobody ] || fail "$f is $(stat -c %U "$TMP/state/$f")'s"
done
nsx a "$BUILD/satp" conn add 5 key "$K128" salt "$SALT" role left window 64 \
	remote "$UL4_2:$((port + 5))" --socket "$(ctl_sock a-a)" 2>"$TMP/add.err" ||
	fail "satp conn add under -u nobody: $(cat "$TMP/add.err") $(tail -3 "$TMP/a.log")"
[ "$(stat -c %U "$TMP/state/tx-seq.mux5" 2>&1)" = nobody ] ||
	fail "tx-seq.mux5: $(stat -c %U "$TMP/state/tx-seq.mux5" 2>&1)"
log "state dir nobody:700 with its files; satp conn add under -u nobody made tx-seq.mux5"

# A second daemon on the same state directory (another namespace, device and port) would
# send with the same sequence numbers: it refuses to start, names the directory, and
# leaves nothing behind.
rc=0
nsx b timeout 30 "$SATPD" -U -L stdout:5 --xdp-mode off --state-dir "$TMP/state" \
	--ctl-socket "$TMP/second.sock" -i "$UL4_2" -p "$((port + 2))" -r "$UL4_1" \
	-o "$((port + 2))" -s 1 -w 100 -e left -d tun7 -t tun -K "$K128" -A "$SALT" \
	>"$TMP/second.log" 2>&1 || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "a second satpd on $TMP/state: exit $rc: $(cat "$TMP/second.log")"
grep -q "state directory '$TMP/state' is in use by another satpd" "$TMP/second.log" ||
	fail "second satpd: no clear refusal: $(cat "$TMP/second.log")"
ip -n "$(ns b)" link show tun7 >/dev/null 2>&1 && fail "the refused satpd left tun7 behind"
log "a second satpd on the same state directory: refused (exit $rc), nothing left behind"

stop_pid "$apid"
grep -q 'satp_rx detached' "$TMP/a.log" || { cat "$TMP/a.log"; fail "satp_rx not detached at exit"; }
ip -n "$(ns a)" link show ul0 | grep -q 'xdp' && fail "an XDP program is left on ul0"
ip -n "$(ns a)" link show tun0 >/dev/null 2>&1 && fail "tun0 is left after satpd exited"
grep -q 'satpd exits (clean)' "$TMP/a.log" || { cat "$TMP/a.log"; fail "satpd did not exit clean"; }
log "SIGTERM: satp_rx detached, tun0 removed, clean exit"
echo PASS
