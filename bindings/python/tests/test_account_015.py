"""Account security through Python against mailseal-testserver in Stalwart 0.15 mode: the
same calls as on 0.16, over the REST API the client finds by itself (issue 13)."""

from __future__ import annotations

import pytest

import mailseal
from mailseal import AccountSession, errors

from conftest import ALICE, ALICE_PASSWORD, REPO, now

BOB = "bob@example.org"
BOB_PASSWORD = "bob-Restricted-User-passphrase-11"
NEW_PASSWORD = "a-brand-new Passphrase for alice 42"
KEYS_015 = REPO / "tests" / "fixtures" / "stalwart-0.15.5" / "keys"


def key_015(name: str) -> bytes:
    return (KEYS_015 / name).read_bytes()


@pytest.fixture
def server015(servers) -> str:
    """A fresh test server imitating Stalwart 0.15.5."""
    return servers.start({"version": "0.15"})


class Codes:
    """A code provider answering from an enrollment."""

    def __init__(self, enrollment) -> None:
        self.enrollment = enrollment

    def __call__(self, user: str) -> str | None:
        return self.enrollment.code_at(now())


def test_the_api_is_found_on_connect(server015, server):
    alice = AccountSession.connect_password(server015, ALICE, ALICE_PASSWORD)
    assert alice.server_api() == "rest"
    assert alice.server_version() == "0.15.5"
    assert "app password" in alice.password_change_warning()
    new = AccountSession.connect_password(server, ALICE, ALICE_PASSWORD)
    assert new.server_api() == "jmap"
    assert new.server_version() is None and new.password_change_warning() is None
    assert alice.asyncio().server_api() == "rest"


def test_availability_on_015_names_its_permissions(server015):
    alice = AccountSession.connect_password(server015, ALICE, ALICE_PASSWORD)
    a = alice.availability()
    assert not a.server_too_old
    available = {f.feature for f in a.features if f.available}
    assert available == {"password", "totp", "app_passwords", "encryption_at_rest"}

    bob = AccountSession.connect_password(server015, BOB, BOB_PASSWORD)
    b = bob.availability()
    missing = {p for f in b.features for p in f.missing_permissions}
    assert missing == {"manage-passwords", "manage-encryption"}
    with pytest.raises(errors.MailsealError) as e:
        bob.totp_enabled()
    assert e.value.code == "jmap.http_forbidden"


def test_app_passwords_on_015(server015):
    alice = AccountSession.connect_password(server015, ALICE, ALICE_PASSWORD)
    app = alice.create_app_password("Thunderbird laptop")
    assert len(app.secret()) == 32 and app.secret() not in repr(app)
    [listed] = alice.list_app_passwords()
    assert (listed.id, listed.description) == (app.id, "Thunderbird laptop")
    by_app = AccountSession.connect_app_password(server015, ALICE, app.secret())
    assert by_app.sign_in_method() == "app_password"

    with pytest.raises(errors.NotAvailableError) as e:
        alice.create_api_key("backup script")
    assert e.value.code == "jmap.not_available"
    with pytest.raises(errors.NotAvailableError):
        alice.create_app_password("limited", allowed_ips=["127.0.0.1"])
    with pytest.raises(errors.NotAvailableError):
        alice.rename_app_password(app.id, "new name")

    alice.revoke_app_password(app.id)
    assert alice.list_app_passwords() == []
    with pytest.raises(errors.AuthenticationError) as e:
        AccountSession.connect_app_password(server015, ALICE, app.secret())
    assert e.value.code == "jmap.unauthorized"
    with pytest.raises(errors.MailsealError) as e:
        alice.revoke_app_password(app.id)
    assert e.value.code == "jmap.set.not_found"


def test_totp_and_password_change_on_015(server015):
    plain = AccountSession.connect_password(server015, ALICE, ALICE_PASSWORD)
    enrollment = plain.new_totp_enrollment("Example")
    # The password alone would be refused once TOTP is on: nothing is sent.
    with pytest.raises(errors.NotAvailableError):
        plain.enable_totp(ALICE_PASSWORD, enrollment, enrollment.code_at(now()))
    assert not plain.totp_enabled()

    alice = AccountSession.connect_with_code(server015, ALICE, ALICE_PASSWORD, Codes(enrollment))
    with pytest.raises(errors.InvalidInputError):
        alice.enable_totp(ALICE_PASSWORD, enrollment, "000000")
    alice.enable_totp(ALICE_PASSWORD, enrollment, enrollment.code_at(now()))
    assert alice.totp_enabled()
    assert alice.sign_in_method() == "password+code"

    with pytest.raises(errors.AuthenticationError) as e:
        alice.change_password(ALICE_PASSWORD, NEW_PASSWORD, "000000")
    assert e.value.code == "jmap.wrong_totp_code"
    with pytest.raises(errors.AuthenticationError) as e:
        alice.change_password("not the password at all 9", NEW_PASSWORD, enrollment.code_at(now()))
    assert e.value.code == "jmap.wrong_password"

    # On 0.15 the change also turns TOTP off; the session carries on with the new password.
    alice.change_password(ALICE_PASSWORD, NEW_PASSWORD, enrollment.code_at(now()))
    assert not alice.totp_enabled()
    again = AccountSession.connect_password(server015, ALICE, NEW_PASSWORD)
    assert again.sign_in_method() == "password"
    with pytest.raises(errors.AuthenticationError):
        AccountSession.connect_password(server015, ALICE, ALICE_PASSWORD)


def test_totp_disable_on_015(server015):
    alice = AccountSession.connect_password(server015, ALICE, ALICE_PASSWORD)
    enrollment = alice.new_totp_enrollment("Example")
    with_codes = AccountSession.connect_with_code(
        server015, ALICE, ALICE_PASSWORD, Codes(enrollment)
    )
    with_codes.enable_totp(ALICE_PASSWORD, enrollment, enrollment.code_at(now()))
    with pytest.raises(errors.AuthenticationError) as e:
        with_codes.disable_totp(ALICE_PASSWORD, "000000")
    assert e.value.code == "jmap.wrong_totp_code"
    with_codes.disable_totp(ALICE_PASSWORD, enrollment.code_at(now()))
    assert not with_codes.totp_enabled()
    assert with_codes.sign_in_method() == "password"


def test_encryption_at_rest_on_015(server015):
    alice = AccountSession.connect_password(server015, ALICE, ALICE_PASSWORD)
    assert not alice.encryption_settings().enabled
    enabled = alice.enable_encryption(
        key_015("pgp-rsa3072-public-comment.asc"), email=ALICE, algorithm="aes256"
    )
    assert enabled.key_id == "current"
    settings = alice.encryption_settings()
    assert settings.enabled and settings.algorithm == "aes256"
    assert settings.key is not None and settings.key.inspection is not None
    assert settings.key.inspection.format == mailseal.KeyFormat.OpenPgp

    alice.enable_encryption(
        key_015("smime-rsa3072-cert.pem"), email=ALICE, algorithm="aes128", allow_spam_training=True
    )
    settings = alice.encryption_settings()
    assert (settings.algorithm, settings.allow_spam_training) == ("aes128", True)
    assert settings.key.inspection.format == mailseal.KeyFormat.X509

    with pytest.raises(errors.NotAvailableError):
        alice.enable_encryption(key_015("smime-rsa3072-cert.pem"), email=ALICE, algorithm="aes256-gcm")
    with pytest.raises(errors.NotAvailableError):
        alice.enable_encryption(key_015("smime-p256-cert.pem"), email=ALICE)
    with pytest.raises(errors.InvalidKeyError):
        alice.enable_encryption(key_015("pgp-rsa3072-private.asc"), email=ALICE)
    assert alice.encryption_settings().algorithm == "aes128", "refusals change nothing"

    with pytest.raises(errors.NotAvailableError):
        alice.delete_public_key("current")
    assert alice.disable_encryption() == "current"
    assert not alice.encryption_settings().enabled
