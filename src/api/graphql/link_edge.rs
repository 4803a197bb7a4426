//! Connections of edges that carry their link's data (a membership, a
//! participation, a relation), and the arguments of those that pages of
//! their parents prefetch.

use async_graphql::Context;

use super::connection::{PageInfo, page_info, wants_lists};
use crate::storage::list::Group;

// ---------------------------------------------------------------- edges with data

/// Builds a connection of edges that carry their link's data: `edges`,
/// `nodes` (the edges' nodes, in the same order) or both, as the client
/// selected (a list not selected is left empty, never shown). An edge whose
/// node the viewer may not see is left out.
pub fn link_page<M, E: LinkEdge>(ctx: &Context<'_>, g: Group<M>, mut edge: impl FnMut(M) -> E) -> E::Conn {
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

pub trait LinkEdge: Sized {
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
                    .map(|f| f.condition(&Reading::of(ctx)))
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

pub(crate) use link_connection;
pub(crate) use link_page_args;
