#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""A stand-in for anytun-controld that can also send updates.

    fake_controld.py FRAMES PORT

Listens on 127.0.0.1:PORT. To every client it sends the frames in FRAMES (one
anytun-config output line each, sent without its newline, as anytun-controld
does), then keeps following FRAMES and sends every line appended to it while
the client stays connected: an update to a record the client already has.
anytun-controld itself sends its file once per connection. Prints
"listening", "connected", and "sent N" after each batch, for the test's waits.
"""
import socket
import sys
import threading
import time


def frames_from(path, skip):
    """Complete lines of FRAMES past the first SKIP, without their newlines."""
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    return [l for l in lines[:-1] if l.strip()][skip:]


def serve(c, path):
    sent = 0
    try:
        while True:
            new = frames_from(path, sent)
            for f in new:
                c.sendall(f)
            if new:
                sent += len(new)
                print("sent", sent, flush=True)
            time.sleep(0.05)
    except OSError:
        print("closed", flush=True)


def main():
    path, port = sys.argv[1], int(sys.argv[2])
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(4)
    print("listening", flush=True)
    while True:
        c, _ = s.accept()
        print("connected", flush=True)
        threading.Thread(target=serve, args=(c, path), daemon=True).start()


if __name__ == "__main__":
    main()
