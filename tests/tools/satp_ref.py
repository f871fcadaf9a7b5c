# SPDX-License-Identifier: GPL-2.0-only
"""SATP written out again in Python, for the tests that build captures of their own.

A second implementation beside libsatp, from the protocol (the AES-CTR PRF over
the master key and salt per packet, AES-CTR payload, HMAC-SHA1 tag): test_decode
checks it against the captures of real peers (tests/vectors/) byte for byte
before it trusts the datagrams it seals. Also a pcap reader without scapy.

    k = Keys(key=bytes.fromhex(...), salt=bytes.fromhex(...))
    dgram = k.seal("left", seq, sender_id, mux, ptype, inner)
    seq, sid, mux, ptype, inner = k.open("left", dgram)   # the sender's role; None if the tag fails
"""
import hashlib
import hmac
import socket
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# Key derivation labels (enc, salt, auth) by the sending role.
LABELS = {"left": (0x356A192B, 0x77DE68DA, 0xAC3478D6),
          "right": (0xDA4B9237, 0x1B645389, 0xC1DFD96E)}
SALT_LEN = 14
AUTH_KEY_LEN = 20
HDR_LEN = 8
BLOCK = 16


def _xor(buf, off, value, size):
    buf[off:off + size] = (int.from_bytes(buf[off:off + size], "big") ^ value).to_bytes(size, "big")


class Keys:
    """One tunnel's algorithms and master secret. kd_bits 0: every derived byte is zero."""

    def __init__(self, key=b"", salt=bytes(SALT_LEN), cipher_bits=128, kd_bits=128,
                 auth="sha1", tag_len=10):
        self.key, self.salt = key, salt
        self.cipher_bits, self.kd_bits = cipher_bits, kd_bits
        self.tag_len = tag_len if auth == "sha1" else 0
        if not cipher_bits and auth != "sha1":
            self.kd_bits = 0  # as the daemons do: nothing needs a key
        assert len(key) == self.kd_bits // 8 and len(salt) == SALT_LEN

    @classmethod
    def from_passphrase(cls, passphrase, kd_bits=128, **kw):
        """anytun's -E: the key is the end of SHA-256 of the text, the salt the end of SHA-1."""
        p = passphrase.encode()
        return cls(hashlib.sha256(p).digest()[-kd_bits // 8:], hashlib.sha1(p).digest()[-SALT_LEN:],
                   kd_bits=kd_bits, **kw)

    def _prf(self, label, seq, n):
        """n bytes of the PRF: AES(master key, salt||0000 ^ label@6 ^ seq@10, + block index)."""
        if not self.kd_bits:
            return bytes(n)
        ecb = Cipher(algorithms.AES(self.key), modes.ECB()).encryptor()
        out = b""
        for i in range((n + BLOCK - 1) // BLOCK):
            x = bytearray(self.salt + b"\0\0")
            _xor(x, 6, label, 4)
            _xor(x, 10, seq, 4)
            out += ecb.update(((int.from_bytes(x, "big") + i) % (1 << 128)).to_bytes(BLOCK, "big"))
        return out[:n]

    def _crypt(self, role, seq, sid, mux, data):
        if not self.cipher_bits:
            return data
        enc, salt, _ = LABELS[role]
        iv = bytearray(self._prf(salt, seq, SALT_LEN) + b"\0\0")
        _xor(iv, 4, mux, 2)
        _xor(iv, 6, sid, 2)
        _xor(iv, 10, seq, 4)
        key = self._prf(enc, seq, self.cipher_bits // 8)
        return Cipher(algorithms.AES(key), modes.CTR(bytes(iv))).encryptor().update(data)

    def _tag(self, role, seq, authed):
        if not self.tag_len:
            return b""
        key = self._prf(LABELS[role][2], seq, AUTH_KEY_LEN)
        return hmac.new(key, authed, hashlib.sha1).digest()[AUTH_KEY_LEN - self.tag_len:]

    def seal(self, role, seq, sid, mux, ptype, inner):
        hdr = struct.pack(">IHH", seq, sid, mux)
        body = hdr + self._crypt(role, seq, sid, mux, struct.pack(">H", ptype) + inner)
        return body + self._tag(role, seq, body)

    def open(self, role, dgram):
        """(seq, sid, mux, ptype, inner) of a datagram sealed by role, or None."""
        if len(dgram) < HDR_LEN + 2 + self.tag_len:
            return None
        seq, sid, mux = struct.unpack(">IHH", dgram[:HDR_LEN])
        body, tag = dgram[:len(dgram) - self.tag_len], dgram[len(dgram) - self.tag_len:]
        if not hmac.compare_digest(self._tag(role, seq, body), tag):
            return None
        plain = self._crypt(role, seq, sid, mux, body[HDR_LEN:])
        return seq, sid, mux, struct.unpack(">H", plain[:2])[0], plain[2:]


def pcap_records(path):
    """(linktype, frame) of every record of a classic pcap."""
    with open(path, "rb") as f:
        data = f.read()
    e = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    lt = struct.unpack(e + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        yield lt, data[off + 16:off + 16 + incl]
        off += 16 + incl


def udp_datagrams(path):
    """(src, sport, dst, dport, payload) of every UDP datagram (Ethernet, SLL, raw IP)."""
    out = []
    for lt, fr in pcap_records(path):
        off = {1: 14, 113: 16, 276: 20}.get(lt, 0)
        l3 = fr[off:]
        if l3 and l3[0] >> 4 == 4 and l3[9] == 17:
            fam, s, d, l4 = socket.AF_INET, l3[12:16], l3[16:20], l3[(l3[0] & 15) * 4:]
        elif l3 and l3[0] >> 4 == 6 and l3[6] == 17:
            fam, s, d, l4 = socket.AF_INET6, l3[8:24], l3[24:40], l3[40:]
        else:
            continue
        sp, dp, ln = struct.unpack(">HHH", l4[:6])
        out.append((socket.inet_ntop(fam, s), sp, socket.inet_ntop(fam, d), dp, l4[8:ln]))
    return out
