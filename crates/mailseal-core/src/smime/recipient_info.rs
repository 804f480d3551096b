//! CMS RecipientInfo structures: how the content-encryption key reaches each certificate.
//!
//! - RSA: KeyTransRecipientInfo (RFC 5652 §6.2.1) with PKCS#1 v1.5 (`rsaEncryption`) or
//!   RSAES-OAEP with SHA-256 and MGF1-SHA-256 (RFC 8017, RFC 4055).
//! - EC P-256/P-384/P-521: KeyAgreeRecipientInfo (RFC 5753 §3.1) with ephemeral-static ECDH,
//!   the ANSI X9.63 KDF (`dhSinglePass-stdDH-sha{256,384,512}kdf-scheme`) and AES key wrap.
//! - X25519: the same structure with an X25519 originator key (RFC 8418).

use std::cell::RefCell;

use cms::cert::IssuerAndSerialNumber;
use cms::content_info::CmsVersion;
use cms::enveloped_data::{
    KeyAgreeRecipientIdentifier, KeyAgreeRecipientInfo, KeyTransRecipientInfo,
    OriginatorIdentifierOrKey, OriginatorPublicKey, RecipientEncryptedKey, RecipientIdentifier,
    RecipientInfo, RecipientInfos,
};
use der::asn1::{BitString, ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Encode};
use openssl::derive::Deriver;
use openssl::ec::{EcGroup, EcKey, PointConversionForm};
use openssl::md::Md;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Public};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::Padding;
use sha2::Digest as _;
use spki::AlgorithmIdentifierOwned;
use zeroize::Zeroizing;

use crate::error::EncryptError;
use crate::kept::with_kept;
use crate::key::x509::{Curve, KeyAlgorithm, X509Cert};

pub(crate) const RSA_ENCRYPTION: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
pub(crate) const RSAES_OAEP: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.7");
pub(crate) const ID_SHA256: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
pub(crate) const ID_MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");
pub(crate) const EC_PUBLIC_KEY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
pub(crate) const X25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.110");
pub(crate) const STD_DH_SHA256_KDF: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.132.1.11.1");
pub(crate) const STD_DH_SHA384_KDF: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.132.1.11.2");
pub(crate) const STD_DH_SHA512_KDF: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.132.1.11.3");
pub(crate) const STD_DH_SHA1_KDF: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.133.16.840.63.0.2");
pub(crate) const AES128_WRAP: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.5");
pub(crate) const AES256_WRAP: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.45");

/// Built RecipientInfos, and whether any of them is a KeyAgreeRecipientInfo (which makes
/// EnvelopedData version 2, RFC 5652 §6.1).
pub(crate) struct Built {
    pub(crate) der: Vec<u8>,
    pub(crate) has_kari: bool,
}

/// Builds the RecipientInfos for `certs`, each carrying `cek`.
pub(crate) fn build(certs: &[X509Cert], cek: &[u8], oaep: bool) -> Result<Built, EncryptError> {
    let mut infos = Vec::new();
    let mut has_kari = false;
    for cert in certs {
        let rid = cert.issuer_and_serial();
        let public = || cert.openssl_public().map_err(backend);
        let info = match cert.key_algorithm() {
            KeyAlgorithm::Rsa(_) => ktri(cert, rid, cek, oaep)?,
            KeyAlgorithm::Ec(curve) => {
                has_kari = true;
                kari(&public()?, Agreement::Ec(curve), rid, cek)?
            }
            KeyAlgorithm::X25519 => {
                has_kari = true;
                kari(&public()?, Agreement::X25519, rid, cek)?
            }
            other @ KeyAlgorithm::Unsupported(_) => {
                return Err(EncryptError::UnsupportedRecipient {
                    key: other.describe(),
                });
            }
        };
        infos.push(info);
    }
    let set = SetOfVec::try_from(infos).map_err(backend)?;
    let der = RecipientInfos(set).to_der().map_err(backend)?;
    Ok(Built { der, has_kari })
}

pub(crate) fn backend(e: impl std::fmt::Display) -> EncryptError {
    EncryptError::Backend {
        detail: e.to_string(),
    }
}

/// `AlgorithmIdentifier { sha256, NULL }`.
fn sha256_alg() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: ID_SHA256,
        parameters: Some(Any::null()),
    }
}

/// RSAES-OAEP-params with SHA-256 and MGF1-SHA-256 (RFC 4055 §4.1), the pSource default.
pub(crate) fn oaep_sha256_params() -> Result<Any, der::Error> {
    let hash = sha256_alg().to_der()?;
    let mgf = AlgorithmIdentifierOwned {
        oid: ID_MGF1,
        parameters: Some(Any::encode_from(&sha256_alg())?),
    }
    .to_der()?;
    let mut body = explicit(0, &hash);
    body.extend(explicit(1, &mgf));
    <Any as der::Decode>::from_der(&tlv(0x30, &body))
}

fn ktri(
    cert: &X509Cert,
    rid: IssuerAndSerialNumber,
    cek: &[u8],
    oaep: bool,
) -> Result<RecipientInfo, EncryptError> {
    let key_enc_alg = if oaep {
        AlgorithmIdentifierOwned {
            oid: RSAES_OAEP,
            parameters: Some(oaep_sha256_params().map_err(backend)?),
        }
    } else {
        AlgorithmIdentifierOwned {
            oid: RSA_ENCRYPTION,
            parameters: Some(Any::null()),
        }
    };
    Ok(RecipientInfo::Ktri(KeyTransRecipientInfo {
        version: CmsVersion::V0,
        rid: RecipientIdentifier::IssuerAndSerialNumber(rid),
        key_enc_alg,
        enc_key: OctetString::new(rsa_encrypt(cert, cek, oaep)?).map_err(backend)?,
    }))
}

/// A certificate (its DER) and whether its context pads with OAEP, and the context.
type KeptContext = ((Vec<u8>, bool), PkeyCtx<Public>);

thread_local! {
    /// RSA encryption contexts, set up and ready, for the last certificates this thread
    /// encrypted to ([`KEPT`](crate::kept::KEPT) of them). Setting one up makes OpenSSL 3 fetch
    /// the padding's algorithms (name lookups under a process-wide lock) and touch the key
    /// that every thread shares; with a kept one, messages on two threads no longer meet there.
    static RSA_CONTEXTS: RefCell<Vec<KeptContext>> = const { RefCell::new(Vec::new()) };
}

/// A context encrypting to `public` with PKCS #1 v1.5, or with RSAES-OAEP, SHA-256 and
/// MGF1-SHA-256.
fn rsa_context(public: &PKey<Public>, oaep: bool) -> Result<PkeyCtx<Public>, EncryptError> {
    let mut ctx = PkeyCtx::new(public).map_err(backend)?;
    ctx.encrypt_init().map_err(backend)?;
    if oaep {
        ctx.set_rsa_padding(Padding::PKCS1_OAEP).map_err(backend)?;
        ctx.set_rsa_oaep_md(Md::sha256()).map_err(backend)?;
        ctx.set_rsa_mgf1_md(Md::sha256()).map_err(backend)?;
    } else {
        ctx.set_rsa_padding(Padding::PKCS1).map_err(backend)?;
    }
    Ok(ctx)
}

/// `cek` encrypted to the RSA key of `cert`, with a context this thread kept if it has one.
fn rsa_encrypt(cert: &X509Cert, cek: &[u8], oaep: bool) -> Result<Vec<u8>, EncryptError> {
    RSA_CONTEXTS.with_borrow_mut(|kept| {
        with_kept(
            kept,
            |(der, o)| *o == oaep && der.as_slice() == cert.der(),
            || {
                let public = cert.openssl_public().map_err(backend)?;
                Ok(((cert.der().to_vec(), oaep), rsa_context(&public, oaep)?))
            },
            |ctx| {
                let mut out = vec![0u8; ctx.encrypt(cek, None).map_err(backend)?];
                let n = ctx.encrypt(cek, Some(&mut out)).map_err(backend)?;
                out.truncate(n);
                Ok(out)
            },
        )
    })
}

/// The key-agreement flavour of a recipient.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Agreement {
    Ec(Curve),
    X25519,
}

impl Agreement {
    /// The X9.63 KDF scheme and its hash, by curve strength (RFC 5753 §7.1.4, RFC 8418 §2).
    pub(crate) fn kdf(&self) -> (ObjectIdentifier, KdfHash) {
        match self {
            Agreement::Ec(Curve::P384) => (STD_DH_SHA384_KDF, KdfHash::Sha384),
            Agreement::Ec(Curve::P521) => (STD_DH_SHA512_KDF, KdfHash::Sha512),
            Agreement::Ec(Curve::P256) | Agreement::X25519 => (STD_DH_SHA256_KDF, KdfHash::Sha256),
        }
    }
}

/// Hashes the X9.63 KDF can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KdfHash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

fn kari(
    public: &PKey<Public>,
    agreement: Agreement,
    rid: IssuerAndSerialNumber,
    cek: &[u8],
) -> Result<RecipientInfo, EncryptError> {
    // The key-wrap algorithm follows the content key size.
    let (wrap_oid, kek_len) = if cek.len() <= 16 {
        (AES128_WRAP, 16)
    } else {
        (AES256_WRAP, 32)
    };
    let (kdf_oid, hash) = agreement.kdf();

    let (ephemeral, originator_alg, originator_pub) = match agreement {
        Agreement::Ec(curve) => {
            let nid = match curve {
                Curve::P256 => Nid::X9_62_PRIME256V1,
                Curve::P384 => Nid::SECP384R1,
                Curve::P521 => Nid::SECP521R1,
            };
            let group = EcGroup::from_curve_name(nid).map_err(backend)?;
            let key = EcKey::generate(&group).map_err(backend)?;
            let mut ctx = openssl::bn::BigNumContext::new().map_err(backend)?;
            let point = key
                .public_key()
                .to_bytes(&group, PointConversionForm::UNCOMPRESSED, &mut ctx)
                .map_err(backend)?;
            (
                PKey::from_ec_key(key).map_err(backend)?,
                EC_PUBLIC_KEY,
                point,
            )
        }
        Agreement::X25519 => {
            let key = PKey::generate_x25519().map_err(backend)?;
            let raw = key.raw_public_key().map_err(backend)?;
            (key, X25519, raw)
        }
    };
    let mut deriver = Deriver::new(&ephemeral).map_err(backend)?;
    deriver.set_peer(public).map_err(backend)?;
    let shared = Zeroizing::new(deriver.derive_to_vec().map_err(backend)?);
    let kek = x963_kdf(hash, &shared, &shared_info(wrap_oid, kek_len)?, kek_len);
    let aes = openssl::aes::AesKey::new_encrypt(&kek)
        .map_err(|_| backend("cannot set up AES key wrap"))?;
    let mut wrapped = vec![0u8; cek.len() + 8];
    openssl::aes::wrap_key(&aes, None, &mut wrapped, cek)
        .map_err(|_| backend("AES key wrap failed"))?;

    let wrap_alg = AlgorithmIdentifierOwned {
        oid: wrap_oid,
        parameters: None,
    };
    Ok(RecipientInfo::Kari(KeyAgreeRecipientInfo {
        version: CmsVersion::V3,
        originator: OriginatorIdentifierOrKey::OriginatorKey(OriginatorPublicKey {
            algorithm: AlgorithmIdentifierOwned {
                oid: originator_alg,
                parameters: None,
            },
            public_key: BitString::from_bytes(&originator_pub).map_err(backend)?,
        }),
        ukm: None,
        key_enc_alg: AlgorithmIdentifierOwned {
            oid: kdf_oid,
            parameters: Some(Any::encode_from(&wrap_alg).map_err(backend)?),
        },
        recipient_enc_keys: vec![RecipientEncryptedKey {
            rid: KeyAgreeRecipientIdentifier::IssuerAndSerialNumber(rid),
            enc_key: OctetString::new(wrapped).map_err(backend)?,
        }],
    }))
}

/// DER `ECC-CMS-SharedInfo` (RFC 5753 §7.2) without user keying material.
pub(crate) fn shared_info(
    wrap_oid: ObjectIdentifier,
    kek_len: usize,
) -> Result<Vec<u8>, EncryptError> {
    let key_info = AlgorithmIdentifierOwned {
        oid: wrap_oid,
        parameters: None,
    }
    .to_der()
    .map_err(backend)?;
    let bits = u32::try_from(kek_len * 8).unwrap_or(256).to_be_bytes();
    let mut body = key_info;
    body.extend(explicit(2, &tlv(0x04, &bits)));
    Ok(tlv(0x30, &body))
}

/// ANSI X9.63 KDF (SEC 1 §3.6.1): `Hash(Z || counter || SharedInfo)` blocks, truncated.
pub(crate) fn x963_kdf(hash: KdfHash, z: &[u8], info: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(len + 64));
    let mut counter: u32 = 1;
    while out.len() < len {
        let c = counter.to_be_bytes();
        match hash {
            KdfHash::Sha1 => out.extend(
                sha1::Sha1::new()
                    .chain_update(z)
                    .chain_update(c)
                    .chain_update(info)
                    .finalize(),
            ),
            KdfHash::Sha256 => out.extend(
                sha2::Sha256::new()
                    .chain_update(z)
                    .chain_update(c)
                    .chain_update(info)
                    .finalize(),
            ),
            KdfHash::Sha384 => out.extend(
                sha2::Sha384::new()
                    .chain_update(z)
                    .chain_update(c)
                    .chain_update(info)
                    .finalize(),
            ),
            KdfHash::Sha512 => out.extend(
                sha2::Sha512::new()
                    .chain_update(z)
                    .chain_update(c)
                    .chain_update(info)
                    .finalize(),
            ),
        }
        counter += 1;
    }
    out.truncate(len);
    out
}

/// A DER TLV with a short tag.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = header(tag, content.len());
    out.extend_from_slice(content);
    out
}

/// `[n] EXPLICIT` around already-encoded content.
pub(crate) fn explicit(n: u8, encoded: &[u8]) -> Vec<u8> {
    tlv(0xa0 | n, encoded)
}

/// A DER tag and definite length.
pub(crate) fn header(tag: u8, len: usize) -> Vec<u8> {
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_rsa_contexts_encrypt_what_the_private_key_opens() {
        use openssl::pkey::PKey;
        let pem = include_bytes!("../../../../examples/keys/alice.crt.pem");
        let cert = X509Cert::from_der(
            &openssl::x509::X509::from_pem(pem)
                .unwrap()
                .to_der()
                .unwrap(),
        )
        .unwrap();
        let private =
            PKey::private_key_from_pem(include_bytes!("../../../../examples/keys/alice.key.pem"))
                .unwrap();
        let open = |enc: &[u8], oaep: bool| {
            let mut ctx = PkeyCtx::new(&private).unwrap();
            ctx.decrypt_init().unwrap();
            if oaep {
                ctx.set_rsa_padding(Padding::PKCS1_OAEP).unwrap();
                ctx.set_rsa_oaep_md(Md::sha256()).unwrap();
                ctx.set_rsa_mgf1_md(Md::sha256()).unwrap();
            } else {
                ctx.set_rsa_padding(Padding::PKCS1).unwrap();
            }
            let mut out = vec![0u8; 512];
            let n = ctx.decrypt(enc, Some(&mut out)).unwrap();
            out.truncate(n);
            out
        };
        RSA_CONTEXTS.with_borrow_mut(Vec::clear);
        for (i, oaep) in [true, true, false, true, false].into_iter().enumerate() {
            let cek = [i as u8; 32];
            let first = rsa_encrypt(&cert, &cek, oaep).unwrap();
            let second = rsa_encrypt(&cert, &cek, oaep).unwrap();
            // Randomised padding: a kept context does not repeat itself.
            assert_ne!(first, second);
            assert_eq!(open(&first, oaep), cek);
            assert_eq!(open(&second, oaep), cek);
        }
        // One context per padding.
        assert_eq!(RSA_CONTEXTS.with_borrow(Vec::len), 2);
    }

    #[test]
    fn der_lengths() {
        assert_eq!(header(0x04, 5), [0x04, 5]);
        assert_eq!(header(0x04, 200), [0x04, 0x81, 200]);
        assert_eq!(header(0x30, 0x1234), [0x30, 0x82, 0x12, 0x34]);
    }

    #[test]
    fn x963_kdf_matches_sec1_test_vector() {
        // ANSI X9.63 KDF with SHA-256, from NIST CAVS (KDF135 X9.63, first SHA-256 case).
        let z = hex("96c05619d56c328ab95fe84b18264b08725b85e33fd34f08");
        let out = x963_kdf(KdfHash::Sha256, &z, &[], 16);
        assert_eq!(
            out.as_slice(),
            hex("443024c3dae66b95e6f5670601558f71").as_slice()
        );
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }
}
