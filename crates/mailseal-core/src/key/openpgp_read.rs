//! Reading OpenPGP certificates from one armored block or from binary packets.
//!
//! The packets are split into certificates first (Sequoia's `RawCertParser`), then each is
//! parsed on its own, so that one certificate of a version Sequoia cannot read (an old v3
//! key of PGP 2.x, a LibrePGP v5 key as GnuPG 2.4 makes them) does not refuse the others of
//! a keyring: it is left out and reported as [`Skipped`]. Secret keys anywhere refuse the
//! whole input; input that starts with a signature (a revocation certificate, a detached
//! signature) or a message packet is named for what it is.

use std::borrow::Cow;
use std::io::Read;

use sequoia_openpgp as openpgp;

use openpgp::Cert;
use openpgp::armor;
use openpgp::cert::raw::{self, RawCertParser};
use openpgp::packet::Tag;
use openpgp::parse::Parse;
use openpgp::types::HashAlgorithm;
use sha2::{Digest, Sha256};

use crate::error::{KeyError, PrivateKeyKind};
use crate::packet::{Length, packet_tag, read_header};

/// What [`parse`] found in one block or binary input.
#[derive(Debug, Clone, Default)]
pub(crate) struct Certificates {
    /// The certificates read, in input order.
    pub(crate) certs: Vec<Cert>,
    /// The certificates left out, in input order.
    pub(crate) skipped: Vec<Skipped>,
}

/// A certificate left out because its primary key has a version mailseal cannot read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Skipped {
    /// The key version (3 or 5, usually).
    pub(crate) version: u8,
    /// Its fingerprint, uppercase hex, as the version defines it (MD5 for v3 RSA keys,
    /// SHA-256 for v5 keys); `None` for versions without a known fingerprint.
    pub(crate) fingerprint: Option<String>,
}

/// What a signature given instead of a key is, for [`KeyError::NotAKey`].
pub(crate) const REVOCATION: &str =
    "an OpenPGP revocation certificate (it can revoke a key, but does not contain it)";
pub(crate) const SIGNATURE: &str = "an OpenPGP signature (made with a key, but not containing it)";
pub(crate) const MESSAGE: &str = "an OpenPGP message";

/// Reads every certificate in one armored block or one binary input.
///
/// Secret keys are refused, and so is input that is an OpenPGP message or signature.
/// Certificates of an unsupported version are [`Skipped`]; it is the caller's to refuse the
/// input when nothing else was found.
pub(crate) fn parse(data: &[u8]) -> Result<Certificates, KeyError> {
    let binary = dearmor(data)?;
    match first_packet_kind(&binary) {
        Some(BinaryKind::SecretKey) => return Err(private_key()),
        Some(BinaryKind::Signature) => {
            return Err(KeyError::NotAKey {
                found: signature_kind(&binary),
            });
        }
        Some(BinaryKind::Message) => return Err(KeyError::NotAKey { found: MESSAGE }),
        Some(BinaryKind::PublicKey) | None => {}
    }

    // sequoia-openpgp 2.4.2's raw certificate reader can panic on a packet whose length runs
    // past the data (`RawCert::packets` slices `data[start..following]` with start > end;
    // found by our fuzzing, target key_openpgp_armor): that is damaged input, not a crash.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_certificates(&binary)))
        .unwrap_or_else(|_| {
            Err(KeyError::Malformed {
                format: "OpenPGP",
                detail: "sequoia-openpgp's certificate reader failed on this input".into(),
            })
        })
}

/// Splits `binary` into certificates and reads each (see [`parse`]).
fn read_certificates(binary: &[u8]) -> Result<Certificates, KeyError> {
    let mut found = Certificates::default();
    let parser = RawCertParser::from_bytes(binary).map_err(malformed)?;
    for item in parser {
        match item {
            Ok(raw) => {
                if raw.packets().next().map(|p| p.tag()) == Some(Tag::SecretKey) {
                    return Err(private_key());
                }
                let cert = Cert::try_from(&raw).map_err(malformed)?;
                if cert.is_tsk() {
                    return Err(private_key());
                }
                found.certs.push(cert);
            }
            Err(e) => {
                let Some(raw::Error::UnsupportedCert(_, bytes)) = e.downcast_ref::<raw::Error>()
                else {
                    return Err(malformed(e));
                };
                let Some((tag, body)) = first_packet(bytes) else {
                    return Err(malformed(e));
                };
                if tag == 5 {
                    return Err(private_key());
                }
                match body.first() {
                    // A v4 or v6 key Sequoia cannot read is damaged, not of another version.
                    Some(&version) if version != 4 && version != 6 => {
                        found.skipped.push(Skipped {
                            version,
                            fingerprint: fingerprint(version, body),
                        });
                    }
                    _ => return Err(malformed(e)),
                }
            }
        }
    }
    if found.certs.is_empty() && found.skipped.is_empty() {
        return Err(KeyError::Malformed {
            format: "OpenPGP",
            detail: "no certificate found".into(),
        });
    }
    Ok(found)
}

/// Gives every copy of a certificate that occurs more than once (same fingerprint) all the
/// signatures of all its copies, as gpg merges them on import: a key pasted twice, or
/// exported at different times, then shows one state, in which its newest self-signatures
/// decide (and not an old copy's expiry beside the new one). The copies stay, so that the
/// count of certificates read does not change.
pub(crate) fn merge_duplicates(mut certs: Vec<Cert>) -> Result<Vec<Cert>, KeyError> {
    let fingerprints: Vec<openpgp::Fingerprint> = certs.iter().map(Cert::fingerprint).collect();
    for (i, fp) in fingerprints.iter().enumerate() {
        if fingerprints.iter().position(|f| f == fp) != Some(i) {
            continue; // merged already, with the first copy
        }
        let copies: Vec<usize> = (0..fingerprints.len())
            .filter(|j| fingerprints.get(*j) == Some(fp))
            .collect();
        if copies.len() < 2 {
            continue;
        }
        let mut merged: Option<Cert> = None;
        for j in &copies {
            let Some(copy) = certs.get(*j).cloned() else {
                continue;
            };
            merged = Some(match merged {
                None => copy,
                Some(m) => m.merge_public(copy).map_err(malformed)?,
            });
        }
        if let Some(merged) = merged {
            for j in &copies {
                if let Some(slot) = certs.get_mut(*j) {
                    *slot = merged.clone();
                }
            }
        }
    }
    Ok(certs)
}

/// The packets of an armored block, or binary input as it is.
fn dearmor(data: &[u8]) -> Result<Cow<'_, [u8]>, KeyError> {
    if data.first().is_some_and(|b| b & 0x80 != 0) {
        return Ok(Cow::Borrowed(data));
    }
    let mut reader = armor::Reader::from_bytes(data, armor::ReaderMode::Tolerant(None));
    let mut out = Vec::new();
    reader
        .read_to_end(&mut out)
        .map_err(|e| KeyError::Malformed {
            format: "OpenPGP armor",
            detail: e.to_string(),
        })?;
    Ok(Cow::Owned(out))
}

fn private_key() -> KeyError {
    KeyError::PrivateKey {
        kind: PrivateKeyKind::OpenPgp,
    }
}

pub(crate) fn malformed(e: openpgp::anyhow::Error) -> KeyError {
    KeyError::Malformed {
        format: "OpenPGP",
        detail: error_chain(&e),
    }
}

/// Sequoia's error with its context chain, as one line.
pub(crate) fn error_chain(e: &openpgp::anyhow::Error) -> String {
    let mut parts: Vec<String> = e.chain().map(|c| c.to_string()).collect();
    parts.dedup();
    parts.join(": ").replace('\n', " ")
}

/// What binary OpenPGP input starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinaryKind {
    PublicKey,
    SecretKey,
    Message,
    Signature,
}

/// Classifies binary input by the tag of its first OpenPGP packet header.
pub(crate) fn first_packet_kind(data: &[u8]) -> Option<BinaryKind> {
    Some(match packet_tag(*data.first()?)? {
        5 => BinaryKind::SecretKey,
        6 => BinaryKind::PublicKey,
        2 => BinaryKind::Signature,
        1 | 3 | 4 | 8 | 9 | 11 | 18 | 20 => BinaryKind::Message,
        _ => return None,
    })
}

/// What the signature packet at the start of `data` is: a revocation certificate (a key,
/// subkey or user ID revocation, RFC 9580 §5.2.1) or another signature.
pub(crate) fn signature_kind(data: &[u8]) -> &'static str {
    let Some((2, body)) = first_packet(data) else {
        return SIGNATURE;
    };
    // v3 signatures have the hashed-material length before the type (RFC 4880 §5.2.2).
    let typ = match body.first() {
        Some(3) => body.get(2),
        Some(_) => body.get(1),
        None => None,
    };
    match typ {
        Some(0x20 | 0x28 | 0x30) => REVOCATION,
        _ => SIGNATURE,
    }
}

/// The tag and the body of the first packet in `data`. For a partial body length only the
/// first part is given, and a body cut short by the end of `data` is given as far as it goes:
/// callers only look at the first octets.
fn first_packet(data: &[u8]) -> Option<(u8, &[u8])> {
    let mut body = data;
    let (tag, length) = read_header(&mut body).ok()??;
    let len = match length {
        Length::Definite(n) | Length::Partial(n) => usize::try_from(n).unwrap_or(usize::MAX),
        Length::Indeterminate => body.len(),
    };
    Some((tag, body.get(..len).unwrap_or(body)))
}

/// The fingerprint of a key packet body of `version`, uppercase hex: for v5 the SHA-256 of
/// `0x9A`, the four-octet body length and the body (LibrePGP §5.5.4.2); for v2 and v3 RSA
/// keys the MD5 of the modulus and exponent (RFC 4880 §12.2).
fn fingerprint(version: u8, body: &[u8]) -> Option<String> {
    let digest = match version {
        5 => {
            let len = u32::try_from(body.len()).ok()?;
            let mut h = Sha256::new();
            h.update([0x9a]);
            h.update(len.to_be_bytes());
            h.update(body);
            h.finalize().to_vec()
        }
        2 | 3 => {
            // version, creation time (4), validity days (2), algorithm, then MPI n and e.
            let algorithm = *body.get(7)?;
            if !matches!(algorithm, 1..=3) {
                return None;
            }
            let mpis = body.get(8..)?;
            let (n, rest) = mpi(mpis)?;
            let (e, _) = mpi(rest)?;
            let mut h = HashAlgorithm::MD5.context().ok()?.for_digest();
            h.update(n);
            h.update(e);
            h.into_digest().ok()?
        }
        _ => return None,
    };
    Some(digest.iter().map(|b| format!("{b:02X}")).collect())
}

/// An MPI's value octets and what follows it.
fn mpi(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let bits = usize::from(u16::from_be_bytes([*data.first()?, *data.get(1)?]));
    let len = bits.div_ceil(8);
    let value = data.get(2..2 + len)?;
    Some((value, data.get(2 + len..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_headers_of_both_formats_are_read() {
        // Old format, one-octet length; new format, one- and two-octet lengths.
        assert_eq!(
            first_packet(&[0x99, 0x00, 0x02, 3, 9]),
            Some((6, &[3u8, 9][..]))
        );
        assert_eq!(
            first_packet(&[0x88, 0x02, 4, 0x20]),
            Some((2, &[4u8, 0x20][..]))
        );
        assert_eq!(first_packet(&[0xc6, 0x01, 5]), Some((6, &[5u8][..])));
        let mut long = vec![0xc2, 0xc0, 0x00];
        long.extend(std::iter::repeat_n(0u8, 192));
        assert_eq!(
            first_packet(&long).map(|(t, b)| (t, b.len())),
            Some((2, 192))
        );
        assert_eq!(first_packet(&[0x3e, 0x20]), None);
        assert_eq!(first_packet(&[]), None);
    }

    #[test]
    fn revocations_are_told_from_other_signatures() {
        assert_eq!(signature_kind(&[0xc2, 0x02, 4, 0x20]), REVOCATION);
        assert_eq!(signature_kind(&[0xc2, 0x02, 4, 0x28]), REVOCATION);
        assert_eq!(signature_kind(&[0x88, 0x03, 3, 5, 0x20]), REVOCATION);
        assert_eq!(signature_kind(&[0xc2, 0x02, 4, 0x00]), SIGNATURE);
        assert_eq!(signature_kind(&[0xc2, 0x02, 4]), SIGNATURE);
    }

    #[test]
    fn unknown_versions_have_no_fingerprint() {
        assert_eq!(fingerprint(7, &[7, 0, 0, 0, 0]), None);
        // A v3 key must be RSA, and its MPIs complete.
        assert_eq!(fingerprint(3, &[3, 0, 0, 0, 0, 0, 0, 17, 0, 8, 1]), None);
        assert_eq!(fingerprint(3, &[3, 0, 0, 0, 0, 0, 0, 1, 0, 9, 1]), None);
    }
}
