#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""replay.py PCAP IFACE: send the first IPv4 packet of PCAP out of IFACE to the
edge there (the router's peer on that /24, .2). Run in the router's namespace.

The SATP datagram is sent byte for byte; only the UDP checksum is computed
afresh: a capture on veth holds the checksum the sender left to offload
(partial), which the receiving kernel's UDP socket would drop, while an
attacker replays a valid one."""
import sys

from scapy.all import IP, UDP, Ether, conf, getmacbyip, rdpcap, sendp  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    conf.verb = 0
    pkts = [p for p in rdpcap(sys.argv[1]) if IP in p]
    if not pkts:
        sys.exit("no IPv4 packet in " + sys.argv[1])
    ip = pkts[0][IP]
    if UDP in ip:
        del ip[UDP].chksum
    iface = sys.argv[2]
    # The edge on IFACE: the peer address of the router's /24 there (.2).
    local = conf.ifaces.dev_from_name(iface).ip
    peer = local.rsplit(".", 1)[0] + ".2"
    mac = getmacbyip(peer)
    if not mac:
        sys.exit("no MAC for " + peer)
    sendp(Ether(dst=mac) / ip, iface=iface)


if __name__ == "__main__":
    main()
