#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make bench-xdp: (1) satp_rx's per-packet cost under BPF_PROG_TEST_RUN;
# (2) its drop rate for a flood of invalid SATP (unknown mux) on veth, measured
# beside a plain XDP_DROP program in the same run; the ratio is the figure.
#
#   netns satpba-PID (flood: satp_send, AF_PACKET)   netns satpbb-PID (XDP, native)
#   ba-PID 10.202.0.1  ---------- veth ------------>  bb-PID 10.202.0.2
#
# Environment: BUILD (build dir), SECONDS_PER_RUN (default 5), ROUNDS (default 2,
# alternating drop/satp so drift hits both alike).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BENCH=$BUILD/bench/bench_xdp
SEND=$BUILD/tests/tools/satp_send
RUN_S=${SECONDS_PER_RUN:-5}
ROUNDS=${ROUNDS:-2}
ID=$$
NSA=satpba-$ID
NSB=satpbb-$ID
IFA=ba-$ID
IFB=bb-$ID
TMP=
SPID=
BPID=

cleanup() {
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
	[ -n "$BPID" ] && kill "$BPID" 2>/dev/null && wait "$BPID" 2>/dev/null
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	if [ -n "$TMP" ]; then
		umount "$TMP/bpffs" 2>/dev/null
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT

die() {
	echo "bench-xdp: $*" >&2
	exit 1
}

[ -x "$BENCH" ] && [ -x "$SEND" ] || die "build first: make tests"
echo "== satp_rx per packet (BPF_PROG_TEST_RUN)"
"$BENCH" testrun || die "test run failed"

[ "$(id -u)" -eq 0 ] || die "the veth flood needs root"
TMP=$(mktemp -d /tmp/satp-bench-xdp.XXXXXX)
mkdir "$TMP/bpffs" && mount -t bpf bpf "$TMP/bpffs" || die "cannot mount a bpffs"
ip netns add "$NSA" && ip netns add "$NSB" || die "netns"
ip -n "$NSA" link add "$IFA" type veth peer name "$IFB" netns "$NSB" || die "veth"
ip -n "$NSA" addr add 10.202.0.1/24 dev "$IFA"
ip -n "$NSB" addr add 10.202.0.2/24 dev "$IFB"
ip -n "$NSA" link set "$IFA" up
ip -n "$NSB" link set "$IFB" up
MAC=$(ip netns exec "$NSB" cat "/sys/class/net/$IFB/address")

# flood PROG: one measured run; prints the receiver's line.
flood() {
	local prog=$1
	rm -f "$TMP/ready"
	ip netns exec "$NSB" "$BENCH" flood --ifname "$IFB" --prog "$prog" --seconds "$RUN_S" \
		--pin-root "$TMP/bpffs" --ready "$TMP/ready" >"$TMP/rx.out" 2>"$TMP/rx.err" &
	BPID=$!
	for _ in $(seq 100); do
		[ -f "$TMP/ready" ] && break
		kill -0 "$BPID" 2>/dev/null || break
		sleep 0.05
	done
	[ -f "$TMP/ready" ] || { cat "$TMP/rx.err" >&2; die "$prog receiver did not start"; }
	ip netns exec "$NSA" "$SEND" --ifname "$IFA" --dst-mac "$MAC" --src 10.202.0.1 \
		--dst 10.202.0.2 --port 4444 --mux 77 --len 72 --seconds $((RUN_S + 3)) \
		>"$TMP/tx.out" 2>&1 &
	SPID=$!
	wait "$BPID" || { cat "$TMP/rx.err" >&2; die "$prog receiver failed"; }
	BPID=
	kill -INT "$SPID" 2>/dev/null
	wait "$SPID"
	SPID=
	cat "$TMP/rx.out"
	sed 's/^/  sender: /' "$TMP/tx.out"
}

pps() { awk '{ for (i = 1; i <= NF; i++) if ($(i + 1) == "pps") { print $i; exit } }' <<<"$1"; }

echo
echo "== flood of invalid SATP (unknown mux, 114-byte frames) on veth, native XDP, ${RUN_S} s runs"
best_drop=0
best_satp=0
for r in $(seq "$ROUNDS"); do
	for prog in drop satp; do
		out=$(flood $prog) || exit 1
		echo "$out"
		rate=$(pps "$(head -1 <<<"$out")")
		if [ $prog = drop ]; then
			best_drop=$(awk -v a="$rate" -v b="$best_drop" 'BEGIN { print (a > b) ? a : b }')
		else
			best_satp=$(awk -v a="$rate" -v b="$best_satp" 'BEGIN { print (a > b) ? a : b }')
		fi
	done
done
echo
awk -v s="$best_satp" -v d="$best_drop" 'BEGIN {
	printf("best of %s: satp_rx %.0f pps, xdp_drop %.0f pps, ratio %.3f\n", ARGV[1], s, d, d ? s / d : 0)
}' "$ROUNDS"
echo "(one 2-core machine: sender, veth and XDP share the CPUs; the ratio, not the rate, is the figure)"
