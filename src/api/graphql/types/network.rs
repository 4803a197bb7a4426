//! `Network`: where partners sit together.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use sea_orm::Condition;

use super::membership::membership_edge;
use super::{Action, ActionConnection, Partner, Stamps, Territory, prefetch_partners};
use crate::api::graphql::connection::{PageInfo, cursor, node_connection, page_cost, slice};
use crate::api::graphql::error::internal;
use crate::api::graphql::filters::*;
use crate::api::graphql::ids::{self, Kind, encode};
use crate::api::graphql::link_edge::{LinkEdge, link_page, link_page_args};
use crate::api::graphql::loaders::{LinkLoader, Loaders, NestedQuery};
use crate::api::graphql::nested::{col, listed, nested_query, node_pages, page_of, reference, rows_of, visible_ref};
use crate::api::graphql::prefetch::{arg, prefetch, prefetch_pages};
use crate::api::graphql::request::{loaders, scope};
use crate::api::graphql::scalars::{Date, date};
use crate::api::graphql::write::{
    Decoder, IntoEdit, UserError, delete_input, nullable, nullable_date, payloads, record_id,
};
use crate::domain::edit::*;
use crate::model::*;
use crate::storage::entity::*;

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
listed!(Network: network, NetworkFilter, NetworkOrder, NetworkConnection, network_lists, prefetch_networks;);

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
    /// `createdAt`, `updatedAt` and `version`, alike on every record.
    #[graphql(flatten)]
    async fn stamps(&self) -> Stamps {
        Stamps::new(self.0.created_at, self.0.updated_at, self.0.version)
    }
    /// The territory it covers.
    async fn territory(&self, ctx: &Context<'_>) -> Result<Option<Territory>> {
        reference!(ctx, territory, self.0.territory_id, Territory)
    }
    /// The network it is part of (a thematic group's contrat de ville).
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Network>> {
        reference!(ctx, network, self.0.parent_id, Network)
    }
    /// The nested pages of plain rows (see `NetworkPages`).
    #[graphql(flatten)]
    async fn pages(&self) -> NetworkPages {
        NetworkPages(self.0.id)
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
        Ok(link_page(ctx, g, |(m, p)| NetworkMemberEdge::new(Partner::from(p), m)))
    }
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

/// The nested pages a page of networks' client selected on them.
pub async fn prefetch_network_pages(ctx: &Context<'_>, ids: impl Iterator<Item = i64>) -> Result<()> {
    prefetch_pages(ctx, &loaders(ctx).network_members, "members", ids, |c| {
        NetworkMembersArgs::from_ctx(c)?.query(c)
    })
    .await
}

link_page_args!(
    NetworkMembersArgs, "Network.members",
    filter: Box<PartnerFilter>, membership: MembershipFilter,
    membership -> partner by PartnerId, keyed by "memberships"."network_id"
);

membership_edge!(
    /// A partner sitting in a network, with the membership's role and dates.
    NetworkMemberEdge {
        /// The member.
        node: Partner
    },
    NetworkMemberConnection,
    "the members of a network"
);

// ---------------------------------------------------------------- mutations

/// A new network (an instance or dispositif partners sit in).
#[derive(InputObject)]
pub struct CreateNetworkInput {
    /// Its external id (as in bundles): 1–64 characters of `A-Za-z0-9._:-`, unique among networks.
    #[graphql(name = "ref")]
    r#ref: String,
    /// Its name (not empty).
    name: String,
    /// What kind of instance it is.
    kind: NetworkKind,
    /// The territory it covers.
    territory_id: Option<ID>,
    /// The network it is part of (no cycles).
    parent_id: Option<ID>,
    /// When it started.
    started_on: Option<Date>,
    /// When it ended (not before it started).
    ended_on: Option<Date>,
    /// Free text.
    description: Option<String>,
    /// Who may read it; without one, the default of its kind (networks: GLTD and CDDF internal, CISPD and CLSPD members, others public; actions: their network's, else public; relations: members).
    visibility: Option<Visibility>,
}

impl IntoEdit for CreateNetworkInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Create(Patch::Network(NetworkPatch {
            r#ref: Some(self.r#ref),
            name: Some(self.name),
            kind: Some(self.kind),
            territory_id: Some(d.opt(Kind::Territory, "territoryId", &self.territory_id)),
            parent_id: Some(d.opt(Kind::Network, "parentId", &self.parent_id)),
            started_on: Some(self.started_on.map(|d| d.0)),
            ended_on: Some(self.ended_on.map(|d| d.0)),
            description: Some(self.description),
            visibility: Some(self.visibility),
        }))
    }
}

/// Changes to a network: only the fields given change; `null` clears a nullable field.
#[derive(InputObject)]
pub struct UpdateNetworkInput {
    /// The network.
    id: ID,
    /// The `version` the change was made from; if the network has changed since, nothing is written (`CONFLICT`).
    expected_version: i32,
    /// A new external id.
    #[graphql(name = "ref")]
    r#ref: Option<String>,
    /// A new name.
    name: Option<String>,
    /// A new kind.
    kind: Option<NetworkKind>,
    /// The territory it now covers; `null` clears it.
    territory_id: MaybeUndefined<ID>,
    /// The network it is now part of; `null` clears it.
    parent_id: MaybeUndefined<ID>,
    /// A new start date; `null` clears it.
    started_on: MaybeUndefined<Date>,
    /// A new end date; `null` clears it.
    ended_on: MaybeUndefined<Date>,
    /// A new description; `null` clears it.
    description: MaybeUndefined<String>,
    /// Who may read it; `null` puts back the default of its kind.
    visibility: MaybeUndefined<Visibility>,
}

impl IntoEdit for UpdateNetworkInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Update {
            id: d.id(Kind::Network, "id", &self.id),
            expected_version: self.expected_version,
            patch: Patch::Network(NetworkPatch {
                r#ref: self.r#ref,
                name: self.name,
                kind: self.kind,
                territory_id: d.nullable(Kind::Territory, "territoryId", &self.territory_id),
                parent_id: d.nullable(Kind::Network, "parentId", &self.parent_id),
                started_on: nullable_date(self.started_on),
                ended_on: nullable_date(self.ended_on),
                description: nullable(self.description),
                visibility: nullable(self.visibility),
            }),
        }
    }
}

delete_input!(
    /// The network to delete.
    DeleteNetworkInput, "delete" "network": Network, Network);

payloads!(network: Network <- Network;
    CreateNetworkPayload "createNetwork", UpdateNetworkPayload "updateNetwork", DeleteNetworkPayload "deleteNetwork" -> deleted_network_id);

node_pages! {
    NetworkPages {
        /// Its sub-networks (thematic groups, working groups).
        children "Network.children" -> NetworkConnection of Network: NetworkFilter, NetworkOrder =>
            |_| col("networks", "parent_id");
        /// The shared actions run under it.
        actions "Network.actions" -> ActionConnection of Action: ActionFilter, ActionOrder =>
            |_| col("actions", "network_id");
    }
}
