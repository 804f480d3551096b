//! A person's private key, for decrypting their own mail: an OpenPGP secret key, a PEM or
//! DER private key (PKCS#8, encrypted PKCS#8, PKCS#1, SEC1) with or without its certificate,
//! or a PKCS#12 bundle.
//!
//! Secret material stays inside OpenSSL, which clears a private key's components when it
//! frees them, and Sequoia, which keeps secret key material in its `Protected` (encrypted
//! in memory, wiped on drop). Our own copy, the password, is `Zeroizing`. The bytes given to
//! [`PrivateKey::from_bytes`] are parsed where they are, without copies of ours (PEM blocks
//! are slices of them; OpenSSL decodes PEM, PKCS#8 and PKCS#12 itself, in its own buffers;
//! Sequoia reads OpenPGP keys): wiping that buffer is the caller's part. `Debug` never shows
//! secrets.

use std::fmt;
use std::sync::OnceLock;

use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use sequoia_openpgp as openpgp;
use sequoia_openpgp::packet::Key;
use sequoia_openpgp::packet::key::{SecretParts, UnspecifiedRole};
use zeroize::Zeroizing;

use crate::error::{DecryptError, Error};
use crate::key::openpgp_read::{BinaryKind, first_packet_kind};
use crate::key::pem;
use crate::key::x509::X509Cert;

/// A private key that can decrypt mail encrypted at rest.
///
/// ```
/// use mailseal_core::PrivateKey;
/// let key = PrivateKey::from_bytes(include_bytes!("../../../examples/keys/alice.sec.asc"), None)?;
/// assert!(format!("{key:?}").contains("redacted"));
/// # Ok::<(), mailseal_core::Error>(())
/// ```
pub struct PrivateKey {
    pub(crate) inner: Inner,
}

pub(crate) enum Inner {
    /// An OpenPGP key with secret material, and the password for protected secret keys.
    OpenPgp {
        cert: Box<openpgp::Cert>,
        password: Option<Zeroizing<String>>,
        /// The secret keys, unlocked on first use (a password's S2K is run once, not for
        /// every message).
        unlocked: OnceLock<Vec<Unlocked>>,
    },
    /// An S/MIME private key and, when it was given, its certificate.
    Smime {
        key: PKey<Private>,
        cert: Option<Box<X509Cert>>,
    },
}

/// An unlocked OpenPGP secret key, and a place for its OpenSSL RSA form: `pgp::pkesk` makes
/// it on first use, and the key's Montgomery forms and blinding then serve every later
/// message (about 1 ms of each RSA-3072 PKESK otherwise). Dropped, and wiped, with the
/// [`PrivateKey`].
pub(crate) struct Unlocked {
    pub(crate) key: Key<SecretParts, UnspecifiedRole>,
    pub(crate) rsa: OnceLock<Option<Rsa<Private>>>,
}

impl Unlocked {
    pub(crate) fn new(key: Key<SecretParts, UnspecifiedRole>) -> Self {
        Unlocked {
            key,
            rsa: OnceLock::new(),
        }
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.inner {
            Inner::OpenPgp { cert, .. } => format!("OpenPGP {}", cert.fingerprint()),
            Inner::Smime { .. } => "S/MIME".to_owned(),
        };
        write!(f, "PrivateKey({kind}, <redacted>)")
    }
}

fn bad(detail: impl fmt::Display) -> Error {
    DecryptError::PrivateKey {
        detail: detail.to_string(),
    }
    .into()
}

impl PrivateKey {
    /// Reads a private key. `password` unlocks protected keys (OpenPGP secret keys,
    /// encrypted PKCS#8, PKCS#12).
    ///
    /// `data` and `password` are borrowed: the copy of the password kept here is wiped when
    /// the key is dropped; `data` is not copied, so hold it in a buffer that wipes itself
    /// (e.g. [`Zeroizing`](crate::Zeroizing)) if it is secret.
    pub fn from_bytes(data: &[u8], password: Option<&str>) -> Result<Self, Error> {
        let password = password.map(|p| Zeroizing::new(p.to_owned()));
        let text_pgp = pem::has_blocks(data)
            && pem::blocks(data)
                .map_err(Error::from)?
                .iter()
                .any(|b| b.label.starts_with("PGP "));
        let binary_pgp = matches!(first_packet_kind(data), Some(BinaryKind::SecretKey));
        if text_pgp || binary_pgp {
            return Self::openpgp(data, password);
        }
        if pem::has_blocks(data) {
            return Self::pem(data, password.as_deref().map(String::as_str));
        }
        Self::der(data, password.as_deref().map(String::as_str))
    }

    fn openpgp(data: &[u8], password: Option<Zeroizing<String>>) -> Result<Self, Error> {
        use openpgp::parse::Parse;
        let cert = openpgp::Cert::from_bytes(data).map_err(bad)?;
        if !cert.is_tsk() {
            return Err(bad(
                "this is a public key; decrypting needs the secret key (gpg --export-secret-keys)",
            ));
        }
        Ok(PrivateKey {
            inner: Inner::OpenPgp {
                cert: Box::new(cert),
                password,
                unlocked: OnceLock::new(),
            },
        })
    }

    fn pem(data: &[u8], password: Option<&str>) -> Result<Self, Error> {
        let mut key = None;
        let mut cert = None;
        for block in pem::blocks(data)? {
            if block.label.contains("PRIVATE KEY") {
                let pass = password.unwrap_or_default().as_bytes();
                let k = PKey::private_key_from_pem_passphrase(&block.text, pass).map_err(|e| {
                    if block.label.starts_with("ENCRYPTED")
                        || block.text.windows(10).any(|w| w == b"Proc-Type:")
                    {
                        Error::from(DecryptError::WrongPassword)
                    } else {
                        bad(e)
                    }
                })?;
                key = Some(k);
            } else if block.label == "CERTIFICATE" && cert.is_none() {
                let der = ::pem::parse(&*block.text).map_err(bad)?.into_contents();
                cert = Some(Box::new(X509Cert::from_der(&der)?));
            }
        }
        let key = key.ok_or_else(|| bad("no private key found in the file"))?;
        Ok(PrivateKey {
            inner: Inner::Smime { key, cert },
        })
    }

    fn der(data: &[u8], password: Option<&str>) -> Result<Self, Error> {
        if let Ok(p12) = openssl::pkcs12::Pkcs12::from_der(data) {
            let parsed = p12
                .parse2(password.unwrap_or_default())
                .map_err(|_| Error::from(DecryptError::WrongPassword))?;
            let key = parsed
                .pkey
                .ok_or_else(|| bad("the PKCS#12 file holds no private key"))?;
            let cert = match parsed.cert {
                Some(c) => Some(Box::new(X509Cert::from_der(&c.to_der().map_err(bad)?)?)),
                None => None,
            };
            return Ok(PrivateKey {
                inner: Inner::Smime { key, cert },
            });
        }
        if let Ok(key) = PKey::private_key_from_der(data) {
            return Ok(PrivateKey {
                inner: Inner::Smime { key, cert: None },
            });
        }
        if let Some(pass) = password
            && let Ok(key) = PKey::private_key_from_pkcs8_passphrase(data, pass.as_bytes())
        {
            return Ok(PrivateKey {
                inner: Inner::Smime { key, cert: None },
            });
        }
        Err(bad(
            "not a private key (expected an OpenPGP secret key, PEM or DER PKCS#8, or PKCS#12)",
        ))
    }
}
