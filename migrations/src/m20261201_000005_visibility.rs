//! Visibility of networks, actions and relations: `public`, `members` (the
//! partners involved) or `internal` (the directorate only).
//!
//! The column is nullable: NULL means "the default for its kind", which the
//! storage layer spells out in SQL (a GLTD's or a CDDF's work is internal,
//! a CISPD's is for its members, an action follows its network, a relation is
//! for the two partners). Keeping the default out of the rows lets it be
//! changed later without rewriting them, and lets bundles without the column
//! round-trip unchanged.

use sea_orm_migration::prelude::*;

use crate::util::*;

const VISIBILITY: &[&str] = &["public", "members", "internal"];

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000005_visibility"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["networks", "actions", "relations"] {
            m.alter_table(
                Table::alter()
                    .table(n(table))
                    .add_column(enum_col("visibility", VISIBILITY, true))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["networks", "actions", "relations"] {
            m.alter_table(Table::alter().table(n(table)).drop_column(n("visibility")).to_owned())
                .await?;
        }
        Ok(())
    }
}
