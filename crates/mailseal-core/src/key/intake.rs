//! Reading "my key" from whatever bytes a person has.
//!
//! Text: PEM certificates (one or many, any text around them), PEM PKCS#7 bundles, armored
//! OpenPGP keys (headers, CRLF, several blocks, keyrings, `PGP ARMORED FILE` as `gpg
//! --enarmor` writes it; indented or mail-quoted). Binary: DER certificates, DER or BER
//! PKCS#7 bundles, PKCS#12 files holding certificates only (and nothing encrypted), binary
//! OpenPGP keys and keyrings. Private keys of every kind (recognised by label and by
//! content), OpenPGP and X.509 mixed in one input, messages, signatures, requests and bare
//! public keys are refused with a [`KeyError`], with the same message in PEM and in DER.
//! OpenPGP keys of a version mailseal cannot read are left out of a keyring (and refused
//! when they are all there is).

use sequoia_openpgp::Cert;

use super::openpgp_read::{self, Skipped};
use super::x509::X509Cert;
use super::{pem, pkcs7, pkcs12, refuse_private};
use crate::error::{KeyError, PrivateKeyKind};

/// The largest input accepted, in bytes (4 MiB): far above any real certificate or keyring
/// a person uploads, low enough that hostile input cannot exhaust memory.
pub const MAX_INPUT_LEN: usize = 4 * 1024 * 1024;

/// Key material read from the input.
#[derive(Debug, Clone)]
pub(crate) enum Parsed {
    /// The certificates, and those left out (unsupported key versions).
    OpenPgp(Vec<Cert>, Vec<Skipped>),
    X509(Vec<X509Cert>),
}

/// Reads the input, deciding between OpenPGP and X.509.
pub(crate) fn read(data: &[u8]) -> Result<Parsed, KeyError> {
    if data.len() > MAX_INPUT_LEN {
        return Err(KeyError::TooLarge {
            size: data.len(),
            limit: MAX_INPUT_LEN,
        });
    }
    if data.iter().all(u8::is_ascii_whitespace) {
        return Err(KeyError::Empty);
    }
    if let Some(kind) = refuse_private::from_text(data) {
        return Err(KeyError::PrivateKey { kind });
    }
    if pem::has_blocks(data) {
        read_text(data)
    } else {
        read_binary(data)
    }
}

/// What a block label stands for.
enum Label {
    OpenPgpKey,
    Certificate,
    Pkcs7,
    Pkcs12,
    BarePublicKey,
    NotAKey(&'static str),
    Private(PrivateKeyKind),
    Other,
}

fn classify(label: &str) -> Label {
    if let Some(kind) = refuse_private::from_label(label) {
        return Label::Private(kind);
    }
    match label {
        // `gpg --enarmor` of a binary key; what it holds is told by its first packet.
        "PGP PUBLIC KEY BLOCK" | "PGP ARMORED FILE" => Label::OpenPgpKey,
        "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => Label::Certificate,
        "PKCS7" | "CMS" => Label::Pkcs7,
        "PKCS12" => Label::Pkcs12,
        "PUBLIC KEY" | "RSA PUBLIC KEY" => Label::BarePublicKey,
        "PGP MESSAGE" => Label::NotAKey(openpgp_read::MESSAGE),
        "PGP SIGNATURE" => Label::NotAKey(openpgp_read::SIGNATURE),
        "PGP SIGNED MESSAGE" => Label::NotAKey("an OpenPGP signed message"),
        "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => {
            Label::NotAKey("a certificate signing request")
        }
        "X509 CRL" => Label::NotAKey("a certificate revocation list"),
        _ => Label::Other,
    }
}

fn read_text(data: &[u8]) -> Result<Parsed, KeyError> {
    let blocks = pem::blocks(data)?;
    let labels: Vec<Label> = blocks.iter().map(|b| classify(b.label)).collect();

    // A private key anywhere refuses the whole input: it must never travel further.
    if let Some(kind) = labels.iter().find_map(|l| match l {
        Label::Private(k) => Some(*k),
        _ => None,
    }) {
        return Err(KeyError::PrivateKey { kind });
    }
    let has_pgp = labels.iter().any(|l| matches!(l, Label::OpenPgpKey));
    let has_x509 = labels
        .iter()
        .any(|l| matches!(l, Label::Certificate | Label::Pkcs7));
    if has_pgp && has_x509 {
        return Err(KeyError::Mixed);
    }

    // Blocks with other labels are looked into: a private key under any label is refused.
    for (block, label) in blocks.iter().zip(&labels) {
        if matches!(label, Label::Other)
            && let Ok(der) = pem_contents(&block.text)
            && let Some(kind) = refuse_private::from_der(&der)
        {
            return Err(KeyError::PrivateKey { kind });
        }
    }

    let mut pgp = openpgp_read::Certificates::default();
    let mut x509 = Vec::new();
    for (block, label) in blocks.iter().zip(&labels) {
        match label {
            Label::OpenPgpKey => {
                let found = openpgp_read::parse(&block.text)?;
                pgp.certs.extend(found.certs);
                pgp.skipped.extend(found.skipped);
            }
            Label::Certificate => {
                let der = pem_contents(&block.text)?;
                match X509Cert::from_der(&der) {
                    Ok(cert) => x509.push(cert),
                    Err(e) => return Err(refuse_private::from_der(&der).map_or(e, private)),
                }
            }
            Label::Pkcs7 => x509.extend(pkcs7::certificates(&pem_contents(&block.text)?)?),
            Label::Pkcs12 => x509.extend(pkcs12::certificates(&pem_contents(&block.text)?)?),
            _ => {}
        }
    }
    if !pgp.certs.is_empty() || !pgp.skipped.is_empty() {
        return openpgp(pgp);
    }
    if !x509.is_empty() {
        return Ok(Parsed::X509(x509));
    }
    for label in &labels {
        match label {
            Label::BarePublicKey => return Err(KeyError::BarePublicKey),
            Label::NotAKey(found) => return Err(KeyError::NotAKey { found }),
            _ => {}
        }
    }
    Err(KeyError::Unrecognized)
}

fn private(kind: PrivateKeyKind) -> KeyError {
    KeyError::PrivateKey { kind }
}

fn pem_contents(block: &[u8]) -> Result<Vec<u8>, KeyError> {
    ::pem::parse(block)
        .map(|p| p.into_contents())
        .map_err(|e| KeyError::Malformed {
            format: "PEM",
            detail: e.to_string(),
        })
}

/// The OpenPGP certificates read, duplicates merged; refused when every one was left out.
fn openpgp(found: openpgp_read::Certificates) -> Result<Parsed, KeyError> {
    let mut skipped: Vec<Skipped> = Vec::new();
    for s in found.skipped {
        if s.fingerprint.is_none() || !skipped.contains(&s) {
            skipped.push(s);
        }
    }
    if found.certs.is_empty()
        && let Some(s) = skipped.first()
    {
        return Err(KeyError::UnsupportedVersion { version: s.version });
    }
    Ok(Parsed::OpenPgp(
        openpgp_read::merge_duplicates(found.certs)?,
        skipped,
    ))
}

fn read_binary(data: &[u8]) -> Result<Parsed, KeyError> {
    match data.first() {
        Some(0x30) => read_der(data),
        // Secret keys, signatures and messages are refused by `parse`, each for what it is.
        Some(_) if openpgp_read::first_packet_kind(data).is_some() => {
            openpgp(openpgp_read::parse(data)?)
        }
        Some(_) => Err(KeyError::Unrecognized),
        None => Err(KeyError::Empty),
    }
}

/// DER (or BER) input: a certificate, a PKCS#7 bundle, a PKCS#12 file, or one of the
/// things refused with the same message as their PEM forms.
fn read_der(data: &[u8]) -> Result<Parsed, KeyError> {
    let cert_error = match X509Cert::from_embedded(data) {
        Ok(cert) => return Ok(Parsed::X509(vec![cert])),
        Err(e) => e,
    };
    if pkcs7::content(data).is_some_and(|c| c != pkcs7::Content::Other) {
        return Ok(Parsed::X509(pkcs7::certificates(data)?));
    }
    if let Some(kind) = refuse_private::from_der(data) {
        return Err(KeyError::PrivateKey { kind });
    }
    if pkcs12::is_pfx(data) {
        return Ok(Parsed::X509(pkcs12::certificates(data)?));
    }
    if <spki::SubjectPublicKeyInfoRef<'_> as der::Decode>::from_der(data).is_ok()
        || <pkcs1::RsaPublicKey<'_> as der::Decode>::from_der(data).is_ok()
    {
        return Err(KeyError::BarePublicKey);
    }
    if <x509_cert::request::CertReq as der::Decode>::from_der(data).is_ok() {
        return Err(KeyError::NotAKey {
            found: "a certificate signing request",
        });
    }
    if is_crl(data) {
        return Err(KeyError::NotAKey {
            found: "a certificate revocation list",
        });
    }
    // Other PKCS#7 content, or a damaged bundle or PKCS#12 file: named as what it is.
    if pkcs7::content(data).is_some() || pkcs7::looks_like(data) {
        return Ok(Parsed::X509(pkcs7::certificates(data)?));
    }
    if pkcs12::looks_like(data) {
        return Ok(Parsed::X509(pkcs12::certificates(data)?));
    }
    Err(cert_error)
}

/// Whether `data` has the outline of a CRL (RFC 5280 §5.1): `SEQUENCE { tbsCertList
/// SEQUENCE { version INTEGER OPTIONAL, signature AlgorithmIdentifier, issuer Name,
/// thisUpdate Time, … }, signatureAlgorithm, signatureValue BIT STRING }`. (The
/// `x509-cert` crate's CertificateList wants a version, which version 1 CRLs leave out.)
fn is_crl(data: &[u8]) -> bool {
    let Ok(crl) = crate::ber::read_all(data) else {
        return false;
    };
    let Ok(fields) = crl.children() else {
        return false;
    };
    let tags: Vec<u8> = fields.iter().map(|f| f.tag).collect();
    let Some(tbs) = fields.first().filter(|_| tags == [0x30, 0x30, 0x03]) else {
        return false;
    };
    let Ok(tbs) = tbs.children() else {
        return false;
    };
    let tags: Vec<u8> = tbs.iter().map(|f| f.tag).collect();
    let tags = tags.strip_prefix(&[0x02]).unwrap_or(&tags);
    matches!(tags, [0x30, 0x30, 0x17 | 0x18, ..])
}
