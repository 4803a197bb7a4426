//! The PostgreSQL pool's round trips: the patched sqlx-core (vendor/README.md)
//! puts a connection back in the pool without pinging it once its statement
//! ran to its end, and still sends the `ROLLBACK` a dropped transaction left.
//! A proxy between the pool and PostgreSQL counts the `Sync` messages the pool
//! sends: each statement ends with one, and so did each ping.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::TestDb;
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A TCP proxy to `upstream` on 127.0.0.1, counting the `Sync` messages
/// clients send (it stops with the test's runtime).
async fn counting_proxy(upstream: SocketAddr) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let syncs = Arc::new(AtomicUsize::new(0));
    let counted = syncs.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let server = TcpStream::connect(upstream).await.unwrap();
            let (mut client_rx, mut client_tx) = client.into_split();
            let (mut server_rx, mut server_tx) = server.into_split();
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut server_rx, &mut client_tx).await;
            });
            let counted = counted.clone();
            tokio::spawn(async move {
                let mut frames = Frames::default();
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(n) = client_rx.read(&mut buf).await {
                    if n == 0 || server_tx.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    counted.fetch_add(frames.syncs(&buf[..n]), Ordering::SeqCst);
                }
            });
        }
    });
    (addr, syncs)
}

/// The frontend messages of one connection, split as they arrive.
#[derive(Default)]
struct Frames {
    pending: Vec<u8>,
    started: bool,
}

impl Frames {
    /// How many `Sync` messages the bytes complete.
    fn syncs(&mut self, bytes: &[u8]) -> usize {
        self.pending.extend_from_slice(bytes);
        let mut syncs = 0;
        loop {
            // Before the startup message, messages have no type byte: an
            // SSL or GSS request (answered, then the startup message), or
            // the startup message itself.
            let (head, untyped) = if self.started { (5, false) } else { (8, true) };
            if self.pending.len() < head {
                return syncs;
            }
            let at = usize::from(!untyped);
            let len = u32::from_be_bytes(self.pending[at..at + 4].try_into().unwrap()) as usize;
            let whole = len + at;
            if self.pending.len() < whole {
                return syncs;
            }
            if untyped {
                let code = u32::from_be_bytes(self.pending[4..8].try_into().unwrap());
                // 80877103: SSLRequest, 80877104: GSSENCRequest.
                self.started = !matches!(code, 80_877_103 | 80_877_104);
            } else if self.pending[0] == b'S' {
                syncs += 1;
            }
            self.pending.drain(..whole);
        }
    }
}

/// The test database's URL through the proxy, without TLS (to read it).
async fn proxied(url: &str) -> (String, Arc<AtomicUsize>) {
    let after_at = url.find('@').expect("the test URL names a user") + 1;
    let end = after_at + url[after_at..].find('/').expect("the test URL has a path");
    let host = &url[after_at..end];
    let upstream = tokio::net::lookup_host(host).await.unwrap().next().unwrap();
    let (addr, syncs) = counting_proxy(upstream).await;
    let mut u = format!("{}{addr}{}", &url[..after_at], &url[end..]);
    u.push(if u.contains('?') { '&' } else { '?' });
    u.push_str("sslmode=disable");
    (u, syncs)
}

fn select_one() -> Statement {
    Statement::from_string(DbBackend::Postgres, "SELECT 1")
}

/// A statement is one round trip: no ping after it (there was one per
/// statement, which doubled the small requests' round trips).
#[tokio::test]
async fn a_statement_costs_one_sync() {
    if common::engine() != "postgres" {
        return;
    }
    let t = TestDb::new().await;
    let (url, syncs) = proxied(&t.url).await;
    let db = maillage::storage::connect_with(&url, Some(1)).await.unwrap();
    // The first execution also prepares the statement.
    db.query_all_raw(select_one()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = syncs.load(Ordering::SeqCst);
    for _ in 0..10 {
        db.query_all_raw(select_one()).await.unwrap();
    }
    // The pool puts a connection back from a task of its own.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sent = syncs.load(Ordering::SeqCst) - before;
    assert!(sent >= 10, "the proxy saw {sent} Sync messages for 10 statements");
    assert!(sent <= 11, "{sent} Sync messages for 10 statements: a ping after each?");
}

/// A transaction dropped without its commit is still rolled back when its
/// connection goes back to the pool, not left open ("idle in transaction",
/// holding its locks) until the connection's next statement.
#[tokio::test]
async fn a_dropped_transaction_is_rolled_back_at_once() {
    if common::engine() != "postgres" {
        return;
    }
    let t = TestDb::new().await;
    let db = maillage::storage::connect_with(&t.url, Some(1)).await.unwrap();
    let txn = db.begin().await.unwrap();
    txn.query_all_raw(select_one()).await.unwrap();
    drop(txn);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let open = Statement::from_string(
        DbBackend::Postgres,
        "SELECT count(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND state = 'idle in transaction'",
    );
    let row = t.db.query_one_raw(open).await.unwrap().unwrap();
    let open: i64 = row.try_get_by_index(0).unwrap();
    assert_eq!(open, 0, "transactions left open");
}

fn backend_pid() -> Statement {
    Statement::from_string(DbBackend::Postgres, "SELECT pg_backend_pid()")
}

async fn terminate(admin: &sea_orm::DatabaseConnection, pid: i32) {
    admin
        .execute_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT pg_terminate_backend({pid})"),
        ))
        .await
        .unwrap();
}

/// A connection that dies under its statement (the server restarted, the
/// network was cut) is closed on its way back to the pool; one that died
/// idle fails its next statement and is closed then. Either way the pool
/// never hands a dead connection out twice. (The first sqlx-core patch put
/// the first kind back unchecked, and every later statement failed on it:
/// vendor/README.md.)
#[tokio::test]
async fn a_dead_connection_is_never_handed_out_twice() {
    if common::engine() != "postgres" {
        return;
    }
    let t = TestDb::new().await;
    let db = maillage::storage::connect_with(&t.url, Some(1)).await.unwrap();
    let pid = |db: sea_orm::DatabaseConnection| async move {
        let row = db.query_one_raw(backend_pid()).await.unwrap().unwrap();
        row.try_get_by_index::<i32>(0).unwrap()
    };
    let first = pid(db.clone()).await;

    // Killed under its statement.
    let sleeper = {
        let db = db.clone();
        tokio::spawn(async move {
            db.query_all_raw(Statement::from_string(DbBackend::Postgres, "SELECT pg_sleep(10)"))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    terminate(&t.db, first).await;
    assert!(sleeper.await.unwrap().is_err(), "the statement outlived its connection");
    for n in 0..3 {
        db.query_all_raw(select_one())
            .await
            .unwrap_or_else(|e| panic!("statement {n} after the kill: {e}"));
    }
    let second = pid(db.clone()).await;
    assert_ne!(first, second, "the dead connection was handed out again");

    // Killed while idle in the pool: its next statement cannot know, but
    // the one after gets a live connection.
    terminate(&t.db, second).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let _ = db.query_all_raw(select_one()).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    for n in 0..3 {
        db.query_all_raw(select_one())
            .await
            .unwrap_or_else(|e| panic!("statement {n} after the idle kill: {e}"));
    }
    assert_ne!(pid(db.clone()).await, second);
}
