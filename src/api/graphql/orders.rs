//! Orderings of the connections: an input per record type, turned into
//! sort keys in SQL (never applied in memory), and `RELEVANCE`, ranked
//! against the filter's `search`.

use async_graphql::{Context, Enum, InputObject, Result};
use sea_orm::ColumnTrait;

use super::error::bad_input;
use super::filters::sees_personal;
use crate::storage::entity::*;
use crate::storage::list::Sort;
use crate::storage::search;

/// A list's order: its sort keys, for the viewer of `ctx`.
pub trait ListOrder: Sized {
    fn sorts(ctx: &Context<'_>, orders: &Option<Vec<Self>>, search: Option<&str>) -> Result<Vec<Sort>>;
    /// Whether rows in this order are found by walking an index of the
    /// table that the search does not restrict: creation order, or the
    /// search key's own (`NAME`, `TITLE`) first.
    fn walks(orders: &Option<Vec<Self>>) -> bool;
}

/// Sort direction.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
pub enum OrderDirection {
    /// Smallest first (A to Z, oldest first).
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

/// Declares an ordering input over fields that map to SQL expressions, and
/// `RELEVANCE`, ranked against the filter's `search` over the search key
/// column `$key` (see `storage::search::by_relevance`); the fields in
/// `[…]` after it sort by that key (what [`ListOrder::walks`] follows).
/// Fields listed as `personal` (a contact's name) sort only for a viewer who
/// may read them: for any other, the key is dropped (ties then fall to
/// creation order), so an order never tells what a hidden value is.
macro_rules! ordering {
    ($order:ident, $field:ident, $what:literal, $key:expr => [$($walk:ident),*], { $($(#[doc = $doc:literal])* $variant:ident => ($sql:literal, $nullable:literal)),* $(,)? } $(, personal: [$($personal:ident),*])?) => {
        #[doc = concat!("A field ", $what, " can be sorted by.")]
        #[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $field {
            $($(#[doc = $doc])* $variant,)*
            /// How well the name (an action's title) matches the filter's
            /// `search`, case and accents ignored: first the names that are
            /// the search itself, then those that start with it, then the
            /// other matches; each group by name, A to Z (`DESC` reverses
            /// the groups only). Refused without a `search` in the filter
            /// (the filter's own, not one inside `and`, `or` or `not`).
            Relevance,
        }

        #[doc = concat!("One sort key of ", $what, ". Ties are always broken by creation order, so pages are stable.")]
        #[derive(InputObject, Debug, Clone, Copy)]
        pub struct $order {
            /// The field.
            pub field: $field,
            /// The direction (default ascending).
            #[graphql(default)]
            pub direction: OrderDirection,
        }

        impl ListOrder for $order {
            /// The sort keys of `orders`, for the viewer of `ctx`, with
            /// `search` the filter's (what `RELEVANCE` ranks against).
            fn sorts(ctx: &Context<'_>, orders: &Option<Vec<$order>>, search: Option<&str>) -> Result<Vec<Sort>> {
                let personal: &[$field] = &[$($($field::$personal),*)?];
                let hidden = !personal.is_empty() && !sees_personal(ctx);
                let mut sorts = vec![];
                for o in orders.iter().flatten().filter(|o| !(hidden && personal.contains(&o.field))) {
                    let desc = o.direction == OrderDirection::Desc;
                    match o.field {
                        $($field::$variant => sorts.push(Sort::column($sql, desc, $nullable)),)*
                        $field::Relevance => sorts.extend(relevance($key, search, desc)?),
                    }
                }
                Ok(sorts)
            }

            fn walks(orders: &Option<Vec<$order>>) -> bool {
                orders.iter().flatten().next().is_none_or(|o| [$($field::$walk),*].contains(&o.field))
            }
        }
    };
}

/// The sort keys of `RELEVANCE` over the search key `key`.
fn relevance<C: ColumnTrait>(key: C, search: Option<&str>, desc: bool) -> Result<[Sort; 2]> {
    let s = search.ok_or_else(|| {
        bad_input("`orderBy: RELEVANCE` ranks by the filter's `search`: give one (`filter: { search: \"…\" }`)")
    })?;
    Ok(search::by_relevance(key, s, desc))
}

ordering!(PartnerOrder, PartnerOrderField, "partners", partner::Column::NameSearch => [Name], {
    /// Name, ignoring case and accents.
    Name => ("\"partners\".\"name_search\"", false),
    /// Kind code.
    Kind => ("\"partners\".\"kind\"", false),
    /// Last change.
    UpdatedAt => ("\"partners\".\"updated_at\"", false),
});

ordering!(NetworkOrder, NetworkOrderField, "networks", network::Column::NameSearch => [Name], {
    /// Name, ignoring case and accents.
    Name => ("\"networks\".\"name_search\"", false),
    /// Kind code.
    Kind => ("\"networks\".\"kind\"", false),
    /// Start date (unknown last).
    StartedOn => ("\"networks\".\"started_on\"", true),
    /// Last change.
    UpdatedAt => ("\"networks\".\"updated_at\"", false),
});

ordering!(TerritoryOrder, TerritoryOrderField, "territories", territory::Column::NameSearch => [Name], {
    /// Name, ignoring case and accents.
    Name => ("\"territories\".\"name_search\"", false),
    /// Official code.
    Code => ("\"territories\".\"code\"", true),
    /// Population (unknown last).
    Population => ("\"territories\".\"population\"", true),
});

ordering!(ActionOrder, ActionOrderField, "actions", action::Column::TitleSearch => [Title], {
    /// Title, ignoring case and accents.
    Title => ("\"actions\".\"title_search\"", false),
    /// Theme code.
    Theme => ("\"actions\".\"theme\"", false),
    /// Status code.
    Status => ("\"actions\".\"status\"", false),
    /// Start date (unknown last).
    StartedOn => ("\"actions\".\"started_on\"", true),
    /// End date (unknown last).
    EndedOn => ("\"actions\".\"ended_on\"", true),
    /// Budget (unknown last).
    Budget => ("\"actions\".\"budget_cents\"", true),
    /// Beneficiaries (unknown last).
    Beneficiaries => ("\"actions\".\"beneficiaries\"", true),
    /// Last change.
    UpdatedAt => ("\"actions\".\"updated_at\"", false),
});

ordering!(ContactOrder, ContactOrderField, "contacts", contact::Column::NameSearch => [], {
    /// Full name; ignored for a viewer who may not read names (creation order then).
    Name => ("\"contacts\".\"full_name\"", false),
}, personal: [Name]);
