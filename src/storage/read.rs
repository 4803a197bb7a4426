//! Every read of the partner graph, filtered by what the viewer may see.
//!
//! All reads take a [`Scope`] and apply it in SQL here, never in the
//! resolvers: connections, counts, lookups by id and batched relation loads
//! go through the same functions, so they cannot disagree about what exists.

use std::collections::HashMap;
use std::hash::Hash;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, IdenStatic, QueryFilter, QueryOrder, QueryTrait,
    Select,
};

use super::Result;
use super::decode::{Columns, Positional};
use super::entity::*;
use crate::model::{NetworkKind, RELATION_DEFAULT_VISIBILITY};

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

/// The tables a scope restricts, each read through [`Scoped::visible`].
pub trait Scoped: EntityTrait {
    /// The SQL condition that keeps the rows a scope may see.
    fn visible(scope: &Scope) -> Condition {
        match scope {
            Scope::All => Condition::all(),
            Scope::Partner(_) | Scope::Public => Condition::all().add(Expr::cust(Self::visible_sql(scope))),
        }
    }

    /// The same condition as SQL text over the unaliased table (for a
    /// restricted scope).
    fn visible_sql(scope: &Scope) -> String;

    /// Whether `scope` sees every row of the table, so that a reference to
    /// it needs no visibility check (its foreign key guarantees the row).
    /// Must agree with [`Scoped::visible`]: true only where that condition
    /// keeps everything.
    fn sees_all(scope: &Scope) -> bool {
        matches!(scope, Scope::All)
    }
}

// What a restricted scope sees, in SQL. Visibility is stored NULL for "the
// default of its kind" (see the migration `m20261201_000005_visibility`):
// the effective value is computed here and nowhere else. Partner ids come
// from our own database (never from a client), so they are inlined.

/// The effective visibility of the network row `n`, the CASE spelled from
/// [`NetworkKind::default_visibility`] so Rust and SQL cannot disagree.
fn network_visibility(n: &str) -> String {
    let cases: String = NetworkKind::ALL
        .iter()
        .map(|k| format!(" WHEN '{}' THEN '{}'", k.as_str(), k.default_visibility().as_str()))
        .collect();
    format!("COALESCE({n}.\"visibility\", CASE {n}.\"kind\"{cases} END)")
}

/// The effective visibility of the action row `a`: its own, else its network's, else public.
fn action_visibility(a: &str) -> String {
    format!(
        "COALESCE({a}.\"visibility\", (SELECT {} FROM \"networks\" vn WHERE vn.\"id\" = {a}.\"network_id\"), 'public')",
        network_visibility("vn")
    )
}

/// The effective visibility of the relation row `r`: its own, else the two partners'.
fn relation_visibility(r: &str) -> String {
    format!(
        "COALESCE({r}.\"visibility\", '{}')",
        RELATION_DEFAULT_VISIBILITY.as_str()
    )
}

/// A row of effective visibility `v` is seen by everyone when public, by the
/// partners involved (`involved(p)`, a SQL condition) when for members, and
/// by the directorate always.
fn visible_by(v: &str, scope: &Scope, involved: impl Fn(i64) -> String) -> String {
    match scope {
        Scope::All => "1 = 1".into(),
        Scope::Public => format!("{v} = 'public'"),
        Scope::Partner(p) => format!("({v} = 'public' OR ({v} = 'members' AND {}))", involved(*p)),
    }
}

fn network_visible(n: &str, scope: &Scope) -> String {
    visible_by(&network_visibility(n), scope, |p| {
        format!(
            "EXISTS (SELECT 1 FROM \"memberships\" vm WHERE vm.\"network_id\" = {n}.\"id\" AND vm.\"partner_id\" = {p})"
        )
    })
}

fn action_visible(a: &str, scope: &Scope) -> String {
    visible_by(&action_visibility(a), scope, |p| {
        format!(
            "EXISTS (SELECT 1 FROM \"action_partners\" vp WHERE vp.\"action_id\" = {a}.\"id\" AND vp.\"partner_id\" = {p})"
        )
    })
}

fn relation_visible(r: &str, scope: &Scope) -> String {
    visible_by(&relation_visibility(r), scope, |p| {
        format!("{p} IN ({r}.\"from_partner_id\", {r}.\"to_partner_id\")")
    })
}

/// The partner row `p` is seen: the portal's own record, and every partner
/// that sits in a network, takes part in an action or stands at an end of a
/// relation the scope sees.
fn partner_visible(p: &str, scope: &Scope) -> String {
    let own = match scope {
        Scope::Partner(me) => format!("{p}.\"id\" = {me} OR "),
        _ => String::new(),
    };
    format!(
        "({own}{p}.\"id\" IN (SELECT sm.\"partner_id\" FROM \"memberships\" sm JOIN \"networks\" sn ON sn.\"id\" = sm.\"network_id\" WHERE {nv}) \
         OR {p}.\"id\" IN (SELECT sp.\"partner_id\" FROM \"action_partners\" sp JOIN \"actions\" sa ON sa.\"id\" = sp.\"action_id\" WHERE {av}) \
         OR {p}.\"id\" IN (SELECT sr.\"from_partner_id\" FROM \"relations\" sr WHERE {rv}) \
         OR {p}.\"id\" IN (SELECT sr.\"to_partner_id\" FROM \"relations\" sr WHERE {rv}))",
        nv = network_visible("sn", scope),
        av = action_visible("sa", scope),
        rv = relation_visible("sr", scope),
    )
}

/// The ids of the networks a scope sees, as a subquery.
pub fn visible_networks(scope: &Scope) -> String {
    format!(
        "SELECT sn.\"id\" FROM \"networks\" sn WHERE {}",
        network_visible("sn", scope)
    )
}

/// The ids of the partners a scope sees, as a subquery.
pub fn visible_partners(scope: &Scope) -> String {
    format!(
        "SELECT vp0.\"id\" FROM \"partners\" vp0 WHERE {}",
        partner_visible("vp0", scope)
    )
}

/// The ids of the actions a scope sees, as a subquery.
pub fn visible_actions(scope: &Scope) -> String {
    format!(
        "SELECT sa.\"id\" FROM \"actions\" sa WHERE {}",
        action_visible("sa", scope)
    )
}

/// A table name, quoted as the unaliased table of a statement.
fn table(t: &str) -> String {
    format!("\"{t}\"")
}

impl Scoped for territory::Entity {
    // The territorial tree is public knowledge.
    fn visible_sql(_: &Scope) -> String {
        "1 = 1".into()
    }
    fn sees_all(_: &Scope) -> bool {
        true
    }
}
impl Scoped for partner::Entity {
    fn visible_sql(scope: &Scope) -> String {
        partner_visible(&table("partners"), scope)
    }
}
impl Scoped for contact::Entity {
    // Personal data: a portal sees its own people, anonymous readers nobody.
    fn visible_sql(scope: &Scope) -> String {
        match scope {
            Scope::Partner(p) => format!("\"contacts\".\"partner_id\" = {p}"),
            _ => "1 = 0".into(),
        }
    }
}
impl Scoped for network::Entity {
    fn visible_sql(scope: &Scope) -> String {
        network_visible(&table("networks"), scope)
    }
}
impl Scoped for membership::Entity {
    // Who sits in a network is seen with the network.
    fn visible_sql(scope: &Scope) -> String {
        format!("\"memberships\".\"network_id\" IN ({})", visible_networks(scope))
    }
}
impl Scoped for action::Entity {
    fn visible_sql(scope: &Scope) -> String {
        action_visible(&table("actions"), scope)
    }
}
impl Scoped for action_partner::Entity {
    fn visible_sql(scope: &Scope) -> String {
        format!("\"action_partners\".\"action_id\" IN ({})", visible_actions(scope))
    }
}
impl Scoped for action_territory::Entity {
    fn visible_sql(scope: &Scope) -> String {
        format!("\"action_territories\".\"action_id\" IN ({})", visible_actions(scope))
    }
}
impl Scoped for partner_territory::Entity {
    fn visible_sql(scope: &Scope) -> String {
        format!(
            "\"partner_territories\".\"partner_id\" IN (SELECT pt.\"id\" FROM \"partners\" pt WHERE {})",
            partner_visible("pt", scope)
        )
    }
}
impl Scoped for relation::Entity {
    fn visible_sql(scope: &Scope) -> String {
        relation_visible(&table("relations"), scope)
    }
}

impl Scope {
    /// Restricts a query to what this scope may see.
    pub fn select<E: Scoped>(&self) -> Select<E> {
        E::find().filter(E::visible(self))
    }
}

/// `column` (SQL: `"table"."col"`) is one of `ids`, written so that
/// PostgreSQL keeps the statement's plan. One id (a `node`, a lone
/// reference, a `node`'s lists): `= $1`, whose generic plan PostgreSQL
/// keeps, where `= ANY` of a one-element array was planned anew at every
/// execution (the generic plan guesses ten elements, so it never looks as
/// cheap as the custom one: 66 µs of planning for a 20 µs read in operation
/// (d) of the load benchmark). Several on PostgreSQL: one array parameter,
/// the same statement whatever their number (an `IN` list is a new
/// statement for each length, planned at every execution). SQLite plans
/// when it prepares: an `IN` list.
pub fn one_of(backend: DbBackend, column: &str, ids: &[i64]) -> Expr {
    match (backend, ids) {
        (_, [one]) => Expr::cust(column.to_owned()).eq(*one),
        (DbBackend::Postgres, _) => Expr::cust_with_values(
            format!("{column} = ANY(CAST($1 AS bigint[]))"),
            [sea_orm::Value::from(ids.to_vec())],
        ),
        (_, _) => Expr::cust(column.to_owned()).is_in(ids.iter().copied()),
    }
}

/// The rows among `ids` that the scope may see, by id (one statement).
pub async fn by_ids<E, C>(db: &C, scope: &Scope, id: E::Column, ids: &[i64]) -> Result<HashMap<i64, E::Model>>
where
    E: Scoped,
    C: ConnectionTrait,
    E::Model: HasId + Positional,
{
    let column = format!("\"{}\".\"{}\"", E::default().table_name(), id.as_str());
    let select = scope
        .select::<E>()
        .filter(one_of(db.get_database_backend(), &column, ids));
    let rows = db.query_all(&select.into_query()).await?;
    let Some(at) = Columns::of(&rows, None)? else {
        return Ok(HashMap::new());
    };
    let at = at.row;
    rows.iter()
        .map(|row| {
            let m = E::Model::decode_at(row, at)?;
            Ok((m.id(), m))
        })
        .collect()
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
