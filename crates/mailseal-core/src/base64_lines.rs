//! Streaming base64 in 76-column CRLF lines: the S/MIME body (RFC 2045 §6.8) and the
//! OpenPGP armor (RFC 9580 §6.2, lines of at most 76 characters).
//!
//! Whole lines are encoded in runs of 256 lines (14 KiB of input) with the SIMD engine of
//! the `base64` crate (AVX2 or NEON, chosen at run time, scalar otherwise) and then spread
//! into lines: straight into the output when it is a vector in memory ([`LineSink`]), else
//! into a buffer handed on 64 KiB at a time.
//! Reading goes the other way: [`push_unwrapped`] joins the lines again (white space
//! dropped 64 bytes at a time) for the same engine to decode ([`Unwrapped`]).

use std::io::{self, Write};

use base64::Engine as _;
use base64::engine::Simd;
use base64::engine::general_purpose::PAD;

/// Input bytes per output line: 57 bytes make 76 characters.
const LINE_INPUT: usize = 57;
/// Characters per line, without the CRLF.
const LINE_CHARS: usize = 76;
/// Lines encoded in one run: the run's characters (19 KiB) stay in the first-level cache
/// while they are spread into lines.
const RUN_LINES: usize = 256;
/// Output buffered before it is handed to a writer that is not memory.
const FLUSH_AT: usize = 64 * 1024;

/// Where encoded lines go: a writer, or memory that the lines can be spread into directly.
pub(crate) trait LineSink: Write {
    /// The vector this writer appends to, when it is one. Lines are then written into it
    /// as they are made, instead of into a buffer that is copied into it afterwards.
    fn memory(&mut self) -> Option<&mut Vec<u8>> {
        None
    }
}

impl LineSink for Vec<u8> {
    fn memory(&mut self) -> Option<&mut Vec<u8>> {
        Some(self)
    }
}

impl<S: LineSink + ?Sized> LineSink for &mut S {
    fn memory(&mut self) -> Option<&mut Vec<u8>> {
        (**self).memory()
    }
}

/// Encodes everything written to it as base64 in 76-column CRLF lines.
///
/// Call [`Base64Lines::finish`] at the end: it writes the last, padded line.
pub(crate) struct Base64Lines<W: LineSink> {
    inner: W,
    engine: Simd,
    pending: Vec<u8>,
    /// Encoded characters of one run, before they are spread into lines.
    scratch: Vec<u8>,
    /// Lines not yet handed to a writer that is not memory.
    out: Vec<u8>,
}

impl<W: LineSink> Base64Lines<W> {
    pub(crate) fn new(inner: W) -> Self {
        Base64Lines {
            inner,
            engine: Simd::standard(PAD),
            pending: Vec::with_capacity(LINE_INPUT),
            scratch: Vec::new(),
            out: Vec::new(),
        }
    }

    /// Where lines are appended: the inner vector, or the buffer for the inner writer.
    fn lines_to(&mut self) -> &mut Vec<u8> {
        match self.inner.memory() {
            Some(memory) => memory,
            None => &mut self.out,
        }
    }

    /// Encodes whole lines (`input.len()` a multiple of 57, at most a run).
    fn encode_lines(&mut self, input: &[u8]) {
        let lines = input.len() / LINE_INPUT;
        self.scratch.resize(lines * LINE_CHARS, 0);
        // The buffer was sized for the encoded lines; encoding cannot fail.
        let _ = self.engine.encode_slice(input, &mut self.scratch);
        let scratch = std::mem::take(&mut self.scratch);
        let (chars, _) = scratch.as_chunks::<LINE_CHARS>();
        let dst = self.lines_to();
        // Zeroed and then written while the run is in the first-level cache: cheaper than
        // appending line by line.
        let start = dst.len();
        dst.resize(start + lines * (LINE_CHARS + 2), 0);
        let (spread, _) = dst
            .get_mut(start..)
            .unwrap_or_default()
            .as_chunks_mut::<{ LINE_CHARS + 2 }>();
        for (line, text) in spread.iter_mut().zip(chars) {
            let (head, crlf) = line.split_at_mut(LINE_CHARS);
            head.copy_from_slice(text);
            crlf.copy_from_slice(b"\r\n");
        }
        self.scratch = scratch;
    }

    /// Encodes the last, short line with its padding.
    fn encode_last(&mut self, line: &[u8]) {
        let text = self.engine.encode(line);
        let dst = self.lines_to();
        dst.extend_from_slice(text.as_bytes());
        dst.extend_from_slice(b"\r\n");
    }

    fn flush_out(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            self.inner.write_all(&self.out)?;
            self.out.clear();
        }
        Ok(())
    }

    /// Writes the last line and returns the inner writer.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        if !self.pending.is_empty() {
            let pending = std::mem::take(&mut self.pending);
            self.encode_last(&pending);
        }
        self.flush_out()?;
        Ok(self.inner)
    }
}

impl<W: LineSink> Write for Base64Lines<W> {
    fn write(&mut self, mut buf: &[u8]) -> io::Result<usize> {
        let n = buf.len();
        if !self.pending.is_empty() {
            let take = (LINE_INPUT - self.pending.len()).min(buf.len());
            let (head, rest) = buf.split_at(take);
            self.pending.extend_from_slice(head);
            buf = rest;
            if self.pending.len() == LINE_INPUT {
                let line = std::mem::take(&mut self.pending);
                self.encode_lines(&line);
                self.pending = line;
                self.pending.clear();
            }
        }
        let whole = buf.len() / LINE_INPUT * LINE_INPUT;
        let (lines, rest) = buf.split_at(whole);
        for run in lines.chunks(RUN_LINES * LINE_INPUT) {
            self.encode_lines(run);
            if self.out.len() >= FLUSH_AT {
                self.flush_out()?;
            }
        }
        self.pending.extend_from_slice(rest);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_out()?;
        self.inner.flush()
    }
}

/// Bytes tested at a time by [`push_unwrapped`].
const STRIP_BLOCK: usize = 64;

/// Whether `b` is ASCII white space (as [`u8::is_ascii_whitespace`]: space, tab, line feed,
/// form feed, carriage return).
fn is_white(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0c)
}

/// A bit for each of the 8 bytes of `word` (little-endian order) at or below 0x20: space
/// and the control characters, among them all of ASCII white space.
///
/// Per byte, `(b & 0x7f) + 0x5f` sets the high bit exactly when `b & 0x7f` is 0x21 or more,
/// without a carry into the next byte; or-ing `b` in counts bytes from 0x80 up as well. The
/// eight high bits are then gathered into one byte by a multiplication.
fn low_bytes(word: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const ADD: u64 = 0x5f5f_5f5f_5f5f_5f5f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let high = !(((word & LOW7) + ADD) | word) & HIGH;
    (high >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// Appends `src` to `dst` without its ASCII white space: base64 lines joined for decoding.
///
/// Each block of 64 bytes gets a bit mask of its bytes at or below 0x20, eight at a time
/// (`low_bytes`), and the runs between them are copied whole: a wrapped body has one or two
/// line breaks per block, so this is a few copies per line instead of a test per byte. A
/// marked byte that is not white space (a control character) is kept, for the decoder to
/// refuse.
pub(crate) fn push_unwrapped(dst: &mut Vec<u8>, src: &[u8]) {
    dst.reserve(src.len());
    let mut blocks = src.chunks_exact(STRIP_BLOCK);
    for block in &mut blocks {
        let mut mask = 0u64;
        for (i, word) in block.chunks_exact(8).enumerate() {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(word);
            mask |= low_bytes(u64::from_le_bytes(bytes)) << (8 * i);
        }
        let mut start = 0;
        while mask != 0 {
            let i = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            if block.get(i).is_some_and(|&b| is_white(b)) {
                dst.extend_from_slice(block.get(start..i).unwrap_or_default());
                start = i + 1;
            }
        }
        dst.extend_from_slice(block.get(start..).unwrap_or_default());
    }
    dst.extend(blocks.remainder().iter().copied().filter(|&b| !is_white(b)));
}

/// Base64 text fed in wrapped lines and decoded in runs, for the readers of base64 bodies
/// (`message::decrypt::Base64Body`) and of the OpenPGP armor (`pgp::armor::Dearmor`).
pub(crate) struct Unwrapped {
    /// The SIMD engine (AVX2 or NEON when the processor has it), strict as `STANDARD`.
    engine: Simd,
    /// Base64 characters not decoded yet (at most an incomplete group of four after
    /// [`Unwrapped::decode`]).
    pending: Vec<u8>,
    /// Decoded bytes, handed out from `at`.
    decoded: Vec<u8>,
    at: usize,
}

/// The text is not valid base64.
pub(crate) struct InvalidBase64;

impl Unwrapped {
    pub(crate) fn new(capacity: usize) -> Self {
        Unwrapped {
            engine: Simd::standard(PAD),
            pending: Vec::with_capacity(capacity),
            decoded: Vec::with_capacity(capacity),
            at: 0,
        }
    }

    /// Adds wrapped base64 text (its white space is dropped).
    pub(crate) fn push(&mut self, text: &[u8]) {
        push_unwrapped(&mut self.pending, text);
    }

    /// Decodes the complete groups of four added so far (everything, padding included, when
    /// `last`), replacing what was not handed out; whether there are bytes to hand out now.
    pub(crate) fn decode(&mut self, last: bool) -> Result<bool, InvalidBase64> {
        let usable = if last {
            self.pending.len()
        } else {
            self.pending.len() / 4 * 4
        };
        if usable == 0 {
            return Ok(false);
        }
        self.decoded.clear();
        self.at = 0;
        self.engine
            .decode_vec(
                self.pending.get(..usable).unwrap_or_default(),
                &mut self.decoded,
            )
            .map_err(|_| InvalidBase64)?;
        self.pending.drain(..usable);
        Ok(!self.decoded.is_empty())
    }

    /// Whether decoded bytes wait to be handed out.
    pub(crate) fn has_output(&self) -> bool {
        self.at < self.decoded.len()
    }

    /// Hands out decoded bytes into `buf`; how many.
    pub(crate) fn take(&mut self, buf: &mut [u8]) -> usize {
        let left = self.decoded.get(self.at..).unwrap_or_default();
        let n = left.len().min(buf.len());
        buf.get_mut(..n)
            .unwrap_or_default()
            .copy_from_slice(left.get(..n).unwrap_or_default());
        self.at += n;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    #[test]
    fn low_bytes_marks_exactly_the_bytes_up_to_0x20() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut word = [b'A'; 8];
                word[at] = b;
                let mask = low_bytes(u64::from_le_bytes(word));
                let expected = if b <= 0x20 { 1 << at } else { 0 };
                assert_eq!(mask, expected, "byte {b:#x} at {at}");
            }
        }
        assert_eq!(
            low_bytes(u64::from_le_bytes(*b"\r\n\0 \t\x0b\x1f\x20")),
            0xff
        );
        assert_eq!(
            low_bytes(u64::from_le_bytes([
                0x21, 0x80, 0xff, 0xa0, 0x7f, 0x41, 0x2f, 0x3d
            ])),
            0
        );
    }

    #[test]
    fn unwrapping_drops_exactly_the_white_space() {
        let text: Vec<u8> = (0..2000u32)
            .map(|i| {
                let alphabet = b"ab\r\ncd\t e\x0cf+/=\n\x0b";
                alphabet[(i as usize * 7 + i as usize / 13) % alphabet.len()]
            })
            .collect();
        for start in [0, 1, 63, 64, 65] {
            let src = &text[start..];
            let mut dst = b"kept".to_vec();
            push_unwrapped(&mut dst, src);
            let expected: Vec<u8> = b"kept"
                .iter()
                .chain(src.iter().filter(|b| !b.is_ascii_whitespace()))
                .copied()
                .collect();
            assert_eq!(dst, expected, "from {start}");
        }
    }

    /// A writer that is not memory: lines reach it through the buffer.
    struct Writer(Vec<u8>);

    impl Write for Writer {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.write(buf)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl LineSink for Writer {}

    /// The lines for `chunks`, spread into memory and through a writer (which must agree).
    fn encode(chunks: &[&[u8]]) -> String {
        let mut memory = Base64Lines::new(b"head".to_vec());
        let mut writer = Base64Lines::new(Writer(b"head".to_vec()));
        for c in chunks {
            memory.write_all(c).unwrap();
            writer.write_all(c).unwrap();
        }
        let memory = memory.finish().unwrap();
        assert_eq!(writer.finish().unwrap().0, memory);
        String::from_utf8(memory.strip_prefix(b"head").unwrap().to_vec()).unwrap()
    }

    #[test]
    fn lines_are_76_columns_with_crlf() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let text = encode(&[&data]);
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines.last(), Some(&""));
        for l in &lines[..lines.len() - 2] {
            assert_eq!(l.len(), 76);
        }
        let joined: String = lines.concat();
        assert_eq!(STANDARD.decode(joined).unwrap(), data);
    }

    #[test]
    fn chunking_does_not_change_output() {
        let data: Vec<u8> = (0..500u32).map(|i| (i * 7) as u8).collect();
        let whole = encode(&[&data]);
        let (a, b) = data.split_at(13);
        let (b, c) = b.split_at(100);
        assert_eq!(encode(&[a, b, c]), whole);
        let bytes: Vec<&[u8]> = data.chunks(1).collect();
        assert_eq!(encode(&bytes), whole);
    }

    #[test]
    fn long_input_in_any_chunks_is_the_plain_encoding_in_lines() {
        let data: Vec<u8> = (0..300_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let plain = STANDARD.encode(&data);
        let expected: String = plain
            .as_bytes()
            .chunks(76)
            .map(|l| format!("{}\r\n", std::str::from_utf8(l).unwrap()))
            .collect();
        assert_eq!(encode(&[&data]), expected);
        for size in [1, 56, 57, 58, 4096, 65_536, 100_000] {
            let chunks: Vec<&[u8]> = data.chunks(size).collect();
            assert_eq!(encode(&chunks), expected, "chunks of {size}");
        }
    }

    #[test]
    fn empty_input_writes_nothing() {
        assert_eq!(encode(&[]), "");
    }
}
