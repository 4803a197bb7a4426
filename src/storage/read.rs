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
