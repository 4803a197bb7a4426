//! The network map page at `/map`: hand-written HTML, CSS and JavaScript,
//! compiled into the binary (no CDN, no build step), drawing the layout the
//! server computes (`networkMap`) through the same `/graphql` endpoint and
//! the same credentials as any other client.

use std::sync::LazyLock;

use async_graphql::resolver_utils::EnumType;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::domain::graph::{Centrality, Layout, Via};
use crate::model::{PartnerKind, Theme};

const INDEX: &str = include_str!("index.html");
const SCRIPT: &str = include_str!("map.js");
const STYLE: &str = include_str!("map.css");

/// Where the page's HTML receives the vocabularies.
const VOCAB_SLOT: &str = "{{VOCAB}}";

/// The page's routes; they carry no state of their own, so they merge into
/// any router.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/map", get(index))
        .route(
            "/map/map.js",
            get(|| async { asset(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/map/map.css",
            get(|| async { asset(STYLE, "text/css; charset=utf-8") }),
        )
}

/// The GraphQL names of the closed lists the filters offer, taken from the
/// very enums the schema is built from: the page cannot drift from the
/// schema, and it needs no introspection (which production mode refuses to
/// anonymous readers).
fn vocab() -> serde_json::Value {
    fn names<T: EnumType>() -> Vec<&'static str> {
        T::items().iter().map(|i| i.name).collect()
    }
    serde_json::json!({
        "partnerKinds": names::<PartnerKind>(),
        "themes": names::<Theme>(),
        "via": names::<Via>(),
        "centralities": names::<Centrality>(),
        "layouts": names::<Layout>(),
    })
}

static PAGE: LazyLock<String> = LazyLock::new(|| {
    // `<` is escaped so no value can close the JSON script block.
    let json = vocab().to_string().replace('<', "\\u003c");
    INDEX.replacen(VOCAB_SLOT, &json, 1)
});

async fn index() -> Response {
    asset(&PAGE, "text/html; charset=utf-8")
}

/// A page resource, with a policy that lets it load nothing but itself and
/// talk to nothing but this server: what "no CDN" means, enforced by the
/// browser.
fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}
