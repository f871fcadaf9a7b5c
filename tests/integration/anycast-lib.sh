# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Helpers for test_anycast.sh on top of lib.sh: namespace sysctls for a routed
# topology, BIRD config templates, waiting for a route, and the ping-gap
# measurement.

# ns_sysctls NS: no reverse-path filter (the anycast address answers from a dummy
# device, and inner traffic crosses tun0 and ul0) and no IPv6 DAD delays.
ns_sysctls() {
	nsx "$1" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
}

# fill_template IN OUT NAME=VALUE...: OUT is IN with every @NAME@ replaced; a
# placeholder left unfilled is an error in the test, not a BIRD parse error later.
fill_template() {
	local in=$1 out=$2 kv args=()
	shift 2
	for kv in "$@"; do
		args+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
	done
	sed "${args[@]}" "$in" >"$out" || fail "cannot fill $in"
	! grep -n '@[A-Z][A-Z0-9_]*@' "$out" || fail "$in: placeholders left unfilled"
}

# wait_route NS DST VIA [SECONDS]: until the kernel in NS routes DST via VIA. Polls
# every 20 ms: the moment matters for the failover figures.
wait_route() {
	local t=${4:-10}
	for _ in $(seq 1 $((t * 50))); do
		ip -n "$(ns "$1")" route get "$2" 2>/dev/null | grep -q "via $3 " && return 0
		sleep 0.02
	done
	return 1
}

# ping_losses LOG INTERVAL: from `ping -D` output, every run of unanswered pings as
# "N lost or late (seq A..B, ~MS ms)", comma separated: the interruptions the traffic saw,
# at the ping interval's resolution. An answer merely late on a busy machine, still in
# order, is no gap; one overtaken by later answers is (it came after the gap).
ping_losses() {
	awk -v iv="$2" '
		/icmp_seq=/ {
			match($0, /icmp_seq=[0-9]+/)
			seq = substr($0, RSTART + 9, RLENGTH - 9) + 0
			if (n++ && seq > lseq + 1) {
				lost = seq - lseq - 1
				out = out sep sprintf("%d lost or late (seq %d..%d, ~%d ms)", lost, lseq + 1, seq - 1,
					(lost + 1) * iv * 1000)
				sep = ", "
			}
			if (seq > lseq) lseq = seq
		}
		END { print out }' "$1"
}

# ping_summary LOG: "N sent, M answered".
ping_summary() {
	awk '/packets transmitted/ { print $1 " sent, " $4 " answered" }' "$1"
}

# ping_max_gap LOG [FROM TO]: the longest time between two consecutive answers, in seconds;
# with FROM and TO (epoch seconds, as `ping -D` and `date +%s.%N` give) only the gaps that
# overlap that span (one move of the route).
ping_max_gap() {
	awk -v from="${2:-0}" -v to="${3:-1e12}" '/icmp_seq=/ {
			ts = substr($1, 2, length($1) - 2) + 0
			if (n++ && ts >= from && last <= to && ts - last > max) max = ts - last
			last = ts
		}
		END { printf "%.3f", max }' "$1"
}
