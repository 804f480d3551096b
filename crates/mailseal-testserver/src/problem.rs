//! HTTP-level errors: RFC 7807 `application/problem+json` bodies with Stalwart's texts.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The two challenges Stalwart sends with a 401 for missing or wrong credentials.
pub const WWW_AUTHENTICATE: [&str; 2] = [
    "Bearer realm=\"Stalwart Server\", resource_metadata=\"/.well-known/oauth-protected-resource\"",
    "Basic realm=\"Stalwart Server\"",
];

/// The two challenges Stalwart 0.15 sends (no `resource_metadata`, fixture 50).
pub const WWW_AUTHENTICATE_V0_15: [&str; 2] = [
    "Bearer realm=\"Stalwart Server\"",
    "Basic realm=\"Stalwart Server\"",
];

/// An HTTP problem response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `type`: `about:blank` or a JMAP request-level error URN.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// HTTP status.
    pub status: u16,
    /// Short title (absent on JMAP request-level errors).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<&'static str>,
    /// Explanation.
    pub detail: String,
    /// The JMAP limit that was exceeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<&'static str>,
    /// Whether to send the two `WWW-Authenticate` challenges.
    #[serde(skip)]
    pub challenges: bool,
    /// Send the 0.15 wording of the challenges instead ([`WWW_AUTHENTICATE_V0_15`]).
    #[serde(skip)]
    pub v0_15_challenges: bool,
}

impl Problem {
    fn blank(status: u16, title: &'static str, detail: &str) -> Self {
        Self {
            kind: "about:blank",
            status,
            title: Some(title),
            detail: detail.to_owned(),
            limit: None,
            challenges: false,
            v0_15_challenges: false,
        }
    }

    /// 401 "You have to authenticate first." with both challenges (missing, wrong or
    /// unsupported credentials).
    pub fn unauthorized() -> Self {
        Self {
            challenges: true,
            ..Self::unauthorized_without_challenges()
        }
    }

    /// 401 with Stalwart 0.15's two challenges (malformed or unsupported credentials, an
    /// unknown bearer token, an unparsable stored TOTP URL).
    pub fn unauthorized_v0_15() -> Self {
        Self {
            v0_15_challenges: true,
            ..Self::unauthorized_without_challenges()
        }
    }

    /// 401 without challenges (an expired app password or API key).
    pub fn unauthorized_without_challenges() -> Self {
        Self::blank(401, "Unauthorized", "You have to authenticate first.")
    }

    /// 402: the password is right but TOTP is on and Basic auth has no place for a code.
    pub fn mfa_required() -> Self {
        Self::blank(
            402,
            "MFA code required",
            "This account requires multi-factor authentication. Alternatively, you can use an \
             app password if your account has one.",
        )
    }

    /// 402 as Stalwart 0.15 words it: the password is right, TOTP is on and no
    /// `password$code` suffix was given.
    pub fn totp_required_v0_15() -> Self {
        Self::blank(
            402,
            "TOTP code required",
            "A TOTP code is required to authenticate this account. Try authenticating again \
             using 'secret$totp_token'.",
        )
    }

    /// 403 (an app password or API key used from an address it does not allow).
    pub fn forbidden() -> Self {
        Self::blank(
            403,
            "Forbidden",
            "You do not have enough permissions to access this resource.",
        )
    }

    /// 404.
    pub fn not_found() -> Self {
        Self::blank(
            404,
            "Not Found",
            "The requested resource does not exist on this server.",
        )
    }

    /// 429 after too many failed logins.
    pub fn too_many_auth_attempts() -> Self {
        Self::blank(
            429,
            "Too Many Authentication Attempts",
            "Your request has been rate limited. Please try again in a few minutes.",
        )
    }

    /// 429 "Quota exceeded": the blob upload quota (Stalwart's `over_blob_quota`).
    pub fn over_blob_quota(max_files: u64, max_bytes: u64) -> Self {
        Self {
            detail: format!(
                "You have exceeded the blob upload quota of {max_files} files or {max_bytes} bytes."
            ),
            ..Self::blank(429, "Quota exceeded", "")
        }
    }

    /// 400 "Invalid parameters" (an unreadable `/api/auth` body).
    pub fn invalid_parameters(detail: &str) -> Self {
        Self::blank(400, "Invalid parameters", detail)
    }

    /// A bare status problem, as Stalwart answers a blocked address (title and detail are
    /// the reason phrase).
    pub fn status_only(status: StatusCode) -> Self {
        let reason = status.canonical_reason().unwrap_or_default();
        Self::blank(status.as_u16(), reason, reason)
    }

    /// `urn:ietf:params:jmap:error:notJSON` (wrong Content-Type).
    pub fn not_json(detail: &str) -> Self {
        Self {
            kind: "urn:ietf:params:jmap:error:notJSON",
            status: 400,
            title: None,
            detail: format!("Failed to parse JSON: {detail}"),
            limit: None,
            challenges: false,
            v0_15_challenges: false,
        }
    }

    /// `urn:ietf:params:jmap:error:notRequest`, whose detail is the whole request body.
    pub fn not_request(body: &[u8]) -> Self {
        Self {
            kind: "urn:ietf:params:jmap:error:notRequest",
            status: 400,
            title: None,
            detail: String::from_utf8_lossy(body).into_owned(),
            limit: None,
            challenges: false,
            v0_15_challenges: false,
        }
    }

    /// `urn:ietf:params:jmap:error:limit`.
    pub fn limit(limit: &'static str) -> Self {
        let detail = match limit {
            "maxSizeRequest" => "The request is larger than the server is willing to process.",
            "maxSizeUpload" => "The uploaded file is larger than the server is willing to process.",
            "maxCallsInRequest" => {
                "The request exceeds the maximum number of calls in a single request."
            }
            _ => "The request exceeds a server limit.",
        };
        Self {
            kind: "urn:ietf:params:jmap:error:limit",
            status: 400,
            title: None,
            detail: detail.to_owned(),
            limit: Some(limit),
            challenges: false,
            v0_15_challenges: false,
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let body = serde_json::to_string(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        let challenges = if self.v0_15_challenges {
            Some(WWW_AUTHENTICATE_V0_15)
        } else if self.challenges {
            Some(WWW_AUTHENTICATE)
        } else {
            None
        };
        if let Some(challenges) = challenges {
            for challenge in challenges {
                headers.append(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(challenge),
                );
            }
        }
        response
    }
}
