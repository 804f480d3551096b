//! OpenPGP keys as people give them: armor from mail and web pages, keyrings with keys of
//! other versions, revocation certificates and signatures given instead of a key, algorithms
//! and curves that are not accepted, and keys whose expiry changed many times.
//!
//! The keys are made here with Sequoia; the v3 and v5 packets (which no tool at hand makes)
//! are written by hand after RFC 4880 §5.5.2 and LibrePGP (draft-koch-librepgp) §5.5.2.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::{Duration, SystemTime};

use sequoia_openpgp as openpgp;

use openpgp::armor::{Kind, Writer};
use openpgp::cert::prelude::*;
use openpgp::crypto::mpi;
use openpgp::packet::key::{Key4, PublicParts, SubordinateRole};
use openpgp::packet::signature::SignatureBuilder;
use openpgp::packet::{Key, Packet, UserID};
use openpgp::policy::StandardPolicy;
use openpgp::serialize::Serialize;
use openpgp::serialize::stream::{Message, Signer};
use openpgp::types::{
    Curve, HashAlgorithm, KeyFlags, PublicKeyAlgorithm, SignatureType, SymmetricAlgorithm,
};
use sha2::Digest;

use mailseal_core::{
    CertificateDetails, Error, KeyReport, OpenPgpDetails, Policy, ProblemCode, RecipientKey,
    Severity,
};

const DAY: Duration = Duration::from_secs(86_400);
const ALICE: &str = "Alice Example <alice@example.org>";

fn generate(uid: &str) -> Cert {
    CertBuilder::general_purpose(Some(uid))
        .set_creation_time(SystemTime::now() - DAY)
        .generate()
        .unwrap()
        .0
}

fn public(cert: &Cert) -> Cert {
    cert.clone().strip_secret_key_material()
}

fn binary(cert: &Cert) -> Vec<u8> {
    let mut out = Vec::new();
    public(cert).serialize(&mut out).unwrap();
    out
}

fn armor(kind: Kind, packets: &[u8]) -> String {
    let mut out = Vec::new();
    let mut w = Writer::with_headers(&mut out, kind, [("Comment", "made for a test")]).unwrap();
    std::io::Write::write_all(&mut w, packets).unwrap();
    w.finalize().unwrap();
    String::from_utf8(out).unwrap()
}

fn read(data: impl AsRef<[u8]>) -> Result<RecipientKey, Error> {
    RecipientKey::from_bytes(data.as_ref())
}

fn inspect(data: impl AsRef<[u8]>) -> KeyReport {
    read(data)
        .unwrap_or_else(|e| panic!("{e}"))
        .inspect(&Policy::standard())
}

fn details(report: &KeyReport, i: usize) -> &OpenPgpDetails {
    let CertificateDetails::OpenPgp(d) = &report.certificates[i].details else {
        panic!("not OpenPGP");
    };
    d
}

fn codes(report: &KeyReport, severity: Severity) -> Vec<ProblemCode> {
    report
        .problems
        .iter()
        .filter(|p| p.severity == severity)
        .map(|p| p.code)
        .collect()
}

/// No parser jargon in what people read.
fn assert_plain(message: &str) {
    for jargon in [
        "Packet",
        "token",
        "found at",
        "Malformed",
        "binding signature at time",
    ] {
        assert!(!message.contains(jargon), "jargon {jargon:?} in: {message}");
    }
}

// --- armor as it arrives in mail and on web pages ----------------------------------------

/// Each line of `text` with `prefix` before it; blank lines get `blank` instead (mail
/// programs often drop the space after `>` on an empty line).
fn prefixed(text: &str, prefix: &str, blank: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                format!("{blank}\n")
            } else {
                format!("{prefix}{l}\n")
            }
        })
        .collect()
}

#[test]
fn armor_quoted_indented_or_with_trailing_spaces_is_read() {
    let cert = generate(ALICE);
    let block = armor(Kind::PublicKey, &binary(&cert));
    let trailing: String = block.lines().map(|l| format!("{l}  \t\n")).collect();
    let cases = [
        ("indented", prefixed(&block, "    ", "")),
        ("tab-indented", prefixed(&block, "\t", "\t")),
        ("quoted", prefixed(&block, "> ", ">")),
        ("quoted, blank kept", prefixed(&block, "> ", "> ")),
        ("nested", prefixed(&block, "> > ", "> >")),
        ("nested, no spaces", prefixed(&block, ">> ", ">>")),
        ("quoted, indented", prefixed(&block, ">    ", ">")),
        ("trailing spaces", trailing.clone()),
        ("quoted, trailing spaces", prefixed(&trailing, "> ", ">")),
        (
            "quoted, CRLF",
            prefixed(&block, "> ", ">").replace('\n', "\r\n"),
        ),
    ];
    for (what, quoted) in cases {
        let mail = format!(
            "On Monday, Alice wrote:\n> Here is my key:\n>\n{quoted}>\n> Alice\n\nThanks!\n"
        );
        let report = inspect(&mail);
        assert!(report.usable, "{what}: {:?}", report.problems);
        assert_eq!(
            report.fingerprints(),
            [cert.fingerprint().to_hex()],
            "{what}"
        );
    }
}

#[test]
fn a_key_quoted_twice_in_one_mail_is_read_from_both_blocks() {
    let cert = generate(ALICE);
    let block = armor(Kind::PublicKey, &binary(&cert));
    let mail = format!("{}\n{}", prefixed(&block, "> ", ">"), block);
    let report = inspect(&mail);
    assert_eq!(report.certificates.len(), 2);
    assert!(report.usable);
}

#[test]
fn quoted_or_indented_private_keys_are_still_refused() {
    let cert = generate(ALICE);
    let mut secret = Vec::new();
    cert.as_tsk().serialize(&mut secret).unwrap();
    for kind in [Kind::SecretKey, Kind::PublicKey, Kind::File] {
        let block = armor(kind, &secret);
        for text in [
            prefixed(&block, "> ", ">"),
            prefixed(&block, "  ", ""),
            block.clone(),
        ] {
            let err = read(&text).unwrap_err();
            assert_eq!(err.code(), "key.private_key", "{kind:?}: {err}");
        }
    }
}

#[test]
fn gpg_enarmor_output_is_read_by_its_contents() {
    // `gpg --enarmor` writes `BEGIN PGP ARMORED FILE` around any binary file.
    let cert = generate(ALICE);
    let report = inspect(armor(Kind::File, &binary(&cert)));
    assert!(report.usable);
    assert_eq!(report.fingerprints(), [cert.fingerprint().to_hex()]);
    // Quoted, too.
    let quoted = prefixed(&armor(Kind::File, &binary(&cert)), "> ", ">");
    assert!(inspect(quoted).usable);

    // Not a key inside: named for what it is.
    let err = read(armor(Kind::File, &revocation_of(&cert))).unwrap_err();
    assert_eq!(err.code(), "key.not_a_key");
    assert!(err.to_string().contains("revocation certificate"), "{err}");
    let err = read(armor(Kind::File, b"\x00\x01 not OpenPGP")).unwrap_err();
    assert!(
        ["key.malformed", "key.unrecognized"].contains(&err.code()),
        "{err}"
    );
}

#[test]
fn quoted_pem_certificates_are_read_too() {
    // The block scanner is shared: a quoted S/MIME certificate is found the same way.
    let pem = include_str!("../../../examples/keys/alice.crt.pem");
    let report = inspect(prefixed(pem, "> ", ">"));
    assert_eq!(report.certificates.len(), 1);
}

// --- revocation certificates and signatures instead of a key ------------------------------

fn revocation_of(cert: &Cert) -> Vec<u8> {
    let mut signer = cert
        .primary_key()
        .key()
        .clone()
        .parts_into_secret()
        .unwrap()
        .into_keypair()
        .unwrap();
    let rev = cert
        .revoke(
            &mut signer,
            openpgp::types::ReasonForRevocation::KeyRetired,
            b"retired",
        )
        .unwrap();
    let mut out = Vec::new();
    Packet::from(rev).serialize(&mut out).unwrap();
    out
}

fn detached_signature(cert: &Cert) -> Vec<u8> {
    let p = StandardPolicy::new();
    let key = cert
        .keys()
        .with_policy(&p, None)
        .secret()
        .for_signing()
        .next()
        .unwrap()
        .key()
        .clone()
        .into_keypair()
        .unwrap();
    let mut out = Vec::new();
    {
        let message = Message::new(&mut out);
        let mut w = Signer::new(message, key)
            .unwrap()
            .detached()
            .build()
            .unwrap();
        std::io::Write::write_all(&mut w, b"Hello\n").unwrap();
        w.finalize().unwrap();
    }
    out
}

#[test]
fn revocation_certificates_are_named_not_called_damaged() {
    let cert = generate(ALICE);
    let rev = revocation_of(&cert);
    // gpg writes its revocation certificates as PUBLIC KEY BLOCKs, and keeps them in
    // openpgp-revocs.d/ with a ':' before the BEGIN line so that they are not imported
    // by accident.
    let gpg_style = armor(Kind::PublicKey, &rev);
    let stored = gpg_style.replacen("-----BEGIN", ":-----BEGIN", 1);
    for (what, input) in [
        ("armored", gpg_style.into_bytes()),
        ("as gpg stores it", stored.into_bytes()),
        ("binary", rev.clone()),
        ("armored file", armor(Kind::File, &rev).into_bytes()),
    ] {
        let err = read(&input).unwrap_err();
        assert_eq!(err.code(), "key.not_a_key", "{what}: {err}");
        let text = err.to_string();
        assert!(text.contains("revocation certificate"), "{what}: {text}");
        assert_plain(&text);
    }
}

#[test]
fn detached_signatures_are_named_not_called_damaged() {
    let cert = generate(ALICE);
    let sig = detached_signature(&cert);
    for (what, input) in [
        ("PGP SIGNATURE", armor(Kind::Signature, &sig).into_bytes()),
        ("in a key block", armor(Kind::PublicKey, &sig).into_bytes()),
        ("binary", sig.clone()),
    ] {
        let err = read(&input).unwrap_err();
        assert_eq!(err.code(), "key.not_a_key", "{what}: {err}");
        let text = err.to_string();
        assert!(text.contains("OpenPGP signature"), "{what}: {text}");
        assert!(!text.contains("revocation"), "{what}: {text}");
        assert_plain(&text);
    }
}

#[test]
fn damaged_keys_say_so_plainly_and_keep_the_parser_text_as_detail() {
    let cert = generate(ALICE);
    let mut bytes = binary(&cert);
    bytes.truncate(bytes.len() / 2);
    let mut packets = bytes.clone();
    // A user ID packet where the key should start.
    packets.splice(0..0, [0xcd, 0x03, b'a', b'b', b'c']);
    for input in [
        armor(Kind::PublicKey, &packets),
        armor(Kind::PublicKey, &bytes),
    ] {
        let err = read(&input).unwrap_err();
        assert_eq!(err.code(), "key.malformed", "{err}");
        assert_plain(&err.to_string());
        let detail = err.detail().expect("the parser's own words are kept");
        assert!(!detail.is_empty());
    }
    // Errors without more to say have no detail.
    assert_eq!(read(b"").unwrap_err().detail(), None);
}

// --- keyrings with one old key -----------------------------------------------------------

/// A new-format packet.
fn packet(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![0xc0 | tag];
    let n = body.len();
    if n < 192 {
        out.push(n as u8);
    } else {
        let n = n - 192;
        out.push((n >> 8) as u8 + 192);
        out.push(n as u8);
    }
    out.extend_from_slice(body);
    out
}

/// The body of a LibrePGP v5 Ed25519 key packet (key material made up: nothing verifies it).
fn v5_key_body(tag_secret: bool) -> Vec<u8> {
    let oid = [0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x0f, 0x01];
    let mut material = vec![oid.len() as u8];
    material.extend_from_slice(&oid);
    material.extend_from_slice(&[0x01, 0x07, 0x40]);
    material.extend_from_slice(&[0x5a; 32]);
    let mut body = vec![5, 0x66, 0x00, 0x00, 0x00, 22];
    body.extend_from_slice(&(material.len() as u32).to_be_bytes());
    body.extend_from_slice(&material);
    if tag_secret {
        body.push(0); // S2K usage: unprotected (the secret part is left out here)
    }
    body
}

/// A v5 certificate: key, user ID and a v5 signature (whose contents nobody gets to read).
fn v5_cert(secret: bool) -> (Vec<u8>, String) {
    let body = v5_key_body(secret);
    let mut out = packet(if secret { 5 } else { 6 }, &body);
    out.extend(packet(13, b"Alice LibrePGP <alice@example.org>"));
    out.extend(packet(2, &[5, 0x13, 22, 8, 0, 0, 0, 0, 0xab, 0xcd]));
    // LibrePGP fingerprint: SHA-256 of 0x9A, a four-octet length and the body.
    let mut h = sha2::Sha256::new();
    h.update([0x9a]);
    h.update((body.len() as u32).to_be_bytes());
    h.update(&body);
    let fpr = h.finalize().iter().map(|b| format!("{b:02X}")).collect();
    (out, fpr)
}

/// A PGP 2.x certificate: v3 RSA key, user ID and v3 signature, old-format headers.
fn v3_cert() -> (Vec<u8>, String) {
    let n = [0xc3u8; 128]; // a 1024-bit "modulus"
    let e = [0x01u8, 0x00, 0x01];
    let mut body = vec![3, 0x30, 0x00, 0x00, 0x00, 0, 0, 1];
    body.extend_from_slice(&1024u16.to_be_bytes());
    body.extend_from_slice(&n);
    body.extend_from_slice(&17u16.to_be_bytes());
    body.extend_from_slice(&e);
    let mut out = vec![0x99];
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(&body);
    let uid = b"Alice PGP2 <alice@example.org>";
    out.extend_from_slice(&[0xb4, uid.len() as u8]);
    out.extend_from_slice(uid);
    let mut sig = vec![3, 5, 0x10, 0x30, 0, 0, 0];
    sig.extend_from_slice(&n[n.len() - 8..]);
    sig.extend_from_slice(&[1, 1, 0xab, 0xcd, 0x00, 0x08, 0x5a]);
    out.extend_from_slice(&[0x88, sig.len() as u8]);
    out.extend_from_slice(&sig);
    // RFC 4880 §12.2: MD5 of the modulus and exponent octets.
    let md5 = openssl::hash::hash(
        openssl::hash::MessageDigest::md5(),
        &[&n[..], &e[..]].concat(),
    )
    .unwrap();
    let fpr = md5.iter().map(|b| format!("{b:02X}")).collect();
    (out, fpr)
}

#[test]
fn keyring_with_an_old_key_uses_the_others_and_says_what_was_left_out() {
    let alice = generate(ALICE);
    let bob = generate("Bob Example <bob@example.org>");
    let (v5, v5_fpr) = v5_cert(false);
    let (v3, v3_fpr) = v3_cert();
    let v4 = binary(&alice);
    let cases: Vec<(&str, Vec<u8>, Vec<&str>)> = vec![
        ("v4 then v5", [&v4[..], &v5].concat(), vec![&v5_fpr]),
        ("v5 then v4", [&v5[..], &v4].concat(), vec![&v5_fpr]),
        ("v4 then v3", [&v4[..], &v3].concat(), vec![&v3_fpr]),
        ("v3 then v4", [&v3[..], &v4].concat(), vec![&v3_fpr]),
        (
            "v3, v4, v5, v4",
            [&v3[..], &v4, &v5, &binary(&bob)].concat(),
            vec![&v3_fpr, &v5_fpr],
        ),
    ];
    for (what, packets, skipped) in cases {
        for input in [
            packets.clone(),
            armor(Kind::PublicKey, &packets).into_bytes(),
        ] {
            let key = read(&input).unwrap_or_else(|e| panic!("{what}: {e}"));
            let report = key.inspect(&Policy::standard().with_email("alice@example.org"));
            assert!(report.usable, "{what}: {:?}", report.problems);
            assert_eq!(
                report.fingerprints(),
                [alice.fingerprint().to_hex()],
                "{what}"
            );
            assert!(codes(&report, Severity::Error).is_empty(), "{what}");
            let warnings: Vec<_> = report
                .warnings()
                .filter(|p| p.code == ProblemCode::CertificateSkipped)
                .collect();
            let subjects: Vec<&str> = warnings
                .iter()
                .map(|p| p.subject.as_deref().unwrap())
                .collect();
            assert_eq!(subjects, skipped, "{what}");
            for p in warnings {
                assert_eq!(p.code.as_str(), "key.certificate_skipped");
                let version = if p.subject.as_deref() == Some(v3_fpr.as_str()) {
                    "version 3"
                } else {
                    "version 5"
                };
                assert!(p.message.contains(version), "{what}: {}", p.message);
                assert!(p.message.contains("left out"), "{what}: {}", p.message);
            }
        }
    }
}

#[test]
fn old_key_in_its_own_block_next_to_a_usable_one_is_left_out() {
    let alice = generate(ALICE);
    let (v5, _) = v5_cert(false);
    let text = format!(
        "my new key:\n{}\nmy old one:\n{}",
        armor(Kind::PublicKey, &binary(&alice)),
        armor(Kind::PublicKey, &v5)
    );
    let report = inspect(&text);
    assert!(report.usable);
    let skipped = codes(&report, Severity::Warning)
        .into_iter()
        .filter(|c| *c == ProblemCode::CertificateSkipped)
        .count();
    assert_eq!(skipped, 1, "{:?}", report.problems);
}

#[test]
fn v3_and_v5_keys_alone_say_what_they_are_and_what_to_do() {
    let (v5, _) = v5_cert(false);
    let (v3, _) = v3_cert();
    for (version, packets) in [
        (5, v5.clone()),
        (3, v3.clone()),
        (5, [&v5[..], &v5].concat()),
    ] {
        for input in [
            packets.clone(),
            armor(Kind::PublicKey, &packets).into_bytes(),
        ] {
            let err = read(&input).unwrap_err();
            assert_eq!(err.code(), "key.unsupported_version", "{err}");
            assert_eq!(
                err,
                Error::Key(mailseal_core::KeyError::UnsupportedVersion { version })
            );
            let text = err.to_string();
            assert!(text.contains(&format!("version {version}")), "{text}");
            assert!(text.contains("gpg --quick-gen-key"), "{text}");
            assert_plain(&text);
        }
    }
    assert!(read(v5).unwrap_err().to_string().contains("LibrePGP"));
    assert!(read(v3).unwrap_err().to_string().contains("PGP 2"));
}

#[test]
fn secret_keys_of_other_versions_are_refused_as_private_keys() {
    let alice = generate(ALICE);
    let (secret_v5, _) = v5_cert(true);
    for packets in [
        secret_v5.clone(),
        [&binary(&alice)[..], &secret_v5].concat(),
    ] {
        for input in [
            packets.clone(),
            armor(Kind::PublicKey, &packets).into_bytes(),
        ] {
            assert_eq!(read(&input).unwrap_err().code(), "key.private_key");
        }
    }
}

// --- algorithms and curves that are not accepted -----------------------------------------

/// `cert` with one more encryption subkey of `algo` (key material made up, correctly bound).
fn with_encryption_subkey(cert: &Cert, algo: PublicKeyAlgorithm, mpis: mpi::PublicKey) -> Cert {
    let subkey: Key<PublicParts, SubordinateRole> = Key4::new(SystemTime::now() - DAY, algo, mpis)
        .unwrap()
        .into();
    let mut signer = cert
        .primary_key()
        .key()
        .clone()
        .parts_into_secret()
        .unwrap()
        .into_keypair()
        .unwrap();
    let sig = SignatureBuilder::new(SignatureType::SubkeyBinding)
        .set_signature_creation_time(SystemTime::now() - DAY)
        .unwrap()
        .set_key_flags(
            KeyFlags::empty()
                .set_transport_encryption()
                .set_storage_encryption(),
        )
        .unwrap()
        .sign_subkey_binding(&mut signer, None, &subkey)
        .unwrap();
    cert.clone()
        .insert_packets([Packet::from(subkey), sig.into()])
        .unwrap()
        .0
}

/// A certificate whose only encryption subkey is `algo`.
fn sign_only_with(algo: PublicKeyAlgorithm, mpis: mpi::PublicKey) -> Vec<u8> {
    let (cert, _) = CertBuilder::new()
        .set_creation_time(SystemTime::now() - DAY)
        .add_userid(ALICE)
        .add_signing_subkey()
        .generate()
        .unwrap();
    binary(&with_encryption_subkey(&cert, algo, mpis))
}

fn ecdh(curve: Curve, point_len: usize) -> mpi::PublicKey {
    let mut q = vec![0x04];
    q.extend(std::iter::repeat_n(0x42, point_len));
    mpi::PublicKey::ECDH {
        curve,
        q: mpi::MPI::new(&q),
        hash: HashAlgorithm::SHA256,
        sym: SymmetricAlgorithm::AES128,
    }
}

#[allow(deprecated)] // ElGamal is deprecated in Sequoia precisely because it is weak.
fn elgamal(bits: usize) -> mpi::PublicKey {
    let p = vec![0xff; bits / 8];
    mpi::PublicKey::ElGamal {
        p: mpi::MPI::new(&p),
        g: mpi::MPI::new(&[2]),
        y: mpi::MPI::new(&p[1..]),
    }
}

#[test]
#[allow(deprecated)]
fn refused_subkey_algorithms_and_curves_are_named() {
    let secp256k1 = Curve::Unknown(vec![0x2b, 0x81, 0x04, 0x00, 0x0a].into_boxed_slice());
    let cases = [
        (
            "ElGamal 2048",
            sign_only_with(PublicKeyAlgorithm::ElGamalEncrypt, elgamal(2048)),
            "no longer accepted",
        ),
        (
            "ElGamal 1024",
            sign_only_with(PublicKeyAlgorithm::ElGamalEncrypt, elgamal(1024)),
            "no longer accepted",
        ),
        (
            "ECDH brainpoolP256r1",
            sign_only_with(PublicKeyAlgorithm::ECDH, ecdh(Curve::BrainpoolP256, 64)),
            "cannot use",
        ),
        (
            "ECDH secp256k1",
            sign_only_with(PublicKeyAlgorithm::ECDH, ecdh(secp256k1, 64)),
            "cannot use",
        ),
    ];
    for (name, input, why) in cases {
        let report = inspect(&input);
        assert!(!report.usable, "{name}");
        let errors: Vec<_> = report.errors().collect();
        assert_eq!(errors.len(), 1, "{name}: {errors:?}");
        let p = errors[0];
        assert_eq!(p.code, ProblemCode::UnsupportedAlgorithm, "{name}: {p}");
        assert!(p.message.contains(name), "{name}: {}", p.message);
        assert!(p.message.contains(why), "{name}: {}", p.message);
        assert!(
            p.message.contains("gpg --quick-add-key"),
            "{name}: {}",
            p.message
        );
        assert!(!p.message.contains("refresh"), "{name}: {}", p.message);
        assert_plain(&p.message);
        // The subkey, named by its fingerprint, is the subject.
        let d = details(&report, 0);
        let sub = d.subkeys.iter().find(|k| k.algorithm == name).unwrap();
        assert_eq!(
            p.subject.as_deref(),
            Some(sub.fingerprint.to_hex().as_str())
        );
    }
}

#[test]
fn a_refused_subkey_beside_a_good_one_is_not_an_error() {
    let cert = generate(ALICE);
    #[allow(deprecated)]
    let both = with_encryption_subkey(&cert, PublicKeyAlgorithm::ElGamalEncrypt, elgamal(2048));
    let report = inspect(binary(&both));
    assert!(report.usable, "{:?}", report.problems);
    assert_eq!(report.errors().count(), 0, "{:?}", report.problems);
    assert!(
        !codes(&report, Severity::Warning).contains(&ProblemCode::UnsupportedAlgorithm),
        "{:?}",
        report.problems
    );
}

#[test]
fn subkey_binding_rejections_keep_sequoias_words_as_detail_only() {
    // A binding signature made with SHA-1: rejected by the policy, named as such, and the
    // policy's own text is the detail.
    let (cert, _) = CertBuilder::new()
        .set_creation_time(SystemTime::now() - DAY)
        .add_userid(ALICE)
        .generate()
        .unwrap();
    let subkey: Key<PublicParts, SubordinateRole> = Key4::new(
        SystemTime::now() - DAY,
        PublicKeyAlgorithm::ECDH,
        ecdh(Curve::NistP256, 64),
    )
    .unwrap()
    .into();
    let mut signer = cert
        .primary_key()
        .key()
        .clone()
        .parts_into_secret()
        .unwrap()
        .into_keypair()
        .unwrap();
    let sig = SignatureBuilder::new(SignatureType::SubkeyBinding)
        .set_hash_algo(HashAlgorithm::SHA1)
        .set_signature_creation_time(SystemTime::now() - DAY)
        .unwrap()
        .set_key_flags(KeyFlags::empty().set_transport_encryption())
        .unwrap()
        .sign_subkey_binding(&mut signer, None, &subkey)
        .unwrap();
    let cert = cert
        .insert_packets([Packet::from(subkey), sig.into()])
        .unwrap()
        .0;
    let report = inspect(binary(&cert));
    let p = report.errors().next().unwrap();
    assert_eq!(p.code, ProblemCode::Sha1BindingSignature, "{p}");
    assert_plain(&p.message);
    let detail = p.detail.as_deref().expect("Sequoia's words are kept");
    assert!(detail.contains("SHA1"), "{detail}");
    // Problems without anything more to say have no detail.
    let report = inspect(binary(&generate(ALICE)));
    assert!(report.problems.iter().all(|p| p.detail.is_none()));
}

// --- one expiry per key --------------------------------------------------------------------

/// A key made 300 days ago with a one-year expiry and two user IDs; 100 days ago its owner
/// extended it to three years, on one user ID only (made primary), and on the subkey. The
/// other user ID ("Aaron", sorted first) still carries the superseded one-year signature.
fn extended_key() -> (Cert, Cert, SystemTime) {
    // Whole seconds: OpenPGP keeps times in seconds.
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(now) - 300 * DAY;
    let t1 = t0 + 200 * DAY;
    let (old, _) = CertBuilder::new()
        .set_creation_time(t0)
        .add_userid("Aaron Old <aaron@example.org>")
        .add_userid(ALICE)
        .set_validity_period(365 * DAY)
        .add_transport_encryption_subkey()
        .generate()
        .unwrap();
    let mut signer = old
        .primary_key()
        .key()
        .clone()
        .parts_into_secret()
        .unwrap()
        .into_keypair()
        .unwrap();
    let p = StandardPolicy::new();
    let vc = old.with_policy(&p, t0 + DAY).unwrap();
    let alice = vc
        .userids()
        .find(|u| u.userid().value() == ALICE.as_bytes())
        .unwrap();
    let uid: UserID = alice.userid().clone();
    let uid_sig = SignatureBuilder::from(alice.binding_signature().clone())
        .set_signature_creation_time(t1)
        .unwrap()
        .set_key_validity_period(3 * 365 * DAY)
        .unwrap()
        .set_primary_userid(true)
        .unwrap()
        .sign_userid_binding(&mut signer, None, &uid)
        .unwrap();
    let sub = vc.keys().subkeys().next().unwrap();
    let subkey = sub.key().clone();
    let sub_sig = SignatureBuilder::from(sub.binding_signature().clone())
        .set_signature_creation_time(t1)
        .unwrap()
        .set_key_validity_period(3 * 365 * DAY)
        .unwrap()
        .sign_subkey_binding(&mut signer, None, &subkey)
        .unwrap();
    let new = old
        .clone()
        .insert_packets([Packet::from(uid_sig), sub_sig.into()])
        .unwrap()
        .0;
    (public(&old), public(&new), t0)
}

fn assert_one_expiry(report: &KeyReport, want: SystemTime, what: &str) {
    assert_eq!(report.expires, Some(want), "{what}");
    for (i, c) in report.certificates.iter().enumerate() {
        assert_eq!(c.expires, Some(want), "{what}: certificate {i}");
        let d = details(report, i);
        assert_eq!(d.primary.expires, Some(want), "{what}: primary of {i}");
        for k in &d.subkeys {
            assert_eq!(k.expires, Some(want), "{what}: subkey of {i}");
        }
    }
}

#[test]
fn a_key_extended_many_times_shows_the_expiry_in_force_only() {
    let (_, new, t0) = extended_key();
    let report = inspect(binary(&new));
    assert_eq!(
        details(&report, 0).user_ids[0],
        "Aaron Old <aaron@example.org>",
        "the user ID with the superseded self-signature comes first"
    );
    assert!(report.usable);
    assert_one_expiry(&report, t0 + 3 * 365 * DAY, "now");

    // Before the extension, the one-year expiry was in force, for every key.
    let then = Policy::standard().at(t0 + 10 * DAY);
    let report = read(binary(&new)).unwrap().inspect(&then);
    assert_one_expiry(&report, t0 + 365 * DAY, "before the extension");
}

#[test]
fn copies_of_one_key_exported_at_different_times_agree_on_its_expiry() {
    let (old, new, t0) = extended_key();
    for packets in [
        [binary(&old), binary(&new)].concat(),
        [binary(&new), binary(&old)].concat(),
    ] {
        let key = read(&packets).unwrap();
        assert_eq!(key.certificate_count(), 2);
        let report = key.inspect(&Policy::standard());
        assert_one_expiry(&report, t0 + 3 * 365 * DAY, "copies");
    }
    // Two armored blocks, as pasted.
    let text = format!(
        "{}\n{}",
        armor(Kind::PublicKey, &binary(&old)),
        armor(Kind::PublicKey, &binary(&new))
    );
    assert_one_expiry(&inspect(text), t0 + 3 * 365 * DAY, "blocks");
}

/// A packet stream on which sequoia-openpgp 2.4.2's raw certificate reader panics (a slice
/// past the end of the data; found by the `key_openpgp_armor` fuzz target): a typed error,
/// binary and armored.
#[test]
fn a_packet_stream_that_panics_sequoias_raw_reader_is_damaged_input() {
    use std::io::Write as _;
    let packets = include_bytes!("data/raw-cert-slice-panic.pgp");
    let mut armored = Vec::new();
    {
        let mut w = Writer::new(&mut armored, Kind::PublicKey).unwrap();
        w.write_all(packets).unwrap();
        w.finalize().unwrap();
    }
    for input in [&packets[..], &armored[..]] {
        let err = RecipientKey::from_bytes(input).unwrap_err();
        assert!(err.code().starts_with("key."), "{}", err.code());
    }
}
