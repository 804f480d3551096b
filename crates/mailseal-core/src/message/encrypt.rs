//! Encrypting a stored message at rest: the outer headers stay, the body becomes S/MIME or
//! PGP/MIME, and a message that is already encrypted is left as it is.
//!
//! If encryption is asked for and cannot be done, the result is an error, never the
//! plaintext. The streaming call writes as it goes: write to a temporary file and move it
//! into place only on success, so that a failure leaves the old message intact.

use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;

use crate::detect;
use crate::error::{EncryptError, Error};
use crate::mime::{self, CrlfWriter, Headers};
use crate::recipient::{RecipientKeys, Recipients};
use crate::smime::{self, Framing};

/// Body bytes read ahead to tell whether a message is already encrypted.
const PEEK: usize = 8 * 1024;

/// The content-encryption algorithm, named as in Stalwart's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// AES-128 (CBC for S/MIME, CFB for OpenPGP).
    Aes128,
    /// AES-256 (CBC for S/MIME, CFB for OpenPGP). The recommended choice: every program reads it.
    Aes256,
    /// AES-256-GCM, S/MIME AuthEnvelopedData only. Outlook, .NET and NSS cannot open it.
    Aes256Gcm,
    /// ChaCha20-Poly1305 (RFC 8103), S/MIME AuthEnvelopedData only. OpenSSL 3.0, Outlook and
    /// .NET cannot open it.
    ChaCha20Poly1305,
}

impl Algorithm {
    /// Every algorithm.
    pub const ALL: [Algorithm; 4] = [
        Algorithm::Aes128,
        Algorithm::Aes256,
        Algorithm::Aes256Gcm,
        Algorithm::ChaCha20Poly1305,
    ];

    /// `aes128`, `aes256`, `aes256-gcm` or `chacha20-poly1305`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Algorithm::Aes128 => "aes128",
            Algorithm::Aes256 => "aes256",
            Algorithm::Aes256Gcm => "aes256-gcm",
            Algorithm::ChaCha20Poly1305 => "chacha20-poly1305",
        }
    }

    /// The name for people: `AES-128`, `AES-256-GCM`, …
    pub fn display_name(&self) -> &'static str {
        match self {
            Algorithm::Aes128 => "AES-128",
            Algorithm::Aes256 => "AES-256",
            Algorithm::Aes256Gcm => "AES-256-GCM",
            Algorithm::ChaCha20Poly1305 => "ChaCha20-Poly1305",
        }
    }

    /// Whether this is an AEAD algorithm (S/MIME AuthEnvelopedData only).
    pub fn is_aead(&self) -> bool {
        matches!(self, Algorithm::Aes256Gcm | Algorithm::ChaCha20Poly1305)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
            .ok_or(Error::ApiMisuse(
                "unknown algorithm: use aes128, aes256, aes256-gcm or chacha20-poly1305",
            ))
    }
}

/// Which OpenPGP encryption container to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PgpFormat {
    /// SEIPDv2 when every recipient is a v6 key, SEIPDv1 otherwise.
    #[default]
    Auto,
    /// SEIPDv1 (AES-CFB + MDC): every OpenPGP program reads it, GnuPG 2.2 included.
    Seipdv1,
    /// SEIPDv2 (AEAD, RFC 9580): GnuPG 2.2 and 2.4 cannot read it.
    Seipdv2,
}

impl PgpFormat {
    /// Every format, in the order of [`PgpFormat::as_str`]'s names.
    pub const ALL: [PgpFormat; 3] = [PgpFormat::Auto, PgpFormat::Seipdv1, PgpFormat::Seipdv2];

    /// `auto`, `seipdv1` or `seipdv2` (the names of the CLI's `--pgp`).
    pub fn as_str(self) -> &'static str {
        match self {
            PgpFormat::Auto => "auto",
            PgpFormat::Seipdv1 => "seipdv1",
            PgpFormat::Seipdv2 => "seipdv2",
        }
    }
}

impl FromStr for PgpFormat {
    type Err = Error;

    /// Reads a name of [`PgpFormat::as_str`], in any case.
    ///
    /// ```
    /// use mailseal_core::PgpFormat;
    /// assert_eq!("SEIPDv2".parse::<PgpFormat>().unwrap(), PgpFormat::Seipdv2);
    /// assert!("v3".parse::<PgpFormat>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Error> {
        PgpFormat::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .ok_or(Error::ApiMisuse(
                "unknown OpenPGP format: use auto, seipdv1 or seipdv2",
            ))
    }
}

/// How to encrypt.
///
/// ```
/// use mailseal_core::{Algorithm, EncryptOptions};
/// let options = EncryptOptions::new(Algorithm::Aes256);
/// assert_eq!(options.algorithm, Algorithm::Aes256);
/// assert!(!options.rsa_oaep);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EncryptOptions {
    /// The content-encryption algorithm.
    pub algorithm: Algorithm,
    /// The OpenPGP container format (ignored for S/MIME).
    pub pgp_format: PgpFormat,
    /// Use RSA-OAEP (SHA-256) for RSA recipients with the CBC algorithms too. The AEAD
    /// algorithms always use OAEP; by default CBC uses PKCS#1 v1.5, as Stalwart does.
    pub rsa_oaep: bool,
}

impl EncryptOptions {
    /// Options with `algorithm`, the automatic OpenPGP format and PKCS#1 v1.5 for CBC.
    pub fn new(algorithm: Algorithm) -> Self {
        EncryptOptions {
            algorithm,
            pgp_format: PgpFormat::Auto,
            rsa_oaep: false,
        }
    }
}

impl Default for EncryptOptions {
    fn default() -> Self {
        EncryptOptions::new(Algorithm::Aes256)
    }
}

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
/// let key = RecipientKey::from_bytes(include_bytes!("../../../examples/keys/alice.crt.pem"))?;
/// let recipients = key.validate(&Policy::standard())?;
/// let message = include_bytes!("../../../examples/messages/hello.eml");
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
        return Err(crate::error::MimeError::Empty.into());
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
    let body_len = if headers.is_binary() {
        body.len()
    } else {
        body.len() + bare_lf_count(body)
    };
    let inner_len = (headers.inner.len() + 2 + body_len) as u64;
    let mut out = Vec::with_capacity(message.len() * 4 / 3 + 2048);
    write_encrypted(
        &mut out,
        &headers,
        &mut &*body,
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
pub fn encrypt_stream(
    mut input: impl Read,
    mut output: impl Write,
    recipients: &Recipients,
    options: &EncryptOptions,
) -> Result<Outcome, Error> {
    let head = mime::read_head(&mut input, PEEK)?;
    let headers = mime::split_headers(&head.headers);
    if detect::head_is_encrypted(&headers, &head.body_prefix) {
        output.write_all(&head.headers)?;
        output.write_all(&head.separator)?;
        output.write_all(&head.body_prefix)?;
        io::copy(&mut input, &mut output)?;
        output.flush()?;
        return Ok(Outcome::AlreadyEncrypted);
    }
    let mut body = io::Cursor::new(head.body_prefix).chain(input);
    write_encrypted(
        &mut output,
        &headers,
        &mut body,
        recipients,
        options,
        Framing::Indefinite,
    )?;
    output.flush()?;
    Ok(Outcome::Encrypted)
}

fn bare_lf_count(data: &[u8]) -> usize {
    let mut prev = 0u8;
    let mut n = 0;
    for b in data {
        if *b == b'\n' && prev != b'\r' {
            n += 1;
        }
        prev = *b;
    }
    n
}

/// The outer headers as stored: the non-MIME fields, plus `MIME-Version` if it was missing.
fn outer_headers(headers: &Headers) -> Vec<u8> {
    let mut outer = headers.outer.clone();
    if !headers.has_mime_version {
        outer.extend_from_slice(b"MIME-Version: 1.0\r\n");
    }
    outer
}

/// Writes the inner entity: MIME headers, blank line, body (line ends canonicalised unless
/// the body is declared binary).
fn write_inner(w: &mut impl Write, headers: &Headers, body: &mut dyn Read) -> Result<(), Error> {
    w.write_all(&headers.inner)?;
    w.write_all(b"\r\n")?;
    if headers.is_binary() {
        io::copy(body, w)?;
    } else {
        let mut crlf = CrlfWriter::new(w);
        io::copy(body, &mut crlf)?;
    }
    Ok(())
}

fn write_encrypted(
    output: &mut dyn Write,
    headers: &Headers,
    body: &mut dyn Read,
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
            let mut w = crate::pgp_mime::begin(
                output,
                &outer,
                certs,
                options.algorithm,
                options.pgp_format,
            )?;
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
