//! JWT bearer tokens: signed with a shared secret (HS256) or by an OIDC
//! provider (RS256, with its public key as PEM or its JWKS file).
//!
//! Claims read: `sub` (who, for the audit log), `exp` (required), `role`
//! (`admin`, `coordinator`, `analyst` or `partner`), `partner` (the partner's
//! external id, for a portal), `contact_details` (bool, for an analyst);
//! `iss` and `aud` are checked when configured.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::Deserialize;

use super::access::{Principal, Role};
use crate::storage::entity::partner;

/// How tokens are verified (none configured: tokens are refused).
#[derive(Clone, Default)]
pub struct TokenConfig {
    keys: Vec<(Option<String>, DecodingKey, Algorithm)>,
    issuer: Option<String>,
    audience: Option<String>,
}

impl std::fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenConfig")
            .field("keys", &self.keys.len())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl TokenConfig {
    pub fn is_enabled(&self) -> bool {
        !self.keys.is_empty()
    }

    pub fn with_hs256_secret(mut self, secret: &str) -> Self {
        self.keys
            .push((None, DecodingKey::from_secret(secret.as_bytes()), Algorithm::HS256));
        self
    }

    pub fn with_rs256_pem(mut self, path: &str) -> Result<Self, TokenConfigError> {
        let pem = std::fs::read(path).map_err(|source| TokenConfigError::Read {
            path: path.into(),
            source,
        })?;
        let key = DecodingKey::from_rsa_pem(&pem).map_err(|e| TokenConfigError::Invalid {
            path: path.into(),
            message: e.to_string(),
        })?;
        self.keys.push((None, key, Algorithm::RS256));
        Ok(self)
    }

    pub fn with_jwks(mut self, path: &str) -> Result<Self, TokenConfigError> {
        let invalid = |message: String| TokenConfigError::Invalid {
            path: path.into(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|source| TokenConfigError::Read {
            path: path.into(),
            source,
        })?;
        let set: JwkSet = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        for jwk in &set.keys {
            let key = DecodingKey::from_jwk(jwk).map_err(|e| invalid(e.to_string()))?;
            self.keys.push((jwk.common.key_id.clone(), key, Algorithm::RS256));
        }
        Ok(self)
    }

    pub fn with_issuer(mut self, iss: Option<String>) -> Self {
        self.issuer = iss;
        self
    }

    pub fn with_audience(mut self, aud: Option<String>) -> Self {
        self.audience = aud;
        self
    }
}

#[derive(Deserialize)]
struct Claims {
    sub: Option<String>,
    iss: Option<String>,
    role: String,
    partner: Option<String>,
    #[serde(default)]
    contact_details: bool,
}

/// The principal a token stands for; `None` for anything invalid (bad
/// signature, expired, wrong issuer or audience, unknown role or partner).
pub async fn authenticate(db: &DatabaseConnection, cfg: &TokenConfig, token: &str) -> Option<Principal> {
    let header = decode_header(token).ok()?;
    let claims = cfg.keys.iter().find_map(|(kid, key, alg)| {
        if *alg != header.alg || (kid.is_some() && header.kid.is_some() && *kid != header.kid) {
            return None;
        }
        let mut v = Validation::new(*alg);
        v.set_required_spec_claims(&["exp"]);
        if let Some(i) = &cfg.issuer {
            v.set_issuer(&[i]);
        }
        match &cfg.audience {
            Some(a) => v.set_audience(&[a]),
            None => v.validate_aud = false,
        }
        decode::<Claims>(token, key, &v).ok().map(|d| d.claims)
    })?;
    let role = Role::parse(&claims.role).filter(|r| *r != Role::Anonymous)?;
    let partner_id = match (role, &claims.partner) {
        (Role::Partner, Some(r)) => Some(
            partner::Entity::find()
                .filter(partner::Column::Ref.eq(r.as_str()))
                .one(db)
                .await
                .ok()??
                .id,
        ),
        (Role::Partner, None) => return None,
        _ => None,
    };
    // Its rate bucket: the issuer's subject (a token without a subject,
    // the token itself: only the key's holder can make another).
    let identity = match &claims.sub {
        Some(sub) => format!("jwt:{}:{sub}", claims.iss.as_deref().unwrap_or("")),
        None => format!(
            "jwt:{}:#{}",
            claims.iss.as_deref().unwrap_or(""),
            crate::domain::keys::hash(token)
        ),
    };
    Some(Principal {
        role,
        partner_id,
        name: claims.sub.unwrap_or_else(|| format!("token:{}", role.as_str())),
        contact_details: claims.contact_details,
        identity,
    })
}
