//! A pull reader of BER from a stream: element headers one at a time, small elements whole
//! (for the tree reader in [`crate::ber`]), and the content octets of a large OCTET STRING
//! chunk by chunk, whether primitive or constructed, definite or indefinite.

use std::io::{self, BufRead};

use crate::ber::BerError;

/// The largest element read whole (certificates, recipient infos, parameters): anything
/// bigger in those places is not a real message.
const MAX_WHOLE: u64 = 4 * 1024 * 1024;
/// As deep as the tree reader (`crate::ber`) goes.
const MAX_DEPTH: usize = 64;

/// An element header: its tag and its length (`None`: indefinite, ends with `00 00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) tag: u8,
    pub(crate) len: Option<u64>,
}

impl Header {
    pub(crate) fn is_constructed(&self) -> bool {
        self.tag & 0x20 != 0
    }
}

/// What reading failed on: the stream, or its contents.
#[derive(Debug)]
pub(crate) enum StreamError {
    Io(io::Error),
    Ber(BerError),
}

impl From<io::Error> for StreamError {
    fn from(e: io::Error) -> Self {
        // An error of the caller's reader keeps its kind; it is theirs, not the data's.
        if e.kind() == io::ErrorKind::UnexpectedEof && crate::error::carried(&e).is_none() {
            return StreamError::Ber(BerError("the data ends early"));
        }
        StreamError::Io(e)
    }
}

impl From<BerError> for StreamError {
    fn from(e: BerError) -> Self {
        StreamError::Ber(e)
    }
}

fn bad(what: &'static str) -> StreamError {
    StreamError::Ber(BerError(what))
}

pub(crate) struct BerStream<R> {
    r: R,
    /// How many bytes were taken so far (ends of definite-length elements).
    pos: u64,
}

impl<R: BufRead> BerStream<R> {
    pub(crate) fn new(r: R) -> Self {
        BerStream { r, pos: 0 }
    }

    fn byte(&mut self) -> Result<u8, StreamError> {
        let mut b = [0u8; 1];
        self.r.read_exact(&mut b)?;
        self.pos += 1;
        Ok(b[0])
    }

    /// How many bytes were taken so far.
    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    /// Checks that the element whose header ended at `start` ends here: its end-of-contents
    /// marker is next (indefinite length), or its length is used up exactly.
    pub(crate) fn close(&mut self, h: Header, start: u64) -> Result<(), StreamError> {
        let closed = match h.len {
            None => self.end_of_contents()?,
            Some(n) => start.checked_add(n) == Some(self.pos),
        };
        if closed {
            Ok(())
        } else {
            Err(bad("an element does not end where its length says"))
        }
    }

    /// Whether the element whose header ended at `start` has no more children (taking its
    /// end-of-contents marker, if that is next).
    pub(crate) fn at_end(&mut self, h: Header, start: u64) -> Result<bool, StreamError> {
        match h.len {
            None => self.end_of_contents(),
            Some(n) => Ok(start.checked_add(n).is_none_or(|end| self.pos >= end)),
        }
    }

    /// The next byte without taking it (`None` at the end).
    pub(crate) fn peek(&mut self) -> Result<Option<u8>, StreamError> {
        Ok(self.r.fill_buf()?.first().copied())
    }

    /// Reads an element header; the header's bytes are appended to `raw` when given.
    pub(crate) fn header(&mut self, mut raw: Option<&mut Vec<u8>>) -> Result<Header, StreamError> {
        let tag = self.byte()?;
        if tag & 0x1f == 0x1f {
            return Err(bad("multi-byte tags are not used in CMS"));
        }
        let first = self.byte()?;
        if let Some(raw) = raw.as_deref_mut() {
            raw.extend_from_slice(&[tag, first]);
        }
        let len = match first {
            0x80 => {
                if tag & 0x20 == 0 {
                    return Err(bad("indefinite length on a primitive element"));
                }
                None
            }
            n if n < 0x80 => Some(u64::from(n)),
            n => {
                let count = usize::from(n & 0x7f);
                // Four length bytes (4 GiB) are plenty, as in the tree reader; more could
                // overflow the arithmetic on positions.
                if count > 4 {
                    return Err(bad("length too long"));
                }
                let mut len = 0u64;
                for _ in 0..count {
                    let b = self.byte()?;
                    if let Some(raw) = raw.as_deref_mut() {
                        raw.push(b);
                    }
                    len = (len << 8) | u64::from(b);
                }
                Some(len)
            }
        };
        Ok(Header { tag, len })
    }

    /// Reads one whole element (at most [`MAX_WHOLE`] bytes), header included, as it was
    /// encoded: for `crate::ber::read`.
    pub(crate) fn whole(&mut self) -> Result<Vec<u8>, StreamError> {
        let mut raw = Vec::new();
        self.whole_into(&mut raw, 0)?;
        Ok(raw)
    }

    fn whole_into(&mut self, raw: &mut Vec<u8>, depth: usize) -> Result<(), StreamError> {
        if depth > MAX_DEPTH {
            return Err(bad("nested too deeply"));
        }
        let h = self.header(Some(raw))?;
        match h.len {
            Some(n) => {
                if n > MAX_WHOLE || raw.len() as u64 + n > MAX_WHOLE {
                    return Err(bad("an element is too large"));
                }
                let start = raw.len();
                // Below MAX_WHOLE (4 MiB): fits any usize.
                raw.resize(start + n as usize, 0);
                self.r
                    .read_exact(raw.get_mut(start..).unwrap_or_default())?;
                self.pos += n;
            }
            None => loop {
                if raw.len() as u64 > MAX_WHOLE {
                    return Err(bad("an element is too large"));
                }
                if self.end_of_contents()? {
                    raw.extend_from_slice(&[0, 0]);
                    break;
                }
                self.whole_into(raw, depth + 1)?;
            },
        }
        Ok(())
    }

    /// Takes the end-of-contents marker `00 00` if it comes next.
    pub(crate) fn end_of_contents(&mut self) -> Result<bool, StreamError> {
        let buf = self.r.fill_buf()?;
        if buf.first() != Some(&0) {
            return Ok(false);
        }
        // Both bytes, even if the buffer holds only one of them.
        self.byte()?;
        if self.byte()? != 0 {
            return Err(bad("bad end-of-contents marker"));
        }
        Ok(true)
    }

    /// The content octets of an OCTET STRING (or an implicitly tagged one) whose header was
    /// read, handed to `sink` chunk by chunk: primitive or constructed, of any length.
    pub(crate) fn octets(
        &mut self,
        h: Header,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), StreamError>,
    ) -> Result<(), StreamError> {
        self.octets_at(h, sink, 0)
    }

    fn octets_at(
        &mut self,
        h: Header,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), StreamError>,
        depth: usize,
    ) -> Result<(), StreamError> {
        if depth > MAX_DEPTH {
            return Err(bad("nested too deeply"));
        }
        if !h.is_constructed() {
            let mut left = h.len.unwrap_or(0);
            while left > 0 {
                let buf = self.r.fill_buf()?;
                if buf.is_empty() {
                    return Err(bad("the data ends early"));
                }
                let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                sink(buf.get(..n).unwrap_or_default())?;
                self.r.consume(n);
                self.pos += n as u64;
                left -= n as u64;
            }
            return Ok(());
        }
        match h.len {
            None => {
                while !self.end_of_contents()? {
                    let inner = self.header(None)?;
                    if inner.tag & 0xdf != 0x04 {
                        return Err(bad("a constructed OCTET STRING holds something else"));
                    }
                    self.octets_at(inner, sink, depth + 1)?;
                }
            }
            Some(total) => {
                // Definite constructed: children until `total` bytes are used up.
                let end = self
                    .pos
                    .checked_add(total)
                    .ok_or_else(|| bad("length too long"))?;
                while self.pos < end {
                    let inner = self.header(None)?;
                    if inner.tag & 0xdf != 0x04 {
                        return Err(bad("a constructed OCTET STRING holds something else"));
                    }
                    self.octets_at(inner, sink, depth + 1)?;
                }
                if self.pos != end {
                    return Err(bad("a constructed OCTET STRING overruns its length"));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn collect(data: &[u8]) -> Result<Vec<u8>, StreamError> {
        let mut s = BerStream::new(data);
        let h = s.header(None)?;
        let mut out = Vec::new();
        s.octets(h, &mut |c| {
            out.extend_from_slice(c);
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn octets_of_every_shape() {
        assert_eq!(collect(&[0x04, 3, 1, 2, 3]).unwrap(), [1, 2, 3]);
        assert_eq!(collect(&[0x80, 2, 9, 8]).unwrap(), [9, 8]);
        // Constructed, indefinite, with a nested constructed definite chunk.
        let ber = [
            0x24, 0x80, 0x04, 1, 1, 0x24, 6, 0x04, 1, 2, 0x04, 1, 3, 0x04, 0, 0, 0,
        ];
        assert_eq!(collect(&ber).unwrap(), [1, 2, 3]);
        assert_eq!(collect(&[0xa0, 0x80, 0x04, 2, 7, 7, 0, 0]).unwrap(), [7, 7]);
    }

    #[test]
    fn damaged_octets_are_errors_not_hangs() {
        for bad in [
            &[0x04, 5, 1, 2][..],
            &[0x24, 0x80, 0x04, 1, 1][..],
            &[0x24, 0x80, 0x30, 0][..],
            &[0x24, 3, 0x04, 5, 1, 2, 3, 4, 5][..],
            &[0x04, 0x80][..],
            &[0x04, 0x89, 1, 1, 1, 1, 1, 1, 1, 1, 1][..],
        ] {
            assert!(collect(bad).is_err(), "{bad:02x?}");
        }
    }

    #[test]
    fn lengths_near_the_top_of_u64_are_errors_not_overflows() {
        for bad in [
            &[0x04, 0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff][..],
            &[0x24, 0x84, 0xff, 0xff, 0xff, 0xff, 0x04, 1, 1][..],
            &[0x04, 0x84, 0xff, 0xff, 0xff, 0xf0, 1, 2][..],
        ] {
            assert!(collect(bad).is_err(), "{bad:02x?}");
            assert!(BerStream::new(bad).whole().is_err(), "{bad:02x?}");
        }
        let mut s = BerStream::new(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff][..]);
        let h = s.header(None).unwrap();
        let start = s.pos();
        assert!(!s.at_end(h, start).unwrap());
        assert!(s.close(h, start).is_err());
    }

    #[test]
    fn whole_elements_keep_their_encoding() {
        let ber = [0x31, 0x80, 0x02, 1, 5, 0x30, 0x80, 0, 0, 0, 0, 0xff];
        let mut s = BerStream::new(&ber[..]);
        assert_eq!(s.whole().unwrap(), ber[..11]);
        assert_eq!(s.peek().unwrap(), Some(0xff));
    }
}
