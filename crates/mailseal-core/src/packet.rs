//! OpenPGP packet framing (RFC 9580 §4.2): packet headers and body lengths, written for
//! `pgp::seipd`, read for `pgp::open` and for the first packet `key::openpgp_read` names.
//!
//! Reading covers both header formats (the legacy one with its four length types, the
//! current one with partial body lengths) and hands a packet's body out as one stream
//! ([`Body`]), whatever chunks it came in.

use std::io::{self, Read};

/// New-format packet tags (RFC 9580 §4.2).
pub(crate) const TAG_PKESK: u8 = 1;
pub(crate) const TAG_LITERAL: u8 = 11;
pub(crate) const TAG_MARKER: u8 = 10;
pub(crate) const TAG_SEIPD: u8 = 18;
pub(crate) const TAG_MDC: u8 = 19;

/// A new-format definite length (RFC 9580 §4.2.1).
pub(crate) fn definite_length(len: usize) -> Vec<u8> {
    match len {
        0..192 => vec![len as u8],
        192..8384 => {
            let l = len - 192;
            vec![(l >> 8) as u8 + 192, (l & 0xff) as u8]
        }
        _ => {
            let mut v = vec![0xff];
            v.extend_from_slice(&(len as u32).to_be_bytes());
            v
        }
    }
}

/// The length a packet header announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Length {
    /// The whole body, this many octets.
    Definite(u64),
    /// This many octets, then another length (RFC 9580 §4.2.1.4).
    Partial(u64),
    /// To the end of the surrounding data (legacy format, length type 3).
    Indeterminate,
}

/// Damaged framing: the error's text says what (the caller decides what it stands for).
pub(crate) fn damaged(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

/// `N` octets, or an error if the data ends first.
fn octets<const N: usize>(r: &mut impl Read) -> io::Result<[u8; N]> {
    let mut b = [0u8; N];
    r.read_exact(&mut b).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => damaged("the OpenPGP data ends inside a packet header"),
        _ => e,
    })?;
    Ok(b)
}

/// Reads a new-format length whose first octet is `first`.
fn new_length(first: u8, r: &mut impl Read) -> io::Result<Length> {
    Ok(match first {
        0..192 => Length::Definite(u64::from(first)),
        192..224 => {
            let [second] = octets::<1>(r)?;
            Length::Definite(((u64::from(first) - 192) << 8) + u64::from(second) + 192)
        }
        224..255 => Length::Partial(1 << (first & 0x1f)),
        255 => Length::Definite(u64::from(u32::from_be_bytes(octets::<4>(r)?))),
    })
}

/// The tag of a packet header's first octet, `None` if it does not start one.
pub(crate) fn packet_tag(ctb: u8) -> Option<u8> {
    match ctb {
        0..0x80 => None,
        0xc0.. => Some(ctb & 0x3f),
        _ => Some((ctb >> 2) & 0x0f),
    }
}

/// Reads a packet header: its tag and length, or `None` where the data ends cleanly.
pub(crate) fn read_header(r: &mut impl Read) -> io::Result<Option<(u8, Length)>> {
    let mut first = [0u8; 1];
    loop {
        match r.read(&mut first) {
            Ok(0) => return Ok(None),
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    let [ctb] = first;
    let tag = packet_tag(ctb).ok_or_else(|| damaged("not an OpenPGP packet header"))?;
    if ctb & 0x40 != 0 {
        let [len] = octets::<1>(r)?;
        return Ok(Some((tag, new_length(len, r)?)));
    }
    let length = match ctb & 0x03 {
        0 => Length::Definite(u64::from(octets::<1>(r)?[0])),
        1 => Length::Definite(u64::from(u16::from_be_bytes(octets::<2>(r)?))),
        2 => Length::Definite(u64::from(u32::from_be_bytes(octets::<4>(r)?))),
        _ => Length::Indeterminate,
    };
    Ok(Some((tag, length)))
}

/// A packet's body as one stream: partial body chunks joined, ending where the last length
/// (or, for an indeterminate length, the underlying data) ends.
pub(crate) struct Body<R> {
    r: R,
    /// Octets left in the current chunk.
    left: u64,
    /// The current chunk is the last one.
    last: bool,
    /// Read to the end of `r`.
    to_end: bool,
}

impl<R: Read> Body<R> {
    /// The body that follows a header announcing `length`, read from `r`.
    pub(crate) fn new(r: R, length: Length) -> Self {
        let (left, last, to_end) = match length {
            Length::Definite(n) => (n, true, false),
            Length::Partial(n) => (n, false, false),
            Length::Indeterminate => (0, true, true),
        };
        Body {
            r,
            left,
            last,
            to_end,
        }
    }
}

impl<R: Read> Read for Body<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.to_end {
                return self.r.read(buf);
            }
            if self.left > 0 {
                let want = usize::try_from(self.left)
                    .unwrap_or(usize::MAX)
                    .min(buf.len());
                let n = self.r.read(buf.get_mut(..want).unwrap_or_default())?;
                if n == 0 {
                    return Err(damaged("the OpenPGP data ends inside a packet"));
                }
                self.left -= n as u64;
                return Ok(n);
            }
            if self.last {
                return Ok(0);
            }
            let [first] = octets::<1>(&mut self.r)?;
            match new_length(first, &mut self.r)? {
                Length::Partial(n) => self.left = n,
                Length::Definite(n) => {
                    self.left = n;
                    self.last = true;
                }
                Length::Indeterminate => return Err(damaged("an indeterminate length")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definite_lengths_use_the_shortest_form() {
        assert_eq!(definite_length(0), [0]);
        assert_eq!(definite_length(191), [191]);
        assert_eq!(definite_length(192), [192, 0]);
        assert_eq!(definite_length(8383), [223, 255]);
        assert_eq!(definite_length(8384), [255, 0, 0, 0x20, 0xc0]);
        assert_eq!(definite_length(65_536), [255, 0, 1, 0, 0]);
    }

    #[test]
    fn written_lengths_read_back() {
        for len in [0usize, 1, 191, 192, 8383, 8384, 70_000] {
            let mut data = vec![0xc0 | TAG_LITERAL];
            data.extend(definite_length(len));
            assert_eq!(
                read_header(&mut &data[..]).unwrap(),
                Some((TAG_LITERAL, Length::Definite(len as u64)))
            );
        }
    }

    #[test]
    fn legacy_headers_read() {
        // Tag 11, length types 0, 1, 2 and 3.
        let cases: [(&[u8], Length); 4] = [
            (&[0xac, 5], Length::Definite(5)),
            (&[0xad, 1, 2], Length::Definite(258)),
            (&[0xae, 0, 1, 0, 0], Length::Definite(65_536)),
            (&[0xaf], Length::Indeterminate),
        ];
        for (header, length) in cases {
            assert_eq!(
                read_header(&mut &header[..]).unwrap(),
                Some((TAG_LITERAL, length))
            );
        }
        assert_eq!(read_header(&mut &[][..]).unwrap(), None);
        assert!(read_header(&mut &[0x2a][..]).is_err());
        assert!(read_header(&mut &[0xcb][..]).is_err());
        assert!(read_header(&mut &[0xcb, 255, 0][..]).is_err());
    }

    #[test]
    fn partial_chunks_read_as_one_body() {
        // 2 + 4 octets in partial chunks (the header's 224+1, then 224+2), 3 in the last.
        let data = [1, 2, 0xe2, 3, 4, 5, 6, 3, 7, 8, 9, 0xff];
        let mut src = &data[..];
        let mut body = Body::new(&mut src, Length::Partial(2));
        let mut out = Vec::new();
        body.read_to_end(&mut out).unwrap();
        assert_eq!(out, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        // What follows the body is left unread.
        assert_eq!(src, [0xff]);

        let short = [1, 2];
        let mut body = Body::new(&short[..], Length::Definite(3));
        assert!(body.read_to_end(&mut Vec::new()).is_err());
        let mut body = Body::new(&short[..], Length::Indeterminate);
        let mut out = Vec::new();
        body.read_to_end(&mut out).unwrap();
        assert_eq!(out, short);
    }
}
