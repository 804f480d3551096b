//! Finding `-----BEGIN …-----` / `-----END …-----` blocks in text.
//!
//! PEM (RFC 7468) and OpenPGP ASCII armor (RFC 9580 §6.2) share these boundary lines. This
//! scanner only finds the blocks and their labels, tolerating any text around them (the
//! "Bag Attributes" lines `openssl pkcs12 -nokeys` prints, a mail signature, …) and both LF
//! and CRLF line ends. Decoding a block is left to the `pem` crate (X.509) or Sequoia's armor
//! reader (OpenPGP).
//!
//! Blocks as they arrive in mail and on web pages are found too: indented, mail-quoted
//! (`> ` before each line, also nested `> > `), with trailing spaces. Such a block's text is
//! given back without the quote marks and indentation, so that the decoders see a plain
//! block.

use std::borrow::Cow;

use crate::error::KeyError;

/// One boundary-delimited block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block<'a> {
    /// The label between `BEGIN ` and the dashes, e.g. `CERTIFICATE`.
    pub(crate) label: &'a str,
    /// The whole block, from the `-----BEGIN` line to the end of the `-----END` line; without
    /// the quote marks and indentation of its lines, if it had any.
    pub(crate) text: Cow<'a, [u8]>,
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
                        out.push(Block {
                            label,
                            text: unquote(line),
                        });
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
                    let text = unquote(data.get(begin..end).unwrap_or_default());
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
    let line = trim_ascii_end(strip_quote(line));
    let rest = line.strip_prefix(prefix)?;
    let label = rest.strip_suffix(b"-----")?;
    let label = std::str::from_utf8(label).ok()?;
    let printable = label
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b" #-_".contains(&b));
    (printable && !label.is_empty() && label.len() <= 64).then_some(label)
}

/// Whether `b` may stand before a block's lines: indentation, or the quote marks mail
/// programs put before quoted text (`>`; `|`, `]` and `}` in some; `:` in front of the
/// revocation certificates GnuPG stores). The same set as Sequoia's armor reader, plus `:`.
fn is_quote(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'>' | b'|' | b']' | b'}' | b':')
}

/// The line without its quote marks and indentation. Neither occurs in base64 or in armor
/// header lines, so nothing of the block itself is lost.
fn strip_quote(line: &[u8]) -> &[u8] {
    let n = line.iter().take_while(|b| is_quote(**b)).count();
    line.get(n..).unwrap_or_default()
}

/// The block's lines without quote marks and indentation, LF-terminated; the block as it is
/// when none of its lines has any. Trailing spaces are left to the decoders (an armor header
/// may end in one), which skip them.
fn unquote(block: &[u8]) -> Cow<'_, [u8]> {
    if lines(block).all(|(_, line)| !line.first().copied().is_some_and(is_quote)) {
        return Cow::Borrowed(block);
    }
    let mut out = Vec::with_capacity(block.len());
    for (_, line) in lines(block) {
        out.extend_from_slice(strip_quote(line));
        out.push(b'\n');
    }
    // `lines` yields an empty last line after the final line end; keep one line end only.
    while out.ends_with(b"\n\n") {
        out.pop();
    }
    Cow::Owned(out)
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
    fn quoted_and_indented_blocks_are_found_without_their_quote_marks() {
        let plain = "-----BEGIN PGP PUBLIC KEY BLOCK-----\nComment: x \n\nBBBB\n=AAAA\n-----END PGP PUBLIC KEY BLOCK-----\n";
        for (prefix, blank) in [
            ("> ", ">"),
            ("> > ", "> >"),
            (">> ", ">>"),
            ("    ", ""),
            ("\t", "\t"),
        ] {
            let quoted: String = plain
                .lines()
                .map(|l| match l {
                    "" => format!("{blank}\r\n"),
                    l => format!("{prefix}{l}\r\n"),
                })
                .collect();
            let text = format!("On Monday, Alice wrote:\n> my key:\n{quoted}> thanks\n");
            let b = blocks(text.as_bytes()).unwrap();
            assert_eq!(b.len(), 1, "{prefix:?}");
            assert_eq!(b[0].label, "PGP PUBLIC KEY BLOCK");
            // The armor header keeps its trailing space (Sequoia wants "Key: Value").
            assert_eq!(&*b[0].text, plain.as_bytes(), "{prefix:?}");
        }
        // A block without quote marks is given as it is, CRLF and all.
        let crlf = plain.replace('\n', "\r\n");
        assert!(matches!(
            blocks(crlf.as_bytes()).unwrap()[0].text,
            Cow::Borrowed(_)
        ));
        // gpg keeps its revocation certificates with a ':' before the BEGIN line.
        let rev = format!(":{plain}");
        assert_eq!(
            blocks(rev.as_bytes()).unwrap()[0].label,
            "PGP PUBLIC KEY BLOCK"
        );
    }

    #[test]
    fn no_blocks_in_plain_text() {
        assert!(!has_blocks(b"hello\nworld"));
        assert!(blocks(b"hello").unwrap().is_empty());
    }
}
