//! The opaque `-----STALWART CERTIFICATE-----` blob `GET /api/account/crypto` returns and
//! `POST` takes back: the header, CRLF, the payload in base64 wrapped at 76 columns with
//! CRLF, and an extra CRLF (fixture README item 4).
//!
//! The real payload is the server's serialized settings; it starts with the stored key
//! (DER certificate or armored text) followed by a binary trailer that includes
//! uninitialised padding, so it cannot be reproduced byte for byte. This server keeps the
//! same envelope and the same leading key bytes, with its own trailer: each key's length
//! (u32 LE), the key count (u32 LE), the method (1 = S/MIME, 2 = OpenPGP) and `MSTS`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::store::Method;

/// The first line of a blob.
pub const HEADER: &str = "-----STALWART CERTIFICATE-----";
const MAGIC: &[u8; 4] = b"MSTS";

/// Encodes stored keys as a blob.
pub fn encode(method: Method, certs: &[Vec<u8>]) -> String {
    let mut payload: Vec<u8> = certs.iter().flatten().copied().collect();
    for cert in certs {
        payload.extend_from_slice(&u32::try_from(cert.len()).unwrap_or(u32::MAX).to_le_bytes());
    }
    payload.extend_from_slice(&u32::try_from(certs.len()).unwrap_or(u32::MAX).to_le_bytes());
    payload.push(match method {
        Method::Smime => 1,
        Method::Pgp => 2,
    });
    payload.extend_from_slice(MAGIC);
    let text = STANDARD.encode(&payload);
    let mut out = format!("{HEADER}\r\n");
    for line in text.as_bytes().chunks(76) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out
}

fn take_u32(bytes: &[u8], end: usize) -> Option<(u32, usize)> {
    let start = end.checked_sub(4)?;
    let raw: [u8; 4] = bytes.get(start..end)?.try_into().ok()?;
    Some((u32::from_le_bytes(raw), start))
}

/// Decodes a blob this server made; `None` for anything else.
pub fn decode(text: &str) -> Option<(Method, Vec<Vec<u8>>)> {
    let body = text.trim().strip_prefix(HEADER)?;
    let compact: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let payload = STANDARD.decode(compact).ok()?;
    let end = payload.len().checked_sub(MAGIC.len())?;
    if payload.get(end..)? != MAGIC {
        return None;
    }
    let method = match payload.get(end.checked_sub(1)?)? {
        1 => Method::Smime,
        2 => Method::Pgp,
        _ => return None,
    };
    let (count, mut pos) = take_u32(&payload, end - 1)?;
    let mut lengths = Vec::new();
    for _ in 0..count {
        let (len, next) = take_u32(&payload, pos)?;
        lengths.push(usize::try_from(len).ok()?);
        pos = next;
    }
    lengths.reverse();
    let mut certs = Vec::new();
    let mut at = 0usize;
    for len in lengths {
        let next = at.checked_add(len)?;
        certs.push(payload.get(at..next)?.to_vec());
        at = next;
    }
    (at == pos).then_some((method, certs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_round_trip_and_look_like_the_recorded_ones() {
        let certs = vec![vec![0x30; 1000], b"second".to_vec()];
        let blob = encode(Method::Smime, &certs);
        assert!(blob.starts_with("-----STALWART CERTIFICATE-----\r\n"));
        assert!(blob.ends_with("\r\n\r\n"));
        assert!(blob.lines().skip(1).all(|l| l.trim_end().len() <= 76));
        assert_eq!(decode(&blob), Some((Method::Smime, certs)));
        assert_eq!(decode("-----STALWART CERTIFICATE-----\r\nAAAA\r\n"), None);
        assert_eq!(decode("garbage"), None);
    }
}
