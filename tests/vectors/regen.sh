#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Regenerate the project's SATP test captures from Debian's uanytun and anytun:
# two real peers in network namespaces with fixed keys, a few pings through the
# tunnel, the outer UDP captured with tcpdump. Run as root:
#
#   tests/vectors/regen.sh [OUTDIR]         default: tests/vectors
#   VECTORS_ONLY="v01 v05" tests/vectors/regen.sh    only these
#
#   netns satpv$$-a                              netns satpv$$-b
#   +-------------------------------+   veth    +-------------------------------+
#   | uanytun/anytun  10.200.0.1    |<--------->| uanytun/anytun  10.200.0.2    |
#   |   tun satpvt0 10.200.0.129    | va0   vb0 |   tun satpvt1 10.200.0.130    |
#   |   (tap: 10.200.0.65/28)       |           |   (tap: 10.200.0.66/28)       |
#   +-------------------------------+           +-------------------------------+
#     tcpdump on va0: NAME.pcap (both directions of the outer datagrams)
#     tcpdump -Q out on each tun/tap: what each daemon read and sealed
#
# Per vector, NAME.pcap and NAME.json. The JSON holds what the peers were given
# (keys, algorithms, roles, sender ids, mux) and, for every datagram of the
# capture in order, the inner packet the kernel handed the sending daemon, read
# from that daemon's own tun/tap capture: the expected plaintext comes from the
# kernel, not from a SATP decoder. The k-th datagram a peer sent carries the
# k-th packet its device gave it; the script checks that the counts agree.
# Salts and seqs are fixed, but ping ids, IP ids and timestamps differ per run.
set -u
cd "$(dirname "$0")/../.." || exit 1
OUT=${1:-tests/vectors}
ID=$$
NSA=satpv$ID-a
NSB=satpv$ID-b
WORK=$(mktemp -d "/tmp/satp-vectors.$ID.XXXXXX")
PIDS=()

KEY128=000102030405060708090a0b0c0d0e0f
KEY256=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
SALT=a0a1a2a3a4a5a6a7a8a9aaabacad
PASS="satp test passphrase"
PING_PATTERN=5341545021 # "SATP!" in every echo's data: the inner packets are ours
UDP_TEXT=SATP-VECTOR-UDP-1
PINGS=3
PORT=4444
DEADLINE=15 # seconds for a tool to start or a capture to settle, on a loaded machine

die() {
	printf 'regen: %s\n' "$*" >&2
	exit 1
}

stop_all() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 1 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	PIDS=()
}

teardown() {
	stop_all
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
}

cleanup() {
	teardown
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
for c in ip tcpdump ping uanytun anytun python3; do
	command -v "$c" >/dev/null || die "$c is missing (apt-get install uanytun anytun tcpdump iputils-ping)"
done
mkdir -p "$OUT"

# bg LOG CMD...: start in the background, PID recorded, output to $WORK/LOG.
bg() {
	local log=$WORK/$1
	shift
	"$@" >"$log" 2>&1 &
	PIDS+=($!)
}

# wait_for SECONDS CMD...: until CMD succeeds.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

listening() { grep -q "listening on" "$WORK/$1"; }

# capture NS IF PCAP LOG [tcpdump options]: start tcpdump, wait until it listens.
capture() {
	local ns=$1 dev=$2 pcap=$3 log=$4
	shift 4
	bg "$log" ip netns exec "$ns" tcpdump -Z root -n -U --immediate-mode -s 0 -i "$dev" -w "$pcap" "$@"
	wait_for $DEADLINE listening "$log" || die "tcpdump on $dev did not start: $(cat "$WORK/$log")"
}

setup_ns() {
	teardown
	ip netns add "$NSA" || die "cannot create namespaces"
	ip netns add "$NSB" || die "cannot create namespaces"
	ip link add va0 netns "$NSA" type veth peer name vb0 netns "$NSB" || die "no veth"
	ip -n "$NSA" link set lo up
	ip -n "$NSB" link set lo up
	ip -n "$NSA" addr add 10.200.0.1/30 dev va0
	ip -n "$NSB" addr add 10.200.0.2/30 dev vb0
	ip -n "$NSA" -6 addr add fd00:200::1/126 dev va0 nodad
	ip -n "$NSB" -6 addr add fd00:200::2/126 dev vb0 nodad
	ip -n "$NSA" link set va0 up
	ip -n "$NSB" link set vb0 up
	# tun/tap devices made later send no IPv6 of their own (router solicitations, MLD)
	ip netns exec "$NSA" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip netns exec "$NSB" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
}

dev_exists() { ip -n "$1" link show "$2" >/dev/null 2>&1; }

# dev_up NS DEV TYPE ADDR PEER|MAC
dev_up() {
	wait_for $DEADLINE dev_exists "$1" "$2" || die "$2 did not appear in $1"
	if [ "$3" = tun ]; then
		ip -n "$1" addr add "$4" peer "$5" dev "$2"
	else
		ip -n "$1" link set "$2" address "$5"
		ip -n "$1" addr add "$4" dev "$2"
	fi
	ip -n "$1" link set "$2" up
}

# pcap_n PCAP SRC: datagrams from SRC (ADDR:PORT) so far, or the packets of an inner capture.
pcap_n() { python3 "$WORK/pcap.py" count "$@"; }

# settled NAME MIN: each device gave its daemon at least MIN packets (the traffic's
# last answer came) and every one of them is in the outer capture as a datagram.
settled() {
	local na nb
	na=$(pcap_n "$WORK/in-a.pcap") nb=$(pcap_n "$WORK/in-b.pcap")
	[ "$na" -ge "$2" ] && [ "$nb" -ge "$2" ] &&
		[ "$(pcap_n "$OUT/$1.pcap" "$EPA")" = "$na" ] && [ "$(pcap_n "$OUT/$1.pcap" "$EPB")" = "$nb" ]
}

# The pcap reader (no scapy) and the manifest writer.
cat >"$WORK/pcap.py" <<'PY'
import json, socket, struct, sys

def records(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    e = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    lt = struct.unpack(e + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        if off + 16 + incl > len(data):
            return  # tcpdump is still writing this one
        yield lt, data[off + 16:off + 16 + incl]
        off += 16 + incl

def udp(lt, fr, port):
    """(src, dst, payload) of a UDP datagram to or from port, else None."""
    off = {1: 14, 113: 16, 276: 20}.get(lt, 0)
    if lt == 1 and fr[12:14] not in (b"\x08\x00", b"\x86\xdd"):
        return None
    l3 = fr[off:]
    if l3 and l3[0] >> 4 == 4 and l3[9] == 17:
        ihl = (l3[0] & 15) * 4
        fam, s, d, l4 = socket.AF_INET, l3[12:16], l3[16:20], l3[ihl:]
    elif l3 and l3[0] >> 4 == 6 and l3[6] == 17:
        fam, s, d, l4 = socket.AF_INET6, l3[8:24], l3[24:40], l3[40:]
    else:
        return None
    sp, dp, ln = struct.unpack(">HHH", l4[:6])
    if port not in (sp, dp):
        return None
    fmt = "[%s]:%d" if fam == socket.AF_INET6 else "%s:%d"
    ep = lambda a, p: fmt % (socket.inet_ntop(fam, a), p)
    return ep(s, sp), ep(d, dp), l4[8:ln]

def count(path, src=None):
    n = 0
    for lt, fr in records(path):
        if src is None:
            n += 1
        else:
            u = udp(lt, fr, int(src.rsplit(":", 1)[1]))
            n += bool(u and u[0] == src)
    print(n)

def ptype(lt, fr):
    if lt == 1:
        return 0x6558  # a tap's Ethernet frame
    return {4: 0x0800, 6: 0x86DD}[fr[0] >> 4]

def manifest(spec, pcap, in_a, in_b, out):
    m = json.load(open(spec))
    inner = {m["peer_a"]["endpoint"]: list(records(in_a)), m["peer_b"]["endpoint"]: list(records(in_b))}
    peer = {m[p]["endpoint"]: m[p] for p in ("peer_a", "peer_b")}
    dgrams, used = [], {k: 0 for k in inner}
    for lt, fr in records(pcap):
        u = udp(lt, fr, m["port"])
        if not u:
            continue
        src, dst, _ = u
        k = used[src]
        if k >= len(inner[src]):
            sys.exit("%s: %s sent more datagrams than its device gave it" % (m["name"], src))
        ilt, ifr = inner[src][k]
        used[src] += 1
        p = peer[src]
        dgrams.append("%s %s %d %d 0x%04x %s" % (src, dst, p["sender_id"], p["mux"],
                                                 ptype(ilt, ifr), ifr.hex()))
    for src, n in used.items():  # the daemons were stopped after the captures agreed
        if n != len(inner[src]):
            print("%s: %s: %d packets its device gave it after the last datagram are left out"
                  % (m["name"], src, len(inner[src]) - n))
    m["satp_packets"] = len(dgrams)
    m["datagrams"] = dgrams
    with open(out, "w") as f:
        json.dump(m, f, indent=1)
        f.write("\n")
    print("%-28s %2d datagrams" % (m["name"], len(dgrams)))

globals()[sys.argv[1]](*sys.argv[2:])
PY

want() {
	local p
	[ -z "${VECTORS_ONLY:-}" ] && return 0
	for p in $VECTORS_ONLY; do
		[[ $1 == "$p"* ]] && return 0
	done
	return 1
}

# vector NAME TYPE FAMILY "DESCRIPTION" "PEER-A" "PEER-B" ALGOS SECRET
#   PEER-x: the daemon and its options besides addresses, device and logging
#   ALGOS: "cipher kd-prf auth tag-len" as the peers use them (their defaults spelled out)
#   SECRET: "key KEY SALT", "passphrase", or "none"
vector() {
	local name=$1 type=$2 fam=$3 desc=$4 pa=$5 pb=$6 algos=$7 secret=$8
	local ua=10.200.0.1 ub=10.200.0.2 ca cb
	want "$name" || return 0
	[ "$fam" = 6 ] && ua=fd00:200::1 ub=fd00:200::2
	EPA=$ua:$PORT EPB=$ub:$PORT
	[ "$fam" = 6 ] && EPA=[$ua]:$PORT EPB=[$ub]:$PORT
	ca="$pa -i $ua -p $PORT -r $ub -o $PORT -d satpvt0 -t $type"
	cb="$pb -i $ub -p $PORT -r $ua -o $PORT -d satpvt1 -t $type"
	setup_ns
	rm -f "$OUT/$name.pcap" "$WORK"/in-*.pcap
	capture "$NSA" va0 "$OUT/$name.pcap" outer.log udp port $PORT
	bg a.log ip netns exec "$NSA" bash -c "exec $ca -D -L stderr:5"
	bg b.log ip netns exec "$NSB" bash -c "exec $cb -D -L stderr:5"
	if [ "$type" = tun ]; then
		dev_up "$NSA" satpvt0 tun 10.200.0.129 10.200.0.130
		dev_up "$NSB" satpvt1 tun 10.200.0.130 10.200.0.129
	else
		dev_up "$NSA" satpvt0 tap 10.200.0.65/28 02:00:00:00:0a:01
		dev_up "$NSB" satpvt1 tap 10.200.0.66/28 02:00:00:00:0b:02
	fi
	capture "$NSA" satpvt0 "$WORK/in-a.pcap" in-a.log -Q out
	capture "$NSB" satpvt1 "$WORK/in-b.pcap" in-b.log -Q out
	local peer=10.200.0.130
	[ "$type" = tap ] && peer=10.200.0.66
	ip netns exec "$NSA" ping -n -c $PINGS -i 0.2 -s 24 -p $PING_PATTERN -W 5 $peer \
		>"$WORK/ping.log" 2>&1 || die "$name: pings lost: $(cat "$WORK"/ping.log "$WORK"/a.log "$WORK"/b.log)"
	local traffic="ping -c $PINGS -s 24 -p $PING_PATTERN from A to B ($peer) through the tunnel"
	if [ "$type" = tun ]; then
		ip netns exec "$NSA" bash -c "printf '%s' '$UDP_TEXT' >/dev/udp/$peer/9999"
		traffic="$traffic; a UDP datagram '$UDP_TEXT' to port 9999 (B answers ICMP port unreachable)"
	fi
	if [ "$fam" = 6 ]; then # IPv6 inside too, switched on while the device captures run
		ip netns exec "$NSA" sysctl -qw net.ipv6.conf.satpvt0.disable_ipv6=0
		ip netns exec "$NSB" sysctl -qw net.ipv6.conf.satpvt1.disable_ipv6=0
		ip -n "$NSA" -6 addr add fd00:200::1:1/112 dev satpvt0 nodad
		ip -n "$NSB" -6 addr add fd00:200::1:2/112 dev satpvt1 nodad
		ip netns exec "$NSA" ping -n -6 -c 2 -i 0.2 -s 24 -p $PING_PATTERN -W 5 fd00:200::1:2 \
			>>"$WORK/ping.log" 2>&1 || die "$name: IPv6 pings lost: $(cat "$WORK/ping.log")"
		traffic="$traffic; ping -6 -c 2 fd00:200::1:1 -> fd00:200::1:2 (with the devices' own ICMPv6)"
	fi
	# Each side's device gives its daemon one packet per ping plus the UDP datagram or
	# its port unreachable (tun), or ARP (tap); IPv6 adds two pings each way.
	local min=$((PINGS + 1))
	[ "$fam" = 6 ] && min=$((min + 2))
	wait_for $DEADLINE settled "$name" $min ||
		die "$name: the captures do not agree: a $(pcap_n "$WORK/in-a.pcap"), b $(pcap_n "$WORK/in-b.pcap")"
	stop_all
	python3 - "$WORK/spec.json" "$name" "$desc" "$type" "$ca" "$cb" "$EPA" "$EPB" "$PORT" \
		"$traffic" "$algos" "$secret" <<'PY'
import json, re, shlex, sys
spec, name, desc, typ, ca, cb, epa, epb, port, traffic, algos, secret = sys.argv[1:]
cipher, kd, auth, tag = algos.split()
def peer(cmd, ep):
    opt = lambda o, d: int(re.search(r" %s (\d+)" % o, cmd).group(1)) if " %s " % o in cmd else d
    return {"command": cmd, "endpoint": ep, "role": re.search(r" -e (\w+)", cmd).group(1),
            "sender_id": opt("-s", 0), "mux": opt("-m", 0)}
# satp decode speaks anytun's options: the peers' own crypto options are its arguments
argv, dec = shlex.split(ca), []
for i, a in enumerate(argv):
    if a in ("-K", "-A", "-E", "-c", "-k", "-a", "-b"):
        dec += [a, argv[i + 1]]
s = secret.split(" ", 1)
json.dump({"name": name, "description": desc, "device": typ, "port": int(port),
           "peer_a": peer(ca, epa), "peer_b": peer(cb, epb), "traffic": traffic,
           "cipher": cipher, "kd_prf": kd, "auth": auth, "tag_len": int(tag), "decode_args": dec,
           "key": s[1].split()[0] if s[0] == "key" else "",
           "salt": s[1].split()[1] if s[0] == "key" else "",
           "passphrase": s[1] if s[0] == "passphrase" else ""}, open(spec, "w"))
PY
	python3 "$WORK/pcap.py" manifest "$WORK/spec.json" "$OUT/$name.pcap" "$WORK/in-a.pcap" \
		"$WORK/in-b.pcap" "$OUT/$name.json" || die "$name: no manifest"
}

KS="-K $KEY128 -A $SALT"
D128="aes-ctr-128 aes-ctr-128 sha1 10"
vector v01_uanytun_default_keysalt tun 4 \
	"uanytun to uanytun, defaults (aes-ctr-128, sha1, tag 10, kd-prf aes-ctr-128), hex key and salt; A left sid 1, B right sid 2, mux 0" \
	"uanytun -s 1 -e left $KS" "uanytun -s 2 -e right $KS" "$D128" "key $KEY128 $SALT"
vector v02_uanytun_passphrase tun 4 \
	"uanytun to uanytun, defaults, master key and salt from the passphrase; sender ids at their default 0" \
	"uanytun -e left -E '$PASS'" "uanytun -e right -E '$PASS'" "$D128" "passphrase $PASS"
vector v03_uanytun_tap tap 4 \
	"uanytun to uanytun, tap (payload type 0x6558, Ethernet frames: ARP and pings), defaults, sid 1/2" \
	"uanytun -s 1 -e left $KS" "uanytun -s 2 -e right $KS" "$D128" "key $KEY128 $SALT"
vector v04_uanytun_aes256 tun 4 \
	"uanytun to uanytun, cipher and kd-prf aes-ctr-256 (32 byte master key), sha1 tag 10, sid 1/2, mux 3" \
	"uanytun -s 1 -m 3 -e left -c aes-ctr-256 -k aes-ctr-256 -K $KEY256 -A $SALT" \
	"uanytun -s 2 -m 3 -e right -c aes-ctr-256 -k aes-ctr-256 -K $KEY256 -A $SALT" \
	"aes-ctr-256 aes-ctr-256 sha1 10" "key $KEY256 $SALT"
vector v05_uanytun_tag20 tun 4 \
	"uanytun to uanytun, defaults but a 20 byte tag (all of HMAC-SHA1), sid 1/2" \
	"uanytun -s 1 -e left -b 20 $KS" "uanytun -s 2 -e right -b 20 $KS" \
	"aes-ctr-128 aes-ctr-128 sha1 20" "key $KEY128 $SALT"
vector v06_uanytun_null_null tun 4 \
	"uanytun to uanytun, cipher null and auth null (no key, no tag: payload type and packet in clear), sid 1/2" \
	"uanytun -s 1 -e left -c null -a null" "uanytun -s 2 -e right -c null -a null" \
	"null null null 0" "none"
vector v07_uanytun_ipv6_underlay tun 6 \
	"uanytun to uanytun over an IPv6 underlay, defaults, sid 1/2; IPv4 and IPv6 inside" \
	"uanytun -s 1 -e left $KS" "uanytun -s 2 -e right $KS" "$D128" "key $KEY128 $SALT"
vector v08_anytun_default tun 4 \
	"anytun to anytun, defaults (aes-ctr-128, sha1, tag 10, kd-prf aes-ctr-128), A left sid 1, B right sid 2" \
	"anytun -s 1 -e left $KS" "anytun -s 2 -e right $KS" "$D128" "key $KEY128 $SALT"
vector v09_anytun_uanytun_cross tun 4 \
	"anytun (A, left, sid 1) to uanytun (B, right, sid 2), defaults, mux 1" \
	"anytun -s 1 -m 1 -e left $KS" "uanytun -s 2 -m 1 -e right $KS" "$D128" "key $KEY128 $SALT"
echo "regen: captures and manifests in $OUT"
