#!/usr/bin/env python3
"""Write OpenPGP certificates of the versions mailseal does not accept, built by hand.

    old-keys.py OUTDIR

GnuPG 2.2, sq and pysequoia cannot make them, so the packets are put together here from
the specifications, with real keys and real self-signatures (python3-cryptography):

- pgp-v3.pgp: a PGP 2.x style version 3 key (RFC 4880 5.5.2): RSA-2048, old-format
  packet headers, a version 3 user ID certification made with MD5.
- pgp-v5.pgp: a LibrePGP version 5 key as GnuPG 2.4 makes it (draft-koch-librepgp,
  also draft-ietf-openpgp-rfc4880bis-10): Ed25519 primary key, Cv25519 encryption
  subkey, version 5 signatures with issuer fingerprint subpackets.

Binary output; gen-keys.sh armors and combines them. Prints the fingerprints, one line per
file ("NAME FPR"), as the spec defines them (MD5 for v3, SHA-256 for v5).
"""

import hashlib
import struct
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa, x25519

USER_ID = b"Alice Example <alice@example.org>"


def mpi(value: bytes) -> bytes:
    value = value.lstrip(b"\0")
    bits = (len(value) - 1) * 8 + value[0].bit_length() if value else 0
    return struct.pack(">H", bits) + value


def new_packet(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 192:
        length = bytes([n])
    elif n < 8384:
        n -= 192
        length = bytes([(n >> 8) + 192, n & 0xFF])
    else:
        length = b"\xff" + struct.pack(">I", n)
    return bytes([0xC0 | tag]) + length + body


def old_packet(tag: int, body: bytes) -> bytes:
    if len(body) < 256:
        return bytes([0x80 | (tag << 2), len(body)]) + body
    return bytes([0x80 | (tag << 2) | 1]) + struct.pack(">H", len(body)) + body


def v3_certificate(created: int):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
    e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
    body = bytes([3]) + struct.pack(">IH", created, 0) + bytes([1]) + mpi(n) + mpi(e)
    fingerprint = hashlib.md5(n + e).hexdigest().upper()
    keyid = n[-8:]
    # Version 3 signature over the key, the user ID and the five hashed octets.
    hashed = bytes([0x10]) + struct.pack(">I", created)
    data = b"\x99" + struct.pack(">H", len(body)) + body + USER_ID + hashed
    digest = hashlib.md5(data).digest()
    signature = key.sign(data, padding.PKCS1v15(), hashes.MD5())
    sig = (
        bytes([3, 5])
        + hashed
        + keyid
        + bytes([1, 1])
        + digest[:2]
        + mpi(signature)
    )
    packets = (
        old_packet(6, body)
        + old_packet(13, USER_ID)
        + old_packet(2, sig)
    )
    return packets, fingerprint


def subpacket(kind: int, data: bytes) -> bytes:
    return bytes([len(data) + 1, kind]) + data


def v5_key_body(created: int, algo: int, material: bytes) -> bytes:
    return bytes([5]) + struct.pack(">I", created) + bytes([algo]) + struct.pack(">I", len(material)) + material


def v5_key_hash(body: bytes) -> bytes:
    return b"\x9a" + struct.pack(">I", len(body)) + body


def v5_signature(signer, fingerprint: bytes, sigtype: int, subpackets: bytes, hashed_data: bytes) -> bytes:
    hashed_part = bytes([5, sigtype, 22, 8]) + struct.pack(">H", len(subpackets)) + subpackets
    trailer = b"\x05\xff" + struct.pack(">Q", len(hashed_part))
    digest = hashlib.sha256(hashed_data + hashed_part + trailer).digest()
    raw = signer.sign(digest)
    unhashed = subpacket(16, fingerprint[:8])
    return (
        hashed_part
        + struct.pack(">H", len(unhashed))
        + unhashed
        + digest[:2]
        + mpi(raw[:32])
        + mpi(raw[32:])
    )


def v5_certificate(created: int):
    ed_oid = bytes.fromhex("2b06010401da470f01")
    cv_oid = bytes.fromhex("2b060104019755010501")
    primary = ed25519.Ed25519PrivateKey.generate()
    primary_pub = primary.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    primary_body = v5_key_body(
        created, 22, bytes([len(ed_oid)]) + ed_oid + mpi(b"\x40" + primary_pub)
    )
    fpr = hashlib.sha256(v5_key_hash(primary_body)).digest()

    sub = x25519.X25519PrivateKey.generate()
    sub_pub = sub.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    sub_body = v5_key_body(
        created,
        18,
        bytes([len(cv_oid)]) + cv_oid + mpi(b"\x40" + sub_pub) + bytes([3, 1, 8, 7]),
    )

    common = subpacket(2, struct.pack(">I", created)) + subpacket(33, bytes([5]) + fpr)
    uid_subpackets = (
        common
        + subpacket(27, bytes([0x03]))  # certify, sign
        + subpacket(11, bytes([9, 7]))  # AES-256, AES-128
        + subpacket(21, bytes([10, 8]))  # SHA-512, SHA-256
        + subpacket(30, bytes([0x01]))  # MDC
    )
    uid_hashed = v5_key_hash(primary_body) + b"\xb4" + struct.pack(">I", len(USER_ID)) + USER_ID
    uid_sig = v5_signature(primary, fpr, 0x13, uid_subpackets, uid_hashed)

    sub_subpackets = common + subpacket(27, bytes([0x0C]))  # encrypt communications, storage
    sub_hashed = v5_key_hash(primary_body) + v5_key_hash(sub_body)
    sub_sig = v5_signature(primary, fpr, 0x18, sub_subpackets, sub_hashed)

    packets = (
        new_packet(6, primary_body)
        + new_packet(13, USER_ID)
        + new_packet(2, uid_sig)
        + new_packet(14, sub_body)
        + new_packet(2, sub_sig)
    )
    return packets, fpr.hex().upper()


def main() -> None:
    out = sys.argv[1]
    created = int(time.time()) - 86400
    for name, (packets, fingerprint) in (
        ("pgp-v3.pgp", v3_certificate(created)),
        ("pgp-v5.pgp", v5_certificate(created)),
    ):
        with open(f"{out}/{name}", "wb") as f:
            f.write(packets)
        print(name, fingerprint)


if __name__ == "__main__":
    main()
