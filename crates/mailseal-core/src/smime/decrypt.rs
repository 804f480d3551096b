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
use crate::ber::{self, Tlv};
use crate::decryption_key::{Inner, PrivateKey};
use crate::error::{DecryptError, Error};
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

/// Decrypts a DER/BER CMS ContentInfo holding (Auth)EnvelopedData with `key`, into a buffer
/// that is wiped when dropped.
pub(crate) fn decrypt(der: &[u8], key: &PrivateKey) -> Result<Zeroizing<Vec<u8>>, Error> {
    let Inner::Smime { key, cert } = &key.inner else {
        return Err(DecryptError::NoMatchingKey.into());
    };
    Ok(open(der, key, cert.as_deref())?)
}

/// Decrypts a DER/BER CMS ContentInfo holding (Auth)EnvelopedData.
fn open(
    der: &[u8],
    key: &PKey<Private>,
    cert: Option<&X509Cert>,
) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
    let (ci, _) = ber::read(der)?;
    let ci = ci.children()?;
    let content_type = oid_of(ci.first().ok_or_else(|| malformed("empty ContentInfo"))?)?;
    let auth = if content_type == ID_ENVELOPED_DATA {
        false
    } else if content_type == ID_AUTH_ENVELOPED_DATA {
        true
    } else {
        return Err(DecryptError::NotEncrypted);
    };
    let explicit = ci
        .get(1)
        .ok_or_else(|| malformed("ContentInfo without content"))?;
    let body = explicit
        .children()?
        .into_iter()
        .next()
        .ok_or_else(|| malformed("empty content"))?;
    let fields = body.children()?;
    // version, [0] originatorInfo?, recipientInfos, (auth)EncryptedContentInfo, ...
    let mut it = fields.iter().skip(1).peekable();
    if it.peek().is_some_and(|t| t.tag == 0xa0) {
        it.next();
    }
    let recipient_infos = it.next().ok_or_else(|| malformed("no recipientInfos"))?;
    let eci = it
        .next()
        .ok_or_else(|| malformed("no encryptedContentInfo"))?;
    let mut auth_attrs = None;
    let mut mac = None;
    for t in it {
        match t.tag {
            0xa1 => auth_attrs = Some(*t),
            0x04 if auth => mac = Some(t.octets()?),
            _ => {}
        }
    }

    let eci = eci.children()?;
    let alg_tlv = eci
        .get(1)
        .ok_or_else(|| malformed("no content encryption algorithm"))?;
    let alg = AlgorithmIdentifierOwned::from_der(alg_tlv.raw)
        .map_err(|_| malformed("bad content encryption algorithm"))?;
    let ciphertext = match eci.get(2) {
        Some(t) if t.tag & 0xdf == 0x80 => t.octets()?,
        _ => {
            return Err(malformed(
                "no encrypted content (detached content is not supported)",
            ));
        }
    };
    let content = ContentAlg::from_identifier(&alg)?;

    let cek = recover_cek(recipient_infos, key, cert, content.key_len())?;
    let aad = match auth_attrs {
        // RFC 5083 §2.2: the AAD is the DER of authAttrs with the SET OF tag.
        Some(attrs) => {
            let mut a = attrs.raw.to_vec();
            if let Some(first) = a.first_mut() {
                *first = 0x31;
            }
            a
        }
        None => Vec::new(),
    };
    content.decrypt(&cek, &ciphertext, mac.as_deref(), &aad)
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

    fn decrypt(
        &self,
        cek: &[u8],
        ciphertext: &[u8],
        mac: Option<&[u8]>,
        aad: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
        let integrity = |_| DecryptError::Integrity;
        let mut c = Crypter::new(self.cipher, Mode::Decrypt, cek, Some(&self.iv))
            .map_err(|_| malformed("bad key or IV length"))?;
        if self.aead {
            let tag = mac.ok_or_else(|| malformed("authenticated data without MAC"))?;
            c.set_tag(tag).map_err(integrity)?;
            if !aad.is_empty() {
                c.aad_update(aad).map_err(integrity)?;
            }
        }
        // The plaintext, also when it fails the integrity check: wiped however this ends.
        let mut out = Zeroizing::new(vec![0u8; ciphertext.len() + self.cipher.block_size()]);
        let mut n = c.update(ciphertext, &mut out).map_err(integrity)?;
        n += c
            .finalize(out.get_mut(n..).unwrap_or_default())
            .map_err(integrity)?;
        out.truncate(n);
        Ok(out)
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
        let Ok(info) = RecipientInfo::from_der(child.raw) else {
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
