//! OpenTelemetry traces over OTLP, and the request id.
//!
//! Off unless an endpoint is given (`--otlp-endpoint`, or the standard
//! `OTEL_EXPORTER_OTLP_ENDPOINT`): then `tracing`'s spans are exported too
//! (`tracing-opentelemetry`), a request continues the client's W3C
//! `traceparent`, and a request's span holds child spans for parsing,
//! validation and execution of each operation, each loader batch, each
//! graph computation and each SQL statement (its operation and table, never
//! its text or parameters). When off, none of this costs anything: no
//! schema extension is installed (with one, async-graphql sends every field
//! through the extension chain) and statements make no span.
//!
//! The request id (`x-request-id`, the client's when it sends one, else a
//! new UUID) is returned as a header, stands on every log line of the
//! request (its span's field) and in every error's `extensions.requestId`.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextValidation};
use async_graphql::{Response as GqlResponse, ServerError, ValidationResult};
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::trace::{SpanKind, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry::{KeyValue, global};
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The header of the request id.
pub const REQUEST_ID: &str = "x-request-id";

static ENABLED: AtomicBool = AtomicBool::new(false);
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Whether spans are exported.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The OTLP/HTTP exporter for `endpoint` (e.g. `http://collector:4318`;
/// `/v1/traces` is added), as a `tracing` layer to install with the
/// subscriber. The exporter sends from a thread of its own, in batches.
pub fn layer<S>(endpoint: &str) -> anyhow::Result<impl tracing_subscriber::Layer<S>>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
    let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    // The blocking HTTP client must be built outside the async runtime
    // (it owns a runtime of its own, which may not be dropped inside one).
    let exporter = std::thread::spawn(move || {
        opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(url)
            .with_timeout(Duration::from_secs(5))
            .with_headers(Default::default())
            .build()
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the OTLP exporter could not be built"))??;
    let processor = BatchSpanProcessor::builder(exporter)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_scheduled_delay(Duration::from_millis(500))
                .build(),
        )
        .build();
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name("maillage")
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("maillage");
    global::set_tracer_provider(provider.clone());
    global::set_text_map_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new());
    let _ = PROVIDER.set(provider);
    ENABLED.store(true, Ordering::Relaxed);
    Ok(tracing_opentelemetry::layer().with_tracer(tracer))
}

/// Sends the spans still buffered (at the end of `serve`).
pub fn shutdown() {
    if let Some(p) = PROVIDER.get()
        && let Err(e) = p.shutdown()
    {
        tracing::warn!("OTLP exporter: {e}");
    }
}

tokio::task_local! {
    static ID: HeaderValue;
}

/// The id of the request this task serves.
pub fn request_id() -> Option<String> {
    ID.try_with(|v| v.to_str().ok().map(str::to_owned)).ok().flatten()
}

/// Middleware: the request id for the handler (and every error it writes),
/// and back as a header (set by `SetRequestIdLayer` before this runs).
pub async fn with_request_id(req: Request, next: Next) -> Response {
    let id = req.headers().get(REQUEST_ID).cloned();
    match id {
        Some(id) => {
            let mut resp = ID.scope(id.clone(), next.run(req)).await;
            resp.headers_mut().insert(REQUEST_ID, id);
            resp
        }
        None => next.run(req).await,
    }
}

/// The span of one HTTP request: the request id on every log line under
/// it, and, with traces on, the client's trace continued.
pub fn request_span(req: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let span = tracing::info_span!(
        "request",
        otel.name = %format_args!("{} {}", req.method(), req.uri().path()),
        otel.kind = "server",
        http.request.method = %req.method(),
        url.path = %req.uri().path(),
        request_id = %id,
        graphql.operation = tracing::field::Empty,
    );
    if enabled() {
        let parent =
            global::get_text_map_propagator(|p| p.extract(&opentelemetry_http::HeaderExtractor(req.headers())));
        let _ = span.set_parent(parent);
    }
    span
}

/// Every error of `resp` carries the request id.
pub fn mark(resp: &mut GqlResponse) {
    if resp.errors.is_empty() {
        return;
    }
    if let Some(id) = request_id() {
        for e in &mut resp.errors {
            e.extensions
                .get_or_insert_with(Default::default)
                .set("requestId", id.as_str());
        }
    }
}

/// A span for one SQL statement that just ran, child of the current span:
/// made with its real start and end, from sea-orm's measurement.
pub fn statement(info: &sea_orm::metric::Info<'_>) {
    if !enabled() {
        return;
    }
    let end = SystemTime::now();
    let start = end.checked_sub(info.elapsed).unwrap_or(end);
    let (operation, table) = summary(&info.statement.sql);
    let parent = tracing::Span::current().context();
    let tracer = global::tracer("maillage");
    let mut attributes = vec![
        KeyValue::new("db.system.name", backend(info.statement.db_backend)),
        KeyValue::new("db.operation.name", operation),
    ];
    if let Some(t) = table {
        attributes.push(KeyValue::new("db.collection.name", t.to_owned()));
    }
    if info.failed {
        attributes.push(KeyValue::new("error.type", "db"));
    }
    let name = match table {
        Some(t) => format!("{operation} {t}"),
        None => operation.to_owned(),
    };
    let span = tracer
        .span_builder(name)
        .with_kind(SpanKind::Client)
        .with_start_time(start)
        .with_attributes(attributes)
        .start_with_context(&tracer, &parent);
    let cx = parent.with_span(span);
    cx.span().end_with_timestamp(end);
}

fn backend(b: sea_orm::DbBackend) -> &'static str {
    match b {
        sea_orm::DbBackend::Postgres => "postgresql",
        sea_orm::DbBackend::Sqlite => "sqlite",
        _ => "other",
    }
}

/// A statement's first keyword and the first table it names (after FROM,
/// INTO or UPDATE): what a trace shows of it.
fn summary(sql: &str) -> (&'static str, Option<&str>) {
    let head = sql.trim_start();
    let operation = [
        "SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "BEGIN", "COMMIT", "ROLLBACK",
    ]
    .into_iter()
    .find(|k| head.len() >= k.len() && head[..k.len()].eq_ignore_ascii_case(k))
    .unwrap_or("SQL");
    let table = ["FROM \"", "INTO \"", "UPDATE \""].iter().find_map(|k| {
        let at = sql.find(k)? + k.len();
        let rest = &sql[at..];
        rest.find('"').map(|end| &rest[..end])
    });
    (operation, table)
}

/// Runs `fut` in a span named `name` under the current one (a loader batch,
/// a graph computation), when traces are on.
pub async fn child<F: Future>(name: &'static str, fut: F) -> F::Output {
    if enabled() {
        fut.instrument(tracing::info_span!("child", otel.name = name)).await
    } else {
        fut.await
    }
}

/// The schema extension that makes validation and execution spans; only
/// installed when traces are on.
pub struct Phases;

impl ExtensionFactory for Phases {
    fn create(&self) -> std::sync::Arc<dyn Extension> {
        std::sync::Arc::new(PhasesExtension)
    }
}

struct PhasesExtension;

#[async_trait::async_trait]
impl Extension for PhasesExtension {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).instrument(tracing::info_span!("graphql.validate")).await
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> GqlResponse {
        let span = tracing::info_span!("graphql.execute", graphql.operation = operation_name.unwrap_or(""));
        next.run(ctx, operation_name).instrument(span).await
    }
}

#[cfg(test)]
mod tests {
    use super::summary;

    #[test]
    fn a_statement_is_summed_up_without_its_values() {
        assert_eq!(
            summary("SELECT \"partners\".\"id\" FROM \"partners\" WHERE \"partners\".\"ref\" = $1"),
            ("SELECT", Some("partners"))
        );
        assert_eq!(
            summary("INSERT INTO \"audit_log\" (\"a\") VALUES ($1)"),
            ("INSERT", Some("audit_log"))
        );
        assert_eq!(summary("UPDATE \"networks\" SET x = 1"), ("UPDATE", Some("networks")));
        assert_eq!(summary("COMMIT"), ("COMMIT", None));
    }
}
