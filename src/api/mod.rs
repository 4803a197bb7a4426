//! Interfaces over HTTP: the GraphQL endpoint, GraphiQL, the health check.

pub mod auth;
pub mod export;
pub mod graphiql;
pub mod graphql;
pub mod lifecycle;
pub mod limits;
pub mod map;
pub mod metrics;
pub mod persisted;
pub mod rate;
pub mod refusal;
pub mod traces;

pub use lifecycle::serve;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{
    BatchRequest, BatchResponse, ErrorExtensionValues, Request as GqlRequest, Response as GqlResponse,
};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use lru::LruCache;
use sea_orm::DatabaseConnection;
use tokio::sync::Semaphore;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::domain::access::{Principal, Role};
use crate::storage;
use auth::AccessConfig;
use graphql::{ApiConfig, AppSchema, Loaders, SchemaOptions};
use limits::Limits;
use persisted::PersistedQueries;
use rate::{Caller, Rate, RateLimits};
use refusal::refusal;

/// Everything the HTTP server is configured with (the CLI fills it from
/// flags and environment variables).
#[derive(Debug, Clone, Default)]
pub struct ServerConfig {
    pub api: ApiConfig,
    pub access: AccessConfig,
    pub limits: Limits,
    /// Production mode: no introspection and no GraphiQL for partner
    /// portals and anonymous readers.
    pub production: bool,
    /// Origins allowed to call the API from a browser (CORS); `*` for any.
    pub cors_origins: Vec<String>,
    /// Requests per second (and burst) per identity (a verified API key or
    /// token subject); `None`: unlimited.
    pub rate_per_credential: Option<Rate>,
    /// Requests per second (and burst) per client IP, for anonymous requests.
    pub rate_per_anonymous_ip: Option<Rate>,
    /// Take the client IP from `X-Forwarded-For` (behind a trusted load balancer).
    pub trust_forwarded_for: bool,
    /// Registered operations and automatic persisted queries.
    pub persisted: Arc<PersistedQueries>,
    /// The graph projection (`serve` loads it at start); `None`: one is
    /// made, loaded on first use.
    pub graph: Option<crate::domain::graph::Graph>,
    /// What the process knows of the database's reachability (`serve`
    /// watches it; the default stays up).
    pub health: storage::Health,
    /// A small pool of its own for heavy operations (`serve` opens one),
    /// so that their many concurrent statements never take the
    /// connections small requests need; `None`: they share the main pool.
    pub heavy_db: Option<DatabaseConnection>,
}

impl From<ApiConfig> for ServerConfig {
    fn from(api: ApiConfig) -> Self {
        ServerConfig {
            api,
            ..Default::default()
        }
    }
}

/// One schema per role: the same types, each with its role's depth and
/// cost limits (and, in production, no introspection for portals and
/// anonymous readers).
#[derive(Clone)]
struct Schemas(Arc<Vec<(Role, AppSchema)>>);

impl Schemas {
    fn build(db: &DatabaseConnection, config: &ServerConfig, graph: &crate::domain::graph::Graph) -> Schemas {
        Schemas(Arc::new(
            Role::ALL
                .into_iter()
                .map(|role| {
                    let options = SchemaOptions {
                        max_depth: config.limits.max_depth,
                        max_cost: config.limits.max_cost(role),
                        introspection: !(config.production && matches!(role, Role::Partner | Role::Anonymous)),
                        phases: traces::enabled(),
                    };
                    (
                        role,
                        graphql::schema_with_graph(Some(db.clone()), Some(graph.clone()), config.api.clone(), options),
                    )
                })
                .collect(),
        ))
    }

    fn of(&self, role: Role) -> &AppSchema {
        &self.0.iter().find(|(r, _)| *r == role).expect("a schema per role").1
    }
}

/// A parsed operation document and what admission checks read from it.
struct Parsed {
    doc: ExecutableDocument,
    /// Lexical tokens of its text, and fields its operations select
    /// (fragments expanded): bounded per role.
    tokens: usize,
    fields: usize,
    aliases: usize,
    introspection: bool,
    mutation: bool,
}

/// Parsed documents by query text: a client sends the same few operations
/// over and over, and parsing (pest) cost more than executing a small one.
/// Only the document is kept, never an answer: it is the same for every
/// viewer, and everything that depends on the viewer (limits, scope,
/// validation against the role's schema) still runs on every request.
struct Documents(Mutex<LruCache<String, Arc<Parsed>>>);

impl Documents {
    /// How many documents are kept, and the longest query text kept (a
    /// hostile client sending large distinct queries cannot make the cache
    /// hold more than a few megabytes).
    const CAPACITY: usize = 256;
    const MAX_TEXT: usize = 8 * 1024;

    /// The document of `query`, whose text is first counted: more than
    /// `max_tokens` tokens (the largest any role may send) and it is
    /// refused before it is parsed.
    fn get(&self, query: &str, max_tokens: usize) -> Result<Arc<Parsed>, DocumentError> {
        if let Some(p) = self.0.lock().expect("documents lock").get(query) {
            return Ok(p.clone());
        }
        let tokens = limits::count_tokens(query, max_tokens).map_err(DocumentError::Text)?;
        let doc = async_graphql::parser::parse_query(query).map_err(DocumentError::Syntax)?;
        let parsed = Arc::new(Parsed {
            tokens,
            fields: limits::count_fields(&doc),
            aliases: limits::count_aliases(&doc),
            introspection: limits::asks_introspection(&doc),
            mutation: doc
                .operations
                .iter()
                .any(|(_, op)| op.node.ty == OperationType::Mutation),
            doc,
        });
        if query.len() <= Self::MAX_TEXT {
            self.0
                .lock()
                .expect("documents lock")
                .put(query.to_owned(), parsed.clone());
        }
        Ok(parsed)
    }
}

/// Why a query text gives no document.
enum DocumentError {
    Text(limits::TextRefusal),
    Syntax(async_graphql::parser::Error),
}

impl Default for Documents {
    fn default() -> Self {
        Documents(Mutex::new(LruCache::new(
            NonZeroUsize::new(Self::CAPACITY).expect("non-zero"),
        )))
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    schemas: Schemas,
    documents: Arc<Documents>,
    config: Arc<ServerConfig>,
    rate: Arc<RateLimits>,
    graph: crate::domain::graph::Graph,
    /// Turns to execute an operation (`Limits::max_running`); `None`: no limit.
    turns: Option<Arc<Semaphore>>,
    /// The turns heavy operations take first (`Limits::max_running_heavy`).
    heavy: Option<Arc<Semaphore>>,
    /// The pool heavy operations read and write through.
    heavy_db: DatabaseConnection,
    /// Operation names as metric labels (capped).
    names: Arc<metrics::OperationNames>,
    health: storage::Health,
}

/// The HTTP application.
pub fn router(db: DatabaseConnection, config: impl Into<ServerConfig>) -> Router {
    let config: ServerConfig = config.into();
    metrics::handle();
    // The API's own handle on the pool counts and times its statements
    // (the graph projection's and the CLI's are not requests).
    let mut db = db;
    db.set_metric_callback(metrics::on_statement);
    let graph = config
        .graph
        .clone()
        .unwrap_or_else(|| crate::domain::graph::Graph::new(db.clone()));
    let schemas = Schemas::build(&db, &config, &graph);
    let rate = Arc::new(RateLimits::new(
        config.rate_per_credential,
        config.rate_per_anonymous_ip,
    ));
    let cors = cors_layer(&config.cors_origins);
    let turns = (config.limits.max_running > 0).then(|| Arc::new(Semaphore::new(config.limits.max_running)));
    let heavy = (config.limits.heavy_weight > 0 && config.limits.max_running_heavy > 0)
        .then(|| Arc::new(Semaphore::new(config.limits.max_running_heavy)));
    let health = config.health.clone();
    let heavy_db = match &config.heavy_db {
        Some(h) => {
            let mut h = h.clone();
            h.set_metric_callback(metrics::on_statement);
            h
        }
        None => db.clone(),
    };
    let state = AppState {
        db,
        schemas,
        documents: Arc::new(Documents::default()),
        config: Arc::new(config),
        rate,
        graph,
        turns,
        heavy,
        heavy_db,
        names: Arc::new(metrics::OperationNames::default()),
        health,
    };
    let mut app = Router::new()
        .route("/", get(graphiql_root))
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/metrics", get(metrics_for_admins))
        .route("/export/{file}", get(export_map))
        .merge(lifecycle::routes())
        .merge(map::routes())
        .merge(graphiql::routes())
        .with_state(state)
        .layer(axum::middleware::from_fn(security_headers))
        .layer(axum::middleware::from_fn(traces::with_request_id))
        .layer(TraceLayer::new_for_http().make_span_with(traces::request_span))
        .layer(SetRequestIdLayer::new(
            header::HeaderName::from_static(traces::REQUEST_ID),
            MakeRequestUuid,
        ));
    if let Some(cors) = cors {
        app = app.layer(cors);
    }
    app
}

/// The same security headers on every answer: a page that sets its own
/// policy (GraphiQL, the map) keeps it, anything else (JSON, exports,
/// errors) may load nothing and be framed by nobody. Nothing says which
/// server or version answers.
async fn security_headers(req: Request, next: axum::middleware::Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ] {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
    h.remove(header::SERVER);
    h.remove("x-powered-by");
    resp
}

fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::CONTENT_TYPE,
                header::AUTHORIZATION,
                header::HeaderName::from_static("x-api-key"),
            ])
            .max_age(Duration::from_secs(3600)),
    )
}

/// The client's address: the socket's peer, or, when the server is told to
/// trust its load balancer, the last `X-Forwarded-For` hop: the one that
/// balancer appended. The hops before it are whatever the client wrote
/// (taking the first would let anyone pick its own rate bucket).
fn client_ip(parts: &Parts, trust_forwarded_for: bool) -> IpAddr {
    if trust_forwarded_for
        && let Some(ip) = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return ip;
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// Authentication, then the rate limit of who it is: what every GraphQL
/// request (and export) goes through before its body is even read.
///
/// The bucket is chosen once the credential is verified (an identity's
/// own, or the address' for anonymous readers), so no one can spend
/// another's budget; a failed credential counts against its address and
/// key prefix, and once those are over their limit is answered `429`.
async fn admit(app: &AppState, parts: &Parts) -> Result<Principal, Response> {
    let ip = client_ip(parts, app.config.trust_forwarded_for);
    // A credential read from the cache needs no database; one that would
    // wait for it while it is down is refused at once.
    let checked = tokio::select! {
        biased;
        p = auth::principal(&app.db, &app.config.access, &parts.headers) => p,
        () = app.health.down() => Err(refusal::unavailable()),
    };
    let principal = match checked {
        Ok(p) => p,
        Err(r) if r.status() == StatusCode::UNAUTHORIZED => {
            metrics::refused("unauthenticated");
            ::metrics::counter!("maillage_auth_failures_total").increment(1);
            // The public part of an API key names the key a guesser aims at.
            let prefix = auth::credential(&parts.headers)
                .ok()
                .flatten()
                .filter(|c| crate::domain::keys::is_api_key(c))
                .map(|c| c.chars().take(12).collect::<String>());
            return match app.rate.failed(ip, prefix.as_deref()) {
                Ok(()) => Err(r),
                Err(wait) => Err(too_many(
                    wait,
                    "too many failed authentications from this client: try again in {} s",
                )),
            };
        }
        Err(r) => {
            metrics::refused(match r.status() {
                StatusCode::SERVICE_UNAVAILABLE => {
                    app.health.suspect();
                    "unavailable"
                }
                _ => "credential",
            });
            return Err(r);
        }
    };
    let caller = if principal.identity.is_empty() {
        Caller::Ip(ip)
    } else {
        Caller::Identity(principal.identity.clone())
    };
    if let Err(wait) = app.rate.check(&caller) {
        metrics::refused("rate_limited");
        return Err(too_many(wait, "too many requests: try again in {} s"));
    }
    Ok(principal)
}

/// `429 RATE_LIMITED` with `Retry-After`; `{}` in `message` is the wait.
fn too_many(wait: Duration, message: &str) -> Response {
    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    let mut r = refusal(
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
        &message.replace("{}", &secs.to_string()),
    );
    r.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from_str(&secs.to_string()).expect("digits"),
    );
    r
}

/// `GET /export/map.{gexf,graphml,cyjs,json}?…`: the network map as a file,
/// with the filters of `networkMap` as query parameters (see
/// [`export::MapParams`]), for the caller's scope. Same authentication and
/// rate limits as `/graphql`.
async fn export_map(
    State(app): State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
    req: Request,
) -> Response {
    let (parts, _) = req.into_parts();
    let Some(format) = file.strip_prefix("map.").and_then(export::Format::from_extension) else {
        return refusal(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "exports are /export/map.gexf, map.graphml, map.cyjs and map.json",
        );
    };
    let principal = match admit(&app, &parts).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let params: export::MapParams = match serde_urlencoded_query(parts.uri.query().unwrap_or("")) {
        Ok(p) => p,
        Err(e) => return refusal(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", &e),
    };
    let scope = principal.scope();
    let built = tokio::select! {
        biased;
        b = export::build_map(&app.db, &app.graph, &scope, &params) => b,
        () = app.health.down() => return refusal::unavailable(),
    };
    match built {
        Ok(Ok((p, map))) => (
            [
                (header::CONTENT_TYPE, format.content_type().to_owned()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
            ],
            export::render(&p, &map, format),
        )
            .into_response(),
        Ok(Err(msg)) => refusal(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", &msg),
        Err(e) if e.unavailable() => {
            tracing::warn!(error = %e, "map export: the database cannot be reached");
            app.health.suspect();
            refusal::unavailable()
        }
        Err(e) => {
            tracing::error!(error = %e, "map export failed");
            refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "internal error; the server log has the details",
            )
        }
    }
}

fn serde_urlencoded_query(q: &str) -> Result<export::MapParams, String> {
    axum::extract::Query::<export::MapParams>::try_from_uri(
        &format!("/?{q}")
            .parse()
            .map_err(|_| "malformed query string".to_owned())?,
    )
    .map(|q| q.0)
    .map_err(|e| format!("bad query parameters: {e}"))
}

async fn graphql_post(State(app): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let principal = match admit(&app, &parts).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"));
    if !json {
        metrics::refused("content_type");
        return refusal(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "BAD_USER_INPUT",
            "a GraphQL request is a JSON body: send it with Content-Type: application/json",
        );
    }
    let max = app.config.limits.max_body_bytes;
    let bytes = match axum::body::to_bytes(body, max).await {
        Ok(b) => b,
        Err(_) => {
            metrics::refused("body_too_large");
            return refusal(
                StatusCode::PAYLOAD_TOO_LARGE,
                "BAD_USER_INPUT",
                &format!("the request body is larger than the {max} bytes allowed"),
            );
        }
    };
    let batch: BatchRequest = match serde_json::from_slice(&bytes) {
        Ok(b) => b,
        Err(e) => {
            metrics::refused("malformed");
            return refusal(
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                &format!("the body is not a GraphQL request in JSON: {e}"),
            );
        }
    };
    run(&app, principal, batch, false).await
}

/// `GET /graphql`: GraphiQL for a browser, or a query in the URL (useful with
/// persisted queries). Mutations are refused over GET.
async fn graphql_get(State(app): State<AppState>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let Some(qs) = parts.uri.query().filter(|q| !q.is_empty()) else {
        return graphiql_page(&app, &parts).await;
    };
    let principal = match admit(&app, &parts).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match async_graphql::http::parse_query_string(qs) {
        Ok(r) => run(&app, principal, BatchRequest::Single(r), true).await,
        Err(e) => refusal(
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            &format!("the URL does not hold a GraphQL request: {e}"),
        ),
    }
}

async fn run(app: &AppState, principal: Principal, batch: BatchRequest, over_get: bool) -> Response {
    let requests = match batch {
        BatchRequest::Single(r) => {
            let resp = execute(app, &principal, r, over_get).await;
            let down = unavailable(&resp);
            return answer(Json(resp), down);
        }
        BatchRequest::Batch(rs) => rs,
    };
    let max = app.config.limits.max_batch;
    if requests.len() > max {
        metrics::refused("batch");
        return refusal(
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            &format!(
                "a batch holds at most {max} operations; this one has {}",
                requests.len()
            ),
        );
    }
    let mut out = Vec::with_capacity(requests.len());
    for r in requests {
        out.push(execute(app, &principal, r, over_get).await);
    }
    let down = out.iter().any(unavailable);
    answer(Json(BatchResponse::Batch(out)), down)
}

/// Whether an operation failed for want of the database (`UNAVAILABLE`).
fn unavailable(resp: &GqlResponse) -> bool {
    resp.errors.iter().any(|e| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .is_some_and(|c| matches!(c, async_graphql::Value::String(s) if s == graphql::error::UNAVAILABLE))
    })
}

/// The HTTP answer: `503` with `Retry-After` when the database could not be
/// reached, so that clients and load balancers retry (elsewhere GraphQL
/// errors travel in a `200`). A `COMMIT_UNKNOWN` is not retried blindly:
/// it stays a `200` carrying its code.
fn answer(body: impl IntoResponse, down: bool) -> Response {
    let mut r = body.into_response();
    if down {
        *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        refusal::retry_after(&mut r);
    }
    r
}

/// A GraphQL error response with a code, for a refusal before execution.
fn refused(code: &str, message: impl Into<String>) -> GqlResponse {
    let mut e = async_graphql::ServerError::new(message, None);
    let mut ext = ErrorExtensionValues::default();
    ext.set("code", code);
    e.extensions = Some(ext);
    GqlResponse::from_errors(vec![e])
}

/// Runs one operation for a principal, and records what it did (metrics,
/// the request span's operation name, the request id on its errors).
async fn execute(app: &AppState, principal: &Principal, req: GqlRequest, over_get: bool) -> GqlResponse {
    let began = std::time::Instant::now();
    let statements = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let mut op = OperationLabels::default();
    let mut resp = metrics::counting(statements.clone(), execute_one(app, principal, req, over_get, &mut op)).await;
    traces::mark(&mut resp);
    let name = app.names.label(op.name.as_deref());
    tracing::Span::current().record("graphql.operation", name.as_str());
    let outcome = match (op.refused, resp.errors.is_empty()) {
        (Some(kind), _) => {
            metrics::refused(kind);
            "refused"
        }
        (None, true) => "ok",
        (None, false) => "error",
    };
    let codes = resp
        .errors
        .iter()
        .map(|e| {
            e.extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .and_then(|v| match v {
                    async_graphql::Value::String(s) => Some(error_code_label(s)),
                    _ => None,
                })
                .unwrap_or("UNKNOWN")
        })
        .collect();
    metrics::operation(metrics::Operation {
        name,
        kind: op.kind,
        outcome,
        elapsed: began.elapsed(),
        statements: statements.load(std::sync::atomic::Ordering::Relaxed),
        codes,
    });
    resp
}

fn too_large_query(role: Role, limits: &Limits) -> GqlResponse {
    refused(
        "QUERY_TOO_LARGE",
        format!(
            "the query has more than the {} tokens allowed for the {} role",
            limits.max_tokens(role),
            role.as_str()
        ),
    )
}

/// The codes errors are counted by (a closed list: a label takes few values).
fn error_code_label(code: &str) -> &'static str {
    const CODES: [&str; 14] = [
        "BAD_USER_INPUT",
        "QUERY_TOO_LARGE",
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "NOT_FOUND",
        "CONFLICT",
        "INTERNAL",
        "TIMEOUT",
        "RATE_LIMITED",
        "UNAVAILABLE",
        "COMMIT_UNKNOWN",
        "STORAGE_FULL",
        "PERSISTED_QUERY_NOT_FOUND",
        "PERSISTED_QUERY_NOT_ALLOWED",
    ];
    CODES.into_iter().find(|c| *c == code).unwrap_or("OTHER")
}

/// What the metrics of an operation are labelled with, found while it is
/// admitted.
struct OperationLabels {
    name: Option<String>,
    kind: &'static str,
    /// The refusal before execution, by kind, if any.
    refused: Option<&'static str>,
}

impl Default for OperationLabels {
    fn default() -> Self {
        OperationLabels {
            name: None,
            kind: "unknown",
            refused: None,
        }
    }
}

/// Runs one operation for a principal: persisted query, alias limit, then
/// the role's schema (depth, cost, introspection) under the time limit.
async fn execute_one(
    app: &AppState,
    principal: &Principal,
    mut req: GqlRequest,
    over_get: bool,
    op: &mut OperationLabels,
) -> GqlResponse {
    let limits = &app.config.limits;
    if let Err(r) = app.config.persisted.resolve(&mut req, principal.role) {
        op.refused = Some("persisted_query");
        return refused(r.code, r.message);
    }
    let parsed = {
        let _parse = traces::enabled().then(|| tracing::info_span!("graphql.parse").entered());
        let most = limits.max_tokens.iter().copied().max().unwrap_or(0);
        match app.documents.get(&req.query, most) {
            Ok(p) => p,
            Err(DocumentError::Syntax(e)) => {
                op.refused = Some("syntax");
                return refused("BAD_USER_INPUT", format!("the query does not parse: {e}"));
            }
            Err(DocumentError::Text(limits::TextRefusal::Tokens(_))) => {
                op.refused = Some("tokens");
                return too_large_query(principal.role, limits);
            }
            Err(DocumentError::Text(limits::TextRefusal::Name)) => {
                op.refused = Some("name_length");
                return refused(
                    "QUERY_TOO_LARGE",
                    format!("the query holds a name longer than {} characters", limits::MAX_NAME),
                );
            }
        }
    };
    // The operation that runs: the one named, else the document's only one.
    let chosen = parsed
        .doc
        .operations
        .iter()
        .find(|(name, _)| match &req.operation_name {
            Some(want) => name.is_some_and(|n| n.as_str() == want),
            None => true,
        });
    if let Some((name, o)) = chosen {
        op.name = name.map(|n| n.to_string());
        op.kind = match o.node.ty {
            OperationType::Query => "query",
            OperationType::Mutation => "mutation",
            OperationType::Subscription => "subscription",
        };
    }
    if parsed.tokens > limits.max_tokens(principal.role) {
        op.refused = Some("tokens");
        return too_large_query(principal.role, limits);
    }
    if parsed.fields > limits.max_fields(principal.role) {
        op.refused = Some("fields");
        return refused(
            "QUERY_TOO_LARGE",
            format!(
                "the query selects more than the {} fields allowed for the {} role (fragments counted each time they are spread)",
                limits.max_fields(principal.role),
                principal.role.as_str()
            ),
        );
    }
    if parsed.aliases > limits.max_aliases {
        op.refused = Some("aliases");
        return refused(
            "BAD_USER_INPUT",
            format!(
                "the query has {} aliases; at most {} are allowed",
                parsed.aliases, limits.max_aliases
            ),
        );
    }
    let introspection_off = app.config.production && matches!(principal.role, Role::Partner | Role::Anonymous);
    if introspection_off && parsed.introspection {
        op.refused = Some("introspection");
        return refused(
            "FORBIDDEN",
            "introspection is off for partner portals and anonymous readers in production mode",
        );
    }
    if over_get && parsed.mutation {
        op.refused = Some("mutation_over_get");
        return refused("BAD_USER_INPUT", "mutations must be sent with POST");
    }
    // async-graphql takes the document parsed here instead of parsing the
    // text a second time (it still checks the document's depth and validates it).
    req.set_parsed_query(parsed.doc.clone());
    // A heavy operation waits for a heavy turn first, among the heavy ones.
    let heavy = app
        .heavy
        .as_ref()
        .filter(|_| limits::weight(&parsed.doc, &req.variables) > limits.heavy_weight);
    let scope = principal.scope();
    let db = if heavy.is_some() { &app.heavy_db } else { &app.db };
    let mut req = req.data(if parsed.mutation {
        Loaders::new(db, &scope)
    } else {
        Loaders::caching(db, &scope)
    });
    if heavy.is_some() {
        // Over the schema's own handle, for what resolvers read directly.
        req = req.data(app.heavy_db.clone());
    }
    let req = req.data(scope).data(principal.clone());
    let schema = app.schemas.of(principal.role);
    let run = async {
        // Waiting for a turn counts in the time limit. The semaphore is
        // fair: turns go in arrival order.
        let asked = std::time::Instant::now();
        let mut waiting = metrics::Waiting::new();
        let _heavy = match heavy {
            Some(h) => Some(h.acquire().await.expect("the semaphore is never closed")),
            None => None,
        };
        let _turn = match &app.turns {
            Some(t) => Some(t.acquire().await.expect("the semaphore is never closed")),
            None => None,
        };
        waiting.admitted();
        let began = std::time::Instant::now();
        let resp = graphql::execute(schema, req).await;
        // Where a slow answer's time went: waiting for a turn (the server
        // is busy) or running (the operation is costly).
        tracing::debug!(
            queued_ms = (began - asked).as_secs_f64() * 1e3,
            ran_ms = began.elapsed().as_secs_f64() * 1e3,
            "operation executed"
        );
        resp
    };
    // A request waiting on the database when it is seen unreachable is
    // answered at once rather than at its timeout; one that can answer
    // without it (introspection, a cached read) still does (`biased`: it
    // is polled first).
    let commits = Arc::new(std::sync::atomic::AtomicU8::new(storage::write::COMMIT_NONE));
    let run = storage::write::tracking_commits(commits.clone(), tokio::time::timeout(limits.timeout, run));
    let outcome = tokio::select! {
        biased;
        r = run => Some(r),
        () = app.health.down() => None,
    };
    let Some(outcome) = outcome else {
        op.refused = Some("unavailable");
        let error = match commits.load(std::sync::atomic::Ordering::Acquire) {
            storage::write::COMMIT_NONE => graphql::error::unavailable(),
            _ => graphql::error::commit_unknown(),
        };
        return GqlResponse::from_errors(vec![error.into_server_error(Default::default())]);
    };
    match outcome {
        Ok(mut resp) => {
            op.refused = coded(&mut resp, principal.role, limits);
            if unavailable(&resp) {
                // Ping now rather than at the next round.
                app.health.suspect();
            }
            resp
        }
        Err(_) => {
            tracing::warn!(principal = %principal.name, "a GraphQL request timed out");
            op.refused = Some("timeout");
            refused(
                "TIMEOUT",
                format!(
                    "the request took longer than the {} s allowed; ask for less (smaller pages, fewer nested lists)",
                    limits.timeout.as_secs()
                ),
            )
        }
    }
}

/// Says which limit a refused operation went over (async-graphql's own
/// messages do not); `graphql::execute` has given every error its
/// `extensions.code` already.
fn coded(resp: &mut GqlResponse, role: Role, limits: &Limits) -> Option<&'static str> {
    let mut refused = None;
    for e in &mut resp.errors {
        if e.message == "Query is too complex." {
            refused = Some("cost");
            e.message = format!(
                "the query costs more than the {} allowed for the {} role (a list field costs its page size times what it selects): ask for smaller pages or fewer nested lists",
                limits.max_cost(role),
                role.as_str()
            );
        } else if e.message == "Query is nested too deep." {
            refused = Some("depth");
            e.message = format!(
                "the query is nested deeper than the {} levels allowed",
                limits.max_depth
            );
        }
    }
    refused
}

async fn graphiql_root(State(app): State<AppState>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    graphiql_page(&app, &parts).await
}

/// GraphiQL (served by maillage itself, `graphiql/`), except in
/// production for anonymous readers and portals (who have no introspection
/// there either); its files are served to everyone.
async fn graphiql_page(app: &AppState, parts: &Parts) -> Response {
    if app.config.production {
        let role = auth::principal(&app.db, &app.config.access, &parts.headers)
            .await
            .map(|p| p.role)
            .unwrap_or(Role::Anonymous);
        if matches!(role, Role::Partner | Role::Anonymous) {
            return (
                StatusCode::NOT_FOUND,
                "GraphiQL is off in production mode for anonymous readers and partner portals.\n",
            )
                .into_response();
        }
    }
    graphiql::page()
}

/// `GET /metrics` on the API's own address: for an admin credential only
/// (`--metrics-listen` serves it to a scraper on an address of its own).
async fn metrics_for_admins(State(app): State<AppState>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    match admit(&app, &parts).await {
        Ok(p) if p.role == Role::Admin => {
            metrics::render(&metrics::Scrape {
                db: app.db.clone(),
                graph: Some(app.graph.clone()),
            })
            .await
        }
        Ok(_) => refusal(StatusCode::FORBIDDEN, "FORBIDDEN", "/metrics is for admin keys"),
        Err(r) => r,
    }
}
