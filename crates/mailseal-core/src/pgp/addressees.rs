//! Whom an OpenPGP message is encrypted to, read without a key: its PKESK and SKESK packets
//! (RFC 9580 §5.1, §5.3) up to the encrypted container, whose header says SEIPD v1 or v2
//! (§5.13). Parsing stops there: the encrypted data is not read.

use std::io::Read;

use sequoia_openpgp as openpgp;

use openpgp::Packet;
use openpgp::packet::{PKESK, SEIP, Tag};
use openpgp::parse::{PacketParser, PacketParserResult, Parse};
use openpgp::types::SymmetricAlgorithm;

use crate::error::{DecryptError, Error};
use crate::key::fingerprint::Fingerprint;
use crate::message::options::Algorithm;
use crate::message::recipient_id::RecipientId;

/// What the front of an OpenPGP message says.
#[derive(Debug)]
pub(crate) struct PgpAddressees {
    /// One entry per session-key packet, in order.
    pub(crate) recipients: Vec<RecipientId>,
    /// The SEIPD version, 1 or 2.
    pub(crate) seipd: u8,
    /// The cipher, when the container shows it (SEIPDv2) and mailseal knows it.
    pub(crate) algorithm: Option<Algorithm>,
}

fn malformed(detail: &str) -> Error {
    DecryptError::Malformed {
        detail: detail.to_owned(),
    }
    .into()
}

/// Reads the recipients of the OpenPGP message (armored or binary) at the start of `data`.
pub(crate) fn read<'a>(data: impl Read + Send + Sync + 'a) -> Result<PgpAddressees, Error> {
    // As in `decrypt`: a panic in Sequoia's parser becomes an error.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_packets(data)))
        .unwrap_or_else(|_| Err(malformed("the OpenPGP data is malformed")))
}

fn read_packets<'a>(data: impl Read + Send + Sync + 'a) -> Result<PgpAddressees, Error> {
    let parse_error = |e: openpgp::anyhow::Error| {
        for cause in e.chain() {
            if let Some(io) = cause.downcast_ref::<std::io::Error>()
                && let Some(inner) = crate::error::carried(io)
            {
                return inner.clone();
            }
        }
        malformed(&e.to_string())
    };
    let mut ppr = PacketParser::from_reader(data).map_err(parse_error)?;
    let mut recipients = Vec::new();
    while let PacketParserResult::Some(pp) = ppr {
        match &pp.packet {
            Packet::PKESK(p) => recipients.push(pkesk_id(p)?),
            Packet::SKESK(_) => recipients.push(RecipientId::Password),
            Packet::Marker(_) | Packet::Padding(_) => {}
            Packet::SEIP(seip) => {
                if recipients.is_empty() {
                    return Err(malformed("encrypted data without a session key packet"));
                }
                let (seipd, algorithm) = match seip {
                    SEIP::V1(_) => (1, None),
                    SEIP::V2(s) => (2, algorithm(s.symmetric_algo())),
                    _ => return Err(unsupported("an unknown SEIPD version")),
                };
                return Ok(PgpAddressees {
                    recipients,
                    seipd,
                    algorithm,
                });
            }
            Packet::Unknown(u) => {
                return Err(match u.tag() {
                    Tag::PKESK | Tag::SKESK => unsupported("an unknown session key packet"),
                    Tag::SED => unsupported("encrypted data without integrity protection"),
                    Tag::AED => unsupported("LibrePGP OCB encrypted data"),
                    _ => malformed("an OpenPGP packet cannot be read"),
                });
            }
            _ if recipients.is_empty() => return Err(DecryptError::NotEncrypted.into()),
            _ => return Err(malformed("session key packets without encrypted data")),
        }
        ppr = pp.next().map_err(parse_error)?.1;
    }
    Err(if recipients.is_empty() {
        DecryptError::NotEncrypted.into()
    } else {
        malformed("session key packets without encrypted data")
    })
}

fn unsupported(what: &str) -> Error {
    DecryptError::Unsupported {
        algorithm: what.to_owned(),
    }
    .into()
}

fn pkesk_id(p: &PKESK) -> Result<RecipientId, Error> {
    Ok(match p {
        PKESK::V3(p) => match p.recipient() {
            None => RecipientId::OpenPgpWildcard,
            Some(id) => RecipientId::OpenPgpKeyId(
                id.as_bytes()
                    .try_into()
                    .map_err(|_| malformed("a key ID is not 8 bytes"))?,
            ),
        },
        PKESK::V6(p) => match p.recipient() {
            None => RecipientId::OpenPgpWildcard,
            Some(fp) => RecipientId::OpenPgpFingerprint(Fingerprint::from(fp)),
        },
        _ => return Err(unsupported("an unknown session key packet")),
    })
}

/// The [`Algorithm`] of an OpenPGP cipher, if it is one mailseal writes.
fn algorithm(a: SymmetricAlgorithm) -> Option<Algorithm> {
    match a {
        SymmetricAlgorithm::AES128 => Some(Algorithm::Aes128),
        SymmetricAlgorithm::AES256 => Some(Algorithm::Aes256),
        _ => None,
    }
}
