//! S/MIME encryption at rest (RFC 8551 §3.3): the message body becomes an
//! `application/pkcs7-mime` entity holding CMS EnvelopedData or AuthEnvelopedData.

use zeroize::Zeroizing;

use super::envelope::{EnvelopeWriter, Framing};
use super::recipient_info::{self, backend};
use crate::base64_lines::{Base64Lines, LineSink};
use crate::error::encrypt_io;
use crate::key::x509::X509Cert;
use crate::message::options::Algorithm;

/// The MIME header fields of the encrypted entity.
fn content_headers(algorithm: Algorithm) -> String {
    let smime_type = if algorithm.is_aead() {
        "authEnveloped-data"
    } else {
        "enveloped-data"
    };
    format!(
        "Content-Type: application/pkcs7-mime; name=\"smime.p7m\";\r\n\tsmime-type={smime_type}\r\n\
         Content-Disposition: attachment; filename=\"smime.p7m\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n"
    )
}

/// The writer the encrypted entity's plaintext goes into.
pub(crate) type SmimeWriter<W> = EnvelopeWriter<Base64Lines<W>>;

/// Writes the outer headers and the S/MIME headers, and returns the writer for the inner
/// entity (MIME headers, blank line, body).
pub(crate) fn begin<W: LineSink>(
    mut out: W,
    outer_headers: &[u8],
    certs: &[X509Cert],
    algorithm: Algorithm,
    oaep: bool,
    framing: Framing,
) -> Result<SmimeWriter<W>, crate::Error> {
    let mut cek = Zeroizing::new(vec![0u8; algorithm.key_len()]);
    let mut iv = vec![0u8; algorithm.iv_len()];
    openssl::rand::rand_bytes(&mut cek).map_err(backend)?;
    openssl::rand::rand_bytes(&mut iv).map_err(backend)?;
    // RSA-OAEP always for AEAD content (as Stalwart does); on request for CBC.
    let built = recipient_info::build(certs, &cek, oaep || algorithm.is_aead())?;

    out.write_all(outer_headers).map_err(encrypt_io)?;
    out.write_all(content_headers(algorithm).as_bytes())
        .map_err(encrypt_io)?;
    EnvelopeWriter::new(
        Base64Lines::new(out),
        algorithm,
        &cek,
        &iv,
        &built.der,
        built.has_kari,
        framing,
    )
}

/// Finishes the CMS structure and its base64 lines.
pub(crate) fn end<W: LineSink>(w: SmimeWriter<W>) -> Result<W, crate::Error> {
    w.finish()?.finish().map_err(encrypt_io)
}
