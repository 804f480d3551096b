//! `encrypted_for` without a private key: for every method and algorithm `encrypt` supports it
//! lists exactly the recipients `Recipients::addressees` says `encrypt` writes; the messages
//! real Stalwart servers stored list the fixture keys; other keys, passwords and damage are
//! told apart; `openssl cms -cmsout -print` and `gpg --list-packets` see the same recipients.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use sequoia_openpgp as openpgp;

use openpgp::cert::CertBuilder;
use openpgp::serialize::Serialize as _;
use openpgp::serialize::stream::{Armorer, Encryptor, LiteralWriter, Message};

use mailseal_core::{
    Algorithm, Container, EncryptOptions, EncryptedFor, PgpFormat, Policy, RecipientId,
    RecipientKey, Recipients, encrypt, encrypted_for,
};

const HELLO: &[u8] = include_bytes!("../../../examples/messages/hello.eml");
const ALICE_PGP: &[u8] = include_bytes!("../../../examples/keys/alice.pub.asc");
const ALICE_CRT: &[u8] = include_bytes!("../../../examples/keys/alice.crt.pem");

fn fixture(path: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn recipients(public: &[u8]) -> Recipients {
    RecipientKey::from_bytes(public)
        .unwrap()
        .validate(&Policy::standard())
        .unwrap()
}

fn v6_key() -> Vec<u8> {
    let (cert, _) = CertBuilder::general_purpose(Some("Six <six@example.org>"))
        .set_profile(openpgp::Profile::RFC9580)
        .unwrap()
        .generate()
        .unwrap();
    let mut out = Vec::new();
    cert.armored().serialize(&mut out).unwrap();
    out
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// Encrypts HELLO and checks that `encrypted_for` lists what `addressees` promised.
#[track_caller]
fn check(what: &str, to: &Recipients, options: &EncryptOptions) -> EncryptedFor {
    let stored = encrypt(HELLO, to, options).unwrap().message;
    let found = encrypted_for(&stored).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(found.recipients, to.addressees(options).unwrap(), "{what}");
    assert!(found.is_exactly(to), "{what}");
    assert_eq!(found.container.format(), to.format(), "{what}");
    found
}

#[test]
fn every_smime_algorithm_and_key_type_lists_its_certificates() {
    let rsa = recipients(ALICE_CRT);
    let rsa3072 = recipients(&fixture("stalwart-0.16.19/keys/smime-rsa3072.crt.pem"));
    let p256 = recipients(&fixture("stalwart-0.16.19/keys/smime-p256.crt.pem"));
    let mut both = ALICE_CRT.to_vec();
    both.extend(fixture("stalwart-0.16.19/keys/smime-p256.crt.pem"));
    let both = recipients(&both);
    for (name, to, count) in [
        ("rsa", &rsa, 1),
        ("rsa3072", &rsa3072, 1),
        ("p256", &p256, 1),
        ("rsa+p256", &both, 2),
    ] {
        for algorithm in Algorithm::ALL {
            for rsa_oaep in [false, true] {
                let options = EncryptOptions {
                    rsa_oaep,
                    ..EncryptOptions::new(algorithm)
                };
                let what = format!("{name} {algorithm} oaep={rsa_oaep}");
                let found = check(&what, to, &options);
                let container = if algorithm.is_aead() {
                    Container::AuthEnvelopedData
                } else {
                    Container::EnvelopedData
                };
                assert_eq!(found.container, container, "{what}");
                assert_eq!(found.algorithm, Some(algorithm), "{what}");
                assert!(found.content_encryption_oid.is_some(), "{what}");
                assert_eq!(found.recipients.len(), count, "{what}");
                assert!(
                    found
                        .recipients
                        .iter()
                        .all(|r| matches!(r, RecipientId::IssuerAndSerial { .. })),
                    "{what}"
                );
            }
        }
    }
}

#[test]
fn every_openpgp_key_and_format_lists_its_encryption_keys() {
    let rsa3072 = fixture("stalwart-0.16.19/keys/pgp-rsa3072.pub.asc");
    let cv25519 = fixture("stalwart-0.16.19/keys/pgp-25519.pub.asc");
    let mut two = rsa3072.clone();
    two.extend(&cv25519);
    let v6 = v6_key();
    for (name, key, count) in [
        ("alice", ALICE_PGP.to_vec(), 1),
        ("rsa3072", rsa3072.clone(), 1),
        ("cv25519", cv25519.clone(), 1),
        ("rsa3072+cv25519", two, 2),
        ("v6", v6, 1),
    ] {
        let to = recipients(&key);
        for algorithm in [Algorithm::Aes128, Algorithm::Aes256] {
            for format in [PgpFormat::Auto, PgpFormat::Seipdv1, PgpFormat::Seipdv2] {
                let what = format!("{name} {algorithm} {format:?}");
                let options = EncryptOptions {
                    pgp_format: format,
                    ..EncryptOptions::new(algorithm)
                };
                if name == "v6" && format == PgpFormat::Seipdv1 {
                    let err = to.addressees(&options).unwrap_err();
                    assert_eq!(err.code(), "encrypt.seipdv1_with_v6_key");
                    continue;
                }
                let found = check(&what, &to, &options);
                assert_eq!(found.recipients.len(), count, "{what}");
                let v2 = format == PgpFormat::Seipdv2 || name == "v6";
                if v2 {
                    assert_eq!(found.container, Container::Seipdv2, "{what}");
                    assert_eq!(found.algorithm, Some(algorithm), "{what}");
                    assert!(
                        found
                            .recipients
                            .iter()
                            .all(|r| matches!(r, RecipientId::OpenPgpFingerprint(_))),
                        "{what}"
                    );
                } else {
                    assert_eq!(found.container, Container::Seipdv1, "{what}");
                    assert_eq!(found.algorithm, None, "{what}");
                    assert!(
                        found
                            .recipients
                            .iter()
                            .all(|r| matches!(r, RecipientId::OpenPgpKeyId(_))),
                        "{what}"
                    );
                }
                assert_eq!(found.content_encryption_oid, None);
            }
        }
        let aead = to.addressees(&EncryptOptions::new(Algorithm::Aes256Gcm));
        assert_eq!(aead.unwrap_err().code(), "encrypt.aead_with_openpgp");
    }
}

#[test]
fn a_message_for_other_keys_does_not_match() {
    let options = EncryptOptions::default();
    let alice_crt = recipients(ALICE_CRT);
    let alice_pgp = recipients(ALICE_PGP);
    let rsa3072_crt = recipients(&fixture("stalwart-0.16.19/keys/smime-rsa3072.crt.pem"));
    let rsa3072_pgp = recipients(&fixture("stalwart-0.16.19/keys/pgp-rsa3072.pub.asc"));
    let mut two = ALICE_CRT.to_vec();
    two.extend(fixture("stalwart-0.16.19/keys/smime-rsa3072.crt.pem"));
    let two = recipients(&two);

    let to_alice = encrypted_for(&encrypt(HELLO, &alice_crt, &options).unwrap().message).unwrap();
    assert!(to_alice.is_exactly(&alice_crt));
    assert!(!to_alice.is_exactly(&rsa3072_crt));
    assert!(!to_alice.is_exactly(&two), "one of two is not both");
    assert!(!to_alice.is_exactly(&alice_pgp), "another method");

    let to_two = encrypted_for(&encrypt(HELLO, &two, &options).unwrap().message).unwrap();
    assert!(to_two.is_exactly(&two));
    assert!(!to_two.is_exactly(&alice_crt), "one more than asked for");

    let pgp = encrypted_for(&encrypt(HELLO, &alice_pgp, &options).unwrap().message).unwrap();
    assert!(pgp.is_exactly(&alice_pgp));
    assert!(!pgp.is_exactly(&rsa3072_pgp));
    assert!(!pgp.is_exactly(&alice_crt));
    // The same key in the other container's form is not what this message holds.
    let v2 = EncryptOptions {
        pgp_format: PgpFormat::Seipdv2,
        ..options
    };
    assert_ne!(pgp.recipients, alice_pgp.addressees(&v2).unwrap());
}

/// An OpenPGP message to `key` and a password, made by Sequoia, as inline PGP.
fn inline_pgp_with_password(key: &[u8]) -> Vec<u8> {
    let cert = openpgp::Cert::from_bytes(key).unwrap();
    let policy = openpgp::policy::StandardPolicy::new();
    let keys: Vec<_> = cert
        .keys()
        .with_policy(&policy, None)
        .for_storage_encryption()
        .collect();
    let mut armored = Vec::new();
    {
        let m = Message::new(&mut armored);
        let m = Armorer::new(m).build().unwrap();
        let m = Encryptor::for_recipients(m, keys)
            .add_passwords(["hunter2"])
            .build()
            .unwrap();
        let mut m = LiteralWriter::new(m).build().unwrap();
        m.write_all(b"secret").unwrap();
        m.finalize().unwrap();
    }
    let mut msg = b"Subject: inline\r\nContent-Type: text/plain\r\n\r\n".to_vec();
    msg.extend(armored);
    msg
}

use openpgp::parse::Parse as _;

#[test]
fn a_password_or_wildcard_recipient_is_listed_and_is_more_than_the_key() {
    let msg = inline_pgp_with_password(ALICE_PGP);
    let found = encrypted_for(&msg).unwrap();
    assert!(found.recipients.contains(&RecipientId::Password));
    assert!(
        found
            .recipients
            .iter()
            .any(|r| matches!(r, RecipientId::OpenPgpKeyId(_)))
    );
    assert!(!found.is_exactly(&recipients(ALICE_PGP)));

    // A wildcard key ID (gpg --throw-keyids): the PKESK v3's key ID zeroed by hand.
    let to = recipients(ALICE_PGP);
    let stored = encrypt(HELLO, &to, &EncryptOptions::default())
        .unwrap()
        .message;
    let RecipientId::OpenPgpKeyId(id) = to.addressees(&EncryptOptions::default()).unwrap()[0]
    else {
        panic!("a key ID");
    };
    let binary = pgp_part(&stored);
    let at = binary.windows(8).position(|w| w == id).unwrap();
    let mut wild = binary.clone();
    wild[at..at + 8].fill(0);
    let found = encrypted_for(&inline(&wild)).unwrap();
    assert_eq!(found.recipients, [RecipientId::OpenPgpWildcard]);
    assert!(!found.is_exactly(&to));
}

/// The binary OpenPGP message inside a PGP/MIME message `encrypt` wrote.
fn pgp_part(stored: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(stored.to_vec()).unwrap();
    let start = text.find("-----BEGIN PGP MESSAGE-----").unwrap();
    let end = text.find("-----END PGP MESSAGE-----").unwrap() + 25;
    let mut r = openpgp::armor::Reader::from_bytes(
        &text.as_bytes()[start..end],
        openpgp::armor::ReaderMode::Tolerant(Some(openpgp::armor::Kind::Message)),
    );
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut r, &mut out).unwrap();
    out
}

/// A binary OpenPGP message as an inline-PGP mail.
fn inline(binary: &[u8]) -> Vec<u8> {
    let mut armored = Vec::new();
    {
        let mut w =
            openpgp::armor::Writer::new(&mut armored, openpgp::armor::Kind::Message).unwrap();
        w.write_all(binary).unwrap();
        w.finalize().unwrap();
    }
    let mut msg = b"Subject: inline\r\n\r\n".to_vec();
    msg.extend(armored);
    msg
}

#[test]
fn messages_stalwart_0_16_stored_list_the_fixture_keys() {
    let key = |f: &str| recipients(&fixture(&format!("stalwart-0.16.19/keys/{f}")));
    let smime = key("smime-rsa3072.crt.pem");
    let pgp_rsa = key("pgp-rsa3072.pub.asc");
    let pgp_25519 = key("pgp-25519.pub.asc");
    for (setting, to, container, algorithm, id) in [
        (
            "smime-aes128",
            &smime,
            Container::EnvelopedData,
            Some(Algorithm::Aes128),
            None,
        ),
        (
            "smime-aes256",
            &smime,
            Container::EnvelopedData,
            Some(Algorithm::Aes256),
            None,
        ),
        (
            "smime-aes256gcm",
            &smime,
            Container::AuthEnvelopedData,
            Some(Algorithm::Aes256Gcm),
            None,
        ),
        (
            "smime-chacha20poly1305",
            &smime,
            Container::AuthEnvelopedData,
            Some(Algorithm::ChaCha20Poly1305),
            None,
        ),
        (
            "pgp-rsa-aes128",
            &pgp_rsa,
            Container::Seipdv1,
            None,
            Some("17CCFF52EFCA2B3F"),
        ),
        (
            "pgp-rsa-aes256",
            &pgp_rsa,
            Container::Seipdv1,
            None,
            Some("17CCFF52EFCA2B3F"),
        ),
        (
            "pgp-cv25519-aes256",
            &pgp_25519,
            Container::Seipdv1,
            None,
            Some("12456E6A43996C8D"),
        ),
    ] {
        for n in 1..=2 {
            let what = format!("{setting}-{n}");
            let stored = fixture(&format!("stalwart-0.16.19/messages/{what}.eml"));
            let found = encrypted_for(&stored).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(found.container, container, "{what}");
            assert_eq!(found.algorithm, algorithm, "{what}");
            assert!(found.is_exactly(to), "{what}");
            for other in [&smime, &pgp_rsa, &pgp_25519] {
                if !std::ptr::eq(other, to) {
                    assert!(!found.is_exactly(other), "{what}");
                }
            }
            match id {
                Some(id) => assert_eq!(
                    found.recipients,
                    [RecipientId::OpenPgpKeyId(hex(id).try_into().unwrap())],
                    "{what}"
                ),
                // The certificate's serial number, 0x1001 (keys-info.json).
                None => assert!(
                    matches!(&found.recipients[..], [RecipientId::IssuerAndSerial { serial, .. }] if serial == &[0x10, 0x01]),
                    "{what}: {:?}",
                    found.recipients
                ),
            }
        }
    }
    for n in 1..=2 {
        let original = fixture(&format!("stalwart-0.16.19/messages/{n}.orig.eml"));
        assert_eq!(
            encrypted_for(&original).unwrap_err().code(),
            "decrypt.not_encrypted"
        );
    }
}

#[test]
fn messages_stalwart_0_15_stored_list_the_fixture_keys() {
    let dir = "stalwart-0.15.5";
    let smime = recipients(&fixture(&format!("{dir}/keys/smime-rsa3072-cert.pem")));
    let pgp = recipients(&fixture(&format!("{dir}/keys/pgp-rsa3072-public.asc")));
    let found =
        encrypted_for(&fixture(&format!("{dir}/messages/smime-aes256-stored.eml"))).unwrap();
    assert_eq!(found.algorithm, Some(Algorithm::Aes256));
    assert!(found.is_exactly(&smime) && !found.is_exactly(&pgp));
    let found = encrypted_for(&fixture(&format!("{dir}/messages/pgp-aes256-stored.eml"))).unwrap();
    assert_eq!(found.container, Container::Seipdv1);
    assert!(found.is_exactly(&pgp) && !found.is_exactly(&smime));
    for original in ["smime-aes256-original.eml", "pgp-aes256-original.eml"] {
        let err = encrypted_for(&fixture(&format!("{dir}/messages/{original}"))).unwrap_err();
        assert_eq!(err.code(), "decrypt.not_encrypted", "{original}");
    }
}

/// Every cut and a flipped byte every few bytes: a typed error or an answer, never a panic.
#[test]
fn damaged_messages_give_typed_errors() {
    let codes = [
        "decrypt.malformed",
        "decrypt.not_encrypted",
        "decrypt.unsupported",
    ];
    let mut inputs = Vec::new();
    for f in [
        "smime-aes256-1.eml",
        "smime-chacha20poly1305-1.eml",
        "pgp-rsa-aes128-1.eml",
        "pgp-cv25519-aes256-1.eml",
    ] {
        inputs.push(fixture(&format!("stalwart-0.16.19/messages/{f}")));
    }
    inputs.push(inline_pgp_with_password(ALICE_PGP));
    for stored in &inputs {
        for cut in (0..stored.len()).step_by(7) {
            if let Err(e) = encrypted_for(&stored[..cut]) {
                assert!(codes.contains(&e.code()), "{e}");
            }
        }
        for at in (0..stored.len()).step_by(13) {
            let mut bad = stored.clone();
            bad[at] ^= 0x5a;
            if let Err(e) = encrypted_for(&bad) {
                assert!(codes.contains(&e.code()), "{e}");
            }
        }
    }
    // Cut inside the recipient information: damaged, not "not encrypted".
    let smime = &inputs[0];
    let body = smime.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let err = encrypted_for(&smime[..body + 200]).unwrap_err();
    assert_eq!(err.code(), "decrypt.malformed", "{err}");
    let pgp = &inputs[2];
    let armor = pgp.windows(8).position(|w| w == b"-----BEG").unwrap();
    let err = encrypted_for(&pgp[..armor + 100]).unwrap_err();
    assert_eq!(err.code(), "decrypt.malformed", "{err}");

    for (what, msg, code) in [
        ("plain", &b"Subject: hi\r\n\r\nhello\r\n"[..], "decrypt.not_encrypted"),
        ("empty", b"", "decrypt.not_encrypted"),
        (
            "no boundary",
            b"Content-Type: multipart/encrypted\r\n\r\n--x--\r\n",
            "decrypt.malformed",
        ),
        (
            "signed data",
            b"Content-Type: application/pkcs7-mime; smime-type=signed-data\r\nContent-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHAqCAMIACAQEx\r\n",
            "decrypt.not_encrypted",
        ),
        (
            "bad base64",
            b"Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!\r\n",
            "decrypt.malformed",
        ),
        (
            "no encrypted part",
            b"Content-Type: multipart/encrypted; boundary=x\r\n\r\n--x\r\n\r\nVersion: 1\r\n--x--\r\n",
            "decrypt.malformed",
        ),
    ] {
        let err = encrypted_for(msg).unwrap_err();
        assert_eq!(err.code(), code, "{what}: {err}");
    }
}

/// A throwaway GnuPG home for `gpg --list-packets`.
fn gpg_list_packets(data: &[u8]) -> String {
    let home = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("encrypted-for-gnupg");
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).unwrap();
    let mut child = Command::new("gpg")
        .args(["--batch", "--homedir"])
        .arg(&home)
        .arg("--list-packets")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gpg (install it with scripts/setup)");
    child.stdin.take().unwrap().write_all(data).unwrap();
    // gpg exits non-zero without the secret key; the packets are listed all the same.
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn openssl_and_gpg_see_the_same_recipients() {
    // S/MIME to two certificates: `openssl cms -cmsout -print` of the message as stored.
    let mut two = ALICE_CRT.to_vec();
    two.extend(fixture("stalwart-0.16.19/keys/smime-rsa3072.crt.pem"));
    let two = recipients(&two);
    let stored = encrypt(HELLO, &two, &EncryptOptions::default())
        .unwrap()
        .message;
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("encrypted-for-two.eml");
    std::fs::write(&path, &stored).unwrap();
    let out = Command::new("openssl")
        .args(["cms", "-cmsout", "-print", "-in"])
        .arg(&path)
        .output()
        .expect("openssl (install it with scripts/setup)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut serials: Vec<Vec<u8>> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("serialNumber: "))
        .map(|s| match s.strip_prefix("0x") {
            Some(h) => hex(&if h.len() % 2 == 1 {
                format!("0{h}")
            } else {
                h.to_owned()
            }),
            None => {
                let n: u128 = s.parse().unwrap();
                let b = n.to_be_bytes();
                let skip = b.iter().take_while(|x| **x == 0).count();
                b[skip..].to_vec()
            }
        })
        .collect();
    let mut ours: Vec<Vec<u8>> = encrypted_for(&stored)
        .unwrap()
        .recipients
        .into_iter()
        .map(|r| match r {
            // openssl prints the number, without DER's sign octet.
            RecipientId::IssuerAndSerial { serial, .. } => {
                serial.into_iter().skip_while(|b| *b == 0).collect()
            }
            other => panic!("{other:?}"),
        })
        .collect();
    serials.sort();
    ours.sort();
    assert_eq!(serials.len(), 2, "{text}");
    assert_eq!(ours, serials, "{text}");

    // OpenPGP: the key IDs `gpg --list-packets` shows.
    let mut two = fixture("stalwart-0.16.19/keys/pgp-rsa3072.pub.asc");
    two.extend(fixture("stalwart-0.16.19/keys/pgp-25519.pub.asc"));
    let two = recipients(&two);
    let stored = encrypt(HELLO, &two, &EncryptOptions::default())
        .unwrap()
        .message;
    let listing = gpg_list_packets(&pgp_part(&stored));
    let mut gpg: Vec<String> = listing
        .lines()
        .filter(|l| l.starts_with(":pubkey enc packet:"))
        .filter_map(|l| l.split("keyid ").nth(1))
        .map(|id| id.trim().to_owned())
        .collect();
    let mut ours: Vec<String> = encrypted_for(&stored)
        .unwrap()
        .recipients
        .iter()
        .map(|r| match r {
            RecipientId::OpenPgpKeyId(id) => id.iter().map(|b| format!("{b:02X}")).collect(),
            other => panic!("{other:?}"),
        })
        .collect();
    gpg.sort();
    ours.sort();
    assert_eq!(gpg.len(), 2, "{listing}");
    assert_eq!(ours, gpg, "{listing}");
}
