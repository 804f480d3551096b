//! Turning a message encrypted at rest back into the original, with the owner's private key.
//!
//! The result is the stored message's outer headers (without its own `Content-*` fields)
//! followed by the decrypted inner entity: for a message mailseal or Stalwart encrypted, the
//! original message (with CRLF line ends). Inline PGP bodies are replaced by their plaintext.

use std::io::{self, BufRead, BufReader, Read, Write};

use base64::Engine as _;
use zeroize::Zeroizing;

use super::detect;
use super::mime::{self, Headers};
use super::streams::{Input, Output, Wiped};
use crate::base64_lines::{InvalidBase64, Unwrapped, push_unwrapped};
use crate::decryption_key::PrivateKey;
use crate::error::carried;
use crate::error::{DecryptError, Error};
use crate::pgp::decrypt as pgp;
use crate::smime::decrypt::{self as smime, AeadContent};

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
    // The streaming decryption into memory: one set of rules for both.
    // Room for the plaintext from the start (it is smaller than the stored message unless
    // it was compressed): no copies left behind by growing, nor their page faults.
    let mut out = Wiped::with_capacity(message.len());
    decrypt_into(message, &mut out, key, AeadContent::Collect)?;
    Ok(out.0)
}

/// How much of the body is read with the header block (as `encrypt_stream` does).
const PEEK: usize = 8 * 1024;
/// The chunk size of the streaming readers.
const CHUNK: usize = 64 * 1024;

/// Decrypts a stored message read from `input`, writing the original to `output` as it is
/// decrypted: the streaming form of [`decrypt`], with memory flat whatever the size of the
/// message (an inline-PGP body is read whole).
///
/// S/MIME AEAD content (AES-GCM, ChaCha20-Poly1305) is decrypted as it is read too, its tag
/// checked at the end. A message whose `AuthEnvelopedData` carries authenticated attributes
/// cannot be checked that way (they follow the content but go into the tag first; neither
/// mailseal, Stalwart nor OpenSSL writes them): it fails with `decrypt.unsupported` once
/// they turn up, and [`decrypt`] reads it.
///
/// The outer headers are written first and the plaintext follows as it is decrypted, so on
/// an error `output` holds an incomplete (and, before the integrity check at the end, not
/// yet authenticated) message: throw it away. The path-to-path wrappers of the bindings
/// write to a temporary file and rename it only on success.
///
/// ```
/// use mailseal_core::{decrypt_stream, encrypt, EncryptOptions, Policy, PrivateKey, RecipientKey};
///
/// let original = include_bytes!("../../../../examples/messages/hello.eml");
/// let public = RecipientKey::from_bytes(include_bytes!("../../../../examples/keys/alice.crt.pem"))?;
/// let stored = encrypt(original, &public.validate(&Policy::standard())?, &EncryptOptions::default())?;
///
/// let secret = PrivateKey::from_bytes(include_bytes!("../../../../examples/keys/alice.key.pem"), None)?;
/// let mut plain = Vec::new();
/// decrypt_stream(&stored.message[..], &mut plain, &secret)?;
/// assert_eq!(plain, original);
/// # Ok::<(), mailseal_core::Error>(())
/// ```
pub fn decrypt_stream(
    input: impl Read + Send + Sync,
    output: impl Write,
    key: &PrivateKey,
) -> Result<(), Error> {
    decrypt_into(input, output, key, AeadContent::Stream)
}

/// [`decrypt_stream`], with S/MIME AEAD content read as `aead` says.
fn decrypt_into(
    input: impl Read + Send + Sync,
    output: impl Write,
    key: &PrivateKey,
    aead: AeadContent,
) -> Result<(), Error> {
    let mut input = Input(input);
    let mut output = Output(output);
    let mut head = mime::read_head(&mut input, PEEK)?;
    let headers = mime::split_headers(&head.headers);
    let ct = headers
        .content_type
        .clone()
        .unwrap_or_else(|| mime::ContentType::parse(b"text/plain"));
    let prefix = std::mem::take(&mut head.body_prefix);
    match ct.mime_type.as_str() {
        "multipart/encrypted" => {
            let boundary = ct
                .param("boundary")
                .ok_or_else(|| bad("multipart/encrypted without boundary"))?;
            let body = io::Cursor::new(prefix).chain(input);
            output.write_all(&headers.outer).map_err(|e| io_error(&e))?;
            let part = PgpPart::new(BufReader::with_capacity(CHUNK, body), boundary);
            pgp::decrypt_stream(part, &mut output, key)?;
        }
        "application/pkcs7-mime" | "application/x-pkcs7-mime" | "application/octet-stream" => {
            let body = io::Cursor::new(prefix).chain(input);
            output.write_all(&headers.outer).map_err(|e| io_error(&e))?;
            if headers.transfer_encoding.as_deref() == Some("base64") {
                let der = BufReader::with_capacity(CHUNK, Base64Body::new(body));
                smime::decrypt_stream(der, &mut output, key, aead)?;
            } else {
                let der = BufReader::with_capacity(CHUNK, body);
                smime::decrypt_stream(der, &mut output, key, aead)?;
            }
        }
        t if t.starts_with("text/") && detect::head_is_encrypted(&headers, &prefix) => {
            // Inline PGP: every header kept, the body (read whole, bounded) replaced by its
            // plaintext.
            let mut body = prefix;
            (&mut input)
                .take(MAX_INLINE + 1)
                .read_to_end(&mut body)
                .map_err(|e| io_error(&e))?;
            if body.len() as u64 > MAX_INLINE {
                return Err(bad("the inline-PGP message is larger than 256 MiB"));
            }
            let data = decode_body(&headers, &body)?;
            output
                .write_all(&mime::to_crlf(&head.headers))
                .and_then(|()| output.write_all(b"\r\n"))
                .map_err(|e| io_error(&e))?;
            pgp::decrypt_stream(&data[..], &mut output, key)?;
        }
        _ => return Err(DecryptError::NotEncrypted.into()),
    }
    output.flush().map_err(|e| io_error(&e))
}

/// The largest inline-PGP message read by [`decrypt_stream`].
const MAX_INLINE: u64 = 256 * 1024 * 1024;

/// The error an `io::Error` of the streams stands for: the caller's reader or writer (they
/// carry an [`Error::Io`]), or damaged input found by one of the readers below.
fn io_error(e: &io::Error) -> Error {
    match carried(e) {
        Some(inner) => inner.clone(),
        None => bad(&e.to_string()),
    }
}

fn carrying(e: Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// A base64 body decoded as it is read (line breaks and other white space skipped).
pub(crate) struct Base64Body<R> {
    inner: R,
    text: Unwrapped,
    done: bool,
}

impl<R: Read> Base64Body<R> {
    pub(crate) fn new(inner: R) -> Self {
        Base64Body {
            inner,
            text: Unwrapped::new(CHUNK),
            done: false,
        }
    }

    /// Reads and decodes the next chunk; false at the end.
    fn refill(&mut self) -> io::Result<bool> {
        let mut raw = [0u8; CHUNK];
        loop {
            if self.done {
                return Ok(false);
            }
            let n = match self.inner.read(&mut raw) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.done = n == 0;
            self.text.push(raw.get(..n).unwrap_or_default());
            match self.text.decode(self.done) {
                Ok(true) => return Ok(true),
                Ok(false) => {}
                Err(InvalidBase64) => {
                    return Err(carrying(bad("the body is not valid base64")));
                }
            }
        }
    }
}

impl<R: Read> Read for Base64Body<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.text.has_output() && !self.refill()? {
            return Ok(0);
        }
        Ok(self.text.take(buf))
    }
}

/// The longest line the PGP/MIME reader accepts (armor lines are 64 to 76 characters).
const MAX_LINE: u64 = 64 * 1024;

/// Where [`PgpPart`] is in the multipart body.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PartState {
    /// Before the second part; the number of delimiters seen.
    Before(u8),
    /// In the second part's header fields.
    Headers,
    /// In its body.
    Body,
    /// After it.
    Done,
}

/// The body of the second part of a PGP/MIME message (the armored OpenPGP message), read
/// line by line from the multipart body.
pub(crate) struct PgpPart<R> {
    r: R,
    delimiter: Vec<u8>,
    state: PartState,
    line: Vec<u8>,
    at: usize,
}

impl<R: BufRead> PgpPart<R> {
    pub(crate) fn new(r: R, boundary: &str) -> Self {
        PgpPart {
            r,
            delimiter: format!("--{boundary}").into_bytes(),
            state: PartState::Before(0),
            line: Vec::with_capacity(128),
            at: 0,
        }
    }

    /// The next line into `self.line`; false at the end of the input.
    fn next_line(&mut self) -> io::Result<bool> {
        self.line.clear();
        self.at = 0;
        let n = (&mut self.r)
            .take(MAX_LINE)
            .read_until(b'\n', &mut self.line)?;
        if n as u64 == MAX_LINE && self.line.last() != Some(&b'\n') {
            return Err(carrying(bad("a line of the PGP/MIME message is too long")));
        }
        Ok(n > 0)
    }
}

impl<R: BufRead> Read for PgpPart<R> {
    /// Hands out as many lines of the encrypted part as fit in `buf` (the armor reader
    /// above decodes what it gets in one go).
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut filled = 0;
        loop {
            if self.state == PartState::Done {
                return Ok(filled);
            }
            if self.state == PartState::Body && self.at < self.line.len() {
                let left = self.line.get(self.at..).unwrap_or_default();
                let room = buf.get_mut(filled..).unwrap_or_default();
                let n = left.len().min(room.len());
                room.get_mut(..n)
                    .unwrap_or_default()
                    .copy_from_slice(left.get(..n).unwrap_or_default());
                self.at += n;
                filled += n;
                if filled == buf.len() || self.at < self.line.len() {
                    return Ok(filled);
                }
                // Room for another line: only if the buffer holds a whole one already, so
                // that a read never waits for more input than it needs.
                let ahead = self.r.fill_buf()?;
                if memchr::memchr(b'\n', ahead).is_none() {
                    return Ok(filled);
                }
            }
            if !self.next_line()? {
                if self.state == PartState::Body {
                    self.state = PartState::Done;
                    continue;
                }
                return Err(carrying(bad("PGP/MIME message without its encrypted part")));
            }
            let delimiter = self.line.starts_with(&self.delimiter);
            let was = self.state;
            self.state = match self.state {
                PartState::Before(1) if delimiter => PartState::Headers,
                PartState::Before(n) if delimiter => PartState::Before(n + 1),
                PartState::Headers if self.line.trim_ascii().is_empty() => PartState::Body,
                PartState::Body if delimiter => PartState::Done,
                s => s,
            };
            // Only lines read inside the body are handed out.
            if !(was == PartState::Body && self.state == PartState::Body) {
                self.line.clear();
            }
        }
    }
}

fn bad(detail: &str) -> Error {
    DecryptError::Malformed {
        detail: detail.to_owned(),
    }
    .into()
}

pub(crate) fn decode_body(headers: &Headers, body: &[u8]) -> Result<Vec<u8>, Error> {
    match headers.transfer_encoding.as_deref() {
        Some("base64") => {
            let mut clean = Vec::new();
            push_unwrapped(&mut clean, body);
            base64::engine::general_purpose::STANDARD
                .decode(&clean)
                .map_err(|_| bad("the body is not valid base64"))
        }
        _ => Ok(body.to_vec()),
    }
}
