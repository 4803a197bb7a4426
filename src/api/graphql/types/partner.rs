//! `Partner`, its seat, its nested pages and its links' edges.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use sea_orm::Condition;

use super::membership::membership_edge;
use super::participation::participation_edge;
use super::relation::relations;
use super::{
    Action, Contact, ContactConnection, Network, PartnerRelationConnection, Stamps, Territory, TerritoryConnection,
    prefetch_actions, prefetch_networks,
};
use crate::api::graphql::connection::{PageInfo, cursor, node_connection, page_cost, slice};
use crate::api::graphql::degree::LinkKind;
use crate::api::graphql::error::internal;
use crate::api::graphql::filters::*;
use crate::api::graphql::ids::{self, Kind, encode};
use crate::api::graphql::link_edge::{LinkEdge, link_page, link_page_args};
use crate::api::graphql::loaders::{LinkLoader, Loaders, NestedQuery};
use crate::api::graphql::nested::{
    col, link_pairs, listed, nested_query, node_pages, page_of, reference, rows_of, visible_ref,
};
use crate::api::graphql::prefetch::{arg, prefetch, prefetch_pages};
use crate::api::graphql::request::{loaders, scope};
use crate::api::graphql::write::{
    Decoder, IntoEdit, UserError, delete_input, nullable, payloads, record_id, territory_link,
};
use crate::domain::edit::*;
use crate::model::*;
use crate::storage::entity::*;

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

node_connection!(PartnerConnection, PartnerEdge, Partner, "partner");
listed!(Partner: partner, PartnerFilter, PartnerOrder, PartnerConnection, partner_lists, prefetch_partners;);

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
    /// `createdAt`, `updatedAt` and `version`, alike on every record.
    #[graphql(flatten)]
    async fn stamps(&self) -> Stamps {
        Stamps::new(self.0.created_at, self.0.updated_at, self.0.version)
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
        Ok(Box::pin(
            loaders(ctx)
                .degree
                .load_one((self.0.id, crate::api::graphql::degree::via(&via))),
        )
        .await
        .map_err(internal)?
        .unwrap_or(0))
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
    /// The nested pages of plain rows (see `PartnerPages`).
    #[graphql(flatten)]
    async fn pages(&self) -> PartnerPages {
        PartnerPages(self.0.id)
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
        Ok(link_page(ctx, g, |(m, n)| PartnerNetworkEdge::new(Network(n), m)))
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
        Ok(link_page(ctx, g, |(m, a)| PartnerActionEdge::new(Action(a), m)))
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

membership_edge!(
    /// A network a partner sits in, with the membership's role and dates.
    PartnerNetworkEdge {
        /// The network.
        node: Network
    },
    PartnerNetworkConnection,
    "the networks a partner sits in"
);

participation_edge!(
    /// An action a partner takes part in, with its role and contribution.
    PartnerActionEdge {
        /// The action.
        node: Action
    },
    PartnerActionConnection,
    "the actions a partner takes part in"
);

// ---------------------------------------------------------------- mutations

/// A new partner organisation.
#[derive(InputObject)]
pub struct CreatePartnerInput {
    /// Its external id (as in bundles): 1–64 characters of `A-Za-z0-9._:-`, unique among partners.
    #[graphql(name = "ref")]
    r#ref: String,
    /// Its name (not empty).
    name: String,
    /// The type of structure.
    kind: PartnerKind,
    /// Its SIRET: 14 digits.
    siret: Option<String>,
    /// Its parent organisation (no cycles).
    parent_id: Option<ID>,
    /// Where it is based.
    territory_id: Option<ID>,
    /// Its website.
    website: Option<String>,
    /// Its public e-mail address.
    email: Option<String>,
    /// Its public phone number.
    phone: Option<String>,
    /// Free text.
    description: Option<String>,
}

impl IntoEdit for CreatePartnerInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Create(Patch::Partner(PartnerPatch {
            r#ref: Some(self.r#ref),
            name: Some(self.name),
            kind: Some(self.kind),
            siret: Some(self.siret),
            parent_id: Some(d.opt(Kind::Partner, "parentId", &self.parent_id)),
            territory_id: Some(d.opt(Kind::Territory, "territoryId", &self.territory_id)),
            website: Some(self.website),
            email: Some(self.email),
            phone: Some(self.phone),
            description: Some(self.description),
        }))
    }
}

/// Changes to a partner: only the fields given change; `null` clears a nullable field.
#[derive(InputObject)]
pub struct UpdatePartnerInput {
    /// The partner.
    id: ID,
    /// The `version` the change was made from; if the partner has changed since, nothing is written (`CONFLICT`).
    expected_version: i32,
    /// A new external id.
    #[graphql(name = "ref")]
    r#ref: Option<String>,
    /// A new name.
    name: Option<String>,
    /// A new type of structure.
    kind: Option<PartnerKind>,
    /// A new SIRET; `null` clears it.
    siret: MaybeUndefined<String>,
    /// A new parent organisation; `null` clears it.
    parent_id: MaybeUndefined<ID>,
    /// Where it is now based; `null` clears it.
    territory_id: MaybeUndefined<ID>,
    /// A new website; `null` clears it.
    website: MaybeUndefined<String>,
    /// A new public e-mail address; `null` clears it.
    email: MaybeUndefined<String>,
    /// A new public phone number; `null` clears it.
    phone: MaybeUndefined<String>,
    /// A new description; `null` clears it.
    description: MaybeUndefined<String>,
}

impl IntoEdit for UpdatePartnerInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Update {
            id: d.id(Kind::Partner, "id", &self.id),
            expected_version: self.expected_version,
            patch: Patch::Partner(PartnerPatch {
                r#ref: self.r#ref,
                name: self.name,
                kind: self.kind,
                siret: nullable(self.siret),
                parent_id: d.nullable(Kind::Partner, "parentId", &self.parent_id),
                territory_id: d.nullable(Kind::Territory, "territoryId", &self.territory_id),
                website: nullable(self.website),
                email: nullable(self.email),
                phone: nullable(self.phone),
                description: nullable(self.description),
            }),
        }
    }
}

delete_input!(
    /// The partner to delete.
    DeletePartnerInput, "delete" "partner": Partner, Partner);

payloads!(partner: Partner <- Partner;
    CreatePartnerPayload "createPartner", UpdatePartnerPayload "updatePartner", DeletePartnerPayload "deletePartner" -> deleted_partner_id);

// ---------------------------------------------------------------- mutations

territory_link! {
    /// A territory a partner serves.
    ServedTerritoryInput {
        /// The partner.
        partner_id: Partner "partnerId",
        /// The territory it serves.
        territory_id,
    }
    /// Adds a served territory.
    AddServed,
    /// Removes a served territory.
    RemoveServed, ServedTerritory(ServedTerritoryPatch);
    /// The result of `addServedTerritory` / `removeServedTerritory`.
    ServedTerritoryPayload { partner: Partner }
}

node_pages! {
    PartnerPages {
        /// Organisations that belong to it.
        children "Partner.children" -> PartnerConnection of Partner: PartnerFilter, PartnerOrder =>
            |_| col("partners", "parent_id");
        /// The territories it declares serving.
        territories_served "Partner.territoriesServed" -> TerritoryConnection of Territory: TerritoryFilter, TerritoryOrder =>
            |ids| link_pairs(ids, "partner_territories", "partner_id", "territory_id");
        /// Its contact people (personal data).
        contacts "Partner.contacts" -> ContactConnection of Contact: ContactFilter, ContactOrder =>
            |_| col("contacts", "partner_id");
    }
}
