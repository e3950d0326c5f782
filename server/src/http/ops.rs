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
use crate::events::{self, ConsumerStatus, ListenerStatus};
use crate::http::AppJson;
use crate::http::extractors::Auth;
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
    /// `ready`, or `degraded` while an event consumer fails or the listener for other nodes'
    /// events is down (the node serves, but what those feed may be stale).
    pub status: &'static str,
    pub database: bool,
    /// The sequence of the last event in the outbox, and of the last one every consumer on
    /// this node has applied.
    pub outbox_head: i64,
    pub outbox_delivered: i64,
    /// Each consumer of the outbox on this node.
    pub consumers: Vec<ConsumerStatus>,
    /// The listener for other nodes' events (PostgreSQL only).
    pub listener: Option<ListenerStatus>,
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
    let progress = state.tailer.progress();
    let delivered = progress.delivered();
    if delivered < state.startup_head {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "catching_up",
            "still catching up with the event log",
        ));
    }
    let listener = state
        .listener
        .as_ref()
        .map(|listener| listener.borrow().clone());
    let failing = progress
        .consumers
        .iter()
        .any(|consumer| consumer.failures > 0);
    let deaf = listener
        .as_ref()
        .is_some_and(|listener| !listener.connected);
    Ok(AppJson(Readiness {
        status: if failing || deaf { "degraded" } else { "ready" },
        database: true,
        outbox_head: head.seq,
        outbox_delivered: delivered.seq,
        consumers: progress.consumers,
        listener,
    }))
}

/// Prometheus metrics: requests by route and status with latency histograms, database pool,
/// the outbox and its consumers. On the main port for admins and `metrics` tokens; without a
/// token on `metrics_bind` when that is set.
#[utoipa::path(
    get, path = "/metrics", tag = "operations",
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)
    )
)]
async fn metrics_text(
    State(state): State<AppState>,
    Auth(principal): Auth,
) -> Result<impl IntoResponse, ApiError> {
    principal.require_metrics()?;
    Ok(metrics_body(state).await)
}

/// `/metrics` on the separate `metrics_bind` address, which only the operator's network reaches.
pub async fn open_metrics(State(state): State<AppState>) -> impl IntoResponse {
    metrics_body(state).await
}

async fn metrics_body(state: AppState) -> impl IntoResponse {
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
        metrics::gauge!("plein_outbox_head_seq").set(head.seq as f64);
        for consumer in state.tailer.progress().consumers {
            // Sequence distance: exact on SQLite, close on PostgreSQL.
            let lag = (head.seq - consumer.seq).max(0);
            metrics::gauge!("plein_outbox_consumer_lag_events", "consumer" => consumer.name)
                .set(lag as f64);
        }
    }
}
