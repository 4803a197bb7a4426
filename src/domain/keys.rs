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

/// The SHA-256 of a secret, in hex: what the key table stores.
pub fn hash(secret: &str) -> String {
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

fn split(key: &str) -> Option<(&str, &str)> {
    key.strip_prefix("mlg_").and_then(|k| k.split_once('_'))
}

/// A key's row as authentication needs it: the hash its secret must match,
/// and whom it stands for (`None`: revoked, or a role no key may have).
#[derive(Clone)]
struct Found {
    secret_hash: String,
    principal: Option<Principal>,
}

impl Found {
    /// The principal, if `secret` is this key's.
    fn admit(&self, secret: &str) -> Option<Principal> {
        // Compare hashes in constant time: the stored hash is secret enough
        // that a timing oracle should not help rebuild it.
        let given = hash(secret);
        let same = given.len() == self.secret_hash.len()
            && given
                .bytes()
                .zip(self.secret_hash.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same { self.principal.clone() } else { None }
    }
}

async fn lookup(db: &DatabaseConnection, prefix: &str) -> Result<Option<Found>, KeyError> {
    let Some(row) = storage::keys::by_prefix(db, prefix).await? else {
        return Ok(None);
    };
    let principal = match (row.revoked_at, Role::parse(&row.role)) {
        (None, Some(role)) => Some(Principal {
            role,
            partner_id: row.partner_id,
            name: row.name,
            contact_details: row.contact_details,
            identity: format!("key:{prefix}"),
        }),
        _ => None,
    };
    Ok(Some(Found {
        secret_hash: row.secret_hash,
        principal,
    }))
}

/// Keys read recently, so that a request does not read the key table each
/// time: on a small query that read was a quarter of the statements.
///
/// The price is the delay of a revocation: a key revoked (by `maillage
/// keys revoke`, on any instance) is refused by every instance within
/// `ttl`, not at once. Only keys that exist are kept, good or revoked,
/// with their secret's hash: a wrong secret is refused from the cache as
/// from the table, and an unknown prefix is always looked up. A `ttl` of
/// zero keeps nothing.
pub struct KeyCache {
    ttl: std::time::Duration,
    entries: std::sync::Mutex<lru::LruCache<String, (Found, std::time::Instant)>>,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCache")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl Default for KeyCache {
    /// No cache: every request reads the key table.
    fn default() -> Self {
        KeyCache::new(std::time::Duration::ZERO)
    }
}

/// Keys kept at most (a few hundred bytes each).
const KEY_CACHE_SIZE: usize = 10_000;

impl KeyCache {
    pub fn new(ttl: std::time::Duration) -> Self {
        KeyCache {
            ttl,
            entries: std::sync::Mutex::new(lru::LruCache::new(
                std::num::NonZeroUsize::new(KEY_CACHE_SIZE).expect("non-zero"),
            )),
        }
    }

    /// How long a key read stays valid.
    pub fn ttl(&self) -> std::time::Duration {
        self.ttl
    }

    /// The principal a key stands for; `None` for a malformed, unknown or
    /// revoked key (the caller answers all three alike: existence must not
    /// leak). From the cache when the key was read less than `ttl` ago.
    pub async fn authenticate(&self, db: &DatabaseConnection, key: &str) -> Result<Option<Principal>, KeyError> {
        let Some((prefix, secret)) = split(key) else {
            return Ok(None);
        };
        if self.ttl.is_zero() {
            return Ok(lookup(db, prefix).await?.and_then(|found| found.admit(secret)));
        }
        let cached = {
            let mut e = self.entries.lock().expect("key cache lock");
            match e.get(prefix) {
                Some((found, at)) if at.elapsed() < self.ttl => Some(found.clone()),
                _ => None,
            }
        };
        if let Some(found) = cached {
            return Ok(found.admit(secret));
        }
        let Some(found) = lookup(db, prefix).await? else {
            return Ok(None);
        };
        let admitted = found.admit(secret);
        self.entries
            .lock()
            .expect("key cache lock")
            .put(prefix.to_owned(), (found, std::time::Instant::now()));
        Ok(admitted)
    }
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
