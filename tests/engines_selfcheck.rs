//! Self-check of the interoperability engines (`mailseal_tests::engines`), before mailseal's
//! own encryption exists:
//!
//! * the matrix keys are generated once (`tests/corpus/gen-matrix-keys.sh`);
//! * a small MIME entity is encrypted for every key with the reference producers
//!   (`openssl cms`, `gpg`, pysequoia), and every engine decrypts every message of its
//!   family: where [`supports`] says yes the result must be the exact entity, where it says
//!   no the engine must fail (so the support table is re-measured on each run);
//! * BER indefinite-length input is checked against [`engines::supports_ber_indefinite`];
//! * the real Stalwart 0.16.19 messages in `tests/fixtures/stalwart-0.16.19/` are
//!   decrypted with the fixture keys and compared with the originals as that folder's
//!   README ("Step 12") describes.
//!
//! One test per engine, so that the harness runs them in parallel.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

use mailseal_tests::engines::{
    self, Engine, KeyKind, Support, decrypt, encrypt_reference, key_kind, supports,
};
use mailseal_tests::repo_root;

const SMIME_KEYS: [&str; 7] = [
    "smime-rsa2048",
    "smime-rsa3072",
    "smime-rsa4096",
    "smime-p256",
    "smime-p384",
    "smime-p521",
    "smime-x25519",
];
const PGP_KEYS: [&str; 4] = ["pgp-rsa3072", "pgp-cv25519", "pgp-nistp256", "pgp-v6"];

/// The inner entity: CRLF lines, a line starting with a dot, a signature separator with a
/// trailing space, 8-bit UTF-8, final CRLF.
const ENTITY: &[u8] = b"Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: 8bit\r\n\
\r\n\
Hello Alice,\r\n\
.this line starts with a dot\r\n\
-- \r\n\
Gr\xc3\xbc\xc3\x9fe\r\n";

/// Non-MIME header fields put in front of the reference messages, as a server keeps them
/// in clear text.
const OUTER: &str = "Delivered-To: alice@example.org\r\nFrom: Sender <sender@example.net>\r\n\
To: Alice Example <alice@example.org>\r\nSubject: engines self-check\r\n";

/// The matrix keys, generated once per test binary into `CARGO_TARGET_TMPDIR/matrix-keys`.
fn keys() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("matrix-keys");
        let _ = std::fs::remove_dir_all(&dir);
        let script = repo_root().join("tests/corpus/gen-matrix-keys.sh");
        let start = Instant::now();
        let out = Command::new("bash")
            .arg(&script)
            .arg(&dir)
            .stdin(Stdio::null())
            .output()
            .expect("run gen-matrix-keys.sh (install the tools with scripts/setup)");
        assert!(
            out.status.success(),
            "gen-matrix-keys.sh failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!(
            "{} ({:.1} s)",
            String::from_utf8_lossy(&out.stdout).trim(),
            start.elapsed().as_secs_f64()
        );
        dir
    })
}

/// One reference message.
struct Sample {
    producer: &'static str,
    key: &'static str,
    algorithm: &'static str,
    seipdv2: bool,
    message: Vec<u8>,
}

/// A PGP/MIME message in Stalwart's layout (CRLF structure, the armored part as produced).
fn pgp_mime(armored: &[u8]) -> Vec<u8> {
    let mut m = OUTER.as_bytes().to_vec();
    m.extend_from_slice(
        b"MIME-Version: 1.0\r\n\
Content-Type: multipart/encrypted;\r\n\
\tprotocol=\"application/pgp-encrypted\";\r\n\
\tboundary=\"selfcheck-boundary\"\r\n\
\r\n\
OpenPGP/MIME message\r\n\
\r\n\
--selfcheck-boundary\r\n\
Content-Type: application/pgp-encrypted\r\n\
\r\n\
Version: 1\r\n\
\r\n\
--selfcheck-boundary\r\n\
Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n\
Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\
\r\n",
    );
    m.extend_from_slice(armored);
    m.extend_from_slice(b"\r\n--selfcheck-boundary--\r\n");
    m
}

/// The reference messages, produced once: openssl cms for every S/MIME key it can encrypt
/// to (all but X25519) with AES-128/256-CBC and AES-256-GCM; gpg for gpg's keys with
/// AES-128/256; pysequoia for every OpenPGP key (SEIPDv2 for the v6 key).
fn samples() -> &'static [Sample] {
    static SAMPLES: OnceLock<Vec<Sample>> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let keys = keys();
        let start = Instant::now();
        let mut samples = Vec::new();
        for key in SMIME_KEYS {
            if key_kind(key) == Some(KeyKind::SmimeX25519) {
                continue; // no producer: see x25519_and_chacha_have_no_producer
            }
            for algorithm in ["aes128", "aes256", "aes256-gcm"] {
                let smime = encrypt_reference(Engine::OpensslCms, keys, key, ENTITY, algorithm)
                    .unwrap_or_else(|e| panic!("{e}"));
                let mut message = OUTER.replace("\r\n", "\n").into_bytes();
                message.extend_from_slice(&smime);
                samples.push(Sample {
                    producer: "openssl-cms",
                    key,
                    algorithm,
                    seipdv2: false,
                    message,
                });
            }
        }
        for key in PGP_KEYS {
            if key_kind(key) == Some(KeyKind::PgpV4) {
                for algorithm in ["aes128", "aes256"] {
                    let armored = encrypt_reference(Engine::Gpg, keys, key, ENTITY, algorithm)
                        .unwrap_or_else(|e| panic!("{e}"));
                    samples.push(Sample {
                        producer: "gpg",
                        key,
                        algorithm,
                        seipdv2: false,
                        message: pgp_mime(&armored),
                    });
                }
            }
            let armored = encrypt_reference(Engine::PySequoia, keys, key, ENTITY, "aes256")
                .unwrap_or_else(|e| panic!("{e}"));
            samples.push(Sample {
                producer: "pysequoia",
                key,
                algorithm: "aes256",
                // Sequoia writes SEIPDv2 only when the certificate asks for it: gpg 2.2's
                // keys do not, the v6 key does.
                seipdv2: key_kind(key) == Some(KeyKind::PgpV6),
                message: pgp_mime(&armored),
            });
        }
        eprintln!(
            "{} reference messages in {:.1} s",
            samples.len(),
            start.elapsed().as_secs_f64()
        );
        samples
    })
}

/// Decrypts every reference message of `engine`'s family and checks the result against
/// [`supports`]: the exact entity where supported, a failure where not.
fn check_engine(engine: Engine) {
    let keys = keys();
    let start = Instant::now();
    let mut problems = Vec::new();
    let (mut opened, mut refused) = (0, 0);
    for s in samples() {
        let kind = key_kind(s.key).unwrap();
        if kind.is_openpgp() != engine.is_openpgp() {
            continue;
        }
        let what = format!(
            "{} on {} {} {}{}",
            engine.name(),
            s.producer,
            s.key,
            s.algorithm,
            if s.seipdv2 { " SEIPDv2" } else { "" }
        );
        let support = supports(engine, s.key, s.algorithm, s.seipdv2);
        match (support, decrypt(engine, keys, s.key, &s.message)) {
            (Support::Yes, Ok(plain)) if plain == ENTITY => opened += 1,
            (Support::Yes, Ok(plain)) => problems.push(format!(
                "{what}: wrong plaintext:\n{:?}",
                String::from_utf8_lossy(&plain)
            )),
            (Support::Yes, Err(e)) => problems.push(format!("{what}: failed: {e}")),
            (Support::No(_), Err(_)) => refused += 1,
            (Support::No(why), Ok(_)) => problems.push(format!(
                "{what}: decrypted although supports() says no ({why}); update the table"
            )),
        }
    }
    eprintln!(
        "{}: {opened} opened, {refused} refused as expected, {} problems, {:.1} s",
        engine.name(),
        problems.len(),
        start.elapsed().as_secs_f64()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    assert!(
        opened > 0,
        "{} opened no reference message at all",
        engine.name()
    );
}

#[test]
fn gpg() {
    check_engine(Engine::Gpg);
}

#[test]
fn rnp() {
    check_engine(Engine::Rnp);
}

#[test]
fn sq() {
    check_engine(Engine::Sq);
}

#[test]
fn pysequoia() {
    check_engine(Engine::PySequoia);
}

#[test]
fn openssl_cms() {
    check_engine(Engine::OpensslCms);
}

#[test]
fn nss_cmsutil() {
    check_engine(Engine::NssCmsutil);
}

#[test]
fn gpgsm() {
    check_engine(Engine::Gpgsm);
}

#[test]
fn py_cryptography() {
    check_engine(Engine::PyCryptography);
}

/// `openssl cms -encrypt -stream` writes BER with indefinite lengths inside the S/MIME
/// body; each S/MIME engine must behave as `supports_ber_indefinite` says.
#[test]
fn ber_indefinite_length() {
    let keys = keys();
    let key = "smime-rsa3072";
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ber-sample");
    std::fs::create_dir_all(&dir).unwrap();
    let entity = dir.join("entity");
    std::fs::write(&entity, ENTITY).unwrap();
    let out = Command::new("openssl")
        .args(["cms", "-encrypt", "-stream", "-binary", "-aes128", "-in"])
        .arg(&entity)
        .arg(keys.join(format!("{key}.crt.pem")))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let message = out.stdout;
    let der = engines::smime_der(&message).unwrap();
    // SEQUENCE with indefinite length, i.e. really BER.
    assert_eq!(
        &der[..2],
        &[0x30, 0x80],
        "openssl -stream did not write BER"
    );
    for engine in Engine::ALL.into_iter().filter(|e| !e.is_openpgp()) {
        let result = decrypt(engine, keys, key, &message);
        match engines::supports_ber_indefinite(engine) {
            Support::Yes => assert_eq!(
                result.unwrap_or_else(|e| panic!("BER: {e}")),
                ENTITY,
                "{}",
                engine.name()
            ),
            Support::No(why) => assert!(
                result.is_err(),
                "{} read BER although the table says no ({why})",
                engine.name()
            ),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// X25519 S/MIME and ChaCha20-Poly1305 have no producer on this machine, and no program here
/// reads them: only the pyca-primitives decryptor written for the tests does.
#[test]
fn x25519_and_chacha_have_no_producer() {
    let keys = keys();
    assert!(encrypt_reference(Engine::OpensslCms, keys, "smime-x25519", ENTITY, "aes128").is_err());
    assert!(
        encrypt_reference(
            Engine::OpensslCms,
            keys,
            "smime-rsa3072",
            ENTITY,
            "chacha20-poly1305"
        )
        .is_err()
    );
    for engine in Engine::ALL {
        let ours = engine == Engine::PycaPrimitives;
        for algorithm in engines::ALGORITHMS {
            assert_eq!(
                supports(engine, "smime-x25519", algorithm, false).is_yes(),
                ours
            );
        }
        assert_eq!(
            supports(engine, "smime-rsa3072", "chacha20-poly1305", false).is_yes(),
            ours
        );
    }
}

/// Failures come back as errors that say what went wrong, not as panics.
#[test]
fn errors_are_reported() {
    let keys = keys();
    let e = decrypt(Engine::Gpg, keys, "pgp-rsa3072", b"x").unwrap_err();
    assert!(e.contains("BEGIN PGP MESSAGE"), "{e}");
    let msg = pgp_mime(b"-----BEGIN PGP MESSAGE-----\n\nAAAA\n-----END PGP MESSAGE-----\n");
    let e = decrypt(Engine::Gpg, keys, "pgp-missing", &msg).unwrap_err();
    assert!(e.contains("missing key file"), "{e}");
    let e = decrypt(
        Engine::OpensslCms,
        keys,
        "smime-rsa3072",
        b"Subject: x\r\n\r\nnot S/MIME\r\n",
    )
    .unwrap_err();
    assert!(e.starts_with("openssl-cms (smime-rsa3072): "), "{e}");
    let e = decrypt(
        Engine::NssCmsutil,
        keys,
        "smime-rsa3072",
        b"Subject: x\r\n\r\nbody\r\n",
    )
    .unwrap_err();
    assert!(e.contains("Content-Transfer-Encoding"), "{e}");
    assert!(encrypt_reference(Engine::Rnp, keys, "pgp-rsa3072", ENTITY, "aes128").is_err());
}

// --- Stalwart fixtures ---------------------------------------------------------------------

/// Stored-message name prefix → (fixture key, algorithm), from the README's Step 12 table.
const FIXTURES: [(&str, &str, &str); 7] = [
    ("smime-aes128-", "smime-rsa3072", "aes128"),
    ("smime-aes256-", "smime-rsa3072", "aes256"),
    ("smime-aes256gcm-", "smime-rsa3072", "aes256-gcm"),
    (
        "smime-chacha20poly1305-",
        "smime-rsa3072",
        "chacha20-poly1305",
    ),
    ("pgp-rsa-aes128-", "pgp-rsa3072", "aes128"),
    ("pgp-rsa-aes256-", "pgp-rsa3072", "aes256"),
    ("pgp-cv25519-aes256-", "pgp-25519", "aes256"),
];

/// The stored message's root header fields that are not `Content-*` (folded lines kept),
/// byte for byte: what the server leaves in clear text.
fn clear_headers(message: &[u8]) -> Vec<u8> {
    let (header, _) = engines::split_message(message).unwrap();
    let mut out = Vec::new();
    let mut keep = false;
    for line in header.split_inclusive(|&b| b == b'\n') {
        if !line.starts_with(b" ") && !line.starts_with(b"\t") {
            keep = !line.to_ascii_lowercase().starts_with(b"content-");
        }
        if keep {
            out.extend_from_slice(line);
        }
    }
    out
}

/// The real messages Stalwart stored encrypted: every engine that supports the setting must
/// give back the inner entity such that the clear-text headers + entity equal
/// `Delivered-To: alice@example.org` + the original (README, Step 12, "yes (+DT)"); every
/// S/MIME engine must refuse ChaCha20-Poly1305.
#[test]
fn stalwart_fixtures() {
    let base = repo_root().join("tests/fixtures/stalwart-0.16.19");
    let (messages, keys) = (base.join("messages"), base.join("keys"));
    assert!(
        messages.is_dir(),
        "the recorded Stalwart messages are expected at {}",
        messages.display()
    );
    let start = Instant::now();
    let mut names: Vec<String> = std::fs::read_dir(&messages)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".eml") && !n.ends_with(".orig.eml"))
        .collect();
    names.sort();
    assert!(
        !names.is_empty(),
        "no stored messages in {}",
        messages.display()
    );
    let mut problems = Vec::new();
    let mut checks = 0;
    for name in &names {
        let stem = name.strip_suffix(".eml").unwrap();
        let (prefix, key, algorithm) = FIXTURES
            .iter()
            .find(|(p, _, _)| stem.starts_with(p))
            .unwrap_or_else(|| panic!("unknown fixture {name}: extend FIXTURES"));
        let n = &stem[prefix.len()..];
        let stored = std::fs::read(messages.join(name)).unwrap();
        let original = std::fs::read(messages.join(format!("{n}.orig.eml"))).unwrap();
        let mut expected = b"Delivered-To: alice@example.org\r\n".to_vec();
        expected.extend_from_slice(&original);
        let clear = clear_headers(&stored);

        let family = key_kind(key).unwrap().is_openpgp();
        let mut opened_by = Vec::new();
        for engine in Engine::ALL.into_iter().filter(|e| e.is_openpgp() == family) {
            let what = format!("{} on {name}", engine.name());
            checks += 1;
            match (
                supports(engine, key, algorithm, false),
                decrypt(engine, &keys, key, &stored),
            ) {
                (Support::Yes, Ok(entity)) => {
                    let mut rebuilt = clear.clone();
                    rebuilt.extend_from_slice(&entity);
                    if rebuilt == expected {
                        opened_by.push(engine.name());
                    } else {
                        problems.push(format!(
                            "{what}: headers + entity differ from Delivered-To + {n}.orig.eml:\n{}",
                            String::from_utf8_lossy(&rebuilt)
                        ));
                    }
                }
                (Support::Yes, Err(e)) => problems.push(format!("{what}: {e}")),
                (Support::No(_), Err(_)) => {}
                (Support::No(why), Ok(_)) => problems.push(format!(
                    "{what}: decrypted although supports() says no ({why})"
                )),
            }
        }
        // The README's own oracle must be among the engines that opened the message.
        let oracle = if family { "gpg" } else { "openssl-cms" };
        if *algorithm != "chacha20-poly1305" && !opened_by.contains(&oracle) {
            problems.push(format!("{name}: not opened by {oracle}"));
        }
        eprintln!("{name}: opened by {}", opened_by.join(", "));
    }
    eprintln!(
        "stalwart fixtures: {} messages, {checks} engine runs, {:.1} s",
        names.len(),
        start.elapsed().as_secs_f64()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

// --- message helpers -------------------------------------------------------------------------

#[test]
fn message_helpers() {
    let msg = pgp_mime(b"-----BEGIN PGP MESSAGE-----\n\nwcA=\n-----END PGP MESSAGE-----\n");
    assert_eq!(
        engines::pgp_armored_block(&msg).unwrap(),
        b"-----BEGIN PGP MESSAGE-----\n\nwcA=\n-----END PGP MESSAGE-----\n"
    );
    let smime =
        b"Subject: x\r\nContent-Type: application/pkcs7-mime;\r\n\tsmime-type=enveloped-data\r\n\
content-transfer-encoding:  Base64\r\n\r\nTWFp\r\nbHNl\r\nYWw=\r\n";
    assert_eq!(engines::smime_der(smime).unwrap(), b"Mailseal");
    assert_eq!(
        clear_headers(smime),
        b"Subject: x\r\n",
        "Content-* fields and their folded lines are dropped"
    );
    let fields = engines::header_fields(engines::split_message(smime).unwrap().0);
    assert_eq!(
        fields[1].1,
        " application/pkcs7-mime;\tsmime-type=enveloped-data"
    );
    assert!(engines::smime_der(b"Subject: x\r\n\r\nTWF*\r\n").is_err());
}
