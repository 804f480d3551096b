//! Messages that real Stalwart servers stored encrypted at rest (`tests/fixtures/`):
//! `is_encrypted` recognises every one, and `decrypt` (and `decrypt_stream`) give back the
//! original exactly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::PathBuf;

use mailseal_core::{PrivateKey, decrypt, decrypt_stream, is_encrypted};

fn fixtures(version: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(version);
    assert!(
        dir.is_dir(),
        "the Stalwart fixtures are expected at {} (copied into the repository)",
        dir.display()
    );
    dir
}

fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `decrypt_stream` of `stored`, read a few bytes at a time (chunk edges everywhere).
fn streamed(stored: &[u8], key: &PrivateKey) -> Vec<u8> {
    struct Trickle<'a>(&'a [u8]);
    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.0.len()).min(7);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let mut out = Vec::new();
    decrypt_stream(Trickle(stored), &mut out, key).unwrap();
    out
}

fn key(parts: &[PathBuf]) -> PrivateKey {
    let mut data = Vec::new();
    for p in parts {
        data.extend(read(p.clone()));
    }
    PrivateKey::from_bytes(&data, None).unwrap()
}

#[test]
fn every_message_stalwart_0_16_stored_decrypts_to_the_original() {
    let dir = fixtures("stalwart-0.16.19");
    let k = |f: &str| dir.join("keys").join(f);
    let smime = key(&[k("smime-rsa3072.key.pem"), k("smime-rsa3072.crt.pem")]);
    let pgp_rsa = key(&[k("pgp-rsa3072.sec.asc")]);
    let pgp_25519 = key(&[k("pgp-25519.sec.asc")]);
    let mut checked = 0;
    for setting in [
        "smime-aes128",
        "smime-aes256",
        "smime-aes256gcm",
        "smime-chacha20poly1305",
        "pgp-rsa-aes128",
        "pgp-rsa-aes256",
        "pgp-cv25519-aes256",
    ] {
        let key = match setting {
            s if s.starts_with("smime") => &smime,
            s if s.starts_with("pgp-rsa") => &pgp_rsa,
            _ => &pgp_25519,
        };
        for n in 1..=2 {
            let stored = read(dir.join(format!("messages/{setting}-{n}.eml")));
            let original = read(dir.join(format!("messages/{n}.orig.eml")));
            assert!(is_encrypted(&stored), "{setting}-{n}");
            assert!(!is_encrypted(&original), "{n}.orig");
            // The server added one header at delivery; everything else is the original.
            let mut want = b"Delivered-To: alice@example.org\r\n".to_vec();
            want.extend(&original);
            let got = decrypt(&stored, key).unwrap_or_else(|e| panic!("{setting}-{n}: {e}"));
            assert!(*got == want, "{setting}-{n}: decrypted message differs");
            assert!(
                streamed(&stored, key) == want,
                "{setting}-{n}: streamed differs"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 14);
}

#[test]
fn messages_stalwart_0_15_stored_decrypt_to_the_original() {
    let dir = fixtures("stalwart-0.15.5");
    let k = |f: &str| dir.join("keys").join(f);
    let cases = [
        (
            "smime",
            key(&[k("smime-rsa3072-key.pem"), k("smime-rsa3072-cert.pem")]),
        ),
        ("pgp", key(&[k("pgp-rsa3072-private.asc")])),
    ];
    for (name, key) in cases {
        let stored = read(dir.join(format!("messages/{name}-aes256-stored.eml")));
        let original = read(dir.join(format!("messages/{name}-aes256-original.eml")));
        assert!(is_encrypted(&stored), "{name}");
        let got = decrypt(&stored, &key).unwrap();
        // 0.15 dropped the body's final CRLF and added Delivered-To (fixture README).
        let mut want = b"Delivered-To: alice@example.org\r\n".to_vec();
        want.extend(original.strip_suffix(b"\r\n").unwrap());
        assert!(*got == want, "{name}: decrypted message differs");
        assert!(streamed(&stored, &key) == want, "{name}: streamed differs");
    }
}

#[test]
fn the_wrong_key_is_a_typed_error() {
    let dir = fixtures("stalwart-0.16.19");
    let stored = read(dir.join("messages/smime-aes256-1.eml"));
    let other =
        PrivateKey::from_bytes(include_bytes!("../../../examples/keys/alice.key.pem"), None)
            .unwrap();
    let mut sink = Vec::new();
    assert_eq!(
        decrypt_stream(&stored[..], &mut sink, &other)
            .unwrap_err()
            .code(),
        decrypt(&stored, &other).unwrap_err().code(),
    );
    assert_eq!(
        decrypt(&stored, &other).unwrap_err().code(),
        "decrypt.no_matching_key"
    );
    let stored = read(dir.join("messages/pgp-rsa-aes256-1.eml"));
    let other =
        PrivateKey::from_bytes(include_bytes!("../../../examples/keys/alice.sec.asc"), None)
            .unwrap();
    assert_eq!(
        decrypt(&stored, &other).unwrap_err().code(),
        "decrypt.no_matching_key"
    );
}
