//! `/api/v1/notifications`, and muting a group.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::dto::{MarkReadRequest, NotificationPage, NotificationQuery, UnreadCount};
use super::service;
use crate::error::{ApiResult, ErrorBody};
use crate::http::{AppJson, AppPath, AppQuery, CurrentPerson};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(mark_read))
        .routes(routes!(mute_group, unmute_group))
}

/// My notifications, newest first, with how many are unread.
#[utoipa::path(
    get, path = "/api/v1/notifications", tag = "notifications",
    params(NotificationQuery),
    responses((status = 200, body = NotificationPage), (status = 403, description = "Not a person (API tokens)", body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []))
)]
async fn list_notifications(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppQuery(query): AppQuery<NotificationQuery>,
) -> ApiResult<AppJson<NotificationPage>> {
    Ok(AppJson(service::list(&state.db, &person, query).await?))
}

/// Marks notifications read: `{"ids": [...]}`, or `{}` for all; answers the unread count.
#[utoipa::path(
    post, path = "/api/v1/notifications/read", tag = "notifications",
    request_body = MarkReadRequest,
    responses((status = 200, body = UnreadCount), (status = 403, description = "Not a person (API tokens)", body = ErrorBody)),
    security(("session" = []))
)]
async fn mark_read(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppJson(request): AppJson<MarkReadRequest>,
) -> ApiResult<AppJson<UnreadCount>> {
    let unread = service::mark_read(&state.db, &state.doorbell, &person, request).await?;
    Ok(AppJson(UnreadCount { unread }))
}

/// Mutes a group: no notifications about its posts.
#[utoipa::path(
    put, path = "/api/v1/groups/{id}/mute", tag = "notifications",
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Muted"), (status = 403, description = "Not a person (API tokens)", body = ErrorBody)),
    security(("session" = []))
)]
async fn mute_group(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<StatusCode> {
    service::mute(&state.db, &person, id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unmutes a group.
#[utoipa::path(
    delete, path = "/api/v1/groups/{id}/mute", tag = "notifications",
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Unmuted"), (status = 403, description = "Not a person (API tokens)", body = ErrorBody)),
    security(("session" = []))
)]
async fn unmute_group(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<StatusCode> {
    service::mute(&state.db, &person, id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}
