"""mailseal-core through Python: key inspection, encryption at rest, decryption."""

from __future__ import annotations

import pickle

import pytest

import mailseal
from mailseal import errors

from conftest import MESSAGES, fixture_key, key

ALICE_PGP_FPR = "5D0FF481F8F86AF58893C65388E4B12B1581017E"
HELLO = (MESSAGES / "hello.eml").read_bytes()


def test_inspect_public_key():
    info = mailseal.inspect_key(key("alice.pub.asc"), email="alice@example.org")
    assert info.format == mailseal.KeyFormat.OpenPgp
    assert str(info.format) == "openpgp"
    assert info.usable
    assert info.fingerprints == [ALICE_PGP_FPR]
    assert all(p.severity != mailseal.Severity.Error for p in info.problems)
    [cert] = info.certificates
    assert cert.role == mailseal.CertificateRole.Recipient
    assert cert.fingerprint == ALICE_PGP_FPR
    assert any("alice@example.org" in n for n in cert.names)
    assert "KeyInspection" in repr(info)


def test_inspect_x509_certificate_and_evaluation_time():
    info = mailseal.inspect_key(key("alice.crt.pem"))
    assert info.format == mailseal.KeyFormat.X509
    assert info.usable
    assert info.expires is not None
    later = mailseal.inspect_key(key("alice.crt.pem"), at=info.expires + 86400)
    assert not later.usable
    assert "key.expired" in [p.code for p in later.problems]


def test_usable_for_whom_is_said_separately():
    rsa = mailseal.inspect_key(key("alice.crt.pem"))
    assert rsa.usable and rsa.usable_by_server and rsa.server_reason is None
    ec = mailseal.inspect_key(fixture_key("smime-p256.crt.pem"))
    assert ec.usable
    assert not ec.usable_by_server
    assert ec.server_reason is not None and "RSA" in ec.server_reason
    assert "0.16" in ec.server_versions


@pytest.mark.parametrize("name", ["alice.sec.asc", "alice.key.pem"])
def test_private_keys_are_refused(name):
    with pytest.raises(errors.InvalidKeyError) as e:
        mailseal.inspect_key(key(name))
    assert e.value.code == "key.private_key"
    assert isinstance(e.value, ValueError)
    assert isinstance(e.value, mailseal.MailsealError)
    assert "PRIVATE" not in str(e.value) or "BEGIN" not in str(e.value)


def test_encrypt_decrypt_round_trip():
    out = mailseal.encrypt(HELLO, key("alice.pub.asc"))
    assert isinstance(out.message, bytes)
    assert not out.already_encrypted
    assert out.algorithm == mailseal.DEFAULT_ALGORITHM == "aes256"
    assert out.advice is None
    assert mailseal.is_encrypted(out.message)
    assert not mailseal.is_encrypted(HELLO)
    assert b"Subject: Lunch on Friday?\r\n" in out.message
    assert b"free for lunch" not in out.message
    assert mailseal.decrypt(out.message, key("alice.sec.asc")) == HELLO

    again = mailseal.encrypt(out.message, key("alice.pub.asc"))
    assert again.already_encrypted
    assert again.message == out.message


def test_smime_with_aead_gives_advice_and_decrypts():
    out = mailseal.encrypt(HELLO, key("alice.crt.pem"), algorithm="aes256-gcm")
    assert out.advice is not None and "aes256" in out.advice
    assert mailseal.decrypt(out.message, key("alice.key.pem")) == HELLO


def test_errors_have_codes_and_families():
    with pytest.raises(errors.EncryptionError) as e:
        mailseal.encrypt(HELLO, key("alice.pub.asc"), algorithm="chacha20-poly1305")
    assert e.value.code == "encrypt.aead_with_openpgp"

    with pytest.raises(errors.InvalidInputError) as e:
        mailseal.encrypt(HELLO, key("alice.pub.asc"), algorithm="rot13")
    assert isinstance(e.value, ValueError)

    stored = mailseal.encrypt(HELLO, key("alice.pub.asc")).message
    with pytest.raises(errors.DecryptionError) as e:
        mailseal.decrypt(stored, key("alice.key.pem"))
    assert e.value.code.startswith("decrypt.")

    with pytest.raises(TypeError):
        mailseal.encrypt(HELLO.decode(), key("alice.pub.asc"))  # type: ignore[arg-type]

    copy = pickle.loads(pickle.dumps(e.value))
    assert type(copy) is errors.DecryptionError and copy.code == e.value.code


def test_damaged_key_has_a_plain_message_and_the_parser_text_as_detail():
    binary = mailseal.inspect_key(key("alice.pub.asc"))  # readable as a whole
    assert binary.usable
    text = key("alice.pub.asc").decode()
    lines = text.splitlines()
    body = [l for l in lines if l and not l.startswith("-----") and ":" not in l]
    # Keep the armor but cut the key in half: the packets end early.
    half = lines[:2] + body[: len(body) // 2] + [lines[-1]]
    with pytest.raises(errors.InvalidKeyError) as e:
        mailseal.inspect_key("\n".join(half).encode() + b"\n")
    assert e.value.code == "key.malformed", e.value
    assert e.value.detail, "the parser's own words are kept for developers"
    assert e.value.detail not in e.value.message
    assert pickle.loads(pickle.dumps(e.value)).detail == e.value.detail
    # An error with nothing more to say has no detail.
    with pytest.raises(errors.InvalidInputError) as e:
        mailseal.encrypt(HELLO, key("alice.pub.asc"), algorithm="rot13")
    assert e.value.detail is None


def test_options_are_enums_or_their_names():
    by_enum = mailseal.encrypt(
        HELLO,
        key("alice.pub.asc"),
        algorithm=mailseal.Algorithm.Aes128,
        pgp_format=mailseal.PgpFormat.Seipdv1,
    )
    assert by_enum.algorithm == "aes128"
    assert mailseal.decrypt(by_enum.message, key("alice.sec.asc")) == HELLO
    assert mailseal.algorithm_advice(mailseal.Algorithm.Aes256Gcm) == mailseal.algorithm_advice(
        "aes256-gcm"
    )
    with pytest.raises(TypeError):
        mailseal.encrypt(HELLO, key("alice.pub.asc"), algorithm=7)  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidInputError) as e:
        mailseal.encrypt(HELLO, key("alice.pub.asc"), pgp_format="v3")
    assert e.value.code == "input.unknown_pgp_format"


def test_recipients_are_read_once_for_many_messages(tmp_path):
    alice = mailseal.Recipients(key("alice.crt.pem"), email="alice@example.org")
    assert alice.inspection.usable_by_server
    for n in range(3):
        message = HELLO.replace(b"Lunch", f"Lunch {n}".encode())
        out = alice.encrypt(message, algorithm=mailseal.Algorithm.Aes128)
        assert out.algorithm == "aes128"
        assert mailseal.decrypt(out.message, key("alice.key.pem")) == message
    source, stored = tmp_path / "in.eml", tmp_path / "stored.eml"
    source.write_bytes(HELLO)
    alice.encrypt_file(source, stored)
    assert mailseal.decrypt(stored.read_bytes(), key("alice.key.pem")) == HELLO
    with pytest.raises(errors.InvalidKeyError) as e:
        mailseal.Recipients(key("alice.key.pem"))
    assert e.value.code == "key.private_key"
    # Another address is said, as encrypt says it (a warning: the key still works).
    bob = mailseal.Recipients(key("alice.crt.pem"), email="bob@example.org")
    assert "key.email_mismatch" in [p.code for p in bob.inspection.problems]


def test_algorithm_advice():
    for aead in ["aes256-gcm", "chacha20-poly1305"]:
        advice = mailseal.algorithm_advice(aead)
        assert advice is not None and "aes256" in advice
    assert mailseal.algorithm_advice("aes256") is None
    with pytest.raises(errors.InvalidInputError) as e:
        mailseal.algorithm_advice("des")
    assert e.value.code == "input.unknown_algorithm"
    assert isinstance(e.value, ValueError)
    with pytest.raises(errors.InvalidInputError) as e:
        mailseal.encrypt(HELLO, key("alice.pub.asc"), pgp_format="v3")
    assert e.value.code == "input.unknown_pgp_format"
    assert mailseal.ALGORITHMS == ["aes128", "aes256", "aes256-gcm", "chacha20-poly1305"]
