//! What every resolver reads from the request: its loaders and its scope.

use async_graphql::Context;

use super::loaders::Loaders;
use crate::storage::read::Scope;

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

pub fn scope(ctx: &Context<'_>) -> Scope {
    ctx.data_unchecked::<Scope>().clone()
}

/// Whether the request's pages read only the columns their selection needs
/// (`columns`): a query's loaders (`Loaders::caching`), not a mutation's.
pub fn narrows(ctx: &Context<'_>) -> bool {
    ctx.data_unchecked::<Loaders>().caching
}
