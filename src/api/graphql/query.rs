//! Root query fields.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, ID, InputObject, Interface, Object, Result, SimpleObject};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Select};

use super::ApiConfig;
use super::error::{bad_input, internal};
use super::ids::{self, Kind, cursor, decode_cursor};
use super::loaders::Loaders;
use super::types::*;
use crate::model::text::search_key;
use crate::model::*;
use crate::storage::entity::*;
use crate::storage::read::{self, Page, Scope, Scoped};

/// Fields of every connection besides its edges.
#[derive(SimpleObject)]
pub struct ListInfo {
    /// How many items the whole list holds (all pages).
    total_count: u64,
}

type Conn<T> = Connection<String, T, ListInfo, EmptyFields>;

/// Any object with a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global id."))]
pub enum Node {
    Territory(Territory),
    Partner(Partner),
    Network(Network),
    Action(Action),
}

/// Filters on partners.
#[derive(InputObject, Default)]
pub struct PartnerFilter {
    /// Words the name contains, ignoring case and accents ("ecole" finds "École").
    search: Option<String>,
    /// Only partners of these kinds.
    kinds: Option<Vec<PartnerKind>>,
}

/// Filters on networks.
#[derive(InputObject, Default)]
pub struct NetworkFilter {
    /// Words the name contains, ignoring case and accents.
    search: Option<String>,
    /// Only networks of these kinds.
    kinds: Option<Vec<NetworkKind>>,
}

/// Filters on territories.
#[derive(InputObject, Default)]
pub struct TerritoryFilter {
    /// Words the name contains, ignoring case and accents.
    search: Option<String>,
    /// Only territories of these kinds.
    kinds: Option<Vec<TerritoryKind>>,
}

/// Filters on actions.
#[derive(InputObject, Default)]
pub struct ActionFilter {
    /// Words the title contains, ignoring case and accents.
    search: Option<String>,
    /// Only actions on these themes.
    themes: Option<Vec<Theme>>,
    /// Only actions with these statuses.
    statuses: Option<Vec<ActionStatus>>,
}

fn like(s: &str) -> Option<String> {
    // The key holds only letters, digits and single spaces: no LIKE
    // wildcard can come from the user.
    let k = search_key(s);
    (!k.is_empty()).then(|| format!("%{k}%"))
}

pub struct QueryRoot;

impl QueryRoot {
    async fn connection<E, T>(
        ctx: &Context<'_>,
        select: Select<E>,
        id: E::Column,
        first: Option<i32>,
        after: Option<String>,
        wrap: fn(E::Model) -> T,
        id_of: fn(&E::Model) -> i64,
    ) -> Result<Conn<T>>
    where
        E: EntityTrait,
        E::Model: Send + Sync,
        T: async_graphql::OutputType,
    {
        let cfg = ctx.data_unchecked::<ApiConfig>();
        let first = match first {
            None => cfg.default_page_size,
            Some(n) if n < 0 => return Err(bad_input("`first` must not be negative")),
            Some(n) if n as u64 > cfg.max_page_size => {
                return Err(bad_input(format!(
                    "`first` is {n}, more than the page size limit of {}",
                    cfg.max_page_size
                )));
            }
            Some(n) => n as u64,
        };
        let after = match after {
            Some(c) => Some(decode_cursor(&c).ok_or_else(|| bad_input(format!("`after`: {c:?} is not a cursor")))?),
            None => None,
        };
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let page = read::page(db, select, id, Page { first, after })
            .await
            .map_err(internal)?;
        let mut conn = Connection::with_additional_fields(
            after.is_some(),
            page.has_next,
            ListInfo {
                total_count: page.total,
            },
        );
        conn.edges
            .extend(page.rows.into_iter().map(|m| Edge::new(cursor(id_of(&m)), wrap(m))));
        Ok(conn)
    }
}

fn scope<'a>(ctx: &'a Context<'_>) -> &'a Scope {
    ctx.data_unchecked::<Scope>()
}

fn search<E: EntityTrait>(q: Select<E>, col: E::Column, s: &Option<String>) -> Select<E> {
    match s.as_deref().and_then(like) {
        Some(p) => q.filter(col.like(p)),
        None => q,
    }
}

fn any_of<E: EntityTrait, V: Into<sea_orm::Value> + Clone>(
    q: Select<E>,
    col: E::Column,
    v: &Option<Vec<V>>,
) -> Select<E> {
    match v {
        Some(v) => q.filter(col.is_in(v.iter().cloned())),
        None => q,
    }
}

fn scoped<E: Scoped>(ctx: &Context<'_>) -> Select<E> {
    scope(ctx).select::<E>()
}

#[Object]
impl QueryRoot {
    /// Fetches any object by its global id; null when there is none (or the viewer may not see it).
    async fn node(&self, ctx: &Context<'_>, #[graphql(desc = "A global id.")] id: ID) -> Result<Option<Node>> {
        let Some((kind, id)) = ids::decode(&id) else {
            return Ok(None);
        };
        let l = ctx.data_unchecked::<Loaders>();
        Ok(match kind {
            Kind::Territory => l
                .territory
                .load_one(id)
                .await
                .map_err(internal)?
                .map(|m| Node::Territory(Territory(m))),
            Kind::Partner => l
                .partner
                .load_one(id)
                .await
                .map_err(internal)?
                .map(|m| Node::Partner(Partner(m))),
            Kind::Network => l
                .network
                .load_one(id)
                .await
                .map_err(internal)?
                .map(|m| Node::Network(Network(m))),
            Kind::Action => l
                .action
                .load_one(id)
                .await
                .map_err(internal)?
                .map(|m| Node::Action(Action(m))),
        })
    }

    /// Partners, ordered by id.
    async fn partners(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Filters.")] filter: Option<PartnerFilter>,
        #[graphql(desc = "Page size (default and cap are server settings).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item to continue after.")] after: Option<String>,
    ) -> Result<Conn<Partner>> {
        let f = filter.unwrap_or_default();
        let q = search(scoped::<partner::Entity>(ctx), partner::Column::NameSearch, &f.search);
        let q = any_of(q, partner::Column::Kind, &f.kinds);
        Self::connection(ctx, q, partner::Column::Id, first, after, Partner, |m| m.id).await
    }

    /// Networks and instances, ordered by id.
    async fn networks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Filters.")] filter: Option<NetworkFilter>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item to continue after.")] after: Option<String>,
    ) -> Result<Conn<Network>> {
        let f = filter.unwrap_or_default();
        let q = search(scoped::<network::Entity>(ctx), network::Column::NameSearch, &f.search);
        let q = any_of(q, network::Column::Kind, &f.kinds);
        Self::connection(ctx, q, network::Column::Id, first, after, Network, |m| m.id).await
    }

    /// Territories, ordered by id.
    async fn territories(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Filters.")] filter: Option<TerritoryFilter>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item to continue after.")] after: Option<String>,
    ) -> Result<Conn<Territory>> {
        let f = filter.unwrap_or_default();
        let q = search(
            scoped::<territory::Entity>(ctx),
            territory::Column::NameSearch,
            &f.search,
        );
        let q = any_of(q, territory::Column::Kind, &f.kinds);
        Self::connection(ctx, q, territory::Column::Id, first, after, Territory, |m| m.id).await
    }

    /// Shared actions, ordered by id.
    async fn actions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Filters.")] filter: Option<ActionFilter>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item to continue after.")] after: Option<String>,
    ) -> Result<Conn<Action>> {
        let f = filter.unwrap_or_default();
        let q = search(scoped::<action::Entity>(ctx), action::Column::TitleSearch, &f.search);
        let q = any_of(q, action::Column::Theme, &f.themes);
        let q = any_of(q, action::Column::Status, &f.statuses);
        Self::connection(ctx, q, action::Column::Id, first, after, Action, |m| m.id).await
    }

    /// A partner by its external id (`ref`) or its SIRET.
    async fn partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "ref", desc = "External id.")] r#ref: Option<String>,
        #[graphql(desc = "SIRET (14 digits).")] siret: Option<String>,
    ) -> Result<Option<Partner>> {
        let q = match (r#ref, siret) {
            (Some(r), None) => scoped::<partner::Entity>(ctx).filter(partner::Column::Ref.eq(r)),
            (None, Some(s)) => scoped::<partner::Entity>(ctx).filter(partner::Column::Siret.eq(s)),
            _ => return Err(bad_input("give exactly one of `ref` and `siret`")),
        };
        one(ctx, q).await.map(|m| m.map(Partner))
    }

    /// A network by its external id.
    async fn network(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "ref", desc = "External id.")] r#ref: String,
    ) -> Result<Option<Network>> {
        one(
            ctx,
            scoped::<network::Entity>(ctx).filter(network::Column::Ref.eq(r#ref)),
        )
        .await
        .map(|m| m.map(Network))
    }

    /// A territory by its external id, or by its official code (INSEE, SIREN or QPV code) and optionally its kind.
    async fn territory(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "ref", desc = "External id.")] r#ref: Option<String>,
        #[graphql(desc = "Official code.")] code: Option<String>,
        #[graphql(desc = "Kind, to tell a department from a commune with the same code.")] kind: Option<TerritoryKind>,
    ) -> Result<Option<Territory>> {
        let mut q = match (r#ref, code) {
            (Some(r), None) => scoped::<territory::Entity>(ctx).filter(territory::Column::Ref.eq(r)),
            (None, Some(c)) => scoped::<territory::Entity>(ctx).filter(territory::Column::Code.eq(c)),
            _ => return Err(bad_input("give exactly one of `ref` and `code`")),
        };
        if let Some(k) = kind {
            q = q.filter(territory::Column::Kind.eq(k));
        }
        one(ctx, q).await.map(|m| m.map(Territory))
    }

    /// An action by its external id.
    async fn action(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "ref", desc = "External id.")] r#ref: String,
    ) -> Result<Option<Action>> {
        one(ctx, scoped::<action::Entity>(ctx).filter(action::Column::Ref.eq(r#ref)))
            .await
            .map(|m| m.map(Action))
    }
}

async fn one<E: EntityTrait>(ctx: &Context<'_>, q: Select<E>) -> Result<Option<E::Model>> {
    let db = ctx.data_unchecked::<DatabaseConnection>();
    let mut rows = q.limit(2).all(db).await.map_err(internal)?;
    if rows.len() > 1 {
        return Err(bad_input("more than one record matches: give `kind` too"));
    }
    Ok(rows.pop())
}
