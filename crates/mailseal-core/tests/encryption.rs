//! Encryption and decryption through the public API: round trips for every key type and
//! algorithm, streaming and in-memory, already-encrypted input, bad input and tampering.
//! (Independent engines check the same output in `tests/interop_matrix.rs`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::OnceLock;

use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{BasicConstraints, ExtendedKeyUsage, KeyUsage};
use openssl::x509::{X509, X509NameBuilder};
use proptest::prelude::*;

use mailseal_core::{
    Algorithm, EncryptOptions, Outcome, PgpFormat, Policy, PrivateKey, RecipientKey, Recipients,
    decrypt, decrypt_stream, encrypt, encrypt_stream, is_encrypted,
};

const HELLO: &[u8] = include_bytes!("../../../examples/messages/hello.eml");
const PGP_PUB: &[u8] = include_bytes!("../../../examples/keys/alice.pub.asc");
const PGP_SEC: &[u8] = include_bytes!("../../../examples/keys/alice.sec.asc");
const RSA_CRT: &[u8] = include_bytes!("../../../examples/keys/alice.crt.pem");
const RSA_KEY: &[u8] = include_bytes!("../../../examples/keys/alice.key.pem");

fn recipients(public: &[u8]) -> Recipients {
    RecipientKey::from_bytes(public)
        .unwrap()
        .validate(&Policy::standard())
        .unwrap()
}

fn secret(data: &[u8]) -> PrivateKey {
    PrivateKey::from_bytes(data, None).unwrap()
}

/// A self-signed S/MIME certificate for `key` (CA:FALSE, the right key usage).
fn self_signed(key: &PKey<Private>, agreement: bool) -> Vec<u8> {
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "Test").unwrap();
    let name = name.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&BigNum::from_u32(7).unwrap().to_asn1_integer().unwrap())
        .unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(365).unwrap())
        .unwrap();
    b.append_extension(BasicConstraints::new().build().unwrap())
        .unwrap();
    let mut ku = KeyUsage::new();
    if agreement {
        ku.key_agreement();
    } else {
        ku.key_encipherment();
    }
    b.append_extension(ku.critical().build().unwrap()).unwrap();
    b.append_extension(ExtendedKeyUsage::new().email_protection().build().unwrap())
        .unwrap();
    b.sign(key, MessageDigest::sha256()).unwrap();
    b.build().to_pem().unwrap()
}

/// (name, public certificate PEM, private key PEM).
type TestKey = (&'static str, Vec<u8>, Vec<u8>);

/// EC and X25519 recipients. X25519 cannot sign its own certificate, so a throwaway EC key
/// signs it.
fn generated_keys() -> &'static Vec<TestKey> {
    static KEYS: OnceLock<Vec<TestKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut out = Vec::new();
        for (name, nid) in [
            ("p256", Nid::X9_62_PRIME256V1),
            ("p384", Nid::SECP384R1),
            ("p521", Nid::SECP521R1),
        ] {
            let group = EcGroup::from_curve_name(nid).unwrap();
            let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
            out.push((
                name,
                self_signed(&key, true),
                key.private_key_to_pem_pkcs8().unwrap(),
            ));
        }
        let x = PKey::generate_x25519().unwrap();
        let signer = PKey::from_ec_key(
            EcKey::generate(&EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap()).unwrap(),
        )
        .unwrap();
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "X").unwrap();
        let name = name.build();
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        b.set_serial_number(&BigNum::from_u32(9).unwrap().to_asn1_integer().unwrap())
            .unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(&x).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::days_from_now(365).unwrap())
            .unwrap();
        b.append_extension(BasicConstraints::new().build().unwrap())
            .unwrap();
        b.append_extension(KeyUsage::new().critical().key_agreement().build().unwrap())
            .unwrap();
        b.sign(&signer, MessageDigest::sha256()).unwrap();
        out.push((
            "x25519",
            b.build().to_pem().unwrap(),
            x.private_key_to_pem_pkcs8().unwrap(),
        ));
        out
    })
}

/// Compares without printing megabytes: length and the first differing offset.
#[track_caller]
fn same(got: &[u8], want: &[u8], what: &str) {
    if got != want {
        let at = got
            .iter()
            .zip(want)
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(want.len()));
        panic!(
            "{what}: got {} bytes, want {}; first difference at {at}",
            got.len(),
            want.len()
        );
    }
}

fn roundtrip(public: &[u8], private: &[u8], message: &[u8], options: &EncryptOptions) {
    let r = recipients(public);
    let k = secret(private);
    let stored = encrypt(message, &r, options).unwrap();
    assert_eq!(stored.outcome, Outcome::Encrypted);
    assert!(is_encrypted(&stored.message));
    assert!(
        stored
            .message
            .windows(2)
            .all(|w| w[1] != b'\n' || w[0] == b'\r'),
        "bare LF in output"
    );
    same(
        &decrypt(&stored.message, &k).unwrap(),
        message,
        &format!("{options:?}"),
    );

    let mut streamed = Vec::new();
    let outcome = encrypt_stream(message, &mut streamed, &r, options).unwrap();
    assert_eq!(outcome, Outcome::Encrypted);
    same(
        &decrypt(&streamed, &k).unwrap(),
        message,
        &format!("streamed {options:?}"),
    );
    let mut plain = Vec::new();
    decrypt_stream(&streamed[..], &mut plain, &k).unwrap();
    same(&plain, message, &format!("decrypt_stream {options:?}"));
}

#[test]
fn rsa_certificate_round_trips_with_every_algorithm() {
    for algorithm in Algorithm::ALL {
        for rsa_oaep in [false, true] {
            let options = EncryptOptions {
                rsa_oaep,
                ..EncryptOptions::new(algorithm)
            };
            roundtrip(RSA_CRT, RSA_KEY, HELLO, &options);
        }
    }
}

#[test]
fn ec_and_x25519_certificates_round_trip() {
    for (name, public, private) in generated_keys() {
        for algorithm in Algorithm::ALL {
            let r = recipients(public);
            let warnings: Vec<&str> = r.report().warnings().map(|p| p.code.as_str()).collect();
            assert!(warnings.contains(&"key.ec_limited_support"), "{name}");
            roundtrip(public, private, HELLO, &EncryptOptions::new(algorithm));
        }
    }
}

#[test]
fn openpgp_key_round_trips_in_both_formats() {
    for algorithm in [Algorithm::Aes128, Algorithm::Aes256] {
        for pgp_format in [PgpFormat::Auto, PgpFormat::Seipdv1, PgpFormat::Seipdv2] {
            let options = EncryptOptions {
                pgp_format,
                ..EncryptOptions::new(algorithm)
            };
            roundtrip(PGP_PUB, PGP_SEC, HELLO, &options);
        }
    }
}

#[test]
fn aead_with_openpgp_is_refused_before_anything_is_written() {
    let r = recipients(PGP_PUB);
    for algorithm in [Algorithm::Aes256Gcm, Algorithm::ChaCha20Poly1305] {
        let err = encrypt(HELLO, &r, &EncryptOptions::new(algorithm)).unwrap_err();
        assert_eq!(err.code(), "encrypt.aead_with_openpgp");
        let mut out = Vec::new();
        let err = encrypt_stream(HELLO, &mut out, &r, &EncryptOptions::new(algorithm)).unwrap_err();
        assert_eq!(err.code(), "encrypt.aead_with_openpgp");
        assert!(
            out.is_empty(),
            "nothing may be written: {}",
            String::from_utf8_lossy(&out)
        );
    }
}

#[test]
fn outer_headers_stay_byte_for_byte_and_mime_version_is_added() {
    let message = b"Received: from a\r\n\tby b; Fri, 20 Nov 2026 10:00:00 +0000\r\nX-Weird:   spaced   \r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nContent-Type: text/plain\r\n\r\nbody\r\n";
    for public in [RSA_CRT, PGP_PUB] {
        let stored = encrypt(message, &recipients(public), &EncryptOptions::default()).unwrap();
        let head = b"Received: from a\r\n\tby b; Fri, 20 Nov 2026 10:00:00 +0000\r\nX-Weird:   spaced   \r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nMIME-Version: 1.0\r\nContent-Type: ";
        assert!(
            stored.message.starts_with(head),
            "{}",
            String::from_utf8_lossy(&stored.message)
        );
    }
}

#[test]
fn bare_lf_input_comes_back_with_crlf() {
    let message = b"From: a@b\nSubject: unix\n\nline one\nline two\n";
    let want = b"From: a@b\r\nSubject: unix\r\nMIME-Version: 1.0\r\n\r\nline one\r\nline two\r\n";
    for (public, private) in [(RSA_CRT, RSA_KEY), (PGP_PUB, PGP_SEC)] {
        let stored = encrypt(message, &recipients(public), &EncryptOptions::default()).unwrap();
        assert_eq!(
            decrypt(&stored.message, &secret(private))
                .unwrap()
                .as_slice(),
            want
        );
    }
}

#[test]
fn headers_without_body_and_no_blank_line_are_encrypted() {
    for message in [
        &b"Subject: only headers\r\nFrom: a@b\r\n"[..],
        b"Subject: x\r\n\r\n",
    ] {
        for (public, private) in [(RSA_CRT, RSA_KEY), (PGP_PUB, PGP_SEC)] {
            let stored = encrypt(message, &recipients(public), &EncryptOptions::default()).unwrap();
            assert!(is_encrypted(&stored.message));
            let plain = decrypt(&stored.message, &secret(private)).unwrap();
            assert!(
                plain.starts_with(b"Subject: "),
                "{}",
                String::from_utf8_lossy(&plain)
            );
        }
    }
}

#[test]
fn already_encrypted_messages_are_returned_unchanged() {
    let r = recipients(RSA_CRT);
    let once = encrypt(HELLO, &r, &EncryptOptions::default()).unwrap();
    for public in [RSA_CRT, PGP_PUB] {
        let again = encrypt(
            &once.message,
            &recipients(public),
            &EncryptOptions::default(),
        )
        .unwrap();
        assert_eq!(again.outcome, Outcome::AlreadyEncrypted);
        assert_eq!(again.message, once.message);
        let mut out = Vec::new();
        let outcome = encrypt_stream(
            &once.message[..],
            &mut out,
            &recipients(public),
            &EncryptOptions::default(),
        )
        .unwrap();
        assert_eq!(outcome, Outcome::AlreadyEncrypted);
        assert_eq!(out, once.message);
    }
}

#[test]
fn signed_smime_is_not_mistaken_for_encrypted() {
    let signed = b"Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHAqCAMIACAQEx\r\n";
    let stored = encrypt(signed, &recipients(RSA_CRT), &EncryptOptions::default()).unwrap();
    assert_eq!(stored.outcome, Outcome::Encrypted);
    let mut want = b"MIME-Version: 1.0\r\n".to_vec();
    want.extend_from_slice(signed);
    assert_eq!(*decrypt(&stored.message, &secret(RSA_KEY)).unwrap(), want);
}

#[test]
fn empty_and_oversized_headers_are_typed_errors() {
    let r = recipients(RSA_CRT);
    assert_eq!(
        encrypt(b"", &r, &EncryptOptions::default())
            .unwrap_err()
            .code(),
        "mime.empty"
    );
    let mut out = Vec::new();
    let err = encrypt_stream(&b""[..], &mut out, &r, &EncryptOptions::default()).unwrap_err();
    assert_eq!(err.code(), "mime.empty");
    let long = format!("Subject: {}\r\n", "x".repeat(2 << 20));
    let err =
        encrypt_stream(long.as_bytes(), &mut out, &r, &EncryptOptions::default()).unwrap_err();
    assert_eq!(err.code(), "mime.headers_too_long");
}

#[test]
fn tampered_and_truncated_ciphertext_never_yields_the_plaintext_silently() {
    for (public, private) in [(RSA_CRT, RSA_KEY), (PGP_PUB, PGP_SEC)] {
        for algorithm in [Algorithm::Aes256, Algorithm::Aes256Gcm] {
            if public == PGP_PUB && algorithm.is_aead() {
                continue;
            }
            let stored =
                encrypt(HELLO, &recipients(public), &EncryptOptions::new(algorithm)).unwrap();
            let k = secret(private);
            let text = stored.message.clone();
            // Truncate at many points: an error or (never) a wrong result, no panic.
            for cut in (text.len() / 2..text.len() - 40).step_by(37) {
                if let Ok(plain) = decrypt(&text[..cut], &k) {
                    assert_eq!(
                        plain.as_slice(),
                        HELLO,
                        "truncated at {cut} gave different plaintext"
                    );
                }
            }
            // Flip a base64 character in the middle of the ciphertext.
            let mut tampered = text.clone();
            let pos = tampered.len() * 3 / 4;
            let (i, c) = tampered[pos..]
                .iter()
                .enumerate()
                .find(|(_, c)| c.is_ascii_alphanumeric())
                .unwrap();
            tampered[pos + i] = if *c == b'A' { b'B' } else { b'A' };
            match decrypt(&tampered, &k) {
                Ok(plain) => assert!(
                    !algorithm.is_aead() && public == RSA_CRT,
                    "tampering went unnoticed with {algorithm} / OpenPGP MDC: {}",
                    String::from_utf8_lossy(&plain)
                ),
                Err(e) => assert!(e.code().starts_with("decrypt."), "{e}"),
            }
        }
    }
}

#[test]
fn decrypting_a_plain_message_says_so() {
    assert_eq!(
        decrypt(HELLO, &secret(RSA_KEY)).unwrap_err().code(),
        "decrypt.not_encrypted"
    );
}

#[test]
fn a_damaged_or_cut_message_is_an_error_when_streamed_too() {
    let message =
        b"Subject: t\r\n\r\nsome text that is long enough to fill several blocks of ciphertext\r\n";
    for (public, private) in [(RSA_CRT, RSA_KEY), (PGP_PUB, PGP_SEC)] {
        let k = secret(private);
        let stored = encrypt(message, &recipients(public), &EncryptOptions::default())
            .unwrap()
            .message;
        // A character of the encoded ciphertext changed, or the message cut in its body.
        let body = stored.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let mut damaged = stored.clone();
        let at = body + (stored.len() - body) * 2 / 3;
        damaged[at] = if damaged[at] == b'A' { b'B' } else { b'A' };
        let cut = &stored[..body + (stored.len() - body) / 2];
        let mut cases = vec![("cut", cut)];
        // Only OpenPGP can tell a changed byte for sure: S/MIME with AES-CBC has no integrity
        // check, and a changed RSA block gives a random key (implicit rejection) whose
        // padding is right one time in 256.
        if public == PGP_PUB {
            cases.push(("damaged", &damaged[..]));
        }
        for (what, input) in cases {
            let mut out = Vec::new();
            let streamed = decrypt_stream(input, &mut out, &k);
            assert!(streamed.is_err(), "{what}: decrypt_stream succeeded");
            assert!(decrypt(input, &k).is_err(), "{what}: decrypt succeeded");
        }
    }
}

#[test]
fn a_large_message_streams_and_round_trips() {
    let mut message = b"Subject: big\r\nMIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n".to_vec();
    let line = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n";
    while message.len() < 3 << 20 {
        message.extend_from_slice(line);
    }
    roundtrip(
        RSA_CRT,
        RSA_KEY,
        &message,
        &EncryptOptions::new(Algorithm::Aes128),
    );
    roundtrip(
        PGP_PUB,
        PGP_SEC,
        &message,
        &EncryptOptions::new(Algorithm::Aes256),
    );
}

/// Messages made of arbitrary headers and bytes, already in CRLF form.
fn message_strategy() -> impl Strategy<Value = Vec<u8>> {
    let header = ("X-[A-Za-z0-9-]{0,20}", "[ -~]{0,60}")
        .prop_map(|(n, v)| format!("{n}: {v}\r\n").into_bytes());
    (
        prop::collection::vec(header, 0..6),
        prop::option::of(prop::sample::select(vec![
            "Content-Type: text/plain; charset=utf-8\r\n",
            "Content-Type: multipart/mixed; boundary=\"b\"\r\n",
            "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n",
        ])),
        prop::collection::vec(any::<u8>(), 0..3000),
    )
        .prop_map(|(headers, ct, body)| {
            let mut m: Vec<u8> = headers.concat();
            if m.is_empty() {
                m.extend_from_slice(b"Subject: x\r\n");
            }
            // The MIME fields last, as mail programs write them: they come back in place.
            m.extend_from_slice(b"MIME-Version: 1.0\r\n");
            if let Some(ct) = ct {
                m.extend_from_slice(ct.as_bytes());
            }
            let binary = ct.is_some_and(|c| c.contains("binary"));
            m.extend_from_slice(b"\r\n");
            // Keep the body in canonical form (CRLF) unless it is declared binary.
            if binary {
                m.extend_from_slice(&body);
            } else {
                let mut prev = 0u8;
                for b in body {
                    if b == b'\n' && prev != b'\r' {
                        m.push(b'\r');
                    }
                    m.push(b);
                    prev = b;
                }
            }
            m
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn decrypt_of_encrypt_is_the_identity(message in message_strategy(), smime in any::<bool>(), aead in any::<bool>()) {
        let (public, private) = if smime { (RSA_CRT, RSA_KEY) } else { (PGP_PUB, PGP_SEC) };
        let algorithm = if aead && smime { Algorithm::ChaCha20Poly1305 } else { Algorithm::Aes128 };
        let options = EncryptOptions::new(algorithm);
        let stored = encrypt(&message, &recipients(public), &options).unwrap();
        if stored.outcome == Outcome::Encrypted {
            prop_assert_eq!(&*decrypt(&stored.message, &secret(private)).unwrap(), &message);
        } else {
            prop_assert_eq!(stored.message, message);
        }
    }

    #[test]
    fn decrypt_and_detect_never_panic_on_junk(data in prop::collection::vec(any::<u8>(), 0..4096)) {
        let _ = is_encrypted(&data);
        let _ = decrypt(&data, &secret(RSA_KEY));
    }
}

/// Regression (fuzzing, message_encrypt): a message that ends in a header without a line end
/// must still get a well-formed outer header block.
#[test]
fn last_header_without_line_end_is_closed() {
    let message = b"From: a@b\r\nMIME-Version: 1.0\r\nContent-Typze: text/plain";
    for public in [RSA_CRT, PGP_PUB] {
        let stored = encrypt(message, &recipients(public), &EncryptOptions::default()).unwrap();
        assert!(is_encrypted(&stored.message));
        assert!(stored.message.starts_with(
            b"From: a@b\r\nMIME-Version: 1.0\r\nContent-Typze: text/plain\r\nContent-Type: "
        ));
    }
}

/// Regression (fuzzing, message_decrypt*): sequoia-openpgp 2.4.2 panics on these truncated
/// SEIPD packets; decrypt must report malformed data instead.
#[test]
fn malformed_seipd_packets_are_an_error_not_a_panic() {
    use base64::Engine as _;
    let packets = include_bytes!("data/seipd-truncated-header.bin");
    let armored = base64::engine::general_purpose::STANDARD.encode(packets);
    let message = format!(
        "Subject: x\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n\r\n{armored}\r\n-----END PGP MESSAGE-----\r\n\r\n--b--\r\n"
    );
    let err = decrypt(message.as_bytes(), &secret(PGP_SEC)).unwrap_err();
    assert!(err.code().starts_with("decrypt."), "{err}");
    let raw = include_bytes!("data/decrypt-seipd-panic.eml");
    let err = decrypt(raw, &secret(PGP_SEC)).unwrap_err();
    assert!(err.code().starts_with("decrypt."), "{err}");
}
