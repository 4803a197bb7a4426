//! Writing a validated bundle into the database.
//!
//! The caller opens the transaction ([`begin`]), loads [`existing`] in it,
//! validates the bundle against it (domain layer) and calls [`write`]; so
//! validation and writes see the same data, and an error anywhere rolls
//! everything back.
//!
//! Records are matched by their external id (`ref`) and link rows by their
//! natural key, so re-importing updates in place. Rows are written in bulk
//! (large multi-row statements, or `COPY` on PostgreSQL: see
//! [`super::upsert`]), parents before children.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::ArrayType;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, Statement,
    TransactionTrait, Value,
};

use super::pg::PgTxn;
use super::upsert::{Stripped, Upsert, delete_ids};
use super::{Result, StorageError};
use crate::bundle::{Bundle, Existing, Present};
use crate::model::text::search_key;
use crate::model::*;

/// The transaction an import runs in. On PostgreSQL it holds its own
/// connection so that rows can be sent by `COPY` (see [`super::pg`]);
/// elsewhere it is a sea-orm transaction.
pub enum ImportTxn {
    Orm(DatabaseTransaction),
    Postgres(PgTxn),
}

/// Opens the transaction of an import.
pub async fn begin(db: &DatabaseConnection) -> Result<ImportTxn> {
    Ok(if db.get_database_backend() == DbBackend::Postgres {
        ImportTxn::Postgres(PgTxn::begin(db.get_postgres_connection_pool()).await?)
    } else {
        ImportTxn::Orm(db.begin().await?)
    })
}

impl ImportTxn {
    pub async fn commit(self) -> Result<()> {
        match self {
            ImportTxn::Orm(t) => t.commit().await?,
            ImportTxn::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<()> {
        match self {
            ImportTxn::Orm(t) => t.rollback().await?,
            ImportTxn::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for ImportTxn {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            ImportTxn::Orm(t) => t.get_database_backend(),
            ImportTxn::Postgres(t) => t.get_database_backend(),
        }
    }
    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            ImportTxn::Orm(t) => t.execute_raw(stmt).await,
            ImportTxn::Postgres(t) => t.execute_raw(stmt).await,
        }
    }
    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            ImportTxn::Orm(t) => t.execute_unprepared(sql).await,
            ImportTxn::Postgres(t) => t.execute_unprepared(sql).await,
        }
    }
    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            ImportTxn::Orm(t) => t.query_one_raw(stmt).await,
            ImportTxn::Postgres(t) => t.query_one_raw(stmt).await,
        }
    }
    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            ImportTxn::Orm(t) => t.query_all_raw(stmt).await,
            ImportTxn::Postgres(t) => t.query_all_raw(stmt).await,
        }
    }
}

/// What one import did to one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableSummary {
    pub table: &'static str,
    /// Rows the bundle holds for it.
    pub rows: u64,
    /// Rows inserted or changed (unchanged rows are not rewritten).
    pub written: u64,
    /// Rows removed by `--replace`.
    pub deleted: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub tables: Vec<TableSummary>,
}

impl ImportSummary {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
    pub fn written(&self) -> u64 {
        self.tables.iter().map(|t| t.written).sum()
    }
    pub fn deleted(&self) -> u64 {
        self.tables.iter().map(|t| t.deleted).sum()
    }
}

/// Told about the advance of a long import (a progress bar, or nothing).
pub trait Progress: Send + Sync {
    fn table(&self, _table: &'static str, _rows: u64) {}
    fn advance(&self, _rows: u64) {}
}

/// No progress reporting.
pub struct Silent;
impl Progress for Silent {}

/// `ref → id` of every row of a table with external ids.
pub async fn ref_map<C: ConnectionTrait>(db: &C, table: &str) -> Result<HashMap<String, i64>> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT id, \"ref\" FROM {table}"),
        ))
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get_by_index::<String>(1)?, r.try_get_by_index::<i64>(0)?)))
        .collect::<Result<_, DbErr>>()
        .map_err(Into::into)
}

async fn query<C: ConnectionTrait>(db: &C, sql: &str) -> Result<Vec<sea_orm::QueryResult>> {
    Ok(db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await?)
}

/// What the database holds that an incremental bundle may refer to. Tables
/// listed in `skip` are left out: `--replace` empties them, so the bundle
/// must be self-sufficient for them.
pub async fn existing<C: ConnectionTrait>(db: &C, skip: Present, replace: bool) -> Result<Existing> {
    let mut e = Existing::default();
    // Territories and partners are always in a bundle: with --replace nothing
    // of theirs survives, and nothing else can be referred to either.
    if !replace {
        for r in query(db, "SELECT t.\"ref\", t.kind, t.code, p.\"ref\" FROM territories t LEFT JOIN territories p ON p.id = t.parent_id").await? {
            let r#ref: String = r.try_get_by_index(0)?;
            let kind = TerritoryKind::parse(&r.try_get_by_index::<String>(1)?)
                .ok_or_else(|| StorageError::Integrity("unknown territory kind in the database".into()))?;
            if let Some(code) = r.try_get_by_index::<Option<String>>(2)? {
                e.territory_codes.insert((kind, code), r#ref.clone());
            }
            e.territories.insert(r#ref, (kind, r.try_get_by_index(3)?));
        }
        for r in query(
            db,
            "SELECT t.\"ref\", p.\"ref\" FROM partners t LEFT JOIN partners p ON p.id = t.parent_id",
        )
        .await?
        {
            e.partners.insert(r.try_get_by_index(0)?, r.try_get_by_index(1)?);
        }
    }
    let keep = |present: bool| !(replace && present);
    if keep(skip.networks) {
        for r in query(
            db,
            "SELECT t.\"ref\", p.\"ref\" FROM networks t LEFT JOIN networks p ON p.id = t.parent_id",
        )
        .await?
        {
            e.networks.insert(r.try_get_by_index(0)?, r.try_get_by_index(1)?);
        }
    }
    if keep(skip.actions) {
        for r in query(db, "SELECT \"ref\" FROM actions").await? {
            e.actions.insert(r.try_get_by_index(0)?);
        }
    }
    if keep(skip.contacts) {
        for r in query(db, "SELECT \"ref\" FROM contacts").await? {
            e.contacts.insert(r.try_get_by_index(0)?);
        }
    }
    if !replace {
        for r in query(
            db,
            "SELECT a.\"ref\", p.\"ref\" FROM action_partners ap JOIN actions a ON a.id = ap.action_id \
             JOIN partners p ON p.id = ap.partner_id WHERE ap.role = 'lead'",
        )
        .await?
        {
            e.leads.insert(r.try_get_by_index(0)?, r.try_get_by_index(1)?);
        }
    }
    Ok(e)
}

fn s(v: &str) -> Value {
    Value::String(Some(v.to_owned()))
}
fn os(v: &Option<String>) -> Value {
    Value::String(v.clone())
}
fn e<T: std::fmt::Display>(v: T) -> Value {
    Value::String(Some(v.to_string()))
}

/// Looks a reference up; validation guarantees it resolves.
fn id(map: &HashMap<String, i64>, what: &str, r: &str) -> Result<i64> {
    map.get(r)
        .copied()
        .ok_or_else(|| StorageError::Integrity(format!("unknown {what} {r:?} while writing")))
}
fn oid(map: &HashMap<String, i64>, what: &str, r: &Option<String>) -> Result<Value> {
    Ok(Value::BigInt(match r {
        Some(r) => Some(id(map, what, r)?),
        None => None,
    }))
}

struct Writer<'a> {
    db: &'a ImportTxn,
    now: DateTime<Utc>,
    progress: &'a dyn Progress,
}

impl Writer<'_> {
    /// Upserts the rows of a self-referencing table in file order (so ids,
    /// and thus exports, keep the bundle's order). A parent that was not in
    /// the database before is written as NULL first, then set by one batched
    /// update once every row has its id.
    async fn tree<F>(
        &self,
        up: &Upsert<'_>,
        rows: Vec<(&str, Option<&str>)>,
        mut row: F,
    ) -> Result<(u64, HashMap<String, i64>)>
    where
        F: FnMut(usize, Value) -> Result<Vec<Value>>,
    {
        let before = ref_map(self.db, up.table).await?;
        let values = rows
            .iter()
            .enumerate()
            .map(|(i, (_, parent))| row(i, Value::BigInt(parent.and_then(|p| before.get(p).copied()))))
            .collect::<Result<Vec<_>>>()?;
        self.progress.advance(values.len() as u64);
        let stripped = Stripped::if_empty(self.db, up.table).await?;
        let written = up.run(self.db, values, stripped.is_some()).await?;
        let map = ref_map(self.db, up.table).await?;
        let mut late = vec![];
        for (id, parent) in &rows {
            if let Some(p) = parent
                && !before.contains_key(*p)
            {
                late.push((self::id(&map, up.table, id)?, self::id(&map, up.table, p)?));
            }
        }
        set_parents(self.db, up.table, &late).await?;
        if let Some(s) = stripped {
            s.restore(self.db).await?;
        }
        Ok((written, map))
    }

    async fn flat(&self, up: &Upsert<'_>, rows: Vec<Vec<Value>>) -> Result<u64> {
        let n = rows.len() as u64;
        let stripped = Stripped::if_empty(self.db, up.table).await?;
        let w = up.run(self.db, rows, stripped.is_some()).await?;
        if let Some(s) = stripped {
            s.restore(self.db).await?;
        }
        self.progress.advance(n);
        Ok(w)
    }

    /// A link table of two ids and nothing else (served territories, action
    /// places): upserted by its pair, returning the pairs for `--replace`.
    async fn pairs(
        &self,
        table: &'static str,
        cols: [&str; 2],
        pairs: Vec<[i64; 2]>,
        summary: &mut ImportSummary,
    ) -> Result<(&'static str, HashSet<Vec<i64>>)> {
        let columns = [cols[0], cols[1], "created_at", "updated_at"];
        let up = Upsert {
            table,
            columns: &columns,
            key: &cols,
            fixed: FIXED,
        };
        let keys: HashSet<Vec<i64>> = pairs.iter().map(|k| k.to_vec()).collect();
        let rows = pairs
            .into_iter()
            .map(|[a, b]| self.stamp(vec![a.into(), b.into()]))
            .collect();
        let written = self.flat(&up, rows).await?;
        summary.tables.push(TableSummary {
            table,
            rows: keys.len() as u64,
            written,
            deleted: 0,
        });
        Ok((table, keys))
    }

    fn stamp(&self, mut row: Vec<Value>) -> Vec<Value> {
        row.push(self.now.into());
        row.push(self.now.into());
        row
    }
}

const FIXED: &[&str] = &["created_at"];

macro_rules! cols {
    ($($c:literal),*) => { &[$($c,)* "created_at", "updated_at"] };
}

/// Writes a validated bundle; with `replace`, removes what the bundle does
/// not hold (in the files it carries). Runs inside the caller's transaction.
pub async fn write(db: &ImportTxn, b: &Bundle, replace: bool, progress: &dyn Progress) -> Result<ImportSummary> {
    let w = Writer {
        db,
        now: Utc::now(),
        progress,
    };
    let p = b.present;
    let mut summary = ImportSummary::default();
    let before: HashMap<&str, HashMap<String, i64>> = if replace {
        let mut m = HashMap::new();
        for t in ["territories", "partners", "contacts", "networks", "actions"] {
            m.insert(t, ref_map(db, t).await?);
        }
        m
    } else {
        HashMap::new()
    };

    // Territories, parents first.
    progress.table("territories", b.territories.len() as u64);
    let up = Upsert {
        table: "territories",
        columns: cols!(
            "ref",
            "kind",
            "code",
            "name",
            "name_search",
            "parent_id",
            "population",
            "lat",
            "lon"
        ),
        key: &["ref"],
        fixed: FIXED,
    };
    let order = b
        .territories
        .iter()
        .map(|t| (t.id.as_str(), t.parent_ref.as_deref()))
        .collect();
    let (written, territories) = w
        .tree(&up, order, |i, parent| {
            let t = &b.territories[i];
            Ok(w.stamp(vec![
                s(&t.id),
                e(t.kind),
                os(&t.code),
                s(&t.name),
                Value::String(Some(search_key(&t.name))),
                parent,
                t.population.into(),
                t.lat.into(),
                t.lon.into(),
            ]))
        })
        .await?;
    summary.tables.push(TableSummary {
        table: "territories",
        rows: b.territories.len() as u64,
        written,
        deleted: 0,
    });

    progress.table("partners", b.partners.len() as u64);
    let up = Upsert {
        table: "partners",
        columns: cols!(
            "ref",
            "name",
            "name_search",
            "kind",
            "siret",
            "parent_id",
            "territory_id",
            "website",
            "email",
            "phone",
            "description"
        ),
        key: &["ref"],
        fixed: FIXED,
    };
    let order = b
        .partners
        .iter()
        .map(|t| (t.id.as_str(), t.parent_ref.as_deref()))
        .collect();
    let (written, partners) = w
        .tree(&up, order, |i, parent| {
            let x = &b.partners[i];
            Ok(w.stamp(vec![
                s(&x.id),
                s(&x.name),
                Value::String(Some(search_key(&x.name))),
                e(x.kind),
                os(&x.siret),
                parent,
                oid(&territories, "territory", &x.territory_ref)?,
                os(&x.website),
                os(&x.email),
                os(&x.phone),
                os(&x.description),
            ]))
        })
        .await?;
    summary.tables.push(TableSummary {
        table: "partners",
        rows: b.partners.len() as u64,
        written,
        deleted: 0,
    });

    let mut link_keys: Vec<(&'static str, HashSet<Vec<i64>>)> = vec![];

    if p.partner_territories {
        progress.table("partner_territories", b.partner_territories.len() as u64);
        let pairs = b
            .partner_territories
            .iter()
            .map(|x| {
                Ok([
                    id(&partners, "partner", &x.partner_ref)?,
                    id(&territories, "territory", &x.territory_ref)?,
                ])
            })
            .collect::<Result<Vec<_>>>()?;
        let (table, keys) = w
            .pairs(
                "partner_territories",
                ["partner_id", "territory_id"],
                pairs,
                &mut summary,
            )
            .await?;
        link_keys.push((table, keys));
    }

    if p.contacts {
        progress.table("contacts", b.contacts.len() as u64);
        let up = Upsert {
            table: "contacts",
            columns: cols!("ref", "partner_id", "full_name", "role_title", "email", "phone"),
            key: &["ref"],
            fixed: FIXED,
        };
        let rows = b
            .contacts
            .iter()
            .map(|x| {
                Ok(w.stamp(vec![
                    s(&x.id),
                    id(&partners, "partner", &x.partner_ref)?.into(),
                    s(&x.full_name),
                    os(&x.role_title),
                    os(&x.email),
                    os(&x.phone),
                ]))
            })
            .collect::<Result<Vec<_>>>()?;
        let written = w.flat(&up, rows).await?;
        summary.tables.push(TableSummary {
            table: "contacts",
            rows: b.contacts.len() as u64,
            written,
            deleted: 0,
        });
    }

    let mut networks = HashMap::new();
    if p.networks {
        progress.table("networks", b.networks.len() as u64);
        let up = Upsert {
            table: "networks",
            columns: cols!(
                "ref",
                "name",
                "name_search",
                "kind",
                "territory_id",
                "parent_id",
                "started_on",
                "ended_on",
                "description"
            ),
            key: &["ref"],
            fixed: FIXED,
        };
        let order = b
            .networks
            .iter()
            .map(|t| (t.id.as_str(), t.parent_ref.as_deref()))
            .collect();
        let (written, map) = w
            .tree(&up, order, |i, parent| {
                let x = &b.networks[i];
                Ok(w.stamp(vec![
                    s(&x.id),
                    s(&x.name),
                    Value::String(Some(search_key(&x.name))),
                    e(x.kind),
                    oid(&territories, "territory", &x.territory_ref)?,
                    parent,
                    x.started_on.into(),
                    x.ended_on.into(),
                    os(&x.description),
                ]))
            })
            .await?;
        networks = map;
        summary.tables.push(TableSummary {
            table: "networks",
            rows: b.networks.len() as u64,
            written,
            deleted: 0,
        });
    }
    let need_networks = (p.memberships && !b.memberships.is_empty()) || (p.actions && !b.actions.is_empty());
    if networks.is_empty() && need_networks {
        networks = ref_map(db, "networks").await?;
    }

    if p.memberships {
        progress.table("memberships", b.memberships.len() as u64);
        let up = Upsert {
            table: "memberships",
            columns: cols!("network_id", "partner_id", "role", "since", "until"),
            key: &["network_id", "partner_id"],
            fixed: FIXED,
        };
        let mut keys = HashSet::new();
        let rows = b
            .memberships
            .iter()
            .map(|x| {
                let (n, pt) = (
                    id(&networks, "network", &x.network_ref)?,
                    id(&partners, "partner", &x.partner_ref)?,
                );
                keys.insert(vec![n, pt]);
                Ok(w.stamp(vec![n.into(), pt.into(), e(x.role), x.since.into(), x.until.into()]))
            })
            .collect::<Result<Vec<_>>>()?;
        let written = w.flat(&up, rows).await?;
        summary.tables.push(TableSummary {
            table: "memberships",
            rows: keys.len() as u64,
            written,
            deleted: 0,
        });
        link_keys.push(("memberships", keys));
    }

    let mut actions = HashMap::new();
    if p.actions {
        progress.table("actions", b.actions.len() as u64);
        let up = Upsert {
            table: "actions",
            columns: cols!(
                "ref",
                "title",
                "title_search",
                "theme",
                "status",
                "network_id",
                "started_on",
                "ended_on",
                "budget_cents",
                "beneficiaries",
                "description"
            ),
            key: &["ref"],
            fixed: FIXED,
        };
        let rows = b
            .actions
            .iter()
            .map(|x| {
                Ok(w.stamp(vec![
                    s(&x.id),
                    s(&x.title),
                    Value::String(Some(search_key(&x.title))),
                    e(x.theme),
                    e(x.status),
                    oid(&networks, "network", &x.network_ref)?,
                    x.started_on.into(),
                    x.ended_on.into(),
                    x.budget_cents.into(),
                    x.beneficiaries.into(),
                    os(&x.description),
                ]))
            })
            .collect::<Result<Vec<_>>>()?;
        let written = w.flat(&up, rows).await?;
        actions = ref_map(db, "actions").await?;
        summary.tables.push(TableSummary {
            table: "actions",
            rows: b.actions.len() as u64,
            written,
            deleted: 0,
        });
    }
    if actions.is_empty() && (p.action_partners || p.action_territories) {
        actions = ref_map(db, "actions").await?;
    }

    if p.action_partners {
        progress.table("action_partners", b.action_partners.len() as u64);
        let up = Upsert {
            table: "action_partners",
            columns: cols!("action_id", "partner_id", "role", "contribution_cents"),
            key: &["action_id", "partner_id"],
            fixed: FIXED,
        };
        // When a bundle moves the lead of an action from one partner to
        // another, the old lead is demoted first, so the one-lead index never
        // sees two at once. Everything is then written in file order (ids,
        // and so exports, keep the bundle's order); the demoted rows are
        // unchanged by then and not counted twice.
        let current_leads: HashSet<(i64, i64)> = query(
            db,
            "SELECT action_id, partner_id FROM action_partners WHERE role = 'lead'",
        )
        .await?
        .iter()
        .map(|r| Ok((r.try_get_by_index::<i64>(0)?, r.try_get_by_index::<i64>(1)?)))
        .collect::<Result<_, DbErr>>()?;
        let mut keys = HashSet::new();
        let mut rows = vec![];
        let mut demoted = vec![];
        for x in &b.action_partners {
            let (a, pt) = (
                id(&actions, "action", &x.action_ref)?,
                id(&partners, "partner", &x.partner_ref)?,
            );
            keys.insert(vec![a, pt]);
            let row = w.stamp(vec![a.into(), pt.into(), e(x.role), x.contribution_cents.into()]);
            if x.role != ParticipationRole::Lead && current_leads.contains(&(a, pt)) {
                demoted.push(row.clone());
            }
            rows.push(row);
        }
        let written = up.run(db, demoted, false).await? + w.flat(&up, rows).await?;
        summary.tables.push(TableSummary {
            table: "action_partners",
            rows: keys.len() as u64,
            written,
            deleted: 0,
        });
        link_keys.push(("action_partners", keys));
    }

    if p.action_territories {
        progress.table("action_territories", b.action_territories.len() as u64);
        let pairs = b
            .action_territories
            .iter()
            .map(|x| {
                Ok([
                    id(&actions, "action", &x.action_ref)?,
                    id(&territories, "territory", &x.territory_ref)?,
                ])
            })
            .collect::<Result<Vec<_>>>()?;
        let (table, keys) = w
            .pairs("action_territories", ["action_id", "territory_id"], pairs, &mut summary)
            .await?;
        link_keys.push((table, keys));
    }

    if p.relations {
        progress.table("relations", b.relations.len() as u64);
        let up = Upsert {
            table: "relations",
            columns: cols!(
                "from_partner_id",
                "to_partner_id",
                "kind",
                "since",
                "until",
                "weight",
                "note"
            ),
            key: &["from_partner_id", "to_partner_id", "kind"],
            fixed: FIXED,
        };
        let mut keys = HashSet::new();
        let rows = b
            .relations
            .iter()
            .map(|x| {
                let (f, t) = (
                    id(&partners, "partner", &x.from_ref)?,
                    id(&partners, "partner", &x.to_ref)?,
                );
                keys.insert(vec![f, t, kind_code(x.kind)]);
                Ok(w.stamp(vec![
                    f.into(),
                    t.into(),
                    e(x.kind),
                    x.since.into(),
                    x.until.into(),
                    x.weight.into(),
                    os(&x.note),
                ]))
            })
            .collect::<Result<Vec<_>>>()?;
        let written = w.flat(&up, rows).await?;
        summary.tables.push(TableSummary {
            table: "relations",
            rows: keys.len() as u64,
            written,
            deleted: 0,
        });
        link_keys.push(("relations", keys));
    }

    if replace {
        prune(db, b, &before, link_keys, &mut summary).await?;
    }
    Ok(summary)
}

fn kind_code(k: RelationKind) -> i64 {
    RelationKind::ALL.iter().position(|x| *x == k).unwrap_or(0) as i64
}

/// `--replace`: removes the rows of the carried files that the bundle does
/// not hold. Link rows first, then records from the leaves up; parents are
/// unhooked first so that one batch never waits for another.
async fn prune<C: ConnectionTrait>(
    db: &C,
    b: &Bundle,
    before: &HashMap<&str, HashMap<String, i64>>,
    link_keys: Vec<(&'static str, HashSet<Vec<i64>>)>,
    summary: &mut ImportSummary,
) -> Result<()> {
    let mut record = |t: &'static str, n: u64| {
        if let Some(s) = summary.tables.iter_mut().find(|s| s.table == t) {
            s.deleted += n;
        }
    };
    for (table, keys) in link_keys {
        let cols = match table {
            "partner_territories" => "partner_id, territory_id",
            "memberships" => "network_id, partner_id",
            "action_partners" => "action_id, partner_id",
            "action_territories" => "action_id, territory_id",
            _ => "from_partner_id, to_partner_id, kind",
        };
        let mut gone = vec![];
        for r in query(db, &format!("SELECT id, {cols} FROM {table}")).await? {
            let mut k = vec![r.try_get_by_index::<i64>(1)?, r.try_get_by_index::<i64>(2)?];
            if table == "relations" {
                let kind = RelationKind::parse(&r.try_get_by_index::<String>(3)?).unwrap_or(RelationKind::Convention);
                k.push(kind_code(kind));
            }
            if !keys.contains(&k) {
                gone.push(r.try_get_by_index::<i64>(0)?);
            }
        }
        record(table, delete_ids(db, table, &gone).await?);
    }
    let p = b.present;
    let kept = |v: &mut dyn Iterator<Item = &str>| v.map(str::to_owned).collect::<HashSet<String>>();
    let plan: Vec<(&'static str, bool, HashSet<String>, bool)> = vec![
        (
            "contacts",
            p.contacts,
            kept(&mut b.contacts.iter().map(|x| x.id.as_str())),
            false,
        ),
        (
            "actions",
            p.actions,
            kept(&mut b.actions.iter().map(|x| x.id.as_str())),
            false,
        ),
        (
            "networks",
            p.networks,
            kept(&mut b.networks.iter().map(|x| x.id.as_str())),
            true,
        ),
        (
            "partners",
            true,
            kept(&mut b.partners.iter().map(|x| x.id.as_str())),
            true,
        ),
        (
            "territories",
            true,
            kept(&mut b.territories.iter().map(|x| x.id.as_str())),
            true,
        ),
    ];
    for (table, present, keep, has_parent) in plan {
        if !present {
            continue;
        }
        let gone: Vec<i64> = before[table]
            .iter()
            .filter(|(r, _)| !keep.contains(*r))
            .map(|(_, id)| *id)
            .collect();
        if gone.is_empty() {
            continue;
        }
        if has_parent {
            for chunk in gone.chunks(8000) {
                let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
                db.execute_unprepared(&format!("UPDATE {table} SET parent_id = NULL WHERE id IN ({list})"))
                    .await?;
            }
        }
        record(table, delete_ids(db, table, &gone).await?);
    }
    Ok(())
}

/// Sets `parent_id` of many rows, without touching `version` (the upsert
/// that wrote the row already counted it). The pairs are joined with
/// `UPDATE … FROM`: a correlated `(SELECT p FROM v WHERE v.id = t.id)` scans
/// the whole list for every row, which made this quadratic (8 s of the
/// national import on PostgreSQL).
async fn set_parents<C: ConnectionTrait>(db: &C, table: &str, pairs: &[(i64, i64)]) -> Result<()> {
    if pairs.is_empty() {
        return Ok(());
    }
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        // Two array parameters: one statement whatever the number of rows.
        let (ids, parents): (Vec<Value>, Vec<Value>) = pairs.iter().map(|(i, p)| ((*i).into(), (*p).into())).unzip();
        let sql = format!(
            "UPDATE {table} SET parent_id = v.p FROM UNNEST($1::bigint[], $2::bigint[]) AS v(id, p) WHERE {table}.id = v.id"
        );
        let values = [ids, parents].map(|v| Value::Array(ArrayType::BigInt, Some(Box::new(v))));
        db.execute_raw(Statement::from_sql_and_values(db.get_database_backend(), sql, values))
            .await?;
        return Ok(());
    }
    for chunk in pairs.chunks(5000) {
        let values = chunk
            .iter()
            .flat_map(|(i, p)| [Value::from(*i), Value::from(*p)])
            .collect::<Vec<_>>();
        let rows = vec!["(?, ?)"; chunk.len()].join(", ");
        let sql = format!(
            "WITH v(id, p) AS (VALUES {rows}) UPDATE {table} SET parent_id = v.p FROM v WHERE {table}.id = v.id"
        );
        db.execute_raw(Statement::from_sql_and_values(db.get_database_backend(), sql, values))
            .await?;
    }
    Ok(())
}
