//! Every read of the partner graph, filtered by what the viewer may see.
//!
//! All reads take a [`Scope`] and apply it in SQL here, never in the
//! resolvers: connections, counts, lookups by id and batched relation loads
//! go through the same functions, so they cannot disagree about what exists.

use std::collections::HashMap;
use std::hash::Hash;

use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Select};

use super::Result;
use super::entity::*;

/// What the asking viewer may read. Built by the domain layer from the
/// authenticated principal; the storage layer only turns it into SQL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Scope {
    /// The directorate and tools run on the server: every record.
    #[default]
    All,
    /// A partner portal: what concerns this partner, and what is public.
    Partner(i64),
    /// Anonymous readers: public records only.
    Public,
}

/// The tables a scope restricts, each read through [`Scope::condition`].
pub trait Scoped: EntityTrait {
    /// The SQL condition that keeps the rows a scope may see.
    fn visible(scope: &Scope) -> Condition {
        match scope {
            Scope::All => Condition::all(),
            // Filled in by the access-control work; until then nothing leaks.
            Scope::Partner(_) | Scope::Public => Condition::all().add(sea_orm::sea_query::Expr::cust("1 = 0")),
        }
    }

    /// Whether `scope` sees every row of the table, so that a reference to
    /// it needs no visibility check (its foreign key guarantees the row).
    /// Must agree with [`Scoped::visible`]: true only where that condition
    /// keeps everything.
    fn sees_all(scope: &Scope) -> bool {
        matches!(scope, Scope::All)
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

/// A territory named by a client: by row id or by external id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TerritoryKey {
    Id(i64),
    Ref(String),
}

/// The ids of a territory and, with `descendants`, of every territory inside
/// it, as a subquery (through the `territory_ancestors` closure).
pub fn territory_set(key: &TerritoryKey, descendants: bool) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::Query;
    let roots = match key {
        TerritoryKey::Id(id) => Query::select()
            .column(territory::Column::Id)
            .from(territory::Entity)
            .and_where(territory::Column::Id.eq(*id))
            .to_owned(),
        TerritoryKey::Ref(r) => Query::select()
            .column(territory::Column::Id)
            .from(territory::Entity)
            .and_where(territory::Column::Ref.eq(r.clone()))
            .to_owned(),
    };
    if !descendants {
        return roots;
    }
    Query::select()
        .column(territory_ancestor::Column::TerritoryId)
        .from(territory_ancestor::Entity)
        .and_where(territory_ancestor::Column::AncestorId.in_subquery(roots))
        .to_owned()
}
