//! `auditLog`: who changed what and when, for admins only.

use async_graphql::{Context, ID, InputObject, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter};

use super::connection::{node_connection, page_cost, slice};
use super::error::{FORBIDDEN, coded, internal};
use super::ids::{self, Kind};
use crate::domain::access::{Principal, Role};
use crate::storage::entity::audit;
use crate::storage::list::{self, Sort};

/// The `auditLog` root field.
#[derive(Default)]
pub struct AuditQuery;

/// Which entries of the audit log to list.
#[derive(InputObject, Debug, Clone, Default)]
pub struct AuditFilter {
    /// Entries about this record (its global id), deleted or not.
    pub record: Option<ID>,
    /// Entries by this principal (an API key's name or a token's subject).
    pub principal: Option<String>,
    /// Entries of this operation (a mutation's name, or `import`).
    pub operation: Option<String>,
    /// Entries at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Entries before this instant.
    pub to: Option<DateTime<Utc>>,
}

/// One change, as it was recorded in the transaction that made it.
#[derive(SimpleObject, Clone)]
pub struct AuditEntry {
    /// Position in the log (entries are never changed or removed).
    pub sequence: i64,
    /// When the change was committed.
    pub at: DateTime<Utc>,
    /// Who made it: the API key's name or the token's subject (`system` for the command line).
    pub principal: String,
    /// The role it acted with.
    pub role: String,
    /// The operation: a mutation's name, or `import`.
    pub operation: String,
    /// The global id of the record changed (it may since have been deleted), if one.
    pub record: Option<ID>,
    /// The type of the record changed.
    pub record_type: Option<String>,
    /// The record before the change (null for a creation).
    pub before: Option<Json<serde_json::Value>>,
    /// The record after the change (null for a deletion); for an import, its summary.
    pub after: Option<Json<serde_json::Value>>,
}

node_connection!(AuditEntryConnection, AuditEntryEdge, AuditEntry, "audit entry");

/// The names the log may give a record type: the GraphQL type's and the
/// table's (as the entities name it).
fn record_types(kind: Kind) -> [&'static str; 2] {
    use crate::storage::entity::*;
    use sea_orm::EntityName;
    let table = match kind {
        Kind::Territory => territory::Entity.table_name(),
        Kind::Partner => partner::Entity.table_name(),
        Kind::Contact => contact::Entity.table_name(),
        Kind::Network => network::Entity.table_name(),
        Kind::Membership => membership::Entity.table_name(),
        Kind::Action => action::Entity.table_name(),
        Kind::Participation => action_partner::Entity.table_name(),
        Kind::Relation => relation::Entity.table_name(),
    };
    [kind.prefix(), table]
}

fn kind_of(record_type: &str) -> Option<Kind> {
    ids::Kind::ALL
        .into_iter()
        .find(|k| record_types(*k).iter().any(|t| t.eq_ignore_ascii_case(record_type)))
}

fn parse(v: Option<String>) -> Option<Json<serde_json::Value>> {
    v.map(|s| Json(serde_json::from_str(&s).unwrap_or(serde_json::Value::String(s))))
}

#[Object]
impl AuditQuery {
    /// The audit log, newest first: every mutation and import, who made it,
    /// when, on which record, and the record before and after. Admins only.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last items (of what `before`/`after` leave).")] last: Option<i32>,
        #[graphql(desc = "Stop before this cursor.")] before: Option<String>,
        #[graphql(desc = "Which entries.")] filter: Option<AuditFilter>,
    ) -> Result<AuditEntryConnection> {
        // A request without a principal is the server's own (tests, tools).
        if ctx.data_opt::<Principal>().is_some_and(|p| p.role != Role::Admin) {
            return Err(coded(FORBIDDEN, "the audit log is for admin keys only"));
        }
        let f = filter.unwrap_or_default();
        let mut cond = Condition::all();
        if let Some(id) = &f.record {
            let Some((kind, n)) = ids::decode(id) else {
                return Err(super::error::bad_input(format!(
                    "`filter.record`: {:?} is not an id of this API",
                    id.as_str()
                )));
            };
            cond = cond
                .add(audit::Column::RecordId.eq(n))
                .add(audit::Column::RecordType.is_in(record_types(kind)));
        }
        if let Some(p) = f.principal {
            cond = cond.add(audit::Column::Principal.eq(p));
        }
        if let Some(o) = f.operation {
            cond = cond.add(audit::Column::Operation.eq(o));
        }
        if let Some(t) = f.from {
            cond = cond.add(audit::Column::At.gte(t));
        }
        if let Some(t) = f.to {
            cond = cond.add(audit::Column::At.lt(t));
        }
        let sort = [Sort::column("\"audit_log\".\"id\"", true, false)];
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let g = list::root(
            db,
            audit::Entity::find().filter(cond),
            &sort,
            slice(ctx, first, after, last, before)?,
            crate::storage::decode::Projection::ALL,
        )
        .await
        .map_err(internal)?;
        Ok(AuditEntryConnection::from_group(ctx, g, |m: audit::Model| AuditEntry {
            sequence: m.id,
            at: m.at,
            principal: m.principal,
            role: m.role,
            operation: m.operation,
            record: match (m.record_type.as_deref().and_then(kind_of), m.record_id) {
                (Some(k), Some(id)) => Some(ids::encode(k, id)),
                _ => None,
            },
            record_type: m.record_type,
            before: parse(m.before),
            after: parse(m.after),
        }))
    }
}
