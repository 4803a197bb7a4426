//! The typed content of a valid bundle (see `shared/bundle-format.md`).
//!
//! References between records are kept as the bundle's own ids (`*_ref`):
//! the storage layer resolves them to database keys when it writes.

use chrono::NaiveDate;

use crate::model::*;

/// A whole, validated bundle. Rows keep the order they had in their file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bundle {
    pub territories: Vec<Territory>,
    pub partners: Vec<Partner>,
    pub partner_territories: Vec<PartnerTerritory>,
    pub contacts: Vec<Contact>,
    pub networks: Vec<Network>,
    pub memberships: Vec<Membership>,
    pub actions: Vec<Action>,
    pub action_partners: Vec<ActionPartner>,
    pub action_territories: Vec<ActionTerritory>,
    pub relations: Vec<Relation>,
    /// Which optional files were present: an incremental import only touches
    /// (and `--replace` only prunes) the kinds of rows the bundle carries.
    pub present: Present,
}

/// The typed rows of one file, as [`check_streaming`](super::check_streaming)
/// hands them over.
#[derive(Debug)]
pub enum Part {
    Territories(Vec<Territory>),
    Partners(Vec<Partner>),
    PartnerTerritories(Vec<PartnerTerritory>),
    Contacts(Vec<Contact>),
    Networks(Vec<Network>),
    Memberships(Vec<Membership>),
    Actions(Vec<Action>),
    ActionPartners(Vec<ActionPartner>),
    ActionTerritories(Vec<ActionTerritory>),
    Relations(Vec<Relation>),
}

/// The optional files a bundle carried (territories and partners are always there).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Present {
    pub partner_territories: bool,
    pub contacts: bool,
    pub networks: bool,
    pub memberships: bool,
    pub actions: bool,
    pub action_partners: bool,
    pub action_territories: bool,
    pub relations: bool,
}

impl Present {
    /// Every file present (what an export writes).
    pub const ALL: Present = Present {
        partner_territories: true,
        contacts: true,
        networks: true,
        memberships: true,
        actions: true,
        action_partners: true,
        action_territories: true,
        relations: true,
    };
}

#[derive(Debug, Clone, PartialEq)]
pub struct Territory {
    pub id: String,
    pub kind: TerritoryKind,
    pub code: Option<String>,
    pub name: String,
    pub parent_ref: Option<String>,
    pub population: Option<i64>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Partner {
    pub id: String,
    pub name: String,
    pub kind: PartnerKind,
    pub siret: Option<String>,
    pub parent_ref: Option<String>,
    pub territory_ref: Option<String>,
    pub website: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PartnerTerritory {
    pub partner_ref: String,
    pub territory_ref: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub id: String,
    pub partner_ref: String,
    pub full_name: String,
    pub role_title: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    pub id: String,
    pub name: String,
    pub kind: NetworkKind,
    pub territory_ref: Option<String>,
    pub parent_ref: Option<String>,
    pub started_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub description: Option<String>,
    /// None: the default of its kind.
    pub visibility: Option<Visibility>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub network_ref: String,
    pub partner_ref: String,
    pub role: MembershipRole,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub id: String,
    pub title: String,
    pub theme: Theme,
    pub status: ActionStatus,
    pub network_ref: Option<String>,
    pub started_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub budget_cents: Option<Cents>,
    pub beneficiaries: Option<i64>,
    pub description: Option<String>,
    /// None: its network's, else public.
    pub visibility: Option<Visibility>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActionPartner {
    pub action_ref: String,
    pub partner_ref: String,
    pub role: ParticipationRole,
    pub contribution_cents: Option<Cents>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActionTerritory {
    pub action_ref: String,
    pub territory_ref: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    pub from_ref: String,
    pub to_ref: String,
    pub kind: RelationKind,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    /// Always > 0; 1 when the bundle leaves it empty.
    pub weight: f64,
    pub note: Option<String>,
    /// None: the two partners' (members).
    pub visibility: Option<Visibility>,
}

/// What the hub already holds, for validating an incremental bundle: a
/// reference may point at a record that is not in the bundle but is in the
/// database, and the tree rules (rank, cycles, one lead) span both.
#[derive(Debug, Clone, Default)]
pub struct Existing {
    /// territory ref → (kind, parent ref)
    pub territories: std::collections::HashMap<String, (TerritoryKind, Option<String>)>,
    /// (kind, code) → territory ref
    pub territory_codes: std::collections::HashMap<(TerritoryKind, String), String>,
    /// partner ref → parent ref
    pub partners: std::collections::HashMap<String, Option<String>>,
    /// network ref → parent ref
    pub networks: std::collections::HashMap<String, Option<String>>,
    pub actions: std::collections::HashSet<String>,
    pub contacts: std::collections::HashSet<String>,
    /// action ref → the ref of its lead partner
    pub leads: std::collections::HashMap<String, String>,
}
