//! API keys: created with a role (and, for a portal, a partner), shown once,
//! stored as a hash, found again by their prefix.
//!
//! A key reads `mlg_<prefix>_<secret>`: the prefix (8 hex digits) is stored
//! in clear to find the row; the secret (64 hex digits, 256 random bits) only
//! as its SHA-256.

use rand::RngCore;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};

use super::access::{Principal, Role};
use crate::storage::entity::{api_key, partner};
use crate::storage::{self, StorageError};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("unknown partner {0:?}")]
    UnknownPartner(String),
    #[error("a partner key needs --partner REF")]
    PartnerRequired,
    #[error("only a partner key speaks for a partner")]
    PartnerNotAllowed,
    #[error("keys cannot have the role {0}")]
    BadRole(&'static str),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sea_orm::DbErr> for KeyError {
    fn from(e: sea_orm::DbErr) -> Self {
        KeyError::Storage(e.into())
    }
}

/// A key as listed (never its secret).
#[derive(Debug, Clone)]
pub struct KeyInfo {
    pub prefix: String,
    pub name: String,
    pub role: String,
    pub partner_ref: Option<String>,
    pub contact_details: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub revoked: bool,
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Creates a key; returns the full key, to be shown once.
pub async fn create(
    db: &DatabaseConnection,
    role: Role,
    partner_ref: Option<&str>,
    name: &str,
    contact_details: bool,
) -> Result<String, KeyError> {
    let partner_id = match (role, partner_ref) {
        (Role::Anonymous, _) => return Err(KeyError::BadRole("anonymous")),
        (Role::Partner, None) => return Err(KeyError::PartnerRequired),
        (Role::Partner, Some(r)) => Some(
            partner::Entity::find()
                .filter(partner::Column::Ref.eq(r))
                .one(db)
                .await?
                .ok_or_else(|| KeyError::UnknownPartner(r.to_owned()))?
                .id,
        ),
        (_, Some(_)) => return Err(KeyError::PartnerNotAllowed),
        (_, None) => None,
    };
    let mut bytes = [0u8; 36];
    rand::rng().fill_bytes(&mut bytes);
    let prefix = hex::encode(&bytes[..4]);
    let secret = hex::encode(&bytes[4..]);
    storage::keys::insert(
        db,
        storage::keys::NewKey {
            prefix: &prefix,
            secret_hash: &hash(&secret),
            name,
            role: role.as_str(),
            partner_id,
            contact_details,
        },
    )
    .await?;
    Ok(format!("mlg_{prefix}_{secret}"))
}

/// Whether a credential looks like one of our keys (rather than a JWT).
pub fn is_api_key(credential: &str) -> bool {
    credential.starts_with("mlg_")
}

/// The principal a key stands for; `None` for a malformed, unknown or
/// revoked key (the caller answers all three alike: existence must not leak).
pub async fn authenticate(db: &DatabaseConnection, key: &str) -> Result<Option<Principal>, KeyError> {
    let Some((prefix, secret)) = key.strip_prefix("mlg_").and_then(|k| k.split_once('_')) else {
        return Ok(None);
    };
    let Some(row) = storage::keys::by_prefix(db, prefix).await? else {
        return Ok(None);
    };
    // Compare hashes in constant time: the stored hash is secret enough that
    // a timing oracle should not help rebuild it.
    let given = hash(secret);
    let same = given.len() == row.secret_hash.len()
        && given
            .bytes()
            .zip(row.secret_hash.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same || row.revoked_at.is_some() {
        return Ok(None);
    }
    let Some(role) = Role::parse(&row.role) else {
        return Ok(None);
    };
    Ok(Some(Principal {
        role,
        partner_id: row.partner_id,
        name: row.name,
        contact_details: row.contact_details,
    }))
}

pub async fn list(db: &DatabaseConnection) -> Result<Vec<KeyInfo>, KeyError> {
    let keys = storage::keys::all(db).await?;
    let partners: std::collections::HashMap<i64, String> = partner::Entity::find()
        .filter(partner::Column::Id.is_in(keys.iter().filter_map(|k| k.partner_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.r#ref))
        .collect();
    Ok(keys
        .into_iter()
        .map(|k: api_key::Model| KeyInfo {
            partner_ref: k.partner_id.and_then(|p| partners.get(&p).cloned()),
            prefix: k.prefix,
            name: k.name,
            role: k.role,
            contact_details: k.contact_details,
            created_at: k.created_at,
            revoked: k.revoked_at.is_some(),
        })
        .collect())
}

/// Revokes the keys with this prefix or name; how many.
pub async fn revoke(db: &DatabaseConnection, prefix_or_name: &str) -> Result<u64, KeyError> {
    Ok(storage::keys::revoke(db, prefix_or_name).await?)
}
