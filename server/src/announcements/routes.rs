//! `/api/v1/announcements`.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::dto::{
    AnnouncementCommentDto, AnnouncementCommentRequest, AnnouncementDto, AnnouncementListQuery,
    AnnouncementStats, Audience, AudienceCount, CreateAnnouncementRequest, PublishRequest,
    TeamStats, UpdateAnnouncementRequest,
};
use super::service;
use crate::error::{ApiResult, ErrorBody};
use crate::http::pagination::Page;
use crate::http::{AppJson, AppPath, AppQuery, CurrentPerson};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_announcements, create_announcement))
        .routes(routes!(audience_count))
        .routes(routes!(get_announcement, update_announcement))
        .routes(routes!(publish))
        .routes(routes!(acknowledge))
        .routes(routes!(remind))
        .routes(routes!(stats))
        .routes(routes!(stats_csv))
        .routes(routes!(team))
        .routes(routes!(
            list_announcement_comments,
            create_announcement_comment
        ))
        .routes(routes!(delete_announcement_comment))
}

/// Comments on an announcement, oldest first (whoever it reached, and HR).
#[utoipa::path(
    get, path = "/api/v1/announcements/{id}/comments", tag = "announcements",
    params(("id" = Uuid, Path), AnnouncementListQuery),
    responses((status = 200, body = Page<AnnouncementCommentDto>), (status = 404, body = ErrorBody)),
    security(("session" = []))
)]
async fn list_announcement_comments(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
    AppQuery(query): AppQuery<AnnouncementListQuery>,
) -> ApiResult<AppJson<Page<AnnouncementCommentDto>>> {
    Ok(AppJson(
        service::comments(&state.db, &person, id, query).await?,
    ))
}

/// Comment on a published announcement that takes comments.
#[utoipa::path(
    post, path = "/api/v1/announcements/{id}/comments", tag = "announcements",
    params(("id" = Uuid, Path)),
    request_body = AnnouncementCommentRequest,
    responses(
        (status = 201, body = AnnouncementCommentDto),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Comments are off (`comments_disabled`) or it is not published (`not_published`)", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn create_announcement_comment(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<AnnouncementCommentRequest>,
) -> ApiResult<(StatusCode, AppJson<AnnouncementCommentDto>)> {
    let comment = service::comment(&state.db, &state.doorbell, &person, id, request).await?;
    Ok((StatusCode::CREATED, AppJson(comment)))
}

/// Delete a comment (its author, or HR).
#[utoipa::path(
    delete, path = "/api/v1/announcements/{id}/comments/{comment_id}", tag = "announcements",
    params(("id" = Uuid, Path), ("comment_id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("session" = []))
)]
async fn delete_announcement_comment(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath((id, comment_id)): AppPath<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    service::delete_comment(&state.db, &person, id, comment_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// HR: every announcement, drafts too. Everyone else: the ones addressed to them (their
/// archive, expired ones included), newest first.
#[utoipa::path(
    get, path = "/api/v1/announcements", tag = "announcements",
    params(AnnouncementListQuery),
    responses((status = 200, body = Page<AnnouncementDto>), (status = 403, description = "Not a person (API tokens)", body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []))
)]
async fn list_announcements(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppQuery(query): AppQuery<AnnouncementListQuery>,
) -> ApiResult<AppJson<Page<AnnouncementDto>>> {
    Ok(AppJson(service::list(&state.db, &person, query).await?))
}

/// Writes an announcement (HR and admins): a draft, or scheduled when `publish_at` is given.
#[utoipa::path(
    post, path = "/api/v1/announcements", tag = "announcements",
    request_body = CreateAnnouncementRequest,
    responses((status = 201, body = AnnouncementDto), (status = 403, body = ErrorBody)),
    security(("session" = []))
)]
async fn create_announcement(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppJson(request): AppJson<CreateAnnouncementRequest>,
) -> ApiResult<(StatusCode, AppJson<AnnouncementDto>)> {
    let created = service::create(&state.db, &person, request).await?;
    Ok((StatusCode::CREATED, AppJson(created)))
}

/// How many active people an audience reaches now (HR): `?department=A&department=B&location=C`.
#[utoipa::path(
    get, path = "/api/v1/announcements/audience", tag = "announcements",
    params(
        ("department" = Option<Vec<String>>, Query, description = "Repeat for several"),
        ("location" = Option<Vec<String>>, Query, description = "Repeat for several"),
    ),
    responses((status = 200, body = AudienceCount), (status = 403, body = ErrorBody)),
    security(("session" = []))
)]
async fn audience_count(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    RawQuery(query): RawQuery,
) -> ApiResult<AppJson<AudienceCount>> {
    let mut audience = Audience::default();
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "department" => audience.departments.push(value.into_owned()),
            "location" => audience.locations.push(value.into_owned()),
            _ => {}
        }
    }
    let count = service::audience_count(&state.db, &person, audience).await?;
    Ok(AppJson(AudienceCount { count }))
}

/// One announcement (HR, or someone it reached: opening it is recorded).
#[utoipa::path(
    get, path = "/api/v1/announcements/{id}", tag = "announcements",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = AnnouncementDto), (status = 403, description = "Not a person (API tokens)", body = ErrorBody)),
    security(("session" = []))
)]
async fn get_announcement(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<AppJson<AnnouncementDto>> {
    Ok(AppJson(service::get(&state.db, &person, id).await?))
}

/// Changes an announcement (HR): a correction keeps acknowledgements, `material: true` starts
/// them over; a published audience may only grow.
#[utoipa::path(
    patch, path = "/api/v1/announcements/{id}", tag = "announcements",
    params(("id" = Uuid, Path)),
    request_body = UpdateAnnouncementRequest,
    responses((status = 200, body = AnnouncementDto), (status = 403, body = ErrorBody)),
    security(("session" = []))
)]
async fn update_announcement(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<UpdateAnnouncementRequest>,
) -> ApiResult<AppJson<AnnouncementDto>> {
    Ok(AppJson(
        service::update(&state.db, &state.doorbell, &state.hub, &person, id, request).await?,
    ))
}

/// Publishes now (the audience is fixed), or schedules for a later `publish_at`.
#[utoipa::path(
    post, path = "/api/v1/announcements/{id}/publish", tag = "announcements",
    params(("id" = Uuid, Path)),
    request_body = PublishRequest,
    responses((status = 200, body = AnnouncementDto), (status = 403, body = ErrorBody)),
    security(("session" = []))
)]
async fn publish(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<PublishRequest>,
) -> ApiResult<AppJson<AnnouncementDto>> {
    Ok(AppJson(
        service::publish(
            &state.db,
            &state.doorbell,
            Some(&state.hub),
            &person,
            id,
            request.publish_at,
        )
        .await?,
    ))
}

/// "Read and understood": twice is once.
#[utoipa::path(
    post, path = "/api/v1/announcements/{id}/acknowledge", tag = "announcements",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = AnnouncementDto),
        (status = 403, description = "Not a person (API tokens)", body = ErrorBody),
        (status = 409, description = "It does not ask for acknowledgement (`no_acknowledgement`)", body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn acknowledge(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<AppJson<AnnouncementDto>> {
    Ok(AppJson(
        service::acknowledge(&state.db, &state.doorbell, &person, id).await?,
    ))
}

/// Reminds everyone who has not acknowledged yet (HR).
#[utoipa::path(
    post, path = "/api/v1/announcements/{id}/remind", tag = "announcements",
    params(("id" = Uuid, Path)),
    responses(
        (status = 202, description = "The reminders are being made"),
        (status = 403, body = ErrorBody),
        (status = 409, description = "Not published, or it asks for no acknowledgement (`no_acknowledgement`)", body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn remind(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<StatusCode> {
    service::remind(&state.db, &state.doorbell, &person, id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Reached, opened and acknowledged, per department and location, and who has not acknowledged
/// (HR).
#[utoipa::path(
    get, path = "/api/v1/announcements/{id}/stats", tag = "announcements",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = AnnouncementStats), (status = 403, body = ErrorBody)),
    security(("session" = []))
)]
async fn stats(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<AppJson<AnnouncementStats>> {
    Ok(AppJson(service::stats(&state.db, &person, id).await?))
}

/// Every recipient as CSV (HR); cells a spreadsheet would run as formulas are neutralised.
#[utoipa::path(
    get, path = "/api/v1/announcements/{id}/stats.csv", tag = "announcements",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "CSV", content_type = "text/csv", body = String), (status = 403, body = ErrorBody)),
    security(("session" = []))
)]
async fn stats_csv(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Response> {
    let csv = service::stats_csv(&state.db, &person, id).await?;
    let mut response = csv.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    response.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"acknowledgements.csv\""),
    );
    Ok(response)
}

/// For managers: which of my reports (direct and below) it reached and who of them has not
/// acknowledged yet.
#[utoipa::path(
    get, path = "/api/v1/announcements/{id}/team", tag = "announcements",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = TeamStats), (status = 403, description = "Not a person (API tokens)", body = ErrorBody)),
    security(("session" = []))
)]
async fn team(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<AppJson<TeamStats>> {
    Ok(AppJson(service::team(&state.db, &person, id).await?))
}
