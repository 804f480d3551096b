//! Opening CMS EnvelopedData and AuthEnvelopedData with a private key (DER or BER).
//!
//! Key transport: RSA PKCS#1 v1.5 and RSAES-OAEP (SHA-1/SHA-256/384/512). Key agreement:
//! ECDH on P-256/P-384/P-521 and X25519 with the X9.63 KDF (SHA-1 to SHA-512) and AES key
//! wrap. Content: AES-128/192/256-CBC, AES-128/256-GCM, ChaCha20-Poly1305 (RFC 8103).

use cms::enveloped_data::{
    KeyAgreeRecipientIdentifier, OriginatorIdentifierOrKey, RecipientIdentifier, RecipientInfo,
};
use der::asn1::ObjectIdentifier;
use der::{Decode, Encode};
use openssl::derive::Deriver;
use openssl::ec::{EcGroup, EcKey, EcPoint};
use openssl::encrypt::Decrypter;
use openssl::hash::MessageDigest;
use openssl::pkey::{Id, PKey, Private};
use openssl::rsa::Padding;
use openssl::symm::{Cipher, Crypter, Mode};
use spki::AlgorithmIdentifierOwned;
use zeroize::Zeroizing;

use super::envelope::{
    AES128_CBC, AES256_CBC, AES256_GCM, CHACHA20_POLY1305, ID_AUTH_ENVELOPED_DATA,
    ID_ENVELOPED_DATA,
};
use super::recipient_info::{
    AES128_WRAP, AES256_WRAP, ID_MGF1, KdfHash, RSA_ENCRYPTION, RSAES_OAEP, STD_DH_SHA1_KDF,
    STD_DH_SHA256_KDF, STD_DH_SHA384_KDF, STD_DH_SHA512_KDF, shared_info, x963_kdf,
};
use std::io::{BufRead, Write};

use crate::ber::{self, BerError, Tlv};
use crate::ber_stream::{BerStream, Header, StreamError};
use crate::decryption_key::{Inner, PrivateKey};
use crate::error::{DecryptError, Error, carried};
use crate::key::x509::X509Cert;

const AES192_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.22");
const AES128_GCM: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.6");
const AES192_WRAP: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.25");
const STD_DH_SHA224_KDF: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.1.11.0");
const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

fn malformed(detail: &str) -> DecryptError {
    DecryptError::Malformed {
        detail: detail.to_owned(),
    }
}

fn oid_of(tlv: &Tlv<'_>) -> Result<ObjectIdentifier, DecryptError> {
    ObjectIdentifier::from_der(tlv.raw).map_err(|_| malformed("bad object identifier"))
}

fn unsupported(what: impl std::fmt::Display) -> DecryptError {
    DecryptError::Unsupported {
        algorithm: what.to_string(),
    }
}

/// How much ciphertext is decrypted at a time by [`decrypt_stream`].
const STREAM_CHUNK: usize = 64 * 1024;
/// The largest AEAD content collected before it is opened.
const MAX_AEAD_CONTENT: usize = 256 * 1024 * 1024;

/// The error a failure of the streaming reader stands for.
fn stream_error(e: StreamError) -> Error {
    match e {
        StreamError::Io(e) => match carried(&e) {
            Some(inner) => inner.clone(),
            None => DecryptError::Malformed {
                detail: e.to_string(),
            }
            .into(),
        },
        StreamError::Ber(e) => DecryptError::from(e).into(),
    }
}

/// One whole element as a tree, read from the stream.
fn whole(s: &mut BerStream<impl BufRead>) -> Result<Vec<u8>, Error> {
    s.whole().map_err(stream_error)
}

/// How AEAD content (AES-GCM, ChaCha20-Poly1305) is read.
///
/// Its authenticated attributes, which the tag covers and which must be fed to the cipher
/// before the content, come after the content in `AuthEnvelopedData` (RFC 5083 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AeadContent {
    /// Collected, then opened once the attributes are known: every message, memory as
    /// large as the content.
    Collect,
    /// Decrypted as it is read and the tag checked at the end, memory flat. A message with
    /// authenticated attributes (which neither mailseal, Stalwart nor OpenSSL writes) is
    /// refused with [`DecryptError::Unsupported`] once they turn up.
    Stream,
}

/// Decrypts a DER/BER CMS ContentInfo holding (Auth)EnvelopedData read from `input`, writing
/// the plaintext to `out` as it is decrypted. With AES-CBC the content is decrypted chunk by
/// chunk; AEAD content as `aead` says, the tag checked at the end.
pub(crate) fn decrypt_stream(
    input: impl BufRead,
    out: &mut dyn Write,
    key: &PrivateKey,
    aead: AeadContent,
) -> Result<(), Error> {
    let Inner::Smime { key, cert } = &key.inner else {
        return Err(DecryptError::NoMatchingKey.into());
    };
    let mut s = BerStream::new(input);
    let Head {
        ci,
        explicit,
        env,
        eci,
        auth,
        recipient_infos,
        alg,
    } = read_head(&mut s)?;
    let (recipient_infos, _) = ber::read(&recipient_infos).map_err(DecryptError::from)?;
    let content = ContentAlg::from_identifier(&alg)?;
    let cek = recover_cek(&recipient_infos, key, cert.as_deref(), content.key_len())?;
    let tag = s.peek().map_err(stream_error)?;
    if tag.is_none_or(|t| t & 0xdf != 0x80) {
        return Err(malformed("no encrypted content (detached content is not supported)").into());
    }
    let h = s.header(None).map_err(stream_error)?;

    // AES-CBC (and streamed AEAD): decrypted chunk by chunk as it is read, the last block
    // held back until the structure is seen to end where it should. Collected AEAD: opened at
    // the end.
    let mut streamed_with = None;
    let mut ciphertext = Vec::new();
    let mut buf = Zeroizing::new(vec![0u8; STREAM_CHUNK + content.cipher.block_size()]);
    if content.aead && aead == AeadContent::Collect {
        // A definite length (DER, as mailseal and Stalwart write) sizes the buffer once.
        if let Some(len) = h.len {
            ciphertext.reserve_exact(usize::try_from(len).unwrap_or(0).min(MAX_AEAD_CONTENT));
        }
        s.octets(h, &mut |chunk| {
            if ciphertext.len() + chunk.len() > MAX_AEAD_CONTENT {
                return Err(StreamError::Ber(BerError(
                    "the encrypted content is too large",
                )));
            }
            ciphertext.extend_from_slice(chunk);
            Ok(())
        })
        .map_err(stream_error)?;
    } else {
        let mut c = Crypter::new(content.cipher, Mode::Decrypt, &cek, Some(&content.iv))
            .map_err(|_| malformed("bad key or IV length"))?;
        let mut failed = false;
        let streamed = s.octets(h, &mut |chunk| {
            for piece in chunk.chunks(STREAM_CHUNK) {
                let Ok(n) = c.update(piece, &mut buf) else {
                    failed = true;
                    return Err(StreamError::Ber(BerError(
                        "the content cannot be decrypted",
                    )));
                };
                out.write_all(buf.get(..n).unwrap_or_default())?;
            }
            Ok(())
        });
        if failed {
            return Err(DecryptError::Integrity.into());
        }
        streamed.map_err(stream_error)?;
        streamed_with = Some(c);
    }
    s.close(eci.0, eci.1).map_err(stream_error)?;

    // What follows the content: for AuthEnvelopedData the authenticated attributes and the
    // MAC; for EnvelopedData unprotected attributes, not needed.
    let (mut aad, mut mac) = (Vec::new(), None);
    while !s.at_end(env.0, env.1).map_err(stream_error)? {
        let raw = whole(&mut s)?;
        match raw.first() {
            // RFC 5083 §2.2: the AAD is the DER of authAttrs with the SET OF tag.
            Some(0xa1) if auth => {
                aad = raw;
                if let Some(first) = aad.first_mut() {
                    *first = 0x31;
                }
            }
            Some(0x04) if auth => {
                let (tlv, _) = ber::read(&raw).map_err(DecryptError::from)?;
                mac = Some(tlv.octets().map_err(DecryptError::from)?);
            }
            _ => {}
        }
    }
    if env.0.len.is_some() {
        s.close(env.0, env.1).map_err(stream_error)?;
    }
    s.close(explicit.0, explicit.1).map_err(stream_error)?;
    s.close(ci.0, ci.1).map_err(stream_error)?;

    let write = |out: &mut dyn Write, data: &[u8]| {
        out.write_all(data)
            .map_err(|e| stream_error(StreamError::Io(e)))
    };
    match streamed_with {
        Some(mut c) => {
            if content.aead {
                if !aad.is_empty() {
                    return Err(unsupported(
                        "AEAD content followed by authenticated attributes, read as a stream \
                         (decrypt the whole message instead)",
                    )
                    .into());
                }
                let tag = mac.ok_or_else(|| malformed("authenticated data without MAC"))?;
                c.set_tag(&tag)
                    .map_err(|_| Error::from(DecryptError::Integrity))?;
            }
            let n = c
                .finalize(&mut buf)
                .map_err(|_| Error::from(DecryptError::Integrity))?;
            write(out, buf.get(..n).unwrap_or_default())
        }
        None => content.open(&cek, &ciphertext, mac.as_deref(), &aad, &mut |plain| {
            write(out, plain)
        }),
    }
}

/// The front of a CMS ContentInfo holding (Auth)EnvelopedData, read up to the encrypted
/// content: everything needed to know who it is for and how it is encrypted. The headers
/// (with the stream position after each) are kept so that the caller can check that the
/// structures close where they should.
pub(crate) struct Head {
    pub(crate) ci: (Header, u64),
    pub(crate) explicit: (Header, u64),
    pub(crate) env: (Header, u64),
    pub(crate) eci: (Header, u64),
    /// AuthEnvelopedData (RFC 5083) rather than EnvelopedData.
    pub(crate) auth: bool,
    /// The encoded RecipientInfos SET, as read (BER or DER).
    pub(crate) recipient_infos: Vec<u8>,
    /// The content-encryption algorithm.
    pub(crate) alg: AlgorithmIdentifierOwned,
}

/// Reads [`Head`] from the start of `s`, or fails with [`DecryptError::NotEncrypted`] for
/// any other CMS content type. Nothing after the algorithm identifier is read.
pub(crate) fn read_head(s: &mut BerStream<impl BufRead>) -> Result<Head, Error> {
    let expect = |s: &mut BerStream<_>, tag: u8, what: &str| -> Result<(Header, u64), Error> {
        let h = s.header(None).map_err(stream_error)?;
        if h.tag != tag {
            return Err(malformed(what).into());
        }
        Ok((h, s.pos()))
    };
    let ci = expect(s, 0x30, "not a CMS ContentInfo")?;
    let oid = whole(s)?;
    let (oid, _) = ber::read(&oid).map_err(DecryptError::from)?;
    let content_type = oid_of(&oid)?;
    let auth = if content_type == ID_ENVELOPED_DATA {
        false
    } else if content_type == ID_AUTH_ENVELOPED_DATA {
        true
    } else {
        return Err(DecryptError::NotEncrypted.into());
    };
    let explicit = expect(s, 0xa0, "ContentInfo without content")?;
    let env = expect(s, 0x30, "not (Auth)EnvelopedData")?;
    let _version = whole(s)?;
    let mut recipient_infos = whole(s)?;
    if recipient_infos.first() == Some(&0xa0) {
        // originatorInfo: certificates and CRLs, not needed.
        recipient_infos = whole(s)?;
    }
    let eci = expect(s, 0x30, "no encryptedContentInfo")?;
    let _content_type = whole(s)?;
    let alg = whole(s)?;
    let alg = AlgorithmIdentifierOwned::from_der(&ber::to_der(&alg).map_err(DecryptError::from)?)
        .map_err(|_| malformed("bad content encryption algorithm"))?;
    Ok(Head {
        ci,
        explicit,
        env,
        eci,
        auth,
        recipient_infos,
        alg,
    })
}

/// A content-encryption algorithm with its IV or nonce.
struct ContentAlg {
    cipher: Cipher,
    iv: Vec<u8>,
    aead: bool,
}

impl ContentAlg {
    fn from_identifier(alg: &AlgorithmIdentifierOwned) -> Result<Self, DecryptError> {
        let params = alg
            .parameters
            .as_ref()
            .ok_or_else(|| malformed("content encryption algorithm without parameters"))?
            .to_der()
            .map_err(|_| malformed("bad algorithm parameters"))?;
        let (p, _) = ber::read(&params)?;
        let octets_param = || -> Result<Vec<u8>, DecryptError> {
            if p.tag != 0x04 {
                return Err(malformed("expected an IV"));
            }
            Ok(p.octets()?)
        };
        let gcm_nonce = || -> Result<Vec<u8>, DecryptError> {
            let c = p.children()?;
            c.first()
                .filter(|t| t.tag == 0x04)
                .ok_or_else(|| malformed("bad GCM parameters"))?
                .octets()
                .map_err(DecryptError::from)
        };
        let (cipher, iv, aead) = match alg.oid {
            o if o == AES128_CBC => (Cipher::aes_128_cbc(), octets_param()?, false),
            o if o == AES192_CBC => (Cipher::aes_192_cbc(), octets_param()?, false),
            o if o == AES256_CBC => (Cipher::aes_256_cbc(), octets_param()?, false),
            o if o == AES128_GCM => (Cipher::aes_128_gcm(), gcm_nonce()?, true),
            o if o == AES256_GCM => (Cipher::aes_256_gcm(), gcm_nonce()?, true),
            o if o == CHACHA20_POLY1305 => (Cipher::chacha20_poly1305(), octets_param()?, true),
            o => return Err(unsupported(format!("content encryption {o}"))),
        };
        Ok(ContentAlg { cipher, iv, aead })
    }

    fn key_len(&self) -> usize {
        self.cipher.key_len()
    }

    /// Decrypts collected AEAD `ciphertext` with its `mac` and `aad`, handing the plaintext
    /// to `write` 64 KiB at a time (no copy of the whole), then checks the tag: on
    /// [`DecryptError::Integrity`] what was written must be thrown away, as for every
    /// streamed output.
    fn open(
        &self,
        cek: &[u8],
        ciphertext: &[u8],
        mac: Option<&[u8]>,
        aad: &[u8],
        write: &mut dyn FnMut(&[u8]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let integrity = |_| Error::from(DecryptError::Integrity);
        let mut c = Crypter::new(self.cipher, Mode::Decrypt, cek, Some(&self.iv))
            .map_err(|_| malformed("bad key or IV length"))?;
        let tag = mac.ok_or_else(|| malformed("authenticated data without MAC"))?;
        c.set_tag(tag).map_err(integrity)?;
        if !aad.is_empty() {
            c.aad_update(aad).map_err(integrity)?;
        }
        let mut buf = Zeroizing::new(vec![0u8; STREAM_CHUNK + self.cipher.block_size()]);
        for piece in ciphertext.chunks(STREAM_CHUNK) {
            let n = c.update(piece, &mut buf).map_err(integrity)?;
            write(buf.get(..n).unwrap_or_default())?;
        }
        let n = c.finalize(&mut buf).map_err(integrity)?;
        write(buf.get(..n).unwrap_or_default())
    }
}

/// Finds a RecipientInfo our key can open and returns the content-encryption key.
fn recover_cek(
    infos: &Tlv<'_>,
    key: &PKey<Private>,
    cert: Option<&X509Cert>,
    key_len: usize,
) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
    let ours = cert.map(X509Cert::issuer_and_serial);
    let mut candidates: Vec<(bool, RecipientInfo)> = Vec::new();
    for child in infos.children()? {
        // RecipientInfos are DER in every writer we know; skip one we cannot decode.
        // Indefinite lengths (BER, as some programs write CMS) become DER first.
        let Ok(info) = ber::to_der(child.raw).map(|d| RecipientInfo::from_der(&d)) else {
            continue;
        };
        let Ok(info) = info else {
            continue;
        };
        let matches = match (&info, &ours) {
            (RecipientInfo::Ktri(k), Some(ias)) => {
                matches!(&k.rid, RecipientIdentifier::IssuerAndSerialNumber(r) if r == ias)
            }
            (RecipientInfo::Kari(k), Some(ias)) => k.recipient_enc_keys.iter().any(|r| {
                matches!(&r.rid, KeyAgreeRecipientIdentifier::IssuerAndSerialNumber(x) if x == ias)
            }),
            _ => false,
        };
        candidates.push((matches, info));
    }
    // Those addressed to our certificate first, then the others.
    candidates.sort_by_key(|(m, _)| !*m);
    for (_, info) in &candidates {
        let cek = match info {
            RecipientInfo::Ktri(k) if key.id() == Id::RSA => {
                rsa_unwrap(key, &k.key_enc_alg, k.enc_key.as_bytes())
            }
            RecipientInfo::Kari(k) if matches!(key.id(), Id::EC | Id::X25519) => {
                let OriginatorIdentifierOrKey::OriginatorKey(orig) = &k.originator else {
                    continue;
                };
                let Some(point) = orig.public_key.as_bytes() else {
                    continue;
                };
                let mut found = None;
                for rek in &k.recipient_enc_keys {
                    let ukm = k.ukm.as_ref().map(|u| u.as_bytes());
                    if let Ok(cek) =
                        kari_unwrap(key, point, &k.key_enc_alg, ukm, rek.enc_key.as_bytes())
                    {
                        found = Some(cek);
                        break;
                    }
                }
                match found {
                    Some(c) => Ok(c),
                    None => continue,
                }
            }
            _ => continue,
        };
        if let Ok(cek) = cek
            && cek.len() == key_len
        {
            return Ok(cek);
        }
    }
    Err(DecryptError::NoMatchingKey)
}

fn rsa_unwrap(
    key: &PKey<Private>,
    alg: &AlgorithmIdentifierOwned,
    wrapped: &[u8],
) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
    let fail = |_| DecryptError::NoMatchingKey;
    let mut d = Decrypter::new(key).map_err(fail)?;
    if alg.oid == RSA_ENCRYPTION {
        d.set_rsa_padding(Padding::PKCS1).map_err(fail)?;
    } else if alg.oid == RSAES_OAEP {
        let (hash, mgf) = oaep_hashes(alg)?;
        d.set_rsa_padding(Padding::PKCS1_OAEP).map_err(fail)?;
        d.set_rsa_oaep_md(hash).map_err(fail)?;
        d.set_rsa_mgf1_md(mgf).map_err(fail)?;
    } else {
        return Err(unsupported(format!("key transport {}", alg.oid)));
    }
    let mut out = Zeroizing::new(vec![0u8; d.decrypt_len(wrapped).map_err(fail)?]);
    let n = d.decrypt(wrapped, &mut out).map_err(fail)?;
    out.truncate(n);
    Ok(out)
}

fn digest(oid: ObjectIdentifier) -> Result<MessageDigest, DecryptError> {
    Ok(match oid {
        o if o == SHA1 => MessageDigest::sha1(),
        o if o == SHA256 => MessageDigest::sha256(),
        o if o == SHA384 => MessageDigest::sha384(),
        o if o == SHA512 => MessageDigest::sha512(),
        o => return Err(unsupported(format!("hash {o}"))),
    })
}

/// The OAEP hash and MGF1 hash (RFC 4055 §4.1; both default to SHA-1).
fn oaep_hashes(
    alg: &AlgorithmIdentifierOwned,
) -> Result<(MessageDigest, MessageDigest), DecryptError> {
    let mut hash = MessageDigest::sha1();
    let mut mgf = MessageDigest::sha1();
    if let Some(params) = &alg.parameters {
        let der = params
            .to_der()
            .map_err(|_| malformed("bad OAEP parameters"))?;
        let (seq, _) = ber::read(&der)?;
        if seq.tag == 0x30 {
            for field in seq.children()? {
                let inner = field.children()?;
                let Some(first) = inner.first() else { continue };
                let a = AlgorithmIdentifierOwned::from_der(first.raw)
                    .map_err(|_| malformed("bad OAEP parameters"))?;
                match field.tag {
                    0xa0 => hash = digest(a.oid)?,
                    0xa1 if a.oid == ID_MGF1 => {
                        let p = a
                            .parameters
                            .ok_or_else(|| malformed("MGF1 without hash"))?
                            .decode_as::<AlgorithmIdentifierOwned>()
                            .map_err(|_| malformed("bad MGF1 parameters"))?;
                        mgf = digest(p.oid)?;
                    }
                    _ => {}
                }
            }
        }
    }
    Ok((hash, mgf))
}

fn kari_unwrap(
    key: &PKey<Private>,
    originator: &[u8],
    alg: &AlgorithmIdentifierOwned,
    ukm: Option<&[u8]>,
    wrapped: &[u8],
) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
    let fail = |_| DecryptError::NoMatchingKey;
    let hash = match alg.oid {
        o if o == STD_DH_SHA1_KDF => KdfHash::Sha1,
        o if o == STD_DH_SHA256_KDF => KdfHash::Sha256,
        o if o == STD_DH_SHA384_KDF => KdfHash::Sha384,
        o if o == STD_DH_SHA512_KDF => KdfHash::Sha512,
        o if o == STD_DH_SHA224_KDF => return Err(unsupported("X9.63 KDF with SHA-224")),
        o => return Err(unsupported(format!("key agreement {o}"))),
    };
    let wrap = alg
        .parameters
        .as_ref()
        .ok_or_else(|| malformed("key agreement without key wrap algorithm"))?
        .decode_as::<AlgorithmIdentifierOwned>()
        .map_err(|_| malformed("bad key wrap algorithm"))?;
    let kek_len = match wrap.oid {
        o if o == AES128_WRAP => 16,
        o if o == AES192_WRAP => 24,
        o if o == AES256_WRAP => 32,
        o => return Err(unsupported(format!("key wrap {o}"))),
    };
    let peer = match key.id() {
        Id::X25519 => PKey::public_key_from_raw_bytes(originator, Id::X25519).map_err(fail)?,
        _ => {
            let ec = key.ec_key().map_err(fail)?;
            let group: &openssl::ec::EcGroupRef = ec.group();
            let mut ctx = openssl::bn::BigNumContext::new().map_err(fail)?;
            let point = EcPoint::from_bytes(group, originator, &mut ctx).map_err(fail)?;
            let group =
                EcGroup::from_curve_name(group.curve_name().ok_or(DecryptError::NoMatchingKey)?)
                    .map_err(fail)?;
            PKey::from_ec_key(EcKey::from_public_key(&group, &point).map_err(fail)?)
                .map_err(fail)?
        }
    };
    let mut deriver = Deriver::new(key).map_err(fail)?;
    deriver.set_peer(&peer).map_err(fail)?;
    let z = Zeroizing::new(deriver.derive_to_vec().map_err(fail)?);
    let mut info = shared_info(wrap.oid, kek_len).map_err(|_| malformed("bad shared info"))?;
    if let Some(ukm) = ukm {
        info = shared_info_with_ukm(wrap.oid, kek_len, ukm);
    }
    let kek = x963_kdf(hash, &z, &info, kek_len);
    let aes = openssl::aes::AesKey::new_decrypt(&kek).map_err(|_| DecryptError::NoMatchingKey)?;
    let mut cek = Zeroizing::new(vec![0u8; wrapped.len().saturating_sub(8)]);
    openssl::aes::unwrap_key(&aes, None, &mut cek, wrapped)
        .map_err(|_| DecryptError::NoMatchingKey)?;
    Ok(cek)
}

/// `ECC-CMS-SharedInfo` with `entityUInfo` (RFC 5753 §7.2).
fn shared_info_with_ukm(wrap: ObjectIdentifier, kek_len: usize, ukm: &[u8]) -> Vec<u8> {
    use super::recipient_info::{explicit, tlv};
    let key_info = AlgorithmIdentifierOwned {
        oid: wrap,
        parameters: None,
    }
    .to_der()
    .unwrap_or_default();
    let bits = u32::try_from(kek_len * 8).unwrap_or(256).to_be_bytes();
    let mut body = key_info;
    body.extend(explicit(0, &tlv(0x04, ukm)));
    body.extend(explicit(2, &tlv(0x04, &bits)));
    tlv(0x30, &body)
}

#[cfg(test)]
mod stream_tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::{EncryptOptions, Policy, RecipientKey};

    const CRT: &[u8] = include_bytes!("../../../../examples/keys/alice.crt.pem");
    const KEY: &[u8] = include_bytes!("../../../../examples/keys/alice.key.pem");

    fn decrypt(der: &[u8], key: &PrivateKey) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        decrypt_stream(der, &mut out, key, AeadContent::Collect)?;
        Ok(out)
    }

    fn header(tag: u8, len: usize, out: &mut Vec<u8>) {
        out.push(tag);
        match len {
            n if n < 0x80 => out.push(n as u8),
            n if n < 0x100 => out.extend_from_slice(&[0x81, n as u8]),
            n if n < 0x1_0000 => out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
            n => out.extend_from_slice(&[0x83, (n >> 16) as u8, (n >> 8) as u8, n as u8]),
        }
    }

    /// The same CMS in BER as Windows and some CAs write it: every constructed element with
    /// indefinite length, the encrypted content as a constructed OCTET STRING of chunks.
    fn indefinite(tlv: &Tlv<'_>, out: &mut Vec<u8>) {
        if tlv.tag == 0x80 {
            out.extend_from_slice(&[0xa0, 0x80]);
            for chunk in tlv.content.chunks(1000) {
                header(0x04, chunk.len(), out);
                out.extend_from_slice(chunk);
            }
            out.extend_from_slice(&[0, 0]);
        } else if tlv.is_constructed() {
            out.extend_from_slice(&[tlv.tag, 0x80]);
            for child in tlv.children().unwrap() {
                indefinite(&child, out);
            }
            out.extend_from_slice(&[0, 0]);
        } else {
            out.extend_from_slice(tlv.raw);
        }
    }

    /// An AuthEnvelopedData (AES-256-GCM) to alice with `content`, carrying authenticated
    /// attributes when `attributes` (a content-type attribute), its tag over them.
    fn auth_enveloped(content: &[u8], attributes: bool) -> Vec<u8> {
        use crate::smime::envelope::{ID_AUTH_ENVELOPED_DATA, ID_DATA};
        use crate::smime::recipient_info::{build, tlv};
        use der::Encode as _;
        let cert = match &RecipientKey::from_bytes(CRT)
            .unwrap()
            .validate(&Policy::standard())
            .unwrap()
            .keys
        {
            crate::key::recipient::RecipientKeys::X509(certs) => certs.clone(),
            _ => unreachable!(),
        };
        let (cek, iv) = ([7u8; 32], [9u8; 12]);
        let infos = build(&cert, &cek, true).unwrap();
        let mut attrs = Vec::new();
        if attributes {
            // contentType (1.2.840.113549.1.9.3) = id-data
            let mut attr = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3")
                .to_der()
                .unwrap();
            attr.extend(tlv(0x31, &ID_DATA.to_der().unwrap()));
            attrs = tlv(0x31, &tlv(0x30, &attr));
        }
        let mut c = Crypter::new(Cipher::aes_256_gcm(), Mode::Encrypt, &cek, Some(&iv)).unwrap();
        if attributes {
            c.aad_update(&attrs).unwrap();
        }
        let mut ciphertext = vec![0u8; content.len() + 16];
        let n = c.update(content, &mut ciphertext).unwrap();
        let m = c.finalize(&mut ciphertext[n..]).unwrap();
        ciphertext.truncate(n + m);
        let mut tag = [0u8; 16];
        c.get_tag(&mut tag).unwrap();

        let mut eci = ID_DATA.to_der().unwrap();
        eci.extend(crate::Algorithm::Aes256Gcm.identifier(&iv).unwrap());
        eci.extend(tlv(0x80, &ciphertext));
        let mut env = tlv(0x02, &[0]);
        env.extend(&infos.der);
        env.extend(tlv(0x30, &eci));
        if attributes {
            let mut implicit = attrs.clone();
            implicit[0] = 0xa1;
            env.extend(implicit);
        }
        env.extend(tlv(0x04, &tag));
        let mut ci = ID_AUTH_ENVELOPED_DATA.to_der().unwrap();
        ci.extend(tlv(0xa0, &tlv(0x30, &env)));
        tlv(0x30, &ci)
    }

    #[test]
    fn streamed_aead_content_is_checked_and_attributes_are_refused_not_ignored() {
        let key = PrivateKey::from_bytes(KEY, None).unwrap();
        let content: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        for attributes in [false, true] {
            let der = auth_enveloped(&content, attributes);
            assert_eq!(decrypt(&der, &key).unwrap(), content, "collected");
            let mut out = Vec::new();
            let streamed = decrypt_stream(&der[..], &mut out, &key, AeadContent::Stream);
            if attributes {
                let e = streamed.unwrap_err();
                assert_eq!(e.code(), "decrypt.unsupported", "{e}");
            } else {
                streamed.unwrap();
                assert_eq!(out, content, "streamed");
            }
            // A changed tag (the last byte) fails the check either way.
            let mut bad = der.clone();
            *bad.last_mut().unwrap() ^= 1;
            for aead in [AeadContent::Collect, AeadContent::Stream] {
                let e = decrypt_stream(&bad[..], &mut Vec::new(), &key, aead).unwrap_err();
                let want = if attributes && aead == AeadContent::Stream {
                    "decrypt.unsupported"
                } else {
                    "decrypt.integrity"
                };
                assert_eq!(e.code(), want, "{aead:?}, attributes: {attributes}");
            }
        }
    }

    #[test]
    fn indefinite_length_cms_streams_like_it_decrypts() {
        let recipients = RecipientKey::from_bytes(CRT)
            .unwrap()
            .validate(&Policy::standard())
            .unwrap();
        let key = PrivateKey::from_bytes(KEY, None).unwrap();
        let mut message = b"Subject: t\r\nContent-Type: application/octet-stream\r\n\r\n".to_vec();
        while message.len() < 200_000 {
            message
                .extend_from_slice(b"0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOP\r\n");
        }
        for alg in [crate::Algorithm::Aes128, crate::Algorithm::Aes256Gcm] {
            let stored = crate::encrypt(&message, &recipients, &EncryptOptions::new(alg))
                .unwrap()
                .message;
            let (_, body) = crate::message::mime::header_end(&stored).unwrap();
            let b64: Vec<u8> = stored[body..]
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            use base64::Engine as _;
            let der = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap();
            let content = decrypt(&der, &key).unwrap();
            assert!(content.ends_with(&message[message.len() - 1000..]));
            let (tlv, _) = ber::read(&der).unwrap();
            let mut ber_form = Vec::new();
            indefinite(&tlv, &mut ber_form);
            assert_ne!(ber_form, der);
            for input in [&der, &ber_form] {
                let mut out = Vec::new();
                decrypt_stream(&input[..], &mut out, &key, AeadContent::Stream).unwrap();
                assert_eq!(out, content, "{alg:?}");
                // The whole message, as mailseal-core's public API reads it.
                let mut stored = stored[..body].to_vec();
                stored.extend_from_slice(
                    base64::engine::general_purpose::STANDARD
                        .encode(input)
                        .as_bytes(),
                );
                let whole = crate::decrypt(&stored, &key).unwrap();
                assert!(whole.ends_with(&content), "{alg:?}");
            }
            // Cut short anywhere: an error, never a hang or a panic.
            for cut in [10, 500, ber_form.len() / 2, ber_form.len() - 3] {
                let mut out = Vec::new();
                assert!(
                    decrypt_stream(&ber_form[..cut], &mut out, &key, AeadContent::Stream).is_err(),
                    "{cut}"
                );
            }
        }
    }
}
