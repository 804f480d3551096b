//! X.509 certificates as S/MIME encryption recipients (RFC 5280, RFC 8550 §4.4, RFC 8551).
//!
//! Rules (crypto-notes §5.1): end-entity certificates are the recipients; CA certificates are
//! kept as the chain (except a lone self-signed one made for e-mail, see
//! [`X509Cert::is_self_made_for_mail`]). keyUsage must allow keyEncipherment (RSA) or
//! keyAgreement (EC, X25519) when present; extendedKeyUsage must allow emailProtection when
//! present; no critical extension may be unknown (RFC 5280 §4.2); the validity window must
//! contain the evaluation time (dates before 1970 included); RSA from 2048 to 8192 bits; RSA,
//! EC P-256/P-384/P-521 and X25519 keys only. MD2, MD4, MD5 and SHA-1 signatures (also
//! RSASSA-PSS with SHA-1), self-signed certificates and a missing address are warnings.

use std::sync::OnceLock;
use std::time::SystemTime;

use der::asn1::ObjectIdentifier;
use der::{Decode, Encode};
use openssl::pkey::{Id, PKey, Public};
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName};

use super::fingerprint::Fingerprint;
use super::policy::Policy;
use super::problem::{Problem, ProblemCode, day};
use crate::ber;
use crate::error::KeyError;

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const RSAES_OAEP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.7");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const SECP521R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const X25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.110");
const X448: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.111");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const ED448: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.113");
const DSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10040.4.1");
const EMAIL_ADDRESS_ATTR: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1");
const KP_EMAIL_PROTECTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.4");
const ANY_EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37.0");
/// Signature algorithms considered broken: MD2, MD4, MD5 and SHA-1 with RSA, DSA and ECDSA
/// (with the old OIW numbers too). RSASSA-PSS names its hash in its parameters: see
/// [`pss_hash`].
const WEAK_SIGNATURES: &[(&str, ObjectIdentifier)] = &[
    ("MD2", ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.2")),
    ("MD4", ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.3")),
    ("MD5", ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.4")),
    ("MD5", ObjectIdentifier::new_unwrap("1.3.14.3.2.3")),
    (
        "SHA-1",
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5"),
    ),
    ("SHA-1", ObjectIdentifier::new_unwrap("1.3.14.3.2.29")),
    ("SHA-1", ObjectIdentifier::new_unwrap("1.2.840.10040.4.3")),
    ("SHA-1", ObjectIdentifier::new_unwrap("1.3.14.3.2.27")),
    ("SHA-1", ObjectIdentifier::new_unwrap("1.2.840.10045.4.1")),
];
/// Broken hashes as RSASSA-PSS parameters name them (RFC 4055 §3.1).
const WEAK_HASHES: &[(&str, ObjectIdentifier)] = &[
    ("MD2", ObjectIdentifier::new_unwrap("1.2.840.113549.2.2")),
    ("MD5", ObjectIdentifier::new_unwrap("1.2.840.113549.2.5")),
    ("SHA-1", ObjectIdentifier::new_unwrap("1.3.14.3.2.26")),
];
/// The extensions this program recognises (RFC 5280 §4.2: a certificate with a critical
/// extension not among them must be rejected): those of RFC 5280 §4.2.1 and §4.2.2, the
/// Netscape certificate type and S/MIME capabilities (RFC 8551 §2.5.2). Only basic
/// constraints, key usage, extended key usage and the alternative name change what mailseal
/// does; the others are about building and checking chains, which a recipient key upload
/// does not do, or about other uses than e-mail encryption.
const KNOWN_EXTENSIONS: &[ObjectIdentifier] = &[
    ObjectIdentifier::new_unwrap("2.5.29.9"), // subjectDirectoryAttributes
    ObjectIdentifier::new_unwrap("2.5.29.14"), // subjectKeyIdentifier
    ObjectIdentifier::new_unwrap("2.5.29.15"), // keyUsage
    ObjectIdentifier::new_unwrap("2.5.29.17"), // subjectAltName
    ObjectIdentifier::new_unwrap("2.5.29.18"), // issuerAltName
    ObjectIdentifier::new_unwrap("2.5.29.19"), // basicConstraints
    ObjectIdentifier::new_unwrap("2.5.29.30"), // nameConstraints
    ObjectIdentifier::new_unwrap("2.5.29.31"), // cRLDistributionPoints
    ObjectIdentifier::new_unwrap("2.5.29.32"), // certificatePolicies
    ObjectIdentifier::new_unwrap("2.5.29.33"), // policyMappings
    ObjectIdentifier::new_unwrap("2.5.29.35"), // authorityKeyIdentifier
    ObjectIdentifier::new_unwrap("2.5.29.36"), // policyConstraints
    ObjectIdentifier::new_unwrap("2.5.29.37"), // extKeyUsage
    ObjectIdentifier::new_unwrap("2.5.29.46"), // freshestCRL
    ObjectIdentifier::new_unwrap("2.5.29.54"), // inhibitAnyPolicy
    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.1"), // authorityInfoAccess
    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.11"), // subjectInfoAccess
    ObjectIdentifier::new_unwrap("2.16.840.1.113730.1.1"), // Netscape certificate type
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.15"), // sMIMECapabilities
];

/// The public key inside a certificate, as far as encryption cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyAlgorithm {
    /// RSA with the modulus size in bits.
    Rsa(u32),
    /// EC on a NIST curve.
    Ec(Curve),
    /// X25519 (RFC 8410).
    X25519,
    /// Anything else, with a name for people.
    Unsupported(&'static str),
}

/// The NIST curves S/MIME key agreement supports (RFC 5753).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Curve {
    P256,
    P384,
    P521,
}

impl KeyAlgorithm {
    pub(crate) fn describe(&self) -> String {
        match self {
            KeyAlgorithm::Rsa(bits) => format!("RSA {bits}"),
            KeyAlgorithm::Ec(Curve::P256) => "EC P-256".into(),
            KeyAlgorithm::Ec(Curve::P384) => "EC P-384".into(),
            KeyAlgorithm::Ec(Curve::P521) => "EC P-521".into(),
            KeyAlgorithm::X25519 => "X25519".into(),
            KeyAlgorithm::Unsupported(name) => (*name).into(),
        }
    }
}

/// A parsed certificate that keeps its DER encoding.
#[derive(Debug, Clone)]
pub(crate) struct X509Cert {
    der: Vec<u8>,
    cert: Certificate,
    /// The validity window, when a date of it lies before 1970 (see [`early_dates`]).
    early: Option<Validity>,
    /// The public key as OpenSSL holds it, read on first use (see [`X509Cert::openssl_public`]).
    public: OnceLock<PKey<Public>>,
}

/// The validity window as read from the DER, for dates the `der` crate cannot represent.
#[derive(Debug, Clone, Copy)]
struct Validity {
    not_before: SystemTime,
    not_after: SystemTime,
}

impl X509Cert {
    /// Parses one DER certificate.
    pub(crate) fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let error = match Certificate::from_der(der) {
            Ok(cert) => {
                return Ok(X509Cert {
                    der: der.to_vec(),
                    cert,
                    early: None,
                    public: OnceLock::new(),
                });
            }
            Err(e) => e,
        };
        // The `der` crate reads dates from 1970 on only; RFC 5280 UTCTime goes back to 1950.
        if let Some((patched, validity)) = early_dates(der)
            && let Ok(cert) = Certificate::from_der(&patched)
        {
            return Ok(X509Cert {
                der: der.to_vec(),
                cert,
                early: Some(validity),
                public: OnceLock::new(),
            });
        }
        Err(KeyError::Malformed {
            format: "X.509 certificate",
            detail: error.to_string(),
        })
    }

    /// Parses a certificate taken out of a larger structure (PKCS#7, PKCS#12), which may be
    /// BER-encoded: DER as it is, otherwise its DER re-encoding.
    pub(crate) fn from_embedded(encoded: &[u8]) -> Result<Self, KeyError> {
        match X509Cert::from_der(encoded) {
            Ok(cert) => Ok(cert),
            Err(e) => match ber::to_der(encoded) {
                Ok(der) if der != encoded => X509Cert::from_der(&der),
                _ => Err(e),
            },
        }
    }

    /// The issuer and serial number that identify this certificate in CMS (RFC 5652 §10.2.4).
    pub(crate) fn issuer_and_serial(&self) -> cms::cert::IssuerAndSerialNumber {
        cms::cert::IssuerAndSerialNumber {
            issuer: self.cert.tbs_certificate.issuer.clone(),
            serial_number: self.cert.tbs_certificate.serial_number.clone(),
        }
    }

    /// The public key for OpenSSL, read once per certificate.
    ///
    /// OpenSSL 3's generic SubjectPublicKeyInfo decoder takes about 0.2 ms a call, several
    /// times the RSA-3072 operation itself; the per-type readers used here take a few µs.
    pub(crate) fn openssl_public(&self) -> Result<PKey<Public>, KeyError> {
        if let Some(key) = self.public.get() {
            return Ok(key.clone());
        }
        let malformed = |detail: String| KeyError::Malformed {
            format: "certificate public key",
            detail,
        };
        let spki = self.spki_der().map_err(|e| malformed(e.to_string()))?;
        let read = || -> Result<PKey<Public>, openssl::error::ErrorStack> {
            match self.key_algorithm() {
                KeyAlgorithm::Rsa(_) => {
                    PKey::from_rsa(openssl::rsa::Rsa::public_key_from_der(&spki)?)
                }
                KeyAlgorithm::Ec(_) => {
                    PKey::from_ec_key(openssl::ec::EcKey::public_key_from_der(&spki)?)
                }
                KeyAlgorithm::X25519 => PKey::public_key_from_raw_bytes(
                    self.cert
                        .tbs_certificate
                        .subject_public_key_info
                        .subject_public_key
                        .raw_bytes(),
                    Id::X25519,
                ),
                KeyAlgorithm::Unsupported(_) => PKey::public_key_from_der(&spki),
            }
        };
        let key = read().map_err(|e| malformed(e.to_string()))?;
        let _ = self.public.set(key.clone());
        Ok(key)
    }

    /// The DER SubjectPublicKeyInfo.
    pub(crate) fn spki_der(&self) -> Result<Vec<u8>, der::Error> {
        self.cert.tbs_certificate.subject_public_key_info.to_der()
    }

    /// The DER encoding.
    pub(crate) fn der(&self) -> &[u8] {
        &self.der
    }

    pub(crate) fn sha256(&self) -> Fingerprint {
        Fingerprint::x509_sha256(&self.der)
    }

    pub(crate) fn sha1(&self) -> Fingerprint {
        Fingerprint::x509_sha1(&self.der)
    }

    pub(crate) fn subject(&self) -> String {
        self.cert.tbs_certificate.subject.to_string()
    }

    pub(crate) fn issuer(&self) -> String {
        self.cert.tbs_certificate.issuer.to_string()
    }

    /// The serial number as uppercase hex, as `openssl x509 -serial` prints it.
    pub(crate) fn serial_hex(&self) -> String {
        super::fingerprint::hex_upper(self.cert.tbs_certificate.serial_number.as_bytes())
    }

    pub(crate) fn not_before(&self) -> SystemTime {
        match self.early {
            Some(v) => v.not_before,
            None => self
                .cert
                .tbs_certificate
                .validity
                .not_before
                .to_system_time(),
        }
    }

    pub(crate) fn not_after(&self) -> SystemTime {
        match self.early {
            Some(v) => v.not_after,
            None => self
                .cert
                .tbs_certificate
                .validity
                .not_after
                .to_system_time(),
        }
    }

    /// Whether basicConstraints says this is a CA.
    pub(crate) fn is_ca(&self) -> bool {
        matches!(
            self.cert.tbs_certificate.get::<BasicConstraints>(),
            Ok(Some((_, BasicConstraints { ca: true, .. })))
        )
    }

    /// Whether subject and issuer are the same name.
    pub(crate) fn is_self_issued(&self) -> bool {
        self.cert.tbs_certificate.subject == self.cert.tbs_certificate.issuer
    }

    /// Whether this is the lone certificate a person made for themselves with
    /// `openssl req -x509`, which marks it as a CA by default: self-signed, for e-mail
    /// (extendedKeyUsage names emailProtection) and carrying an address. A real authority's
    /// certificate has no such usage restriction to e-mail or no address.
    pub(crate) fn is_self_made_for_mail(&self) -> bool {
        let for_mail = matches!(
            self.cert.tbs_certificate.get::<ExtendedKeyUsage>(),
            Ok(Some((_, eku))) if eku.0.contains(&KP_EMAIL_PROTECTION)
        );
        self.is_self_issued() && for_mail && !self.emails().is_empty()
    }

    /// The e-mail addresses in subjectAltName and in the subject's emailAddress attribute.
    pub(crate) fn emails(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Ok(Some((_, san))) = self.cert.tbs_certificate.get::<SubjectAltName>() {
            for name in san.0 {
                if let GeneralName::Rfc822Name(addr) = name {
                    out.push(addr.to_string());
                }
            }
        }
        for rdn in self.cert.tbs_certificate.subject.0.iter() {
            for atv in rdn.0.iter() {
                if atv.oid == EMAIL_ADDRESS_ATTR {
                    let value = der::asn1::Ia5StringRef::try_from(&atv.value)
                        .map(|s| s.to_string())
                        .or_else(|_| atv.value.decode_as::<String>());
                    if let Ok(v) = value
                        && !out.iter().any(|o: &String| o.eq_ignore_ascii_case(&v))
                    {
                        out.push(v);
                    }
                }
            }
        }
        out
    }

    /// The public key algorithm and size.
    pub(crate) fn key_algorithm(&self) -> KeyAlgorithm {
        let spki = &self.cert.tbs_certificate.subject_public_key_info;
        let oid = spki.algorithm.oid;
        if oid == RSA_ENCRYPTION {
            let bits = spki
                .subject_public_key
                .as_bytes()
                .and_then(|b| pkcs1::RsaPublicKey::from_der(b).ok())
                .map(|k| uint_bits(k.modulus.as_bytes()))
                .unwrap_or(0);
            KeyAlgorithm::Rsa(bits)
        } else if oid == EC_PUBLIC_KEY {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            match curve {
                Some(c) if c == SECP256R1 => KeyAlgorithm::Ec(Curve::P256),
                Some(c) if c == SECP384R1 => KeyAlgorithm::Ec(Curve::P384),
                Some(c) if c == SECP521R1 => KeyAlgorithm::Ec(Curve::P521),
                _ => KeyAlgorithm::Unsupported("EC on an unsupported curve"),
            }
        } else if oid == X25519 {
            KeyAlgorithm::X25519
        } else if oid == X448 {
            KeyAlgorithm::Unsupported("X448")
        } else if oid == ED25519 {
            KeyAlgorithm::Unsupported("Ed25519")
        } else if oid == ED448 {
            KeyAlgorithm::Unsupported("Ed448")
        } else if oid == RSASSA_PSS {
            KeyAlgorithm::Unsupported("RSASSA-PSS")
        } else if oid == RSAES_OAEP {
            KeyAlgorithm::Unsupported("RSAES-OAEP-only RSA")
        } else if oid == DSA {
            KeyAlgorithm::Unsupported("DSA")
        } else {
            KeyAlgorithm::Unsupported("an unknown algorithm")
        }
    }

    /// The name of a broken signature hash (MD2, MD4, MD5, SHA-1), if the certificate uses
    /// one, also as the hash of an RSASSA-PSS signature.
    fn weak_signature(&self) -> Option<&'static str> {
        let alg = &self.cert.signature_algorithm;
        if alg.oid == RSASSA_PSS {
            let hash = pss_hash(alg.parameters.as_ref())?;
            return WEAK_HASHES
                .iter()
                .find(|(_, o)| *o == hash)
                .map(|(name, _)| *name);
        }
        WEAK_SIGNATURES
            .iter()
            .find(|(_, o)| *o == alg.oid)
            .map(|(name, _)| *name)
    }

    /// The object identifiers of the critical extensions this program does not know.
    fn unknown_critical_extensions(&self) -> Vec<ObjectIdentifier> {
        let extensions = self.cert.tbs_certificate.extensions.as_deref();
        extensions
            .unwrap_or_default()
            .iter()
            .filter(|e| e.critical && !KNOWN_EXTENSIONS.contains(&e.extn_id))
            .map(|e| e.extn_id)
            .collect()
    }

    /// Checks this end-entity certificate as a recipient at `now`.
    pub(crate) fn check(&self, policy: &Policy, now: SystemTime) -> Vec<Problem> {
        let fpr = self.sha256().to_hex();
        let mut problems = Vec::new();
        let mut push = |p: Problem| problems.push(p.about(fpr.clone()));

        let (not_before, not_after) = (self.not_before(), self.not_after());
        if now < not_before {
            push(
                Problem::error(
                    ProblemCode::NotYetValid,
                    format!(
                        "the certificate is not valid before {}; wait until then or ask the \
                         issuer for a certificate that is valid now",
                        day(not_before)
                    ),
                )
                .on(not_before),
            );
        }
        if now > not_after {
            push(
                Problem::error(
                    ProblemCode::Expired,
                    format!(
                        "the certificate expired on {}; renew it with your certificate \
                         provider and upload the new one",
                        day(not_after)
                    ),
                )
                .on(not_after),
            );
        } else if now + policy.expiry_warning() > not_after {
            push(
                Problem::warning(
                    ProblemCode::ExpiresSoon,
                    format!(
                        "the certificate expires on {}; after that, new mail cannot be \
                         encrypted to it: renew it in time",
                        day(not_after)
                    ),
                )
                .on(not_after),
            );
        }

        let alg = self.key_algorithm();
        match alg {
            KeyAlgorithm::Rsa(bits) if bits < policy.min_rsa_bits() => push(Problem::error(
                ProblemCode::RsaTooSmall,
                format!(
                    "the RSA key has only {bits} bits; at least {} are needed to be secure: \
                     get a new certificate with a larger key",
                    policy.min_rsa_bits()
                ),
            )),
            KeyAlgorithm::Rsa(bits) if bits > policy.max_rsa_bits() => push(Problem::error(
                ProblemCode::RsaTooLarge,
                format!(
                    "the RSA key has {bits} bits; more than {} are not accepted",
                    policy.max_rsa_bits()
                ),
            )),
            KeyAlgorithm::Unsupported(name) => push(Problem::error(
                ProblemCode::UnsupportedAlgorithm,
                format!(
                    "the certificate's key is {name}, which cannot be used to encrypt mail; \
                     S/MIME encryption needs an RSA, EC (P-256, P-384, P-521) or X25519 key"
                ),
            )),
            KeyAlgorithm::Ec(_) | KeyAlgorithm::X25519 => push(Problem::warning(
                ProblemCode::EcLimitedSupport,
                format!(
                    "the certificate has an {} key: mail encrypted to it opens only in \
                     OpenSSL-based programs (not Thunderbird, Outlook or KMail), and Stalwart \
                     0.16 cannot encrypt to it at all; an RSA certificate or an OpenPGP key \
                     works everywhere",
                    alg.describe()
                ),
            )),
            KeyAlgorithm::Rsa(_) => {}
        }

        match self.cert.tbs_certificate.get::<KeyUsage>() {
            Ok(Some((_, ku))) => match alg {
                KeyAlgorithm::Rsa(_) if !ku.key_encipherment() => push(Problem::error(
                    ProblemCode::MissingKeyEncipherment,
                    "the certificate's key usage does not allow encryption (keyEncipherment \
                     is missing), so mail cannot be encrypted to it; it is probably a \
                     signing-only certificate: use your encryption certificate",
                )),
                KeyAlgorithm::Ec(_) | KeyAlgorithm::X25519 if !ku.key_agreement() => {
                    push(Problem::error(
                        ProblemCode::MissingKeyAgreement,
                        "the certificate's key usage does not allow key agreement \
                         (keyAgreement is missing), so mail cannot be encrypted to it; it is \
                         probably a signing-only certificate: use your encryption certificate",
                    ))
                }
                _ => {}
            },
            Ok(None) => {}
            Err(e) => push(Problem::error(
                ProblemCode::PolicyRejected,
                format!("the certificate's key usage extension is damaged: {e}"),
            )),
        }

        match self.cert.tbs_certificate.get::<ExtendedKeyUsage>() {
            Ok(Some((_, eku))) => {
                let ok = eku
                    .0
                    .iter()
                    .any(|o| *o == KP_EMAIL_PROTECTION || *o == ANY_EXTENDED_KEY_USAGE);
                if !ok {
                    push(Problem::error(
                        ProblemCode::MissingEmailProtection,
                        "the certificate is not meant for e-mail (its extended key usage \
                         lacks emailProtection); get an S/MIME (e-mail) certificate",
                    ));
                }
            }
            Ok(None) => {}
            Err(e) => push(Problem::error(
                ProblemCode::PolicyRejected,
                format!("the certificate's extended key usage extension is damaged: {e}"),
            )),
        }

        for oid in self.unknown_critical_extensions() {
            push(Problem::error(
                ProblemCode::UnknownCriticalExtension,
                format!(
                    "the certificate carries a rule marked as mandatory that mailseal does not \
                     know (extension {oid}), so it must not be used; get a standard S/MIME \
                     certificate"
                ),
            ));
        }

        if let Some(hash) = self.weak_signature() {
            push(Problem::warning(
                ProblemCode::WeakCertificateSignature,
                format!(
                    "the certificate is signed with {hash}, which is broken; encryption still \
                     works, but mail programs may distrust it: ask for a new certificate"
                ),
            ));
        }

        if self.is_self_issued() {
            push(Problem::warning(
                ProblemCode::SelfSigned,
                "the certificate is self-signed: fine for encrypting your own mail at rest, \
                 but other people's programs will not trust it",
            ));
        }

        let emails = self.emails();
        if !policy.email_matches(emails.iter().map(String::as_str)) {
            let want = policy.email().unwrap_or_default();
            let has = if emails.is_empty() {
                "no address".to_owned()
            } else {
                emails.join(", ")
            };
            push(Problem::warning(
                ProblemCode::EmailMismatch,
                format!("the certificate is for {has}, not {want}; check that it is yours"),
            ));
        }

        problems
    }
}

/// The hash of RSASSA-PSS parameters (RFC 4055 §3.1): `hashAlgorithm [0]`, SHA-1 when absent
/// (also when the parameters are absent or NULL, where every field takes its default).
/// `None` when the parameters cannot be read.
fn pss_hash(params: Option<&der::Any>) -> Option<ObjectIdentifier> {
    const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
    let params = match params {
        None => return Some(SHA1),
        Some(p) if der::Tagged::tag(p) == der::Tag::Null => return Some(SHA1),
        Some(p) => p.to_der().ok()?,
    };
    let seq = ber::read_all(&params).ok()?;
    let fields = seq.children().ok()?;
    let Some(hash) = fields.iter().find(|f| f.tag == 0xa0) else {
        return Some(SHA1);
    };
    let alg = hash.children().ok()?;
    let alg = alg.first()?.children().ok()?;
    ObjectIdentifier::from_der(alg.first()?.raw).ok()
}

/// For a certificate whose validity has a date before 1970, which the `der` crate cannot
/// represent (it reads UTCTime 50–69, which RFC 5280 §4.1.2.5.1 makes 1950–1969, as an
/// error): the DER with each such date replaced by 1970-01-01 in the same encoding and
/// length, and the real validity window. `None` if no date is before 1970, or the
/// certificate's outline cannot be read; then the `der` crate's error stands.
///
/// Only well-formed dates are replaced (`YYMMDDHHMMSSZ`, `YYYYMMDDHHMMSSZ`, a real calendar
/// day and time), so everything else is still checked by the `der` crate, on the patched copy.
fn early_dates(der: &[u8]) -> Option<(Vec<u8>, Validity)> {
    let cert = ber::read_all(der).ok()?;
    let tbs = cert.children().ok()?.into_iter().next()?;
    let mut fields = tbs.children().ok()?.into_iter().peekable();
    // [0] version (optional), serialNumber, signature, issuer, validity.
    fields.next_if(|f| f.tag == 0xa0);
    let validity = fields.nth(3)?;
    let times = validity.children().ok()?;
    let [not_before, not_after] = times.as_slice() else {
        return None;
    };
    let mut patched = der.to_vec();
    let mut any = false;
    let mut read = |t: &ber::Tlv<'_>| -> Option<SystemTime> {
        let (when, early) = read_time(t)?;
        if early {
            let placeholder: &[u8] = match t.tag {
                0x17 => b"700101000000Z",
                _ => b"19700101000000Z",
            };
            let start = (t.content.as_ptr() as usize).checked_sub(der.as_ptr() as usize)?;
            patched
                .get_mut(start..start + placeholder.len())?
                .copy_from_slice(placeholder);
            any = true;
        }
        Some(when)
    };
    let window = Validity {
        not_before: read(not_before)?,
        not_after: read(not_after)?,
    };
    any.then_some((patched, window))
}

/// A UTCTime (tag 0x17) or GeneralizedTime (0x18) in RFC 5280's form, and whether it lies
/// before 1970.
fn read_time(t: &ber::Tlv<'_>) -> Option<(SystemTime, bool)> {
    let digits = |s: &[u8]| -> Option<u16> {
        s.iter().try_fold(0u16, |acc, b| {
            b.is_ascii_digit().then(|| acc * 10 + u16::from(b - b'0'))
        })
    };
    let (year, rest) = match (t.tag, t.content) {
        (0x17, [y @ .., b'Z']) if y.len() == 12 => {
            let yy = digits(y.get(..2)?)?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, y.get(2..)?)
        }
        (0x18, [y @ .., b'Z']) if y.len() == 14 => (digits(y.get(..4)?)?, y.get(4..)?),
        _ => return None,
    };
    let field = |i: usize| -> Option<u8> { u8::try_from(digits(rest.get(i..i + 2)?)?).ok() };
    let month = ::time::Month::try_from(field(0)?).ok()?;
    let date = ::time::Date::from_calendar_date(i32::from(year), month, field(2)?).ok()?;
    let time = ::time::Time::from_hms(field(4)?, field(6)?, field(8)?).ok()?;
    let seconds = ::time::PrimitiveDateTime::new(date, time)
        .assume_utc()
        .unix_timestamp();
    let when = crate::time::from_unix_seconds(seconds).ok()?;
    Some((when, year < 1970))
}

/// The number of significant bits of a big-endian unsigned integer.
fn uint_bits(bytes: &[u8]) -> u32 {
    let mut iter = bytes.iter().skip_while(|b| **b == 0);
    match iter.next() {
        None => 0,
        Some(first) => {
            let rest = u32::try_from(iter.count()).unwrap_or(u32::MAX / 16);
            rest * 8 + (8 - first.leading_zeros())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uint_bits_counts_significant_bits() {
        assert_eq!(uint_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(uint_bits(&[0x01]), 1);
        assert_eq!(uint_bits(&[]), 0);
        assert_eq!(uint_bits(&[0, 0]), 0);
    }
}
