//! Setup and admin routes: people's roles and activation, API tokens.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::http::header::USER_AGENT;
use axum_extra::extract::CookieJar;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::dto::{CreatePersonRequest, SetRoleRequest, SetupRequest, SetupStatus};
use super::service::{self, NewAccount};
use crate::auth::dto::{ApiTokenDto, CreateTokenRequest, CreatedToken, LoginResponse};
use crate::auth::routes::session_cookie;
use crate::auth::service::{self as auth_service, ClientInfo};
use crate::directory::dto::{AdminPeoplePage, AdminPeopleQuery, HrPatch, PersonDto};
use crate::directory::import::{self, ImportOptions, ImportSummary};
use crate::directory::service as people_service;
use crate::error::{ApiResult, ErrorBody};
use crate::http::pagination::{Page, PageQuery};
use crate::http::{AdminCaller, AppJson, AppPath, AppQuery, ClientIp, Upload};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(setup_status, complete_setup))
        .routes(routes!(list_people, create_person))
        .routes(routes!(get_person, update_person))
        .routes(routes!(set_role))
        .routes(routes!(deactivate))
        .routes(routes!(reactivate))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .merge(
            // The CSV file can be far larger than a JSON body; the handler sets its own limit.
            OpenApiRouter::new()
                .routes(routes!(import_people))
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
}

/// How to run an import.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct ImportParams {
    /// Check the file and report what would change, without changing anything.
    #[serde(default)]
    pub dry_run: bool,
    /// Deactivate people with an employee number who are not in the file.
    #[serde(default)]
    pub deactivate_missing: bool,
}

/// Import people from the HR system's CSV export: an upsert by `employee_id`, all rows or none.
///
/// Columns: `employee_id,given_name,family_name,email,title,department,location,
/// manager_employee_id,phone,skills,languages` (skills and languages separated by `;`), UTF-8
/// with or without BOM, `,` or `;` between fields. Every bad row is listed in `error.rows`.
#[utoipa::path(
    post, path = "/api/v1/admin/people/import", tag = "admin",
    params(ImportParams),
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 200, description = "Imported, or checked on a dry run", body = ImportSummary),
        (status = 400, description = "Empty file or unreadable header (`empty_file`, `bad_header`)", body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, description = "Would leave no active admin (`last_admin`)", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "Bad rows, each listed with its line (`invalid_rows`)", body = ErrorBody),
    ),
    security(("session" = []), ("token" = []))
)]
async fn import_people(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    AppQuery(params): AppQuery<ImportParams>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> ApiResult<AppJson<ImportSummary>> {
    actor.require_admin()?;
    let upload = Upload::read(&headers, body, state.config.import_limit_bytes).await?;
    upload.require(
        &["text/csv", "application/csv", "text/plain"],
        "the CSV file",
    )?;
    let options = ImportOptions {
        dry_run: params.dry_run,
        deactivate_missing: params.deactivate_missing,
    };
    Ok(AppJson(
        import::import_as(&state.db, &state.doorbell, &actor, &upload.bytes, options).await?,
    ))
}

/// Whether first-run setup is still open.
#[utoipa::path(get, path = "/api/v1/setup", tag = "setup", responses((status = 200, body = SetupStatus)))]
async fn setup_status(State(state): State<AppState>) -> ApiResult<AppJson<SetupStatus>> {
    Ok(AppJson(SetupStatus {
        needed: service::setup_needed(&state.db).await?,
    }))
}

/// Create the first admin with the token from the setup link; signs that admin in. Works once.
#[utoipa::path(
    post, path = "/api/v1/setup", tag = "setup",
    request_body = SetupRequest,
    responses(
        (status = 201, description = "Admin created and signed in", body = LoginResponse),
        (status = 403, description = "Wrong or used setup token (`invalid_setup_token`)", body = ErrorBody),
        (status = 409, description = "Setup already done (`already_set_up`)", body = ErrorBody),
        (status = 422, description = "Invalid email, name or password", body = ErrorBody),
    )
)]
async fn complete_setup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    AppJson(request): AppJson<SetupRequest>,
) -> ApiResult<(StatusCode, CookieJar, AppJson<LoginResponse>)> {
    service::complete_setup(
        &state.db,
        &state.doorbell,
        &state.passwords,
        &request.token,
        &request.email,
        &request.name,
        &request.password,
    )
    .await?;
    let user_agent = headers
        .get(USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let outcome = auth_service::login(
        &state,
        ClientInfo { ip, user_agent },
        &request.email,
        &request.password,
    )
    .await?;
    let jar = jar.add(session_cookie(&state, outcome.secret));
    Ok((
        StatusCode::CREATED,
        jar,
        AppJson(LoginResponse {
            person: outcome.person,
            session: outcome.session,
        }),
    ))
}

/// Everyone, in creation order; or, with `q`, `role`, `status` or `department`, the people the
/// search engine finds among everyone (deactivated people too), best match first.
#[utoipa::path(
    get, path = "/api/v1/admin/people", tag = "admin",
    params(AdminPeopleQuery),
    responses(
        (status = 200, body = AdminPeoplePage),
        (status = 403, body = ErrorBody),
        (status = 422, description = "A bad limit, cursor or filter", body = ErrorBody),
    ),
    security(("session" = []), ("token" = []))
)]
async fn list_people(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    AppQuery(query): AppQuery<AdminPeopleQuery>,
) -> ApiResult<AppJson<AdminPeoplePage>> {
    Ok(AppJson(
        people_service::admin_list(&state.db, &state.search, &actor, query).await?,
    ))
}

/// Create a person (an account), optionally with a password.
#[utoipa::path(
    post, path = "/api/v1/admin/people", tag = "admin",
    request_body = CreatePersonRequest,
    responses(
        (status = 201, body = PersonDto),
        (status = 403, body = ErrorBody),
        (status = 409, description = "Email already in use (`email_taken`)", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("session" = []), ("token" = []))
)]
async fn create_person(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    AppJson(request): AppJson<CreatePersonRequest>,
) -> ApiResult<(StatusCode, AppJson<PersonDto>)> {
    let account = NewAccount {
        email: &request.email,
        name: &request.name,
        role: request.role,
        password: request.password.as_deref(),
    };
    let person = service::create_person(
        &state.db,
        &state.doorbell,
        &state.passwords,
        &actor,
        account,
    )
    .await?;
    Ok((StatusCode::CREATED, AppJson(person)))
}

/// One person's account.
#[utoipa::path(
    get, path = "/api/v1/admin/people/{id}", tag = "admin",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = PersonDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("session" = []), ("token" = []))
)]
async fn get_person(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<AppJson<PersonDto>> {
    Ok(AppJson(people_service::get(&state.db, &actor, id).await?))
}

/// Change HR-owned fields: names, email, employee number, title, department, location, manager.
#[utoipa::path(
    patch, path = "/api/v1/admin/people/{id}", tag = "admin",
    params(("id" = Uuid, Path)),
    request_body = HrPatch,
    responses(
        (status = 200, body = PersonDto),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Email already in use (`email_taken`)", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("session" = []), ("token" = []))
)]
async fn update_person(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<HrPatch>,
) -> ApiResult<AppJson<PersonDto>> {
    let person =
        people_service::update_hr_fields(&state.db, &state.doorbell, &actor, id, request).await?;
    Ok(AppJson(person))
}

/// Change a person's role. The last active admin cannot be demoted.
#[utoipa::path(
    put, path = "/api/v1/admin/people/{id}/role", tag = "admin",
    params(("id" = Uuid, Path)),
    request_body = SetRoleRequest,
    responses(
        (status = 200, body = PersonDto),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Would leave no admin (`last_admin`)", body = ErrorBody),
    ),
    security(("session" = []), ("token" = []))
)]
async fn set_role(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<SetRoleRequest>,
) -> ApiResult<AppJson<PersonDto>> {
    Ok(AppJson(
        people_service::set_role(&state.db, &state.doorbell, &actor, id, request.role).await?,
    ))
}

/// Deactivate a person: they can no longer sign in and all their sessions end at once.
#[utoipa::path(
    post, path = "/api/v1/admin/people/{id}/deactivate", tag = "admin",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = PersonDto),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Would leave no admin (`last_admin`)", body = ErrorBody),
    ),
    security(("session" = []), ("token" = []))
)]
async fn deactivate(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<AppJson<PersonDto>> {
    Ok(AppJson(
        people_service::set_active(&state.db, &state.doorbell, &actor, id, false).await?,
    ))
}

/// Reactivate a person.
#[utoipa::path(
    post, path = "/api/v1/admin/people/{id}/reactivate", tag = "admin",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = PersonDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("session" = []), ("token" = []))
)]
async fn reactivate(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<AppJson<PersonDto>> {
    Ok(AppJson(
        people_service::set_active(&state.db, &state.doorbell, &actor, id, true).await?,
    ))
}

/// API tokens, revoked ones included.
#[utoipa::path(
    get, path = "/api/v1/admin/tokens", tag = "admin",
    params(PageQuery),
    responses((status = 200, body = Page<ApiTokenDto>), (status = 403, body = ErrorBody)),
    security(("session" = []), ("token" = []))
)]
async fn list_tokens(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    AppQuery(query): AppQuery<PageQuery>,
) -> ApiResult<AppJson<Page<ApiTokenDto>>> {
    let limit = query.limit()?;
    Ok(AppJson(
        auth_service::list_tokens(&state.db, &actor, query.cursor.as_deref(), limit).await?,
    ))
}

/// Create an API token. The secret is in this answer only.
#[utoipa::path(
    post, path = "/api/v1/admin/tokens", tag = "admin",
    request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedToken), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []), ("token" = []))
)]
async fn create_token(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    AppJson(request): AppJson<CreateTokenRequest>,
) -> ApiResult<(StatusCode, AppJson<CreatedToken>)> {
    let created =
        auth_service::create_token(&state.db, &actor, &request.name, &request.scopes).await?;
    Ok((StatusCode::CREATED, AppJson(created)))
}

/// Revoke an API token; requests with it are refused from now on.
#[utoipa::path(
    delete, path = "/api/v1/admin/tokens/{id}", tag = "admin",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ApiTokenDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("session" = []), ("token" = []))
)]
async fn revoke_token(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<AppJson<ApiTokenDto>> {
    Ok(AppJson(
        auth_service::revoke_token(&state.db, &actor, id).await?,
    ))
}
