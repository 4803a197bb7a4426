//! Prometheus metrics: the recorder, the names, and `/metrics`.
//!
//! Every layer records through the `metrics` facade (a no-op until a
//! recorder is installed, as `tracing` is without a subscriber): the
//! imports in `domain::transfer`, the statements in [`on_statement`], the
//! requests and refusals here and in `api`. This module installs the one
//! Prometheus recorder of the process and renders it, filling the gauges
//! that are read rather than counted (pool, graph projection, memory) at
//! scrape time.
//!
//! Names follow Prometheus' conventions (`maillage_…_total` counters,
//! `…_seconds` histograms) and every label takes few values: operation
//! names are kept to the first [`MAX_OPERATION_NAMES`] distinct ones seen,
//! the rest grouped under `other`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::DatabaseConnection;

/// Buckets of every `…_seconds` histogram: 1 ms to 10 s.
const SECONDS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 7.5, 10.0,
];
/// Buckets of the statements a request runs.
const STATEMENT_COUNTS: [f64; 10] = [0.0, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 50.0, 100.0];

/// Distinct operation names labelled as themselves; later ones are `other`.
pub const MAX_OPERATION_NAMES: usize = 200;

/// The process' Prometheus recorder, installed on first use.
///
/// One per process: the `metrics` facade has one global recorder. A second
/// server in the same process (tests) shares it, so its counts add up.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS)
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full("maillage_sql_statements_per_request".into()),
                    &STATEMENT_COUNTS,
                )
            })
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may be installed already (an embedding program's):
        // then ours renders what it was given, nothing.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was installed already: /metrics shows nothing of maillage");
        }
        describe();
        handle
    })
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "maillage_graphql_requests_total",
        "GraphQL operations by operation name, type and outcome"
    );
    describe_histogram!(
        "maillage_graphql_request_duration_seconds",
        Unit::Seconds,
        "Time of a GraphQL operation, admission queue included"
    );
    describe_counter!("maillage_graphql_errors_total", "GraphQL errors by extensions.code");
    describe_histogram!(
        "maillage_sql_statements_per_request",
        "SQL statements a GraphQL operation ran"
    );
    describe_histogram!(
        "maillage_sql_statement_duration_seconds",
        Unit::Seconds,
        "Time of one SQL statement (connection acquisition included)"
    );
    describe_counter!("maillage_sql_errors_total", "SQL statements that failed");
    describe_gauge!(
        "maillage_db_pool_connections",
        "Open database connections by state (idle, in_use)"
    );
    describe_gauge!("maillage_db_pool_max_connections", "Most connections the pool opens");
    describe_histogram!(
        "maillage_db_acquire_duration_seconds",
        Unit::Seconds,
        "Time to get a pooled connection, measured at each scrape"
    );
    describe_gauge!(
        "maillage_admission_waiting",
        "Operations waiting for a turn (--max-running)"
    );
    describe_gauge!("maillage_admission_running", "Operations holding a turn");
    describe_histogram!(
        "maillage_admission_wait_seconds",
        Unit::Seconds,
        "Time an operation waited for its turn"
    );
    describe_counter!(
        "maillage_refusals_total",
        "Requests refused before they ran, by kind (rate_limited, unauthenticated, body_too_large, aliases, batch, cost, depth, timeout, …)"
    );
    describe_gauge!(
        "maillage_graph_sequence",
        "Last change-log sequence the graph projection applied"
    );
    describe_gauge!(
        "maillage_graph_lag",
        "Changes in the change log the graph projection has not applied yet"
    );
    describe_histogram!(
        "maillage_import_duration_seconds",
        Unit::Seconds,
        "Time of a bundle import"
    );
    describe_counter!(
        "maillage_import_rows_total",
        "Rows read from imported bundles, by table"
    );
    describe_gauge!(
        "maillage_process_resident_memory_bytes",
        Unit::Bytes,
        "Resident memory of the process"
    );
}

/// Operation names as labels: the first [`MAX_OPERATION_NAMES`] distinct
/// ones as themselves, later ones `other`, unnamed ones `anonymous`.
#[derive(Default)]
pub struct OperationNames(Mutex<HashSet<String>>);

impl OperationNames {
    pub fn label(&self, name: Option<&str>) -> String {
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            return "anonymous".into();
        };
        // GraphQL names are [_A-Za-z][_0-9A-Za-z]*; anything else (a name
        // the client made up in `operationName`) is not a label.
        if name.len() > 64 || !name.bytes().all(|b| b == b'_' || b.is_ascii_alphanumeric()) {
            return "other".into();
        }
        let mut seen = self.0.lock().expect("names lock");
        if seen.contains(name) {
            return name.to_owned();
        }
        if seen.len() < MAX_OPERATION_NAMES {
            seen.insert(name.to_owned());
            return name.to_owned();
        }
        "other".into()
    }
}

/// A refusal before execution, by kind.
pub fn refused(kind: &'static str) {
    counter!("maillage_refusals_total", "kind" => kind).increment(1);
}

/// One GraphQL operation's figures.
pub struct Operation<'a> {
    pub name: String,
    pub kind: &'static str,
    pub outcome: &'static str,
    pub elapsed: Duration,
    pub statements: u32,
    pub codes: Vec<&'a str>,
}

pub fn operation(op: Operation<'_>) {
    let labels = [
        ("operation", op.name),
        ("type", op.kind.to_owned()),
        ("outcome", op.outcome.to_owned()),
    ];
    counter!("maillage_graphql_requests_total", &labels).increment(1);
    histogram!("maillage_graphql_request_duration_seconds", &labels).record(op.elapsed.as_secs_f64());
    histogram!("maillage_sql_statements_per_request").record(op.statements as f64);
    for code in op.codes {
        counter!("maillage_graphql_errors_total", "code" => code.to_owned()).increment(1);
    }
}

/// Operations waiting for a turn and holding one, in this process (like
/// the recorder, one for all the servers of a process).
pub static WAITING: AtomicU32 = AtomicU32::new(0);
pub static RUNNING: AtomicU32 = AtomicU32::new(0);

/// Counts an operation as waiting until [`Waiting::admitted`], then as
/// running until dropped (whatever ends it: answer, timeout, cancellation).
pub struct Waiting {
    since: std::time::Instant,
    running: bool,
}

impl Waiting {
    pub fn new() -> Waiting {
        WAITING.fetch_add(1, Ordering::Relaxed);
        Waiting {
            since: std::time::Instant::now(),
            running: false,
        }
    }

    pub fn admitted(&mut self) {
        WAITING.fetch_sub(1, Ordering::Relaxed);
        RUNNING.fetch_add(1, Ordering::Relaxed);
        self.running = true;
        histogram!("maillage_admission_wait_seconds").record(self.since.elapsed().as_secs_f64());
    }
}

impl Default for Waiting {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if self.running {
            RUNNING.fetch_sub(1, Ordering::Relaxed);
        } else {
            WAITING.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// What `/metrics` reads at scrape time.
#[derive(Clone)]
pub struct Scrape {
    pub db: DatabaseConnection,
    pub graph: Option<crate::domain::graph::Graph>,
}

/// `GET /metrics` alone (`--metrics-listen`: an address of its own, for
/// the scraper only).
pub fn routes(scrape: Scrape) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(s): State<Scrape>| async move { render(&s).await }),
        )
        .with_state(scrape)
}

/// The Prometheus text format, the read gauges refreshed.
pub async fn render(s: &Scrape) -> Response {
    let handle = handle();
    gauge!("maillage_admission_waiting").set(WAITING.load(Ordering::Relaxed) as f64);
    gauge!("maillage_admission_running").set(RUNNING.load(Ordering::Relaxed) as f64);
    pool_gauges(&s.db).await;
    if let Some(g) = &s.graph {
        let seq = g.seq();
        gauge!("maillage_graph_sequence").set(seq as f64);
        // The newest entry of the change log, asked briefly: a scrape must
        // answer while the database is down (the lag is then left as it was).
        let newest = tokio::time::timeout(Duration::from_millis(500), crate::storage::graph::last_seq(&s.db)).await;
        if let Ok(Ok(newest)) = newest {
            gauge!("maillage_graph_lag").set((newest - seq).max(0) as f64);
        }
    }
    if let Some(rss) = resident_bytes() {
        gauge!("maillage_process_resident_memory_bytes").set(rss as f64);
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        handle.render(),
    )
        .into_response()
}

async fn pool_gauges(db: &DatabaseConnection) {
    use sea_orm::{DatabaseBackend, DbBackend};
    let (size, idle, max) = match db.get_database_backend() {
        DbBackend::Postgres => {
            let p = db.get_postgres_connection_pool();
            (p.size(), p.num_idle() as u32, p.options().get_max_connections())
        }
        DatabaseBackend::Sqlite => {
            let p = db.get_sqlite_connection_pool();
            (p.size(), p.num_idle() as u32, p.options().get_max_connections())
        }
        _ => return,
    };
    gauge!("maillage_db_pool_connections", "state" => "idle").set(idle as f64);
    gauge!("maillage_db_pool_connections", "state" => "in_use").set(size.saturating_sub(idle) as f64);
    gauge!("maillage_db_pool_max_connections").set(max as f64);
    // How long a statement would wait for a connection now.
    let began = std::time::Instant::now();
    if let Ok(Ok(c)) = tokio::time::timeout(Duration::from_millis(500), acquire(db)).await {
        drop(c);
        histogram!("maillage_db_acquire_duration_seconds").record(began.elapsed().as_secs_f64());
    }
}

/// A pooled connection, only to time its acquisition.
async fn acquire(db: &DatabaseConnection) -> Result<Box<dyn std::any::Any + Send>, sea_orm::sqlx::Error> {
    use sea_orm::DbBackend;
    Ok(match db.get_database_backend() {
        DbBackend::Postgres => Box::new(db.get_postgres_connection_pool().acquire().await?),
        _ => Box::new(db.get_sqlite_connection_pool().acquire().await?),
    })
}

/// The resident set of this process, from `/proc` (Linux); none elsewhere.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // Pages are 4 KiB on the platforms maillage runs on; sysconf would need libc.
    Some(pages * 4096)
}

tokio::task_local! {
    /// The statements of the GraphQL operation this task serves (see
    /// [`counting`]; loader batches run in tasks of their own and are
    /// scoped by their spawner, `graphql::loaders`).
    static STATEMENTS: Arc<AtomicU32>;
}

/// Runs `fut` counting the SQL statements it runs (and those of the tasks
/// it hands the counter to, [`current_counter`]).
pub async fn counting<F: Future>(counter: Arc<AtomicU32>, fut: F) -> F::Output {
    STATEMENTS.scope(counter, fut).await
}

/// The counter of the operation this task serves, to hand to a task it spawns.
pub fn current_counter() -> Option<Arc<AtomicU32>> {
    STATEMENTS.try_with(Arc::clone).ok()
}

/// Called by sea-orm after every statement of the API's connection.
pub fn on_statement(info: &sea_orm::metric::Info<'_>) {
    let _ = STATEMENTS.try_with(|c| c.fetch_add(1, Ordering::Relaxed));
    histogram!("maillage_sql_statement_duration_seconds").record(info.elapsed.as_secs_f64());
    if info.failed {
        counter!("maillage_sql_errors_total").increment(1);
    }
    super::traces::statement(info);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_capped_and_checked() {
        let n = OperationNames::default();
        assert_eq!(n.label(None), "anonymous");
        assert_eq!(n.label(Some("")), "anonymous");
        assert_eq!(n.label(Some("bad name!")), "other");
        for i in 0..MAX_OPERATION_NAMES {
            assert_eq!(n.label(Some(&format!("Op{i}"))), format!("Op{i}"));
        }
        assert_eq!(n.label(Some("OneTooMany")), "other");
        assert_eq!(n.label(Some("Op7")), "Op7", "a name seen before keeps its label");
    }
}
