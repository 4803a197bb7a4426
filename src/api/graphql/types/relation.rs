//! `PartnerRelation`: a declared relation between two partners.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use sea_orm::Condition;

use super::{Partner, Stamps, prefetch_partners};
use crate::api::graphql::connection::{PageInfo, cursor};
use crate::api::graphql::error::internal;
use crate::api::graphql::filters::*;
use crate::api::graphql::ids::{self, Kind, encode};
use crate::api::graphql::link_edge::{LinkEdge, link_connection, link_page};
use crate::api::graphql::nested::{col, nested_page, reference, rows_of, visible_ref};
use crate::api::graphql::request::{loaders, scope};
use crate::api::graphql::scalars::{Date, date};
use crate::api::graphql::write::{
    Decoder, IntoEdit, UserError, delete_input, nullable, nullable_date, payloads, record_id,
};
use crate::domain::edit::*;
use crate::model::*;
use crate::storage::entity::*;
use crate::storage::list::Slice;

/// A declared, directed relation between two partners (a convention, a
/// funding, referrals of people, coordination…).
#[derive(Clone)]
pub struct PartnerRelation(pub relation::Model);

/// A declared, directed relation between two partners (a convention, a
/// funding, referrals of people, coordination…).
#[Object(serial)]
impl PartnerRelation {
    /// Who may read it: `PUBLIC`, `MEMBERS` (the two partners) or `INTERNAL`
    /// (the directorate); members when none is set.
    async fn visibility(&self) -> Visibility {
        self.0.visibility.unwrap_or(RELATION_DEFAULT_VISIBILITY)
    }

    /// Opaque global id.
    pub async fn id(&self) -> ID {
        encode(Kind::Relation, self.0.id)
    }
    /// What the relation is.
    async fn kind(&self) -> RelationKind {
        self.0.kind
    }
    /// Since (unknown: none).
    async fn since(&self) -> Option<Date> {
        date(self.0.since)
    }
    /// Until (none while it runs).
    async fn until(&self) -> Option<Date> {
        date(self.0.until)
    }
    /// Strength of the relation (1 by default; larger is stronger).
    async fn weight(&self) -> f64 {
        self.0.weight
    }
    /// Free text.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// `createdAt`, `updatedAt` and `version`, alike on every record.
    #[graphql(flatten)]
    async fn stamps(&self) -> Stamps {
        Stamps::new(self.0.created_at, self.0.updated_at, self.0.version)
    }
    /// The partner that declares the relation.
    async fn from(&self, ctx: &Context<'_>) -> Result<Option<Partner>> {
        reference!(ctx, partner, Some(self.0.from_partner_id), Partner::from)
    }
    /// The partner it is declared to.
    async fn to(&self, ctx: &Context<'_>) -> Result<Option<Partner>> {
        reference!(ctx, partner, Some(self.0.to_partner_id), Partner::from)
    }
}

pub(super) async fn relations(
    ctx: &Context<'_>,
    partner: i64,
    out: bool,
    slice: Slice,
    filter: Option<Box<PartnerFilter>>,
    relation: Option<Box<RelationFilter>>,
) -> Result<PartnerRelationConnection> {
    use relation::Column as R;
    let target = filter.as_ref().map(|f| f.condition(&Reading::of(ctx))).transpose()?;
    let own = relation.as_ref().map(|m| m.condition()).unwrap_or_else(Condition::all);
    let s = scope(ctx);
    let (other, key_sql) = if out {
        (R::ToPartnerId, "from_partner_id")
    } else {
        (R::FromPartnerId, "to_partner_id")
    };
    let g = nested_page(
        ctx,
        if out {
            &loaders(ctx).relations_out
        } else {
            &loaders(ctx).relations_in
        },
        partner,
        "Partner.relations",
        vec![],
        slice,
        move |_| {
            let c = own.clone().add(visible_ref::<partner::Entity>(
                other,
                &s,
                partner::Column::Id,
                target.clone(),
            ));
            (rows_of(&s, c), col("relations", key_sql))
        },
    )
    .await?;
    prefetch_partners(ctx, g.rows.iter().map(|(_, t)| t)).await?;
    Ok(link_page(ctx, g, |(m, p)| PartnerRelationEdge {
        position: 0,
        node: Partner::from(p),
        kind: m.kind,
        since: date(m.since),
        until: date(m.until),
        weight: m.weight,
        relation: PartnerRelation(m),
    }))
}

/// The partner at the other end of a declared relation, with the relation's data.
#[derive(SimpleObject)]
#[graphql(serial, complex)]
pub struct PartnerRelationEdge {
    /// Position of the item in the list (its cursor, encoded when asked).
    #[graphql(skip)]
    pub position: u64,
    /// The partner at the other end.
    pub node: Partner,
    /// What the relation is.
    pub kind: RelationKind,
    /// Since.
    pub since: Option<Date>,
    /// Until.
    pub until: Option<Date>,
    /// Strength of the relation.
    pub weight: f64,
    /// The relation record (to update or delete it).
    pub relation: PartnerRelation,
}
link_connection!(
    PartnerRelationConnection,
    PartnerRelationEdge,
    Partner,
    "a partner's relations"
);

// ---------------------------------------------------------------- mutations

/// A direct link from one partner to another.
#[derive(InputObject)]
pub struct AddRelationInput {
    /// The partner the relation goes from.
    from_partner_id: ID,
    /// The partner it goes to (another one).
    to_partner_id: ID,
    /// What kind of link (one relation per pair and kind).
    kind: RelationKind,
    /// Since when.
    since: Option<Date>,
    /// Until when (not before `since`).
    until: Option<Date>,
    /// How strong, > 0 (1 when not given).
    weight: Option<f64>,
    /// Free text.
    note: Option<String>,
    /// Who may read it; without one, the default of its kind (networks: GLTD and CDDF internal, CISPD and CLSPD members, others public; actions: their network's, else public; relations: members).
    visibility: Option<Visibility>,
}

impl IntoEdit for AddRelationInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Create(Patch::Relation(RelationPatch {
            from_partner_id: Some(d.id(Kind::Partner, "fromPartnerId", &self.from_partner_id)),
            to_partner_id: Some(d.id(Kind::Partner, "toPartnerId", &self.to_partner_id)),
            kind: Some(self.kind),
            since: Some(self.since.map(|d| d.0)),
            until: Some(self.until.map(|d| d.0)),
            weight: self.weight,
            note: Some(self.note),
            visibility: Some(self.visibility),
        }))
    }
}

/// Changes to a relation: only the fields given change; `null` clears a nullable field.
#[derive(InputObject)]
pub struct UpdateRelationInput {
    /// The relation.
    id: ID,
    /// The `version` the change was made from; if the relation has changed since, nothing is written (`CONFLICT`).
    expected_version: i32,
    /// A new kind (one relation per pair and kind).
    kind: Option<RelationKind>,
    /// A new start date; `null` clears it.
    since: MaybeUndefined<Date>,
    /// A new end date; `null` clears it.
    until: MaybeUndefined<Date>,
    /// A new weight, > 0.
    weight: Option<f64>,
    /// A new note; `null` clears it.
    note: MaybeUndefined<String>,
    /// Who may read it; `null` puts back the default of its kind.
    visibility: MaybeUndefined<Visibility>,
}

impl IntoEdit for UpdateRelationInput {
    fn edit(self, d: &mut Decoder) -> Edit {
        Edit::Update {
            id: d.id(Kind::Relation, "id", &self.id),
            expected_version: self.expected_version,
            patch: Patch::Relation(RelationPatch {
                kind: self.kind,
                since: nullable_date(self.since),
                until: nullable_date(self.until),
                weight: self.weight,
                note: nullable(self.note),
                visibility: nullable(self.visibility),
                ..Default::default()
            }),
        }
    }
}

delete_input!(
    /// The relation to end.
    RemoveRelationInput, "remove" "relation": Relation, Relation);

payloads!(relation: PartnerRelation <- Relation;
    AddRelationPayload "addRelation", UpdateRelationPayload "updateRelation", RemoveRelationPayload "removeRelation" -> removed_relation_id);
