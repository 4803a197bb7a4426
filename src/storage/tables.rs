//! The columns an import writes, table by table, and where each value comes
//! from in a bundle row. This is the one list of them: both engines' write
//! paths (multi-row `INSERT` on SQLite, binary `COPY` on PostgreSQL) and
//! the `ON CONFLICT` merge are driven by it, so adding a column to a table
//! is adding one line here (and its migration).

use chrono::NaiveDate;

use crate::bundle::*;
use crate::model::text::search_key;

/// A record table others refer to by its bundle id (`ref`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Territories,
    Partners,
    Networks,
    Actions,
    Contacts,
}

/// The value a bundle row gives one column, before references are resolved
/// to database ids.
pub enum Field<'r> {
    Null,
    Text(&'r str),
    Owned(String),
    Int(i64),
    Float(f64),
    Date(NaiveDate),
    /// The import's timestamp (`created_at`, `updated_at`).
    Now,
    /// The id of the record of `Target` the bundle names (NULL when it
    /// names none). A reference to the table's own target is the parent of
    /// a tree, which may be written late (see `import::Writer`).
    Ref(Target, Option<&'r str>),
}

impl<'r> Field<'r> {
    pub fn text(v: &'r Option<String>) -> Self {
        v.as_deref().map_or(Field::Null, Field::Text)
    }
    pub fn int(v: Option<i64>) -> Self {
        v.map_or(Field::Null, Field::Int)
    }
    pub fn date(v: Option<NaiveDate>) -> Self {
        v.map_or(Field::Null, Field::Date)
    }
    pub fn float(v: Option<f64>) -> Self {
        v.map_or(Field::Null, Field::Float)
    }
    /// NULL when the bundle leaves it to the record's kind.
    pub fn visibility(v: Option<crate::model::Visibility>) -> Self {
        v.map_or(Field::Null, |v| Field::Text(v.as_str()))
    }
    pub fn search(v: &str) -> Self {
        Field::Owned(search_key(v))
    }
}

/// One column and how a row of `R` fills it.
pub struct Column<R> {
    pub name: &'static str,
    pub get: fn(&R) -> Field<'_>,
}

/// A row's own bundle id.
pub type RowRef<R> = fn(&R) -> &str;

/// How the rows of one bundle file are written to their table.
pub struct Table<R: 'static> {
    pub name: &'static str,
    /// For a record table: what others call it, and the row's bundle id.
    pub record: Option<(Target, RowRef<R>)>,
    /// The columns of the unique key rows are matched by on re-import.
    pub key: &'static [&'static str],
    /// Every written column but `id` and `version`, in the order rows are sent.
    pub columns: &'static [Column<R>],
}

impl<R> Table<R> {
    pub fn column_names(&self) -> Vec<&'static str> {
        self.columns.iter().map(|c| c.name).collect()
    }
}

/// Columns only set when a row is inserted (not when it is updated).
pub const FIXED: &[&str] = &["created_at"];

macro_rules! col {
    ($name:literal, $get:expr) => {
        Column { name: $name, get: $get }
    };
}

/// `created_at`, `updated_at`: the bookkeeping every table carries.
macro_rules! created {
    () => {
        col!("created_at", |_| Field::Now)
    };
}
macro_rules! updated {
    () => {
        col!("updated_at", |_| Field::Now)
    };
}

pub const TERRITORIES: Table<Territory> = Table {
    name: "territories",
    record: Some((Target::Territories, |x| &x.id)),
    key: &["ref"],
    columns: &[
        col!("ref", |x| Field::Text(&x.id)),
        col!("kind", |x| Field::Text(x.kind.as_str())),
        col!("code", |x| Field::text(&x.code)),
        col!("name", |x| Field::Text(&x.name)),
        col!("name_search", |x| Field::search(&x.name)),
        col!("parent_id", |x| Field::Ref(
            Target::Territories,
            x.parent_ref.as_deref()
        )),
        col!("population", |x| Field::int(x.population)),
        col!("lat", |x| Field::float(x.lat)),
        col!("lon", |x| Field::float(x.lon)),
        created!(),
        updated!(),
    ],
};

pub const PARTNERS: Table<Partner> = Table {
    name: "partners",
    record: Some((Target::Partners, |x| &x.id)),
    key: &["ref"],
    columns: &[
        col!("ref", |x| Field::Text(&x.id)),
        col!("name", |x| Field::Text(&x.name)),
        col!("name_search", |x| Field::search(&x.name)),
        col!("kind", |x| Field::Text(x.kind.as_str())),
        col!("siret", |x| Field::text(&x.siret)),
        col!("parent_id", |x| Field::Ref(Target::Partners, x.parent_ref.as_deref())),
        col!("territory_id", |x| Field::Ref(
            Target::Territories,
            x.territory_ref.as_deref()
        )),
        col!("website", |x| Field::text(&x.website)),
        col!("email", |x| Field::text(&x.email)),
        col!("phone", |x| Field::text(&x.phone)),
        col!("description", |x| Field::text(&x.description)),
        created!(),
        updated!(),
    ],
};

pub const PARTNER_TERRITORIES: Table<PartnerTerritory> = Table {
    name: "partner_territories",
    record: None,
    key: &["partner_id", "territory_id"],
    columns: &[
        col!("partner_id", |x| Field::Ref(Target::Partners, Some(&x.partner_ref))),
        col!("territory_id", |x| Field::Ref(
            Target::Territories,
            Some(&x.territory_ref)
        )),
        created!(),
        updated!(),
    ],
};

pub const CONTACTS: Table<Contact> = Table {
    name: "contacts",
    record: Some((Target::Contacts, |x| &x.id)),
    key: &["ref"],
    columns: &[
        col!("ref", |x| Field::Text(&x.id)),
        col!("partner_id", |x| Field::Ref(Target::Partners, Some(&x.partner_ref))),
        col!("full_name", |x| Field::Text(&x.full_name)),
        col!("name_search", |x| Field::search(&x.full_name)),
        col!("role_title", |x| Field::text(&x.role_title)),
        col!("email", |x| Field::text(&x.email)),
        col!("phone", |x| Field::text(&x.phone)),
        created!(),
        updated!(),
    ],
};

pub const NETWORKS: Table<Network> = Table {
    name: "networks",
    record: Some((Target::Networks, |x| &x.id)),
    key: &["ref"],
    columns: &[
        col!("ref", |x| Field::Text(&x.id)),
        col!("name", |x| Field::Text(&x.name)),
        col!("name_search", |x| Field::search(&x.name)),
        col!("kind", |x| Field::Text(x.kind.as_str())),
        col!("territory_id", |x| Field::Ref(
            Target::Territories,
            x.territory_ref.as_deref()
        )),
        col!("parent_id", |x| Field::Ref(Target::Networks, x.parent_ref.as_deref())),
        col!("started_on", |x| Field::date(x.started_on)),
        col!("ended_on", |x| Field::date(x.ended_on)),
        col!("description", |x| Field::text(&x.description)),
        col!("visibility", |x| Field::visibility(x.visibility)),
        created!(),
        updated!(),
    ],
};

pub const MEMBERSHIPS: Table<Membership> = Table {
    name: "memberships",
    record: None,
    key: &["network_id", "partner_id"],
    columns: &[
        col!("network_id", |x| Field::Ref(Target::Networks, Some(&x.network_ref))),
        col!("partner_id", |x| Field::Ref(Target::Partners, Some(&x.partner_ref))),
        col!("role", |x| Field::Text(x.role.as_str())),
        col!("since", |x| Field::date(x.since)),
        col!("until", |x| Field::date(x.until)),
        created!(),
        updated!(),
    ],
};

pub const ACTIONS: Table<Action> = Table {
    name: "actions",
    record: Some((Target::Actions, |x| &x.id)),
    key: &["ref"],
    columns: &[
        col!("ref", |x| Field::Text(&x.id)),
        col!("title", |x| Field::Text(&x.title)),
        col!("title_search", |x| Field::search(&x.title)),
        col!("theme", |x| Field::Text(x.theme.as_str())),
        col!("status", |x| Field::Text(x.status.as_str())),
        col!("network_id", |x| Field::Ref(Target::Networks, x.network_ref.as_deref())),
        col!("started_on", |x| Field::date(x.started_on)),
        col!("ended_on", |x| Field::date(x.ended_on)),
        col!("budget_cents", |x| Field::int(x.budget_cents)),
        col!("beneficiaries", |x| Field::int(x.beneficiaries)),
        col!("description", |x| Field::text(&x.description)),
        col!("visibility", |x| Field::visibility(x.visibility)),
        created!(),
        updated!(),
    ],
};

pub const ACTION_PARTNERS: Table<ActionPartner> = Table {
    name: "action_partners",
    record: None,
    key: &["action_id", "partner_id"],
    columns: &[
        col!("action_id", |x| Field::Ref(Target::Actions, Some(&x.action_ref))),
        col!("partner_id", |x| Field::Ref(Target::Partners, Some(&x.partner_ref))),
        col!("role", |x| Field::Text(x.role.as_str())),
        col!("contribution_cents", |x| Field::int(x.contribution_cents)),
        created!(),
        updated!(),
    ],
};

pub const ACTION_TERRITORIES: Table<ActionTerritory> = Table {
    name: "action_territories",
    record: None,
    key: &["action_id", "territory_id"],
    columns: &[
        col!("action_id", |x| Field::Ref(Target::Actions, Some(&x.action_ref))),
        col!("territory_id", |x| Field::Ref(
            Target::Territories,
            Some(&x.territory_ref)
        )),
        created!(),
        updated!(),
    ],
};

pub const RELATIONS: Table<Relation> = Table {
    name: "relations",
    record: None,
    key: &["from_partner_id", "to_partner_id", "kind"],
    columns: &[
        col!("from_partner_id", |x| Field::Ref(Target::Partners, Some(&x.from_ref))),
        col!("to_partner_id", |x| Field::Ref(Target::Partners, Some(&x.to_ref))),
        col!("kind", |x| Field::Text(x.kind.as_str())),
        col!("since", |x| Field::date(x.since)),
        col!("until", |x| Field::date(x.until)),
        col!("weight", |x| Field::Float(x.weight)),
        col!("note", |x| Field::text(&x.note)),
        col!("visibility", |x| Field::visibility(x.visibility)),
        created!(),
        updated!(),
    ],
};
