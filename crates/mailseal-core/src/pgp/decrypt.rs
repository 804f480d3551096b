//! Decrypting an OpenPGP message (SEIPDv1 or SEIPDv2) with the owner's secret key, for the
//! PGP/MIME and inline-PGP bodies that `message::decrypt` finds.
//!
//! The common case (PKESKs, SEIPDv1, a literal packet) goes through our own reader,
//! [`open`](super::open); everything else through Sequoia's `Decryptor`, which is handed the
//! input again from its first octet when our reader declines it.

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};

use sequoia_openpgp as openpgp;

use openpgp::crypto::SessionKey;
use openpgp::packet::{PKESK, SKESK};
use openpgp::parse::Parse;
use openpgp::parse::stream::{
    DecryptionHelper, DecryptorBuilder, MessageStructure, VerificationHelper,
};
use openpgp::policy::StandardPolicy;
use openpgp::types::SymmetricAlgorithm;
use zeroize::Zeroizing;

use super::open::{Opened, open};
use super::pkesk::SecretKey;
use crate::decryption_key::{Inner, PrivateKey, Unlocked};
use crate::error::{DecryptError, Error};

/// The largest decrypted message accepted (256 MiB), a bound against decompression bombs.
const MAX_PLAINTEXT: u64 = 256 * 1024 * 1024;
/// How much plaintext [`decrypt_stream`] holds at a time.
const STREAM_CHUNK: usize = 64 * 1024;

fn bad(detail: &str) -> Error {
    DecryptError::Malformed {
        detail: detail.to_owned(),
    }
    .into()
}

/// Hands Sequoia the session key from whichever of our (unlocked) keys a PKESK is for.
struct Helper {
    keys: Vec<SecretKey>,
}

impl VerificationHelper for Helper {
    fn get_certs(&mut self, _: &[openpgp::KeyHandle]) -> openpgp::Result<Vec<openpgp::Cert>> {
        Ok(Vec::new())
    }

    fn check(&mut self, _: MessageStructure) -> openpgp::Result<()> {
        // Messages encrypted at rest are not signed; signatures, if any, are not checked here.
        Ok(())
    }
}

impl DecryptionHelper for Helper {
    fn decrypt(
        &mut self,
        pkesks: &[PKESK],
        _: &[SKESK],
        sym_algo: Option<SymmetricAlgorithm>,
        decrypt: &mut dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool,
    ) -> openpgp::Result<Option<openpgp::Cert>> {
        for pkesk in pkesks {
            for key in &self.keys {
                if let Some(r) = pkesk.recipient()
                    && !r.aliases(openpgp::KeyHandle::from(key.fingerprint()))
                {
                    continue;
                }
                let Ok(mut pair) = key.clone().into_keypair() else {
                    continue;
                };
                if let Some((algo, sk)) = pkesk.decrypt(&mut pair, sym_algo)
                    && decrypt(algo, &sk)
                {
                    return Ok(None);
                }
            }
        }
        Err(openpgp::Error::MissingSessionKey("no key".into()).into())
    }
}

/// Our reader's and Sequoia's reading of `data`, or `None` where ours declines it.
#[cfg(feature = "fuzzing")]
pub(crate) fn both_readers(
    data: &[u8],
    key: &PrivateKey,
) -> Option<(crate::fuzzing::Reading, crate::fuzzing::Reading)> {
    let keys = keys_of(key).ok()?;
    let mut ours = Vec::new();
    let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        open(data, &mut ours, keys, &mut || {}, MAX_PLAINTEXT)
    }))
    .unwrap_or_else(|_| Err(bad("the OpenPGP data is malformed")));
    let ours = match opened {
        Ok(Opened::NotMine) => return None,
        Ok(Opened::Done) => Ok(ours),
        Err(e) => Err(e),
    };
    let mut theirs = Vec::new();
    let theirs = sequoia_decrypt(data, &mut theirs, keys).map(|()| theirs);
    Some((ours, theirs))
}

/// The unlocked secret keys of an OpenPGP private key.
pub(crate) fn keys_of(key: &PrivateKey) -> Result<&[Unlocked], Error> {
    let Inner::OpenPgp {
        cert,
        password,
        unlocked,
    } = &key.inner
    else {
        return Err(DecryptError::NoMatchingKey.into());
    };
    if let Some(keys) = unlocked.get() {
        return Ok(keys);
    }
    let keys = unlocked_keys(cert, password.as_deref().map(String::as_str))?;
    Ok(unlocked.get_or_init(|| keys.into_iter().map(Unlocked::new).collect()))
}

/// The secret keys of `cert`, unlocked with `password` where they are protected.
fn unlocked_keys(cert: &openpgp::Cert, password: Option<&str>) -> Result<Vec<SecretKey>, Error> {
    let mut keys = Vec::new();
    let mut locked = false;
    for ka in cert.keys().secret() {
        let key = ka.key().clone().role_into_unspecified();
        if !key.secret().is_encrypted() {
            keys.push(key);
            continue;
        }
        match password.map(|pw| key.decrypt_secret(&pw.into())) {
            Some(Ok(k)) => keys.push(k),
            _ => locked = true,
        }
    }
    if keys.is_empty() && locked {
        return Err(DecryptError::WrongPassword.into());
    }
    Ok(keys)
}

/// The error an `io::Error` stands for while decrypting: the caller's reader or writer
/// (their errors carry an [`Error::Io`]), a message changed after encryption, or damage.
fn stream_error(e: &io::Error) -> Error {
    if let Some(inner) = crate::error::carried(e) {
        return inner.clone();
    }
    match e.get_ref().and_then(|i| i.downcast_ref::<openpgp::Error>()) {
        Some(openpgp::Error::ManipulatedMessage) => DecryptError::Integrity.into(),
        _ => bad(&e.to_string()),
    }
}

/// The caller's input, with everything read from it kept while `keep` is set: what Sequoia
/// is handed again if our reader declines the message.
struct Recorded<'k, R> {
    inner: R,
    log: Vec<u8>,
    keep: &'k AtomicBool,
}

impl<R: Read> Read for Recorded<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.keep.load(Ordering::Relaxed) {
            self.log.extend_from_slice(buf.get(..n).unwrap_or_default());
        } else if !self.log.is_empty() {
            self.log = Vec::new();
        }
        Ok(n)
    }
}

/// Decrypts an OpenPGP message (armored or binary) read from `data`, writing the plaintext to
/// `out` as it comes: memory stays flat (64 KiB held back at most). On an error, what was
/// written must be thrown away (it may end early, or come from a tampered message).
pub(crate) fn decrypt_stream<'a>(
    data: impl Read + Send + Sync + 'a,
    out: &mut dyn io::Write,
    key: &PrivateKey,
) -> Result<(), Error> {
    let keys = keys_of(key)?;
    let keep = AtomicBool::new(true);
    let mut recorded = Recorded {
        inner: data,
        log: Vec::new(),
        keep: &keep,
    };
    // Sequoia parses and decrypts the PKESKs inside our reader too: a panic becomes an error.
    let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        open(
            &mut recorded,
            out,
            keys,
            &mut || keep.store(false, Ordering::Relaxed),
            MAX_PLAINTEXT,
        )
    }))
    .unwrap_or_else(|_| Err(bad("the OpenPGP data is malformed")))?;
    match opened {
        Opened::Done => Ok(()),
        Opened::NotMine if keep.load(Ordering::Relaxed) => {
            let again = io::Cursor::new(recorded.log).chain(recorded.inner);
            sequoia_decrypt(again, out, keys)
        }
        Opened::NotMine => Err(bad("the OpenPGP reader declined a message it had begun")),
    }
}

/// Sequoia's streaming `Decryptor` over `data`, with `keys`.
pub(crate) fn sequoia_decrypt<'a>(
    data: impl Read + Send + Sync + 'a,
    out: &mut dyn io::Write,
    keys: &[Unlocked],
) -> Result<(), Error> {
    let helper = Helper {
        keys: keys.iter().map(|k| k.key.clone()).collect(),
    };
    // As in `decrypt`: a panic in Sequoia's parser becomes an error.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let policy = StandardPolicy::new();
        let mut decryptor = DecryptorBuilder::from_reader(data)
            .map_err(|e| pgp_or_io_error(&e))?
            .buffer_size(STREAM_CHUNK)
            .with_policy(&policy, None, helper)
            .map_err(|e| pgp_or_io_error(&e))?;
        let mut buf = Zeroizing::new(vec![0u8; STREAM_CHUNK]);
        let mut total = 0u64;
        loop {
            let n = match decryptor.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(stream_error(&e)),
            };
            total += n as u64;
            if total > MAX_PLAINTEXT {
                return Err(bad("the decrypted message is larger than 256 MiB"));
            }
            out.write_all(buf.get(..n).unwrap_or_default())
                .map_err(|e| stream_error(&e))?;
        }
    }));
    match outcome {
        Ok(result) => result,
        Err(_) => Err(bad("the OpenPGP data is malformed")),
    }
}

/// The error a failure of Sequoia's parser stands for: an error of the caller's reader
/// comes through as itself, a missing key or a changed message as such, the rest as damage.
fn pgp_or_io_error(e: &openpgp::anyhow::Error) -> Error {
    for cause in e.chain() {
        if let Some(io) = cause.downcast_ref::<io::Error>()
            && let Some(inner) = crate::error::carried(io)
        {
            return inner.clone();
        }
    }
    for cause in e.chain() {
        if let Some(err) = cause.downcast_ref::<openpgp::Error>() {
            return match err {
                openpgp::Error::MissingSessionKey(_) => DecryptError::NoMatchingKey.into(),
                openpgp::Error::ManipulatedMessage => DecryptError::Integrity.into(),
                _ => bad(&err.to_string()),
            };
        }
    }
    bad(&e.to_string())
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use openpgp::serialize::stream::{Armorer, Compressor, Encryptor, LiteralWriter, Message};

    use super::*;

    /// A message our reader declines (compressed, as gpg writes by default), armored.
    fn compressed_message(plain: &[u8]) -> Vec<u8> {
        let cert =
            openpgp::Cert::from_bytes(include_bytes!("../../../../examples/keys/alice.pub.asc"))
                .unwrap();
        let policy = StandardPolicy::new();
        let recipients = cert
            .keys()
            .with_policy(&policy, None)
            .supported()
            .for_storage_encryption();
        let mut out = Vec::new();
        let message = Message::new(&mut out);
        let message = Armorer::new(message).build().unwrap();
        let message = Encryptor::for_recipients(message, recipients)
            .build()
            .unwrap();
        let message = Compressor::new(message).build().unwrap();
        let mut w = LiteralWriter::new(message).build().unwrap();
        w.write_all(plain).unwrap();
        w.finalize().unwrap();
        out
    }

    #[test]
    fn a_message_our_reader_declines_is_read_again_by_sequoia_from_its_start() {
        let key = PrivateKey::from_bytes(
            include_bytes!("../../../../examples/keys/alice.sec.asc"),
            None,
        )
        .unwrap();
        // Larger than the readers' buffers, so that the replay joins the recorded head and
        // the rest of the input.
        let plain: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let stored = compressed_message(&plain);

        let keys = keys_of(&key).unwrap();
        let mut out = Vec::new();
        let declined = open(&stored[..], &mut out, keys, &mut || {}, MAX_PLAINTEXT).unwrap();
        assert!(matches!(declined, Opened::NotMine));
        assert!(
            out.is_empty(),
            "nothing is written before the reader commits"
        );

        // Through the whole path, read from a stream a few bytes at a time.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = buf.len().min(self.0.len()).min(7);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut out = Vec::new();
        decrypt_stream(Trickle(&stored), &mut out, &key).unwrap();
        assert!(out == plain);
    }

    #[test]
    fn keys_are_unlocked_and_their_openssl_rsa_form_made_once_per_private_key() {
        let key = PrivateKey::from_bytes(
            include_bytes!("../../../../tests/fixtures/stalwart-0.16.19/keys/pgp-rsa3072.sec.asc"),
            None,
        )
        .unwrap();
        let recipients = crate::RecipientKey::from_bytes(include_bytes!(
            "../../../../tests/fixtures/stalwart-0.16.19/keys/pgp-rsa3072.pub.asc"
        ))
        .unwrap()
        .validate(&crate::Policy::standard())
        .unwrap();
        let first = keys_of(&key).unwrap();
        assert!(first.iter().all(|k| k.rsa.get().is_none()));
        for text in ["first", "second", "third"] {
            let message = format!("Subject: {text}\r\n\r\n{text} body\r\n");
            let stored = crate::encrypt(
                message.as_bytes(),
                &recipients,
                &crate::EncryptOptions::default(),
            )
            .unwrap()
            .message;
            let plain = crate::decrypt(&stored, &key).unwrap();
            assert!(plain.ends_with(format!("{text} body\r\n").as_bytes()));
            // The same unlocked keys every time, and the RSA key that opened it kept.
            let again = keys_of(&key).unwrap();
            assert!(std::ptr::eq(first, again));
            assert_eq!(
                again
                    .iter()
                    .filter(|k| matches!(k.rsa.get(), Some(Some(_))))
                    .count(),
                1
            );
        }
    }
}
