#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make bench: satpd, uanytun and anytun side by side through the same veth
# topology (scripts/bench-lib.sh), in one run, interleaved: every round runs
# every configuration once (A, B, C, ... then A, B, C again), so drift and the
# other work on this shared machine hit all alike. Per configuration:
#
#   tcp       iperf3 TCP a -> b, one stream, and -P 2 (Mbit/s)
#   udp64     64-byte inner packets (iperf3 -u -l 36), highest rate with <= 0.5 %
#             loss: an overload probe, then a bisection (kpps)
#   udp1400   1400-byte inner packets (-l 1372), the same search (Mbit/s of inner packets)
#   cpu       over the single-stream TCP run, per GB received (s/GB): utime+stime
#             of both tunnel daemons; beside it the whole machine's softirq time
#             and busy time from /proc/stat (user+nice+system+irq+softirq+steal),
#             where XDP and the stack's receive work are charged to no process.
#             The machine figures hold everything on it (iperf3, other users'
#             work): the interleaved rounds spread that noise over all columns
#   rx        receive capacity: satp_blast seals 64-byte inner packets with fresh
#             seqs and blasts them from ns a at b's daemon at full speed; inner
#             packets per second delivered to b's IP stack, counted by an nftables
#             rule in b's input hook that drops them (inner UDP to port 9, where
#             nothing listens: without the rule the kernel would route an ICMP
#             port-unreachable for each, rate-limited but costing both tunnels'
#             tun writes alike); b's tun0 rx_packets where nft is missing
#   flood     TCP while satp_blast floods b with invalid SATP (bad tag, unknown
#             mux, replays in turn), as a fraction of the same round's unflooded
#             TCP; once with sendmmsg at FLOOD_PPS and once through AF_XDP at
#             FLOODX_PPS (n/a where satpd on a holds the queue). The flood is
#             paced, so every configuration gets the same offered load; a run
#             whose generator fell below OFFERED_MIN of its rate shows "short"
#             and is left out of the statistic (its load was another)
#
# One table: the statistic (median by default) of the rounds, each cell with its
# ratio against uanytun -> uanytun (for cpu: uanytun's figure over this one,
# so > 1 is better everywhere). A configuration that does not come up, a satpd
# that did not get the XDP mode its name says (satpd: native, satpd-skb: skb),
# or a measurement that fails, shows as "failed"; the rest goes on, and the
# benchmark exits 1 at the end when a configuration did not come up as named.
#
# Environment: BUILD, ROUNDS (3), DURATION (seconds a run, 4), UDP_STEPS (4),
# UDP_SECONDS (2), RX_RING (slots of the rx blast), STAT (median|best), BLAST_TX
# (auto: AF_XDP where the queue is free, else sendmmsg; xsk; sendmmsg), CONFIGS (space-separated A:B pairs),
# MAX_SECONDS (900: no new round is started after that), QUICK=1 (one
# round of short runs, about 2 minutes), SATPD_OPTS (extra satpd options),
# FLOOD_PPS (100000), FLOODX_PPS (FLOOD_PPS), SATPD_BASE (another satpd binary,
# e.g. built from the commit before a change: adds the configuration
# satpd-base:satpd-base after satpd:satpd, run in the same rounds with the same
# options, and a last column satpd/base with satpd's figure over the base's,
# > 1 better, as the other ratios; the options must be the same as satpd's).
set -u
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

if [ -n "${QUICK:-}" ]; then
	ROUNDS=${ROUNDS:-1} DURATION=${DURATION:-2} UDP_STEPS=${UDP_STEPS:-3} UDP_SECONDS=${UDP_SECONDS:-1}
	MAX_SECONDS=${MAX_SECONDS:-170} RX_RING=${RX_RING:-2097152}
fi
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-4}
UDP_STEPS=${UDP_STEPS:-4}
UDP_SECONDS=${UDP_SECONDS:-2}
STAT=${STAT:-median}
MAX_SECONDS=${MAX_SECONDS:-900}
# Slots of the receive-capacity blast: enough for a whole run at the generator's
# speed, so that no sealing happens while it is measured (4 Mi: 512 MB with
# AF_XDP's 128-byte slots; sealed once a run, ~6 s, then read from a ring file).
RX_RING=${RX_RING:-4194304}
# The A/B pair: the base runs right after satpd in every round.
BASE_CFG=""
[ -n "${SATPD_BASE:-}" ] && BASE_CFG=satpd-base:satpd-base
CONFIGS=${CONFIGS:-uanytun:uanytun uanytun:satpd satpd:satpd $BASE_CFG satpd-off:satpd-off anytun:anytun}
FLOOD_PPS=${FLOOD_PPS:-100000}   # sendmmsg keeps this here with margin while the cores are shared
FLOODX_PPS=${FLOODX_PPS:-$FLOOD_PPS} # the same load, from a generator that costs less CPU
OFFERED_MIN=0.9
LOSS_MAX=0.5
UDP64_LEN=36    # + 8 UDP + 20 IPv4 = a 64-byte inner packet
UDP1400_LEN=1372
UDP64_HI=400000 # pps where the search starts: above what any of them delivers here
UDP1400_HI=250000
CLK_TCK=$(getconf CLK_TCK)
read -r -a CFG <<<"$CONFIGS"
declare -A RES  # "metric,config" -> values of the rounds, space-separated
declare -A PATH_OF # "config" -> what satpd said of its data path
declare -A TX_OF   # "rx,config" -> how the generator sent (xsk, sendmmsg)
BLAST_TX=${BLAST_TX:-auto}
START=$SECONDS
BROKEN="" # configurations that did not come up, or not on their data path, in some round

if [[ " $CONFIGS " == *satpd-base* ]]; then
	if [ -z "${SATPD_BASE:-}" ] || [ ! -x "$SATPD_BASE" ]; then
		echo "bench: a satpd-base configuration needs SATPD_BASE=/path/to/satpd" >&2
		exit 1
	fi
fi

bench_init

# The rx blast's sink in b (see rx above): SINK=1 when its counter can be read.
SINK=0
if command -v nft >/dev/null 2>&1 && nsx b nft -f - <<NFT; then
table inet satp_bench_sink {
	chain input {
		type filter hook input priority 0;
		ip daddr $IN_B udp dport 9 counter drop
	}
}
NFT
	SINK=1
fi

# rx_count: inner packets delivered in b so far (the sink's counter, else tun0's).
rx_count() {
	if [ "$SINK" = 1 ]; then
		nsx b nft list chain inet satp_bench_sink input 2>/dev/null |
			awk '{ for (i = 1; i < NF; i++) if ($i == "packets") { print $(i + 1); exit } }'
	else
		dev_counter b tun0 rx_packets
	fi
}

note() { printf '# %s\n' "$*"; }

add() { RES[$1,$2]="${RES[$1,$2]:-} $3"; }

calc() { awk "BEGIN { printf \"%.${2:-0}f\", $1 }"; }

# tcp_run NAME CFG ARGS...: one TCP run; echoes "Mbit/s bytes" (or returns 1).
tcp_run() {
	local out
	out=$(iperf a b "$IN_B" "$DURATION" "$@") || return 1
	jq -r '.end.sum_received | "\(.bits_per_second / 1e6) \(.bytes)"' <<<"$out"
}

# udp_try LEN PPS: "loss-percent delivered-pps" of one paced UDP run.
udp_try() {
	local out bps=$(($2 * $1 * 8))
	out=$(iperf a b "$IN_B" "$UDP_SECONDS" -u -l "$1" -b "$bps") || return 1
	jq -r '.end.sum | "\(.lost_percent) \((.packets - .lost_packets) / .seconds)"' <<<"$out"
}

ok_loss() { awk -v l="$1" -v m="$LOSS_MAX" 'BEGIN { exit !(l <= m) }'; }

# udp_search LEN HI: the highest pps with loss <= LOSS_MAX that the search found;
# "none" when no rate it tried passed (not a rate of 0).
# The first run overloads at HI: what gets through is a first estimate D; the
# next tries 0.9 D, then bisection between the best pass and the lowest fail.
udp_search() {
	local len=$1 hi=$2 r loss d lo=0 cand best=0
	r=$(udp_try "$len" "$hi") || return 1
	read -r loss d <<<"$r"
	if ok_loss "$loss"; then
		echo "$hi"
		return 0
	fi
	hi=$(calc "($d * 1.15 < $hi) ? $d * 1.15 : $hi")
	cand=$(calc "$d * 0.9")
	for _ in $(seq 2 "$UDP_STEPS"); do
		[ "$cand" -gt 0 ] || break
		r=$(udp_try "$len" "$cand") || return 1
		read -r loss d <<<"$r"
		if ok_loss "$loss"; then
			best=$cand lo=$cand
		else
			hi=$cand
		fi
		cand=$(((lo + hi) / 2))
	done
	[ "$best" -gt 0 ] || { echo none; return 0; }
	echo "$best"
}

# blast_start SECONDS ARGS...: satp_blast from ns a at b's daemon, in the background
# (BLAST_PID), its report in $TMP/blast.out; returns once its ring is sealed.
blast_start() {
	local t=$1
	shift
	rm -f "$TMP/blast.ready"
	ip netns exec "$(ns a)" "$BLAST" --dst "$UL4_2" --port "$BENCH_PORT" --key "$BENCH_KEY" \
		--salt "$BENCH_SALT" --role left --inner-src "$IN_A" --inner-dst "$IN_B" --seconds "$t" \
		--ready "$TMP/blast.ready" "$@" >"$TMP/blast.out" 2>&1 &
	BLAST_PID=$!
	LIB_PIDS+=("$BLAST_PID")
	for _ in $(seq 1 1200); do # sealing a large ring the first time takes seconds
		[ -f "$TMP/blast.ready" ] && return 0
		kill -0 "$BLAST_PID" 2>/dev/null || break
		sleep 0.05
	done
	blast_wait
	return 1
}

# blast_bg SECONDS ARGS...: blast_start through AF_XDP (BLAST_TX auto or xsk), else
# (or when the queue is taken, e.g. by satpd's own AF_XDP socket) with sendmmsg.
# BLAST_USED says which.
blast_bg() {
	local mac
	if [ "$BLAST_TX" != sendmmsg ]; then
		mac=$(nsx b cat /sys/class/net/ul0/address)
		BLAST_USED=xsk
		blast_start "$@" --xsk ul0 --dst-mac "$mac" --src "$UL4_1" && return 0
		sed 's/^/# /' "$TMP/blast.out"
		[ "$BLAST_TX" = xsk ] && return 1
	fi
	BLAST_USED=sendmmsg
	blast_start "$@"
}

# blast_wait: the generator's packets per second in BLAST_PPS (not a subshell: it waits).
blast_wait() {
	wait "$BLAST_PID" 2>/dev/null
	local keep=() p
	for p in "${LIB_PIDS[@]}"; do
		[ "$p" = "$BLAST_PID" ] || keep+=("$p")
	done
	LIB_PIDS=("${keep[@]}")
	BLAST_PPS=$(awk '{ for (i = 1; i < NF; i++) if ($(i + 1) == "pps") print $i }' "$TMP/blast.out")
}

# flood TX METRIC TCP1 PPS: TCP under a flood of invalid SATP (bad tag, unknown mux,
# replays: b never learns the flooder as its remote) paced at PPS through TX
# (sendmmsg or xsk), as a fraction of TCP1; "n/a" when TX cannot be had (AF_XDP:
# a's queue taken by satpd's own socket), "short" when the generator did not keep
# OFFERED_MIN of PPS (another load than the other configurations').
flood() {
	local tx=$1 m=$2 tcp1=$3 pps=$4 r frac=failed c0
	c0=$(dev_counter a ul0 tx_packets)
	if ! BLAST_TX=$tx blast_bg $((DURATION + 3)) --mode mix --sid 7 --pps "$pps"; then
		add "$m" "$cfg" n/a
		return
	fi
	# Under way: a tenth of a second's worth has left a (no TCP runs yet).
	wait_at_least $((c0 + pps / 10)) 10 dev_counter a ul0 tx_packets >/dev/null
	if [ -n "$tcp1" ] && r=$(tcp_run flood); then
		frac=$(calc "${r%% *} / $tcp1" 3)
	fi
	kill -TERM "$BLAST_PID" 2>/dev/null
	blast_wait
	add "${m}pps" "$cfg" "${BLAST_PPS:-failed}"
	if [ -z "${BLAST_PPS:-}" ] || [ "$(calc "$BLAST_PPS < $OFFERED_MIN * $pps")" = 1 ]; then
		frac=short
	fi
	add "$m" "$cfg" "$frac"
}

# xdp_as_named IMPL LOG: 0 unless IMPL names an XDP mode (satpd: native, satpd-skb: skb)
# that satpd's LOG does not report; then the reason.
xdp_as_named() {
	case $1 in
	satpd | satpd-base) require_xdp "$2" native ;;
	satpd-skb) require_xdp "$2" skb ;;
	*) return 0 ;;
	esac
}

# measure CFG ROUND: every measurement of one configuration, recorded with add.
measure() {
	local cfg=$1 a=${1%%:*} b=${1##*:} r mbps bytes t0 t1 m0 m1 busy soft v c0 c1 s0 s1 tcp1="" why=""
	if ! pair_start "$a" "$b"; then
		why="the tunnel did not come up (logs: $(tail -n 3 "$PAIR_LOG_A" "$PAIR_LOG_B" 2>/dev/null | tr '\n' ' ' | cut -c1-300))"
	elif ! why=$(xdp_as_named "$a" "$PAIR_LOG_A") || ! why=$(xdp_as_named "$b" "$PAIR_LOG_B"); then
		why="not the data path its name says: $why"
	fi
	if [ -n "$why" ]; then
		note "$cfg: $why"
		BROKEN="$BROKEN $cfg"
		for m in tcp1 tcp2 udp64 udp1400 cpu cpus cpum rx flood floodx; do add $m "$cfg" failed; done
		pair_stop
		return
	fi
	[[ $b == satpd* ]] && [ -z "${PATH_OF[$cfg]:-}" ] && PATH_OF[$cfg]=$(satpd_path "$PAIR_LOG_B")

	t0=$(cpu_ticks "$PAIR_PID_A" "$PAIR_PID_B") m0=$(machine_ticks)
	if r=$(tcp_run tcp1); then
		t1=$(cpu_ticks "$PAIR_PID_A" "$PAIR_PID_B") m1=$(machine_ticks)
		read -r mbps bytes <<<"$r"
		read -r busy soft <<<"$(machine_delta "$m0" "$m1")"
		tcp1=$mbps
		add tcp1 "$cfg" "$(calc "$mbps")"
		add cpu "$cfg" "$(calc "($t1 - $t0) / $CLK_TCK / ($bytes / 1e9)" 2)"
		add cpus "$cfg" "$(calc "$soft / $CLK_TCK / ($bytes / 1e9)" 2)"
		add cpum "$cfg" "$(calc "$busy / $CLK_TCK / ($bytes / 1e9)" 2)"
	else
		for m in tcp1 cpu cpus cpum; do add $m "$cfg" failed; done
	fi
	if r=$(tcp_run tcp2 -P 2); then
		add tcp2 "$cfg" "$(calc "${r%% *}")"
	else
		add tcp2 "$cfg" failed
	fi
	if v=$(udp_search $UDP64_LEN $UDP64_HI) && [ "$v" = none ]; then
		add udp64 "$cfg" none
	elif [ -n "$v" ]; then
		add udp64 "$cfg" "$(calc "$v / 1000" 1)"
	else
		add udp64 "$cfg" failed
	fi
	if v=$(udp_search $UDP1400_LEN $UDP1400_HI) && [ "$v" = none ]; then
		add udp1400 "$cfg" none
	elif [ -n "$v" ]; then
		add udp1400 "$cfg" "$(calc "$v * 1400 * 8 / 1e6")"
	else
		add udp1400 "$cfg" failed
	fi

	flood sendmmsg flood "$tcp1" "$FLOOD_PPS"
	flood xsk floodx "$tcp1" "$FLOODX_PPS"

	# Receive capacity last, a stopped: its queue is free for the generator's AF_XDP
	# socket, and nothing else competes for the CPU.
	stop_pid "$PAIR_PID_A"
	c0=$(rx_count)
	blast_bg $((DURATION + 1)) --mode valid --sid 9 --ring "$RX_RING" --ring-file "$TMP/rx-ring"
	# Under way: b delivers (at most 10 s; with nothing delivered the cell fails below).
	wait_at_least $((c0 + 1000)) 10 rx_count >/dev/null
	c0=$(rx_count) s0=$(date +%s.%N)
	sleep "$DURATION"
	c1=$(rx_count) s1=$(date +%s.%N)
	blast_wait
	add blastpps "$cfg" "${BLAST_PPS:-failed}"
	TX_OF[rx,$cfg]=$BLAST_USED
	if [ "$c1" -gt "$c0" ]; then
		add rx "$cfg" "$(calc "($c1 - $c0) / ($s1 - $s0) / 1000" 1)"
	else
		add rx "$cfg" failed
	fi
	pair_stop
}

# stat VALUES...: the median or best of the numeric ones; "failed" if none.
stat() {
	local low=0
	[ $# -gt 0 ] || { echo failed; return; }
	[ "$1" = low ] && { low=1; shift; }
	printf '%s\n' "$@" | awk -v s="$STAT" -v low="$low" '
		/^[0-9.]+$/ { v[n++] = $1 + 0; next }
		/./ { other = $1 }
		END {
			if (!n) { print other ? other : "failed"; exit }
			for (i = 0; i < n; i++) for (j = i + 1; j < n; j++)
				if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
			if (s == "best") r = low ? v[0] : v[n - 1]
			else r = (n % 2) ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
			print r
		}'
}

# ab_ratio METRIC [low]: satpd's statistic over satpd-base's (base over satpd for
# a "low" row), so > 1 is better as in the other columns; "-" if either is not a number.
ab_ratio() {
	local n o
	# shellcheck disable=SC2086 # the values split into words
	n=$(stat $2 ${RES[$1,satpd:satpd]:-})
	# shellcheck disable=SC2086
	o=$(stat $2 ${RES[$1,satpd-base:satpd-base]:-})
	if ! [[ $n =~ ^[0-9.]+$ && $o =~ ^[0-9.]+$ ]] || [ "$(calc "$n == 0 || $o == 0")" = 1 ]; then
		echo -
	elif [ "$2" = low ]; then
		calc "$o / $n" 3
	else
		calc "$n / $o" 3
	fi
}

kilo() {
	if [[ $1 =~ ^[0-9.]+$ ]]; then calc "$1 / 1000"; else echo -; fi
}

label() {
	local a=${1%%:*} b=${1##*:}
	a=${a/uanytun/ua} b=${b/uanytun/ua}
	echo "$a>$b"
}

note "satp_blast $BLAST; satpd $SATPD (--xdp-mode: $([ "$SATPD_HAS_XDP_MODE" = 1 ] && echo supported || echo not supported))"
[ -n "${SATPD_BASE:-}" ] && note "satpd-base $SATPD_BASE"
note "rounds $ROUNDS, $DURATION s runs, UDP search $UDP_STEPS x $UDP_SECONDS s, loss <= $LOSS_MAX %, $STAT of rounds"
note "window -w $BENCH_WINDOW, log level $BENCH_LOGLEVEL (satpd 3), tun MTU 1400, defaults: aes-ctr-128, sha1, tag 10"
for round in $(seq 1 "$ROUNDS"); do
	# A round runs every configuration or none: each median is over as many rounds.
	if [ "$round" -gt 1 ] && [ $((SECONDS - START)) -ge "$MAX_SECONDS" ]; then
		note "time budget of $MAX_SECONDS s used up: rounds $round to $ROUNDS not run"
		ROUNDS=$((round - 1))
		break
	fi
	for cfg in "${CFG[@]}"; do
		measure "$cfg"
		# n/a measurements leave no entry (set -u): an empty one
		: "${RES[floodpps,$cfg]:=}" "${RES[floodxpps,$cfg]:=}" "${RES[blastpps,$cfg]:=}"
		note "round $round $(label "$cfg"):$(for m in tcp1 tcp2 udp64 udp1400 cpu cpus cpum flood floodx rx; do
			printf ' %s %s' "$m" "${RES[$m,$cfg]##* }"
		done) (flood ${RES[floodpps,$cfg]##* } ${RES[floodxpps,$cfg]##* } pps, blast ${RES[blastpps,$cfg]##* } pps)"
	done
done

BASE=uanytun:uanytun
ROWS=(
	"tcp1|TCP 1 stream (Mbit/s)|high"
	"tcp2|TCP -P 2 (Mbit/s)|high"
	"udp64|UDP 64 B no-loss (kpps)|high"
	"udp1400|UDP 1400 B no-loss (Mbit/s)|high"
	"cpu|CPU s/GB, daemons (ua/this)|low"
	"cpus|softirq s/GB, machine|low"
	"cpum|busy s/GB, machine|low"
	"rx|rx capacity 64 B (kpps)|high"
	"flood|TCP, $((FLOOD_PPS / 1000)) kpps flood (frac)|high"
	"floodx|TCP, $((FLOODX_PPS / 1000)) kpps AF_XDP fl. (frac)|high"
)
echo
# satpd/base: both in this run's configurations (their own columns show the figures).
AB=0
[[ " ${CFG[*]} " == *" satpd:satpd "* && " ${CFG[*]} " == *" satpd-base:satpd-base "* ]] && AB=1
printf '%-30s' "$STAT of $ROUNDS, a -> b"
for cfg in "${CFG[@]}"; do printf '%22s' "$(label "$cfg")"; done
[ "$AB" = 1 ] && printf '%12s' "satpd/base"
echo
for row in "${ROWS[@]}"; do
	IFS='|' read -r m title dir <<<"$row"
	printf '%-30s' "$title"
	low=""
	[ "$dir" = low ] && low=low
	# shellcheck disable=SC2086 # the values split into words
	base=$(stat $low ${RES[$m,$BASE]:-})
	for cfg in "${CFG[@]}"; do
		# shellcheck disable=SC2086
		v=$(stat $low ${RES[$m,$cfg]:-})
		if ! [[ $v =~ ^[0-9.]+$ ]]; then
			cell=$v
		elif [ "$base" = failed ] || [ "$(calc "$base == 0 || $v == 0" 0)" = 1 ]; then
			cell=$v
		elif [ "$dir" = low ]; then
			cell="$v ($(calc "$base / $v" 2)x)"
		else
			cell="$v ($(calc "$v / $base" 2)x)"
		fi
		printf '%22s' "$cell"
	done
	[ "$AB" = 1 ] && printf '%12s' "$(ab_ratio "$m" "$low")"
	echo
done
for m in flood floodx; do
	printf '%-30s' "$m offered (kpps)"
	for cfg in "${CFG[@]}"; do
		# shellcheck disable=SC2086
		printf '%22s' "$(kilo "$(stat ${RES[${m}pps,$cfg]:-})")"
	done
	echo
done
printf '%-30s' "rx blast offered (kpps, tx)"
for cfg in "${CFG[@]}"; do
	# shellcheck disable=SC2086
	printf '%22s' "$(kilo "$(stat ${RES[blastpps,$cfg]:-})") ${TX_OF[rx,$cfg]:-}"
done
echo
echo
for cfg in "${CFG[@]}"; do
	[ -n "${PATH_OF[$cfg]:-}" ] && echo "$(label "$cfg"): satpd (receiver b): ${PATH_OF[$cfg]}"
done
[ "$AB" = 1 ] && echo "satpd/base: satpd>satpd over satpd-base>satpd-base ($SATPD_BASE), same rounds; > 1 better."
echo "ratios: against ua>ua in the same run; flood: TCP with the flood / TCP without, same round, the"
echo "flood paced at the same rate for every configuration (offered rows: what the generator kept;"
echo "\"short\": below $OFFERED_MIN of the rate, left out); CPU per GB received over the 1-stream TCP run:"
echo "the two daemons' processes; the machine's softirq (XDP and the stack's receive work) and busy time"
echo "(/proc/stat user+nice+system+irq+softirq+steal: everything on the machine, iperf3 and others' work too);"
echo "udp: \"none\": no rate the search tried kept the loss <= $LOSS_MAX %."
echo "rx: inner packets per second delivered in b ($([ "$SINK" = 1 ] && echo "nft sink counter" || echo "tun0 rx_packets")) while satp_blast sends valid SATP from ns a."
echo "2 cores shared by both daemons, iperf3, the generator (and other engineers' work)."
note "took $((SECONDS - START)) s"
# The table shows what could be measured; the exit status says a prerequisite failed.
[ -z "$BROKEN" ] || fail "not measured as named in some round (see the notes above):$BROKEN"
