"""Shared fixtures: paths to the sample keys, and the mailseal-testserver binary.

The server is built by cargo before pytest runs (scripts/test does it); it is looked up as
$MAILSEAL_TESTSERVER, then under $CARGO_TARGET_DIR/debug, then target/debug. Each test
module gets a launcher that stops every server it started when the module ends; the
``server`` fixture gives each test a fresh one (account state changes stay in that test).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
KEYS = REPO / "examples" / "keys"
MESSAGES = REPO / "examples" / "messages"
FIXTURE_KEYS = REPO / "tests" / "fixtures" / "stalwart-0.16.19" / "keys"

ALICE = "alice@example.org"
ALICE_PASSWORD = "alice-Golden-Fixture-passphrase-26"


def key(name: str) -> bytes:
    return (KEYS / name).read_bytes()


def fixture_key(name: str) -> bytes:
    # Shipped in the repository: a missing file is an error, never a skipped test.
    return (FIXTURE_KEYS / name).read_bytes()


def now() -> int:
    return int(time.time())


def _testserver_binary() -> Path:
    candidates = []
    if os.environ.get("MAILSEAL_TESTSERVER"):
        candidates.append(Path(os.environ["MAILSEAL_TESTSERVER"]))
    target = os.environ.get("CARGO_TARGET_DIR")
    if target:
        candidates.append(Path(target) / "debug" / "mailseal-testserver")
    candidates.append(REPO / "target" / "debug" / "mailseal-testserver")
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return c
    raise RuntimeError(
        "mailseal-testserver not found (looked at "
        + ", ".join(str(c) for c in candidates)
        + "); build it first: cargo build -p mailseal-testserver"
    )


class Servers:
    """Starts mailseal-testserver processes on 127.0.0.1 and stops them again."""

    def __init__(self, binary: Path) -> None:
        self.binary = binary
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, config: dict | None = None) -> str:
        """Starts a server (with `config`, the test server's JSON configuration, if given)
        and returns its base URL."""
        args = [str(self.binary), "--port", "0"]
        if config is not None:
            args += ["--config-json", json.dumps(config)]
        proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.procs.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        prefix = "listening "
        if not line.startswith(prefix + "http://127.0.0.1:"):
            self.stop(proc)
            raise RuntimeError(f"mailseal-testserver did not start: {line!r}")
        return line[len(prefix) :]

    def stop(self, proc: subprocess.Popen[str]) -> None:
        if proc.poll() is None:
            # Closing stdin is the server's signal to exit.
            try:
                if proc.stdin is not None:
                    proc.stdin.close()
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None and not stream.closed:
                stream.close()

    def stop_all(self) -> None:
        while self.procs:
            self.stop(self.procs.pop())


@pytest.fixture(scope="module")
def servers():
    launcher = Servers(_testserver_binary())
    yield launcher
    launcher.stop_all()


@pytest.fixture
def server(servers: Servers) -> str:
    """The base URL of a fresh test server (alice has her default password, no TOTP)."""
    return servers.start()
