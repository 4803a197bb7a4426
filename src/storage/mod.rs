//! Storage layer: the database connection, the entities, and every query.
//!
//! Nothing above this layer writes SQL. Reads go through [`read`], which
//! takes a [`Scope`] (what the asking viewer may see) and applies it in SQL,
//! so that access rules are enforced in one place for every entry point.

pub mod ancestry;
pub mod decode;
pub mod entity;
pub mod export;
pub mod graph;
pub mod health;
pub mod import;
pub mod keys;
pub mod list;
mod pg;
pub mod read;
pub mod search;
pub mod stats;
mod tables;
mod upsert;
pub mod write;

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr};
use sea_orm_migration_api::MigratorTrait;

pub use health::Health;
pub use read::Scope;

use migration as sea_orm_migration_api;

/// Errors of the storage layer. Database details are kept for the logs;
/// the interfaces decide what a user is shown.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot open the database {url}: {source}")]
    Connect { url: String, source: DbErr },
    #[error("database migration failed: {0}")]
    Migrate(DbErr),
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    /// The connection was lost while the database was committing: the
    /// change may or may not have been saved.
    #[error("the database connection was lost during the commit: {0}")]
    CommitUnknown(DbErr),
    /// The database holds migrations this binary does not know: a newer
    /// maillage migrated it.
    #[error(
        "the database schema is newer than this maillage: it has migration(s) {} that this binary does not know; run a maillage at least as new as the one that migrated it",
        .0.join(", ")
    )]
    SchemaNewer(Vec<String>),
    /// A reference could not be resolved while writing (the domain layer
    /// validates first, so this means the data changed underneath).
    #[error("{0}")]
    Integrity(String),
}

impl StorageError {
    /// Whether the database could not be reached (as opposed to refusing a
    /// statement): what the interfaces answer `UNAVAILABLE`.
    pub fn unavailable(&self) -> bool {
        match self {
            StorageError::Db(e) | StorageError::Connect { source: e, .. } => health::unavailable(e),
            _ => false,
        }
    }

    /// Whether a write failed for want of room (a full disk).
    pub fn full(&self) -> bool {
        matches!(self, StorageError::Db(e) if health::full(e))
    }
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// The default database of a fresh install: a SQLite file in the working
/// directory, created on first use.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://maillage.db";

/// Opens a database by URL (`sqlite://path`, `sqlite::memory:`,
/// `postgres://…`), creating a SQLite file if it does not exist yet.
pub async fn connect(url: &str) -> Result<DatabaseConnection> {
    connect_with(url, None).await
}

/// The PostgreSQL pool size when none is given: twice this machine's cores,
/// at least 4. A database runs about as many statements at once as it has
/// cores; connections beyond that only make its processes fight for them
/// (on 2 cores, 16 connections served a partner page about a quarter slower
/// than 4: BENCHMARKS.md). With several instances or a larger database
/// server, size it from the database's cores (`--db-pool-size`).
pub fn default_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
    (2 * cores).max(4)
}

/// [`connect`], with `pool_size` connections at most on PostgreSQL
/// (default [`default_pool_size`]); SQLite pools are sized here.
pub async fn connect_with(url: &str, pool_size: Option<u32>) -> Result<DatabaseConnection> {
    connect_watched(url, pool_size, &Health::new()).await
}

/// [`connect_with`], whose PostgreSQL pool hands out no connection opened
/// before an outage that `health` noticed (see [`health`]).
pub async fn connect_watched(url: &str, pool_size: Option<u32>, health: &Health) -> Result<DatabaseConnection> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(std::env::var_os("MAILLAGE_LOG_SQL").is_some())
        // A dead database should be reported within seconds, not minutes.
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(8))
        // sqlx pings every connection it hands out by default: one more
        // round trip per statement, half of a small request's database
        // time. A connection in steady use is known good; one idle long
        // enough for a proxy or a firewall to have dropped it is pinged.
        .test_before_acquire_if_idle_for(Duration::from_secs(30));
    if url.starts_with("sqlite:") {
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        // One connection for an in-memory database (each connection would
        // otherwise see its own empty database); a few for a file, where WAL
        // lets readers run beside the one writer.
        // A pool asked smaller (the heavy operations' own) is smaller.
        opts.max_connections(if memory {
            1
        } else {
            pool_size.map_or(4, |n| n.clamp(1, 4))
        });
        opts.map_sqlx_sqlite_opts(move |o: SqliteConnectOptions| {
            let o = o
                .create_if_missing(true)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30));
            if memory {
                o
            } else {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
            }
        });
    } else {
        opts.max_connections(pool_size.unwrap_or_else(default_pool_size).max(1));
        // Refused, the pool closes the connection and takes (or opens)
        // another: no round trip for a connection known good.
        let health = health.clone();
        opts.map_sqlx_postgres_before_acquire(move |_, meta| {
            let fresh = !health.stale(meta.age);
            Box::pin(async move { Ok(fresh) })
        });
    }
    Database::connect(opts).await.map_err(|source| StorageError::Connect {
        url: redact(url),
        source,
    })
}

/// Opens a database and brings its schema up to date.
pub async fn open(url: &str) -> Result<DatabaseConnection> {
    open_with(url, None).await
}

/// [`open`] with a PostgreSQL pool of `pool_size` connections (see [`connect_with`]).
pub async fn open_with(url: &str, pool_size: Option<u32>) -> Result<DatabaseConnection> {
    open_watched(url, pool_size, &Health::new()).await
}

/// [`open_with`] on a pool that `health` keeps clear of dead connections
/// (see [`connect_watched`]).
pub async fn open_watched(url: &str, pool_size: Option<u32>, health: &Health) -> Result<DatabaseConnection> {
    let db = connect_watched(url, pool_size, health).await?;
    migrate(&db).await?;
    Ok(db)
}

/// Applies the pending migrations (idempotent). Refuses a database that a
/// newer maillage migrated ([`StorageError::SchemaNewer`]): this binary
/// would misread its tables. On PostgreSQL, then builds the search indexes
/// a role without `pg_trgm` went without, once the extension is there, and
/// warns while it is not ([`search::check_indexes`]).
pub async fn migrate(db: &DatabaseConnection) -> Result<()> {
    let unknown = unknown_migrations(db).await?;
    if !unknown.is_empty() {
        return Err(StorageError::SchemaNewer(unknown));
    }
    migration::Migrator::up(db, None).await.map_err(StorageError::Migrate)?;
    let unindexed = search::check_indexes(db).await?;
    if !unindexed.is_empty() {
        tracing::warn!(
            tables = ?unindexed,
            "text search runs without its trigram indexes (every search reads every name): this role may not \
             create the extension pg_trgm; as a superuser, run `CREATE EXTENSION pg_trgm;` in this database, \
             then start maillage again (or run `maillage migrate`) to build them"
        );
    }
    Ok(())
}

/// How the schema of a database stands against this binary's migrations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaStatus {
    /// This binary's migrations not applied yet.
    pub pending: Vec<String>,
    /// Migrations applied that this binary does not have (a newer
    /// maillage migrated the database).
    pub unknown: Vec<String>,
}

impl SchemaStatus {
    pub fn is_current(&self) -> bool {
        self.pending.is_empty() && self.unknown.is_empty()
    }
}

/// The migrations applied to `db` that this binary does not have (none
/// for a fresh database).
pub async fn unknown_migrations(db: &DatabaseConnection) -> Result<Vec<String>> {
    Ok(schema_status(db).await?.unknown)
}

/// Compares the migrations applied to `db` with this binary's.
pub async fn schema_status(db: &DatabaseConnection) -> Result<SchemaStatus> {
    use sea_orm::{Statement, TryGetable};
    let backend = db.get_database_backend();
    let table_exists = match backend {
        DatabaseBackend::Sqlite => {
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'seaql_migrations'"
        }
        _ => {
            "SELECT count(*) FROM information_schema.tables \
             WHERE table_name = 'seaql_migrations' AND table_schema = current_schema()"
        }
    };
    let known: Vec<String> = migration::Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let row = db
        .query_one_raw(Statement::from_string(backend, table_exists))
        .await?
        .ok_or_else(|| StorageError::Integrity("no answer to a count".into()))?;
    if i64::try_get_by_index(&row, 0).map_err(DbErr::from)? == 0 {
        return Ok(SchemaStatus {
            pending: known,
            unknown: vec![],
        });
    }
    let mut applied = std::collections::HashSet::new();
    for r in db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT version FROM seaql_migrations ORDER BY version",
        ))
        .await?
    {
        applied.insert(String::try_get_by_index(&r, 0).map_err(DbErr::from)?);
    }
    let mut unknown: Vec<String> = applied.iter().filter(|v| !known.contains(v)).cloned().collect();
    unknown.sort();
    Ok(SchemaStatus {
        pending: known.into_iter().filter(|k| !applied.contains(k)).collect(),
        unknown,
    })
}

/// A cheap round trip to the database, for health checks.
pub async fn ping(db: &DatabaseConnection) -> Result<()> {
    db.execute_unprepared("SELECT 1").await?;
    Ok(())
}

/// Whether the partner graph holds no record at all (first run).
pub async fn is_empty(db: &DatabaseConnection) -> Result<bool> {
    use sea_orm::{EntityTrait, PaginatorTrait};
    Ok(
        entity::territory::Entity::find().count(db).await? == 0
            && entity::partner::Entity::find().count(db).await? == 0,
    )
}

pub fn is_sqlite(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DatabaseBackend::Sqlite
}

/// A database URL without its password, for logs and error messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(super::redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(super::redact("sqlite://maillage.db"), "sqlite://maillage.db");
    }
}
