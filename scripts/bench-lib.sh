# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Helpers of the tunnel benchmarks (scripts/bench.sh, scripts/profile.sh) on top
# of tests/integration/lib.sh: one tunnel between two namespaces, started for
# one implementation pair and stopped again, iperf3 runs through it, the CPU
# time of the daemons and the packet counters of a device.
#
#   ns a (sender side)                            ns b (receiver side)
#   tun0 10.99.0.1/24  IMPL_A  <--- SATP/UDP --->  IMPL_B  tun0 10.99.0.2/24
#   ul0  10.77.0.1 ------------------ veth ------------------ ul0 10.77.0.2
#
# IMPL is uanytun, anytun, satpd (its default data path) or satpd-off
# (--xdp-mode off), or satpd-base: the satpd at $SATPD_BASE (another build, e.g.
# the commit before a change) with satpd's options, for a before/after in one
# run. A is the left role with sender id 1, B right with 2.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tests/integration/lib.sh"

BLAST=${BLAST:-$BUILD/tests/tools/satp_blast}
BENCH_KEY=000102030405060708090a0b0c0d0e0f
BENCH_SALT=a0a1a2a3a4a5a6a7a8a9aaabacad
BENCH_WINDOW=${WINDOW:-1024} # replay protection on: a replay flood must be refused
BENCH_LOGLEVEL=${LOGLEVEL:-2} # errors only: nothing per packet in anyone's log
BENCH_PORT=4444
IN_A=10.99.0.1
IN_B=10.99.0.2
BPFFS=""
PAIR_PID_A=""
PAIR_PID_B=""
PAIR_RUN=0

# bench_init: lib_init, then a private bpffs for satpd's pinned maps (bpffs is
# not mounted at boot, and `ip netns exec` would hide one under /sys anyway).
bench_init() {
	lib_init
	require_cmd iperf3 jq
	[ -x "$BLAST" ] || fail "$BLAST is not built (make tests)"
	trap bench_cleanup EXIT
	BPFFS=$TMP/bpffs
	mkdir -p "$BPFFS"
	mount -t bpf bpf "$BPFFS" 2>/dev/null || BPFFS=""
	topo_pair a b
	SATPD_HAS_XDP_MODE=0 SATPD_HAS_PIN_ROOT=0 SATPD_HAS_STATE_DIR=0
	local help
	help=$("$SATPD" --help 2>&1)
	grep -q -- '--xdp-mode' <<<"$help" && SATPD_HAS_XDP_MODE=1
	grep -q -- '--pin-root' <<<"$help" && SATPD_HAS_PIN_ROOT=1
	grep -q -- '--state-dir' <<<"$help" && SATPD_HAS_STATE_DIR=1
	return 0
}

bench_cleanup() {
	local b=$BPFFS
	BPFFS=""
	# Daemons first (they hold the pins), then the bpffs, then namespaces and TMP.
	for pid in "${LIB_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	# The pins are released when the daemons are gone (5 s each at most, as lib_cleanup's).
	for pid in "${LIB_PIDS[@]}"; do
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	done
	[ -n "$b" ] && umount "$b" 2>/dev/null
	lib_cleanup
}

# impl_cmd IMPL SIDE: the daemon's command line (without the tunnel options).
impl_cmd() {
	local st=$TMP/state-$2-$PAIR_RUN
	case $1 in
	uanytun) echo "uanytun -D -L stdout:$BENCH_LOGLEVEL" ;;
	anytun) echo "anytun -D -L stdout:$BENCH_LOGLEVEL" ;;
	satpd | satpd-off | satpd-skb | satpd-base)
		local c="$SATPD -D -L stdout:3"
		if [ "$1" = satpd-base ]; then
			[ -x "${SATPD_BASE:-}" ] || return 1
			c="$SATPD_BASE -D -L stdout:3"
		fi
		[ "$SATPD_HAS_STATE_DIR" = 1 ] && c="$c --state-dir $st"
		[ "$SATPD_HAS_PIN_ROOT" = 1 ] && [ -n "$BPFFS" ] && c="$c --pin-root $BPFFS/$2-$PAIR_RUN"
		if [ "$1" != satpd ] && [ "$1" != satpd-base ]; then
			[ "$SATPD_HAS_XDP_MODE" = 1 ] || return 1
			c="$c --xdp-mode ${1#satpd-}"
		fi
		[ -n "${SATPD_OPTS:-}" ] && c="$c $SATPD_OPTS"
		echo "$c"
		;;
	*) return 1 ;;
	esac
}

# pair_start IMPL_A IMPL_B: both ends up and a ping through; 1 (logs kept) if not.
# The logs are PAIR_LOG_A and PAIR_LOG_B, the daemons PAIR_PID_A and PAIR_PID_B.
pair_start() {
	local ca cb
	PAIR_RUN=$((PAIR_RUN + 1))
	# shellcheck disable=SC2034 # for the caller
	PAIR_LOG_A=$TMP/a-$PAIR_RUN.log PAIR_LOG_B=$TMP/b-$PAIR_RUN.log
	ca=$(impl_cmd "$1" a) || return 1
	cb=$(impl_cmd "$2" b) || return 1
	[ -n "$BPFFS" ] && mkdir -p "$BPFFS/a-$PAIR_RUN" "$BPFFS/b-$PAIR_RUN" 2>/dev/null
	# shellcheck disable=SC2086 # the command strings split into words
	start_bg a "a-$PAIR_RUN.log" $ca -i "$UL4_1" -r "$UL4_2" -p $BENCH_PORT -o $BENCH_PORT \
		-e left -s 1 -d tun0 -t tun -n "$IN_A/24" -w "$BENCH_WINDOW" -K $BENCH_KEY -A $BENCH_SALT
	PAIR_PID_A=$LAST_PID
	# shellcheck disable=SC2086
	start_bg b "b-$PAIR_RUN.log" $cb -i "$UL4_2" -r "$UL4_1" -p $BENCH_PORT -o $BENCH_PORT \
		-e right -s 2 -d tun0 -t tun -n "$IN_B/24" -w "$BENCH_WINDOW" -K $BENCH_KEY -A $BENCH_SALT
	PAIR_PID_B=$LAST_PID
	wait_dev a tun0 10 && wait_dev b tun0 10 || return 1
	# Same MTU everywhere (satpd's -n sets 1400, the others keep 1500): equal packets.
	ip -n "$(ns a)" link set tun0 mtu 1400 2>/dev/null
	ip -n "$(ns b)" link set tun0 mtu 1400 2>/dev/null
	wait_ping a "$IN_B" 10 || return 1
	nsx b ping -c 1 -W 2 -q "$IN_A" >/dev/null 2>&1 || return 1
	return 0
}

# pair_stop: both daemons stopped (and forgotten by the cleanup).
pair_stop() {
	local p keep=()
	[ -n "$PAIR_PID_A" ] && stop_pid "$PAIR_PID_A"
	[ -n "$PAIR_PID_B" ] && stop_pid "$PAIR_PID_B"
	for p in "${LIB_PIDS[@]}"; do
		[ "$p" = "$PAIR_PID_A" ] || [ "$p" = "$PAIR_PID_B" ] || keep+=("$p")
	done
	LIB_PIDS=("${keep[@]}")
	PAIR_PID_A="" PAIR_PID_B=""
	ip -n "$(ns a)" link del tun0 2>/dev/null
	ip -n "$(ns b)" link del tun0 2>/dev/null
	return 0
}

# cpu_ticks PID...: utime + stime of the processes (all their threads), in clock ticks.
cpu_ticks() {
	local p t=0 v
	for p in "$@"; do
		# Fields after the ")" of comm: utime and stime are the 12th and 13th.
		v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }')
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# dev_counter NS DEV NAME: a statistics counter of a device in a namespace.
dev_counter() {
	nsx "$1" cat "/sys/class/net/$2/statistics/$3" 2>/dev/null || echo 0
}

# iperf NS-CLIENT NS-SERVER ADDR SECONDS ARGS...: one iperf3 run against a
# one-off server; prints the client's JSON (nothing on failure).
iperf() {
	local c=$1 s=$2 addr=$3 t=$4 spid out
	shift 4
	nsx "$s" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	spid=$!
	LIB_PIDS+=("$spid")
	for _ in $(seq 1 40); do
		nsx "$s" ss -ltn 2>/dev/null | grep -q ':5201 ' && break
		sleep 0.05
	done
	out=$(nsx "$c" timeout $((t + 15)) iperf3 -c "$addr" -p 5201 -t "$t" -J "$@" 2>/dev/null)
	stop_pid "$spid"
	local keep=() p
	for p in "${LIB_PIDS[@]}"; do
		[ "$p" = "$spid" ] || keep+=("$p")
	done
	LIB_PIDS=("${keep[@]}")
	jq -e '.end' >/dev/null 2>&1 <<<"$out" || return 1
	echo "$out"
}

# satpd_path LOG: what satpd says of its data path (XDP attach, workers, fallback).
satpd_path() {
	grep -iE 'data path|xdp-mode|XDP: |AF_XDP|falling back' "$1" 2>/dev/null |
		sed -E 's/^[0-9-]+ [0-9:]+ [A-Z]+: //; s/, maps pinned under .*//' | cut -c1-120 |
		grep -v '^ ' | awk '!seen[$0]++' | paste -sd ';' - # not the counter dumps' lines
}

# machine_ticks: "busy softirq" clock ticks of the whole machine so far, from the
# cpu line of /proc/stat. busy = user + nice + system + irq + softirq + steal: XDP
# and the stack's receive work run in softirq (or NAPI threads, counted as
# system), charged to no tunnel process. guest and guest_nice are already in
# user and nice; idle and iowait are not busy. Other work on the machine is in
# it too (iperf3, the generator, other users): it is a whole-machine figure.
machine_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $8; exit }' /proc/stat; }

# machine_delta "BUSY0 SOFT0" "BUSY1 SOFT1": "busy softirq" ticks between two machine_ticks.
machine_delta() {
	local b0 s0 b1 s1
	read -r b0 s0 <<<"$1"
	read -r b1 s1 <<<"$2"
	echo "$((b1 - b0)) $((s1 - s0))"
}

# require_xdp LOG MODE [SECONDS]: until satpd's LOG says satp_rx is attached in MODE
# (native or skb); 1 with what it said of its data path instead.
require_xdp() {
	local said
	wait_log "$1" "XDP: satp_rx on .* in $2 mode" "${3:-10}" && return 0
	said=$(satpd_path "$1")
	echo "satpd did not get XDP in $2 mode: ${said:-$(tail -n 3 "$1" | tr '\n' ' ')}"
	return 1
}

# forget_pid PID: drop a process that was waited for from the cleanup's list.
forget_pid() {
	local keep=() p
	for p in "${LIB_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	LIB_PIDS=("${keep[@]}")
}
