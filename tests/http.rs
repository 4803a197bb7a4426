//! The HTTP interface: GraphQL, GraphiQL, health check, and the binary's
//! first run. Servers bind 127.0.0.1 on a free port and stop by themselves.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use maillage::api::{self, graphql::ApiConfig};
use maillage::domain::access::Role;
use serde_json::{Value, json};

/// A blocking HTTP/1.1 request on loopback; returns (status, body).
fn http(addr: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
    http_with(addr, method, path, body, "")
}

/// The same, with extra header lines (each ending in `\r\n`).
fn http_with(addr: &str, method: &str, path: &str, body: Option<&Value>, headers: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\n\r\n{payload}",
        payload.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw[9..12].parse().unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((len, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(len.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

/// A POST to /graphql with the hub's coordinator key (the API tests are
/// about the data, `tests/access.rs` about who sees it).
async fn gql(hub: Hub, query: &str) -> Value {
    let body = json!({ "query": query });
    let header = format!("X-Api-Key: {}\r\n", hub.key);
    let (status, text) =
        tokio::task::spawn_blocking(move || http_with(&hub.addr, "POST", "/graphql", Some(&body), &header))
            .await
            .unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

#[derive(Clone)]
struct Hub {
    addr: String,
    key: String,
}

async fn start(t: &TestDb) -> Hub {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let app = api::router(t.db.clone(), ApiConfig::default());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let key = maillage::domain::keys::create(&t.db, Role::Coordinator, None, "tests", false)
        .await
        .unwrap();
    Hub { addr, key }
}

#[tokio::test(flavor = "multi_thread")]
async fn graphql_serves_partners_networks_territories_and_actions_with_their_links() {
    let t = TestDb::with_demo().await;
    let addr = start(&t).await;
    let r = gql(
        addr.clone(),
        r#"{
          partners(first: 3, filter: { search: "mission locale" }) {
            totalCount
            edges { cursor node { id ref name kind seat { name kind } networks { edges { role node { name kind } } } actions { edges { role node { title } } } } }
            pageInfo { hasNextPage endCursor }
          }
          networks(first: 50) { totalCount edges { node { name kind members { edges { role node { name } } } actions { nodes { title } } territory { name } } } }
          territories(filter: { kinds: [QPV] }) { totalCount edges { node { name code parent { name kind } } } }
          actions(first: 5, filter: { themes: [YOUTH] }) { totalCount edges { node { title theme budget participants { edges { role contribution node { name } } } territories { nodes { name } } network { name } } } }
          territory(code: "57306", kind: COMMUNE) { name children { nodes { name kind } } }
        }"#,
    )
    .await;
    assert!(r.get("errors").is_none(), "{r}");
    let d = &r["data"];
    assert!(d["partners"]["totalCount"].as_u64().unwrap() >= 1, "{d}");
    let p = &d["partners"]["edges"][0]["node"];
    assert!(p["name"].as_str().unwrap().to_lowercase().contains("mission locale"));
    assert_eq!(d["networks"]["totalCount"], 17);
    let cispd = d["networks"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["kind"] == "CISPD")
        .expect("a CISPD");
    assert!(cispd["node"]["members"]["edges"].as_array().unwrap().len() > 5);
    assert!(d["territories"]["totalCount"].as_u64().unwrap() >= 1);
    assert_eq!(d["territories"]["edges"][0]["node"]["parent"]["kind"], "COMMUNE");
    assert!(d["actions"]["totalCount"].as_u64().unwrap() >= 1);
    assert_eq!(d["territory"]["name"], "Hayange");

    // Paging: the second page continues after the first, without overlap.
    let r1 = gql(
        addr.clone(),
        "{ partners(first: 2) { edges { node { ref } } pageInfo { endCursor hasNextPage } } }",
    )
    .await;
    let end = r1["data"]["partners"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_string();
    let r2 = gql(
        addr.clone(),
        &format!("{{ partners(first: 2, after: \"{end}\") {{ edges {{ node {{ ref }} }} }} }}"),
    )
    .await;
    assert_eq!(r1["data"]["partners"]["edges"][1]["node"]["ref"], "ptn-000002");
    assert_eq!(r2["data"]["partners"]["edges"][0]["node"]["ref"], "ptn-000003");

    // node(id) finds what a list returned.
    let id = p["id"].as_str().unwrap();
    let r = gql(
        addr.clone(),
        &format!("{{ node(id: \"{id}\") {{ id ... on Partner {{ name }} }} }}"),
    )
    .await;
    assert_eq!(r["data"]["node"]["name"], p["name"]);

    // Asking for more than the page cap is an error, never a silent truncation.
    let r = gql(addr.clone(), "{ partners(first: 1000) { totalCount } }").await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{r}");
}

#[tokio::test(flavor = "multi_thread")]
async fn health_and_graphiql_answer() {
    let t = TestDb::new().await;
    let addr = start(&t).await.addr;
    let a = addr.clone();
    let (status, body) = tokio::task::spawn_blocking(move || http(&a, "GET", "/healthz", None))
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("ok"));
    let a = addr.clone();
    let (status, body) = tokio::task::spawn_blocking(move || http(&a, "GET", "/", None))
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("graphiql") || body.contains("GraphiQL"));
}

#[tokio::test(flavor = "multi_thread")]
async fn health_reports_a_dead_database() {
    let t = TestDb::new().await;
    let addr = start(&t).await.addr;
    t.db.clone().close().await.unwrap();
    let (status, body) = tokio::task::spawn_blocking(move || http(&addr, "GET", "/healthz", None))
        .await
        .unwrap();
    assert_eq!(status, 503, "{body}");
}

/// Runs the real binary and waits for the line that gives its address.
struct Server {
    child: Child,
    addr: String,
    log: Vec<String>,
}

fn spawn_server(cwd: &std::path::Path, env_db: Option<&str>, args: &[&str]) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_maillage"));
    cmd.current_dir(cwd)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .stderr(Stdio::piped())
        .stdout(Stdio::null());
    cmd.env_remove("DATABASE_URL")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1");
    if let Some(u) = env_db {
        cmd.env("DATABASE_URL", u);
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut log = vec![];
    let deadline = Instant::now() + Duration::from_secs(60);
    let addr = loop {
        assert!(Instant::now() < deadline, "no address logged: {log:?}");
        let line = lines.next().expect("the server logs").unwrap();
        log.push(line.clone());
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split('/').next().unwrap().to_string();
        }
    };
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, addr, log }
}

/// A test that fails half-way must not leave its server running.
impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.child.kill().ok();
            self.child.wait().ok();
        }
    }
}

impl Server {
    /// Ctrl-C, then the exit status.
    fn interrupt(self) -> std::process::ExitStatus {
        self.stop("-INT", Duration::from_secs(20))
    }

    /// Sends `signal`, then waits at most `within` for the exit status.
    fn stop(mut self, signal: &str, within: Duration) -> std::process::ExitStatus {
        Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + within;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            if Instant::now() > deadline {
                self.child.kill().ok();
                panic!("the server did not stop within {within:?} of {signal}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn first_run_loads_the_demo_into_the_default_database_and_stops_on_ctrl_c() {
    let cwd = tempfile::tempdir().unwrap();
    let s = spawn_server(cwd.path(), None, &[]);
    assert!(
        s.log.iter().any(|l| l.contains("loaded the demo bundle")),
        "{:?}",
        s.log
    );
    assert!(
        cwd.path().join("maillage.db").exists(),
        "the default database is a file in the working directory"
    );
    // The log gives an admin key to see it all; without it, public data only.
    let key = s
        .log
        .iter()
        .find_map(|l| l.split_whitespace().find(|w| w.starts_with("mlg_")))
        .unwrap_or_else(|| panic!("no demo key in {:?}", s.log))
        .to_owned();
    let q = json!({"query": "{ partners { totalCount } viewer { role } }"});
    let (status, body) = http_with(&s.addr, "POST", "/graphql", Some(&q), &format!("X-Api-Key: {key}\r\n"));
    assert_eq!(status, 200);
    assert!(body.contains("\"totalCount\":150"), "{body}");
    assert!(body.contains("ADMIN"), "{body}");
    let (_, body) = http(&s.addr, "POST", "/graphql", Some(&q));
    assert!(body.contains("ANONYMOUS"), "{body}");
    assert!(
        !body.contains("\"totalCount\":150"),
        "anonymous readers see public partners only: {body}"
    );
    assert!(s.interrupt().success());

    // A second run finds the data there and does not load it again.
    let s = spawn_server(cwd.path(), None, &[]);
    assert!(
        !s.log.iter().any(|l| l.contains("loaded the demo bundle")),
        "{:?}",
        s.log
    );
    assert!(s.interrupt().success());
}

#[test]
fn a_database_named_by_the_operator_gets_no_demo_unasked() {
    let cwd = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", cwd.path().join("prod.db").display());
    let s = spawn_server(cwd.path(), Some(&url), &[]);
    let (_, body) = http(
        &s.addr,
        "POST",
        "/graphql",
        Some(&json!({"query": "{ partners { totalCount } }"})),
    );
    assert!(body.contains("\"totalCount\":0"), "{body}");
    assert!(s.interrupt().success());

    let s = spawn_server(cwd.path(), Some(&url), &["--demo"]);
    let (_, body) = http(
        &s.addr,
        "POST",
        "/graphql",
        Some(&json!({"query": "{ territories { totalCount } }"})),
    );
    assert!(!body.contains("\"totalCount\":0"), "{body}");
    assert!(s.interrupt().success());

    let cwd2 = tempfile::tempdir().unwrap();
    let s = spawn_server(cwd2.path(), None, &["--no-demo"]);
    let (_, body) = http(
        &s.addr,
        "POST",
        "/graphql",
        Some(&json!({"query": "{ partners { totalCount } }"})),
    );
    assert!(body.contains("\"totalCount\":0"), "{body}");
    assert!(s.interrupt().success());
}

#[tokio::test(flavor = "multi_thread")]
async fn livez_and_readyz_tell_a_load_balancer_what_it_needs() {
    let t = TestDb::new().await;
    let addr = start(&t).await.addr;
    let a = addr.clone();
    let (status, body) = tokio::task::spawn_blocking(move || http(&a, "GET", "/livez", None))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let a = addr.clone();
    let (status, body) = tokio::task::spawn_blocking(move || http(&a, "GET", "/readyz", None))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"ready\""), "{body}");
    // The database gone: not ready (and why), but alive. (Another server:
    // closing a pool waits for its connections, and the first server's
    // graph projection holds one to listen on.)
    let t = TestDb::new().await;
    let addr = start(&t).await.addr;
    t.db.clone().close().await.unwrap();
    let a = addr.clone();
    let (status, body) = tokio::task::spawn_blocking(move || http(&a, "GET", "/readyz", None))
        .await
        .unwrap();
    assert_eq!(status, 503, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["check"], "database", "{v}");
    assert!(v["reason"].as_str().is_some_and(|r| !r.is_empty()), "{v}");
    let (status, _) = tokio::task::spawn_blocking(move || http(&addr, "GET", "/livez", None))
        .await
        .unwrap();
    assert_eq!(status, 200);
}

/// Headers and the first half of a GraphQL request: in flight until the
/// rest is sent.
fn half_request(addr: &str) -> (TcpStream, String) {
    let body = json!({"query": "{ partners { totalCount } }"}).to_string();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..10]
    )
    .unwrap();
    s.flush().unwrap();
    (s, body[10..].to_owned())
}

#[test]
fn a_stop_finishes_the_requests_in_flight_and_takes_no_new_ones() {
    let cwd = tempfile::tempdir().unwrap();
    let s = spawn_server(cwd.path(), None, &["--no-demo", "--shutdown-grace-seconds", "10"]);
    let addr = s.addr.clone();
    let (mut inflight, rest) = half_request(&addr);
    std::thread::sleep(Duration::from_millis(300));
    let stopper = std::thread::spawn(move || s.stop("-TERM", Duration::from_secs(10)));
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        TcpStream::connect(&addr).is_err(),
        "a stopping server still accepts connections"
    );
    // The request in flight is answered in full.
    inflight.write_all(rest.as_bytes()).unwrap();
    let mut raw = String::new();
    inflight.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    assert!(raw.contains("\"totalCount\":0"), "{raw}");
    let status = stopper.join().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_stop_abandons_what_outlives_the_grace_period() {
    let cwd = tempfile::tempdir().unwrap();
    let s = spawn_server(cwd.path(), None, &["--no-demo", "--shutdown-grace-seconds", "1"]);
    let (_stuck, _) = half_request(&s.addr);
    std::thread::sleep(Duration::from_millis(300));
    let began = Instant::now();
    // A client that never finishes its request cannot hold the stop.
    let status = s.stop("-TERM", Duration::from_secs(5));
    assert!(status.success(), "{status:?}");
    assert!(began.elapsed() >= Duration::from_millis(900), "{:?}", began.elapsed());
}

#[test]
fn serve_refuses_a_database_migrated_by_a_newer_maillage() {
    let cwd = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", cwd.path().join("newer.db").display());
    let migrate = Command::new(env!("CARGO_BIN_EXE_maillage"))
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(migrate.status.success(), "{migrate:?}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sea_orm::ConnectionTrait;
        let db = sea_orm::Database::connect(&url).await.unwrap();
        db.execute_unprepared(
            "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m20991231_000001_from_the_future', 0)",
        )
        .await
        .unwrap();
        db.close().await.unwrap();
    });
    let out = Command::new(env!("CARGO_BIN_EXE_maillage"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("newer than this maillage"), "{err}");
    assert!(err.contains("m20991231_000001_from_the_future"), "{err}");
}

/// A server killed (`kill -9`) in the middle of a stream of writes loses
/// no acknowledged one: after a restart on the same file every write it
/// answered is there, at most the one in flight besides, and it serves.
#[test]
fn a_crash_mid_write_loses_no_acknowledged_write() {
    let cwd = tempfile::tempdir().unwrap();
    let mut s = spawn_server(cwd.path(), None, &[]);
    let key = s
        .log
        .iter()
        .find_map(|l| l.split_whitespace().find(|w| w.starts_with("mlg_")))
        .unwrap()
        .to_owned();
    let auth = format!("X-Api-Key: {key}\r\n");
    let writer = {
        let (addr, auth) = (s.addr.clone(), auth.clone());
        std::thread::spawn(move || {
            let mut acked = 0usize;
            for n in 0.. {
                let q = json!({
                    "query": "mutation($i: CreatePartnerInput!) { createPartner(input: $i) { partner { id } } }",
                    "variables": {"i": {"ref": format!("crash-{n}"), "name": format!("Crash {n}"), "kind": "ASSO"}}
                });
                let answered = std::panic::catch_unwind(|| http_with(&addr, "POST", "/graphql", Some(&q), &auth));
                match answered {
                    Ok((200, body)) if body.contains("\"partner\":{\"id\"") => acked += 1,
                    _ => return acked,
                }
            }
            acked
        })
    };
    std::thread::sleep(Duration::from_millis(1500));
    s.child.kill().unwrap();
    s.child.wait().unwrap();
    let acked = writer.join().unwrap();
    assert!(acked > 5, "only {acked} writes before the kill");
    let s = spawn_server(cwd.path(), None, &[]);
    let q = json!({"query": r#"{ partners(filter: { search: "crash" }) { totalCount } }"#});
    let (status, body) = http_with(&s.addr, "POST", "/graphql", Some(&q), &auth);
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let found = v["data"]["partners"]["totalCount"].as_u64().unwrap() as usize;
    assert!(
        found == acked || found == acked + 1,
        "{acked} writes acknowledged, {found} found after the crash"
    );
    assert!(s.interrupt().success());
}
