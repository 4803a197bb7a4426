//! What this process knows of its database's reachability, and the
//! connections an outage left dead.
//!
//! A pool alone cannot tell a dead connection from a live one without a
//! round trip, and pinging every connection before every statement doubles
//! a small request's round trips. Instead one watcher per process keeps a
//! connection of its own and pings it a few times a second
//! ([`Health::watch`]). When that ping fails (the server restarted, the
//! network was cut), the database is marked down and the moment is kept as
//! a *fence*: a pooled connection opened before it is closed at checkout,
//! never handed out ([`Health::stale`]), whether it died or not, and the
//! pool opens a fresh one. While the database is down, the interfaces
//! refuse at once what needs it (`UNAVAILABLE`, with `Retry-After`) instead
//! of letting each request wait for a connection until its timeout; the
//! watcher tries to reconnect every [`RECONNECT_EVERY`] and marks the
//! database up on the first success, so service resumes within a fraction
//! of a second of the database being reachable again.
//!
//! A statement that fails like a lost connection ([`unavailable`]) wakes
//! the watcher at once ([`Health::suspect`]), so an outage is noticed by
//! the first request that meets it, not only at the next ping.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::{self, Connection};
use sea_orm::{DbErr, RuntimeErr};
use tokio::sync::{Notify, watch};

/// How often the watcher pings the database while it is up.
pub const PING_EVERY: Duration = Duration::from_millis(200);
/// How long a ping may take before the database counts as unreachable: a
/// cut network answers nothing at all, so only a deadline tells.
pub const PING_TIMEOUT: Duration = Duration::from_millis(500);
/// How often the watcher tries to reconnect while the database is down.
pub const RECONNECT_EVERY: Duration = Duration::from_millis(200);
/// How long one reconnection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// A shared handle on one process' view of its database (cheap to clone).
/// Without [`Health::watch`] it stays up: SQLite, and the CLI's commands.
#[derive(Clone)]
pub struct Health(Arc<Inner>);

struct Inner {
    born: Instant,
    /// Milliseconds after `born` when the last outage was noticed, plus
    /// one (0: never).
    fence_ms: AtomicU64,
    up: AtomicBool,
    /// Why the database counts as down, for `/readyz` and the logs.
    reason: Mutex<Option<String>>,
    /// Changes of `up`, for requests waiting on a statement when it goes.
    changes: watch::Sender<bool>,
    /// Wakes the watcher for a ping now (shared apart, so that a waiting
    /// watcher does not keep the handle alive).
    wake: Arc<Notify>,
    outages: AtomicU64,
}

impl Default for Health {
    fn default() -> Self {
        Health::new()
    }
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health").field("up", &self.is_up()).finish()
    }
}

impl Health {
    pub fn new() -> Health {
        Health(Arc::new(Inner {
            born: Instant::now(),
            fence_ms: AtomicU64::new(0),
            up: AtomicBool::new(true),
            reason: Mutex::new(None),
            changes: watch::Sender::new(true),
            wake: Arc::new(Notify::new()),
            outages: AtomicU64::new(0),
        }))
    }

    /// Whether the database was reachable at the last look.
    pub fn is_up(&self) -> bool {
        self.0.up.load(Ordering::Acquire)
    }

    /// Why the database counts as down (`None` while it is up).
    pub fn reason(&self) -> Option<String> {
        if self.is_up() {
            return None;
        }
        self.0.reason.lock().expect("health lock").clone()
    }

    /// How many outages this process has seen.
    pub fn outages(&self) -> u64 {
        self.0.outages.load(Ordering::Relaxed)
    }

    /// A statement failed as if its connection was lost: ping now.
    pub fn suspect(&self) {
        self.0.wake.notify_one();
    }

    /// Resolves once the database is seen unreachable (at once if it is
    /// now): what a request waiting on a statement races against, so that
    /// a cut network does not keep it until its timeout.
    pub async fn down(&self) {
        let mut rx = self.0.changes.subscribe();
        // `wait_for` looks at the current value first.
        let _ = rx.wait_for(|up| !*up).await;
    }

    /// Whether a pooled connection of this age was opened before the last
    /// outage noticed: it may have died with it, and is not handed out.
    pub fn stale(&self, age: Duration) -> bool {
        let fence = self.0.fence_ms.load(Ordering::Acquire);
        if fence == 0 {
            return false;
        }
        let opened = self.0.born.elapsed().saturating_sub(age);
        opened < Duration::from_millis(fence - 1)
    }

    fn mark_down(&self, reason: String) {
        let now = self.0.born.elapsed().as_millis() as u64 + 1;
        self.0.fence_ms.store(now, Ordering::Release);
        *self.0.reason.lock().expect("health lock") = Some(reason.clone());
        if self.0.up.swap(false, Ordering::AcqRel) {
            self.0.outages.fetch_add(1, Ordering::Relaxed);
            ::metrics::counter!("maillage_db_outages_total").increment(1);
            tracing::error!(%reason, "database unreachable: refusing what needs it until it answers again");
            self.0.changes.send_replace(false);
        }
    }

    fn mark_up(&self) {
        if !self.0.up.swap(true, Ordering::AcqRel) {
            tracing::warn!("database reachable again: serving");
            self.0.changes.send_replace(true);
        }
    }

    /// Watches the PostgreSQL database at `url` from a connection of its
    /// own, for as long as this `Health` (or a clone) lives.
    pub fn watch(&self, url: &str) -> Result<(), DbErr> {
        let options = PgConnectOptions::from_str(url).map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e))))?;
        tokio::spawn(watcher(Arc::downgrade(&self.0), options));
        Ok(())
    }
}

async fn watcher(health: Weak<Inner>, options: PgConnectOptions) {
    // Its own connection from the start: the first outage may come at once.
    let mut conn: Option<PgConnection> = connect(&options, CONNECT_TIMEOUT).await.ok();
    loop {
        let Some(h) = health.upgrade().map(Health) else {
            return;
        };
        if h.is_up() {
            // Wait for the next ping, or for a request's suspicion.
            let wake = h.0.wake.clone();
            drop(h);
            let _ = tokio::time::timeout(PING_EVERY, wake.notified()).await;
            let Some(h) = health.upgrade().map(Health) else {
                return;
            };
            let result = match conn.as_mut() {
                Some(c) => match tokio::time::timeout(PING_TIMEOUT, c.ping()).await {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(format!("the database connection failed: {e}")),
                    Err(_) => Err(format!(
                        "the database did not answer within {} ms",
                        PING_TIMEOUT.as_millis()
                    )),
                },
                // While up, a connection is due as fast as a ping.
                None => connect(&options, PING_TIMEOUT).await.map(|c| {
                    conn = Some(c);
                }),
            };
            if let Err(reason) = result {
                conn = None;
                h.mark_down(reason);
            }
        } else {
            drop(h);
            tokio::time::sleep(RECONNECT_EVERY).await;
            let Some(h) = health.upgrade().map(Health) else {
                return;
            };
            match connect(&options, CONNECT_TIMEOUT).await {
                Ok(c) => {
                    conn = Some(c);
                    h.mark_up();
                }
                Err(reason) => *h.0.reason.lock().expect("health lock") = Some(reason),
            }
        }
    }
}

/// A fresh connection that answered a ping, or why there is none.
async fn connect(options: &PgConnectOptions, within: Duration) -> Result<PgConnection, String> {
    let attempt = async {
        let mut c = PgConnection::connect_with(options).await?;
        c.ping().await?;
        Ok::<_, sqlx::Error>(c)
    };
    match tokio::time::timeout(within, attempt).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(format!("cannot connect to the database: {e}")),
        Err(_) => Err(format!(
            "cannot connect to the database: no answer within {} ms",
            within.as_millis()
        )),
    }
}

/// Whether a database error means the database could not be reached (a
/// lost or refused connection, no connection to be had, the server
/// shutting down), as opposed to a statement the database refused.
pub fn unavailable(e: &DbErr) -> bool {
    match e {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => sqlx_unavailable(e),
        DbErr::Conn(_) => true,
        _ => false,
    }
}

/// Whether a write failed because the database has no room left (a full
/// disk: SQLite's `SQLITE_FULL`, PostgreSQL's `53100 disk_full`). The
/// transaction is rolled back whole; reads go on.
pub fn full(e: &DbErr) -> bool {
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e))
        | DbErr::Conn(RuntimeErr::SqlxError(e)) => match e.as_ref() {
            sqlx::Error::Database(d) => {
                d.code().is_some_and(|c| c == "13" || c == "53100") || d.message().contains("database or disk is full")
            }
            _ => false,
        },
        _ => false,
    }
}

fn sqlx_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        // SQLSTATE class 08 (connection exception), 57P01..57P03 (the
        // server is shutting down, crashed or starting up).
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_opened_before_an_outage_is_stale() {
        let h = Health::new();
        assert!(!h.stale(Duration::from_secs(3600)), "no outage yet");
        std::thread::sleep(Duration::from_millis(5));
        h.mark_down("test".into());
        assert!(!h.is_up());
        assert!(h.stale(Duration::from_millis(4)), "opened before the fence");
        std::thread::sleep(Duration::from_millis(5));
        assert!(!h.stale(Duration::from_millis(1)), "opened after the fence");
        h.mark_up();
        assert!(h.is_up());
        assert_eq!(h.outages(), 1);
    }

    #[test]
    fn connection_failures_are_unavailable_and_refusals_are_not() {
        let io = DbErr::Query(RuntimeErr::SqlxError(Arc::new(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "eof",
        )))));
        assert!(unavailable(&io));
        assert!(unavailable(&DbErr::ConnectionAcquire(
            sea_orm::error::ConnAcquireErr::Timeout
        )));
        assert!(!unavailable(&DbErr::RecordNotFound("x".into())));
        assert!(!unavailable(&DbErr::Query(RuntimeErr::SqlxError(Arc::new(
            sqlx::Error::RowNotFound
        )))));
    }
}
