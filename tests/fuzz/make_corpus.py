#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Write the seed corpora of tests/fuzz/ from tests/vectors (or $SATP_VECTORS).

    tests/fuzz/make_corpus.py        # rewrites tests/fuzz/corpus/fuzz_{packet,options,decode}/

File names are content hashes, so a rerun changes nothing unless the vectors
did. Crash reproducers added by hand (regress-*) are kept.
"""
import glob
import hashlib
import json
import os
import shlex
import struct
import sys

from scapy.all import IP, IPv6, UDP, ICMP, Ether, Raw, rdpcap  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.environ.get("SATP_VECTORS", os.path.join(HERE, "..", "vectors"))
SATP_PORT = 4444

# fuzz_packet.c CONFIGS and fuzz_decode.c ARGSETS by vector.
PACKET_CONFIG = {"v02": 4, "v04": 1, "v05": 2, "v06": 3}
DECODE_ARGSET = {"v02": 3, "v04": 4, "v05": 5, "v06": 2}
# fuzz_decode.c DLTS
DLT_INDEX = {1: 0, 113: 1, 276: 2, 12: 3, 101: 4, 228: 5, 229: 6, 0: 7}


def put(harness, data):
    d = os.path.join(HERE, "corpus", harness)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def clear(harness):
    for f in glob.glob(os.path.join(HERE, "corpus", harness, "*")):
        if not os.path.basename(f).startswith("regress-"):
            os.unlink(f)


def linktype(path):
    with open(path, "rb") as f:
        hdr = f.read(24)
    magic = struct.unpack("<I", hdr[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    return struct.unpack(endian + "I", hdr[20:24])[0]


def vectors():
    for js in sorted(glob.glob(os.path.join(VECTORS, "v*.json"))):
        with open(js) as f:
            yield os.path.basename(js)[:3], json.load(f), js[:-5] + ".pcap"


def packet_seeds():
    for tag, man, pcap in vectors():
        cfg = PACKET_CONFIG.get(tag, 0)
        for p in rdpcap(pcap):
            if UDP in p and SATP_PORT in (p[UDP].sport, p[UDP].dport):
                put("fuzz_packet", bytes([0, cfg]) + bytes(p[UDP].payload))
        firsts = {}  # each source's first datagram: "SRC DST SID MUX 0xPTYPE INNERHEX"
        for line in man["datagrams"]:
            firsts.setdefault(line.split()[0], line.split())
        for _, _, sid, mux, ptype, inner in firsts.values():
            hdr = struct.pack(">IHHHH", 0, int(sid), int(mux), int(ptype, 16), 0xFFFF)
            put("fuzz_packet", bytes([1, cfg]) + hdr + bytes.fromhex(inner))
    # sealed mode: every config, with and without a flipped bit; seqs at the ends
    icmp = bytes(IP(src="10.99.0.1", dst="10.99.0.2") / ICMP() / Raw(b"satp"))
    for cfg in range(8):
        for seq, flip in ((0, 0xFFFF), (1, 0), (0xFFFFFFFF, 77), (0x80000000, 900)):
            put("fuzz_packet", bytes([1, cfg]) + struct.pack(">IHHHH", seq, 1, 0, 0x0800, flip) + icmp)
        put("fuzz_packet", bytes([1, cfg]) + struct.pack(">IHHHH", 5, 2, 3, 0x0800, 0xFFFF))
    # window mode: in order, out of order, jumps, around 2^32
    for size, seqs in ((4, [1, 2, 3, 2, 70, 5, 69]), (64, [0xFFFFFFF0, 0xFFFFFFFF, 0, 5, 0xFFFFFFF1]),
                       (255, [1000, 1000 + 4095, 1000, 1000 + 5000, 0x80000000])):
        put("fuzz_packet", bytes([2, size]) + b"".join(struct.pack(">I", q) for q in seqs))


def option_seeds():
    for _, man, _ in vectors():
        for peer in ("peer_a", "peer_b"):
            argv = shlex.split(man[peer]["command"])[1:]
            put("fuzz_options", b"\0" + b"\0".join(a.encode() for a in argv))
            # the same as a config file: long names, no dashes
            lines, i = [], 0
            longs = {"-i": "interface", "-p": "port", "-r": "remote-host", "-o": "remote-port",
                     "-s": "sender-id", "-e": "role", "-K": "key", "-A": "salt",
                     "-E": "passphrase", "-d": "dev", "-t": "type", "-c": "cipher",
                     "-k": "kd-prf", "-b": "auth-tag-length", "-a": "auth-algo", "-w": "window-size",
                     "-m": "mux", "-n": "ifconfig"}
            while i < len(argv):
                a = argv[i]
                if a in ("-D",):
                    lines.append("nodaemonize")
                elif a in longs and i + 1 < len(argv):
                    lines.append("%s %s" % (longs[a], argv[i + 1]))
                    i += 1
                i += 1
            put("fuzz_options", b"\1" + "\n".join(["# from %s" % man["name"]] + lines).encode())
    extra = [
        ["-r", "fd00::2", "-o", "4444:4450", "-w", "0", "--xdp-mode", "skb", "--queues", "4"],
        ["-R", "10.0.0.0/8", "-R", "fd00::/64", "-n", "10.99.0.1/24", "-L", "stderr:5",
         "-L", "file:3,/tmp/x", "--state-dir", "/tmp/s", "--pin-root", "/sys/fs/bpf"],
        ["-k", "null", "-c", "null", "-a", "null", "-b", "25", "-m", "65535", "-s", "65535"],
        ["--role=bob", "--window-size=4096", "--dev", "tap0", "--type", "tap"],
    ]
    for argv in extra:
        put("fuzz_options", b"\0" + b"\0".join(a.encode() for a in argv))


def decode_seeds():
    for tag, _, pcap in vectors():
        with open(pcap, "rb") as f:
            put("fuzz_decode", bytes([1, DECODE_ARGSET.get(tag, 0)]) + f.read())
        dlt = DLT_INDEX.get(linktype(pcap), 0)
        for p in rdpcap(pcap):
            put("fuzz_decode", bytes([0, dlt]) + bytes(p))
    # outer shapes the vectors lack: VLAN tags, IPv6 extension headers, raw IP
    from scapy.all import Dot1Q, IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment
    sat = Raw(b"\0\0\0\1\0\1\0\0" + b"\x55" * 40)
    for pkt in (Ether() / Dot1Q(vlan=5) / IP() / UDP(sport=4444, dport=4444) / sat,
                Ether() / Dot1Q() / Dot1Q() / IPv6() / UDP(dport=4444) / sat,
                Ether() / IPv6() / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / UDP(dport=4444) / sat,
                Ether() / IPv6() / IPv6ExtHdrFragment(m=1) / UDP(dport=4444) / sat,
                Ether() / IP(flags="MF") / UDP(dport=4444) / sat):
        put("fuzz_decode", bytes([0, 0]) + bytes(pkt))
    put("fuzz_decode", bytes([0, 3]) + bytes(IP() / UDP(dport=4444) / sat))


CTL_REQUESTS = [
    "",  # a client that connects and closes: satp_ctl_parse(buf, 0)
    "op=show\n\n",
    "op=show\n",
    "op=add-conn\nmux=1\nkey=000102030405060708090a0b0c0d0e0f\nsender=2\nwindow=64\n"
    "role=right\nremote=10.77.0.2:4444\nsalt=a0a1a2a3a4a5a6a7a8a9aaabacad\ncipher=aes-ctr-128\n"
    "auth=sha1\nkd-prf=aes-ctr\ntag-len=10\n\n",
    "op=add-conn\nmux=2\npassphrase=satp test passphrase\nremote=[fd00::2]:4444\n\n",
    "op=change-conn\nmux=1\nwindow=4096\n\n",
    "op=del-conn\nmux=65535\n\n",
    "op=set-keys\nmux=0\nkey=" + "00" * 32 + "\ngrace=10\n\n",
    "op=reset-window\nmux=0\nsender=2\n\n",
]
CTL_REPLIES = [
    "errno=0\n\n",
    "errno=22\nerror=invalid mux 'x'\n\n",
    "errno=0\npid=42\nversion=0.1\ndev=tun0\nxdp-ifname=ul0\nrx-path=xdp\nstarted=1700000000\n"
    "workers=1\nxsk-queues=1\ncounter.rx_datagrams=5\ncounter.rx_bad_tag=1\nconn=0\n"
    "sender-id=1\nrole=left\ncipher=aes-ctr-128\nauth=sha1\nkd-prf=aes-ctr-128\ntag-len=10\n"
    "window=64\nremote=10.77.0.2:4444\nremote-learned=0\nseq-out=7\nrx-packets=5\nrx-bytes=500\n"
    "tx-packets=5\ntx-bytes=500\nlast-rx=1700000001\ncounter.rx_replay=0\n\n",
]


def ctl_seeds():
    for r in CTL_REQUESTS:
        put("fuzz_ctl", b"\0" + r.encode())
    for r in CTL_REPLIES:
        put("fuzz_ctl", b"\1" + r.encode())


def hs_seeds():
    # zero masks over the valid messages (accepted), one flipped bit of each, raw junk
    # of each message length, and the cookie paths (with cookies, under load)
    for mode, n in ((1, 152), (2, 96), (3, 56)):
        put("fuzz_hs", bytes([mode]) + bytes(n))
        put("fuzz_hs", bytes([mode]) + bytes(n // 2) + b"\x01")
        put("fuzz_hs", bytes([0, 0]) + bytes([1 + (mode == 1)]) + bytes(n - 1))
    for flags in (4, 5, 7):
        put("fuzz_hs", bytes([0, flags]) + bytes(152))


def main():
    if not os.path.isdir(VECTORS):
        sys.exit("no vectors at %s (set SATP_VECTORS)" % VECTORS)
    harnesses = ("fuzz_packet", "fuzz_options", "fuzz_decode", "fuzz_ctl", "fuzz_hs")
    for h in harnesses:
        clear(h)
    packet_seeds()
    option_seeds()
    decode_seeds()
    ctl_seeds()
    hs_seeds()
    for h in harnesses:
        print(h, len(os.listdir(os.path.join(HERE, "corpus", h))))


if __name__ == "__main__":
    main()
