//! `GET|POST /api/account/crypto` (permission `manage-encryption`): encryption at rest with
//! the literal tags `pGP`, `sMIME`, `disabled`, `algo` `Aes128`/`Aes256` and the required
//! snake_case `allow_spam_training` (fixtures 40–48).
//!
//! `certs` is read as the server does: a blob from `GET` (its method must match), or PEM
//! blocks: `CERTIFICATE` blocks are S/MIME, `PGP … KEY BLOCK` blocks OpenPGP (a private
//! key block is accepted, fixture 46), other blocks are skipped; every line of a block body
//! goes through the base64 decoder, so an armor header line fails the upload (fixture 44).
//! S/MIME certificates must carry RSA keys (the test encryption uses PKCS#1 v1.5); an
//! OpenPGP certificate needs a live transport-encryption key.

use axum::response::{IntoResponse, Response};
use der::Decode;
use sequoia_openpgp::Cert;
use sequoia_openpgp::parse::Parse;
use sequoia_openpgp::policy::StandardPolicy;
use sequoia_openpgp::types::KeyFlags;
use serde::Deserialize;
use serde_json::json;
use x509_cert::Certificate;

use crate::key_check::lenient_base64;
use crate::problem::Problem;
use crate::state::Shared;

use super::auth::Caller;
use super::store::{Algo, Crypto, Method};
use super::{blob, has_permission, reply};

const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const NO_CERTIFICATES: &str = "Could not find any valid certificates";
const WRONG_METHOD: &str = "No valid certificates found for the selected encryption";

#[derive(Deserialize)]
enum AlgoName {
    Aes128,
    Aes256,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
enum Request {
    #[serde(rename = "pGP")]
    Pgp {
        algo: AlgoName,
        certs: String,
        allow_spam_training: bool,
    },
    #[serde(rename = "sMIME")]
    Smime {
        algo: AlgoName,
        certs: String,
        allow_spam_training: bool,
    },
    Disabled,
}

/// `GET`: the setting, with the keys as an opaque blob.
pub fn get(shared: &Shared, caller: &Caller) -> Response {
    if !has_permission(shared, caller, "manage-encryption") {
        return Problem::forbidden().into_response();
    }
    let crypto = match caller {
        Caller::FallbackAdmin => None,
        Caller::Principal { id, .. } => shared
            .rest()
            .principals
            .get(id)
            .and_then(|p| p.crypto.clone()),
    };
    reply::data(match crypto {
        None => json!({"type": "disabled"}),
        Some(c) => json!({
            "type": c.method.as_str(),
            "algo": c.algo.as_str(),
            "certs": blob::encode(c.method, &c.certs),
            "allow_spam_training": c.allow_spam_training,
        }),
    })
}

/// `POST`: switches encryption at rest on (answer: the number of keys) or off (`null`).
pub fn post(shared: &Shared, caller: &Caller, body: &[u8]) -> Response {
    if !has_permission(shared, caller, "manage-encryption") {
        return Problem::forbidden().into_response();
    }
    let request: Request = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return Problem::invalid_parameters(&e.to_string()).into_response(),
    };
    let Caller::Principal { id, .. } = caller else {
        return reply::other(
            "Fallback administrator accounts do not support encryption",
            None,
        );
    };
    let (method, algo, certs, allow_spam_training) = match request {
        Request::Disabled => {
            if let Some(p) = shared.rest().principals.get_mut(id) {
                p.crypto = None;
            }
            return reply::data(json!(null));
        }
        Request::Pgp {
            algo,
            certs,
            allow_spam_training,
        } => (Method::Pgp, algo, certs, allow_spam_training),
        Request::Smime {
            algo,
            certs,
            allow_spam_training,
        } => (Method::Smime, algo, certs, allow_spam_training),
    };
    let keys = match read_certs(method, &certs) {
        Ok(keys) => keys,
        Err(details) => return reply::other(&details, None),
    };
    let count = keys.len();
    if let Some(p) = shared.rest().principals.get_mut(id) {
        p.crypto = Some(Crypto {
            method,
            algo: match algo {
                AlgoName::Aes128 => Algo::Aes128,
                AlgoName::Aes256 => Algo::Aes256,
            },
            certs: keys,
            allow_spam_training,
        });
    }
    reply::data(json!(count))
}

/// The PEM blocks of `text` as (label, body lines).
fn blocks(text: &str) -> Vec<(String, Vec<&str>)> {
    let mut out = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        {
            current = Some((label.to_owned(), Vec::new()));
        } else if line.starts_with("-----END ") {
            out.extend(current.take());
        } else if let Some((_, body)) = current.as_mut() {
            body.push(line);
        }
    }
    out
}

/// Reads and checks `certs` for `method`; the error is the server's `details` text.
pub fn read_certs(method: Method, text: &str) -> Result<Vec<Vec<u8>>, String> {
    if text.trim_start().starts_with(blob::HEADER) {
        let (stored, keys) = blob::decode(text).ok_or_else(|| NO_CERTIFICATES.to_owned())?;
        return if stored == method {
            Ok(keys)
        } else {
            Err(WRONG_METHOD.to_owned())
        };
    }
    let mut smime = Vec::new();
    let mut pgp = Vec::new();
    for (label, body) in blocks(text) {
        let is_cert = label == "CERTIFICATE";
        let is_pgp = label.starts_with("PGP ") && label.ends_with("KEY BLOCK");
        if !is_cert && !is_pgp {
            continue;
        }
        let joined = body.join("\n");
        let der = lenient_base64(joined.as_bytes())
            .ok_or_else(|| "Failed to decode base64 certificate.".to_owned())?;
        if is_cert {
            smime.push(der);
        } else {
            pgp.push(
                format!("-----BEGIN {label}-----\n{joined}\n-----END {label}-----\n").into_bytes(),
            );
        }
    }
    let (found, keys) = match (smime.is_empty(), pgp.is_empty()) {
        (true, true) => return Err(NO_CERTIFICATES.to_owned()),
        (false, false) => return Err("Cannot mix OpenPGP and S/MIME certificates".to_owned()),
        (false, true) => (Method::Smime, smime),
        (true, false) => (Method::Pgp, pgp),
    };
    if found != method {
        return Err(WRONG_METHOD.to_owned());
    }
    for key in &keys {
        match method {
            Method::Smime => check_smime(key)?,
            Method::Pgp => check_pgp(key)?,
        }
    }
    Ok(keys)
}

fn check_smime(der: &[u8]) -> Result<(), String> {
    let cert = Certificate::from_der(der)
        .map_err(|e| format!("Failed to decode X509 certificate: {e}"))?;
    let spki = &cert.tbs_certificate.subject_public_key_info;
    if spki.algorithm.oid.to_string() == RSA_ENCRYPTION {
        return Ok(());
    }
    let found = match spki.subject_public_key.raw_bytes().first() {
        Some(0x04) => "OCTET STRING",
        _ => "an unexpected tag",
    };
    Err(format!(
        "Failed to parse public key: public key error: ASN.1 error: unexpected ASN.1 DER tag: \
         expected SEQUENCE, got {found}"
    ))
}

fn check_pgp(armored: &[u8]) -> Result<(), String> {
    let cert = Cert::from_bytes(armored)
        .map_err(|e| format!("Failed to decode OpenPGP public key: {e}"))?;
    let policy = StandardPolicy::new();
    let usable = cert
        .keys()
        .with_policy(&policy, None)
        .supported()
        .alive()
        .revoked(false)
        .key_flags(KeyFlags::empty().set_transport_encryption())
        .next()
        .is_some();
    if usable {
        Ok(())
    } else {
        Err("Could not find any suitable keys in OpenPGP public key".to_owned())
    }
}
