# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Shared helpers for the integration tests: uniquely named network namespaces
# joined by veth pairs, daemons started in the background with their PIDs
# recorded, waits, and one cleanup that removes exactly what was created.
#
#   . "$(dirname "$0")/lib.sh"
#   lib_init                       # temp dir, trap, root and tool checks
#   topo_pair a b                  # ns a <-veth-> ns b, 10.77.0.1/.2, fd00:77::1/::2
#   start_bg a LOG satpd ...       # runs in ns a, output to $TMP/LOG, PID recorded
#   wait_dev a tun0 || fail ...
#
# Every name includes $$: other engineers run tests at the same time.

set -u

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$LIB_DIR/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$REPO_ROOT/$BUILD ;; esac
SATPD=${SATPD:-$BUILD/satpd}

NS_PREFIX="st$$"
LIB_NETNS=()
LIB_PIDS=()
TMP=""

# Underlay addresses topo_pair gives: side 1 and side 2 of the veth.
UL4_1=10.77.0.1
UL4_2=10.77.0.2
UL6_1=fd00:77::1
UL6_2=fd00:77::2

log() { printf '# %s\n' "$*"; }
fail() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}
skip() {
	printf 'SKIP: %s\n' "$*"
	exit 77
}

lib_cleanup() {
	local pid ns i
	for pid in "${LIB_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${LIB_PIDS[@]}"; do
		for i in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	LIB_PIDS=()
	for ns in "${LIB_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	LIB_NETNS=()
	if [ -n "$TMP" ] && mountpoint -q "$TMP/bpf" 2>/dev/null; then
		umount "$TMP/bpf" 2>/dev/null || umount -l "$TMP/bpf"
	fi
	if [ -n "$TMP" ] && [ -d "$TMP" ]; then
		if [ -n "${KEEP_TMP:-}" ]; then
			log "kept $TMP"
		else
			rm -rf "$TMP"
		fi
	fi
}

# require_cmd NAME...: skip when a tool is missing.
require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c is not installed (scripts/deps.sh installs it)"
	done
}

lib_init() {
	[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
	require_cmd ip
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	[ -x "$SATPD" ] || fail "$SATPD is not built (make all)"
	TMP=$(mktemp -d "/tmp/satpd-test.$$.XXXXXX")
	trap lib_cleanup EXIT
	trap 'exit 130' INT TERM
	ip netns add "${NS_PREFIX}-probe" 2>/dev/null || skip "cannot create network namespaces"
	ip netns del "${NS_PREFIX}-probe"
}

# bpffs_init: a bpffs of this test's own at $TMP/bpf, in the root mount namespace so that
# every `ip netns exec` (a fresh mount namespace each) sees it: pinned windows survive a
# daemon restart. satpd gets --pin-root $TMP/bpf/<side>. Skips when bpffs cannot be mounted.
bpffs_init() {
	mkdir -p "$TMP/bpf"
	mount -t bpf bpf "$TMP/bpf" 2>/dev/null || skip "cannot mount a bpffs (no BPF in this kernel?)"
}

# ns NAME: the full namespace name of a short one.
ns() { printf '%s-%s' "$NS_PREFIX" "$1"; }

ns_create() {
	local n
	n=$(ns "$1")
	ip netns add "$n" || fail "cannot create namespace $n"
	LIB_NETNS+=("$n")
	ip -n "$n" link set lo up
}

# nsx NAME CMD...: run in a namespace.
nsx() {
	local n
	n=$(ns "$1")
	shift
	ip netns exec "$n" "$@"
}

# veth_link NS1 IF1 ADDR4/LEN ADDR6/LEN NS2 IF2 ADDR4/LEN ADDR6/LEN: the pair is
# created inside the namespaces, never in the root namespace.
veth_link() {
	local n1 n2
	n1=$(ns "$1")
	n2=$(ns "$5")
	ip link add name "$2" netns "$n1" type veth peer name "$6" netns "$n2" ||
		fail "cannot create veth pair"
	ip -n "$n1" addr add "$3" dev "$2"
	ip -n "$n1" -6 addr add "$4" dev "$2" nodad
	ip -n "$n2" addr add "$7" dev "$6"
	ip -n "$n2" -6 addr add "$8" dev "$6" nodad
	ip -n "$n1" link set "$2" up
	ip -n "$n2" link set "$6" up
}

# topo_pair A B: two namespaces and one veth between them.
topo_pair() {
	ns_create "$1"
	ns_create "$2"
	veth_link "$1" ul0 "$UL4_1/24" "$UL6_1/64" "$2" ul0 "$UL4_2/24" "$UL6_2/64"
}

# topo_star HUB C1 C2: the hub has one veth to each client, 10.77.1.0/24 and 10.77.2.0/24
# (hub .1, client .2; fd00:77:1::/64, fd00:77:2::/64).
topo_star() {
	ns_create "$1"
	ns_create "$2"
	ns_create "$3"
	veth_link "$1" ul1 10.77.1.1/24 fd00:77:1::1/64 "$2" ul0 10.77.1.2/24 fd00:77:1::2/64
	veth_link "$1" ul2 10.77.2.1/24 fd00:77:2::1/64 "$3" ul0 10.77.2.2/24 fd00:77:2::2/64
}

# topo_bridge HUB C1 C2: three namespaces on one Ethernet segment (a bridge in a fourth,
# SW): HUB 10.77.0.1, C1 10.77.0.2, C2 10.77.0.3 (fd00:77::1/2/3), each on its ul0.
topo_bridge() {
	local sw=$1-sw n i=1
	ns_create "$sw"
	ip -n "$(ns "$sw")" link add br0 type bridge || fail "cannot create a bridge"
	ip -n "$(ns "$sw")" link set br0 up
	for n in "$1" "$2" "$3"; do
		ns_create "$n"
		ip link add name ul0 netns "$(ns "$n")" type veth peer name "p$i" netns "$(ns "$sw")" ||
			fail "cannot create veth pair"
		ip -n "$(ns "$sw")" link set "p$i" master br0 up
		ip -n "$(ns "$n")" addr add "10.77.0.$i/24" dev ul0
		ip -n "$(ns "$n")" -6 addr add "fd00:77::$i/64" dev ul0 nodad
		ip -n "$(ns "$n")" link set ul0 up
		i=$((i + 1))
	done
}

# start_bg NS LOGNAME CMD...: start in the background, output to $TMP/LOGNAME,
# PID recorded (ip netns exec execs the command: the PID is the daemon's).
# The PID is left in LAST_PID.
start_bg() {
	local n=$1 logf=$TMP/$2 name=${2%.log}
	shift 2
	# Every satpd gets a control socket of its own unless the test names one: the default
	# /run/satpd/<dev>.sock is shared by all namespaces (and by other engineers' tests).
	if [ "$1" = "$SATPD" ] && ! printf '%s\n' "$@" | grep -qx -- '--ctl-socket'; then
		mkdir -p "$TMP/run"
		set -- "$@" --ctl-socket "$(ctl_sock "$n-$name")"
	fi
	# Emptied here, not by the child's redirection: that runs after the fork, so a
	# wait_log straight after could still read the previous run's lines from LOG.
	: >"$logf"
	ip netns exec "$(ns "$n")" "$@" >>"$logf" 2>&1 &
	LAST_PID=$!
	LIB_PIDS+=("$LAST_PID")
}

# ctl_sock NAME: the control socket path start_bg gives a satpd (NAME = ns-log, e.g. a-satpd).
ctl_sock() { printf '%s/run/%s.sock' "$TMP" "$1"; }

# stop_pid PID: TERM, wait for it; returns its exit status.
stop_pid() {
	local i
	kill -TERM "$1" 2>/dev/null
	for i in $(seq 1 25); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.2
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# wait_dev NS DEV [SECONDS]: until the device exists (and is up when the daemon sets it up).
wait_dev() {
	local i t=${3:-10}
	for i in $(seq 1 $((t * 10))); do
		ip -n "$(ns "$1")" link show "$2" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# wait_route_to NS ADDR [SECONDS]: until NS has a route to ADDR (the daemon set the
# device's address: the device existing is not enough to send through it).
wait_route_to() {
	local i t=${3:-10}
	for i in $(seq 1 $((t * 10))); do
		ip -n "$(ns "$1")" route get "$2" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# wait_until SECONDS CMD...: until CMD (a command or a function of the test) succeeds;
# 1 after at least SECONDS (bash's SECONDS counts whole seconds: one more is added).
# The one polling loop: callers assert on its result.
wait_until() {
	local end=$((SECONDS + $1 + 1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# wait_log FILE PATTERN [SECONDS]: until the log has a line matching PATTERN.
wait_log() { wait_until "${3:-10}" grep -q -- "$2" "$1" 2>/dev/null; }

# wait_ping NS ADDR [SECONDS]: until one ping answers (the tunnel is up). The deadline is
# in seconds, not tries: a ping to an address not yet routed (the daemon has not set its
# device's address) fails at once, and ten such tries took 0.3 s.
wait_ping() {
	local end=$((SECONDS + ${3:-10}))
	while :; do
		nsx "$1" ping -c 1 -W 1 -q "$2" >/dev/null 2>&1 && return 0
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.2
	done
}

# watch_start NS DEV FILTER: record what DEV in NS carries that matches the tcpdump
# FILTER from now until watch_count: what a replay itself caused, unlike a global
# counter that any other traffic moves too.
watch_start() {
	rm -f "$TMP/watch.pcap"
	start_bg "$1" watch.log tcpdump -Z root -i "$2" --immediate-mode -U -n -w "$TMP/watch.pcap" "$3"
	WATCH_PID=$LAST_PID
	wait_log "$TMP/watch.log" "listening on" 5 || fail "tcpdump on $2 in ns $1 did not start"
}

# watch_count: stop the watch (tcpdump writes out at SIGTERM) and print what it saw.
watch_count() {
	local out
	stop_pid "$WATCH_PID"
	# A capture that cannot be read is a failure, not a count of 0 ("nothing delivered").
	out=$(tcpdump -r "$TMP/watch.pcap" -n 2>/dev/null) || fail "watch: cannot read $TMP/watch.pcap"
	[ -z "$out" ] && echo 0 || wc -l <<<"$out"
}

# json_find KEY: the first non-empty value named KEY anywhere in the JSON on stdin (satp show
# --json nests it under interfaces or not), printed as JSON; null when there is none.
json_find() {
	python3 -c 'import json, sys
def find(o, k):
    if isinstance(o, dict):
        if o.get(k):
            return o[k]
        o = list(o.values())
    for v in o if isinstance(o, list) else []:
        r = find(v, k)
        if r:
            return r
    return None
print(json.dumps(find(json.load(sys.stdin), sys.argv[1])))' "$1"
}

# pcap_count PCAP: how many packets a capture holds so far.
pcap_count() { tcpdump -n -r "$1" 2>/dev/null | wc -l; }

# pcap_marks FILE MARKER: how many times MARKER occurs in FILE (a capture of
# packets that carry marker payloads: each counts what one case itself caused).
pcap_marks() { python3 -c 'import sys; print(open(sys.argv[1], "rb").read().count(sys.argv[2].encode()))' "$@"; }

# icmp_echo_hex SRC DST PAYLOAD: an IPv4 ICMP echo request SRC -> DST carrying
# PAYLOAD (a marker), as hex, for satp_forge to seal.
icmp_echo_hex() {
	python3 -c '
import socket, struct, sys
def csum(b):
    b += b"\0" * (len(b) % 2)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF
icmp = struct.pack("!BBHHH", 8, 0, 0, 0x4D35, 1) + sys.argv[3].encode()
icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0, 0, 64, 1, 0,
                 socket.inet_aton(sys.argv[1]), socket.inet_aton(sys.argv[2]))
print((ip[:10] + struct.pack("!H", csum(ip)) + ip[12:] + icmp).hex())' "$@"
}

# wait_at_least WANT SECONDS CMD...: until CMD prints a number >= WANT; prints the
# last value either way, returns 1 at the deadline.
wait_at_least() {
	local want=$1 t=$2 v=0 end
	shift 2
	end=$((SECONDS + t))
	while :; do
		v=$("$@")
		[ "${v:-0}" -ge "$want" ] && { echo "$v"; return 0; }
		[ "$SECONDS" -ge "$end" ] && { echo "$v"; return 1; }
		sleep 0.1
	done
}

# replay_refused PID LOG: every replay verdict so far, the XDP pre-filter's and the daemon's.
replay_refused() {
	local n=0 c
	for c in xdp_drop_replay xdp_drop_too_old rx_replay rx_too_old; do
		n=$((n + $(satpd_counter "$1" "$2" $c)))
	done
	echo "$n"
}

# satpd_dump PID LOGFILE [SECONDS]: one more counter dump (SIGUSR1) in LOGFILE, waited for
# until its last line ("counters end"): a reader never sees half a dump. Returns 1 when
# the dump is not whole by the deadline (10 s: a loaded machine, never a slow satpd).
satpd_dump() {
	local before
	before=$(grep -c 'counters end$' "$2" 2>/dev/null)
	kill -USR1 "$1" 2>/dev/null || return 1
	wait_at_least $((${before:-0} + 1)) "${3:-10}" grep -c 'counters end$' "$2" >/dev/null
}

# satpd_counter PID LOGFILE NAME: ask for a dump and print the counter's value.
satpd_counter() {
	satpd_dump "$1" "$2" || return 1
	awk -v n="$3" '$(NF-1) == n { v = $NF } END { print v + 0 }' "$2"
}

# tcp_transfer SRC_NS DST_NS DST_ADDR MBYTES: send MBYTES of random data over TCP,
# check the SHA-256 at the far end. Prints "N MB intact" (rates belong to make bench).
tcp_transfer() {
	local src=$1 dst=$2 addr=$3 mb=$4 port=$((20000 + $$ % 10000)) rx tx
	nsx "$dst" python3 - "$port" >"$TMP/tcp_rx.$$" 2>&1 <<'EOF' &
import hashlib, socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('::', int(sys.argv[1])))
s.listen(1)
s.settimeout(60)
c, _ = s.accept()
c.settimeout(60)
h = hashlib.sha256()
while True:
    b = c.recv(1 << 16)
    if not b:
        break
    h.update(b)
print(h.hexdigest())
EOF
	local rxpid=$!
	LIB_PIDS+=("$rxpid")
	wait_listen "$dst" "$port" 10 || { echo "no listener on port $port in ns $dst" >&2; return 1; }
	tx=$(nsx "$src" python3 - "$addr" "$port" "$mb" 2>&1 <<'EOF'
import hashlib, os, socket, sys
data = os.urandom(int(sys.argv[3]) << 20)
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=60)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
s.recv(1)
s.close()
print(hashlib.sha256(data).hexdigest())
EOF
	)
	wait "$rxpid"
	rx=$(cat "$TMP/tcp_rx.$$")
	if [ -z "$tx" ] || [ "$tx" != "$rx" ]; then
		printf 'sent sha256 %s, received %s\n' "$tx" "$rx" >&2
		return 1
	fi
	echo "$mb MB intact (SHA-256 equal)"
}

# skip_row NAME REASON: this row (or check) of the test cannot run here; the rest of the
# test goes on. tests/run.sh counts the line; with CI=true it fails the run unless
# tests/expected-skips lists "integration/test_x.sh:NAME". A test whose every row skipped
# exits 77 itself (skip).
skip_row() {
	local name=$1
	shift
	printf 'SKIP-ROW %s: %s\n' "$name" "$*"
}

# have_cmd NAME: whether a tool is installed (for rows that need it: skip_row without it).
have_cmd() { command -v "$1" >/dev/null 2>&1; }

# require_xdp_mode NS CTL_SOCKET MODE [WHAT]: fail unless the satpd behind CTL_SOCKET
# reports (satp show --json, its own mode report) the XDP mode MODE obtained, with no
# fallback: a test that asks for XDP must not pass on the socket path. Waits up to 10 s
# for the control socket to answer (a daemon just started may not have opened it yet).
require_xdp_mode() {
	local out i
	for i in $(seq 1 50); do
		out=$(nsx "$1" "$BUILD/satp" show --json --socket "$2" 2>&1) && [[ $out == *'"xdp_mode"'* ]] && break
		sleep 0.2
	done
	[[ $out == *'"xdp_mode"'* ]] || fail "${4:-satpd}: satp show --json --socket $2: $out"
	python3 -c '
import json, sys
doc = json.loads(sys.argv[1])
ds = doc.get("daemons", []) + [i["daemon"] for i in doc.get("interfaces", []) if i.get("daemon")]
if len(ds) != 1:
    sys.exit("%d daemons answer" % len(ds))
m, want = ds[0].get("xdp_mode") or {}, sys.argv[2]
path = ds[0].get("rx_path")
if m.get("obtained") != want or m.get("fallback") or path != ("udp" if want == "off" else "xdp"):
    sys.exit("xdp mode %s (rx path %s), want %s" % (json.dumps(m), path, want))' "$out" "$3" ||
		fail "${4:-satpd}: did not get XDP mode $3 (satp show --json --socket $2)"
}

# wait_xsk_tx LOG [SECONDS]: until the satpd writing LOG sends by AF_XDP TX (its
# "way back ...: AF_XDP TX" line: the next hop resolved, rechecked each second). A
# test that counts what AF_XDP TX carried waits for this before its traffic: sent
# earlier, the traffic rightly goes by the UDP socket.
wait_xsk_tx() {
	wait_log "$1" 'way back to .*: AF_XDP TX' "${2:-15}" && return 0
	grep 'way back' "$1" >&2
	return 1
}

# wait_listen NS PORT [SECONDS] [tcp|udp]: until a socket in NS is bound (udp) or
# listening (tcp) on PORT: a listener started in the background is not at once.
wait_listen() {
	local n proto=${4:-tcp} end=$((SECONDS + ${3:-10}))
	n=$(ns "$1")
	while :; do
		[ -n "$(ip netns exec "$n" ss -Hln "--$proto" "sport = :$2" 2>/dev/null)" ] && return 0
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.1
	done
}
