//! Message-side harnesses: MIME split + encryption, detection, decryption, private keys.

use std::hint::black_box;
use std::sync::OnceLock;

use mailseal_core::{
    Algorithm, EncryptOptions, Outcome, Policy, PrivateKey, RecipientKey, Recipients, decrypt,
    decrypt_stream, encrypt, encrypt_stream, is_encrypted,
};

/// The example recipients and their private keys: (S/MIME, OpenPGP).
pub struct Keys {
    pub smime: Recipients,
    pub smime_key: PrivateKey,
    pub pgp: Recipients,
    pub pgp_key: PrivateKey,
}

/// Parsed once per process.
pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let recipients = |data: &[u8]| {
            RecipientKey::from_bytes(data)
                .and_then(|k| k.validate(&Policy::standard().at(crate::fixed_time())))
                .unwrap_or_else(|e| panic!("example key: {e}"))
        };
        let private = |data: &[u8]| {
            PrivateKey::from_bytes(data, None).unwrap_or_else(|e| panic!("example key: {e}"))
        };
        Keys {
            smime: recipients(include_bytes!("../../examples/keys/alice.crt.pem")),
            smime_key: private(include_bytes!("../../examples/keys/alice.key.pem")),
            pgp: recipients(include_bytes!("../../examples/keys/alice.pub.asc")),
            pgp_key: private(include_bytes!("../../examples/keys/alice.sec.asc")),
        }
    })
}

/// Encrypts `message` in memory and streaming; both must agree after decryption, and the
/// result must be recognised as encrypted.
pub fn encrypt_roundtrip(message: &[u8], smime: bool, algorithm: Algorithm) {
    let k = keys();
    let (recipients, key) = if smime {
        (&k.smime, &k.smime_key)
    } else {
        (&k.pgp, &k.pgp_key)
    };
    let options = EncryptOptions::new(algorithm);
    let bytes = encrypt(message, recipients, &options);
    let mut streamed = Vec::new();
    let stream = encrypt_stream(message, &mut streamed, recipients, &options);
    match (bytes, stream) {
        (Ok(b), Ok(outcome)) => {
            assert_eq!(b.outcome, outcome, "in-memory and streaming disagree");
            if outcome == Outcome::AlreadyEncrypted {
                assert_eq!(b.message, message, "already encrypted input was changed");
                assert_eq!(streamed, message, "already encrypted input was changed");
                return;
            }
            assert!(
                is_encrypted(&b.message),
                "output not recognised as encrypted"
            );
            assert!(
                is_encrypted(&streamed),
                "output not recognised as encrypted"
            );
            let one = decrypt(&b.message, key).unwrap_or_else(|e| panic!("decrypt: {e}"));
            let two = decrypt(&streamed, key).unwrap_or_else(|e| panic!("decrypt: {e}"));
            assert_eq!(one, two, "in-memory and streaming decrypt differently");
        }
        (Err(a), Err(b)) => assert_eq!(a.code(), b.code()),
        (a, b) => {
            // The streaming reader caps the header block; in memory only the error differs.
            let codes = (a.err().map(|e| e.code()), b.err().map(|e| e.code()));
            assert!(
                matches!(codes, (None, Some("mime.headers_too_long"))),
                "in-memory and streaming disagree: {codes:?}"
            );
        }
    }
}

/// Runs `f` with the default panic behaviour (unwinding) instead of libFuzzer's
/// abort-on-panic hook: `decrypt` catches the panics of a known sequoia-openpgp 2.4.2 parser
/// bug itself, as it does in production. A panic that escapes `f` is re-raised with the
/// fuzzer's hook back in place, so it is still reported as a crash.
fn unwinding<T>(f: impl FnOnce() -> T) -> T {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    match result {
        Ok(v) => v,
        Err(p) => std::panic::resume_unwind(p),
    }
}

/// Decrypts `message` with both example keys; errors must be typed, never panics.
pub fn decrypt_both(message: &[u8]) {
    let k = keys();
    for key in [&k.smime_key, &k.pgp_key] {
        match unwinding(|| decrypt(message, key)) {
            Ok(plain) => {
                black_box(plain.len());
            }
            Err(e) => {
                black_box(e.code());
                black_box(e.to_string());
            }
        }
    }
    black_box(is_encrypted(message));
}

/// Decrypts `message` from memory and from a reader that hands it out a few bytes at a
/// time, with both example keys: the chunk edges must not change the outcome (the same
/// plaintext, or an error both times), and nothing panics.
pub fn decrypt_streamed(message: &[u8]) {
    struct Trickle<'a>(&'a [u8], usize);
    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.0.len()).min(self.1);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let step = 1 + usize::from(message.first().copied().unwrap_or(0) % 13);
    let k = keys();
    for key in [&k.smime_key, &k.pgp_key] {
        let whole = unwinding(|| decrypt(message, key));
        let mut out = Vec::new();
        let streamed = unwinding(|| decrypt_stream(Trickle(message, step), &mut out, key));
        match (whole, streamed) {
            (Ok(plain), Ok(())) => assert!(out == *plain, "read in pieces, other bytes"),
            (Err(a), Err(b)) => {
                black_box((a.code(), b.code()));
            }
            // The one documented difference: S/MIME AEAD content with authenticated
            // attributes (which follow it but go into its tag first) is read whole only.
            (Ok(_), Err(e)) if e.code() == "decrypt.unsupported" => {}
            (Ok(_), Err(e)) => panic!("read in pieces it failed: {e}"),
            (Err(e), Ok(())) => panic!("read in pieces it opened what failed whole: {e}"),
        }
    }
}

/// `encrypted_for` of `message`, and `is_exactly` against the example recipients. Asserts
/// that an answer names at least one recipient, that only CMS gives a content-encryption
/// OID, that a match is exactly what `addressees` promises, and that a failure is one of the
/// three reading errors.
pub fn recipients_listed(message: &[u8]) {
    match mailseal_core::encrypted_for(message) {
        Ok(found) => {
            assert!(!found.recipients.is_empty(), "an answer without recipients");
            assert_eq!(
                found.content_encryption_oid.is_some(),
                found.container.format() == mailseal_core::KeyFormat::X509,
                "a content-encryption OID only for CMS"
            );
            for r in &found.recipients {
                black_box(r.to_string());
            }
            let k = keys();
            // The form `encrypt` writes in this container.
            let options = EncryptOptions {
                pgp_format: if found.container == mailseal_core::Container::Seipdv2 {
                    mailseal_core::PgpFormat::Seipdv2
                } else {
                    mailseal_core::PgpFormat::Seipdv1
                },
                ..EncryptOptions::default()
            };
            for to in [&k.smime, &k.pgp] {
                if found.is_exactly(to) {
                    let want = to.addressees(&options).unwrap_or_default();
                    assert!(
                        found.recipients.iter().all(|r| want.contains(r))
                            && want.iter().all(|r| found.recipients.contains(r)),
                        "is_exactly, but not the recipients addressees names"
                    );
                }
            }
        }
        Err(e) => {
            assert!(
                matches!(
                    e.code(),
                    "decrypt.malformed" | "decrypt.not_encrypted" | "decrypt.unsupported"
                ),
                "unexpected error code {}",
                e.code()
            );
            black_box(e.to_string());
        }
    }
}
