//! The three answer shapes of the 0.15 REST API.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::http::json_response;

/// `200 {"data": value}`.
pub fn data(value: Value) -> Response {
    json_response(&json!({ "data": value }))
}

/// `200 {"error": "other", "details": …, "reason": …}`.
pub fn other(details: &str, reason: Option<&str>) -> Response {
    json_response(&json!({"error": "other", "details": details, "reason": reason}))
}

/// `200 {"error": "unsupported", "details": …}`.
pub fn unsupported(details: &str) -> Response {
    json_response(&json!({"error": "unsupported", "details": details}))
}

/// `200 {"error": "notFound", "item": …}`.
pub fn not_found(item: &str) -> Response {
    json_response(&json!({"error": "notFound", "item": item}))
}

/// `200 {"error": "fieldAlreadyExists", "field": …, "value": …}`.
pub fn field_exists(field: &str, value: &str) -> Response {
    json_response(&json!({"error": "fieldAlreadyExists", "field": field, "value": value}))
}

/// `204` with an empty body and the problem+json content type (fixture 53).
pub fn options() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}
