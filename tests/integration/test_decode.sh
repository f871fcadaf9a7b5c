#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# satp decode against the project's captures of real anytun/uanytun tunnels
# (tests/vectors/, made by tests/vectors/regen.sh), and against a second SATP
# implementation in Python (tests/tools/satp_ref.py).
#
#   tests/vectors/vNN.pcap ──► satp decode --hex ──► lines ─┐
#   tests/vectors/vNN.json: each datagram's inner packet,    ├─► same src/dst/sid/mux/role/
#     from the sending daemon's own tun capture ─────────────┘   ptype/inner, seqs +1
#   satp_ref.py re-seals every inner packet to the captured bytes, then builds
#   pcaps in a temp dir: other link types, one direction, a duplicated datagram,
#   both ends with one role, damaged and odd datagrams.
#
# Reads files only: no namespaces, no traffic. A missing capture fails.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
VEC=${SATP_VECTORS:-tests/vectors}
SATP=$BUILD/satp

if ! python3 -c 'import cryptography' 2>/dev/null; then
	echo "SKIP: python3-cryptography is missing (satp_ref.py needs it)"
	exit 77
fi
if [ ! -x "$SATP" ]; then
	echo "FAIL: $SATP is not built (make $SATP)"
	exit 1
fi
for v in v01_uanytun_default_keysalt v02_uanytun_passphrase v05_uanytun_tag20 \
	v07_uanytun_ipv6_underlay; do
	if [ ! -f "$VEC/$v.pcap" ] || [ ! -f "$VEC/$v.json" ]; then
		echo "FAIL: no capture $VEC/$v.pcap or manifest $v.json (tests/vectors/regen.sh makes them)"
		exit 1
	fi
done

TMP=$(mktemp -d "/tmp/satp-test-decode.$$.XXXXXX")
cleanup() {
	rm -rf "$TMP"
}
trap cleanup EXIT

V01=$VEC/v01_uanytun_default_keysalt.pcap
pass=0
fail=0

ok() {
	pass=$((pass + 1))
	printf '  ok   %s\n' "$1"
}

not_ok() {
	fail=$((fail + 1))
	printf '  FAIL %s\n' "$1"
	[ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/       | /' | head -20
	return 0
}

# run NAME ARGS...: satp decode into $TMP/NAME.out / .err, exit code in $rc
run() {
	local name=$1
	shift
	"$SATP" decode "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
	rc=$?
	out=$(cat "$TMP/$name.out")
	err=$(cat "$TMP/$name.err")
}

# expect NAME RC PATTERN [STREAM]: the run exited RC and STREAM (out|err) matches PATTERN
expect() {
	local name=$1 want_rc=$2 pattern=$3 stream=${4:-out} text
	[ "$stream" = err ] && text=$err || text=$out
	if [ "$rc" -ne "$want_rc" ]; then
		not_ok "$name: exit $rc, want $want_rc" "$out"$'\n'"$err"
	elif ! grep -qE -- "$pattern" <<<"$text"; then
		not_ok "$name: $stream lacks /$pattern/" "$text"
	else
		ok "$name"
	fi
}

# The helpers: manifest -> anytun options, pcaps derived from the vectors, and
# the comparison with the reference. Python reads the manifests' JSON.
cat >"$TMP/mk.py" <<'PY'
import json, os, re, socket, struct, sys
sys.path.insert(0, sys.argv[1])
import satp_ref as sr

LINE = re.compile(r"^#(\d+) (\S+) -> (\S+) seq=(\d+) sid=(\d+) mux=(\d+) role=(\S+) (\S+)"
                  r" 0x([0-9a-f]{4}) .* hex=([0-9a-f]*)$")
BITS = {"null": 0, "aes-ctr": 128}

def bits(name):
    return BITS[name] if name in BITS else int(name.rsplit("-", 1)[1])

def keys(m):
    """satp_ref keys for a manifest's algorithms and secret."""
    kw = dict(cipher_bits=bits(m["cipher"]), auth=m["auth"], tag_len=m["tag_len"])
    if m["passphrase"]:
        return sr.Keys.from_passphrase(m["passphrase"], kd_bits=bits(m["kd_prf"]), **kw)
    salt = bytes.fromhex(m["salt"]) if m["salt"] else bytes(sr.SALT_LEN)
    return sr.Keys(bytes.fromhex(m["key"]), salt, kd_bits=bits(m["kd_prf"]), **kw)

def manifest(path):
    m = json.load(open(path))
    m["roles"] = {m[p]["endpoint"]: m[p]["role"] for p in ("peer_a", "peer_b")}
    return m

def endpoint(a, p):  # as satp decode prints it
    return "[%s]:%d" % (a, p) if ":" in a else "%s:%d" % (a, p)

def datagrams(path):
    """(src, sport, dst, dport, payload) of every UDP datagram of a capture."""
    return sr.udp_datagrams(path)

def args(path):
    sys.stdout.write("".join(x + "\0" for x in manifest(path)["decode_args"]))

def counts(path):
    """datagrams in all, then from peer A, from peer B."""
    m = manifest(path)
    by = [sum(d.split()[0] == m[p]["endpoint"] for d in m["datagrams"]) for p in ("peer_a", "peer_b")]
    print(m["satp_packets"], *by)

def compare(ours, path):
    """satp decode's lines against the manifest's datagrams: the inner packet each peer's
    device gave it, with its sid and mux, the sender's role where a tag decides it, and
    seqs that go up by one per source."""
    m = manifest(path)
    mine = [l for l in open(ours) if l.startswith("#")]
    if len(mine) != len(m["datagrams"]):
        sys.exit("%d lines for %d datagrams" % (len(mine), len(m["datagrams"])))
    seq = {}
    for k, (l, want) in enumerate(zip(mine, m["datagrams"])):
        g = LINE.match(l)
        if not g:
            sys.exit("unparsed line: " + l)
        src, dst, sid, mux, ptype, hexs = want.split()
        got = (g[2], g[3], int(g[5]), int(g[6]), int(g[9], 16), g[10], g[8])
        exp = (src, dst, int(sid), int(mux), int(ptype, 16), hexs, "ok")
        if got != exp:
            sys.exit("datagram %d: %s, manifest %s" % (k + 1, got, exp))
        if m["auth"] != "null" and g[7] != m["roles"][src]:
            sys.exit("datagram %d: role %s, sent by %s" % (k + 1, g[7], m["roles"][src]))
        if src in seq and int(g[4]) != seq[src] + 1:
            sys.exit("datagram %d: seq %s after %d" % (k + 1, g[4], seq[src]))
        seq[src] = int(g[4])

def reseal(path, pcap):
    """satp_ref opens every captured datagram as its sender and seals the manifest's
    inner packet back to the same bytes: the Python implementation agrees with the peers."""
    m = manifest(path)
    k = keys(m)
    dg = [u for u in datagrams(pcap) if m["port"] in (u[1], u[3])]
    if len(dg) != len(m["datagrams"]):
        sys.exit("%d datagrams, manifest %d" % (len(dg), len(m["datagrams"])))
    for n, (u, want) in enumerate(zip(dg, m["datagrams"])):
        src, _, sid, mux, ptype, hexs = want.split()
        role = m["roles"][src]
        r = k.open(role, u[4])
        if not r or r[4].hex() != hexs:
            sys.exit("datagram %d does not open as %s to the manifest's inner packet" % (n + 1, role))
        if k.seal(role, r[0], int(sid), int(mux), int(ptype, 16), bytes.fromhex(hexs)) != u[4]:
            sys.exit("datagram %d: sealed again, the bytes differ" % (n + 1))
    print(len(dg))

def cut(pcap, frames, out):
    """The capture cut inside record frames+1."""
    data = open(pcap, "rb").read()
    off = 24
    for _ in range(int(frames)):
        off += 16 + struct.unpack("<I", data[off + 8:off + 12])[0]
    open(out, "wb").write(data[:off + 20])

def ip(src, dst, payload, proto=17, opts=b"", frag=0):
    if ":" in src:  # opts: one destination options header of PadN
        if opts:
            payload = struct.pack(">BBBB", proto, 0, 1, 4) + bytes(4) + payload
            proto = 60
        return struct.pack(">IHBB16s16s", 6 << 28, len(payload), proto, 64,
                           socket.inet_pton(socket.AF_INET6, src),
                           socket.inet_pton(socket.AF_INET6, dst)) + payload
    return struct.pack(">BBHHHBBH4s4s", 0x40 | (5 + len(opts) // 4), 0,
                       20 + len(opts) + len(payload), 0x1234, frag, 64, proto, 0,
                       socket.inet_aton(src), socket.inet_aton(dst)) + opts + payload

def udp(sport, dport, payload):
    return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload

def etype(src):
    return 0x86DD if ":" in src else 0x0800

def eth(src, l3, tags=b""):
    return b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + tags + \
        struct.pack(">H", etype(src)) + l3

def write_pcap(path, linktype, frames):
    """frames: bytes, or (bytes, original length) for a snaplen-cut record."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        for i, fr in enumerate(frames):
            data, orig = fr if isinstance(fr, tuple) else (fr, len(fr))
            f.write(struct.pack("<IIII", 1000 + i, 0, len(data), orig) + data)

def write_pcapng(path, linktype, frames):
    def block(btype, body):
        body += bytes(-len(body) % 4)
        return struct.pack("<II", btype, len(body) + 12) + body + struct.pack("<I", len(body) + 12)
    with open(path, "wb") as f:
        f.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        f.write(block(1, struct.pack("<HHI", linktype, 0, 262144)))
        for i, fr in enumerate(frames):
            f.write(block(6, struct.pack("<IIIII", 0, 0, 1000 + i, len(fr), len(fr)) + fr))

def sll(src, l3):
    return struct.pack(">HHH8sH", 0, 1, 6, b"\x02" * 6 + b"\0\0", etype(src)) + l3

def sll2(src, l3):
    return struct.pack(">HHIHBB8s", etype(src), 0, 2, 1, 0, 6, b"\x02" * 8) + l3

def qinq(src, l3):
    return eth(src, l3, struct.pack(">HHHH", 0x88A8, 100, 0x8100, 200))

def ipopts(src, l3):  # IPv4 with 4 bytes of options: NOP NOP NOP EOL
    return eth(src, ip(*l3, opts=b"\x01\x01\x01\x00"))

def linktypes(vec, outdir):
    dg = datagrams(vec)
    for name, lt, wrap in (("sll", 113, sll), ("sll2", 276, sll2), ("raw", 101, None),
                           ("qinq", 1, qinq)):
        frames = []
        for s, sp, d, dp, pl in dg:
            l3 = ip(s, d, udp(sp, dp, pl))
            frames.append(wrap(s, l3) if wrap else l3)
        write_pcap("%s/%s.pcap" % (outdir, name), lt, frames)
    write_pcap(outdir + "/ipopts.pcap", 1,
               [ipopts(s, (s, d, udp(sp, dp, pl))) for s, sp, d, dp, pl in dg])
    write_pcapng(outdir + "/pcapng.pcap", 1, [frame(*u) for u in dg])

def v6ext(vec, out):
    write_pcap(out, 1, [ipopts(s, (s, d, udp(sp, dp, pl))) for s, sp, d, dp, pl in datagrams(vec)])

def fuzz(out_ok, out_junk):
    """Seeded random: authentic datagrams with random inner bytes, and random outer frames."""
    import random
    rnd = random.Random(4444)
    types = [0x0800, 0x86DD, 0x6558, 0x0000, 0x1234]
    frames = []
    for i in range(400):
        t = rnd.choice(types)
        inner = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 90)))
        if rnd.random() < 0.7:  # mostly a plausible version nibble, to get past it
            inner = bytes([{0x0800: 0x45, 0x86DD: 0x60}.get(t, inner[0]) | (inner[0] & 0x0F)]) + inner[1:]
        frames.append(frame(A, 4444, B, 4444, seal(rnd.choice(["left", "right"]), i, 7, t, inner)))
    write_pcap(out_ok, 1, frames)
    frames = []
    for i in range(400):  # well-formed datagrams of random bytes, then cut and bit-flipped
        pl = bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 60)))
        src, dst = rnd.choice([(A, B), ("fd00:200::1", "fd00:200::2")])
        fr = bytearray(eth(src, ip(src, dst, udp(4444, 4444, pl)),
                           rnd.choice([b"", b"\x81\x00\x00\x01"])))
        for _ in range(rnd.randrange(0, 4)):
            fr[rnd.randrange(min(len(fr), 70))] ^= 1 << rnd.randrange(8)
        if rnd.random() < 0.3:
            fr = fr[:rnd.randrange(len(fr) + 1)]
        frames.append(bytes(fr))
    write_pcap(out_junk, 1, frames)

def frame(s, sp, d, dp, pl):
    return eth(s, ip(s, d, udp(sp, dp, pl)))

def onedir(vec, src, out):
    write_pcap(out, 1, [frame(*u) for u in datagrams(vec) if u[0] == src])

def dup(vec, out):
    fr = [frame(*u) for u in datagrams(vec)]
    write_pcap(out, 1, fr[:3] + [fr[0]] + fr[3:])

def v01_keys():  # the shell exports v01's key and salt before the derived pcaps
    return sr.Keys(bytes.fromhex(os.environ["KEY"]), bytes.fromhex(os.environ["SALT"]))

def seal(role, seq, sid, ptype, inner, mux=0):
    return v01_keys().seal(role, seq, sid, mux, ptype, inner)

def clash(vec, out):
    """Both ends sealing with role left: what two daemons left at the default do."""
    frames = []
    for s, sp, d, dp, pl in datagrams(vec):
        r = v01_keys().open("left", pl) or v01_keys().open("right", pl)
        frames.append(frame(s, sp, d, dp, seal("left", r[0], r[1], r[3], r[4], r[2])))
    write_pcap(out, 1, frames)

A, B = "10.200.0.1", "10.200.0.2"

def odd(out):
    """Authentic datagrams whose inner packets are cut or nonsense: all verify."""
    inners = [(0x0800, b"\x45"), (0x0800, b"\x4f" + b"\0" * 19), (0x0800, bytes(20)),
              (0x0800, b"\x45" + b"\0" * 8 + b"\x06" + b"\0" * 10),
              (0x86DD, b"\x60" * 10), (0x86DD, b"\x60" + b"\0" * 5 + b"\x00\x40" + b"\0" * 32),
              (0x6558, b"\xff" * 5), (0x6558, b"\xff" * 12 + b"\x08\x00\x45"),
              (0x1234, b"abc"), (0x0000, b"\x45\x00")]
    write_pcap(out, 1, [frame(A, 4444, B, 4444, seal("left", i, 9, t, x))
                        for i, (t, x) in enumerate(inners)])

def damaged(out):
    """One datagram of each failure satp decode names besides bad-tag."""
    good = seal("left", 0, 1, 0x0800, ip(A, B, b"", proto=1))
    cut = frame(A, 4444, B, 4444, good)
    frames = [frame(A, 4444, B, 4444, b"\0\0\0\1\0\1\0"),           # too-short
              frame(A, 4444, B, 4444, seal("left", 1, 1, 0x0800, b"")),  # no-payload
              (cut[:len(cut) - 6], len(cut)),                           # truncated
              eth(A, ip(A, B, udp(4444, 4444, good), frag=0x2000)),     # fragment
              eth(A, ip(A, B, b"\0" * 8, frag=0x0005)),                  # later piece: skipped
              eth(A, b"\x45\x00")]                                       # cut IPv4: skipped
    write_pcap(out, 1, frames)

globals()[sys.argv[2]](*sys.argv[3:])
PY
mk() {
	python3 "$TMP/mk.py" tests/tools "$@"
}

echo "# every capture, with its manifest's keys"
n_vec=0
for json in "$VEC"/v*.json; do
	name=$(basename "$json" .json)
	pcap=$VEC/$name.pcap
	n_vec=$((n_vec + 1))
	if [ ! -f "$pcap" ]; then
		not_ok "$name: $pcap is missing"
		continue
	fi
	mapfile -d '' -t args < <(mk args "$json")
	run "$name" "$pcap" "${args[@]}" --hex
	read -r count _ < <(mk counts "$json")
	expect "$name: $count packets verify" 0 "^$count SATP packets, $count ok, 0 failed$"
	if msg=$(mk compare "$TMP/$name.out" "$json" 2>&1); then
		ok "$name: each datagram is the inner packet its sender's device gave it"
	else
		not_ok "$name: differs from the manifest" "$msg"
	fi
	if msg=$(mk reseal "$json" "$pcap" 2>&1); then
		ok "$name: satp_ref.py opens and re-seals all $msg datagrams to the captured bytes"
	else
		not_ok "$name: satp_ref.py" "$msg"
	fi
done
# The vectors regen.sh makes (tests/unit/test_vectors.c lists them by name too).
if [ "$n_vec" -ge 9 ]; then
	ok "$n_vec manifests"
else
	not_ok "only $n_vec manifests in $VEC"
fi

# v01's key and counts: all, from peer A (left), from peer B (right)
J01=$VEC/v01_uanytun_default_keysalt.json
read -r N01 NA01 NB01 < <(mk counts "$J01")
mapfile -d '' -t KS < <(mk args "$J01")
if [ "${KS[0]:-}" != -K ] || [ "${KS[2]:-}" != -A ]; then
	not_ok "v01's manifest: no -K and -A (${KS[*]})"
	exit 1
fi
export KEY=${KS[1]} SALT=${KS[3]}
read -r N07 _ < <(mk counts "$VEC/v07_uanytun_ipv6_underlay.json")
read -r N05 _ < <(mk counts "$VEC/v05_uanytun_tag20.json")
read -r N02 _ < <(mk counts "$VEC/v02_uanytun_passphrase.json")
PASS=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["passphrase"])' \
	"$VEC/v02_uanytun_passphrase.json")

echo "# other link types and outer headers carry the same datagrams"
mk linktypes "$V01" "$TMP"
run v01-ref "$V01" "${KS[@]}" --hex
for lt in sll sll2 raw qinq ipopts pcapng; do
	run "$lt" "$TMP/$lt.pcap" "${KS[@]}" --hex
	if [ "$rc" -eq 0 ] && diff <(sed 's/^#[0-9]* //' "$TMP/v01-ref.out") \
		<(sed 's/^#[0-9]* //' "$TMP/$lt.out") >/dev/null; then
		ok "$lt: same $N01 lines as the Ethernet capture"
	else
		not_ok "$lt: exit $rc or different lines" "$out$err"
	fi
done
V07=$VEC/v07_uanytun_ipv6_underlay.pcap
mk v6ext "$V07" "$TMP/v6ext.pcap"
run v07-ref "$V07" "${KS[@]}"
run v6ext "$TMP/v6ext.pcap" "${KS[@]}"
if [ "$rc" -eq 0 ] && diff <(sed 's/^#[0-9]* //' "$TMP/v07-ref.out") \
	<(sed 's/^#[0-9]* //' "$TMP/v6ext.out") >/dev/null; then
	ok "IPv6 underlay with a destination options header: same $N07 lines"
else
	not_ok "IPv6 extension header: exit $rc or different lines" "$out$err"
fi
run stdin - "${KS[@]}" <"$V01"
expect "FILE - reads standard input" 0 "^$N01 SATP packets, $N01 ok, 0 failed$"
run ports-range "$V01" "${KS[@]}" --ports 4000:4443,4444:5000
expect "--ports as a list of ranges" 0 "^$N01 SATP packets, $N01 ok, 0 failed$"

echo "# wrong keys and algorithms fail with bad-tag"
run wrong-key "$V01" -K 0f0e0d0c0b0a09080706050403020100 -A "$SALT"
expect "wrong key: every datagram bad-tag" 1 "^$N01 SATP packets, 0 ok, $N01 failed$"
[ "$(grep -c ' bad-tag$' <<<"$out")" -eq "$N01" ] && ok "wrong key: $N01 bad-tag lines" ||
	not_ok "wrong key: bad-tag lines" "$out"
run wrong-salt "$V01" -K "$KEY" -A a0a1a2a3a4a5a6a7a8a9aaabacae
expect "wrong salt" 1 "^$N01 SATP packets, 0 ok, $N01 failed$"
run wrong-tag "$V01" "${KS[@]}" -b 12
expect "wrong tag length (12 for 10)" 1 " bad-tag$"
run wrong-tag20 "$VEC/v05_uanytun_tag20.pcap" "${KS[@]}"
expect "tag-20 capture read with the default 10" 1 "^$N05 SATP packets, 0 ok, $N05 failed$"
run wrong-cipher "$V01" "${KS[@]}" -c aes-ctr-256
expect "wrong cipher: tag verifies, decryption is nonsense" 0 "unknown payload type"
run wrong-passphrase "$VEC/v02_uanytun_passphrase.pcap" -E "$PASS!"
expect "wrong passphrase" 1 "^$N02 SATP packets, 0 ok, $N02 failed$"

echo "# roles"
mk onedir "$V01" 10.200.0.1 "$TMP/left-only.pcap"
run role-right "$TMP/left-only.pcap" "${KS[@]}" -e right
expect "-e right on left's datagrams: bad-tag" 1 "^$NA01 SATP packets, 0 ok, $NA01 failed$"
run role-left "$TMP/left-only.pcap" "${KS[@]}" -e left
expect "-e left on left's datagrams: ok" 0 "^$NA01 SATP packets, $NA01 ok, 0 failed$"
run role-alias "$TMP/left-only.pcap" "${KS[@]}" --role alice
expect "--role alice = left" 0 "^$NA01 SATP packets, $NA01 ok, 0 failed$"
run role-both "$V01" "${KS[@]}" -e left
expect "-e left on a two-way capture fails the peer's half" 1 "^$N01 SATP packets, $NA01 ok, $NB01 failed$"
mk clash "$V01" "$TMP/clash.pcap"
run clash "$TMP/clash.pcap" "${KS[@]}"
expect "both ends left: reported" 1 "both send with role left labels.*needs -e right" err
expect "both ends left: every datagram still verifies" 1 "^$N01 SATP packets, $N01 ok, 0 failed$"

echo "# replay window"
mk dup "$V01" "$TMP/dup.pcap"
run dup-w0 "$TMP/dup.pcap" "${KS[@]}"
expect "duplicate with -w 0 (off, as anytun's default)" 0 "^$((N01 + 1)) SATP packets, $((N01 + 1)) ok, 0 failed$"
run dup-w100 "$TMP/dup.pcap" "${KS[@]}" -w 100
first=$(sed -n '1s/^#1 \(.* role=left\) .*/\1/p' "$TMP/v01-ref.out")
expect "duplicate with -w 100: replay" 1 "^#4 ${first:-no first line} replay "
expect "duplicate with -w 100: counted" 1 "^$((N01 + 1)) SATP packets, $N01 ok, 1 failed$"

echo "# damaged captures and datagrams"
mk cut "$V01" 5 "$TMP/trunc.pcap"
run truncated "$TMP/trunc.pcap" "${KS[@]}"
expect "truncated pcap: error" 1 "unreadable after frame 5: truncated" err
expect "truncated pcap: what could be read is shown" 1 "^5 SATP packets, 5 ok, 0 failed$"
head -c 10 "$V01" >"$TMP/hdr.pcap"
run truncated-header "$TMP/hdr.pcap" "${KS[@]}"
expect "pcap cut inside its header" 1 "cannot read '.*hdr.pcap'" err
printf 'this is not a capture\n' >"$TMP/text.pcap"
run not-pcap "$TMP/text.pcap" "${KS[@]}"
expect "not a pcap: clear error" 1 "cannot read '.*text.pcap': unknown file format" err
run missing "$TMP/nonexistent.pcap" "${KS[@]}"
expect "missing file" 1 "cannot read '.*nonexistent.pcap': .*No such file" err
run other-port "$V01" "${KS[@]}" --ports 5555
expect "--ports 5555: no SATP datagrams" 1 "no SATP datagrams \(UDP port 5555\)" err
mk odd "$TMP/odd.pcap"
run odd "$TMP/odd.pcap" "${KS[@]}" --hex
expect "cut and nonsense inner packets are summarised, not overread" 0 \
	"^10 SATP packets, 10 ok, 0 failed$"
expect "cut inner IPv4 says so" 0 "0x0800 IPv4 \(malformed, 1 bytes\) hex=45$"
expect "cut inner Ethernet says so" 0 "0x6558 Ethernet \(malformed, 5 bytes\)"
mk fuzz "$TMP/fuzz-ok.pcap" "$TMP/fuzz-junk.pcap"
run fuzz-ok "$TMP/fuzz-ok.pcap" "${KS[@]}" --hex
expect "400 authentic datagrams with random inner bytes" 0 "^400 SATP packets, 400 ok, 0 failed$"
if grep -qE "Sanitizer|runtime error" <<<"$err"; then
	not_ok "random inner bytes: sanitizer report" "$err"
fi
run fuzz-junk "$TMP/fuzz-junk.pcap" "${KS[@]}"
if [ "$rc" -le 1 ] && grep -qE "^[0-9]+ SATP packets" <<<"$out" &&
	! grep -qE "Sanitizer|runtime error" <<<"$err"; then
	ok "400 random outer frames: no crash ($(tail -1 <<<"$out"))"
else
	not_ok "random outer frames: exit $rc" "$err"
fi
mk damaged "$TMP/damaged.pcap"
run damaged "$TMP/damaged.pcap" "${KS[@]}"
expect "too-short datagram" 1 "^#1 .* len=7 too-short$"
expect "ptype without a packet" 1 "^#2 .* seq=1 sid=1 mux=0 role=left no-payload$"
expect "datagram cut by the snaplen" 1 "^#3 .* len=[0-9]+ captured=[0-9]+ truncated$"
expect "outer fragment" 1 "^#4 .* fragment"
expect "damaged: 4 failures, later fragments and cut IP skipped" 1 \
	"^4 SATP packets, 0 ok, 4 failed$"

echo "# bad options: exit 2, the text quoted"
run bad-cipher "$V01" "${KS[@]}" -c aes-ctr-999
expect "-c aes-ctr-999" 2 "invalid cipher 'aes-ctr-999'" err
run bad-kd "$V01" "${KS[@]}" --kd-prf aes-ctr-7
expect "--kd-prf aes-ctr-7" 2 "invalid kd-prf 'aes-ctr-7'" err
run bad-auth "$V01" "${KS[@]}" -a md5
expect "-a md5" 2 "invalid auth-algo 'md5'" err
run bad-key "$V01" -K 0g -A "$SALT"
expect "-K 0g" 2 "-K: .*[\"']0g[\"']" err
run short-key "$V01" -K 0001 -A "$SALT"
expect "-K of the wrong length" 2 "master key is 2 bytes, kd-prf aes-ctr-128 wants 16" err
run bad-salt "$V01" -K "$KEY" -A a0a1
expect "-A of the wrong length" 2 "-A: .*a0a1" err
run no-salt "$V01" -K "$KEY"
expect "no salt" 2 "needs a master salt" err
run bad-tag "$V01" "${KS[@]}" -b x
expect "-b x" 2 "invalid auth-tag-length 'x'" err
run neg-tag "$V01" "${KS[@]}" -b -1
expect "-b -1" 2 "invalid auth-tag-length '-1'" err
run big-tag "$VEC/v05_uanytun_tag20.pcap" "${KS[@]}" -b 32
expect "-b 32 is clamped to 20, as the daemons do" 0 "^$N05 SATP packets, $N05 ok, 0 failed$"
expect "-b 32 warns" 0 "auth-tag-length 32 is more than 20, clamped to 20" err
run bad-ports "$V01" "${KS[@]}" --ports 99999
expect "--ports 99999" 2 "invalid port list '99999'" err
run bad-window "$V01" "${KS[@]}" -w 99999
expect "-w 99999" 2 "invalid window-size '99999'" err
run bad-role "$V01" "${KS[@]}" -e middle
expect "-e middle" 2 "invalid role 'middle'" err
run bad-opt "$V01" "${KS[@]}" --frobnicate
expect "unknown option" 2 "unknown option '--frobnicate'" err
run no-file "${KS[@]}"
expect "no capture file" 2 "no capture file given" err
"$SATP" frobnicate >/dev/null 2>"$TMP/sub.err"
rc=$? err=$(cat "$TMP/sub.err")
expect "unknown subcommand" 2 "unknown subcommand 'frobnicate'" err
# No subcommand is `show`: the same output and exit code, whatever runs here.
"$SATP" >"$TMP/noarg.out" 2>&1
noarg_rc=$?
"$SATP" show >"$TMP/show.out" 2>&1
rc=$?
if [ "$rc" -eq "$noarg_rc" ] && cmp -s "$TMP/noarg.out" "$TMP/show.out"; then
	ok "no subcommand runs show"
else
	not_ok "no subcommand runs show: exit $noarg_rc vs $rc" "$(diff "$TMP/noarg.out" "$TMP/show.out")"
fi
"$SATP" help decode >"$TMP/help.out" 2>&1
rc=$? out=$(cat "$TMP/help.out")
expect "satp help decode" 0 "^Usage: satp decode FILE"

echo "# -K, -A and -E are wiped from the process's arguments"
# A FIFO holds satp at the capture's open, after the options were parsed.
mkfifo "$TMP/fifo.pcap"
"$SATP" decode "$TMP/fifo.pcap" -K "$KEY" --salt="$SALT" -E "secret words" \
	>"$TMP/fifo.out" 2>&1 &
pid=$!
cmdline=
for _ in $(seq 100); do
	cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
	[[ $cmdline == *"#"* ]] && break
	sleep 0.05
done
cat "$V01" >"$TMP/fifo.pcap"
wait "$pid"
rc=$?
if [[ $cmdline == *"#"* && $cmdline != *"$KEY"* && $cmdline != *"$SALT"* &&
	$cmdline != *secret* ]]; then
	ok "secrets overwritten: $cmdline"
else
	not_ok "secrets still visible" "$cmdline"
fi
[ "$rc" -eq 0 ] && ok "the FIFO capture decodes ($(tail -1 "$TMP/fifo.out"))" ||
	not_ok "FIFO capture: exit $rc" "$(cat "$TMP/fifo.out")"

echo "test_decode: $pass passed, $fail failed ($n_vec vectors)"
[ "$fail" -eq 0 ]
