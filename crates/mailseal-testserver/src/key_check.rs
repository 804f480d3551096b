//! The check an uploaded `x:PublicKey` `key` text must pass, as Stalwart's
//! `parse_public_key` does it (spec §9, fixture 08).
//!
//! * The text is a sequence of `-----BEGIN …-----` blocks; anything other than
//!   whitespace before, between or after them means "no key" (`Ok(None)`).
//! * A block whose header contains `CERTIFICATE` is S/MIME, one that contains `PGP` is
//!   OpenPGP (so a `PGP PRIVATE KEY BLOCK` counts, and is accepted); other blocks are
//!   skipped. Both kinds in one text is an error.
//! * Everything between the header line and the `END` line (armor header lines such as
//!   `Comment: …` included) goes through a lenient base64 decoder that refuses any
//!   character outside the alphabet, so an armor header fails the upload.
//! * S/MIME blocks must DER-decode as an X.509 certificate (no other check: EC
//!   certificates pass). For OpenPGP the *whole* text is parsed with Sequoia and must hold
//!   an alive, unrevoked, supported key with the transport-encryption flag under the
//!   standard policy.

use std::time::SystemTime;

use der::{Decode, SliceReader};
use sequoia_openpgp::Cert;
use sequoia_openpgp::parse::Parse;
use sequoia_openpgp::policy::StandardPolicy;
use sequoia_openpgp::types::KeyFlags;
use x509_cert::Certificate;

/// The kind of key text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// OpenPGP armor.
    OpenPgp,
    /// PEM X.509 certificates.
    Smime,
}

/// Text of the error for a text that holds no usable block.
pub const NO_KEY: &str = "No valid public key found.";

/// Checks a key text (already trimmed and ending in a newline); `Ok(None)` means no key
/// was found, `Err` carries Stalwart's description.
pub fn check(text: &str, now: SystemTime) -> Result<Option<KeyKind>, String> {
    let bytes = text.as_bytes();
    let mut pos = 0;
    let mut kind: Option<KeyKind> = None;

    loop {
        // The next block must start with '-' after optional whitespace.
        while let Some(&ch) = bytes.get(pos) {
            pos += 1;
            if ch.is_ascii_whitespace() {
                continue;
            } else if ch == b'-' {
                break;
            } else {
                return Ok(None);
            }
        }

        // The header line, dashes dropped, upper-cased.
        let mut tag = Vec::new();
        while let Some(&ch) = bytes.get(pos) {
            pos += 1;
            match ch {
                b'-' => {}
                b'\n' => break,
                _ if ch.is_ascii() => tag.push(ch.to_ascii_uppercase()),
                _ => return Ok(None),
            }
        }
        if tag.is_empty() {
            break;
        }
        let tag = String::from_utf8_lossy(&tag);
        let block_kind = if tag.contains("CERTIFICATE") {
            KeyKind::Smime
        } else if tag.contains("PGP") {
            KeyKind::OpenPgp
        } else {
            // Skip to the end of the line that follows the first '-' (the END line).
            let mut found_end = false;
            while let Some(&ch) = bytes.get(pos) {
                pos += 1;
                if ch == b'-' {
                    found_end = true;
                } else if ch == b'\n' && found_end {
                    break;
                }
            }
            continue;
        };
        match (kind, block_kind) {
            (Some(KeyKind::OpenPgp), KeyKind::Smime) | (Some(KeyKind::Smime), KeyKind::OpenPgp) => {
                return Err("Cannot mix OpenPGP and S/MIME certificates".to_owned());
            }
            _ => kind = Some(block_kind),
        }

        // The body, up to the end of the line holding the next '-'.
        let mut body = Vec::new();
        let mut found_end = false;
        while let Some(&ch) = bytes.get(pos) {
            pos += 1;
            match ch {
                b'-' => found_end = true,
                b'\n' if found_end => break,
                b'\n' => {}
                _ if !ch.is_ascii_whitespace() => body.push(ch),
                _ => {}
            }
        }
        let der = lenient_base64(&body)
            .ok_or_else(|| "Failed to decode base64 certificate.".to_owned())?;

        match block_kind {
            KeyKind::OpenPgp => match Cert::from_bytes(bytes) {
                Ok(cert) => {
                    if !has_encryption_key(&cert, now) {
                        return Err(
                            "Could not find any suitable keys in OpenPGP public key".to_owned()
                        );
                    }
                }
                Err(err) => return Err(format!("Failed to decode OpenPGP public key: {err}")),
            },
            KeyKind::Smime => {
                if let Err(err) = decode_certificate(&der) {
                    return Err(format!("Failed to decode X509 certificate: {err}"));
                }
            }
        }
    }

    Ok(kind)
}

/// Decodes one DER certificate, ignoring whatever follows it (the decoder is fed the
/// letters of the `END` line too).
fn decode_certificate(der: &[u8]) -> Result<(), der::Error> {
    let mut reader = SliceReader::new(der)?;
    Certificate::decode(&mut reader).map(|_| ())
}

fn has_encryption_key(cert: &Cert, now: SystemTime) -> bool {
    let policy = StandardPolicy::new();
    cert.keys()
        .with_policy(&policy, Some(now))
        .supported()
        .alive()
        .revoked(false)
        .key_flags(KeyFlags::empty().set_transport_encryption())
        .next()
        .is_some()
}

/// Base64 as mail-parser reads it: `=` completes the current group and decoding goes on,
/// whitespace is skipped, any other character outside the alphabet fails.
pub fn lenient_base64(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let mut chunk: u32 = 0;
    let mut count = 0u8;
    for &ch in input {
        if let Some(value) = base64_value(ch) {
            chunk = (chunk << 6) | u32::from(value);
            count += 1;
            if count == 4 {
                out.extend_from_slice(chunk.to_be_bytes().get(1..)?);
                count = 0;
                chunk = 0;
            }
        } else if ch == b'=' {
            flush(&mut out, chunk, count);
            count = 0;
            chunk = 0;
        } else if !matches!(ch, b' ' | b'\t' | b'\r' | b'\n') {
            return None;
        }
    }
    flush(&mut out, chunk, count);
    Some(out)
}

/// Writes the bytes of a partial group of 2 or 3 characters.
fn flush(out: &mut Vec<u8>, chunk: u32, count: u8) {
    match count {
        2 => out.push(((chunk >> 4) & 0xff) as u8),
        3 => {
            out.push(((chunk >> 10) & 0xff) as u8);
            out.push(((chunk >> 2) & 0xff) as u8);
        }
        _ => {}
    }
}

fn base64_value(ch: u8) -> Option<u8> {
    match ch {
        b'A'..=b'Z' => Some(ch - b'A'),
        b'a'..=b'z' => Some(ch - b'a' + 26),
        b'0'..=b'9' => Some(ch - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_base64_continues_after_padding() {
        assert_eq!(lenient_base64(b"VGVzdA==").as_deref(), Some(&b"Test"[..]));
        assert_eq!(lenient_base64(b"WWU=").as_deref(), Some(&b"Ye"[..]));
        assert_eq!(lenient_base64(b"QQ==QQ==").as_deref(), Some(&b"AA"[..]));
        assert_eq!(lenient_base64(b"Comment:x"), None);
        assert_eq!(lenient_base64(b"").as_deref(), Some(&b""[..]));
    }

    #[test]
    fn text_without_blocks_is_no_key() {
        let now = SystemTime::now();
        assert_eq!(check("This is not a key at all.\n", now), Ok(None));
        assert_eq!(check("\n", now), Ok(None));
        assert_eq!(
            check(
                "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n",
                now
            ),
            Ok(None)
        );
    }

    #[test]
    fn text_before_a_block_is_no_key() {
        let text = "Bag Attributes\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        assert_eq!(check(text, SystemTime::now()), Ok(None));
    }

    #[test]
    fn armor_header_breaks_base64() {
        let text = "-----BEGIN PGP PUBLIC KEY BLOCK-----\nComment: hi\n\nmQINBF\n-----END PGP PUBLIC KEY BLOCK-----\n";
        assert_eq!(
            check(text, SystemTime::now()),
            Err("Failed to decode base64 certificate.".to_owned())
        );
    }

    #[test]
    fn garbage_certificate_is_a_decode_error() {
        let text = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let err = check(text, SystemTime::now()).expect_err("not a certificate");
        assert!(
            err.starts_with("Failed to decode X509 certificate: "),
            "{err}"
        );
    }

    #[test]
    fn mixing_kinds_is_refused_at_the_second_kind() {
        let text = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let mixed =
            format!("-----BEGIN PGP SIGNATURE-----\n=\n-----END PGP SIGNATURE-----\n{text}");
        // The OpenPGP block fails first here (no key in it).
        assert!(check(&mixed, SystemTime::now()).is_err());
    }
}
