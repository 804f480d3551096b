//! The key inside the opaque `-----STALWART CERTIFICATE-----` blob of
//! `GET /api/account/crypto`: its base64 payload starts with the stored key, the armored
//! OpenPGP text as sent or the DER certificate (fixture README item 4), followed by the
//! server's own serialization, which is left alone.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The first line of a blob.
pub(crate) const HEADER: &str = "-----STALWART CERTIFICATE-----";

/// The key at the start of a blob, as PEM or armor text, when it can be found.
pub(crate) fn leading_key(blob: &str) -> Option<String> {
    let body = blob.trim_start().strip_prefix(HEADER)?;
    let compact: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let payload = STANDARD.decode(compact).ok()?;
    if payload.starts_with(b"-----BEGIN PGP ") {
        let text = String::from_utf8_lossy(&payload);
        let end = text.find("-----END PGP ")?;
        let close = text
            .get(end..)?
            .find("-----\n")
            .or_else(|| text.get(end..)?.find("-----\r\n"))?;
        let stop = end + close + "-----".len();
        return text.get(..stop).map(|t| format!("{t}\n"));
    }
    let der = payload.get(..der_len(&payload)?)?;
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in STANDARD.encode(der).as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    Some(pem)
}

/// The length of the DER SEQUENCE at the start of `bytes`.
fn der_len(bytes: &[u8]) -> Option<usize> {
    if bytes.first() != Some(&0x30) {
        return None;
    }
    let first = usize::from(*bytes.get(1)?);
    let (len, header) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let len = bytes
            .get(2..2 + n)?
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, 2 + n)
    };
    let total = header.checked_add(len)?;
    (total <= bytes.len()).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(payload: &[u8]) -> String {
        format!("{HEADER}\r\n{}\r\n\r\n", STANDARD.encode(payload))
    }

    #[test]
    fn keys_are_found_at_the_start_of_the_payload() {
        let armor =
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQ==\n-----END PGP PUBLIC KEY BLOCK-----\n";
        let mut payload = armor.as_bytes().to_vec();
        payload.extend_from_slice(&[0xff, 0x01, 0x00]);
        assert_eq!(leading_key(&blob(&payload)).as_deref(), Some(armor));
        let mut der = vec![0x30, 0x82, 0x00, 0x03, 1, 2, 3];
        der.extend_from_slice(&[9, 9, 9]);
        let pem = leading_key(&blob(&der)).unwrap();
        assert!(
            pem.starts_with("-----BEGIN CERTIFICATE-----\nMIIAAwECAw==\n"),
            "{pem}"
        );
        assert_eq!(leading_key("no blob"), None);
        assert_eq!(leading_key(&blob(&[0x30, 0x85, 0, 0, 0, 0, 0])), None);
        assert_eq!(leading_key(&blob(&[0x30, 0x82, 0xff, 0xff])), None);
    }
}
