"""Encrypting the mail already in the account (``encrypt_existing``) from Python, against
mailseal-testserver on 127.0.0.1: the refusals before anything changes, the progress
callable (and its exceptions), both faces, and a run over messages imported over JMAP."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import urllib.request

import pytest

from mailseal import (
    AccountSession,
    AsyncAccountSession,
    EncryptExistingOptions,
    EncryptReport,
    Phase,
    Progress,
    errors,
)

from conftest import ALICE, ALICE_PASSWORD, MESSAGES, key

HELLO = (MESSAGES / "hello.eml").read_bytes()


def _alice(server: str, encryption: bool = True) -> AccountSession:
    alice = AccountSession.connect_password(server, ALICE, ALICE_PASSWORD)
    if encryption:
        alice.enable_encryption(key("alice.crt.pem"), email=ALICE)
    return alice


def _jmap(server: str, method: str, url: str, body: bytes, content_type: str) -> dict:
    auth = base64.b64encode(f"{ALICE}:{ALICE_PASSWORD}".encode()).decode()
    request = urllib.request.Request(
        url,
        data=body,
        method=method,
        headers={"Authorization": f"Basic {auth}", "Content-Type": content_type},
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read())


def _import(server: str, messages: list[bytes]) -> list[str]:
    """Puts `messages` in alice's inbox the way a mail program would (upload, Email/import);
    returns their ids."""
    session = _jmap(server, "GET", server + "/.well-known/jmap", None, "application/json")
    account = session["primaryAccounts"]["urn:ietf:params:jmap:mail"]
    using = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"]

    def call(name: str, args: dict) -> dict:
        body = json.dumps({"using": using, "methodCalls": [[name, args, "0"]]}).encode()
        answer = _jmap(server, "POST", session["apiUrl"], body, "application/json")
        reply_name, reply, _ = answer["methodResponses"][0]
        assert reply_name == name, answer
        return reply

    mailboxes = call("Mailbox/get", {"accountId": account, "ids": None})["list"]
    inbox = next(m["id"] for m in mailboxes if m.get("role") == "inbox")
    ids = []
    for i, raw in enumerate(messages):
        upload = session["uploadUrl"].replace("{accountId}", account)
        blob = _jmap(server, "POST", upload, raw, "message/rfc822")["blobId"]
        created = call(
            "Email/import",
            {
                "accountId": account,
                "emails": {
                    f"m{i}": {
                        "blobId": blob,
                        "mailboxIds": {inbox: True},
                        "keywords": {"$seen": True},
                        "receivedAt": "2025-11-22T06:07:13Z",
                    }
                },
            },
        )["created"]
        ids.append(created[f"m{i}"]["id"])
    return ids


def _message(i: int) -> bytes:
    return (
        f"From: s{i}@example.net\r\nTo: {ALICE}\r\nSubject: message {i}\r\n"
        f"Message-ID: <py{i}@example.net>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain\r\n\r\nbody {i}\r\n"
    ).encode()


def test_options_have_defaults_and_keep_the_key_to_themselves():
    default = EncryptExistingOptions()
    assert (default.dry_run, default.concurrency, default.max_wait_seconds) == (False, 0, 7200)
    assert default.mailboxes == [] and default.since is None and not default.verifies
    secret = key("alice.key.pem")
    options = EncryptExistingOptions(
        mailboxes=["Inbox"], since=1_700_000_000, verify_key=secret, verify_key_password="pw"
    )
    assert options.verifies and options.mailboxes == ["Inbox"]
    assert "PRIVATE KEY" not in repr(options) and "pw" not in repr(options)
    assert not hasattr(options, "verify_key")


def test_it_is_refused_while_encryption_at_rest_is_off(server, tmp_path):
    alice = _alice(server, encryption=False)
    state = tmp_path / "state.json"
    with pytest.raises(errors.NotAvailableError) as refused:
        alice.encrypt_existing(state)
    assert refused.value.code == "jmap.not_available"
    assert not state.exists()


def test_a_state_file_that_is_not_one_is_refused(server, tmp_path):
    alice = _alice(server)
    state = tmp_path / "state.json"
    state.write_text("not json")
    with pytest.raises(errors.InvalidInputError) as refused:
        alice.encrypt_existing(str(state), EncryptExistingOptions(dry_run=True))
    assert refused.value.code == "jmap.state_file"
    assert state.read_text() == "not json"


def test_bad_arguments_are_refused_when_the_call_is_made(server, tmp_path):
    alice = _alice(server)
    with pytest.raises(TypeError):
        alice.encrypt_existing(tmp_path / "s.json", None, "not callable")
    with pytest.raises(errors.DecryptionError) as bad_key:
        alice.encrypt_existing(
            tmp_path / "s.json", EncryptExistingOptions(verify_key=b"not a key")
        )
    assert bad_key.value.code == "decrypt.private_key"
    with pytest.raises(errors.InvalidInputError) as bad_time:
        alice.encrypt_existing(tmp_path / "s.json", EncryptExistingOptions(since=2**62))
    assert bad_time.value.code == "input.time_out_of_range"


def test_a_dry_run_on_an_empty_account_tells_progress_from_another_thread(server, tmp_path):
    alice = _alice(server)
    seen: list[Progress] = []
    threads: set[int] = set()

    def progress(p: Progress) -> None:
        threads.add(threading.get_ident())
        seen.append(p)

    report = alice.encrypt_existing(
        tmp_path / "state.json", EncryptExistingOptions(dry_run=True), progress
    )
    assert isinstance(report, EncryptReport)
    assert report.dry_run and report.complete
    assert (report.examined, report.planned, report.failed) == (0, [], [])
    assert seen and seen[-1].phase == Phase.Finished and str(seen[-1].phase) == "finished"
    assert threading.get_ident() not in threads


def test_an_exception_in_progress_stops_the_run_and_reaches_the_caller(server, tmp_path):
    alice = _alice(server)

    class Stop(Exception):
        pass

    calls = []

    def progress(p: Progress) -> None:
        calls.append(p)
        raise Stop("the user pressed cancel")

    with pytest.raises(Stop, match="pressed cancel"):
        alice.encrypt_existing(tmp_path / "state.json", None, progress)
    assert len(calls) == 1
    # The session is still good, and the next call is not stopped by the old exception.
    report = alice.encrypt_existing(tmp_path / "state.json", EncryptExistingOptions(dry_run=True))
    assert report.complete


def test_the_asyncio_face_awaits_the_run(server, tmp_path):
    _alice(server)

    async def main():
        alice = await AsyncAccountSession.connect_password(server, ALICE, ALICE_PASSWORD)
        phases = []
        report = await alice.encrypt_existing(
            tmp_path / "state.json",
            options=EncryptExistingOptions(dry_run=True),
            progress=lambda p: phases.append(p.phase),
        )
        return report, phases

    report, phases = asyncio.run(main())
    assert report.dry_run and phases[-1] == Phase.Finished


def test_imported_messages_are_planned_then_encrypted(server, tmp_path):
    alice = _alice(server)
    ids = _import(server, [_message(0), _message(1), HELLO])
    state = tmp_path / "state.json"

    plan = alice.encrypt_existing(state, EncryptExistingOptions(dry_run=True))
    assert sorted(p.id for p in plan.planned) == sorted(ids)
    assert all(p.mailboxes == ["Inbox"] for p in plan.planned)
    assert plan.planned_bytes > sum(p.size for p in plan.planned)

    seen: list[Progress] = []
    pem = key("alice.key.pem") + key("alice.crt.pem")
    report = alice.encrypt_existing(
        state, EncryptExistingOptions(verify_key=pem, concurrency=2), seen.append
    )
    assert report.complete and not report.dry_run
    assert (report.encrypted, report.failed, report.skipped) == (3, [], [])
    assert report.bytes_after > report.bytes_before
    assert seen[-1].phase == Phase.Finished and seen[-1].done == 3
    assert [p.done for p in seen] == sorted(p.done for p in seen)

    again = alice.encrypt_existing(state)
    assert (again.encrypted, again.already_encrypted, again.complete) == (0, 3, True)
