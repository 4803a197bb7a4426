//! `territory_ancestors`: the closure of the territory tree (every territory
//! with each of its ancestors and itself, and the distance between them).
//!
//! "Within a territory" is the question analysts ask most (a department
//! finds the actions of its communes and QPVs; statistics roll up to the
//! intercommunality). With the closure it is one indexed join on both
//! engines, instead of a recursive query per request. The table is derived
//! data: the storage layer rebuilds it whenever territories are written.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000002_territory_ancestors"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Table::create();
        t.table(n("territory_ancestors"))
            .col(big_integer(n("territory_id")))
            .col(big_integer(n("ancestor_id")))
            // 0 for the territory itself, 1 for its parent, …
            .col(integer(n("depth")))
            .primary_key(Index::create().col(n("territory_id")).col(n("ancestor_id")))
            .foreign_key(&mut fk(
                "territory_ancestors",
                "territory_id",
                "territories",
                ForeignKeyAction::Cascade,
            ))
            .foreign_key(&mut fk(
                "territory_ancestors",
                "ancestor_id",
                "territories",
                ForeignKeyAction::Cascade,
            ));
        m.create_table(t).await?;
        m.create_index(index("territory_ancestors", &["ancestor_id", "depth"]))
            .await?;
        // Fill it for a database migrated with territories already in it.
        m.get_connection()
            .execute_unprepared(
                "INSERT INTO territory_ancestors (territory_id, ancestor_id, depth) \
                 WITH RECURSIVE a(territory_id, ancestor_id, depth) AS ( \
                   SELECT id, id, 0 FROM territories \
                   UNION ALL \
                   SELECT a.territory_id, t.parent_id, a.depth + 1 FROM a \
                   JOIN territories t ON t.id = a.ancestor_id \
                   WHERE t.parent_id IS NOT NULL AND a.depth < 16) \
                 SELECT territory_id, ancestor_id, depth FROM a",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(n("territory_ancestors")).to_owned())
            .await
    }
}
