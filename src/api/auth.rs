//! Authentication of HTTP requests: an API key (`X-Api-Key: mlg_…` or
//! `Authorization: Bearer mlg_…`) or a JWT (`Authorization: Bearer …`)
//! becomes a [`Principal`]; no credential is the anonymous principal, or a
//! `401` when anonymous access is off. A wrong, expired or revoked
//! credential is always a `401` with code `UNAUTHENTICATED`: the same
//! message for every wrong API key (so a guesser learns nothing from the
//! difference); for a token, what is wrong with it once its signature
//! verified (expired, not valid yet, a required claim missing…); and for a
//! header that holds no credential at all (an unknown scheme, no scheme,
//! an empty bearer, bytes other than visible ASCII) or two different
//! credentials in one request, what is wrong with the header. None of
//! these is ever read as "no credential".

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use sea_orm::DatabaseConnection;

use super::refusal::{refusal, retry_after};

use crate::domain::access::Principal;
use crate::domain::keys;
use crate::domain::tokens::{self, TokenConfig, TokenError};

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

/// The credential a request carries (`None`: none at all), or what is
/// wrong with the headers meant to carry one. The same credential sent
/// twice (as `X-Api-Key` and as a bearer) is one credential; two different
/// ones are refused, never one picked.
pub fn credential(headers: &HeaderMap) -> Result<Option<&str>, String> {
    let mut found: Option<(&'static str, &str)> = None;
    let mut take = |from: &'static str, c| match found {
        Some((first, seen)) if seen != c => Err(if first == from {
            format!("the request carries two different {from} headers: send one credential")
        } else {
            format!("the request carries two different credentials ({first} and {from}): send one")
        }),
        Some(_) => Ok(()),
        None => {
            found = Some((from, c));
            Ok(())
        }
    };
    for v in headers.get_all("x-api-key") {
        let k = v
            .to_str()
            .map_err(|_| "the X-Api-Key header holds bytes other than visible ASCII".to_owned())?
            .trim();
        if k.is_empty() {
            return Err("the X-Api-Key header is empty".into());
        }
        take("X-Api-Key", k)?;
    }
    const SEND: &str = "send `Authorization: Bearer <token or API key>`";
    for v in headers.get_all(header::AUTHORIZATION) {
        let auth = v
            .to_str()
            .map_err(|_| "the Authorization header holds bytes other than visible ASCII".to_owned())?
            .trim();
        if auth.is_empty() {
            return Err(format!("the Authorization header is empty: {SEND}"));
        }
        let (scheme, value) = auth.split_once([' ', '\t']).unwrap_or((auth, ""));
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(if value.is_empty() {
                format!("the Authorization header has no scheme: {SEND}")
            } else {
                format!("the Authorization scheme `{scheme:.20}` is not supported: {SEND}")
            });
        }
        let value = value.trim();
        if value.is_empty() {
            return Err(format!("the bearer token is empty: {SEND}"));
        }
        if value.contains([' ', '\t']) {
            return Err(format!("the bearer token holds a space: {SEND}"));
        }
        take("Authorization", value)?;
    }
    Ok(found.map(|(_, c)| c))
}

/// Who is asking, or the response refusing the request.
pub async fn principal(
    db: &DatabaseConnection,
    cfg: &AccessConfig,
    headers: &HeaderMap,
) -> Result<Principal, Response> {
    let unauthenticated = |message: &str| refusal(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message);
    // What cannot be checked now (the identity provider's keys not fetched
    // yet) is worth retrying: 503 UNAVAILABLE with Retry-After.
    let unavailable = |message: &str| {
        let mut r = refusal(StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE", message);
        retry_after(&mut r);
        r
    };
    let c = match credential(headers) {
        Ok(Some(c)) => c,
        Ok(None) => {
            return match cfg.anonymous {
                Anonymous::Public => Ok(Principal::anonymous()),
                Anonymous::None => Err(unauthenticated(
                    "this server needs a credential: an API key (X-Api-Key) or a bearer token",
                )),
            };
        }
        Err(wrong) => return Err(unauthenticated(&wrong)),
    };
    if keys::is_api_key(c) {
        return match cfg.keys.authenticate(db, c).await {
            Ok(Some(p)) => Ok(p),
            Ok(None) => Err(unauthenticated("the credential is invalid, expired or revoked")),
            Err(e) => {
                tracing::error!(error = %e, "authentication: database error");
                Err(match &e {
                    keys::KeyError::Storage(s) if s.unavailable() => super::refusal::unavailable(),
                    _ => refusal(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "INTERNAL",
                        "cannot check the credential now; the server log has the details",
                    ),
                })
            }
        };
    }
    if !cfg.tokens.is_enabled() {
        return Err(unauthenticated(
            "the credential is not an API key, and this server takes no bearer tokens",
        ));
    }
    match tokens::authenticate(db, &cfg.tokens, c).await {
        Ok(p) => Ok(p),
        Err(TokenError::Refused(why)) => Err(unauthenticated(&why)),
        Err(TokenError::Unavailable(why)) => Err(unavailable(&why)),
    }
}
