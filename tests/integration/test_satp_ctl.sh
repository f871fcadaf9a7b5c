#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The control socket and the metrics endpoint, as satpd hosts them
# (user/satpd/ctl.c, metrics.c), driven by the real clients: `satp conn|keys|
# reset-window|show` and curl. The host is satp_ctl_host (fake daemon
# callbacks that print each call) until satpd wires the modules in. Checks:
# every request reaches its callback with its fields and the callback's error
# comes back verbatim; bad input is refused by the client before anything is
# sent, and by the server when sent raw; keys never show up in output or logs;
# a user without permission is refused by the socket's mode (connect) and by
# SO_PEERCRED (socket made world-writable), and let in by the control group;
# /metrics answers in Prometheus text, other paths and methods do not.
#
#   netns satpc-PID (lo only)
#   +-------------------------------------------------------------+
#   | satp_ctl_host --socket $TMP/run/tunctl.sock                 |
#   |               --metrics 127.0.0.1:9477                      |
#   |   ^ unix socket                 ^ HTTP                      |
#   | satp (root, nobody)           curl                          |
#   +-------------------------------------------------------------+
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
ID=$$
NS=satpc-$ID
MPORT=9477
KEY=000102030405060708090a0b0c0d0e0f
KEY2=f0e0d0c0b0a090807060504030201000
TMP=
PIDS=()

skip() {
	echo "SKIP: $*"
	exit 77
}

fail() {
	echo "FAIL: $*"
	[ -n "$TMP" ] && [ -f "$TMP/host.out" ] && sed 's/^/  host: /' "$TMP/host.out"
	exit 1
}

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	ip netns del "$NS" 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || skip "needs root (netns, another uid)"
for t in ip curl runuser python3; do
	command -v "$t" >/dev/null || skip "$t not installed"
done
for b in "$BUILD/satp" "$BUILD/tests/tools/satp_ctl_host"; do
	[ -x "$b" ] || fail "$b not built (make tests)"
done
id nobody >/dev/null 2>&1 || skip "no user nobody"

TMP=$(mktemp -d /tmp/satp-ctl.XXXXXX)
chmod 755 "$TMP"
mkdir -m 755 "$TMP/run"
# copies nobody can execute wherever the tree lives
install -m 755 "$BUILD/satp" "$TMP/satp"
install -m 755 "$BUILD/tests/tools/satp_ctl_host" "$TMP/host"
SOCK=$TMP/run/tunctl.sock
export SATP_RUN_DIR=$TMP/run
ip netns add "$NS" || fail "netns"
ip -n "$NS" link set lo up

inns() { ip netns exec "$NS" "$@"; }
satp() { inns "$TMP/satp" "$@"; }

start_host() { # start_host SOCKET [args]: wait until it listens
	local sock=$1
	shift
	rm -f "$TMP/ready"
	ip netns exec "$NS" "$TMP/host" --socket "$sock" --ready "$TMP/ready" --seconds 120 "$@" \
		>>"$TMP/host.out" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 50); do [ -f "$TMP/ready" ] && return 0; sleep 0.1; done
	fail "satp_ctl_host did not start"
}

called() { grep -qF "call $1" "$TMP/host.out" || fail "the daemon did not get 'call $1'"; }

start_host "$SOCK" --metrics 127.0.0.1:$MPORT --dev tunctl
[ "$(stat -c %a "$SOCK")" = 660 ] || fail "socket mode $(stat -c %a "$SOCK"), want 660"

# ---------------------------------------------------------------- changes
satp conn add 5 key $KEY window 64 remote 10.0.0.1:4444 role bob || fail "conn add"
called "add-conn mux=5 window=64 key_len=16"
satp conn add 5 key $KEY 2>"$TMP/err" && fail "a second add of mux 5 succeeded"
grep -q "satpd refused: mux 5 exists already" "$TMP/err" || fail "add error not passed on: $(cat "$TMP/err")"
satp conn change 5 window 128 remote '[fd00::9]:4445' || fail "conn change"
satp show --json >"$TMP/show.json" || fail "show --json"
python3 - "$TMP/show.json" <<'EOF' || fail "show after change: $(cat "$TMP/show.json")"
import json, sys
d = json.load(open(sys.argv[1]))
c = d["daemons"][0]["connections"][0]
assert (c["mux"], c["window"], c["remote"], c["role"]) == (5, 128, "[fd00::9]:4445", "right"), c
assert d["daemons"][0]["dev"] == "tunctl"
assert c["senders"] == [{"sender_id": 7, "window_top": 1005}], c["senders"]
EOF
echo "$KEY2" | satp keys 5 key-file - grace 30 || fail "keys"
called "set-keys mux=5 grace=30 key_len=16"
satp keys 5 passphrase "correct horse" || fail "keys with a passphrase"
called "set-keys mux=5 grace=10 key_len=0"
satp reset-window 5 7 || fail "reset-window"
called "reset-window mux=5 sender=7"
satp reset-window 9 1 2>"$TMP/err" && fail "reset-window of an unknown mux succeeded"
grep -q "no connection with mux 9" "$TMP/err" || fail "unclear: $(cat "$TMP/err")"
satp conn add 6 key $KEY route 10.6.0.0/16 route fd00:6::/64 || fail "conn add with routes"
called "add-conn-routes mux=6 route=10.6.0.0/16 route=fd00:6::/64"
satp route add 10.9.0.0/16 mux 5 || fail "route add"
called "add-route mux=5 route=10.9.0.0/16"
satp route add 10.8.0.0/16 mux 9 2>"$TMP/err" && fail "route add to an unknown mux succeeded"
grep -q "satpd refused: no connection with mux 9" "$TMP/err" || fail "route error not passed on: $(cat "$TMP/err")"
satp route del fd00:6::/64 || fail "route del"
called "del-route mux=any route=fd00:6::/64"
satp route del 10.9.0.0/16 mux 5 || fail "route del of a mux"
called "del-route mux=5 route=10.9.0.0/16"
satp conn del 6 || fail "conn del 6"
SALT=a0a1a2a3a4a5a6a7a8a9aaabacad
satp session set 5 tx-key $KEY tx-salt $SALT rx-key $KEY2 rx-salt $SALT session 9 || fail "session set"
called "set-session mux=5 session=9 grace=10 tx_len=16 rx_len=16"
satp session del 5 || fail "session del"
called "del-session mux=5"
satp session del 9 2>"$TMP/err" && fail "session del of an unknown mux succeeded"
grep -q "no connection with mux 9" "$TMP/err" || fail "unclear: $(cat "$TMP/err")"
echo "ok   conn add/change, keys (grace 30), reset-window, session set/del, route add/del reach the daemon; its errors come back"

# ---------------------------------------------------------------- bad input
n_calls=$(grep -c '^call ' "$TMP/host.out")
expect_usage() { # expect_usage MESSAGE ARGS...
	local want=$1 rc
	shift
	satp "$@" >/dev/null 2>"$TMP/err"
	rc=$?
	[ $rc = 2 ] || fail "satp $* exited $rc, want 2"
	grep -qF "$want" "$TMP/err" || fail "satp $*: '$(cat "$TMP/err")' lacks '$want'"
}
expect_usage "invalid key: expected 32, 48 or 64 hex digits, got 6 characters" conn add 6 key abcdef
expect_usage "unknown key 'colour'" conn add 6 key $KEY colour blue
expect_usage "invalid mux '70000'" conn del 70000
expect_usage "invalid window '5000'" conn change 5 window 5000
expect_usage "invalid grace '90000'" keys 5 key $KEY grace 90000
expect_usage "changes nothing" conn change 5
expect_usage "missing sender" reset-window 5
expect_usage "unknown action 'rename'" conn rename 5
expect_usage "invalid rx-key: expected 32, 48 or 64 hex digits, got 3 characters" \
	session set 5 tx-key $KEY tx-salt $SALT rx-key abc rx-salt $SALT
expect_usage "op=set-session needs tx-salt=" session set 5 tx-key $KEY rx-key $KEY rx-salt $SALT
expect_usage "unknown action 'replace'" session replace 5
expect_usage "invalid route '10.1.0.0/33': expected ADDRESS/LENGTH" route add 10.1.0.0/33 mux 5
expect_usage "invalid route 'fd00::1': expected ADDRESS/LENGTH" conn add 6 key $KEY route fd00::1
expect_usage "op=add-route needs mux=" route add 10.0.0.0/8
expect_usage "key 'route' does not belong to op=change-conn" conn change 5 route 10.0.0.0/8
expect_usage "unknown action 'flush'" route flush
[ "$(grep -c '^call ' "$TMP/host.out")" = "$n_calls" ] || fail "a refused command reached the daemon"
# raw requests the client would never send: the server refuses them with a quoted reason
raw() { inns python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1")); s.shutdown(socket.SHUT_WR)
print(s.recv(65536).decode(errors="replace"), end="")' "$SOCK" "$1"; }
raw 'op=reboot\n\n' | grep -q "^error=unknown op 'reboot'" || fail "raw unknown op: $(raw 'op=reboot\n\n')"
raw 'op=del-conn\nmux=5\nmux=5\n\n' | grep -q "^errno=22" || fail "raw duplicate key accepted"
raw 'op=show\x00\n\n' | grep -q "NUL or CR" || fail "raw NUL accepted"
raw 'op=show\n\n' | grep -q '^conn=5$' || fail "raw show: $(raw 'op=show\n\n')"
if grep -qiE "$KEY|$KEY2|correct horse" "$TMP/host.out"; then fail "a key or passphrase was logged"; fi
echo "ok   bad input: refused by the client (exit 2, quoted) and by the server; no secret logged"

satp conn del 5 || fail "conn del"
called "del-conn mux=5"
satp show --json | python3 -c 'import json,sys; assert json.load(sys.stdin)["daemons"][0]["connections"] == []' ||
	fail "mux 5 still shown after del"
satp conn add 5 key $KEY window 64 || fail "conn add again"

# ---------------------------------------------------------------- metrics
M=$TMP/metrics.txt
inns curl -sf "http://127.0.0.1:$MPORT/metrics" >"$M" || fail "curl /metrics"
for want in 'satpd_up 1' 'satpd_conn_rx_packets_total{mux="5"} 105' \
	'satpd_daemon_rx_bad_tag_total 7' '# TYPE satpd_conn_tx_packets_total counter' \
	'satpd_conn_window_top{mux="5",sender="7"} 1005' \
	'satpd_info{version="fake",dev="tunctl",rx_path="udp",xdp_ifname=""} 1'; do
	grep -qxF "$want" "$M" || fail "/metrics lacks '$want':$(sed 's/^/\n  /' "$M")"
done
code=$(inns curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/")
[ "$code" = 404 ] || fail "GET / answered $code, want 404"
code=$(inns curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$MPORT/metrics")
[ "$code" = 405 ] || fail "POST /metrics answered $code, want 405"
# Clients that connect and say nothing hold only the metrics thread: a scrape and
# the control socket still answer while they hang on (the old inline server spent
# half a second of the daemon's loop on each).
inns python3 -c '
import socket, sys, time
s = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(8)]
open(sys.argv[2], "w").close()
time.sleep(6)' $MPORT "$TMP/silent" &
PIDS+=($!)
# The scrape below queues behind the 8 connections only once they are made.
for _ in $(seq 100); do [ -f "$TMP/silent" ] && break; sleep 0.1; done
[ -f "$TMP/silent" ] || fail "the 8 silent clients did not connect to /metrics"
inns curl -sf --max-time 3 "http://127.0.0.1:$MPORT/metrics" | grep -q '^satpd_up 1$' ||
	fail "/metrics did not answer while silent clients were connected"
satp show --json >/dev/null || fail "control socket stuck behind silent metrics clients"
echo "ok   /metrics: Prometheus text with the snapshot's counters; 404 and 405 elsewhere;"
echo "     silent clients hold neither the endpoint nor the control socket"

# ---------------------------------------------------------------- permissions
nobody() { inns runuser -u nobody -- "$TMP/satp" "$@"; }
nobody show >"$TMP/out" 2>&1
grep -q "cannot connect to $SOCK: Permission denied (root or satpd's control group only)" "$TMP/out" ||
	fail "nobody vs mode 0660: $(cat "$TMP/out")"
nobody conn del 5 2>"$TMP/err" && fail "nobody deleted a connection"
grep -q "Permission denied" "$TMP/err" || fail "nobody: $(cat "$TMP/err")"
# the socket world-writable by mistake: SO_PEERCRED still refuses
start_host "$TMP/run/open.sock" --mode 0666
nobody conn del 5 --socket "$TMP/run/open.sock" 2>"$TMP/err" && fail "nobody passed SO_PEERCRED"
grep -q "satpd refused: uid 65534 is not permitted" "$TMP/err" || fail "SO_PEERCRED: $(cat "$TMP/err")"
grep -q "control: refused from pid [0-9]* uid 65534" "$TMP/host.out" || fail "refusal not logged"
# the control group lets its members in
start_host "$TMP/run/group.sock" --group "$(id -gn nobody)"
[ "$(stat -c %G "$TMP/run/group.sock")" = "$(id -gn nobody)" ] || fail "socket group not set"
nobody reset-window 1 1 --socket "$TMP/run/group.sock" 2>"$TMP/err"
grep -q "no connection with mux 1" "$TMP/err" || fail "group member refused: $(cat "$TMP/err")"
# the read group: show only; every changing op refused before it reaches the daemon
start_host "$TMP/run/read.sock" --read-group "$(id -gn nobody)"
[ "$(stat -c %G "$TMP/run/read.sock")" = "$(id -gn nobody)" ] || fail "socket not in the read group"
nobody show --json --socket "$TMP/run/read.sock" >"$TMP/out" 2>&1 || fail "read group: show: $(cat "$TMP/out")"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))["daemons"][0]["connections"]' "$TMP/out" ||
	fail "read group: show --json: $(cat "$TMP/out")"
n_calls=$(grep -c '^call ' "$TMP/host.out")
for cmd in "conn add 7 key $KEY" "conn change 5 window 32" "conn del 5" "keys 5 key $KEY" \
	"reset-window 5 7" "session set 5 tx-key $KEY tx-salt $SALT rx-key $KEY2 rx-salt $SALT session 3" \
	"session del 5" "route add 10.9.0.0/16 mux 5" "route del 10.9.0.0/16"; do
	# shellcheck disable=SC2086 # one command line per row
	nobody $cmd --socket "$TMP/run/read.sock" 2>"$TMP/err" && fail "read group ran '$cmd'"
	grep -q "satpd refused: uid 65534 may only read (op=show, the read group): op=[a-z-]* needs root" \
		"$TMP/err" || fail "read group, '$cmd': $(cat "$TMP/err")"
done
[ "$(grep -c '^call ' "$TMP/host.out")" = "$n_calls" ] || fail "a read-group change reached the daemon"
# root still changes things on that socket
satp reset-window 1 1 --socket "$TMP/run/read.sock" 2>"$TMP/err"
grep -q "no connection with mux 1" "$TMP/err" || fail "root refused on the read socket: $(cat "$TMP/err")"
echo "ok   permissions: nobody refused by mode 0660 and by SO_PEERCRED; the control group is let in;"
echo "     the read group may show, and every changing op is refused for it"
echo "PASS"
