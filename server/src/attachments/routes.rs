//! Uploading a file to attach, and downloading attached files.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AttachmentDto;
use crate::error::{ApiResult, ErrorBody};
use crate::http::{AppJson, AppPath, AppQuery, CurrentPerson, Upload};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(download))
        .routes(routes!(thumbnail))
        .merge(
            // Files are larger than JSON bodies; the handler reads with `attachment_limit_bytes`.
            OpenApiRouter::new()
                .routes(routes!(upload))
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name, shown and offered when downloading.
    pub name: Option<String>,
}

/// Upload a file to attach (the raw body; its type is read from the content, whatever
/// `Content-Type` says). Up to `attachment_limit_bytes` (default 25 MiB). Name its id in the
/// `attachments` of a post, comment or announcement within a day, or it is removed.
#[utoipa::path(
    post, path = "/api/v1/attachments", tag = "posts",
    params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 201, body = AttachmentDto),
        (status = 413, body = ErrorBody),
        (status = 422, description = "Empty, or a picture that cannot be decoded or is too large (`invalid_image`, `image_too_large`)", body = ErrorBody),
        (status = 429, body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn upload(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppQuery(query): AppQuery<UploadQuery>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> ApiResult<(StatusCode, AppJson<AttachmentDto>)> {
    let upload = Upload::read(&headers, body, state.config.attachment_limit_bytes).await?;
    let stored = super::upload(
        &state.db,
        &state.blobs,
        &state.attachment_uploads,
        &person,
        query.name.as_deref().unwrap_or_default(),
        upload.bytes,
    )
    .await?;
    Ok((StatusCode::CREATED, AppJson(stored)))
}

/// Download an attached file: pictures inline, anything else as an attachment. Whoever may read
/// the post, comment or announcement carrying it may download it; anyone else gets 404.
#[utoipa::path(
    get, path = "/api/v1/attachments/{id}", tag = "posts",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 206, description = "A byte range of it"),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        (status = 404, body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn download(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    super::download(&state.db, &state.blobs, &person, id, false, &headers).await
}

/// A picture's thumbnail (JPEG, at most 800 px on its longer edge).
#[utoipa::path(
    get, path = "/api/v1/attachments/{id}/thumbnail", tag = "posts",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The thumbnail", content_type = "image/jpeg"),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        (status = 404, body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn thumbnail(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    super::download(&state.db, &state.blobs, &person, id, true, &headers).await
}
