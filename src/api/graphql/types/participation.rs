//! `Participation`: a partner's part in a shared action.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};

use super::{Action, Partner, Stamps};
use crate::api::graphql::error::internal;
use crate::api::graphql::ids::{self, Kind, encode};
use crate::api::graphql::nested::reference;
use crate::api::graphql::request::loaders;
use crate::api::graphql::scalars::euros;
use crate::api::graphql::write::{Decoder, IntoEdit, UserError, delete_input, nullable, payloads, record_id};
use crate::domain::edit::*;
use crate::model::*;
use crate::storage::entity::*;

/// A partner's part in a shared action.
#[derive(Clone)]
pub struct Participation(pub action_partner::Model);

/// A partner's part in a shared action.
#[Object(serial)]
impl Participation {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(Kind::Participation, self.0.id)
    }
    /// The partner's role in the action (one `LEAD` at most per action).
    async fn role(&self) -> ParticipationRole {
        self.0.role
    }
    /// What the partner puts in, in euros.
    async fn contribution(&self) -> Option<f64> {
        euros(self.0.contribution_cents)
    }
    /// `createdAt`, `updatedAt` and `version`, alike on every record.
    #[graphql(flatten)]
    async fn stamps(&self) -> Stamps {
        Stamps::new(self.0.created_at, self.0.updated_at, self.0.version)
    }
    /// The partner.
    async fn partner(&self, ctx: &Context<'_>) -> Result<Option<Partner>> {
        reference!(ctx, partner, Some(self.0.partner_id), Partner::from)
    }
    /// The action.
    async fn action(&self, ctx: &Context<'_>) -> Result<Option<Action>> {
        reference!(ctx, action, Some(self.0.action_id), Action)
    }
}

// ---------------------------------------------------------------- mutations

/// A partner taking part in an action.
#[derive(InputObject)]
pub struct AddParticipationInput {
    /// The action.
    action_id: ID,
    /// The partner (one participation per partner and action).
    partner_id: ID,
    /// Its role (an action has at most one `LEAD`).
    role: ParticipationRole,
    /// What it puts in, in euros (not negative).
    contribution: Option<f64>,
}

impl IntoEdit for AddParticipationInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Create(Patch::Participation(ParticipationPatch {
            action_id: Some(d.id(Kind::Action, "actionId", &self.action_id)),
            partner_id: Some(d.id(Kind::Partner, "partnerId", &self.partner_id)),
            role: Some(self.role),
            contribution: Some(self.contribution),
        }))
    }
}

/// Changes to a participation: only the fields given change; `null` clears the contribution.
#[derive(InputObject)]
pub struct UpdateParticipationInput {
    /// The participation.
    id: ID,
    /// The `version` the change was made from; if the participation has changed since, nothing is written (`CONFLICT`).
    expected_version: i32,
    /// A new role (an action has at most one `LEAD`: demote the current one first).
    role: Option<ParticipationRole>,
    /// A new contribution in euros; `null` clears it.
    contribution: MaybeUndefined<f64>,
}

impl IntoEdit for UpdateParticipationInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Update {
            id: d.id(Kind::Participation, "id", &self.id),
            expected_version: self.expected_version,
            patch: Patch::Participation(ParticipationPatch {
                role: self.role,
                contribution: nullable(self.contribution),
                ..Default::default()
            }),
        }
    }
}

delete_input!(
    /// The participation to end.
    RemoveParticipationInput, "remove" "participation": Participation, Participation);

payloads!(participation: Participation <- Participation;
    AddParticipationPayload "addParticipation", UpdateParticipationPayload "updateParticipation", RemoveParticipationPayload "removeParticipation" -> removed_participation_id);

/// An edge through a participation (an action's partners, a partner's
/// actions): the node, the partner's role and contribution and the record
/// itself, with the edge's connection (spelled out, not flattened: see
/// `membership_edge!`).
macro_rules! participation_edge {
    ($(#[doc = $doc:literal])* $edge:ident { $(#[doc = $ndoc:literal])* node: $node:ident }, $conn:ident, $what:literal) => {
        $(#[doc = $doc])*
        #[derive(SimpleObject)]
        #[graphql(serial, complex)]
        pub struct $edge {
            /// Position of the item in the list (its cursor, encoded when asked).
            #[graphql(skip)]
            pub position: u64,
            $(#[doc = $ndoc])*
            pub node: $node,
            /// The partner's role in the action.
            pub role: $crate::model::ParticipationRole,
            /// The partner's contribution in euros.
            pub contribution: Option<f64>,
            /// The participation record (to update or delete it).
            pub participation: $crate::api::graphql::types::Participation,
        }

        impl $edge {
            fn new(node: $node, m: $crate::storage::entity::action_partner::Model) -> Self {
                $edge {
                    position: 0,
                    node,
                    role: m.role,
                    contribution: $crate::api::graphql::scalars::euros(m.contribution_cents),
                    participation: $crate::api::graphql::types::Participation(m),
                }
            }
        }

        $crate::api::graphql::link_edge::link_connection!($conn, $edge, $node, $what);
    };
}

pub(crate) use participation_edge;
