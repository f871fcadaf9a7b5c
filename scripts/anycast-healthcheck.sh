#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Withdraw an anycast edge's BGP announcement while its satpd is down, and
# restore it when satpd serves again. Runs beside satpd (same network
# namespace) and BIRD 2; the announcement is a BIRD `protocol static` that
# this script enables and disables through birdc.
#
#   anycast-healthcheck.sh -p PIDFILE -d DEV -s BIRD_SOCKET -P PROTOCOL
#                          [-c CTL_SOCKET [-a SATP]] [-i INTERVAL] [-1]
#
# satpd counts as up when all of these hold:
#   - PIDFILE names a live process whose command is satpd (a reused PID is not),
#   - its tun/tap device DEV exists and is up,
#   - CTL_SOCKET (when given) is a socket: satpd opens it once it serves,
#   - with -a, `SATP show --socket CTL_SOCKET --json` (the satp control tool)
#     answers within ASK_TIMEOUT with this satpd's PID: a satpd that hangs
#     (stopped, deadlocked) is down although its process, device and socket remain.
# Checked every INTERVAL seconds (default 0.2). BIRD is told only on a change
# (and at the first check), so a flapping birdc never sees a command storm;
# a birdc that fails (BIRD not up yet) is retried at the next check.
# -1: check once, print "up" or "down", exit 0 (up) or 1 (down); BIRD is not told.
set -u

PIDFILE="" DEV="" BIRD_SOCK="" PROTO="" CTL="" SATP="" INTERVAL=0.2 ONCE=0
# Long enough for a busy satpd to answer, short enough that a hung one is withdrawn fast.
ASK_TIMEOUT=0.5

usage() {
	sed -n '/^#   anycast-healthcheck/,/^#  *\[-c/p' "$0" | sed 's/^# *//' >&2
	exit 2
}

while getopts "p:d:s:P:c:a:i:1h" opt; do
	case $opt in
	p) PIDFILE=$OPTARG ;;
	d) DEV=$OPTARG ;;
	s) BIRD_SOCK=$OPTARG ;;
	P) PROTO=$OPTARG ;;
	c) CTL=$OPTARG ;;
	a) SATP=$OPTARG ;;
	i) INTERVAL=$OPTARG ;;
	1) ONCE=1 ;;
	*) usage ;;
	esac
done
{ [ -n "$PIDFILE" ] && [ -n "$DEV" ]; } || usage
[ -z "$SATP" ] || [ -n "$CTL" ] || usage
[ "$ONCE" -eq 1 ] || { [ -n "$BIRD_SOCK" ] && [ -n "$PROTO" ]; } || usage
[[ $INTERVAL =~ ^[0-9]+(\.[0-9]+)?$ ]] || {
	echo "anycast-healthcheck: bad interval '$INTERVAL'" >&2
	exit 2
}

satpd_up() {
	local pid comm
	pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
	[ "$comm" = satpd ] || return 1
	ip link show dev "$DEV" up 2>/dev/null | grep -q . || return 1
	[ -z "$CTL" ] || [ -S "$CTL" ] || return 1
	[ -z "$SATP" ] || timeout "$ASK_TIMEOUT" "$SATP" show --socket "$CTL" --json 2>/dev/null |
		grep -q "\"pid\": $pid," || return 1
	return 0
}

if [ "$ONCE" -eq 1 ]; then
	if satpd_up; then
		echo up
		exit 0
	fi
	echo down
	exit 1
fi

stop=0
trap 'stop=1' TERM INT
told="" # the state BIRD was last told successfully
while [ "$stop" -eq 0 ]; do
	if satpd_up; then state=up; else state=down; fi
	if [ "$state" != "$told" ]; then
		if [ "$state" = up ]; then cmd=enable; else cmd=disable; fi
		# birdc prints "PROTO: enabled" / "PROTO: already enabled"; anything else is an error.
		if out=$(birdc -s "$BIRD_SOCK" "$cmd" "$PROTO" 2>&1) && [[ $out == *"$PROTO: "*"${cmd}d"* ]]; then
			printf '%s anycast-healthcheck: satpd %s, %s %s\n' "$(date +%T.%N | cut -c1-12)" \
				"$state" "$PROTO" "${cmd}d"
			told=$state
		fi
	fi
	sleep "$INTERVAL"
done
