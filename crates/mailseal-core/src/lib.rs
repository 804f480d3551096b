#![doc = include_str!("../README.md")]
//!
//! # Map
//!
//! ```text
//! key bytes ─► key/  intake → pem · pkcs7 · x509 · openpgp → recipient → report
//!                    (policy, problem, fingerprint; refuse_private turns private keys away)
//!                                                            │ Recipients
//!                                                            ▼
//! message ───► message/encrypt ── mime (header split) · detect · options
//!                   ├─ X.509 ───► smime/encrypt → envelope (+ recipient_info) → base64_lines ─► out
//!                   └─ OpenPGP ─► pgp/encrypt → pkesk + seipd (SEIPDv1) → armor → base64_lines ► out
//!                                 (SEIPDv2: Sequoia's Encryptor and Armorer)
//!                                 (seipd: cfb for AES-CFB, packet for the framing)
//!
//! stored ────► message/decrypt ── mime · detect
//!                   ├─ pkcs7-mime ────────► smime/decrypt (recipient_info)
//!                   └─ PGP/MIME, inline ──► pgp/decrypt ─► open: armor (Dearmor) → packet → cfb
//!                                             │            (PKESK + SEIPDv1 + literal)
//!                                             └──────────► else Sequoia's Decryptor
//!                                             ▲ both take decryption_key's PrivateKey
//!
//! stored ────► message/addressees ── mime · detect (and decrypt's body readers)
//!                   ├─ pkcs7-mime ────────► smime/addressees (decrypt's head reader)
//!                   └─ PGP/MIME, inline ──► pgp/addressees (Sequoia's PacketParser)
//!              → EncryptedFor { container, recipients: [RecipientId], algorithm }
//!                (message/recipient_id sits below smime/ and pgp/, like options)
//!
//! error, time, ber, base64_lines, packet: used everywhere; error imports nothing, the others
//! import only error. kept (a few per-thread OpenSSL keys and contexts) imports nothing.
//! (ber reads BER/DER for smime/decrypt and for the PKCS#7 and PKCS#12 files key/ reads.)
//! ```
//!
//! Imports go one way, file by file (no two files import each other, also not through the
//! crate root's re-exports): `key/` knows nothing of messages; `message/options`,
//! `message/recipient_id` and `message/mime` sit below `smime/` and `pgp/`, which sit below
//! `message/encrypt`, `message/decrypt` and `message/addressees` (which also reads with
//! `message/decrypt`'s body readers). `smime/` and `pgp/` mirror each other and never import each other.
//!
//! # The encryption hot path
//!
//! [`encrypt_stream`] reads the head with `message::mime::read_head` (at most 8 KiB of body
//! peeked), splits it into outer and MIME header fields, and copies an already-encrypted
//! message through (`message::detect`). Otherwise it writes the outer headers and streams the
//! inner entity, line ends canonicalised by `CrlfWriter` (bare line feeds found 256 bytes at a time), into
//!
//! - S/MIME: `smime::encrypt::begin` (RSA contexts kept per thread and certificate) →
//!   `EnvelopeWriter` (OpenSSL AES-CBC/GCM or ChaCha20-Poly1305, CMS framing in BER
//!   indefinite lengths) → `Base64Lines` (76 columns, CRLF) → output;
//! - OpenPGP: `pgp::encrypt::begin` writes one PKESK per key (`pgp::pkesk`, RSA through
//!   OpenSSL, the key kept per thread), then `pgp::seipd` streams the literal packet inside
//!   SEIPDv1 (AES-CFB while SHA-1 hashes the MDC, 64 KiB partial body chunks) → `pgp::armor`
//!   (CRC-24) → `Base64Lines` → output, inside the PGP/MIME multipart. Past 128 KiB the SHA-1
//!   and the CRC-24 run on kept worker threads (`beside`), next to the serial CFB. SEIPDv2
//!   (v6 keys, or on request) goes through Sequoia's `LiteralWriter` → `Encryptor` →
//!   `Armorer` → `CrlfWriter`.
//!
//! Memory stays constant; [`encrypt`] is the same path over a slice, with DER lengths, and
//! its base64 lines go straight into the vector it returns (`base64_lines::LineSink`).
//!
//! Decryption mirrors it: base64 bodies are joined 64 bytes at a time
//! (`base64_lines::push_unwrapped`) for the SIMD decoder; OpenPGP messages of the common form
//! (PKESKs, SEIPDv1, a literal packet) are read by `pgp::open` (RSA PKESKs through OpenSSL,
//! AES-CFB, plain SHA-1 for the MDC), anything else by Sequoia's `Decryptor`. S/MIME content
//! is decrypted as it is read; [`decrypt`] collects AEAD content first, so that
//! authenticated attributes (which follow it) can be checked too.
//!
//! # Entry points
//!
//! - [`RecipientKey`] reads key material; [`RecipientKey::inspect`] gives a [`KeyReport`];
//!   [`RecipientKey::validate`] gives [`Recipients`], the only input encryption accepts.
//! - [`Policy`] holds the rules and the evaluation time.
//! - [`Problem`] / [`ProblemCode`] / [`Severity`] describe what validation found.
//! - [`Fingerprint`] prints fingerprints as gpg and openssl do.
//! - [`encrypt`], [`encrypt_stream`], [`decrypt`], [`is_encrypted`] work on messages, with
//!   [`EncryptOptions`] ([`Algorithm`], [`PgpFormat`]) and a [`PrivateKey`]. [`decrypt`]
//!   returns the plaintext in a [`Zeroizing`] buffer, which wipes it when dropped.
//! - [`encrypted_for`] lists whom a stored message is encrypted to ([`EncryptedFor`],
//!   [`RecipientId`]), without a key; [`Recipients::addressees`] lists whom [`encrypt`] would
//!   name, and [`EncryptedFor::is_exactly`] compares the two.
//! - [`time`] formats and reads RFC 3339 times and Unix seconds, checked.
//! - [`Error`] is the crate's one error type; [`Error::code`] gives its stable code. A failure
//!   of the caller's own input or output is [`Error::Io`], `io.read`, `io.write` or
//!   `io.broken_pipe` by [`IoOp`] and the operating system's error kind.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod base64_lines;
mod ber;
mod ber_stream;
mod beside;
mod decryption_key;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod kept;
mod key;
mod message;
mod packet;
mod pgp;
mod smime;
pub mod time;

pub use decryption_key::PrivateKey;
pub use error::{
    DecryptError, EncryptError, Error, InputError, IoOp, KeyError, MimeError, PrivateKeyKind,
};
pub use key::fingerprint::{Fingerprint, FingerprintKind};
pub use key::intake::MAX_INPUT_LEN;
pub use key::policy::{DEFAULT_EXPIRY_WARNING, Policy};
pub use key::problem::{Problem, ProblemCode, Severity};
pub use key::recipient::{RecipientKey, Recipients};
pub use key::report::{
    CertificateDetails, CertificateReport, CertificateRole, KeyDetails, KeyFormat, KeyReport,
    OpenPgpDetails, ServerSupport, X509Details,
};
pub use message::addressees::{Container, EncryptedFor, encrypted_for};
pub use message::decrypt::{decrypt, decrypt_stream};
pub use message::detect::is_encrypted;
pub use message::encrypt::{EncryptedMessage, Outcome, encrypt, encrypt_stream};
pub use message::options::{Algorithm, EncryptOptions, PgpFormat};
pub use message::recipient_id::RecipientId;
/// The buffer [`decrypt`] returns the plaintext in: it overwrites it with zeros when dropped
/// (re-exported from the `zeroize` crate, so that callers name the same type).
pub use zeroize::Zeroizing;

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    fn assert_zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}

    type Decrypted = Result<Zeroizing<Vec<u8>>, Error>;

    #[test]
    fn decrypted_plaintext_is_wiped_on_drop() {
        // The signature is the assertion: the plaintext comes back in a `Zeroizing` buffer.
        let f: fn(&[u8], &PrivateKey) -> Decrypted = decrypt;
        assert_zeroize_on_drop::<Zeroizing<Vec<u8>>>();

        let original = include_bytes!("../../../examples/messages/hello.eml");
        let public =
            RecipientKey::from_bytes(include_bytes!("../../../examples/keys/alice.crt.pem"))
                .unwrap()
                .validate(&Policy::standard())
                .unwrap();
        let stored = encrypt(original, &public, &EncryptOptions::default()).unwrap();
        let secret =
            PrivateKey::from_bytes(include_bytes!("../../../examples/keys/alice.key.pem"), None)
                .unwrap();
        let plain: Zeroizing<Vec<u8>> = f(&stored.message, &secret).unwrap();
        assert_eq!(plain.as_slice(), &original[..]);
    }

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<Error>();
        assert_send_sync::<RecipientKey>();
        assert_send_sync::<Recipients>();
        assert_send_sync::<KeyReport>();
        assert_send_sync::<Policy>();
    }
}
