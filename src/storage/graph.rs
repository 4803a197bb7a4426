//! Reads for the in-memory partner graph (`domain::graph`), and its change log.
//!
//! The projection needs every link row but only a few columns of each, so
//! these are plain column lists read in one statement per table (no models
//! with descriptions, timestamps or versions). The `visibility` columns are
//! read raw (NULL = "the default of its kind"): the domain computes the
//! effective value with the same rules as [`super::read`].
//!
//! The change log (`graph_changes`) is written in the transaction of every
//! edit and import, so a row exists exactly when its write committed. On
//! PostgreSQL the writer takes the table's lock until it commits, so `seq`
//! order is commit order and a reader that saw `seq = n` can never later
//! find a smaller one (an increasing `seq` alone does not promise that: two
//! transactions may commit out of the order they took their numbers in).
//! Committing also sends a `NOTIFY` on [`CHANNEL`] to wake the other
//! instances.

use std::collections::HashSet;

use chrono::NaiveDate;
use sea_orm::sea_query::SelectStatement;
use sea_orm::{ConnectionTrait, DatabaseBackend, QueryResult, Statement};

use super::Result;
use super::read::Scope;
use crate::model::*;

/// The `LISTEN`/`NOTIFY` channel of graph changes.
pub const CHANNEL: &str = "maillage_graph";

#[derive(Debug, Clone, PartialEq)]
pub struct PartnerRow {
    pub id: i64,
    pub r#ref: String,
    pub name: String,
    pub kind: PartnerKind,
    pub territory_id: Option<i64>,
}

/// A territory a partner serves (`partner_territories`).
#[derive(Debug, Clone, PartialEq)]
pub struct ServedRow {
    pub id: i64,
    pub partner_id: i64,
    pub territory_id: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NetworkRow {
    pub id: i64,
    pub r#ref: String,
    pub name: String,
    pub kind: NetworkKind,
    /// As stored: `None` is the default of the kind.
    pub visibility: Option<String>,
    pub started_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MembershipRow {
    pub id: i64,
    pub network_id: i64,
    pub partner_id: i64,
    pub role: MembershipRole,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActionRow {
    pub id: i64,
    pub r#ref: String,
    pub title: String,
    pub theme: Theme,
    pub status: ActionStatus,
    pub network_id: Option<i64>,
    pub visibility: Option<String>,
    pub started_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParticipationRow {
    pub id: i64,
    pub action_id: i64,
    pub partner_id: i64,
    pub role: ParticipationRole,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RelationRow {
    pub id: i64,
    pub from_partner_id: i64,
    pub to_partner_id: i64,
    pub kind: RelationKind,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    pub weight: f64,
    pub visibility: Option<String>,
}

/// One row of a table the projection holds.
#[derive(Debug, Clone, PartialEq)]
pub enum GraphRow {
    Partner(PartnerRow),
    Served(ServedRow),
    Network(NetworkRow),
    Membership(MembershipRow),
    Action(ActionRow),
    Participation(ParticipationRow),
    Relation(RelationRow),
}

/// The tables the projection holds, as the change log names them.
pub const TABLES: &[&str] = &[
    "partners",
    "partner_territories",
    "networks",
    "memberships",
    "actions",
    "action_partners",
    "relations",
];

fn columns(table: &str) -> Option<&'static str> {
    Some(match table {
        "partners" => "id, ref, name, kind, territory_id",
        "partner_territories" => "id, partner_id, territory_id",
        "networks" => "id, ref, name, kind, visibility, started_on, ended_on",
        "memberships" => "id, network_id, partner_id, role, since, until",
        "actions" => "id, ref, title, theme, status, network_id, visibility, started_on, ended_on",
        "action_partners" => "id, action_id, partner_id, role",
        "relations" => "id, from_partner_id, to_partner_id, kind, since, until, weight, visibility",
        _ => return None,
    })
}

fn vocab<T>(r: &QueryResult, col: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let s: String = r.try_get("", col)?;
    parse(&s).ok_or_else(|| super::StorageError::Integrity(format!("unexpected {col} `{s}` in the database")))
}

fn decode(table: &str, r: &QueryResult) -> Result<GraphRow> {
    let id: i64 = r.try_get("", "id")?;
    Ok(match table {
        "partners" => GraphRow::Partner(PartnerRow {
            id,
            r#ref: r.try_get("", "ref")?,
            name: r.try_get("", "name")?,
            kind: vocab(r, "kind", PartnerKind::parse)?,
            territory_id: r.try_get("", "territory_id")?,
        }),
        "partner_territories" => GraphRow::Served(ServedRow {
            id,
            partner_id: r.try_get("", "partner_id")?,
            territory_id: r.try_get("", "territory_id")?,
        }),
        "networks" => GraphRow::Network(NetworkRow {
            id,
            r#ref: r.try_get("", "ref")?,
            name: r.try_get("", "name")?,
            kind: vocab(r, "kind", NetworkKind::parse)?,
            visibility: r.try_get("", "visibility")?,
            started_on: r.try_get("", "started_on")?,
            ended_on: r.try_get("", "ended_on")?,
        }),
        "memberships" => GraphRow::Membership(MembershipRow {
            id,
            network_id: r.try_get("", "network_id")?,
            partner_id: r.try_get("", "partner_id")?,
            role: vocab(r, "role", MembershipRole::parse)?,
            since: r.try_get("", "since")?,
            until: r.try_get("", "until")?,
        }),
        "actions" => GraphRow::Action(ActionRow {
            id,
            r#ref: r.try_get("", "ref")?,
            title: r.try_get("", "title")?,
            theme: vocab(r, "theme", Theme::parse)?,
            status: vocab(r, "status", ActionStatus::parse)?,
            network_id: r.try_get("", "network_id")?,
            visibility: r.try_get("", "visibility")?,
            started_on: r.try_get("", "started_on")?,
            ended_on: r.try_get("", "ended_on")?,
        }),
        "action_partners" => GraphRow::Participation(ParticipationRow {
            id,
            action_id: r.try_get("", "action_id")?,
            partner_id: r.try_get("", "partner_id")?,
            role: vocab(r, "role", ParticipationRole::parse)?,
        }),
        "relations" => GraphRow::Relation(RelationRow {
            id,
            from_partner_id: r.try_get("", "from_partner_id")?,
            to_partner_id: r.try_get("", "to_partner_id")?,
            kind: vocab(r, "kind", RelationKind::parse)?,
            since: r.try_get("", "since")?,
            until: r.try_get("", "until")?,
            weight: r.try_get("", "weight")?,
            visibility: r.try_get("", "visibility")?,
        }),
        other => return Err(super::StorageError::Integrity(format!("no graph table {other}"))),
    })
}

fn stmt(db: &impl ConnectionTrait, sql: String) -> Statement {
    Statement::from_string(db.get_database_backend(), sql)
}

/// Every row of one of [`TABLES`], in id order.
pub async fn table(db: &impl ConnectionTrait, table: &str) -> Result<Vec<GraphRow>> {
    let cols = columns(table).ok_or_else(|| super::StorageError::Integrity(format!("no graph table {table}")))?;
    let rows = db
        .query_all_raw(stmt(db, format!("SELECT {cols} FROM \"{table}\" ORDER BY id")))
        .await?;
    rows.iter().map(|r| decode(table, r)).collect()
}

/// One row by id (`None`: it is gone).
pub async fn row(db: &impl ConnectionTrait, table: &str, id: i64) -> Result<Option<GraphRow>> {
    let Some(cols) = columns(table) else {
        return Ok(None);
    };
    // `id` is a number from our own change log: inlining it is safe.
    let r = db
        .query_one_raw(stmt(db, format!("SELECT {cols} FROM \"{table}\" WHERE id = {id}")))
        .await?;
    r.map(|r| decode(table, &r)).transpose()
}

/// What a change-log row says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOp {
    Upsert,
    Delete,
    /// Everything may have changed (an import).
    Rebuild,
}

impl ChangeOp {
    fn as_str(self) -> &'static str {
        match self {
            ChangeOp::Upsert => "upsert",
            ChangeOp::Delete => "delete",
            ChangeOp::Rebuild => "rebuild",
        }
    }
}

/// A change-log row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedChange {
    pub seq: i64,
    pub op: ChangeOp,
    pub table: Option<String>,
    pub id: Option<i64>,
}

/// Appends a change, in the writer's transaction `db` (see the module doc
/// for the lock and the `NOTIFY`). Only changes of [`TABLES`] and rebuilds
/// are logged; other tables (contacts, territories…) are no part of the
/// projection, except that a deleted territory takes the served-territory
/// rows that name it: that is logged as a rebuild of those rows' table.
pub async fn log_change(db: &impl ConnectionTrait, op: ChangeOp, table: Option<&str>, id: Option<i64>) -> Result<()> {
    let (op, table, id) = match table {
        Some(t) if TABLES.contains(&t) => (op, Some(t), id),
        Some("territories") if op == ChangeOp::Delete => (ChangeOp::Rebuild, None, None),
        Some(_) => return Ok(()),
        None => (op, None, None),
    };
    let pg = db.get_database_backend() == DatabaseBackend::Postgres;
    if pg {
        // Held until commit: writers of the log go one after the other, so
        // sequence order is commit order. Readers (ACCESS SHARE) are not blocked.
        db.execute_unprepared("LOCK TABLE graph_changes IN EXCLUSIVE MODE")
            .await?;
    }
    let now = chrono::Utc::now();
    let v = |x: Option<String>| x.map(sea_orm::Value::from).unwrap_or(sea_orm::Value::String(None));
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        if pg {
            "INSERT INTO graph_changes (at, op, record_type, record_id) VALUES ($1, $2, $3, $4)"
        } else {
            "INSERT INTO graph_changes (at, op, record_type, record_id) VALUES (?, ?, ?, ?)"
        },
        [
            now.into(),
            op.as_str().into(),
            v(table.map(str::to_owned)),
            id.map(sea_orm::Value::from).unwrap_or(sea_orm::Value::BigInt(None)),
        ],
    ))
    .await?;
    if op == ChangeOp::Rebuild {
        // Whoever is behind this row rebuilds when it reaches it, whatever
        // came before: the earlier rows are of no use to anyone. This keeps
        // the log to the edits since the last import. (The row just written
        // is the last one: writers of the log go one at a time.)
        db.execute_unprepared("DELETE FROM graph_changes WHERE seq < (SELECT MAX(seq) FROM graph_changes)")
            .await?;
    }
    if pg {
        // Delivered when (and only if) the transaction commits.
        db.execute_unprepared(&format!("NOTIFY {CHANNEL}")).await?;
    }
    Ok(())
}

/// The last sequence number of the change log (0 when empty).
pub async fn last_seq(db: &impl ConnectionTrait) -> Result<i64> {
    let r = db
        .query_one_raw(stmt(db, "SELECT COALESCE(MAX(seq), 0) AS s FROM graph_changes".into()))
        .await?;
    Ok(match r {
        Some(r) => r.try_get::<i64>("", "s")?,
        None => 0,
    })
}

/// The changes after `seq`, oldest first, at most `limit`.
pub async fn changes_since(db: &impl ConnectionTrait, seq: i64, limit: u64) -> Result<Vec<LoggedChange>> {
    let rows = db
        .query_all_raw(stmt(
            db,
            format!(
                "SELECT seq, op, record_type, record_id FROM graph_changes WHERE seq > {seq} ORDER BY seq LIMIT {limit}"
            ),
        ))
        .await?;
    rows.iter()
        .map(|r| {
            let op: String = r.try_get("", "op")?;
            Ok(LoggedChange {
                seq: r.try_get("", "seq")?,
                op: match op.as_str() {
                    "upsert" => ChangeOp::Upsert,
                    "delete" => ChangeOp::Delete,
                    _ => ChangeOp::Rebuild,
                },
                table: r.try_get("", "record_type")?,
                id: r.try_get("", "record_id")?,
            })
        })
        .collect()
}

/// The ids a territory subquery (see [`super::read::territory_set`]) selects.
pub async fn territory_ids(db: &impl ConnectionTrait, set: &SelectStatement) -> Result<HashSet<i64>> {
    let backend = db.get_database_backend();
    let rows = db.query_all_raw(backend.build(set)).await?;
    rows.iter()
        .map(|r| r.try_get_by_index::<i64>(0).map_err(Into::into))
        .collect()
}

/// Territories of `kind` among `within` where no action the scope sees, of
/// `theme` and with status `active`, is run (an action run in a territory
/// counts for it and for what lies inside it).
pub async fn territories_without_action(
    db: &impl ConnectionTrait,
    scope: &Scope,
    within: &HashSet<i64>,
    kind: TerritoryKind,
    theme: Option<Theme>,
) -> Result<Vec<i64>> {
    let theme = theme.map_or(String::new(), |t| format!("AND a.theme = '{}'", t.as_str()));
    let sql = format!(
        "SELECT t.id FROM territories t WHERE t.kind = '{kind}' AND t.id IN ({within}) AND NOT EXISTS ( \
           SELECT 1 FROM action_territories at JOIN actions a ON a.id = at.action_id \
           JOIN territory_ancestors ta ON ta.ancestor_id = at.territory_id AND ta.territory_id = t.id \
           WHERE a.status = 'active' {theme} AND a.id IN ({visible})) ORDER BY t.id",
        kind = kind.as_str(),
        within = id_list(within),
        visible = super::read::visible_actions(scope),
    );
    ids(db, sql).await
}

/// Territories of `kind` among `within` that no partner of `partner_kind`
/// the scope sees serves (by `partner_territories`) or sits in, directly or
/// from a territory containing it.
pub async fn territories_without_partner_kind(
    db: &impl ConnectionTrait,
    scope: &Scope,
    within: &HashSet<i64>,
    kind: TerritoryKind,
    partner_kind: PartnerKind,
) -> Result<Vec<i64>> {
    let visible = match scope {
        Scope::All => "1 = 1".to_owned(),
        _ => format!("p.id IN ({})", super::read::visible_partners(scope)),
    };
    let sql = format!(
        "SELECT t.id FROM territories t WHERE t.kind = '{kind}' AND t.id IN ({within}) AND NOT EXISTS ( \
           SELECT 1 FROM partners p JOIN territory_ancestors ta ON ta.territory_id = t.id \
           WHERE p.kind = '{pk}' AND ({visible}) AND (p.territory_id = ta.ancestor_id OR EXISTS ( \
             SELECT 1 FROM partner_territories pt WHERE pt.partner_id = p.id AND pt.territory_id = ta.ancestor_id))) \
         ORDER BY t.id",
        kind = kind.as_str(),
        within = id_list(within),
        pk = partner_kind.as_str(),
    );
    ids(db, sql).await
}

fn id_list(s: &HashSet<i64>) -> String {
    if s.is_empty() {
        return "NULL".into();
    }
    let mut v: Vec<i64> = s.iter().copied().collect();
    v.sort_unstable();
    v.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

async fn ids(db: &impl ConnectionTrait, sql: String) -> Result<Vec<i64>> {
    let rows = db.query_all_raw(stmt(db, sql)).await?;
    rows.iter()
        .map(|r| r.try_get_by_index::<i64>(0).map_err(Into::into))
        .collect()
}
