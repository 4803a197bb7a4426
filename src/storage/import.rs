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

use chrono::{DateTime, Utc};
// Ids are hashed a few million times per national import: a fast hasher.
use foldhash::{HashMap, HashSet};
use sea_orm::sea_query::ArrayType;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, Statement,
    TransactionTrait, Value,
};

use super::pg::{CopyRow, PgTxn};
use super::tables::*;
use super::upsert::{Stripped, Upsert, delete_ids};
use super::{Result, StorageError};
use crate::bundle::*;
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
    /// Commits, telling a lost connection apart (see [`super::write::commit`]).
    pub async fn commit(self) -> Result<()> {
        super::write::commit_sent();
        super::write::finish_commit(match self {
            ImportTxn::Orm(t) => t.commit().await,
            ImportTxn::Postgres(t) => t.commit().await,
        })
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
pub async fn ref_map<C: ConnectionTrait>(db: &C, table: &str) -> Result<IdMap> {
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

/// `ref → id` of one table.
pub type IdMap = HashMap<String, i64>;

/// The `ref → id` maps of the record tables written (or read) so far.
#[derive(Default)]
struct Ids {
    territories: IdMap,
    partners: IdMap,
    networks: IdMap,
    actions: IdMap,
    contacts: IdMap,
}

impl Ids {
    fn get(&self, t: Target) -> &IdMap {
        match t {
            Target::Territories => &self.territories,
            Target::Partners => &self.partners,
            Target::Networks => &self.networks,
            Target::Actions => &self.actions,
            Target::Contacts => &self.contacts,
        }
    }
    fn set(&mut self, t: Target, map: IdMap) {
        *match t {
            Target::Territories => &mut self.territories,
            Target::Partners => &mut self.partners,
            Target::Networks => &mut self.networks,
            Target::Actions => &mut self.actions,
            Target::Contacts => &mut self.contacts,
        } = map;
    }
}

fn label(t: Target) -> &'static str {
    match t {
        Target::Territories => "territory",
        Target::Partners => "partner",
        Target::Networks => "network",
        Target::Actions => "action",
        Target::Contacts => "contact",
    }
}

/// A field with its references resolved: what is sent to the database.
enum Cell<'r> {
    Null,
    Text(&'r str),
    Owned(String),
    Int(i64),
    Float(f64),
    Date(chrono::NaiveDate),
    Now,
}

struct Writer<'a> {
    db: &'a ImportTxn,
    now: DateTime<Utc>,
    progress: &'a dyn Progress,
    ids: Ids,
}

impl Writer<'_> {
    /// Resolves the references of a field. A reference to the table's own
    /// target (a parent) is looked up in `before`, what the table held
    /// before the write, when one is given: a parent new to the database is
    /// then written as NULL and set once every row has its id (see
    /// [`Writer::table`]).
    fn resolve<'r>(&self, f: Field<'r>, own: Option<Target>, before: Option<&IdMap>) -> Result<Cell<'r>> {
        Ok(match f {
            Field::Null | Field::Ref(_, None) => Cell::Null,
            Field::Text(s) => Cell::Text(s),
            Field::Owned(s) => Cell::Owned(s),
            Field::Int(n) => Cell::Int(n),
            Field::Float(x) => Cell::Float(x),
            Field::Date(d) => Cell::Date(d),
            Field::Now => Cell::Now,
            Field::Ref(t, Some(r)) => match before {
                Some(before) if own == Some(t) => before.get(r).map_or(Cell::Null, |id| Cell::Int(*id)),
                _ => Cell::Int(id(self.ids.get(t), label(t), r)?),
            },
        })
    }

    fn value(&self, c: Cell<'_>) -> Value {
        match c {
            Cell::Null => Value::String(None),
            Cell::Text(s) => Value::String(Some(s.to_owned())),
            Cell::Owned(s) => Value::String(Some(s)),
            Cell::Int(n) => n.into(),
            Cell::Float(x) => x.into(),
            Cell::Date(d) => d.into(),
            Cell::Now => self.now.into(),
        }
    }

    fn put(&self, row: &mut CopyRow, c: Cell<'_>) {
        match c {
            Cell::Null => row.null(),
            Cell::Text(s) => row.text(s),
            Cell::Owned(s) => row.text(&s),
            Cell::Int(n) => row.int8(n),
            Cell::Float(x) => row.float8(x),
            Cell::Date(d) => row.date(d),
            Cell::Now => row.timestamptz(self.now),
        }
    }

    /// Writes the rows of one file to their table, in file order (so ids,
    /// and thus exports, keep the bundle's order); returns how many rows
    /// were inserted or changed. A record table's `ref → id` map is kept
    /// for the tables that refer to it.
    async fn table<R>(&mut self, t: &Table<R>, rows: &[R]) -> Result<u64> {
        self.progress.table(t.name, rows.len() as u64);
        let written = match self.db {
            ImportTxn::Postgres(pg) if !rows.is_empty() && Stripped::is_empty(pg, t.name).await? => {
                self.load(pg, t, rows).await?
            }
            _ => self.merge(t, rows).await?,
        };
        self.progress.advance(rows.len() as u64);
        Ok(written)
    }

    /// PostgreSQL, into a table that was empty: nothing to merge with, so
    /// the rows are copied straight in, with ids handed out here from a
    /// block taken from the table's sequence. Every reference, parents
    /// included, is then known before the first row is sent: no `ref`
    /// lookup afterwards, no late parent update. The table is loaded
    /// without its foreign keys and secondary indexes (see [`Stripped`]).
    async fn load<R>(&mut self, pg: &PgTxn, t: &Table<R>, rows: &[R]) -> Result<u64> {
        let stripped = Stripped::strip(pg, t.name).await?;
        let first = reserve_ids(pg, t.name, rows.len()).await?;
        if let Some((target, rid)) = t.record {
            let map = rows
                .iter()
                .zip(first..)
                .map(|(r, id)| (rid(r).to_owned(), id))
                .collect();
            self.ids.set(target, map);
        }
        let cols = quoted(&t.column_names());
        let sql = format!("COPY \"{}\" (\"id\", {cols}) FROM STDIN (FORMAT binary)", t.name);
        let this = &*self;
        let n = pg
            .copy_in(&sql, t.columns.len() + 1, rows.len(), |i, out| {
                out.int8(first + i as i64);
                for c in t.columns {
                    this.put(out, this.resolve((c.get)(&rows[i]), None, None)?);
                }
                Ok::<_, StorageError>(())
            })
            .await?;
        stripped.restore(pg).await?;
        Ok(n)
    }

    /// Into a table that may hold rows (always on SQLite): rows are matched
    /// by their key and only real changes are written. A parent that was
    /// not in the database before is written as NULL first, then set by one
    /// batched update once every row has its id.
    async fn merge<R>(&mut self, t: &Table<R>, rows: &[R]) -> Result<u64> {
        let own = t.record.map(|(target, _)| target);
        let before = match own {
            Some(_) => Some(ref_map(self.db, t.name).await?),
            None => None,
        };
        let names = t.column_names();
        let up = Upsert {
            table: t.name,
            columns: &names,
            key: t.key,
            fixed: FIXED,
        };
        let written = match self.db {
            ImportTxn::Postgres(pg) => {
                let this = &*self;
                up.merge_copy(pg, rows.len(), |i, out| {
                    for c in t.columns {
                        this.put(out, this.resolve((c.get)(&rows[i]), own, before.as_ref())?);
                    }
                    Ok::<_, StorageError>(())
                })
                .await?
            }
            ImportTxn::Orm(orm) => {
                let values = rows
                    .iter()
                    .map(|r| {
                        t.columns
                            .iter()
                            .map(|c| Ok(self.value(self.resolve((c.get)(r), own, before.as_ref())?)))
                            .collect::<Result<Vec<_>>>()
                    })
                    .collect::<Result<Vec<_>>>()?;
                up.run_orm(orm, values).await?
            }
        };
        if let (Some(target), Some(before), Some((_, rid))) = (own, before, t.record) {
            let after = ref_map(self.db, t.name).await?;
            let parent = rows.first().and_then(|r0| {
                t.columns.iter().find_map(|c| match (c.get)(r0) {
                    Field::Ref(x, _) if x == target => Some(c.get),
                    _ => None,
                })
            });
            if let Some(parent) = parent {
                let mut late = vec![];
                for r in rows {
                    if let Field::Ref(_, Some(p)) = parent(r)
                        && !before.contains_key(p)
                    {
                        late.push((id(&after, t.name, rid(r))?, id(&after, t.name, p)?));
                    }
                }
                set_parents(self.db, t.name, &late).await?;
            }
            self.ids.set(target, after);
        }
        Ok(written)
    }

    /// `--replace`: the keys of a link table's rows, as ids (the relation
    /// kind by its position in the vocabulary), to find the rows the
    /// bundle no longer holds.
    fn link_keys<R>(&self, t: &Table<R>, rows: &[R]) -> Result<LinkKeys> {
        let key: Vec<&Column<R>> = t
            .key
            .iter()
            .filter_map(|k| t.columns.iter().find(|c| c.name == *k))
            .collect();
        let held = rows
            .iter()
            .map(|r| {
                key.iter()
                    .map(|c| match self.resolve((c.get)(r), None, None)? {
                        Cell::Int(n) => Ok(n),
                        Cell::Text(s) => Ok(RelationKind::parse(s).map_or(0, kind_code)),
                        _ => Err(StorageError::Integrity(format!("{}: empty key", t.name))),
                    })
                    .collect()
            })
            .collect::<Result<_>>()?;
        Ok(LinkKeys {
            table: t.name,
            key: t.key,
            held,
        })
    }
}

/// `--replace`: the keys a link table's rows have in the bundle.
struct LinkKeys {
    table: &'static str,
    key: &'static [&'static str],
    held: HashSet<Vec<i64>>,
}

fn quoted(cols: &[&str]) -> String {
    cols.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ")
}

/// Takes `n` consecutive ids from the sequence of `table`'s `id`; returns
/// the first. (A sequence is outside transactions: a rolled-back import
/// leaves a gap, as any failed insert does.)
async fn reserve_ids(pg: &PgTxn, table: &str, n: usize) -> Result<i64> {
    let seq = format!("pg_get_serial_sequence('\"{table}\"', 'id')");
    let last: i64 = pg
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT setval({seq}, nextval({seq}) + {} - 1)", n.max(1)),
        ))
        .await?
        .ok_or_else(|| StorageError::Integrity("no sequence value".into()))?
        .try_get_by_index(0)?;
    Ok(last - n.max(1) as i64 + 1)
}

/// Looks a reference up; validation guarantees it resolves.
fn id(map: &IdMap, what: &str, r: &str) -> Result<i64> {
    map.get(r)
        .copied()
        .ok_or_else(|| StorageError::Integrity(format!("unknown {what} {r:?} while writing")))
}

/// Where [`write`] takes the rows of each file from: parts in file order,
/// as `bundle::check_streaming` hands them over. The stream ending early
/// means validation stopped at an error.
pub type Parts = tokio::sync::mpsc::UnboundedReceiver<Part>;

/// Takes the next part, which must be of the kind `pick` accepts.
async fn next<T>(parts: &mut Parts, what: &str, pick: fn(Part) -> Option<Vec<T>>) -> Result<Vec<T>> {
    let part = parts
        .recv()
        .await
        .ok_or_else(|| StorageError::Integrity(format!("the bundle ended before its {what}")))?;
    pick(part).ok_or_else(|| StorageError::Integrity(format!("{what}: rows out of order")))
}

/// Writes a validated bundle, file by file as its rows arrive; `present`
/// says which optional files it carries. With `replace`, removes what the
/// bundle does not hold (in the files it carries). Runs inside the caller's
/// transaction; if validation fails meanwhile, the caller rolls it back.
pub async fn write(
    db: &ImportTxn,
    parts: &mut Parts,
    present: Present,
    replace: bool,
    progress: &dyn Progress,
) -> Result<ImportSummary> {
    let mut w = Writer {
        db,
        now: Utc::now(),
        progress,
        ids: Ids::default(),
    };
    let p = present;
    let mut summary = ImportSummary::default();
    let before: HashMap<&str, IdMap> = if replace {
        let mut m = HashMap::default();
        for t in ["territories", "partners", "contacts", "networks", "actions"] {
            m.insert(t, ref_map(db, t).await?);
        }
        m
    } else {
        HashMap::default()
    };
    let mut record = |table: &'static str, rows: usize, written: u64| {
        summary.tables.push(TableSummary {
            table,
            rows: rows as u64,
            written,
            deleted: 0,
        })
    };
    // With --replace, the record ids and link keys the bundle holds, to
    // prune the others at the end; otherwise rows are dropped once written.
    let mut kept = Kept::default();
    let mut link_keys: Vec<LinkKeys> = vec![];
    macro_rules! part {
        ($what:literal, $variant:ident) => {
            next(parts, $what, |p| match p {
                Part::$variant(v) => Some(v),
                _ => None,
            })
            .await?
        };
    }

    // Parents before children: each table refers only to those before it.
    let rows = part!("territories", Territories);
    let n = w.table(&TERRITORIES, &rows).await?;
    record("territories", rows.len(), n);
    kept.territories = held(replace, &rows, |x| &x.id);
    let rows = part!("partners", Partners);
    let n = w.table(&PARTNERS, &rows).await?;
    record("partners", rows.len(), n);
    kept.partners = held(replace, &rows, |x| &x.id);
    if p.partner_territories {
        let rows = part!("partner_territories", PartnerTerritories);
        let n = w.table(&PARTNER_TERRITORIES, &rows).await?;
        record("partner_territories", rows.len(), n);
        if replace {
            link_keys.push(w.link_keys(&PARTNER_TERRITORIES, &rows)?);
        }
    }
    if p.contacts {
        let rows = part!("contacts", Contacts);
        let n = w.table(&CONTACTS, &rows).await?;
        record("contacts", rows.len(), n);
        kept.contacts = held(replace, &rows, |x| &x.id);
    }
    if p.networks {
        let rows = part!("networks", Networks);
        let n = w.table(&NETWORKS, &rows).await?;
        record("networks", rows.len(), n);
        kept.networks = held(replace, &rows, |x| &x.id);
    } else if p.memberships || p.actions {
        w.ids.networks = ref_map(db, "networks").await?;
    }
    if p.memberships {
        let rows = part!("memberships", Memberships);
        let n = w.table(&MEMBERSHIPS, &rows).await?;
        record("memberships", rows.len(), n);
        if replace {
            link_keys.push(w.link_keys(&MEMBERSHIPS, &rows)?);
        }
    }
    if p.actions {
        let rows = part!("actions", Actions);
        let n = w.table(&ACTIONS, &rows).await?;
        record("actions", rows.len(), n);
        kept.actions = held(replace, &rows, |x| &x.id);
    } else if p.action_partners || p.action_territories {
        w.ids.actions = ref_map(db, "actions").await?;
    }
    if p.action_partners {
        let rows = part!("action_partners", ActionPartners);
        // When a bundle moves the lead of an action from one partner to
        // another, the old lead is demoted first, so the one-lead index never
        // sees two at once. Everything is then written in file order; the
        // demoted rows are unchanged by then and not counted twice.
        let current_leads: HashSet<(i64, i64)> = query(
            db,
            "SELECT action_id, partner_id FROM action_partners WHERE role = 'lead'",
        )
        .await?
        .iter()
        .map(|r| Ok((r.try_get_by_index::<i64>(0)?, r.try_get_by_index::<i64>(1)?)))
        .collect::<Result<_, DbErr>>()?;
        let mut demoted = vec![];
        if !current_leads.is_empty() {
            for x in &rows {
                let a = id(&w.ids.actions, "action", &x.action_ref)?;
                let pt = id(&w.ids.partners, "partner", &x.partner_ref)?;
                if x.role != ParticipationRole::Lead && current_leads.contains(&(a, pt)) {
                    demoted.push(x.clone());
                }
            }
        }
        let mut n = 0;
        if !demoted.is_empty() {
            n += w.table(&ACTION_PARTNERS, &demoted).await?;
        }
        n += w.table(&ACTION_PARTNERS, &rows).await?;
        record("action_partners", rows.len(), n);
        if replace {
            link_keys.push(w.link_keys(&ACTION_PARTNERS, &rows)?);
        }
    }
    if p.action_territories {
        let rows = part!("action_territories", ActionTerritories);
        let n = w.table(&ACTION_TERRITORIES, &rows).await?;
        record("action_territories", rows.len(), n);
        if replace {
            link_keys.push(w.link_keys(&ACTION_TERRITORIES, &rows)?);
        }
    }
    if p.relations {
        let rows = part!("relations", Relations);
        let n = w.table(&RELATIONS, &rows).await?;
        record("relations", rows.len(), n);
        if replace {
            link_keys.push(w.link_keys(&RELATIONS, &rows)?);
        }
    }

    if replace {
        prune(db, p, &kept, &before, link_keys, &mut summary).await?;
    }
    Ok(summary)
}

fn held<R>(replace: bool, rows: &[R], rid: fn(&R) -> &str) -> HashSet<String> {
    match replace {
        true => rows.iter().map(|r| rid(r).to_owned()).collect(),
        false => HashSet::default(),
    }
}

/// `--replace`: the ids of the records the bundle holds, by table.
#[derive(Default)]
struct Kept {
    territories: HashSet<String>,
    partners: HashSet<String>,
    contacts: HashSet<String>,
    networks: HashSet<String>,
    actions: HashSet<String>,
}

fn kind_code(k: RelationKind) -> i64 {
    RelationKind::ALL.iter().position(|x| *x == k).unwrap_or(0) as i64
}

/// `--replace`: removes the rows of the carried files that the bundle does
/// not hold. Link rows first, then records from the leaves up; parents are
/// unhooked first so that one batch never waits for another.
async fn prune<C: ConnectionTrait>(
    db: &C,
    p: Present,
    kept: &Kept,
    before: &HashMap<&str, IdMap>,
    link_keys: Vec<LinkKeys>,
    summary: &mut ImportSummary,
) -> Result<()> {
    let mut record = |t: &'static str, n: u64| {
        if let Some(s) = summary.tables.iter_mut().find(|s| s.table == t) {
            s.deleted += n;
        }
    };
    for LinkKeys { table, key, held } in link_keys {
        let cols = key.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ");
        let mut gone = vec![];
        for r in query(db, &format!("SELECT id, {cols} FROM {table}")).await? {
            let k = key
                .iter()
                .enumerate()
                .map(|(i, c)| match *c {
                    // The one text part of a key, numbered as `link_keys` does.
                    "kind" => Ok(RelationKind::parse(&r.try_get_by_index::<String>(i + 1)?).map_or(0, kind_code)),
                    _ => r.try_get_by_index::<i64>(i + 1),
                })
                .collect::<Result<Vec<i64>, DbErr>>()?;
            if !held.contains(&k) {
                gone.push(r.try_get_by_index::<i64>(0)?);
            }
        }
        record(table, delete_ids(db, table, &gone).await?);
    }
    let plan: [(&'static str, bool, &HashSet<String>, bool); 5] = [
        ("contacts", p.contacts, &kept.contacts, false),
        ("actions", p.actions, &kept.actions, false),
        ("networks", p.networks, &kept.networks, true),
        ("partners", true, &kept.partners, true),
        ("territories", true, &kept.territories, true),
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
