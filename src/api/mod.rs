//! Interfaces over HTTP: the GraphQL endpoint, GraphiQL, the health check.

pub mod auth;
pub mod graphql;

use std::net::SocketAddr;
use std::time::Duration;

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use sea_orm::DatabaseConnection;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::storage::{self, Scope};
use graphql::{ApiConfig, AppSchema, Loaders};

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub schema: AppSchema,
}

/// The HTTP application.
pub fn router(db: DatabaseConnection, config: ApiConfig) -> Router {
    let schema = graphql::schema(Some(db.clone()), config);
    Router::new()
        .route("/", get(graphiql))
        .route("/graphql", get(graphiql).post(graphql_handler))
        .route("/healthz", get(healthz))
        .layer(RequestBodyLimitLayer::new(1 << 20))
        .layer(TraceLayer::new_for_http())
        .with_state(AppState { db, schema })
}

async fn graphql_handler(State(app): State<AppState>, req: GraphQLRequest) -> GraphQLResponse {
    // Every request gets its own loaders (their cache must not outlive it)
    // and the scope of its viewer.
    let scope = Scope::All;
    let req = req.into_inner().data(Loaders::new(&app.db, &scope)).data(scope);
    app.schema.execute(req).await.into()
}

async fn graphiql() -> impl IntoResponse {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .title("maillage — GraphiQL")
            .finish(),
    )
}

/// `200 {"status":"ok"}` when the database answers, `503` otherwise.
async fn healthz(State(app): State<AppState>) -> impl IntoResponse {
    match tokio::time::timeout(Duration::from_secs(5), storage::ping(&app.db)).await {
        Ok(Ok(())) => (StatusCode::OK, Json(serde_json::json!({"status": "ok"}))),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "health check: database error");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"status": "unavailable", "database": "error"})),
            )
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"status": "unavailable", "database": "timeout"})),
        ),
    }
}

/// Serves until Ctrl-C (or SIGTERM), then lets requests in flight finish.
pub async fn serve(listener: tokio::net::TcpListener, app: Router) -> std::io::Result<()> {
    let addr: SocketAddr = listener.local_addr()?;
    // Handlers are installed before the address is announced: a supervisor
    // (or a test) that signals as soon as it reads the line must get a
    // graceful stop, not the default kill.
    let shutdown = shutdown_signal()?;
    tracing::info!("maillage listening on http://{addr}/ (GraphQL at /graphql, GraphiQL at /)");
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
            tracing::info!("shutting down: finishing requests in flight");
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down: finishing requests in flight");
        })
    }
}
