//! A PostgreSQL transaction on a connection of our own, for bulk imports.
//!
//! `COPY … FROM STDIN` streams rows several times faster than any `INSERT`
//! (no statement per batch, no parameter arrays to build and decode), but
//! it needs the connection itself, which sea-orm's `DatabaseTransaction`
//! keeps private. So an import on PostgreSQL takes a connection from the
//! pool and opens a sqlx transaction on it; [`PgTxn`] implements
//! `ConnectionTrait` so that the rest of the import (loading what exists,
//! `ref` lookups, pruning) runs on it unchanged, and adds [`PgTxn::copy_in`].

use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
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
        let mut tx = pool.begin().await.map_err(exec_err)?;
        // For this transaction only: index rebuilds sort in memory rather
        // than in temporary files, and no statement pays for JIT compiling
        // (the planner expects big costs from tables it has no statistics
        // of yet, just loaded).
        sqlx::raw_sql("SET LOCAL maintenance_work_mem = '256MB'; SET LOCAL jit = off")
            .execute(&mut *tx)
            .await
            .map_err(exec_err)?;
        Ok(PgTxn { tx: Mutex::new(tx) })
    }

    pub async fn commit(self) -> Result<(), DbErr> {
        self.tx.into_inner().commit().await.map_err(exec_err)
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        self.tx.into_inner().rollback().await.map_err(exec_err)
    }

    /// Runs `sql` (a `COPY … FROM STDIN (FORMAT binary)` of `columns`
    /// columns) with the rows `row` writes for `0..n`, sent a chunk at a
    /// time; returns the number of rows copied. An error of `row` aborts the
    /// COPY (and so the transaction) and is returned.
    pub async fn copy_in<E: From<DbErr>>(
        &self,
        sql: &str,
        columns: usize,
        n: usize,
        mut row: impl FnMut(usize, &mut CopyRow) -> Result<(), E>,
    ) -> Result<u64, E> {
        let mut tx = self.tx.lock().await;
        let mut copy = tx.copy_in_raw(sql).await.map_err(exec_err)?;
        let mut buf = CopyRow {
            buf: Vec::with_capacity(COPY_CHUNK + 4096),
            fields: 0,
        };
        // The binary format's signature, flags and (empty) header extension.
        buf.buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buf.buf.extend_from_slice(&0i32.to_be_bytes());
        buf.buf.extend_from_slice(&0i32.to_be_bytes());
        let width = i16::try_from(columns).map_err(|_| DbErr::Custom("too many columns".into()))?;
        for i in 0..n {
            buf.buf.extend_from_slice(&width.to_be_bytes());
            buf.fields = 0;
            if let Err(e) = row(i, &mut buf) {
                copy.abort("import aborted").await.map_err(exec_err)?;
                return Err(e);
            }
            if buf.fields != columns {
                copy.abort("import aborted").await.map_err(exec_err)?;
                return Err(DbErr::Custom(format!("COPY row of {} fields for {columns} columns", buf.fields)).into());
            }
            if buf.buf.len() >= COPY_CHUNK {
                copy.send(buf.buf.as_slice()).await.map_err(exec_err)?;
                buf.buf.clear();
            }
        }
        buf.buf.extend_from_slice(&(-1i16).to_be_bytes());
        copy.send(buf.buf.as_slice()).await.map_err(exec_err)?;
        Ok(copy.finish().await.map_err(exec_err)?)
    }
}

/// Days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;

/// One row of binary COPY data being written: fields in the order of the
/// COPY's column list, each a length and the value in the type's binary
/// form. The server then parses nothing (no number, date or timestamp text,
/// no escapes), and neither side formats text.
pub struct CopyRow {
    buf: Vec<u8>,
    fields: usize,
}

impl CopyRow {
    fn field(&mut self, bytes: &[u8]) {
        self.fields += 1;
        self.buf.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        self.buf.extend_from_slice(bytes);
    }

    pub fn null(&mut self) {
        self.fields += 1;
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
    }

    /// `text` / `varchar`: the UTF-8 bytes.
    pub fn text(&mut self, v: &str) {
        self.field(v.as_bytes());
    }

    /// `bigint`.
    pub fn int8(&mut self, v: i64) {
        self.field(&v.to_be_bytes());
    }

    /// `double precision`.
    pub fn float8(&mut self, v: f64) {
        self.field(&v.to_bits().to_be_bytes());
    }

    /// `date`: days since 2000-01-01.
    pub fn date(&mut self, d: NaiveDate) {
        let days = i64::from(d.num_days_from_ce()) - i64::from(UNIX_DAYS_FROM_CE) - PG_EPOCH_DAYS;
        self.field(&(days as i32).to_be_bytes());
    }

    /// `timestamp with time zone`: microseconds since 2000-01-01 UTC.
    pub fn timestamptz(&mut self, t: DateTime<Utc>) {
        let micros = t.timestamp_micros() - PG_EPOCH_DAYS * 86_400_000_000;
        self.field(&micros.to_be_bytes());
    }
}

/// `NaiveDate::num_days_from_ce` of 1970-01-01.
const UNIX_DAYS_FROM_CE: i32 = 719_163;

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
