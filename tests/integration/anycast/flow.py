#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A paced TCP flow for the anycast failover test.

flow.py sink PORT TIMEOUT     accept one connection, print "got N bytes sha256 H"
flow.py send ADDR PORT SECS   send 32 KiB every 20 ms for SECS seconds, then close
                              and print "sent N bytes sha256 H"

The pace keeps the connection busy across the edge switch without filling
the tunnel: what is measured is whether the one connection survives.
"""
import hashlib
import os
import socket
import sys
import time

CHUNK = 32 << 10
PERIOD = 0.02


def sink(port, timeout):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(1)
    print("listening", flush=True)  # the test waits for this before it connects
    srv.settimeout(timeout)
    conn, _ = srv.accept()
    conn.settimeout(timeout)
    h, n = hashlib.sha256(), 0
    while True:
        b = conn.recv(1 << 16)
        if not b:
            break
        h.update(b)
        n += len(b)
    conn.sendall(b"k")
    conn.close()
    print(f"got {n} bytes sha256 {h.hexdigest()}", flush=True)


def send(addr, port, secs):
    s = socket.create_connection((addr, port), timeout=30)
    s.settimeout(30)
    h, n = hashlib.sha256(), 0
    end = time.monotonic() + secs
    while time.monotonic() < end:
        b = os.urandom(CHUNK)
        s.sendall(b)
        h.update(b)
        n += len(b)
        time.sleep(PERIOD)
    s.shutdown(socket.SHUT_WR)
    if s.recv(1) != b"k":
        sys.exit("the sink did not confirm")
    s.close()
    print(f"sent {n} bytes sha256 {h.hexdigest()}", flush=True)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "sink":
        sink(int(sys.argv[2]), float(sys.argv[3]))
    elif len(sys.argv) == 5 and sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
