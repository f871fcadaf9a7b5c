#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make bench-xdp: (1) satp_rx's per-packet cost under BPF_PROG_TEST_RUN;
# (2) its drop rate for a flood of invalid SATP (unknown mux) on veth, measured
# beside a plain XDP_DROP program in the same run; the ratio is the figure;
# (3) the same for a flood of handshakes (mux 0xFFFF, 152 bytes) from one source,
# all but its budget (20/s and the ceiling's shared half) dropped as drop-hs-ratelimit,
# measured beside xdp_drop on frames of the same size (194 bytes), so that the
# handshake ratio compares equal traffic.
# The receiving veth runs threaded NAPI, so XDP runs in a kthread on the core
# the (pinned) sender leaves free; with one sender the flood is sender-bound,
# so beside the drop rate the receiver's capacity is reported: packets per
# second of NAPI-thread CPU.
#
#   netns satpba-PID (flood: satp_send, AF_PACKET)   netns satpbb-PID (XDP, native)
#   ba-PID 10.202.0.1  ---------- veth ------------>  bb-PID 10.202.0.2
#
# A run whose receiver counted no packet, or a program that did not attach in
# native mode, fails the benchmark.
#
# Environment: BUILD (build dir), SECONDS_PER_RUN (default 5), ROUNDS (default 2,
# alternating the four runs so drift hits all alike), QUICK=1 (1 round of 2 s
# runs, a shorter test run).
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
BENCH=$BUILD/bench/bench_xdp
SEND=$BUILD/tests/tools/satp_send
REPEAT=()
if [ -n "${QUICK:-}" ]; then
	SECONDS_PER_RUN=${SECONDS_PER_RUN:-2} ROUNDS=${ROUNDS:-1} REPEAT=(--repeat 100000)
fi
RUN_S=${SECONDS_PER_RUN:-5}
ROUNDS=${ROUNDS:-2}
HS_LEN=152 # a handshake initiation's SATP payload: 194-byte frames
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

{ [ -x "$BENCH" ] && [ -x "$SEND" ]; } || die "build first: make tests"
echo "== satp_rx per packet (BPF_PROG_TEST_RUN)"
"$BENCH" testrun "${REPEAT[@]}" || die "test run failed"

[ "$(id -u)" -eq 0 ] || die "the veth flood needs root"
TMP=$(mktemp -d /tmp/satp-bench-xdp.XXXXXX)
{ mkdir "$TMP/bpffs" && mount -t bpf bpf "$TMP/bpffs"; } || die "cannot mount a bpffs"
{ ip netns add "$NSA" && ip netns add "$NSB"; } || die "netns"
ip -n "$NSA" link add "$IFA" type veth peer name "$IFB" netns "$NSB" || die "veth"
ip -n "$NSA" addr add 10.202.0.1/24 dev "$IFA"
ip -n "$NSB" addr add 10.202.0.2/24 dev "$IFB"
ip -n "$NSA" link set "$IFA" up
ip -n "$NSB" link set "$IFB" up
MAC=$(ip netns exec "$NSB" cat "/sys/class/net/$IFB/address")
PIN=() # the sender on core 0, so NAPI and XDP get the other
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	PIN=(taskset -c 0)
fi

# flood PROG [MUX LEN]: one measured run; prints the receiver's line.
flood() {
	local prog=$1 mux=${2:-77} len=${3:-72}
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
	ip netns exec "$NSA" "${PIN[@]}" "$SEND" --ifname "$IFA" --dst-mac "$MAC" --src 10.202.0.1 \
		--dst 10.202.0.2 --port 4444 --mux "$mux" --len "$len" --seconds $((RUN_S + 3)) \
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

field() { # field TEXT WORD: the number before the first WORD
	awk -v w="$2" '{ for (i = 2; i <= NF; i++) if ($i == w) { print $(i - 1); exit } }' <<<"$1"
}

max() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b) ? a : b }'; }

echo
echo "== floods on veth, native XDP, ${RUN_S} s runs: xdp_drop and satp_rx with invalid SATP (unknown"
echo "   mux, 114-byte frames); xdp_drop and satp_rx with handshakes from one source (mux 0xFFFF,"
echo "   194-byte frames)"
rate_drop=0 rate_satp=0 rate_drophs=0 rate_hs=0 cap_drop=0 cap_satp=0 cap_drophs=0 cap_hs=0
for _ in $(seq "$ROUNDS"); do
	for run in drop satp drophs hs; do
		case $run in
		drop) out=$(flood drop) || exit 1 ;;
		satp) out=$(flood satp) || exit 1 ;;
		drophs) out=$(flood drop 65535 $HS_LEN) || exit 1 ;;
		hs) out=$(flood satp 65535 $HS_LEN) || exit 1 ;;
		esac
		echo "$run: $out"
		line=$(head -1 <<<"$out")
		rate=$(field "$line" pps)
		# shellcheck disable=SC2034 # rate and cap are read through eval below
		cap=$(awk '{ for (i = 2; i <= NF; i++) if ($i == "per" && $(i + 1) == "core,") { print $(i - 2); exit } }' <<<"$line")
		awk -v r="${rate:-0}" 'BEGIN { exit !(r > 0) }' || die "$run: the receiver counted no packet: $line"
		eval "rate_$run=\$(max \"\$rate\" \"\$rate_$run\")"
		eval "cap_$run=\$(max \"\$cap\" \"\$cap_$run\")"
	done
done
echo
awk -v n="$ROUNDS" -v s="$rate_satp" -v d="$rate_drop" -v h="$rate_hs" -v dh="$rate_drophs" \
	-v cs="$cap_satp" -v cd="$cap_drop" -v ch="$cap_hs" -v cdh="$cap_drophs" 'BEGIN {
	printf("best of %d, 114-byte frames: drop rate  satp_rx %.0f pps, xdp_drop %.0f pps, ratio %.3f\n", n, s, d, s / d)
	printf("best of %d, 114-byte frames: capacity   satp_rx %.0f pps/core, xdp_drop %.0f pps/core, ratio %.3f\n", n, cs, cd, cd ? cs / cd : 0)
	printf("best of %d, 194-byte frames: handshakes satp_rx %.0f pps dropped, xdp_drop %.0f pps, ratio %.3f\n", n, h, dh, h / dh)
	printf("best of %d, 194-byte frames: capacity   satp_rx %.0f pps/core, xdp_drop %.0f pps/core, ratio %.3f\n", n, ch, cdh, cdh ? ch / cdh : 0)
}'
echo "(capacity: packets per CPU-second of the veth's NAPI thread, veth's own skb-to-xdp work included;"
echo " one 2-core machine shared with others: the ratios, not the rates, are the figures)"
