//! PGP/MIME encryption at rest (RFC 3156 §4): the message body becomes a
//! `multipart/encrypted` entity whose second part is an ASCII-armored OpenPGP message.
//!
//! Packets: one PKESK per encryption key, then SEIPDv1 (AES-CFB with MDC, which every
//! OpenPGP program reads) or SEIPDv2 (AEAD, RFC 9580) when every recipient is a v6 key or the
//! caller asks for it; a literal data packet inside; no compression. Armor lines are CRLF.
//!
//! SEIPDv1, the hot path, is written by our own [`seipd`](super::seipd) and
//! [`pkesk`](super::pkesk) into [`armor`](super::armor) (76-column CRLF lines and the
//! CRC-24). SEIPDv2 goes through Sequoia's `Encryptor` and `Armorer`.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use sequoia_openpgp as openpgp;

use openpgp::packet::Key;
use openpgp::packet::key::{PublicParts, UnspecifiedRole};
use openpgp::serialize::stream::{Armorer, Encryptor, LiteralWriter, Message, Recipient};
use openpgp::types::{Features, SymmetricAlgorithm};
use openpgp::{Cert, Fingerprint, KeyHandle};

use zeroize::Zeroizing;

use super::armor::ArmorWriter;
use super::pkesk::pkesk3;
use super::seipd::Seipdv1Writer;
use crate::base64_lines::LineSink;
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
pub(crate) struct PgpMimeWriter<'a, W: LineSink> {
    body: Body<'a, W>,
    boundary: String,
}

/// Who writes the OpenPGP message.
enum Body<'a, W: LineSink> {
    /// Our own SEIPDv1 writer, straight into the armor's base64 lines.
    Seipdv1(Box<Seipdv1Writer<ArmorWriter<W>>>),
    /// Sequoia's writer stack (SEIPDv2), collected in `sink` and handed on.
    Sequoia {
        literal: Option<Message<'a>>,
        sink: Sink,
        out: CrlfWriter<W>,
    },
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

/// Whether `certs` are encrypted to with SEIPDv2 under `format`: on request, or by default
/// when every recipient is a v6 key. SEIPDv1 cannot be used with a v6 key.
pub(crate) fn uses_seipdv2(
    certs: &[(Cert, Vec<Fingerprint>)],
    format: PgpFormat,
) -> Result<bool, EncryptError> {
    let all_v6 = certs
        .iter()
        .all(|(c, _)| c.primary_key().key().version() == 6);
    let any_v6 = certs
        .iter()
        .any(|(c, _)| c.primary_key().key().version() == 6);
    match format {
        PgpFormat::Auto => Ok(all_v6),
        PgpFormat::Seipdv1 if any_v6 => Err(EncryptError::Seipdv1WithV6Key),
        PgpFormat::Seipdv1 => Ok(false),
        PgpFormat::Seipdv2 => Ok(true),
    }
}

/// The keys a message to `certs` gets a PKESK for, in the order they are written.
pub(crate) fn encryption_keys(
    certs: &[(Cert, Vec<Fingerprint>)],
) -> Vec<&Key<PublicParts, UnspecifiedRole>> {
    // The recipients were validated when `Recipients` was made; here we only look the keys up.
    certs
        .iter()
        .flat_map(|(cert, fingerprints)| {
            cert.keys()
                .filter(|k| fingerprints.contains(&k.key().fingerprint()))
                .map(|k| k.key())
        })
        .collect()
}

/// Writes the outer headers and the PGP/MIME structure up to the armor, and returns the
/// writer for the inner entity.
pub(crate) fn begin<'a, W: LineSink>(
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
    let seipdv2 = uses_seipdv2(certs, format)?;
    let keys = encryption_keys(certs);
    if keys.is_empty() {
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

    if !seipdv2 {
        let mut session_key = Zeroizing::new(vec![0u8; symmetric.key_size().map_err(backend)?]);
        openssl::rand::rand_bytes(&mut session_key).map_err(backend)?;
        let mut packets = Vec::with_capacity(keys.len() * 512);
        for key in &keys {
            packets.extend(pkesk3(key, symmetric, &session_key)?);
        }
        let mut armor = ArmorWriter::new(out).map_err(encrypt_io)?;
        armor.write_all(&packets).map_err(encrypt_io)?;
        let seipd = Seipdv1Writer::new(armor, &session_key)?;
        return Ok(PgpMimeWriter {
            body: Body::Seipdv1(Box::new(seipd)),
            boundary,
        });
    }

    let recipients: Vec<Recipient<'a>> = keys
        .iter()
        .map(|key| {
            let features = Features::empty().set_seipdv1().set_seipdv2();
            Recipient::new(features, KeyHandle::from(key.fingerprint()), *key)
        })
        .collect();
    let sink = Sink::default();
    let message = Message::new(sink.clone());
    let message = Armorer::new(message)
        .kind(openpgp::armor::Kind::Message)
        .build()
        .map_err(backend)?;
    let message = Encryptor::for_recipients(message, recipients)
        .symmetric_algo(symmetric)
        .aead_algo(openpgp::types::AEADAlgorithm::default())
        .build()
        .map_err(backend)?;
    let literal = LiteralWriter::new(message).build().map_err(backend)?;
    let mut w = PgpMimeWriter {
        body: Body::Sequoia {
            literal: Some(literal),
            sink,
            out: CrlfWriter::new(out),
        },
        boundary,
    };
    w.drain().map_err(encrypt_io)?;
    Ok(w)
}

impl<W: LineSink> PgpMimeWriter<'_, W> {
    /// Hands on what Sequoia has written so far.
    fn drain(&mut self) -> io::Result<()> {
        let Body::Sequoia { sink, out, .. } = &mut self.body else {
            return Ok(());
        };
        let data = {
            let mut v = sink
                .0
                .lock()
                .map_err(|_| io::Error::from(backend("poisoned output buffer")))?;
            std::mem::take(&mut *v)
        };
        out.write_all(&data)
    }

    /// Finishes the OpenPGP message and closes the multipart body.
    pub(crate) fn finish(mut self) -> Result<W, crate::Error> {
        if let Body::Sequoia { literal, .. } = &mut self.body
            && let Some(literal) = literal.take()
        {
            literal.finalize().map_err(backend)?;
        }
        self.drain().map_err(encrypt_io)?;
        let mut out = match self.body {
            Body::Seipdv1(seipd) => seipd
                .finish()
                .and_then(ArmorWriter::finish)
                .map_err(encrypt_io)?,
            Body::Sequoia { out, .. } => out.into_inner(),
        };
        write!(out, "\r\n--{}--\r\n", self.boundary).map_err(encrypt_io)?;
        Ok(out)
    }
}

impl<W: LineSink> Write for PgpMimeWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = match &mut self.body {
            Body::Seipdv1(seipd) => return seipd.write(buf),
            Body::Sequoia {
                literal: Some(l), ..
            } => l.write(buf)?,
            Body::Sequoia { literal: None, .. } => {
                return Err(backend("writer already finished").into());
            }
        };
        self.drain()?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain()?;
        match &mut self.body {
            Body::Seipdv1(seipd) => seipd.flush(),
            Body::Sequoia { out, .. } => out.flush(),
        }
    }
}
