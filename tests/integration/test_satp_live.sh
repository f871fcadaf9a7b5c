#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# satp against two live satpd tunnelling to each other: `satp show --json`
# joins the pinned XDP state of A's underlay with what A's control socket
# reports (role, algorithms, the remote it was given, outgoing seq, rx/tx,
# daemon counters, its AF_XDP queue), the per-sender window has moved, the
# metrics endpoint serves the same counters, connections are added, changed
# and deleted at run time (refusals say why), reset-window clears a sender's
# window (daemon and XDP), and once A stops, show says no
# daemon runs while the pinned state stays readable.
#
#   netns st$$-a                                  netns st$$-b
#   +--------------------------------+            +-----------------------------+
#   | satpd (XDP native on ul0)      |   veth     | satpd (--xdp-mode off)      |
#   |   tun0 10.99.0.1               |<---------->|   tun0 10.99.0.2            |
#   |   --ctl-socket $TMP/run/a.sock |  ul0       |   --ctl-socket $TMP/run/b.. |
#   |   --metrics 127.0.0.1:9479     |            |                             |
#   +--------------------------------+            +-----------------------------+
. "$(dirname "$0")/lib.sh"

K128=000102030405060708090a0b0c0d0e0f
SALT=a0a1a2a3a4a5a6a7a8a9aaabacad
SATP=$BUILD/satp
WINDOW=64
MPORT=9479

lib_init
require_cmd curl python3
[ -x "$SATP" ] || fail "$SATP not built"
bpffs_init
topo_pair a b
mkdir -m 755 "$TMP/run"
export SATP_RUN_DIR=$TMP/run
chmod 755 "$TMP"

start_bg a satpd-a.log "$SATPD" -U --state-dir "$TMP/state-a" --pin-root "$TMP/bpf/a" \
	--xdp-mode native --ctl-socket "$TMP/run/a.sock" --metrics 127.0.0.1:$MPORT \
	-i "$UL4_1" -r "$UL4_2" -e left -s 1 -w $WINDOW -d tun0 -t tun -n 10.99.0.1/24 -K $K128 -A $SALT
APID=$LAST_PID
start_bg b satpd-b.log "$SATPD" -U --state-dir "$TMP/state-b" --pin-root "$TMP/bpf/b" \
	--xdp-mode off --ctl-socket "$TMP/run/b.sock" \
	-i "$UL4_2" -r "$UL4_1" -e right -s 2 -w $WINDOW -d tun0 -t tun -n 10.99.0.2/24 -K $K128 -A $SALT
for side in a b; do
	wait_dev $side tun0 || fail "no tun0 in $side: $(cat "$TMP"/satpd-*.log)"
done
wait_ping b 10.99.0.1 10 || fail "no ping through the tunnel: $(cat "$TMP"/satpd-*.log)"
nsx b ping -c 20 -i 0.05 -q 10.99.0.1 >/dev/null || fail "ping lost packets"
grep -q "control socket $TMP/run/a.sock" "$TMP/satpd-a.log" || fail "A logged no control socket"

J=$TMP/show.json
nsx a "$SATP" show ul0 --json --pin-root "$TMP/bpf/a" >"$J" || fail "show --json: $(cat "$J")"
python3 - "$J" "$UL4_2" "$WINDOW" <<'EOF' || fail "show --json:$(sed 's/^/\n  /' "$J")"
import json, sys
d = json.load(open(sys.argv[1]))
remote4, window = sys.argv[2], int(sys.argv[3])
i = d["interfaces"][0]
x, dm = i["xdp"], i["daemon"]
assert i["ifname"] == "ul0" and i["daemon_running"], i
assert x["mode"] == "native" and x["kernel"]["attached"], x["kernel"]
assert x["counters"]["redirected"]["packets"] >= 20, x["counters"]["redirected"]
assert dm["dev"] == "tun0" and dm["rx_path"] == "xdp" and dm["xdp_ifname"] == "ul0", dm
assert dm["xsk_queues"] == [0], dm["xsk_queues"]
c = dm["connections"][0]
assert c["role"] == "left" and c["sender_id"] == 1 and c["window"] == window, c
assert c["cipher"] == "aes-ctr-128" and c["auth"] == "sha1" and c["tag_len"] == 10, c
assert c["remote"].startswith(remote4), c["remote"]
assert c["rx_packets"] >= 20 and c["tx_packets"] >= 20 and c["seq_out"] > 0, c
assert c["last_rx"] > 0, c
ds = [s for s in c["senders"] if s["sender_id"] == 2]
assert ds and ds[0]["window_top"] > 0, c["senders"]
s = [s for s in x["senders"] if s["sender_id"] == 2]
assert s and s[0]["window_valid"] and s[0]["window_top"] > 0 and s[0]["rx_packets"] >= 20, s
for k in ("rx_bad_tag", "rx_replay", "rx_bad_ptype", "tx_no_remote"):
    assert k in dm["counters"], k
# a first start: nothing to pick up
r = dm["restart"]
assert r["xdp_program"] == "fresh" and r["windows_adopted"] == 0, r
assert r["state_dir"].endswith("/state-a"), r
assert c["seq_resumed"] == 0 and c["seq_state"].startswith("tx-seq.mux"), c
EOF
echo "ok   show --json: XDP state of ul0 joined with satpd's connection, sender window moved"

nsx a "$SATP" show ul0 --pin-root "$TMP/bpf/a" >"$TMP/human.txt" 2>&1 || fail "show: $(cat "$TMP/human.txt")"
grep -q "window tops (satpd, sender:top): 2:[1-9]" "$TMP/human.txt" ||
	fail "human show lacks the daemon's window tops:$(sed 's/^/\n  /' "$TMP/human.txt")"
echo "ok   show (human) lists the live daemon's connection and its senders' window tops"

nsx a curl -sf "http://127.0.0.1:$MPORT/metrics" >"$TMP/metrics.txt" || fail "curl /metrics"
for re in '^satpd_up 1$' '^satpd_conn_rx_packets_total\{mux="0"\} [1-9]' \
	'^satpd_rx_packets_total\{ifname="ul0",mux="0",sender="2"\} [1-9]' \
	'^satpd_xdp_drops_total\{ifname="ul0",reason="replay"\} [0-9]' '^satpd_daemon_rx_bad_tag_total 0$'; do
	grep -Eq "$re" "$TMP/metrics.txt" || fail "/metrics lacks /$re/:$(grep -v '^#' "$TMP/metrics.txt" | sed 's/^/\n  /')"
done
echo "ok   /metrics from the live daemon"

SOCK_A=(--socket "$TMP/run/a.sock")
# conns_of: the muxes A's control socket reports, space-separated.
conns_of() {
	nsx a "$SATP" show ul0 --json --pin-root "$TMP/bpf/a" >"$J" 2>&1 || fail "show: $(cat "$J")"
	python3 -c 'import json,sys; print(" ".join(str(c["mux"]) for c in json.load(open(sys.argv[1]))["interfaces"][0]["daemon"]["connections"]))' "$J"
}
nsx a "$SATP" conn add 9 key $K128 salt $SALT sender 1 window 32 remote "$UL4_2:4444" "${SOCK_A[@]}" ||
	fail "conn add 9: $(tail -3 "$TMP/satpd-a.log")"
[ "$(conns_of)" = "0 9" ] || fail "after conn add 9 the daemon has: $(conns_of)"
nsx a "$SATP" conn add 9 key $K128 salt $SALT "${SOCK_A[@]}" 2>"$TMP/err" && fail "a second mux 9 was added"
grep -q "mux 9 is in use" "$TMP/err" || fail "unclear refusal: $(cat "$TMP/err")"
nsx a "$SATP" conn add 10 key $K128 "${SOCK_A[@]}" 2>"$TMP/err" && fail "a key without salt was taken"
grep -q "key= needs salt=" "$TMP/err" || fail "unclear refusal: $(cat "$TMP/err")"
nsx a "$SATP" conn change 9 window 16 "${SOCK_A[@]}" || fail "conn change 9"
conns_of >/dev/null
python3 -c 'import json,sys; c=[c for c in json.load(open(sys.argv[1]))["interfaces"][0]["daemon"]["connections"] if c["mux"]==9]; assert c and c[0]["window"]==16 and c[0]["sender_id"]==1, c' "$J" ||
	fail "conn change 9 window 16 not shown"
nsx b ping -c 10 -i 0.05 -q 10.99.0.1 >/dev/null || fail "mux 0 lost packets while mux 9 came and changed"
nsx a "$SATP" conn del 9 "${SOCK_A[@]}" || fail "conn del 9"
[ "$(conns_of)" = "0" ] || fail "after conn del 9 the daemon has: $(conns_of)"
nsx a "$SATP" conn del 9 "${SOCK_A[@]}" 2>"$TMP/err" && fail "deleting a gone mux succeeded"
grep -q "no connection with mux 9" "$TMP/err" || fail "unclear refusal: $(cat "$TMP/err")"
echo "ok   conn add / change / del through the control socket, refusals say why, mux 0 unharmed"

# One daemon's run dir holds its control socket and its kx socket (a.kx.sock):
# satp finds the one daemon there, and does not take the kx socket for another.
mkdir -m 755 "$TMP/one"
ln -s "$TMP/run/a.sock" "$TMP/one/a.sock"
ln -s "$TMP/run/a.kx.sock" "$TMP/one/a.kx.sock"
[ -S "$TMP/run/a.kx.sock" ] || fail "A has no kx socket beside its control socket"
SATP_RUN_DIR=$TMP/one nsx a "$SATP" conn add 11 key $K128 salt $SALT 2>"$TMP/err" ||
	fail "conn add with one daemon in the run dir: $(cat "$TMP/err")"
SATP_RUN_DIR=$TMP/one nsx a "$SATP" show ul0 --pin-root "$TMP/bpf/a" >"$TMP/one.txt" 2>&1 ||
	fail "show with one daemon in the run dir: $(cat "$TMP/one.txt")"
grep -q "not answering" "$TMP/one.txt" && fail "show took the kx socket for a daemon: $(cat "$TMP/one.txt")"
SATP_RUN_DIR=$TMP/one nsx a "$SATP" conn del 11 2>"$TMP/err" || fail "conn del 11: $(cat "$TMP/err")"
echo "ok   satp finds the one daemon beside its kx socket"

nsx a "$SATP" reset-window 0 77 "${SOCK_A[@]}" 2>"$TMP/err" && fail "reset of a sender without a window succeeded"
grep -q "has no window for sender 77" "$TMP/err" || fail "unclear refusal: $(cat "$TMP/err")"
nsx a "$SATP" reset-window 0 2 "${SOCK_A[@]}" || fail "reset-window 0 2"
nsx a "$SATP" show ul0 --json --pin-root "$TMP/bpf/a" >"$J" || fail "show after reset"
python3 - "$J" <<'EOF2' || fail "window of sender 2 not reset:$(sed 's/^/\n  /' "$J")"
import json, sys
i = json.load(open(sys.argv[1]))["interfaces"][0]
c = [c for c in i["daemon"]["connections"] if c["mux"] == 0][0]
assert not [s for s in c["senders"] if s["sender_id"] == 2 and s["window_top"]], c["senders"]
assert not [s for s in i["xdp"]["senders"] if s["sender_id"] == 2 and s["window_valid"]], i["xdp"]["senders"]
EOF2
wait_ping b 10.99.0.1 5 || fail "no ping after reset-window"
echo "ok   reset-window clears the sender's window in the daemon and in XDP; traffic goes on"

stop_pid "$APID"
nsx a "$SATP" show ul0 --pin-root "$TMP/bpf/a" >"$TMP/show.txt" 2>&1
grep -q "satpd: not running" "$TMP/show.txt" || fail "after stop:$(sed 's/^/\n  /' "$TMP/show.txt")"
grep -q "sender 2: window top [1-9]" "$TMP/show.txt" || fail "pinned window not shown after stop"
echo "ok   A stopped: show says satpd is not running and still shows the pinned windows"
echo "PASS"
