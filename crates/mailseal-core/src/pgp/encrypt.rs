//! PGP/MIME encryption at rest (RFC 3156 §4): the message body becomes a
//! `multipart/encrypted` entity whose second part is an ASCII-armored OpenPGP message.
//!
//! Packets: one PKESK per encryption key, then SEIPDv1 (AES-CFB with MDC, which every
//! OpenPGP program reads) or SEIPDv2 (AEAD, RFC 9580) when every recipient is a v6 key or the
//! caller asks for it; a literal data packet inside; no compression. Armor lines are CRLF.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use sequoia_openpgp as openpgp;

use openpgp::serialize::stream::{Armorer, Encryptor, LiteralWriter, Message, Recipient};
use openpgp::types::{Features, SymmetricAlgorithm};
use openpgp::{Cert, Fingerprint, KeyHandle};

use crate::error::{EncryptError, encrypt_io};
use crate::key::fingerprint::hex_upper;
use crate::key::report::KeyFormat;
use crate::message::mime::CrlfWriter;
use crate::message::options::{Algorithm, PgpFormat};

/// A `Write` that collects what Sequoia produces, so that it can be handed on to a writer
/// that need not be `Send + Sync`.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut v = self
            .0
            .lock()
            .map_err(|_| io::Error::from(backend("poisoned output buffer")))?;
        v.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Streams the inner entity into an armored OpenPGP message inside a PGP/MIME body.
pub(crate) struct PgpMimeWriter<'a, W: Write> {
    literal: Option<Message<'a>>,
    sink: Sink,
    out: CrlfWriter<W>,
    boundary: String,
}

fn backend(e: impl std::fmt::Display) -> EncryptError {
    EncryptError::Backend {
        detail: e.to_string(),
    }
}

/// A random MIME boundary that cannot occur in base64 armor.
fn boundary() -> Result<String, EncryptError> {
    let mut r = [0u8; 16];
    openssl::rand::rand_bytes(&mut r).map_err(backend)?;
    Ok(format!("=_mailseal_{}", hex_upper(&r).to_ascii_lowercase()))
}

/// Writes the outer headers and the PGP/MIME structure up to the armor, and returns the
/// writer for the inner entity.
pub(crate) fn begin<'a, W: Write>(
    mut out: W,
    outer_headers: &[u8],
    certs: &'a [(Cert, Vec<Fingerprint>)],
    algorithm: Algorithm,
    format: PgpFormat,
) -> Result<PgpMimeWriter<'a, W>, crate::Error> {
    let symmetric = match algorithm {
        Algorithm::Aes128 => SymmetricAlgorithm::AES128,
        Algorithm::Aes256 => SymmetricAlgorithm::AES256,
        Algorithm::Aes256Gcm | Algorithm::ChaCha20Poly1305 => {
            // Refused here with `encrypt.aead_with_openpgp`.
            algorithm.check_key_format(KeyFormat::OpenPgp)?;
            return Err(backend(format!("no OpenPGP cipher for {algorithm}")).into());
        }
    };
    let all_v6 = certs
        .iter()
        .all(|(c, _)| c.primary_key().key().version() == 6);
    let any_v6 = certs
        .iter()
        .any(|(c, _)| c.primary_key().key().version() == 6);
    let seipdv2 = match format {
        PgpFormat::Auto => all_v6,
        PgpFormat::Seipdv1 if any_v6 => return Err(EncryptError::Seipdv1WithV6Key.into()),
        PgpFormat::Seipdv1 => false,
        PgpFormat::Seipdv2 => true,
    };
    let features = if seipdv2 {
        Features::empty().set_seipdv1().set_seipdv2()
    } else {
        Features::empty().set_seipdv1()
    };

    // The recipients were validated when `Recipients` was made; here we only look the keys up.
    let mut recipients: Vec<Recipient<'a>> = Vec::new();
    for (cert, fingerprints) in certs {
        for key in cert.keys() {
            if fingerprints.contains(&key.key().fingerprint()) {
                let handle: KeyHandle = if seipdv2 {
                    key.key().fingerprint().into()
                } else {
                    key.key().keyid().into()
                };
                recipients.push(Recipient::new(features.clone(), handle, key.key()));
            }
        }
    }
    if recipients.is_empty() {
        return Err(backend("no encryption key left to encrypt to").into());
    }

    let boundary = boundary()?;
    out.write_all(outer_headers).map_err(encrypt_io)?;
    write!(
        out,
        "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";\r\n\
         \tboundary=\"{boundary}\"\r\n\
         \r\n\
         This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n\
         --{boundary}\r\n\
         Content-Type: application/pgp-encrypted\r\n\
         Content-Description: PGP/MIME version identification\r\n\
         \r\n\
         Version: 1\r\n\
         \r\n\
         --{boundary}\r\n\
         Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n\
         Content-Description: OpenPGP encrypted message\r\n\
         Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\
         \r\n"
    )
    .map_err(encrypt_io)?;

    let sink = Sink::default();
    let message = Message::new(sink.clone());
    let message = Armorer::new(message)
        .kind(openpgp::armor::Kind::Message)
        .build()
        .map_err(backend)?;
    let mut encryptor = Encryptor::for_recipients(message, recipients).symmetric_algo(symmetric);
    if seipdv2 {
        encryptor = encryptor.aead_algo(openpgp::types::AEADAlgorithm::default());
    }
    let message = encryptor.build().map_err(backend)?;
    let literal = LiteralWriter::new(message).build().map_err(backend)?;
    let mut w = PgpMimeWriter {
        literal: Some(literal),
        sink,
        out: CrlfWriter::new(out),
        boundary,
    };
    w.drain().map_err(encrypt_io)?;
    Ok(w)
}

impl<W: Write> PgpMimeWriter<'_, W> {
    fn drain(&mut self) -> io::Result<()> {
        let data = {
            let mut v = self
                .sink
                .0
                .lock()
                .map_err(|_| io::Error::from(backend("poisoned output buffer")))?;
            std::mem::take(&mut *v)
        };
        self.out.write_all(&data)
    }

    /// Finishes the OpenPGP message and closes the multipart body.
    pub(crate) fn finish(mut self) -> Result<W, crate::Error> {
        if let Some(literal) = self.literal.take() {
            literal.finalize().map_err(backend)?;
        }
        self.drain().map_err(encrypt_io)?;
        let mut out = self.out.into_inner();
        write!(out, "\r\n--{}--\r\n", self.boundary).map_err(encrypt_io)?;
        Ok(out)
    }
}

impl<W: Write> Write for PgpMimeWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = match self.literal.as_mut() {
            Some(l) => l.write(buf)?,
            None => return Err(backend("writer already finished").into()),
        };
        self.drain()?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain()?;
        self.out.flush()
    }
}
