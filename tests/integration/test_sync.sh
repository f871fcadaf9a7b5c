#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# anytun's sync / control protocol against the real Debian anytun tools:
# anytun-config writes the connections and routes, anytun-controld serves
# them, satp_sync_dump (the daemon's sync client and parser, libsatpd.a) reads them, and
# anytun-showtables reads a capture of the very same stream; both must agree.
#
#   netns st$$-sync (lo only)
#   +---------------------------------------------------------------+
#   | anytun-controld -f sync.conf -X 127.0.0.1:PORT                 |
#   |      ^ TCP                 ^ TCP                              |
#   |      |                     |                                  |
#   | satp_sync_dump -X ...    bash /dev/tcp > stream.bin            |
#   |                            -> anytun-showtables, satp_sync_dump -f |
#   +---------------------------------------------------------------+
#
# Then controld is stopped and restarted under a running satp_sync_dump: the
# client reconnects (-r 500 ms here; 10 s by default, as anytun) and reads
# the full resend. One line of sync.conf is anytun-config output that anytun
# itself rejects (a /129 prefix): satp_sync_dump must name it and go on.
# Last, a real anytun running as a sync server (-S) in the same namespace
# (with a tun device of its own there) is read the same way.

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

DUMP=$BUILD/tests/tools/satp_sync_dump
PORT=23231
KEY128=000102030405060708090a0b0c0d0e0f
KEY256=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
SALT=a0a1a2a3a4a5a6a7a8a9aaabacad
PASS="satp sync passphrase"

[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
require_cmd ip anytun-config anytun-controld anytun-showtables python3
[ -x "$DUMP" ] || fail "$DUMP is not built (make tests)"
TMP=$(mktemp -d "/tmp/satpd-test.$$.XXXXXX")
trap lib_cleanup EXIT
trap 'exit 130' INT TERM
ns_create sync

# ---- the configuration, made by the real anytun-config
conf=$TMP/sync.conf
{
	anytun-config -r 10.200.0.2 -o 4444 -m 5 -w 100 -e right -K "$KEY128" -A "$SALT" \
		-R 10.1.0.0/16 -R fd00::/8
	anytun-config -r fd00::2 -o 5555 -m 6 -E "$PASS" -R 192.168.0.0/24 -R 2001:db8::/32
	anytun-config -r 10.200.0.7 -m 7 -k aes-ctr-256 -K "$KEY256" -A "$SALT" -R 10.7.0.1/32
	anytun-config -m 8 -K "$KEY128" -A "$SALT" -R ::/129
} >"$conf" 2>"$TMP/config.err" || fail "anytun-config failed: $(cat "$TMP/config.err")"
frames=$(wc -l <"$conf")
good=$((frames - 1)) # all but the /129 route
log "anytun-config wrote $frames frames"

# start_controld N: a log of its own per start, so an old "listening" cannot match.
start_controld() {
	local logf=controld$1.log
	start_bg sync "$logf" anytun-controld -D -L stdout:5 -f "$conf" -X "127.0.0.1:$PORT"
	CONTROLD=$LAST_PID
	for _ in $(seq 1 50); do
		grep -qs "listening on 127.0.0.1:$PORT" "$TMP/$logf" && return 0
		sleep 0.1
	done
	fail "anytun-controld is not listening: $(cat "$TMP/$logf" 2>/dev/null)"
}
start_controld 1

# ---- satp_sync_dump, live
nsx sync "$DUMP" -n "$good" -t 20 -X "127.0.0.1:$PORT" >"$TMP/dump.txt" 2>"$TMP/dump.err" ||
	fail "satp_sync_dump: $(cat "$TMP/dump.err")"
grep -q "frame skipped: .*prefix length '129' is out of range" "$TMP/dump.err" ||
	fail "the /129 route was not named: $(cat "$TMP/dump.err")"
log "satp_sync_dump: $(wc -l <"$TMP/dump.txt") records, the /129 route refused"

# ---- the same stream, captured, through anytun-showtables and satp_sync_dump -f
# shellcheck disable=SC2016 # expanded by the inner bash
nsx sync bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$PORT"'; timeout 2 cat <&3' >"$TMP/stream.bin"
want_bytes=$(($(wc -c <"$conf") - frames)) # controld drops anytun-config's newlines
[ "$(wc -c <"$TMP/stream.bin")" -eq "$want_bytes" ] ||
	fail "captured $(wc -c <"$TMP/stream.bin") bytes, want $want_bytes"
anytun-showtables <"$TMP/stream.bin" 2>/dev/null | grep -E '^(Client|Route)' |
	grep -vF 'Route: ::/129 -> 8' >"$TMP/showtables.txt"
diff -u "$TMP/showtables.txt" "$TMP/dump.txt" || fail "satp_sync_dump and anytun-showtables disagree"
"$DUMP" -f "$TMP/stream.bin" >"$TMP/file.txt" 2>"$TMP/file.err" &&
	fail "satp_sync_dump -f accepted the /129 route"
diff -u "$TMP/dump.txt" "$TMP/file.txt" || fail "the capture parses differently from the live stream"
log "anytun-showtables agrees on all $good records"

# ---- every field, against values computed here rather than by the parser
pass_key=$(python3 -c 'import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest()[32:])' "$PASS")
pass_salt=$(python3 -c 'import hashlib,sys; print(hashlib.sha1(sys.argv[1].encode()).hexdigest()[12:])' "$PASS")
nsx sync "$DUMP" -l -n "$good" -t 20 -X "127.0.0.1:$PORT" >"$TMP/long.txt" 2>/dev/null ||
	fail "satp_sync_dump -l did not get $good records"
cat >"$TMP/long.want" <<EOF
connection mux=5 role=right kd=128 key=$KEY128 salt=$SALT window=100 seq=0 remote=10.200.0.2 port=4444 archive=18
Route: 10.1.0.0/16 -> 5
Route: fd00::/8 -> 5
connection mux=6 role=left kd=128 key=$pass_key salt=$pass_salt window=0 seq=0 remote=fd00::2 port=5555 archive=18
Route: 192.168.0.0/24 -> 6
Route: 2001:db8::/32 -> 6
connection mux=7 role=left kd=256 key=$KEY256 salt=$SALT window=0 seq=0 remote=10.200.0.7 port=4444 archive=18
Route: 10.7.0.1/32 -> 7
connection mux=8 role=left kd=128 key=$KEY128 salt=$SALT window=0 seq=0 remote=0.0.0.0 port=4444 (none) archive=18
EOF
diff -u "$TMP/long.want" "$TMP/long.txt" || fail "fields differ from anytun-config's options"
log "every field matches the options given to anytun-config"

# ---- reconnect: controld goes away and comes back under a running client
nsx sync "$DUMP" -n $((2 * good)) -t 30 -r 500 -X "127.0.0.1:$PORT" \
	>"$TMP/re.txt" 2>"$TMP/re.err" &
dump_pid=$!
LIB_PIDS+=("$dump_pid")
for _ in $(seq 1 50); do
	[ "$(wc -l <"$TMP/re.txt")" -ge "$good" ] && break
	sleep 0.1
done
[ "$(wc -l <"$TMP/re.txt")" -eq "$good" ] || fail "first pass: $(wc -l <"$TMP/re.txt") records"
stop_pid "$CONTROLD" >/dev/null
# the client retries every 500 ms: one refused reconnect while controld is away
wait_log "$TMP/re.err" "connect: Connection refused" 10 ||
	fail "no refused reconnect while controld was away: $(cat "$TMP/re.err")"
start_controld 2
wait "$dump_pid" || fail "no full resend after the reconnect: $(cat "$TMP/re.err")"
grep -q "server closed the connection" "$TMP/re.err" || fail "the disconnect was not logged"
grep -q "connect: Connection refused" "$TMP/re.err" || fail "no refused reconnect was logged"
[ "$(grep -c connected "$TMP/re.err")" -eq 2 ] || fail "want 2 connects: $(cat "$TMP/re.err")"
diff <(head -n "$good" "$TMP/re.txt") <(tail -n "$good" "$TMP/re.txt") ||
	fail "the resend differs from the first pass"
log "reconnected after controld restarted; the resend matches"
# ---- an anytun sync server (-S) rather than controld: its live connection list
if [ -c /dev/net/tun ] && command -v anytun >/dev/null; then
	SPORT=$((PORT + 1))
	start_bg sync anytun.log anytun -D -L stdout:5 -d "sy$$" -t tun -n 10.9.0.1/24 \
		-i 127.0.0.1 -p 4450 -r 127.0.0.1 -o 4451 -m 11 -e right -w 64 -K "$KEY128" \
		-A "$SALT" -R 10.9.1.0/24 -S "$SPORT" -I 127.0.0.1
	for _ in $(seq 1 50); do
		grep -qs "listening on 127.0.0.1:$SPORT" "$TMP/anytun.log" && break
		sleep 0.1
	done
	nsx sync "$DUMP" -l -n 2 -t 20 -X "127.0.0.1:$SPORT" >"$TMP/anytun.txt" 2>"$TMP/anytun.err" ||
		fail "anytun -S: $(cat "$TMP/anytun.err" "$TMP/anytun.log")"
	# seq: anytun's own outgoing counter, whatever it sent so far
	grep -qE "^connection mux=11 role=right kd=128 key=$KEY128 salt=$SALT window=64 seq=[0-9]+ remote=127.0.0.1 port=4451 archive=18\$" "$TMP/anytun.txt" ||
		fail "anytun -S connection: $(cat "$TMP/anytun.txt")"
	grep -qx "Route: 10.9.1.0/24 -> 11" "$TMP/anytun.txt" || fail "anytun -S route: $(cat "$TMP/anytun.txt")"
	log "anytun -S: connection and route read from a live anytun"
else
	log "no /dev/net/tun or anytun: the anytun -S part is left out"
fi

# ---- satpd -X: a sync record never replaces a handshake- or kx-keyed connection
# A fake controld (fake_controld.py: the frames of anytun-config, appended to its file once
# the kx session is in place) serves static keys and a remote for mux 0 (--peer-key), mux 1
# (a kx session set at run time) and mux 2 (new: added, so every record was read).
# Both refusals are logged and counted (sync_refused), and mux 0 and 1 stay as they were.
SATP=$BUILD/satp
rnd() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }
if [ -c /dev/net/tun ] && [ -x "$SATPD" ] && [ -x "$SATP" ]; then
	XPORT=$((PORT + 2))
	for m in 0 1; do
		anytun-config -r 10.200.0.66 -o 4444 -m $m -w 64 -K "$KEY128" -A "$SALT"
	done >"$TMP/x.conf" 2>"$TMP/config.err" || fail "anytun-config: $(cat "$TMP/config.err")"
	anytun-config -r 10.200.0.67 -o 4444 -m 2 -w 64 -K "$KEY128" -A "$SALT" >>"$TMP/x.conf" ||
		fail "anytun-config mux 2"
	: >"$TMP/x.frames" # fake_controld.py sends what is appended once the kx session is set
	start_bg sync fake-controld.log /usr/bin/python3 "$LIB_DIR/fake_controld.py" "$TMP/x.frames" "$XPORT"
	wait_log "$TMP/fake-controld.log" listening 5 || fail "fake controld: $(cat "$TMP/fake-controld.log")"
	umask 077
	for k in x y; do
		"$SATP" genkey >"$TMP/$k.key" && "$SATP" pubkey <"$TMP/$k.key" >"$TMP/$k.pub" ||
			fail "satp genkey"
	done
	start_bg sync satpd-x.log "$SATPD" -U --xdp-mode off --state-dir "$TMP/st-x" -i 127.0.0.1 \
		-p 4460 -r 127.0.0.1 -o 4461 -m 0 -d "sx$$" -t tun -n 10.97.0.1/24 \
		--private-key "$TMP/x.key" --peer-key "$TMP/y.pub" -X "127.0.0.1:$XPORT"
	XSOCK=$(ctl_sock sync-satpd-x)
	wait_log "$TMP/satpd-x.log" "sync: receiving connections" 10 || fail "satpd -X: $(cat "$TMP/satpd-x.log")"
	for _ in $(seq 50); do [ -S "$XSOCK" ] && break; sleep 0.1; done
	K1=$(rnd 16) S1=$(rnd 14) K2=$(rnd 16) S2=$(rnd 14)
	nsx sync "$SATP" conn add 1 key "$K1" salt "$S1" role left window 64 remote 127.0.0.1:4462 \
		--socket "$XSOCK" || fail "conn add 1: $(tail -3 "$TMP/satpd-x.log")"
	nsx sync "$SATP" session set 1 tx-key "$K1" tx-salt "$S1" rx-key "$K2" rx-salt "$S2" \
		session 5 --socket "$XSOCK" || fail "session set 1: $(tail -3 "$TMP/satpd-x.log")"
	cat "$TMP/x.conf" >>"$TMP/x.frames"
	wait_log "$TMP/satpd-x.log" "sync: connection mux 2 added" 15 ||
		fail "mux 2 did not arrive: $(cat "$TMP/satpd-x.log" "$TMP/fake-controld.log")"
	grep -q "sync: connection mux 0 refused: it is keyed by handshakes" "$TMP/satpd-x.log" ||
		fail "mux 0 (--peer-key) not refused: $(grep sync: "$TMP/satpd-x.log")"
	grep -q "sync: connection mux 1 refused: it runs kx sessions" "$TMP/satpd-x.log" ||
		fail "mux 1 (kx session) not refused: $(grep sync: "$TMP/satpd-x.log")"
	nsx sync "$SATP" show --json --socket "$XSOCK" >"$TMP/x.json" || fail "satp show: $(cat "$TMP/x.json")"
	python3 - "$TMP/x.json" <<'EOF_PY' || fail "a refused record changed something: $(cat "$TMP/x.json")"
import json, sys
def find(o, key):
    if isinstance(o, dict):
        if key in o:
            return o[key]
        o = list(o.values())
    for v in o if isinstance(o, list) else []:
        r = find(v, key)
        if r is not None:
            return r
j = json.load(open(sys.argv[1]))
conns = {c["mux"]: c for c in find(j, "connections")}
assert find(j, "counters")["sync_refused"] == 2, find(j, "counters")
assert "hs_sessions" in conns[0]["counters"], conns[0]
assert "10.200.0.66" not in conns[0]["remote"], conns[0]
# session 5 waits for the peer's first datagram (pending); a replacement would have neither
assert "session" in conns[1]["counters"] and conns[1]["counters"]["keys_pending"] == 1, conns[1]
assert "10.200.0.66" not in conns[1]["remote"], conns[1]
assert "10.200.0.67" in conns[2]["remote"], conns[2]
EOF_PY
	log "satpd -X: sync records for a --peer-key and a kx-session mux refused, counted, logged"
else
	log "no /dev/net/tun or satpd/satp not built: the satpd -X part is left out"
fi
echo "PASS: sync"
