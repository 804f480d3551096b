"""Account security through Python against mailseal-testserver on 127.0.0.1: sign-in that
survives two-factor authentication, and the safety rails (issue "Sign-in that survives
two-factor authentication, and the safety rails")."""

from __future__ import annotations

import pytest

import mailseal
from mailseal import AccountSession, OAuthTokens, TotpEnrollment, errors

from conftest import ALICE, ALICE_PASSWORD, fixture_key, key, now

NEW_PASSWORD = "a-brand-new Passphrase for alice 42"
SHORT_SECRET_URL = (
    "otpauth://totp/Example:alice%40example.org?secret=JBSWY3DPEHPK3PXP&issuer=Example"
)


class Codes:
    """A code provider: answers from a TOTP enrollment and records who was asked."""

    def __init__(self, enrollment: TotpEnrollment | None) -> None:
        self.enrollment = enrollment
        self.asked: list[str] = []

    def __call__(self, user: str) -> str | None:
        self.asked.append(user)
        return None if self.enrollment is None else self.enrollment.code_at(now())


def enable_totp(server: str) -> tuple[AccountSession, TotpEnrollment]:
    session = AccountSession.connect_password(server, ALICE, ALICE_PASSWORD)
    enrollment = session.new_totp_enrollment("Example")
    session.enable_totp(ALICE_PASSWORD, enrollment, enrollment.code_at(now()))
    return session, enrollment


def test_enabling_totp_keeps_the_session_and_a_code_provider_signs_in(server):
    alice = AccountSession.connect_password(server, ALICE, ALICE_PASSWORD)
    assert alice.user == ALICE
    assert alice.sign_in_method() == "password"
    assert alice.tokens() is None
    assert not alice.totp_enabled()

    enrollment = alice.new_totp_enrollment("Example")
    assert enrollment.otpauth_url().startswith("otpauth://totp/")
    assert enrollment.qr_svg().startswith("<?xml")
    assert enrollment.secret_base32() not in repr(enrollment)
    alice.enable_totp(ALICE_PASSWORD, enrollment, enrollment.code_at(now()))
    assert alice.sign_in_method() == "oauth"
    assert alice.totp_enabled()

    # The password alone is now refused ...
    with pytest.raises(errors.AuthenticationError) as e:
        AccountSession.connect_password(server, ALICE, ALICE_PASSWORD)
    assert e.value.code == "jmap.totp_required"

    # ... a code provider signs in through OAuth ...
    codes = Codes(enrollment)
    again = AccountSession.connect_with_code(server, ALICE, ALICE_PASSWORD, codes)
    assert again.sign_in_method() == "oauth"
    assert codes.asked == [ALICE]
    assert again.totp_enabled()

    # ... and the session that switched it on (now on OAuth) can turn it off again.
    alice.disable_totp(ALICE_PASSWORD, enrollment.code_at(now()))
    assert not alice.totp_enabled()
    assert not again.totp_enabled()
    plain = AccountSession.connect_password(server, ALICE, ALICE_PASSWORD)
    assert plain.sign_in_method() == "password"


def test_a_provider_that_gives_up_or_is_wrong_is_an_authentication_error(server):
    enable_totp(server)
    for codes in [Codes(None)]:
        with pytest.raises(errors.AuthenticationError):
            AccountSession.connect_with_code(server, ALICE, ALICE_PASSWORD, codes)
        assert codes.asked == [ALICE]
    with pytest.raises(errors.AuthenticationError) as e:
        AccountSession.connect_with_code(server, ALICE, ALICE_PASSWORD, lambda user: "000000")
    assert e.value.code == "jmap.unauthorized"
    with pytest.raises(TypeError):
        AccountSession.connect_with_code(server, ALICE, ALICE_PASSWORD, "123456")  # type: ignore[arg-type]


def test_password_change_signs_in_again_but_a_tokens_only_session_must_sign_in(server):
    _, enrollment = enable_totp(server)
    codes = Codes(enrollment)
    alice = AccountSession.connect_with_code(server, ALICE, ALICE_PASSWORD, codes)
    tokens = alice.tokens()
    assert tokens is not None
    tokens_only = AccountSession.connect_tokens(server, tokens)
    assert tokens_only.totp_enabled()

    alice.change_password(ALICE_PASSWORD, NEW_PASSWORD, enrollment.code_at(now()))
    # The server revoked every token; the session with the password signs in again.
    assert alice.totp_enabled()
    assert alice.sign_in_method() == "oauth"
    assert codes.asked == [ALICE, ALICE], "the new sign-in asked for a code again"
    assert alice.list_app_passwords() == []

    with pytest.raises(errors.AuthenticationError) as e:
        tokens_only.totp_enabled()
    assert e.value.code == "jmap.sign_in_required"

    with pytest.raises(errors.AuthenticationError):
        AccountSession.connect_with_code(server, ALICE, ALICE_PASSWORD, Codes(enrollment))
    AccountSession.connect_with_code(server, ALICE, NEW_PASSWORD, Codes(enrollment))


def test_saved_tokens_restore(server):
    _, enrollment = enable_totp(server)
    codes = Codes(enrollment)
    tokens = AccountSession.sign_in(server, ALICE, ALICE_PASSWORD, codes)
    assert codes.asked == [ALICE]
    assert tokens.user == ALICE
    assert tokens.expires_at > now()

    saved = tokens.to_json()
    access = saved.split('"access_token":"')[1].split('"')[0]
    assert access not in repr(tokens)
    restored = OAuthTokens.from_json(saved)
    assert restored == tokens

    alice = AccountSession.connect_tokens(server, restored)
    assert alice.sign_in_method() == "oauth"
    assert alice.totp_enabled()
    current = alice.tokens()
    assert current is not None and current.user == ALICE

    with pytest.raises(errors.InvalidInputError) as e:
        OAuthTokens.from_json("{not json")
    assert e.value.code == "jmap.invalid_input"
    assert isinstance(e.value, ValueError)


def test_app_passwords_and_api_keys(server):
    alice = AccountSession.connect_password(server, ALICE, ALICE_PASSWORD)
    availability = alice.availability()
    assert not availability.server_too_old
    assert {f.feature for f in availability.features if f.available} >= {
        "password",
        "totp",
        "app_passwords",
        "api_keys",
        "encryption_at_rest",
    }

    app = alice.create_app_password("Thunderbird laptop")
    assert app.secret() not in repr(app)
    [listed] = alice.list_app_passwords()
    assert (listed.id, listed.description) == (app.id, "Thunderbird laptop")
    assert listed.permission_mode == "inherit"
    key_ = alice.create_api_key("backup script", allowed_ips=["127.0.0.1"])
    [listed_key] = alice.list_api_keys()
    assert listed_key.allowed_ips == ["127.0.0.1"]

    # Both keep working while two-factor authentication is on.
    alice.enable_totp(ALICE_PASSWORD, enrollment := alice.new_totp_enrollment("Example"), enrollment.code_at(now()))
    by_app = AccountSession.connect_app_password(server, ALICE, app.secret())
    assert by_app.sign_in_method() == "app_password"
    assert by_app.totp_enabled()
    by_key = AccountSession.connect_api_key(server, key_.secret())
    assert by_key.sign_in_method() == "api_key"

    alice.revoke_app_password(app.id)
    alice.revoke_api_key(key_.id)
    assert alice.list_app_passwords() == [] and alice.list_api_keys() == []
    with pytest.raises(errors.AuthenticationError) as e:
        AccountSession.connect_app_password(server, ALICE, app.secret())
    assert e.value.code == "jmap.unauthorized"


def test_totp_urls_that_would_lock_the_user_out_are_refused():
    with pytest.raises(errors.InvalidInputError) as e:
        mailseal.validate_totp_url(SHORT_SECRET_URL)
    assert e.value.code == "jmap.invalid_input"
    assert isinstance(e.value, ValueError)

    good = TotpEnrollment("Example", ALICE).otpauth_url()
    mailseal.validate_totp_url(good)
    with pytest.raises(errors.InvalidInputError):
        mailseal.validate_totp_url(good.replace("otpauth", "OTPAUTH", 1))


def test_private_keys_never_reach_the_server(server):
    alice = AccountSession.connect_password(server, ALICE, ALICE_PASSWORD)
    for name in ["alice.sec.asc", "alice.key.pem"]:
        with pytest.raises(errors.InvalidKeyError) as e:
            alice.enable_encryption(key(name), email=ALICE)
        assert e.value.code == "key.private_key"
    assert alice.public_keys() == []
    assert not alice.encryption_settings().enabled


def test_ec_certificates_are_refused_unless_overridden(server):
    alice = AccountSession.connect_password(server, ALICE, ALICE_PASSWORD)
    p256 = fixture_key("smime-p256.crt.pem")
    with pytest.raises(errors.NotAvailableError) as e:
        alice.enable_encryption(p256, email=ALICE, algorithm="aes128")
    assert e.value.code == "jmap.not_available"
    assert "queue" in e.value.message
    assert alice.public_keys() == []

    done = alice.enable_encryption(p256, email=ALICE, algorithm="aes128", allow_ec_certificate=True)
    assert "key.ec_limited_support" in [p.code for p in done.inspection.problems]
    settings = alice.encryption_settings()
    assert settings.enabled and settings.algorithm == "aes128"
    assert settings.key is not None and "BEGIN CERTIFICATE" in settings.key.key

    # Switching off removes the key it used.
    assert alice.disable_encryption() == done.key_id
    assert not alice.encryption_settings().enabled
    assert alice.public_keys() == []


def test_aead_algorithms_come_with_advice(server):
    alice = AccountSession.connect_password(server, ALICE, ALICE_PASSWORD)
    done = alice.enable_encryption(key("alice.crt.pem"), email=ALICE, algorithm="aes256-gcm")
    assert done.advice is not None and "aes256" in done.advice
    assert alice.encryption_settings().algorithm == "aes256-gcm"
    with pytest.raises(errors.EncryptionError) as e:
        alice.enable_encryption(key("alice.pub.asc"), email=ALICE, algorithm="chacha20-poly1305")
    assert e.value.code == "encrypt.aead_with_openpgp"


def test_armor_headers_are_stripped_before_upload(server):
    alice = AccountSession.connect_password(server, ALICE, ALICE_PASSWORD)

    recorded = fixture_key("pgp-rsa3072.pub-comment.asc")
    assert b"\nComment: " in recorded
    done = alice.enable_encryption(recorded, email=ALICE)
    assert done.inspection.fingerprints == ["FFEF189AAFB5BBF94B8BDB28B091EDC86A1BDDC2"]
    assert done.advice is None
    settings = alice.encryption_settings()
    assert settings.algorithm == "aes256"
    assert settings.key is not None
    assert "Comment:" not in settings.key.key
    assert settings.key.inspection is not None
    assert settings.key.inspection.fingerprints == ["FFEF189AAFB5BBF94B8BDB28B091EDC86A1BDDC2"]

    # alice.pub.asc with both headers gpg writes.
    begin = b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n"
    plain = key("alice.pub.asc")
    assert plain.startswith(begin)
    headed = begin + b"Version: GnuPG v2\nComment: https://example.org/alice\n" + plain[len(begin) :]
    done = alice.enable_encryption(headed, email=ALICE)
    assert done.inspection.fingerprints == ["5D0FF481F8F86AF58893C65388E4B12B1581017E"]
    stored = alice.encryption_settings().key
    assert stored is not None
    assert "Version:" not in stored.key and "Comment:" not in stored.key
    # The switch removed the key used before: keys do not pile up.
    assert [k.id for k in alice.public_keys()] == [done.key_id]


def test_encryption_keys_do_not_pile_up(server):
    alice = AccountSession.connect_password(server, ALICE, ALICE_PASSWORD)
    cert = fixture_key("smime-rsa3072.crt.pem")
    ids = set()
    for _ in range(2):
        for algorithm in mailseal.ALGORITHMS:
            ids.add(alice.enable_encryption(cert, algorithm=algorithm).key_id)
            assert len(alice.public_keys()) == 1
    assert len(ids) == 1
    # The key in use cannot be deleted; the error says what to do.
    with pytest.raises(errors.MailsealError) as e:
        alice.delete_public_key(ids.pop())
    assert e.value.code == "jmap.set.object_is_linked"
    assert "encryption disable" in str(e.value)
    # keep_key keeps it.
    assert alice.disable_encryption(keep_key=True) is None
    assert len(alice.public_keys()) == 1


def test_keys_for_another_address_need_consent(server):
    alice = AccountSession.connect_password(server, ALICE, ALICE_PASSWORD)
    with pytest.raises(errors.NotAvailableError) as e:
        alice.enable_encryption(key("alice.crt.pem"), email="carol@example.org")
    assert "allow_other_address" in e.value.message
    assert alice.public_keys() == []
    done = alice.enable_encryption(
        key("alice.crt.pem"), email="carol@example.org", allow_other_address=True
    )
    assert done.inspection.usable


def test_a_session_on_another_origin_gets_no_credentials(servers):
    """A server whose session names another port of 127.0.0.1 as its apiUrl: the sign-in is
    refused with jmap.foreign_origin naming both origins, and the other port hears nothing."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as catcher:
        catcher.bind(("127.0.0.1", 0))
        catcher.listen(1)
        catcher.setblocking(False)
        foreign = f"http://127.0.0.1:{catcher.getsockname()[1]}"
        server = servers.start({"sessionOverrides": {"apiUrl": f"{foreign}/jmap/"}})
        with pytest.raises(errors.MailsealError) as e:
            AccountSession.connect_password(server, ALICE, ALICE_PASSWORD)
        assert e.value.code == "jmap.foreign_origin"
        assert foreign in str(e.value) and server.rstrip("/") in str(e.value)
        with pytest.raises(BlockingIOError):
            catcher.accept()


class PromptCancelled(Exception):
    """What an app's code dialog might raise."""


def test_an_exception_in_the_code_provider_reaches_the_caller(server):
    _, enrollment = enable_totp(server)

    def cancelled(user: str) -> str | None:
        raise PromptCancelled(f"the user closed the dialog for {user}")

    with pytest.raises(PromptCancelled) as e:
        AccountSession.connect_with_code(server, ALICE, ALICE_PASSWORD, cancelled)
    assert ALICE in str(e.value)
    with pytest.raises(PromptCancelled):
        AccountSession.sign_in(server, ALICE, ALICE_PASSWORD, cancelled)
    # A provider that answers still works, and one that returns None is "no code given".
    with pytest.raises(errors.AuthenticationError) as e2:
        AccountSession.connect_with_code(server, ALICE, ALICE_PASSWORD, lambda user: None)
    assert e2.value.code == "jmap.sign_in_required"
    ok = AccountSession.connect_with_code(server, ALICE, ALICE_PASSWORD, Codes(enrollment))
    assert ok.sign_in_method() == "oauth"


def test_expiry_times_are_checked_not_panicked_on(server):
    alice = AccountSession.connect_password(server, ALICE, ALICE_PASSWORD)
    year_99999 = 3_093_527_980_800
    for bad, code in [
        (year_99999, "input.time_out_of_range"),
        (-86_400 * 365 * 3000, "input.time_out_of_range"),
        (now() - 60, "jmap.invalid_input"),
    ]:
        with pytest.raises(errors.InvalidInputError) as e:
            alice.create_app_password("expiry check", expires_at=bad)
        assert e.value.code == code, (bad, e.value.code)
        assert isinstance(e.value, ValueError)
    assert alice.list_app_passwords() == []
    later = alice.create_app_password("in a year", expires_at=now() + 365 * 86_400)
    [listed] = alice.list_app_passwords()
    assert listed.id == later.id and listed.expires_at is not None


def test_wrong_password_and_empty_secrets_in_python(server):
    alice = AccountSession.connect_password(server, ALICE, ALICE_PASSWORD)
    with pytest.raises(errors.AuthenticationError) as e:
        alice.change_password("not the password", NEW_PASSWORD)
    assert e.value.code == "jmap.wrong_password"
    with pytest.raises(errors.InvalidInputError) as e:
        AccountSession.connect_password(server, ALICE, "")
    assert e.value.code == "jmap.invalid_input"
    with pytest.raises(errors.InvalidInputError):
        AccountSession.connect_api_key(server, "")
