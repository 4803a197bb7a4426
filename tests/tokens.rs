//! Bearer tokens checked in full, through the whole HTTP stack: `nbf`,
//! `iss` and `aud` required when configured, the clock leeway, the longest
//! lifetime, every malformed `Authorization` header and two different
//! credentials answered `401 UNAUTHENTICATED` with what is wrong; and the
//! keys of an identity provider fetched from its URL (a local HTTP server
//! here), cached, rotated, fetched again at a bounded rate, and kept while
//! the provider is down.

mod common;

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode};
use axum::response::IntoResponse;
use common::TestDb;
use http_body_util::BodyExt;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use maillage::api::auth::AccessConfig;
use maillage::api::{self, ServerConfig};
use maillage::domain::access::Role;
use maillage::domain::keys;
use maillage::domain::tokens::TokenConfig;
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &str = "a shared secret for the token tests";
const ISS: &str = "https://idp.example/realms/dcs";
const AUD: &str = "maillage";

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

impl Reply {
    fn code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
    }
    fn message(&self) -> &str {
        self.body["errors"][0]["message"].as_str().unwrap_or("")
    }
    /// `401 UNAUTHENTICATED`, with a message saying `what`.
    #[track_caller]
    fn refused(&self, what: &str) {
        assert_eq!(self.status, StatusCode::UNAUTHORIZED, "{what}: {}", self.body);
        assert_eq!(self.code(), "UNAUTHENTICATED", "{}", self.body);
        assert!(self.message().contains(what), "wanted {what:?} in {}", self.body);
        assert!(self.headers.contains_key("www-authenticate"));
    }
    #[track_caller]
    fn ok(&self, role: &str) {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        assert_eq!(self.body["data"]["viewer"]["role"], role, "{}", self.body);
    }
}

/// Each request from its own address, so that the failures asked for here
/// never reach the throttle of failed credentials.
static ADDRESS: AtomicU32 = AtomicU32::new(1);

/// `{ viewer { role } }` with these headers (raw bytes, to send non-ASCII).
async fn ask(app: &Router, headers: &[(&str, &[u8])]) -> Reply {
    let n = ADDRESS.fetch_add(1, Ordering::Relaxed);
    let mut r = Request::post("/graphql")
        .header("content-type", "application/json")
        .header(
            "x-forwarded-for",
            format!("10.{}.{}.{}", n >> 16 & 255, n >> 8 & 255, n & 255),
        );
    for (k, v) in headers {
        r = r.header(*k, HeaderValue::from_bytes(v).unwrap());
    }
    let body = json!({"query": "{ viewer { role } }"}).to_string();
    let resp = app.clone().oneshot(r.body(Body::from(body)).unwrap()).await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    Reply { status, headers, body }
}

async fn bearer(app: &Router, token: &str) -> Reply {
    ask(app, &[("authorization", format!("Bearer {token}").as_bytes())]).await
}

fn router(db: &sea_orm::DatabaseConnection, tokens: TokenConfig) -> Router {
    api::router(
        db.clone(),
        ServerConfig {
            trust_forwarded_for: true,
            access: AccessConfig {
                tokens,
                ..Default::default()
            },
            ..Default::default()
        },
    )
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn hs256(claims: &Value) -> String {
    jsonwebtoken::encode(&Header::default(), claims, &EncodingKey::from_secret(SECRET.as_bytes())).unwrap()
}

/// Good claims for the HS256 server with issuer and audience; `change`
/// sets (or, with `null`, removes) some.
fn claims(change: Value) -> Value {
    let mut c = json!({ "sub": "alice", "role": "analyst", "iss": ISS, "aud": AUD, "exp": now() + 600 });
    for (k, v) in change.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

fn checked() -> TokenConfig {
    TokenConfig::default()
        .with_hs256_secret(SECRET)
        .with_issuer(Some(ISS.into()))
        .with_audience(Some(AUD.into()))
}

#[tokio::test(flavor = "multi_thread")]
async fn nbf_issuer_and_audience_are_checked_within_the_leeway() {
    let t = TestDb::new().await;
    // The default leeway: 30 seconds.
    let app = router(&t.db, checked());
    bearer(&app, &hs256(&claims(json!({})))).await.ok("ANALYST");
    // Not valid before an hour from now: refused.
    bearer(&app, &hs256(&claims(json!({ "nbf": now() + 3600 }))))
        .await
        .refused("not valid yet (nbf)");
    // Valid since a while, or from ten seconds on (the clocks may differ): taken.
    bearer(&app, &hs256(&claims(json!({ "nbf": now() - 60 }))))
        .await
        .ok("ANALYST");
    bearer(&app, &hs256(&claims(json!({ "nbf": now() + 10 }))))
        .await
        .ok("ANALYST");
    // An `nbf` that is not a number of seconds does not slip past.
    bearer(&app, &hs256(&claims(json!({ "nbf": (now() + 3600).to_string() }))))
        .await
        .refused("`nbf` is not a whole number");
    bearer(&app, &hs256(&claims(json!({ "nbf": (now() + 3600) as f64 + 0.5 }))))
        .await
        .refused("nbf");
    // Expired ten seconds ago: within the leeway; two minutes: refused.
    bearer(&app, &hs256(&claims(json!({ "exp": now() - 10 }))))
        .await
        .ok("ANALYST");
    bearer(&app, &hs256(&claims(json!({ "exp": now() - 120 }))))
        .await
        .refused("expired");
    bearer(&app, &hs256(&claims(json!({ "exp": null }))))
        .await
        .refused("`exp`");

    // Issuer and audience configured: required, not only checked when present.
    bearer(&app, &hs256(&claims(json!({ "iss": null }))))
        .await
        .refused("`iss`");
    bearer(&app, &hs256(&claims(json!({ "aud": null }))))
        .await
        .refused("`aud`");
    bearer(&app, &hs256(&claims(json!({ "iss": null, "aud": null }))))
        .await
        .refused("claim");
    bearer(&app, &hs256(&claims(json!({ "iss": "https://other.example" }))))
        .await
        .refused("issuer (iss)");
    bearer(&app, &hs256(&claims(json!({ "aud": "another-api" }))))
        .await
        .refused("audience (aud)");
    // An audience list naming this server is fine.
    bearer(&app, &hs256(&claims(json!({ "aud": ["account", AUD] }))))
        .await
        .ok("ANALYST");

    // No leeway: ten seconds out is out.
    let strict = router(&t.db, checked().with_leeway(0));
    bearer(&strict, &hs256(&claims(json!({ "nbf": now() + 10 }))))
        .await
        .refused("nbf");
    bearer(&strict, &hs256(&claims(json!({ "exp": now() - 10 }))))
        .await
        .refused("expired");
    // A wide one: two minutes ahead is taken, not an hour.
    let lax = router(&t.db, checked().with_leeway(300));
    bearer(&lax, &hs256(&claims(json!({ "nbf": now() + 120 }))))
        .await
        .ok("ANALYST");
    bearer(&lax, &hs256(&claims(json!({ "nbf": now() + 3600 }))))
        .await
        .refused("nbf");

    // Without issuer and audience configured, tokens need neither.
    let plain = router(&t.db, TokenConfig::default().with_hs256_secret(SECRET));
    bearer(&plain, &hs256(&claims(json!({ "iss": null, "aud": null }))))
        .await
        .ok("ANALYST");
    bearer(&plain, &hs256(&claims(json!({ "nbf": now() + 3600, "aud": null }))))
        .await
        .refused("nbf");
    // A forged signature is still just that.
    let forged = jsonwebtoken::encode(
        &Header::default(),
        &claims(json!({})),
        &EncodingKey::from_secret(b"not the secret"),
    )
    .unwrap();
    bearer(&app, &forged).await.refused("signature");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_living_longer_than_the_maximum_is_refused() {
    let t = TestDb::new().await;
    let app = router(&t.db, checked().with_max_lifetime(Some(3600)));
    let n = now();
    bearer(&app, &hs256(&claims(json!({ "iat": n, "exp": n + 3000 }))))
        .await
        .ok("ANALYST");
    bearer(&app, &hs256(&claims(json!({ "iat": n, "exp": n + 7200 }))))
        .await
        .refused("longer than the 3600 s");
    // Issued long ago, still valid: its lifetime is what counts.
    bearer(&app, &hs256(&claims(json!({ "iat": n - 7000, "exp": n + 600 }))))
        .await
        .refused("exp − iat");
    // Without `iat`, from now.
    bearer(&app, &hs256(&claims(json!({ "exp": n + 3000 }))))
        .await
        .ok("ANALYST");
    bearer(&app, &hs256(&claims(json!({ "exp": n + 7200 }))))
        .await
        .refused("exp − now");
    // "Issued" in the future does not stretch it.
    bearer(&app, &hs256(&claims(json!({ "iat": n + 100_000, "exp": n + 100_600 }))))
        .await
        .refused("longer than");
    bearer(&app, &hs256(&claims(json!({ "iat": "yesterday" }))))
        .await
        .refused("`iat` is not a whole number");
    // `exp` stays required.
    bearer(&app, &hs256(&claims(json!({ "iat": n, "exp": null }))))
        .await
        .refused("`exp`");
    // No maximum: any lifetime.
    let any = router(&t.db, checked());
    bearer(&any, &hs256(&claims(json!({ "iat": n, "exp": n + 365 * 86400 }))))
        .await
        .ok("ANALYST");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_authorization_header_is_unauthenticated_never_anonymous() {
    let t = TestDb::new().await;
    let app = router(&t.db, checked());
    let key = keys::create(&t.db, Role::Coordinator, None, "coordinator", false)
        .await
        .unwrap();
    let token = hs256(&claims(json!({})));
    // Anonymous readers are welcome here…
    ask(&app, &[]).await.ok("ANONYMOUS");
    // …which none of these is.
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "authorization",
            format!("Token {token}").into(),
            "scheme `Token` is not supported",
        ),
        (
            "authorization",
            b"Basic YWxhZGRpbjpvcGVuc2VzYW1l".to_vec(),
            "scheme `Basic`",
        ),
        ("authorization", token.clone().into(), "has no scheme"),
        ("authorization", key.clone().into(), "has no scheme"),
        ("authorization", b"Bearer".to_vec(), "bearer token is empty"),
        ("authorization", b"Bearer    ".to_vec(), "bearer token is empty"),
        ("authorization", b"bearer\t".to_vec(), "bearer token is empty"),
        ("authorization", b"".to_vec(), "Authorization header is empty"),
        ("authorization", b"   ".to_vec(), "Authorization header is empty"),
        ("authorization", "Bearer café".into(), "other than visible ASCII"),
        ("authorization", b"Bearer \xff\xfe".to_vec(), "other than visible ASCII"),
        (
            "authorization",
            format!("Bearer {token} {token}").into(),
            "holds a space",
        ),
        (
            "authorization",
            b"Bearer not-a-jwt".to_vec(),
            "neither an API key nor a JWT",
        ),
        ("x-api-key", b"".to_vec(), "X-Api-Key header is empty"),
        ("x-api-key", "mlg_clé".into(), "other than visible ASCII"),
    ];
    for (name, value, what) in &cases {
        let r = ask(&app, &[(*name, value.as_slice())]).await;
        r.refused(what);
    }
    // The scheme is case-blind, as HTTP says, and the spacing loose.
    ask(&app, &[("authorization", format!("bearer {token}").as_bytes())])
        .await
        .ok("ANALYST");
    ask(&app, &[("authorization", format!("BEARER   {token} ").as_bytes())])
        .await
        .ok("ANALYST");
    ask(&app, &[("authorization", format!("Bearer {key}").as_bytes())])
        .await
        .ok("COORDINATOR");
    // A server taking no tokens says so.
    let keys_only = router(&t.db, TokenConfig::default());
    bearer(&keys_only, &token).await.refused("takes no bearer tokens");
    // And with anonymous access off, no credential at all is the same refusal.
    let closed = api::router(
        t.db.clone(),
        ServerConfig {
            trust_forwarded_for: true,
            access: AccessConfig {
                anonymous: maillage::api::auth::Anonymous::None,
                ..Default::default()
            },
            ..Default::default()
        },
    );
    ask(&closed, &[]).await.refused("needs a credential");
    ask(&closed, &[("authorization", b"Token x")]).await.refused("scheme");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_different_credentials_in_one_request_are_refused() {
    let t = TestDb::new().await;
    let app = router(&t.db, checked());
    let admin = keys::create(&t.db, Role::Admin, None, "admin", false).await.unwrap();
    let analyst = keys::create(&t.db, Role::Analyst, None, "analyst", false)
        .await
        .unwrap();
    let token = hs256(&claims(json!({})));
    let b = |c: &str| format!("Bearer {c}").into_bytes();
    // Both valid, each alone.
    ask(&app, &[("x-api-key", admin.as_bytes())]).await.ok("ADMIN");
    bearer(&app, &token).await.ok("ANALYST");
    // Together: neither is picked.
    ask(&app, &[("x-api-key", admin.as_bytes()), ("authorization", &b(&token))])
        .await
        .refused("two different credentials (X-Api-Key and Authorization)");
    ask(
        &app,
        &[("x-api-key", analyst.as_bytes()), ("authorization", &b(&admin))],
    )
    .await
    .refused("two different credentials");
    ask(
        &app,
        &[("x-api-key", admin.as_bytes()), ("x-api-key", analyst.as_bytes())],
    )
    .await
    .refused("two different X-Api-Key headers");
    ask(&app, &[("authorization", &b(&token)), ("authorization", &b(&admin))])
        .await
        .refused("two different Authorization headers");
    // A valid key beside a malformed header is refused too.
    ask(
        &app,
        &[("x-api-key", admin.as_bytes()), ("authorization", b"Token abc")],
    )
    .await
    .refused("scheme `Token`");
    // The same credential twice is one.
    ask(&app, &[("x-api-key", admin.as_bytes()), ("authorization", &b(&admin))])
        .await
        .ok("ADMIN");
}

// ---------------------------------------------------------------------
// Keys from the identity provider's URL.

/// What the local identity provider answers at `/certs`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Up,
    /// `503`.
    Down,
    /// `200` with a body that is no key set.
    Garbage,
    /// `200` with an empty key set.
    Empty,
}

#[derive(Clone)]
struct Provider {
    jwks: Arc<Mutex<Value>>,
    mode: Arc<Mutex<Mode>>,
    hits: Arc<AtomicUsize>,
}

impl Provider {
    fn publish(&self, keys: &[&Value]) {
        *self.jwks.lock().unwrap() = json!({ "keys": keys });
    }
    fn set(&self, m: Mode) {
        *self.mode.lock().unwrap() = m;
    }
    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// A JWKS endpoint on 127.0.0.1, counting the fetches.
async fn provider(keys: &[&Value]) -> (Provider, String) {
    let p = Provider {
        jwks: Arc::new(Mutex::new(json!({ "keys": keys }))),
        mode: Arc::new(Mutex::new(Mode::Up)),
        hits: Arc::new(AtomicUsize::new(0)),
    };
    let app = Router::new()
        .route(
            "/realms/dcs/protocol/openid-connect/certs",
            axum::routing::get(|axum::extract::State(p): axum::extract::State<Provider>| async move {
                p.hits.fetch_add(1, Ordering::SeqCst);
                let mode = *p.mode.lock().unwrap();
                let jwks = p.jwks.lock().unwrap().clone();
                match mode {
                    Mode::Up => axum::Json(jwks).into_response(),
                    Mode::Down => (StatusCode::SERVICE_UNAVAILABLE, "maintenance").into_response(),
                    Mode::Garbage => (StatusCode::OK, "<html>login</html>").into_response(),
                    Mode::Empty => axum::Json(json!({ "keys": [] })).into_response(),
                }
            }),
        )
        .with_state(p.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/realms/dcs/protocol/openid-connect/certs",
        l.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (p, url)
}

/// The provider's two keys: (its JWK, a signer with its private key).
struct Keys {
    jwk1: Value,
    jwk2: Value,
    sign1: EncodingKey,
    sign2: EncodingKey,
}

fn keys() -> Keys {
    let dir = common::fixtures().join("jwt");
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    let set: Value = serde_json::from_slice(&read("test-jwks.json")).unwrap();
    Keys {
        jwk1: set["keys"][0].clone(),
        jwk2: serde_json::from_slice(&read("test-jwk-2.json")).unwrap(),
        sign1: EncodingKey::from_rsa_pem(&read("test-private.pem")).unwrap(),
        sign2: EncodingKey::from_rsa_pem(&read("test-private-2.pem")).unwrap(),
    }
}

fn rs256(key: &EncodingKey, kid: &str, sub: &str) -> String {
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some(kid.into());
    let c = json!({ "sub": sub, "role": "analyst", "iss": ISS, "exp": now() + 600 });
    jsonwebtoken::encode(&h, &c, key).unwrap()
}

fn from_url(url: &str, refresh: Duration, min: Duration) -> TokenConfig {
    TokenConfig::default()
        .with_issuer(Some(ISS.into()))
        .with_jwks_url(url, refresh, min)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_from_a_url_are_cached_and_a_new_kid_fetches_them_once_per_interval() {
    let t = TestDb::new().await;
    let k = keys();
    let (p, url) = provider(&[&k.jwk1]).await;
    let min = Duration::from_secs(2);
    let app = router(&t.db, from_url(&url, Duration::from_secs(3600), min));
    let old = rs256(&k.sign1, "test-key", "alice");
    let new = rs256(&k.sign2, "test-key-2", "bob");

    // Fetched on first use, then kept.
    for _ in 0..10 {
        bearer(&app, &old).await.ok("ANALYST");
    }
    assert_eq!(p.hits(), 1, "one fetch for ten tokens");
    // (Within the interval of that fetch, nothing would be fetched again.)
    tokio::time::sleep(min + Duration::from_millis(200)).await;

    // A token of the provider's next key before it is published: the set is
    // fetched again at once (it may have rotated), the kid is still unknown.
    let started = Instant::now();
    bearer(&app, &new)
        .await
        .refused("no key of this server has the token's kid");
    assert_eq!(p.hits(), 2);
    // A flood of made-up kids within the interval fetches nothing more.
    for i in 0..40 {
        let forged = rs256(&k.sign2, &format!("forged-{i}"), "mallory");
        bearer(&app, &forged).await.refused("kid");
    }
    let elapsed = started.elapsed();
    let bound = 2 + (elapsed.as_millis() / min.as_millis()) as usize;
    assert!(
        p.hits() <= bound,
        "{} fetches in {elapsed:?}, at most {bound} allowed",
        p.hits()
    );
    // The key known from the start is still taken meanwhile.
    bearer(&app, &old).await.ok("ANALYST");

    // The provider publishes its new key: once the interval is over, the
    // first token naming it has it fetched, and is taken.
    p.publish(&[&k.jwk1, &k.jwk2]);
    tokio::time::sleep(min + Duration::from_millis(200)).await;
    let before = p.hits();
    bearer(&app, &new).await.ok("ANALYST");
    assert_eq!(p.hits(), before + 1);
    for _ in 0..5 {
        bearer(&app, &new).await.ok("ANALYST");
        bearer(&app, &old).await.ok("ANALYST");
    }
    assert_eq!(p.hits(), before + 1, "both keys now held");
    // A token signed by neither key but naming one is still refused.
    let wrong = rs256(&k.sign2, "test-key", "mallory");
    bearer(&app, &wrong).await.refused("signature");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_last_good_keys_serve_while_the_provider_is_down_and_a_rotation_drops_the_old_key() {
    let t = TestDb::new().await;
    let k = keys();
    let (p, url) = provider(&[&k.jwk1]).await;
    let (refresh, min) = (Duration::from_millis(800), Duration::from_millis(300));
    let app = router(&t.db, from_url(&url, refresh, min));
    let old = rs256(&k.sign1, "test-key", "alice");
    let new = rs256(&k.sign2, "test-key-2", "bob");
    bearer(&app, &old).await.ok("ANALYST");
    assert_eq!(p.hits(), 1);

    // The provider goes down, then answers nonsense, then an empty set:
    // the keys held go on serving, refreshed no more than once per interval.
    let started = Instant::now();
    for mode in [Mode::Down, Mode::Garbage, Mode::Empty] {
        p.set(mode);
        let until = Instant::now() + refresh + Duration::from_millis(200);
        while Instant::now() < until {
            bearer(&app, &old).await.ok("ANALYST");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let elapsed = started.elapsed();
    let fetches = p.hits() - 1;
    assert!(fetches >= 3, "the refreshes were tried: {fetches}");
    let bound = 1 + (elapsed.as_millis() / min.as_millis()) as usize;
    assert!(fetches <= bound, "{fetches} fetches in {elapsed:?}, at most {bound}");
    // An unknown kid meanwhile is a 401 (the keys are there), not a 503.
    bearer(&app, &new).await.refused("kid");

    // Back, rotated: the new key in, the old one out. The periodic refresh
    // (or the new kid) brings the new set; the old key is then refused.
    p.publish(&[&k.jwk2]);
    p.set(Mode::Up);
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let r = bearer(&app, &old).await;
        if r.status == StatusCode::UNAUTHORIZED {
            r.refused("kid");
            break;
        }
        r.ok("ANALYST");
        assert!(Instant::now() < until, "the old key is never dropped");
    }
    bearer(&app, &new).await.ok("ANALYST");
}

#[tokio::test(flavor = "multi_thread")]
async fn until_the_first_fetch_succeeds_tokens_are_unavailable_and_keys_still_served() {
    let t = TestDb::new().await;
    let k = keys();
    let (p, url) = provider(&[&k.jwk1]).await;
    p.set(Mode::Down);
    let min = Duration::from_secs(2);
    let tokens = from_url(&url, Duration::from_secs(3600), min);
    // The server shares the key set it is built with.
    let app = router(&t.db, tokens.clone());
    let key = keys::create(&t.db, Role::Analyst, None, "analyst", false)
        .await
        .unwrap();
    // What `serve` does at start: the failure is reported, not fatal.
    let first = tokens.fetch_keys().await.expect("a URL is configured");
    assert!(first.unwrap_err().contains("503"), "names what went wrong");
    assert_eq!(p.hits(), 1);
    let token = rs256(&k.sign1, "test-key", "alice");

    // Within the interval: no new fetch, and the token is answered 503.
    let r = bearer(&app, &token).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(r.code(), "UNAVAILABLE");
    assert!(r.message().contains("identity provider's keys"), "{}", r.body);
    assert_eq!(p.hits(), 1);
    // API keys and anonymous readers do not depend on the provider.
    ask(&app, &[("x-api-key", key.as_bytes())]).await.ok("ANALYST");
    ask(&app, &[]).await.ok("ANONYMOUS");

    // The provider comes back: after the interval, the next token fetches.
    p.set(Mode::Up);
    tokio::time::sleep(min + Duration::from_millis(200)).await;
    bearer(&app, &token).await.ok("ANALYST");
    assert_eq!(p.hits(), 2);

    // A URL that is not one, or of another scheme, is refused at start.
    for bad in ["not a url", "ftp://idp.example/certs", "file:///etc/jwks.json"] {
        let e = TokenConfig::default()
            .with_jwks_url(bad, Duration::from_secs(60), min)
            .unwrap_err();
        assert!(e.to_string().starts_with(bad), "{e}");
    }
}
