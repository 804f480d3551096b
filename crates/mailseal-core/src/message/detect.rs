//! Telling whether a message is already encrypted (so that it is not encrypted twice).
//!
//! Encrypted: `multipart/encrypted` (RFC 1847, PGP/MIME); S/MIME `application/pkcs7-mime`
//! with `smime-type` `enveloped-data` or `authEnveloped-data` (and Stalwart's non-standard
//! `authenticated-enveloped-data`); a `.p7m` `application/octet-stream` or a pkcs7-mime
//! without `smime-type` whose CMS content type is (Auth)EnvelopedData; a text body that
//! starts with `-----BEGIN PGP MESSAGE-----`. Not encrypted, and so still to be encrypted:
//! S/MIME `signed-data`, `certs-only`, `compressed-data`, detached signatures, and anything
//! else (Stalwart stores those in clear).

use base64::Engine as _;

use super::mime::{self, Headers};

const ENVELOPED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03];
const AUTH_ENVELOPED_DATA: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x17,
];
const PGP_MESSAGE: &[u8] = b"-----BEGIN PGP MESSAGE-----";

/// Whether the message is already encrypted (PGP/MIME, S/MIME enveloped, or inline PGP).
///
/// ```
/// use mailseal_core::is_encrypted;
/// assert!(!is_encrypted(b"Subject: hi\r\n\r\nhello\r\n"));
/// assert!(is_encrypted(b"Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=x\r\n\r\n--x--\r\n"));
/// assert!(!is_encrypted(b"Content-Type: application/pkcs7-mime; smime-type=signed-data\r\n\r\nMIAGCSqGSIb3DQEHAqCAMIACAQEx\r\n"));
/// ```
pub fn is_encrypted(message: &[u8]) -> bool {
    let (hdr_end, body_start) = mime::header_end(message).unwrap_or((message.len(), message.len()));
    let headers = mime::split_headers(message.get(..hdr_end).unwrap_or_default());
    head_is_encrypted(&headers, message.get(body_start..).unwrap_or_default())
}

/// The same decision from split headers and the beginning of the body.
pub(crate) fn head_is_encrypted(headers: &Headers, body_start: &[u8]) -> bool {
    let Some(ct) = &headers.content_type else {
        return inline_pgp(headers, body_start);
    };
    match ct.mime_type.as_str() {
        "multipart/encrypted" => true,
        "application/pkcs7-mime" | "application/x-pkcs7-mime" => {
            match ct
                .param("smime-type")
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("enveloped-data" | "authenveloped-data" | "authenticated-enveloped-data") => {
                    true
                }
                Some(_) => false,
                None => cms_is_enveloped(body_start),
            }
        }
        "application/octet-stream" => {
            let name = ct
                .param("name")
                .map(str::to_owned)
                .or_else(|| disposition_filename(headers));
            name.is_some_and(|n| n.to_ascii_lowercase().ends_with(".p7m"))
                && cms_is_enveloped(body_start)
        }
        t if t.starts_with("text/") => inline_pgp(headers, body_start),
        _ => false,
    }
}

fn disposition_filename(headers: &Headers) -> Option<String> {
    mime::fields(&headers.inner).into_iter().find_map(|f| {
        if !mime::field_name(f).eq_ignore_ascii_case(b"content-disposition") {
            return None;
        }
        let cd = mime::ContentType::parse(&mime::unfold(mime::field_value(f)));
        cd.param("filename").map(str::to_owned)
    })
}

/// The start of the body, base64-decoded when the transfer encoding says so.
fn decoded_start(headers: &Headers, body: &[u8]) -> Vec<u8> {
    if headers.transfer_encoding.as_deref() == Some("base64") {
        let mut clean: Vec<u8> = body
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .take(4096)
            .collect();
        clean.truncate(clean.len() / 4 * 4);
        // Padding may sit in the middle of a truncated prefix only for damaged input.
        base64::engine::general_purpose::STANDARD
            .decode(&clean)
            .unwrap_or_default()
    } else {
        body.to_vec()
    }
}

fn inline_pgp(headers: &Headers, body: &[u8]) -> bool {
    let data = decoded_start(headers, body);
    let start = data.iter().position(|b| !b.is_ascii_whitespace());
    start
        .and_then(|s| data.get(s..))
        .is_some_and(|d| d.starts_with(PGP_MESSAGE))
}

/// Whether a base64 body starts a CMS ContentInfo of type EnvelopedData or
/// AuthEnvelopedData.
fn cms_is_enveloped(body: &[u8]) -> bool {
    let mut clean: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .take(64)
        .collect();
    clean.truncate(clean.len() / 4 * 4);
    let Ok(der) = base64::engine::general_purpose::STANDARD.decode(&clean) else {
        return false;
    };
    // SEQUENCE, a length (definite or indefinite), then the contentType OID.
    let mut i = match der.first() {
        Some(0x30) => 1,
        _ => return false,
    };
    match der.get(i) {
        Some(0x80) => i += 1,
        Some(l) if *l < 0x80 => i += 1,
        Some(l) => i += 1 + usize::from(*l & 0x7f),
        None => return false,
    }
    if der.get(i) != Some(&0x06) {
        return false;
    }
    let len = der.get(i + 1).map_or(0, |l| usize::from(*l));
    let oid = der.get(i + 2..i + 2 + len).unwrap_or_default();
    oid == ENVELOPED_DATA || oid == AUTH_ENVELOPED_DATA
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(headers: &str, body: &str) -> Vec<u8> {
        format!("{headers}\r\n{body}").into_bytes()
    }

    #[test]
    fn smime_types_are_told_apart() {
        for (t, want) in [
            ("enveloped-data", true),
            ("authEnveloped-data", true),
            ("authenticated-enveloped-data", true),
            ("signed-data", false),
            ("certs-only", false),
            ("compressed-data", false),
        ] {
            let m = msg(
                &format!(
                    "Content-Type: application/pkcs7-mime; smime-type={t}; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n"
                ),
                "MIAGCSqGSIb3DQEHA6CAMIACAQAx\r\n",
            );
            assert_eq!(is_encrypted(&m), want, "{t}");
        }
    }

    #[test]
    fn pkcs7_without_smime_type_is_sniffed() {
        // 30 80 06 09 2a864886f70d010703 = ContentInfo { envelopedData ...
        let enveloped = "MIAGCSqGSIb3DQEHA6CAMIACAQAx\r\n";
        let signed = "MIAGCSqGSIb3DQEHAqCAMIACAQEx\r\n";
        let h = "Content-Type: application/octet-stream; name=\"smime.p7m\"\r\nContent-Transfer-Encoding: base64\r\n";
        assert!(is_encrypted(&msg(h, enveloped)));
        assert!(!is_encrypted(&msg(h, signed)));
        let h = "Content-Type: application/pkcs7-mime\r\nContent-Transfer-Encoding: base64\r\n";
        assert!(is_encrypted(&msg(h, enveloped)));
        assert!(!is_encrypted(&msg(h, signed)));
    }

    #[test]
    fn inline_pgp_only_at_the_start_of_a_text_body() {
        let armored =
            "\r\n-----BEGIN PGP MESSAGE-----\r\n\r\nhQEM\r\n-----END PGP MESSAGE-----\r\n";
        assert!(is_encrypted(&msg("Subject: x\r\n", armored)));
        assert!(is_encrypted(&msg("Content-Type: text/plain\r\n", armored)));
        let quoted = format!("As you can see:\r\n{armored}");
        assert!(!is_encrypted(&msg("Content-Type: text/plain\r\n", &quoted)));
        assert!(!is_encrypted(&msg(
            "Content-Type: application/pdf\r\n",
            armored
        )));
    }

    #[test]
    fn plain_and_malformed_messages_are_not_encrypted() {
        assert!(!is_encrypted(b""));
        assert!(!is_encrypted(b"no headers at all"));
        assert!(!is_encrypted(
            b"Content-Type: multipart/signed; protocol=x\r\n\r\n"
        ));
        assert!(!is_encrypted(b"\0\0\0"));
    }
}
