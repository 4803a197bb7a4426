//! The change log of the partner graph: one row per committed write that
//! the in-memory graph projections (one per running instance) must learn of.
//!
//! Append-only, written in the writer's own transaction: a row exists if
//! and only if its write committed. `seq` orders the rows; instances pull
//! the rows after the last one they applied (told to look by `NOTIFY` on
//! PostgreSQL, by polling elsewhere). `op` is `upsert`, `delete` or
//! `rebuild` (an import: reload everything).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000006_graph_changes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Table::create();
        t.table(n("graph_changes"))
            .col(big_pk_auto(n("seq")))
            .col(timestamp_with_time_zone(n("at")))
            .col(enum_col("op", &["upsert", "delete", "rebuild"], false))
            // The table of the record written (NULL for a rebuild) and its id.
            .col(string_len_null(n("record_type"), 32))
            .col(big_integer_null(n("record_id")));
        m.create_table(t).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(n("graph_changes")).to_owned()).await
    }
}
