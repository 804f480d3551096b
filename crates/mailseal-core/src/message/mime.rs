//! The header split of a stored message (RFC 5322 §2.2, RFC 2045 §3), as Stalwart does it.
//!
//! The root's MIME headers (`Content-Type`, `-Transfer-Encoding`, `-Disposition`, `-ID`,
//! `-Description`, `-Language`, `-Location`) move into the encrypted entity; every other
//! header stays outside, byte for byte and in order. Parsing is lenient: a message with no
//! blank line is all headers, a line that is not a header field is kept as it is.
//!
//! Line ends: stored mail uses CRLF. Bare LF line ends (a message saved by a Unix tool) are
//! turned into CRLF, so that the output is CRLF throughout; a CRLF message passes unchanged.

use std::io::{self, Read, Write};

use crate::error::{MimeError, encrypt_io};

/// The longest header block accepted (1 MiB), so that a stream without a blank line cannot
/// make us buffer the whole message.
pub(crate) const MAX_HEADER_LEN: usize = 1 << 20;

/// The MIME header fields that belong to the entity, not to the message envelope.
const MIME_FIELDS: &[&str] = &[
    "content-type",
    "content-transfer-encoding",
    "content-disposition",
    "content-id",
    "content-description",
    "content-language",
    "content-location",
];

/// A message's header block, split.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Headers {
    /// The fields that stay outside, CRLF-terminated, in order.
    pub(crate) outer: Vec<u8>,
    /// The MIME fields that go into the encrypted entity, CRLF-terminated, in order.
    pub(crate) inner: Vec<u8>,
    /// Whether a `MIME-Version` field was among the outer fields.
    pub(crate) has_mime_version: bool,
    /// The root `Content-Type`, if any.
    pub(crate) content_type: Option<ContentType>,
    /// The root `Content-Transfer-Encoding`, lower-cased, if any.
    pub(crate) transfer_encoding: Option<String>,
}

impl Headers {
    /// Whether the root body is declared `binary`, whose bytes must not be touched.
    pub(crate) fn is_binary(&self) -> bool {
        self.transfer_encoding.as_deref() == Some("binary")
    }
}

/// A parsed `Content-Type` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContentType {
    /// `type/subtype`, lower-cased.
    pub(crate) mime_type: String,
    /// Parameters with lower-cased names and unquoted values.
    pub(crate) params: Vec<(String, String)>,
}

impl ContentType {
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Parses an unfolded header value.
    pub(crate) fn parse(value: &[u8]) -> ContentType {
        let text = String::from_utf8_lossy(value);
        let mut parts = split_params(&text).into_iter();
        let mime_type = parts
            .next()
            .map(|t| t.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let params = parts
            .filter_map(|p| {
                let (n, v) = p.split_once('=')?;
                let v = v.trim();
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .map(|v| v.replace("\\\"", "\"").replace("\\\\", "\\"))
                    .unwrap_or_else(|| v.to_owned());
                Some((n.trim().to_ascii_lowercase(), v))
            })
            .collect();
        ContentType { mime_type, params }
    }
}

/// Splits on `;` outside quoted strings.
fn split_params(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == ';' && !quoted {
            out.push(std::mem::take(&mut cur));
            continue;
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

/// Where the header block of `data` ends: `(end of the last header line, start of the body)`.
/// `None` when no blank line was found (the data may be all headers, or cut short).
pub(crate) fn header_end(data: &[u8]) -> Option<(usize, usize)> {
    // A message may start with its blank line (no headers at all).
    if data.starts_with(b"\r\n") {
        return Some((0, 2));
    }
    if data.starts_with(b"\n") {
        return Some((0, 1));
    }
    let mut i = 0;
    while let Some(pos) = data
        .get(i..)
        .and_then(|d| d.iter().position(|b| *b == b'\n'))
    {
        let nl = i + pos;
        match data.get(nl + 1..nl + 3) {
            Some(b"\r\n") => return Some((nl + 1, nl + 3)),
            _ if data.get(nl + 1) == Some(&b'\n') => return Some((nl + 1, nl + 2)),
            _ => {}
        }
        i = nl + 1;
    }
    None
}

/// Splits a header block (without the blank line) into outer and inner fields.
pub(crate) fn split_headers(block: &[u8]) -> Headers {
    let mut h = Headers::default();
    for field in fields(block) {
        let name = field_name(field);
        let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
        let mut canonical = to_crlf(field);
        // The last field of a message without body may lack its line end.
        if !canonical.ends_with(b"\r\n") {
            canonical.extend_from_slice(b"\r\n");
        }
        if MIME_FIELDS.contains(&lower.as_str()) {
            let value = unfold(field_value(field));
            if lower == "content-type" && h.content_type.is_none() {
                h.content_type = Some(ContentType::parse(&value));
            } else if lower == "content-transfer-encoding" && h.transfer_encoding.is_none() {
                h.transfer_encoding =
                    Some(String::from_utf8_lossy(&value).trim().to_ascii_lowercase());
            }
            h.inner.extend_from_slice(&canonical);
        } else {
            if lower == "mime-version" {
                h.has_mime_version = true;
            }
            h.outer.extend_from_slice(&canonical);
        }
    }
    h
}

/// The fields of a header block, each with its continuation lines and line end.
pub(crate) fn fields(block: &[u8]) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    while pos < block.len() {
        let end = block
            .get(pos..)
            .and_then(|d| d.iter().position(|b| *b == b'\n'))
            .map_or(block.len(), |p| pos + p + 1);
        let next_is_continuation = matches!(block.get(end), Some(b' ' | b'\t'));
        if !next_is_continuation {
            if let Some(f) = block.get(start..end) {
                out.push(f);
            }
            start = end;
        }
        pos = end;
    }
    out
}

/// The field name: the bytes before the first `:`, without trailing whitespace.
pub(crate) fn field_name(field: &[u8]) -> &[u8] {
    let name = field
        .iter()
        .position(|b| *b == b':')
        .and_then(|p| field.get(..p))
        .unwrap_or_default();
    name.trim_ascii_end()
}

/// The raw value after the first `:` (still folded).
pub(crate) fn field_value(field: &[u8]) -> &[u8] {
    field
        .iter()
        .position(|b| *b == b':')
        .and_then(|p| field.get(p + 1..))
        .unwrap_or_default()
}

/// Removes line breaks (RFC 5322 §2.2.3 unfolding) and the trailing line end.
pub(crate) fn unfold(value: &[u8]) -> Vec<u8> {
    value
        .iter()
        .copied()
        .filter(|b| *b != b'\r' && *b != b'\n')
        .collect()
}

/// Turns bare LF into CRLF; CRLF and lone CR stay as they are.
pub(crate) fn to_crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 16);
    let mut w = CrlfWriter::new(&mut out);
    // Writing to a Vec cannot fail.
    let _ = w.write_all(data);
    out
}

/// The header block of a stream, read up to and including the blank line, and whatever of
/// the body was read with it.
pub(crate) struct HeadBlock {
    /// The header fields (without the blank line).
    pub(crate) headers: Vec<u8>,
    /// The blank line that ended the header block (`\r\n`, `\n`, or empty when none).
    pub(crate) separator: Vec<u8>,
    /// Body bytes already read from the stream.
    pub(crate) body_prefix: Vec<u8>,
}

/// Reads the header block from `input`, and at least `peek` bytes of the body when there are.
pub(crate) fn read_head(input: &mut impl Read, peek: usize) -> Result<HeadBlock, crate::Error> {
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut chunk = [0u8; 16 * 1024];
    let mut eof = false;
    let (hdr_end, body_start) = loop {
        if let Some(found) = header_end(&buf) {
            break found;
        }
        if eof {
            if buf.is_empty() {
                return Err(MimeError::Empty.into());
            }
            // No blank line: everything is headers, the body is empty.
            break (buf.len(), buf.len());
        }
        if buf.len() > MAX_HEADER_LEN {
            return Err(MimeError::HeadersTooLong {
                limit: MAX_HEADER_LEN,
            }
            .into());
        }
        let n = read_some(input, &mut chunk).map_err(encrypt_io)?;
        if n == 0 {
            eof = true;
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    };
    // Read a little of the body for detection.
    while !eof && buf.len() - body_start < peek {
        let n = read_some(input, &mut chunk).map_err(encrypt_io)?;
        if n == 0 {
            eof = true;
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
    let body_prefix = buf.get(body_start..).unwrap_or_default().to_vec();
    let separator = buf.get(hdr_end..body_start).unwrap_or_default().to_vec();
    buf.truncate(hdr_end);
    Ok(HeadBlock {
        headers: buf,
        separator,
        body_prefix,
    })
}

fn read_some(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match input.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// A writer that turns bare LF into CRLF on the way through.
pub(crate) struct CrlfWriter<W: Write> {
    inner: W,
    last_cr: bool,
}

impl<W: Write> CrlfWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        CrlfWriter {
            inner,
            last_cr: false,
        }
    }

    pub(crate) fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for CrlfWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut start = 0;
        let mut from = 0;
        while let Some(i) = next_bare_lf(self.last_cr, buf, from) {
            self.inner
                .write_all(buf.get(start..i).unwrap_or_default())?;
            self.inner.write_all(b"\r")?;
            start = i;
            from = i + 1;
        }
        self.inner.write_all(buf.get(start..).unwrap_or_default())?;
        if let Some(last) = buf.last() {
            self.last_cr = *last == b'\r';
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Bytes checked at a time for a bare line feed.
const SCAN_BLOCK: usize = 256;

/// Whether a line feed among the last [`SCAN_BLOCK`] bytes of `window` has no carriage
/// return before it.
///
/// The window is compared with itself shifted by one byte: two arrays of a fixed length,
/// which the compiler turns into vector compares without a carried dependency (twice the
/// speed of a byte loop). Mail is mostly CRLF already, and this is a pass over every byte.
fn has_bare_lf(window: &[u8; SCAN_BLOCK + 1]) -> bool {
    let (Some(before), Some(bytes)) = (
        window.first_chunk::<SCAN_BLOCK>(),
        window.last_chunk::<SCAN_BLOCK>(),
    ) else {
        return false;
    };
    let mut found = 0u8;
    for (&b, &last) in bytes.iter().zip(before) {
        found |= u8::from(b == b'\n') & u8::from(last != b'\r');
    }
    found != 0
}

/// The index of the first line feed at or after `from` that no carriage return precedes
/// (`prev_cr`: whether the byte before `buf` was one).
fn next_bare_lf(prev_cr: bool, buf: &[u8], from: usize) -> Option<usize> {
    let rest = buf.get(from..)?;
    let prev_is_cr = match from.checked_sub(1) {
        None => prev_cr,
        Some(p) => buf.get(p) == Some(&b'\r'),
    };
    if rest.first() == Some(&b'\n') && !prev_is_cr {
        return Some(from);
    }
    // Each window holds the byte before the block it tests.
    let mut offset = 0;
    for window in rest.windows(SCAN_BLOCK + 1).step_by(SCAN_BLOCK) {
        if <&[u8; SCAN_BLOCK + 1]>::try_from(window).is_ok_and(has_bare_lf) {
            break;
        }
        offset += SCAN_BLOCK;
    }
    rest.get(offset..)?
        .windows(2)
        .position(|pair| matches!(pair, [last, b'\n'] if *last != b'\r'))
        .map(|i| from + offset + i + 1)
}

/// The number of line feeds in `data` not preceded by a carriage return.
pub(crate) fn bare_lf_count(data: &[u8]) -> usize {
    let mut n = 0;
    let mut from = 0;
    while let Some(i) = next_bare_lf(false, data, from) {
        n += 1;
        from = i + 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_line_feed_search_matches_a_byte_loop() {
        let naive = |prev_cr: bool, buf: &[u8], from: usize| {
            (from..buf.len())
                .find(|&i| buf[i] == b'\n' && !(if i == 0 { prev_cr } else { buf[i - 1] == b'\r' }))
        };
        let mut x = 0x2545_f491_u32;
        for len in [0usize, 1, 5, 255, 256, 257, 600, 1500] {
            for _ in 0..40 {
                let data: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        match x % 64 {
                            0 => b'\n',
                            1..=3 => b'\r',
                            _ => b'a',
                        }
                    })
                    .collect();
                for from in [0, 1, len / 2, len.saturating_sub(1), len] {
                    for prev_cr in [false, true] {
                        assert_eq!(
                            next_bare_lf(prev_cr, &data, from),
                            naive(prev_cr, &data, from),
                            "{data:?} from {from}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn bare_line_feeds_are_found_across_blocks_and_calls() {
        for len in [0, 1, 2, 63, 200, 255, 256, 257, 258, 513, 600] {
            for pos in 0..len {
                let mut data = vec![b'a'; len];
                data[pos] = b'\n';
                assert_eq!(next_bare_lf(false, &data, 0), Some(pos));
                assert_eq!(bare_lf_count(&data), 1);
                if pos > 0 {
                    data[pos - 1] = b'\r';
                    assert_eq!(next_bare_lf(false, &data, 0), None, "CRLF at {pos}");
                    assert_eq!(bare_lf_count(&data), 0);
                } else {
                    assert_eq!(next_bare_lf(true, &data, 0), None, "CR in the write before");
                }
            }
        }
        let mut out = Vec::new();
        let mut w = CrlfWriter::new(&mut out);
        for chunk in b"a\r\nb\nc\r".chunks(1) {
            w.write_all(chunk).unwrap();
        }
        w.write_all(b"\n\n").unwrap();
        assert_eq!(out, b"a\r\nb\r\nc\r\n\r\n");
    }

    const MSG: &[u8] = b"Received: from x\r\n\tby y\r\nFrom: a@b\r\nContent-Type: text/plain;\r\n charset=utf-8\r\nSubject: hi\r\nContent-MD5: abc\r\nContent-Transfer-Encoding: 8bit\r\n\r\nbody\r\n";

    #[test]
    fn mime_fields_move_inside_and_the_rest_stays_in_order() {
        let (end, body) = header_end(MSG).unwrap();
        assert_eq!(&MSG[body..], b"body\r\n");
        let h = split_headers(&MSG[..end]);
        assert_eq!(
            h.outer,
            b"Received: from x\r\n\tby y\r\nFrom: a@b\r\nSubject: hi\r\nContent-MD5: abc\r\n"
        );
        assert_eq!(
            h.inner,
            b"Content-Type: text/plain;\r\n charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
        );
        let ct = h.content_type.unwrap();
        assert_eq!(ct.mime_type, "text/plain");
        assert_eq!(ct.param("charset"), Some("utf-8"));
        assert!(!h.has_mime_version);
    }

    #[test]
    fn bare_lf_becomes_crlf() {
        assert_eq!(to_crlf(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n");
        let mut out = Vec::new();
        let mut w = CrlfWriter::new(&mut out);
        w.write_all(b"a\r").unwrap();
        w.write_all(b"\nb\n").unwrap();
        assert_eq!(out, b"a\r\nb\r\n");
    }

    #[test]
    fn header_end_handles_lf_and_no_body() {
        assert_eq!(header_end(b"A: b\n\nbody"), Some((5, 6)));
        assert_eq!(header_end(b"A: b\r\n"), None);
        assert_eq!(header_end(b"\r\nbody"), Some((0, 2)));
    }

    #[test]
    fn quoted_parameters_keep_semicolons() {
        let ct = ContentType::parse(b" multipart/mixed; boundary=\"a;b\"; x=y");
        assert_eq!(ct.param("boundary"), Some("a;b"));
        assert_eq!(ct.param("x"), Some("y"));
    }

    #[test]
    fn a_last_field_without_line_end_gets_one() {
        let h = split_headers(b"Subject: x\r\nContent-Type: text/plain");
        assert_eq!(h.outer, b"Subject: x\r\n");
        assert_eq!(h.inner, b"Content-Type: text/plain\r\n");
        let h = split_headers(b"From: a\r\nX-Last: y");
        assert_eq!(h.outer, b"From: a\r\nX-Last: y\r\n");
    }

    #[test]
    fn read_head_without_blank_line_is_all_headers() {
        let mut r: &[u8] = b"Subject: x\r\nFrom: y\r\n";
        let head = read_head(&mut r, 100).unwrap();
        assert_eq!(head.headers, b"Subject: x\r\nFrom: y\r\n");
        assert!(head.body_prefix.is_empty());
        assert!(head.separator.is_empty());
    }
}
