#!/usr/bin/env python3
"""Times mailseal's Python package against mailseal's Rust figures (issue: speed).

    python3 benches/python_api.py

Needs `mailseal` importable (a release wheel: `maturin build --release -m
bindings/python/Cargo.toml`, then `pip install` it). For a 4 KiB and a 1 MiB message, S/MIME
AES-256-CBC (the default) and AES-256-GCM and OpenPGP SEIPDv1 AES-256, all to RSA-3072, it
prints the best per-call time of `Recipients.encrypt` (the key read and validated once,
reused) and of `mailseal.encrypt` (the key read again on every call). Compare with the
criterion rows in benches/README.md.
Speed is measured here, never asserted by a test.
"""

from __future__ import annotations

import timeit
from pathlib import Path

import mailseal

REPO = Path(__file__).resolve().parents[1]
SMIME = (REPO / "examples" / "keys" / "alice.crt.pem").read_bytes()
PGP = (REPO / "tests" / "fixtures" / "stalwart-0.16.19" / "keys" / "pgp-rsa3072.pub.asc").read_bytes()


def message(size: int) -> bytes:
    """The criterion benches' message: headers and a base64 body in CRLF lines."""
    m = (b"From: a@example.net\r\nTo: alice@example.org\r\nSubject: bench\r\nMIME-Version: 1.0\r\n"
         b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n")
    line = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n"
    while len(m) < size:
        m += line
    return m


def best(call, number: int) -> float:
    """Best of five runs of `number` calls, in seconds per call."""
    return min(timeit.repeat(call, number=number, repeat=5)) / number


def main() -> None:
    print("| case | size | Recipients.encrypt (key reused) | mailseal.encrypt (key read each call) |")
    print("|---|---|---|---|")
    for name, key, algorithm, fmt in [
        ("S/MIME AES-256-CBC, RSA-3072", SMIME, "aes256", None),
        ("S/MIME AES-256-GCM, RSA-3072", SMIME, "aes256-gcm", None),
        ("OpenPGP SEIPDv1 AES-256, RSA-3072", PGP, "aes256", "seipdv1"),
    ]:
        recipients = mailseal.Recipients(key)
        for size, number in [(4096, 500), (1 << 20, 20)]:
            m = message(size)
            kw = {"algorithm": algorithm, **({"pgp_format": fmt} if fmt else {})}
            reused = best(lambda: recipients.encrypt(m, **kw), number)
            each = best(lambda: mailseal.encrypt(m, key, **kw), number)
            unit = (lambda t: f"{t * 1e6:.0f} µs") if size < 65536 else (lambda t: f"{t * 1e3:.2f} ms")
            print(f"| {name} | {size // 1024} KiB | {unit(reused)} | {unit(each)} |")


if __name__ == "__main__":
    main()
