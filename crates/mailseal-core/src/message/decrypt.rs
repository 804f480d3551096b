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
use super::streams::{Input, Output};
use crate::decryption_key::PrivateKey;
use crate::error::carried;
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

/// How much of the body is read with the header block (as `encrypt_stream` does).
const PEEK: usize = 8 * 1024;
/// The chunk size of the streaming readers.
const CHUNK: usize = 64 * 1024;

/// Decrypts a stored message read from `input`, writing the original to `output` as it is
/// decrypted: the streaming form of [`decrypt`], with memory flat whatever the size of the
/// message (PGP/MIME and S/MIME with AES-CBC; S/MIME AEAD content is collected before it is
/// opened, because its authenticated attributes follow it; an inline-PGP body is read whole).
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
                smime::decrypt_stream(der, &mut output, key)?;
            } else {
                smime::decrypt_stream(BufReader::with_capacity(CHUNK, body), &mut output, key)?;
            }
        }
        t if t.starts_with("text/") && detect::head_is_encrypted(&headers, &prefix) => {
            // Inline PGP: a text body, read whole (bounded) and opened as `decrypt` does.
            let mut whole = head.headers;
            whole.extend_from_slice(&head.separator);
            whole.extend_from_slice(&prefix);
            (&mut input)
                .take(MAX_INLINE)
                .read_to_end(&mut whole)
                .map_err(|e| io_error(&e))?;
            let plain = decrypt(&whole, key)?;
            output.write_all(&plain).map_err(|e| io_error(&e))?;
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
struct Base64Body<R> {
    inner: R,
    /// Base64 characters read but not decoded yet (an incomplete group of four).
    pending: Vec<u8>,
    /// Decoded bytes not handed out yet.
    decoded: Vec<u8>,
    at: usize,
    done: bool,
}

impl<R: Read> Base64Body<R> {
    fn new(inner: R) -> Self {
        Base64Body {
            inner,
            pending: Vec::with_capacity(CHUNK),
            decoded: Vec::with_capacity(CHUNK),
            at: 0,
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
            if n == 0 {
                self.done = true;
            }
            self.pending.extend(
                raw.get(..n)
                    .unwrap_or_default()
                    .iter()
                    .copied()
                    .filter(|b| !b.is_ascii_whitespace()),
            );
            let usable = if self.done {
                self.pending.len()
            } else {
                self.pending.len() / 4 * 4
            };
            if usable == 0 {
                continue;
            }
            self.decoded.clear();
            self.at = 0;
            base64::engine::general_purpose::STANDARD
                .decode_vec(
                    self.pending.get(..usable).unwrap_or_default(),
                    &mut self.decoded,
                )
                .map_err(|_| carrying(bad("the body is not valid base64")))?;
            self.pending.drain(..usable);
            if !self.decoded.is_empty() {
                return Ok(true);
            }
        }
    }
}

impl<R: Read> Read for Base64Body<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at >= self.decoded.len() && !self.refill()? {
            return Ok(0);
        }
        let left = self.decoded.get(self.at..).unwrap_or_default();
        let n = left.len().min(buf.len());
        buf.get_mut(..n)
            .unwrap_or_default()
            .copy_from_slice(left.get(..n).unwrap_or_default());
        self.at += n;
        Ok(n)
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
struct PgpPart<R> {
    r: R,
    delimiter: Vec<u8>,
    state: PartState,
    line: Vec<u8>,
    at: usize,
}

impl<R: BufRead> PgpPart<R> {
    fn new(r: R, boundary: &str) -> Self {
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
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.state == PartState::Done {
                return Ok(0);
            }
            if self.state == PartState::Body && self.at < self.line.len() {
                let left = self.line.get(self.at..).unwrap_or_default();
                let n = left.len().min(buf.len());
                buf.get_mut(..n)
                    .unwrap_or_default()
                    .copy_from_slice(left.get(..n).unwrap_or_default());
                self.at += n;
                return Ok(n);
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
