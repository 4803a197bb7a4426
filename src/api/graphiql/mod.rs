//! GraphiQL at `/` (and `GET /graphql` from a browser), served by maillage
//! itself: a pinned GraphiQL release with the React it runs on (vendored in
//! `vendor/graphiql/`, see `vendor/README.md`) and a page of our own, all
//! compiled into the binary, so it works on a machine without internet.
//! Its policy lets the page load nothing but this server's files and talk
//! to nothing but this server.
//!
//! The example operations of `examples/graphql/` are its default tabs.

use std::sync::LazyLock;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use sha2::{Digest, Sha256};

const INDEX: &str = include_str!("index.html");

/// Where the page's HTML receives its configuration (endpoint, tabs).
const CONFIG_SLOT: &str = "{{CONFIG}}";

/// Where the page's HTML receives the nonce of its styles.
const NONCE_SLOT: &str = "{{NONCE}}";

/// The page's policy: scripts and styles from this server only, images and
/// fonts also from `data:` URLs (GraphiQL's stylesheet embeds its fonts and
/// icons), requests to this server only, no framing. No `'unsafe-eval'`
/// (the bundles need none) and no `'unsafe-inline'`: the page's own script
/// is a file (`start.js`), and the one `<style>` element GraphiQL adds (its
/// dialogs lock the page's scroll with react-remove-scroll-bar) is admitted
/// by a nonce drawn for each response, which `start.js` hands to it.
pub fn policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; \
         font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    )
}

/// The files' policy (they are not documents, but one opened by itself
/// gets no more than the page).
const ASSET_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// A file the page loads, at a stable path under `/graphiql/`.
struct Asset {
    path: &'static str,
    body: &'static [u8],
    content_type: &'static str,
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

static ASSETS: [Asset; 6] = [
    Asset {
        path: "/graphiql/react.production.min.js",
        body: include_bytes!("../../../vendor/graphiql/react.production.min.js"),
        content_type: JS,
    },
    Asset {
        path: "/graphiql/react-dom.production.min.js",
        body: include_bytes!("../../../vendor/graphiql/react-dom.production.min.js"),
        content_type: JS,
    },
    Asset {
        path: "/graphiql/graphiql.min.js",
        body: include_bytes!("../../../vendor/graphiql/graphiql.min.js"),
        content_type: JS,
    },
    Asset {
        path: "/graphiql/graphiql.min.css",
        body: include_bytes!("../../../vendor/graphiql/graphiql.min.css"),
        content_type: CSS,
    },
    Asset {
        path: "/graphiql/start.js",
        body: include_bytes!("start.js"),
        content_type: JS,
    },
    Asset {
        path: "/graphiql/page.css",
        body: include_bytes!("page.css"),
        content_type: CSS,
    },
];

/// The example operations, as GraphiQL's default tabs (a first one says
/// how to send a credential and runs a small query).
const WELCOME: &str = r#"# maillage's GraphQL API: its schema is under Docs (left).
#
# Without a credential you read public data only.
# With an API key, open Headers (below) and write
#   {"X-Api-Key": "mlg_…"}
# or, for a token, {"Authorization": "Bearer …"}.
#
# The other tabs are the examples of examples/graphql/.
# Run one with ▶ or Ctrl-Enter.
query Partners {
  partners(first: 2) {
    totalCount
    nodes { name kind }
  }
}
"#;

const EXAMPLES: [(&str, Option<&str>); 4] = [
    (include_str!("../../../examples/graphql/analyst.graphql"), None),
    (include_str!("../../../examples/graphql/portal.graphql"), None),
    (include_str!("../../../examples/graphql/map.graphql"), None),
    (
        include_str!("../../../examples/graphql/edit.graphql"),
        Some("{ \"partner\": \"…\", \"version\": 1, \"territory\": \"…\" }"),
    ),
];

fn config() -> serde_json::Value {
    let tabs: Vec<serde_json::Value> = std::iter::once((WELCOME, None))
        .chain(EXAMPLES)
        .map(|(query, variables)| match variables {
            Some(v) => serde_json::json!({ "query": query, "variables": v }),
            None => serde_json::json!({ "query": query }),
        })
        .collect();
    serde_json::json!({ "endpoint": "/graphql", "tabs": tabs })
}

/// Each asset's path with a digest of its content (`?v=…`): the page names
/// a new file whenever the binary serves one, so the files can be cached
/// for good.
static VERSIONED: LazyLock<Vec<(&'static str, String)>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| {
            let digest = Sha256::digest(a.body);
            (a.path, format!("{}?v={}", a.path, hex::encode(&digest[..8])))
        })
        .collect()
});

/// The page, cut where each response's nonce goes.
static PAGE: LazyLock<(String, String)> = LazyLock::new(|| {
    // `<` is escaped so no example can close the JSON script block.
    let json = config().to_string().replace('<', "\\u003c");
    let mut page = INDEX.to_owned();
    for (path, versioned) in VERSIONED.iter() {
        page = page.replacen(&format!("\"{path}\""), &format!("\"{versioned}\""), 1);
    }
    let (before, after) = page.split_once(NONCE_SLOT).expect("the page has a nonce slot");
    (before.replacen(CONFIG_SLOT, &json, 1), after.to_owned())
});

/// The GraphiQL page (the caller decides who may see it).
pub fn page() -> Response {
    let nonce = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 16]>());
    let (before, after) = &*PAGE;
    let mut r = format!("{before}{nonce}{after}").into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&policy(&nonce)).expect("base64 is a header value"),
    );
    secure(h);
    r
}

/// The page's files, for everyone (production mode hides the page, not
/// GraphiQL's public code); they carry no state, so they merge into any
/// router.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    ASSETS.iter().fold(Router::new(), |router, a| {
        router.route(
            a.path,
            get(move || async move {
                let mut r = a.body.into_response();
                let h = r.headers_mut();
                h.insert(header::CONTENT_TYPE, HeaderValue::from_static(a.content_type));
                h.insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                );
                h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(ASSET_POLICY));
                secure(h);
                r
            }),
        )
    })
}

fn secure(h: &mut axum::http::HeaderMap) {
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
}
