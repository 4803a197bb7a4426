//! Graph analytics over the partner graph: an in-memory projection of the
//! link rows, kept up to date on every write, and the questions asked of it
//! (neighbourhoods, paths, maps, centralities, communities, brokers, gaps).
//!
//! Every answer is computed on what the asking viewer may see: the
//! projection keeps each link's provenance (which network, action or
//! relation, with its visibility and members) and [`view::Ctx`] applies the
//! rules of `storage::read` to it, so the graph never shows an edge the SQL
//! API would hide.
//!
//! Freshness: every edit and import appends to the change log
//! (`storage::graph::log_change`) in its own transaction. A [`Graph`] pulls
//! the changes after the last one it applied: woken by `NOTIFY` on
//! PostgreSQL (a second instance sees a write within milliseconds), by
//! polling every half second elsewhere, and directly after a mutation it
//! ran (so a client reads its own writes). An edit changes one row of the
//! projection; an import rebuilds it.

pub mod algo;
pub mod compiled;
pub mod projection;
pub mod query;
pub mod view;
pub mod vis;

use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use sea_orm::{AccessMode, DatabaseConnection, IsolationLevel, TransactionTrait};

use crate::storage::graph::{self as sg, ChangeOp};
use sea_orm::DatabaseBackend;

use crate::storage::{self, StorageError};

pub use projection::Projection;
pub use query::*;
pub use view::{Edge, Filter, Reason, Via};

/// Changes pulled in one round; more than that, and a rebuild is cheaper.
const PULL_LIMIT: u64 = 5000;

/// How much of the graph a question touches (which pool computes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Around a few partners: neighbourhoods, paths, one edge.
    Walk,
    /// The whole (filtered) graph: maps, centralities, communities, gaps.
    Whole,
}

/// A shared handle on one instance's projection (cheap to clone).
#[derive(Clone)]
pub struct Graph(Arc<Inner>);

struct Inner {
    db: DatabaseConnection,
    state: RwLock<State>,
    /// Permits to compute: one per core for walks, half the cores for
    /// whole-graph work (see [`Graph::compute`]).
    walks: tokio::sync::Semaphore,
    wholes: tokio::sync::Semaphore,
    /// Serialises loading and catching up (one puller at a time).
    sync: tokio::sync::Mutex<()>,
    loaded: tokio::sync::OnceCell<()>,
    /// When the projection last matched the change log (a rebuild or a
    /// catch-up that succeeded), for `/readyz`.
    synced: std::sync::Mutex<Option<std::time::Instant>>,
}

#[derive(Default)]
struct State {
    projection: Arc<Projection>,
    /// The last change-log row applied.
    seq: i64,
}

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.0.state.read().expect("graph lock");
        f.debug_struct("Graph")
            .field("partners", &s.projection.partners.len())
            .field("seq", &s.seq)
            .finish()
    }
}

impl Graph {
    /// A handle that loads the projection on first use.
    pub fn new(db: DatabaseConnection) -> Graph {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Graph(Arc::new(Inner {
            db,
            state: RwLock::default(),
            walks: tokio::sync::Semaphore::new(cores),
            wholes: tokio::sync::Semaphore::new((cores / 2).max(1)),
            sync: tokio::sync::Mutex::new(()),
            loaded: tokio::sync::OnceCell::new(),
            synced: std::sync::Mutex::new(None),
        }))
    }

    /// A handle with the projection loaded and kept up to date (`serve`).
    pub async fn start(db: DatabaseConnection) -> Result<Graph, StorageError> {
        let g = Graph::new(db);
        g.ready().await?;
        Ok(g)
    }

    /// Loads the projection once, and starts following the change log.
    pub async fn ready(&self) -> Result<(), StorageError> {
        self.0
            .loaded
            .get_or_try_init(|| async {
                self.rebuild().await?;
                tokio::spawn(follow(Arc::downgrade(&self.0)));
                Ok::<(), StorageError>(())
            })
            .await?;
        Ok(())
    }

    /// Runs a question on the projection off the async workers, at most
    /// as many at once as there are cores (`Work::Walk`) or half of them
    /// (`Work::Whole`); the others wait their turn, first come first served.
    ///
    /// Why not a plain `spawn_blocking`: sixteen concurrent requests would
    /// be sixteen threads on two cores, and the scheduler's time slices
    /// (milliseconds) would then land on whichever walk was unlucky, a p99
    /// a hundred times its p50. Queued, a walk waits for the ones ahead
    /// of it (a fraction of a millisecond each) and then runs alone on its
    /// core. Whole-graph work (a map, centralities) has its own, smaller
    /// pool, so a two-second map never holds the walks back.
    pub async fn compute<T: Send + 'static>(
        &self,
        work: Work,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, tokio::task::JoinError> {
        let pool = match work {
            Work::Walk => &self.0.walks,
            Work::Whole => &self.0.wholes,
        };
        let _permit = pool.acquire().await.expect("the graph's pools are never closed");
        // The computation traces under the request that asked for it.
        let span = tracing::info_span!("graph.compute", work = ?work);
        tokio::task::spawn_blocking(move || span.in_scope(f)).await
    }

    /// The current projection (an immutable snapshot: writes replace it).
    pub async fn snapshot(&self) -> Result<Arc<Projection>, StorageError> {
        self.ready().await?;
        Ok(self.0.state.read().expect("graph lock").projection.clone())
    }

    /// The last change-log row applied.
    pub fn seq(&self) -> i64 {
        self.0.state.read().expect("graph lock").seq
    }

    /// Reloads everything from the database, in one consistent snapshot.
    pub async fn rebuild(&self) -> Result<(), StorageError> {
        let _one = self.0.sync.lock().await;
        self.rebuild_locked().await
    }

    async fn rebuild_locked(&self) -> Result<(), StorageError> {
        let db = &self.0.db;
        // One snapshot: the change-log position and the rows agree.
        let (iso, mode) = if db.get_database_backend() == DatabaseBackend::Postgres {
            (Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly))
        } else {
            (None, None)
        };
        let txn = db.begin_with_config(iso, mode).await?;
        let seq = sg::last_seq(&txn).await?;
        let mut p = Projection::default();
        for t in sg::TABLES {
            for row in sg::table(&txn, t).await? {
                p.insert(row);
            }
        }
        txn.commit().await?;
        // Derive the walks' compact form before publishing, off the
        // runtime's threads (a second or so for all of France).
        let p = tokio::task::spawn_blocking(move || {
            p.compiled();
            p
        })
        .await
        .map_err(|e| StorageError::Integrity(format!("graph rebuild interrupted: {e}")))?;
        let mut s = self.0.state.write().expect("graph lock");
        s.projection = Arc::new(p);
        s.seq = seq;
        drop(s);
        self.synced_now();
        Ok(())
    }

    /// How long ago the projection last matched the change log; `None`
    /// before it is loaded. The follower catches up at least every
    /// [`POLL_EVERY`], so an age well past that means it cannot read the
    /// log (the database is unreachable).
    pub fn synced_ago(&self) -> Option<Duration> {
        self.0.synced.lock().expect("graph lock").map(|t| t.elapsed())
    }

    fn synced_now(&self) {
        *self.0.synced.lock().expect("graph lock") = Some(std::time::Instant::now());
    }

    /// Applies the change-log rows written since the last one applied.
    pub async fn catch_up(&self) -> Result<(), StorageError> {
        if self.0.loaded.get().is_none() {
            return Ok(());
        }
        let _one = self.0.sync.lock().await;
        self.catch_up_locked().await?;
        self.synced_now();
        Ok(())
    }

    async fn catch_up_locked(&self) -> Result<(), StorageError> {
        let db = &self.0.db;
        let last = self.seq();
        let changes = sg::changes_since(db, last, PULL_LIMIT).await?;
        let Some(newest) = changes.last().map(|c| c.seq) else {
            return Ok(());
        };
        if changes.len() as u64 >= PULL_LIMIT || changes.iter().any(|c| c.op == ChangeOp::Rebuild) {
            return self.rebuild_locked().await;
        }
        // Each record once, read as it is now (later changes of it are
        // included, so applying the current row is right whatever the order).
        let mut todo: Vec<(String, i64)> = Vec::new();
        for c in &changes {
            if let (Some(t), Some(id)) = (&c.table, c.id)
                && !todo.iter().any(|(tt, ii)| tt == t && *ii == id)
            {
                todo.push((t.clone(), id));
            }
        }
        let mut rows = Vec::with_capacity(todo.len());
        for (t, id) in &todo {
            rows.push((t.as_str(), *id, sg::row(db, t, *id).await?));
        }
        let mut s = self.0.state.write().expect("graph lock");
        let p = Arc::make_mut(&mut s.projection);
        for (t, id, row) in rows {
            match row {
                Some(r) => p.insert(r),
                None => p.remove(t, id),
            }
        }
        s.seq = newest;
        let p = s.projection.clone();
        drop(s);
        // The edit dropped the compact form: derive it again now rather
        // than in the next reader's request.
        tokio::task::spawn_blocking(move || {
            p.compiled();
        });
        Ok(())
    }
}

/// How often the follower reads the change log even without a
/// notification: the bound on how late a change is seen when notifications
/// were lost (a reconnection after an outage, a listener that died).
pub const POLL_EVERY: Duration = Duration::from_millis(500);

/// Follows the change log while the graph is alive.
async fn follow(graph: Weak<Inner>) {
    let pool = graph.upgrade().and_then(|g| {
        (g.db.get_database_backend() == DatabaseBackend::Postgres).then(|| g.db.get_postgres_connection_pool().clone())
    });
    let mut listener = match pool {
        Some(pool) => match sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(mut l) => match l.listen(sg::CHANNEL).await {
                Ok(()) => Some(l),
                Err(e) => {
                    tracing::warn!("graph: cannot LISTEN ({e}); polling the change log instead");
                    None
                }
            },
            Err(e) => {
                tracing::warn!("graph: no listener connection ({e}); polling the change log instead");
                None
            }
        },
        None => None,
    };
    loop {
        match listener.as_mut() {
            // A notification, or every few seconds anyway (a missed one, a
            // reconnection) — pulling an empty log costs one indexed query.
            Some(l) => {
                if let Ok(Err(e)) = tokio::time::timeout(POLL_EVERY, l.recv()).await {
                    tracing::warn!("graph: listener: {e}");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
            None => tokio::time::sleep(POLL_EVERY).await,
        }
        let Some(inner) = graph.upgrade() else {
            return;
        };
        if let Err(e) = Graph(inner).catch_up().await {
            tracing::warn!("graph: catching up failed: {e}");
        }
    }
}

/// Records in the writer's transaction that `table` row `id` changed (the
/// hook of `domain::edit::apply`).
pub async fn record_change(
    txn: &impl sea_orm::ConnectionTrait,
    deleted: bool,
    table: &str,
    id: i64,
) -> storage::Result<()> {
    let op = if deleted { ChangeOp::Delete } else { ChangeOp::Upsert };
    sg::log_change(txn, op, Some(table), Some(id)).await
}

/// Records in the importer's transaction that everything may have changed.
pub async fn record_rebuild(txn: &impl sea_orm::ConnectionTrait) -> storage::Result<()> {
    sg::log_change(txn, ChangeOp::Rebuild, None, None).await
}
