//! Middleware: one error format for every failure, internal errors logged once, request metrics.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, InternalErrorReport};

/// Logs internal errors (inside the request span, so with its request id) and turns any bare
/// error answer from a layer or the router (404, 405, 408, 413, panics) into our JSON body.
/// SCIM answers in its own format (RFC 7644), so its bare errors get that body instead.
pub async fn api_errors(request: Request, next: Next) -> Response {
    let is_scim = request.uri().path().starts_with("/scim/");
    let response = next.run(request).await;
    if let Some(InternalErrorReport(error)) = response.extensions().get::<InternalErrorReport>() {
        tracing::error!(error = format!("{error:#}"), "internal error");
    }
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    if is_scim {
        let is_scim_json = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with(crate::scim::error::SCIM_JSON));
        if is_scim_json {
            return response;
        }
        return crate::scim::error::ScimError::from_status(status).into_response();
    }
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if is_json {
        return response;
    }
    if status.is_server_error() {
        tracing::error!(%status, "request failed without an error body");
    }
    let retry_after = response
        .headers()
        .get(axum::http::header::RETRY_AFTER)
        .cloned();
    let allow = response.headers().get(axum::http::header::ALLOW).cloned();
    let mut rewritten = ApiError::from_status(status).into_response();
    if let Some(value) = retry_after {
        rewritten
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, value);
    }
    if let Some(value) = allow {
        rewritten
            .headers_mut()
            .insert(axum::http::header::ALLOW, value);
    }
    rewritten
}

/// Counts requests by route template and status, with a latency histogram.
pub async fn track_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().to_string();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("plein_http_requests_total", &labels).increment(1);
    metrics::histogram!("plein_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}
