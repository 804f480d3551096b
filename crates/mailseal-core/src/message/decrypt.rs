//! Turning a message encrypted at rest back into the original, with the owner's private key.
//!
//! The result is the stored message's outer headers (without its own `Content-*` fields)
//! followed by the decrypted inner entity: for a message mailseal or Stalwart encrypted, the
//! original message (with CRLF line ends). Inline PGP bodies are replaced by their plaintext.

use std::io::Read;

use base64::Engine as _;
use sequoia_openpgp as openpgp;

use openpgp::crypto::SessionKey;
use openpgp::packet::{PKESK, SKESK};
use openpgp::parse::Parse;
use openpgp::parse::stream::{
    DecryptionHelper, DecryptorBuilder, MessageStructure, VerificationHelper,
};
use openpgp::policy::StandardPolicy;
use openpgp::types::SymmetricAlgorithm;

use crate::error::{DecryptError, Error};
use crate::mime::{self, Headers};
use crate::secret::{Inner, PrivateKey};

/// The largest decrypted message accepted (256 MiB), a bound against decompression bombs.
const MAX_PLAINTEXT: u64 = 256 * 1024 * 1024;

/// Decrypts a stored message.
///
/// ```
/// use mailseal_core::{decrypt, encrypt, EncryptOptions, Policy, PrivateKey, RecipientKey};
///
/// let original = include_bytes!("../../../examples/messages/hello.eml");
/// let public = RecipientKey::from_bytes(include_bytes!("../../../examples/keys/alice.pub.asc"))?;
/// let stored = encrypt(original, &public.validate(&Policy::standard())?, &EncryptOptions::default())?;
///
/// let secret = PrivateKey::from_bytes(include_bytes!("../../../examples/keys/alice.sec.asc"), None)?;
/// assert_eq!(decrypt(&stored.message, &secret)?, original);
/// # Ok::<(), mailseal_core::Error>(())
/// ```
pub fn decrypt(message: &[u8], key: &PrivateKey) -> Result<Vec<u8>, Error> {
    let (hdr_end, body_start) = mime::header_end(message).unwrap_or((message.len(), message.len()));
    let block = message.get(..hdr_end).unwrap_or_default();
    let headers = mime::split_headers(block);
    let body = message.get(body_start..).unwrap_or_default();
    let ct = headers
        .content_type
        .clone()
        .unwrap_or_else(|| mime::ContentType::parse(b"text/plain"));
    match ct.mime_type.as_str() {
        "multipart/encrypted" => {
            let boundary = ct
                .param("boundary")
                .ok_or_else(|| bad("multipart/encrypted without boundary"))?;
            let armored = pgp_part(body, boundary)?;
            let inner = decrypt_openpgp(armored, key)?;
            Ok(join(&headers, &inner))
        }
        "application/pkcs7-mime" | "application/x-pkcs7-mime" | "application/octet-stream" => {
            let der = decode_body(&headers, body)?;
            let Inner::Smime { key, cert } = &key.inner else {
                return Err(DecryptError::NoMatchingKey.into());
            };
            let inner = crate::smime::open::open(&der, key, cert.as_deref())?;
            Ok(join(&headers, &inner))
        }
        t if t.starts_with("text/") && crate::detect::head_is_encrypted(&headers, body) => {
            // Inline PGP: keep every header, replace the body.
            let data = decode_body(&headers, body)?;
            let plain = decrypt_openpgp(&data, key)?;
            let mut out = mime::to_crlf(block);
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(&plain);
            Ok(out)
        }
        _ => Err(DecryptError::NotEncrypted.into()),
    }
}

fn bad(detail: &str) -> Error {
    DecryptError::Malformed {
        detail: detail.to_owned(),
    }
    .into()
}

/// Outer fields (the stored message's own MIME fields dropped) + the decrypted entity.
fn join(headers: &Headers, inner: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(headers.outer.len() + inner.len());
    out.extend_from_slice(&headers.outer);
    out.extend_from_slice(inner);
    out
}

fn decode_body(headers: &Headers, body: &[u8]) -> Result<Vec<u8>, Error> {
    match headers.transfer_encoding.as_deref() {
        Some("base64") => {
            let clean: Vec<u8> = body
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            base64::engine::general_purpose::STANDARD
                .decode(&clean)
                .map_err(|_| bad("the body is not valid base64"))
        }
        _ => Ok(body.to_vec()),
    }
}

/// The body of the second part of a PGP/MIME message: the armored OpenPGP message.
fn pgp_part<'a>(body: &'a [u8], boundary: &str) -> Result<&'a [u8], Error> {
    let delimiter = format!("--{boundary}");
    let d = delimiter.as_bytes();
    let mut parts = Vec::new();
    let mut pos = 0;
    while let Some(i) = find(body.get(pos..).unwrap_or_default(), d) {
        let at = pos + i;
        // A delimiter starts a line.
        if at == 0 || body.get(at - 1) == Some(&b'\n') {
            parts.push(at);
        }
        pos = at + d.len();
    }
    let start = *parts
        .get(1)
        .ok_or_else(|| bad("PGP/MIME message without its encrypted part"))?;
    let end = parts.get(2).copied().unwrap_or(body.len());
    let part = body.get(start + d.len()..end).unwrap_or_default();
    let (_, body_start) = mime::header_end(
        part.strip_prefix(b"\r\n")
            .or_else(|| part.strip_prefix(b"\n"))
            .unwrap_or(part),
    )
    .ok_or_else(|| bad("encrypted part without body"))?;
    let skip = if part.starts_with(b"\r\n") {
        2
    } else if part.starts_with(b"\n") {
        1
    } else {
        0
    };
    Ok(part.get(skip + body_start..).unwrap_or_default())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
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

fn decrypt_openpgp(data: &[u8], key: &PrivateKey) -> Result<Vec<u8>, Error> {
    let Inner::OpenPgp { cert, password } = &key.inner else {
        return Err(DecryptError::NoMatchingKey.into());
    };
    let helper = Helper {
        keys: unlocked_keys(cert, password.as_deref().map(String::as_str))?,
    };
    // sequoia-openpgp 2.4.2 can panic on some malformed SEIPD packets (an `unwrap` in its
    // parser, found by our fuzzing): turn that into an error instead of taking the caller down.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let policy = StandardPolicy::new();
        let mut decryptor = DecryptorBuilder::from_bytes(data)
            .map_err(|e| bad(&e.to_string()))?
            .with_policy(&policy, None, helper)
            .map_err(|e| map_pgp_error(&e))?;
        let mut out = Vec::new();
        let read = (&mut decryptor)
            .take(MAX_PLAINTEXT + 1)
            .read_to_end(&mut out);
        Ok::<_, Error>((out, read))
    }));
    let (out, read) = match outcome {
        Ok(result) => result?,
        Err(_) => return Err(bad("the OpenPGP data is malformed")),
    };
    if let Err(e) = read {
        return Err(
            match e.get_ref().and_then(|i| i.downcast_ref::<openpgp::Error>()) {
                Some(openpgp::Error::ManipulatedMessage) => DecryptError::Integrity.into(),
                _ => bad(&e.to_string()),
            },
        );
    }
    if out.len() as u64 > MAX_PLAINTEXT {
        return Err(bad("the decrypted message is larger than 256 MiB"));
    }
    Ok(out)
}

fn map_pgp_error(e: &openpgp::anyhow::Error) -> Error {
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
