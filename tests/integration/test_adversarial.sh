#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Hostile input against a live tunnel: satpd (ns a) <-> uanytun (ns b) with a
# steady ping through it, and an attacker (ns x) on the same L2 segment:
#
#   ns a: satpd -w 64            ns b: uanytun              ns x: attacker
#   tun0 10.99.0.1               tun0 10.99.0.2             satp_inject.py
#   ul0 10.77.0.1 fd00:77::1     ul0 10.77.0.2              ul0 10.77.0.3 fd00:77::3
#          |                          |                          |
#          +------------ br0 (ns sw, a plain bridge) -----------+
#
# Runs twice, once per data path, each in a run of its own (ADV_PATH):
#   xdp      satpd's default mode; fails unless satpd reports native XDP
#            (satp show --json: obtained native, rx_path xdp, no fallback)
#   sockets  --xdp-mode off; fails unless satpd reports the UDP sockets and
#            no XDP program is on ul0
#
# Each case injects one kind of hostile traffic (satp_inject.py), then one
# header-only datagram as its end marker, and waits (with a deadline) until the
# counters it names reached their values. It then checks every named drop reason
# moved by exactly its value for this data path (satpd's SIGUSR1 dump, and the
# XDP program's satp_counters read with bpftool), every other drop reason by 0,
# the legitimate flow kept being delivered, satpd's RSS stayed within a bound.
# Over all cases: tun0 got nothing but the legitimate pings (each once, intact),
# and a forged seq moved no window. Then, with the legitimate flow stopped:
# hostile inner packets and seqs around 2^32 sealed with the tunnel's keys
# (exactly which reach tun0, byte for byte; every replay refused); satpd killed
# with SIGKILL under traffic (XDP: satp_rx stays attached and drops SATP as
# drop-no-socket; sockets: the kernel has no socket for it), restarted on the
# same path, the datagrams captured before the kill all refused; ul0 removed
# under satpd.
#
#   tests/integration/test_adversarial.sh [CASE-FILTER]                 # both paths
#   ADV_PATH=sockets tests/integration/test_adversarial.sh [CASE-FILTER]
#   ADV_PATH=xdp ADV_SATPD_OPTS="--xdp-mode skb" ...   # extra satpd options (must fail)

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

if [ -z "${ADV_PATH:-}" ]; then
	rc=0
	for p in xdp sockets; do
		log "=== data path: $p"
		ADV_PATH=$p bash "$0" "$@"
		r=$?
		log "=== data path: $p: exit $r"
		if [ $r -eq 77 ] && [ $rc -eq 0 ]; then
			rc=77
		elif [ $r -ne 0 ] && [ $r -ne 77 ]; then
			rc=1
		fi
	done
	exit $rc
fi

FILTER=${1:-}
PY=${PYTHON_SCAPY:-/usr/bin/python3}
INJECT=$LIB_DIR/satp_inject.py
FORGE=$BUILD/tests/tools/satp_forge
SATP=$BUILD/satp
XDP_H=$REPO_ROOT/include/satp_xdp.h
K128=000102030405060708090a0b0c0d0e0f
SALT=a0a1a2a3a4a5a6a7a8a9aaabacad
A4=10.77.0.1 B4=10.77.0.2 X4=10.77.0.3
A6=fd00:77::1 X6=fd00:77::3
IN_A=10.99.0.1 IN_B=10.99.0.2
WINDOW=64
PING_PATTERN=5a
# Datagrams the peer has sent before the cases start: more than the 20 oldest
# (replay-old) plus the window, so that they and seqs 0..2 (seq-wrap) are too old.
WARM_DATAGRAMS=100
# Growth of satpd's resident memory tolerated per case. The packet path
# allocates nothing; a case may fault in a few pages of stack and buffers it
# touches first (64 pages). A leak of 13 bytes per datagram in the socket
# path's flood (20000) exceeds it; LeakSanitizer and valgrind are the finer
# guard. Over the whole run: 2 MiB.
RSS_CASE_KB=256
RSS_SLACK_KB=2048
FLOOD=20000
# XDP's budget for senders without a window (SATP_XDP_UNVERIFIED_*: 1000/s, bursts of 256).
UNV_PPS=1000 UNV_BURST=256
DEADLINE=15 # seconds for any counter to reach its value: generous, the machine is shared

case $ADV_PATH in
xdp)
	MODE_OPTS=()
	WANT_OBTAINED=native WANT_RX=xdp
	MARK_CTR=xdp:drop-too-short # the end marker's counter (header-only: XDP drops it)
	REPLAY=xdp:drop-replay TOO_OLD=xdp:drop-too-old
	;;
sockets)
	MODE_OPTS=(--xdp-mode off)
	WANT_OBTAINED=off WANT_RX=udp
	MARK_CTR=rx_too_short
	REPLAY=rx_replay TOO_OLD=rx_too_old
	;;
*) fail "ADV_PATH=$ADV_PATH: want xdp or sockets" ;;
esac

failures=()
bad() {
	printf 'FAIL: %s\n' "$*"
	failures+=("$*")
}

# Every drop reason of the daemon, and of the XDP program: what a case does not name must not move.
DAEMON_DROPS=(rx_truncated rx_too_short rx_wrong_mux rx_bad_tag rx_replay rx_too_old rx_senders_full
	rx_no_payload rx_bad_ptype rx_foreign_src rx_foreign_mac rx_dev_error rx_senders_quota
	rx_handshake_off_main rx_hs_over_budget rx_hs_ceiling)
XDP_DROPS=(xdp:drop-truncated xdp:drop-too-short xdp:drop-unknown-mux xdp:drop-replay xdp:drop-too-old
	xdp:drop-no-socket xdp:drop-hs-too-short xdp:drop-hs-ratelimit xdp:drop-hs-ceiling
	xdp:drop-unverified)
ALL_DROPS=("${DAEMON_DROPS[@]}" "${XDP_DROPS[@]}")

lib_init
require_cmd tcpdump uanytun bpftool
# OpenSSL 3.0 allocates and frees inside every HMAC re-key; ASan's quarantine
# (256 MiB by default) keeps those blocks, which would read as growth here.
# With 1 MiB of quarantine, a case may see up to that much more.
if ldd "$SATPD" 2>/dev/null | grep -q libasan; then
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1:thread_local_quarantine_size_kb=64
	RSS_CASE_KB=$((RSS_CASE_KB + 1024))
fi
[ -x "$FORGE" ] || fail "$FORGE is not built (make tests)"
[ -x "$SATP" ] || fail "$SATP is not built (make all)"
"$PY" -c 'import scapy' 2>/dev/null || skip "python3-scapy is not installed for $PY"

# ---------------------------------------------------------------- topology
ns_create a
ns_create b
ns_create x
ns_create sw
nsx sw ip link add br0 type bridge
nsx sw ip link set br0 up
for side in a b x; do
	ip link add name ul0 netns "$(ns $side)" type veth peer name "p$side" netns "$(ns sw)" ||
		fail "cannot create veth pair"
	nsx sw ip link set "p$side" master br0 up
done
ip -n "$(ns a)" addr add $A4/24 dev ul0
ip -n "$(ns a)" -6 addr add $A6/64 dev ul0 nodad
ip -n "$(ns b)" addr add $B4/24 dev ul0
ip -n "$(ns b)" -6 addr add fd00:77::2/64 dev ul0 nodad
ip -n "$(ns x)" addr add $X4/24 dev ul0
ip -n "$(ns x)" -6 addr add $X6/64 dev ul0 nodad
for side in a b x; do ip -n "$(ns $side)" link set ul0 up; done
# Spoofed sources are the point of the flood: no reverse-path filter in the way.
nsx a sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.ul0.rp_filter=0
# No IPv6 on the tun devices made from here on: only the pings (and the forged
# packets) cross the tunnel, so that deliveries can be counted exactly.
for side in a b; do nsx $side sysctl -qw net.ipv6.conf.default.disable_ipv6=1; done
A_MAC=$(ip -n "$(ns a)" -j link show ul0 | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')

# ---------------------------------------------------------------- the tunnel
ALOG=$TMP/satpd.log
STATE=$TMP/state
# A bpffs of our own in the root namespace, as /sys/fs/bpf is on a real host: pins
# outlive a satpd (each `ip netns exec` would otherwise mount a fresh one).
bpffs_init
BPF_MNT=$TMP/bpf
read -ra EXTRA <<<"${ADV_SATPD_OPTS:-}"
start_satpd() {
	# No -i: satpd binds both families, so the IPv6 cases reach it too.
	start_bg a satpd.log "$SATPD" -U --state-dir "$STATE" --pin-root "$BPF_MNT" -r $B4 -e left \
		-s 1 -w $WINDOW -d tun0 -t tun -n $IN_A/24 -K $K128 -A $SALT "${MODE_OPTS[@]}" "${EXTRA[@]}"
	APID=$LAST_PID
	wait_log "$ALOG" 'satpd [0-9.]* running' 15 || { cat "$ALOG"; fail "satpd does not run"; }
	wait_dev a tun0 || { cat "$ALOG"; fail "satpd: no tun0"; }
}

# xdp_prog_id: the id of the XDP program on a's ul0, empty when there is none.
xdp_prog_id() {
	ip -n "$(ns a)" -j -d link show ul0 2>/dev/null | "$PY" -c '
import json, sys
try:
    l = json.load(sys.stdin)[0]
except Exception:
    sys.exit()
x = l.get("xdp") or {}
p = x.get("prog") or {}
ids = [p["id"]] if "id" in p else [a["prog"]["id"] for a in x.get("attached", []) if "prog" in a]
print(ids[0] if ids else "")'
}

# check_data_path WHEN: satpd's own report (satp show --json) names the data path this
# run is for, with no fallback, and ul0 carries an XDP program exactly on the XDP path.
check_data_path() {
	local prog
	nsx a "$SATP" show --json --run-dir "$TMP/run" --pin-root "$BPF_MNT" >"$TMP/show.json" 2>"$TMP/show.err" ||
		fail "$1: satp show --json: $(cat "$TMP/show.err")"
	"$PY" - "$TMP/show.json" "$WANT_OBTAINED" "$WANT_RX" <<'EOF' || fail "$1: satpd is not on the $ADV_PATH data path"
import json, sys
doc = json.load(open(sys.argv[1]))
ds = doc["daemons"] + [i["daemon"] for i in doc["interfaces"] if i.get("daemon")]
if len(ds) != 1:
    print("FAIL: %d daemons answer; unreachable: %s" % (len(ds), json.dumps(doc["unreachable"])))
    sys.exit(1)
m, rx = ds[0]["xdp_mode"], ds[0]["rx_path"]
print("# satp show: xdp mode %s, rx path %s" % (json.dumps(m), rx))
ok = m["obtained"] == sys.argv[2] and m["fallback"] is None and rx == sys.argv[3]
if not ok:
    print("FAIL: want xdp mode obtained %s, rx path %s, no fallback" % (sys.argv[2], sys.argv[3]))
sys.exit(0 if ok else 1)
EOF
	prog=$(xdp_prog_id)
	if [ "$ADV_PATH" = xdp ]; then
		[ -n "$prog" ] || fail "$1: no XDP program on ul0"
		grep -q "XDP: satp_rx on ul0 in native mode" "$ALOG" ||
			fail "$1: satpd did not log native XDP on ul0: $(grep -m1 -E "data path|XDP:" "$ALOG")"
	else
		[ -z "$prog" ] || fail "$1: XDP program $prog on ul0 on the socket path"
	fi
}

: >"$ALOG"
start_satpd
check_data_path start
start_bg b uanytun.log uanytun -D -L stdout:5 -i $B4 -r $A4 -e right -s 2 -d tun0 -t tun \
	-n $IN_B/24 -K $K128 -A $SALT
wait_dev b tun0 || fail "uanytun: no tun0"
wait_ping b $IN_A 10 || { cat "$ALOG" "$TMP/uanytun.log"; fail "no ping through the tunnel"; }

# start_capture NS DEV NAME [FILTER...]: tcpdump into $TMP/NAME.pcap until it listens; PID in CAP_PID.
start_capture() {
	local n=$1 dev=$2 name=$3
	shift 3
	start_bg "$n" "tcpdump-$name.log" tcpdump -Z root -n -U --immediate-mode -i "$dev" -w "$TMP/$name.pcap" "$@"
	CAP_PID=$LAST_PID
	wait_log "$TMP/tcpdump-$name.log" "listening on" 10 || fail "tcpdump on $dev in ns $n did not start"
}
# Everything satpd writes to its tun device (-Q in), and the tunnel's datagrams as the peer sends them.
start_tun_capture() {
	start_capture a tun0 "tun.$1" -Q in
	TUNCAP_PID=$CAP_PID
}
start_ping_flow() {
	start_bg b "ping.$1.log" ping -n -i 0.05 -p $PING_PATTERN $IN_A
	PING_PID=$LAST_PID
}
start_tun_capture 1
start_capture b ul0 legit "udp and src port 4444 and dst host $A4 and dst port 4444"
start_ping_flow 1

# ---------------------------------------------------------------- counters
# xdp_counters: "xdp:<reason> <packets>" for the program attached to a's ul0, if any,
# in one python run; its satp_counters map is looked up once per program ($TMP/counters.map).
xdp_counters() {
	"$PY" - "$(ns a)" "$TMP/counters.map" "$XDP_H" <<'PYEOF'
import json, os, re, subprocess, sys
def run(*a):
    return json.loads(subprocess.run(a, capture_output=True, text=True).stdout or "null")
link = (run("ip", "-n", sys.argv[1], "-j", "-d", "link", "show", "ul0") or [{}])[0]
x = link.get("xdp") or {}
p = x.get("prog") or {}
ids = [p["id"]] if "id" in p else [a["prog"]["id"] for a in x.get("attached", []) if "prog" in a]
if not ids:
    sys.exit()
cache = sys.argv[2]
known = open(cache).read().split() if os.path.exists(cache) else []
if len(known) == 2 and known[0] == str(ids[0]):
    mid = known[1]
else:
    mid = None
    for m in (run("bpftool", "-j", "prog", "show", "id", str(ids[0])) or {}).get("map_ids", []):
        if (run("bpftool", "-j", "map", "show", "id", str(m)) or {}).get("name") == "satp_counters":
            mid = str(m)
    if mid is None:
        sys.exit("XDP program %s has no satp_counters map" % ids[0])
    open(cache, "w").write("%s %s\n" % (ids[0], mid))
names = re.findall(r'X\(SATP_XDP_\w+, "([a-z-]+)"', open(sys.argv[3]).read())
for e in run("bpftool", "-j", "map", "dump", "id", mid) or []:
    e = e.get("formatted", e)
    k = e.get("key")
    k = int(k) if isinstance(k, int) else int.from_bytes(bytes(int(b, 16) for b in k), "little")
    tot = sum(v["value"]["packets"] if isinstance(v["value"], dict) else 0
              for v in e.get("values", []))
    if k < len(names):
        print("xdp:%s %d" % (names[k], tot))
PYEOF
}

# udp_counters: ns a's UDP MIB ("udp:NoPorts N", "udp:RcvbufErrors N"): what the kernel
# dropped before a socket (none listening, or its buffer full).
udp_counters() {
	# shellcheck disable=SC2016 # awk's own $
	nsx a awk '/^Udp:/ && !names++ { split($0, h); next }
		/^Udp:/ { for (i = 2; i <= NF; i++) print "udp:" h[i], $i; exit }' /proc/net/snmp
}

# daemon_dump: one more SIGUSR1 counter dump in the log, waited for to its last line.
daemon_dump() {
	local before end=$((SECONDS + DEADLINE))
	before=$(grep -c 'counters (' "$ALOG")
	kill -USR1 "$APID" 2>/dev/null || return 1
	until [ "$(grep -c 'counters (' "$ALOG")" -gt "$before" ] &&
		tail -n 400 "$ALOG" | awk '/counters \(/ { c = 0 } /counters end$/ { c = 1 } END { exit !c }'; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.05
	done
}

# snap NAME: satpd's counters (when it runs), XDP's and the kernel's UDP MIB into $TMP/snap.NAME.
snap() {
	DELTA_OF=""
	: >"$TMP/snap.$1"
	if kill -0 "$APID" 2>/dev/null; then
		daemon_dump || { bad "no counter dump from satpd"; return 1; }
		awk '/counters \(/ { blk = ""; next }
		     $(NF-1) ~ /^[a-z][a-z0-9_]+$/ && $NF ~ /^[0-9]+$/ { blk = blk $(NF-1) " " $NF "\n" }
		     END { printf "%s", blk }' "$ALOG" >"$TMP/snap.$1"
	fi
	xdp_counters >>"$TMP/snap.$1"
	udp_counters >>"$TMP/snap.$1"
}

# load_deltas FROM TO: how far every counter moved between two snaps, into DELTA[name]
# (a counter missing from a snap counts as 0 there).
declare -A DELTA
DELTA_OF=""
load_deltas() {
	local k v
	[ "$DELTA_OF" = "$1 $2" ] && return 0
	DELTA=()
	while read -r k v; do DELTA[$k]=$v; done < <(awk 'FNR == NR { v[$1] = $2; next }
		{ print $1, $2 - v[$1]; delete v[$1] } END { for (k in v) print k, -v[k] }' \
		"$TMP/snap.$1" "$TMP/snap.$2")
	DELTA_OF="$1 $2"
}

# delta FROM TO NAME...: how far the named counters moved together.
delta() {
	local c s=0
	load_deltas "$1" "$2"
	shift 2
	for c in "$@"; do s=$((s + ${DELTA[$c]:-0})); done
	echo "$s"
}

# moved FROM TO: every counter that moved, "name +N", for failure messages.
moved() {
	awk 'FNR == NR { v[$1] = $2; next } $2 != v[$1] { printf "%s %+d  ", $1, $2 - v[$1] }' \
		"$TMP/snap.$1" "$TMP/snap.$2"
}

# A term of an expectation: COUNTER[+COUNTER...]{=,<=,>=}EXPR, EXPR in bash arithmetic
# over n (the number the injector sent), e.g. "rx_too_short=18" "rx_bad_tag=n-18".
# term_holds FROM TO TERM N [WAITING]: whether it holds; while WAITING, "=" means ">=".
term_holds() {
	local term=$3 n=$4 ctrs op val got c
	load_deltas "$1" "$2"
	[[ $term =~ ^([A-Za-z0-9_:+-]+)(<=|>=|=)(.+)$ ]] || fail "bad expectation term '$term'"
	# shellcheck disable=SC2004 # the expression is expanded first, then evaluated (with n)
	ctrs=${BASH_REMATCH[1]//+/ } op=${BASH_REMATCH[2]} val=$((${BASH_REMATCH[3]}))
	got=0
	for c in $ctrs; do got=$((got + ${DELTA[$c]:-0})); done
	case $op in
	=) if [ -n "${5:-}" ]; then [ "$got" -ge "$val" ]; else [ "$got" -eq "$val" ]; fi ;;
	'<=') [ "$got" -le "$val" ] ;;
	'>=') [ "$got" -ge "$val" ] ;;
	esac
}

# show_terms FROM TO TERM...: each term with what its counters moved by, for the log.
show_terms() {
	local from=$1 to=$2 t
	shift 2
	load_deltas "$from" "$to"
	for t in "$@"; do
		# shellcheck disable=SC2046 # the counters split into words
		printf '%s [%d] ' "$t" "$(delta "$from" "$to" $(term_counters "$t"))"
	done
}

# term_counters TERM...: the counter names the terms mention, one a line.
term_counters() {
	local t
	for t in "$@"; do
		t=${t%%[<>=]*}
		tr '+' '\n' <<<"$t"
	done
}

# expect FROM TO N NAME TERM...: every term holds and every drop counter the terms do not
# name moved by 0; a failure lists what moved.
expect() {
	local from=$1 to=$2 n=$3 name=$4 t c named ok=1
	shift 4
	load_deltas "$from" "$to"
	for t in "$@"; do
		term_holds "$from" "$to" "$t" "$n" || { bad "$name: want $t (n=$n)"; ok=0; }
	done
	named=" ${*//[+<>=]/ } "
	for c in "${ALL_DROPS[@]}"; do
		[[ $named == *" $c "* ]] && continue
		[ "${DELTA[$c]:-0}" -eq 0 ] || { bad "$name: $c moved by ${DELTA[$c]}"; ok=0; }
	done
	[ $ok = 1 ] || log "$name: moved: $(moved "$from" "$to")"
	[ $ok = 1 ]
}

# wait_terms FROM NAME N TERM...: snap NAME until every "=" and ">=" term reached its
# value (deadline DEADLINE s); returns 1 at the deadline.
wait_terms() {
	local from=$1 to=$2 n=$3 t end=$((SECONDS + DEADLINE)) all
	shift 3
	while :; do
		snap "$to"
		all=1
		for t in "$@"; do
			[[ $t == *'<='* ]] && continue
			term_holds "$from" "$to" "$t" "$n" waiting || { all=0; break; }
		done
		[ $all = 1 ] && return 0
		[ $SECONDS -lt $end ] || return 1
		sleep 0.1
	done
}

# wait_quiet NAME: snap NAME until two snaps 0.3 s apart are equal (deadline DEADLINE s): what
# was in flight has arrived.
wait_quiet() {
	local end=$((SECONDS + DEADLINE))
	snap "$1"
	while :; do
		sleep 0.3
		cp "$TMP/snap.$1" "$TMP/snap.quiet"
		snap "$1"
		cmp -s "$TMP/snap.$1" "$TMP/snap.quiet" && return 0
		[ $SECONDS -lt $end ] || return 1
	done
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$APID/status" 2>/dev/null; }

alive() { kill -0 "$APID" 2>/dev/null; }

# The end marker of a case: one header-only datagram (mux 0, 8 bytes) after what the
# injector sent, the same way: when its counter moved, the case's traffic has arrived.
send_marker() {
	nsx x bash -c "printf '\\0\\0\\0\\0\\0\\0\\0\\0' >/dev/udp/$A4/4444"
}

# with_marker TERM...: the terms plus the marker's +1 on MARK_CTR.
with_marker() {
	local t found=0
	for t in "$@"; do
		if [[ $t == "$MARK_CTR="* ]]; then
			t="$t+1"
			found=1
		fi
		printf '%s\n' "$t"
	done
	[ $found = 1 ] || printf '%s\n' "$MARK_CTR=1"
}

# ---------------------------------------------------------------- the cases
# NAME | sockets: expected counters | XDP: expected counters | satp_inject.py arguments
# Expectations are terms (term_holds), "-" for none: every drop reason not named must stay
# at 0. n is the number the injector sent. The captured datagram the cases start from is a
# ping: 104 bytes (8 header, 2 payload type, 84 inner, 10 tag), sender id 2, mux 0.
# Why each differs between the paths: XDP judges length, mux and the window (of senders it
# has one for) before the daemon does; the daemon checks the tag first, so on the socket
# path every forged datagram of the connection's mux is rx_bad_tag, whatever its seq. Most
# forgeries keep the captured datagram's sender id (2) and seq, which its window holds: XDP
# drops them as replays before any HMAC.
#   truncate: lengths 0..103; the daemon wants 8 + tag (18), XDP 8 + 2 + tag (20)
#   wrong-mux: mux 65535 is the handshake's, which XDP passes to the daemon (no handshake here)
#   bad-tag: the last one is random but for the mux, with another sender id: no window
#   flip: the 16 bits of the mux make wrong muxes; in XDP the 16 of the sender id make
#         senders with no window (bad tags), a flipped seq bit may land on a seq the window
#         holds (replay or too old) or ahead of it (bad tag), the other 768 bits are replays
#   seq-wrap: 2^32-3..2^32-1 are ahead of the window, 0..2 far behind it (WARM_DATAGRAMS)
#   oversize: > 1500 bytes, so IP fragments: the kernel reassembles them for the UDP socket
#   frag: one forged and one replayed datagram reassembled by the kernel (orphans time out)
#   v6ext: the forged datagram repeats the last one's seq; XDP skips the extension headers
#          and finds that seq in the window, the kernel reassembles the fragmented one
#   vlan: tags 5, 0 and 6+7 (QinQ): the kernel has no VLAN device and drops tagged frames,
#         but takes VLAN 0 (a priority tag) as untagged; XDP parses all three tags and
#         finds the captured seq in the window
#   nonudp: TCP, SCTP, UDP-Lite, GRE, ESP to the port, ICMP: not SATP, no drop anywhere;
#           XDP passes each (pass-not-udp; the host's own ICMPv6 may add to it)
#   flood: sockets: what the socket buffer held is counted, the rest is RcvbufErrors;
#          XDP: random sender ids have no window: XDP's budget for them (drop-unverified),
#          a random sender id that is the peer's meets its window
CASES=(
	"truncate    |rx_too_short=18 rx_bad_tag=n-18 |xdp:drop-too-short=20 xdp:drop-replay=n-20 |truncate"
	"header-only |rx_too_short=n |xdp:drop-too-short=n |header-only"
	"wrong-mux   |rx_wrong_mux=n |xdp:drop-unknown-mux=n-1 rx_wrong_mux=1 |wrong-mux"
	"sender-ids  |rx_bad_tag=n |rx_bad_tag=n |sender-ids"
	"bad-tag     |rx_bad_tag=n |xdp:drop-replay=n-1 rx_bad_tag=1 |bad-tag"
	"flip        |rx_wrong_mux=16 rx_bad_tag=n-16 |xdp:drop-unknown-mux=16 rx_bad_tag+xdp:drop-replay+xdp:drop-too-old=n-16 xdp:drop-replay>=n-64 rx_bad_tag>=16 |flip"
	"replay-recent|rx_replay=n |xdp:drop-replay=n |replay-recent --count 5"
	"replay-old  |rx_too_old=n |xdp:drop-too-old=n |replay-old --count 20"
	"seq-jump    |rx_bad_tag=n |rx_bad_tag=n |seq-jump"
	"seq-wrap    |rx_bad_tag=n |xdp:drop-too-old=3 rx_bad_tag=3 |seq-wrap"
	"oversize    |rx_truncated=n |rx_truncated=n |oversize"
	"frag        |rx_bad_tag=1 rx_replay=1 |rx_bad_tag=1 rx_replay=1 |frag RAW"
	"v6ext       |rx_bad_tag=n |xdp:drop-replay=4 rx_bad_tag=1 |v6ext --to6 $A6 RAW"
	"vlan        |rx_bad_tag=1 |xdp:drop-replay=n |vlan RAW"
	"nonudp      |- |xdp:pass-not-udp>=n |nonudp RAW"
	"flood       |rx_bad_tag+rx_replay+rx_too_old<=n rx_bad_tag+rx_replay+rx_too_old+udp:RcvbufErrors>=n |xdp:drop-unverified+rx_bad_tag+xdp:drop-replay+xdp:drop-too-old=n xdp:drop-unverified>=UNV_MIN |flood --count $FLOOD RAW"
)

RSS_WORST=0
# run_case ROW: inject, wait for the expected counters, check them and the rest.
run_case() {
	local name sock xdp args want n rss0 rss1 t0 unv_min terms c0=$SECONDS
	IFS='|' read -r name sock xdp args <<<"$1"
	name=${name// /}
	[ -n "$FILTER" ] && [[ $name != *"$FILTER"* ]] && return 0
	want=$sock
	[ "$ADV_PATH" = xdp ] && want=$xdp
	read -ra args <<<"$args"
	[ "${args[-1]}" = RAW ] && args=("${args[@]:0:${#args[@]}-1}" --ifname ul0 --dst-mac "$A_MAC")
	snap pre
	rss0=$(rss_kb)
	t0=$SECONDS
	n=$(nsx x "$PY" "$INJECT" "${args[@]}" --to "$A4" --pcap "$TMP/legit.pcap" 2>"$TMP/inject.err" | tail -1)
	if ! [[ $n =~ ^[0-9]+$ ]]; then
		bad "$name: the injector failed: $(tail -3 "$TMP/inject.err")"
		return 0
	fi
	# The XDP budget for unverified senders let through at most its burst plus its rate
	# over the time the flood took (rounded up by a second): the rest it dropped.
	unv_min=$((n - UNV_BURST - UNV_PPS * (SECONDS - t0 + 1)))
	send_marker
	read -ra terms <<<"${want//UNV_MIN/$unv_min}"
	[ "${terms[0]:-}" = "-" ] && terms=()
	mapfile -t terms < <(with_marker "${terms[@]}")
	wait_terms pre post "$n" rx_delivered'>=3' "${terms[@]}" ||
		bad "$name: the counters did not reach their values within $DEADLINE s"
	alive || { bad "$name: satpd died"; tail -20 "$ALOG"; return 0; }
	rss1=$(rss_kb)
	expect pre post "$n" "$name" "${terms[@]}"
	[ "$(delta pre post rx_delivered)" -ge 3 ] || bad "$name: the legitimate flow stopped (nothing delivered)"
	[ $((rss1 - rss0)) -le $RSS_CASE_KB ] || bad "$name: satpd's RSS grew by $((rss1 - rss0)) kB (> $RSS_CASE_KB)"
	[ $((rss1 - rss0)) -gt $RSS_WORST ] && RSS_WORST=$((rss1 - rss0))
	log "$(printf '%-13s sent %5d  %s; legit delivered +%d; RSS %s -> %s kB; %d s' "$name" "$n" \
		"$(show_terms pre post "${terms[@]}")" "$(delta pre post rx_delivered)" "$rss0" "$rss1" $((SECONDS - c0)))"
}

# Enough of the peer's datagrams for the oldest to be out of the window (WARM_DATAGRAMS).
wait_at_least $WARM_DATAGRAMS 30 pcap_count "$TMP/legit.pcap" >/dev/null ||
	fail "the peer sent fewer than $WARM_DATAGRAMS datagrams in 30 s"
snap start
RSS_START=$(rss_kb)
log "data path $ADV_PATH: XDP on ul0: $(xdp_prog_id); satpd RSS $RSS_START kB"

for row in "${CASES[@]}"; do
	run_case "$row"
done
# veth carries satp_rx's metadata to AF_XDP: no frame of any case needed parsing again.
snap cases
[ "$(delta start cases rx_no_xdp_meta)" = 0 ] ||
	bad "$(delta start cases rx_no_xdp_meta) frames reached AF_XDP without satp_rx's metadata"

if [ -z "$FILTER" ]; then
	# The forged seqs (jumps, wraps, flips) moved no window: the legitimate flow goes on
	# being delivered, and none of it is refused as a replay or too old.
	snap jump0
	wait_terms jump0 jump1 0 rx_delivered'>=20' || bad "no legitimate delivery after the forged seqs"
	expect jump0 jump1 0 "after the forged seqs"
fi

# Non-SATP traffic to satpd's address is untouched: the host answers ping.
nsx x ping -c 3 -i 0.2 -W 1 -q $A4 >/dev/null || bad "ping to satpd's underlay address failed"
nsx x ping -6 -c 3 -i 0.2 -W 1 -q $A6 >/dev/null || bad "ping6 to satpd's underlay address failed"

RSS_END=$(rss_kb)
log "satpd RSS over the hostile cases: $RSS_START -> $RSS_END kB (one case at most +$RSS_WORST kB)"
[ $((RSS_END - RSS_START)) -le $RSS_SLACK_KB ] ||
	bad "satpd's RSS grew by $((RSS_END - RSS_START)) kB (> $RSS_SLACK_KB)"

# ---------------------------------------------------------------- what tun0 got
# Only the legitimate echo requests, each once, intact. Anything else was delivered
# without authentication (or twice).
# check_tun PCAP...: the captures are judged together (a replay across them is a duplicate).
check_tun() {
	"$PY" - "$IN_B" "$IN_A" "$PING_PATTERN" "$@" <<'PYEOF'
import sys
from collections import Counter
from scapy.all import ICMP, IP, rdpcap
src, dst, pat = sys.argv[1], sys.argv[2], int(sys.argv[3], 16)
pkts = [p for f in sys.argv[4:] for p in rdpcap(f)]
seen, bad = Counter(), []
for p in pkts:
    raw = bytes(p)
    try:
        ip = IP(raw) if raw[0] >> 4 == 4 else None
    except Exception:
        ip = None  # not even an IPv4 header: unexpected
    if ip is None or ip.src != src or ip.dst != dst or ICMP not in ip or ip[ICMP].type != 8:
        bad.append("%.3f unexpected %s" % (p.time, raw[:40].hex()))
        continue
    data = bytes(ip[ICMP].payload)
    if any(b != pat for b in data[16:]):
        bad.append("%.3f echo seq %d with a changed payload" % (p.time, ip[ICMP].seq))
    seen[(ip[ICMP].id, ip[ICMP].seq)] += 1
dups = [k for k, v in seen.items() if v > 1]
for k in dups:
    bad.append("echo id %d seq %d delivered %d times" % (k[0], k[1], seen[k]))
print("%d packets on tun0, %d distinct echo requests, %d problems" % (len(pkts), len(seen), len(bad)))
for b in bad[:20]:
    print("  " + b)
sys.exit(1 if bad or not seen else 0)
PYEOF
}
stop_pid "$TUNCAP_PID"
out=$(check_tun "$TMP/tun.1.pcap" 2>&1) || bad "tun0 got more than the legitimate flow: $out"
log "tun0: $out"

# tun_holds PCAP HEX...: the packets satpd wrote to tun0 are exactly HEX..., byte for byte
# (as a multiset: each once).
tun_holds() {
	"$PY" - "$@" <<'PYEOF'
import struct, sys
from collections import Counter
data = open(sys.argv[1], "rb").read()
e = "<" if struct.unpack("<I", data[:4])[0] in (0xA1B2C3D4, 0xA1B23C4D) else ">"
skip = {12: 0, 101: 0, 113: 16, 276: 20, 1: 14}[struct.unpack(e + "I", data[20:24])[0]]
got, off = Counter(), 24
while off + 16 <= len(data):
    incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
    got[data[off + 16 + skip:off + 16 + incl].hex()] += 1
    off += 16 + incl
want = Counter(h.lower() for h in sys.argv[2:])
extra, missing = got - want, want - got
for h in extra:
    print("  on tun0 and not expected (x%d): %s" % (extra[h], h[:80]))
for h in missing:
    print("  expected on tun0 and missing (x%d): %s" % (missing[h], h[:80]))
sys.exit(1 if extra or missing else 0)
PYEOF
}

# icmp_hex SRC DST SEQ TEXT: an IPv4 echo request carrying TEXT, checksums right, in hex.
icmp_hex() {
	"$PY" - "$@" <<'PYEOF'
import socket, struct, sys
def csum(b):
    b += b"\0" * (len(b) & 1)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s & 0xFFFF) + (s >> 16)
    return ~(s + (s >> 16)) & 0xFFFF
src, dst, seq, text = sys.argv[1:]
icmp = struct.pack("!BBHHH", 8, 0, 0, 0x5150, int(seq)) + text.encode()
icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), int(seq), 0, 64, 1, 0,
                 socket.inet_aton(src), socket.inet_aton(dst))
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
print((ip + icmp).hex())
PYEOF
}

stop_ping_flow() {
	kill -INT "$PING_PID" 2>/dev/null
	wait "$PING_PID" 2>/dev/null
}

# ---------------------------------------------------------------- hostile inner packets
# Sealed with the tunnel's own keys (a compromised peer), sender id 7, from the peer's
# namespace, with the legitimate flow stopped. satpd hands them to the kernel as anytun
# does (tun0 gets each, byte for byte), or drops them with a counted reason: payload
# types that do not fit a tun device (rx_bad_ptype), nothing after the type
# (rx_no_payload), what the tun device refuses (rx_dev_error); it never crashes. Then authenticated seqs 2^32-2, 2^32-1, 0, 1 on a
# sender of their own (8): the window slides across the wrap (anytun's shift), so each
# is new and delivered. Then each of the 14 replayed: all refused, tun0 gets nothing.
forge() { nsx b "$FORGE" --to $A4 --port 4444 --key $K128 --salt $SALT --role right "$@"; }
if [ -z "$FILTER" ] || [[ inner == *"$FILTER"* ]]; then
	INNER=(
		"0x0800|45"                                       # one byte of IPv4
		"0x0800|4f00001400004000401100000a6300420a630001" # IHL 15, 20 bytes
		"0x0800|4500ffff00004000401100000a6300420a630001" # total length 65535
		"0x0800|60000000000011400000000000000000"         # IPv6 under the IPv4 type
		"0x86dd|6000000003e8114000000000000000000000000000000000000000000000000000000000000000000001" # payload length 1000 of 0
		"0x0800|45$(head -c 199 /dev/urandom | od -An -tx1 | tr -d ' \n')" # noise behind an IPv4 byte
		"0x0800|0123456789abcdef"                         # IP version 0: the tun refuses it
		"0x6558|02000000000102000000000208004500"          # Ethernet on a tun device
		"0x1234|4500002300010000401165c10a6300420a630001" # unknown payload type
		"0x0800|"                                         # nothing after the type
		"0x0800|4500002300010000401165c10a6300420a63000100090009000f4065686f7374696c65" # plausible UDP
	)
	WRAP_SEQS=(4294967294 4294967295 0 1)
	WRAP=()
	for i in 0 1 2 3; do WRAP+=("$(icmp_hex 10.99.0.66 $IN_A $i "wrap$i")"); done
	# tun0 gets the rows of an IP payload type that start as IPv4 or IPv6, and the 4 wraps.
	want_tun=()
	for row in "${INNER[@]}"; do
		case ${row%%|*}:${row#*|} in 0x0800:[46]* | 0x86dd:[46]*) want_tun+=("${row#*|}") ;; esac
	done
	want_tun+=("${WRAP[@]}")

	stop_ping_flow
	wait_quiet inner0 || bad "hostile inner: the counters did not settle after the flow stopped"
	start_capture a tun0 inner -Q in
	forge_all() {
		local seq=100 row i
		for row in "${INNER[@]}"; do
			forge --sid 7 --seq $seq --ptype "${row%%|*}" "${row#*|}" || bad "satp_forge failed for $row"
			seq=$((seq + 1))
		done
		for i in 0 1 2 3; do forge --sid 8 --seq "${WRAP_SEQS[$i]}" "${WRAP[$i]}" || bad "satp_forge failed"; done
	}
	forge_all
	send_marker
	mapfile -t terms < <(with_marker "rx_delivered=${#want_tun[@]}" rx_bad_ptype=2 rx_no_payload=1 rx_dev_error=1)
	wait_terms inner0 inner1 0 "${terms[@]}" || bad "hostile inner: the counters did not reach their values"
	alive || bad "satpd died on a hostile inner packet"
	expect inner0 inner1 0 "hostile inner" "${terms[@]}"
	stop_pid "$CAP_PID"
	if out=$(tun_holds "$TMP/inner.pcap" "${want_tun[@]}"); then
		log "hostile inner: ${#INNER[@]} sealed with sender id 7: $((${#want_tun[@]} - 4)) on tun0 byte for byte, the rest counted; seqs 2^32-2, 2^32-1, 0, 1 on sender id 8: all 4 on tun0"
	else
		bad "hostile inner: tun0 did not get exactly the ${#want_tun[@]} deliverable packets (wraps included):$out"
	fi

	start_capture a tun0 inner-replay -Q in
	forge_all
	send_marker
	mapfile -t terms < <(with_marker "$REPLAY=$((${#INNER[@]} + 4))" rx_delivered=0)
	wait_terms inner1 inner2 0 "${terms[@]}" || bad "hostile inner replays: the counters did not reach their values"
	expect inner1 inner2 0 "hostile inner replays" "${terms[@]}"
	stop_pid "$CAP_PID"
	out=$(tun_holds "$TMP/inner-replay.pcap") || bad "hostile inner replays reached tun0:$out"
	log "hostile inner and wrap replays: $(delta inner1 inner2 $REPLAY) of $((${#INNER[@]} + 4)) refused ($REPLAY), $(pcap_count "$TMP/inner-replay.pcap") packets on tun0"
	start_ping_flow 2
fi

# ---------------------------------------------------------------- SIGKILL under traffic
# README: fail closed for SATP when the daemon is gone. XDP path: satp_rx stays attached
# (the same program) with no AF_XDP socket behind it and drops SATP, authentic or not
# (drop-no-socket; replays of what the dead daemon committed already by its window);
# socket path: no socket, the kernel refuses it (NoPorts), tun0 is gone. Other traffic
# to the host passes. A restart on the same path resumes the tunnel, and the datagrams
# captured before the kill are all refused (windows kept across the SIGKILL).
KILL_FORGED=10
if [ -z "$FILTER" ] || [[ sigkill == *"$FILTER"* ]]; then
	start_tun_capture 1b
	snap kill0
	wait_terms kill0 kill1 0 'rx_delivered>=10' || bad "sigkill: the legitimate flow is not delivered"
	cp "$TMP/legit.pcap" "$TMP/prekill.pcap"
	prog=$(xdp_prog_id)
	kill -KILL "$APID"
	wait "$APID" 2>/dev/null
	stop_ping_flow
	wait_quiet gone0 || bad "sigkill: the counters did not settle after the flow stopped"
	left=$(xdp_prog_id)
	log "after SIGKILL: tun0 $(ip -n "$(ns a)" link show tun0 >/dev/null 2>&1 && echo present || echo gone), XDP on ul0: ${left:-none}"
	ip -n "$(ns a)" link show tun0 >/dev/null 2>&1 && bad "sigkill: tun0 still there"
	if [ "$ADV_PATH" = xdp ]; then
		if [ -z "$left" ] || [ "$left" != "$prog" ]; then
			bad "sigkill: satp_rx ($prog) not left attached on ul0 (now: ${left:-none})"
		fi
		gone_terms=("xdp:drop-no-socket=$KILL_FORGED" "xdp:drop-replay+xdp:drop-too-old=n")
	else
		[ -z "$left" ] || bad "sigkill: an XDP program on ul0 on the socket path"
		gone_terms=("udp:NoPorts=n+$KILL_FORGED")
	fi
	# Fresh authentic datagrams (a new sender id, a marker inside) and pre-kill replays.
	forge --sid 9 --seq 1 --count $KILL_FORGED "$(icmp_hex 10.99.0.66 $IN_A 9 killed)" ||
		bad "satp_forge failed"
	n=$(nsx x "$PY" "$INJECT" replay-recent --count 20 --to $A4 --pcap "$TMP/prekill.pcap" | tail -1)
	wait_terms gone0 gone1 "$n" "${gone_terms[@]}" || bad "sigkill: the counters did not reach their values"
	expect gone0 gone1 "$n" "satpd gone" "${gone_terms[@]}"
	log "satpd gone ($ADV_PATH): $KILL_FORGED authentic and $n replayed datagrams: $(moved gone0 gone1)"
	nsx x ping -c 3 -i 0.2 -W 1 -q $A4 >/dev/null || bad "ping to the host failed while satpd was gone"
	nsx b ping -c 2 -W 1 -q $IN_A >/dev/null 2>&1 && bad "the tunnel answered while satpd was gone"

	cat "$ALOG" >"$ALOG.1"
	start_satpd
	check_data_path restart
	start_tun_capture 2
	snap restart0
	n=$(nsx x "$PY" "$INJECT" replay-recent --count 20 --to $A4 --pcap "$TMP/prekill.pcap" | tail -1)
	send_marker
	mapfile -t terms < <(with_marker "$REPLAY+$TOO_OLD=n" rx_delivered=0)
	wait_terms restart0 restart1 "$n" "${terms[@]}" ||
		bad "after a restart, the $n datagrams captured before the SIGKILL were not all refused (replay windows not kept)"
	expect restart0 restart1 "$n" "pre-kill replays after the restart" "${terms[@]}"
	log "pre-kill datagrams replayed after the restart: $n sent, $(delta restart0 restart1 $REPLAY $TOO_OLD) refused ($REPLAY, $TOO_OLD), $(delta restart0 restart1 rx_delivered) delivered"
	start_ping_flow 3
	wait_terms restart1 restart2 0 'rx_delivered>=10' || bad "the tunnel did not resume after the restart"
	stop_pid "$TUNCAP_PID"
	out=$(check_tun "$TMP/tun.1b.pcap" "$TMP/tun.2.pcap" 2>&1) || bad "after the restart tun0 got more than the legitimate flow: $out"
fi

# ---------------------------------------------------------------- interface removed
# XDP path: satpd reports it and exits cleanly; no XDP program of its own stays
# behind. Socket path: it keeps running, as anytun does (its sockets are not tied to
# a device): still alive 2 s later, and a SIGTERM then ends it cleanly.
if [ -z "$FILTER" ] || [[ ifdel == *"$FILTER"* ]]; then
	prog=$(xdp_prog_id)
	ip -n "$(ns a)" link del ul0
	if [ "$ADV_PATH" = xdp ]; then
		end=$((SECONDS + DEADLINE))
		while alive && [ $SECONDS -lt $end ]; do sleep 0.1; done
		if alive; then
			bad "satpd did not notice that ul0 was removed (still running after $DEADLINE s)"
			stop_pid "$APID"
		else
			wait "$APID"
			rc=$?
			[ $rc -eq 0 ] || bad "satpd exited with status $rc after ul0 was removed"
			grep -qE 'the underlay ul0 went away' "$ALOG" ||
				bad "satpd exited after ul0 was removed without saying why"
			log "ul0 removed: satpd exited ($rc): $(grep -m1 'ul0 went away' "$ALOG")"
		fi
		if [ -n "$prog" ] && bpftool prog show id "$prog" >/dev/null 2>&1; then
			bad "XDP program $prog still loaded after ul0 went away"
		fi
	else
		sleep 2 # an observation window: nothing is to happen in it
		alive || bad "satpd (socket path) exited when ul0 was removed"
		stop_pid "$APID"
		rc=$?
		[ $rc -eq 0 ] || bad "satpd (socket path) exited with status $rc at SIGTERM after ul0 was removed"
		log "ul0 removed: socket path, satpd kept running as anytun does; SIGTERM: exit $rc"
	fi
fi

! grep -E 'Sanitizer|runtime error' "$ALOG" "$ALOG.1" 2>/dev/null || bad "sanitizer report in satpd's log"
if [ ${#failures[@]} -gt 0 ]; then
	printf '%d failure(s):\n' ${#failures[@]}
	printf '  %s\n' "${failures[@]}"
	exit 1
fi
log "PASS ($ADV_PATH)"
