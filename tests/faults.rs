//! Database faults on PostgreSQL (issue 17): a TCP proxy between maillage
//! and PostgreSQL that a test cuts and restores, and a real restart of a
//! private cluster of the test's own. Each instance here is built as
//! `serve` builds it: a watched pool, a graph projection following the
//! change log, the HTTP router.
//!
//! What they show: a cut answers `503 UNAVAILABLE` with `Retry-After` in
//! well under a second while the pages that need no database still answer;
//! service resumes within two seconds of the database being reachable, with
//! no dead connection handed out again; no acknowledged write is lost and
//! none refused as `UNAVAILABLE` was saved; two instances see each other's
//! writes within a second of the database's return.

mod common;

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::TestDb;
use http_body_util::BodyExt;
use maillage::api::{self, ServerConfig, graphql::ApiConfig};
use maillage::domain::access::Role;
use maillage::domain::graph::Graph;
use maillage::domain::keys;
use maillage::storage::{self, Health};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

// ---------------------------------------------------------------------------
// A proxy that can cut the network.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Bytes flow.
    Open,
    /// Every connection is reset and new ones are refused: what a restart
    /// or a firewall rejecting packets looks like.
    Reset,
    /// Nothing flows and nothing answers: a cable pulled, packets dropped.
    Blackhole,
}

struct Proxy {
    addr: SocketAddr,
    mode: watch::Sender<Mode>,
    /// Set: the next connection that sends a `COMMIT` has it delivered,
    /// then is reset before the answer comes back.
    cut_after_commit: Arc<AtomicBool>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (mode, _) = watch::channel(Mode::Open);
        let modes = mode.clone();
        let cut_after_commit = Arc::new(AtomicBool::new(false));
        let cut = cut_after_commit.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let m = modes.subscribe();
                tokio::spawn(relay(client, upstream, m, cut.clone()));
            }
        });
        Proxy {
            addr,
            mode,
            cut_after_commit,
        }
    }

    fn set(&self, m: Mode) {
        self.mode.send_replace(m);
    }

    /// `url` (the test database's) through this proxy, without TLS.
    fn url(&self, url: &str) -> String {
        let after_at = url.find('@').expect("the test URL names a user") + 1;
        let end = after_at + url[after_at..].find('/').expect("the test URL has a path");
        let mut u = format!("{}{}{}", &url[..after_at], self.addr, &url[end..]);
        u.push(if u.contains('?') { '&' } else { '?' });
        u.push_str("sslmode=disable");
        u
    }
}

/// One client connection: relayed while the proxy is open, reset when it
/// is cut, held without a byte when it is blackholed (and relayed again
/// when it opens: TCP resends what was held).
async fn relay(client: TcpStream, upstream: SocketAddr, mut mode: watch::Receiver<Mode>, cut: Arc<AtomicBool>) {
    // A connection that arrives during a cut.
    loop {
        let m = *mode.borrow_and_update();
        match m {
            Mode::Open => break,
            Mode::Reset => return reset(client),
            Mode::Blackhole => {
                if mode.changed().await.is_err() {
                    return;
                }
            }
        }
    }
    let Ok(server) = TcpStream::connect(upstream).await else {
        return reset(client);
    };
    let (mut crx, mut ctx) = client.into_split();
    let (mut srx, mut stx) = server.into_split();
    let mut buf_c = vec![0u8; 64 * 1024];
    let mut buf_s = vec![0u8; 64 * 1024];
    use tokio::io::AsyncReadExt;
    loop {
        let m = *mode.borrow_and_update();
        match m {
            Mode::Reset => {
                let client = crx.reunite(ctx).expect("halves of one stream");
                let server = srx.reunite(stx).expect("halves of one stream");
                reset(server);
                return reset(client);
            }
            Mode::Blackhole => {
                if mode.changed().await.is_err() {
                    return;
                }
                continue;
            }
            Mode::Open => {}
        }
        tokio::select! {
            _ = mode.changed() => continue,
            n = crx.read(&mut buf_c) => match n {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if stx.write_all(&buf_c[..n]).await.is_err() {
                        return;
                    }
                    if buf_c[..n].windows(6).any(|w| w == b"COMMIT") && cut.swap(false, Ordering::SeqCst) {
                        // The server commits; its answer is lost.
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        reset(crx.reunite(ctx).expect("halves of one stream"));
                        return reset(srx.reunite(stx).expect("halves of one stream"));
                    }
                }
            },
            n = srx.read(&mut buf_s) => match n {
                Ok(0) | Err(_) => return,
                Ok(n) => if ctx.write_all(&buf_s[..n]).await.is_err() { return },
            },
        }
    }
}

/// Closes with a TCP reset, as a dead peer's host answers.
fn reset(s: TcpStream) {
    let _ = s.set_zero_linger();
    drop(s);
}

// ---------------------------------------------------------------------------
// Instances of maillage.

struct Instance {
    app: Router,
    db: DatabaseConnection,
    graph: Graph,
    health: Health,
    key: String,
}

impl Instance {
    /// An instance on `url`, built as `serve` builds one.
    async fn start(url: &str, key: Option<String>) -> Instance {
        let health = Health::new();
        let db = storage::open_watched(url, Some(4), &health).await.unwrap();
        health.watch(url).unwrap();
        Instance::assemble(db, health, key).await
    }

    /// The graph projection, an admin key (unless given) and the router on
    /// an open pool.
    async fn assemble(db: DatabaseConnection, health: Health, key: Option<String>) -> Instance {
        let graph = Graph::start(db.clone()).await.unwrap();
        let key = match key {
            Some(k) => k,
            None => keys::create(&db, Role::Admin, None, "faults", false).await.unwrap(),
        };
        let mut config = ServerConfig {
            graph: Some(graph.clone()),
            health: health.clone(),
            ..ApiConfig::default().into()
        };
        // As `serve` keeps them by default: a key used recently is known
        // without the database.
        config.access.keys = Arc::new(keys::KeyCache::new(Duration::from_secs(5)));
        Instance {
            app: api::router(db.clone(), config),
            db,
            graph,
            health,
            key,
        }
    }

    /// `POST /graphql` as the admin: status, `Retry-After`, body, time taken.
    async fn gql(&self, query: &str, variables: Value) -> Answer {
        let body = json!({"query": query, "variables": variables}).to_string();
        let req = Request::post("/graphql")
            .header("content-type", "application/json")
            .header("x-api-key", &self.key)
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(Request::get(path).body(Body::empty()).unwrap()).await
    }

    async fn send(&self, req: Request<Body>) -> Answer {
        let began = Instant::now();
        // A request that hangs fails the test instead of holding it.
        let resp = tokio::time::timeout(Duration::from_secs(15), self.app.clone().oneshot(req))
            .await
            .expect("a request hung for 15 s")
            .unwrap();
        let status = resp.status();
        let retry_after = resp.headers().get("retry-after").is_some();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            retry_after,
            body: serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into())),
            took: began.elapsed(),
        }
    }

    async fn count_partners(&self) -> Answer {
        self.gql("{ partners { totalCount } }", json!({})).await
    }

    async fn create(&self, r: &str) -> Answer {
        self.gql(
            "mutation($i: CreatePartnerInput!) { createPartner(input: $i) { partner { id } userErrors { code message } } }",
            json!({"i": {"ref": r, "name": format!("Partenaire {r}"), "kind": "ASSO"}}),
        )
        .await
    }

    /// Whether the graph projection holds a partner of this `ref`.
    async fn graph_has(&self, r: &str) -> bool {
        let p = self.graph.snapshot().await.unwrap();
        p.partners.values().any(|p| p.r#ref == r)
    }
}

#[derive(Debug)]
struct Answer {
    status: StatusCode,
    retry_after: bool,
    body: Value,
    took: Duration,
}

impl Answer {
    fn code(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .or_else(|| self.body["code"].as_str())
    }

    fn ok(&self) -> bool {
        self.status == StatusCode::OK && self.body.get("errors").is_none()
    }

    /// The refusal of a request while the database is unreachable.
    fn assert_unavailable(&self, what: &str) {
        assert_eq!(self.status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {self:?}");
        assert_eq!(self.code(), Some("UNAVAILABLE"), "{what}: {self:?}");
        assert!(self.retry_after, "{what}: no Retry-After: {self:?}");
        assert!(self.took < Duration::from_secs(1), "{what}: took {:?}", self.took);
    }
}

/// Polls until `f` answers, for at most `limit`; the time it took.
async fn within<F, Fut>(limit: Duration, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let began = Instant::now();
    loop {
        if f().await {
            return began.elapsed();
        }
        assert!(began.elapsed() < limit, "not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn upstream(url: &str) -> SocketAddr {
    let after_at = url.find('@').unwrap() + 1;
    let end = after_at + url[after_at..].find('/').unwrap();
    tokio::net::lookup_host(&url[after_at..end])
        .await
        .unwrap()
        .next()
        .unwrap()
}

fn on_postgres() -> bool {
    common::engine() == "postgres"
}

/// The fault tests take turns: each times what it sees against sub-second
/// bounds, and eight of them at once on two cores (an `initdb` among them)
/// would measure the machine, not maillage.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// During a cut: fast refusals, and the pages without a database answer.
async fn check_during_cut(i: &Instance, what: &str) {
    // The first requests may meet the dead connections themselves; each is
    // still answered fast and coded.
    for n in 0..5 {
        i.count_partners()
            .await
            .assert_unavailable(&format!("{what}: read {n}"));
    }
    i.create(&format!("cut-{what}"))
        .await
        .assert_unavailable(&format!("{what}: write"));
    for page in ["/", "/map", "/livez"] {
        let a = i.get(page).await;
        assert_eq!(a.status, StatusCode::OK, "{what}: {page} {a:?}");
    }
    // The schema needs no database.
    let a = i.gql("{ __schema { queryType { name } } }", json!({})).await;
    assert!(a.ok(), "{what}: introspection during the cut: {a:?}");
    let a = i.get("/readyz").await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{what}: /readyz {a:?}");
    assert_eq!(a.body["check"], "database", "{a:?}");
    // The watcher has seen it too (or is about to: a failed statement
    // wakes it).
    within(Duration::from_secs(1), || async { !i.health.is_up() }).await;
}

/// After the cut: serving within 2 s, and every following request served
/// (no dead connection handed out a second time).
async fn check_recovery(i: &Instance, what: &str) -> Duration {
    let took = within(Duration::from_secs(2), || async { i.count_partners().await.ok() }).await;
    for n in 0..30 {
        let a = i.count_partners().await;
        assert!(a.ok(), "{what}: request {n} after the recovery: {a:?}");
    }
    let a = i.get("/readyz").await;
    assert_eq!(a.status, StatusCode::OK, "{what}: /readyz after recovery {a:?}");
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_network_fails_fast_and_service_resumes_within_two_seconds() {
    if !on_postgres() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().await;
    let t = TestDb::with_demo().await;
    let proxy = Proxy::start(upstream(&t.url).await).await;
    let i = Instance::start(&proxy.url(&t.url), None).await;
    // Every pooled connection in use before the cut.
    let i = Arc::new(i);
    let load: Vec<_> = (0..8)
        .map(|_| {
            let i = i.clone();
            async move { i.count_partners().await }
        })
        .collect();
    for a in futures_join(load).await {
        assert!(a.ok(), "{a:?}");
    }
    for round in 0..2 {
        proxy.set(Mode::Reset);
        check_during_cut(&i, &format!("reset {round}")).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        proxy.set(Mode::Open);
        let took = check_recovery(&i, &format!("reset {round}")).await;
        eprintln!("reset {round}: serving again {took:?} after the network came back");
    }
    assert_eq!(i.health.outages(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_network_fails_fast_and_service_resumes_within_two_seconds() {
    if !on_postgres() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().await;
    let t = TestDb::with_demo().await;
    let proxy = Proxy::start(upstream(&t.url).await).await;
    let i = Instance::start(&proxy.url(&t.url), None).await;
    assert!(i.count_partners().await.ok());
    proxy.set(Mode::Blackhole);
    // A request sent into silence: answered as soon as the watcher's ping
    // goes unanswered, not at the request's timeout.
    let a = i.count_partners().await;
    assert_eq!(a.code(), Some("UNAVAILABLE"), "{a:?}");
    assert!(a.took < Duration::from_secs(1), "took {:?}", a.took);
    check_during_cut(&i, "blackhole").await;
    proxy.set(Mode::Open);
    let took = check_recovery(&i, "blackhole").await;
    eprintln!("blackhole: serving again {took:?} after the network came back");
}

/// Whether a partner of this `ref` was saved (read past the proxy).
async fn saved(db: &DatabaseConnection, r: &str) -> bool {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT count(*) FROM partners WHERE ref = $1",
            [r.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap() == 1
}

#[derive(Debug, Default)]
struct Outcomes {
    acknowledged: Vec<String>,
    unavailable: Vec<String>,
    unknown: Vec<String>,
}

/// Creates partners one after the other until `stop`, sorting outcomes.
async fn write_until(i: Arc<Instance>, prefix: &'static str, stop: watch::Receiver<bool>) -> Outcomes {
    let mut o = Outcomes::default();
    let mut n = 0;
    while !*stop.borrow() {
        n += 1;
        let r = format!("{prefix}-{n}");
        let a = i.create(&r).await;
        match a.code() {
            None if a.ok() && a.body["data"]["createPartner"]["partner"]["id"].is_string() => o.acknowledged.push(r),
            Some("UNAVAILABLE") => {
                assert!(a.took < Duration::from_secs(1), "{a:?}");
                o.unavailable.push(r)
            }
            Some("COMMIT_UNKNOWN") => o.unknown.push(r),
            _ => panic!("{r}: neither acknowledged nor refused as unavailable: {a:?}"),
        }
    }
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_acknowledged_write_is_lost_and_no_refused_one_is_saved() {
    if !on_postgres() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().await;
    let t = TestDb::new().await;
    let proxy = Proxy::start(upstream(&t.url).await).await;
    let i = Arc::new(Instance::start(&proxy.url(&t.url), None).await);
    let (stop, stopped) = watch::channel(false);
    let writers: Vec<_> = ["w1", "w2", "w3"]
        .into_iter()
        .map(|p| tokio::spawn(write_until(i.clone(), p, stopped.clone())))
        .collect();
    for mode in [Mode::Reset, Mode::Blackhole, Mode::Reset] {
        tokio::time::sleep(Duration::from_millis(400)).await;
        proxy.set(mode);
        tokio::time::sleep(Duration::from_millis(1200)).await;
        proxy.set(Mode::Open);
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.send_replace(true);
    let mut all = Outcomes::default();
    for w in writers {
        let o = w.await.unwrap();
        all.acknowledged.extend(o.acknowledged);
        all.unavailable.extend(o.unavailable);
        all.unknown.extend(o.unknown);
    }
    eprintln!(
        "{} acknowledged, {} refused as unavailable, {} of unknown outcome",
        all.acknowledged.len(),
        all.unavailable.len(),
        all.unknown.len()
    );
    assert!(all.acknowledged.len() > 20, "{all:?}");
    assert!(!all.unavailable.is_empty(), "the cuts refused nothing: {all:?}");
    for r in &all.acknowledged {
        assert!(saved(&t.db, r).await, "{r} was acknowledged and is not saved");
    }
    for r in &all.unavailable {
        assert!(!saved(&t.db, r).await, "{r} was refused as unavailable and is saved");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_see_each_others_writes_within_a_second_after_a_cut() {
    if !on_postgres() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().await;
    let t = TestDb::new().await;
    let proxy_a = Proxy::start(upstream(&t.url).await).await;
    let proxy_b = Proxy::start(upstream(&t.url).await).await;
    let a = Instance::start(&proxy_a.url(&t.url), None).await;
    let b = Instance::start(&proxy_b.url(&t.url), Some(a.key.clone())).await;
    proxy_a.set(Mode::Reset);
    proxy_b.set(Mode::Reset);
    a.count_partners().await.assert_unavailable("instance a");
    b.count_partners().await.assert_unavailable("instance b");
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy_a.set(Mode::Open);
    proxy_b.set(Mode::Open);
    for i in [&a, &b] {
        within(Duration::from_secs(2), || async { i.count_partners().await.ok() }).await;
    }
    assert!(a.create("via-a").await.ok());
    assert!(b.create("via-b").await.ok());
    let began = Instant::now();
    for i in [&a, &b] {
        for r in ["via-a", "via-b"] {
            within(Duration::from_secs(1).saturating_sub(began.elapsed()), || {
                i.graph_has(r)
            })
            .await;
        }
    }
    eprintln!("both instances saw both writes within {:?}", began.elapsed());
    drop((a.db, b.db));
}

// ---------------------------------------------------------------------------
// A real restart, on a private cluster (never the shared one).

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A PostgreSQL cluster of this test's own, in a temporary directory, run
/// as the `postgres` user when the test runs as root (PostgreSQL refuses
/// root). Stopped when dropped.
struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
}

impl Cluster {
    fn create() -> Option<Cluster> {
        if !std::path::Path::new(PG_BIN).join("initdb").exists() {
            eprintln!("skipped: no {PG_BIN}/initdb on this machine");
            return None;
        }
        let dir = tempfile::Builder::new().prefix("maillage-pg-").tempdir().unwrap();
        let root = is_root();
        if root {
            let st = Command::new("chown")
                .args(["postgres:postgres", dir.path().to_str().unwrap()])
                .status()
                .unwrap();
            assert!(st.success());
        }
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let c = Cluster { dir, port };
        c.pg(&[
            "initdb",
            "-D",
            &c.data(),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        ]);
        c.start();
        Some(c)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable", self.port)
    }

    fn pg(&self, args: &[&str]) {
        let out = pg_command(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn start(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        self.pg(&["pg_ctl", "-D", &self.data(), "-o", &opts, "-l", &log, "-w", "start"]);
    }

    /// `pg_ctl stop -m fast`: what an operator's restart does.
    fn stop(&self) {
        self.pg(&["pg_ctl", "-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = pg_command(&["pg_ctl", "-D", &self.data(), "-m", "immediate", "stop"]).output();
    }
}

/// A PostgreSQL tool, run as `postgres` when this process is root.
fn pg_command(args: &[&str]) -> Command {
    let tool = format!("{PG_BIN}/{}", args[0]);
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", &tool]);
        c
    } else {
        Command::new(&tool)
    };
    cmd.args(&args[1..]);
    cmd
}

/// Whether this process runs as root (from `id -u`: no libc binding needed).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_is_survived_by_every_instance() {
    if !on_postgres() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(cluster) = tokio::task::spawn_blocking(Cluster::create).await.unwrap() else {
        return;
    };
    let url = cluster.url();
    let a = Instance::start(&url, None).await;
    let b = Instance::start(&url, Some(a.key.clone())).await;
    assert!(a.create("before").await.ok());
    let cluster = Arc::new(cluster);
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.stop()).await.unwrap();
    for i in [&a, &b] {
        i.count_partners().await.assert_unavailable("restart");
        let a = i.get("/").await;
        assert_eq!(a.status, StatusCode::OK);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.start()).await.unwrap();
    let back = Instant::now();
    for i in [&a, &b] {
        within(Duration::from_secs(2).saturating_sub(back.elapsed()), || async {
            i.count_partners().await.ok()
        })
        .await;
    }
    eprintln!("both instances serving {:?} after PostgreSQL was back", back.elapsed());
    assert!(a.create("after-a").await.ok());
    assert!(b.create("after-b").await.ok());
    let began = Instant::now();
    for i in [&a, &b] {
        for r in ["before", "after-a", "after-b"] {
            within(Duration::from_secs(1).saturating_sub(began.elapsed()), || {
                i.graph_has(r)
            })
            .await;
        }
    }
}

/// Runs futures together on the runtime's threads.
async fn futures_join<F>(fs: Vec<F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = fs.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

/// A commit whose answer is lost is neither acknowledged nor refused as
/// unavailable (which a client would retry, saving it twice): it says its
/// outcome is unknown. Here it did commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_whose_answer_is_lost_says_so() {
    if !on_postgres() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().await;
    let t = TestDb::new().await;
    let proxy = Proxy::start(upstream(&t.url).await).await;
    let i = Instance::start(&proxy.url(&t.url), None).await;
    assert!(i.create("first").await.ok());
    proxy.cut_after_commit.store(true, Ordering::SeqCst);
    let a = i.create("lost-answer").await;
    assert_eq!(a.code(), Some("COMMIT_UNKNOWN"), "{a:?}");
    assert!(!a.retry_after, "not to be retried blindly: {a:?}");
    assert!(saved(&t.db, "lost-answer").await, "the server did commit it");
    // Service goes on.
    within(Duration::from_secs(2), || async { i.create("next").await.ok() }).await;
}

// ---------------------------------------------------------------------------
// SQLite: one writer at a time, and a full disk.

impl Instance {
    /// An instance on an open SQLite database (no watcher: a file does not
    /// go away).
    async fn on(db: DatabaseConnection) -> Instance {
        Instance::assemble(db, Health::new(), None).await
    }
}

/// Eight writers at once on one SQLite file: each waits its turn (the
/// write lock is taken at the transaction's start, with a busy timeout);
/// none is told the database is locked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sqlite_writers_never_see_a_locked_database() {
    if on_postgres() {
        return;
    }
    let t = TestDb::with_demo().await;
    let i = Arc::new(Instance::on(t.db.clone()).await);
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let i = i.clone();
            async move {
                let mut failed = vec![];
                for n in 0..15 {
                    let a = i.create(&format!("conc-{w}-{n}")).await;
                    if !a.ok() {
                        failed.push(a);
                    }
                }
                failed
            }
        })
        .collect();
    let failed: Vec<_> = futures_join(writers).await.into_iter().flatten().collect();
    assert!(
        failed.is_empty(),
        "{} writes failed: {:?}",
        failed.len(),
        failed.first()
    );
    let a = i
        .gql(
            r#"{ partners(filter: { search: "partenaire conc" }) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(a.body["data"]["partners"]["totalCount"], 120, "{a:?}");
}

/// A database with no room left: the write is refused with its own code,
/// nothing of it is kept, the file is intact, and reads go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sqlite_database_refuses_writes_clearly_and_keeps_serving_reads() {
    if on_postgres() {
        return;
    }
    // One connection (in memory), so that the page limit applies to every
    // statement: what a full disk does to a file.
    let db = storage::open("sqlite::memory:").await.unwrap();
    maillage::domain::transfer::load_demo_if_empty(&db).await.unwrap();
    let i = Instance::on(db.clone()).await;
    let pages: i64 = db
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA page_count"))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap();
    db.execute_unprepared(&format!("PRAGMA max_page_count = {}", pages + 2))
        .await
        .unwrap();
    let mut acknowledged = 0;
    let mut full = None;
    for n in 0..500 {
        // Long names fill pages fast.
        let a = i
            .gql(
                "mutation($i: CreatePartnerInput!) { createPartner(input: $i) { partner { id } userErrors { code } } }",
                json!({"i": {"ref": format!("full-{n}"), "name": format!("{n} {}", "x".repeat(3000)), "kind": "ASSO"}}),
            )
            .await;
        if a.ok() {
            acknowledged += 1;
        } else {
            full = Some(a);
            break;
        }
    }
    let a = full.expect("the database never filled up");
    assert_eq!(a.code(), Some("STORAGE_FULL"), "{a:?}");
    assert!(
        a.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("disk is full"),
        "{a:?}"
    );
    // Reads go on, and see exactly the acknowledged writes.
    let r = i
        .gql(r#"{ partners(filter: { search: "full" }) { totalCount } }"#, json!({}))
        .await;
    assert!(r.ok(), "{r:?}");
    let found: i64 = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT count(*) FROM partners WHERE ref LIKE 'full-%'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap();
    assert_eq!(found, acknowledged, "a refused write left rows behind");
    let ok: String = db
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA integrity_check"))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap();
    assert_eq!(ok, "ok");
    // Room made, writes go on.
    db.execute_unprepared("PRAGMA max_page_count = 1000000").await.unwrap();
    assert!(i.create("after-full").await.ok());
}
