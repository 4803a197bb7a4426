//! Batched multi-row `INSERT … ON CONFLICT … DO UPDATE`, the one write path
//! of bulk imports.
//!
//! A row whose values did not change is left alone (the `WHERE … IS DISTINCT
//! FROM` guard), so re-importing the same bundle bumps no `version` and no
//! `updated_at`: optimistic concurrency only sees real edits.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DbErr, Value};

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

    /// Writes `rows`; returns how many rows were inserted or changed.
    pub async fn run<C: ConnectionTrait>(&self, db: &C, rows: Vec<Vec<Value>>) -> Result<u64, DbErr> {
        let t = self.table;
        let updated: Vec<&str> = self
            .columns
            .iter()
            .copied()
            .filter(|c| !self.key.contains(c) && !self.fixed.contains(c))
            .collect();
        // Columns whose change counts as an edit (not the bookkeeping ones).
        let compared: Vec<String> = updated
            .iter()
            .filter(|c| **c != "updated_at")
            .map(|c| format!("\"{t}\".\"{c}\" IS DISTINCT FROM excluded.\"{c}\""))
            .collect();
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
            written += db.execute(&q).await?.rows_affected();
        }
        Ok(written)
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
