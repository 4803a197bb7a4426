//! Ordered, sliced lists: what every GraphQL connection is read with.
//!
//! Positions are 1-based ranks in a stable order (the caller's sort keys,
//! then the row id), and a page is a [`Slice`] of positions. Cutting by
//! position rather than by key lets the *same* slice be taken for many
//! parents in one statement (`ROW_NUMBER() OVER (PARTITION BY parent …)`),
//! which is how nested connections avoid both N+1 queries and loading every
//! parent's whole list to slice it in memory.

use std::collections::HashMap;

use sea_orm::sea_query::{
    Alias, Asterisk, Expr, ExprTrait, JoinType, PostgresQueryBuilder, Query, SelectStatement, WindowStatement,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IdenStatic, Iterable, Order, PaginatorTrait,
    PrimaryKeyToColumn, QueryOrder, QueryResult, QuerySelect, QueryTrait, Select, Statement,
};

use super::Result;
use super::decode::{Columns, Positional, Projection, positions};
use super::read::one_of;

/// Which positions of an ordered list a page holds, in Relay terms: after
/// position `after` (0 = from the start), before position `before`, then
/// the first `first` of those, then the last `last` of what remains.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Slice {
    pub after: u64,
    pub before: Option<u64>,
    pub first: Option<u64>,
    pub last: Option<u64>,
    /// Whether the list's size is wanted (`totalCount`). A nested first
    /// page without it reads only the rows it shows, on PostgreSQL.
    pub count: bool,
}

/// One sort key: a SQL expression over the listed table's columns (written
/// by the storage layer, never taken from a client: a value in it, such as
/// the search a relevance is computed against, is bound) and its
/// direction. NULLs sort last on both engines.
#[derive(Debug, Clone, PartialEq)]
pub struct Sort {
    pub expr: Expr,
    pub desc: bool,
    /// Whether the column may be NULL (only then is the NULLs-last key
    /// added: it would keep PostgreSQL from using an index on the column).
    pub nullable: bool,
}

impl Sort {
    /// A sort on a column, written `"table"."column"`.
    pub fn column(sql: &str, desc: bool, nullable: bool) -> Sort {
        Sort {
            expr: Expr::cust(sql.to_owned()),
            desc,
            nullable,
        }
    }
}

/// One list's page: its rows, the position of the first, and the list's size
/// where it is known (always for nested lists; for root lists when asked).
#[derive(Debug, Clone)]
pub struct Group<M> {
    pub rows: Vec<M>,
    /// Position of `rows[0]` (1-based).
    pub start: u64,
    pub total: Option<u64>,
    pub has_previous: bool,
    pub has_next: bool,
}

impl<M> Group<M> {
    fn empty(total: u64, after: u64) -> Self {
        Group {
            rows: vec![],
            start: after + 1,
            total: Some(total),
            has_previous: after > 0 && total > 0,
            has_next: false,
        }
    }

    /// The same page with its rows mapped.
    pub fn map<N>(self, f: impl FnMut(M) -> N) -> Group<N> {
        Group {
            rows: self.rows.into_iter().map(f).collect(),
            start: self.start,
            total: self.total,
            has_previous: self.has_previous,
            has_next: self.has_next,
        }
    }
}

/// The terms of `ORDER BY` for `sort` then the table's id (the tie-breaker
/// that makes every order total, so pages never overlap or skip), each an
/// expression and its direction.
fn order_terms(table: &str, sort: &[Sort]) -> Vec<(Expr, Order)> {
    let dir = |desc| if desc { Order::Desc } else { Order::Asc };
    let mut terms = vec![];
    for s in sort {
        // `x IS NULL` first: NULLs last whatever the engine's default.
        if s.nullable {
            terms.push((s.expr.clone().is_null(), Order::Asc));
        }
        terms.push((s.expr.clone(), dir(s.desc)));
    }
    terms.push((Expr::cust(format!("\"{table}\".\"id\"")), Order::Asc));
    terms
}

/// `ROW_NUMBER() OVER (PARTITION BY partition ORDER BY …)`: each row's
/// position in the order of `sort`, within its parent's list.
fn row_number(partition: Option<&str>, table: &str, sort: &[Sort]) -> (Expr, WindowStatement) {
    let mut w = match partition {
        Some(p) => WindowStatement::partition_by_custom(p.to_owned()),
        None => WindowStatement::new(),
    };
    for (e, order) in order_terms(table, sort) {
        w.order_by_expr(e, order);
    }
    (Expr::cust("ROW_NUMBER()"), w)
}

fn table_of<E: EntityTrait>() -> String {
    E::default().table_name().to_owned()
}

/// A page of a root list: `COUNT(*)` only when the total is needed (asked
/// for, `slice.count`, or to find the last rows), then `LIMIT/OFFSET` over
/// the ordered rows, each read with the columns of `projection`.
pub async fn root<E, C>(
    db: &C,
    select: Select<E>,
    sort: &[Sort],
    slice: Slice,
    projection: Projection,
) -> Result<Group<E::Model>>
where
    E: EntityTrait,
    E::Model: Positional + Send + Sync,
    C: ConnectionTrait,
{
    root_rows(db, project(select, projection), sort, slice, None, |row, at| {
        Ok(E::Model::decode_projected(row, at.row, projection)?)
    })
    .await
}

/// `select` reading only the columns of `projection` (and the id).
fn project<E: EntityTrait>(select: Select<E>, projection: Projection) -> Select<E> {
    if projection.is_all::<E>() {
        return select;
    }
    select.select_only().columns(projection.columns::<E>())
}

/// [`root`] with, for each row, the record of `T` its column `key` points at
/// (`None` where the key is NULL), read by a `LEFT JOIN` in the same
/// statement: a page of partners and their seats is one statement, where
/// the seats by id were a second one and a loader batch. `T` must be
/// another table than `E`, one the viewer sees whole
/// ([`Scoped::sees_all`](super::read::Scoped::sees_all): its rows need no
/// visibility check). The rows of `E` are read with the columns of
/// `projection`, the targets with those of `target_projection`.
pub async fn root_joined<E, T, C>(
    db: &C,
    select: Select<E>,
    key: E::Column,
    sort: &[Sort],
    slice: Slice,
    projection: Projection,
    target_projection: Projection,
) -> Result<Group<(E::Model, Option<T::Model>)>>
where
    E: EntityTrait,
    T: EntityTrait,
    E::Model: Positional + Send + Sync,
    T::Model: Positional,
    C: ConnectionTrait,
{
    let target = Target::of::<T>(key, target_projection);
    assert_ne!(target.table, table_of::<E>(), "a table is not joined to itself here");
    root_rows(db, project(select, projection), sort, slice, Some(target), |row, at| {
        let t = at.target.expect("the target is joined");
        let seat = match row.try_get_by_index::<Option<i64>>(t)? {
            Some(_) => Some(T::Model::decode_projected(row, t, target_projection)?),
            None => None,
        };
        Ok((E::Model::decode_projected(row, at.row, projection)?, seat))
    })
    .await
}

/// The statement of [`root`], with `target` left-joined, each row `decode`d.
async fn root_rows<E, C, R>(
    db: &C,
    select: Select<E>,
    sort: &[Sort],
    slice: Slice,
    target: Option<Target>,
    decode: impl Fn(&QueryResult, Columns) -> Result<R>,
) -> Result<Group<R>>
where
    E: EntityTrait,
    E::Model: Send + Sync,
    C: ConnectionTrait,
{
    let total = if slice.count || slice.last.is_some() {
        Some(select.clone().count(db).await?)
    } else {
        None
    };
    let lo = slice.after + 1;
    // Highest position wanted; `None` = up to the end of the list.
    let mut hi = slice.before.map(|b| b.saturating_sub(1));
    if let Some(t) = total {
        hi = Some(hi.map_or(t, |h| Ord::min(h, t)));
    }
    if let Some(f) = slice.first {
        let h = (lo + f).saturating_sub(1);
        hi = Some(hi.map_or(h, |x| Ord::min(x, h)));
    }
    let mut start = lo;
    if let (Some(l), Some(h)) = (slice.last, hi) {
        start = Ord::max(start, (h + 1).saturating_sub(l));
    }
    let limit = match hi {
        Some(h) if h < start => return Ok(Group::empty(total.unwrap_or(0), slice.after)),
        Some(h) => Some(h - start + 1),
        None => None,
    };
    let table = table_of::<E>();
    let mut q = select;
    for (e, order) in order_terms(&table, sort) {
        q = q.order_by(e, order);
    }
    // One row more than asked tells whether a next page exists without
    // counting. The bounds are written into the statement's text (they are
    // our own integers): as parameters, PostgreSQL planned the statement
    // again at every execution (a generic plan's guess of a `LIMIT $1` is a
    // tenth of the table, dearer than any custom plan, so it never switches
    // to one), a tenth of a millisecond of its time per page.
    let backend = db.get_database_backend();
    let mut q = q.into_query();
    if let Some(t) = &target {
        t.join_onto(&mut q, JoinType::LeftJoin, &table);
    }
    let mut stmt = backend.build(&q);
    match (limit, start - 1) {
        (Some(l), offset) => stmt.sql.push_str(&format!(" LIMIT {} OFFSET {offset}", l + 1)),
        (None, 0) => {}
        // SQLite has no OFFSET without LIMIT.
        (None, offset) if backend == DbBackend::Sqlite => stmt.sql.push_str(&format!(" LIMIT -1 OFFSET {offset}")),
        (None, offset) => stmt.sql.push_str(&format!(" OFFSET {offset}")),
    }
    let found = db.query_all_raw(stmt).await?;
    let mut rows = Vec::with_capacity(found.len());
    if let Some(at) = Columns::of(&found, target.as_ref().map(|_| TARGET))? {
        for row in &found {
            rows.push(decode(row, at)?);
        }
    }
    let extra = limit.is_some_and(|l| rows.len() as u64 > l);
    if let Some(l) = limit {
        rows.truncate(l as usize);
    }
    let end = start + rows.len() as u64; // one past the last position
    let has_next = match total {
        Some(t) => end <= t,
        None => extra,
    };
    Ok(Group {
        rows,
        start,
        total,
        has_previous: start > 1,
        has_next,
    })
}

/// Where a nested list's parent key comes from.
#[derive(Clone)]
pub enum Parent {
    /// A column of the listed table (`"contacts"."partner_id"`).
    Column(String),
    /// Pairs `(k, id)` from a subquery joined on the listed table's id: for
    /// lists reached through link or closure tables, a row may belong to
    /// several parents. The subquery must not repeat a pair.
    Pairs(Box<SelectStatement>),
}

/// The same slice of a list for each of many parents, in one statement.
/// `select` must already keep only what the viewer may see (and the
/// filter); `parent` says which parent each row belongs to (for
/// [`Parent::Column`], the rows of `parents` are kept here); each row is
/// read with the columns of `projection`.
#[allow(clippy::too_many_arguments)]
pub async fn nested<E, C>(
    db: &C,
    select: Select<E>,
    parent: Parent,
    parents: &[i64],
    sort: &[Sort],
    slice: Slice,
    projection: Projection,
) -> Result<HashMap<i64, Group<E::Model>>>
where
    E: EntityTrait,
    C: ConnectionTrait,
    E::Model: Positional,
{
    let table = table_of::<E>();
    nested_rows(
        db,
        project(select, projection).into_query(),
        &table,
        None,
        parent,
        parents,
        sort,
        slice,
        |row, at| Ok(E::Model::decode_projected(row, at.row, projection)?),
    )
    .await
}

/// Prefix of the target's columns in [`nested_linked`]'s rows.
const TARGET: &str = "t_";

/// The record each row of a page points at, joined to the page (after it is
/// cut: only the rows shown are joined).
struct Target {
    table: String,
    id: String,
    /// The listed table's column that holds the target's id.
    key: String,
    columns: Vec<String>,
}

impl Target {
    /// The target `T` that `key` points at, read with the columns of `projection`.
    fn of<T: EntityTrait>(key: impl ColumnTrait, projection: Projection) -> Target {
        Target {
            table: table_of::<T>(),
            id: T::PrimaryKey::iter()
                .next()
                .expect("every table has an id")
                .into_column()
                .as_str()
                .to_owned(),
            key: key.as_str().to_owned(),
            columns: projection.columns::<T>().map(|c| c.as_str().to_owned()).collect(),
        }
    }

    /// Joins the target onto `q`, where `from` holds its key, and selects
    /// its columns under the [`TARGET`] prefix.
    fn join_onto(&self, q: &mut SelectStatement, kind: JoinType, from: &str) {
        let tt = || Alias::new(&self.table);
        q.join(
            kind,
            tt(),
            Expr::col((tt(), Alias::new(&self.id))).equals((Alias::new(from), Alias::new(&self.key))),
        );
        for c in &self.columns {
            q.expr_as(Expr::col((tt(), Alias::new(c))), Alias::new(format!("{TARGET}{c}")));
        }
    }

    /// `, "t"."c" AS "t_c"…` and ` INNER JOIN "t" ON …` over the page `w`
    /// (the same as [`Target::join_onto`], as text for a statement written
    /// by hand).
    fn sql(&self) -> (String, String) {
        let t = &self.table;
        let columns = self
            .columns
            .iter()
            .map(|c| format!(", \"{t}\".\"{c}\" AS \"{TARGET}{c}\""))
            .collect();
        let join = format!(
            " INNER JOIN \"{t}\" ON \"{t}\".\"{}\" = \"w\".\"{}\"",
            self.id, self.key
        );
        (columns, join)
    }
}

/// [`nested`] over a link table (a membership, a participation, a
/// relation), with the record each link points at (`target`, a foreign key
/// to `T`) read in the same statement: an edge and its node come together,
/// where a second statement by id cost a round trip, a batch and a copy of
/// every node. `select` must keep only links whose target the viewer sees.
/// The links are read with the columns of `links` (and `target`, the join's
/// key), their targets with those of `projection`.
#[allow(clippy::too_many_arguments)]
pub async fn nested_linked<L, T, C>(
    db: &C,
    select: Select<L>,
    target: L::Column,
    parent: Parent,
    parents: &[i64],
    sort: &[Sort],
    slice: Slice,
    links: Projection,
    projection: Projection,
) -> Result<HashMap<i64, Group<(L::Model, T::Model)>>>
where
    L: EntityTrait,
    T: EntityTrait,
    C: ConnectionTrait,
    L::Model: Positional,
    T::Model: Positional,
{
    let table = table_of::<L>();
    let join = Target::of::<T>(target, projection);
    // The join reads the target's key from the page.
    let links = links.union(Projection::of::<L>(&[target]));
    nested_rows(
        db,
        project(select, links).into_query(),
        &table,
        Some(join),
        parent,
        parents,
        sort,
        slice,
        |row, at| {
            let target = at.target.expect("a link statement joins its target");
            Ok((
                L::Model::decode_projected(row, at.row, links)?,
                T::Model::decode_projected(row, target, projection)?,
            ))
        },
    )
    .await
}

/// Whether a nested page is read by [`first_rows`]: a first page (no cursor,
/// no `last`) of a list keyed by a column, without its size, on PostgreSQL.
fn reads_first_rows(backend: DbBackend, parent: &Parent, slice: Slice) -> bool {
    backend == DbBackend::Postgres
        && matches!(parent, Parent::Column(_))
        && slice.after == 0
        && slice.before.is_none()
        && slice.last.is_none()
        && slice.first.is_some()
        && !slice.count
}

#[allow(clippy::too_many_arguments)]
async fn nested_rows<R, C>(
    db: &C,
    mut inner: SelectStatement,
    table: &str,
    target: Option<Target>,
    parent: Parent,
    parents: &[i64],
    sort: &[Sort],
    slice: Slice,
    decode: impl Fn(&QueryResult, Columns) -> Result<R>,
) -> Result<HashMap<i64, Group<R>>>
where
    C: ConnectionTrait,
{
    if parents.is_empty() {
        return Ok(HashMap::new());
    }
    if reads_first_rows(db.get_database_backend(), &parent, slice)
        && let Parent::Column(key) = &parent
    {
        let first = slice.first.unwrap_or(0);
        return first_rows(db, inner, table, target, key, parents, sort, first, decode).await;
    }
    let key = match parent {
        Parent::Column(c) => {
            inner.and_where(one_of(db.get_database_backend(), &c, parents));
            c
        }
        Parent::Pairs(pairs) => {
            inner.join_subquery(
                JoinType::InnerJoin,
                *pairs,
                Alias::new("w_pairs"),
                Expr::col((Alias::new("w_pairs"), Alias::new("id"))).equals((Alias::new(table), Alias::new("id"))),
            );
            "\"w_pairs\".\"k\"".to_owned()
        }
    };
    let (rn, window) = row_number(Some(&key), table, sort);
    inner
        .expr_as(Expr::cust(key.clone()), Alias::new("w_key"))
        .expr_window_as(rn, window, Alias::new("w_rn"))
        .expr_as(
            Expr::cust(format!("COUNT(*) OVER (PARTITION BY {key})")),
            Alias::new("w_total"),
        );
    // The window's bounds are our own integers, written into the text (not
    // parameters: see `root_rows`).
    let (rn, total) = ("\"w\".\"w_rn\"", "\"w\".\"w_total\"");
    let mut window = vec![format!("{rn} > {}", slice.after)];
    if let Some(b) = slice.before {
        window.push(format!("{rn} < {b}"));
    }
    // The highest position kept before `last` applies, when it is a constant.
    let mut hi = slice.before.map(|b| b as i64 - 1);
    if let Some(f) = slice.first {
        let h = (slice.after + f) as i64;
        window.push(format!("{rn} <= {h}"));
        hi = Some(hi.map_or(h, |x| Ord::min(x, h)));
    }
    if let Some(l) = slice.last {
        // rn > min(hi, total) - last, as an OR (no portable LEAST/MIN).
        let from_end = format!("{rn} > {total} - {l}");
        window.push(match hi {
            Some(h) => format!("({from_end} OR {rn} > {})", h - l as i64),
            None => from_end,
        });
    }
    let window = window.join(" AND ");
    // Each parent's first row comes along even outside the window, so every
    // parent with a non-empty list learns its total.
    let w = || Alias::new("w");
    let mut outer = Query::select();
    outer
        .column((w(), Asterisk))
        .expr_as(
            Expr::cust(format!("CASE WHEN {window} THEN 1 ELSE 0 END")),
            Alias::new("w_in"),
        )
        .from_subquery(inner, w())
        .and_where(Expr::cust(format!("({window}) OR {rn} = 1")))
        .order_by((w(), Alias::new("w_key")), Order::Asc)
        .order_by((w(), Alias::new("w_rn")), Order::Asc);
    if let Some(t) = &target {
        t.join_onto(&mut outer, JoinType::InnerJoin, "w");
    }

    let mut out: HashMap<i64, Group<R>> = HashMap::new();
    let rows = db.query_all(&outer).await?;
    let Some(at) = Columns::of(&rows, target.as_ref().map(|_| TARGET))? else {
        return Ok(out);
    };
    let [key, rn_at, total_at, in_at] = positions(&rows[0], ["w_key", "w_rn", "w_total", "w_in"])?;
    for row in rows {
        let parent: i64 = row.try_get_by_index(key)?;
        let rn: i64 = row.try_get_by_index(rn_at)?;
        let total: i64 = row.try_get_by_index(total_at)?;
        let inside: i32 = row.try_get_by_index(in_at)?;
        let g = out.entry(parent).or_insert_with(|| Group {
            rows: vec![],
            start: slice.after + 1,
            total: Some(total as u64),
            has_previous: false,
            has_next: false,
        });
        if inside == 0 {
            continue;
        }
        if g.rows.is_empty() {
            g.start = rn as u64;
            g.has_previous = rn > 1;
        }
        g.has_next = (rn as u64) < total as u64;
        g.rows.push(decode(&row, at)?);
    }
    for g in out.values_mut() {
        if g.rows.is_empty() {
            // The window fell beyond the list: what lies before it is the list.
            g.has_previous = g.total.unwrap_or(0) > 0 && slice.after > 0;
        }
    }
    Ok(out)
}

/// The first `first` rows of each parent's list, on PostgreSQL: for each
/// parent, a `LATERAL` subquery reads its rows in order and stops after
/// `first + 1` (the one more says whether a next page exists), where the
/// window of [`nested`] numbers and counts every row of every parent (a
/// partner busy in hundreds of actions, for its first five). The parents
/// come as one array parameter, so the statement's text is the same
/// whatever their number (prepared once per connection).
#[allow(clippy::too_many_arguments)]
async fn first_rows<R, C>(
    db: &C,
    mut inner: SelectStatement,
    table: &str,
    target: Option<Target>,
    key: &str,
    parents: &[i64],
    sort: &[Sort],
    first: u64,
    decode: impl Fn(&QueryResult, Columns) -> Result<R>,
) -> Result<HashMap<i64, Group<R>>>
where
    C: ConnectionTrait,
{
    let mut out: HashMap<i64, Group<R>> = HashMap::new();
    if first == 0 {
        return Ok(out);
    }
    let (rn, window) = row_number(None, table, sort);
    inner
        .and_where(Expr::cust(format!("{key} = \"w_p\".\"k\"")))
        .expr_window_as(rn, window, Alias::new("w_rn"));
    for (e, order) in order_terms(table, sort) {
        inner.order_by_expr(e, order);
    }
    let (sql, mut values) = inner.build(PostgresQueryBuilder);
    // The page's bound in the text, not a parameter: see `root`.
    let sql = format!("{sql} LIMIT {}", first + 1);
    values.0.push(parents.to_vec().into());
    let (columns, join) = target.as_ref().map(Target::sql).unwrap_or_default();
    // No `ORDER BY`: each parent's rows are put in order here (by `w_rn`),
    // where sorting the whole answer cost PostgreSQL a tenth of the
    // statement (operation (b) of the load benchmark: 977 rows).
    let sql = format!(
        "SELECT \"w\".*, \"w_p\".\"k\" AS \"w_key\"{columns} FROM unnest(CAST(${} AS bigint[])) AS \"w_p\"(\"k\") \
         CROSS JOIN LATERAL ({sql}) AS \"w\"{join}",
        values.0.len()
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values.0))
        .await?;
    let Some(at) = Columns::of(&rows, target.as_ref().map(|_| TARGET))? else {
        return Ok(out);
    };
    let [key, rn_at] = positions(&rows[0], ["w_key", "w_rn"])?;
    // Each parent's rows with their ranks, and whether one more follows.
    let mut ranked: HashMap<i64, (Vec<(i64, R)>, bool)> = HashMap::new();
    for row in rows {
        let parent: i64 = row.try_get_by_index(key)?;
        let rn: i64 = row.try_get_by_index(rn_at)?;
        let (page, has_next) = ranked.entry(parent).or_default();
        if rn as u64 > first {
            *has_next = true;
        } else {
            page.push((rn, decode(&row, at)?));
        }
    }
    for (parent, (mut page, has_next)) in ranked {
        page.sort_unstable_by_key(|(rn, _)| *rn);
        out.insert(
            parent,
            Group {
                rows: page.into_iter().map(|(_, r)| r).collect(),
                start: 1,
                total: None,
                has_previous: false,
                has_next,
            },
        );
    }
    Ok(out)
}

/// The page a parent with no row in [`nested`]'s answer gets.
pub fn empty_group<M>(slice: Slice) -> Group<M> {
    Group {
        rows: vec![],
        start: slice.after + 1,
        total: Some(0),
        has_previous: false,
        has_next: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_breaks_ties_by_id_and_puts_nulls_last() {
        let mut q = Query::select();
        for (e, order) in order_terms("t", &[Sort::column("\"t\".\"name\"", false, true)]) {
            q.order_by_expr(e, order);
        }
        assert_eq!(
            q.to_string(sea_orm::sea_query::SqliteQueryBuilder),
            "SELECT  ORDER BY (\"t\".\"name\") IS NULL ASC, \"t\".\"name\" ASC, \"t\".\"id\" ASC"
        );
    }
}
