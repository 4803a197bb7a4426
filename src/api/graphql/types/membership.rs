//! `Membership`: a partner's seat in a network.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};

use super::{Network, Partner, Stamps};
use crate::api::graphql::error::internal;
use crate::api::graphql::ids::{self, Kind, encode};
use crate::api::graphql::nested::reference;
use crate::api::graphql::request::loaders;
use crate::api::graphql::scalars::{Date, date};
use crate::api::graphql::write::{Decoder, IntoEdit, UserError, delete_input, nullable_date, payloads, record_id};
use crate::domain::edit::*;
use crate::model::*;
use crate::storage::entity::*;

/// A partner's seat in a network, with its role and dates.
#[derive(Clone)]
pub struct Membership(pub membership::Model);

/// A partner's seat in a network, with its role and dates.
#[Object(serial)]
impl Membership {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(Kind::Membership, self.0.id)
    }
    /// The partner's role in the network.
    async fn role(&self) -> MembershipRole {
        self.0.role
    }
    /// Member since (unknown: none).
    async fn since(&self) -> Option<Date> {
        date(self.0.since)
    }
    /// Member until (none while it sits there).
    async fn until(&self) -> Option<Date> {
        date(self.0.until)
    }
    /// `createdAt`, `updatedAt` and `version`, alike on every record.
    #[graphql(flatten)]
    async fn stamps(&self) -> Stamps {
        Stamps::new(self.0.created_at, self.0.updated_at, self.0.version)
    }
    /// The member.
    async fn partner(&self, ctx: &Context<'_>) -> Result<Option<Partner>> {
        reference!(ctx, partner, Some(self.0.partner_id), Partner::from)
    }
    /// The network.
    async fn network(&self, ctx: &Context<'_>) -> Result<Option<Network>> {
        reference!(ctx, network, Some(self.0.network_id), Network)
    }
}

// ---------------------------------------------------------------- mutations

/// A partner joining a network.
#[derive(InputObject)]
pub struct AddMembershipInput {
    /// The network.
    network_id: ID,
    /// The partner (one membership per partner and network).
    partner_id: ID,
    /// Its role there.
    role: MembershipRole,
    /// Since when.
    since: Option<Date>,
    /// Until when (not before `since`).
    until: Option<Date>,
}

impl IntoEdit for AddMembershipInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Create(Patch::Membership(MembershipPatch {
            network_id: Some(d.id(Kind::Network, "networkId", &self.network_id)),
            partner_id: Some(d.id(Kind::Partner, "partnerId", &self.partner_id)),
            role: Some(self.role),
            since: Some(self.since.map(|d| d.0)),
            until: Some(self.until.map(|d| d.0)),
        }))
    }
}

/// Changes to a membership: only the fields given change; `null` clears a date.
#[derive(InputObject)]
pub struct UpdateMembershipInput {
    /// The membership.
    id: ID,
    /// The `version` the change was made from; if the membership has changed since, nothing is written (`CONFLICT`).
    expected_version: i32,
    /// A new role.
    role: Option<MembershipRole>,
    /// A new start date; `null` clears it.
    since: MaybeUndefined<Date>,
    /// A new end date; `null` clears it.
    until: MaybeUndefined<Date>,
}

impl IntoEdit for UpdateMembershipInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Update {
            id: d.id(Kind::Membership, "id", &self.id),
            expected_version: self.expected_version,
            patch: Patch::Membership(MembershipPatch {
                role: self.role,
                since: nullable_date(self.since),
                until: nullable_date(self.until),
                ..Default::default()
            }),
        }
    }
}

delete_input!(
    /// The membership to end.
    RemoveMembershipInput, "remove" "membership": Membership, Membership);

payloads!(membership: Membership <- Membership;
    AddMembershipPayload "addMembership", UpdateMembershipPayload "updateMembership", RemoveMembershipPayload "removeMembership" -> removed_membership_id);

/// An edge through a membership (a network's members, a partner's
/// networks): the node, the membership's role and dates and the record
/// itself, with the edge's connection. Its fields are spelled out rather
/// than flattened from one object: `(b)` of the API benchmark resolves
/// `role` on thousands of edges, and a flattened object costs each one
/// another boxed future (10 % of `(b)`, BENCHMARKS.md).
macro_rules! membership_edge {
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
            /// The partner's role in the network.
            pub role: $crate::model::MembershipRole,
            /// Member since.
            pub since: Option<$crate::api::graphql::scalars::Date>,
            /// Member until.
            pub until: Option<$crate::api::graphql::scalars::Date>,
            /// The membership record (to update or delete it).
            pub membership: $crate::api::graphql::types::Membership,
        }

        impl $edge {
            fn new(node: $node, m: $crate::storage::entity::membership::Model) -> Self {
                $edge {
                    position: 0,
                    node,
                    role: m.role,
                    since: $crate::api::graphql::scalars::date(m.since),
                    until: $crate::api::graphql::scalars::date(m.until),
                    membership: $crate::api::graphql::types::Membership(m),
                }
            }
        }

        $crate::api::graphql::link_edge::link_connection!($conn, $edge, $node, $what);
    };
}

pub(crate) use membership_edge;
