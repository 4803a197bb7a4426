//! Access control: API keys, and the append-only audit log.
//!
//! An API key is shown once, at creation; only its SHA-256 is stored. Keys
//! are 256-bit random, so a fast hash is as safe as a slow one here (slow
//! hashes protect guessable passwords) and keeps authentication off the
//! request's critical path. The `prefix` (not secret) finds the row.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::*;

const ROLES: &[&str] = &["admin", "coordinator", "analyst", "partner"];

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000004_access"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Table::create();
        t.table(n("api_keys"))
            .col(big_pk_auto(n("id")))
            .col(string_len_uniq(n("prefix"), 16))
            .col(string_len(n("secret_hash"), 64))
            .col(string(n("name")))
            .col(enum_col("role", ROLES, false))
            .col(big_integer_null(n("partner_id")))
            // Whether an analyst key may read contacts' names, e-mails and phones.
            .col(boolean(n("contact_details")).default(false))
            .col(timestamp_with_time_zone(n("created_at")))
            .col(timestamp_with_time_zone_null(n("revoked_at")))
            .check(
                Expr::col(n("role"))
                    .ne("partner")
                    .or(Expr::col(n("partner_id")).is_not_null()),
            )
            .foreign_key(&mut fk("api_keys", "partner_id", "partners", ForeignKeyAction::Cascade));
        m.create_table(t).await?;

        let mut t = Table::create();
        t.table(n("audit_log"))
            .col(big_pk_auto(n("id")))
            .col(timestamp_with_time_zone(n("at")))
            // Who: the key's name or the token's subject, and the role it acted with.
            .col(string(n("principal")))
            .col(string_len(n("role"), 32))
            // What: the operation (a mutation's name, `import`), on which record.
            .col(string(n("operation")))
            .col(string_len_null(n("record_type"), 32))
            .col(big_integer_null(n("record_id")))
            // Before and after, as JSON text (null for a creation / a deletion).
            .col(text_null(n("before")))
            .col(text_null(n("after")));
        m.create_table(t).await?;
        m.create_index(index("audit_log", &["record_type", "record_id"]))
            .await?;
        m.create_index(index("audit_log", &["principal"])).await?;
        m.create_index(index("audit_log", &["at"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(n("audit_log")).to_owned()).await?;
        m.drop_table(Table::drop().table(n("api_keys")).to_owned()).await
    }
}
