//! Shared pieces of the fuzz targets: the one call sequence every target drives through
//! mailseal-core's public API, and the PEM / OpenPGP-armor wrappers.

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mailseal_core::{CertificateDetails, Policy, RecipientKey, Severity};

pub mod message;

/// The fixed evaluation time (2027-01-15T08:00:00Z), so that every run sees the same "now".
pub fn fixed_time() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

/// Reads `data` as a recipient key and, when that works, validates it and touches every part
/// of the report, so that the validation rules and the report formatting run too.
///
/// Panics only on a broken invariant of the public API (see the asserts).
pub fn exercise(data: &[u8]) {
    let key = match RecipientKey::from_bytes(data) {
        Ok(key) => key,
        Err(e) => {
            // Error messages and codes are part of the API: format them too.
            black_box(e.code());
            black_box(e.to_string());
            return;
        }
    };
    black_box(key.format().as_str());
    let count = key.certificate_count();
    assert!(count > 0, "a key was read with no certificate in it");

    let policy = Policy::standard()
        .at(fixed_time())
        .with_email("alice@example.org");
    let report = key.inspect(&policy);
    touch_report(&report);
    assert_eq!(
        report.certificates.len(),
        count,
        "one report per certificate"
    );
    assert_eq!(report.evaluated_at, fixed_time());
    assert_eq!(
        report.usable,
        report.recipients().next().is_some(),
        "usable iff there is a recipient"
    );
    assert!(
        report
            .problems
            .windows(2)
            .all(|w| w[0].severity <= w[1].severity),
        "errors must come first"
    );

    match key.validate(&policy) {
        Ok(recipients) => {
            assert!(
                report.usable,
                "validate accepted a key inspect calls unusable"
            );
            assert_eq!(
                recipients.report(),
                &report,
                "validate and inspect disagree"
            );
            black_box(recipients.format());
        }
        Err(e) => {
            assert!(
                !report.usable,
                "validate refused a key inspect calls usable"
            );
            assert_eq!(e.code(), "key.unusable");
            black_box(e.to_string());
        }
    }

    // Without an address every certificate of a keyring is considered: a different path
    // through certificate selection, worth running only when there is a choice to make.
    if count > 1 {
        touch_report(&key.inspect(&Policy::standard().at(fixed_time())));
    }
}

fn touch_report(report: &mailseal_core::KeyReport) {
    black_box(report.fingerprints());
    for problem in &report.problems {
        black_box(problem.to_string());
        black_box(problem.code.as_str());
        black_box(problem.severity == Severity::Error);
        black_box(&problem.subject);
        black_box(problem.date);
    }
    black_box(report.errors().count());
    black_box(report.warnings().count());
    black_box(report.expires);
    for cert in &report.certificates {
        black_box(cert.role.as_str());
        black_box(cert.fingerprint.to_string());
        black_box(cert.fingerprint.to_hex());
        black_box(cert.fingerprint.to_grouped_hex());
        black_box(cert.fingerprint.to_colon_hex());
        black_box(cert.fingerprint.key_id());
        match &cert.details {
            CertificateDetails::OpenPgp(d) => {
                black_box(d.user_ids.len());
                black_box(d.primary.fingerprint.to_string());
                black_box(&d.primary.algorithm);
                for sub in &d.subkeys {
                    black_box(sub.fingerprint.to_string());
                    black_box(&sub.capabilities);
                }
            }
            CertificateDetails::X509(d) => {
                black_box(d.sha1.to_string());
                black_box(&d.subject);
                black_box(&d.issuer);
                black_box(&d.serial);
            }
            _ => {}
        }
        black_box(format!("{cert:?}"));
    }
}

/// `bytes` in base64, 64 characters a line, each line ended by `eol`.
pub fn base64_lines(bytes: &[u8], eol: &str) -> String {
    let b64 = STANDARD.encode(bytes);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 * eol.len() + eol.len());
    for chunk in b64.as_bytes().chunks(64) {
        // Base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push_str(eol);
    }
    out
}

/// A PEM block (RFC 7468) with `label` around `der`.
pub fn pem(label: &str, der: &[u8]) -> Vec<u8> {
    format!(
        "-----BEGIN {label}-----\n{}-----END {label}-----\n",
        base64_lines(der, "\n")
    )
    .into_bytes()
}

/// An OpenPGP ASCII armor (RFC 9580 §6.2) public key block around binary `packets`, with the
/// CRC-24 checksum line gpg writes.
pub fn armor_public_key(packets: &[u8]) -> Vec<u8> {
    let crc = crc24(packets).to_be_bytes();
    format!(
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n{}={}\n-----END PGP PUBLIC KEY BLOCK-----\n",
        base64_lines(packets, "\n"),
        STANDARD.encode(&crc[1..])
    )
    .into_bytes()
}

/// The armor checksum (RFC 9580 §6.1.1).
pub fn crc24(data: &[u8]) -> u32 {
    const INIT: u32 = 0x00B7_04CE;
    const POLY: u32 = 0x0186_4CFB;
    let mut crc = INIT;
    for &b in data {
        crc ^= u32::from(b) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x0100_0000 != 0 {
                crc ^= POLY;
            }
        }
    }
    crc & 0x00FF_FFFF
}
