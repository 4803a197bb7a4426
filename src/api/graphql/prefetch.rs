//! Prefetching: what a page of nodes loads in one call for all its nodes
//! (their references, their nested pages), so that each node's field is
//! then a cache hit of the request's loaders.

use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::parser::types::{Field, FragmentDefinition, Selection, SelectionSet};
use async_graphql::{Context, Name, Positioned, Result};
use sea_orm::EntityTrait;

use super::error::internal;
use super::loaders::{ById, LoadError, NestedKey, NestedQuery};
use super::request::loaders;
use crate::storage::list::Group;
use crate::storage::read::{HasId, Scoped};

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
pub async fn prefetch_pages<E, V, L>(
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
pub fn node_fields<'a>(ctx: &Context<'a>, field: &str) -> Vec<&'a Positioned<Field>> {
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
pub fn arg<T: async_graphql::InputType>(ctx: &Context<'_>, name: &str) -> Result<T> {
    ctx.param_value::<T>(name, None)
        .map(|(_, v)| v)
        .map_err(|e| async_graphql::Error::new(e.message))
}

/// Loads in one call the records a page's rows point at through `field`,
/// when the client selected it (under `nodes` or `edges { node }`), so that
/// each row's reference is then a cache hit of the request's loaders.
/// Queued one by one (a key set, a channel and a wake-up per row), the
/// seats of a 50-partner page cost as much as the rest of the request.
pub async fn prefetch<E>(
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
