//! Directory routes: colleague search, profiles, and editing your own.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::dto::{
    BrowseQuery, OrgChart, PersonCard, ProfileDto, ProfilePatch, SearchQuery, SearchResponse,
};
use super::service;
use crate::error::{ApiResult, ErrorBody};
use crate::http::pagination::Page;
use crate::http::{AppJson, AppPath, AppQuery, Auth, CurrentPerson};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(browse))
        .routes(routes!(org_chart))
        .routes(routes!(get_profile))
        .routes(routes!(update_my_profile))
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
    Ok(AppJson(
        service::search(&state.db, &state.search, query).await?,
    ))
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
