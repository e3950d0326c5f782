//! Directory routes: colleague search, profiles, and editing your own.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::dto::{
    BrowseQuery, OrgChart, PersonCard, PhotoQuery, ProfileDto, ProfilePatch, SearchQuery,
    SearchResponse,
};
use super::{photos, service};
use crate::error::{ApiResult, ErrorBody};
use crate::http::pagination::Page;
use crate::http::{AppJson, AppPath, AppQuery, Auth, CurrentPerson, Upload};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(browse))
        .routes(routes!(org_chart))
        .routes(routes!(get_profile))
        .routes(routes!(update_my_profile))
        .routes(routes!(get_photo))
        .merge(
            // Photos are larger than JSON bodies; the handler reads with its own limit.
            OpenApiRouter::new()
                .routes(routes!(upload_my_photo, remove_my_photo))
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
}

/// Upload your photo: JPEG, PNG or WebP up to 5 MiB, sent as the raw body with its
/// `Content-Type`. It is cropped square and stored as 256 and 64 px JPEGs without metadata.
#[utoipa::path(
    put, path = "/api/v1/me/photo", tag = "directory",
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses(
        (status = 200, body = ProfileDto),
        (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "Not a readable picture or too many pixels (`invalid_image`, `unsupported_image`, `image_too_large`)", body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn upload_my_photo(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    headers: HeaderMap,
    body: axum::body::Body,
) -> ApiResult<AppJson<ProfileDto>> {
    let upload = Upload::read(&headers, body, photos::MAX_UPLOAD_BYTES).await?;
    Ok(AppJson(
        service::set_photo(
            &state.db,
            &state.doorbell,
            &state.blobs,
            &state.photo_uploads,
            person.id,
            upload,
        )
        .await?,
    ))
}

/// Remove your photo.
#[utoipa::path(
    delete, path = "/api/v1/me/photo", tag = "directory",
    responses((status = 200, body = ProfileDto), (status = 401, body = ErrorBody)),
    security(("session" = []))
)]
async fn remove_my_photo(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
) -> ApiResult<AppJson<ProfileDto>> {
    Ok(AppJson(
        service::remove_photo(&state.db, &state.doorbell, &state.blobs, person.id).await?,
    ))
}

/// A colleague's photo as a square JPEG. With the `v` from `photo_url` it is cached for good.
#[utoipa::path(
    get, path = "/api/v1/people/{id}/photo", tag = "directory",
    params(("id" = Uuid, Path), PhotoQuery),
    responses(
        (status = 200, description = "The picture", content_type = "image/jpeg", body = Vec<u8>),
        (status = 206, description = "The requested byte range", content_type = "image/jpeg", body = Vec<u8>),
        (status = 304, description = "Not modified"),
        (status = 416, description = "The range is outside the picture", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("session" = []), ("token" = []))
)]
async fn get_photo(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(id): AppPath<Uuid>,
    AppQuery(query): AppQuery<PhotoQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let size = query.size.unwrap_or(photos::SIZES[0]);
    let photo = service::photo(
        &state.db,
        &state.blobs,
        &state.config.data_dir,
        &actor,
        id,
        Some(size),
        query.v.as_deref(),
    )
    .await?;
    let cache_control = if photo.requested_version {
        "private, max-age=31536000, immutable"
    } else {
        "private, no-cache"
    };
    crate::blobs::respond(
        &state.blobs,
        &photo.blob,
        &headers,
        vec![(
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control),
        )],
    )
    .await
}

/// A colleague's profile. Deactivated people are not found, except by admins.
#[utoipa::path(
    get, path = "/api/v1/people/{id}", tag = "directory",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ProfileDto), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("session" = []), ("token" = []))
)]
async fn get_profile(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<AppJson<ProfileDto>> {
    Ok(AppJson(service::profile(&state.db, &actor, id).await?))
}

/// Change what you own on your profile: preferred name, phone, skills, languages and bio.
/// Name, email, title, department, location and manager come from HR.
#[utoipa::path(
    patch, path = "/api/v1/me/profile", tag = "directory",
    request_body = ProfilePatch,
    responses((status = 200, body = ProfileDto), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []))
)]
async fn update_my_profile(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppJson(patch): AppJson<ProfilePatch>,
) -> ApiResult<AppJson<ProfileDto>> {
    Ok(AppJson(
        service::update_own_profile(&state.db, &state.doorbell, person.id, patch).await?,
    ))
}

/// Find colleagues as you type: every word must match (names, title, department, location,
/// skills, email); the last word also as a prefix; typos forgiven (1 from 4 letters, 2 from 8);
/// accents, IJ/Y and surname particles folded. Facet counts cover every match.
#[utoipa::path(
    get, path = "/api/v1/people/search", tag = "directory",
    params(SearchQuery),
    responses((status = 200, body = SearchResponse), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []), ("token" = []))
)]
async fn search(
    State(state): State<AppState>,
    // Any signed-in person or API token may look.
    _caller: Auth,
    AppQuery(query): AppQuery<SearchQuery>,
) -> ApiResult<AppJson<SearchResponse>> {
    Ok(AppJson(service::search(&state.search, query).await?))
}

/// The directory, sorted the Dutch way (surname without its particle), filterable by department
/// and location.
#[utoipa::path(
    get, path = "/api/v1/people", tag = "directory",
    params(BrowseQuery),
    responses((status = 200, body = Page<PersonCard>), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []), ("token" = []))
)]
async fn browse(
    State(state): State<AppState>,
    // Any signed-in person or API token may look.
    _caller: Auth,
    AppQuery(query): AppQuery<BrowseQuery>,
) -> ApiResult<AppJson<Page<PersonCard>>> {
    Ok(AppJson(service::browse(&state.db, query).await?))
}

/// Where someone sits in the organisation: managers up to the top, direct reports and peers.
#[utoipa::path(
    get, path = "/api/v1/people/{id}/org", tag = "directory",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = OrgChart), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("session" = []), ("token" = []))
)]
async fn org_chart(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<AppJson<OrgChart>> {
    Ok(AppJson(service::org_chart(&state.db, &actor, id).await?))
}
