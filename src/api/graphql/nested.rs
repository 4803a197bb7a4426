//! Nested pages (one parent's page of a nested connection, batched with
//! its siblings') and object references, shared by every node type.

use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::{Context, Result};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, Select};

use super::columns::{self, NodeColumns};
use super::connection::slice;
use super::error::internal;
use super::filters::{ListFilter, ListOrder, arguments};
use super::loaders::{LoadError, Loaders, NestedKey, NestedLoader, NestedQuery, Pages};
use super::request::{loaders, scope};
use crate::storage::decode::Positional;
use crate::storage::list::{Group, Parent, Slice, Sort, empty_group};
use crate::storage::read::{Scope, Scoped};

/// `"table"."column"`, for a parent key.
pub fn col(table: &str, column: &str) -> Parent {
    Parent::Column(format!("\"{table}\".\"{column}\""))
}

/// Rows of `E` visible to `scope` that `cond` keeps; for a list keyed by a
/// column ([`col`]), `storage::list::nested` keeps the wanted parents' rows.
pub fn rows_of<E: Scoped>(scope: &Scope, cond: Condition) -> Select<E> {
    scope.select::<E>().filter(cond)
}

/// One parent's page of a nested list, batched with its siblings'.
/// `loader` is a `NestedLoader` (pages of `E`'s rows) or a `LinkLoader`
/// (pages of links with their targets).
pub async fn nested_page<E, V, L>(
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
pub fn nested_query<E, L>(
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
            projection: columns::of_page::<L::Node>(ctx, crate::api::graphql::request::narrows(ctx)),
            links: L::links(ctx),
        }))
    });
    query
}

/// One parent's page of `query`: a cache hit when the page that holds the
/// parent prefetched it, else batched with its siblings'.
pub async fn page_of<E, V, L>(
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

/// `col` points at a row of `E` that the scope may see and `cond` keeps.
/// With no filter and a scope that sees the whole table, that is no
/// condition at all (the foreign key guarantees the row): writing it out as
/// `IN (SELECT id FROM …)` made PostgreSQL hash the whole table, and SQLite
/// probe a link table's unique index once per target row (0.8 s for the
/// actions of 300 partners).
pub fn visible_ref<E: Scoped>(
    col: impl ColumnTrait,
    scope: &Scope,
    id: E::Column,
    cond: Option<Condition>,
) -> Condition {
    if cond.is_none() && E::sees_all(scope) {
        return Condition::all();
    }
    Condition::all().add(col.in_subquery(visible_ids::<E>(scope, id, cond)))
}

/// Ids of the rows of `E` the scope may see and `cond` keeps, as a subquery.
pub fn visible_ids<E: Scoped>(
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
pub fn link_pairs(ids: &[i64], table: &str, key: &str, value: &str) -> Parent {
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

pub(crate) use reference;

/// A node type that nested connections list, and what every such list of
/// it does alike: its filter and order arguments, its loader of pages, the
/// references a page of it prefetches, its connection type.
pub trait Listed {
    type Entity: Scoped
        + NodeColumns
        + EntityTrait<Model: Clone + Send + Sync + Positional + 'static>
        + Send
        + Sync
        + 'static;
    type Filter: ListFilter;
    type Order: ListOrder;
    type Conn;
    /// The request's loader of pages of these nodes.
    fn lists(l: &Loaders) -> &DataLoader<NestedLoader<Self::Entity>, HashMapCache>;
    /// What a page of these nodes loads for all of them at once.
    fn prefetch<'a>(
        ctx: &'a Context<'_>,
        rows: &'a [<Self::Entity as EntityTrait>::Model],
    ) -> impl Future<Output = Result<()>> + Send + 'a;
    /// The connection of a page.
    fn connection(ctx: &Context<'_>, g: Group<<Self::Entity as EntityTrait>::Model>) -> Self::Conn;
}

/// Implements [`Listed`] for node types, each with its table, filter,
/// order, connection, loader of pages and prefetch.
macro_rules! listed {
    ($($node:ident: $e:ident, $filter:ident, $order:ident, $conn:ident, $lists:ident, $prefetch:ident;)*) => {$(
        impl $crate::api::graphql::nested::Listed for $node {
            type Entity = $e::Entity;
            type Filter = $filter;
            type Order = $order;
            type Conn = $conn;
            fn lists(
                l: &$crate::api::graphql::loaders::Loaders,
            ) -> &async_graphql::dataloader::DataLoader<
                $crate::api::graphql::loaders::NestedLoader<$e::Entity>,
                async_graphql::dataloader::HashMapCache,
            > {
                &l.$lists
            }
            fn prefetch<'a>(
                ctx: &'a async_graphql::Context<'_>,
                rows: &'a [$e::Model],
            ) -> impl std::future::Future<Output = async_graphql::Result<()>> + Send + 'a {
                $prefetch(ctx, rows.iter())
            }
            fn connection(ctx: &async_graphql::Context<'_>, g: $crate::storage::list::Group<$e::Model>) -> $conn {
                $conn::from_group(ctx, g, $node::from)
            }
        }
    )*};
}

pub(crate) use listed;

/// One parent's page of a nested connection of `N`s, from the arguments
/// every such field takes (`first`, `after`, `last`, `before`, `filter`,
/// `orderBy`): the rows of `N` the scope may see and the filter keeps,
/// keyed to their parents by `parent` (a column of `N`'s table, [`col`], or
/// pairs from another table), with what the page prefetches.
pub async fn node_page<N: Listed>(
    ctx: &Context<'_>,
    id: i64,
    field: &'static str,
    (first, after, last, before): (Option<i32>, Option<String>, Option<i32>, Option<String>),
    filter: Option<Box<N::Filter>>,
    order_by: Option<Vec<N::Order>>,
    parent: impl Fn(&[i64]) -> Parent + Send + Sync + 'static,
) -> Result<N::Conn> {
    let (cond, sort) = arguments(ctx, filter.as_deref(), &order_by)?;
    let cond = cond.unwrap_or_else(Condition::all);
    let scope = scope(ctx);
    let g = nested_page(
        ctx,
        N::lists(loaders(ctx)),
        id,
        field,
        sort,
        slice(ctx, first, after, last, before)?,
        move |ids| (rows_of::<N::Entity>(&scope, cond.clone()), parent(ids)),
    )
    .await?;
    N::prefetch(ctx, &g.rows).await?;
    Ok(N::connection(ctx, g))
}

/// The nested connections of a node type over plain rows (`node_page`):
/// one object per type, `$pages(id)`, that the node type flattens into its
/// own fields (`#[graphql(flatten)]`; it is no type of the schema). Each
/// field takes the page arguments, a filter and an order of its node type,
/// optionally a boolean (`includeDescendants`), and says where its rows'
/// parents come from.
macro_rules! node_pages {
    ($pages:ident {$(
        $(#[doc = $doc:literal])*
        $field:ident $name:literal -> $conn:ident of $node:ident: $filter:ident, $order:ident
        $(, $extra:ident: bool = $edesc:literal)? => $parent:expr;
    )*}) => {
        /// The nested pages of one record (its id), flattened into its node type.
        #[derive(Clone, Copy)]
        pub struct $pages(pub i64);

        #[async_graphql::Object(serial)]
        impl $pages {$(
            $(#[doc = $doc])*
            #[graphql(complexity = "crate::api::graphql::connection::page_cost(first, last, child_complexity)")]
            #[allow(clippy::too_many_arguments)]
            async fn $field(
                &self,
                ctx: &async_graphql::Context<'_>,
                #[graphql(desc = "Page size.")] first: Option<i32>,
                #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
                #[graphql(desc = "The last items (of what `before`/`after` leave).")] last: Option<i32>,
                #[graphql(desc = "Stop before this cursor.")] before: Option<String>,
                #[graphql(desc = "Filters.")] filter: Option<Box<$filter>>,
                #[graphql(desc = "Sort keys, in order.")] order_by: Option<Vec<$order>>,
                $(#[graphql(desc = $edesc, default = true)] $extra: bool,)?
            ) -> async_graphql::Result<$conn> {
                $crate::api::graphql::nested::node_page::<$node>(
                    ctx,
                    self.0,
                    $name,
                    (first, after, last, before),
                    filter,
                    order_by,
                    $parent,
                )
                .await
            }
        )*}
    };
}

pub(crate) use node_pages;
