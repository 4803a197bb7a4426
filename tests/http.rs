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
    fn interrupt(mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            if Instant::now() > deadline {
                self.child.kill().ok();
                panic!("the server did not stop on Ctrl-C");
            }
            std::thread::sleep(Duration::from_millis(50));
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
