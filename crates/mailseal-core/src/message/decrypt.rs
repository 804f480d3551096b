//! Turning a message encrypted at rest back into the original, with the owner's private key.
//!
//! The result is the stored message's outer headers (without its own `Content-*` fields)
//! followed by the decrypted inner entity: for a message mailseal or Stalwart encrypted, the
//! original message (with CRLF line ends). Inline PGP bodies are replaced by their plaintext.

use base64::Engine as _;
use zeroize::Zeroizing;

use super::detect;
use super::mime::{self, Headers};
use crate::decryption_key::PrivateKey;
use crate::error::{DecryptError, Error};
use crate::pgp::decrypt as pgp;
use crate::smime::decrypt as smime;

/// Decrypts a stored message.
///
/// The plaintext comes back in a [`Zeroizing`] buffer, which overwrites it with zeros when it
/// is dropped; it derefs to `Vec<u8>` (and `[u8]`). The buffers it passed through on the way
/// (the decrypted CMS content, the OpenPGP literal data) are wiped as well. Copy it out only
/// where you must: a copy is not wiped.
///
/// ```
/// use mailseal_core::{decrypt, encrypt, EncryptOptions, Policy, PrivateKey, RecipientKey};
///
/// let original = include_bytes!("../../../../examples/messages/hello.eml");
/// let public = RecipientKey::from_bytes(include_bytes!("../../../../examples/keys/alice.pub.asc"))?;
/// let stored = encrypt(original, &public.validate(&Policy::standard())?, &EncryptOptions::default())?;
///
/// let secret = PrivateKey::from_bytes(include_bytes!("../../../../examples/keys/alice.sec.asc"), None)?;
/// let plain = decrypt(&stored.message, &secret)?;
/// assert_eq!(plain.as_slice(), original);
/// # Ok::<(), mailseal_core::Error>(())
/// ```
pub fn decrypt(message: &[u8], key: &PrivateKey) -> Result<Zeroizing<Vec<u8>>, Error> {
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
            let inner = pgp::decrypt(armored, key)?;
            Ok(join(&headers, &inner))
        }
        "application/pkcs7-mime" | "application/x-pkcs7-mime" | "application/octet-stream" => {
            let der = decode_body(&headers, body)?;
            let inner = smime::decrypt(&der, key)?;
            Ok(join(&headers, &inner))
        }
        t if t.starts_with("text/") && detect::head_is_encrypted(&headers, body) => {
            // Inline PGP: keep every header, replace the body.
            let data = decode_body(&headers, body)?;
            let plain = pgp::decrypt(&data, key)?;
            let head = mime::to_crlf(block);
            // Sized in advance: a growing buffer would leave unwiped copies behind.
            let mut out = Zeroizing::new(Vec::with_capacity(head.len() + 2 + plain.len()));
            out.extend_from_slice(&head);
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

/// Outer fields (the stored message's own MIME fields dropped) + the decrypted entity, in a
/// buffer sized in advance (a growing one would leave unwiped copies behind).
fn join(headers: &Headers, inner: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(headers.outer.len() + inner.len()));
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
