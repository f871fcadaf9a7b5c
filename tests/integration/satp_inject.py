#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Hostile traffic for test_adversarial.sh, one case per call.

    satp_inject.py CASE --to ADDR [--to6 ADDR6] [--port P] [--pcap CAPTURE]
                   [--ifname IF --dst-mac MAC] [--count N]

Datagram cases go through a plain UDP socket (the kernel's own stack, from
this namespace's address); frame cases (frag, v6ext, vlan, nonudp, flood)
are built here and sent raw on --ifname to --dst-mac. CAPTURE holds
legitimate datagrams of the tunnel, read from the peer's side. Prints the
number of datagrams sent (for fragments: reassembled) on the last line.
"""
import argparse
import os
import random
import socket
import struct
import sys
import time

TAG_LEN = 10
HDR_LEN = 8
BUF_SIZE = 2048  # satpd's SATPD_BUF_SIZE: longer is rx_truncated


def captured(path, port):
    """SATP datagrams (UDP payloads to PORT) of a pcap, oldest first; no scapy."""
    out = []
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return out
    magic = struct.unpack("<I", data[:4])[0]
    e = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    dlt = struct.unpack(e + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(e + "IIII", data[off:off + 16])
        if off + 16 + incl > len(data):
            break  # a capture still being written: its last record is not whole yet
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        l3 = {1: 14, 113: 16, 276: 20}.get(dlt, 0)
        if len(pkt) < l3 + 28 or pkt[l3] >> 4 != 4:
            continue
        ihl = (pkt[l3] & 15) * 4
        if pkt[l3 + 9] != 17:
            continue
        udp = l3 + ihl
        dport, ulen = struct.unpack(">H2xH", pkt[udp + 2:udp + 8])
        if dport == port:
            out.append(pkt[udp + 8:udp + ulen])
    return out


def hdr(d):
    return struct.unpack(">IHH", d[:HDR_LEN])


def with_hdr(d, seq=None, sid=None, mux=None):
    s, i, m = hdr(d)
    return struct.pack(">IHH", s if seq is None else seq & 0xFFFFFFFF,
                       i if sid is None else sid, m if mux is None else mux) + d[HDR_LEN:]


class Udp:
    def __init__(self, to, port):
        fam = socket.AF_INET6 if ":" in to else socket.AF_INET
        self.s = socket.socket(fam, socket.SOCK_DGRAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
        self.dst = (to, port)
        self.n = 0

    def send(self, d):
        self.s.sendto(d, self.dst)
        self.n += 1
        if self.n % 64 == 0:
            time.sleep(0.002)  # the receiver's socket buffer, not a rate limit


def datagram_cases(a, caps):
    last = caps[-1]
    u = Udp(a.to, a.port)
    c = a.case
    if c == "truncate":  # every length below the whole datagram
        for n in range(len(last)):
            u.send(last[:n])
    elif c == "header-only":
        for seq in range(10):
            u.send(with_hdr(last, seq=seq)[:HDR_LEN])
    elif c == "wrong-mux":
        for mux in (1, 2, 7, 0x100, 0x8000, 0xFFFF):
            u.send(with_hdr(last, mux=mux))
    elif c == "sender-ids":
        sid = hdr(last)[1]
        for i in [x for x in range(64) if x != sid] + [0xFFFF]:
            u.send(with_hdr(last, sid=i))
    elif c == "bad-tag":
        for _ in range(50):
            u.send(last[:-TAG_LEN] + os.urandom(TAG_LEN))
        u.send(last[:-TAG_LEN] + bytes(TAG_LEN))
        # all random but the connection's mux and another sender id: a bad tag, never a
        # wrong mux or a replay by chance
        _, sid, mux = hdr(last)
        u.send(with_hdr(os.urandom(len(last)), sid=sid ^ 0x8000, mux=mux))
    elif c == "flip":  # every single bit of header, payload type, ciphertext and tag
        for bit in range(len(last) * 8):
            b = bytearray(last)
            b[bit // 8] ^= 1 << (bit % 8)
            u.send(bytes(b))
    elif c == "replay-recent":
        for d in caps[-a.count:]:
            u.send(d)
    elif c == "replay-old":
        for d in caps[:a.count]:
            u.send(d)
    elif c == "seq-jump":
        seq = hdr(last)[0]
        for j in (1 << 31, 1 << 20, 100000, 4097, 0xFFFFFFFF - seq):
            u.send(with_hdr(last, seq=seq + j))
    elif c == "seq-wrap":
        for s in (0xFFFFFFFD, 0xFFFFFFFE, 0xFFFFFFFF, 0, 1, 2):
            u.send(with_hdr(last, seq=s))
    elif c == "oversize":
        for n in (BUF_SIZE + 1, 4000, 9000, 65507):
            u.send(with_hdr(last) + os.urandom(n - len(last)))
    else:
        return None
    return u.n


def frame_cases(a, caps):
    from scapy.all import (Dot1Q, Ether, ICMP, IP, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                           IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, Raw, TCP, UDP, conf, fragment,
                           sendp)
    conf.verb = 0
    last = caps[-1] if caps else os.urandom(80)
    forged = last[:-TAG_LEN] + os.urandom(TAG_LEN)
    eth = Ether(dst=a.dst_mac)
    frames = []
    datagrams = None  # what reaches a UDP socket when it differs from the frames sent
    c = a.case
    if c == "frag":  # forged and replayed datagrams in 8-byte IPv4 fragments, plus orphans
        for d in (forged, last):
            frames += [eth / f for f in fragment(IP(dst=a.to, id=random.randrange(65536)) /
                                                 UDP(sport=4444, dport=a.port) / Raw(d),
                                                 fragsize=16)]
        orphan = fragment(IP(dst=a.to, id=random.randrange(65536)) /
                          UDP(sport=4444, dport=a.port) / Raw(forged), fragsize=16)
        frames += [eth / orphan[0], eth / orphan[-1]]  # never completes: the kernel times out
        datagrams = 2
    elif c == "v6ext":
        if not a.to6:
            return None
        udp = UDP(sport=4444, dport=a.port) / Raw(forged)
        for ext in (IPv6ExtHdrHopByHop(), IPv6ExtHdrDestOpt(),
                    IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / IPv6ExtHdrRouting(segleft=0),
                    IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt()):
            frames.append(eth / IPv6(dst=a.to6) / ext / udp)
        frames += [eth / f for f in fragment6_frames(IPv6(dst=a.to6) / IPv6ExtHdrFragment() / udp)]
        datagrams = 5  # four with extension headers, one reassembled from fragments
    elif c == "vlan":
        p = IP(dst=a.to) / UDP(sport=4444, dport=a.port) / Raw(forged)
        frames = [eth / Dot1Q(vlan=5) / p, eth / Dot1Q(vlan=0) / p,
                  Ether(dst=a.dst_mac, type=0x88A8) / Dot1Q(vlan=6) / Dot1Q(vlan=7) / p]
    elif c == "nonudp":
        frames = [eth / IP(dst=a.to) / TCP(sport=40000 + i, dport=a.port, flags="S")
                  for i in range(5)]
        frames += [eth / IP(dst=a.to, proto=p) / Raw(struct.pack(">HH", 4444, a.port) + forged)
                   for p in (132, 136, 47, 50, 254)]
        frames += [eth / IP(dst=a.to) / ICMP(type=3, code=3) / IP(dst="10.77.0.9") /
                   UDP(sport=a.port, dport=4444)]
    else:
        return None
    sendp(frames, iface=a.ifname)
    return len(frames) if datagrams is None else datagrams


def fragment6_frames(pkt):
    from scapy.all import fragment6
    return fragment6(pkt, 64)


def flood(a, caps):
    """Forged SATP from spoofed sources in the underlay subnet, raw frames, as fast as we can."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.ifname, 0))
    src_mac = s.getsockname()[4]
    dst_mac = bytes.fromhex(a.dst_mac.replace(":", ""))
    dst = socket.inet_aton(a.to)
    base = caps[-1] if caps else os.urandom(80)
    frames = []
    for i in range(1024):
        src = socket.inet_aton("10.77.0.%d" % random.randrange(10, 250))
        d = with_hdr(base, seq=random.getrandbits(32), sid=random.getrandbits(16))
        d = d[:-TAG_LEN] + os.urandom(TAG_LEN)
        udp = struct.pack(">HHHH", random.randrange(1024, 65536), a.port, 8 + len(d), 0) + d
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0, src, dst)
        csum = sum(struct.unpack(">10H", ip))
        csum = (csum & 0xFFFF) + (csum >> 16)
        csum = (csum & 0xFFFF) + (csum >> 16)
        ip = ip[:10] + struct.pack(">H", ~csum & 0xFFFF) + ip[12:]
        frames.append(dst_mac + src_mac + b"\x08\x00" + ip + udp)
    n = 0
    while n < a.count:
        try:
            s.send(frames[n % len(frames)])
        except BlockingIOError:
            time.sleep(0.001)
            continue
        n += 1
    return n


def main():
    p = argparse.ArgumentParser()
    p.add_argument("case")
    p.add_argument("--to", required=True)
    p.add_argument("--to6")
    p.add_argument("--port", type=int, default=4444)
    p.add_argument("--pcap")
    p.add_argument("--ifname")
    p.add_argument("--dst-mac")
    p.add_argument("--count", type=int, default=5)
    a = p.parse_args()
    caps = captured(a.pcap, a.port) if a.pcap else []
    if a.case == "flood":
        n = flood(a, caps)
    else:
        if not caps and a.case not in ("nonudp",):
            sys.exit("no captured datagrams in %s" % a.pcap)
        n = datagram_cases(a, caps)
        if n is None:
            n = frame_cases(a, caps)
    if n is None:
        sys.exit("unknown case %s" % a.case)
    print(n)


if __name__ == "__main__":
    main()
