//! `Action`: a shared action.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use sea_orm::{ColumnTrait, Condition};

use super::participation::participation_edge;
use super::{Network, Partner, Stamps, Territory, TerritoryConnection, prefetch_partners};
use crate::api::graphql::connection::{PageInfo, cursor, node_connection, page_cost, slice};
use crate::api::graphql::error::internal;
use crate::api::graphql::filters::*;
use crate::api::graphql::ids::{self, Kind, encode};
use crate::api::graphql::link_edge::{LinkEdge, link_page};
use crate::api::graphql::nested::{col, link_pairs, listed, nested_page, node_pages, reference, rows_of, visible_ref};
use crate::api::graphql::prefetch::prefetch;
use crate::api::graphql::request::{loaders, scope};
use crate::api::graphql::scalars::{Date, date, euros};
use crate::api::graphql::write::{
    Decoder, IntoEdit, UserError, delete_input, nullable, nullable_date, payloads, record_id, territory_link,
};
use crate::domain::edit::*;
use crate::model::*;
use crate::storage::entity::*;
use crate::storage::list::Slice;

// ---------------------------------------------------------------- action

/// A shared action: a project several partners run together (a lead,
/// co-partners, funders), with a theme, a status, dates, a budget, its
/// beneficiaries and the territories it takes place in.
#[derive(Clone)]
pub struct Action(pub action::Model);

node_connection!(ActionConnection, ActionEdge, Action, "action");
listed!(Action: action, ActionFilter, ActionOrder, ActionConnection, action_lists, prefetch_actions;);

/// A shared action: a project several partners run together (a lead,
/// co-partners, funders), with a theme, a status, dates, a budget, its
/// beneficiaries and the territories it takes place in.
#[Object(serial)]
impl Action {
    /// Who may read it: `PUBLIC`, `MEMBERS` (its participants) or `INTERNAL`
    /// (the directorate). Without one set, its network's, else public.
    async fn visibility(&self, ctx: &Context<'_>) -> Result<Visibility> {
        if let Some(v) = self.0.visibility {
            return Ok(v);
        }
        let Some(n) = self.0.network_id else {
            return Ok(Visibility::Public);
        };
        // A network the viewer cannot see, under an action it can, is one
        // for members (an internal one would hide the action too).
        Ok(Box::pin(loaders(ctx).network.load_one(n))
            .await
            .map_err(internal)?
            .map_or(Visibility::Members, |n| {
                n.visibility.unwrap_or(n.kind.default_visibility())
            }))
    }

    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(Kind::Action, self.0.id)
    }
    /// The external id the action has in bundles (e.g. `act-000001`).
    #[graphql(name = "ref")]
    async fn r#ref(&self) -> &str {
        &self.0.r#ref
    }
    /// Its title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// What it works on.
    async fn theme(&self) -> Theme {
        self.0.theme
    }
    /// Where it stands.
    async fn status(&self) -> ActionStatus {
        self.0.status
    }
    /// First day.
    async fn started_on(&self) -> Option<Date> {
        date(self.0.started_on)
    }
    /// Last day.
    async fn ended_on(&self) -> Option<Date> {
        date(self.0.ended_on)
    }
    /// Total budget in euros.
    async fn budget(&self) -> Option<f64> {
        euros(self.0.budget_cents)
    }
    /// Number of people it reached or plans to reach.
    async fn beneficiaries(&self) -> Option<i64> {
        self.0.beneficiaries
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
    /// The network it is run under.
    async fn network(&self, ctx: &Context<'_>) -> Result<Option<Network>> {
        reference!(ctx, network, self.0.network_id, Network)
    }
    /// The partner that leads it (the participant with role `LEAD`), if any.
    async fn lead(&self, ctx: &Context<'_>) -> Result<Option<Partner>> {
        let s = scope(ctx);
        let g = nested_page(
            ctx,
            &loaders(ctx).participation_lists,
            self.0.id,
            "Action.lead",
            vec![],
            Slice {
                first: Some(1),
                ..Slice::default()
            },
            move |_| {
                (
                    rows_of(
                        &s,
                        Condition::all().add(action_partner::Column::Role.eq(ParticipationRole::Lead)),
                    ),
                    col("action_partners", "action_id"),
                )
            },
        )
        .await?;
        reference!(ctx, partner, g.rows.first().map(|p| p.partner_id), Partner::from)
    }
    /// The partners taking part, with their role and contribution.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn participants(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
        #[graphql(desc = "The last items (of what `before`/`after` leave).")] last: Option<i32>,
        #[graphql(desc = "Stop before this cursor.")] before: Option<String>,
        #[graphql(desc = "Filters on the partners.")] filter: Option<Box<PartnerFilter>>,
        #[graphql(desc = "Filters on the participations (role, contribution).")] participation: Option<
            ParticipationFilter,
        >,
    ) -> Result<ActionParticipantConnection> {
        let target = filter.as_ref().map(|f| f.condition(&Reading::of(ctx))).transpose()?;
        let own = participation
            .as_ref()
            .map(|m| m.condition())
            .unwrap_or_else(Condition::all);
        let s = scope(ctx);
        let g = nested_page(
            ctx,
            &loaders(ctx).action_participants,
            self.0.id,
            "Action.participants",
            vec![],
            slice(ctx, first, after, last, before)?,
            move |_| {
                let c = own.clone().add(visible_ref::<partner::Entity>(
                    action_partner::Column::PartnerId,
                    &s,
                    partner::Column::Id,
                    target.clone(),
                ));
                (rows_of(&s, c), col("action_partners", "action_id"))
            },
        )
        .await?;
        prefetch_partners(ctx, g.rows.iter().map(|(_, t)| t)).await?;
        Ok(link_page(ctx, g, |(m, p)| {
            ActionParticipantEdge::new(Partner::from(p), m)
        }))
    }
    /// The nested pages of plain rows (see `ActionPages`).
    #[graphql(flatten)]
    async fn pages(&self) -> ActionPages {
        ActionPages(self.0.id)
    }
}

/// The references of a page of actions: their networks.
pub async fn prefetch_actions<'m>(
    ctx: &Context<'_>,
    rows: impl Iterator<Item = &'m action::Model> + Clone,
) -> Result<()> {
    prefetch(ctx, "network", &loaders(ctx).network, rows.map(|a| a.network_id)).await
}

participation_edge!(
    /// A partner taking part in an action, with its role and contribution.
    ActionParticipantEdge {
        /// The partner.
        node: Partner
    },
    ActionParticipantConnection,
    "the partners of an action"
);

// ---------------------------------------------------------------- mutations

/// A new shared action.
#[derive(InputObject)]
pub struct CreateActionInput {
    /// Its external id (as in bundles): 1–64 characters of `A-Za-z0-9._:-`, unique among actions.
    #[graphql(name = "ref")]
    r#ref: String,
    /// Its title (not empty).
    title: String,
    /// Its theme.
    theme: Theme,
    /// Where it stands.
    status: ActionStatus,
    /// The network it runs under.
    network_id: Option<ID>,
    /// When it started.
    started_on: Option<Date>,
    /// When it ended (not before it started).
    ended_on: Option<Date>,
    /// Total budget in euros (not negative; more than 2 decimals are rounded).
    budget: Option<f64>,
    /// People reached (not negative).
    beneficiaries: Option<i64>,
    /// Free text.
    description: Option<String>,
    /// Who may read it; without one, the default of its kind (networks: GLTD and CDDF internal, CISPD and CLSPD members, others public; actions: their network's, else public; relations: members).
    visibility: Option<Visibility>,
}

impl IntoEdit for CreateActionInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Create(Patch::Action(ActionPatch {
            r#ref: Some(self.r#ref),
            title: Some(self.title),
            theme: Some(self.theme),
            status: Some(self.status),
            network_id: Some(d.opt(Kind::Network, "networkId", &self.network_id)),
            started_on: Some(self.started_on.map(|d| d.0)),
            ended_on: Some(self.ended_on.map(|d| d.0)),
            budget: Some(self.budget),
            beneficiaries: Some(self.beneficiaries),
            description: Some(self.description),
            visibility: Some(self.visibility),
        }))
    }
}

/// Changes to an action: only the fields given change; `null` clears a nullable field.
#[derive(InputObject)]
pub struct UpdateActionInput {
    /// The action.
    id: ID,
    /// The `version` the change was made from; if the action has changed since, nothing is written (`CONFLICT`).
    expected_version: i32,
    /// A new external id.
    #[graphql(name = "ref")]
    r#ref: Option<String>,
    /// A new title.
    title: Option<String>,
    /// A new theme.
    theme: Option<Theme>,
    /// A new status.
    status: Option<ActionStatus>,
    /// The network it now runs under; `null` clears it.
    network_id: MaybeUndefined<ID>,
    /// A new start date; `null` clears it.
    started_on: MaybeUndefined<Date>,
    /// A new end date; `null` clears it.
    ended_on: MaybeUndefined<Date>,
    /// A new budget in euros; `null` clears it.
    budget: MaybeUndefined<f64>,
    /// A new count of people reached; `null` clears it.
    beneficiaries: MaybeUndefined<i64>,
    /// A new description; `null` clears it.
    description: MaybeUndefined<String>,
    /// Who may read it; `null` puts back the default of its kind.
    visibility: MaybeUndefined<Visibility>,
}

impl IntoEdit for UpdateActionInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Update {
            id: d.id(Kind::Action, "id", &self.id),
            expected_version: self.expected_version,
            patch: Patch::Action(ActionPatch {
                r#ref: self.r#ref,
                title: self.title,
                theme: self.theme,
                status: self.status,
                network_id: d.nullable(Kind::Network, "networkId", &self.network_id),
                started_on: nullable_date(self.started_on),
                ended_on: nullable_date(self.ended_on),
                budget: nullable(self.budget),
                beneficiaries: nullable(self.beneficiaries),
                description: nullable(self.description),
                visibility: nullable(self.visibility),
            }),
        }
    }
}

delete_input!(
    /// The action to delete.
    DeleteActionInput, "delete" "action": Action, Action);

payloads!(action: Action <- Action;
    CreateActionPayload "createAction", UpdateActionPayload "updateAction", DeleteActionPayload "deleteAction" -> deleted_action_id);

// ---------------------------------------------------------------- mutations

territory_link! {
    /// A territory an action takes place in.
    ActionTerritoryInput {
        /// The action.
        action_id: Action "actionId",
        /// The territory.
        territory_id,
    }
    /// Adds an action territory.
    AddActionTerritory,
    /// Removes an action territory.
    RemoveActionTerritory, ActionTerritory(ActionTerritoryPatch);
    /// The result of `addActionTerritory` / `removeActionTerritory`.
    ActionTerritoryPayload { action: Action }
}

node_pages! {
    ActionPages {
        /// The territories it takes place in.
        territories "Action.territories" -> TerritoryConnection of Territory: TerritoryFilter, TerritoryOrder =>
            |ids| link_pairs(ids, "action_territories", "action_id", "territory_id");
    }
}
