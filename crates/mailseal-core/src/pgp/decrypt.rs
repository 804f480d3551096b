//! Decrypting an OpenPGP message (SEIPDv1 or SEIPDv2) with the owner's secret key, for the
//! PGP/MIME and inline-PGP bodies that `message::decrypt` finds.

use std::io::{self, Read};

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

use crate::decryption_key::{Inner, PrivateKey};
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

type SecretKey =
    openpgp::packet::Key<openpgp::packet::key::SecretParts, openpgp::packet::key::UnspecifiedRole>;

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

/// Decrypts an OpenPGP message (armored or binary) read from `data`, writing the plaintext to
/// `out` as it comes: memory stays flat (64 KiB held back at most). On an error, what was
/// written must be thrown away (it may end early, or come from a tampered message).
pub(crate) fn decrypt_stream<'a>(
    data: impl Read + Send + Sync + 'a,
    out: &mut dyn io::Write,
    key: &PrivateKey,
) -> Result<(), Error> {
    let Inner::OpenPgp { cert, password } = &key.inner else {
        return Err(DecryptError::NoMatchingKey.into());
    };
    let helper = Helper {
        keys: unlocked_keys(cert, password.as_deref().map(String::as_str))?,
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
