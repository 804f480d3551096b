//! Just enough RFC 5322 / MIME reading for what `Email/get` and `Email/query` show: header
//! fields (raw, as text, as message ids), the subject, the thread keys, the preview and
//! `hasAttachment`.
//!
//! The real server parses with mail-parser; this reader is much smaller. It decodes
//! neither RFC 2047 encoded words nor charsets other than UTF-8 (bytes are read lossily),
//! and looks for a preview only in `text/plain` parts (`7bit`, `8bit`, quoted-printable or
//! base64), the way the recording shows it: present for plain text and `multipart/mixed`
//! mail, absent for an `application/pkcs7-mime` or `multipart/encrypted` message.

use base64::Engine;

/// Longest preview, in characters (RFC 8621 §4.1.4).
pub const PREVIEW_CHARS: usize = 256;

/// A header field: its name as written and its raw value (the bytes after the colon, folding
/// kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// The field name as written.
    pub name: String,
    /// Everything after the colon up to the end of the field, line folds included.
    pub raw: String,
}

impl Field {
    /// The value unfolded and trimmed (the `asText` form, without encoded-word decoding).
    pub fn text(&self) -> String {
        unfold(&self.raw).trim().to_owned()
    }
}

/// A parsed entity (a message or a MIME part): header fields and body bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entity<'a> {
    /// Header fields in order.
    pub fields: Vec<Field>,
    /// The body (after the empty line).
    pub body: &'a [u8],
}

impl<'a> Entity<'a> {
    /// Reads an entity; `None` when it does not start with a header field, which the real
    /// server answers with `invalidEmail` on import.
    pub fn parse(raw: &'a [u8]) -> Option<Self> {
        let mut fields: Vec<Field> = Vec::new();
        let mut pos = 0;
        while pos < raw.len() {
            let rest = raw.get(pos..).unwrap_or_default();
            let line_len = rest
                .iter()
                .position(|&b| b == b'\n')
                .map_or(rest.len(), |i| i + 1);
            let line = rest.get(..line_len).unwrap_or_default();
            let content = trim_eol(line);
            pos += line_len;
            if content.is_empty() {
                break;
            }
            if matches!(content.first(), Some(b' ' | b'\t')) {
                let last = fields.last_mut()?;
                last.raw.push_str(&String::from_utf8_lossy(line));
                continue;
            }
            let colon = content.iter().position(|&b| b == b':')?;
            let name = content.get(..colon)?;
            if name.is_empty() || !name.iter().all(|&b| b.is_ascii_graphic()) {
                return None;
            }
            let value = line.get(colon + 1..).unwrap_or_default();
            fields.push(Field {
                name: String::from_utf8_lossy(name).into_owned(),
                raw: String::from_utf8_lossy(value).into_owned(),
            });
        }
        if fields.is_empty() {
            return None;
        }
        // The raw value of the last line of each field keeps its line end; drop it.
        for field in &mut fields {
            let trimmed = field.raw.trim_end_matches(['\r', '\n']).len();
            field.raw.truncate(trimmed);
        }
        Some(Self {
            fields,
            body: raw.get(pos..).unwrap_or_default(),
        })
    }

    /// Every field with this name (case-insensitive), in order.
    pub fn all(&self, name: &str) -> impl Iterator<Item = &Field> {
        let name = name.to_owned();
        self.fields
            .iter()
            .filter(move |f| f.name.eq_ignore_ascii_case(&name))
    }

    /// The first field with this name.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.all(name).next()
    }

    /// The media type (lower case) and the `Content-Type` field; `text/plain` by default.
    pub fn content_type(&self) -> (String, Option<&Field>) {
        let field = self.field("Content-Type");
        let media = field
            .map(|f| {
                f.text()
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            })
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "text/plain".to_owned());
        (media, field)
    }

    /// A parameter of a field (`boundary`, `filename`…), unquoted.
    pub fn parameter(&self, field: &str, parameter: &str) -> Option<String> {
        let text = self.field(field)?.text();
        text.split(';').skip(1).find_map(|p| {
            let (key, value) = p.split_once('=')?;
            key.trim()
                .eq_ignore_ascii_case(parameter)
                .then(|| value.trim().trim_matches('"').to_owned())
        })
    }

    /// The parts of a multipart entity (empty for any other entity).
    pub fn parts(&self) -> Vec<Entity<'a>> {
        let (media, _) = self.content_type();
        if !media.starts_with("multipart/") {
            return Vec::new();
        }
        let Some(boundary) = self.parameter("Content-Type", "boundary") else {
            return Vec::new();
        };
        split_parts(self.body, boundary.as_bytes())
            .into_iter()
            .filter_map(Entity::parse)
            .collect()
    }

    /// The decoded body of a leaf part (`Content-Transfer-Encoding` applied).
    pub fn decoded_body(&self) -> Vec<u8> {
        let encoding = self
            .field("Content-Transfer-Encoding")
            .map(|f| f.text().to_ascii_lowercase())
            .unwrap_or_default();
        match encoding.as_str() {
            "quoted-printable" => decode_quoted_printable(self.body),
            "base64" => {
                let compact: Vec<u8> = self
                    .body
                    .iter()
                    .copied()
                    .filter(|b| !b.is_ascii_whitespace())
                    .collect();
                base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .unwrap_or_default()
            }
            _ => self.body.to_vec(),
        }
    }

    /// The preview: the first `text/plain` part's text (line ends as `\n`), at most
    /// [`PREVIEW_CHARS`] characters; `None` when the message has no such part (an encrypted
    /// message).
    pub fn preview(&self) -> Option<String> {
        let text = self.first_text()?;
        let text = String::from_utf8_lossy(&text).replace("\r\n", "\n");
        Some(text.chars().take(PREVIEW_CHARS).collect())
    }

    fn first_text(&self) -> Option<Vec<u8>> {
        let (media, _) = self.content_type();
        if media == "text/plain" && !self.is_attachment() {
            return Some(self.decoded_body());
        }
        if media.starts_with("multipart/") && media != "multipart/encrypted" {
            return self.parts().iter().find_map(Entity::first_text);
        }
        None
    }

    fn is_attachment(&self) -> bool {
        self.field("Content-Disposition")
            .is_some_and(|f| f.text().to_ascii_lowercase().starts_with("attachment"))
    }

    /// Whether the message has an attachment: a part that is marked as one or is neither
    /// text nor multipart (an `application/pkcs7-mime` root counts, as recorded).
    pub fn has_attachment(&self) -> bool {
        let (media, _) = self.content_type();
        if media.starts_with("multipart/") {
            return self.parts().iter().any(Entity::has_attachment);
        }
        self.is_attachment() || !media.starts_with("text/")
    }

    /// The message ids of a field (`Message-ID`, `In-Reply-To`, `References`), without
    /// angle brackets.
    pub fn message_ids(&self, name: &str) -> Option<Vec<String>> {
        let field = self.field(name)?;
        let text = field.text();
        let ids: Vec<String> = if text.contains('<') {
            text.split('<')
                .skip(1)
                .filter_map(|s| s.split_once('>').map(|(id, _)| id.trim().to_owned()))
                .filter(|id| !id.is_empty())
                .collect()
        } else {
            text.split_whitespace().map(str::to_owned).collect()
        };
        (!ids.is_empty()).then_some(ids)
    }

    /// The subject as text (no encoded-word decoding).
    pub fn subject(&self) -> Option<String> {
        self.field("Subject").map(Field::text)
    }
}

/// The subject without `Re:`/`Fwd:` prefixes, lower-cased: one of the thread keys.
pub fn base_subject(subject: &str) -> String {
    let mut text = subject.trim();
    loop {
        let lower = text.to_ascii_lowercase();
        let stripped = ["re:", "fwd:", "fw:", "aw:", "wg:"]
            .iter()
            .find(|p| lower.starts_with(*p))
            .and_then(|p| text.get(p.len()..));
        match stripped {
            Some(rest) => text = rest.trim_start(),
            None => break,
        }
    }
    text.to_lowercase()
}

/// The words of a text, lower-cased (for the `subject` and `text` filters).
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn unfold(raw: &str) -> String {
    raw.replace("\r\n", "").replace('\n', "")
}

/// The bodies between `--boundary` delimiter lines (the line end before a delimiter belongs
/// to it).
fn split_parts<'a>(body: &'a [u8], boundary: &[u8]) -> Vec<&'a [u8]> {
    let mut delimiter = b"--".to_vec();
    delimiter.extend_from_slice(boundary);
    let mut parts = Vec::new();
    let mut start: Option<usize> = None;
    let mut pos = 0;
    while pos < body.len() {
        let rest = body.get(pos..).unwrap_or_default();
        let line_len = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let line = trim_eol(rest.get(..line_len).unwrap_or_default());
        if line.starts_with(&delimiter) {
            if let Some(begin) = start {
                // Drop the line end that precedes the delimiter.
                let mut end = pos;
                if end > begin && body.get(end - 1) == Some(&b'\n') {
                    end -= 1;
                    if end > begin && body.get(end - 1) == Some(&b'\r') {
                        end -= 1;
                    }
                }
                parts.extend(body.get(begin..end));
            }
            let closing = line
                .get(delimiter.len()..)
                .is_some_and(|t| t.starts_with(b"--"));
            if closing {
                return parts;
            }
            start = Some(pos + line_len);
        }
        pos += line_len;
    }
    parts
}

fn decode_quoted_printable(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while let Some(&b) = body.get(i) {
        if b == b'=' {
            match (body.get(i + 1), body.get(i + 2)) {
                (Some(b'\r'), Some(b'\n')) => i += 3,
                (Some(b'\n'), _) => i += 2,
                (Some(&h), Some(&l)) => match (hex(h), hex(l)) {
                    (Some(h), Some(l)) => {
                        out.push(h * 16 + l);
                        i += 3;
                    }
                    _ => {
                        out.push(b);
                        i += 1;
                    }
                },
                _ => {
                    out.push(b);
                    i += 1;
                }
            }
        } else {
            out.push(b);
            i += 1;
        }
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MULTIPART: &[u8] = b"Subject: Re: Hello\r\nMessage-ID: <m1@example.net>\r\n\
Content-Type: multipart/mixed;\r\n boundary=\"b1\"\r\n\r\npreamble\r\n\r\n--b1\r\n\
Content-Type: text/plain\r\n\r\nHi,\r\nthere\r\n\r\n--b1\r\nContent-Type: application/octet-stream\r\n\
Content-Disposition: attachment\r\n\r\nAAEC\r\n--b1--\r\n";

    #[test]
    fn fields_keep_their_raw_form() {
        let m = Entity::parse(MULTIPART).expect("message");
        assert_eq!(
            m.field("content-type").map(|f| f.raw.as_str()),
            Some(" multipart/mixed;\r\n boundary=\"b1\"")
        );
        assert_eq!(
            m.parameter("Content-Type", "boundary").as_deref(),
            Some("b1")
        );
        assert_eq!(
            m.message_ids("Message-ID"),
            Some(vec!["m1@example.net".to_owned()])
        );
    }

    #[test]
    fn preview_and_attachment_of_a_multipart_message() {
        let m = Entity::parse(MULTIPART).expect("message");
        assert_eq!(m.preview().as_deref(), Some("Hi,\nthere\n"));
        assert!(m.has_attachment());
        assert_eq!(base_subject("Re: RE: Hello"), "hello");
    }

    #[test]
    fn quoted_printable_is_decoded() {
        let raw = "Content-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe=\r\n!\r\n";
        let m = Entity::parse(raw.as_bytes()).expect("message");
        assert_eq!(m.preview().as_deref(), Some("Grüße!\n"));
        assert!(!m.has_attachment());
    }

    #[test]
    fn text_without_header_is_not_a_message() {
        assert!(Entity::parse(b"just some text, not a message\r\n").is_none());
        assert!(Entity::parse(b"").is_none());
    }

    #[test]
    fn encrypted_messages_have_no_preview() {
        let raw =
            b"Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n\r\nMIIB\r\n";
        let m = Entity::parse(raw).expect("message");
        assert_eq!(m.preview(), None);
        assert!(m.has_attachment());
    }
}
