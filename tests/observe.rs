//! Observing a running maillage: Prometheus metrics after known requests,
//! the request id, OpenTelemetry spans received by a collector of our own,
//! JSON log lines. The metrics test runs in process (the recorder is the
//! process' own: this binary's tests use operation names of their own); the
//! traces and logs tests start the built binary, as an operator would.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::TestDb;
use http_body_util::BodyExt;
use maillage::api::{self, ServerConfig};
use maillage::domain::access::Role;
use maillage::domain::keys;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use prost::Message;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn call(app: &Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&bytes).into_owned())
}

fn post(key: Option<&str>, body: Value) -> Request<Body> {
    let mut r = Request::post("/graphql").header("content-type", "application/json");
    if let Some(k) = key {
        r = r.header("x-api-key", k);
    }
    r.body(Body::from(body.to_string())).unwrap()
}

/// The value of one sample of the text format: `name{labels} value`, the
/// labels in any order.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (head, value) = l.rsplit_once(' ')?;
        let (n, rest) = head.split_once('{').unwrap_or((head, "}"));
        if n != name {
            return None;
        }
        let have: HashMap<&str, &str> = rest
            .trim_end_matches('}')
            .split(',')
            .filter(|p| !p.is_empty())
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k, v.trim_matches('"')))
            .collect();
        (labels.iter().all(|(k, v)| have.get(k) == Some(v)) && have.len() == labels.len())
            .then(|| value.parse().ok())
            .flatten()
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_known_requests() {
    // The recorder first, so that loading the demo counts as an import.
    api::metrics::handle();
    let t = TestDb::with_demo().await;
    let mut config = ServerConfig::default();
    config.limits.max_aliases = 3;
    let app = api::router(t.db.clone(), config);
    let admin = keys::create(&t.db, Role::Admin, None, "admin", true).await.unwrap();
    let scrape = || async {
        let (s, h, body) = call(
            &app,
            Request::get("/metrics")
                .header("x-api-key", &admin)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert!(h["content-type"].to_str().unwrap().starts_with("text/plain"));
        body
    };
    let before = scrape().await;
    let statements_before = sample(&before, "maillage_sql_statements_per_request_count", &[]).unwrap_or(0.0);

    // Three good queries, one invalid one, one refused for its aliases, all named.
    for _ in 0..3 {
        let (s, _, body) = call(
            &app,
            post(
                None,
                json!({"query": "query MetricsProbe { partners(first: 2) { totalCount nodes { name } } }"}),
            ),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
    }
    call(
        &app,
        post(None, json!({"query": "query MetricsBroken { partnrs { totalCount } }"})),
    )
    .await;
    call(
        &app,
        post(None, json!({"query": "query MetricsAliases { a: viewer { role } b: viewer { role } c: viewer { role } d: viewer { role } }"})),
    )
    .await;
    // A graph question: the projection is built (and caught up).
    let (s, _, body) = call(&app, post(None, json!({"query": "{ networkMap { total } }"}))).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    // A wrong key is refused before anything runs.
    let (s, _, _) = call(
        &app,
        post(Some("mlg_00000000_00"), json!({"query": "{ viewer { role } }"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    let after = scrape().await;
    let req = |op: &str, outcome: &str| {
        sample(
            &after,
            "maillage_graphql_requests_total",
            &[("operation", op), ("type", "query"), ("outcome", outcome)],
        )
    };
    assert_eq!(req("MetricsProbe", "ok"), Some(3.0), "{after}");
    assert_eq!(req("MetricsBroken", "error"), Some(1.0));
    assert_eq!(req("MetricsAliases", "refused"), Some(1.0));
    assert_eq!(
        sample(
            &after,
            "maillage_graphql_request_duration_seconds_count",
            &[("operation", "MetricsProbe"), ("type", "query"), ("outcome", "ok")]
        ),
        Some(3.0)
    );
    // Buckets from 1 ms to 10 s.
    for le in ["0.001", "10", "+Inf"] {
        assert!(
            sample(
                &after,
                "maillage_graphql_request_duration_seconds_bucket",
                &[
                    ("operation", "MetricsProbe"),
                    ("type", "query"),
                    ("outcome", "ok"),
                    ("le", le)
                ]
            )
            .is_some(),
            "bucket {le}"
        );
    }
    assert!(sample(&after, "maillage_graphql_errors_total", &[("code", "BAD_USER_INPUT")]).unwrap() >= 2.0);
    assert!(sample(&after, "maillage_refusals_total", &[("kind", "aliases")]).unwrap() >= 1.0);
    assert!(sample(&after, "maillage_refusals_total", &[("kind", "unauthenticated")]).unwrap() >= 1.0);
    // Each good query ran statements (a page and its count), counted per request.
    let statements = sample(&after, "maillage_sql_statements_per_request_count", &[]).unwrap();
    assert!(
        statements >= statements_before + 5.0,
        "{statements_before} → {statements}"
    );
    let sum = sample(&after, "maillage_sql_statements_per_request_sum", &[]).unwrap();
    assert!(sum >= 3.0 * 2.0, "{sum}");
    assert!(sample(&after, "maillage_sql_statement_duration_seconds_count", &[]).unwrap() > 0.0);
    // The gauges read at scrape time.
    assert!(sample(&after, "maillage_db_pool_max_connections", &[]).unwrap() >= 1.0);
    assert!(sample(&after, "maillage_db_pool_connections", &[("state", "idle")]).is_some());
    assert!(sample(&after, "maillage_process_resident_memory_bytes", &[]).unwrap() > 1e6);
    assert!(sample(&after, "maillage_admission_waiting", &[]).is_some());
    assert!(sample(&after, "maillage_admission_wait_seconds_count", &[]).unwrap() >= 3.0);
    assert!(sample(&after, "maillage_graph_sequence", &[]).is_some());
    assert_eq!(sample(&after, "maillage_graph_lag", &[]), Some(0.0));
    assert!(after.contains("# HELP maillage_graphql_requests_total"));
    // The demo's import: its rows by table, and its duration.
    assert!(sample(&after, "maillage_import_rows_total", &[("table", "partners")]).unwrap() >= 150.0);
    assert!(sample(&after, "maillage_import_duration_seconds_count", &[]).unwrap() >= 1.0);

    // Only admins read /metrics on the API's address.
    let (s, _, _) = call(&app, Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_answer_carries_its_request_id() {
    let t = TestDb::with_demo().await;
    let app = api::router(t.db.clone(), ServerConfig::default());
    // A new id when the client sends none…
    let (_, h, _) = call(&app, post(None, json!({"query": "{ viewer { role } }"}))).await;
    let id = h["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    // …the client's own otherwise, in the header and in every error.
    let mut req = post(None, json!({"query": "{ partnrs { totalCount } }"}));
    req.headers_mut()
        .insert("x-request-id", "client-chosen-42".parse().unwrap());
    let (_, h, body) = call(&app, req).await;
    assert_eq!(h["x-request-id"], "client-chosen-42");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["errors"][0]["extensions"]["requestId"], "client-chosen-42", "{v}");
    // Refusals before execution too.
    let mut req = post(Some("mlg_00000000_00"), json!({"query": "{ viewer { role } }"}));
    req.headers_mut().insert("x-request-id", "refused-7".parse().unwrap());
    let (s, h, body) = call(&app, req).await;
    assert_eq!(
        (s, h["x-request-id"].to_str().unwrap()),
        (StatusCode::UNAUTHORIZED, "refused-7")
    );
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["errors"][0]["extensions"]["requestId"], "refused-7", "{v}");
}

/// A free port on 127.0.0.1 (bound, then let go for the server to take).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The built binary, serving the demo from a fresh SQLite file.
struct Server {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Server {
    fn start(args: &[&str], env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_maillage"));
        cmd.arg("--database-url")
            .arg(format!("sqlite://{}", dir.path().join("m.db").display()))
            .args(args)
            .args(["serve", "--demo", "--listen", &addr.to_string()])
            .env_remove("RUST_LOG")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start maillage");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        let s = Server {
            child,
            addr,
            _dir: dir,
            lines,
        };
        let until = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < until, "maillage did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        s
    }

    /// What it logged so far.
    fn logged(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.1 request on a fresh connection: status, headers, body.
async fn http(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out))
        .await
        .expect("an answer")
        .unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, text)
}

fn attr<'a>(span: &'a opentelemetry_proto::tonic::trace::v1::Span, key: &str) -> Option<&'a AnyValue> {
    span.attributes
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| a.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

#[tokio::test(flavor = "multi_thread")]
async fn spans_reach_an_otlp_collector_under_the_clients_trace() {
    // The collector: OTLP/HTTP protobuf on 127.0.0.1, every span received kept.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let collector = Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: axum::body::Bytes| {
            let tx = tx.clone();
            async move {
                let req = ExportTraceServiceRequest::decode(body).expect("an OTLP trace export");
                for rs in req.resource_spans {
                    for ss in rs.scope_spans {
                        for s in ss.spans {
                            let _ = tx.send(s);
                        }
                    }
                }
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let serving = tokio::spawn(async move { axum::serve(listener, collector).await });
    let metrics_port = free_port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let server = Server::start(
        &["--otlp-endpoint", &endpoint],
        &[("MAILLAGE_METRICS_LISTEN", &metrics_addr)],
    );

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent = "00f067aa0ba902b7";
    let query = json!({"query": "query Traced { partners(first: 3) { totalCount nodes { name networks(first: 2) { edges { node { name } } } } } }"});
    let (status, answer) = http(
        server.addr,
        "POST",
        "/graphql",
        &[
            ("content-type", "application/json"),
            ("traceparent", &format!("00-{trace_id}-{parent}-01")),
        ],
        &query.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");

    // Spans arrive in batches: wait for the request's whole tree.
    let mut spans = vec![];
    let until = Instant::now() + Duration::from_secs(20);
    let want = [
        "graphql.parse",
        "graphql.validate",
        "graphql.execute",
        "dataloader.batch",
    ];
    loop {
        let names: Vec<&str> = spans
            .iter()
            .map(|s: &opentelemetry_proto::tonic::trace::v1::Span| s.name.as_str())
            .collect();
        let done = want.iter().all(|w| names.contains(w))
            && names.iter().any(|n| n.starts_with("POST /graphql"))
            && names.iter().any(|n| n.starts_with("SELECT partners"));
        if done {
            break;
        }
        assert!(Instant::now() < until, "spans received: {names:?}");
        if let Ok(Some(s)) = tokio::time::timeout(Duration::from_millis(500), rx.recv()).await {
            spans.push(s);
        }
    }
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let ours: Vec<_> = spans.iter().filter(|s| hex(&s.trace_id) == trace_id).collect();
    let request = ours
        .iter()
        .find(|s| s.name.starts_with("POST /graphql"))
        .expect("the request's span continues the client's trace");
    assert_eq!(hex(&request.parent_span_id), parent, "child of the client's span");
    assert_eq!(
        attr(request, "graphql.operation"),
        Some(&AnyValue::StringValue("Traced".into()))
    );
    for name in want {
        assert!(ours.iter().any(|s| s.name == name), "{name} under the client's trace");
    }
    let sql: Vec<_> = ours.iter().filter(|s| attr(s, "db.system.name").is_some()).collect();
    assert!(sql.len() >= 2, "a span per statement: {}", sql.len());
    for s in &sql {
        assert!(s.end_time_unix_nano >= s.start_time_unix_nano);
        assert!(attr(s, "db.operation.name").is_some());
        // The statement's text and values never leave the server.
        for a in &s.attributes {
            let v = format!("{:?}", a.value);
            assert!(!v.contains("WHERE") && !v.contains("LIMIT"), "{}: {v}", a.key);
        }
    }
    assert!(
        sql.iter()
            .any(|s| attr(s, "db.collection.name") == Some(&AnyValue::StringValue("partners".into())))
    );

    // The metrics listener answers on its own address, without a credential.
    let (status, text) = http(metrics_addr.parse().unwrap(), "GET", "/metrics", &[], "").await;
    assert_eq!(status, 200);
    assert!(
        text.contains("maillage_graphql_requests_total{operation=\"Traced\""),
        "{text}"
    );
    drop(server);
    serving.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn json_log_lines_carry_the_request_id() {
    let server = Server::start(&["--log-format", "json"], &[("RUST_LOG", "info,tower_http=debug")]);
    let (status, answer) = http(
        server.addr,
        "POST",
        "/graphql",
        &[("content-type", "application/json"), ("x-request-id", "log-me-1")],
        r#"{"query":"{ viewer { role } }"}"#,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let until = Instant::now() + Duration::from_secs(10);
    let mut lines = vec![];
    loop {
        lines.extend(server.logged());
        if lines.iter().any(|l| l.contains("log-me-1")) {
            break;
        }
        assert!(Instant::now() < until, "{lines:#?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    for l in &lines {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
        assert!(v["timestamp"].is_string() && v["level"].is_string(), "{l}");
    }
    let line: Value = serde_json::from_str(lines.iter().find(|l| l.contains("log-me-1")).unwrap()).unwrap();
    assert_eq!(line["span"]["request_id"], "log-me-1", "{line}");
}
