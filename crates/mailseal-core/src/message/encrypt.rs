//! Encrypting a stored message at rest: the outer headers stay, the body becomes S/MIME or
//! PGP/MIME, and a message that is already encrypted is left as it is.
//!
//! If encryption is asked for and cannot be done, the result is an error, never the
//! plaintext. The streaming call writes as it goes: write to a temporary file and move it
//! into place only on success, so that a failure leaves the old message intact.

use std::io::{self, Read, Write};

use super::detect;
use super::mime::{self, CrlfWriter, Headers};
use super::options::EncryptOptions;
use super::streams::{Input, Output};
use crate::base64_lines::LineSink;
use crate::error::{EncryptError, Error, MimeError, encrypt_io};
use crate::key::recipient::{RecipientKeys, Recipients};
use crate::pgp::encrypt as pgp;
use crate::smime::encrypt as smime;
use crate::smime::envelope::Framing;

/// Body bytes read ahead to tell whether a message is already encrypted.
const PEEK: usize = 8 * 1024;

/// What [`encrypt`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The message was encrypted.
    Encrypted,
    /// The message was already encrypted and was returned unchanged.
    AlreadyEncrypted,
}

/// An encrypted message and what was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedMessage {
    /// The message as it will be stored.
    pub message: Vec<u8>,
    /// Whether it was encrypted now or already was.
    pub outcome: Outcome,
}

/// Encrypts a whole message held in memory.
///
/// ```
/// use mailseal_core::{encrypt, is_encrypted, EncryptOptions, Outcome, Policy, RecipientKey};
///
/// let key = RecipientKey::from_bytes(include_bytes!("../../../../examples/keys/alice.crt.pem"))?;
/// let recipients = key.validate(&Policy::standard())?;
/// let message = include_bytes!("../../../../examples/messages/hello.eml");
///
/// let stored = encrypt(message, &recipients, &EncryptOptions::default())?;
/// assert_eq!(stored.outcome, Outcome::Encrypted);
/// assert!(is_encrypted(&stored.message));
/// // The subject stays readable; the body does not.
/// let text = String::from_utf8_lossy(&stored.message);
/// assert!(text.contains("Subject: Lunch on Friday?\r\n"));
/// assert!(!text.contains("free for lunch"));
///
/// // Encrypting again changes nothing.
/// let again = encrypt(&stored.message, &recipients, &EncryptOptions::default())?;
/// assert_eq!(again.outcome, Outcome::AlreadyEncrypted);
/// assert_eq!(again.message, stored.message);
/// # Ok::<(), mailseal_core::Error>(())
/// ```
pub fn encrypt(
    message: &[u8],
    recipients: &Recipients,
    options: &EncryptOptions,
) -> Result<EncryptedMessage, Error> {
    if message.is_empty() {
        return Err(MimeError::Empty.into());
    }
    let (hdr_end, body_start) = mime::header_end(message).unwrap_or((message.len(), message.len()));
    let headers = mime::split_headers(message.get(..hdr_end).unwrap_or_default());
    let body = message.get(body_start..).unwrap_or_default();
    if detect::head_is_encrypted(&headers, body) {
        return Ok(EncryptedMessage {
            message: message.to_vec(),
            outcome: Outcome::AlreadyEncrypted,
        });
    }
    // The inner entity's exact length, so that S/MIME can be written as DER.
    let bare_lfs = if headers.is_binary() {
        0
    } else {
        mime::bare_lf_count(body)
    };
    let body_len = body.len() + bare_lfs;
    let inner_len = (headers.inner.len() + 2 + body_len) as u64;
    // Base64 lines of 76 characters and CRLF make 78 bytes of every 57, plus the headers
    // and the envelope.
    let mut out = Vec::with_capacity(message.len() / 57 * 78 + 8192);
    write_encrypted(
        &mut out,
        &headers,
        Body::Slice {
            data: body,
            canonical: bare_lfs == 0,
        },
        recipients,
        options,
        Framing::Definite(inner_len),
    )?;
    Ok(EncryptedMessage {
        message: out,
        outcome: Outcome::Encrypted,
    })
}

/// Encrypts a message read from `input` into `output`, in constant memory.
///
/// An already-encrypted message is copied through unchanged. S/MIME output uses BER
/// indefinite lengths here, since the length is not known in advance.
///
/// # Errors
///
/// A failure of `input` is [`Error::Io`] with the code `io.read`; a failure of `output` is
/// `io.write`, or `io.broken_pipe` when the output is a pipe whose reader has gone away.
/// Encryption errors have their own codes (`encrypt.*`, `mime.*`).
pub fn encrypt_stream(
    input: impl Read,
    output: impl Write,
    recipients: &Recipients,
    options: &EncryptOptions,
) -> Result<Outcome, Error> {
    let mut input = Input(input);
    let mut output = Output(output);
    let head = mime::read_head(&mut input, PEEK)?;
    let headers = mime::split_headers(&head.headers);
    if detect::head_is_encrypted(&headers, &head.body_prefix) {
        output.write_all(&head.headers).map_err(encrypt_io)?;
        output.write_all(&head.separator).map_err(encrypt_io)?;
        output.write_all(&head.body_prefix).map_err(encrypt_io)?;
        io::copy(&mut input, &mut output).map_err(encrypt_io)?;
        output.flush().map_err(encrypt_io)?;
        return Ok(Outcome::AlreadyEncrypted);
    }
    let mut body = io::Cursor::new(head.body_prefix).chain(input);
    write_encrypted(
        &mut output,
        &headers,
        Body::Reader(&mut body),
        recipients,
        options,
        Framing::Indefinite,
    )?;
    output.flush().map_err(encrypt_io)?;
    Ok(Outcome::Encrypted)
}

/// The outer headers as stored: the non-MIME fields, plus `MIME-Version` if it was missing.
fn outer_headers(headers: &Headers) -> Vec<u8> {
    let mut outer = headers.outer.clone();
    if !headers.has_mime_version {
        outer.extend_from_slice(b"MIME-Version: 1.0\r\n");
    }
    outer
}

/// The body to encrypt: in memory (written in one call, no copy) or read as it comes.
enum Body<'a> {
    /// `canonical`: the line ends are known to need no change (no bare line feed).
    Slice {
        data: &'a [u8],
        canonical: bool,
    },
    Reader(&'a mut dyn Read),
}

impl Body<'_> {
    fn copy_to(self, w: &mut impl Write) -> io::Result<()> {
        match self {
            Body::Slice { data, .. } => w.write_all(data),
            Body::Reader(r) => io::copy(r, w).map(drop),
        }
    }
}

/// Writes the inner entity: MIME headers, blank line, body (line ends canonicalised unless
/// the body is declared binary).
fn write_inner(w: &mut impl Write, headers: &Headers, body: Body<'_>) -> Result<(), Error> {
    w.write_all(&headers.inner).map_err(encrypt_io)?;
    w.write_all(b"\r\n").map_err(encrypt_io)?;
    if headers.is_binary()
        || matches!(
            body,
            Body::Slice {
                canonical: true,
                ..
            }
        )
    {
        body.copy_to(w).map_err(encrypt_io)?;
    } else {
        body.copy_to(&mut CrlfWriter::new(w)).map_err(encrypt_io)?;
    }
    Ok(())
}

fn write_encrypted(
    output: &mut dyn LineSink,
    headers: &Headers,
    body: Body<'_>,
    recipients: &Recipients,
    options: &EncryptOptions,
    framing: Framing,
) -> Result<(), Error> {
    let outer = outer_headers(headers);
    match &recipients.keys {
        RecipientKeys::X509(certs) => {
            let mut w = smime::begin(
                output,
                &outer,
                certs,
                options.algorithm,
                options.rsa_oaep,
                framing,
            )?;
            write_inner(&mut w, headers, body)?;
            smime::end(w)?;
        }
        RecipientKeys::OpenPgp(certs) => {
            let mut w = pgp::begin(output, &outer, certs, options.algorithm, options.pgp_format)?;
            write_inner(&mut w, headers, body)?;
            w.finish()?;
        }
    }
    Ok(())
}

impl From<EncryptError> for io::Error {
    fn from(e: EncryptError) -> Self {
        io::Error::other(Error::Encrypt(e))
    }
}
