//! A person's key as read ([`RecipientKey`]) and as validated for encryption ([`Recipients`]).

use std::time::SystemTime;

use sequoia_openpgp as openpgp;

use super::fingerprint::Fingerprint;
use super::intake::{self, Parsed};
use super::openpgp as pgp;
use super::openpgp_read::Skipped;
use super::policy::Policy;
use super::problem::{Problem, ProblemCode};
use super::report::{
    CertificateDetails, CertificateReport, CertificateRole, KeyFormat, KeyReport, ServerSupport,
    X509Details,
};
use super::x509::X509Cert;
use crate::error::{EncryptError, Error, describe_key_version};

/// Key material read from a person's upload: OpenPGP certificates or X.509 certificates.
///
/// Reading never checks whether the key is any good; [`RecipientKey::inspect`] and
/// [`RecipientKey::validate`] do, under an explicit [`Policy`].
///
/// ```
/// use mailseal_core::{KeyFormat, Policy, RecipientKey};
///
/// let key = RecipientKey::from_bytes(include_bytes!("../../../../examples/keys/alice.pub.asc"))?;
/// assert_eq!(key.format(), KeyFormat::OpenPgp);
/// let report = key.inspect(&Policy::standard().with_email("alice@example.org"));
/// assert!(report.usable);
/// assert_eq!(report.fingerprints(), ["5D0FF481F8F86AF58893C65388E4B12B1581017E"]);
/// # Ok::<(), mailseal_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct RecipientKey {
    parsed: Parsed,
}

/// Recipients that passed validation: the only thing encryption accepts.
///
/// ```
/// use mailseal_core::{Policy, RecipientKey};
///
/// let key = RecipientKey::from_bytes(include_bytes!("../../../../examples/keys/alice.crt.pem"))?;
/// let recipients = key.validate(&Policy::standard())?;
/// assert_eq!(recipients.report().fingerprints().len(), 1);
/// # Ok::<(), mailseal_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Recipients {
    report: KeyReport,
    pub(crate) keys: RecipientKeys,
}

#[derive(Debug, Clone)]
pub(crate) enum RecipientKeys {
    /// Certificates with the fingerprints of the keys to encrypt to.
    OpenPgp(Vec<(openpgp::Cert, Vec<openpgp::Fingerprint>)>),
    X509(Vec<X509Cert>),
}

impl RecipientKey {
    /// Reads a key from bytes in any supported format (see the crate docs).
    ///
    /// Fails with a [`KeyError`](crate::KeyError) for private keys, mixed or unrecognised
    /// input, damaged data, empty input and input over [`MAX_INPUT_LEN`](crate::MAX_INPUT_LEN).
    pub fn from_bytes(data: &[u8]) -> Result<Self, Error> {
        Ok(RecipientKey {
            parsed: intake::read(data)?,
        })
    }

    /// OpenPGP or X.509.
    pub fn format(&self) -> KeyFormat {
        match self.parsed {
            Parsed::OpenPgp(..) => KeyFormat::OpenPgp,
            Parsed::X509(_) => KeyFormat::X509,
        }
    }

    /// How many certificates were read.
    pub fn certificate_count(&self) -> usize {
        match &self.parsed {
            Parsed::OpenPgp(c, _) => c.len(),
            Parsed::X509(c) => c.len(),
        }
    }

    /// Checks the key under `policy` and reports everything found. Never fails: an unusable
    /// key gives a report with `usable == false` and the reasons as problems.
    pub fn inspect(&self, policy: &Policy) -> KeyReport {
        self.evaluate(policy).0
    }

    /// Checks the key under `policy` and returns the recipients to encrypt to, or
    /// [`Error::Unusable`] with the reasons.
    pub fn validate(&self, policy: &Policy) -> Result<Recipients, Error> {
        let (report, keys) = self.evaluate(policy);
        if report.usable {
            Ok(Recipients { report, keys })
        } else {
            let errors: Vec<&Problem> = report.errors().collect();
            Err(Error::Unusable {
                codes: errors.iter().map(|p| p.code.as_str()).collect(),
                reasons: errors.iter().map(|p| p.message.clone()).collect(),
            })
        }
    }

    fn evaluate(&self, policy: &Policy) -> (KeyReport, RecipientKeys) {
        let policy = policy.pinned();
        let now = policy.time();
        let (format, certificates, mut problems, keys) = match &self.parsed {
            Parsed::OpenPgp(certs, skipped) => {
                let (c, p, k) = evaluate_openpgp(certs, skipped, &policy, now);
                (KeyFormat::OpenPgp, c, p, RecipientKeys::OpenPgp(k))
            }
            Parsed::X509(certs) => {
                let (c, p, k) = evaluate_x509(certs, &policy, now);
                (KeyFormat::X509, c, p, RecipientKeys::X509(k))
            }
        };
        problems.sort_by_key(|p| p.severity);
        let recipients = certificates
            .iter()
            .filter(|c| c.role == CertificateRole::Recipient);
        let usable = recipients.clone().next().is_some();
        let expires = recipients.filter_map(|c| c.expires).min();
        let report = KeyReport {
            format,
            usable,
            server: ServerSupport::judge(usable, &problems),
            certificates,
            problems,
            expires,
            evaluated_at: now,
        };
        (report, keys)
    }
}

impl Recipients {
    /// The validation report the recipients came from.
    pub fn report(&self) -> &KeyReport {
        &self.report
    }

    /// OpenPGP or X.509.
    pub fn format(&self) -> KeyFormat {
        self.report.format
    }

    /// The recipients as the text form a Stalwart server accepts for a public key: PEM
    /// `CERTIFICATE` blocks of the end-entity certificates only (no chain, no text around
    /// them), or one ASCII-armored OpenPGP public key block without armor headers (Stalwart
    /// rejects `Comment:` and `Version:` lines). LF line ends.
    ///
    /// Fails only if Sequoia cannot serialize a key it read, with `encrypt.backend`.
    ///
    /// ```
    /// use mailseal_core::{Policy, RecipientKey};
    /// let key = RecipientKey::from_bytes(include_bytes!("../../../../examples/keys/alice.pub.asc"))?;
    /// let text = key.validate(&Policy::standard())?.to_upload_text()?;
    /// assert!(text.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n"));
    /// assert!(!text.contains("Comment:"));
    /// # Ok::<(), mailseal_core::Error>(())
    /// ```
    pub fn to_upload_text(&self) -> Result<String, Error> {
        use sequoia_openpgp::serialize::Serialize;
        match &self.keys {
            RecipientKeys::X509(certs) => Ok(certs
                .iter()
                .map(|c| {
                    ::pem::encode_config(
                        &::pem::Pem::new("CERTIFICATE", c.der().to_vec()),
                        ::pem::EncodeConfig::new().set_line_ending(::pem::LineEnding::LF),
                    )
                })
                .collect()),
            RecipientKeys::OpenPgp(certs) => {
                // Writing into memory fails only if Sequoia does: `encrypt.backend`.
                let backend = |e: &dyn std::fmt::Display| -> Error {
                    EncryptError::Backend {
                        detail: e.to_string(),
                    }
                    .into()
                };
                let mut out = Vec::new();
                {
                    let mut w = sequoia_openpgp::armor::Writer::with_headers(
                        &mut out,
                        sequoia_openpgp::armor::Kind::PublicKey,
                        Vec::<(&str, &str)>::new(),
                    )
                    .map_err(|e| backend(&e))?;
                    for (cert, _) in certs {
                        cert.serialize(&mut w).map_err(|e| backend(&e))?;
                    }
                    w.finalize().map_err(|e| backend(&e))?;
                }
                String::from_utf8(out).map_err(|e| backend(&e))
            }
        }
    }

    /// How many certificates will be encrypted to.
    pub fn certificate_count(&self) -> usize {
        match &self.keys {
            RecipientKeys::X509(c) => c.len(),
            RecipientKeys::OpenPgp(c) => c.len(),
        }
    }
}

type Evaluated<K> = (Vec<CertificateReport>, Vec<Problem>, Vec<K>);

/// Which of `n` certificates to consider, given each one's addresses: all of them, unless an
/// address is asked for and there is more than one to choose from.
fn select(policy: &Policy, emails: &[Vec<String>]) -> (Vec<bool>, Option<Problem>) {
    let all = vec![true; emails.len()];
    let Some(want) = policy.email() else {
        return (all, None);
    };
    if emails.len() < 2 {
        return (all, None);
    }
    let chosen: Vec<bool> = emails
        .iter()
        .map(|e| policy.email_matches(e.iter().map(String::as_str)))
        .collect();
    if chosen.iter().any(|c| *c) {
        (chosen, None)
    } else {
        let problem = Problem::error(
            ProblemCode::NoCertificateForEmail,
            format!(
                "none of the {} certificates belongs to {want}; check the address or export \
                 the right key",
                emails.len()
            ),
        );
        (vec![false; emails.len()], Some(problem))
    }
}

fn evaluate_openpgp(
    certs: &[openpgp::Cert],
    skipped: &[Skipped],
    policy: &Policy,
    now: SystemTime,
) -> Evaluated<(openpgp::Cert, Vec<openpgp::Fingerprint>)> {
    let emails: Vec<Vec<String>> = certs.iter().map(pgp::emails).collect();
    let (chosen, selection_problem) = select(policy, &emails);
    let mut problems: Vec<Problem> = selection_problem.into_iter().collect();
    let mut reports = Vec::new();
    let mut keys = Vec::new();
    for (cert, chosen) in certs.iter().zip(chosen) {
        let eval = pgp::evaluate(cert, policy, now);
        let usable = chosen && eval.usable();
        if chosen {
            problems.extend(eval.problems.iter().cloned());
        }
        if usable {
            keys.push((cert.clone(), eval.encryption_keys.clone()));
        }
        reports.push(CertificateReport {
            role: if usable {
                CertificateRole::Recipient
            } else {
                CertificateRole::Unused
            },
            fingerprint: Fingerprint::from(&cert.fingerprint()),
            expires: eval.expires,
            details: CertificateDetails::OpenPgp(eval.details),
        });
    }
    problems.extend(skipped.iter().map(skipped_problem));
    (reports, problems, keys)
}

/// The warning for a certificate left out of the input (see [`Skipped`]).
fn skipped_problem(s: &Skipped) -> Problem {
    let what = describe_key_version(s.version);
    let why = match s.version {
        2 | 3 => "which current OpenPGP software no longer accepts",
        _ => "which mailseal cannot read",
    };
    let p = Problem::warning(
        ProblemCode::CertificateSkipped,
        format!("one of the keys is {what}, {why}; it was left out, and the other keys are used"),
    );
    match &s.fingerprint {
        Some(f) => p.about(f.clone()),
        None => p,
    }
}

fn evaluate_x509(certs: &[X509Cert], policy: &Policy, now: SystemTime) -> Evaluated<X509Cert> {
    // End-entity certificates are the recipients, CA certificates the chain; except a lone
    // self-signed CA certificate made for e-mail, which is its owner's own certificate.
    let self_made = match certs {
        [only] if only.is_ca() && only.is_self_made_for_mail() => Some(only),
        _ => None,
    };
    let is_leaf = |c: &X509Cert| !c.is_ca() || self_made.is_some();
    let leaves: Vec<&X509Cert> = certs.iter().filter(|c| is_leaf(c)).collect();
    let mut problems = Vec::new();
    if let Some(cert) = self_made {
        problems.push(
            Problem::warning(
                ProblemCode::SelfSignedCa,
                "the certificate is marked as a certificate authority (as `openssl req -x509` \
                 does unless told otherwise); as it is the only one given, self-signed and made \
                 for e-mail, it is read as your own certificate, but some mail programs may \
                 refuse it: a certificate made with basicConstraints CA:FALSE avoids that",
            )
            .about(cert.sha256().to_hex()),
        );
    }
    if leaves.is_empty() {
        let problem = Problem::error(
            ProblemCode::CaNotEndEntity,
            "only certificate-authority certificates were given; mail is encrypted to your \
             own (end-entity) certificate, not to the authority that issued it: upload your \
             personal S/MIME certificate",
        );
        problems.push(problem);
    }
    let emails: Vec<Vec<String>> = leaves.iter().map(|c| c.emails()).collect();
    let (chosen, selection_problem) = select(policy, &emails);
    problems.extend(selection_problem);

    let mut reports = Vec::new();
    let mut keys = Vec::new();
    let mut chosen = chosen.into_iter();
    for cert in certs {
        let role = if !is_leaf(cert) {
            CertificateRole::Chain
        } else if chosen.next().unwrap_or(false) {
            let found = cert.check(policy, now);
            let usable = !found.iter().any(Problem::is_error);
            problems.extend(found);
            if usable {
                keys.push(cert.clone());
                CertificateRole::Recipient
            } else {
                CertificateRole::Unused
            }
        } else {
            CertificateRole::Unused
        };
        reports.push(CertificateReport {
            role,
            fingerprint: cert.sha256(),
            expires: (role == CertificateRole::Recipient).then(|| cert.not_after()),
            details: CertificateDetails::X509(X509Details {
                subject: cert.subject(),
                issuer: cert.issuer(),
                serial: cert.serial_hex(),
                not_before: cert.not_before(),
                not_after: cert.not_after(),
                key_algorithm: cert.key_algorithm().describe(),
                emails: cert.emails(),
                sha1: cert.sha1(),
                is_ca: cert.is_ca(),
            }),
        });
    }
    (reports, problems, keys)
}
