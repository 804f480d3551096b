//! Finding `-----BEGIN …-----` / `-----END …-----` blocks in text.
//!
//! PEM (RFC 7468) and OpenPGP ASCII armor (RFC 9580 §6.2) share these boundary lines. This
//! scanner only finds the blocks and their labels, tolerating any text around them (the
//! "Bag Attributes" lines `openssl pkcs12 -nokeys` prints, a mail signature, …) and both LF
//! and CRLF line ends. Decoding a block is left to the `pem` crate (X.509) or Sequoia's armor
//! reader (OpenPGP).

use crate::error::KeyError;

/// One boundary-delimited block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block<'a> {
    /// The label between `BEGIN ` and the dashes, e.g. `CERTIFICATE`.
    pub(crate) label: &'a str,
    /// The whole block, from the `-----BEGIN` line to the end of the `-----END` line.
    pub(crate) text: &'a [u8],
}

/// Whether `data` contains a BEGIN boundary line at all.
pub(crate) fn has_blocks(data: &[u8]) -> bool {
    lines(data).any(|(_, line)| begin_label(line).is_some())
}

/// All blocks in `data`, in order. A BEGIN line without its END line is an error.
pub(crate) fn blocks(data: &[u8]) -> Result<Vec<Block<'_>>, KeyError> {
    let mut out = Vec::new();
    let mut open: Option<(&str, usize)> = None;
    for (start, line) in lines(data) {
        match open {
            None => {
                if let Some(label) = begin_label(line) {
                    if label == "PGP SIGNED MESSAGE" {
                        // The cleartext-signature framework (RFC 9580 §7) has no END line for
                        // this header; the signature block after the text does.
                        out.push(Block { label, text: line });
                    } else {
                        open = Some((label, start));
                    }
                }
            }
            Some((label, begin)) => {
                if end_label(line) == Some(label) {
                    let end = start + line.len();
                    // Include the line end after the END line, if any.
                    let end = match data.get(end..) {
                        Some([b'\r', b'\n', ..]) => end + 2,
                        Some([b'\n', ..]) => end + 1,
                        _ => end,
                    };
                    let text = data.get(begin..end).unwrap_or_default();
                    out.push(Block { label, text });
                    open = None;
                }
            }
        }
    }
    if let Some((label, _)) = open {
        return Err(KeyError::Malformed {
            format: format_of(label),
            detail: format!("the \"-----BEGIN {label}-----\" block has no END line"),
        });
    }
    Ok(out)
}

/// A name for the format a label belongs to, for error messages.
pub(crate) fn format_of(label: &str) -> &'static str {
    if label.starts_with("PGP ") {
        "OpenPGP armor"
    } else {
        "PEM"
    }
}

/// Splits into lines with their byte offsets; line text excludes `\n` and a trailing `\r`.
fn lines(data: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut pos = 0;
    data.split(|b| *b == b'\n').map(move |raw| {
        let start = pos;
        pos += raw.len() + 1;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        (start, line)
    })
}

fn begin_label(line: &[u8]) -> Option<&str> {
    boundary(line, b"-----BEGIN ")
}

fn end_label(line: &[u8]) -> Option<&str> {
    boundary(line, b"-----END ")
}

fn boundary<'a>(line: &'a [u8], prefix: &[u8]) -> Option<&'a str> {
    let line = trim_ascii_end(line);
    let rest = line.strip_prefix(prefix)?;
    let label = rest.strip_suffix(b"-----")?;
    let label = std::str::from_utf8(label).ok()?;
    let printable = label
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b" #-_".contains(&b));
    (printable && !label.is_empty() && label.len() <= 64).then_some(label)
}

fn trim_ascii_end(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., last] = s {
        if last.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_blocks_between_text() {
        let data = b"Bag Attributes\r\n  localKeyID: 01\r\n-----BEGIN CERTIFICATE-----\r\nAAAA\r\n-----END CERTIFICATE-----\r\ntrailer\n-----BEGIN PGP PUBLIC KEY BLOCK-----\nComment: x\n\nBBBB\n-----END PGP PUBLIC KEY BLOCK-----";
        let b = blocks(data).unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].label, "CERTIFICATE");
        assert!(b[0].text.starts_with(b"-----BEGIN CERTIFICATE-----"));
        assert!(b[0].text.ends_with(b"-----END CERTIFICATE-----\r\n"));
        assert_eq!(b[1].label, "PGP PUBLIC KEY BLOCK");
        assert!(b[1].text.ends_with(b"-----END PGP PUBLIC KEY BLOCK-----"));
    }

    #[test]
    fn unterminated_block_is_malformed() {
        let err = blocks(b"-----BEGIN CERTIFICATE-----\nAAAA\n").unwrap_err();
        assert_eq!(err.code(), "key.malformed");
    }

    #[test]
    fn end_label_must_match() {
        let err = blocks(b"-----BEGIN CERTIFICATE-----\nAA\n-----END PGP PUBLIC KEY BLOCK-----\n")
            .unwrap_err();
        assert_eq!(err.code(), "key.malformed");
    }

    #[test]
    fn no_blocks_in_plain_text() {
        assert!(!has_blocks(b"hello\nworld"));
        assert!(blocks(b"hello").unwrap().is_empty());
    }
}
