//! Text search from an index, on both engines.
//!
//! A `search` filter keeps the rows whose search key (`partners.name_search`,
//! `actions.title_search`, …) contains every word asked, anywhere: a
//! `LIKE '%word%'`, which no B-tree serves, so every search read every key.
//!
//! - PostgreSQL: a `pg_trgm` GIN index on each key column serves those
//!   `LIKE`s directly (words of three characters or more). The extension
//!   ships with PostgreSQL and is trusted (PostgreSQL 13 and later): a role
//!   with `CREATE` on the database installs it. When the role may not, the
//!   migration still succeeds, without the indexes: searches then scan as
//!   before, and maillage warns at every start until a superuser has run
//!   `CREATE EXTENSION pg_trgm` in the database; the next start then builds
//!   the indexes ([`trigram_indexes`]).
//! - SQLite: an FTS5 table per searchable table, trigram tokenizer, with
//!   the key as external content (`content=`, `content_rowid='id'`: the
//!   key is not stored twice), kept in step with the rows by triggers after
//!   every insert, delete and change of the key, whoever writes (imports,
//!   edits, cascades), and filled once here (`rebuild`). Case-sensitive
//!   trigrams: keys and words are lower case already, and so a match is
//!   exactly the substring the `LIKE` found, with no folding of its own.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000009_search_index"
    }
}

/// Each searchable table and its search key column.
pub const SEARCH_KEYS: [(&str, &str); 5] = [
    ("partners", "name_search"),
    ("networks", "name_search"),
    ("territories", "name_search"),
    ("actions", "title_search"),
    ("contacts", "name_search"),
];

/// The name of the trigram index (PostgreSQL) of `table`'s search key.
pub fn trigram_index(table: &str) -> String {
    format!("ix_{table}_search_trgm")
}

/// The name of the FTS5 table (SQLite) of `table`'s search key.
pub fn fts_table(table: &str) -> String {
    format!("{table}_fts")
}

/// PostgreSQL: creates `pg_trgm` if it is missing and the trigram index
/// of every search key that lacks one; returns whether all of them exist
/// now. Each step runs under a savepoint, so that a role that may not
/// create the extension (or whose extension lives outside the search path)
/// leaves the transaction usable and gets `false`.
pub async fn trigram_indexes<C: ConnectionTrait>(db: &C) -> Result<bool, DbErr> {
    let mut statements = vec!["CREATE EXTENSION IF NOT EXISTS pg_trgm".to_owned()];
    for (table, col) in SEARCH_KEYS {
        statements.push(format!(
            "CREATE INDEX IF NOT EXISTS \"{}\" ON \"{table}\" USING gin (\"{col}\" gin_trgm_ops)",
            trigram_index(table)
        ));
    }
    for sql in statements {
        db.execute_unprepared("SAVEPOINT maillage_search").await?;
        if db.execute_unprepared(&sql).await.is_err() {
            db.execute_unprepared("ROLLBACK TO SAVEPOINT maillage_search").await?;
            return Ok(false);
        }
        db.execute_unprepared("RELEASE SAVEPOINT maillage_search").await?;
    }
    Ok(true)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    // On SQLite too: the tables, their triggers and their filling go in
    // together or not at all.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if db.get_database_backend() == DbBackend::Postgres {
            // Without the extension, the migration is done all the same;
            // `storage::open` warns and builds the indexes once it can.
            trigram_indexes(db).await?;
            return Ok(());
        }
        for (table, col) in SEARCH_KEYS {
            let fts = fts_table(table);
            let add = format!("INSERT INTO \"{fts}\" (rowid, \"{col}\") VALUES (new.id, new.\"{col}\")");
            let remove =
                format!("INSERT INTO \"{fts}\" (\"{fts}\", rowid, \"{col}\") VALUES ('delete', old.id, old.\"{col}\")");
            db.execute_unprepared(&format!(
                "CREATE VIRTUAL TABLE \"{fts}\" USING fts5(\"{col}\", content='{table}', content_rowid='id', \
                 tokenize='trigram case_sensitive 1');
                 CREATE TRIGGER \"{fts}_insert\" AFTER INSERT ON \"{table}\" BEGIN {add}; END;
                 CREATE TRIGGER \"{fts}_delete\" AFTER DELETE ON \"{table}\" BEGIN {remove}; END;
                 CREATE TRIGGER \"{fts}_update\" AFTER UPDATE OF \"{col}\" ON \"{table}\"
                   WHEN old.\"{col}\" IS NOT new.\"{col}\" BEGIN {remove}; {add}; END;
                 INSERT INTO \"{fts}\" (\"{fts}\") VALUES ('rebuild');"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for (table, _) in SEARCH_KEYS {
            let sql = match db.get_database_backend() {
                DbBackend::Postgres => format!("DROP INDEX IF EXISTS \"{}\"", trigram_index(table)),
                // The triggers first: they would write to a dropped table.
                _ => {
                    let fts = fts_table(table);
                    format!(
                        "DROP TRIGGER IF EXISTS \"{fts}_insert\"; DROP TRIGGER IF EXISTS \"{fts}_delete\"; \
                         DROP TRIGGER IF EXISTS \"{fts}_update\"; DROP TABLE IF EXISTS \"{fts}\";"
                    )
                }
            };
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
