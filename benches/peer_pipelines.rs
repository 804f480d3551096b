//! The peers `compare.py` times beside mailseal that no package provides: Stalwart's two
//! encryption-at-rest pipelines, rebuilt from the crates it uses (crypto-notes §1.4, §1.5),
//! and mailseal's Rust API on a message held in memory.
//!
//! ```text
//! peer-pipelines sequoia-armorer KEY.asc IN OUT   Sequoia Armorer → Encryptor (AES-256) → LiteralWriter
//! peer-pipelines cms-builder CERT.pem IN OUT ALG  cms EnvelopedDataBuilder (aes128|aes256 CBC, rsa) → DER → base64 lines
//! peer-pipelines mailseal-api KEY IN OUT ALG      mailseal_core::encrypt, whole message in memory
//! ```
//!
//! Like Stalwart, the pipelines encrypt the whole body held in memory; the MIME framing
//! around it (a few hundred bytes) is left out.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::io::Write;

use sequoia_openpgp as openpgp;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, mode, key, input, output, rest @ ..] = args.as_slice() else {
        eprintln!(
            "usage: peer-pipelines sequoia-armorer|cms-builder|mailseal-api KEY IN OUT [ALG]"
        );
        std::process::exit(2);
    };
    let key = std::fs::read(key).unwrap();
    let input = std::fs::read(input).unwrap();
    let out = match mode.as_str() {
        "sequoia-armorer" => sequoia_armorer(&key, &input),
        "cms-builder" => cms_builder(&key, &input, rest.first().map(String::as_str)),
        "mailseal-api" => {
            let recipients = mailseal_core::RecipientKey::from_bytes(&key)
                .unwrap()
                .validate(&mailseal_core::Policy::standard())
                .unwrap();
            let algorithm = rest.first().map(String::as_str).unwrap_or("aes256");
            let options = mailseal_core::EncryptOptions::new(algorithm.parse().unwrap());
            mailseal_core::encrypt(&input, &recipients, &options)
                .unwrap()
                .message
        }
        other => panic!("unknown mode {other}"),
    };
    std::fs::write(output, out).unwrap();
}

/// Stalwart's OpenPGP path: Armorer → Encryptor::for_recipients(AES-256) → LiteralWriter.
fn sequoia_armorer(key: &[u8], body: &[u8]) -> Vec<u8> {
    use openpgp::parse::Parse;
    use openpgp::policy::StandardPolicy;
    use openpgp::serialize::stream::{Armorer, Encryptor, LiteralWriter, Message};

    let cert = openpgp::Cert::from_bytes(key).unwrap();
    let policy = StandardPolicy::new();
    let recipients: Vec<_> = cert
        .keys()
        .with_policy(&policy, None)
        .supported()
        .alive()
        .revoked(false)
        .for_transport_encryption()
        .collect();
    let mut out = Vec::with_capacity(body.len() * 14 / 10);
    let message = Message::new(&mut out);
    let message = Armorer::new(message).build().unwrap();
    let message = Encryptor::for_recipients(message, recipients)
        .symmetric_algo(openpgp::types::SymmetricAlgorithm::AES256)
        .build()
        .unwrap();
    let mut literal = LiteralWriter::new(message).build().unwrap();
    literal.write_all(body).unwrap();
    literal.finalize().unwrap();
    out
}

/// Stalwart's S/MIME path as the cms builder and `rsa` do it: EnvelopedData with
/// AES-128-CBC (`aes128`, Stalwart's default) or AES-256-CBC and RSA PKCS#1 v1.5, DER in memory, then base64 in 76-column CRLF lines
/// written four characters at a time (as mail-builder 0.5's encoder does).
fn cms_builder(cert_pem: &[u8], body: &[u8], algorithm: Option<&str>) -> Vec<u8> {
    use base64::Engine as _;
    use cms::builder::{
        ContentEncryptionAlgorithm, EnvelopedDataBuilder, KeyEncryptionInfo,
        KeyTransRecipientInfoBuilder,
    };
    use cms::cert::IssuerAndSerialNumber;
    use cms::content_info::ContentInfo;
    use cms::enveloped_data::RecipientIdentifier;
    use der::{DecodePem, Encode};
    use rsa::pkcs1::DecodeRsaPublicKey;

    let cert = x509_cert::Certificate::from_pem(cert_pem).unwrap();
    let tbs = &cert.tbs_certificate;
    let spki = tbs.subject_public_key_info.subject_public_key.raw_bytes();
    let public = rsa::RsaPublicKey::from_pkcs1_der(spki).unwrap();
    let rid = RecipientIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
        issuer: tbs.issuer.clone(),
        serial_number: tbs.serial_number.clone(),
    });
    let mut rng = rand::thread_rng();
    let recipient =
        KeyTransRecipientInfoBuilder::new(rid, KeyEncryptionInfo::Rsa(public), &mut rng).unwrap();
    let algorithm = match algorithm {
        Some("aes128") => ContentEncryptionAlgorithm::Aes128Cbc,
        _ => ContentEncryptionAlgorithm::Aes256Cbc,
    };
    let mut builder = EnvelopedDataBuilder::new(None, body, algorithm, None).unwrap();
    builder.add_recipient_info(recipient).unwrap();
    let mut rng = rand::thread_rng();
    let enveloped = builder.build_with_rng(&mut rng).unwrap();
    let der = ContentInfo {
        content_type: der::oid::db::rfc5911::ID_ENVELOPED_DATA,
        content: der::Any::encode_from(&enveloped).unwrap(),
    }
    .to_der()
    .unwrap();
    let mut out = Vec::with_capacity(der.len() * 3 / 2);
    let engine = base64::engine::general_purpose::STANDARD;
    for (i, chunk) in der.chunks(3).enumerate() {
        let mut quad = [0u8; 4];
        let n = engine.encode_slice(chunk, &mut quad).unwrap();
        out.write_all(&quad[..n]).unwrap();
        if (i + 1) % 19 == 0 {
            out.write_all(b"\r\n").unwrap();
        }
    }
    out.write_all(b"\r\n").unwrap();
    out
}
