//! OpenPGP certificates as encryption recipients (RFC 9580, crypto-notes §5.2).
//!
//! Certificates (read by [`super::openpgp_read`]) are checked under Sequoia's
//! `StandardPolicy` at the evaluation time. A certificate is usable when it is valid under the
//! policy, alive, not revoked, and has at least one alive, unrevoked, supported subkey with
//! the transport- or storage-encryption flag. When it is not, the problem says which of these
//! failed, in words; an algorithm or curve that is not accepted is named as the cause, before
//! the policy's own verdict (which Sequoia words as a missing binding signature).
//!
//! The facts shown per key (expiry, capabilities) come from the same binding signatures the
//! verdict uses: the ones valid under the policy at the evaluation time, not merely the newest.

use std::collections::HashSet;
use std::time::SystemTime;

use sequoia_openpgp as openpgp;

use openpgp::Cert;
use openpgp::cert::prelude::*;
use openpgp::packet::Signature;
use openpgp::policy::{AsymmetricAlgorithm, StandardPolicy};
use openpgp::types::{Curve, HashAlgorithm, KeyFlags, PublicKeyAlgorithm, RevocationStatus};

use super::fingerprint::Fingerprint;
use super::openpgp_read::error_chain;
use super::policy::Policy;
use super::problem::{Problem, ProblemCode, day};
use super::report::{KeyDetails, OpenPgpDetails};

/// The outcome of checking one certificate.
pub(crate) struct Evaluation {
    pub(crate) problems: Vec<Problem>,
    /// The keys that will be encrypted to; empty when the certificate is unusable.
    pub(crate) encryption_keys: Vec<openpgp::Fingerprint>,
    pub(crate) expires: Option<SystemTime>,
    pub(crate) details: OpenPgpDetails,
}

impl Evaluation {
    pub(crate) fn usable(&self) -> bool {
        !self.encryption_keys.is_empty() && !self.problems.iter().any(Problem::is_error)
    }
}

/// The e-mail addresses of a certificate's user IDs.
pub(crate) fn emails(cert: &Cert) -> Vec<String> {
    cert.userids()
        .filter_map(|ua| ua.userid().email().ok().flatten().map(str::to_owned))
        .collect()
}

/// Checks one certificate as a recipient at `now`.
pub(crate) fn evaluate(cert: &Cert, policy: &Policy, now: SystemTime) -> Evaluation {
    let standard = StandardPolicy::at(now);
    let fpr = cert.fingerprint();
    let fpr_hex = fpr.to_hex();
    let mut problems = Vec::new();
    let mut encryption_keys = Vec::new();
    let mut expires = None;
    let mut seipdv2 = false;

    let valid = cert.with_policy(&standard, now);
    match &valid {
        Err(e) => problems.push(diagnose_invalid_cert(cert, now, e)),
        Ok(vc) => {
            seipdv2 = vc.features().is_some_and(|f| f.supports_seipdv2());
            let primary_expiry = vc.primary_key().key_expiration_time();
            if let RevocationStatus::Revoked(_) = vc.revocation_status() {
                problems.push(Problem::error(
                    ProblemCode::Revoked,
                    "the key has been revoked by its owner and must not be used any more; \
                     use your current key",
                ));
            } else if vc.alive().is_err() {
                match primary_expiry {
                    Some(t) if t <= now => problems.push(
                        Problem::error(
                            ProblemCode::Expired,
                            format!(
                                "the key expired on {}; extend it with `gpg --quick-set-expire \
                                 {fpr_hex} 2y` (and the same with '*' for its subkeys), then \
                                 export it again",
                                day(t)
                            ),
                        )
                        .on(t),
                    ),
                    _ => problems.push(Problem::error(
                        ProblemCode::NotYetValid,
                        format!(
                            "the key was created in the future ({}); check your computer's clock",
                            day(vc.primary_key().key().creation_time())
                        ),
                    )),
                }
            } else {
                let (keys, mut subkey_problems) = encryption_keys_of(cert, vc, policy, now);
                if keys.is_empty() {
                    problems.append(&mut subkey_problems);
                } else {
                    // Encryption works as long as one encryption subkey is alive.
                    let subkey_expiry = if keys.iter().any(|(_, exp, _)| exp.is_none()) {
                        None
                    } else {
                        keys.iter().filter_map(|(_, exp, _)| *exp).max()
                    };
                    expires = match (primary_expiry, subkey_expiry) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    if !keys.iter().any(|(_, _, transport)| *transport) {
                        problems.push(Problem::warning(
                            ProblemCode::StorageOnlySubkey,
                            "the encryption subkey is marked for storage only: mailseal can \
                             encrypt to it, but Stalwart 0.16 only uses subkeys marked for \
                             communication (transport) and will refuse this key",
                        ));
                    }
                    encryption_keys = keys.into_iter().map(|(f, _, _)| f).collect();
                }
                if let Some(t) = expires
                    && !encryption_keys.is_empty()
                    && now + policy.expiry_warning() > t
                {
                    problems.push(
                        Problem::warning(
                            ProblemCode::ExpiresSoon,
                            format!(
                                "the key expires on {}; after that, new mail cannot be \
                                 encrypted to it: extend it with `gpg --quick-set-expire \
                                 {fpr_hex} 2y '*'` and upload it again",
                                day(t)
                            ),
                        )
                        .on(t),
                    );
                }
            }
            if cert.primary_key().key().version() == 6 {
                problems.push(Problem::warning(
                    ProblemCode::V6Key,
                    "this is an OpenPGP v6 key: GnuPG 2.2 and 2.4 cannot use it, so mail \
                     encrypted to it opens only in newer programs (Sequoia, RNP, GnuPG 2.5)",
                ));
            } else if seipdv2 && !encryption_keys.is_empty() {
                problems.push(Problem::warning(
                    ProblemCode::Seipdv2Preferred,
                    "the key asks for the new SEIPDv2 encryption format: Stalwart will then \
                     store mail that GnuPG 2.2 cannot decrypt; mailseal writes the classic \
                     format unless told otherwise",
                ));
            }
        }
    }

    if !policy.email_matches(emails(cert).iter().map(String::as_str)) {
        problems.push(Problem::warning(
            ProblemCode::EmailMismatch,
            format!(
                "none of the key's user IDs carries {}; check that it is yours",
                policy.email().unwrap_or_default()
            ),
        ));
    }

    for p in &mut problems {
        if p.subject.is_none() {
            p.subject = Some(fpr_hex.clone());
        }
    }
    let used: HashSet<&openpgp::Fingerprint> = encryption_keys.iter().collect();
    let details = details(cert, valid.as_ref().ok(), &standard, now, seipdv2, &used);
    Evaluation {
        problems,
        encryption_keys,
        expires,
        details,
    }
}

/// The usable encryption keys of a valid, live, unrevoked certificate, each with its expiry
/// and whether it has the transport flag; or the problems explaining why there are none.
type EncryptionKeys = Vec<(openpgp::Fingerprint, Option<SystemTime>, bool)>;

fn encryption_keys_of(
    cert: &Cert,
    vc: &ValidCert<'_>,
    policy: &Policy,
    now: SystemTime,
) -> (EncryptionKeys, Vec<Problem>) {
    let supported: HashSet<openpgp::Fingerprint> = vc
        .keys()
        .supported()
        .map(|ka| ka.key().fingerprint())
        .collect();
    let mut usable = Vec::new();
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    for ka in vc.keys() {
        let transport = ka.for_transport_encryption();
        if !transport && !ka.for_storage_encryption() {
            continue;
        }
        let fp = ka.key().fingerprint();
        seen.insert(fp.clone());
        let sub = fp.to_hex();
        if let RevocationStatus::Revoked(_) = ka.revocation_status() {
            problems.push(
                Problem::error(
                    ProblemCode::EncryptionSubkeyRevoked,
                    "the encryption subkey has been revoked; add a new encryption subkey \
                     (`gpg --quick-add-key FINGERPRINT default encr`) and export the key again",
                )
                .about(sub),
            );
        } else if ka.alive().is_err() {
            let exp = ka.key_expiration_time();
            let when = exp.map(day).unwrap_or_else(|| "an unknown date".into());
            let mut p = Problem::error(
                ProblemCode::EncryptionSubkeyExpired,
                format!(
                    "the encryption subkey expired on {when}; extend it with `gpg \
                     --quick-set-expire {} 2y '*'` and export the key again",
                    cert.fingerprint().to_hex()
                ),
            )
            .about(sub);
            if let Some(t) = exp {
                p = p.on(t);
            }
            problems.push(p);
        } else if !supported.contains(&fp) || curve_of(ka.key()).is_some_and(|c| !c.is_supported())
        {
            // Sequoia's `supported()` looks at the algorithm only, not at the curve.
            let why = algorithm_refusal(ka.key(), now)
                .unwrap_or_else(|| format!("{}, which mailseal cannot use", algorithm(ka.key())));
            problems.push(subkey_algorithm_problem(cert, &why).about(sub));
        } else if let Some(p) = rsa_size_problem(ka.key(), policy) {
            problems.push(p.about(sub));
        } else {
            usable.push((fp, ka.key_expiration_time(), transport));
        }
    }
    if usable.is_empty() && problems.is_empty() {
        // No encryption-capable key is valid under the policy. Look at the raw keys to say why.
        for ka in cert.keys() {
            let fp = ka.key().fingerprint();
            if seen.contains(&fp) {
                continue;
            }
            let Some(sig) = ka.self_signatures().next() else {
                continue;
            };
            let flags = sig.key_flags().unwrap_or_else(KeyFlags::empty);
            if !(flags.for_transport_encryption() || flags.for_storage_encryption()) {
                continue;
            }
            let sub = fp.to_hex();
            let detail = ka
                .with_policy(&StandardPolicy::at(now), now)
                .err()
                .map(|e| error_chain(&e));
            let p = if sig.hash_algo() == HashAlgorithm::SHA1 {
                sha1_problem(cert)
            } else if let Some(p) = rsa_size_problem(ka.key(), policy) {
                p
            } else if let Some(why) = algorithm_refusal(ka.key(), now) {
                subkey_algorithm_problem(cert, &why)
            } else {
                Problem::error(
                    ProblemCode::PolicyRejected,
                    "current OpenPGP software does not accept the signature that binds the \
                     encryption subkey to the key; add a new encryption subkey",
                )
            };
            let p = p.about(sub);
            problems.push(match detail {
                Some(d) => p.with_detail(d),
                None => p,
            });
        }
        if problems.is_empty() {
            problems.push(Problem::error(
                ProblemCode::NoEncryptionKey,
                "the key can only sign, not encrypt: it has no encryption subkey; add one \
                 (`gpg --quick-add-key FINGERPRINT default encr`) and export the key again",
            ));
        }
    }
    (usable, problems)
}

/// An encryption subkey whose algorithm is not accepted, `why` naming it.
fn subkey_algorithm_problem(cert: &Cert, why: &str) -> Problem {
    Problem::error(
        ProblemCode::UnsupportedAlgorithm,
        format!(
            "the encryption subkey uses {why}; add a new encryption subkey (`gpg \
             --quick-add-key {} cv25519 encr`) and export the key again",
            cert.fingerprint().to_hex()
        ),
    )
}

/// Says why a certificate is not valid under the standard policy at all.
fn diagnose_invalid_cert(cert: &Cert, now: SystemTime, e: &openpgp::anyhow::Error) -> Problem {
    let mut relaxed = StandardPolicy::at(now);
    relaxed.accept_hash(HashAlgorithm::SHA1);
    if cert.with_policy(&relaxed, now).is_ok() {
        return sha1_problem(cert).with_detail(error_chain(e));
    }
    let primary = cert.primary_key().key();
    if let Some(p) = rsa_size_problem(primary, &Policy::standard()) {
        return p.with_detail(error_chain(e));
    }
    if let Some(why) = algorithm_refusal(primary, now) {
        return Problem::error(
            ProblemCode::UnsupportedAlgorithm,
            format!(
                "the key uses {why}; create a new key with Curve25519 (Ed25519) or RSA (3072 \
                 bits or more)"
            ),
        )
        .with_detail(error_chain(e));
    }
    #[allow(deprecated)] // DSA is deprecated in Sequoia precisely because it is weak.
    let dsa = matches!(primary.pk_algo(), PublicKeyAlgorithm::DSA);
    if !primary.pk_algo().is_supported() || dsa {
        return Problem::error(
            ProblemCode::UnsupportedAlgorithm,
            format!(
                "the key uses {}, which is no longer accepted; create a new key with RSA \
                 (3072 bits or more) or Curve25519",
                algorithm(primary)
            ),
        )
        .with_detail(error_chain(e));
    }
    Problem::error(
        ProblemCode::PolicyRejected,
        "current OpenPGP software does not accept the key's self-signatures; create a new \
         key, or refresh this one with current software",
    )
    .with_detail(error_chain(e))
}

fn sha1_problem(cert: &Cert) -> Problem {
    let fpr = cert.fingerprint().to_hex();
    Problem::error(
        ProblemCode::Sha1BindingSignature,
        format!(
            "the key's self-signatures use SHA-1, which current OpenPGP software (and Stalwart) \
             rejects; refresh them with `gpg --quick-set-expire {fpr} 2y` and `gpg \
             --quick-set-expire {fpr} 2y '*'` (GnuPG then signs with SHA-256 or better), and \
             export the key again"
        ),
    )
}

fn rsa_size_problem<P, R>(key: &openpgp::packet::Key<P, R>, policy: &Policy) -> Option<Problem>
where
    P: openpgp::packet::key::KeyParts,
    R: openpgp::packet::key::KeyRole,
{
    #[allow(deprecated)] // RSAEncrypt (algorithm 2) still occurs in old keys.
    let rsa = matches!(
        key.pk_algo(),
        PublicKeyAlgorithm::RSAEncryptSign | PublicKeyAlgorithm::RSAEncrypt
    );
    if !rsa {
        return None;
    }
    let bits = u32::try_from(key.mpis().bits()?).ok()?;
    if bits < policy.min_rsa_bits() {
        Some(Problem::error(
            ProblemCode::RsaTooSmall,
            format!(
                "the RSA key has only {bits} bits; at least {} are needed to be secure: \
                 create a new key",
                policy.min_rsa_bits()
            ),
        ))
    } else if bits > policy.max_rsa_bits() {
        Some(Problem::error(
            ProblemCode::RsaTooLarge,
            format!(
                "the RSA key has {bits} bits; more than {} are not accepted",
                policy.max_rsa_bits()
            ),
        ))
    } else {
        None
    }
}

/// A name for a key's algorithm, e.g. `RSA 3072`, `EdDSA Ed25519`, `ECDH Curve25519`,
/// `ECDSA secp256k1`.
fn algorithm<P, R>(key: &openpgp::packet::Key<P, R>) -> String
where
    P: openpgp::packet::key::KeyParts,
    R: openpgp::packet::key::KeyRole,
{
    use openpgp::crypto::mpi::PublicKey as M;
    match key.mpis() {
        M::RSA { .. } => format!("RSA {}", key.mpis().bits().unwrap_or(0)),
        M::DSA { .. } => format!("DSA {}", key.mpis().bits().unwrap_or(0)),
        M::ElGamal { .. } => format!("ElGamal {}", key.mpis().bits().unwrap_or(0)),
        M::EdDSA { curve, .. } => format!("EdDSA {}", curve_name(curve)),
        M::ECDSA { curve, .. } => format!("ECDSA {}", curve_name(curve)),
        M::ECDH { curve, .. } => format!("ECDH {}", curve_name(curve)),
        _ => key.pk_algo().to_string(),
    }
}

/// The curve's name; Sequoia knows no name for some curves GnuPG makes keys on.
fn curve_name(curve: &Curve) -> String {
    match curve {
        Curve::Unknown(oid) => match &oid[..] {
            // 1.3.132.0.10 (SEC 2).
            [0x2b, 0x81, 0x04, 0x00, 0x0a] => "secp256k1".to_owned(),
            _ => curve.to_string(),
        },
        _ => curve.to_string(),
    }
}

/// The curve of an elliptic-curve key.
fn curve_of<P, R>(key: &openpgp::packet::Key<P, R>) -> Option<&Curve>
where
    P: openpgp::packet::key::KeyParts,
    R: openpgp::packet::key::KeyRole,
{
    use openpgp::crypto::mpi::PublicKey as M;
    match key.mpis() {
        M::EdDSA { curve, .. } | M::ECDSA { curve, .. } | M::ECDH { curve, .. } => Some(curve),
        _ => None,
    }
}

/// Why a key's algorithm is not accepted at `now`, naming it, if it is not: one mailseal's
/// OpenPGP library cannot use (e.g. ECDSA brainpoolP256r1 or secp256k1), or one Sequoia's
/// standard policy no longer accepts (ElGamal, DSA 1024). RSA is left to
/// [`rsa_size_problem`], whose limits are mailseal's own.
///
/// Sequoia itself reports such keys as having no valid binding signature, which sends
/// people the wrong way ("refresh the key"); this is asked first.
fn algorithm_refusal<P, R>(key: &openpgp::packet::Key<P, R>, now: SystemTime) -> Option<String>
where
    P: openpgp::packet::key::KeyParts,
    R: openpgp::packet::key::KeyRole,
{
    let name = algorithm(key);
    let cutoff = asymmetric_algorithm(key)
        .and_then(|a| StandardPolicy::at(now).asymmetric_algo_cutoff(a))
        .filter(|cutoff| *cutoff <= now);
    if let Some(cutoff) = cutoff {
        return Some(format!(
            "{name}, which is no longer accepted as secure (since {})",
            day(cutoff)
        ));
    }
    let curve = curve_of(key);
    if !key.pk_algo().is_supported() || curve.is_some_and(|c| !c.is_supported()) {
        let what = if curve.is_some() {
            "this curve"
        } else {
            "this algorithm"
        };
        return Some(format!(
            "{name}, which mailseal cannot use (its OpenPGP library does not support {what})"
        ));
    }
    None
}

/// The policy's name for a key's algorithm and size, as `StandardPolicy` sorts keys; `None`
/// for RSA (see [`algorithm_refusal`]) and algorithms the policy has no entry for.
#[allow(deprecated)] // ElGamal and DSA are deprecated in Sequoia precisely because they are weak.
fn asymmetric_algorithm<P, R>(key: &openpgp::packet::Key<P, R>) -> Option<AsymmetricAlgorithm>
where
    P: openpgp::packet::key::KeyParts,
    R: openpgp::packet::key::KeyRole,
{
    use AsymmetricAlgorithm as A;
    use PublicKeyAlgorithm as K;
    let bits = key.mpis().bits().unwrap_or(0);
    let by_size = |sizes: [A; 4]| {
        let [a1024, a2048, a3072, a4096] = sizes;
        match bits {
            0..2048 => a1024,
            2048..3072 => a2048,
            3072..4096 => a3072,
            _ => a4096,
        }
    };
    Some(match key.pk_algo() {
        K::ElGamalEncrypt | K::ElGamalEncryptSign => by_size([
            A::ElGamal1024,
            A::ElGamal2048,
            A::ElGamal3072,
            A::ElGamal4096,
        ]),
        K::DSA => by_size([A::DSA1024, A::DSA2048, A::DSA3072, A::DSA4096]),
        K::ECDSA | K::ECDH | K::EdDSA => match curve_of(key)? {
            Curve::NistP256 => A::NistP256,
            Curve::NistP384 => A::NistP384,
            Curve::NistP521 => A::NistP521,
            Curve::BrainpoolP256 => A::BrainpoolP256,
            Curve::BrainpoolP384 => A::BrainpoolP384,
            Curve::BrainpoolP512 => A::BrainpoolP512,
            Curve::Ed25519 => A::EdDSA,
            Curve::Cv25519 => A::Cv25519,
            // Unknown curves (secp256k1, …): the policy rejects them only as unknown.
            _ => return None,
        },
        K::X25519 => A::X25519,
        K::X448 => A::X448,
        K::Ed25519 => A::Ed25519,
        K::Ed448 => A::Ed448,
        _ => return None,
    })
}

fn capabilities(flags: Option<&KeyFlags>) -> String {
    let Some(f) = flags else {
        return String::new();
    };
    let mut s = String::new();
    if f.for_signing() {
        s.push('S');
    }
    if f.for_certification() {
        s.push('C');
    }
    if f.for_transport_encryption() || f.for_storage_encryption() {
        s.push('E');
    }
    if f.for_authentication() {
        s.push('A');
    }
    s
}

/// The newest of `sigs` by creation time (the first of equals).
fn newest<'a>(sigs: impl Iterator<Item = &'a Signature>) -> Option<&'a Signature> {
    sigs.fold(None, |best: Option<&Signature>, s| match best {
        Some(b) if b.signature_creation_time() >= s.signature_creation_time() => Some(b),
        _ => Some(s),
    })
}

/// The facts shown per key. Expiry and capabilities come from the binding signatures valid
/// under `standard` at `now`, the same the verdict uses, so that a key shows one expiry: the
/// one in force. For a key without one (the certificate or the subkey is not valid under the
/// policy) they come from its newest self-signature: for the primary key, the newest of its
/// user ID bindings (a revoked user ID keeps an old one) or else its direct-key signature.
fn details(
    cert: &Cert,
    valid: Option<&ValidCert<'_>>,
    standard: &StandardPolicy<'_>,
    now: SystemTime,
    seipdv2: bool,
    used: &HashSet<&openpgp::Fingerprint>,
) -> OpenPgpDetails {
    let describe =
        |key: &openpgp::packet::Key<_, _>, expires: Option<SystemTime>, flags: Option<KeyFlags>| {
            let fp = key.fingerprint();
            KeyDetails {
                fingerprint: Fingerprint::from(&fp),
                algorithm: algorithm(key),
                created: key.creation_time(),
                expires,
                capabilities: capabilities(flags.as_ref()),
                encrypts: used.contains(&fp),
            }
        };
    let from_sig = |created: SystemTime, sig: Option<&Signature>| {
        (
            sig.and_then(|s| s.key_validity_period())
                .map(|d| created + d),
            sig.and_then(|s| s.key_flags()),
        )
    };

    let pk = cert.primary_key().key();
    let (expires, flags) = match valid {
        Some(vc) => (
            vc.primary_key().key_expiration_time(),
            vc.primary_key().key_flags(),
        ),
        None => {
            let binding = newest(cert.userids().filter_map(|u| newest(u.self_signatures())))
                .or_else(|| newest(cert.primary_key().self_signatures()));
            from_sig(pk.creation_time(), binding)
        }
    };
    let primary = describe(pk.role_as_unspecified(), expires, flags);

    let subkeys = cert
        .keys()
        .subkeys()
        .map(|ka| {
            let (expires, flags) = match valid.and_then(|_| ka.with_policy(standard, now).ok()) {
                Some(vka) => (vka.key_expiration_time(), vka.key_flags()),
                None => from_sig(ka.key().creation_time(), newest(ka.self_signatures())),
            };
            describe(ka.key().role_as_unspecified(), expires, flags)
        })
        .collect();

    OpenPgpDetails {
        version: pk.version(),
        user_ids: cert
            .userids()
            .map(|u| String::from_utf8_lossy(u.userid().value()).into_owned())
            .collect(),
        primary,
        subkeys,
        seipdv2,
    }
}
