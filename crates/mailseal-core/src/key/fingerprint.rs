//! Fingerprints, printed exactly as GnuPG and OpenSSL print them.
//!
//! - OpenPGP v4 (RFC 4880 §12.2): SHA-1 over the public-key packet, 40 hex digits. GnuPG shows
//!   `F168 79BE C967 A90D 2064  1C69 ABCC 7B6A 38EC 6A3F` and `--with-colons` the bare hex.
//! - OpenPGP v6 (RFC 9580 §5.5.4): SHA-256, 64 hex digits.
//! - X.509: SHA-256 or SHA-1 over the DER certificate, shown by `openssl x509 -fingerprint`
//!   as `AB:CD:…`.

use std::fmt;

use sha1::Digest as _;

/// Which kind of fingerprint this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FingerprintKind {
    /// OpenPGP v4 key fingerprint (SHA-1, 20 bytes).
    OpenPgpV4,
    /// OpenPGP v6 key fingerprint (SHA-256, 32 bytes).
    OpenPgpV6,
    /// SHA-1 of a DER X.509 certificate (20 bytes).
    X509Sha1,
    /// SHA-256 of a DER X.509 certificate (32 bytes).
    X509Sha256,
}

/// A key or certificate fingerprint.
///
/// ```
/// use mailseal_core::Fingerprint;
/// let fp = Fingerprint::x509_sha256(b"not really a certificate");
/// assert_eq!(fp.to_hex().len(), 64);
/// assert!(fp.to_colon_hex().contains(':'));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    kind: FingerprintKind,
    bytes: Vec<u8>,
}

impl Fingerprint {
    /// Creates a fingerprint from its kind and raw bytes.
    pub fn new(kind: FingerprintKind, bytes: Vec<u8>) -> Self {
        Fingerprint { kind, bytes }
    }

    /// The SHA-256 fingerprint of a DER-encoded certificate.
    pub fn x509_sha256(der: &[u8]) -> Self {
        Fingerprint::new(
            FingerprintKind::X509Sha256,
            sha2::Sha256::digest(der).to_vec(),
        )
    }

    /// The SHA-1 fingerprint of a DER-encoded certificate.
    pub fn x509_sha1(der: &[u8]) -> Self {
        Fingerprint::new(FingerprintKind::X509Sha1, sha1::Sha1::digest(der).to_vec())
    }

    /// The kind of fingerprint.
    pub fn kind(&self) -> FingerprintKind {
        self.kind
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Uppercase hex without separators, as `gpg --with-colons` prints it.
    pub fn to_hex(&self) -> String {
        hex_upper(&self.bytes)
    }

    /// Groups of four hex digits with a double space in the middle, as `gpg` prints it
    /// (`F168 79BE C967 A90D 2064  1C69 ABCC 7B6A 38EC 6A3F`).
    pub fn to_grouped_hex(&self) -> String {
        let hex = self.to_hex();
        let groups: Vec<&str> = hex
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        let half = groups.len() / 2;
        let mut out = String::with_capacity(hex.len() + groups.len() + 1);
        for (i, g) in groups.iter().enumerate() {
            if i > 0 {
                out.push(' ');
                if i == half {
                    out.push(' ');
                }
            }
            out.push_str(g);
        }
        out
    }

    /// Uppercase hex bytes joined by colons, as `openssl x509 -fingerprint` prints it.
    pub fn to_colon_hex(&self) -> String {
        let mut s = String::with_capacity(self.bytes.len() * 3);
        for (i, b) in self.bytes.iter().enumerate() {
            if i > 0 {
                s.push(':');
            }
            push_hex(&mut s, *b);
        }
        s
    }

    /// The OpenPGP key ID: the last 8 bytes of a v4 fingerprint, the first 8 of a v6 one.
    /// `None` for X.509 fingerprints.
    pub fn key_id(&self) -> Option<String> {
        let n = self.bytes.len();
        let slice = match self.kind {
            FingerprintKind::OpenPgpV4 => self.bytes.get(n.saturating_sub(8)..),
            FingerprintKind::OpenPgpV6 => self.bytes.get(..8),
            _ => None,
        }?;
        Some(hex_upper(slice))
    }

    /// The form people see in their tools: gpg's grouped hex for OpenPGP, openssl's colon
    /// form (with its `sha256 Fingerprint=` prefix left out) for X.509.
    pub fn to_display_form(&self) -> String {
        match self.kind {
            FingerprintKind::OpenPgpV4 | FingerprintKind::OpenPgpV6 => self.to_grouped_hex(),
            FingerprintKind::X509Sha1 | FingerprintKind::X509Sha256 => self.to_colon_hex(),
        }
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl From<&sequoia_openpgp::Fingerprint> for Fingerprint {
    fn from(fp: &sequoia_openpgp::Fingerprint) -> Self {
        let kind = match fp {
            sequoia_openpgp::Fingerprint::V6(_) => FingerprintKind::OpenPgpV6,
            _ => FingerprintKind::OpenPgpV4,
        };
        Fingerprint::new(kind, fp.as_bytes().to_vec())
    }
}

/// Uppercase hex without separators.
pub(crate) fn hex_upper(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        push_hex(&mut s, *b);
    }
    s
}

fn push_hex(s: &mut String, b: u8) {
    for nibble in [b >> 4, b & 0x0f] {
        let c = char::from_digit(u32::from(nibble), 16).map_or('0', |c| c.to_ascii_uppercase());
        s.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouped_hex_matches_gpg_layout() {
        let bytes: Vec<u8> = vec![
            0xF1, 0x68, 0x79, 0xBE, 0xC9, 0x67, 0xA9, 0x0D, 0x20, 0x64, 0x1C, 0x69, 0xAB, 0xCC,
            0x7B, 0x6A, 0x38, 0xEC, 0x6A, 0x3F,
        ];
        let fp = Fingerprint::new(FingerprintKind::OpenPgpV4, bytes);
        assert_eq!(
            fp.to_grouped_hex(),
            "F168 79BE C967 A90D 2064  1C69 ABCC 7B6A 38EC 6A3F"
        );
        assert_eq!(fp.to_hex(), "F16879BEC967A90D20641C69ABCC7B6A38EC6A3F");
        assert_eq!(fp.key_id().as_deref(), Some("ABCC7B6A38EC6A3F"));
    }

    #[test]
    fn colon_hex_matches_openssl_layout() {
        let fp = Fingerprint::new(FingerprintKind::X509Sha1, vec![0x1B, 0x80, 0x0A]);
        assert_eq!(fp.to_colon_hex(), "1B:80:0A");
        assert_eq!(fp.key_id(), None);
    }

    #[test]
    fn v6_key_id_is_the_first_eight_bytes() {
        let fp = Fingerprint::new(FingerprintKind::OpenPgpV6, (0u8..32).collect());
        assert_eq!(fp.key_id().as_deref(), Some("0001020304050607"));
    }
}
