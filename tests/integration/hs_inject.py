#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Handshake-space traffic for test_handshake.sh, one case per call.

    hs_inject.py replay --pcap CAPTURE --port P --to ADDR [--kind init|data] [--index N]
    hs_inject.py flood --to ADDR --port P --pub PUBFILE --seconds S [--pps N]
    hs_inject.py junk --to ADDR --port P --src ADDR --seconds S [--pps N] [--sport P]

replay: resend one datagram of CAPTURE (UDP payloads to port P) through a
plain UDP socket: the first handshake initiation (--kind init: type 1, mux
0xFFFF) or the N-th SATP data datagram (--kind data: any other mux).

flood: initiations with a correct mac1 for the responder's public key (what
anyone knowing the key can make) and random contents, from random spoofed
source addresses in 198.18.0.0/15 (RFC 2544 benchmarking space), through a
raw socket, at about N per second. Prints the number sent on the last line.

junk: 56-byte datagrams to mux 0xFFFF (type 1, random contents: no valid
mac1) from one spoofed source address and port, a real peer's, through a raw
socket at about N per second: what drains a budget keyed by that address.
"""
import argparse
import base64
import hashlib
import os
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from satp_inject import captured  # noqa: E402  (the pcap reader, no scapy)

HS_MUX = 0xFFFF
INIT_LEN = 152
MAC1_OFF = 120
LABEL_MAC1 = b"satpd v1 mac1"


def is_handshake(d):
    return len(d) >= 8 and struct.unpack(">H", d[6:8])[0] == HS_MUX


def replay(a):
    caps = captured(a.pcap, a.port)
    if a.kind == "init":
        pick = [d for d in caps if is_handshake(d) and d[0] == 1 and len(d) == INIT_LEN]
    else:
        pick = [d for d in caps if not is_handshake(d)]
    if len(pick) <= a.index:
        sys.exit("no %s datagram #%d in %s (%d datagrams)" % (a.kind, a.index, a.pcap,
                                                              len(caps)))
    fam = socket.AF_INET6 if ":" in a.to else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.sendto(pick[a.index], (a.to, a.port))
    print(1)


def mac1_key(pub):
    return hashlib.blake2s(LABEL_MAC1 + pub).digest()


def initiation(key):
    body = bytes([1, 1, 0, 0, 0, 0, 0xFF, 0xFF]) + os.urandom(MAC1_OFF - 8)
    mac1 = hashlib.blake2s(body, key=key, digest_size=16).digest()
    return body + mac1 + bytes(16)


def flood(a):
    pub = base64.b64decode(open(a.pub).read().strip())
    key = mac1_key(pub)
    dst = socket.inet_aton(a.to)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
    # A pool of messages: making each costs more than sending it.
    pool = [initiation(key) for _ in range(256)]
    n = 0
    t_end = time.monotonic() + a.seconds
    gap = 1.0 / a.pps if a.pps else 0
    nxt = time.monotonic()
    while time.monotonic() < t_end:
        payload = pool[n % len(pool)]
        src = bytes([198, 18 + (n >> 16 & 1), n >> 8 & 0xFF, n & 0xFF])
        send_raw(s, src, 1024 + n % 60000, dst, a.port, payload)
        n += 1
        nxt = pace(gap, nxt)
    print(n)


def pace(gap, nxt):
    """Hold a flood to its rate: the next send is due gap seconds after the last one."""
    if not gap:
        return nxt
    nxt += gap
    d = nxt - time.monotonic()
    if d > 0:
        time.sleep(d)
    return nxt


def send_raw(s, src, sport, dst, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    # The kernel fills in the IP checksum and length (IP_HDRINCL); UDP's checksum 0 = none.
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, src, dst)
    try:
        s.sendto(ip + udp, (socket.inet_ntoa(dst), 0))
    except OSError:
        time.sleep(0.001)  # the send queue is full: not a reason to stop


def junk(a):
    src, dst = socket.inet_aton(a.src), socket.inet_aton(a.to)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    n = 0
    t_end = time.monotonic() + a.seconds
    gap = 1.0 / a.pps if a.pps else 0
    nxt = time.monotonic()
    stop = []
    # SIGTERM ends the flood early (the test saw what it waited for), still printing the count.
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    print("flooding", flush=True)  # the test waits for this, not for a fixed time
    while time.monotonic() < t_end and not stop:
        payload = bytes([1, 1, 0, 0, 0, 0, 0xFF, 0xFF]) + os.urandom(48)
        send_raw(s, src, a.sport, dst, a.port, payload)
        n += 1
        nxt = pace(gap, nxt)
    print(n, flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("case", choices=["replay", "flood", "junk"])
    p.add_argument("--src")
    p.add_argument("--sport", type=int, default=4444)
    p.add_argument("--to", required=True)
    p.add_argument("--port", type=int, default=4444)
    p.add_argument("--pcap")
    p.add_argument("--kind", choices=["init", "data"], default="init")
    p.add_argument("--index", type=int, default=0)
    p.add_argument("--pub")
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--pps", type=int, default=0)
    a = p.parse_args()
    if a.case == "replay":
        replay(a)
    elif a.case == "junk":
        junk(a)
    else:
        flood(a)


if __name__ == "__main__":
    main()
