//! The answers that refuse a request before (or instead of) running it: a
//! GraphQL-shaped JSON error with its `extensions.code` (and the request's
//! id), `401`s with `WWW-Authenticate`, and the `503 UNAVAILABLE` with
//! `Retry-After` of a request that needs the database while it cannot be
//! reached. Admission (`api::mod`), authentication (`auth`) and the health
//! endpoints (`lifecycle`) all answer with these.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// What `Retry-After` says while the database is unreachable: the watcher
/// notices its return within a fraction of a second.
pub const RETRY_AFTER_SECS: u64 = 1;

/// A refusal, as a GraphQL-shaped JSON body.
pub fn refusal(status: StatusCode, code: &str, message: &str) -> Response {
    let mut extensions = serde_json::json!({ "code": code });
    if let Some(id) = super::traces::request_id() {
        extensions["requestId"] = id.into();
    }
    let body = serde_json::json!({ "errors": [{ "message": message, "extensions": extensions }] });
    let mut r = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
    }
    r
}

/// `503 UNAVAILABLE` with `Retry-After`: a request that needs the database
/// while it cannot be reached.
pub fn unavailable() -> Response {
    let mut r = refusal(
        StatusCode::SERVICE_UNAVAILABLE,
        "UNAVAILABLE",
        "the database cannot be reached at the moment; retry in a few seconds",
    );
    retry_after(&mut r);
    r
}

/// Adds `Retry-After` to a `503`.
pub fn retry_after(r: &mut Response) {
    r.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from_str(&RETRY_AFTER_SECS.to_string()).expect("digits"),
    );
}
