//! Operations endpoints: liveness, readiness and Prometheus metrics.

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::db;
use crate::error::{ApiError, ErrorBody};
use crate::events;
use crate::http::AppJson;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics_text))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    pub status: &'static str,
    pub database: bool,
    /// Highest event in the outbox and the highest this node has delivered to its consumers.
    pub outbox_head: i64,
    pub outbox_delivered: i64,
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
async fn healthz() -> AppJson<Health> {
    AppJson(Health { status: "ok" })
}

/// The node can serve: the database answers and start-up catch-up of the outbox is done.
#[utoipa::path(
    get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Readiness), (status = 503, body = ErrorBody))
)]
async fn readyz(State(state): State<AppState>) -> Result<AppJson<Readiness>, ApiError> {
    if let Err(error) = db::ping(&state.db).await {
        tracing::warn!(%error, "readiness: database unreachable");
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "the database does not answer",
        ));
    }
    let head = events::head(&state.db).await.map_err(ApiError::from)?;
    let delivered = state.tailer.delivered();
    if delivered < state.startup_head {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "catching_up",
            "still catching up with the event log",
        ));
    }
    Ok(AppJson(Readiness {
        status: "ready",
        database: true,
        outbox_head: head,
        outbox_delivered: delivered,
    }))
}

/// Prometheus metrics: requests by route and status with latency histograms, database pool,
/// outbox head and lag.
#[utoipa::path(
    get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain"))
)]
async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    record_gauges(&state).await;
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

async fn record_gauges(state: &AppState) {
    let (size, idle) = match state.db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let pool = state.db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => {
            let pool = state.db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
    };
    metrics::gauge!("plein_db_pool_connections").set(f64::from(size));
    metrics::gauge!("plein_db_pool_idle_connections").set(idle as f64);
    if let Ok(head) = events::head(&state.db).await {
        let delivered = state.tailer.delivered();
        metrics::gauge!("plein_outbox_head_seq").set(head as f64);
        metrics::gauge!("plein_outbox_lag_events").set((head - delivered).max(0) as f64);
    }
}
