#!/usr/bin/env python3
"""Independent CMS decryptor for mailseal's interoperability tests.

No program on the test machine opens ChaCha20-Poly1305 CMS (RFC 8103) or X25519 key
agreement (RFC 8418), and the tests must not rely only on mailseal's own Rust decryptor.
This script opens CMS EnvelopedData (RFC 5652) and AuthEnvelopedData (RFC 5083) using only
the Python standard library and the *primitives* of pyca/cryptography: the ASN.1 is parsed
by the small BER reader below, not by a CMS library.

Usage::

    python3 tests/support/pyca_cms.py --key KEY.pem [--cert CERT.pem] MESSAGE
    python3 tests/support/pyca_cms.py --key KEY.pem [--cert CERT.pem] --der FILE

MESSAGE is a whole RFC 5322 message as stored (headers, blank line, base64 body holding the
CMS ContentInfo); ``--der FILE`` reads the raw DER/BER ContentInfo instead. KEY.pem is an
unencrypted PKCS#8 private key. The decrypted content octets go to stdout, exactly, and the
exit status is 0. On any failure one line ``pyca_cms: <reason>`` goes to stderr and the exit
status is 1.

Supported:

- BER: single-byte tags, definite (short and long form) and indefinite lengths,
  constructed OCTET STRINGs, nesting up to MAX_DEPTH levels.
- Content types: envelopedData (1.2.840.113549.1.7.3) and authEnvelopedData
  (1.2.840.113549.1.9.16.1.23, AAD = DER of authAttrs re-tagged as SET OF, or empty).
- KeyTransRecipientInfo with RSA: rsaEncryption (PKCS#1 v1.5) and RSAES-OAEP (hash and
  MGF1 hash SHA-1/224/256/384/512; a pSpecified label is honoured).
- KeyAgreeRecipientInfo with an originatorKey: ECDH on the private key's curve
  (P-256/P-384/P-521, RFC 5753) or X25519/X448 (RFC 8418), ANSI X9.63 KDF with
  SHA-1/224/256/384/512 (dhSinglePass-stdDH-*kdf-scheme) over ECC-CMS-SharedInfo, and
  AES-128/192/256 key wrap (RFC 3394).
- Content encryption: AES-128/192/256-CBC (EnvelopedData), AES-128/192/256-GCM
  (RFC 5084, icvLen 12..16) and ChaCha20-Poly1305 (RFC 8103) (AuthEnvelopedData).

Every RecipientInfo is tried (those matching ``--cert`` first); the first content-encryption
key of the right length that decrypts the content wins.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import re
import sys
from dataclasses import dataclass
from typing import Callable, NoReturn, Optional

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, x448, x25519
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap

MAX_DEPTH = 64

# --- object identifiers -------------------------------------------------------------------

ID_DATA = "1.2.840.113549.1.7.1"
ID_ENVELOPED_DATA = "1.2.840.113549.1.7.3"
ID_AUTH_ENVELOPED_DATA = "1.2.840.113549.1.9.16.1.23"

RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
RSAES_OAEP = "1.2.840.113549.1.1.7"
ID_MGF1 = "1.2.840.113549.1.1.8"
ID_P_SPECIFIED = "1.2.840.113549.1.1.9"

ID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
ID_X25519 = "1.3.101.110"
ID_X448 = "1.3.101.111"

HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "1.3.14.3.2.26": hashes.SHA1,
    "2.16.840.1.101.3.4.2.4": hashes.SHA224,
    "2.16.840.1.101.3.4.2.1": hashes.SHA256,
    "2.16.840.1.101.3.4.2.2": hashes.SHA384,
    "2.16.840.1.101.3.4.2.3": hashes.SHA512,
}

# dhSinglePass-stdDH-*kdf-scheme (RFC 5753 section 7.1.4) -> the X9.63 KDF hash.
KDF_SCHEMES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "1.3.133.16.840.63.0.2": hashes.SHA1,
    "1.3.132.1.11.0": hashes.SHA224,
    "1.3.132.1.11.1": hashes.SHA256,
    "1.3.132.1.11.2": hashes.SHA384,
    "1.3.132.1.11.3": hashes.SHA512,
}

# AES key wrap (RFC 3394) -> KEK length in bytes.
KEY_WRAPS: dict[str, int] = {
    "2.16.840.1.101.3.4.1.5": 16,
    "2.16.840.1.101.3.4.1.25": 24,
    "2.16.840.1.101.3.4.1.45": 32,
}

AES_CBC: dict[str, int] = {
    "2.16.840.1.101.3.4.1.2": 16,
    "2.16.840.1.101.3.4.1.22": 24,
    "2.16.840.1.101.3.4.1.42": 32,
}
AES_GCM: dict[str, int] = {
    "2.16.840.1.101.3.4.1.6": 16,
    "2.16.840.1.101.3.4.1.26": 24,
    "2.16.840.1.101.3.4.1.46": 32,
}
CHACHA20_POLY1305 = "1.2.840.113549.1.9.16.3.18"

NAMED_CURVES: dict[str, str] = {
    "1.2.840.10045.3.1.7": "secp256r1",
    "1.3.132.0.34": "secp384r1",
    "1.3.132.0.35": "secp521r1",
}

# --- universal and context tags -----------------------------------------------------------

INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
OCTET_STRING_C = 0x24
NULL = 0x05
OID = 0x06
SEQUENCE = 0x30
SET = 0x31


def ctx(number: int, constructed: bool) -> int:
    """The identifier octet of a context-specific tag [number]."""
    return 0x80 | (0x20 if constructed else 0) | number


class CmsError(Exception):
    """Any reason the message cannot be opened; the text is shown to the user."""


# --- BER reader -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """One BER TLV. `raw` is the whole encoding; `content` the content octets (for an
    indefinite length: everything between the header and the end-of-contents octets)."""

    tag: int
    raw: bytes
    content: bytes
    children: tuple["Node", ...]
    indefinite: bool

    @property
    def constructed(self) -> bool:
        return bool(self.tag & 0x20)


def parse_ber(data: bytes) -> Node:
    """Parse exactly one TLV covering all of `data`."""
    node, end = _parse_tlv(data, 0, len(data), 0)
    if end != len(data):
        raise CmsError(f"{len(data) - end} bytes of trailing data after the ContentInfo")
    return node


def _parse_tlv(data: bytes, pos: int, limit: int, depth: int) -> tuple[Node, int]:
    if depth > MAX_DEPTH:
        raise CmsError("BER nesting too deep")
    start = pos
    if pos >= limit:
        raise CmsError("BER: truncated (expected a tag)")
    tag = data[pos]
    pos += 1
    if tag & 0x1F == 0x1F:
        raise CmsError(f"BER: multi-byte tag at offset {start} is not supported")
    if tag == 0x00:
        raise CmsError(f"BER: unexpected end-of-contents at offset {start}")
    constructed = bool(tag & 0x20)
    if pos >= limit:
        raise CmsError("BER: truncated (expected a length)")
    first = data[pos]
    pos += 1
    if first == 0x80:
        if not constructed:
            raise CmsError(f"BER: indefinite length on a primitive tag at offset {start}")
        children: list[Node] = []
        content_start = pos
        while True:
            if pos + 2 > limit:
                raise CmsError("BER: indefinite length without end-of-contents")
            if data[pos] == 0x00:
                if data[pos + 1] != 0x00:
                    raise CmsError(f"BER: malformed end-of-contents at offset {pos}")
                content_end = pos
                pos += 2
                break
            child, pos = _parse_tlv(data, pos, limit, depth + 1)
            children.append(child)
        node = Node(tag, data[start:pos], data[content_start:content_end], tuple(children), True)
        return node, pos
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0x7F or count > 8:
            raise CmsError(f"BER: unsupported length encoding at offset {start}")
        if pos + count > limit:
            raise CmsError("BER: truncated length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    end = pos + length
    if end > limit:
        raise CmsError(f"BER: element at offset {start} runs past its container")
    content = data[pos:end]
    children = []
    if constructed:
        while pos < end:
            child, pos = _parse_tlv(data, pos, end, depth + 1)
            children.append(child)
    return Node(tag, data[start:end], content, tuple(children), False), end


def der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def der(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + der_length(len(content)) + content


def expect(node: Node, tag: int, what: str) -> Node:
    if node.tag != tag:
        raise CmsError(f"{what}: expected tag 0x{tag:02x}, found 0x{node.tag:02x}")
    return node


def primitive(node: Node, what: str) -> bytes:
    if node.constructed:
        raise CmsError(f"{what}: expected a primitive encoding")
    return node.content


def read_oid(node: Node, what: str) -> str:
    body = primitive(expect(node, OID, what), what)
    if not body or body[-1] & 0x80:
        raise CmsError(f"{what}: malformed OBJECT IDENTIFIER")
    arcs: list[int] = []
    value = 0
    fresh = True
    for byte in body:
        if fresh and byte == 0x80:
            raise CmsError(f"{what}: non-minimal OBJECT IDENTIFIER")
        value = (value << 7) | (byte & 0x7F)
        fresh = not byte & 0x80
        if fresh:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(arc) for arc in head + arcs[1:])


def read_int(node: Node, what: str) -> int:
    body = primitive(expect(node, INTEGER, what), what)
    if not body:
        raise CmsError(f"{what}: empty INTEGER")
    return int.from_bytes(body, "big", signed=True)


def read_octets(node: Node, what: str) -> bytes:
    """The value of an OCTET STRING, primitive or constructed (chunks concatenated)."""
    if node.tag == OCTET_STRING:
        return node.content
    if node.tag == OCTET_STRING_C:
        return b"".join(read_octets(child, what) for child in node.children)
    raise CmsError(f"{what}: expected an OCTET STRING, found tag 0x{node.tag:02x}")


def read_implicit_octets(node: Node, what: str) -> bytes:
    """The value of an IMPLICIT OCTET STRING: primitive content, or concatenated chunks."""
    if not node.constructed:
        return node.content
    return b"".join(read_octets(child, what) for child in node.children)


def read_bit_string(node: Node, what: str) -> bytes:
    body = primitive(expect(node, BIT_STRING, what), what)
    if not body or body[0] != 0:
        raise CmsError(f"{what}: BIT STRING with unused bits")
    return body[1:]


class Fields:
    """Walks the children of a SEQUENCE in order, for OPTIONAL fields."""

    def __init__(self, node: Node, what: str) -> None:
        if not node.constructed:
            raise CmsError(f"{what}: expected a constructed element")
        self.items = node.children
        self.index = 0
        self.what = what

    def peek(self) -> Optional[int]:
        return self.items[self.index].tag if self.index < len(self.items) else None

    def optional(self, tag: int) -> Optional[Node]:
        if self.peek() == tag:
            self.index += 1
            return self.items[self.index - 1]
        return None

    def next(self, name: str) -> Node:
        if self.index >= len(self.items):
            raise CmsError(f"{self.what}: missing {name}")
        self.index += 1
        return self.items[self.index - 1]

    def required(self, tag: int, name: str) -> Node:
        return expect(self.next(name), tag, f"{self.what}.{name}")


@dataclass(frozen=True)
class AlgorithmIdentifier:
    oid: str
    params: Optional[Node]  # None when absent or NULL


def read_algorithm(node: Node, what: str) -> AlgorithmIdentifier:
    fields = Fields(expect(node, SEQUENCE, what), what)
    oid = read_oid(fields.next("algorithm"), f"{what}.algorithm")
    params = fields.next("parameters") if fields.peek() is not None else None
    if params is not None and params.tag == NULL:
        params = None
    return AlgorithmIdentifier(oid, params)


# --- CMS structure --------------------------------------------------------------------------


@dataclass(frozen=True)
class Envelope:
    recipient_infos: tuple[Node, ...]
    content_algorithm: AlgorithmIdentifier
    ciphertext: bytes
    mac: Optional[bytes]  # AuthEnvelopedData only
    aad: bytes


def parse_content_info(data: bytes) -> Envelope:
    fields = Fields(expect(parse_ber(data), SEQUENCE, "ContentInfo"), "ContentInfo")
    content_type = read_oid(fields.next("contentType"), "ContentInfo.contentType")
    explicit = fields.required(ctx(0, True), "content")
    if len(explicit.children) != 1:
        raise CmsError("ContentInfo.content: expected exactly one element")
    content = explicit.children[0]
    if content_type == ID_ENVELOPED_DATA:
        return parse_enveloped(content, authenticated=False)
    if content_type == ID_AUTH_ENVELOPED_DATA:
        return parse_enveloped(content, authenticated=True)
    raise CmsError(f"content type {content_type} is neither envelopedData nor authEnvelopedData")


def parse_enveloped(node: Node, authenticated: bool) -> Envelope:
    """EnvelopedData (RFC 5652 section 6.1) or AuthEnvelopedData (RFC 5083 section 2.1)."""
    what = "AuthEnvelopedData" if authenticated else "EnvelopedData"
    fields = Fields(expect(node, SEQUENCE, what), what)
    read_int(fields.next("version"), f"{what}.version")
    fields.optional(ctx(0, True))  # originatorInfo
    recipient_infos = fields.required(SET, "recipientInfos").children
    if not recipient_infos:
        raise CmsError(f"{what}: no RecipientInfo")
    eci = Fields(fields.required(SEQUENCE, "encryptedContentInfo"), f"{what}.encryptedContentInfo")
    read_oid(eci.next("contentType"), "encryptedContentInfo.contentType")
    algorithm = read_algorithm(eci.next("contentEncryptionAlgorithm"), "contentEncryptionAlgorithm")
    encrypted = eci.optional(ctx(0, False)) or eci.optional(ctx(0, True))
    if encrypted is None:
        raise CmsError("encryptedContent is absent (detached content is not supported)")
    ciphertext = read_implicit_octets(encrypted, "encryptedContent")
    mac: Optional[bytes] = None
    aad = b""
    if authenticated:
        auth_attrs = fields.optional(ctx(1, True))
        if auth_attrs is not None:
            # RFC 5083 section 2.2: the AAD is the DER of authAttrs with an EXPLICIT SET OF tag.
            aad = der(SET, b"".join(child.raw for child in auth_attrs.children))
        mac = read_octets(fields.next("mac"), "AuthEnvelopedData.mac")
    return Envelope(tuple(recipient_infos), algorithm, ciphertext, mac, aad)


# --- content decryption ---------------------------------------------------------------------


def content_key_length(algorithm: AlgorithmIdentifier) -> int:
    for table in (AES_CBC, AES_GCM):
        if algorithm.oid in table:
            return table[algorithm.oid]
    if algorithm.oid == CHACHA20_POLY1305:
        return 32
    raise CmsError(f"unsupported content-encryption algorithm {algorithm.oid}")


def decrypt_content(envelope: Envelope, cek: bytes) -> bytes:
    """Decrypt and authenticate (AEAD) or unpad (CBC); raise CmsError on failure."""
    algorithm = envelope.content_algorithm
    if algorithm.oid in AES_CBC:
        if envelope.mac is not None:
            raise CmsError("AES-CBC in AuthEnvelopedData")
        return decrypt_cbc(algorithm, cek, envelope.ciphertext)
    if envelope.mac is None:
        raise CmsError(f"AEAD algorithm {algorithm.oid} in EnvelopedData (no mac)")
    if algorithm.oid in AES_GCM:
        return decrypt_gcm(algorithm, cek, envelope.ciphertext, envelope.mac, envelope.aad)
    if algorithm.oid == CHACHA20_POLY1305:
        return decrypt_chacha(algorithm, cek, envelope.ciphertext, envelope.mac, envelope.aad)
    raise CmsError(f"unsupported content-encryption algorithm {algorithm.oid}")


def decrypt_cbc(algorithm: AlgorithmIdentifier, cek: bytes, ciphertext: bytes) -> bytes:
    if algorithm.params is None:
        raise CmsError("AES-CBC without an IV")
    iv = read_octets(algorithm.params, "AES-CBC IV")
    if len(iv) != 16:
        raise CmsError(f"AES-CBC IV of {len(iv)} bytes")
    if not ciphertext or len(ciphertext) % 16:
        raise CmsError(f"AES-CBC ciphertext of {len(ciphertext)} bytes")
    decryptor = Cipher(algorithms.AES(cek), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    pad = padded[-1]
    if not 1 <= pad <= 16 or padded[-pad:] != bytes([pad]) * pad:
        raise CmsError("bad PKCS#7 padding (wrong key?)")
    return padded[:-pad]


def decrypt_gcm(
    algorithm: AlgorithmIdentifier, cek: bytes, ciphertext: bytes, tag: bytes, aad: bytes
) -> bytes:
    """AES-GCM with GCMParameters ::= SEQUENCE { aes-nonce OCTET STRING,
    aes-ICVlen INTEGER DEFAULT 12 } (RFC 5084 section 3.2)."""
    if algorithm.params is None:
        raise CmsError("AES-GCM without GCMParameters")
    fields = Fields(expect(algorithm.params, SEQUENCE, "GCMParameters"), "GCMParameters")
    nonce = read_octets(fields.next("aes-nonce"), "GCMParameters.aes-nonce")
    icv_len = 12
    if fields.peek() is not None:
        icv_len = read_int(fields.next("aes-ICVlen"), "GCMParameters.aes-ICVlen")
    if not 12 <= icv_len <= 16:
        raise CmsError(f"AES-GCM ICV length {icv_len}")
    if len(tag) != icv_len:
        raise CmsError(f"mac of {len(tag)} bytes, GCMParameters says {icv_len}")
    if not 8 <= len(nonce) <= 128:
        raise CmsError(f"AES-GCM nonce of {len(nonce)} bytes")
    try:
        if icv_len == 16:
            return AESGCM(cek).decrypt(nonce, ciphertext + tag, aad)
        decryptor = Cipher(algorithms.AES(cek), modes.GCM(nonce, tag, icv_len)).decryptor()
        decryptor.authenticate_additional_data(aad)
        return decryptor.update(ciphertext) + decryptor.finalize()
    except InvalidTag:
        raise CmsError("AES-GCM authentication failed (wrong key or corrupted message)")


def decrypt_chacha(
    algorithm: AlgorithmIdentifier, cek: bytes, ciphertext: bytes, tag: bytes, aad: bytes
) -> bytes:
    """ChaCha20-Poly1305 (RFC 8103): the parameter is the 12-byte nonce, the mac the tag."""
    if algorithm.params is None:
        raise CmsError("ChaCha20-Poly1305 without a nonce")
    nonce = read_octets(algorithm.params, "ChaCha20-Poly1305 nonce")
    if len(nonce) != 12:
        raise CmsError(f"ChaCha20-Poly1305 nonce of {len(nonce)} bytes")
    if len(tag) != 16:
        raise CmsError(f"ChaCha20-Poly1305 mac of {len(tag)} bytes")
    try:
        return ChaCha20Poly1305(cek).decrypt(nonce, ciphertext + tag, aad)
    except InvalidTag:
        raise CmsError("ChaCha20-Poly1305 authentication failed (wrong key or corrupted message)")


# --- recipients -----------------------------------------------------------------------------

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | x25519.X25519PrivateKey | x448.X448PrivateKey


@dataclass(frozen=True)
class Candidate:
    """One way to recover the content-encryption key."""

    label: str
    matches_cert: bool
    unwrap: Callable[[], bytes]


def rid_matches(rid: Node, cert: Optional[x509.Certificate]) -> bool:
    """Whether a RecipientIdentifier / KeyAgreeRecipientIdentifier names `cert`."""
    if cert is None:
        return False
    if rid.tag == SEQUENCE and len(rid.children) == 2:  # IssuerAndSerialNumber
        issuer, serial = rid.children
        try:
            return (
                issuer.raw == cert.issuer.public_bytes()
                and read_int(serial, "serialNumber") == cert.serial_number
            )
        except CmsError:
            return False
    if rid.tag in (ctx(0, False), ctx(0, True)):  # [0] SubjectKeyIdentifier / RecipientKeyIdentifier
        if rid.tag == ctx(0, False):
            ski = rid.content
        else:  # RecipientKeyIdentifier ::= SEQUENCE { subjectKeyIdentifier, ... }
            ski = rid.children[0].content if rid.children else b""
        try:
            ext = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        except x509.ExtensionNotFound:
            return False
        return ext.value.digest == ski
    return False


def candidates(envelope: Envelope, key: PrivateKey, cert: Optional[x509.Certificate]) -> list[Candidate]:
    names = {ctx(2, True): "KEKRecipientInfo", ctx(3, True): "PasswordRecipientInfo"}
    found: list[Candidate] = []
    for index, ri in enumerate(envelope.recipient_infos):
        label = f"RecipientInfo #{index}"
        try:
            if ri.tag == SEQUENCE:
                found.append(ktri_candidate(ri, key, cert, label))
            elif ri.tag == ctx(1, True):
                found.extend(kari_candidates(ri, key, cert, label))
            else:
                raise CmsError(f"{names.get(ri.tag, f'tag 0x{ri.tag:02x}')} is not supported")
        except CmsError as error:  # a malformed or unsupported RecipientInfo: report, go on
            found.append(Candidate(label, False, failing(error)))
    return found


def failing(error: CmsError) -> Callable[[], bytes]:
    def fail() -> bytes:
        raise error

    return fail


def ktri_candidate(ri: Node, key: PrivateKey, cert: Optional[x509.Certificate], label: str) -> Candidate:
    """KeyTransRecipientInfo (RFC 5652 section 6.2.1)."""
    fields = Fields(ri, "KeyTransRecipientInfo")
    version = read_int(fields.next("version"), "KeyTransRecipientInfo.version")
    rid = fields.next("rid")
    algorithm = read_algorithm(fields.next("keyEncryptionAlgorithm"), "keyEncryptionAlgorithm")
    encrypted_key = read_octets(fields.next("encryptedKey"), "KeyTransRecipientInfo.encryptedKey")

    def unwrap() -> bytes:
        if version not in (0, 2):
            raise CmsError(f"KeyTransRecipientInfo version {version}")
        if not isinstance(key, rsa.RSAPrivateKey):
            raise CmsError("key transport needs an RSA key")
        if algorithm.oid == RSA_ENCRYPTION:
            scheme: padding.AsymmetricPadding = padding.PKCS1v15()
        elif algorithm.oid == RSAES_OAEP:
            scheme = oaep_padding(algorithm.params)
        else:
            raise CmsError(f"unsupported key-transport algorithm {algorithm.oid}")
        try:
            return key.decrypt(encrypted_key, scheme)
        except ValueError:
            raise CmsError(f"RSA decryption failed ({algorithm.oid})")

    return Candidate(label, rid_matches(rid, cert), unwrap)


def read_hash(algorithm: AlgorithmIdentifier, what: str) -> hashes.HashAlgorithm:
    if algorithm.oid not in HASHES:
        raise CmsError(f"{what}: unsupported hash {algorithm.oid}")
    return HASHES[algorithm.oid]()


def explicit_child(node: Node, what: str) -> Node:
    if len(node.children) != 1:
        raise CmsError(f"{what}: expected exactly one element")
    return node.children[0]


def oaep_padding(params: Optional[Node]) -> padding.OAEP:
    """RSAES-OAEP-params (RFC 4055 section 4.1); absent fields take the SHA-1 defaults."""
    digest: hashes.HashAlgorithm = hashes.SHA1()
    mgf_digest: hashes.HashAlgorithm = hashes.SHA1()
    label: Optional[bytes] = None
    if params is not None:
        fields = Fields(expect(params, SEQUENCE, "RSAES-OAEP-params"), "RSAES-OAEP-params")
        node = fields.optional(ctx(0, True))
        if node is not None:
            digest = read_hash(read_algorithm(explicit_child(node, "hashAlgorithm"), "hashAlgorithm"), "OAEP")
        node = fields.optional(ctx(1, True))
        if node is not None:
            mgf = read_algorithm(explicit_child(node, "maskGenAlgorithm"), "maskGenAlgorithm")
            if mgf.oid != ID_MGF1:
                raise CmsError(f"unsupported OAEP mask generation {mgf.oid}")
            if mgf.params is not None:
                mgf_digest = read_hash(read_algorithm(mgf.params, "MGF1 hash"), "MGF1")
        node = fields.optional(ctx(2, True))
        if node is not None:
            source = read_algorithm(explicit_child(node, "pSourceAlgorithm"), "pSourceAlgorithm")
            if source.oid != ID_P_SPECIFIED:
                raise CmsError(f"unsupported OAEP pSource {source.oid}")
            if source.params is not None:
                label = read_octets(source.params, "pSpecified") or None
    return padding.OAEP(mgf=padding.MGF1(mgf_digest), algorithm=digest, label=label)


def kari_candidates(ri: Node, key: PrivateKey, cert: Optional[x509.Certificate], label: str) -> list[Candidate]:
    """KeyAgreeRecipientInfo (RFC 5652 section 6.2.2): one candidate per RecipientEncryptedKey."""
    fields = Fields(ri, "KeyAgreeRecipientInfo")
    version = read_int(fields.next("version"), "KeyAgreeRecipientInfo.version")
    originator = explicit_child(fields.required(ctx(0, True), "originator"), "originator")
    ukm_node = fields.optional(ctx(1, True))
    ukm = read_octets(explicit_child(ukm_node, "ukm"), "ukm") if ukm_node is not None else None
    algorithm = read_algorithm(fields.next("keyEncryptionAlgorithm"), "keyEncryptionAlgorithm")
    encrypted_keys = fields.required(SEQUENCE, "recipientEncryptedKeys").children

    def agree_and_unwrap(encrypted_key: bytes) -> bytes:
        if version != 3:
            raise CmsError(f"KeyAgreeRecipientInfo version {version}")
        if originator.tag != ctx(1, True):
            raise CmsError("only an originatorKey originator is supported")
        okey = Fields(originator, "originatorKey")
        public_algorithm = read_algorithm(okey.next("algorithm"), "originatorKey.algorithm")
        public_key = read_bit_string(okey.next("publicKey"), "originatorKey.publicKey")
        shared_secret = agree(key, public_algorithm, public_key)
        kek = derive_kek(algorithm, shared_secret, ukm)
        try:
            return aes_key_unwrap(kek, encrypted_key)
        except Exception:
            raise CmsError("AES key unwrap failed (wrong key?)")

    found = []
    for index, rek in enumerate(encrypted_keys):
        rek_fields = Fields(expect(rek, SEQUENCE, "RecipientEncryptedKey"), "RecipientEncryptedKey")
        rid = rek_fields.next("rid")
        encrypted_key = read_octets(rek_fields.next("encryptedKey"), "RecipientEncryptedKey.encryptedKey")
        found.append(
            Candidate(
                f"{label} key #{index}",
                rid_matches(rid, cert),
                lambda encrypted_key=encrypted_key: agree_and_unwrap(encrypted_key),
            )
        )
    return found


def agree(key: PrivateKey, algorithm: AlgorithmIdentifier, public_key: bytes) -> bytes:
    """The shared secret Z between our private key and the originator's public key."""
    try:
        if algorithm.oid == ID_EC_PUBLIC_KEY:
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise CmsError("an EC originator key needs an EC private key")
            if algorithm.params is not None and algorithm.params.tag == OID:
                curve = NAMED_CURVES.get(read_oid(algorithm.params, "namedCurve"))
                if curve is not None and curve != key.curve.name:
                    raise CmsError(f"originator key on {curve}, our key on {key.curve.name}")
            peer = ec.EllipticCurvePublicKey.from_encoded_point(key.curve, public_key)
            return key.exchange(ec.ECDH(), peer)
        if algorithm.oid == ID_X25519:
            if not isinstance(key, x25519.X25519PrivateKey):
                raise CmsError("an X25519 originator key needs an X25519 private key")
            if len(public_key) != 32:
                raise CmsError(f"X25519 originator key of {len(public_key)} bytes")
            return key.exchange(x25519.X25519PublicKey.from_public_bytes(public_key))
        if algorithm.oid == ID_X448:
            if not isinstance(key, x448.X448PrivateKey):
                raise CmsError("an X448 originator key needs an X448 private key")
            if len(public_key) != 56:
                raise CmsError(f"X448 originator key of {len(public_key)} bytes")
            return key.exchange(x448.X448PublicKey.from_public_bytes(public_key))
    except ValueError as error:
        raise CmsError(f"key agreement failed: {error}")
    raise CmsError(f"unsupported originator key algorithm {algorithm.oid}")


def derive_kek(algorithm: AlgorithmIdentifier, shared_secret: bytes, ukm: Optional[bytes]) -> bytes:
    """ANSI X9.63 KDF over Z with the DER ECC-CMS-SharedInfo (RFC 5753 section 7.2)."""
    if algorithm.oid not in KDF_SCHEMES:
        raise CmsError(f"unsupported key-agreement scheme {algorithm.oid}")
    if algorithm.params is None:
        raise CmsError("key-agreement scheme without a key-wrap algorithm")
    wrap = read_algorithm(algorithm.params, "KeyWrapAlgorithm")
    if wrap.oid not in KEY_WRAPS:
        raise CmsError(f"unsupported key-wrap algorithm {wrap.oid}")
    kek_length = KEY_WRAPS[wrap.oid]
    kdf = X963KDF(KDF_SCHEMES[algorithm.oid](), kek_length, shared_info(wrap.oid, ukm, kek_length))
    return kdf.derive(shared_secret)


def shared_info(wrap_oid: str, ukm: Optional[bytes], kek_length: int) -> bytes:
    """ECC-CMS-SharedInfo ::= SEQUENCE { keyInfo AlgorithmIdentifier,
    entityUInfo [0] EXPLICIT OCTET STRING OPTIONAL, suppPubInfo [2] EXPLICIT OCTET STRING }."""
    key_info = der(SEQUENCE, encode_oid(wrap_oid))  # AES wrap: parameters absent
    entity = der(ctx(0, True), der(OCTET_STRING, ukm)) if ukm is not None else b""
    supp = der(ctx(2, True), der(OCTET_STRING, (kek_length * 8).to_bytes(4, "big")))
    return der(SEQUENCE, key_info + entity + supp)


def encode_oid(dotted: str) -> bytes:
    arcs = [int(arc) for arc in dotted.split(".")]
    values = [arcs[0] * 40 + arcs[1]] + arcs[2:]
    body = bytearray()
    for value in values:
        chunk = [value & 0x7F]
        value >>= 7
        while value:
            chunk.append(0x80 | (value & 0x7F))
            value >>= 7
        body.extend(reversed(chunk))
    return der(OID, bytes(body))


# --- driver ---------------------------------------------------------------------------------


def decrypt(data: bytes, key: PrivateKey, cert: Optional[x509.Certificate]) -> bytes:
    """Open a DER/BER ContentInfo and return the content octets."""
    envelope = parse_content_info(data)
    key_length = content_key_length(envelope.content_algorithm)
    found = candidates(envelope, key, cert)
    found.sort(key=lambda candidate: not candidate.matches_cert)  # stable: matches first
    reasons = []
    for candidate in found:
        try:
            cek = candidate.unwrap()
            if len(cek) != key_length:
                raise CmsError(f"content key of {len(cek)} bytes, expected {key_length}")
            return decrypt_content(envelope, cek)
        except CmsError as error:
            reasons.append(f"{candidate.label}: {error}")
    raise CmsError("no recipient could be opened (" + "; ".join(reasons) + ")")


def message_body(message: bytes) -> bytes:
    """The DER inside an RFC 5322 message whose body is the base64 ContentInfo."""
    match = re.search(rb"\r?\n\r?\n", message)
    if match is None:
        raise CmsError("no blank line between the headers and the body")
    headers = re.sub(rb"\r?\n[ \t]+", b" ", message[: match.start()])
    cte = re.search(rb"(?im)^content-transfer-encoding[ \t]*:[ \t]*([^\r\n;]*)", headers)
    if cte is not None and cte.group(1).strip().lower() != b"base64":
        raise CmsError(f"Content-Transfer-Encoding is {cte.group(1).strip().decode('ascii', 'replace')}, not base64")
    body = re.sub(rb"\s+", b"", message[match.end() :])
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error as error:
        raise CmsError(f"the body is not valid base64: {error}")


def load_key(path: str) -> PrivateKey:
    with open(path, "rb") as handle:
        pem = handle.read()
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as error:
        raise CmsError(f"cannot read the private key {path}: {error}")
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, x25519.X25519PrivateKey, x448.X448PrivateKey)):
        raise CmsError(f"unsupported private key type {type(key).__name__}")
    return key


def load_cert(path: str) -> x509.Certificate:
    with open(path, "rb") as handle:
        pem = handle.read()
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError as error:
        raise CmsError(f"cannot read the certificate {path}: {error}")


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise CmsError(message)


def main(argv: list[str]) -> int:
    parser = Parser(prog="pyca_cms.py", description="Decrypt CMS (Auth)EnvelopedData.")
    parser.add_argument("--key", required=True, help="unencrypted PKCS#8 private key (PEM)")
    parser.add_argument("--cert", help="recipient certificate (PEM), to pick the RecipientInfo")
    parser.add_argument("--der", help="read a raw DER/BER ContentInfo instead of a message")
    parser.add_argument("message", nargs="?", help="RFC 5322 message with a base64 CMS body")
    try:
        args = parser.parse_args(argv)
        if (args.der is None) == (args.message is None):
            raise CmsError("give exactly one of MESSAGE and --der FILE")
        key = load_key(args.key)
        cert = load_cert(args.cert) if args.cert else None
        with open(args.der or args.message, "rb") as handle:
            data = handle.read()
        plaintext = decrypt(data if args.der else message_body(data), key, cert)
    except CmsError as error:
        return fail(str(error))
    except OSError as error:
        return fail(f"{error.filename or 'I/O'}: {error.strerror or error}")
    except RecursionError:
        return fail("input nested too deeply")
    except Exception as error:  # never a traceback for bad input
        return fail(f"{type(error).__name__}: {error}")
    sys.stdout.buffer.write(plaintext)
    sys.stdout.buffer.flush()
    return 0


def fail(reason: str) -> int:
    print(f"pyca_cms: {' '.join(reason.split())}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
