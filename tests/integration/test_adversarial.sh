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
# Each case injects one kind of hostile traffic (tests/integration/satp_inject.py)
# and checks: the right counters moved by the number sent (satpd's SIGUSR1
# dump, plus satp_counters of the XDP program when one is attached to ul0),
# the legitimate flow kept being delivered, satpd is alive. Over the whole
# run: nothing but the legitimate pings (each once, intact) came out of tun0,
# satpd's RSS stayed flat, no sanitizer report. Then: hostile inner packets
# sealed with the tunnel's keys, satpd killed with SIGKILL under traffic and
# restarted, and ul0 removed under satpd.
#
# Works with whichever data path satpd runs by default (UDP sockets or XDP +
# AF_XDP): it reads both sets of counters and says which it saw.
#
#   tests/integration/test_adversarial.sh [CASE-FILTER]
#   ADV_SATPD_OPTS="--xdp-mode off" tests/integration/test_adversarial.sh   # the socket path

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

FILTER=${1:-}
PY=${PYTHON_SCAPY:-/usr/bin/python3}
INJECT=$LIB_DIR/satp_inject.py
FORGE=$BUILD/tests/tools/satp_forge
XDP_H=$REPO_ROOT/include/satp_xdp.h
K128=000102030405060708090a0b0c0d0e0f
SALT=a0a1a2a3a4a5a6a7a8a9aaabacad
A4=10.77.0.1 B4=10.77.0.2 X4=10.77.0.3
A6=fd00:77::1 X6=fd00:77::3
IN_A=10.99.0.1 IN_B=10.99.0.2
WINDOW=64
PING_PATTERN=5a
# Growth of satpd's resident memory tolerated over all hostile cases. The
# packet path allocates nothing; ASan's allocator and page faults in of the
# buffers explain a little.
RSS_SLACK_KB=2048
FLOOD=20000

failures=()
bad() {
	printf 'FAIL: %s\n' "$*"
	failures+=("$*")
}

# Daemon drop counters, and every drop reason of the XDP program.
DAEMON_DROPS=(rx_truncated rx_too_short rx_wrong_mux rx_bad_tag rx_replay rx_too_old rx_senders_full
	rx_no_payload rx_bad_ptype)
XDP_DROPS=(xdp:drop-truncated xdp:drop-too-short xdp:drop-unknown-mux xdp:drop-replay xdp:drop-too-old
	xdp:drop-no-socket xdp:drop-hs-too-short xdp:drop-hs-ratelimit xdp:drop-hs-ceiling
	xdp:drop-unverified)

lib_init
require_cmd tcpdump uanytun bpftool
# OpenSSL 3.0 allocates and frees inside every HMAC re-key; ASan's quarantine
# (256 MiB by default) keeps those blocks, which would read as growth here.
if ldd "$SATPD" 2>/dev/null | grep -q libasan; then
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1:thread_local_quarantine_size_kb=64
fi
[ -x "$FORGE" ] || fail "$FORGE is not built (make tests)"
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
A_MAC=$(ip -n "$(ns a)" -j link show ul0 | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')

# ---------------------------------------------------------------- the tunnel
ALOG=$TMP/satpd.log
STATE=$TMP/state
# A bpffs of our own in the root namespace, as /sys/fs/bpf is on a real host: pins
# outlive a satpd (each `ip netns exec` would otherwise mount a fresh one).
BPF_MNT=$(mktemp -d "/tmp/satpd-bpf.$$.XXXXXX")
mount -t bpf bpf "$BPF_MNT" || skip "cannot mount a bpffs"
trap 'lib_cleanup; umount "$BPF_MNT"; rmdir "$BPF_MNT"' EXIT
read -ra EXTRA <<<"${ADV_SATPD_OPTS:-}"
start_satpd() {
	# No -i: satpd binds both families, so the IPv6 cases reach it too. No --xdp-mode:
	# whatever the default data path is.
	start_bg a satpd.log "$SATPD" -U --state-dir "$STATE" --pin-root "$BPF_MNT" -r $B4 -e left \
		-s 1 -w $WINDOW -d tun0 -t tun -n $IN_A/24 -K $K128 -A $SALT "${EXTRA[@]}"
	APID=$LAST_PID
	wait_dev a tun0 || { cat "$ALOG"; fail "satpd: no tun0"; }
}
: >"$ALOG"
start_satpd
start_bg b uanytun.log uanytun -D -L stdout:5 -i $B4 -r $A4 -e right -s 2 -d tun0 -t tun \
	-n $IN_B/24 -K $K128 -A $SALT
wait_dev b tun0 || fail "uanytun: no tun0"
wait_ping b $IN_A 10 || { cat "$ALOG" "$TMP/uanytun.log"; fail "no ping through the tunnel"; }

# Everything satpd writes to its tun device, and the tunnel's datagrams as the peer sends them.
start_tun_capture() {
	start_bg a "tcpdump-tun.$1.log" tcpdump -n -U --immediate-mode -Q in -i tun0 -w "$TMP/tun.$1.pcap"
	TUNCAP_PID=$LAST_PID
}
start_tun_capture 1
start_bg b tcpdump-ul.log tcpdump -n -U --immediate-mode -i ul0 -w "$TMP/legit.pcap" "udp and src port 4444 and dst host $A4 and dst port 4444"
sleep 1
start_bg b ping.log ping -n -i 0.05 -p $PING_PATTERN $IN_A
PING_PID=$LAST_PID
sleep 2

# ---------------------------------------------------------------- counters
XDP_PROG=""
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

# xdp_counters: "xdp:<reason> <packets>" for the program attached to a's ul0, if any.
xdp_counters() {
	local id
	id=$(xdp_prog_id)
	[ -n "$id" ] || return 0
	[ "$id" = "$XDP_PROG" ] || { XDP_PROG=$id; log "XDP program id $id attached to ul0"; }
	"$PY" - "$id" "$XDP_H" <<'PYEOF'
import json, re, subprocess, sys
names = re.findall(r'X\(SATP_XDP_\w+, "([a-z-]+)"', open(sys.argv[2]).read())
prog = json.loads(subprocess.run(["bpftool", "-j", "prog", "show", "id", sys.argv[1]],
                                 capture_output=True, text=True).stdout or "{}")
for m in prog.get("map_ids", []):
    info = json.loads(subprocess.run(["bpftool", "-j", "map", "show", "id", str(m)],
                                     capture_output=True, text=True).stdout or "{}")
    if info.get("name") != "satp_counters":
        continue
    dump = json.loads(subprocess.run(["bpftool", "-j", "map", "dump", "id", str(m)],
                                     capture_output=True, text=True).stdout or "[]")
    for e in dump:
        e = e.get("formatted", e)
        k = e.get("key")
        k = int(k) if isinstance(k, int) else int.from_bytes(bytes(int(b, 16) for b in k), "little")
        tot = sum(v["value"]["packets"] if isinstance(v["value"], dict) else 0
                  for v in e.get("values", []))
        if k < len(names):
            print("xdp:%s %d" % (names[k], tot))
PYEOF
}

# snap NAME: satpd's counters (a fresh SIGUSR1 dump) and XDP's into $TMP/snap.NAME.
snap() {
	local before i
	before=$(grep -c 'counters (' "$ALOG")
	kill -USR1 "$APID" 2>/dev/null || { : >"$TMP/snap.$1"; return 1; }
	for i in $(seq 1 50); do
		[ "$(grep -c 'counters (' "$ALOG")" -gt "$before" ] && break
		sleep 0.1
	done
	sleep 0.2
	awk '/counters \(/ { blk = ""; next }
	     $(NF-1) ~ /^(rx|tx)_[a-z_]+$/ && $NF ~ /^[0-9]+$/ { blk = blk $(NF-1) " " $NF "\n" }
	     END { printf "%s", blk }' "$ALOG" >"$TMP/snap.$1"
	xdp_counters >>"$TMP/snap.$1"
}

# delta FROM TO NAME...: how far the named counters moved together.
delta() {
	local from=$1 to=$2
	shift 2
	awk -v names="$*" 'BEGIN { n = split(names, x, " "); for (i = 1; i <= n; i++) w[x[i]] = 1 }
		FNR == NR { if ($1 in w) s -= $2; next }
		$1 in w { s += $2 }
		END { print s + 0 }' "$TMP/snap.$from" "$TMP/snap.$to"
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$APID/status" 2>/dev/null; }

alive() { kill -0 "$APID" 2>/dev/null; }

# ---------------------------------------------------------------- the cases
# case NAME MODE "DAEMON COUNTERS" INJECT-ARGS...
#   MODE eq:   the counters (plus any XDP drop) moved by exactly the number sent
#        some: they moved, by at most the number sent (a flood loses some in buffers)
#        none: nothing of it reaches satpd on the socket path (the kernel drops or
#              answers it); with XDP it may be counted as a drop, never delivered
run_case() {
	local name=$1 mode=$2 want=$3 n moved refused delivered rss0 rss1 wantv
	shift 3
	read -ra wantv <<<"$want"
	[ -n "$FILTER" ] && [[ $name != *"$FILTER"* ]] && return 0
	snap pre
	rss0=$(rss_kb)
	n=$(nsx x "$PY" "$INJECT" "$@" 2>"$TMP/inject.err" | tail -1)
	if ! [[ $n =~ ^[0-9]+$ ]]; then
		bad "$name: the injector failed: $(tail -3 "$TMP/inject.err")"
		return 0
	fi
	sleep 0.6 # the legitimate flow goes on meanwhile
	alive || { bad "$name: satpd died"; tail -20 "$ALOG"; return 0; }
	snap post
	rss1=$(rss_kb)
	moved=$(delta pre post "${wantv[@]}" "${XDP_DROPS[@]}")
	refused=$(delta pre post "${DAEMON_DROPS[@]}" "${XDP_DROPS[@]}")
	delivered=$(delta pre post rx_delivered)
	case $mode in
	eq) [ "$moved" -eq "$n" ] || bad "$name: sent $n, [$want + XDP drops] moved by $moved" ;;
	some)
		if [ "$moved" -eq 0 ] || [ "$moved" -gt "$n" ]; then
			bad "$name: sent $n, [$want + XDP drops] moved by $moved"
		fi
		;;
	none) [ "$refused" -le "$n" ] || bad "$name: sent $n, drop counters moved by $refused" ;;
	esac
	[ "$refused" -eq "$moved" ] || [ "$mode" = none ] ||
		bad "$name: other drop counters moved too ($refused in all, $moved expected ones)"
	[ "$delivered" -gt 0 ] || bad "$name: the legitimate flow stopped (nothing delivered)"
	log "$(printf '%-14s sent %5d  expected counters +%-5d all drops +%-5d legit delivered +%-4d RSS %s -> %s kB' \
		"$name" "$n" "$moved" "$refused" "$delivered" "$rss0" "$rss1")"
}

snap start
RSS_START=$(rss_kb)
XDP_AT_START=$(xdp_prog_id)
log "data path: $(grep -m1 -E 'data path|XDP:|xdp-mode' "$ALOG" | sed 's/^.*NOTICE: *//')"
log "XDP on ul0: ${XDP_AT_START:-none}; satpd RSS $RSS_START kB"

CAP=(--to "$A4" --pcap "$TMP/legit.pcap")
run_case truncate eq "rx_too_short rx_bad_tag" truncate "${CAP[@]}"
run_case header-only eq "rx_too_short" header-only "${CAP[@]}"
run_case wrong-mux eq "rx_wrong_mux" wrong-mux "${CAP[@]}"
run_case sender-ids eq "rx_bad_tag" sender-ids "${CAP[@]}"
run_case bad-tag eq "rx_bad_tag rx_wrong_mux" bad-tag "${CAP[@]}"
run_case flip eq "rx_bad_tag rx_wrong_mux" flip "${CAP[@]}"
run_case replay-recent eq "rx_replay rx_too_old" replay-recent --count 5 "${CAP[@]}"
run_case replay-old eq "rx_too_old" replay-old --count 20 "${CAP[@]}"
run_case seq-jump eq "rx_bad_tag" seq-jump "${CAP[@]}"
run_case seq-wrap eq "rx_bad_tag" seq-wrap "${CAP[@]}"
run_case oversize eq "rx_truncated" oversize "${CAP[@]}"
# Complete fragment trains are reassembled by the kernel: one forged (bad tag) and
# one replayed datagram; the orphan fragments never complete.
run_case frag eq "rx_bad_tag rx_replay rx_too_old" frag "${CAP[@]}" --ifname ul0 --dst-mac "$A_MAC"
run_case v6ext eq "rx_bad_tag" v6ext "${CAP[@]}" --to6 $A6 --ifname ul0 --dst-mac "$A_MAC"
run_case vlan none "" vlan "${CAP[@]}" --ifname ul0 --dst-mac "$A_MAC"
run_case nonudp none "" nonudp "${CAP[@]}" --ifname ul0 --dst-mac "$A_MAC"
run_case flood some "rx_bad_tag" flood "${CAP[@]}" --ifname ul0 --dst-mac "$A_MAC" --count $FLOOD

# The forged jump did not move the window: legitimate datagrams still pass after it.
snap jump0
sleep 1
snap jump1
[ "$(delta jump0 jump1 rx_delivered)" -gt 0 ] || bad "no legitimate delivery after the forged seq jumps"
[ "$(delta start jump1 rx_too_old rx_replay xdp:drop-too-old xdp:drop-replay)" -eq \
	"$(delta start jump1 rx_too_old rx_replay xdp:drop-too-old xdp:drop-replay)" ] || true

# Non-SATP traffic to satpd's address is untouched: the host answers ping and TCP.
nsx x ping -c 3 -i 0.2 -W 1 -q $A4 >/dev/null || bad "ping to satpd's underlay address failed"
nsx x ping -6 -c 3 -i 0.2 -W 1 -q $A6 >/dev/null || bad "ping6 to satpd's underlay address failed"

RSS_END=$(rss_kb)
log "satpd RSS over the hostile cases: $RSS_START -> $RSS_END kB"
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
from scapy.all import ICMP, IP, IPv6, rdpcap
src, dst, pat = sys.argv[1], sys.argv[2], int(sys.argv[3], 16)
pkts = [p for f in sys.argv[4:] for p in rdpcap(f)]
seen, bad = Counter(), []
for p in pkts:
    raw = bytes(p)
    if raw[0] >> 4 == 6:
        ip6 = IPv6(raw)
        if str(ip6.src).startswith("fe80:") or str(ip6.src) == "::":
            continue  # the peer's own link-local chatter (RS, MLD), authenticated
    ip = IP(raw) if raw[0] >> 4 == 4 else None
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
kill -INT "$TUNCAP_PID" 2>/dev/null
sleep 0.5
out=$(check_tun "$TMP/tun.1.pcap" 2>&1) || bad "tun0 got more than the legitimate flow: $out"
log "tun0: $out"

# ---------------------------------------------------------------- hostile inner packets
# Sealed with the tunnel's own keys (a compromised peer), sender id 7, from the peer's
# namespace. satpd hands them to the kernel as anytun does, or drops them with a
# counted reason; it never crashes. Each replayed afterwards: refused.
forge() { nsx b "$FORGE" --to $A4 --port 4444 --key $K128 --salt $SALT --role right "$@"; }
if [ -z "$FILTER" ] || [[ inner == *"$FILTER"* ]]; then
	INNER=(
		"0x0800|45"                                       # one byte of IPv4
		"0x0800|4f00001400004000401100000a6300420a630001" # IHL 15, 20 bytes
		"0x0800|4500ffff00004000401100000a6300420a630001" # total length 65535
		"0x0800|60000000000011400000000000000000"         # IPv6 under the IPv4 type
		"0x86dd|6000000003e8114000000000000000000000000000000000000000000000000000000000000000000001" # payload length 1000 of 0
		"0x0800|$(head -c 200 /dev/urandom | od -An -tx1 | tr -d ' \n')" # noise
		"0x6558|02000000000102000000000208004500"          # Ethernet on a tun device
		"0x1234|4500002300010000401165c10a6300420a630001" # unknown payload type
		"0x0800|"                                         # nothing after the type
		"0x0800|4500002300010000401165c10a6300420a63000100090009000f4065686f7374696c65" # plausible UDP
	)
	snap inner0
	seq=100
	for row in "${INNER[@]}"; do
		forge --sid 7 --seq $seq --ptype "${row%%|*}" "${row#*|}" || bad "satp_forge failed for $row"
		seq=$((seq + 1))
	done
	sleep 0.5
	alive || bad "satpd died on a hostile inner packet"
	snap inner1
	got=$(delta inner0 inner1 rx_delivered rx_bad_ptype rx_no_payload)
	legit=$(delta inner0 inner1 rx_delivered)
	log "hostile inner: ${#INNER[@]} sealed, $(delta inner0 inner1 rx_bad_ptype) bad payload type, $(delta inner0 inner1 rx_no_payload) empty, the rest delivered (with the legit flow: $legit)"
	[ "$(delta inner0 inner1 rx_bad_ptype)" -eq 2 ] || bad "hostile inner: want 2 rx_bad_ptype"
	[ "$(delta inner0 inner1 rx_no_payload)" -eq 1 ] || bad "hostile inner: want 1 rx_no_payload"
	[ "$got" -ge ${#INNER[@]} ] || bad "hostile inner: $got of ${#INNER[@]} accounted for"
	# replays of all of them, and authenticated seqs around 2^32 on a sender of their own
	seq=100
	for row in "${INNER[@]}"; do
		forge --sid 7 --seq $seq --ptype "${row%%|*}" "${row#*|}"
		seq=$((seq + 1))
	done
	WRAP_INNER=4500002000010000400165d40a6300420a63000108001f1d0000000077726170
	for s in 4294967294 4294967295 0 1; do forge --sid 8 --seq $s $WRAP_INNER; done
	sleep 0.3
	snap inner2
	for s in 4294967294 4294967295 0 1; do forge --sid 8 --seq $s $WRAP_INNER; done
	sleep 0.3
	snap inner3
	[ "$(delta inner1 inner2 rx_replay rx_too_old xdp:drop-replay xdp:drop-too-old)" -eq ${#INNER[@]} ] ||
		bad "hostile inner: replays not all refused ($(delta inner1 inner2 rx_replay rx_too_old xdp:drop-replay xdp:drop-too-old) of ${#INNER[@]})"
	[ "$(delta inner2 inner3 rx_replay rx_too_old xdp:drop-replay xdp:drop-too-old)" -eq 4 ] ||
		bad "seqs around 2^32: replays not all refused ($(delta inner2 inner3 rx_replay rx_too_old xdp:drop-replay xdp:drop-too-old) of 4)"
	first=$(($(delta inner1 inner2 rx_replay rx_too_old xdp:drop-replay xdp:drop-too-old) - ${#INNER[@]}))
	log "authenticated seqs 2^32-2, 2^32-1, 0, 1 on a fresh sender: $((4 - first)) of 4 accepted the first time, $(delta inner2 inner3 rx_replay rx_too_old xdp:drop-replay xdp:drop-too-old) of 4 replays refused"
fi

# What tun0 gets from here to the SIGKILL, to find replays of it after the restart.
start_tun_capture 1b
sleep 0.5

# ---------------------------------------------------------------- SIGKILL under traffic
# While satpd is gone SATP is not delivered (its tun0 is gone with it; an XDP program
# left attached must drop it), other traffic to the host passes, a restart resumes the
# tunnel, and datagrams captured before the kill are still refused.
if [ -z "$FILTER" ] || [[ sigkill == *"$FILTER"* ]]; then
	cp "$TMP/legit.pcap" "$TMP/prekill.pcap"
	snap kill0
	kill -KILL "$APID"
	wait "$APID" 2>/dev/null
	sleep 0.5
	left=$(xdp_prog_id)
	log "after SIGKILL: tun0 $(ip -n "$(ns a)" link show tun0 >/dev/null 2>&1 && echo present || echo gone), XDP on ul0: ${left:-none}"
	xdp_counters >"$TMP/snap.gone0"
	n=$(nsx x "$PY" "$INJECT" replay-recent --count 20 --to $A4 --pcap "$TMP/prekill.pcap" | tail -1)
	sleep 0.3
	if [ -n "$left" ]; then
		# satpd left its program attached: with no AF_XDP socket it must drop SATP.
		xdp_counters >"$TMP/snap.gone1"
		dropped=$(delta gone0 gone1 xdp:drop-no-socket xdp:drop-replay xdp:drop-too-old)
		[ "$dropped" -ge "$n" ] || bad "satpd gone, XDP attached: $dropped SATP datagrams dropped, $n injected"
		log "satpd gone, XDP program $left still attached: $dropped SATP datagrams dropped ($n injected, the rest the peer's flow)"
	else
		log "satpd gone, no XDP program: the kernel answers SATP with port unreachable"
	fi
	nsx x ping -c 3 -i 0.2 -W 1 -q $A4 >/dev/null || bad "ping to the host failed while satpd was gone"
	nsx b ping -c 2 -W 1 -q $IN_A >/dev/null 2>&1 && bad "the tunnel answered while satpd was gone"
	# Stop the peer's flow so that nothing legitimate moves the window before the replays.
	kill -INT "$PING_PID" 2>/dev/null
	sleep 0.5
	: >"$ALOG.1"
	cat "$ALOG" >>"$ALOG.1"
	start_satpd
	start_tun_capture 2
	sleep 0.5
	snap restart0
	n=$(nsx x "$PY" "$INJECT" replay-recent --count 20 --to $A4 --pcap "$TMP/prekill.pcap" | tail -1)
	sleep 0.5
	snap restart1
	refused=$(delta restart0 restart1 rx_replay rx_too_old "${XDP_DROPS[@]}")
	[ "$refused" -eq "$n" ] ||
		bad "after a restart, only $refused of $n datagrams captured before the SIGKILL were refused (replay windows not kept across the restart)"
	log "pre-kill datagrams replayed after the restart: $n sent, $refused refused as replays, $(delta restart0 restart1 rx_delivered) delivered meanwhile"
	start_bg b ping2.log ping -n -i 0.05 -p $PING_PATTERN $IN_A
	PING_PID=$LAST_PID
	for _ in $(seq 1 10); do
		nsx b ping -c 1 -W 1 -q -p $PING_PATTERN $IN_A >/dev/null 2>&1 && break
	done || bad "the tunnel did not resume after the restart"
	sleep 1
	kill -INT "$TUNCAP_PID" 2>/dev/null
	sleep 0.3
	out=$(check_tun "$TMP/tun.1b.pcap" "$TMP/tun.2.pcap" 2>&1) || bad "after the restart tun0 got more than the legitimate flow: $out"
fi

# ---------------------------------------------------------------- interface removed
# satpd reports it and exits cleanly; no XDP program of its own stays behind.
# On the socket path it keeps running, as anytun does (its sockets are not
# tied to a device).
if [ -z "$FILTER" ] || [[ ifdel == *"$FILTER"* ]]; then
	prog=$(xdp_prog_id)
	ip -n "$(ns a)" link del ul0
	gone=no
	for _ in $(seq 1 50); do
		alive || { gone=yes; break; }
		sleep 0.1
	done
	if [ $gone = yes ]; then
		wait "$APID"
		rc=$?
		[ $rc -eq 0 ] || bad "satpd exited with status $rc after ul0 was removed"
		grep -qiE 'ul0.*(away|gone|removed|deleted|disappeared)' "$ALOG" ||
			bad "satpd exited after ul0 was removed without saying why"
		log "ul0 removed: satpd exited ($rc): $(grep -m1 -iE 'ul0.*(away|gone|removed|deleted)' "$ALOG")"
	elif [ -z "$prog" ]; then
		log "ul0 removed: socket path, satpd keeps running as anytun does"
		stop_pid "$APID"
	else
		bad "satpd did not notice that ul0 was removed (still running after 5 s)"
		stop_pid "$APID"
	fi
	if [ -n "$prog" ] && bpftool prog show id "$prog" >/dev/null 2>&1; then
		bad "XDP program $prog still loaded after ul0 went away"
	fi
fi

! grep -E 'Sanitizer|runtime error' "$ALOG" "$ALOG.1" 2>/dev/null || bad "sanitizer report in satpd's log"
if [ ${#failures[@]} -gt 0 ]; then
	printf '%d failure(s):\n' ${#failures[@]}
	printf '  %s\n' "${failures[@]}"
	exit 1
fi
log "PASS"
