#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""An EXAMPLE external key exchange for satpd (docs/kx.md), standard library only.

It shows the two interfaces an external key-exchange daemon uses:
  - the kx socket (include/satp_kx.h): its messages travel through satpd's
    UDP port, as datagrams with the handshake header (mux 0xFFFF) and a type
    0x80..0xff;
  - the control socket (user/lib/ctl_proto.h): op=set-session installs the
    agreed transmit and receive keys, op=del-session removes them.

The key agreement is a toy: both ends hold a pre-shared secret (PSK); the
initiator sends a session number and a random nonce, the responder answers
with its own nonce, each message authenticated with HMAC-SHA256 under the
PSK, and both derive the session's keys from the PSK and both nonces (an
HKDF-like expansion with HMAC-SHA256). It has no forward secrecy and no
identity hiding: it exists to exercise the interface, not to protect
anything. Use a real protocol (e.g. satpd's own Noise handshake,
docs/handshake.md) for real traffic.

  kx-example.py respond  --kx-socket P --ctl-socket P --mux M --psk-file F [--grace S]
  kx-example.py initiate --kx-socket P --ctl-socket P --mux M --psk-file F
                         --peer HOST:PORT --session N [--grace S] [--timeout S]

`respond` runs until killed and answers every initiation with a session
number above the last it accepted; `initiate` does one exchange and exits
0 once its keys are installed.
"""
import argparse
import hashlib
import hmac
import ipaddress
import os
import select
import socket
import struct
import sys
import time

# include/satp_hs_wire.h and include/satp_kx.h
HS_MUX = 0xFFFF
HS_HDR = struct.Struct("!BB4sH")  # type, version, reserved, mux
KX_REC = struct.Struct("!BBH16sI")  # kind, version, port, addr, value
KX_VERSION = 1
KX_HELLO, KX_RX, KX_TX, KX_ERROR = 1, 2, 3, 4

# This example's own messages: types in the external range 0x80..0xff.
T_INIT, T_RESP = 0x80, 0x81
EX_VERSION = 1
NONCE_LEN = 16
MAC_LEN = 32
BODY = struct.Struct("!Q16s")  # session number, nonce
MSG_LEN = HS_HDR.size + BODY.size + MAC_LEN
SALT_LEN = 14  # SATP master salt


def die(msg):
    print(f"kx-example: {msg}", file=sys.stderr)
    sys.exit(1)


def hdr(t):
    return HS_HDR.pack(t, EX_VERSION, bytes(4), HS_MUX)


def mac(psk, label, data):
    return hmac.new(psk, label + data, hashlib.sha256).digest()


def expand(prk, label, n):
    """HKDF-Expand (RFC 5869) with HMAC-SHA256."""
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = hmac.new(prk, t + label + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:n]


def derive(psk, session, n_i, n_r, key_len):
    """Keys per direction: initiator-to-responder and responder-to-initiator."""
    prk = hmac.new(psk, b"kx-example v1" + struct.pack("!Q", session) + n_i + n_r,
                   hashlib.sha256).digest()
    i2r = expand(prk, b"i2r", key_len + SALT_LEN)
    r2i = expand(prk, b"r2i", key_len + SALT_LEN)
    return (i2r[:key_len], i2r[key_len:]), (r2i[:key_len], r2i[key_len:])


def message(psk, t, session, nonce, bound=b""):
    body = hdr(t) + BODY.pack(session, nonce)
    return body + mac(psk, b"msg" + bound, body)


def parse(psk, data, t, bound=b""):
    """(session, nonce) of a valid message of type t, else None."""
    if len(data) != MSG_LEN:
        return None
    typ, ver, _, mux = HS_HDR.unpack_from(data)
    if typ != t or ver != EX_VERSION or mux != HS_MUX:
        return None
    body, tag = data[:-MAC_LEN], data[-MAC_LEN:]
    if not hmac.compare_digest(tag, mac(psk, b"msg" + bound, body)):
        return None
    return BODY.unpack_from(data, HS_HDR.size)


def addr16(host):
    ip = ipaddress.ip_address(host)
    if ip.version == 4:
        return ipaddress.IPv6Address("::ffff:" + host).packed
    return ip.packed


def host_of(a16):
    ip = ipaddress.IPv6Address(a16)
    return str(ip.ipv4_mapped) if ip.ipv4_mapped else str(ip)


class Kx:
    """The kx socket: one SOCK_SEQPACKET connection, one record per message."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.s.connect(path)
        except OSError as e:
            die(f"cannot connect to the kx socket {path}: {e}")
        kind, _, _, _, value, _ = self.recv(5.0) or die("no hello from satpd")
        if kind == KX_ERROR:
            die("satpd refused the subscription")
        if kind != KX_HELLO or value != KX_VERSION:
            die(f"unexpected first record kind {kind} version {value}")

    def recv(self, timeout):
        r, _, _ = select.select([self.s], [], [], timeout)
        if not r:
            return None
        rec = self.s.recv(KX_REC.size + 2048)
        if len(rec) < KX_REC.size:
            die("satpd closed the kx socket")
        kind, _, port, a16, value = KX_REC.unpack_from(rec)
        payload = rec[KX_REC.size:]
        if kind == KX_ERROR:
            print(f"kx-example: satpd refused a datagram: errno {value}: "
                  f"{payload.decode(errors='replace')}", file=sys.stderr)
        if kind == KX_RX and value:
            print(f"kx-example: satpd dropped {value} datagrams for us (too slow)",
                  file=sys.stderr)
        return kind, host_of(a16), port, a16, value, payload

    def send(self, host, port, datagram):
        self.s.send(KX_REC.pack(KX_TX, KX_VERSION, port, addr16(host), 0) + datagram)


def ctl_call(path, lines):
    """One control request; raises with satpd's error text when refused."""
    req = "".join(f"{k}={v}\n" for k, v in lines) + "\n"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(path)
        s.sendall(req.encode())
        reply = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            reply += b
    fields = dict(line.split("=", 1) for line in reply.decode().splitlines() if "=" in line)
    if fields.get("errno") != "0":
        raise RuntimeError(fields.get("error", "no answer"))
    return fields


def key_len(ctl, mux):
    """The connection's kd-prf length, from its snapshot: the session keys must match."""
    fields, cur = {}, None
    req = "op=show\n\n"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(ctl)
        s.sendall(req.encode())
        reply = b""
        while True:
            b = s.recv(1 << 16)
            if not b:
                break
            reply += b
    for line in reply.decode().splitlines():
        if line.startswith("conn="):
            cur = int(line[5:])
        elif cur == mux and line.startswith("kd-prf="):
            fields["kd"] = line[7:]
    kd = fields.get("kd") or die(f"satpd has no connection with mux {mux}")
    bits = {"aes-ctr-128": 128, "aes-ctr-192": 192, "aes-ctr-256": 256}.get(kd)
    return bits // 8 if bits else die(f"mux {mux}: kd-prf {kd} has no master key")


def install(args, session, tx, rx):
    ctl_call(args.ctl_socket, [
        ("op", "set-session"), ("mux", args.mux),
        ("tx-key", tx[0].hex()), ("tx-salt", tx[1].hex()),
        ("rx-key", rx[0].hex()), ("rx-salt", rx[1].hex()),
        ("session", session), ("grace", args.grace)])
    print(f"kx-example: session {session} installed on mux {args.mux}", flush=True)


def respond(args, psk):
    kx = Kx(args.kx_socket)
    klen = key_len(args.ctl_socket, args.mux)
    last = 0
    print("kx-example: responding", flush=True)
    while True:
        r = kx.recv(60.0)
        if not r or r[0] != KX_RX:
            continue
        _, host, port, _, _, data = r
        m = parse(psk, data, T_INIT)
        if not m:
            print(f"kx-example: ignored a datagram from {host}:{port}", file=sys.stderr)
            continue
        session, n_i = m
        if session <= last:
            print(f"kx-example: session {session} from {host}:{port} is not above "
                  f"{last}: replay ignored", file=sys.stderr)
            continue
        n_r = os.urandom(NONCE_LEN)
        i2r, r2i = derive(psk, session, n_i, n_r, klen)
        # receive keys first: the initiator sends under them once it has our answer
        try:
            install(args, session, r2i, i2r)
        except RuntimeError as e:
            print(f"kx-example: satpd refused session {session}: {e}", file=sys.stderr)
            continue
        last = session
        kx.send(host, port, message(psk, T_RESP, session, n_r, n_i))


def initiate(args, psk):
    host, _, port = args.peer.rpartition(":")
    host = host.strip("[]")
    kx = Kx(args.kx_socket)
    klen = key_len(args.ctl_socket, args.mux)
    n_i = os.urandom(NONCE_LEN)
    init = message(psk, T_INIT, args.session, n_i)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        kx.send(host, int(port), init)
        resend = time.monotonic() + 1.0
        while time.monotonic() < min(resend, deadline):
            r = kx.recv(max(0.0, min(resend, deadline) - time.monotonic()))
            if not r or r[0] != KX_RX:
                continue
            m = parse(psk, r[5], T_RESP, n_i)
            if not m or m[0] != args.session:
                continue
            i2r, r2i = derive(psk, args.session, n_i, m[1], klen)
            try:
                install(args, args.session, i2r, r2i)
            except RuntimeError as e:
                die(f"satpd refused session {args.session}: {e}")
            return 0
    die(f"no answer from {args.peer} within {args.timeout} s")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=("respond", "initiate"))
    p.add_argument("--kx-socket", required=True)
    p.add_argument("--ctl-socket", required=True)
    p.add_argument("--mux", type=int, required=True)
    p.add_argument("--psk-file", required=True,
                   help="the pre-shared secret (a file: never on a command line)")
    p.add_argument("--peer", help="initiate: the other satpd's HOST:PORT")
    p.add_argument("--session", type=int, default=1, help="initiate: the session number")
    p.add_argument("--grace", type=int, default=10,
                   help="seconds the previous keys stay valid for receiving")
    p.add_argument("--timeout", type=float, default=10.0)
    args = p.parse_args()
    try:
        with open(args.psk_file, "rb") as f:
            psk = f.read().strip()
    except OSError as e:
        die(f"cannot read the PSK: {e}")
    if len(psk) < 16:
        die(f"the PSK in {args.psk_file} is {len(psk)} bytes: at least 16")
    if args.mode == "initiate":
        if not args.peer:
            die("initiate needs --peer HOST:PORT")
        return initiate(args, psk)
    return respond(args, psk)


if __name__ == "__main__":
    sys.exit(main())
