//! What is decided before an operation runs, as a scanner and a flood see
//! it: rate buckets per verified identity, failed credentials throttled by
//! address without slowing valid keys, the same security headers on every
//! answer, and no field suggestions for who may not introspect.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::TestDb;
use http_body_util::BodyExt;
use maillage::api::auth::AccessConfig;
use maillage::api::rate::{MAX_FAILURES, Rate};
use maillage::api::{self, ServerConfig};
use maillage::domain::access::Role;
use maillage::domain::keys;
use maillage::domain::tokens::TokenConfig;
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &str = "a shared secret for the admission tests";

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

async fn send(app: &Router, req: Request<Body>) -> Reply {
    let resp = app.clone().oneshot(req).await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    Reply { status, headers, body }
}

/// `{ viewer { role } }` with these headers, from this client address.
async fn ask(app: &Router, from: &str, headers: &[(&str, &str)]) -> Reply {
    let mut r = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("x-forwarded-for", from);
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    let body = json!({"query": "{ viewer { role } }"}).to_string();
    send(app, r.body(Body::from(body)).unwrap()).await
}

fn token(sub: &str) -> String {
    let exp = chrono::Utc::now().timestamp() + 3600;
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"sub": sub, "role": "analyst", "exp": exp}),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

fn limited(db: &sea_orm::DatabaseConnection, per_identity: &str) -> Router {
    api::router(
        db.clone(),
        ServerConfig {
            rate_per_credential: Rate::parse(per_identity).unwrap(),
            rate_per_anonymous_ip: Rate::parse("1000/1000").unwrap(),
            trust_forwarded_for: true,
            access: AccessConfig {
                tokens: TokenConfig::default().with_hs256_secret(SECRET),
                ..Default::default()
            },
            ..Default::default()
        },
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn each_identity_has_its_own_bucket_and_wrong_tokens_spend_none() {
    let t = TestDb::with_demo().await;
    // Five requests each, at most: one a minute after that.
    let app = limited(&t.db, "1/5");
    let key = keys::create(&t.db, Role::Analyst, None, "analyst", false)
        .await
        .unwrap();
    let (alice, bob) = (token("alice"), token("bob"));
    let bearer = |t: &str| format!("Bearer {t}");

    // First a flood of forged tokens, from many addresses: none is anyone.
    for i in 0..300 {
        let forged = format!("{}x", &token("mallory")[..100]);
        let r = ask(
            &app,
            &format!("203.0.113.{}", i % 250),
            &[("authorization", &bearer(&forged))],
        )
        .await;
        assert!(
            matches!(r.status, StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS),
            "{}",
            r.status
        );
    }
    // Then the two users of tokens (whose encoded headers are the same) and
    // the key's user, each from the same address: five each.
    for who in [bearer(&alice), bearer(&bob)] {
        for n in 0..5 {
            let r = ask(&app, "198.51.100.7", &[("authorization", &who)]).await;
            assert_eq!(r.status, StatusCode::OK, "request {n}: {}", r.body);
        }
    }
    for n in 0..5 {
        let r = ask(&app, "198.51.100.7", &[("x-api-key", &key)]).await;
        assert_eq!(r.status, StatusCode::OK, "key request {n}: {}", r.body);
    }
    // The sixth of each is refused, with a wait.
    for h in [("authorization", bearer(&alice)), ("x-api-key", key.clone())] {
        let r = ask(&app, "198.51.100.7", &[(h.0, &h.1)]).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
        assert!(r.headers.contains_key("retry-after"));
    }
    // A token whose header differs (another `typ`) is still alice.
    let h = jsonwebtoken::Header {
        typ: Some("at+jwt".into()),
        ..Default::default()
    };
    let exp = chrono::Utc::now().timestamp() + 3600;
    let alice2 = jsonwebtoken::encode(
        &h,
        &json!({"sub": "alice", "role": "analyst", "exp": exp}),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let r = ask(&app, "198.51.100.8", &[("authorization", &bearer(&alice2))]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "a new header is no new bucket");
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_credentials_are_throttled_by_address_and_valid_keys_go_on() {
    let t = TestDb::with_demo().await;
    let app = limited(&t.db, "1000/1000");
    let key = keys::create(&t.db, Role::Analyst, None, "analyst", false)
        .await
        .unwrap();
    let from = "198.51.100.20";
    let mut statuses = vec![];
    for i in 0..30 {
        let wrong = format!("mlg_{:08}_{}", i, "0".repeat(40));
        let r = ask(&app, from, &[("x-api-key", &wrong)]).await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(r.body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
            let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=60).contains(&wait), "{wait}");
        }
        statuses.push(r.status.as_u16());
        // Meanwhile the valid key from the same address is served.
        let ok = ask(&app, from, &[("x-api-key", &key)]).await;
        assert_eq!(ok.status, StatusCode::OK, "after {i} failures: {}", ok.body);
    }
    let first = MAX_FAILURES as usize;
    assert!(statuses[..first].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[first..].iter().all(|s| *s == 429), "{statuses:?}");
    // Another address is not concerned.
    let r = ask(&app, "198.51.100.21", &[("x-api-key", "mlg_00000000_00")]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // And the guesses are counted.
    let metrics = send(
        &app,
        Request::get("/metrics")
            .header(
                "x-api-key",
                keys::create(&t.db, Role::Admin, None, "ops", false).await.unwrap(),
            )
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let text = metrics.body.as_str().unwrap().to_owned();
    let failures: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("maillage_auth_failures_total "))
        .expect("the failures counter")
        .parse()
        .unwrap();
    assert!(failures >= 31.0, "{failures}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_client_cannot_choose_its_address_behind_the_balancer() {
    let t = TestDb::with_demo().await;
    let app = limited(&t.db, "1000/1000");
    // The balancer appends the real address; what the client wrote before it
    // does not count, so varying it escapes nothing.
    for i in 0..(MAX_FAILURES + 1) {
        let xff = format!("192.0.2.{i}, 198.51.100.30");
        let r = ask(&app, &xff, &[("x-api-key", "mlg_00000000_00")]).await;
        let want = if i < MAX_FAILURES {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(r.status, want, "failure {i}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_answer_carries_the_security_headers() {
    let t = TestDb::with_demo().await;
    let app = api::router(t.db.clone(), ServerConfig::default());
    let gql = Request::post("/graphql")
        .header("content-type", "application/json")
        .body(Body::from(json!({"query": "{ viewer { role } }"}).to_string()))
        .unwrap();
    for (what, req) in [
        (
            "/",
            Request::get("/")
                .header("accept", "text/html")
                .body(Body::empty())
                .unwrap(),
        ),
        ("/map", Request::get("/map").body(Body::empty()).unwrap()),
        ("/graphql", gql),
        (
            "/export/map.json",
            Request::get("/export/map.json").body(Body::empty()).unwrap(),
        ),
        (
            "/export/map.nope",
            Request::get("/export/map.nope").body(Body::empty()).unwrap(),
        ),
        ("/healthz", Request::get("/healthz").body(Body::empty()).unwrap()),
        ("/nowhere", Request::get("/nowhere").body(Body::empty()).unwrap()),
    ] {
        let r = send(&app, req).await;
        let h = &r.headers;
        let csp = h
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{what}: no CSP"))
            .to_str()
            .unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        assert!(!csp.contains("http"), "{what}: the policy names no other origin: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
        assert_eq!(h["x-frame-options"], "DENY", "{what}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
        assert!(!h.contains_key("server") && !h.contains_key("x-powered-by"), "{what}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_suggestions_for_who_may_not_introspect() {
    let t = TestDb::with_demo().await;
    let analyst = keys::create(&t.db, Role::Analyst, None, "analyst", false)
        .await
        .unwrap();
    let typo = json!({"query": "{ partnrs(first: 1) { totalCount } }"}).to_string();
    let ask = |app: Router, key: Option<String>| {
        let typo = typo.clone();
        async move {
            let mut r = Request::post("/graphql").header("content-type", "application/json");
            if let Some(k) = key {
                r = r.header("x-api-key", k);
            }
            let reply = send(&app, r.body(Body::from(typo)).unwrap()).await;
            reply.body["errors"][0]["message"].as_str().unwrap().to_owned()
        }
    };
    let production = api::router(
        t.db.clone(),
        ServerConfig {
            production: true,
            ..Default::default()
        },
    );
    let development = api::router(t.db.clone(), ServerConfig::default());
    let refused = ask(production.clone(), None).await;
    assert!(
        refused.contains("partnrs") && !refused.contains("Did you mean"),
        "{refused}"
    );
    // Staff keep introspection, and so suggestions, even in production.
    assert!(ask(production, Some(analyst)).await.contains("Did you mean"));
    assert!(ask(development, None).await.contains("Did you mean \"partners\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_query_too_large_is_refused_before_it_is_built() {
    let t = TestDb::with_demo().await;
    let admin = keys::create(&t.db, Role::Admin, None, "admin", true).await.unwrap();
    let app = api::router(t.db.clone(), ServerConfig::default());
    let post = |key: Option<String>, query: String| {
        let app = app.clone();
        async move {
            let mut r = Request::post("/graphql").header("content-type", "application/json");
            if let Some(k) = key {
                r = r.header("x-api-key", k);
            }
            let began = std::time::Instant::now();
            let reply = send(&app, r.body(Body::from(json!({ "query": query }).to_string())).unwrap()).await;
            (reply, began.elapsed())
        }
    };
    // 300 000 repeated fields, 900 kB: under the body limit.
    let ids = format!("{{ partners(first: 1) {{ nodes {{ {} }} }} }}", "id ".repeat(300_000));
    assert!(ids.len() < 1 << 20);
    // 100 names of ten thousand characters.
    let names = format!(
        "{{ {} }}",
        (0..100)
            .map(|i| format!("f{i}{}", "x".repeat(10_000)))
            .collect::<Vec<_>>()
            .join(" ")
    );
    // A fragment spread two thousand times: few tokens, many fields.
    let spread = format!(
        "{{ partners(first: 1) {{ nodes {{ {} }} }} }} fragment F on Partner {{ id name kind }}",
        (0..2_000)
            .map(|i| format!("a{i}: parent {{ ...F }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    for (what, query, key) in [
        ("300 000 fields, admin", ids.clone(), Some(admin.clone())),
        ("300 000 fields, anonymous", ids, None),
        ("long names", names, None),
        ("spread fragments, admin", spread, Some(admin.clone())),
    ] {
        let (r, took) = post(key, query).await;
        assert_eq!(r.status, StatusCode::OK, "{what}");
        assert_eq!(
            r.body["errors"][0]["extensions"]["code"], "QUERY_TOO_LARGE",
            "{what}: {}",
            r.body
        );
        assert!(
            !r.body["errors"][0]["message"].as_str().unwrap().contains("xxxxxxxx"),
            "{what}: no echo"
        );
        assert!(took < std::time::Duration::from_secs(1), "{what}: {took:?}");
    }
    // What clients really send passes for the most limited role.
    for f in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/graphql")).unwrap() {
        let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
        assert!(
            maillage::api::limits::count_tokens(&text, usize::MAX).unwrap()
                < maillage::api::limits::Limits::default().max_tokens[2]
        );
    }
    let (r, _) = post(None, "{ partners(first: 2) { totalCount nodes { name } } }".into()).await;
    assert!(r.body.get("errors").is_none(), "{}", r.body);
}

/// A heavy operation (its pages times what they select over
/// `--heavy-weight`) waits for a heavy turn first: with one, a heavy read
/// sent while a heavy mutation waits on a held row answers only once the
/// mutation is through, and a light read at once. Without the lane, the
/// heavy read answers at once too. A flood of costly queries can therefore
/// hold the heavy turns, never every turn.
#[tokio::test(flavor = "multi_thread")]
async fn heavy_operations_take_turns_of_their_own() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    use std::time::{Duration, Instant};
    let t = TestDb::with_demo().await;
    let admin = keys::create(&t.db, Role::Admin, None, "root", false).await.unwrap();
    let hold = Duration::from_millis(1500);
    let gql = |app: Router, q: String| {
        let admin = admin.clone();
        async move {
            let r = Request::post("/graphql")
                .header("content-type", "application/json")
                .header("x-api-key", admin.as_str())
                .body(Body::from(json!({"query": q}).to_string()))
                .unwrap();
            let began = Instant::now();
            let reply = send(&app, r).await;
            assert!(reply.body.get("errors").is_none(), "{q}: {}", reply.body);
            (reply.body, began.elapsed())
        }
    };
    for heavy_weight in [5_000, 0] {
        let app = api::router(
            t.db.clone(),
            ServerConfig {
                limits: maillage::api::limits::Limits {
                    max_running: 8,
                    max_running_heavy: 1,
                    heavy_weight,
                    ..Default::default()
                },
                ..Default::default()
            },
        );
        let (d, _) = gql(app.clone(), "{ partners(first: 1) { nodes { id version } } }".into()).await;
        let p = &d["data"]["partners"]["nodes"][0];
        let other = maillage::storage::connect(&t.url).await.unwrap();
        let lock = other.begin().await.unwrap();
        lock.execute_unprepared("UPDATE partners SET name = name")
            .await
            .unwrap();
        // Heavy by its payload's pages.
        let write = tokio::spawn(gql(
            app.clone(),
            format!(
                r#"mutation {{ updatePartner(input: {{ id: {}, expectedVersion: {}, website: "https://lane.example.org" }}) {{ partner {{ networks(first: 100) {{ nodes {{ members(first: 100) {{ nodes {{ name }} }} }} }} }} }} }}"#,
                p["id"], p["version"]
            ),
        ));
        tokio::time::sleep(Duration::from_millis(300)).await;
        let heavy = tokio::spawn(gql(
            app.clone(),
            "{ partners(first: 100) { nodes { networks(first: 100) { nodes { name } } } } }".into(),
        ));
        let light = tokio::spawn(gql(app.clone(), "{ territories(first: 1) { totalCount } }".into()));
        tokio::time::sleep(hold).await;
        lock.rollback().await.unwrap();
        let (_, light) = light.await.unwrap();
        let (_, heavy) = heavy.await.unwrap();
        write.await.unwrap();
        assert!(light < hold / 2, "a light read waited ({light:?})");
        if heavy_weight > 0 {
            assert!(
                heavy >= hold - Duration::from_millis(400),
                "the heavy read ran beside the heavy mutation ({heavy:?})"
            );
        } else {
            assert!(heavy < hold / 2, "without the lane the heavy read waited ({heavy:?})");
        }
    }
}

/// Heavy operations go through the pool of their own when there is one
/// (`serve` opens it), so their statements never take the connections
/// small requests need: with that pool closed, only heavy ones fail.
#[tokio::test(flavor = "multi_thread")]
async fn heavy_operations_use_a_pool_of_their_own() {
    let t = TestDb::with_demo().await;
    let heavy_db = maillage::storage::connect_with(&t.url, Some(1)).await.unwrap();
    heavy_db.clone().close().await.unwrap();
    let app = api::router(
        t.db.clone(),
        ServerConfig {
            heavy_db: Some(heavy_db),
            ..Default::default()
        },
    );
    let admin = keys::create(&t.db, Role::Admin, None, "root", false).await.unwrap();
    let q = |query: &str| {
        let body = json!({ "query": query }).to_string();
        Request::post("/graphql")
            .header("content-type", "application/json")
            .header("x-api-key", admin.as_str())
            .body(Body::from(body))
            .unwrap()
    };
    let light = send(&app, q("{ partners(first: 5) { nodes { name } } }")).await;
    assert!(light.body.get("errors").is_none(), "{}", light.body);
    let heavy = send(
        &app,
        q("{ partners(first: 100) { nodes { networks(first: 100) { nodes { name } } } } }"),
    )
    .await;
    assert!(
        heavy.body.get("errors").is_some(),
        "the heavy query did not use its pool: {}",
        heavy.body
    );
    assert_ne!(
        heavy.body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{}",
        heavy.body
    );
}
