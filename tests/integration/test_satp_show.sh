#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# satp show / satp stats against a real satp_rx on a veth, read from the pinned
# maps of a private bpffs: the attach facts (mode, dispatcher, program id, the
# kernel's own view, queues, the registered AF_XDP socket), connections,
# per-sender windows and counters (a window seeded with bpftool, so replays are
# dropped and counted per sender), verdict counters summed over CPUs with
# their names; `satp stats --watch 1 --count 2` prints two reports of rates;
# every pinned map dumps with BTF field names; with no daemon show says so, and
# with a control socket that claims the interface (satp_ctl_host) it shows the
# daemon's side.
#
#   netns satpsa-PID                     netns satpsb-PID
#   +---------------------+              +-----------------------------------+
#   | sa-PID 10.203.0.1   |    veth      | sb-PID 10.203.0.2                 |
#   | satp_send           |<------------>| satp_rx (XDP) -> AF_XDP (xsk_rx)  |
#   +---------------------+              | satp show / stats (reads pins)    |
#                                        +-----------------------------------+
#   pin root: a private bpffs at $TMP/bpffs; run dir (control sockets): $TMP/run
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
TOOLS=$BUILD/tests/tools
SATP=$BUILD/satp
ID=$$
NSA=satpsa-$ID
NSB=satpsb-$ID
IFA=sa-$ID
IFB=sb-$ID
PORT=4455
MUX=5
TAG=10
WINDOW=64
SID=7
TOP=1000
NHS=8 # handshakes sent from one source at once
TMP=
PIDS=()

skip() {
	echo "SKIP: $*"
	exit 77
}

fail() {
	echo "FAIL: $*"
	[ -n "$TMP" ] && [ -f "$TMP/rx.err" ] && grep -v '^libbpf: ' "$TMP/rx.err" | sed 's/^/  rx: /'
	exit 1
}

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	if [ -n "$TMP" ]; then
		umount "$TMP/bpffs" 2>/dev/null
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || skip "needs root (netns, XDP)"
for t in ip python3 bpftool curl; do
	command -v "$t" >/dev/null || skip "$t not installed"
done
for b in "$TOOLS/xsk_rx" "$TOOLS/satp_send" "$TOOLS/satp_ctl_host" "$SATP"; do
	[ -x "$b" ] || fail "$b not built (make tests)"
done

TMP=$(mktemp -d /tmp/satp-show.XXXXXX)
chmod 755 "$TMP"
mkdir "$TMP/bpffs" "$TMP/run"
mount -t bpf bpf "$TMP/bpffs" || skip "cannot mount a bpffs"
PINS=$TMP/bpffs/satpd/$IFB
export SATP_RUN_DIR=$TMP/run

{ ip netns add "$NSA" && ip netns add "$NSB"; } || fail "netns"
ip -n "$NSA" link add "$IFA" type veth peer name "$IFB" netns "$NSB" || fail "veth"
ip -n "$NSA" addr add 10.203.0.1/24 dev "$IFA"
ip -n "$NSB" addr add 10.203.0.2/24 dev "$IFB"
ip -n "$NSA" link set "$IFA" up
ip -n "$NSB" link set "$IFB" up

inb() { ip netns exec "$NSB" "$@"; }
show_json() { inb "$SATP" show "$IFB" --json --pin-root "$TMP/bpffs"; }
# jq-less field access: jget EXPR reads the JSON on stdin, prints eval(EXPR) with d = the document
jget() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

# start_rx MODE: xsk_rx attached in MODE, its socket registered; 77 when the kernel lacks the
# mode or AF_XDP (xsk_rx's reason in SKIP_WHY).
start_rx() {
	local pid rc
	rm -f "$TMP/ready"
	ip netns exec "$NSB" "$TOOLS/xsk_rx" --ifname "$IFB" --pin-root "$TMP/bpffs" --mode "$1" --port $PORT \
		--addr 10.203.0.2 --mux $MUX:$TAG:$WINDOW --seconds 900 --ready "$TMP/ready" \
		>"$TMP/rx.out" 2>"$TMP/rx.err" &
	pid=$!
	for _ in $(seq 100); do
		[ -f "$TMP/ready" ] && { PIDS+=("$pid"); return 0; }
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			rc=$?
			[ $rc -eq 77 ] && { SKIP_WHY=$(grep SKIP "$TMP/rx.out"); return 77; }
			fail "xsk_rx ($1) exited with $rc before it was ready"
		fi
		sleep 0.1
	done
	fail "xsk_rx ($1) not ready after 10 s"
}
# Native where the kernel has it; else the same checks in skb mode (generic XDP), and the
# native row is reported skipped (tests/run.sh fails that under CI=true unless listed).
MODE=native
if ! start_rx native; then
	echo "SKIP-ROW native-mode: $SKIP_WHY"
	MODE=skb
	start_rx skb || skip "$SKIP_WHY"
fi
PROG_ID=$(awk '$1 == "attached:" { print $7 }' "$TMP/rx.out")

# Seed a committed window for (MUX, SID) in slot 0, as the daemon does after auth:
# top TOP, size WINDOW, valid; then bind it in satp_win_idx.
python3 - "$TOP" "$WINDOW" >"$TMP/win.hex" <<'EOF'
import struct, sys
v = struct.pack("<IIII", 0, int(sys.argv[1]), int(sys.argv[2]), 1) + bytes(512)
print(" ".join("%02x" % b for b in v))
EOF
# shellcheck disable=SC2046 # the byte list is meant to split
bpftool map update pinned "$PINS/satp_windows" key 0 0 0 0 value hex $(cat "$TMP/win.hex") ||
	fail "seed satp_windows"
bpftool map update pinned "$PINS/satp_win_idx" key hex 05 00 07 00 value 0 0 0 0 ||
	fail "seed satp_win_idx"

send() { # send SEQ COUNT [MUX]
	ip netns exec "$NSA" "$TOOLS/satp_send" --udp 10.203.0.2 --port $PORT --mux "${3:-$MUX}" \
		--sid $SID --seq "$1" --count "$2" >/dev/null || fail "satp_send"
}
send $((TOP + 1)) 30   # new: redirected, counted for the sender
send $((TOP - 10)) 1   # inside the window, bit not set: redirected
for _ in 1 2 3 4 5; do # == top: replay, dropped by XDP and counted for the sender
	send $TOP 1
done
send 100 4             # 100..103: too old
send 1 6 9             # unknown mux
# handshakes from one source, at once: its burst (5) passes, the rest is over budget
ip netns exec "$NSA" "$TOOLS/satp_send" --udp 10.203.0.2 --port $PORT --mux 65535 --len 152 \
	--count $NHS >/dev/null || fail "satp_send (handshakes)"
# judged: every datagram above is counted by satp_rx (a frame counted late would fail below)
judged() {
	show_json 2>/dev/null | python3 -c 'import json, sys
c = json.load(sys.stdin)["interfaces"][0]["xdp"]["counters"]
n = lambda r: c[r]["packets"]
ok = n("redirected") >= 31 and n("drop-replay") >= 5 and n("drop-too-old") >= 4
ok = ok and n("drop-unknown-mux") >= 6
ok = ok and sum(n(r) for r in ("pass-handshake", "pass-hs-shared", "drop-hs-ratelimit", "drop-hs-ceiling")) >= int(sys.argv[1])
sys.exit(not ok)' "$NHS"
}
for _ in $(seq 100); do judged && break; sleep 0.1; done
judged || fail "satp_rx has not judged every frame sent after 10 s: $(show_json 2>&1 | head -c 600)"

# ---------------------------------------------------------------- show --json
J=$TMP/show.json
show_json >"$J" || fail "satp show --json exited $?: $(cat "$J")"
python3 -m json.tool "$J" >/dev/null || fail "satp show --json is not JSON: $(cat "$J")"
check() { # check EXPR WANT
	local got
	got=$(jget "$1" <"$J") || fail "cannot evaluate $1"
	[ "$got" = "$2" ] || fail "show --json: $1 = '$got', want '$2'"
}
I='d["interfaces"][0]'
check "${I}[\"ifname\"]" "$IFB"
check "${I}[\"xdp\"][\"mode\"]" "$MODE"
check "${I}[\"xdp\"][\"prog_id\"]" "$PROG_ID"
check "${I}[\"xdp\"][\"kernel\"][\"attached\"]" True
check "${I}[\"xdp\"][\"kernel\"][\"mode\"]" "$MODE"
check "${I}[\"xdp\"][\"rx_queues\"] >= 1" True
check "${I}[\"xdp\"][\"local_addresses\"]" "['10.203.0.2']"
check "${I}[\"xdp\"][\"connections\"]" \
	"[{'mux': $MUX, 'tag_len': $TAG, 'window': $WINDOW, 'no_prefilter': False}]"
check "${I}[\"xdp\"][\"handshake_budget\"]" "{'pps': 20, 'burst': 5}"
HSC="${I}[\"xdp\"][\"counters\"]"
check "${HSC}[\"pass-handshake\"][\"packets\"] + ${HSC}[\"pass-hs-shared\"][\"packets\"]" $NHS
check "${HSC}[\"pass-handshake\"][\"packets\"] >= 5" True
check "${I}[\"xdp\"][\"handshake_ceiling\"]" "{'pps': 5000, 'burst': 500}"
check "${I}[\"xdp\"][\"unverified_budget\"]" "{'pps': 1000, 'burst': 256}"
# XDP's per-sender figures are counted before any tag is checked (review L6)
check "${I}[\"xdp\"][\"senders\"][0][\"counted\"]" pre-auth
check "${I}[\"xdp\"][\"senders\"][0][\"sender_id\"]" $SID
check "${I}[\"xdp\"][\"senders\"][0][\"window_top\"]" $TOP
check "${I}[\"xdp\"][\"senders\"][0][\"window_valid\"]" True
check "${I}[\"xdp\"][\"senders\"][0][\"rx_packets\"]" 31
check "${I}[\"xdp\"][\"senders\"][0][\"replay_drops\"]" 9
check "${I}[\"xdp\"][\"counters\"][\"redirected\"][\"packets\"]" 31
check "${I}[\"xdp\"][\"counters\"][\"drop-replay\"][\"packets\"]" 5
check "${I}[\"xdp\"][\"counters\"][\"drop-too-old\"][\"packets\"]" 4
check "${I}[\"xdp\"][\"counters\"][\"drop-unknown-mux\"][\"packets\"]" 6
check "len(${I}[\"xdp\"][\"counters\"])" "$(grep -c '^	X(SATP_XDP_' include/satp_xdp.h)"
check "${I}[\"daemon_running\"]" False
check "${I}[\"daemon\"]" None
# the AF_XDP socket, from the kernel's sock_diag (skip the check without xsk_diag)
if [ "$(jget "${I}[\"xdp\"][\"xsks\"] is None" <"$J")" = False ]; then
	check "[x[\"queue\"] for x in ${I}[\"xdp\"][\"xsks\"]]" "[0]"
	echo "ok   AF_XDP socket on queue 0 reported by sock_diag"
else
	echo "note no xsk_diag in this kernel: AF_XDP sockets come from satpd's snapshot only"
fi
echo "ok   show --json: mode, prog id (= kernel's), connection, sender window/rx/replay, verdicts"

# ---------------------------------------------------------------- show (human)
inb "$SATP" show "$IFB" --pin-root "$TMP/bpffs" >"$TMP/show.txt" || fail "satp show exited $?"
for want in "interface: $IFB" "xdp: $MODE, plain attach (no dispatcher), satp_rx prog id $PROG_ID" \
	"satp_rx attached" "satpd: not running (no control socket under $TMP/run answers for $IFB)" \
	"connection mux $MUX: tag $TAG bytes, window $WINDOW" \
	"sender $SID: window top $TOP (size $WINDOW), pre-auth rx 31 packets" "drop-unknown-mux" \
	"handshakes (mux 65535) to the UDP socket: 20 a second per source address, bursts of 5" \
	"handshakes of all sources: 5000 a second, bursts of 500, half kept for sources within" \
	"senders without a window yet: 1000 a second per connection, bursts of 256" \
	"pass-hs-shared"; do
	grep -qF "$want" "$TMP/show.txt" || fail "satp show lacks '$want':$(sed 's/^/\n  /' "$TMP/show.txt")"
done
# no IFNAME: every directory under the pin root
inb "$SATP" show --pin-root "$TMP/bpffs" | grep -q "^interface: $IFB\$" || fail "show without IFNAME"
inb "$SATP" show nosuch0 --pin-root "$TMP/bpffs" 2>"$TMP/err" && fail "show of an unknown interface"
grep -q "no satpd state for nosuch0 under $TMP/bpffs/satpd/" "$TMP/err" || fail "unclear: $(cat "$TMP/err")"
echo "ok   show: human table; says no daemon runs; unknown interface is an error"

# ---------------------------------------------------------------- stats --watch
(for _ in $(seq 40); do send $((TOP + 100)) 10; send $TOP 1; sleep 0.1; done) &
PIDS+=($!)
inb "$SATP" stats "$IFB" --watch 1 --count 2 --pin-root "$TMP/bpffs" >"$TMP/stats.txt" ||
	fail "satp stats exited $?"
[ "$(grep -c "^$IFB (" "$TMP/stats.txt")" = 2 ] || fail "stats: not 2 reports:$(cat "$TMP/stats.txt")"
awk '$1 == "redirected" && $2 + 0 > 0 { n++ } END { exit n == 2 ? 0 : 1 }' "$TMP/stats.txt" ||
	fail "stats: no redirected rate in both reports:$(sed 's/^/\n  /' "$TMP/stats.txt")"
# replays of the same seq after the first: the sender's replay rate moves
awk -v s="$MUX:$SID" '$1 == s && $4 + 0 > 0 { n++ } END { exit n >= 1 ? 0 : 1 }' "$TMP/stats.txt" ||
	fail "stats: no replay rate for $MUX:$SID:$(sed 's/^/\n  /' "$TMP/stats.txt")"
inb "$SATP" stats "$IFB" --watch 0 --pin-root "$TMP/bpffs" 2>/dev/null && fail "stats --watch 0 accepted"
kill "${PIDS[-1]}" 2>/dev/null
wait "${PIDS[-1]}" 2>/dev/null # the traffic stops: show and metrics below read the same numbers
echo "ok   stats --watch 1 --count 2: two reports of rates (verdicts, per-sender replays)"

# ---------------------------------------------------------------- bpftool dumps
dump_has() { # dump_has MAP FIELD...
	local map=$1 out f
	shift
	out=$(bpftool map dump pinned "$PINS/$map" 2>&1) || fail "bpftool dump $map: $out"
	for f in "$@"; do
		grep -q "\"$f\"" <<<"$out" || fail "$map dump lacks field $f"
	done
}
dump_has satp_cfg flags attach_mode attach_flags prog_id n_addr4 addr4 addr6 hs_pps hs_burst
dump_has satp_hs_budget addr tat_ns
dump_has satp_conns mux pad window_size tag_len flags
dump_has satp_win_idx mux sender_id
dump_has satp_windows gen top size flags bits
dump_has satp_snd_stats rx_packets rx_bytes rx_dropped
dump_has satp_counters packets bytes
dump_has satp_ports key value
# an XSKMAP's values are sockets, not readable: its BTF-typed key and type show
bpftool -j map show pinned "$PINS/satp_xsks" | grep -q '"type":"xskmap"' || fail "satp_xsks not an xskmap"
echo "ok   bpftool map dump: named fields for every map (satp_xsks: an xskmap)"

# ---------------------------------------------------------------- a daemon claims the interface
ip -n "$NSB" link set lo up
# satp_ctl_host writes its ready file after it dropped to nobody: a directory nobody may write
mkdir -m 777 "$TMP/host"
ip netns exec "$NSB" "$TOOLS/satp_ctl_host" --socket "$TMP/run/tunshow.sock" --xdp-ifname "$IFB" --dev tunshow \
	--metrics 127.0.0.1:9478 --pin-root "$TMP/bpffs" --seconds 60 --ready "$TMP/host/ready" \
	--drop-to nobody >"$TMP/host.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do [ -f "$TMP/host/ready" ] && break; sleep 0.1; done
[ -f "$TMP/host/ready" ] || fail "satp_ctl_host not ready after 20 s: $(cat "$TMP/host.out")"
show_json >"$J" || fail "show --json with a daemon"
check "${I}[\"daemon_running\"]" True
check "${I}[\"daemon\"][\"dev\"]" tunshow
check "${I}[\"daemon\"][\"counters\"][\"rx_bad_tag\"]" 7
check "${I}[\"daemon\"][\"xsk_queues\"]" "[0]"
check "d[\"daemons\"]" "[]"
inb "$SATP" show "$IFB" --pin-root "$TMP/bpffs" | grep -q "satpd: pid [0-9]*, version fake, device tunshow" ||
	fail "show does not join the daemon to its interface"
echo "ok   show: the daemon whose xdp-ifname is $IFB is shown with it"

# the metrics endpoint renders the same pinned counters
inb curl -sf http://127.0.0.1:9478/metrics >"$TMP/metrics.txt" || fail "curl /metrics"
metric() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/metrics.txt"; }
L="ifname=\"$IFB\""
[ "$(metric "satpd_rx_packets_total{$L,mux=\"$MUX\",sender=\"$SID\"}")" = \
	"$(show_json | jget "${I}[\"xdp\"][\"senders\"][0][\"rx_packets\"]")" ] ||
	fail "metrics and show disagree on rx_packets of $MUX:$SID:$(grep satpd_rx_ "$TMP/metrics.txt")"
[ "$(metric "satpd_xdp_drops_total{$L,reason=\"too-old\"}")" -ge 4 ] || fail "metrics: too-old drops"
[ "$(metric "satpd_xdp_drops_total{$L,reason=\"hs-ratelimit\"}")" = \
	"$(show_json | jget "${HSC}[\"drop-hs-ratelimit\"][\"packets\"]")" ] ||
	fail "metrics and show disagree on hs-ratelimit drops"
[ "$(metric "satpd_window_top{$L,mux=\"$MUX\",sender=\"$SID\"}")" = $TOP ] || fail "metrics: window top"
[ "$(metric "satpd_xdp_attached{$L,mode=\"$MODE\",dispatcher=\"no\"}")" = 1 ] || fail "metrics: attached"
grep -Eq '^Uid:\s+65534\s' "/proc/${PIDS[-1]}/status" || fail "the metrics host did not drop to nobody"
grep -Eq '^CapEff:\s+0+$' "/proc/${PIDS[-1]}/status" || fail "the metrics host kept capabilities"
echo "ok   /metrics: the pinned counters as Prometheus series (per sender, per reason), served"
echo "     after dropping to nobody without capabilities (maps read through fds opened before)"
echo "PASS"
