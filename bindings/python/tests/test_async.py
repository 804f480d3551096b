"""The asyncio face (AsyncAccountSession), async code providers, the blocking face called from
inside a running loop, and messages as files."""

from __future__ import annotations

import asyncio
import stat

import pytest

import mailseal
from mailseal import AccountSession, AsyncAccountSession, ConnectOptions, errors

from conftest import ALICE, ALICE_PASSWORD, MESSAGES, key, now

HELLO = (MESSAGES / "hello.eml").read_bytes()


async def _with_totp(server: str):
    alice = await AsyncAccountSession.connect_password(server, ALICE, ALICE_PASSWORD)
    enrollment = alice.new_totp_enrollment("Example")
    await alice.enable_totp(ALICE_PASSWORD, enrollment, enrollment.code_at(now()))
    return alice, enrollment


def test_async_session_runs_on_the_loop_without_blocking_it(server):
    async def main():
        ticks = 0
        stop = asyncio.Event()

        async def ticker():
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.001)

        task = asyncio.create_task(ticker())
        alice = await AsyncAccountSession.connect_password(
            server, ALICE, ALICE_PASSWORD, options=ConnectOptions(timeout_seconds=10)
        )
        assert isinstance(alice, AsyncAccountSession)
        assert alice.user == ALICE
        before = ticks
        results = await asyncio.gather(*(alice.availability() for _ in range(5)))
        assert all(not r.server_too_old for r in results)
        assert not await alice.totp_enabled()
        created = await alice.create_app_password("phone", allowed_ips=["127.0.0.1"])
        await alice.rename_app_password(created.id, "phone (work)")
        listed = await alice.list_app_passwords()
        assert [c.description for c in listed] == ["phone (work)"]
        await alice.revoke_app_password(created.id)
        assert await alice.list_app_passwords() == []
        stop.set()
        await task
        # The loop kept running while mailseal waited for the server.
        assert ticks > before
        # Both faces share the connection.
        assert alice.blocking().asyncio().user == ALICE

    asyncio.run(main())


def test_an_async_code_provider_is_awaited_on_the_running_loop(server):
    async def main():
        _, enrollment = await _with_totp(server)
        asked: list[str] = []
        loop = asyncio.get_running_loop()

        async def dialog(user: str) -> str | None:
            assert asyncio.get_running_loop() is loop
            await asyncio.sleep(0.01)
            asked.append(user)
            return enrollment.code_at(now())

        alice = await AsyncAccountSession.connect_with_code(
            server, ALICE, ALICE_PASSWORD, dialog
        )
        assert asked == [ALICE]
        assert alice.sign_in_method() == "oauth"
        assert await alice.totp_enabled()

        class Cancelled(Exception):
            pass

        async def cancel(user: str) -> str | None:
            raise Cancelled(user)

        with pytest.raises(Cancelled):
            await AsyncAccountSession.connect_with_code(server, ALICE, ALICE_PASSWORD, cancel)

        with pytest.raises(errors.AuthenticationError) as e:
            await AsyncAccountSession.connect_password(server, ALICE, ALICE_PASSWORD)
        assert e.value.code == "jmap.totp_required"

    asyncio.run(main())


def test_the_blocking_face_takes_an_async_provider_and_works_inside_a_loop(server):
    _, enrollment = asyncio.run(_with_totp(server))

    async def dialog(user: str) -> str | None:
        await asyncio.sleep(0)
        return enrollment.code_at(now())

    alice = AccountSession.connect_with_code(server, ALICE, ALICE_PASSWORD, dialog)
    assert alice.totp_enabled()

    async def inside_a_coroutine():
        # Blocking calls from a coroutine block that coroutine, but never fail with
        # "a runtime inside a runtime".
        session = AccountSession.connect_with_code(
            server, ALICE, ALICE_PASSWORD, lambda user: enrollment.code_at(now())
        )
        return session.totp_enabled()

    assert asyncio.run(inside_a_coroutine())


def test_messages_as_files(tmp_path):
    source = tmp_path / "in.eml"
    source.write_bytes(HELLO)
    stored, plain = tmp_path / "stored.eml", tmp_path / "plain.eml"
    out = mailseal.encrypt_file(source, stored, key("alice.pub.asc"))
    assert out.message == b"" and not out.already_encrypted
    assert mailseal.is_encrypted(stored.read_bytes())
    mailseal.decrypt_file(stored, plain, key("alice.sec.asc"))
    assert plain.read_bytes() == HELLO
    assert stat.S_IMODE(plain.stat().st_mode) == 0o600
    # A failure leaves the old output in place and no temporary file.
    with pytest.raises(errors.DecryptionError):
        mailseal.decrypt_file(source, plain, key("alice.sec.asc"))
    assert plain.read_bytes() == HELLO
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.eml", "plain.eml", "stored.eml"]
    with pytest.raises(errors.InvalidInputError) as e:
        mailseal.encrypt_file(tmp_path / "missing.eml", stored, key("alice.pub.asc"))
    assert e.value.code == "io.read"


def _availability_in_child(server: str, queue) -> None:
    session = AccountSession.connect_password(server, ALICE, ALICE_PASSWORD)
    queue.put(session.availability().server_too_old)


def test_a_forked_child_gets_a_runtime_of_its_own(server):
    import multiprocessing

    # The parent's runtime is running (its threads are not in the child).
    assert not AccountSession.connect_password(server, ALICE, ALICE_PASSWORD).totp_enabled()
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_availability_in_child, args=(server, queue))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0, "the child hung or failed"
    assert queue.get(timeout=5) is False


def test_concurrent_file_calls_to_one_output_never_mix(tmp_path):
    import concurrent.futures

    source = tmp_path / "in.eml"
    source.write_bytes(HELLO)
    stored = tmp_path / "stored.eml"
    mailseal.encrypt_file(source, stored, key("alice.crt.pem"))
    plain = tmp_path / "plain.eml"

    def one(_: int) -> None:
        mailseal.decrypt_file(stored, plain, key("alice.key.pem"))

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(32)))
    assert plain.read_bytes() == HELLO
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.eml", "plain.eml", "stored.eml"]
