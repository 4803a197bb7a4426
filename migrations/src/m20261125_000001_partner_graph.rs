//! The partner graph: territories, partners, contacts, networks, actions and
//! the links between them, as described by `shared/bundle-format.md`.
//!
//! Delete rules (relied upon by the API): a link row (membership,
//! participation, served territory, relation, contact) goes with the record
//! it hangs from (`CASCADE`); a record that others are built on (a parent
//! territory, organisation or network, the territory a partner sits in, the
//! network an action runs under) cannot be deleted while they point to it
//! (`NO ACTION`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::*;

const TERRITORY_KINDS: &[&str] = &["region", "department", "epci", "commune", "district", "qpv"];
const PARTNER_KINDS: &[&str] = &[
    "ccas",
    "ml",
    "ft",
    "caf",
    "cd",
    "cr",
    "etat",
    "mairie",
    "epci",
    "police",
    "justice",
    "education",
    "bailleur",
    "prevention",
    "mediation",
    "asso",
    "centre_social",
    "plie",
    "e2c",
    "siae",
    "sante",
    "other",
];
const NETWORK_KINDS: &[&str] = &[
    "cispd",
    "clspd",
    "gltd",
    "cddf",
    "mediation",
    "contrat_de_ville",
    "thematic_group",
    "youth",
    "other",
];
const MEMBERSHIP_ROLES: &[&str] = &["pilot", "member", "funder", "operator", "observer"];
const THEMES: &[&str] = &[
    "youth",
    "delinquency_prevention",
    "mediation",
    "parenting",
    "employment",
    "training",
    "social_inclusion",
    "housing",
    "health",
    "education",
    "culture_sport",
    "urban_renewal",
    "access_to_rights",
    "other",
];
const STATUSES: &[&str] = &["planned", "active", "done", "cancelled"];
const PARTICIPATION_ROLES: &[&str] = &["lead", "co_lead", "operator", "funder", "contributor"];
const RELATION_KINDS: &[&str] = &["convention", "funding", "referral", "coordination", "membership"];

// `NO ACTION` rather than `RESTRICT`: both refuse to orphan a row, but NO ACTION
// is checked at the end of the statement, so one DELETE may remove a parent and
// its children together (needed by `import --replace`).
use ForeignKeyAction::{Cascade, NoAction as Restrict};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000001_partner_graph"
    }
}

/// Tables in creation order (dropped in reverse).
const TABLES: &[&str] = &[
    "territories",
    "partners",
    "partner_territories",
    "contacts",
    "networks",
    "memberships",
    "actions",
    "action_partners",
    "action_territories",
    "relations",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Territories: a tree region › department › epci › commune › district/qpv.
        let mut t = record_table("territories");
        t.col(ref_col())
            .col(enum_col("kind", TERRITORY_KINDS, false))
            .col(string_len_null(n("code"), 32))
            .col(string(n("name")))
            // Lower-case, accent-free copy of the name, for searching.
            .col(string(n("name_search")))
            .col(big_integer_null(n("parent_id")))
            .col(big_integer_null(n("population")).check(Expr::col(n("population")).gte(0)))
            .col(double_null(n("lat")))
            .col(double_null(n("lon")))
            .foreign_key(&mut fk("territories", "parent_id", "territories", Restrict));
        m.create_table(t).await?;
        m.create_index(unique("territories", &["kind", "code"])).await?;
        m.create_index(index("territories", &["code"])).await?;
        m.create_index(index("territories", &["parent_id"])).await?;
        m.create_index(index("territories", &["name_search"])).await?;

        let mut t = record_table("partners");
        t.col(ref_col())
            .col(string(n("name")))
            .col(string(n("name_search")))
            .col(enum_col("kind", PARTNER_KINDS, false))
            .col(string_len_null(n("siret"), 14))
            .col(big_integer_null(n("parent_id")))
            .col(big_integer_null(n("territory_id")))
            .col(string_null(n("website")))
            .col(string_null(n("email")))
            .col(string_null(n("phone")))
            .col(text_null(n("description")))
            .foreign_key(&mut fk("partners", "parent_id", "partners", Restrict))
            .foreign_key(&mut fk("partners", "territory_id", "territories", Restrict));
        m.create_table(t).await?;
        m.create_index(index("partners", &["siret"])).await?;
        m.create_index(index("partners", &["parent_id"])).await?;
        m.create_index(index("partners", &["territory_id"])).await?;
        m.create_index(index("partners", &["kind"])).await?;
        m.create_index(index("partners", &["name_search"])).await?;

        let mut t = record_table("partner_territories");
        t.col(big_integer(n("partner_id")))
            .col(big_integer(n("territory_id")))
            .foreign_key(&mut fk("partner_territories", "partner_id", "partners", Cascade))
            .foreign_key(&mut fk("partner_territories", "territory_id", "territories", Cascade));
        m.create_table(t).await?;
        m.create_index(unique("partner_territories", &["partner_id", "territory_id"]))
            .await?;
        m.create_index(index("partner_territories", &["territory_id"])).await?;

        // Contacts are personal data (GDPR): kept apart from the partner's
        // public contact details so that access rules can hide them whole.
        let mut t = record_table("contacts");
        t.col(ref_col())
            .col(big_integer(n("partner_id")))
            .col(string(n("full_name")))
            .col(string_null(n("role_title")))
            .col(string_null(n("email")))
            .col(string_null(n("phone")))
            .foreign_key(&mut fk("contacts", "partner_id", "partners", Cascade));
        m.create_table(t).await?;
        m.create_index(index("contacts", &["partner_id"])).await?;

        let mut t = record_table("networks");
        t.col(ref_col())
            .col(string(n("name")))
            .col(string(n("name_search")))
            .col(enum_col("kind", NETWORK_KINDS, false))
            .col(big_integer_null(n("territory_id")))
            .col(big_integer_null(n("parent_id")))
            .col(date_null(n("started_on")))
            .col(date_null(n("ended_on")))
            .col(text_null(n("description")))
            .check(period_check("started_on", "ended_on"))
            .foreign_key(&mut fk("networks", "territory_id", "territories", Restrict))
            .foreign_key(&mut fk("networks", "parent_id", "networks", Restrict));
        m.create_table(t).await?;
        m.create_index(index("networks", &["territory_id"])).await?;
        m.create_index(index("networks", &["parent_id"])).await?;
        m.create_index(index("networks", &["kind"])).await?;
        m.create_index(index("networks", &["name_search"])).await?;

        let mut t = record_table("memberships");
        t.col(big_integer(n("network_id")))
            .col(big_integer(n("partner_id")))
            .col(enum_col("role", MEMBERSHIP_ROLES, false))
            .col(date_null(n("since")))
            .col(date_null(n("until")))
            .check(period_check("since", "until"))
            .foreign_key(&mut fk("memberships", "network_id", "networks", Cascade))
            .foreign_key(&mut fk("memberships", "partner_id", "partners", Cascade));
        m.create_table(t).await?;
        m.create_index(unique("memberships", &["network_id", "partner_id"]))
            .await?;
        m.create_index(index("memberships", &["partner_id"])).await?;

        let mut t = record_table("actions");
        t.col(ref_col())
            .col(string(n("title")))
            .col(string(n("title_search")))
            .col(enum_col("theme", THEMES, false))
            .col(enum_col("status", STATUSES, false))
            .col(big_integer_null(n("network_id")))
            .col(date_null(n("started_on")))
            .col(date_null(n("ended_on")))
            .col(big_integer_null(n("budget_cents")).check(Expr::col(n("budget_cents")).gte(0)))
            .col(big_integer_null(n("beneficiaries")).check(Expr::col(n("beneficiaries")).gte(0)))
            .col(text_null(n("description")))
            .check(period_check("started_on", "ended_on"))
            .foreign_key(&mut fk("actions", "network_id", "networks", Restrict));
        m.create_table(t).await?;
        m.create_index(index("actions", &["network_id"])).await?;
        m.create_index(index("actions", &["theme"])).await?;
        m.create_index(index("actions", &["status"])).await?;
        m.create_index(index("actions", &["title_search"])).await?;

        let mut t = record_table("action_partners");
        t.col(big_integer(n("action_id")))
            .col(big_integer(n("partner_id")))
            .col(enum_col("role", PARTICIPATION_ROLES, false))
            .col(big_integer_null(n("contribution_cents")).check(Expr::col(n("contribution_cents")).gte(0)))
            .foreign_key(&mut fk("action_partners", "action_id", "actions", Cascade))
            .foreign_key(&mut fk("action_partners", "partner_id", "partners", Cascade));
        m.create_table(t).await?;
        m.create_index(unique("action_partners", &["action_id", "partner_id"]))
            .await?;
        m.create_index(index("action_partners", &["partner_id"])).await?;
        // At most one lead per action, enforced by the database too: a
        // partial unique index, understood alike by SQLite and PostgreSQL.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_action_partners_one_lead ON action_partners (action_id) WHERE role = 'lead'",
            )
            .await?;

        let mut t = record_table("action_territories");
        t.col(big_integer(n("action_id")))
            .col(big_integer(n("territory_id")))
            .foreign_key(&mut fk("action_territories", "action_id", "actions", Cascade))
            .foreign_key(&mut fk("action_territories", "territory_id", "territories", Cascade));
        m.create_table(t).await?;
        m.create_index(unique("action_territories", &["action_id", "territory_id"]))
            .await?;
        m.create_index(index("action_territories", &["territory_id"])).await?;

        let mut t = record_table("relations");
        t.col(big_integer(n("from_partner_id")))
            .col(big_integer(n("to_partner_id")))
            .col(enum_col("kind", RELATION_KINDS, false))
            .col(date_null(n("since")))
            .col(date_null(n("until")))
            .col(double(n("weight")).default(1.0).check(Expr::col(n("weight")).gt(0)))
            .col(text_null(n("note")))
            .check(period_check("since", "until"))
            .check(Expr::col(n("from_partner_id")).ne(Expr::col(n("to_partner_id"))))
            .foreign_key(&mut fk("relations", "from_partner_id", "partners", Cascade))
            .foreign_key(&mut fk("relations", "to_partner_id", "partners", Cascade));
        m.create_table(t).await?;
        m.create_index(unique("relations", &["from_partner_id", "to_partner_id", "kind"]))
            .await?;
        m.create_index(index("relations", &["to_partner_id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in TABLES.iter().rev() {
            m.drop_table(Table::drop().table(n(t)).to_owned()).await?;
        }
        Ok(())
    }
}
