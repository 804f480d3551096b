//! Streaming base64 with MIME line wrapping: 76 characters and CRLF per line (RFC 2045 §6.8).

use std::io::{self, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Input bytes per output line: 57 bytes make 76 characters.
const LINE_INPUT: usize = 57;
/// Output buffered before it is handed to the inner writer.
const FLUSH_AT: usize = 64 * 1024;

/// Encodes everything written to it as base64 in 76-column CRLF lines.
///
/// Call [`Base64Lines::finish`] at the end: it writes the last, padded line.
pub(crate) struct Base64Lines<W: Write> {
    inner: W,
    pending: Vec<u8>,
    out: Vec<u8>,
}

impl<W: Write> Base64Lines<W> {
    pub(crate) fn new(inner: W) -> Self {
        Base64Lines {
            inner,
            pending: Vec::with_capacity(LINE_INPUT),
            out: Vec::with_capacity(FLUSH_AT + 128),
        }
    }

    fn encode_line(&mut self, line: &[u8]) {
        let start = self.out.len();
        self.out.resize(start + line.len().div_ceil(3) * 4, 0);
        if let Some(dst) = self.out.get_mut(start..) {
            // The buffer was sized for the encoded line; encoding cannot fail.
            let _ = STANDARD.encode_slice(line, dst);
        }
        self.out.extend_from_slice(b"\r\n");
    }

    fn flush_out(&mut self) -> io::Result<()> {
        self.inner.write_all(&self.out)?;
        self.out.clear();
        Ok(())
    }

    /// Writes the last line and returns the inner writer.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        if !self.pending.is_empty() {
            let pending = std::mem::take(&mut self.pending);
            self.encode_line(&pending);
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
                self.encode_line(&line);
                self.pending = line;
                self.pending.clear();
            }
        }
        let mut lines = buf.chunks_exact(LINE_INPUT);
        for line in &mut lines {
            self.encode_line(line);
            if self.out.len() >= FLUSH_AT {
                self.flush_out()?;
            }
        }
        self.pending.extend_from_slice(lines.remainder());
        if self.out.len() >= FLUSH_AT {
            self.flush_out()?;
        }
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
    fn empty_input_writes_nothing() {
        assert_eq!(encode(&[]), "");
    }
}
