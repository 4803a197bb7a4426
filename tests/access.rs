//! Who sees what, through the whole HTTP stack: credentials, the role matrix
//! on the demo data (expected sets computed here from the bundle, by rules
//! written again independently of the SQL), personal data, query limits and
//! hostile requests. Runs on SQLite, and on PostgreSQL with
//! `MAILLAGE_TEST_DATABASE_URL`.

mod common;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::TestDb;
use http_body_util::BodyExt;
use maillage::api::persisted::{PersistedQueries, sha256_hex};
use maillage::api::rate::Rate;
use maillage::api::{self, ServerConfig};
use maillage::bundle::{self, BundleFiles, Existing};
use maillage::domain::access::Role;
use maillage::domain::keys;
use maillage::model::NetworkKind;
use serde_json::{Value, json};
use tower::ServiceExt;

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

async fn send(app: &Router, key: Option<&str>, content_type: &str, body: impl Into<Body>) -> Reply {
    let mut req = Request::post("/graphql").header("content-type", content_type);
    if let Some(k) = key {
        req = req.header("x-api-key", k);
    }
    let resp = app.clone().oneshot(req.body(body.into()).unwrap()).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    Reply { status, headers, body }
}

async fn gql(app: &Router, key: Option<&str>, query: &str) -> Reply {
    send(app, key, "application/json", json!({ "query": query }).to_string()).await
}

/// `data` of a successful answer.
async fn data(app: &Router, key: Option<&str>, query: &str) -> Value {
    let r = gql(app, key, query).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.get("errors").is_none(), "{query}\n{}", r.body);
    r.body["data"].clone()
}

fn code(r: &Reply) -> &str {
    r.body["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

fn refs(v: &Value) -> BTreeSet<String> {
    v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["ref"].as_str().unwrap().to_owned())
        .collect()
}

/// What each scope should see, computed from the bundle with the rules of
/// the access-control issue (the SQL in `storage::read` is the other
/// implementation).
struct Expected {
    networks: BTreeSet<String>,
    actions: usize,
    partners: usize,
    contacts: BTreeSet<String>,
    relations_of_portal: usize,
}

fn expected(b: &bundle::Bundle, me: Option<&str>) -> Expected {
    let net_vis = |k: NetworkKind| match k {
        NetworkKind::Gltd | NetworkKind::Cddf => "internal",
        NetworkKind::Cispd | NetworkKind::Clspd => "members",
        _ => "public",
    };
    let kind_of: HashMap<&str, NetworkKind> = b.networks.iter().map(|n| (n.id.as_str(), n.kind)).collect();
    let member_of: HashSet<(&str, &str)> = b
        .memberships
        .iter()
        .map(|m| (m.network_ref.as_str(), m.partner_ref.as_str()))
        .collect();
    let in_action: HashSet<(&str, &str)> = b
        .action_partners
        .iter()
        .map(|a| (a.action_ref.as_str(), a.partner_ref.as_str()))
        .collect();
    let sees = |vis: &str, involved: &dyn Fn(&str) -> bool| match (vis, me) {
        ("public", _) => true,
        ("members", Some(p)) => involved(p),
        _ => false,
    };
    let networks: BTreeSet<String> = b
        .networks
        .iter()
        .filter(|n| sees(net_vis(n.kind), &|p| member_of.contains(&(n.id.as_str(), p))))
        .map(|n| n.id.clone())
        .collect();
    let actions: BTreeSet<&str> = b
        .actions
        .iter()
        .filter(|a| {
            let vis = a.network_ref.as_deref().map_or("public", |n| net_vis(kind_of[n]));
            sees(vis, &|p| in_action.contains(&(a.id.as_str(), p)))
        })
        .map(|a| a.id.as_str())
        .collect();
    // Relations default to `members`: the two partners at their ends.
    let relations: Vec<_> = b
        .relations
        .iter()
        .filter(|r| me.is_some_and(|p| r.from_ref == p || r.to_ref == p))
        .collect();
    let mut partners: HashSet<&str> = me.into_iter().collect();
    partners.extend(
        b.memberships
            .iter()
            .filter(|m| networks.contains(&m.network_ref))
            .map(|m| m.partner_ref.as_str()),
    );
    partners.extend(
        b.action_partners
            .iter()
            .filter(|a| actions.contains(a.action_ref.as_str()))
            .map(|a| a.partner_ref.as_str()),
    );
    partners.extend(relations.iter().flat_map(|r| [r.from_ref.as_str(), r.to_ref.as_str()]));
    let contacts = b
        .contacts
        .iter()
        .filter(|c| me == Some(c.partner_ref.as_str()))
        .map(|c| c.id.clone())
        .collect();
    Expected {
        networks,
        actions: actions.len(),
        partners: partners.len(),
        contacts,
        relations_of_portal: me.map_or(0, |p| b.relations.iter().filter(|r| r.from_ref == p).count()),
    }
}

const OVERVIEW: &str = r#"{
  viewer { role name canWrite seesContactDetails partner { ref } }
  partners(first: 1) { totalCount }
  networks(first: 100) { totalCount nodes { ref } }
  actions(first: 1) { totalCount }
  contacts(first: 100) { totalCount nodes { ref fullName email } }
  territories(first: 1) { totalCount }
  actionStats { count }
}"#;

#[tokio::test(flavor = "multi_thread")]
async fn each_role_sees_what_it_may_and_nothing_else() {
    let t = TestDb::with_demo().await;
    let (b, _) = bundle::check(&BundleFiles::demo(), &Existing::default()).unwrap();
    // The portal: the partner that sits in the most networks (a CISPD, GLTDs…).
    let mut count: HashMap<&str, usize> = HashMap::new();
    for m in &b.memberships {
        *count.entry(m.partner_ref.as_str()).or_default() += 1;
    }
    let portal = count
        .iter()
        .max_by_key(|(p, n)| (**n, std::cmp::Reverse(**p)))
        .unwrap()
        .0
        .to_string();

    let key = |role, partner: Option<&str>, details| {
        let db = t.db.clone();
        let partner = partner.map(str::to_owned);
        async move {
            keys::create(&db, role, partner.as_deref(), "test", details)
                .await
                .unwrap()
        }
    };
    let admin = key(Role::Admin, None, false).await;
    let coordinator = key(Role::Coordinator, None, false).await;
    let analyst = key(Role::Analyst, None, false).await;
    let analyst_details = key(Role::Analyst, None, true).await;
    let partner = key(Role::Partner, Some(portal.as_str()), false).await;
    let app = api::router(t.db.clone(), ServerConfig::default());

    let everything = |d: &Value| {
        assert_eq!(d["partners"]["totalCount"], b.partners.len());
        assert_eq!(d["networks"]["totalCount"], b.networks.len());
        assert_eq!(d["actions"]["totalCount"], b.actions.len());
        assert_eq!(d["contacts"]["totalCount"], b.contacts.len());
        assert_eq!(d["actionStats"][0]["count"], b.actions.len());
    };
    for (k, role, writes, details) in [
        (&admin, "ADMIN", true, true),
        (&coordinator, "COORDINATOR", true, true),
        (&analyst, "ANALYST", false, false),
        (&analyst_details, "ANALYST", false, true),
    ] {
        let d = data(&app, Some(k), OVERVIEW).await;
        assert_eq!(d["viewer"]["role"], role);
        assert_eq!(d["viewer"]["canWrite"], writes);
        assert_eq!(d["viewer"]["seesContactDetails"], details);
        everything(&d);
        // Personal data: names and e-mails only for those granted them.
        let named = d["contacts"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["fullName"].is_string())
            .count();
        assert_eq!(named > 0, details, "{role} details={details}");
    }

    // The portal.
    let mine = expected(&b, Some(&portal));
    let d = data(&app, Some(&partner), OVERVIEW).await;
    assert_eq!(d["viewer"]["role"], "PARTNER");
    assert_eq!(d["viewer"]["partner"]["ref"], portal.as_str());
    assert_eq!(d["viewer"]["canWrite"], false);
    assert_eq!(refs(&d["networks"]), mine.networks);
    assert_eq!(d["actions"]["totalCount"], mine.actions);
    assert_eq!(d["actionStats"][0]["count"], mine.actions);
    assert_eq!(d["partners"]["totalCount"], mine.partners);
    assert_eq!(refs(&d["contacts"]), mine.contacts);
    assert!(
        d["contacts"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["fullName"].is_string()),
        "a portal reads its own people"
    );
    assert_eq!(d["territories"]["totalCount"], b.territories.len());
    assert!(
        mine.networks.len() < b.networks.len(),
        "the demo has networks a portal must not see"
    );

    // Anonymous readers.
    let public = expected(&b, None);
    let d = data(&app, None, OVERVIEW).await;
    assert_eq!(d["viewer"]["role"], "ANONYMOUS");
    assert_eq!(refs(&d["networks"]), public.networks);
    assert_eq!(d["actions"]["totalCount"], public.actions);
    assert_eq!(d["partners"]["totalCount"], public.partners);
    assert_eq!(d["contacts"]["totalCount"], 0);
    assert!(public.networks.len() < mine.networks.len());

    // A hidden record answers as if it did not exist: node(id), lookups, nested lists.
    let hidden: Vec<&String> = b
        .networks
        .iter()
        .map(|n| &n.id)
        .filter(|n| !mine.networks.contains(*n))
        .collect();
    let gltd = hidden[0];
    let q = format!(r#"{{ network(ref: "{gltd}") {{ id }} }}"#);
    let id = data(&app, Some(&admin), &q).await["network"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for k in [Some(partner.as_str()), None] {
        let d = data(
            &app,
            k,
            &format!(
                r#"{{ node(id: "{id}") {{ id }} nodes(ids: ["{id}"]) {{ id }} network(ref: "{gltd}") {{ id }} }}"#
            ),
        )
        .await;
        assert_eq!(d, json!({ "node": null, "nodes": [null], "network": null }));
    }
    let q = format!(
        r#"{{ partner(ref: "{portal}") {{ networks(first: 100) {{ totalCount }} relationsOut {{ totalCount }} }} }}"#
    );
    let d = data(&app, Some(&partner), &q).await;
    assert_eq!(
        d["partner"]["networks"]["totalCount"],
        b.memberships
            .iter()
            .filter(|m| m.partner_ref == portal && mine.networks.contains(&m.network_ref))
            .count()
    );
    assert_eq!(d["partner"]["relationsOut"]["totalCount"], mine.relations_of_portal);
    // Degrees count only the links the viewer sees: no relation is public in the demo.
    let d = data(
        &app,
        None,
        "{ partners(first: 100) { nodes { degree(via: [RELATION]) } } }",
    )
    .await;
    assert!(
        d["partners"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["degree"] == 0),
        "{d}"
    );
    let d = data(
        &app,
        Some(&admin),
        "{ partners(first: 100) { nodes { degree(via: [RELATION]) } } }",
    )
    .await;
    assert!(
        d["partners"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["degree"] != 0),
        "{d}"
    );
    // Anonymous readers do not see relations (they are for the partners involved).
    let d = data(&app, None, &q).await;
    if d["partner"].is_object() {
        assert_eq!(d["partner"]["relationsOut"]["totalCount"], 0);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cached_keys_check_the_secret_and_expire() {
    let t = TestDb::with_demo().await;
    let with_cache = |ttl_ms: u64| ServerConfig {
        access: maillage::api::auth::AccessConfig {
            keys: Arc::new(keys::KeyCache::new(std::time::Duration::from_millis(ttl_ms))),
            ..Default::default()
        },
        ..Default::default()
    };
    let k = keys::create(&t.db, Role::Analyst, None, "cached", false).await.unwrap();
    let viewer = "{ viewer { role } }";

    // A long-lived cache: once read, the key is not read again, so its
    // revocation is not seen yet (the documented delay)…
    let app = api::router(t.db.clone(), with_cache(600_000));
    assert_eq!(gql(&app, Some(&k), viewer).await.status, StatusCode::OK);
    // …but a wrong secret under the cached prefix is refused all the same.
    let wrong = format!("{}{}", &k[..k.len() - 1], if k.ends_with('0') { '1' } else { '0' });
    let r = gql(&app, Some(&wrong), viewer).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&r), "UNAUTHENTICATED");
    assert_eq!(keys::revoke(&t.db, &k[4..12]).await.unwrap(), 1);
    assert_eq!(
        gql(&app, Some(&k), viewer).await.status,
        StatusCode::OK,
        "within the delay the cached key still stands"
    );

    // A short-lived one: after the delay, the revocation applies.
    let k2 = keys::create(&t.db, Role::Analyst, None, "cached briefly", false)
        .await
        .unwrap();
    let app = api::router(t.db.clone(), with_cache(300));
    assert_eq!(gql(&app, Some(&k2), viewer).await.status, StatusCode::OK);
    assert_eq!(keys::revoke(&t.db, &k2[4..12]).await.unwrap(), 1);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let r = gql(&app, Some(&k2), viewer).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // A revoked key read into the cache is refused from it too.
    assert_eq!(gql(&app, Some(&k2), viewer).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_expired_and_revoked_credentials_are_unauthenticated() {
    let t = TestDb::with_demo().await;
    let app = api::router(t.db.clone(), ServerConfig::default());
    let k = keys::create(&t.db, Role::Analyst, None, "to revoke", false)
        .await
        .unwrap();
    assert_eq!(gql(&app, Some(&k), "{ viewer { role } }").await.status, StatusCode::OK);
    for wrong in [
        "mlg_00000000_00".to_owned(),
        format!("{}x", &k[..k.len() - 1]),
        "not-a-key".to_owned(),
    ] {
        let r = gql(&app, Some(&wrong), "{ viewer { role } }").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{wrong}");
        assert_eq!(code(&r), "UNAUTHENTICATED");
    }
    assert_eq!(keys::revoke(&t.db, &k[4..12]).await.unwrap(), 1);
    let r = gql(&app, Some(&k), "{ viewer { role } }").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // An expired JWT, and a good one.
    let secret = "s3cret";
    let config = ServerConfig {
        access: maillage::api::auth::AccessConfig {
            tokens: maillage::domain::tokens::TokenConfig::default().with_hs256_secret(secret),
            ..Default::default()
        },
        ..Default::default()
    };
    let app = api::router(t.db.clone(), config);
    let token = |exp: i64| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &json!({ "sub": "alice", "role": "coordinator", "exp": exp }),
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    };
    let now = chrono::Utc::now().timestamp();
    let bearer = |tok: String| {
        let app = app.clone();
        async move {
            let req = Request::post("/graphql")
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {tok}"))
                .body(Body::from(json!({"query": "{ viewer { role name } }"}).to_string()))
                .unwrap();
            let r = app.oneshot(req).await.unwrap();
            let s = r.status();
            let b: Value = serde_json::from_slice(&r.into_body().collect().await.unwrap().to_bytes()).unwrap();
            (s, b)
        }
    };
    let (s, b) = bearer(token(now + 600)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["data"]["viewer"], json!({ "role": "COORDINATOR", "name": "alice" }));
    let (s, b) = bearer(token(now - 600)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
}

#[tokio::test(flavor = "multi_thread")]
async fn anonymous_access_can_be_switched_off() {
    let t = TestDb::new().await;
    let config = ServerConfig {
        access: maillage::api::auth::AccessConfig {
            anonymous: maillage::api::auth::Anonymous::None,
            ..Default::default()
        },
        ..Default::default()
    };
    let app = api::router(t.db.clone(), config);
    let r = gql(&app, None, "{ viewer { role } }").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&r), "UNAUTHENTICATED");
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_requests_are_refused_clearly_while_others_are_served() {
    let t = TestDb::with_demo().await;
    let app = api::router(t.db.clone(), ServerConfig::default());
    let normal = "{ partners(first: 5) { totalCount nodes { name } } }";
    let baseline = data(&app, None, normal).await;

    // A normal client keeps being served while the hostile requests run.
    let served = {
        let app = app.clone();
        let baseline = baseline.clone();
        tokio::spawn(async move {
            for _ in 0..20 {
                assert_eq!(data(&app, None, normal).await, baseline);
            }
        })
    };

    // SQL-like strings in filters are data, never SQL.
    for s in [
        "'; DROP TABLE partners; --",
        "\" OR 1=1 --",
        "%' OR '1'='1",
        "\\'; SELECT pg_sleep(10); --",
    ] {
        let q = format!(
            "{{ partners(filter: {{ search: {s:?}, refs: [{s:?}] }}) {{ totalCount }} networks(filter: {{ search: {s:?} }}) {{ totalCount }} territory(ref: {s:?}) {{ id }} node(id: {s:?}) {{ id }} }}"
        );
        let d = data(&app, None, &q).await;
        assert_eq!(d["partners"]["totalCount"], 0, "{s}");
    }
    // 50 levels deep.
    let mut deep = String::from("{ territories(first: 1) { nodes { ");
    for _ in 0..50 {
        deep.push_str("parent { ");
    }
    deep.push_str("name");
    deep.push_str(&" }".repeat(50));
    deep.push_str(" } } }");
    let r = gql(&app, None, &deep).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(code(&r), "BAD_USER_INPUT", "{}", r.body);
    // 60 aliases: over the limit of 50.
    let many: String = (0..60).map(|i| format!("a{i}: __typename ")).collect();
    let r = gql(&app, None, &format!("{{ {many} }}")).await;
    assert_eq!(code(&r), "BAD_USER_INPUT");
    assert!(r.body["errors"][0]["message"].as_str().unwrap().contains("aliases"));
    // 10 000 aliases: refused for its size before it is even parsed.
    let many: String = (0..10_000).map(|i| format!("a{i}: __typename ")).collect();
    let r = gql(&app, None, &format!("{{ {many} }}")).await;
    assert_eq!(code(&r), "QUERY_TOO_LARGE", "{}", r.body);
    // Too costly for an anonymous reader (100 × 100 × 100).
    let r = gql(
        &app,
        None,
        "{ partners(first: 100) { nodes { networks(first: 100) { edges { node { members(first: 100) { totalCount } } } } } } }",
    )
    .await;
    assert_eq!(code(&r), "BAD_USER_INPUT");
    assert!(
        r.body["errors"][0]["message"].as_str().unwrap().contains("costs more"),
        "{}",
        r.body
    );
    // A 10 MB body.
    let big = format!(
        "{{\"query\": \"{{ viewer {{ role }} }}\", \"variables\": {{\"x\": \"{}\"}}}}",
        "x".repeat(10 << 20)
    );
    let r = send(&app, None, "application/json", big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(code(&r), "BAD_USER_INPUT");
    // An oversized variable, inside a body that fits: refused by the body limit all the same.
    let var = json!({ "query": "query($s: String) { partners(filter: { search: $s }) { totalCount } }", "variables": { "s": "é".repeat(600_000) } });
    let r = send(&app, None, "application/json", var.to_string()).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Malformed JSON.
    let r = send(&app, None, "application/json", "{\"query\": ").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&r), "BAD_USER_INPUT");
    // A wrong content type.
    let r = send(&app, None, "text/plain", json!({ "query": normal }).to_string()).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // An unknown persisted-operation hash.
    let unknown = json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "ab".repeat(32) } } });
    let r = send(&app, None, "application/json", unknown.to_string()).await;
    assert_eq!(code(&r), "PERSISTED_QUERY_NOT_FOUND");
    // Too many operations in one batch.
    let batch: Vec<Value> = (0..11).map(|_| json!({ "query": normal })).collect();
    let r = send(&app, None, "application/json", Value::Array(batch).to_string()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    served.await.unwrap();
}

/// The server keeps parsed documents by query text: the same text asked by
/// different viewers is still checked against each one's limits, and
/// answered from each one's scope.
#[tokio::test(flavor = "multi_thread")]
async fn a_document_parsed_once_is_still_checked_and_scoped_per_viewer() {
    let t = TestDb::with_demo().await;
    let coordinator = keys::create(&t.db, Role::Coordinator, None, "c", false).await.unwrap();
    let app = api::router(t.db.clone(), ServerConfig::default());
    // 100 × 100 × 10: over an anonymous reader's cost limit, within staff's.
    let costly = "{ partners(first: 100) { nodes { networks(first: 100) { edges { node { members(first: 10) { totalCount } } } } } } }";
    for _ in 0..2 {
        let r = gql(&app, None, costly).await;
        assert_eq!(code(&r), "BAD_USER_INPUT", "{}", r.body);
        assert!(data(&app, Some(&coordinator), costly).await["partners"]["nodes"].is_array());
    }
    let count = "{ networks { totalCount } }";
    let anonymous = data(&app, None, count).await["networks"]["totalCount"].clone();
    let staff = data(&app, Some(&coordinator), count).await["networks"]["totalCount"].clone();
    assert_ne!(anonymous, staff, "anonymous readers see public networks only");
    assert_eq!(data(&app, None, count).await["networks"]["totalCount"], anonymous);
    // Aliases are counted on the kept document too.
    let many: String = (0..60).map(|i| format!("a{i}: __typename ")).collect();
    for _ in 0..2 {
        let r = gql(&app, Some(&coordinator), &format!("{{ {many} }}")).await;
        assert!(
            r.body["errors"][0]["message"].as_str().unwrap().contains("aliases"),
            "{}",
            r.body
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn production_mode_hides_the_schema_from_portals_and_anonymous_readers() {
    let t = TestDb::with_demo().await;
    let analyst = keys::create(&t.db, Role::Analyst, None, "a", false).await.unwrap();
    let app = api::router(
        t.db.clone(),
        ServerConfig {
            production: true,
            ..Default::default()
        },
    );
    let q = "{ __schema { queryType { name } } }";
    let r = gql(&app, None, q).await;
    assert_eq!(code(&r), "FORBIDDEN", "{}", r.body);
    // __typename is no introspection.
    assert_eq!(data(&app, None, "{ __typename }").await["__typename"], "QueryRoot");
    assert!(data(&app, Some(&analyst), q).await["__schema"].is_object());
    let page = app
        .clone()
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn allow_list_mode_runs_registered_operations_only_for_portals() {
    let t = TestDb::with_demo().await;
    let (b, _) = bundle::check(&BundleFiles::demo(), &Existing::default()).unwrap();
    let registered = "query Home { viewer { partner { name } } }";
    let portal = keys::create(&t.db, Role::Partner, Some(&b.partners[0].id), "p", false)
        .await
        .unwrap();
    let analyst = keys::create(&t.db, Role::Analyst, None, "a", false).await.unwrap();
    let app = api::router(
        t.db.clone(),
        ServerConfig {
            persisted: Arc::new(PersistedQueries::from_texts([registered], true)),
            ..Default::default()
        },
    );
    let d = data(&app, Some(&portal), registered).await;
    assert_eq!(d["viewer"]["partner"]["name"], b.partners[0].name.as_str());
    // By its hash alone.
    let by_hash = json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(registered) } } });
    let r = send(&app, Some(&portal), "application/json", by_hash.to_string()).await;
    assert_eq!(r.body["data"]["viewer"]["partner"]["name"], b.partners[0].name.as_str());
    let r = gql(&app, Some(&portal), "{ partners { totalCount } }").await;
    assert_eq!(code(&r), "FORBIDDEN");
    data(&app, Some(&analyst), "{ partners { totalCount } }").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_is_answered_429_with_retry_after() {
    let t = TestDb::new().await;
    let app = api::router(
        t.db.clone(),
        ServerConfig {
            rate_per_anonymous_ip: Rate::parse("1/3").unwrap(),
            ..Default::default()
        },
    );
    let mut statuses = vec![];
    for _ in 0..6 {
        statuses.push(gql(&app, None, "{ viewer { role } }").await);
    }
    assert!(statuses[..3].iter().all(|r| r.status == StatusCode::OK));
    let limited = statuses
        .iter()
        .find(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .expect("a 429");
    assert_eq!(code(limited), "RATE_LIMITED");
    let wait: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_audit_log_is_for_admins_and_records_imports() {
    let t = TestDb::with_demo().await;
    let admin = keys::create(&t.db, Role::Admin, None, "root", false).await.unwrap();
    let coordinator = keys::create(&t.db, Role::Coordinator, None, "c", false).await.unwrap();
    let app = api::router(t.db.clone(), ServerConfig::default());
    let q = r#"{ auditLog(first: 10, filter: { operation: "import" }) { totalCount nodes { principal role operation record after } } }"#;
    let d = data(&app, Some(&admin), q).await;
    assert_eq!(d["auditLog"]["totalCount"], 1);
    let e = &d["auditLog"]["nodes"][0];
    assert_eq!(e["principal"], "system");
    assert_eq!(e["record"], Value::Null);
    assert_eq!(e["after"]["tables"]["partners"]["written"], 150);
    for k in [Some(coordinator.as_str()), None] {
        let r = gql(&app, k, q).await;
        assert_eq!(code(&r), "FORBIDDEN", "{}", r.body);
    }
    let d = data(
        &app,
        Some(&admin),
        r#"{ auditLog(filter: { principal: "nobody" }) { totalCount } }"#,
    )
    .await;
    assert_eq!(d["auditLog"]["totalCount"], 0);
}

/// A mutation that waits on a row another connection holds outlives its
/// time limit: it is abandoned with `TIMEOUT`, and nothing of it is kept.
/// (A zero limit on a quick read raced the read, which sometimes won.)
#[tokio::test(flavor = "multi_thread")]
async fn a_request_over_its_time_is_abandoned_with_a_clear_error() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let t = TestDb::with_demo().await;
    let admin = keys::create(&t.db, Role::Admin, None, "root", false).await.unwrap();
    let app = api::router(
        t.db.clone(),
        ServerConfig {
            limits: maillage::api::limits::Limits {
                timeout: std::time::Duration::from_millis(400),
                ..Default::default()
            },
            ..Default::default()
        },
    );
    let d = data(
        &app,
        Some(&admin),
        "{ partners(first: 1) { nodes { id version website } } }",
    )
    .await;
    let p = &d["partners"]["nodes"][0];
    let other = maillage::storage::connect(&t.url).await.unwrap();
    let lock = other.begin().await.unwrap();
    lock.execute_unprepared("UPDATE partners SET name = name")
        .await
        .unwrap();
    let q = format!(
        r#"mutation {{ updatePartner(input: {{ id: {}, expectedVersion: {}, website: "https://timeout.example.org" }}) {{ partner {{ version }} }} }}"#,
        p["id"], p["version"]
    );
    let began = std::time::Instant::now();
    let r = gql(&app, Some(&admin), &q).await;
    assert_eq!(code(&r), "TIMEOUT", "{}", r.body);
    assert!(
        began.elapsed() < std::time::Duration::from_secs(3),
        "{:?}",
        began.elapsed()
    );
    lock.rollback().await.unwrap();
    let d = data(&app, Some(&admin), "{ partners(first: 1) { nodes { website } } }").await;
    assert_eq!(
        d["partners"]["nodes"][0]["website"], p["website"],
        "the abandoned edit was kept"
    );
}

/// Operations beyond `--max-running` wait their turn. A mutation blocked on
/// a row another connection holds keeps its turn: with one turn, a read sent
/// meanwhile answers only once the mutation is through; with two, at once.
#[tokio::test(flavor = "multi_thread")]
async fn operations_beyond_the_running_limit_wait_their_turn() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let t = TestDb::with_demo().await;
    let admin = keys::create(&t.db, Role::Admin, None, "root", false).await.unwrap();
    let hold = std::time::Duration::from_millis(1500);
    for turns in [1, 2] {
        let app = api::router(
            t.db.clone(),
            ServerConfig {
                limits: maillage::api::limits::Limits {
                    max_running: turns,
                    ..Default::default()
                },
                ..Default::default()
            },
        );
        let d = data(&app, Some(&admin), "{ partners(first: 1) { nodes { id version } } }").await;
        let (id, version) = (
            d["partners"]["nodes"][0]["id"].clone(),
            d["partners"]["nodes"][0]["version"].clone(),
        );
        let raw = {
            use base64::Engine;
            let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(id.as_str().unwrap())
                .unwrap();
            String::from_utf8(b)
                .unwrap()
                .strip_prefix("Partner:")
                .unwrap()
                .to_owned()
        };
        // Another connection holds the partner's row (and, on SQLite, the write lock).
        let other = maillage::storage::connect(&t.url).await.unwrap();
        let lock = other.begin().await.unwrap();
        lock.execute_unprepared(&format!("UPDATE partners SET name = name WHERE id = {raw}"))
            .await
            .unwrap();
        let write = {
            let (app, admin) = (app.clone(), admin.clone());
            let q = format!(
                r#"mutation {{ updatePartner(input: {{ id: {id}, expectedVersion: {version}, website: "https://tour.example.org" }}) {{ userErrors {{ code }} partner {{ version }} }} }}"#
            );
            tokio::spawn(async move { data(&app, Some(&admin), &q).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let read = {
            let (app, admin) = (app.clone(), admin.clone());
            tokio::spawn(async move {
                let started = std::time::Instant::now();
                data(&app, Some(&admin), "{ territories(first: 1) { totalCount } }").await;
                started.elapsed()
            })
        };
        tokio::time::sleep(hold).await;
        lock.rollback().await.unwrap();
        let waited = read.await.unwrap();
        let w = write.await.unwrap();
        assert_eq!(w["updatePartner"]["userErrors"], json!([]), "{w}");
        if turns == 1 {
            assert!(
                waited >= hold - std::time::Duration::from_millis(300),
                "the read ran beside the mutation ({waited:?})"
            );
        } else {
            assert!(waited < hold / 2, "the read waited with a turn free ({waited:?})");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn portals_on_the_configured_origins_may_call_from_a_browser() {
    let t = TestDb::new().await;
    let app = api::router(
        t.db.clone(),
        ServerConfig {
            cors_origins: vec!["https://portail.example.org".into()],
            ..Default::default()
        },
    );
    let preflight = |origin: &'static str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/graphql")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "x-api-key,content-type")
            .body(Body::empty())
            .unwrap()
    };
    let ok = app
        .clone()
        .oneshot(preflight("https://portail.example.org"))
        .await
        .unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://portail.example.org"
    );
    let other = app.clone().oneshot(preflight("https://evil.example")).await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn writers_write_and_a_portal_may_change_only_its_own_public_contact() {
    let t = TestDb::with_demo().await;
    let (b, _) = bundle::check(&BundleFiles::demo(), &Existing::default()).unwrap();
    let (mine, other) = (&b.partners[0].id, &b.partners[1].id);
    let portal = keys::create(&t.db, Role::Partner, Some(mine), "portail", false)
        .await
        .unwrap();
    let analyst = keys::create(&t.db, Role::Analyst, None, "analyste", false)
        .await
        .unwrap();
    let coordinator = keys::create(&t.db, Role::Coordinator, None, "direction", false)
        .await
        .unwrap();
    let admin = keys::create(&t.db, Role::Admin, None, "root", false).await.unwrap();
    let app = api::router(t.db.clone(), ServerConfig::default());
    let id_of = |r: &str| {
        let app = app.clone();
        let admin = admin.clone();
        let q = format!(r#"{{ partner(ref: "{r}") {{ id version }} }}"#);
        async move {
            let d = data(&app, Some(&admin), &q).await;
            (
                d["partner"]["id"].as_str().unwrap().to_owned(),
                d["partner"]["version"].as_i64().unwrap(),
            )
        }
    };
    let update = |id: &str, version: i64, field: &str, value: &str| {
        format!(
            r#"mutation {{ updatePartner(input: {{ id: "{id}", expectedVersion: {version}, {field}: "{value}" }}) {{ partner {{ website name version }} userErrors {{ code message }} }} }}"#
        )
    };

    let (id, v) = id_of(mine).await;
    let d = data(&app, Some(&portal), &update(&id, v, "website", "https://exemple.fr")).await;
    assert_eq!(d["updatePartner"]["partner"]["website"], "https://exemple.fr", "{d}");
    let (_, v) = id_of(mine).await;
    for (key, q) in [
        (&portal, update(&id, v, "name", "Renamed")),
        (
            &portal,
            update(&id_of(other).await.0, id_of(other).await.1, "website", "https://x.fr"),
        ),
        (&analyst, update(&id, v, "website", "https://y.fr")),
    ] {
        let r = gql(&app, Some(key), &q).await;
        assert_eq!(code(&r), "FORBIDDEN", "{q}\n{}", r.body);
    }
    let r = gql(&app, None, &update(&id, v, "website", "https://z.fr")).await;
    assert_eq!(code(&r), "FORBIDDEN");
    let d = data(&app, Some(&coordinator), &update(&id, v, "name", "Nouveau nom")).await;
    assert_eq!(d["updatePartner"]["partner"]["name"], "Nouveau nom");

    // Both changes are in the audit log, under the keys' names.
    let q = format!(
        r#"{{ auditLog(filter: {{ record: "{id}" }}) {{ nodes {{ principal role operation before after }} }} }}"#
    );
    let d = data(&app, Some(&admin), &q).await;
    let who: Vec<&str> = d["auditLog"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["principal"].as_str().unwrap())
        .collect();
    assert_eq!(who, ["direction", "portail"], "newest first: {d}");
    assert_eq!(d["auditLog"]["nodes"][0]["operation"], "updatePartner");
    assert_eq!(d["auditLog"]["nodes"][0]["after"]["name"], "Nouveau nom");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_visibility_set_on_a_record_overrides_the_default_of_its_kind() {
    let t = TestDb::with_demo().await;
    let (b, _) = bundle::check(&BundleFiles::demo(), &Existing::default()).unwrap();
    let coordinator = keys::create(&t.db, Role::Coordinator, None, "direction", false)
        .await
        .unwrap();
    let app = api::router(t.db.clone(), ServerConfig::default());
    let gltd = b.networks.iter().find(|n| n.kind == NetworkKind::Gltd).unwrap();
    let q = format!(r#"{{ network(ref: "{}") {{ id version visibility }} }}"#, gltd.id);
    let d = data(&app, Some(&coordinator), &q).await;
    assert_eq!(d["network"]["visibility"], "INTERNAL", "a GLTD is internal by default");
    assert_eq!(data(&app, None, &q).await["network"], Value::Null);

    let set = |id: &str, version: i64, vis: &str| {
        format!(
            r#"mutation {{ updateNetwork(input: {{ id: "{id}", expectedVersion: {version}, visibility: {vis} }}) {{ network {{ visibility version }} userErrors {{ message }} }} }}"#
        )
    };
    let (id, v) = (
        d["network"]["id"].as_str().unwrap(),
        d["network"]["version"].as_i64().unwrap(),
    );
    let r = data(&app, Some(&coordinator), &set(id, v, "PUBLIC")).await;
    assert_eq!(r["updateNetwork"]["network"]["visibility"], "PUBLIC", "{r}");
    let seen = data(&app, None, &q).await;
    assert_eq!(seen["network"]["visibility"], "PUBLIC");
    // Its actions follow it, unless they say otherwise.
    let q2 = format!(
        r#"{{ network(ref: "{}") {{ actions(first: 100) {{ totalCount nodes {{ visibility }} }} }} }}"#,
        gltd.id
    );
    let under = b
        .actions
        .iter()
        .filter(|a| a.network_ref.as_deref() == Some(&gltd.id))
        .count();
    let d = data(&app, None, &q2).await;
    assert_eq!(d["network"]["actions"]["totalCount"], under);
    // Back to the default: hidden again.
    let r = data(&app, Some(&coordinator), &set(id, v + 1, "null")).await;
    assert_eq!(r["updateNetwork"]["network"]["visibility"], "INTERNAL", "{r}");
    assert_eq!(data(&app, None, &q).await["network"], Value::Null);
}

#[tokio::test(flavor = "multi_thread")]
async fn rs256_tokens_of_an_oidc_provider_are_accepted_by_pem_and_by_jwks() {
    let t = TestDb::with_demo().await;
    let (b, _) = bundle::check(&BundleFiles::demo(), &Existing::default()).unwrap();
    let dir = common::fixtures().join("jwt");
    let private = std::fs::read(dir.join("test-private.pem")).unwrap();
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(&private).unwrap();
    let now = chrono::Utc::now().timestamp();
    let sign = |claims: Value, kid: Option<&str>| {
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        h.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&h, &claims, &key).unwrap()
    };
    let portal = &b.partners[0];
    let good = json!({ "sub": "portal-user", "role": "partner", "partner": portal.id, "exp": now + 600, "iss": "https://idp.example" });
    let tokens = maillage::domain::tokens::TokenConfig::default().with_issuer(Some("https://idp.example".into()));
    for (name, config) in [
        (
            "pem",
            tokens
                .clone()
                .with_rs256_pem(&dir.join("test-public.pem").to_string_lossy())
                .unwrap(),
        ),
        (
            "jwks",
            tokens
                .clone()
                .with_jwks(&dir.join("test-jwks.json").to_string_lossy())
                .unwrap(),
        ),
    ] {
        let app = api::router(
            t.db.clone(),
            ServerConfig {
                access: maillage::api::auth::AccessConfig {
                    tokens: config,
                    ..Default::default()
                },
                ..Default::default()
            },
        );
        let ask = |token: String| {
            let app = app.clone();
            async move {
                let req = Request::post("/graphql")
                    .header("content-type", "application/json")
                    .header("authorization", format!("Bearer {token}"))
                    .body(Body::from(
                        json!({"query": "{ viewer { role name partner { ref } } }"}).to_string(),
                    ))
                    .unwrap();
                let r = app.oneshot(req).await.unwrap();
                let s = r.status();
                let v: Value = serde_json::from_slice(&r.into_body().collect().await.unwrap().to_bytes()).unwrap();
                (s, v)
            }
        };
        let (s, v) = ask(sign(good.clone(), Some("test-key"))).await;
        assert_eq!(s, StatusCode::OK, "{name}: {v}");
        assert_eq!(
            v["data"]["viewer"],
            json!({ "role": "PARTNER", "name": "portal-user", "partner": { "ref": portal.id } }),
            "{name}"
        );
        // Another issuer, an unknown partner: refused.
        let mut wrong = good.clone();
        wrong["iss"] = json!("https://other.example");
        assert_eq!(
            ask(sign(wrong, Some("test-key"))).await.0,
            StatusCode::UNAUTHORIZED,
            "{name}"
        );
        let mut unknown = good.clone();
        unknown["partner"] = json!("nobody");
        assert_eq!(
            ask(sign(unknown, Some("test-key"))).await.0,
            StatusCode::UNAUTHORIZED,
            "{name}"
        );
    }
}
