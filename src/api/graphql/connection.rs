//! Relay cursor connections: page arguments, cursors, `PageInfo`, and the
//! connection types (one per node type and per kind of edge).
//!
//! A cursor is the opaque form of a position in the list's stable order
//! (see `storage::list`); the same arguments work on root and nested lists.

use async_graphql::{Context, Object, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

use super::ApiConfig;
use super::error::bad_input;
use crate::storage::list::{Group, Slice};

/// Where a page sits in its list (Relay `PageInfo`). Its cursors are
/// encoded when asked: a nested page per parent built two that nobody read.
#[derive(Clone, Copy, Debug)]
pub struct PageInfo {
    has_previous: bool,
    has_next: bool,
    /// Positions of the first and last items; `None` for an empty page.
    bounds: Option<(u64, u64)>,
}

/// Where a page sits in its list (Relay `PageInfo`).
#[Object]
impl PageInfo {
    /// Whether items come before this page.
    async fn has_previous_page(&self) -> bool {
        self.has_previous
    }
    /// Whether items come after this page.
    async fn has_next_page(&self) -> bool {
        self.has_next
    }
    /// Cursor of the first item of the page; null when the page is empty.
    async fn start_cursor(&self) -> Option<String> {
        self.bounds.map(|(s, _)| cursor(s))
    }
    /// Cursor of the last item of the page; null when the page is empty.
    async fn end_cursor(&self) -> Option<String> {
        self.bounds.map(|(_, e)| cursor(e))
    }
}

pub fn cursor(position: u64) -> String {
    super::ids::prefixed("o", itoa::Buffer::new().format(position))
}

fn decode_cursor(arg: &str, c: &str) -> Result<u64> {
    B64.decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("o:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| bad_input(format!("`{arg}`: {c:?} is not a cursor of this API")))
}

/// Turns `first/after/last/before` into a [`Slice`], refusing what exceeds
/// the page cap (never truncating silently). Without `first` or `last`, the
/// default page size applies.
pub fn slice(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<Slice> {
    let cfg = ctx.data_unchecked::<ApiConfig>();
    let size = |name: &str, n: Option<i32>| -> Result<Option<u64>> {
        match n {
            None => Ok(None),
            Some(n) if n < 0 => Err(bad_input(format!("`{name}` must not be negative"))),
            Some(n) if n as u64 > cfg.max_page_size => Err(bad_input(format!(
                "`{name}` is {n}, more than the page size limit of {}",
                cfg.max_page_size
            ))),
            Some(n) => Ok(Some(n as u64)),
        }
    };
    let mut first = size("first", first)?;
    let last = size("last", last)?;
    if first.is_none() && last.is_none() {
        first = Some(cfg.default_page_size);
    }
    Ok(Slice {
        after: after.map(|c| decode_cursor("after", &c)).transpose()?.unwrap_or(0),
        before: before.map(|c| decode_cursor("before", &c)).transpose()?,
        first,
        last,
        count: wants_total(ctx),
    })
}

/// The `PageInfo` of a page.
pub fn page_info<M>(g: &Group<M>) -> PageInfo {
    let n = g.rows.len() as u64;
    PageInfo {
        has_previous: g.has_previous,
        has_next: g.has_next,
        bounds: (n > 0).then(|| (g.start, g.start + n - 1)),
    }
}

/// Whether the client selected `totalCount` on this connection (a root
/// list only counts its rows when asked: counting a large table is the
/// dearest part of a page).
pub fn wants_total(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

/// Whether the client selected `nodes` and `edges` on this connection
/// (through fragments too; aliases do not matter).
pub fn wants_lists(ctx: &Context<'_>) -> (bool, bool) {
    let look = ctx.look_ahead();
    (look.field("nodes").exists(), look.field("edges").exists())
}

/// Declares a connection type over nodes of `$node`, with plain edges.
macro_rules! node_connection {
    ($conn:ident, $edge:ident, $node:ty, $what:literal) => {
        #[doc = concat!("An edge to one ", $what, ".")]
        #[derive(async_graphql::SimpleObject)]
        #[graphql(serial, complex)]
        pub struct $edge {
            /// Position of the item in the list (its cursor, encoded when asked).
            #[graphql(skip)]
            pub position: u64,
            #[doc = concat!("The ", $what, ".")]
            pub node: $node,
        }

        #[async_graphql::ComplexObject]
        impl $edge {
            /// Opaque cursor of this item, for `after`/`before`.
            async fn cursor(&self) -> String {
                $crate::api::graphql::connection::cursor(self.position)
            }
        }

        #[doc = concat!("A page of a list of ", $what, "s (Relay cursor connection).")]
        #[derive(async_graphql::SimpleObject)]
        #[graphql(serial)]
        pub struct $conn {
            /// The items of the page with their cursors.
            pub edges: Vec<$edge>,
            /// The items of the page, without cursors (a shortcut for `edges { node }`).
            pub nodes: Vec<$node>,
            /// Where the page sits in the list.
            pub page_info: $crate::api::graphql::connection::PageInfo,
            /// How many items the whole list holds (all pages).
            pub total_count: u64,
        }

        impl $conn {
            /// Builds a page from a storage group and its rows turned into
            /// nodes: `nodes`, `edges` or both, as the client selected (a
            /// list not selected is left empty, never shown; building both
            /// cloned every node).
            pub fn from_group<M>(
                ctx: &async_graphql::Context<'_>,
                g: $crate::storage::list::Group<M>,
                wrap: impl Fn(M) -> $node,
            ) -> Self {
                let (want_nodes, want_edges) = $crate::api::graphql::connection::wants_lists(ctx);
                let page_info = $crate::api::graphql::connection::page_info(&g);
                let start = g.start;
                let total_count = g.total.unwrap_or(0);
                let edge = |i: usize, node: $node| $edge {
                    position: start + i as u64,
                    node,
                };
                let (nodes, edges) = match (want_nodes, want_edges) {
                    (false, false) => (vec![], vec![]),
                    (true, false) => (g.rows.into_iter().map(wrap).collect(), vec![]),
                    (false, true) => (
                        vec![],
                        g.rows
                            .into_iter()
                            .map(wrap)
                            .enumerate()
                            .map(|(i, n)| edge(i, n))
                            .collect(),
                    ),
                    (true, true) => {
                        let nodes: Vec<$node> = g.rows.into_iter().map(wrap).collect();
                        let edges = nodes
                            .iter()
                            .enumerate()
                            .map(|(i, n)| edge(i, n.clone()))
                            .collect();
                        (nodes, edges)
                    }
                };
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
pub(crate) use node_connection;

/// What a connection field costs in the query-cost limit: its page size
/// (`first` or `last`, else the default page) times what each item selects,
/// plus the field itself. Saturating: a hostile page size cannot overflow.
pub fn page_cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let page = first.or(last).map_or(100, |n| n.max(1) as usize);
    page.saturating_mul(child_complexity).saturating_add(1)
}
