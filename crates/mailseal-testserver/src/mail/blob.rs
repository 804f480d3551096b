//! Blobs: ids, uploads (`POST /jmap/upload/{accountId}/`), the upload quota, and downloads
//! (`GET /jmap/download/{accountId}/{blobId}/{name}?accept={type}`).
//!
//! * An upload answers 200 `{"accountId","blobId","type","size"}` (`type` is the request's
//!   `Content-Type`). A body over `maxUploadSize` answers 400 `urn:ietf:params:jmap:error:limit`
//!   `maxSizeUpload`.
//! * **Quota** (Stalwart's `blob_has_quota`): per account, in fixed windows of `uploadTtl`
//!   starting with the first upload after the last window ended, at most `maxUploadCount`
//!   uploads and `uploadQuota` bytes; every upload counts, imported or not. The upload that
//!   would pass either limit fails the request with 429 problem+json "Quota exceeded" /
//!   "You have exceeded the blob upload quota of 1000 files or 50000000 bytes.", with
//!   `Retry-After` (seconds until the window ends) and the `RateLimit-Policy` / `RateLimit`
//!   headers of Stalwart's newest source (the headers were not recorded).
//! * An upload not imported within `uploadTtl` expires: import answers `blobNotFound`, a
//!   download 404.
//! * A download answers 200 with the raw bytes and the `accept` type as `Content-Type`
//!   (`application/octet-stream` without one); an unknown, expired or destroyed blob, or
//!   another account's, answers 404 problem+json "The requested resource does not exist on
//!   this server.".

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::config::UploadLimits;
use crate::http::{authenticate, json_response};
use crate::ids::{ALPHABET, base32_encode, decode_id, encode_id};
use crate::problem::Problem;
use crate::state::Shared;

/// An uploaded blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    /// The bytes.
    pub bytes: Arc<[u8]>,
    /// The request's `Content-Type`.
    pub content_type: String,
    /// Upload time (Unix milliseconds, server clock).
    pub created_ms: i64,
}

impl Upload {
    /// Whether the upload is still importable at `now_ms`.
    pub fn is_live(&self, now_ms: i64, ttl_ms: u64) -> bool {
        now_ms
            < self
                .created_ms
                .saturating_add(i64::try_from(ttl_ms).unwrap_or(i64::MAX))
    }
}

/// The current upload quota window of an account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QuotaWindow {
    /// Window start (Unix milliseconds); `None` before the first upload.
    pub start_ms: Option<i64>,
    /// Uploads counted in the window.
    pub count: u64,
    /// Bytes counted in the window.
    pub bytes: u64,
}

impl QuotaWindow {
    /// Counts an upload of `size` bytes at `now_ms`; `Err(seconds until the window ends)`
    /// when it would pass a limit (and is not counted).
    pub fn admit(&mut self, now_ms: i64, size: u64, limits: &UploadLimits) -> Result<(), u64> {
        let ttl = i64::try_from(limits.upload_ttl_ms).unwrap_or(i64::MAX);
        let start = match self.start_ms {
            Some(start) if now_ms < start.saturating_add(ttl) => start,
            _ => {
                *self = Self {
                    start_ms: Some(now_ms),
                    count: 0,
                    bytes: 0,
                };
                now_ms
            }
        };
        if self.count + 1 > limits.max_upload_count
            || self.bytes.saturating_add(size) > limits.upload_quota
        {
            let left_ms = start.saturating_add(ttl).saturating_sub(now_ms).max(0);
            let left = u64::try_from(left_ms).unwrap_or(0).div_ceil(1000);
            return Err(left);
        }
        self.count += 1;
        self.bytes = self.bytes.saturating_add(size);
        Ok(())
    }
}

/// Hex-free content hash in the blob-id alphabet (52 characters).
fn hash(bytes: &[u8]) -> String {
    base32_encode(&Sha256::digest(bytes))
}

/// The blob id of an e-mail: `c`, the content hash, account and document.
pub fn email_blob_id(account_id: u32, document_id: u32, raw: &[u8]) -> String {
    let mut tail = account_id.to_be_bytes().to_vec();
    tail.extend_from_slice(&document_id.to_be_bytes());
    format!("c{}{}", hash(raw), base32_encode(&tail))
}

/// The blob id of an upload: `e`, the content hash, account and upload number.
pub fn upload_blob_id(account_id: u32, number: u64, bytes: &[u8]) -> String {
    let mut tail = account_id.to_be_bytes().to_vec();
    tail.extend_from_slice(&number.to_be_bytes());
    format!("e{}{}", hash(bytes), base32_encode(&tail))
}

/// Whether a text has the form of a blob id (`Email/import` answers `invalidProperties`
/// "Invalid blob id." otherwise).
pub fn is_well_formed(blob_id: &str) -> bool {
    blob_id.len() >= 20 && blob_id.len() <= 128 && blob_id.bytes().all(|b| ALPHABET.contains(&b))
}

/// The 429 problem of a refused upload, with its headers.
pub fn over_quota_response(limits: &UploadLimits, retry_after: u64) -> Response {
    let mut response =
        Problem::over_blob_quota(limits.max_upload_count, limits.upload_quota).into_response();
    let headers = response.headers_mut();
    let values = [
        (header::RETRY_AFTER.as_str(), retry_after.to_string()),
        (
            "RateLimit-Policy",
            format!(
                "\"blob-upload-files\";q={}, \"blob-upload-bytes\";q={};qu=\"content-bytes\"",
                limits.max_upload_count, limits.upload_quota
            ),
        ),
        (
            "RateLimit",
            format!(
                "\"blob-upload-files\";r=0;t={retry_after}, \"blob-upload-bytes\";r=0;t={retry_after}"
            ),
        ),
    ];
    for (name, value) in values {
        if let (Ok(name), Ok(value)) = (
            header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.insert(name, value);
        }
    }
    response
}

/// The account a path segment names, if the caller may use it.
fn account_for(token: &crate::auth::AccessToken, segment: &str) -> Option<u32> {
    let id = u32::try_from(decode_id(segment)?).ok()?;
    token.may_act_on(id).then_some(id)
}

/// `POST /jmap/upload/{accountId}/`.
pub async fn upload(
    shared: &Shared,
    headers: &HeaderMap,
    account: &str,
    body: Body,
    ip: IpAddr,
) -> Response {
    let token = match authenticate(shared, headers, ip) {
        Ok(token) => token,
        Err(problem) => return problem.into_response(),
    };
    let Some(account_id) = account_for(&token, account) else {
        return Problem::forbidden().into_response();
    };
    let limits = shared.config.uploads;
    let Ok(bytes) = to_bytes(body, limits.max_upload_size).await else {
        return Problem::limit("maxSizeUpload").into_response();
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let now_ms = shared.clock.unix_millis();
    let size = bytes.len();
    let mut mail = shared.mail();
    let account_mail = mail.account(account_id);
    account_mail.purge_uploads(now_ms, limits.upload_ttl_ms);
    let unlimited = token.has("unlimitedUploads");
    if !unlimited
        && let Err(retry_after) =
            account_mail
                .quota
                .admit(now_ms, u64::try_from(size).unwrap_or(u64::MAX), &limits)
    {
        return over_quota_response(&limits, retry_after);
    }
    let blob_id = account_mail.add_upload(Arc::from(&bytes[..]), content_type.clone(), now_ms);
    json_response(&json!({
        "accountId": encode_id(u64::from(account_id)),
        "blobId": blob_id,
        "type": content_type,
        "size": size,
    }))
}

/// `GET /jmap/download/{accountId}/{blobId}/{name}?accept={type}`.
pub fn download(
    shared: &Shared,
    headers: &HeaderMap,
    account: &str,
    blob_id: &str,
    query: Option<&str>,
    ip: IpAddr,
) -> Response {
    let token = match authenticate(shared, headers, ip) {
        Ok(token) => token,
        Err(problem) => return problem.into_response(),
    };
    let Some(account_id) = account_for(&token, account) else {
        return Problem::not_found().into_response();
    };
    let now_ms = shared.clock.unix_millis();
    let ttl = shared.config.uploads.upload_ttl_ms;
    let Some((bytes, _)) = shared.mail().account(account_id).blob(blob_id, now_ms, ttl) else {
        return Problem::not_found().into_response();
    };
    let params = query_params(query.unwrap_or_default());
    let content_type = params
        .get("accept")
        .filter(|t| !t.is_empty())
        .cloned()
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let mut response = (StatusCode::OK, bytes.to_vec()).into_response();
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

/// The parameters of a query string, percent-decoded.
pub fn query_params(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |j: usize| bytes.get(j).and_then(|&c| char::from(c).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.extend(u8::try_from(h * 16 + l).ok());
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_ids_have_the_real_shape() {
        let email = email_blob_id(2, 105, b"x");
        let upload = upload_blob_id(2, 1, b"x");
        assert!(email.starts_with('c') && upload.starts_with('e'));
        assert_ne!(email_blob_id(2, 106, b"x"), email);
        assert!(is_well_formed(&email) && is_well_formed(&upload));
        assert!(!is_well_formed("not-a-blob-id"));
    }

    #[test]
    fn the_quota_window_is_fixed() {
        let limits = UploadLimits {
            max_upload_count: 2,
            upload_quota: 100,
            upload_ttl_ms: 2000,
            ..UploadLimits::default()
        };
        let mut window = QuotaWindow::default();
        assert_eq!(window.admit(1000, 10, &limits), Ok(()));
        assert_eq!(window.admit(1500, 10, &limits), Ok(()));
        assert_eq!(window.admit(1600, 10, &limits), Err(2));
        assert_eq!(window.admit(3000, 10, &limits), Ok(()));
        assert_eq!(window.admit(3001, 91, &limits), Err(2));
    }

    #[test]
    fn accept_is_percent_decoded() {
        let params = query_params("accept=message%2Frfc822");
        assert_eq!(
            params.get("accept").map(String::as_str),
            Some("message/rfc822")
        );
    }
}
