//! Every read of the partner graph, filtered by what the viewer may see.
//!
//! All reads take a [`Scope`] and apply it in SQL here, never in the
//! resolvers: connections, counts, lookups by id and batched relation loads
//! go through the same functions, so they cannot disagree about what exists.

use std::collections::HashMap;
use std::hash::Hash;

use sea_orm::sea_query::{Expr, ExprTrait, IntoCondition};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};

use super::Result;
use super::entity::*;

/// What the asking viewer may read. Built by the domain layer from the
/// authenticated principal; the storage layer only turns it into SQL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Scope {
    /// The directorate and tools run on the server: every record.
    #[default]
    All,
}

/// The tables a scope restricts, each read through [`Scope::condition`].
pub trait Scoped: EntityTrait {
    /// The SQL condition that keeps the rows a scope may see.
    fn visible(scope: &Scope) -> Condition {
        match scope {
            Scope::All => Condition::all(),
        }
    }
}

impl Scoped for territory::Entity {}
impl Scoped for partner::Entity {}
impl Scoped for contact::Entity {}
impl Scoped for network::Entity {}
impl Scoped for membership::Entity {}
impl Scoped for action::Entity {}
impl Scoped for action_partner::Entity {}
impl Scoped for action_territory::Entity {}
impl Scoped for partner_territory::Entity {}
impl Scoped for relation::Entity {}

impl Scope {
    /// Restricts a query to what this scope may see.
    pub fn select<E: Scoped>(&self) -> Select<E> {
        E::find().filter(E::visible(self))
    }
}

/// A slice of an ordered list, keyed by row id (keyset pagination: stable
/// under inserts, and each page costs the same however deep it is).
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub first: u64,
    /// Rows with an id strictly greater than this one.
    pub after: Option<i64>,
}

/// One page of rows, whether more follow, and the size of the whole list.
#[derive(Debug, Clone)]
pub struct Paged<M> {
    pub rows: Vec<M>,
    pub has_next: bool,
    pub total: u64,
}

/// Reads one page of `select`, ordered by `id`.
pub async fn page<E, C>(db: &C, select: Select<E>, id: E::Column, page: Page) -> Result<Paged<E::Model>>
where
    E: EntityTrait,
    E::Model: Send + Sync,
    C: ConnectionTrait,
{
    let total = select.clone().count(db).await?;
    let mut q = select.order_by_asc(id).limit(page.first + 1);
    if let Some(after) = page.after {
        q = q.filter(Expr::col(id).gt(after).into_condition());
    }
    let mut rows = q.all(db).await?;
    let has_next = rows.len() as u64 > page.first;
    rows.truncate(page.first as usize);
    Ok(Paged { rows, has_next, total })
}

/// The rows among `ids` that the scope may see, by id (one statement).
pub async fn by_ids<E, C>(db: &C, scope: &Scope, id: E::Column, ids: &[i64]) -> Result<HashMap<i64, E::Model>>
where
    E: Scoped,
    C: ConnectionTrait,
    E::Model: HasId,
{
    let rows = scope
        .select::<E>()
        .filter(id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|m| (m.id(), m)).collect())
}

/// The visible rows whose column `key` takes one of `keys`, grouped by it
/// (one statement for all parents: what DataLoaders call).
pub async fn grouped<E, C, K>(
    db: &C,
    scope: &Scope,
    key: E::Column,
    keys: &[K],
    key_of: impl Fn(&E::Model) -> K,
    order: E::Column,
) -> Result<HashMap<K, Vec<E::Model>>>
where
    E: Scoped,
    C: ConnectionTrait,
    K: Eq + Hash + Clone + Into<sea_orm::Value>,
{
    let rows = scope
        .select::<E>()
        .filter(key.is_in(keys.iter().cloned()))
        .order_by_asc(order)
        .all(db)
        .await?;
    let mut out: HashMap<K, Vec<E::Model>> = HashMap::new();
    for m in rows {
        out.entry(key_of(&m)).or_default().push(m);
    }
    Ok(out)
}

/// Every model has a surrogate `id`.
pub trait HasId {
    fn id(&self) -> i64;
}

macro_rules! has_id {
    ($($m:ident),*) => { $(impl HasId for $m::Model { fn id(&self) -> i64 { self.id } })* };
}
has_id!(
    territory,
    partner,
    contact,
    network,
    membership,
    action,
    action_partner,
    action_territory,
    partner_territory,
    relation
);

/// Which rows of an ordered list a page holds: positions `offset+1 ..= offset+limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    pub offset: u64,
    pub limit: u64,
}

/// One parent's page of a nested list, and the size of its whole list.
#[derive(Debug, Clone)]
pub struct Group<M> {
    pub rows: Vec<M>,
    pub total: u64,
}

/// A page of a nested list for every parent at once, in one statement: rows
/// are numbered within each parent (`ROW_NUMBER() OVER (PARTITION BY …)`)
/// and the window is cut in SQL, so neither every parent's whole list nor
/// one query per parent is ever fetched. `order_sql` is the SQL ordering
/// (ties are broken by `id`).
pub async fn grouped_page<E, C>(
    db: &C,
    select: Select<E>,
    key: E::Column,
    keys: &[i64],
    order_sql: &str,
    window: Window,
) -> Result<HashMap<i64, Group<E::Model>>>
where
    E: EntityTrait,
    C: ConnectionTrait,
    E::Model: sea_orm::FromQueryResult,
{
    use sea_orm::sea_query::{Alias, Asterisk, Query};
    use sea_orm::{FromQueryResult, IdenStatic, QueryTrait};

    let table = E::default().table_name().to_owned();
    let k = format!("\"{table}\".\"{}\"", key.as_str());
    let order = if order_sql.is_empty() {
        String::new()
    } else {
        format!("{order_sql}, ")
    };
    let inner = select
        .filter(key.is_in(keys.iter().copied()))
        .column_as(
            Expr::cust(format!(
                "ROW_NUMBER() OVER (PARTITION BY {k} ORDER BY {order}\"{table}\".\"id\")"
            )),
            "w_rn",
        )
        .column_as(Expr::cust(format!("COUNT(*) OVER (PARTITION BY {k})")), "w_total")
        .into_query();
    let outer = Query::select()
        .column(Asterisk)
        .from_subquery(inner, Alias::new("w"))
        .and_where(Expr::col(Alias::new("w_rn")).gt(window.offset as i64))
        .and_where(Expr::col(Alias::new("w_rn")).lte((window.offset + window.limit) as i64))
        .order_by(Alias::new("w_rn"), sea_orm::Order::Asc)
        .to_owned();
    let mut out: HashMap<i64, Group<E::Model>> = HashMap::new();
    for row in db.query_all(&outer).await? {
        let parent: i64 = row.try_get("", key.as_str())?;
        let total: i64 = row.try_get("", "w_total")?;
        let g = out.entry(parent).or_insert_with(|| Group {
            rows: vec![],
            total: total as u64,
        });
        g.rows.push(E::Model::from_query_result(&row, "")?);
    }
    Ok(out)
}
