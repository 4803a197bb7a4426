//! A PostgreSQL transaction on a connection of our own, for bulk imports.
//!
//! `COPY … FROM STDIN` streams rows several times faster than any `INSERT`
//! (no statement per batch, no parameter arrays to build and decode), but
//! it needs the connection itself, which sea-orm's `DatabaseTransaction`
//! keeps private. So an import on PostgreSQL takes a connection from the
//! pool and opens a sqlx transaction on it; [`PgTxn`] implements
//! `ConnectionTrait` so that the rest of the import (loading what exists,
//! `ref` lookups, pruning) runs on it unchanged, and adds [`PgTxn::copy_in`].

use std::fmt::Write as _;
use std::sync::Arc;

use sea_orm::sqlx::postgres::{PgArguments, PgPool};
use sea_orm::sqlx::{self, Arguments, AssertSqlSafe, Postgres};
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, RuntimeErr, Statement, Value, sea_query::ArrayType,
};
use tokio::sync::Mutex;

/// An open transaction; rolled back if dropped without [`PgTxn::commit`].
pub struct PgTxn {
    tx: Mutex<sqlx::Transaction<'static, Postgres>>,
}

fn exec_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e)))
}
fn query_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
}

/// Bytes of COPY data sent per message: large enough that round trips do
/// not count, small enough not to hold a table's worth of text at once.
const COPY_CHUNK: usize = 1 << 20;

impl PgTxn {
    pub async fn begin(pool: &PgPool) -> Result<Self, DbErr> {
        let tx = pool.begin().await.map_err(exec_err)?;
        Ok(PgTxn { tx: Mutex::new(tx) })
    }

    pub async fn commit(self) -> Result<(), DbErr> {
        self.tx.into_inner().commit().await.map_err(exec_err)
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        self.tx.into_inner().rollback().await.map_err(exec_err)
    }

    /// Runs `sql` (a `COPY … FROM STDIN`, text format) with the rows
    /// `row` writes for `0..n`, sent a chunk at a time; returns the number
    /// of rows copied. An error of `row` aborts the COPY (and so the
    /// transaction) and is returned.
    pub async fn copy_in<E: From<DbErr>>(
        &self,
        sql: &str,
        n: usize,
        mut row: impl FnMut(usize, &mut CopyRow) -> Result<(), E>,
    ) -> Result<u64, E> {
        let mut tx = self.tx.lock().await;
        let mut copy = tx.copy_in_raw(sql).await.map_err(exec_err)?;
        let mut buf = CopyRow {
            buf: String::with_capacity(COPY_CHUNK + 4096),
            first: true,
        };
        for i in 0..n {
            if let Err(e) = row(i, &mut buf) {
                copy.abort("import aborted").await.map_err(exec_err)?;
                return Err(e);
            }
            buf.end_row();
            if buf.buf.len() >= COPY_CHUNK || i + 1 == n {
                copy.send(buf.buf.as_bytes()).await.map_err(exec_err)?;
                buf.buf.clear();
            }
        }
        Ok(copy.finish().await.map_err(exec_err)?)
    }
}

/// One row of COPY text being written: fields in the order of the COPY's
/// column list.
pub struct CopyRow {
    buf: String,
    first: bool,
}

impl CopyRow {
    fn sep(&mut self) {
        if !self.first {
            self.buf.push('\t');
        }
        self.first = false;
    }

    fn end_row(&mut self) {
        self.buf.push('\n');
        self.first = true;
    }

    /// A field as COPY's text format wants it: `\N` for NULL, backslash,
    /// tab, newline and carriage return escaped.
    pub fn text(&mut self, v: Option<&str>) {
        self.sep();
        let Some(v) = v else {
            self.buf.push_str("\\N");
            return;
        };
        for c in v.chars() {
            match c {
                '\\' => self.buf.push_str("\\\\"),
                '\t' => self.buf.push_str("\\t"),
                '\n' => self.buf.push_str("\\n"),
                '\r' => self.buf.push_str("\\r"),
                c => self.buf.push(c),
            }
        }
    }

    /// A value whose text form needs no escaping (numbers, dates, enum keys).
    pub fn plain(&mut self, v: Option<impl std::fmt::Display>) {
        self.sep();
        match v {
            Some(v) => write!(self.buf, "{v}").expect("writing to a String"),
            None => self.buf.push_str("\\N"),
        }
    }

    /// A sea-orm value, as the bulk writer holds rows.
    pub fn value(&mut self, v: &Value) -> Result<(), DbErr> {
        match v {
            Value::String(s) => self.text(s.as_deref()),
            Value::BigInt(n) => self.plain(*n),
            Value::Int(n) => self.plain(*n),
            // Rust prints the shortest text that parses back to the same float.
            Value::Double(f) => self.plain(*f),
            Value::ChronoDate(d) => self.plain(*d),
            Value::ChronoDateTimeUtc(t) => self.plain(t.map(|t| t.to_rfc3339())),
            other => return Err(DbErr::Custom(format!("bulk write: unsupported value {other:?}"))),
        }
        Ok(())
    }
}

/// Binds sea-orm values as sqlx arguments: the kinds the storage layer
/// sends (scalars, and `bigint[]`/`text[]` arrays).
fn arguments(values: Option<sea_orm::Values>) -> Result<PgArguments, DbErr> {
    let mut args = PgArguments::default();
    for v in values.map(|v| v.0).unwrap_or_default() {
        let added = match v {
            Value::Bool(b) => args.add(b),
            Value::Int(n) => args.add(n),
            Value::BigInt(n) => args.add(n),
            Value::Double(f) => args.add(f),
            Value::String(s) => args.add(s),
            Value::ChronoDate(d) => args.add(d),
            Value::ChronoDateTimeUtc(t) => args.add(t),
            Value::Array(ArrayType::BigInt, a) => {
                args.add(a.map(|a| a.into_iter().map(|v| v.unwrap::<Option<i64>>()).collect::<Vec<_>>()))
            }
            Value::Array(ArrayType::String, a) => {
                args.add(a.map(|a| a.into_iter().map(|v| v.unwrap::<Option<String>>()).collect::<Vec<_>>()))
            }
            other => return Err(DbErr::Custom(format!("cannot bind {other:?}"))),
        };
        added.map_err(|e| DbErr::Custom(format!("cannot bind a value: {e}")))?;
    }
    Ok(args)
}

#[async_trait::async_trait]
impl ConnectionTrait for PgTxn {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Postgres
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let args = arguments(stmt.values)?;
        let mut tx = self.tx.lock().await;
        let r = sqlx::query_with(AssertSqlSafe(stmt.sql), args)
            .execute(&mut **tx)
            .await
            .map_err(exec_err)?;
        Ok(r.into())
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let mut tx = self.tx.lock().await;
        let r = sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
            .execute(&mut **tx)
            .await
            .map_err(exec_err)?;
        Ok(r.into())
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let args = arguments(stmt.values)?;
        let mut tx = self.tx.lock().await;
        let r = sqlx::query_with(AssertSqlSafe(stmt.sql), args)
            .fetch_optional(&mut **tx)
            .await
            .map_err(query_err)?;
        Ok(r.map(Into::into))
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let args = arguments(stmt.values)?;
        let mut tx = self.tx.lock().await;
        let r = sqlx::query_with(AssertSqlSafe(stmt.sql), args)
            .fetch_all(&mut **tx)
            .await
            .map_err(query_err)?;
        Ok(r.into_iter().map(Into::into).collect())
    }
}
