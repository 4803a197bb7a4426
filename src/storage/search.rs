//! Text search: what a `search` filter is in SQL on each engine, the
//! relevance order, and the check of the PostgreSQL indexes at start.
//!
//! A search keeps the rows whose search key (`model::text::search_key` of
//! the name, stored beside it) contains every word of the search's own key,
//! anywhere in it. The indexes are made by the migration
//! `m20261208_000009_search_index`:
//! - PostgreSQL: `"t"."key" LIKE '%word%'` per word, which the `pg_trgm`
//!   GIN index of the column serves (a word of three characters or more).
//! - SQLite: `"t"."id" IN (SELECT rowid FROM "t_fts" WHERE "t_fts" MATCH
//!   '"word" "word"')`, each word a phrase of its trigrams: exactly the
//!   substrings `LIKE` finds (see the migration: case-sensitive trigrams of
//!   keys that are lower case already). A word of one or two characters
//!   has no trigram: it stays a `LIKE` on the column (a scan of the rows
//!   the other words left, or of the table when it is alone).

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, TransactionTrait};

use super::Result;
use super::list::Sort;
use crate::model::text::search_key;

/// The words of a search: its key, split at its spaces.
fn words(s: &str) -> Vec<String> {
    // The key holds only letters, digits and single spaces: no `LIKE`
    // wildcard, no quote of an FTS5 query can come from the user.
    search_key(s)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The shortest word a trigram index serves.
const TRIGRAM: usize = 3;

/// The words of a search the trigram index serves, and the others.
fn split(s: &str) -> (Vec<String>, Vec<String>) {
    words(s).into_iter().partition(|w| w.chars().count() >= TRIGRAM)
}

/// The FTS5 query of the words the index serves (SQLite): each a phrase of
/// its trigrams, all of them required.
fn phrases(long: &[String]) -> String {
    long.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(" ")
}

/// The rows of `col`'s table whose search key holds every word of `s` (an
/// `s` without words keeps every row, as it always did), read from the
/// table's index.
pub fn matches<C: ColumnTrait>(backend: DbBackend, col: C, s: &str) -> Condition {
    if backend != DbBackend::Sqlite {
        return scanned(col, s);
    }
    let (long, short) = split(s);
    let mut c = likes(col, &short);
    if !long.is_empty() {
        let table = col.entity_name().to_string();
        let fts = migration::fts_table(&table);
        c = c.add(Expr::cust_with_values(
            format!("\"{table}\".\"id\" IN (SELECT rowid FROM \"{fts}\" WHERE \"{fts}\" MATCH ?)"),
            [phrases(&long)],
        ));
    }
    c
}

/// The same rows as [`matches`], as a `LIKE '%word%'` per word on the
/// column: on PostgreSQL, what its trigram index serves; on SQLite, what a
/// walk of the table in some order checks row by row ([`matches_many`]).
pub fn scanned<C: ColumnTrait>(col: C, s: &str) -> Condition {
    likes(col, &words(s))
}

fn likes<C: ColumnTrait>(col: C, words: &[String]) -> Condition {
    words
        .iter()
        .fold(Condition::all(), |c, w| c.add(col.like(format!("%{w}%"))))
}

/// The fewest matches from which SQLite finds a page in the order of an
/// index sooner by walking it, checking each row's key ([`scanned`]),
/// than by reading every match from the FTS5 table and sorting them all.
/// A thousand matches of the national bundle's 97 489 partners: a page of
/// 20 is then some 2 000 rows into the walk (a tenth of a millisecond),
/// where the index hands over all the matches to sort (the 5 189 of
/// `centre`: 7 ms a page). Fewer matches, and the walk may go through the
/// whole table for nothing (9 ms for a rare word), where the index answers
/// at once (BENCHMARKS.md, "Indexed search").
pub const MANY: u64 = 1000;

/// SQLite: whether `s` matches at least [`MANY`] rows of `table`, counted
/// from its FTS5 table up to that many (a fraction of a millisecond).
/// False elsewhere, and for a search without a word the index serves.
pub async fn matches_many<C: ConnectionTrait>(db: &C, table: &str, s: &str) -> Result<bool> {
    let (long, _) = split(s);
    if db.get_database_backend() != DbBackend::Sqlite || long.is_empty() {
        return Ok(false);
    }
    let fts = migration::fts_table(table);
    let n = db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            DbBackend::Sqlite,
            format!("SELECT count(*) FROM (SELECT 1 FROM \"{fts}\" WHERE \"{fts}\" MATCH ? LIMIT {MANY})"),
            [phrases(&long).into()],
        ))
        .await?
        .map(|r| r.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0);
    Ok(n as u64 >= MANY)
}

/// The relevance of a row to the search `s`, as a sort key over its search
/// key `col`: 0 when the key is the search's whole key, 1 when it starts
/// with it, 2 otherwise (ascending: the closest first).
fn relevance<C: ColumnTrait>(col: C, s: &str) -> Expr {
    let key = words(s).join(" ");
    let c = || Expr::col((col.entity_name(), col));
    Expr::case(c().eq(key.clone()), 0)
        .case(c().like(format!("{key}%")), 1)
        .finally(2)
        .into()
}

/// The sort keys of a relevance order: [`relevance`] (`desc` reverses it),
/// then the search key itself, ascending.
pub fn by_relevance<C: ColumnTrait>(col: C, s: &str, desc: bool) -> [Sort; 2] {
    [
        Sort {
            expr: relevance(col, s),
            desc,
            nullable: false,
        },
        Sort {
            expr: Expr::col((col.entity_name(), col)),
            desc: false,
            nullable: false,
        },
    ]
}

/// PostgreSQL: checks that every search key has its trigram index, and
/// builds the missing ones when `pg_trgm` can be had (the migration went
/// without them when the role could not create the extension). Returns
/// the tables still without one, for the caller to warn about.
pub async fn check_indexes(db: &DatabaseConnection) -> Result<Vec<&'static str>> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(vec![]);
    }
    let missing = missing_indexes(db).await?;
    if missing.is_empty() {
        return Ok(missing);
    }
    let txn = db.begin().await?;
    migration::trigram_indexes(&txn).await?;
    txn.commit().await?;
    missing_indexes(db).await
}

async fn missing_indexes<C: ConnectionTrait>(db: &C) -> Result<Vec<&'static str>> {
    let mut missing = vec![];
    for (table, _) in migration::SEARCH_KEYS {
        let found = db
            .query_one_raw(sea_orm::Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT to_regclass($1) IS NOT NULL",
                [migration::trigram_index(table).into()],
            ))
            .await?
            .map(|r| r.try_get_by_index::<bool>(0))
            .transpose()?
            .unwrap_or(false);
        if !found {
            missing.push(table);
        }
    }
    Ok(missing)
}
