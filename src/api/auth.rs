//! Authentication of HTTP requests: an API key (`X-Api-Key: mlg_…` or
//! `Authorization: Bearer mlg_…`) or a JWT (`Authorization: Bearer …`)
//! becomes a [`Principal`]; no credential is the anonymous principal, or a
//! `401` when anonymous access is off. A wrong, expired or revoked
//! credential is always a `401` with code `UNAUTHENTICATED`, the same for
//! each case so nothing is learnt from the difference.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::DatabaseConnection;

use crate::domain::access::Principal;
use crate::domain::keys;
use crate::domain::tokens::{self, TokenConfig};

/// What anonymous requests may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Anonymous {
    /// Read public data (public networks, actions and relations, the partners in them, territories).
    #[default]
    Public,
    /// Nothing: every request needs a credential.
    None,
}

/// Authentication settings.
#[derive(Debug, Clone, Default)]
pub struct AccessConfig {
    pub anonymous: Anonymous,
    pub tokens: TokenConfig,
    /// API keys read recently (the default keeps none: every request reads
    /// the key table, and a revocation applies at once).
    pub keys: std::sync::Arc<keys::KeyCache>,
}

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

/// The credential a request carries, if any.
pub fn credential(headers: &HeaderMap) -> Option<&str> {
    if let Some(k) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(k.trim());
    }
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, value) = auth.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| value.trim())
}

/// Who is asking, or the response refusing the request.
pub async fn principal(
    db: &DatabaseConnection,
    cfg: &AccessConfig,
    headers: &HeaderMap,
) -> Result<Principal, Response> {
    let unauthenticated = || {
        refusal(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "the credential is invalid, expired or revoked",
        )
    };
    let Some(c) = credential(headers) else {
        return match cfg.anonymous {
            Anonymous::Public => Ok(Principal::anonymous()),
            Anonymous::None => Err(refusal(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "this server needs a credential: an API key (X-Api-Key) or a bearer token",
            )),
        };
    };
    let found = if keys::is_api_key(c) {
        match cfg.keys.authenticate(db, c).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "authentication: database error");
                return Err(match &e {
                    keys::KeyError::Storage(s) if s.unavailable() => super::lifecycle::unavailable(),
                    _ => refusal(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "INTERNAL",
                        "cannot check the credential now; the server log has the details",
                    ),
                });
            }
        }
    } else if cfg.tokens.is_enabled() {
        tokens::authenticate(db, &cfg.tokens, c).await
    } else {
        None
    };
    found.ok_or_else(unauthenticated)
}
