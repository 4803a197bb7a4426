//! What a load balancer and a supervisor talk to: the health endpoints and
//! the graceful stop. (The answer to a request while the database is
//! unreachable, `503 UNAVAILABLE`, is [`super::refusal::unavailable`].)
//!
//! - `/livez`: the process answers (restart it when this fails).
//! - `/readyz`: it can serve: the database answers, its schema is this
//!   binary's, the graph projection is loaded and follows the change log
//!   (send it traffic only when this is `200`).
//! - `/healthz`: the database answers (kept for existing checks).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::json;

use super::AppState;
use super::refusal::retry_after;
use crate::storage;

/// How long the graph projection may go without matching the change log
/// before the instance stops counting as ready (the follower reads it every
/// half second).
const GRAPH_LAG_READY: Duration = Duration::from_secs(5);

/// How long a health check may wait for the database.
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/livez", axum::routing::get(livez))
        .route("/readyz", axum::routing::get(readyz))
        .route("/healthz", axum::routing::get(healthz))
}

/// `200` as long as the process serves HTTP at all.
async fn livez() -> impl IntoResponse {
    Json(json!({"status": "live"}))
}

/// `200 {"status":"ready"}`, or `503` with the first reason it is not.
async fn readyz(State(app): State<AppState>) -> Response {
    match not_ready(&app).await {
        None => Json(json!({"status": "ready"})).into_response(),
        Some((check, reason)) => {
            let mut r = (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "check": check, "reason": reason})),
            )
                .into_response();
            retry_after(&mut r);
            r
        }
    }
}

/// The first check that fails (`database`, `schema`, `graph`), and why.
async fn not_ready(app: &AppState) -> Option<(&'static str, String)> {
    if !app.health.is_up() {
        let why = app.health.reason().unwrap_or_else(|| "unreachable".into());
        return Some(("database", why));
    }
    match tokio::time::timeout(CHECK_TIMEOUT, storage::schema_status(&app.db)).await {
        Err(_) => return Some(("database", format!("no answer within {} ms", CHECK_TIMEOUT.as_millis()))),
        Ok(Err(e)) => return Some(("database", e.to_string())),
        Ok(Ok(s)) if !s.unknown.is_empty() => {
            return Some((
                "schema",
                format!(
                    "the database has migrations this binary does not know ({}): a newer maillage migrated it",
                    s.unknown.join(", ")
                ),
            ));
        }
        Ok(Ok(s)) if !s.pending.is_empty() => {
            return Some((
                "schema",
                format!("migrations not applied yet: {}", s.pending.join(", ")),
            ));
        }
        Ok(Ok(_)) => {}
    }
    // Loaded at start by `serve`; a router made without one loads it here.
    match tokio::time::timeout(Duration::from_secs(10), app.graph.ready()).await {
        Err(_) => return Some(("graph", "the graph projection is still loading".into())),
        Ok(Err(e)) => return Some(("graph", format!("the graph projection cannot load: {e}"))),
        Ok(Ok(())) => {}
    }
    match app.graph.synced_ago() {
        None => Some(("graph", "the graph projection is not loaded".into())),
        Some(ago) if ago > GRAPH_LAG_READY => Some((
            "graph",
            format!(
                "the graph projection has not matched the change log for {} s",
                ago.as_secs()
            ),
        )),
        Some(_) => None,
    }
}

/// `200 {"status":"ok"}` when the database answers, `503` otherwise.
async fn healthz(State(app): State<AppState>) -> impl IntoResponse {
    match tokio::time::timeout(CHECK_TIMEOUT, storage::ping(&app.db)).await {
        Ok(Ok(())) => (StatusCode::OK, Json(json!({"status": "ok"}))),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "health check: database error");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "database": "error"})),
            )
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "database": "timeout"})),
        ),
    }
}

/// Serves until Ctrl-C (or SIGTERM); then stops accepting, lets the
/// requests in flight finish for up to `grace`, and returns (abandoning
/// those still running past it, so that a stuck client cannot hold a
/// deployment).
pub async fn serve(listener: tokio::net::TcpListener, app: Router, grace: Duration) -> std::io::Result<()> {
    let addr: std::net::SocketAddr = listener.local_addr()?;
    // Handlers are installed before the address is announced: a supervisor
    // (or a test) that signals as soon as it reads the line must get a
    // graceful stop, not the default kill.
    let signal = shutdown_signal()?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tracing::info!("maillage listening on http://{addr}/ (GraphQL at /graphql, GraphiQL at /)");
    let mut stopping = stop_rx.clone();
    // The peer address feeds the per-IP rate limit of anonymous requests.
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = stopping.wait_for(|s| *s).await;
    });
    let mut server = std::pin::pin!(server.into_future());
    tokio::select! {
        served = &mut server => return served,
        () = signal => {}
    }
    tracing::info!(
        "shutting down: no new connections; finishing requests in flight (at most {} s)",
        grace.as_secs_f64()
    );
    stop_tx.send_replace(true);
    drop(stop_rx);
    match tokio::time::timeout(grace, server).await {
        Ok(served) => {
            tracing::info!("stopped: every request in flight was answered");
            served
        }
        Err(_) => {
            tracing::warn!(
                "stopped: requests still running after the {} s grace period were abandoned",
                grace.as_secs_f64()
            );
            Ok(())
        }
    }
}

fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
