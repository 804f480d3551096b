//! Streaming base64 in 76-column CRLF lines: the S/MIME body (RFC 2045 §6.8) and the
//! OpenPGP armor (RFC 9580 §6.2, lines of at most 76 characters).
//!
//! Whole lines are encoded in runs of about 57 KiB with the SIMD engine of the `base64`
//! crate (AVX2 or NEON, chosen at run time, scalar otherwise) and then spread into lines.

use std::io::{self, Write};

use base64::Engine as _;
use base64::engine::Simd;
use base64::engine::general_purpose::PAD;

/// Input bytes per output line: 57 bytes make 76 characters.
const LINE_INPUT: usize = 57;
/// Characters per line, without the CRLF.
const LINE_CHARS: usize = 76;
/// Lines encoded in one run.
const RUN_LINES: usize = 1024;
/// Output buffered before it is handed to the inner writer.
const FLUSH_AT: usize = 64 * 1024;

/// Encodes everything written to it as base64 in 76-column CRLF lines.
///
/// Call [`Base64Lines::finish`] at the end: it writes the last, padded line.
pub(crate) struct Base64Lines<W: Write> {
    inner: W,
    engine: Simd,
    pending: Vec<u8>,
    /// Encoded characters of one run, before they are spread into lines.
    scratch: Vec<u8>,
    /// Output not yet handed on: `out[..filled]`. The buffer grows to what a message needs
    /// (at most a run past 64 KiB) and keeps its length, so that it is zeroed only once.
    out: Vec<u8>,
    filled: usize,
}

impl<W: Write> Base64Lines<W> {
    pub(crate) fn new(inner: W) -> Self {
        Base64Lines {
            inner,
            engine: Simd::standard(PAD),
            pending: Vec::with_capacity(LINE_INPUT),
            scratch: Vec::new(),
            out: Vec::new(),
            filled: 0,
        }
    }

    /// Encodes whole lines (`input.len()` a multiple of 57, at most a run) into `out`.
    fn encode_lines(&mut self, input: &[u8]) {
        let lines = input.len() / LINE_INPUT;
        self.scratch.resize(lines * LINE_CHARS, 0);
        // The buffer was sized for the encoded lines; encoding cannot fail.
        let _ = self.engine.encode_slice(input, &mut self.scratch);
        let end = self.filled + lines * (LINE_CHARS + 2);
        if self.out.len() < end {
            self.out.resize(end, 0);
        }
        let dst = self.out.get_mut(self.filled..end).unwrap_or_default();
        self.filled = end;
        for (line, chars) in dst
            .chunks_exact_mut(LINE_CHARS + 2)
            .zip(self.scratch.chunks_exact(LINE_CHARS))
        {
            let (text, end) = line.split_at_mut(LINE_CHARS);
            text.copy_from_slice(chars);
            end.copy_from_slice(b"\r\n");
        }
    }

    /// Encodes the last, short line with its padding.
    fn encode_last(&mut self, line: &[u8]) {
        let chars = line.len().div_ceil(3) * 4;
        let end = self.filled + chars + 2;
        if self.out.len() < end {
            self.out.resize(end, 0);
        }
        if let Some(dst) = self.out.get_mut(self.filled..end) {
            let (text, crlf) = dst.split_at_mut(chars);
            // The buffer was sized for the encoded line; encoding cannot fail.
            let _ = self.engine.encode_slice(line, text);
            crlf.copy_from_slice(b"\r\n");
        }
        self.filled = end;
    }

    fn flush_out(&mut self) -> io::Result<()> {
        self.inner
            .write_all(self.out.get(..self.filled).unwrap_or_default())?;
        self.filled = 0;
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

impl<W: Write> Write for Base64Lines<W> {
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
            if self.filled >= FLUSH_AT {
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

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    fn encode(chunks: &[&[u8]]) -> String {
        let mut w = Base64Lines::new(Vec::new());
        for c in chunks {
            w.write_all(c).unwrap();
        }
        String::from_utf8(w.finish().unwrap()).unwrap()
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
