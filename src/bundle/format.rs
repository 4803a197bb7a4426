//! The files of the format and their columns (the reference validator's
//! `SCHEMA`, `FILE_ORDER`, `DATE_RANGES` and `LINK_KEYS`): which files, in
//! which order, each column's name, whether it is required and what it
//! holds, and the columns the row rules single out.
//!
//! Both sides of the format read it: the reader ([`check`](super::check))
//! checks each row against it, the writer ([`write_dir`](super::write_dir))
//! writes each file's header from it. It uses neither.

use crate::model::*;

pub(super) const TERRITORIES: usize = 0;
pub(super) const PARTNERS: usize = 1;
pub(super) const PARTNER_TERRITORIES: usize = 2;
pub(super) const CONTACTS: usize = 3;
pub(super) const NETWORKS: usize = 4;
pub(super) const MEMBERSHIPS: usize = 5;
pub(super) const ACTIONS: usize = 6;
pub(super) const ACTION_PARTNERS: usize = 7;
pub(super) const ACTION_TERRITORIES: usize = 8;
pub(super) const RELATIONS: usize = 9;
pub(super) const FILES: usize = 10;

/// The bundle's files, in the order they are read. The order matters: a
/// reference to an earlier file is checked as soon as the row is read.
pub(super) const FILE_NAMES: [&str; FILES] = [
    "territories.csv",
    "partners.csv",
    "partner_territories.csv",
    "contacts.csv",
    "networks.csv",
    "memberships.csv",
    "actions.csv",
    "action_partners.csv",
    "action_territories.csv",
    "relations.csv",
];

pub(super) const REQUIRED_FILES: [usize; 2] = [TERRITORIES, PARTNERS];

/// What a referenced record is called in messages.
pub(super) fn ref_label(file: usize) -> &'static str {
    match file {
        TERRITORIES => "territory",
        PARTNERS => "partner",
        NETWORKS => "network",
        ACTIONS => "action",
        _ => "record",
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Ty {
    Id,
    Text,
    Enum(Vocab),
    /// A reference to a row of that file.
    Ref(usize),
    Date,
    Money,
    Int,
    /// A number > 0 (`weight`).
    PosNumber,
    Lat,
    Lon,
    Siret,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Vocab {
    TerritoryKind,
    PartnerKind,
    NetworkKind,
    MembershipRole,
    Theme,
    ActionStatus,
    ParticipationRole,
    RelationKind,
    Visibility,
}

impl Vocab {
    /// The value's position in its vocabulary, `None` when it is not in it.
    pub(super) fn ordinal(self, s: &str) -> Option<u32> {
        match self {
            Vocab::TerritoryKind => TerritoryKind::parse(s).map(|v| v as u32),
            Vocab::PartnerKind => PartnerKind::parse(s).map(|v| v as u32),
            Vocab::NetworkKind => NetworkKind::parse(s).map(|v| v as u32),
            Vocab::MembershipRole => MembershipRole::parse(s).map(|v| v as u32),
            Vocab::Theme => Theme::parse(s).map(|v| v as u32),
            Vocab::ActionStatus => ActionStatus::parse(s).map(|v| v as u32),
            Vocab::ParticipationRole => ParticipationRole::parse(s).map(|v| v as u32),
            Vocab::RelationKind => RelationKind::parse(s).map(|v| v as u32),
            Vocab::Visibility => Visibility::parse(s).map(|v| v as u32),
        }
    }

    pub(super) fn strings(self) -> Vec<&'static str> {
        match self {
            Vocab::TerritoryKind => TerritoryKind::strings(),
            Vocab::PartnerKind => PartnerKind::strings(),
            Vocab::NetworkKind => NetworkKind::strings(),
            Vocab::MembershipRole => MembershipRole::strings(),
            Vocab::Theme => Theme::strings(),
            Vocab::ActionStatus => ActionStatus::strings(),
            Vocab::ParticipationRole => ParticipationRole::strings(),
            Vocab::RelationKind => RelationKind::strings(),
            Vocab::Visibility => Visibility::strings(),
        }
    }
}

/// One column of a file, as in the format's tables.
#[derive(Debug, Clone, Copy)]
pub(super) struct Col {
    pub name: &'static str,
    pub required: bool,
    pub ty: Ty,
}

const fn col(name: &'static str, required: bool, ty: Ty) -> Col {
    Col { name, required, ty }
}

/// The columns of each file, in the format's order (which is also the order
/// in which a row's values are checked, and the order an export writes).
pub(super) const SCHEMA: [&[Col]; FILES] = [
    &[
        col("id", true, Ty::Id),
        col("kind", true, Ty::Enum(Vocab::TerritoryKind)),
        col("code", false, Ty::Text),
        col("name", true, Ty::Text),
        col("parent_id", false, Ty::Ref(TERRITORIES)),
        col("population", false, Ty::Int),
        col("lat", false, Ty::Lat),
        col("lon", false, Ty::Lon),
    ],
    &[
        col("id", true, Ty::Id),
        col("name", true, Ty::Text),
        col("kind", true, Ty::Enum(Vocab::PartnerKind)),
        col("siret", false, Ty::Siret),
        col("parent_id", false, Ty::Ref(PARTNERS)),
        col("territory_id", false, Ty::Ref(TERRITORIES)),
        col("website", false, Ty::Text),
        col("email", false, Ty::Text),
        col("phone", false, Ty::Text),
        col("description", false, Ty::Text),
    ],
    &[
        col("partner_id", true, Ty::Ref(PARTNERS)),
        col("territory_id", true, Ty::Ref(TERRITORIES)),
    ],
    &[
        col("id", true, Ty::Id),
        col("partner_id", true, Ty::Ref(PARTNERS)),
        col("full_name", true, Ty::Text),
        col("role_title", false, Ty::Text),
        col("email", false, Ty::Text),
        col("phone", false, Ty::Text),
    ],
    &[
        col("id", true, Ty::Id),
        col("name", true, Ty::Text),
        col("kind", true, Ty::Enum(Vocab::NetworkKind)),
        col("territory_id", false, Ty::Ref(TERRITORIES)),
        col("parent_id", false, Ty::Ref(NETWORKS)),
        col("started_on", false, Ty::Date),
        col("ended_on", false, Ty::Date),
        col("description", false, Ty::Text),
        col("visibility", false, Ty::Enum(Vocab::Visibility)),
    ],
    &[
        col("network_id", true, Ty::Ref(NETWORKS)),
        col("partner_id", true, Ty::Ref(PARTNERS)),
        col("role", true, Ty::Enum(Vocab::MembershipRole)),
        col("since", false, Ty::Date),
        col("until", false, Ty::Date),
    ],
    &[
        col("id", true, Ty::Id),
        col("title", true, Ty::Text),
        col("theme", true, Ty::Enum(Vocab::Theme)),
        col("status", true, Ty::Enum(Vocab::ActionStatus)),
        col("network_id", false, Ty::Ref(NETWORKS)),
        col("started_on", false, Ty::Date),
        col("ended_on", false, Ty::Date),
        col("budget_eur", false, Ty::Money),
        col("beneficiaries", false, Ty::Int),
        col("description", false, Ty::Text),
        col("visibility", false, Ty::Enum(Vocab::Visibility)),
    ],
    &[
        col("action_id", true, Ty::Ref(ACTIONS)),
        col("partner_id", true, Ty::Ref(PARTNERS)),
        col("role", true, Ty::Enum(Vocab::ParticipationRole)),
        col("contribution_eur", false, Ty::Money),
    ],
    &[
        col("action_id", true, Ty::Ref(ACTIONS)),
        col("territory_id", true, Ty::Ref(TERRITORIES)),
    ],
    &[
        col("from_partner_id", true, Ty::Ref(PARTNERS)),
        col("to_partner_id", true, Ty::Ref(PARTNERS)),
        col("kind", true, Ty::Enum(Vocab::RelationKind)),
        col("since", false, Ty::Date),
        col("until", false, Ty::Date),
        col("weight", false, Ty::PosNumber),
        col("note", false, Ty::Text),
        col("visibility", false, Ty::Enum(Vocab::Visibility)),
    ],
];

pub(super) const MAX_COLS: usize = 11;

// Positions of the columns the row rules single out (checked by a test).
pub(super) const ID: usize = 0;
pub(super) const T_KIND: usize = 1;
pub(super) const T_CODE: usize = 2;
pub(super) const AP_ACTION: usize = 0;
pub(super) const AP_PARTNER: usize = 1;
pub(super) const AP_ROLE: usize = 2;
pub(super) const R_FROM: usize = 0;
pub(super) const R_TO: usize = 1;

/// Files whose rows have an `id` (the others are keyed by `link_key`).
pub(super) fn has_id(file: usize) -> bool {
    matches!(file, TERRITORIES | PARTNERS | CONTACTS | NETWORKS | ACTIONS)
}

/// Position of `parent_id` in the files that form a tree.
pub(super) fn parent_col(file: usize) -> Option<usize> {
    match file {
        TERRITORIES | PARTNERS | NETWORKS => Some(4),
        _ => None,
    }
}

/// Start and end columns of the date range a file's rows carry.
pub(super) fn date_range(file: usize) -> Option<(usize, usize)> {
    match file {
        NETWORKS | ACTIONS => Some((5, 6)),
        MEMBERSHIPS | RELATIONS => Some((3, 4)),
        _ => None,
    }
}

/// The columns that identify an id-less row; a duplicate is an error,
/// reported on the last of them.
pub(super) fn link_key(file: usize) -> &'static [usize] {
    match file {
        PARTNER_TERRITORIES | MEMBERSHIPS | ACTION_PARTNERS | ACTION_TERRITORIES => &[0, 1],
        RELATIONS => &[0, 1, 2],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_columns_are_where_the_rules_look() {
        for f in 0..FILES {
            assert_eq!(has_id(f), SCHEMA[f][ID].name == "id", "{}", FILE_NAMES[f]);
            assert_eq!(
                parent_col(f).map(|c| SCHEMA[f][c].name),
                SCHEMA[f].iter().find(|c| c.name == "parent_id").map(|c| c.name)
            );
            assert!(SCHEMA[f].len() <= MAX_COLS);
        }
        assert_eq!(
            (SCHEMA[TERRITORIES][T_KIND].name, SCHEMA[TERRITORIES][T_CODE].name),
            ("kind", "code")
        );
        let ap = SCHEMA[ACTION_PARTNERS];
        assert_eq!(
            [ap[AP_ACTION].name, ap[AP_PARTNER].name, ap[AP_ROLE].name],
            ["action_id", "partner_id", "role"]
        );
        assert_eq!(
            [SCHEMA[RELATIONS][R_FROM].name, SCHEMA[RELATIONS][R_TO].name],
            ["from_partner_id", "to_partner_id"]
        );
        let names = |f: usize, cols: &[usize]| cols.iter().map(|&c| SCHEMA[f][c].name).collect::<Vec<_>>();
        assert_eq!(names(NETWORKS, &[5, 6]), ["started_on", "ended_on"]);
        assert_eq!(names(ACTIONS, &[5, 6]), ["started_on", "ended_on"]);
        assert_eq!(names(MEMBERSHIPS, &[3, 4]), ["since", "until"]);
        assert_eq!(names(RELATIONS, &[3, 4]), ["since", "until"]);
        assert_eq!(names(MEMBERSHIPS, link_key(MEMBERSHIPS)), ["network_id", "partner_id"]);
        assert_eq!(
            names(PARTNER_TERRITORIES, link_key(PARTNER_TERRITORIES)),
            ["partner_id", "territory_id"]
        );
        assert_eq!(
            names(ACTION_PARTNERS, link_key(ACTION_PARTNERS)),
            ["action_id", "partner_id"]
        );
        assert_eq!(
            names(ACTION_TERRITORIES, link_key(ACTION_TERRITORIES)),
            ["action_id", "territory_id"]
        );
        assert_eq!(
            names(RELATIONS, link_key(RELATIONS)),
            ["from_partner_id", "to_partner_id", "kind"]
        );
    }
}
