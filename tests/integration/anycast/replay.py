#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""replay.py PCAP IFACE: send the first IPv4 packet of PCAP out of IFACE,
unchanged from the IP header on, to the neighbour that owns its destination
route (the other edge). Run in the router's namespace."""
import sys

from scapy.all import IP, Ether, conf, getmacbyip, rdpcap, sendp  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    conf.verb = 0
    pkts = [p for p in rdpcap(sys.argv[1]) if IP in p]
    if not pkts:
        sys.exit("no IPv4 packet in " + sys.argv[1])
    ip = pkts[0][IP]
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
