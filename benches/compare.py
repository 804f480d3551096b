#!/usr/bin/env python3
"""One-run comparison of mailseal against its peers on the same inputs (issue: speed).

    python3 benches/compare.py [--size MIB] [--runs N]

Builds the release CLI, makes a realistic message (a base64 attachment in MIME) of --size
MiB (25 by default), and times whole processes encrypting it at rest, each --runs times
(3 by default), in turn: mailseal's CLI (to a file and to a pipe), its Rust API (a small
program holding the message in memory) and its Python package against `openssl cms -encrypt`,
Python `cryptography`'s PKCS7 envelope builder, `gpg -z 0 --armor`, `sq encrypt`, pysequoia,
and Stalwart's two pipelines rebuilt from the crates it uses (`benches/peer_pipelines.rs`:
Sequoia's `Encryptor` + `Armorer`; the `cms` builder + `rsa` + base64 four characters at a
time). For each case it prints the median wall time and the peak memory of each command
(the operating system's accounting of that one child, `wait4`), each peer's time divided by
mailseal's CLI time, and the limit of this machine's primitives from `openssl speed`.

Then decryption: the message is encrypted once by mailseal's CLI for each case and decrypted
by mailseal's CLI (`mailseal decrypt`, to a file) against `openssl cms -decrypt`, `gpg
--decrypt` and `sq decrypt` (the OpenPGP peers get the armored block alone), with the ratio of
mailseal's decryption to its encryption of the same message.

Speed is measured here and recorded in benches/README.md; no test asserts it.
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Output files removed before each run (some peers refuse to overwrite).
OUTPUTS: list[str] = []
KEYS = REPO / "examples" / "keys"
FIXTURE_KEYS = REPO / "tests" / "fixtures" / "stalwart-0.16.19" / "keys"
SMIME_CERT = KEYS / "alice.crt.pem"  # RSA-3072
PGP_CERT = FIXTURE_KEYS / "pgp-rsa3072.pub.asc"  # RSA-3072


def message(size: int) -> bytes:
    """Headers, a text part and a base64 attachment, CRLF line ends: `size` bytes or a little more."""
    head = (
        b"From: Bob Example <bob@example.net>\r\nTo: Alice Example <alice@example.org>\r\n"
        b"Subject: the report\r\nDate: Fri, 20 Nov 2026 10:00:00 +0000\r\n"
        b"Message-ID: <report-1@example.net>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n'
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nHere is the report.\r\n--b1\r\n"
        b'Content-Type: application/pdf; name="report.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n"
    )
    raw = os.urandom(max(size - len(head), 0) * 3 // 4)
    body = base64.encodebytes(raw).replace(b"\n", b"\r\n")
    return head + body + b"--b1--\r\n"


# A small process that starts the command and reports its peak memory: a child counts the
# memory of the process it was forked from until it execs, so the command must not be
# started from this (larger) Python process directly. Its own size is the floor of the
# figures (printed as "floor").
LAUNCHER = (
    "import os, sys\n"
    "pid = os.posix_spawnp(sys.argv[1], sys.argv[1:], os.environ)\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "sys.stderr.write('\\nmaxrss=%d\\n' % usage.ru_maxrss)\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


def run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of one run of `command` (output discarded; the
    output file of the previous run removed first)."""
    for old in OUTPUTS:
        Path(old).unlink(missing_ok=True)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", LAUNCHER, *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    wall = time.perf_counter() - start
    err = proc.stderr.decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({proc.returncode}): {err[-400:]}")
    peak_kib = int(err.rsplit("maxrss=", 1)[1].split()[0])
    return wall, peak_kib / 1024


# The launcher's own start-up time, taken off every wall time (set in main).
START_UP = [0.0]


def measure(command: list[str], runs: int, env: dict[str, str] | None = None) -> tuple[float, float]:
    run(command, env)  # warm-up (page cache, lazy loading)
    results = [run(command, env) for _ in range(runs)]
    wall = statistics.median(r[0] for r in results) - START_UP[0]
    return max(wall, 1e-6), max(r[1] for r in results)


def openssl_speed(cipher: str) -> float:
    """Bytes per second of one core for `cipher` on 16 KiB blocks."""
    out = subprocess.run(
        ["openssl", "speed", "-seconds", "1", "-bytes", "16384", "-evp", cipher],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = [l for l in out.splitlines() if l.strip().startswith(cipher.upper()) or l.startswith(cipher)]
    last = (line or out.strip().splitlines())[-1].split()[-1]
    return float(last.rstrip("k")) * 1000


SMIME_KEY = KEYS / "alice.key.pem"
PGP_SECRET = FIXTURE_KEYS / "pgp-rsa3072.sec.asc"


def decryption(cli: str, src: Path, work: Path, out: str, genv: dict[str, str], runs: int,
               encrypt_walls: dict[str, float]) -> None:
    """Times decrypting what mailseal's CLI stored, by mailseal and by the peers."""
    smime_private = work / "alice.pem"  # mailseal takes the key with its certificate
    smime_private.write_bytes(SMIME_KEY.read_bytes() + SMIME_CERT.read_bytes())
    subprocess.run(["gpg", "--batch", "-q", "--import", str(PGP_SECRET)], env=genv, check=True)

    def stored(name: str, args: list[str]) -> Path:
        path = work / f"{name}.eml"
        subprocess.run([cli, "encrypt", *args, "-o", str(path), str(src)], check=True)
        return path

    def armor_of(message: Path) -> Path:
        text = message.read_bytes()
        start = text.index(b"-----BEGIN PGP MESSAGE-----")
        end = text.index(b"-----END PGP MESSAGE-----") + len(b"-----END PGP MESSAGE-----\r\n")
        path = message.with_suffix(".asc")
        path.write_bytes(text[start:end])
        return path

    cbc = stored("cbc", ["--key", str(SMIME_CERT), "--algorithm", "aes128"])
    gcm = stored("gcm", ["--key", str(SMIME_CERT), "--algorithm", "aes256-gcm"])
    pgp = stored("pgp", ["--key", str(PGP_CERT), "--algorithm", "aes256", "--pgp", "seipdv1"])
    pgp_armor = armor_of(pgp)

    def openssl_cms(message: Path) -> tuple[str, list[str], bool]:
        return ("openssl cms -decrypt", ["openssl", "cms", "-decrypt", "-in", str(message), "-inkey",
                                         str(SMIME_KEY), "-recip", str(SMIME_CERT), "-out", out], True)

    cases = [
        ("S/MIME AES-128-CBC, RSA-3072", cbc, smime_private, [openssl_cms(cbc)]),
        ("S/MIME AES-256-GCM, RSA-3072", gcm, smime_private, [openssl_cms(gcm)]),
        ("OpenPGP SEIPDv1 AES-256 armored, RSA-3072", pgp, PGP_SECRET, [
            ("gpg --decrypt", ["gpg", "--batch", "-q", "--yes", "-o", out, "-d", str(pgp_armor)], True),
            ("sq decrypt", ["sq", "decrypt", "--recipient-key", str(PGP_SECRET), "-o", out, str(pgp_armor)],
             shutil.which("sq") is not None),
        ]),
    ]
    print(f"\n# Decryption of the same message as mailseal stored it, median of {runs} runs\n")
    print("| case | command | wall | peak | peer / mailseal CLI |")
    print("|---|---|---|---|---|")
    for name, message, key, peers in cases:
        ours_wall, ours_peak = measure([cli, "decrypt", "--key", str(key), "-o", out, str(message)], runs, genv)
        print(f"| {name} | mailseal CLI decrypt | {ours_wall * 1000:.0f} ms | {ours_peak:.1f} MiB | 1.00 "
              f"({ours_wall / encrypt_walls[name]:.2f}x mailseal's encryption) |")
        for label, command, available in peers:
            if not available:
                print(f"| {name} | {label} | not installed | | |")
                continue
            wall, peak = measure(command, runs, genv)
            print(f"| {name} | {label} | {wall * 1000:.0f} ms | {peak:.1f} MiB | {wall / ours_wall:.2f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=25, help="message size in MiB")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    for package in ["mailseal-cli", "mailseal-benches"]:
        subprocess.run(
            ["cargo", "build", "--release", "--locked", "-q", "-p", package, "--bins"],
            cwd=REPO,
            check=True,
        )
    cli = str(target / "release" / "mailseal")
    pipelines = str(target / "release" / "peer-pipelines")
    py = sys.executable

    work = Path(tempfile.mkdtemp(prefix="mailseal-compare-"))
    try:
        src = work / "in.eml"
        src.write_bytes(message(int(args.size * 1024 * 1024)))
        out = str(work / "out")
        OUTPUTS.append(out)
        gnupg = work / "gnupg"
        gnupg.mkdir(mode=0o700)
        genv = dict(os.environ, GNUPGHOME=str(gnupg))
        subprocess.run(["gpg", "--batch", "-q", "--import", str(PGP_CERT)], env=genv, check=True)
        have = lambda mod: subprocess.run([py, "-c", f"import {mod}"], capture_output=True).returncode == 0  # noqa: E731

        def pymailseal(algorithm: str, cert: Path, extra: str = "") -> list[str]:
            return [py, "-c", (
                "import mailseal, sys;"
                f"mailseal.Recipients(open({str(cert)!r},'rb').read()).encrypt_file("
                f"{str(src)!r}, {out!r}, algorithm={algorithm!r}{extra})"
            )]

        def pycryptography(cipher: str) -> list[str]:
            return [py, "-c", (
                "from cryptography import x509;"
                "from cryptography.hazmat.primitives.serialization import pkcs7;"
                f"c = x509.load_pem_x509_certificate(open({str(SMIME_CERT)!r},'rb').read());"
                f"b = pkcs7.PKCS7EnvelopeBuilder().set_data(open({str(src)!r},'rb').read()).add_recipient(c)"
                f"{'.set_content_encryption_algorithm(' + cipher + ')' if cipher else ''};"
                f"open({out!r},'wb').write(b.encrypt(pkcs7.serialization.Encoding.SMIME, []))"
            )]

        def piped(command: list[str]) -> list[str]:
            return ["sh", "-c", " ".join(f"'{c}'" for c in command) + f" | cat > '{out}'"]

        def ours(cert: Path, algorithm: str, extra: list[str] = []) -> list[tuple[str, list[str], bool]]:
            command = [cli, "encrypt", "--key", str(cert), "--algorithm", algorithm, *extra, str(src)]
            return [("mailseal CLI to a pipe", piped(command), True),
                    ("mailseal Rust API", [pipelines, "mailseal-api", str(cert), str(src), out, algorithm], True)]

        cases = [
            ("S/MIME AES-128-CBC, RSA-3072", "aes-128-cbc",
             [cli, "encrypt", "--key", str(SMIME_CERT), "--algorithm", "aes128", "-o", out, str(src)],
             [*ours(SMIME_CERT, "aes128"),
              ("mailseal Python", pymailseal("aes128", SMIME_CERT), have("mailseal")),
              ("Stalwart pipeline (cms builder + rsa)", [pipelines, "cms-builder", str(SMIME_CERT), str(src), out, "aes128"], True),
              ("openssl cms", ["openssl", "cms", "-encrypt", "-aes128", "-in", str(src), "-out", out, str(SMIME_CERT)], True),
              ("Python cryptography", pycryptography("__import__('cryptography.hazmat.primitives.ciphers.algorithms', fromlist=['x']).AES128"), have("cryptography"))]),
            ("S/MIME AES-256-GCM, RSA-3072", "aes-256-gcm",
             [cli, "encrypt", "--key", str(SMIME_CERT), "--algorithm", "aes256-gcm", "-o", out, str(src)],
             [*ours(SMIME_CERT, "aes256-gcm"),
              ("mailseal Python", pymailseal("aes256-gcm", SMIME_CERT), have("mailseal")),
              ("openssl cms", ["openssl", "cms", "-encrypt", "-aes-256-gcm", "-in", str(src), "-out", out, str(SMIME_CERT)], True)]),
            ("OpenPGP SEIPDv1 AES-256 armored, RSA-3072", "aes-256-cfb",
             [cli, "encrypt", "--key", str(PGP_CERT), "--algorithm", "aes256", "--pgp", "seipdv1", "-o", out, str(src)],
             [*ours(PGP_CERT, "aes256", ["--pgp", "seipdv1"]),
              ("mailseal Python", pymailseal("aes256", PGP_CERT, ", pgp_format='seipdv1'"), have("mailseal")),
              ("Stalwart pipeline (Sequoia Encryptor + Armorer)", [pipelines, "sequoia-armorer", str(PGP_CERT), str(src), out], True),
              ("gpg -z 0 --armor", ["gpg", "--batch", "-q", "--yes", "--trust-model", "always", "-z", "0", "--armor",
                                    "--cipher-algo", "AES256", "-r", "alice@example.org", "-o", out, "-e", str(src)], True),
              ("sq encrypt", ["sq", "encrypt", "--recipient-cert", str(PGP_CERT), "--output", out, str(src)],
               shutil.which("sq") is not None),
              ("pysequoia", [py, "-c", (
                  "import pysequoia;"
                  f"pysequoia.encrypt_file({str(src)!r}, {out!r}, [pysequoia.Cert.from_file({str(PGP_CERT)!r})])")],
               have("pysequoia"))]),
        ]

        size = src.stat().st_size
        floor, START_UP[0] = 0.0, 0.0
        floor_wall, floor = measure(["true"], max(args.runs, 5))
        START_UP[0] = floor_wall
        print(f"# {size / 2**20:.1f} MiB message, median of {args.runs} runs: wall time without "
              f"the launcher's {floor_wall * 1000:.0f} ms, peak memory of the process "
              f"(the launcher's floor: {floor:.1f} MiB)\n")
        # The floor of any command writing a file of the message's size: read it, write it,
        # fsync it (as mailseal's CLI does before it renames its output into place).
        io_wall, io_peak = measure(["dd", f"if={src}", f"of={out}", "bs=1M", "conv=fsync", "status=none"],
                                   args.runs)
        print(f"The input/output floor (`dd bs=1M conv=fsync` of the message to a file): "
              f"{io_wall * 1000:.0f} ms, {io_peak:.1f} MiB.\n")
        print("| case | command | wall | peak | peer / mailseal CLI |")
        print("|---|---|---|---|---|")
        encrypt_walls: dict[str, float] = {}
        for name, cipher, ours, peers in cases:
            ours_wall, ours_peak = measure(ours, args.runs, genv)
            encrypt_walls[name] = ours_wall
            limit = size / openssl_speed(cipher)
            print(f"| {name} | mailseal CLI | {ours_wall * 1000:.0f} ms | {ours_peak:.1f} MiB | 1.00 "
                  f"(`openssl speed` {cipher}: {limit * 1000:.0f} ms for the bytes, "
                  f"mailseal at {limit / ours_wall:.2f} of it) |")
            for label, command, available in peers:
                if not available:
                    print(f"| {name} | {label} | not installed | | |")
                    continue
                wall, peak = measure(command, args.runs, genv)
                print(f"| {name} | {label} | {wall * 1000:.0f} ms | {peak:.1f} MiB | {wall / ours_wall:.2f} |")
        decryption(cli, src, work, out, genv, args.runs, encrypt_walls)
    finally:
        subprocess.run(["gpgconf", "--kill", "all"], env=dict(os.environ, GNUPGHOME=str(work / "gnupg")),
                       capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
