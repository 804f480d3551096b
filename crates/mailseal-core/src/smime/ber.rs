//! A small reader of BER (X.690) TLVs: definite and indefinite lengths, and constructed
//! OCTET STRINGs, as streaming CMS writers (`openssl cms -stream`, our own) produce them.
//!
//! Only what decrypting CMS needs; every access is bounds-checked and nesting is limited, so
//! hostile input gives an error, never a panic or a stack overflow.

use crate::error::DecryptError;

/// Nesting deeper than this is refused.
const MAX_DEPTH: usize = 64;

/// One element: its tag byte and its content octets (for indefinite lengths: the encoded
/// children, without the end-of-contents marker).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tlv<'a> {
    pub(crate) tag: u8,
    pub(crate) content: &'a [u8],
    /// The whole encoding, header included.
    pub(crate) raw: &'a [u8],
}

pub(crate) fn malformed(detail: &str) -> DecryptError {
    DecryptError::Malformed {
        detail: detail.to_owned(),
    }
}

impl<'a> Tlv<'a> {
    pub(crate) fn is_constructed(&self) -> bool {
        self.tag & 0x20 != 0
    }

    /// The elements inside a constructed element.
    pub(crate) fn children(&self) -> Result<Vec<Tlv<'a>>, DecryptError> {
        let mut out = Vec::new();
        let mut rest = self.content;
        while !rest.is_empty() {
            let (tlv, r) = read(rest)?;
            out.push(tlv);
            rest = r;
        }
        Ok(out)
    }

    /// The octets of an OCTET STRING (or an implicitly tagged one), primitive or constructed.
    pub(crate) fn octets(&self) -> Result<Vec<u8>, DecryptError> {
        let mut out = Vec::with_capacity(self.content.len());
        self.collect_octets(&mut out, 0)?;
        Ok(out)
    }

    fn collect_octets(&self, out: &mut Vec<u8>, depth: usize) -> Result<(), DecryptError> {
        if depth > MAX_DEPTH {
            return Err(malformed("nested too deeply"));
        }
        if self.is_constructed() {
            for child in self.children()? {
                child.collect_octets(out, depth + 1)?;
            }
        } else {
            out.extend_from_slice(self.content);
        }
        Ok(())
    }
}

/// Reads one element from the front of `input`; returns it and what follows.
pub(crate) fn read(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), DecryptError> {
    read_at(input, 0)
}

fn read_at(input: &[u8], depth: usize) -> Result<(Tlv<'_>, &[u8]), DecryptError> {
    if depth > MAX_DEPTH {
        return Err(malformed("nested too deeply"));
    }
    let tag = *input
        .first()
        .ok_or_else(|| malformed("unexpected end of data"))?;
    if tag & 0x1f == 0x1f {
        return Err(malformed("multi-byte tags are not used in CMS"));
    }
    let first = *input
        .get(1)
        .ok_or_else(|| malformed("unexpected end of data"))?;
    let (len, hdr) = match first {
        0x80 => (None, 2),
        l if l < 0x80 => (Some(usize::from(l)), 2),
        l => {
            let n = usize::from(l & 0x7f);
            if n > 4 {
                return Err(malformed("length too large"));
            }
            let bytes = input
                .get(2..2 + n)
                .ok_or_else(|| malformed("unexpected end of data"))?;
            let len = bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            (Some(len), 2 + n)
        }
    };
    match len {
        Some(len) => {
            let end = hdr
                .checked_add(len)
                .ok_or_else(|| malformed("length too large"))?;
            let content = input
                .get(hdr..end)
                .ok_or_else(|| malformed("element longer than the data"))?;
            let raw = input.get(..end).unwrap_or_default();
            Ok((
                Tlv { tag, content, raw },
                input.get(end..).unwrap_or_default(),
            ))
        }
        None => {
            if tag & 0x20 == 0 {
                return Err(malformed("indefinite length on a primitive element"));
            }
            // Children up to the end-of-contents marker 00 00.
            let mut rest = input.get(hdr..).unwrap_or_default();
            loop {
                if rest.starts_with(&[0, 0]) {
                    let content_len = input.len() - hdr - rest.len();
                    let content = input.get(hdr..hdr + content_len).unwrap_or_default();
                    let end = hdr + content_len + 2;
                    let raw = input.get(..end).unwrap_or_default();
                    return Ok((
                        Tlv { tag, content, raw },
                        input.get(end..).unwrap_or_default(),
                    ));
                }
                if rest.is_empty() {
                    return Err(malformed("missing end-of-contents marker"));
                }
                let (_, r) = read_at(rest, depth + 1)?;
                rest = r;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definite_and_indefinite_octet_strings() {
        let definite = [0x04, 0x03, 1, 2, 3];
        let (t, rest) = read(&definite).unwrap();
        assert!(rest.is_empty());
        assert_eq!(t.octets().unwrap(), [1, 2, 3]);

        let chunked = [
            0x24, 0x80, 0x04, 0x01, 1, 0x04, 0x02, 2, 3, 0x00, 0x00, 0xff,
        ];
        let (t, rest) = read(&chunked).unwrap();
        assert_eq!(rest, [0xff]);
        assert_eq!(t.octets().unwrap(), [1, 2, 3]);
    }

    #[test]
    fn truncated_and_hostile_input_is_an_error() {
        assert!(read(&[]).is_err());
        assert!(read(&[0x30]).is_err());
        assert!(read(&[0x30, 0x05, 0x01]).is_err());
        assert!(read(&[0x30, 0x80, 0x04, 0x01, 0x01]).is_err());
        assert!(read(&[0x04, 0x80, 0x00, 0x00]).is_err());
        assert!(read(&[0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9]).is_err());
        // Deep nesting of indefinite lengths.
        let mut deep = Vec::new();
        for _ in 0..10_000 {
            deep.extend([0x30, 0x80]);
        }
        assert!(read(&deep).is_err());
    }
}
