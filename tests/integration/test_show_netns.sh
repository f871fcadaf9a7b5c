#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `ip netns exec NS satp show` without --pin-root shows the XDP section of a
# satpd that runs in NS with the default pin root. Each `ip netns exec` mounts
# a /sys of its own, so the bpffs satpd mounted at /sys/fs/bpf is in its mount
# namespace only; show learns the pin root from the daemon's control socket
# (pin-root=) and reads it through /proc/<pid>/root. An explicit --pin-root
# still wins.
#
#   netns st$$-a                              netns st$$-b
#   +------------------------------+  veth    +-----------------------------+
#   | satpd (XDP native on ul0,    |<-------->| satpd (--xdp-mode off)      |
#   |   pin root /sys/fs/bpf: its  |  ul0     |   tun0 10.99.0.2            |
#   |   own bpffs), tun0 10.99.0.1 |          |                             |
#   +------------------------------+          +-----------------------------+
#     ip netns exec st$$-a satp show --run-dir $TMP/run   (another fresh /sys)
. "$(dirname "$0")/lib.sh"

K128=000102030405060708090a0b0c0d0e0f
SALT=a0a1a2a3a4a5a6a7a8a9aaabacad
SATP=$BUILD/satp

lib_init
require_cmd python3
[ -x "$SATP" ] || fail "$SATP not built"
topo_pair a b
mkdir -m 755 "$TMP/run"

start_bg a satpd-a.log "$SATPD" -U --state-dir "$TMP/state-a" --xdp-mode native \
	-i "$UL4_1" -r "$UL4_2" -e left -s 1 -d tun0 -t tun -n 10.99.0.1/24 -K $K128 -A $SALT
APID=$LAST_PID
start_bg b satpd-b.log "$SATPD" -U --state-dir "$TMP/state-b" --xdp-mode off \
	-i "$UL4_2" -r "$UL4_1" -e right -s 2 -d tun0 -t tun -n 10.99.0.2/24 -K $K128 -A $SALT
for side in a b; do
	wait_dev $side tun0 || fail "no tun0 in $side: $(cat "$TMP"/satpd-*.log)"
done
wait_ping b 10.99.0.1 10 || fail "no ping through the tunnel: $(cat "$TMP"/satpd-*.log)"

# The premise: a new `ip netns exec` sees neither satpd's mount namespace nor its pins.
[ "$(nsx a readlink /proc/self/ns/mnt)" != "$(readlink "/proc/$APID/ns/mnt")" ] ||
	fail "ip netns exec did not give satpd a mount namespace of its own: nothing to learn"
[ -d "/proc/$APID/root/sys/fs/bpf/satpd/ul0" ] ||
	fail "satpd pinned nothing under its /sys/fs/bpf/satpd/ul0: $(cat "$TMP/satpd-a.log")"
! nsx a test -e /sys/fs/bpf/satpd/ul0 ||
	fail "the pins are visible from a fresh ip netns exec: show would find them anyway"

OUT=$TMP/show.txt
nsx a "$SATP" show --run-dir "$TMP/run" >"$OUT" 2>&1 || fail "satp show: $(cat "$OUT")"
want=(
	"^interface: ul0$"
	"^  pinned maps: /proc/$APID/root/sys/fs/bpf/satpd/ul0$"
	"^  xdp: native, "
	"^  kernel: native, prog id [1-9][0-9]*: satp_rx attached$"
	"^  xdp mode: requested native, obtained native"
)
for w in "${want[@]}"; do
	grep -qE -- "$w" "$OUT" || fail "satp show lacks /$w/:$(sed 's/^/\n  /' "$OUT")"
done
log "ip netns exec satp show: the XDP section of ul0, read through /proc/$APID/root"

J=$TMP/show.json
nsx a "$SATP" show ul0 --json --run-dir "$TMP/run" >"$J" 2>&1 || fail "show ul0 --json: $(cat "$J")"
python3 - "$J" "$APID" <<'EOF' || fail "show ul0 --json:$(sed 's/^/\n  /' "$J")"
import json, sys
d = json.load(open(sys.argv[1]))
pid = int(sys.argv[2])
i = d["interfaces"][0]
assert len(d["interfaces"]) == 1 and i["ifname"] == "ul0", d["interfaces"]
assert i["xdp"]["mode"] == "native" and i["xdp"]["kernel"]["attached"], i["xdp"]
assert i["daemon_running"] and i["daemon"]["pid"] == pid, i["daemon"]
assert i["daemon"]["pin_root"] == "/sys/fs/bpf", i["daemon"]["pin_root"]
EOF
log "show ul0 --json: xdp native and attached, daemon $APID reports pin_root /sys/fs/bpf"

# --pin-root names where to look, whatever the daemon says: this /sys has no pins, so
# satpd is shown without an interface section.
nsx a "$SATP" show --run-dir "$TMP/run" --pin-root /sys/fs/bpf >"$OUT" 2>&1 ||
	fail "show --pin-root: $(cat "$OUT")"
! grep -q "^interface: ul0" "$OUT" || fail "--pin-root /sys/fs/bpf did not win:$(sed 's/^/\n  /' "$OUT")"
grep -q "pid $APID" "$OUT" || fail "show --pin-root lost the daemon:$(sed 's/^/\n  /' "$OUT")"
log "an explicit --pin-root still decides where show looks"

# From another PID namespace /proc/<pid> is not satpd: its pin root cannot be reached, so
# show falls back to what it can read (nothing pinned here) and shows the daemon alone.
if command -v unshare >/dev/null; then
	nsx a unshare -p -f --mount-proc "$SATP" show --run-dir "$TMP/run" >"$OUT" 2>&1 ||
		fail "show from another PID namespace exited $?:$(sed 's/^/\n  /' "$OUT")"
	grep -q "^daemon: tun0$" "$OUT" && grep -q "pid $APID" "$OUT" && ! grep -q "^interface:" "$OUT" ||
		fail "show from another PID namespace:$(sed 's/^/\n  /' "$OUT")"
	log "from another PID namespace: no pins reachable, the daemon shown alone, exit 0"
fi
echo "PASS"
