#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# satpd's logging, SIGHUP and control-socket groups, against a live daemon.
#
#   netns st$$-a, and a mount namespace of satpd's own where /dev is a tmpfs with the
#   host's null, zero, urandom, random and net/tun bound in, and /dev/log bound to
#   $TMP/syslog.sock (a receiver of the test's: the host has no syslog of ours to read)
#   +--------------------------------------------------------------------------+
#   | satpd --xdp-mode off -i 127.0.0.1 -d tun0                                 |
#   |   -L syslog:5,IDENT,local3  -L file:5,$TMP/file.log  -L stdout:5          |
#   |   --ctl-socket $TMP/run/ctl.sock --ctl-group G [--ctl-read-group R]       |
#   +--------------------------------------------------------------------------+
#
# Rows:
#   syslog   what satpd logs at notice reaches /dev/log as local3.notice (<157>) under
#            IDENT[PID] (satpd.8: -L syslog[,ident[,facility]])
#   file     the file target gets the same lines
#   sighup   (satpd.8: "SIGHUP: reopen log files") the file is moved away, as logrotate
#            does; after SIGHUP the next lines (a SIGUSR1 dump) go to a new file at the
#            path, none to the moved one
#   groups   a table: the daemon's groups, the caller's groups (uid 65534 under setpriv),
#            whether `satp show` works and whether `satp conn add` does
#            (satpd.8 --ctl-group, --ctl-read-group)
. "$(dirname "$0")/lib.sh"

K128=000102030405060708090a0b0c0d0e0f
SALT=a0a1a2a3a4a5a6a7a8a9aaabacad
SATP=$BUILD/satp
IDENT=satpd-e2e$$
NOBODY=65534

lib_init
require_cmd unshare setpriv groupadd groupdel python3
[ -x "$SATP" ] || fail "$SATP not built"
# Two groups of the test's own, removed with everything else.
G=satpg$$
R=satpr$$
groupadd "$G" || fail "groupadd $G"
groupadd "$R" || { groupdel "$G"; fail "groupadd $R"; }
trap 'lib_cleanup; groupdel "$G"; groupdel "$R"' EXIT
ns_create a
# uid 65534 must reach the control socket's directory.
chmod 755 "$TMP"
mkdir -m 755 "$TMP/run" "$TMP/hostdev"
SOCK=$TMP/run/ctl.sock

# ---- the syslog receiver: every datagram on its own line
start_bg a syslog.log python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(4096).replace(b"\n", b" ") + b"\n")' "$TMP/syslog.sock" "$TMP/syslog.txt"
wait_log "$TMP/syslog.log" bound 5 || fail "syslog receiver: $(cat "$TMP/syslog.log")"

# start_satpd LOGNAME CTL-GROUP-OPTIONS...: satpd in ns a, in a mount namespace of its own
# whose /dev/log is the receiver. Leaves the PID in SATPD_PID.
start_satpd() {
	local logname=$1
	shift
	rm -f "$TMP/file.log"
	# shellcheck disable=SC2016 # expanded by the inner sh
	start_bg a "$logname" unshare -m --propagation private sh -ec '
		tmp=$1; shift
		mount --rbind /dev "$tmp/hostdev"
		mount -t tmpfs -o mode=755 tmpfs /dev
		mkdir /dev/net
		for n in null zero urandom random net/tun log; do touch "/dev/$n"; done
		for n in null zero urandom random net/tun; do mount --bind "$tmp/hostdev/$n" "/dev/$n"; done
		mount --bind "$tmp/syslog.sock" /dev/log
		exec "$@"' sh "$TMP" \
		"$SATPD" -D -L "syslog:5,$IDENT,local3" -L "file:5,$TMP/file.log" -L stdout:5 \
		--xdp-mode off --state-dir "$TMP/state" --ctl-socket "$SOCK" "$@" \
		-i 127.0.0.1 -p 4444 -r 127.0.0.1 -o 4445 -d tun0 -t tun -n 10.99.0.1/24 -w 64 \
		-K $K128 -A $SALT
	SATPD_PID=$LAST_PID
	wait_log "$TMP/$logname" "control socket $SOCK" 10 || fail "satpd did not start: $(cat "$TMP/$logname")"
}

start_satpd satpd1.log --ctl-group "$G"

# ---- syslog: local3 (19) * 8 + notice (5) = 157
wait_log "$TMP/syslog.txt" "^<157>.* ${IDENT}\[$SATPD_PID\]: control socket $SOCK" 5 ||
	fail "syslog: no local3.notice line from ${IDENT}[$SATPD_PID]:$(sed 's/^/\n  /' "$TMP/syslog.txt")"
echo "ok   syslog: notices reach /dev/log as local3.notice under ${IDENT}[pid]"

# ---- file
wait_log "$TMP/file.log" "NOTICE: control socket $SOCK" 5 ||
	fail "file log: no notice:$(sed 's/^/\n  /' "$TMP/file.log")"
echo "ok   file: the same notices in $TMP/file.log"

# ---- SIGHUP: moved away, reopened at the path; the next dump lands in the new file only
mv "$TMP/file.log" "$TMP/file.log.1"
kill -HUP "$SATPD_PID"
wait_log "$TMP/file.log" "SIGHUP: log files reopened" 10 ||
	fail "no new file.log after SIGHUP: $(ls "$TMP"; tail -3 "$TMP/satpd1.log")"
satpd_dump "$SATPD_PID" "$TMP/satpd1.log" || fail "SIGUSR1"
wait_log "$TMP/file.log" "counters (" 5 || fail "the dump after SIGHUP is not in the new file"
grep -q "counters (\|SIGHUP" "$TMP/file.log.1" && fail "the moved file got lines after SIGHUP"
echo "ok   SIGHUP: the file moved away stays as it was; the next lines go to a new file at the path"

# ---- control-socket groups
# caller GROUPS OP...: satp as uid 65534 with these supplementary groups (comma list, or -).
caller() {
	local groups=$1
	shift
	if [ "$groups" = - ]; then
		setpriv --reuid $NOBODY --regid $NOBODY --clear-groups -- "$SATP" "$@" --socket "$SOCK"
	else
		setpriv --reuid $NOBODY --regid $NOBODY --groups "$groups" -- "$SATP" "$@" --socket "$SOCK"
	fi
}
# Rows: daemon's group options | caller's groups | show works | conn add works | a refusal says
ROWS=(
	"ctl|$G|yes|yes|"
	"ctl|-|no|no|"
	"ctl+read|$G,$R|yes|yes|"
	"ctl+read|$R|yes|no|may only read"
	"ctl+read|$G|no|no|"
)
current=ctl
for row in "${ROWS[@]}"; do
	IFS='|' read -r daemon groups want_show want_add why <<<"$row"
	if [ "$daemon" != "$current" ]; then
		stop_pid "$SATPD_PID"
		start_satpd satpd2.log --ctl-group "$G" --ctl-read-group "$R"
		current=$daemon
	fi
	got_show=no got_add=no
	caller "$groups" show >"$TMP/show.out" 2>&1 && grep -q "tun0" "$TMP/show.out" && got_show=yes
	caller "$groups" conn add 9 key $K128 salt $SALT window 16 remote 127.0.0.1:4446 \
		>"$TMP/add.out" 2>&1 && got_add=yes
	[ "$got_show" = "$want_show" ] ||
		fail "$row: show $got_show, want $want_show:$(sed 's/^/\n  /' "$TMP/show.out")"
	[ "$got_add" = "$want_add" ] ||
		fail "$row: conn add $got_add, want $want_add:$(sed 's/^/\n  /' "$TMP/add.out")"
	[ -z "$why" ] || grep -q "$why" "$TMP/add.out" || fail "$row: the refusal does not say '$why': $(cat "$TMP/add.out")"
	if [ "$got_add" = yes ]; then
		"$SATP" conn del 9 --socket "$SOCK" >/dev/null || fail "$row: root cannot delete mux 9"
	fi
	echo "ok   groups: daemon $daemon, caller in $groups: show $got_show, conn add $got_add"
done
echo PASS
