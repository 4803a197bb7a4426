//! Root query fields: `node`/`nodes`, one connection per record type, and
//! lookups by external id, SIRET and territory code.

use async_graphql::{Context, ID, Interface, MergedObject, Object, Result};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Select};

use super::connection::{page_cost, slice};
use super::error::{bad_input, internal};
use super::filters::*;
use super::ids::{self, Kind};
use super::request::{loaders, narrows};
use super::stats::StatsQuery;
use super::types::*;
use crate::model::*;
use crate::storage::entity::*;
use crate::storage::list::{self, Group, Slice, Sort};
use crate::storage::read::Scoped;

/// Any object with a global id (Relay `Node`).
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global id."))]
pub enum Node {
    Territory(Territory),
    Partner(Partner),
    Contact(Contact),
    Network(Network),
    Membership(Membership),
    Action(Action),
    Participation(Participation),
    PartnerRelation(PartnerRelation),
}

/// The root of every query: records and lookups, and analysts' aggregates.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    RecordQuery,
    ListQuery,
    LookupQuery,
    StatsQuery,
    super::viewer::ViewerQuery,
    super::audit::AuditQuery,
    super::graph::GraphQuery,
);

/// Root fields over the records: by global id, and the partners' list.
#[derive(Default)]
pub struct RecordQuery;

fn scoped<E: Scoped>(ctx: &Context<'_>) -> Select<E> {
    ctx.data_unchecked::<crate::storage::Scope>().select::<E>()
}

fn db<'a>(ctx: &'a Context<'_>) -> &'a DatabaseConnection {
    ctx.data_unchecked::<DatabaseConnection>()
}

/// The rows of `E` the viewer sees that `cond` keeps.
fn filtered<E: Scoped>(ctx: &Context<'_>, cond: Option<Condition>) -> Select<E> {
    let q = scoped::<E>(ctx);
    match cond {
        Some(c) => q.filter(c),
        None => q,
    }
}

/// One page of a root list, filtered and sorted in SQL.
async fn root<E>(ctx: &Context<'_>, cond: Option<Condition>, sort: Vec<Sort>, slice: Slice) -> Result<Group<E::Model>>
where
    E: Scoped + super::columns::NodeColumns,
    E::Model: crate::storage::decode::Positional + Send + Sync,
{
    let projection = super::columns::of_page::<E>(ctx, narrows(ctx));
    list::root(db(ctx), filtered::<E>(ctx, cond), &sort, slice, projection)
        .await
        .map_err(internal)
}

async fn node(ctx: &Context<'_>, id: &ID) -> Result<Option<Node>> {
    let Some((kind, id)) = ids::decode(id) else {
        return Ok(None);
    };
    let l = loaders(ctx);
    macro_rules! load {
        ($loader:ident, $v:ident) => {
            l.$loader
                .load_one(id)
                .await
                .map_err(internal)?
                .map(|m| Node::$v($v::from(m)))
        };
    }
    Ok(match kind {
        Kind::Territory => load!(territory, Territory),
        Kind::Partner => load!(partner, Partner),
        Kind::Contact => load!(contact, Contact),
        Kind::Network => load!(network, Network),
        Kind::Membership => load!(membership, Membership),
        Kind::Action => load!(action, Action),
        Kind::Participation => load!(participation, Participation),
        Kind::Relation => load!(relation, PartnerRelation),
    })
}

#[Object]
impl RecordQuery {
    /// Fetches any object by its global id; null when there is none (or the viewer may not see it).
    async fn node(&self, ctx: &Context<'_>, #[graphql(desc = "A global id.")] id: ID) -> Result<Option<Node>> {
        node(ctx, &id).await
    }

    /// Fetches objects by their global ids, in the same order; null where there is none. At most 100 ids.
    #[graphql(complexity = "ids.len().saturating_mul(child_complexity).saturating_add(1)")]
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ids.")] ids: Vec<ID>,
    ) -> Result<Vec<Option<Node>>> {
        if ids.len() > 100 {
            return Err(bad_input(format!("`ids` holds {} ids, more than 100", ids.len())));
        }
        // Concurrently, so the loaders batch them into one statement per type.
        async_graphql::futures_util::future::try_join_all(ids.iter().map(|id| node(ctx, id))).await
    }

    /// Partners. Without `orderBy`, in creation order.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn partners(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default and cap are server settings).")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last items (of what `before`/`after` leave).")] last: Option<i32>,
        #[graphql(desc = "Stop before this cursor.")] before: Option<String>,
        #[graphql(desc = "Filters.")] filter: Option<PartnerFilter>,
        #[graphql(desc = "Sort keys, in order.")] order_by: Option<Vec<PartnerOrder>>,
    ) -> Result<PartnerConnection> {
        let (cond, sort) = root_arguments(ctx, filter.as_ref(), &order_by).await?;
        let slice = slice(ctx, first, after, last, before)?;
        if !(super::prefetch::selects(ctx, "seat") && territory::Entity::sees_all(ctx.data_unchecked())) {
            let g = root::<partner::Entity>(ctx, cond, sort, slice).await?;
            super::types::prefetch_partners(ctx, g.rows.iter()).await?;
            return Ok(PartnerConnection::from_group(ctx, g, Partner::from));
        }
        // The seats come in the page's statement, with the columns the
        // page's `seat` selections need, and stay with their partners.
        let g = list::root_joined::<partner::Entity, territory::Entity, _>(
            db(ctx),
            filtered(ctx, cond),
            partner::Column::TerritoryId,
            &sort,
            slice,
            super::columns::of_page::<partner::Entity>(ctx, narrows(ctx)),
            super::columns::of_reference::<territory::Entity>(ctx, "seat", narrows(ctx)),
        )
        .await
        .map_err(internal)?;
        super::types::prefetch_partner_parents(ctx, g.rows.iter().map(|(p, _)| p)).await?;
        super::types::prefetch_partner_pages(ctx, g.rows.iter().map(|(p, _)| p.id)).await?;
        Ok(PartnerConnection::from_group(ctx, g, |(p, seat)| {
            Partner(p, Seat::Joined(seat.map(|t| Box::new(Territory(t)))))
        }))
    }
}

/// The root lists of the record types but partners (whose page may bring
/// its seats in its own statement): each filtered and sorted in SQL, its
/// references and nested pages prefetched for the whole page.
macro_rules! root_lists {
    ($($(#[doc = $doc:literal])* $field:ident: $entity:ident, $filter:ident, $order:ident -> $conn:ident of $node:ident, $prefetch:ident;)*) => {
        /// Root lists of networks, territories, actions and contacts.
        #[derive(Default)]
        pub struct ListQuery;

        #[Object]
        impl ListQuery {$(
            $(#[doc = $doc])*
            #[graphql(complexity = "page_cost(first, last, child_complexity)")]
            #[allow(clippy::too_many_arguments)]
            async fn $field(
                &self,
                ctx: &Context<'_>,
                #[graphql(desc = "Page size (default and cap are server settings).")] first: Option<i32>,
                #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
                #[graphql(desc = "The last items (of what `before`/`after` leave).")] last: Option<i32>,
                #[graphql(desc = "Stop before this cursor.")] before: Option<String>,
                #[graphql(desc = "Filters.")] filter: Option<$filter>,
                #[graphql(desc = "Sort keys, in order.")] order_by: Option<Vec<$order>>,
            ) -> Result<$conn> {
                let (cond, sort) = root_arguments(ctx, filter.as_ref(), &order_by).await?;
                let g = root::<$entity::Entity>(ctx, cond, sort, slice(ctx, first, after, last, before)?).await?;
                super::types::$prefetch(ctx, g.rows.iter()).await?;
                Ok($conn::from_group(ctx, g, $node))
            }
        )*}
    };
}

root_lists! {
    /// Networks and instances. Without `orderBy`, in creation order.
    networks: network, NetworkFilter, NetworkOrder -> NetworkConnection of Network, prefetch_networks;
    /// Territories. Without `orderBy`, in creation order (regions first in the demo data).
    territories: territory, TerritoryFilter, TerritoryOrder -> TerritoryConnection of Territory, prefetch_territories;
    /// Shared actions. Without `orderBy`, in creation order.
    actions: action, ActionFilter, ActionOrder -> ActionConnection of Action, prefetch_actions;
    /// Contact people of partners (personal data). Without `orderBy`, in creation order.
    contacts: contact, ContactFilter, ContactOrder -> ContactConnection of Contact, prefetch_contacts;
}

/// Root lookups of one record by its external id or an official code.
#[derive(Default)]
pub struct LookupQuery;

#[Object]
impl LookupQuery {
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
        one(ctx, q).await.map(|m| m.map(Partner::from))
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

    /// A contact by its external id.
    async fn contact(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "ref", desc = "External id.")] r#ref: String,
    ) -> Result<Option<Contact>> {
        one(
            ctx,
            scoped::<contact::Entity>(ctx).filter(contact::Column::Ref.eq(r#ref)),
        )
        .await
        .map(|m| m.map(Contact))
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
    let mut rows = q.limit(2).all(db(ctx)).await.map_err(internal)?;
    if rows.len() > 1 {
        return Err(bad_input("more than one record matches: give `kind` too"));
    }
    Ok(rows.pop())
}
