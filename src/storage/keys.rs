//! API key rows and audit entries.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::Result;
use super::entity::{api_key, audit};

/// A new key row (the secret is already hashed).
pub struct NewKey<'a> {
    pub prefix: &'a str,
    pub secret_hash: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub partner_id: Option<i64>,
    pub contact_details: bool,
}

pub async fn insert<C: ConnectionTrait>(db: &C, k: NewKey<'_>) -> Result<api_key::Model> {
    Ok(api_key::ActiveModel {
        prefix: Set(k.prefix.to_owned()),
        secret_hash: Set(k.secret_hash.to_owned()),
        name: Set(k.name.to_owned()),
        role: Set(k.role.to_owned()),
        partner_id: Set(k.partner_id),
        contact_details: Set(k.contact_details),
        created_at: Set(Utc::now()),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn by_prefix<C: ConnectionTrait>(db: &C, prefix: &str) -> Result<Option<api_key::Model>> {
    Ok(api_key::Entity::find()
        .filter(api_key::Column::Prefix.eq(prefix))
        .one(db)
        .await?)
}

pub async fn all<C: ConnectionTrait>(db: &C) -> Result<Vec<api_key::Model>> {
    Ok(api_key::Entity::find()
        .order_by_asc(api_key::Column::Id)
        .all(db)
        .await?)
}

/// Marks a key revoked (by prefix or name); how many keys it revoked.
pub async fn revoke<C: ConnectionTrait>(db: &C, prefix_or_name: &str) -> Result<u64> {
    let r = api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokedAt, sea_orm::sea_query::Expr::value(Utc::now()))
        .filter(
            sea_orm::Condition::any()
                .add(api_key::Column::Prefix.eq(prefix_or_name))
                .add(api_key::Column::Name.eq(prefix_or_name)),
        )
        .filter(api_key::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(r.rows_affected)
}

/// One entry of the audit log.
pub struct AuditEntry<'a> {
    pub principal: &'a str,
    pub role: &'a str,
    pub operation: &'a str,
    pub record_type: Option<&'a str>,
    pub record_id: Option<i64>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Appends to the audit log, in the caller's transaction (so an entry exists
/// exactly when its change does).
pub async fn audit<C: ConnectionTrait>(db: &C, e: AuditEntry<'_>) -> Result<()> {
    audit::ActiveModel {
        at: Set(Utc::now()),
        principal: Set(e.principal.to_owned()),
        role: Set(e.role.to_owned()),
        operation: Set(e.operation.to_owned()),
        record_type: Set(e.record_type.map(str::to_owned)),
        record_id: Set(e.record_id),
        before: Set(e.before.map(|v| v.to_string())),
        after: Set(e.after.map(|v| v.to_string())),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}
