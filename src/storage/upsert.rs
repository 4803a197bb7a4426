//! Bulk upserts, the write path of imports into tables that hold rows:
//! batched multi-row `INSERT … ON CONFLICT … DO UPDATE` on SQLite; binary
//! `COPY` into a staging table merged by one `INSERT … SELECT … ON CONFLICT`
//! on PostgreSQL. (A PostgreSQL table that was empty is loaded by `COPY`
//! straight into it, stripped of its checks: see [`Stripped`].)
//!
//! A row whose values did not change is left alone (the `WHERE … IS DISTINCT
//! FROM` guard), so re-importing the same bundle bumps no `version` and no
//! `updated_at`: optimistic concurrency only sees real edits.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement, Value};

use super::pg::{CopyRow, PgTxn};

/// Bound parameters per statement: under SQLite's 32 766 and PostgreSQL's
/// 65 535, and large enough that per-statement costs vanish.
const MAX_PARAMS: usize = 30_000;
const MAX_ROWS: usize = 2_000;

/// One table's bulk upsert: `columns` in the order of each row's values,
/// `key` the columns of its unique index, `fixed` the columns only set on
/// insert (`created_at`).
pub struct Upsert<'a> {
    pub table: &'a str,
    pub columns: &'a [&'a str],
    pub key: &'a [&'a str],
    pub fixed: &'a [&'a str],
}

impl Upsert<'_> {
    fn rows_per_statement(&self) -> usize {
        (MAX_PARAMS / self.columns.len()).min(MAX_ROWS)
    }

    /// Columns a conflict updates, and the comparisons that tell a real
    /// change (not the bookkeeping `updated_at`).
    fn updated(&self) -> (Vec<&str>, Vec<String>) {
        let t = self.table;
        let updated: Vec<&str> = self
            .columns
            .iter()
            .copied()
            .filter(|c| !self.key.contains(c) && !self.fixed.contains(c))
            .collect();
        let compared = updated
            .iter()
            .filter(|c| **c != "updated_at")
            .map(|c| format!("\"{t}\".\"{c}\" IS DISTINCT FROM excluded.\"{c}\""))
            .collect();
        (updated, compared)
    }

    /// SQLite (any sea-orm connection): writes `rows` by multi-row `INSERT
    /// … ON CONFLICT`; returns how many rows were inserted or changed.
    pub async fn run_orm<C: ConnectionTrait>(&self, orm: &C, rows: Vec<Vec<Value>>) -> Result<u64, DbErr> {
        let t = self.table;
        let (updated, compared) = self.updated();
        let mut conflict = OnConflict::columns(self.key.iter().map(|c| Alias::new(*c)));
        if compared.is_empty() {
            conflict.do_nothing();
        } else {
            conflict
                .update_columns(updated.iter().map(|c| Alias::new(*c)))
                .value(
                    Alias::new("version"),
                    Expr::col((Alias::new(t), Alias::new("version"))).add(1),
                )
                .action_and_where(Expr::cust(compared.join(" OR ")));
        }
        let mut written = 0;
        let per = self.rows_per_statement();
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let mut q = Query::insert();
            q.into_table(Alias::new(t))
                .columns(self.columns.iter().map(|c| Alias::new(*c)));
            for row in rows.by_ref().take(per) {
                q.values_panic(row.into_iter().map(Into::into));
            }
            q.on_conflict(conflict.clone());
            written += orm.execute(&q).await?.rows_affected();
        }
        Ok(written)
    }
}

impl Upsert<'_> {
    fn quoted(cols: &[&str]) -> String {
        cols.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ")
    }

    /// The `ON CONFLICT` clause of the merge, as PostgreSQL text.
    fn conflict_action(&self) -> String {
        let (updated, compared) = self.updated();
        let (t, key) = (self.table, Self::quoted(self.key));
        if compared.is_empty() {
            return format!("ON CONFLICT ({key}) DO NOTHING");
        }
        let set = updated
            .iter()
            .map(|c| format!("\"{c}\" = excluded.\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "ON CONFLICT ({key}) DO UPDATE SET {set}, \"version\" = \"{t}\".\"version\" + 1 WHERE {}",
            compared.join(" OR ")
        )
    }

    /// PostgreSQL, into a table that holds rows: the `n` rows `fill`
    /// writes travel by binary `COPY` into a temporary staging table,
    /// merged by one `INSERT … SELECT … ON CONFLICT` in file order (the
    /// `ord` identity column numbers the rows as they arrive), so new rows
    /// get ids in file order. Returns how many rows were inserted or changed.
    pub async fn merge_copy<E: From<DbErr>>(
        &self,
        pg: &PgTxn,
        n: usize,
        fill: impl FnMut(usize, &mut CopyRow) -> Result<(), E>,
    ) -> Result<u64, E> {
        if n == 0 {
            return Ok(0);
        }
        let (t, cols) = (self.table, Self::quoted(self.columns));
        let stage = format!("\"stage_{t}\"");
        pg.execute_unprepared(&format!(
            "CREATE TEMP TABLE {stage} ON COMMIT DROP AS SELECT {cols} FROM \"{t}\" WITH NO DATA; \
             ALTER TABLE {stage} ADD COLUMN ord bigint GENERATED ALWAYS AS IDENTITY"
        ))
        .await?;
        pg.copy_in(
            &format!("COPY {stage} ({cols}) FROM STDIN (FORMAT binary)"),
            self.columns.len(),
            n,
            fill,
        )
        .await?;
        let written = pg
            .execute_unprepared(&format!(
                "INSERT INTO \"{t}\" ({cols}) SELECT {cols} FROM {stage} ORDER BY ord {}",
                self.conflict_action()
            ))
            .await?
            .rows_affected();
        // Dropped now rather than at commit: a table may be written twice
        // (demoted leads, then all its rows).
        pg.execute_unprepared(&format!("DROP TABLE {stage}")).await?;
        Ok(written)
    }
}

/// PostgreSQL, loading into a table that was empty: its foreign keys,
/// unique constraints and indexes (all but the primary key) are dropped for
/// the load and rebuilt right after it, in the same transaction. Checking a
/// foreign key row by row (a trigger call and an index probe each) and
/// maintaining indexes row by row cost several times more than validating
/// the constraint in one join and building the index by sorting (relations
/// of the national bundle: 8.4 s down to 1.7 s with the foreign keys and
/// plain indexes; the unique ones, 1.5 s of COPY into relations, memberships
/// and action partners, are rebuilt too now that a load into an empty table
/// needs neither `ON CONFLICT` nor `ref` lookups, see `import::Writer::load`).
/// Rebuilding a unique index checks it again, so the database still vouches
/// for keys and the one-lead rule. A table that already holds rows keeps
/// them: rebuilding would cost in proportion to what it holds, not to what
/// the bundle brings.
pub struct Stripped {
    /// `CREATE INDEX …` and `ALTER TABLE … ADD CONSTRAINT …`, as PostgreSQL
    /// itself describes the dropped objects (so nothing here repeats the
    /// migrations).
    restore: Vec<String>,
}

impl Stripped {
    /// Whether `table` holds no row (as this transaction sees it).
    pub async fn is_empty<C: ConnectionTrait>(db: &C, table: &str) -> Result<bool, DbErr> {
        let has_rows = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT EXISTS (SELECT 1 FROM \"{table}\")"),
            ))
            .await?
            .map(|r| r.try_get_by_index::<bool>(0))
            .transpose()?
            .unwrap_or(false);
        Ok(!has_rows)
    }

    /// Strips `table`, which the caller found empty (PostgreSQL only), of
    /// its foreign keys, unique constraints and indexes, and of its primary
    /// key too when no foreign key points at the table (link tables, the
    /// closure): keeping a primary key index up to date row by row was half
    /// the time of a COPY into relations (0.37 s of 0.73 s), building it
    /// afterwards from ids already in order costs 0.1 s. The primary key of
    /// a table others refer to stays (dropping it would drop their foreign
    /// keys).
    pub async fn strip<C: ConnectionTrait>(db: &C, table: &str) -> Result<Self, DbErr> {
        let q = |sql: String| Statement::from_string(DatabaseBackend::Postgres, sql);
        // Dropped: foreign keys first (3), then unique and primary key
        // constraints (2), then plain and unique indexes that back no
        // constraint (1). Rebuilt in the reverse order: indexes, then
        // constraints, foreign keys (the validating joins) last.
        let objects = db
            .query_all_raw(q(format!(
                "SELECT 'ALTER TABLE \"{table}\" DROP CONSTRAINT ' || quote_ident(conname), \
                        'ALTER TABLE \"{table}\" ADD CONSTRAINT ' || quote_ident(conname) || ' ' || pg_get_constraintdef(oid), \
                        CASE contype WHEN 'f' THEN 3 ELSE 2 END AS k \
                   FROM pg_constraint WHERE conrelid = '\"{table}\"'::regclass \
                    AND (contype IN ('f', 'u') OR contype = 'p' AND NOT EXISTS ( \
                         SELECT 1 FROM pg_constraint r WHERE r.contype = 'f' AND r.confrelid = '\"{table}\"'::regclass)) \
                 UNION ALL \
                 SELECT 'DROP INDEX ' || indexrelid::regclass::text, pg_get_indexdef(indexrelid), 1 \
                   FROM pg_index WHERE indrelid = '\"{table}\"'::regclass AND NOT indisprimary \
                    AND indexrelid NOT IN (SELECT conindid FROM pg_constraint WHERE conrelid = '\"{table}\"'::regclass) \
                 ORDER BY k DESC"
            )))
            .await?;
        let mut restore = Vec::with_capacity(objects.len());
        for o in objects {
            db.execute_unprepared(&o.try_get_by_index::<String>(0)?).await?;
            restore.push(o.try_get_by_index::<String>(1)?);
        }
        restore.reverse();
        Ok(Stripped { restore })
    }

    /// Rebuilds the indexes, then validates and restores the constraints.
    pub async fn restore<C: ConnectionTrait>(self, db: &C) -> Result<(), DbErr> {
        for sql in self.restore {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}

/// Deletes rows by id, in batches.
pub async fn delete_ids<C: ConnectionTrait>(db: &C, table: &str, ids: &[i64]) -> Result<u64, DbErr> {
    let mut n = 0;
    for chunk in ids.chunks(MAX_ROWS * 4) {
        let q = Query::delete()
            .from_table(Alias::new(table))
            .and_where(Expr::col(Alias::new("id")).is_in(chunk.iter().copied()))
            .to_owned();
        n += db.execute(&q).await?.rows_affected();
    }
    Ok(n)
}
