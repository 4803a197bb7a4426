//! The closure of the territory tree (`territory_ancestors`), rebuilt after
//! every write to territories, in the writer's transaction.
//!
//! A full rebuild is one statement and takes well under a second for every
//! territory of France (~38 000 rows, depth ≤ 5); territories change rarely
//! (imports, an occasional edit), so incremental maintenance would buy
//! nothing but bugs.

use sea_orm::{ConnectionTrait, DbBackend};

use super::Result;
use super::upsert::Stripped;

/// Recomputes `territory_ancestors` from `territories.parent_id`.
pub async fn rebuild<C: ConnectionTrait>(db: &C) -> Result<()> {
    db.execute_unprepared("DELETE FROM territory_ancestors").await?;
    // On PostgreSQL the table is refilled without its keys and secondary
    // index, rebuilt after: checking two foreign keys row by row made this
    // 1.7 s of the national import (160 000 rows), the query itself 0.15 s.
    // The price: readers of the closure wait from here to the commit (the
    // end of the import, well under a second) instead of reading the old
    // rows meanwhile.
    let stripped = match db.get_database_backend() {
        DbBackend::Postgres => Some(Stripped::strip(db, "territory_ancestors").await?),
        _ => None,
    };
    // The depth guard only matters if a cycle slipped in; validation refuses them.
    db.execute_unprepared(
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
    if let Some(s) = stripped {
        s.restore(db).await?;
    }
    Ok(())
}
