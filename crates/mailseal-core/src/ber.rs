//! A small reader of BER (X.690) TLVs: definite and indefinite lengths, and constructed
//! OCTET STRINGs, as streaming CMS writers (`openssl cms -stream`, our own) and some
//! certificate exporters (Windows `.p7b` and `.pfx` files) produce them.
//!
//! Used for decrypting CMS (`smime/decrypt`) and for reading PKCS#7 bundles, PKCS#12 files
//! and certificates (`key/`). Every access is bounds-checked and nesting is limited, so
//! hostile input gives an error, never a panic or a stack overflow.

use crate::error::DecryptError;

/// Nesting deeper than this is refused.
const MAX_DEPTH: usize = 64;

/// What is wrong with the encoding, for developers (never contains input bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BerError(pub(crate) &'static str);

impl From<BerError> for DecryptError {
    fn from(e: BerError) -> Self {
        DecryptError::Malformed {
            detail: e.0.to_owned(),
        }
    }
}

/// One element: its tag byte and its content octets (for indefinite lengths: the encoded
/// children, without the end-of-contents marker).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tlv<'a> {
    pub(crate) tag: u8,
    pub(crate) content: &'a [u8],
    /// The whole encoding, header included.
    pub(crate) raw: &'a [u8],
}

impl<'a> Tlv<'a> {
    pub(crate) fn is_constructed(&self) -> bool {
        self.tag & 0x20 != 0
    }

    /// The elements inside a constructed element.
    pub(crate) fn children(&self) -> Result<Vec<Tlv<'a>>, BerError> {
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
    pub(crate) fn octets(&self) -> Result<Vec<u8>, BerError> {
        let mut out = Vec::with_capacity(self.content.len());
        self.collect_octets(&mut out, 0)?;
        Ok(out)
    }

    fn collect_octets(&self, out: &mut Vec<u8>, depth: usize) -> Result<(), BerError> {
        if depth > MAX_DEPTH {
            return Err(BerError("nested too deeply"));
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
pub(crate) fn read(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), BerError> {
    read_at(input, 0)
}

/// Reads exactly one element: nothing may follow it.
pub(crate) fn read_all(input: &[u8]) -> Result<Tlv<'_>, BerError> {
    match read(input)? {
        (tlv, []) => Ok(tlv),
        _ => Err(BerError("data after the end of the structure")),
    }
}

/// What follows the header of the element at the front of `input` (its tag and length
/// octets), without checking that its content is all there: for recognising a structure by
/// its first fields when it is damaged further on.
pub(crate) fn after_header(input: &[u8]) -> Option<&[u8]> {
    let hdr = match *input.get(1)? {
        l if l <= 0x80 => 2,
        l if l <= 0x84 => 2 + usize::from(l & 0x7f),
        _ => return None,
    };
    input.get(hdr..)
}

fn read_at(input: &[u8], depth: usize) -> Result<(Tlv<'_>, &[u8]), BerError> {
    let eod = || BerError("unexpected end of data");
    if depth > MAX_DEPTH {
        return Err(BerError("nested too deeply"));
    }
    let tag = *input.first().ok_or_else(eod)?;
    if tag & 0x1f == 0x1f {
        return Err(BerError("multi-byte tags are not supported"));
    }
    let first = *input.get(1).ok_or_else(eod)?;
    let (len, hdr) = match first {
        0x80 => (None, 2),
        l if l < 0x80 => (Some(usize::from(l)), 2),
        l => {
            let n = usize::from(l & 0x7f);
            if n > 4 {
                return Err(BerError("length too large"));
            }
            let bytes = input.get(2..2 + n).ok_or_else(eod)?;
            let len = bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            (Some(len), 2 + n)
        }
    };
    match len {
        Some(len) => {
            let end = hdr.checked_add(len).ok_or(BerError("length too large"))?;
            let content = input
                .get(hdr..end)
                .ok_or(BerError("element longer than the data"))?;
            let raw = input.get(..end).unwrap_or_default();
            Ok((
                Tlv { tag, content, raw },
                input.get(end..).unwrap_or_default(),
            ))
        }
        None => {
            if tag & 0x20 == 0 {
                return Err(BerError("indefinite length on a primitive element"));
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
                    return Err(BerError("missing end-of-contents marker"));
                }
                let (_, r) = read_at(rest, depth + 1)?;
                rest = r;
            }
        }
    }
}

/// Re-encodes one BER element, and everything inside it, with DER's length rules: definite
/// lengths in their shortest form, and constructed OCTET STRINGs joined into one primitive
/// OCTET STRING. Contents are copied as they are (a DER parser still checks them), so this
/// only turns a BER *framing* into DER; nothing may follow the element.
pub(crate) fn to_der(input: &[u8]) -> Result<Vec<u8>, BerError> {
    let tlv = read_all(input)?;
    let mut out = Vec::with_capacity(input.len());
    encode_der(&tlv, &mut out, 0)?;
    Ok(out)
}

fn encode_der(tlv: &Tlv<'_>, out: &mut Vec<u8>, depth: usize) -> Result<(), BerError> {
    if depth > MAX_DEPTH {
        return Err(BerError("nested too deeply"));
    }
    if tlv.tag == 0x24 {
        // A constructed OCTET STRING: DER has only the primitive form.
        push_tlv(out, 0x04, &tlv.octets()?);
    } else if tlv.is_constructed() {
        let mut inner = Vec::with_capacity(tlv.content.len());
        for child in tlv.children()? {
            encode_der(&child, &mut inner, depth + 1)?;
        }
        push_tlv(out, tlv.tag, &inner);
    } else {
        push_tlv(out, tlv.tag, tlv.content);
    }
    Ok(())
}

/// Appends a tag, a definite DER length and the content.
fn push_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.extend(u8::try_from(len));
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.extend(u8::try_from(0x80 | significant.len()));
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
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
        assert!(to_der(&deep).is_err());
    }

    #[test]
    fn ber_framing_becomes_der() {
        // SEQUENCE (indefinite) { INTEGER 5, [0] (indefinite) { OCTET STRING in two chunks } }
        let ber = [
            0x30, 0x80, 0x02, 0x01, 0x05, 0xa0, 0x80, 0x24, 0x80, 0x04, 0x01, 0xaa, 0x04, 0x01,
            0xbb, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        assert_eq!(
            to_der(&ber).unwrap(),
            [
                0x30, 0x09, 0x02, 0x01, 0x05, 0xa0, 0x04, 0x04, 0x02, 0xaa, 0xbb
            ]
        );
        // Long definite lengths come out in their shortest form; DER stays as it is.
        let long = [0x04, 0x82, 0x00, 0x02, 1, 2];
        assert_eq!(to_der(&long).unwrap(), [0x04, 0x02, 1, 2]);
        let mut big = vec![0x04, 0x82, 0x01, 0x00];
        big.extend([7u8; 256]);
        assert_eq!(to_der(&big).unwrap(), big);
        // Trailing data is refused.
        assert!(to_der(&[0x05, 0x00, 0x00]).is_err());
    }
}
