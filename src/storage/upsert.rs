//! Batched multi-row `INSERT … ON CONFLICT … DO UPDATE`, the one write path
//! of bulk imports.
//!
//! A row whose values did not change is left alone (the `WHERE … IS DISTINCT
//! FROM` guard), so re-importing the same bundle bumps no `version` and no
//! `updated_at`: optimistic concurrency only sees real edits.

use sea_orm::sea_query::{Alias, ArrayType, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement, Value};

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
        if db.get_database_backend() == DatabaseBackend::Postgres {
            return self.run_unnest(db, rows, &updated, &compared).await;
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

impl Upsert<'_> {
    /// PostgreSQL: one array parameter per column, `INSERT … SELECT * FROM
    /// UNNEST(…)`. The statement text is the same for every batch and tiny,
    /// so PostgreSQL parses and plans it once per batch instead of parsing
    /// thousands of placeholders: about twice as fast as multi-row VALUES.
    async fn run_unnest<C: ConnectionTrait>(
        &self,
        db: &C,
        rows: Vec<Vec<Value>>,
        updated: &[&str],
        compared: &[String],
    ) -> Result<u64, DbErr> {
        let Some(first) = rows.first() else { return Ok(0) };
        let types: Vec<&str> = first.iter().map(pg_type).collect::<Result<_, _>>()?;
        let t = self.table;
        let cols = self
            .columns
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        // Every column travels as text[] ('' for NULL: sea-query cannot bind
        // arrays with NULL elements) and is cast back here.
        let casts = types
            .iter()
            .enumerate()
            .map(|(i, ty)| format!("NULLIF(u{i}, '')::{ty}"))
            .collect::<Vec<_>>()
            .join(", ");
        let params = (0..types.len())
            .map(|i| format!("${}::text[]", i + 1))
            .collect::<Vec<_>>()
            .join(", ");
        let names = (0..types.len()).map(|i| format!("u{i}")).collect::<Vec<_>>().join(", ");
        let key = self
            .key
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let action = if compared.is_empty() {
            "DO NOTHING".to_owned()
        } else {
            let set = updated
                .iter()
                .map(|c| format!("\"{c}\" = excluded.\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "DO UPDATE SET {set}, \"version\" = \"{t}\".\"version\" + 1 WHERE {}",
                compared.join(" OR ")
            )
        };
        let sql = format!(
            "INSERT INTO \"{t}\" ({cols}) SELECT {casts} FROM UNNEST({params}) AS u({names}) ON CONFLICT ({key}) {action}"
        );
        let mut written = 0;
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let mut columns: Vec<Vec<Value>> = vec![Vec::with_capacity(UNNEST_ROWS); types.len()];
            for row in rows.by_ref().take(UNNEST_ROWS) {
                for (c, v) in row.into_iter().enumerate() {
                    columns[c].push(Value::String(Some(as_text(v)?)));
                }
            }
            let values = columns
                .into_iter()
                .map(|vals| Value::Array(ArrayType::String, Some(Box::new(vals))))
                .collect::<Vec<_>>();
            let stmt = Statement::from_sql_and_values(DatabaseBackend::Postgres, &sql, values);
            written += db.execute_raw(stmt).await?.rows_affected();
        }
        Ok(written)
    }
}

const UNNEST_ROWS: usize = 10_000;

/// The SQL type of a column, from the (typed, possibly null) value of its first row.
fn pg_type(v: &Value) -> Result<&'static str, DbErr> {
    Ok(match v {
        Value::String(_) => "text",
        Value::BigInt(_) => "bigint",
        Value::Int(_) => "integer",
        Value::Double(_) => "float8",
        Value::ChronoDate(_) => "date",
        Value::ChronoDateTimeUtc(_) => "timestamptz",
        other => return Err(DbErr::Custom(format!("bulk write: unsupported value {other:?}"))),
    })
}

/// The text PostgreSQL casts back to the value ('' is NULL; bundles have no
/// empty strings: an empty field is an absent value). Floats print in the
/// shortest form that parses back to the same number.
fn as_text(v: Value) -> Result<String, DbErr> {
    Ok(match v {
        Value::String(s) => s.unwrap_or_default(),
        Value::BigInt(n) => n.map(|n| n.to_string()).unwrap_or_default(),
        Value::Int(n) => n.map(|n| n.to_string()).unwrap_or_default(),
        Value::Double(f) => f.map(|f| f.to_string()).unwrap_or_default(),
        Value::ChronoDate(d) => d.map(|d| d.to_string()).unwrap_or_default(),
        Value::ChronoDateTimeUtc(t) => t.map(|t| t.to_rfc3339()).unwrap_or_default(),
        other => return Err(DbErr::Custom(format!("bulk write: unsupported value {other:?}"))),
    })
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
