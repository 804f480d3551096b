//! A streaming writer of CMS `ContentInfo` holding `EnvelopedData` (RFC 5652 §6) or
//! `AuthEnvelopedData` (RFC 5083).
//!
//! When the content length is known in advance the output is DER (definite lengths), as
//! Stalwart and `openssl cms` write it. When it is not (streaming from a reader), the outer
//! structures use BER indefinite lengths and the ciphertext is a constructed OCTET STRING
//! of chunks, as `openssl cms -stream` writes it. Either way memory stays constant.

use std::io::{self, Write};

use der::Encode;
use der::asn1::ObjectIdentifier;
use openssl::symm::{Cipher, Crypter, Mode};
use spki::AlgorithmIdentifierOwned;

use super::recipient_info::{backend, header, tlv};
use crate::error::{EncryptError, encrypt_io};
use crate::message::options::Algorithm;

pub(crate) const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
pub(crate) const ID_ENVELOPED_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3");
pub(crate) const ID_AUTH_ENVELOPED_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.23");
pub(crate) const AES128_CBC: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.2");
pub(crate) const AES256_CBC: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.42");
pub(crate) const AES256_GCM: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.46");
pub(crate) const CHACHA20_POLY1305: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.3.18");

/// The AEAD tag length written (Stalwart and OpenSSL use 16).
pub(crate) const TAG_LEN: usize = 16;
/// The most ciphertext put in one chunk of the indefinite-length OCTET STRING.
const CHUNK: usize = 64 * 1024;

impl Algorithm {
    pub(crate) fn cipher(&self) -> Cipher {
        match self {
            Algorithm::Aes128 => Cipher::aes_128_cbc(),
            Algorithm::Aes256 => Cipher::aes_256_cbc(),
            Algorithm::Aes256Gcm => Cipher::aes_256_gcm(),
            Algorithm::ChaCha20Poly1305 => Cipher::chacha20_poly1305(),
        }
    }

    pub(crate) fn key_len(&self) -> usize {
        match self {
            Algorithm::Aes128 => 16,
            _ => 32,
        }
    }

    pub(crate) fn iv_len(&self) -> usize {
        if self.is_aead() { 12 } else { 16 }
    }

    /// The ciphertext length for `len` bytes of content (without the AEAD tag).
    fn ciphertext_len(&self, len: u64) -> u64 {
        if self.is_aead() {
            len
        } else {
            (len / 16 + 1) * 16
        }
    }

    /// The DER `ContentEncryptionAlgorithmIdentifier` with its IV or nonce.
    pub(crate) fn identifier(&self, iv: &[u8]) -> Result<Vec<u8>, EncryptError> {
        let (oid, params) = match self {
            Algorithm::Aes128 => (AES128_CBC, tlv(0x04, iv)),
            Algorithm::Aes256 => (AES256_CBC, tlv(0x04, iv)),
            Algorithm::Aes256Gcm => {
                // GCMParameters ::= SEQUENCE { aes-nonce OCTET STRING, aes-ICVlen INTEGER }
                let mut p = tlv(0x04, iv);
                p.extend(tlv(0x02, &[TAG_LEN as u8]));
                (AES256_GCM, tlv(0x30, &p))
            }
            Algorithm::ChaCha20Poly1305 => (CHACHA20_POLY1305, tlv(0x04, iv)),
        };
        AlgorithmIdentifierOwned {
            oid,
            parameters: Some(<der::Any as der::Decode>::from_der(&params).map_err(backend)?),
        }
        .to_der()
        .map_err(backend)
    }
}

/// How lengths are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// DER: the content is exactly this many bytes.
    Definite(u64),
    /// BER indefinite lengths: the content length is not known.
    Indefinite,
}

/// Encrypts what is written to it into a CMS ContentInfo on `out`.
pub(crate) struct EnvelopeWriter<W: Write> {
    out: W,
    crypter: Crypter,
    algorithm: Algorithm,
    framing: Framing,
    buf: Vec<u8>,
    written: u64,
}

impl<W: Write> EnvelopeWriter<W> {
    /// Writes everything up to the ciphertext. `recipient_infos` is the DER RecipientInfos.
    pub(crate) fn new(
        mut out: W,
        algorithm: Algorithm,
        cek: &[u8],
        iv: &[u8],
        recipient_infos: &[u8],
        has_kari: bool,
        framing: Framing,
    ) -> Result<Self, crate::Error> {
        let mut crypter =
            Crypter::new(algorithm.cipher(), Mode::Encrypt, cek, Some(iv)).map_err(backend)?;
        if !algorithm.is_aead() {
            crypter.pad(true);
        }
        let aead = algorithm.is_aead();
        // RFC 5652 §6.1: version 2 when a KeyAgreeRecipientInfo is present, else 0;
        // RFC 5083 §2.1: AuthEnvelopedData is always version 0.
        let version = tlv(0x02, &[if has_kari && !aead { 2 } else { 0 }]);
        let outer_oid = if aead {
            ID_AUTH_ENVELOPED_DATA
        } else {
            ID_ENVELOPED_DATA
        };
        let outer_oid = outer_oid.to_der().map_err(backend)?;
        let data_oid = ID_DATA.to_der().map_err(backend)?;
        let alg = algorithm.identifier(iv)?;

        let mut head = Vec::with_capacity(recipient_infos.len() + 128);
        match framing {
            Framing::Definite(len) => {
                let c = usize::try_from(algorithm.ciphertext_len(len))
                    .map_err(|_| backend("message too large"))?;
                let content = header(0x80, c).len() + c;
                let eci = data_oid.len() + alg.len() + content;
                let eci_tlv = header(0x30, eci).len() + eci;
                let mac = if aead { 2 + TAG_LEN } else { 0 };
                let env = version.len() + recipient_infos.len() + eci_tlv + mac;
                let env_tlv = header(0x30, env).len() + env;
                let explicit_tlv = header(0xa0, env_tlv).len() + env_tlv;
                head.extend(header(0x30, outer_oid.len() + explicit_tlv));
                head.extend(&outer_oid);
                head.extend(header(0xa0, env_tlv));
                head.extend(header(0x30, env));
                head.extend(&version);
                head.extend_from_slice(recipient_infos);
                head.extend(header(0x30, eci));
                head.extend(&data_oid);
                head.extend(&alg);
                head.extend(header(0x80, c));
            }
            Framing::Indefinite => {
                head.extend([0x30, 0x80]);
                head.extend(&outer_oid);
                head.extend([0xa0, 0x80, 0x30, 0x80]);
                head.extend(&version);
                head.extend_from_slice(recipient_infos);
                head.extend([0x30, 0x80]);
                head.extend(&data_oid);
                head.extend(&alg);
                head.extend([0xa0, 0x80]);
            }
        }
        out.write_all(&head).map_err(encrypt_io)?;
        Ok(EnvelopeWriter {
            out,
            crypter,
            algorithm,
            framing,
            buf: Vec::new(),
            written: 0,
        })
    }

    fn emit(&mut self, n: usize) -> io::Result<()> {
        let data = self.buf.get(..n).unwrap_or_default();
        if data.is_empty() {
            return Ok(());
        }
        match self.framing {
            Framing::Definite(_) => self.out.write_all(data),
            Framing::Indefinite => {
                self.out.write_all(&header(0x04, data.len()))?;
                self.out.write_all(data)
            }
        }
    }

    /// Writes the rest of the ciphertext, the tag for AEAD, and closes every structure.
    pub(crate) fn finish(mut self) -> Result<W, crate::Error> {
        if let Framing::Definite(len) = self.framing
            && len != self.written
        {
            return Err(backend(format!(
                "content length changed while encrypting ({len} announced, {} written)",
                self.written
            ))
            .into());
        }
        self.buf.resize(32, 0);
        let n = self.crypter.finalize(&mut self.buf).map_err(backend)?;
        self.emit(n).map_err(encrypt_io)?;
        let mut tail = Vec::with_capacity(32);
        if self.framing == Framing::Indefinite {
            tail.extend([0, 0, 0, 0]); // encryptedContent, EncryptedContentInfo
        }
        if self.algorithm.is_aead() {
            let mut tag = [0u8; TAG_LEN];
            self.crypter.get_tag(&mut tag).map_err(backend)?;
            tail.extend(tlv(0x04, &tag));
        }
        if self.framing == Framing::Indefinite {
            tail.extend([0, 0, 0, 0, 0, 0]); // (Auth)EnvelopedData, [0], ContentInfo
        }
        self.out.write_all(&tail).map_err(encrypt_io)?;
        Ok(self.out)
    }
}

impl<W: Write> Write for EnvelopeWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let data = data.get(..data.len().min(CHUNK)).unwrap_or_default();
        self.buf.resize(data.len() + 32, 0);
        let n = self
            .crypter
            .update(data, &mut self.buf)
            .map_err(|e| io::Error::from(backend(e)))?;
        self.written += data.len() as u64;
        self.emit(n)?;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
