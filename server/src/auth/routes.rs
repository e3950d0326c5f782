//! Sign-in, sign-out, own account and own sessions.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::http::header::USER_AGENT;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::dto::{
    ChangePasswordRequest, InvitationOutcome, InvitationRequest, LoginRequest, LoginResponse,
    MailStatus, PasswordResetCompleteRequest, PasswordResetRequest, SessionList,
};
use super::links;
use super::service::{self, ClientInfo, SESSION_COOKIE};
use crate::directory::dto::{LanguageRequest, PersonDto};
use crate::error::{ApiResult, ErrorBody};
use crate::http::{AppJson, AppPath, ClientIp, CurrentPerson, HrCaller};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(set_language))
        .routes(routes!(change_password))
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_session))
        .routes(routes!(request_password_reset))
        .routes(routes!(complete_password_reset))
        .routes(routes!(invite_people))
        .routes(routes!(mail_status))
}

/// The session cookie: HttpOnly, SameSite=Lax, Secure unless serving plain HTTP on loopback.
pub fn session_cookie(state: &AppState, secret: String) -> Cookie<'static> {
    let max_age = cookie_max_age(state);
    Cookie::build((SESSION_COOKIE, secret))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.cookie_secure)
        .path("/")
        .max_age(max_age)
        .build()
}

fn cookie_max_age(state: &AppState) -> cookie::time::Duration {
    cookie::time::Duration::seconds(state.config.session_ttl.num_seconds())
}

fn removal_cookie(state: &AppState) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, ""))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.cookie_secure)
        .path("/")
        .max_age(cookie::time::Duration::ZERO)
        .build()
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// Sign in with email and password.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; sets the `plein_session` cookie", body = LoginResponse),
        (status = 401, description = "Wrong email or password (`invalid_credentials`)", body = ErrorBody),
        (status = 429, description = "Too many attempts; see `Retry-After`", body = ErrorBody),
    )
)]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    AppJson(request): AppJson<LoginRequest>,
) -> ApiResult<(CookieJar, AppJson<LoginResponse>)> {
    let client = ClientInfo {
        ip,
        user_agent: user_agent(&headers),
    };
    let outcome = service::login(&state, client, &request.email, &request.password).await?;
    let jar = jar.add(session_cookie(&state, outcome.secret));
    Ok((
        jar,
        AppJson(LoginResponse {
            person: outcome.person,
            session: outcome.session,
        }),
    ))
}

/// Sign out: ends this session and clears the cookie.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204, description = "Signed out"), (status = 401, body = ErrorBody)),
    security(("session" = []))
)]
async fn logout(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    jar: CookieJar,
) -> ApiResult<(StatusCode, CookieJar)> {
    service::logout(&state.db, &state.doorbell, &person).await?;
    Ok((StatusCode::NO_CONTENT, jar.add(removal_cookie(&state))))
}

/// The signed-in person.
#[utoipa::path(
    get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, body = PersonDto), (status = 401, body = ErrorBody)),
    security(("session" = []))
)]
async fn me(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
) -> ApiResult<AppJson<PersonDto>> {
    Ok(AppJson(service::me(&state.db, &person).await?))
}

/// Remember the language of Plein's screens for you (`nl` or `en`; `null` follows the browser).
#[utoipa::path(
    put, path = "/api/v1/me/language", tag = "auth",
    request_body = LanguageRequest,
    responses((status = 200, body = PersonDto), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []))
)]
async fn set_language(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppJson(request): AppJson<LanguageRequest>,
) -> ApiResult<AppJson<PersonDto>> {
    Ok(AppJson(
        service::set_language(&state.db, &person, request.language).await?,
    ))
}

/// Change your password (at least 12 characters). Your other sessions end.
#[utoipa::path(
    put, path = "/api/v1/me/password", tag = "auth",
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed"),
        (status = 403, description = "The current password is wrong (`wrong_password`)", body = ErrorBody),
        (status = 422, description = "The new password is too short", body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn change_password(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppJson(request): AppJson<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    service::change_password(
        &state,
        &person,
        &request.current_password,
        &request.new_password,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Your open sessions, most recently used first.
#[utoipa::path(
    get, path = "/api/v1/me/sessions", tag = "auth",
    responses((status = 200, body = SessionList), (status = 401, body = ErrorBody)),
    security(("session" = []))
)]
async fn list_sessions(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
) -> ApiResult<AppJson<SessionList>> {
    Ok(AppJson(SessionList {
        items: service::list_sessions(&state.db, &person).await?,
    }))
}

/// End one of your sessions (for example on a lost laptop).
#[utoipa::path(
    delete, path = "/api/v1/me/sessions/{id}", tag = "auth",
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 204, description = "Ended"), (status = 404, body = ErrorBody)),
    security(("session" = []))
)]
async fn revoke_session(
    State(state): State<AppState>,
    CurrentPerson(person): CurrentPerson,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<StatusCode> {
    service::revoke_session(&state.db, &state.doorbell, &person, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// "Forgot password": mails a link (valid an hour, usable once) to the address if an active
/// person has it. The answer is the same either way.
#[utoipa::path(
    post, path = "/api/v1/auth/password-reset", tag = "auth",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "If the address is known, a link is on its way"),
        (status = 422, description = "Not an email address", body = ErrorBody),
        (status = 429, description = "Too many requests for this address or from this client; see `Retry-After`", body = ErrorBody),
    )
)]
async fn request_password_reset(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(request): AppJson<PasswordResetRequest>,
) -> ApiResult<StatusCode> {
    links::request_reset(&state, ip, &request.email)?;
    Ok(StatusCode::ACCEPTED)
}

/// Choose a password through a mailed link (password reset or invitation). The link is used
/// up, and every session of its person ends.
#[utoipa::path(
    post, path = "/api/v1/auth/password-reset/complete", tag = "auth",
    request_body = PasswordResetCompleteRequest,
    responses(
        (status = 204, description = "Password set; sign in with it"),
        (status = 400, description = "The link was used, has expired or is unknown (`invalid_link`)", body = ErrorBody),
        (status = 422, description = "The password is too short or too long", body = ErrorBody),
        (status = 429, description = "Too many attempts from this client", body = ErrorBody),
    )
)]
async fn complete_password_reset(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(request): AppJson<PasswordResetCompleteRequest>,
) -> ApiResult<StatusCode> {
    links::complete(&state, ip, &request.token, &request.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Invite people who cannot sign in yet (HR and admins): each gets a mail with a link to choose
/// a password, usable once within seven days.
#[utoipa::path(
    post, path = "/api/v1/admin/invitations", tag = "admin",
    request_body = InvitationRequest,
    responses(
        (status = 202, description = "Invitations queued for mailing", body = InvitationOutcome),
        (status = 400, description = "Not exactly one of the three ways to choose (`invalid_invitation`)", body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("session" = []))
)]
async fn invite_people(
    State(state): State<AppState>,
    HrCaller(person): HrCaller,
    AppJson(request): AppJson<InvitationRequest>,
) -> ApiResult<(StatusCode, AppJson<InvitationOutcome>)> {
    let outcome = links::invite(&state, &person, request).await?;
    Ok((StatusCode::ACCEPTED, AppJson(outcome)))
}

/// Whether Plein sends mail (HR and admins), and its queue.
#[utoipa::path(
    get, path = "/api/v1/admin/mail", tag = "admin",
    responses((status = 200, body = MailStatus), (status = 403, body = ErrorBody)),
    security(("session" = []))
)]
async fn mail_status(
    State(state): State<AppState>,
    HrCaller(_caller): HrCaller,
) -> ApiResult<AppJson<MailStatus>> {
    let counts = crate::mail::counts(&state.db).await?;
    Ok(AppJson(MailStatus {
        enabled: state.mailer.enabled(),
        server: state.mailer.server().map(str::to_owned),
        from: state.mailer.from(),
        waiting: counts.waiting,
        failed: counts.failed,
        sent: counts.sent,
    }))
}
