//! What an edit says: which operation ([`Edit`]), on which type of record
//! ([`RecordType`]), with which new values ([`Patch`]).
//!
//! Only the vocabulary, no rule and no I/O: [`edit`](super::edit) applies
//! edits (and re-exports these types, the names the API uses), and
//! [`access`](super::access) decides who may make which (`may_apply`). Both
//! read it from here, so neither needs the other to name an edit.

use chrono::NaiveDate;

use crate::model::*;

/// The types of records an edit may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordType {
    Territory,
    Partner,
    Contact,
    Network,
    Membership,
    Action,
    Participation,
    Relation,
    ServedTerritory,
    ActionTerritory,
}

impl RecordType {
    /// The table, as the audit log names record types.
    pub fn table(self) -> &'static str {
        match self {
            RecordType::Territory => "territories",
            RecordType::Partner => "partners",
            RecordType::Contact => "contacts",
            RecordType::Network => "networks",
            RecordType::Membership => "memberships",
            RecordType::Action => "actions",
            RecordType::Participation => "action_partners",
            RecordType::Relation => "relations",
            RecordType::ServedTerritory => "partner_territories",
            RecordType::ActionTerritory => "action_territories",
        }
    }

    /// What messages call it.
    pub fn label(self) -> &'static str {
        match self {
            RecordType::Territory => "territory",
            RecordType::Partner => "partner",
            RecordType::Contact => "contact",
            RecordType::Network => "network",
            RecordType::Membership => "membership",
            RecordType::Action => "action",
            RecordType::Participation => "participation",
            RecordType::Relation => "relation",
            RecordType::ServedTerritory => "served territory",
            RecordType::ActionTerritory => "action territory",
        }
    }
}

/// A field of a patch: `None` leaves it as it is.
pub type Field<T> = Option<T>;
/// A nullable field of a patch: `None` leaves it, `Some(None)` clears it.
pub type Nullable<T> = Option<Option<T>>;

/// New values for a territory. References are database ids.
#[derive(Debug, Clone, Default)]
pub struct TerritoryPatch {
    pub r#ref: Field<String>,
    pub kind: Field<TerritoryKind>,
    pub code: Nullable<String>,
    pub name: Field<String>,
    pub parent_id: Nullable<i64>,
    pub population: Nullable<i64>,
    pub lat: Nullable<f64>,
    pub lon: Nullable<f64>,
}

#[derive(Debug, Clone, Default)]
pub struct PartnerPatch {
    pub r#ref: Field<String>,
    pub name: Field<String>,
    pub kind: Field<PartnerKind>,
    pub siret: Nullable<String>,
    pub parent_id: Nullable<i64>,
    pub territory_id: Nullable<i64>,
    pub website: Nullable<String>,
    pub email: Nullable<String>,
    pub phone: Nullable<String>,
    pub description: Nullable<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ContactPatch {
    pub r#ref: Field<String>,
    pub partner_id: Field<i64>,
    pub full_name: Field<String>,
    pub role_title: Nullable<String>,
    pub email: Nullable<String>,
    pub phone: Nullable<String>,
}

#[derive(Debug, Clone, Default)]
pub struct NetworkPatch {
    pub r#ref: Field<String>,
    pub name: Field<String>,
    pub kind: Field<NetworkKind>,
    pub territory_id: Nullable<i64>,
    pub parent_id: Nullable<i64>,
    pub started_on: Nullable<NaiveDate>,
    pub ended_on: Nullable<NaiveDate>,
    pub description: Nullable<String>,
    /// `Some(None)` puts back the default of its kind.
    pub visibility: Nullable<Visibility>,
}

#[derive(Debug, Clone, Default)]
pub struct ActionPatch {
    pub r#ref: Field<String>,
    pub title: Field<String>,
    pub theme: Field<Theme>,
    pub status: Field<ActionStatus>,
    pub network_id: Nullable<i64>,
    pub started_on: Nullable<NaiveDate>,
    pub ended_on: Nullable<NaiveDate>,
    /// Euros.
    pub budget: Nullable<f64>,
    pub beneficiaries: Nullable<i64>,
    pub description: Nullable<String>,
    /// `Some(None)` puts back the default of its kind.
    pub visibility: Nullable<Visibility>,
}

#[derive(Debug, Clone, Default)]
pub struct MembershipPatch {
    pub network_id: Field<i64>,
    pub partner_id: Field<i64>,
    pub role: Field<MembershipRole>,
    pub since: Nullable<NaiveDate>,
    pub until: Nullable<NaiveDate>,
}

#[derive(Debug, Clone, Default)]
pub struct ParticipationPatch {
    pub action_id: Field<i64>,
    pub partner_id: Field<i64>,
    pub role: Field<ParticipationRole>,
    /// Euros.
    pub contribution: Nullable<f64>,
}

#[derive(Debug, Clone, Default)]
pub struct RelationPatch {
    pub from_partner_id: Field<i64>,
    pub to_partner_id: Field<i64>,
    pub kind: Field<RelationKind>,
    pub since: Nullable<NaiveDate>,
    pub until: Nullable<NaiveDate>,
    /// `None` on creation: 1.
    pub weight: Field<f64>,
    pub note: Nullable<String>,
    /// `Some(None)` puts back the default of its kind.
    pub visibility: Nullable<Visibility>,
}

#[derive(Debug, Clone, Default)]
pub struct ServedTerritoryPatch {
    pub partner_id: Field<i64>,
    pub territory_id: Field<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct ActionTerritoryPatch {
    pub action_id: Field<i64>,
    pub territory_id: Field<i64>,
}

/// New values for a record of some type.
#[derive(Debug, Clone)]
pub enum Patch {
    Territory(TerritoryPatch),
    Partner(PartnerPatch),
    Contact(ContactPatch),
    Network(NetworkPatch),
    Membership(MembershipPatch),
    Action(ActionPatch),
    Participation(ParticipationPatch),
    Relation(RelationPatch),
    ServedTerritory(ServedTerritoryPatch),
    ActionTerritory(ActionTerritoryPatch),
}

/// One edit. Every write of the API is one of these.
#[derive(Debug, Clone)]
pub enum Edit {
    /// A new record; the patch must give every required field.
    Create(Patch),
    /// Changes the fields the patch gives, if the record is still at `expected_version`.
    Update {
        id: i64,
        expected_version: i32,
        patch: Patch,
    },
    /// Deletes a record (if still at `expected_version`, when given).
    Delete {
        record: RecordType,
        id: i64,
        expected_version: Option<i32>,
    },
    /// Deletes the link row of a type keyed by two ids (served territory:
    /// partner, territory; action territory: action, territory).
    Unlink { record: RecordType, a: i64, b: i64 },
}
