//! GraphQL object types over the storage models.
//!
//! Object references resolve through the request's `ById` loaders and
//! nested connections through its `NestedLoader`s, so a level of N parents
//! costs a fixed number of statements, whatever N.
//!
//! Filter arguments are boxed (`Option<Box<PartnerFilter>>`: the same
//! GraphQL type), and loader calls are awaited boxed. async-graphql boxes
//! the future of every field it resolves, each as large as the largest
//! field resolver of the type, and a resolver's future holds its arguments
//! inline: with filters of 200–360 bytes, each `id` or `title` of an
//! `Action` took a 1.9 KB allocation, 29 MB per answer of the load
//! benchmark's (b) (24 MB now; BENCHMARKS.md, seventh session).

use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::parser::types::{Field, FragmentDefinition, Selection, SelectionSet};
use async_graphql::{Context, ID, Name, Object, Positioned, Result, SimpleObject};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, Select};

use super::columns;
use super::connection::{PageInfo, cursor, node_connection, page_cost, page_info, slice, wants_lists};
use super::error::internal;
use super::filters::*;
use super::ids::{Kind, encode};
use super::loaders::{ById, LinkLoader, LoadError, Loaders, NestedKey, NestedQuery, Pages};
use super::scalars::Date;
use super::stats::LinkKind;
use crate::model::*;
use crate::storage::entity::*;
use crate::storage::list::{Group, Parent, Slice, Sort, empty_group};
use crate::storage::read::{HasId, Scope, Scoped};

/// The request's loaders. Every load goes through here, which lets the
/// loaders tell when a level of the query has queued all its keys.
pub fn loaders<'a>(ctx: &'a Context<'_>) -> &'a Loaders {
    let mut depth = 0;
    let mut node = ctx.path_node.as_ref();
    while let Some(n) = node {
        depth += 1;
        node = n.parent;
    }
    ctx.data_unchecked::<Loaders>().touch(depth)
}

/// A contact's personal field, for a viewer allowed to read it (a request
/// without a principal is the server's own, as in tests and the CLI).
fn personal<'a>(ctx: &Context<'_>, value: Option<&'a str>) -> Option<&'a str> {
    value.filter(|_| super::filters::sees_personal(ctx))
}

pub fn scope(ctx: &Context<'_>) -> Scope {
    ctx.data_unchecked::<Scope>().clone()
}

fn euros(cents: Option<i64>) -> Option<f64> {
    cents.map(|c| c as f64 / 100.0)
}

fn date(d: Option<chrono::NaiveDate>) -> Option<Date> {
    d.map(Date)
}

/// `"table"."column"`, for a parent key.
fn col(table: &str, column: &str) -> Parent {
    Parent::Column(format!("\"{table}\".\"{column}\""))
}

/// Rows of `E` visible to `scope` that `cond` keeps; for a list keyed by a
/// column ([`col`]), `storage::list::nested` keeps the wanted parents' rows.
fn rows_of<E: Scoped>(scope: &Scope, cond: Condition) -> Select<E> {
    scope.select::<E>().filter(cond)
}

/// One parent's page of a nested list, batched with its siblings'.
/// `loader` is a `NestedLoader` (pages of `E`'s rows) or a `LinkLoader`
/// (pages of links with their targets).
async fn nested_page<E, V, L>(
    ctx: &Context<'_>,
    loader: &DataLoader<L, HashMapCache>,
    parent: i64,
    field: &'static str,
    sort: Vec<Sort>,
    slice: Slice,
    build: impl Fn(&[i64]) -> (Select<E>, Parent) + Send + Sync + 'static,
) -> Result<Group<V>>
where
    E: EntityTrait + Send + Sync + 'static,
    L: Loader<NestedKey<E>, Value = Arc<Group<V>>, Error = LoadError> + Pages,
    V: Clone + Send + Sync + 'static,
{
    let query = nested_query::<E, L>(ctx, field, sort, slice, build);
    page_of(loader, parent, query).await
}

/// The page request of the nested connection field `ctx` resolves (or
/// that a page prefetching it made a context for: [`prefetch_pages`]).
fn nested_query<E, L>(
    ctx: &Context<'_>,
    field: &'static str,
    sort: Vec<Sort>,
    slice: Slice,
    build: impl Fn(&[i64]) -> (Select<E>, Parent) + Send + Sync + 'static,
) -> Arc<NestedQuery<E>>
where
    E: EntityTrait,
    L: Pages,
{
    let Ok(query) = ctx.data_unchecked::<Loaders>().memo(field, ctx, || {
        Ok::<_, std::convert::Infallible>(Arc::new(NestedQuery {
            // The field's node in the parsed document: the parents it is
            // resolved for all ask the same page (one node, one set of
            // arguments and variables), without formatting those arguments
            // for each parent. A page prefetching the field names it the
            // same way, from the same node.
            sig: format!("{field}@{:p}", ctx.item),
            build: Box::new(build),
            sort,
            slice,
            projection: columns::of_page::<L::Node>(ctx),
            links: L::links(ctx),
        }))
    });
    query
}

/// One parent's page of `query`: a cache hit when the page that holds the
/// parent prefetched it, else batched with its siblings'.
async fn page_of<E, V, L>(
    loader: &DataLoader<L, HashMapCache>,
    parent: i64,
    query: Arc<NestedQuery<E>>,
) -> Result<Group<V>>
where
    E: EntityTrait + Send + Sync + 'static,
    L: Loader<NestedKey<E>, Value = Arc<Group<V>>, Error = LoadError>,
    V: Clone + Send + Sync + 'static,
{
    let slice = query.slice;
    // The loader's own copy is gone once it has answered: the page is
    // unwrapped, not copied (a query's loaders keep a copy: then cloned).
    Ok(Box::pin(loader.load_one(NestedKey { parent, query }))
        .await
        .map_err(internal)?
        .map_or_else(|| empty_group(slice), Arc::unwrap_or_clone))
}

/// Loads, in one call for all the nodes of the page being resolved, the
/// pages of their nested connection `field` that the client selected
/// (under `nodes` or `edges { node }`, fragments included), so that each
/// node's `field` is then a cache hit of the request's loaders.
///
/// Why: left to each node, a page of N nodes queues N keys one by one, and
/// N resolvers wait for the batch and are woken one by one; under load
/// that path cost more than the statement (`benches/graphql_floor.rs`, a
/// loader at the last level of (b) nearly halves what two cores answer).
///
/// `request` builds the page request from the field's context (its
/// arguments), exactly as the field's resolver does; it is given a context
/// made for the field's node of the document, so that the request's
/// signature is the one the resolver will look for. A request it refuses
/// (a bad argument) is left to the resolvers, which report it at their path.
async fn prefetch_pages<E, V, L>(
    ctx: &Context<'_>,
    loader: &DataLoader<L, HashMapCache>,
    field: &str,
    parents: impl Iterator<Item = i64>,
    request: impl Fn(&Context<'_>) -> Result<Arc<NestedQuery<E>>>,
) -> Result<()>
where
    E: EntityTrait + Send + Sync + 'static,
    L: Loader<NestedKey<E>, Value = Arc<Group<V>>, Error = LoadError>,
    V: Clone + Send + Sync + 'static,
{
    if !loaders(ctx).caching {
        return Ok(());
    }
    let nodes = node_fields(ctx, field);
    if nodes.is_empty() {
        // Not selected: every page of partners or networks passes here.
        return Ok(());
    }
    let mut seen = HashSet::new();
    let parents: Vec<i64> = parents.filter(|id| seen.insert(*id)).collect();
    for node in nodes {
        let field_ctx = ctx.with_field(node);
        let Ok(query) = request(&field_ctx) else {
            continue;
        };
        // Queued as deeper than the page (its context's path is the page's
        // and the field's): the batch then waits for the page's own
        // references, which hold back the pages that have any, so that one
        // statement serves every page of the level (`loaders::settle`).
        loaders(&field_ctx);
        Box::pin(loader.load_many(parents.iter().map(|&parent| NestedKey {
            parent,
            query: query.clone(),
        })))
        .await
        .map_err(internal)?;
    }
    Ok(())
}

/// The nodes of the query's document that select `field` on the nodes of
/// the connection being resolved: under `nodes` and `edges { node }`,
/// through inline fragments and fragment spreads. (async-graphql's
/// look-ahead walks the same way but does not hand out the nodes, which
/// name a nested page request: see [`nested_query`].)
fn node_fields<'a>(ctx: &Context<'a>, field: &str) -> Vec<&'a Positioned<Field>> {
    fn each<'a>(
        fragments: &'a std::collections::HashMap<Name, Positioned<FragmentDefinition>>,
        set: &'a SelectionSet,
        f: &mut dyn FnMut(&'a Positioned<Field>),
    ) {
        for item in &set.items {
            match &item.node {
                Selection::Field(x) => f(x),
                Selection::InlineFragment(i) => each(fragments, &i.node.selection_set.node, f),
                Selection::FragmentSpread(s) => {
                    if let Some(d) = fragments.get(&s.node.fragment_name.node) {
                        each(fragments, &d.node.selection_set.node, f)
                    }
                }
            }
        }
    }
    let fragments = &ctx.query_env.fragments;
    let mut nodes = vec![];
    each(
        fragments,
        &ctx.item.node.selection_set.node,
        &mut |x| match x.node.name.node.as_str() {
            "nodes" => nodes.push(x),
            "edges" => each(fragments, &x.node.selection_set.node, &mut |e| {
                if e.node.name.node == "node" {
                    nodes.push(e)
                }
            }),
            _ => {}
        },
    );
    let mut out = vec![];
    for n in nodes {
        each(fragments, &n.node.selection_set.node, &mut |x| {
            if x.node.name.node == field {
                out.push(x)
            }
        });
    }
    out
}

/// An argument of the field `ctx` resolves, as its resolver gets it (for
/// the page requests built by [`prefetch_pages`]).
fn arg<T: async_graphql::InputType>(ctx: &Context<'_>, name: &str) -> Result<T> {
    ctx.param_value::<T>(name, None)
        .map(|(_, v)| v)
        .map_err(|e| async_graphql::Error::new(e.message))
}

/// Loads in one call the records a page's rows point at through `field`,
/// when the client selected it (under `nodes` or `edges { node }`), so that
/// each row's reference is then a cache hit of the request's loaders.
/// Queued one by one (a key set, a channel and a wake-up per row), the
/// seats of a 50-partner page cost as much as the rest of the request.
async fn prefetch<E>(
    ctx: &Context<'_>,
    field: &'static str,
    loader: &DataLoader<ById<E>, HashMapCache>,
    ids: impl Iterator<Item = Option<i64>>,
) -> Result<()>
where
    E: Scoped + Send + Sync + 'static,
    E::Model: HasId + crate::storage::decode::Positional + Clone + Send + Sync,
{
    if !selects(ctx, field) {
        return Ok(());
    }
    let ids: HashSet<i64> = ids.flatten().collect();
    if !ids.is_empty() {
        loaders(ctx);
        Box::pin(loader.load_many(ids)).await.map_err(internal)?;
    }
    Ok(())
}

/// Whether the client selected `field` on the nodes of the connection being
/// resolved (under `nodes` or `edges { node }`), in a request whose by-id
/// loaders keep what they load (a query's; prefetching is pointless
/// otherwise).
pub fn selects(ctx: &Context<'_>, field: &'static str) -> bool {
    let l = loaders(ctx);
    if !l.caching {
        return false;
    }
    // Once per connection field of the query, not per parent (`Loaders::memo`).
    let Ok(selected) = l.memo(field, ctx, || {
        let look = ctx.look_ahead();
        Ok::<_, std::convert::Infallible>(Arc::new(
            look.field("nodes").field(field).exists() || look.field("edges").field("node").field(field).exists(),
        ))
    });
    *selected
}

/// The references a page of partners' client selected: seats and parents.
pub async fn prefetch_partners<'m>(
    ctx: &Context<'_>,
    rows: impl Iterator<Item = &'m partner::Model> + Clone,
) -> Result<()> {
    let l = loaders(ctx);
    prefetch(ctx, "seat", &l.territory, rows.clone().map(|p| p.territory_id)).await?;
    prefetch_partner_parents(ctx, rows.clone()).await?;
    prefetch_partner_pages(ctx, rows.map(|p| p.id)).await
}

/// The parents of a page of partners, when selected (its seats came with it).
pub async fn prefetch_partner_parents<'m>(
    ctx: &Context<'_>,
    rows: impl Iterator<Item = &'m partner::Model> + Clone,
) -> Result<()> {
    prefetch(ctx, "parent", &loaders(ctx).partner, rows.map(|p| p.parent_id)).await
}

/// The references of a page of networks: territories and parent networks.
pub async fn prefetch_networks<'m>(
    ctx: &Context<'_>,
    rows: impl Iterator<Item = &'m network::Model> + Clone,
) -> Result<()> {
    let l = loaders(ctx);
    prefetch(ctx, "territory", &l.territory, rows.clone().map(|n| n.territory_id)).await?;
    prefetch(ctx, "parent", &l.network, rows.clone().map(|n| n.parent_id)).await?;
    prefetch_network_pages(ctx, rows.map(|n| n.id)).await
}

/// The references of a page of actions: their networks.
pub async fn prefetch_actions<'m>(
    ctx: &Context<'_>,
    rows: impl Iterator<Item = &'m action::Model> + Clone,
) -> Result<()> {
    prefetch(ctx, "network", &loaders(ctx).network, rows.map(|a| a.network_id)).await
}

/// The references of a page of contacts: their partners.
pub async fn prefetch_contacts<'m>(
    ctx: &Context<'_>,
    rows: impl Iterator<Item = &'m contact::Model> + Clone,
) -> Result<()> {
    prefetch(ctx, "partner", &loaders(ctx).partner, rows.map(|c| Some(c.partner_id))).await
}

/// The references of a page of territories: their parents.
pub async fn prefetch_territories<'m>(
    ctx: &Context<'_>,
    rows: impl Iterator<Item = &'m territory::Model> + Clone,
) -> Result<()> {
    prefetch(ctx, "parent", &loaders(ctx).territory, rows.map(|t| t.parent_id)).await
}

macro_rules! reference {
    ($ctx:expr, $loader:ident, $id:expr, $ty:expr) => {
        match $id {
            Some(id) => Ok(Box::pin(loaders($ctx).$loader.load_one(id))
                .await
                .map_err(internal)?
                .map($ty)),
            None => Ok(None),
        }
    };
}

// ---------------------------------------------------------------- territory

/// A territory of the administrative tree: region › department › EPCI
/// (établissement public de coopération intercommunale: an
/// intercommunality) › commune › district, or QPV (quartier prioritaire de
/// la politique de la ville: a priority neighbourhood of the urban policy).
#[derive(Clone)]
pub struct Territory(pub territory::Model);

node_connection!(TerritoryConnection, TerritoryEdge, Territory, "territory");

/// A territory of the administrative tree: region › department › EPCI
/// (établissement public de coopération intercommunale: an
/// intercommunality) › commune › district, or QPV (quartier prioritaire de
/// la politique de la ville: a priority neighbourhood of the urban policy).
#[Object(serial)]
impl Territory {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(Kind::Territory, self.0.id)
    }
    /// The external id the territory has in bundles (e.g. `com-57306`).
    #[graphql(name = "ref")]
    async fn r#ref(&self) -> &str {
        &self.0.r#ref
    }
    /// Its rank in the tree.
    async fn kind(&self) -> TerritoryKind {
        self.0.kind
    }
    /// Official code: INSEE COG for regions, departments and communes, SIREN for an EPCI, the QPV code for a QPV.
    async fn code(&self) -> Option<&str> {
        self.0.code.as_deref()
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Inhabitants.
    async fn population(&self) -> Option<i64> {
        self.0.population
    }
    /// Latitude of its centroid (WGS84).
    async fn lat(&self) -> Option<f64> {
        self.0.lat
    }
    /// Longitude of its centroid (WGS84).
    async fn lon(&self) -> Option<f64> {
        self.0.lon
    }
    /// When the record was created in maillage.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the record last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Optimistic-concurrency version, bumped on every change: pass it as
    /// `expectedVersion` when updating, so as never to overwrite someone
    /// else's change unknowingly.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The enclosing territory.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Territory>> {
        reference!(ctx, territory, self.0.parent_id, Territory)
    }
    /// Every enclosing territory, the widest (region) first.
    async fn ancestors(&self, ctx: &Context<'_>) -> Result<Vec<Territory>> {
        let scope = scope(ctx);
        let g = nested_page(
            ctx,
            &loaders(ctx).territory_lists,
            self.0.id,
            "Territory.ancestors",
            vec![Sort {
                sql: "\"w_pairs\".\"depth\"".into(),
                desc: true,
                nullable: false,
            }],
            Slice {
                first: Some(32),
                ..Slice::default()
            },
            move |ids| {
                (
                    scope.select::<territory::Entity>(),
                    ancestry_pairs(ids, "territory_id", "ancestor_id"),
                )
            },
        )
        .await?;
        Ok(g.rows.into_iter().map(Territory).collect())
    }
    /// The territories directly inside this one.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn children(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last items (of what `before`/`after` leave).")] last: Option<i32>,
        #[graphql(desc = "Stop before this cursor.")] before: Option<String>,
        #[graphql(desc = "Filters.")] filter: Option<Box<TerritoryFilter>>,
        #[graphql(desc = "Sort keys, in order.")] order_by: Option<Vec<TerritoryOrder>>,
    ) -> Result<TerritoryConnection> {
        let cond = filter
            .as_ref()
            .map(|f| f.condition(ctx.data_unchecked::<Scope>()))
            .transpose()?
            .unwrap_or_else(Condition::all);
        let scope = scope(ctx);
        let g = nested_page(
            ctx,
            &loaders(ctx).territory_lists,
            self.0.id,
            "Territory.children",
            TerritoryOrder::sorts(ctx, &order_by),
            slice(ctx, first, after, last, before)?,
            move |_| (rows_of(&scope, cond.clone()), col("territories", "parent_id")),
        )
        .await?;
        prefetch_territories(ctx, g.rows.iter()).await?;
        Ok(TerritoryConnection::from_group(ctx, g, Territory))
    }
    /// Every territory inside this one, at any depth.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn descendants(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last items (of what `before`/`after` leave).")] last: Option<i32>,
        #[graphql(desc = "Stop before this cursor.")] before: Option<String>,
        #[graphql(desc = "Filters.")] filter: Option<Box<TerritoryFilter>>,
        #[graphql(desc = "Sort keys, in order.")] order_by: Option<Vec<TerritoryOrder>>,
    ) -> Result<TerritoryConnection> {
        let cond = filter
            .as_ref()
            .map(|f| f.condition(ctx.data_unchecked::<Scope>()))
            .transpose()?
            .unwrap_or_else(Condition::all);
        let scope = scope(ctx);
        let g = nested_page(
            ctx,
            &loaders(ctx).territory_lists,
            self.0.id,
            "Territory.descendants",
            TerritoryOrder::sorts(ctx, &order_by),
            slice(ctx, first, after, last, before)?,
            move |ids| {
                (
                    scope.select::<territory::Entity>().filter(cond.clone()),
                    ancestry_pairs(ids, "ancestor_id", "territory_id"),
                )
            },
        )
        .await?;
        prefetch_territories(ctx, g.rows.iter()).await?;
        Ok(TerritoryConnection::from_group(ctx, g, Territory))
    }
    /// Partners whose seat is this territory (or, with `includeDescendants`, a territory inside it).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn partners_based(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last items (of what `before`/`after` leave).")] last: Option<i32>,
        #[graphql(desc = "Stop before this cursor.")] before: Option<String>,
        #[graphql(desc = "Filters.")] filter: Option<Box<PartnerFilter>>,
        #[graphql(desc = "Sort keys, in order.")] order_by: Option<Vec<PartnerOrder>>,
        #[graphql(desc = "Count territories inside this one too.", default = true)] include_descendants: bool,
    ) -> Result<PartnerConnection> {
        let cond = filter
            .as_ref()
            .map(|f| f.condition(ctx.data_unchecked::<Scope>()))
            .transpose()?
            .unwrap_or_else(Condition::all);
        let scope = scope(ctx);
        let g = nested_page(
            ctx,
            &loaders(ctx).partner_lists,
            self.0.id,
            "Territory.partnersBased",
            PartnerOrder::sorts(ctx, &order_by),
            slice(ctx, first, after, last, before)?,
            move |ids| {
                let pairs = within_pairs(ids, include_descendants, "partners", "territory_id", "id");
                (scope.select::<partner::Entity>().filter(cond.clone()), pairs)
            },
        )
        .await?;
        prefetch_partners(ctx, g.rows.iter()).await?;
        Ok(PartnerConnection::from_group(ctx, g, Partner::from))
    }
    /// Partners that declare serving this territory (or, with `includeDescendants`, a territory inside it: a partner serving a commune is found from its intercommunality).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn partners_serving(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last items (of what `before`/`after` leave).")] last: Option<i32>,
        #[graphql(desc = "Stop before this cursor.")] before: Option<String>,
        #[graphql(desc = "Filters.")] filter: Option<Box<PartnerFilter>>,
        #[graphql(desc = "Sort keys, in order.")] order_by: Option<Vec<PartnerOrder>>,
        #[graphql(desc = "Count territories inside this one too.", default = true)] include_descendants: bool,
    ) -> Result<PartnerConnection> {
        let cond = filter
            .as_ref()
            .map(|f| f.condition(ctx.data_unchecked::<Scope>()))
            .transpose()?
            .unwrap_or_else(Condition::all);
        let scope = scope(ctx);
        let g = nested_page(
            ctx,
            &loaders(ctx).partner_lists,
            self.0.id,
            "Territory.partnersServing",
            PartnerOrder::sorts(ctx, &order_by),
            slice(ctx, first, after, last, before)?,
            move |ids| {
                let pairs = within_pairs(
                    ids,
                    include_descendants,
                    "partner_territories",
                    "territory_id",
                    "partner_id",
                );
                (scope.select::<partner::Entity>().filter(cond.clone()), pairs)
            },
        )
        .await?;
        prefetch_partners(ctx, g.rows.iter()).await?;
        Ok(PartnerConnection::from_group(ctx, g, Partner::from))
    }
    /// Shared actions taking place in this territory (or, with `includeDescendants`, inside it).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn actions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last items (of what `before`/`after` leave).")] last: Option<i32>,
        #[graphql(desc = "Stop before this cursor.")] before: Option<String>,
        #[graphql(desc = "Filters.")] filter: Option<Box<ActionFilter>>,
        #[graphql(desc = "Sort keys, in order.")] order_by: Option<Vec<ActionOrder>>,
        #[graphql(desc = "Count territories inside this one too.", default = true)] include_descendants: bool,
    ) -> Result<ActionConnection> {
        let cond = filter
            .as_ref()
            .map(|f| f.condition(ctx.data_unchecked::<Scope>()))
            .transpose()?
            .unwrap_or_else(Condition::all);
        let scope = scope(ctx);
        let g = nested_page(
            ctx,
            &loaders(ctx).action_lists,
            self.0.id,
            "Territory.actions",
            ActionOrder::sorts(ctx, &order_by),
            slice(ctx, first, after, last, before)?,
            move |ids| {
                let pairs = within_pairs(
                    ids,
                    include_descendants,
                    "action_territories",
                    "territory_id",
                    "action_id",
                );
                (scope.select::<action::Entity>().filter(cond.clone()), pairs)
            },
        )
        .await?;
        prefetch_actions(ctx, g.rows.iter()).await?;
        Ok(ActionConnection::from_group(ctx, g, Action))
    }
    /// Networks whose territory is this one (or, with `includeDescendants`, a territory inside it).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn networks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last items (of what `before`/`after` leave).")] last: Option<i32>,
        #[graphql(desc = "Stop before this cursor.")] before: Option<String>,
        #[graphql(desc = "Filters.")] filter: Option<Box<NetworkFilter>>,
        #[graphql(desc = "Sort keys, in order.")] order_by: Option<Vec<NetworkOrder>>,
        #[graphql(desc = "Count territories inside this one too.", default = true)] include_descendants: bool,
    ) -> Result<NetworkConnection> {
        let cond = filter
            .as_ref()
            .map(|f| f.condition(ctx.data_unchecked::<Scope>()))
            .transpose()?
            .unwrap_or_else(Condition::all);
        let scope = scope(ctx);
        let g = nested_page(
            ctx,
            &loaders(ctx).network_lists,
            self.0.id,
            "Territory.networks",
            NetworkOrder::sorts(ctx, &order_by),
            slice(ctx, first, after, last, before)?,
            move |ids| {
                let pairs = within_pairs(ids, include_descendants, "networks", "territory_id", "id");
                (scope.select::<network::Entity>().filter(cond.clone()), pairs)
            },
        )
        .await?;
        prefetch_networks(ctx, g.rows.iter()).await?;
        Ok(NetworkConnection::from_group(ctx, g, Network))
    }
}

/// Pairs `(k, id)` from the territory closure: `k` in `ids` from column
/// `key`, `id` from column `value`, self excluded.
fn ancestry_pairs(ids: &[i64], key: &str, value: &str) -> Parent {
    let ta = Alias::new("territory_ancestors");
    Parent::Pairs(Box::new(
        Query::select()
            .expr_as(Expr::col((ta.clone(), Alias::new(key))), Alias::new("k"))
            .expr_as(Expr::col((ta.clone(), Alias::new(value))), Alias::new("id"))
            .column((ta.clone(), Alias::new("depth")))
            .from(ta.clone())
            .and_where(Expr::col((ta.clone(), Alias::new(key))).is_in(ids.iter().copied()))
            .and_where(Expr::col((ta, Alias::new("depth"))).gt(0))
            .to_owned(),
    ))
}

/// Pairs `(territory k, record id)` for the rows of `table` whose
/// `territory_col` is one of `ids` or, with `descendants`, lies inside one
/// of them. `DISTINCT`: a record in two communes of one EPCI is listed once.
fn within_pairs(ids: &[i64], descendants: bool, table: &str, territory_col: &str, id_col: &str) -> Parent {
    let t = Alias::new(table);
    let mut q = Query::select();
    q.distinct().from(t.clone());
    if descendants {
        let ta = Alias::new("territory_ancestors");
        q.expr_as(Expr::col((ta.clone(), Alias::new("ancestor_id"))), Alias::new("k"))
            .inner_join(
                ta.clone(),
                Expr::col((ta.clone(), Alias::new("territory_id"))).equals((t.clone(), Alias::new(territory_col))),
            )
            .and_where(Expr::col((ta, Alias::new("ancestor_id"))).is_in(ids.iter().copied()));
    } else {
        q.expr_as(Expr::col((t.clone(), Alias::new(territory_col))), Alias::new("k"))
            .and_where(Expr::col((t.clone(), Alias::new(territory_col))).is_in(ids.iter().copied()));
    }
    q.expr_as(Expr::col((t, Alias::new(id_col))), Alias::new("id"));
    Parent::Pairs(Box::new(q))
}

// ---------------------------------------------------------------- partner

/// A partner: an organisation that works with the directorate (Mission
/// Locale, France Travail, CCAS — centre communal d'action sociale —, the
/// Département, State services, police and justice, schools, social
/// landlords, prevention clubs, associations…).
#[derive(Clone)]
pub struct Partner(pub partner::Model, pub Seat);

/// Where a partner's `seat` comes from.
#[derive(Clone, Default)]
pub enum Seat {
    /// From the territory loader, by id.
    #[default]
    ById,
    /// Read with the partner, by its page's statement (`query.rs`,
    /// `partners`), with the columns the page's `seat` selections need:
    /// kept here, with the partner, not in a cache other selections read.
    Joined(Option<Box<Territory>>),
}

impl From<partner::Model> for Partner {
    fn from(m: partner::Model) -> Self {
        Partner(m, Seat::ById)
    }
}

/// Each record type from its model (a partner's seat then comes by id).
macro_rules! from_model {
    ($($t:ident: $m:ident),*) => {$(
        impl From<$m::Model> for $t {
            fn from(m: $m::Model) -> Self {
                $t(m)
            }
        }
    )*};
}

from_model!(
    Territory: territory,
    Contact: contact,
    Network: network,
    Membership: membership,
    Action: action,
    Participation: action_partner,
    PartnerRelation: relation
);

node_connection!(PartnerConnection, PartnerEdge, Partner, "partner");

/// A partner: an organisation that works with the directorate (Mission
/// Locale, France Travail, CCAS — centre communal d'action sociale —, the
/// Département, State services, police and justice, schools, social
/// landlords, prevention clubs, associations…).
#[Object(serial)]
impl Partner {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(Kind::Partner, self.0.id)
    }
    /// The external id the partner has in bundles (e.g. `ptn-000024`).
    #[graphql(name = "ref")]
    async fn r#ref(&self) -> &str {
        &self.0.r#ref
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The type of structure.
    async fn kind(&self) -> PartnerKind {
        self.0.kind
    }
    /// The data·inclusion `typologie` code matching its kind, where one exists.
    async fn data_inclusion_typology(&self) -> Option<&'static str> {
        self.0.kind.data_inclusion_typology()
    }
    /// SIRET: the 14-digit French establishment id.
    async fn siret(&self) -> Option<&str> {
        self.0.siret.as_deref()
    }
    /// Public website.
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }
    /// The organisation's public e-mail address.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// The organisation's public phone number.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    /// Free text.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// When the record was created in maillage.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the record last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Optimistic-concurrency version, bumped on every change: pass it as
    /// `expectedVersion` when updating, so as never to overwrite someone
    /// else's change unknowingly.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// How many distinct partners it is linked to: sharing a network, a shared action or a declared relation (choose with `via`; all three by default). The partner graph's degree centrality.
    async fn degree(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Which links count.",
            default_with = "vec![LinkKind::Relation, LinkKind::Network, LinkKind::Action]"
        )]
        via: Vec<LinkKind>,
    ) -> Result<i64> {
        Ok(
            Box::pin(loaders(ctx).degree.load_one((self.0.id, super::stats::via(&via))))
                .await
                .map_err(internal)?
                .unwrap_or(0),
        )
    }
    /// The territory where it is based (its seat).
    async fn seat(&self, ctx: &Context<'_>) -> Result<Option<Territory>> {
        if let Seat::Joined(t) = &self.1 {
            return Ok(t.as_deref().cloned());
        }
        reference!(ctx, territory, self.0.territory_id, Territory)
    }
    /// The organisation it belongs to (a local agency's head office, a department's service's council).
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Partner>> {
        reference!(ctx, partner, self.0.parent_id, Partner::from)
    }
    /// Organisations that belong to it.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn children(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last items (of what `before`/`after` leave).")] last: Option<i32>,
        #[graphql(desc = "Stop before this cursor.")] before: Option<String>,
        #[graphql(desc = "Filters.")] filter: Option<Box<PartnerFilter>>,
        #[graphql(desc = "Sort keys, in order.")] order_by: Option<Vec<PartnerOrder>>,
    ) -> Result<PartnerConnection> {
        let cond = filter
            .as_ref()
            .map(|f| f.condition(ctx.data_unchecked::<Scope>()))
            .transpose()?
            .unwrap_or_else(Condition::all);
        let scope = scope(ctx);
        let g = nested_page(
            ctx,
            &loaders(ctx).partner_lists,
            self.0.id,
            "Partner.children",
            PartnerOrder::sorts(ctx, &order_by),
            slice(ctx, first, after, last, before)?,
            move |_| (rows_of(&scope, cond.clone()), col("partners", "parent_id")),
        )
        .await?;
        prefetch_partners(ctx, g.rows.iter()).await?;
        Ok(PartnerConnection::from_group(ctx, g, Partner::from))
    }
    /// The territories it declares serving.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn territories_served(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last items (of what `before`/`after` leave).")] last: Option<i32>,
        #[graphql(desc = "Stop before this cursor.")] before: Option<String>,
        #[graphql(desc = "Filters.")] filter: Option<Box<TerritoryFilter>>,
        #[graphql(desc = "Sort keys, in order.")] order_by: Option<Vec<TerritoryOrder>>,
    ) -> Result<TerritoryConnection> {
        let cond = filter
            .as_ref()
            .map(|f| f.condition(ctx.data_unchecked::<Scope>()))
            .transpose()?
            .unwrap_or_else(Condition::all);
        let scope = scope(ctx);
        let g = nested_page(
            ctx,
            &loaders(ctx).territory_lists,
            self.0.id,
            "Partner.territoriesServed",
            TerritoryOrder::sorts(ctx, &order_by),
            slice(ctx, first, after, last, before)?,
            move |ids| {
                (
                    scope.select::<territory::Entity>().filter(cond.clone()),
                    link_pairs(ids, "partner_territories", "partner_id", "territory_id"),
                )
            },
        )
        .await?;
        prefetch_territories(ctx, g.rows.iter()).await?;
        Ok(TerritoryConnection::from_group(ctx, g, Territory))
    }
    /// Its contact people (personal data).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn contacts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last items (of what `before`/`after` leave).")] last: Option<i32>,
        #[graphql(desc = "Stop before this cursor.")] before: Option<String>,
        #[graphql(desc = "Filters.")] filter: Option<Box<ContactFilter>>,
        #[graphql(desc = "Sort keys, in order.")] order_by: Option<Vec<ContactOrder>>,
    ) -> Result<ContactConnection> {
        let cond = filter
            .as_ref()
            .map(|f| f.condition(ctx.data_unchecked::<Scope>()))
            .transpose()?
            .unwrap_or_else(Condition::all);
        let scope = scope(ctx);
        let g = nested_page(
            ctx,
            &loaders(ctx).contact_lists,
            self.0.id,
            "Partner.contacts",
            ContactOrder::sorts(ctx, &order_by),
            slice(ctx, first, after, last, before)?,
            move |_| (rows_of(&scope, cond.clone()), col("contacts", "partner_id")),
        )
        .await?;
        prefetch_contacts(ctx, g.rows.iter()).await?;
        Ok(ContactConnection::from_group(ctx, g, Contact))
    }
    /// The networks and instances it sits in, with its role and dates there.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn networks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last items (of what `before`/`after` leave).")] last: Option<i32>,
        #[graphql(desc = "Stop before this cursor.")] before: Option<String>,
        #[graphql(desc = "Filters on the networks.")] filter: Option<Box<NetworkFilter>>,
        #[graphql(desc = "Filters on the memberships (role, dates).")] membership: Option<MembershipFilter>,
    ) -> Result<PartnerNetworkConnection> {
        let args = PartnerNetworksArgs {
            first,
            after,
            last,
            before,
            filter,
            membership,
        };
        let g = page_of(&loaders(ctx).partner_networks, self.0.id, args.query(ctx)?).await?;
        prefetch_networks(ctx, g.rows.iter().map(|(_, t)| t)).await?;
        Ok(link_page(ctx, g, |(m, n)| PartnerNetworkEdge {
            position: 0,
            node: Network(n),
            role: m.role,
            since: date(m.since),
            until: date(m.until),
            membership: Membership(m),
        }))
    }
    /// The shared actions it takes part in, with its role and contribution.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn actions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last items (of what `before`/`after` leave).")] last: Option<i32>,
        #[graphql(desc = "Stop before this cursor.")] before: Option<String>,
        #[graphql(desc = "Filters on the actions.")] filter: Option<Box<ActionFilter>>,
        #[graphql(desc = "Filters on the participations (role, contribution).")] participation: Option<
            ParticipationFilter,
        >,
    ) -> Result<PartnerActionConnection> {
        let args = PartnerActionsArgs {
            first,
            after,
            last,
            before,
            filter,
            participation,
        };
        let g = page_of(&loaders(ctx).partner_actions, self.0.id, args.query(ctx)?).await?;
        prefetch_actions(ctx, g.rows.iter().map(|(_, t)| t)).await?;
        Ok(link_page(ctx, g, |(m, a)| PartnerActionEdge {
            position: 0,
            node: Action(a),
            role: m.role,
            contribution: euros(m.contribution_cents),
            participation: Participation(m),
        }))
    }
    /// Its declared relations to other partners (conventions, funding, referrals…): this partner is `from`.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn relations_out(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last items (of what `before`/`after` leave).")] last: Option<i32>,
        #[graphql(desc = "Stop before this cursor.")] before: Option<String>,
        #[graphql(desc = "Filters on the other partner.")] filter: Option<Box<PartnerFilter>>,
        #[graphql(desc = "Filters on the relation (kind, dates, weight).")] relation: Option<Box<RelationFilter>>,
    ) -> Result<PartnerRelationConnection> {
        relations(
            ctx,
            self.0.id,
            true,
            slice(ctx, first, after, last, before)?,
            filter,
            relation,
        )
        .await
    }
    /// Relations other partners declared to this one: this partner is `to`.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn relations_in(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last items (of what `before`/`after` leave).")] last: Option<i32>,
        #[graphql(desc = "Stop before this cursor.")] before: Option<String>,
        #[graphql(desc = "Filters on the other partner.")] filter: Option<Box<PartnerFilter>>,
        #[graphql(desc = "Filters on the relation (kind, dates, weight).")] relation: Option<Box<RelationFilter>>,
    ) -> Result<PartnerRelationConnection> {
        relations(
            ctx,
            self.0.id,
            false,
            slice(ctx, first, after, last, before)?,
            filter,
            relation,
        )
        .await
    }
}

/// `col` points at a row of `E` that the scope may see and `cond` keeps.
/// With no filter and a scope that sees the whole table, that is no
/// condition at all (the foreign key guarantees the row): writing it out as
/// `IN (SELECT id FROM …)` made PostgreSQL hash the whole table, and SQLite
/// probe a link table's unique index once per target row (0.8 s for the
/// actions of 300 partners).
fn visible_ref<E: Scoped>(col: impl ColumnTrait, scope: &Scope, id: E::Column, cond: Option<Condition>) -> Condition {
    if cond.is_none() && E::sees_all(scope) {
        return Condition::all();
    }
    Condition::all().add(col.in_subquery(visible_ids::<E>(scope, id, cond)))
}

/// Ids of the rows of `E` the scope may see and `cond` keeps, as a subquery.
fn visible_ids<E: Scoped>(
    scope: &Scope,
    id: E::Column,
    cond: Option<Condition>,
) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::{QuerySelect, QueryTrait};
    let mut q = scope.select::<E>().select_only().column(id);
    if let Some(c) = cond {
        q = q.filter(c);
    }
    q.into_query()
}

/// Pairs `(k, id)` from a two-column link table.
fn link_pairs(ids: &[i64], table: &str, key: &str, value: &str) -> Parent {
    let t = Alias::new(table);
    Parent::Pairs(Box::new(
        Query::select()
            .distinct()
            .expr_as(Expr::col((t.clone(), Alias::new(key))), Alias::new("k"))
            .expr_as(Expr::col((t.clone(), Alias::new(value))), Alias::new("id"))
            .from(t.clone())
            .and_where(Expr::col((t, Alias::new(key))).is_in(ids.iter().copied()))
            .to_owned(),
    ))
}

async fn relations(
    ctx: &Context<'_>,
    partner: i64,
    out: bool,
    slice: Slice,
    filter: Option<Box<PartnerFilter>>,
    relation: Option<Box<RelationFilter>>,
) -> Result<PartnerRelationConnection> {
    use relation::Column as R;
    let target = filter
        .as_ref()
        .map(|f| f.condition(ctx.data_unchecked::<Scope>()))
        .transpose()?;
    let own = relation.as_ref().map(|m| m.condition()).unwrap_or_else(Condition::all);
    let s = scope(ctx);
    let (other, key_sql) = if out {
        (R::ToPartnerId, "from_partner_id")
    } else {
        (R::FromPartnerId, "to_partner_id")
    };
    let g = nested_page(
        ctx,
        if out {
            &loaders(ctx).relations_out
        } else {
            &loaders(ctx).relations_in
        },
        partner,
        "Partner.relations",
        vec![],
        slice,
        move |_| {
            let c = own.clone().add(visible_ref::<partner::Entity>(
                other,
                &s,
                partner::Column::Id,
                target.clone(),
            ));
            (rows_of(&s, c), col("relations", key_sql))
        },
    )
    .await?;
    prefetch_partners(ctx, g.rows.iter().map(|(_, t)| t)).await?;
    Ok(link_page(ctx, g, |(m, p)| PartnerRelationEdge {
        position: 0,
        node: Partner::from(p),
        kind: m.kind,
        since: date(m.since),
        until: date(m.until),
        weight: m.weight,
        relation: PartnerRelation(m),
    }))
}

// ---------------------------------------------------------------- contact

/// A contact person at a partner. Personal data (GDPR): who may read the
/// name, e-mail and phone is decided by the viewer's role.
#[derive(Clone)]
pub struct Contact(pub contact::Model);

node_connection!(ContactConnection, ContactEdge, Contact, "contact");

/// A contact person at a partner. Personal data (GDPR): who may read the
/// name, e-mail and phone is decided by the viewer's role.
#[Object(serial)]
impl Contact {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(Kind::Contact, self.0.id)
    }
    /// The external id the contact has in bundles.
    #[graphql(name = "ref")]
    async fn r#ref(&self) -> &str {
        &self.0.r#ref
    }
    /// Full name. Personal data: null for a viewer not granted contacts'
    /// details (an analyst key without them, see `viewer.seesContactDetails`).
    async fn full_name(&self, ctx: &Context<'_>) -> Option<&str> {
        personal(ctx, Some(&self.0.full_name))
    }
    /// Job title.
    async fn role_title(&self) -> Option<&str> {
        self.0.role_title.as_deref()
    }
    /// Professional e-mail address. Personal data: null unless the viewer is granted contacts' details.
    async fn email(&self, ctx: &Context<'_>) -> Option<&str> {
        personal(ctx, self.0.email.as_deref())
    }
    /// Professional phone number. Personal data: null unless the viewer is granted contacts' details.
    async fn phone(&self, ctx: &Context<'_>) -> Option<&str> {
        personal(ctx, self.0.phone.as_deref())
    }
    /// When the record was created in maillage.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the record last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Optimistic-concurrency version, bumped on every change: pass it as
    /// `expectedVersion` when updating, so as never to overwrite someone
    /// else's change unknowingly.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The partner this person works for.
    async fn partner(&self, ctx: &Context<'_>) -> Result<Option<Partner>> {
        reference!(ctx, partner, Some(self.0.partner_id), Partner::from)
    }
}

// ---------------------------------------------------------------- network

/// A network or instance where partners sit together: CISPD/CLSPD (conseil
/// intercommunal / local de sécurité et de prévention de la délinquance),
/// GLTD (groupe local de traitement de la délinquance, led by the
/// prosecutor), CDDF (conseil des droits et devoirs des familles), social
/// mediation, the contrat de ville (the town's urban-policy contract) and its
/// thematic groups, youth networks…
#[derive(Clone)]
pub struct Network(pub network::Model);

node_connection!(NetworkConnection, NetworkEdge, Network, "network");

/// A network or instance where partners sit together: CISPD/CLSPD (conseil
/// intercommunal / local de sécurité et de prévention de la délinquance),
/// GLTD (groupe local de traitement de la délinquance, led by the
/// prosecutor), CDDF (conseil des droits et devoirs des familles), social
/// mediation, the contrat de ville (the town's urban-policy contract) and its
/// thematic groups, youth networks…
#[Object(serial)]
impl Network {
    /// Who may read it: `PUBLIC`, `MEMBERS` (its members) or `INTERNAL` (the
    /// directorate). Without one set, the default of its kind: a GLTD's or a
    /// CDDF's work is internal, a CISPD's or CLSPD's is for its members.
    async fn visibility(&self) -> Visibility {
        self.0.visibility.unwrap_or(self.0.kind.default_visibility())
    }

    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(Kind::Network, self.0.id)
    }
    /// The external id the network has in bundles (e.g. `net-00002`).
    #[graphql(name = "ref")]
    async fn r#ref(&self) -> &str {
        &self.0.r#ref
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What kind of network or instance it is.
    async fn kind(&self) -> NetworkKind {
        self.0.kind
    }
    /// When it was set up.
    async fn started_on(&self) -> Option<Date> {
        date(self.0.started_on)
    }
    /// When it ended (none while it runs).
    async fn ended_on(&self) -> Option<Date> {
        date(self.0.ended_on)
    }
    /// Free text.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// When the record was created in maillage.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the record last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Optimistic-concurrency version, bumped on every change: pass it as
    /// `expectedVersion` when updating, so as never to overwrite someone
    /// else's change unknowingly.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The territory it covers.
    async fn territory(&self, ctx: &Context<'_>) -> Result<Option<Territory>> {
        reference!(ctx, territory, self.0.territory_id, Territory)
    }
    /// The network it is part of (a thematic group's contrat de ville).
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Network>> {
        reference!(ctx, network, self.0.parent_id, Network)
    }
    /// Its sub-networks (thematic groups, working groups).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn children(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last items (of what `before`/`after` leave).")] last: Option<i32>,
        #[graphql(desc = "Stop before this cursor.")] before: Option<String>,
        #[graphql(desc = "Filters.")] filter: Option<Box<NetworkFilter>>,
        #[graphql(desc = "Sort keys, in order.")] order_by: Option<Vec<NetworkOrder>>,
    ) -> Result<NetworkConnection> {
        let cond = filter
            .as_ref()
            .map(|f| f.condition(ctx.data_unchecked::<Scope>()))
            .transpose()?
            .unwrap_or_else(Condition::all);
        let scope = scope(ctx);
        let g = nested_page(
            ctx,
            &loaders(ctx).network_lists,
            self.0.id,
            "Network.children",
            NetworkOrder::sorts(ctx, &order_by),
            slice(ctx, first, after, last, before)?,
            move |_| (rows_of(&scope, cond.clone()), col("networks", "parent_id")),
        )
        .await?;
        prefetch_networks(ctx, g.rows.iter()).await?;
        Ok(NetworkConnection::from_group(ctx, g, Network))
    }
    /// The partners sitting in it, with their role and dates.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last items (of what `before`/`after` leave).")] last: Option<i32>,
        #[graphql(desc = "Stop before this cursor.")] before: Option<String>,
        #[graphql(desc = "Filters on the partners.")] filter: Option<Box<PartnerFilter>>,
        #[graphql(desc = "Filters on the memberships (role, dates).")] membership: Option<MembershipFilter>,
    ) -> Result<NetworkMemberConnection> {
        let args = NetworkMembersArgs {
            first,
            after,
            last,
            before,
            filter,
            membership,
        };
        let g = page_of(&loaders(ctx).network_members, self.0.id, args.query(ctx)?).await?;
        prefetch_partners(ctx, g.rows.iter().map(|(_, t)| t)).await?;
        Ok(link_page(ctx, g, |(m, p)| NetworkMemberEdge {
            position: 0,
            node: Partner::from(p),
            role: m.role,
            since: date(m.since),
            until: date(m.until),
            membership: Membership(m),
        }))
    }
    /// The shared actions run under it.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn actions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last items (of what `before`/`after` leave).")] last: Option<i32>,
        #[graphql(desc = "Stop before this cursor.")] before: Option<String>,
        #[graphql(desc = "Filters.")] filter: Option<Box<ActionFilter>>,
        #[graphql(desc = "Sort keys, in order.")] order_by: Option<Vec<ActionOrder>>,
    ) -> Result<ActionConnection> {
        let cond = filter
            .as_ref()
            .map(|f| f.condition(ctx.data_unchecked::<Scope>()))
            .transpose()?
            .unwrap_or_else(Condition::all);
        let scope = scope(ctx);
        let g = nested_page(
            ctx,
            &loaders(ctx).action_lists,
            self.0.id,
            "Network.actions",
            ActionOrder::sorts(ctx, &order_by),
            slice(ctx, first, after, last, before)?,
            move |_| (rows_of(&scope, cond.clone()), col("actions", "network_id")),
        )
        .await?;
        prefetch_actions(ctx, g.rows.iter()).await?;
        Ok(ActionConnection::from_group(ctx, g, Action))
    }
}

/// A partner's seat in a network, with its role and dates.
#[derive(Clone)]
pub struct Membership(pub membership::Model);

/// A partner's seat in a network, with its role and dates.
#[Object(serial)]
impl Membership {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(Kind::Membership, self.0.id)
    }
    /// The partner's role in the network.
    async fn role(&self) -> MembershipRole {
        self.0.role
    }
    /// Member since (unknown: none).
    async fn since(&self) -> Option<Date> {
        date(self.0.since)
    }
    /// Member until (none while it sits there).
    async fn until(&self) -> Option<Date> {
        date(self.0.until)
    }
    /// When the record was created in maillage.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the record last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Optimistic-concurrency version, bumped on every change: pass it as
    /// `expectedVersion` when updating, so as never to overwrite someone
    /// else's change unknowingly.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The member.
    async fn partner(&self, ctx: &Context<'_>) -> Result<Option<Partner>> {
        reference!(ctx, partner, Some(self.0.partner_id), Partner::from)
    }
    /// The network.
    async fn network(&self, ctx: &Context<'_>) -> Result<Option<Network>> {
        reference!(ctx, network, Some(self.0.network_id), Network)
    }
}

// ---------------------------------------------------------------- action

/// A shared action: a project several partners run together (a lead,
/// co-partners, funders), with a theme, a status, dates, a budget, its
/// beneficiaries and the territories it takes place in.
#[derive(Clone)]
pub struct Action(pub action::Model);

node_connection!(ActionConnection, ActionEdge, Action, "action");

/// A shared action: a project several partners run together (a lead,
/// co-partners, funders), with a theme, a status, dates, a budget, its
/// beneficiaries and the territories it takes place in.
#[Object(serial)]
impl Action {
    /// Who may read it: `PUBLIC`, `MEMBERS` (its participants) or `INTERNAL`
    /// (the directorate). Without one set, its network's, else public.
    async fn visibility(&self, ctx: &Context<'_>) -> Result<Visibility> {
        if let Some(v) = self.0.visibility {
            return Ok(v);
        }
        let Some(n) = self.0.network_id else {
            return Ok(Visibility::Public);
        };
        // A network the viewer cannot see, under an action it can, is one
        // for members (an internal one would hide the action too).
        Ok(Box::pin(loaders(ctx).network.load_one(n))
            .await
            .map_err(internal)?
            .map_or(Visibility::Members, |n| {
                n.visibility.unwrap_or(n.kind.default_visibility())
            }))
    }

    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(Kind::Action, self.0.id)
    }
    /// The external id the action has in bundles (e.g. `act-000001`).
    #[graphql(name = "ref")]
    async fn r#ref(&self) -> &str {
        &self.0.r#ref
    }
    /// Its title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// What it works on.
    async fn theme(&self) -> Theme {
        self.0.theme
    }
    /// Where it stands.
    async fn status(&self) -> ActionStatus {
        self.0.status
    }
    /// First day.
    async fn started_on(&self) -> Option<Date> {
        date(self.0.started_on)
    }
    /// Last day.
    async fn ended_on(&self) -> Option<Date> {
        date(self.0.ended_on)
    }
    /// Total budget in euros.
    async fn budget(&self) -> Option<f64> {
        euros(self.0.budget_cents)
    }
    /// Number of people it reached or plans to reach.
    async fn beneficiaries(&self) -> Option<i64> {
        self.0.beneficiaries
    }
    /// Free text.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// When the record was created in maillage.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the record last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Optimistic-concurrency version, bumped on every change: pass it as
    /// `expectedVersion` when updating, so as never to overwrite someone
    /// else's change unknowingly.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The network it is run under.
    async fn network(&self, ctx: &Context<'_>) -> Result<Option<Network>> {
        reference!(ctx, network, self.0.network_id, Network)
    }
    /// The partner that leads it (the participant with role `LEAD`), if any.
    async fn lead(&self, ctx: &Context<'_>) -> Result<Option<Partner>> {
        let s = scope(ctx);
        let g = nested_page(
            ctx,
            &loaders(ctx).participation_lists,
            self.0.id,
            "Action.lead",
            vec![],
            Slice {
                first: Some(1),
                ..Slice::default()
            },
            move |_| {
                (
                    rows_of(
                        &s,
                        Condition::all().add(action_partner::Column::Role.eq(ParticipationRole::Lead)),
                    ),
                    col("action_partners", "action_id"),
                )
            },
        )
        .await?;
        reference!(ctx, partner, g.rows.first().map(|p| p.partner_id), Partner::from)
    }
    /// The partners taking part, with their role and contribution.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn participants(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last items (of what `before`/`after` leave).")] last: Option<i32>,
        #[graphql(desc = "Stop before this cursor.")] before: Option<String>,
        #[graphql(desc = "Filters on the partners.")] filter: Option<Box<PartnerFilter>>,
        #[graphql(desc = "Filters on the participations (role, contribution).")] participation: Option<
            ParticipationFilter,
        >,
    ) -> Result<ActionParticipantConnection> {
        let target = filter
            .as_ref()
            .map(|f| f.condition(ctx.data_unchecked::<Scope>()))
            .transpose()?;
        let own = participation
            .as_ref()
            .map(|m| m.condition())
            .unwrap_or_else(Condition::all);
        let s = scope(ctx);
        let g = nested_page(
            ctx,
            &loaders(ctx).action_participants,
            self.0.id,
            "Action.participants",
            vec![],
            slice(ctx, first, after, last, before)?,
            move |_| {
                let c = own.clone().add(visible_ref::<partner::Entity>(
                    action_partner::Column::PartnerId,
                    &s,
                    partner::Column::Id,
                    target.clone(),
                ));
                (rows_of(&s, c), col("action_partners", "action_id"))
            },
        )
        .await?;
        prefetch_partners(ctx, g.rows.iter().map(|(_, t)| t)).await?;
        Ok(link_page(ctx, g, |(m, p)| ActionParticipantEdge {
            position: 0,
            node: Partner::from(p),
            role: m.role,
            contribution: euros(m.contribution_cents),
            participation: Participation(m),
        }))
    }
    /// The territories it takes place in.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn territories(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last items (of what `before`/`after` leave).")] last: Option<i32>,
        #[graphql(desc = "Stop before this cursor.")] before: Option<String>,
        #[graphql(desc = "Filters.")] filter: Option<Box<TerritoryFilter>>,
        #[graphql(desc = "Sort keys, in order.")] order_by: Option<Vec<TerritoryOrder>>,
    ) -> Result<TerritoryConnection> {
        let cond = filter
            .as_ref()
            .map(|f| f.condition(ctx.data_unchecked::<Scope>()))
            .transpose()?
            .unwrap_or_else(Condition::all);
        let scope = scope(ctx);
        let g = nested_page(
            ctx,
            &loaders(ctx).territory_lists,
            self.0.id,
            "Action.territories",
            TerritoryOrder::sorts(ctx, &order_by),
            slice(ctx, first, after, last, before)?,
            move |ids| {
                (
                    scope.select::<territory::Entity>().filter(cond.clone()),
                    link_pairs(ids, "action_territories", "action_id", "territory_id"),
                )
            },
        )
        .await?;
        prefetch_territories(ctx, g.rows.iter()).await?;
        Ok(TerritoryConnection::from_group(ctx, g, Territory))
    }
}

/// A partner's part in a shared action.
#[derive(Clone)]
pub struct Participation(pub action_partner::Model);

/// A partner's part in a shared action.
#[Object(serial)]
impl Participation {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(Kind::Participation, self.0.id)
    }
    /// The partner's role in the action (one `LEAD` at most per action).
    async fn role(&self) -> ParticipationRole {
        self.0.role
    }
    /// What the partner puts in, in euros.
    async fn contribution(&self) -> Option<f64> {
        euros(self.0.contribution_cents)
    }
    /// When the record was created in maillage.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the record last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Optimistic-concurrency version, bumped on every change: pass it as
    /// `expectedVersion` when updating, so as never to overwrite someone
    /// else's change unknowingly.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The partner.
    async fn partner(&self, ctx: &Context<'_>) -> Result<Option<Partner>> {
        reference!(ctx, partner, Some(self.0.partner_id), Partner::from)
    }
    /// The action.
    async fn action(&self, ctx: &Context<'_>) -> Result<Option<Action>> {
        reference!(ctx, action, Some(self.0.action_id), Action)
    }
}

/// A declared, directed relation between two partners (a convention, a
/// funding, referrals of people, coordination…).
#[derive(Clone)]
pub struct PartnerRelation(pub relation::Model);

/// A declared, directed relation between two partners (a convention, a
/// funding, referrals of people, coordination…).
#[Object(serial)]
impl PartnerRelation {
    /// Who may read it: `PUBLIC`, `MEMBERS` (the two partners) or `INTERNAL`
    /// (the directorate); members when none is set.
    async fn visibility(&self) -> Visibility {
        self.0.visibility.unwrap_or(RELATION_DEFAULT_VISIBILITY)
    }

    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(Kind::Relation, self.0.id)
    }
    /// What the relation is.
    async fn kind(&self) -> RelationKind {
        self.0.kind
    }
    /// Since (unknown: none).
    async fn since(&self) -> Option<Date> {
        date(self.0.since)
    }
    /// Until (none while it runs).
    async fn until(&self) -> Option<Date> {
        date(self.0.until)
    }
    /// Strength of the relation (1 by default; larger is stronger).
    async fn weight(&self) -> f64 {
        self.0.weight
    }
    /// Free text.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// When the record was created in maillage.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the record last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Optimistic-concurrency version, bumped on every change: pass it as
    /// `expectedVersion` when updating, so as never to overwrite someone
    /// else's change unknowingly.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The partner that declares the relation.
    async fn from(&self, ctx: &Context<'_>) -> Result<Option<Partner>> {
        reference!(ctx, partner, Some(self.0.from_partner_id), Partner::from)
    }
    /// The partner it is declared to.
    async fn to(&self, ctx: &Context<'_>) -> Result<Option<Partner>> {
        reference!(ctx, partner, Some(self.0.to_partner_id), Partner::from)
    }
}

// ---------------------------------------------------------------- prefetched pages

/// The arguments of a nested connection field over a link table that pages
/// of its parents prefetch ([`prefetch_pages`]): its resolver fills them
/// from its own parameters, a page from the query (`from_ctx`), and both
/// build the page request with `query`, so the two cannot disagree on what
/// it means.
macro_rules! link_page_args {
    (
        $name:ident, $field:literal,
        $filter:ident: $filter_ty:ty, $own:ident: $own_ty:ty,
        $l:ident -> $t:ident by $target:ident, keyed by $table:literal . $key:literal
    ) => {
        #[doc = concat!("The arguments of `", $field, "`.")]
        struct $name {
            first: Option<i32>,
            after: Option<String>,
            last: Option<i32>,
            before: Option<String>,
            $filter: Option<$filter_ty>,
            $own: Option<$own_ty>,
        }

        impl $name {
            /// The arguments of the field `ctx` resolves.
            fn from_ctx(ctx: &Context<'_>) -> Result<Self> {
                Ok($name {
                    first: arg(ctx, "first")?,
                    after: arg(ctx, "after")?,
                    last: arg(ctx, "last")?,
                    before: arg(ctx, "before")?,
                    $filter: arg(ctx, stringify!($filter))?,
                    $own: arg(ctx, stringify!($own))?,
                })
            }

            /// The page request, for the field `ctx` resolves (made once
            /// for all its parents: [`Loaders::memo`]).
            fn query(self, ctx: &Context<'_>) -> Result<Arc<NestedQuery<$l::Entity>>> {
                ctx.data_unchecked::<Loaders>()
                    .memo($field, ctx, || self.make(ctx))
            }

            fn make(self, ctx: &Context<'_>) -> Result<Arc<NestedQuery<$l::Entity>>> {
                let target = self
                    .$filter
                    .as_ref()
                    .map(|f| f.condition(ctx.data_unchecked::<Scope>()))
                    .transpose()?;
                let own = self
                    .$own
                    .as_ref()
                    .map(|m| m.condition())
                    .unwrap_or_else(Condition::all);
                let s = scope(ctx);
                let slice = slice(ctx, self.first, self.after, self.last, self.before)?;
                Ok(nested_query::<_, LinkLoader<$l::Entity, $t::Entity>>(
                    ctx,
                    $field,
                    vec![],
                    slice,
                    move |_| {
                        let c = own.clone().add(visible_ref::<$t::Entity>(
                            $l::Column::$target,
                            &s,
                            $t::Column::Id,
                            target.clone(),
                        ));
                        (rows_of(&s, c), col($table, $key))
                    },
                ))
            }
        }
    };
}

link_page_args!(
    PartnerActionsArgs, "Partner.actions",
    filter: Box<ActionFilter>, participation: ParticipationFilter,
    action_partner -> action by ActionId, keyed by "action_partners"."partner_id"
);
link_page_args!(
    PartnerNetworksArgs, "Partner.networks",
    filter: Box<NetworkFilter>, membership: MembershipFilter,
    membership -> network by NetworkId, keyed by "memberships"."partner_id"
);
link_page_args!(
    NetworkMembersArgs, "Network.members",
    filter: Box<PartnerFilter>, membership: MembershipFilter,
    membership -> partner by PartnerId, keyed by "memberships"."network_id"
);

/// The nested pages a page of partners' client selected on them.
pub async fn prefetch_partner_pages(ctx: &Context<'_>, ids: impl Iterator<Item = i64> + Clone) -> Result<()> {
    let l = loaders(ctx);
    prefetch_pages(ctx, &l.partner_actions, "actions", ids.clone(), |c| {
        PartnerActionsArgs::from_ctx(c)?.query(c)
    })
    .await?;
    prefetch_pages(ctx, &l.partner_networks, "networks", ids, |c| {
        PartnerNetworksArgs::from_ctx(c)?.query(c)
    })
    .await
}

/// The nested pages a page of networks' client selected on them.
pub async fn prefetch_network_pages(ctx: &Context<'_>, ids: impl Iterator<Item = i64>) -> Result<()> {
    prefetch_pages(ctx, &loaders(ctx).network_members, "members", ids, |c| {
        NetworkMembersArgs::from_ctx(c)?.query(c)
    })
    .await
}

// ---------------------------------------------------------------- edges with data

/// Builds a connection of edges that carry their link's data: `edges`,
/// `nodes` (the edges' nodes, in the same order) or both, as the client
/// selected (a list not selected is left empty, never shown). An edge whose
/// node the viewer may not see is left out.
fn link_page<M, E: LinkEdge>(ctx: &Context<'_>, g: Group<M>, mut edge: impl FnMut(M) -> E) -> E::Conn {
    let (want_nodes, want_edges) = wants_lists(ctx);
    let info = page_info(&g);
    let start = g.start;
    let total = g.total.unwrap_or(0);
    let mut edges: Vec<E> = if want_nodes || want_edges {
        g.rows
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                let mut e = edge(m);
                e.set_position(start + i as u64);
                e
            })
            .collect()
    } else {
        vec![]
    };
    let nodes = match (want_nodes, want_edges) {
        (true, false) => std::mem::take(&mut edges).into_iter().map(E::into_node).collect(),
        (true, true) => edges.iter().map(|e| e.node().clone()).collect(),
        _ => vec![],
    };
    E::conn(edges, nodes, info, total)
}

trait LinkEdge: Sized {
    type Node: Clone;
    type Conn;
    fn set_position(&mut self, p: u64);
    fn node(&self) -> &Self::Node;
    fn into_node(self) -> Self::Node;
    fn conn(edges: Vec<Self>, nodes: Vec<Self::Node>, page_info: PageInfo, total_count: u64) -> Self::Conn;
}

/// Declares the connection type of a link edge type `$edge` whose nodes
/// are `$node`s: `edges` (with the link's own data), `nodes` (the shortcut
/// for `edges { node }`, as on the entity connections), `pageInfo`,
/// `totalCount`.
macro_rules! link_connection {
    ($conn:ident, $edge:ident, $node:ty, $what:literal) => {
        #[doc = concat!("A page of ", $what, " (Relay cursor connection).")]
        #[derive(SimpleObject)]
        #[graphql(serial)]
        pub struct $conn {
            /// The items of the page, each with its cursor and the link's own data.
            pub edges: Vec<$edge>,
            /// The items of the page, without cursors nor the link's data (a shortcut for `edges { node }`).
            pub nodes: Vec<$node>,
            /// Where the page sits in the list.
            pub page_info: PageInfo,
            /// How many items the whole list holds (all pages).
            pub total_count: u64,
        }

        #[async_graphql::ComplexObject]
        impl $edge {
            /// Opaque cursor of this item, for `after`/`before`.
            async fn cursor(&self) -> String {
                cursor(self.position)
            }
        }

        impl LinkEdge for $edge {
            type Node = $node;
            type Conn = $conn;
            fn set_position(&mut self, p: u64) {
                self.position = p;
            }
            fn node(&self) -> &$node {
                &self.node
            }
            fn into_node(self) -> $node {
                self.node
            }
            fn conn(edges: Vec<Self>, nodes: Vec<$node>, page_info: PageInfo, total_count: u64) -> $conn {
                $conn {
                    edges,
                    nodes,
                    page_info,
                    total_count,
                }
            }
        }
    };
}

/// A network a partner sits in, with the membership's role and dates.
#[derive(SimpleObject)]
#[graphql(serial, complex)]
pub struct PartnerNetworkEdge {
    /// Position of the item in the list (its cursor, encoded when asked).
    #[graphql(skip)]
    pub position: u64,
    /// The network.
    pub node: Network,
    /// The partner's role there.
    pub role: MembershipRole,
    /// Member since.
    pub since: Option<Date>,
    /// Member until.
    pub until: Option<Date>,
    /// The membership record (to update or delete it).
    pub membership: Membership,
}
link_connection!(
    PartnerNetworkConnection,
    PartnerNetworkEdge,
    Network,
    "the networks a partner sits in"
);

/// A partner sitting in a network, with the membership's role and dates.
#[derive(SimpleObject)]
#[graphql(serial, complex)]
pub struct NetworkMemberEdge {
    /// Position of the item in the list (its cursor, encoded when asked).
    #[graphql(skip)]
    pub position: u64,
    /// The member.
    pub node: Partner,
    /// Its role in the network.
    pub role: MembershipRole,
    /// Member since.
    pub since: Option<Date>,
    /// Member until.
    pub until: Option<Date>,
    /// The membership record (to update or delete it).
    pub membership: Membership,
}
link_connection!(
    NetworkMemberConnection,
    NetworkMemberEdge,
    Partner,
    "the members of a network"
);

/// An action a partner takes part in, with its role and contribution.
#[derive(SimpleObject)]
#[graphql(serial, complex)]
pub struct PartnerActionEdge {
    /// Position of the item in the list (its cursor, encoded when asked).
    #[graphql(skip)]
    pub position: u64,
    /// The action.
    pub node: Action,
    /// The partner's role in it.
    pub role: ParticipationRole,
    /// The partner's contribution in euros.
    pub contribution: Option<f64>,
    /// The participation record (to update or delete it).
    pub participation: Participation,
}
link_connection!(
    PartnerActionConnection,
    PartnerActionEdge,
    Action,
    "the actions a partner takes part in"
);

/// A partner taking part in an action, with its role and contribution.
#[derive(SimpleObject)]
#[graphql(serial, complex)]
pub struct ActionParticipantEdge {
    /// Position of the item in the list (its cursor, encoded when asked).
    #[graphql(skip)]
    pub position: u64,
    /// The partner.
    pub node: Partner,
    /// Its role in the action.
    pub role: ParticipationRole,
    /// Its contribution in euros.
    pub contribution: Option<f64>,
    /// The participation record (to update or delete it).
    pub participation: Participation,
}
link_connection!(
    ActionParticipantConnection,
    ActionParticipantEdge,
    Partner,
    "the partners of an action"
);

/// The partner at the other end of a declared relation, with the relation's data.
#[derive(SimpleObject)]
#[graphql(serial, complex)]
pub struct PartnerRelationEdge {
    /// Position of the item in the list (its cursor, encoded when asked).
    #[graphql(skip)]
    pub position: u64,
    /// The partner at the other end.
    pub node: Partner,
    /// What the relation is.
    pub kind: RelationKind,
    /// Since.
    pub since: Option<Date>,
    /// Until.
    pub until: Option<Date>,
    /// Strength of the relation.
    pub weight: f64,
    /// The relation record (to update or delete it).
    pub relation: PartnerRelation,
}
link_connection!(
    PartnerRelationConnection,
    PartnerRelationEdge,
    Partner,
    "a partner's relations"
);
