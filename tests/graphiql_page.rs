//! GraphiQL at `/`, served by maillage itself: the page and its files, the
//! policy that keeps it from loading anything from elsewhere, production
//! mode hiding it, and GraphiQL running in headless Chromium with every
//! host but 127.0.0.1 unreachable (chromedriver; without it the browser
//! test says it is skipped and passes, unless `CI` is set).

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::browser::{Driver, browser};
use common::*;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use maillage::api::{self, ServerConfig, graphql::ApiConfig};
use maillage::domain::access::Role;
use serde_json::{Value, json};
use tower::ServiceExt;

struct Got {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Got {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

async fn get(app: &axum::Router, path: &str, key: Option<&str>) -> Got {
    let mut req = Request::get(path);
    if let Some(k) = key {
        req = req.header("x-api-key", k);
    }
    let resp = app.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Got { status, headers, body }
}

/// The values of an attribute (`src`, `href`, `nonce`) in an HTML text.
fn attributes(html: &str, name: &str) -> Vec<String> {
    let needle = format!(" {name}=\"");
    html.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

/// A policy's directives, each with its sources, after checking every
/// source is this server, `data:` or a nonce: no other origin, no wildcard,
/// nothing unsafe.
fn same_origin_policy(csp: &str) -> HashMap<&str, Vec<&str>> {
    let mut directives = HashMap::new();
    for d in csp.split(';').map(str::trim).filter(|d| !d.is_empty()) {
        let mut words = d.split_whitespace();
        let name = words.next().unwrap();
        let sources: Vec<&str> = words.collect();
        for s in &sources {
            assert!(
                matches!(*s, "'self'" | "'none'" | "data:") || (s.starts_with("'nonce-") && s.ends_with('\'')),
                "{name} names {s}: {csp}"
            );
        }
        directives.insert(name, sources);
    }
    assert_eq!(directives["frame-ancestors"], ["'none'"], "{csp}");
    directives
}

/// The page's policy: this server's scripts, styles and answers only.
fn assert_page_policy(csp: &str) {
    let directives = same_origin_policy(csp);
    assert_eq!(directives["default-src"], ["'self'"], "{csp}");
    assert_eq!(directives["script-src"], ["'self'"], "{csp}");
    assert_eq!(directives["connect-src"], ["'self'"], "{csp}");
    assert_eq!(directives["base-uri"], ["'none'"], "{csp}");
}

/// The page references only files of this server, each served with its
/// content type for good; the policy names no other origin; the example
/// operations are its tabs.
#[tokio::test]
async fn graphiql_is_served_without_any_other_origin() {
    let t = TestDb::new().await;
    let app = api::router(t.db.clone(), ApiConfig::default());
    let page = get(&app, "/", None).await;
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").starts_with("text/html"));
    assert_eq!(page.header("x-content-type-options"), "nosniff");
    assert_eq!(page.header("referrer-policy"), "no-referrer");
    assert_eq!(page.header("cache-control"), "no-store");
    let csp = page.header("content-security-policy").to_owned();
    assert_page_policy(&csp);
    let html = page.text();

    // The nonce of the styles is the one the bootstrap script carries, and
    // a new one for each response.
    let nonces = attributes(&html, "nonce");
    assert_eq!(nonces.len(), 1, "{html}");
    assert!(
        csp.contains(&format!("style-src 'self' 'nonce-{}'", nonces[0])),
        "{csp}"
    );
    let again = get(&app, "/", None).await;
    assert_ne!(attributes(&again.text(), "nonce"), nonces, "a fresh nonce per response");

    // Every file named is this server's, served with its type, cached for
    // good (its name carries a digest of its content).
    let mut assets: Vec<String> = attributes(&html, "src");
    assets.extend(attributes(&html, "href"));
    assert!(assets.len() >= 6, "{assets:?}");
    for url in &assets {
        if url == "data:," {
            continue; // the empty favicon
        }
        assert!(url.starts_with("/graphiql/") && url.contains("?v="), "{url}");
        let file = get(&app, url, None).await;
        assert_eq!(file.status, 200, "{url}");
        let path = url.split('?').next().unwrap();
        let kind = if path.ends_with(".js") {
            "text/javascript"
        } else if path.ends_with(".css") {
            "text/css"
        } else {
            panic!("{url}: neither a script nor a style")
        };
        assert!(file.header("content-type").starts_with(kind), "{url}");
        assert_eq!(file.header("x-content-type-options"), "nosniff", "{url}");
        assert!(file.header("cache-control").contains("immutable"), "{url}");
        same_origin_policy(file.header("content-security-policy"));
        // The vendored files are served as published.
        let vendored = Path::new("vendor/graphiql").join(path.trim_start_matches("/graphiql/"));
        if vendored.exists() {
            assert_eq!(file.body, std::fs::read(&vendored).unwrap(), "{url}");
        }
    }
    for path in [
        "/graphiql/react.production.min.js",
        "/graphiql/react-dom.production.min.js",
        "/graphiql/graphiql.min.js",
        "/graphiql/graphiql.min.css",
    ] {
        assert!(
            assets.iter().any(|a| a.starts_with(&format!("{path}?v="))),
            "{path} in {assets:?}"
        );
    }

    // The tabs: a first one on credentials, then the examples, as written.
    let start = html.find("id=\"graphiql-config\">").unwrap() + "id=\"graphiql-config\">".len();
    let config: Value = serde_json::from_str(&html[start..start + html[start..].find("</script>").unwrap()]).unwrap();
    assert_eq!(config["endpoint"], "/graphql");
    let tabs = config["tabs"].as_array().unwrap();
    assert!(
        tabs[0]["query"]
            .as_str()
            .unwrap()
            .contains("{\"X-Api-Key\": \"mlg_…\"}")
    );
    let examples: Vec<String> = ["analyst", "portal", "map", "edit"]
        .iter()
        .map(|n| std::fs::read_to_string(format!("examples/graphql/{n}.graphql")).unwrap())
        .collect();
    let queries: Vec<&str> = tabs[1..].iter().map(|t| t["query"].as_str().unwrap()).collect();
    assert_eq!(queries, examples);

    // A browser's `GET /graphql` is the same page.
    let same = get(&app, "/graphql", None).await;
    assert_eq!(same.status, 200);
    assert!(same.text().contains("id=\"graphiql-config\""));
    assert_page_policy(same.header("content-security-policy"));
}

/// In production mode anonymous readers and portals get no GraphiQL (its
/// files stay public: they are GraphiQL's, not the schema).
#[tokio::test]
async fn production_mode_hides_graphiql_but_not_its_files() {
    let t = TestDb::new().await;
    let analyst = maillage::domain::keys::create(&t.db, Role::Analyst, None, "a", false)
        .await
        .unwrap();
    let app = api::router(
        t.db.clone(),
        ServerConfig {
            production: true,
            ..Default::default()
        },
    );
    for path in ["/", "/graphql"] {
        assert_eq!(get(&app, path, None).await.status, 404, "{path}");
        let page = get(&app, path, Some(&analyst)).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.text().contains("/graphiql/graphiql.min.js?v="));
    }
    assert_eq!(get(&app, "/graphiql/graphiql.min.js", None).await.status, 200);
}

/// chromedriver's log of the browser's console and network errors (a
/// policy violation is one), emptied as it is read.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.expect("a session")))
    }

    fn method_and_body(&self, _: &url::Url) -> (Method, Option<String>) {
        (Method::POST, Some(r#"{"type":"browser"}"#.to_owned()))
    }
}

async fn browser_log(c: &Client) -> Vec<Value> {
    let v = c.issue_cmd(BrowserLog).await.expect("chromedriver's browser log");
    v.get("value").unwrap_or(&v).as_array().cloned().unwrap_or_default()
}

async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, vec![]).await.expect("run a script in the page")
}

/// Polls a JavaScript expression in the page until it is true.
async fn wait_for(c: &Client, what: &str, expr: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if js(c, &format!("return !!({expr});")).await == Value::Bool(true) {
            return;
        }
        if Instant::now() > deadline {
            let log = browser_log(c).await;
            panic!("timed out waiting for {what} ({expr}); the browser logged {log:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The text of one of GraphiQL's CodeMirror editors.
const EDITOR: &str = "(sel) => document.querySelector(sel + ' .CodeMirror').CodeMirror";
const QUERY: &str = ".graphiql-query-editor";
const RESULT: &str = ".graphiql-response";

async fn editor_text(c: &Client, selector: &str) -> String {
    js(c, &format!("return ({EDITOR})({selector:?}).getValue();"))
        .await
        .as_str()
        .unwrap()
        .to_owned()
}

/// Runs the current tab with GraphiQL's button and returns the answer it shows.
async fn run_and_read(c: &Client, what: &str) -> Value {
    js(c, &format!("({EDITOR})({RESULT:?}).setValue(''); return null;")).await;
    c.find(Locator::Css(".graphiql-execute-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(
        c,
        what,
        &format!("({EDITOR})({RESULT:?}).getValue().trim().endsWith('}}')"),
    )
    .await;
    serde_json::from_str(&editor_text(c, RESULT).await).unwrap()
}

/// A GraphQL request straight to the application (the answer the page
/// must show).
async fn gql(app: &axum::Router, key: Option<&str>, query: &str) -> Value {
    let mut req = Request::post("/graphql").header("content-type", "application/json");
    if let Some(k) = key {
        req = req.header("x-api-key", k);
    }
    let body = json!({ "query": query }).to_string();
    let resp = app.clone().oneshot(req.body(Body::from(body)).unwrap()).await.unwrap();
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn graphiql_runs_offline_in_a_browser() {
    let (driver, chromium) = match browser() {
        Ok(b) => b,
        Err(why) if std::env::var_os("CI").is_some() => panic!("CI must run the browser test: {why}"),
        Err(why) => {
            eprintln!("SKIPPED graphiql_runs_offline_in_a_browser: {why}");
            return;
        }
    };

    let t = TestDb::with_demo().await;
    let app = api::router(t.db.clone(), ApiConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let served = app.clone();
    let server = tokio::spawn(async move { axum::serve(listener, served).await.unwrap() });
    let key = maillage::domain::keys::create(&t.db, Role::Analyst, None, "graphiql page", false)
        .await
        .unwrap();

    let driver = Driver::start(&driver);
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1440,900", "--hide-scrollbars",
                format!("--user-data-dir={}", profile.path().display()),
                // No network but this machine: every other name resolves
                // to nothing, and anything else goes to a proxy that is
                // not there.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=127.0.0.1",
                "--disable-background-networking", "--no-first-run",
            ],
        }),
    );
    caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
    let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a chromedriver session");

    // --- GraphiQL starts, with the examples as tabs and the key's note.
    c.goto(&format!("{base}/")).await.unwrap();
    wait_for(
        &c,
        "GraphiQL and its tabs",
        "document.querySelectorAll('.graphiql-tab').length === 5 && document.querySelector('.graphiql-query-editor .CodeMirror')",
    )
    .await;
    let tabs = js(
        &c,
        "return [...document.querySelectorAll('.graphiql-tab')].map(t => t.innerText.trim());",
    )
    .await;
    assert_eq!(
        tabs,
        json!([
            "Partners",
            "CispdPartnersWorkingOnYouthInQpvs",
            "PartnerHome",
            "TerritoryNetwork",
            "Edit"
        ])
    );
    let footer = c
        .find(Locator::Css(".graphiql-footer"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(footer.contains("{\"X-Api-Key\": \"mlg_…\"}"), "{footer}");

    // --- The first tab, run with GraphiQL's button: the API's answer.
    assert!(editor_text(&c, QUERY).await.contains("partners(first: 2)"));
    let shown = run_and_read(&c, "the first tab's answer").await;
    let expected = gql(&app, None, "{ partners(first: 2) { totalCount nodes { name kind } } }").await;
    assert!(expected["data"]["partners"]["totalCount"].as_u64().unwrap() > 2);
    assert_eq!(shown, expected, "GraphiQL shows the API's answer");

    // --- A query typed in a new tab, with a key in the Headers editor.
    c.find(Locator::Css("button[aria-label='New tab']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(
        &c,
        "a sixth tab",
        "document.querySelectorAll('.graphiql-tab').length === 6",
    )
    .await;
    js(&c, &format!("({EDITOR})({QUERY:?}).setValue(''); return null;")).await;
    let typed = "{ viewer { role } partners(first: 2) { totalCount } }";
    c.find(Locator::Css(".graphiql-query-editor textarea"))
        .await
        .unwrap()
        .send_keys(typed)
        .await
        .unwrap();
    // CodeMirror closes brackets as they open and steps over the closing
    // ones typed: the text is what was typed.
    assert_eq!(editor_text(&c, QUERY).await, typed);
    c.find(Locator::Css(".graphiql-editor-tools button[data-name=headers]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let headers = ".graphiql-editor-tool .graphiql-editor:not(.hidden)";
    js(
        &c,
        &format!(
            "({EDITOR})({headers:?}).setValue({:?}); return null;",
            json!({ "X-Api-Key": key }).to_string()
        ),
    )
    .await;
    let shown = run_and_read(&c, "the typed query's answer").await;
    assert_eq!(shown["data"]["viewer"]["role"], "ANALYST", "{shown}");
    let expected = gql(&app, Some(&key), "{ partners(first: 2) { totalCount } }").await;
    assert_eq!(shown["data"]["partners"], expected["data"]["partners"], "{shown}");

    // --- A dialog (its scroll lock adds a style, admitted by the nonce).
    c.find(Locator::Css("button[aria-label='Open settings dialog']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&c, "the settings dialog", "document.querySelector('[role=dialog]')").await;
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let shot = shots.join("graphiql_page.png");
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    std::fs::write(&shot, &png).unwrap();
    eprintln!("screenshot: {}", shot.display());

    // --- Nothing left this server, and the browser logged no error: no
    // request refused by the policy, none failed to reach a host.
    let requested: Vec<String> = serde_json::from_value(
        js(
            &c,
            "return [location.href, ...performance.getEntriesByType('resource').map(e => e.name)];",
        )
        .await,
    )
    .unwrap();
    assert!(requested.len() >= 7, "{requested:?}");
    for url in &requested {
        assert!(url.starts_with(&format!("{base}/")), "{url} is not this server");
    }
    let log = browser_log(&c).await;
    let errors: Vec<&Value> = log
        .iter()
        .filter(|e| e["level"] == "SEVERE" || e["message"].as_str().unwrap_or("").contains("Content Security Policy"))
        .collect();
    assert!(errors.is_empty(), "the browser logged errors: {errors:#?}");

    c.close().await.unwrap();
    drop(driver);
    server.abort();
}
