//! Sign-in, sessions, password changes and API tokens; who the caller is and what they may do.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{Duration, Utc};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::dto::{ApiTokenDto, CreatedToken, Scope, SessionDto};
use super::password::{self, MAX_PASSWORD_BYTES};
use super::repo;
use super::tokens::{API_TOKEN_PREFIX, hash_secret, random_secret};
use crate::db;
use crate::directory::dto::{Language, PersonDto, Role};
use crate::directory::{repo as people_repo, service as people_service};
use crate::error::{ApiError, ApiResult};
use crate::events::{self, Doorbell, Event};
use crate::http::pagination::{Cursor, Page};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "plein_session";
/// `last_seen_at` is written at most this often per session, so reads stay reads.
const TOUCH_INTERVAL: Duration = Duration::minutes(5);
const MAX_TOKEN_NAME_CHARS: usize = 200;
const MAX_USER_AGENT_CHARS: usize = 500;

#[derive(Debug, Clone)]
pub struct AuthenticatedPerson {
    pub id: Uuid,
    pub role: Role,
    pub session_id: Uuid,
}

#[derive(Debug, Clone)]
pub struct AuthenticatedToken {
    pub id: Uuid,
    pub scopes: Vec<Scope>,
}

impl AuthenticatedToken {
    /// Whether this token's scopes reach `path` with `method` at all; what it may do there is
    /// for the service to decide. `scim` tokens reach only `/scim/v2` (checked there), `read`
    /// tokens only reads outside the admin area, `metrics` tokens only `/metrics`.
    pub fn reaches(&self, method: &axum::http::Method, path: &str) -> bool {
        let reading = method == axum::http::Method::GET || method == axum::http::Method::HEAD;
        self.scopes.iter().any(|scope| match scope {
            Scope::Admin => true,
            Scope::Read => {
                reading && path.starts_with("/api/v1/") && !path.starts_with("/api/v1/admin/")
            }
            Scope::Metrics => path == "/metrics",
            Scope::Scim => false,
        })
    }
}

/// The caller of a request.
#[derive(Debug, Clone)]
pub enum Principal {
    Person(AuthenticatedPerson),
    Token(AuthenticatedToken),
}

impl Principal {
    /// Admins, and tokens with the `admin` scope.
    pub fn require_admin(&self) -> ApiResult<()> {
        let allowed = match self {
            Principal::Person(person) => person.role == Role::Admin,
            Principal::Token(token) => token.scopes.contains(&Scope::Admin),
        };
        if allowed {
            Ok(())
        } else {
            Err(ApiError::forbidden("only admins may do this"))
        }
    }

    /// Who may scrape `/metrics` on the main port: admins, and `metrics` or `admin` tokens.
    pub fn require_metrics(&self) -> ApiResult<()> {
        let allowed = match self {
            Principal::Person(person) => person.role == Role::Admin,
            Principal::Token(token) => token
                .scopes
                .iter()
                .any(|scope| matches!(scope, Scope::Metrics | Scope::Admin)),
        };
        if allowed {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "metrics are for admins and tokens with the metrics scope",
            ))
        }
    }

    pub fn person_id(&self) -> Option<Uuid> {
        match self {
            Principal::Person(person) => Some(person.id),
            Principal::Token(_) => None,
        }
    }
}

fn session_ended() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "your session has ended; sign in again",
    )
}

/// Resolves a session cookie to its person. Expired sessions, deactivated people and unknown
/// tokens all answer 401.
pub async fn authenticate_session(db: &DatabaseConnection, token: &str) -> ApiResult<Principal> {
    let (session, person) = repo::find_session_with_person(db, &hash_secret(token))
        .await?
        .ok_or_else(session_ended)?;
    let now = Utc::now();
    if session.expires_at <= now {
        return Err(session_ended());
    }
    let person = person.ok_or_else(session_ended)?;
    if !person.active {
        return Err(session_ended());
    }
    if now - session.last_seen_at > TOUCH_INTERVAL {
        repo::touch_session(db, session.id, now).await?;
    }
    Ok(Principal::Person(AuthenticatedPerson {
        id: person.id,
        role: Role::parse(&person.role).unwrap_or(Role::Employee),
        session_id: session.id,
    }))
}

/// Resolves a bearer token. Revoked and unknown tokens answer 401.
pub async fn authenticate_token(db: &DatabaseConnection, secret: &str) -> ApiResult<Principal> {
    let invalid = || {
        ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "invalid_token",
            "this API token is not valid or has been revoked",
        )
    };
    if !secret.starts_with(API_TOKEN_PREFIX) {
        return Err(invalid());
    }
    let token = repo::find_token_by_hash(db, &hash_secret(secret))
        .await?
        .ok_or_else(invalid)?;
    if token.revoked_at.is_some() {
        return Err(invalid());
    }
    let now = Utc::now();
    if token
        .last_used_at
        .is_none_or(|used| now - used > Duration::minutes(1))
    {
        repo::touch_token(db, token.id, now).await?;
    }
    Ok(Principal::Token(AuthenticatedToken {
        id: token.id,
        scopes: Scope::parse_list(&token.scopes),
    }))
}

pub struct LoginOutcome {
    pub person: PersonDto,
    pub session: SessionDto,
    pub secret: String,
}

pub struct ClientInfo {
    pub ip: IpAddr,
    pub user_agent: Option<String>,
}

/// Checks the password and opens a session. A wrong email and a wrong password get the same
/// answer after the same amount of work.
pub async fn login(
    state: &AppState,
    client: ClientInfo,
    email: &str,
    password: &str,
) -> ApiResult<LoginOutcome> {
    let email_normalized = people_service::normalize_email(email);
    if password.len() > MAX_PASSWORD_BYTES
        || email_normalized.len() > people_service::MAX_EMAIL_CHARS
    {
        return Err(ApiError::invalid_credentials());
    }
    let limiter = &state.login_limiter;
    limiter
        .check(&state.db, client.ip, &email_normalized)
        .await?;
    let person = people_repo::find_by_email(&state.db, &email_normalized)
        .await?
        .filter(|person| person.active);
    let hash = person
        .as_ref()
        .and_then(|person| person.password_hash.as_deref());
    let matches = state.passwords.verify(password, hash).await?;
    let person = match person {
        Some(person) if matches => person,
        _ => {
            tracing::info!(ip = %client.ip, "sign-in refused");
            limiter
                .failed(&state.db, client.ip, &email_normalized)
                .await?;
            return Err(ApiError::invalid_credentials());
        }
    };
    limiter
        .succeeded(&state.db, client.ip, &email_normalized)
        .await?;
    let secret = random_secret();
    let session = repo::insert_session(
        &state.db,
        repo::NewSession {
            person_id: person.id,
            token_hash: hash_secret(&secret),
            user_agent: client
                .user_agent
                .map(|agent| agent.chars().take(MAX_USER_AGENT_CHARS).collect()),
            ip_address: Some(client.ip.to_string()),
            expires_at: Utc::now() + state.config.session_ttl,
        },
    )
    .await?;
    tracing::info!(person_id = %person.id, "signed in");
    let session_id = session.id;
    Ok(LoginOutcome {
        person: PersonDto::from(person),
        session: SessionDto::from_row(session, Some(session_id)),
        secret,
    })
}

/// Ends sessions of a person and tells every node, whose sockets on them close.
async fn end_sessions(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person_id: Uuid,
    session: Uuid,
) -> ApiResult<bool> {
    let tx = db::begin_write(db).await?;
    let ended = repo::delete_session_of(&tx, person_id, session).await?;
    if ended {
        events::append(
            &tx,
            Event::SessionsEnded {
                person_id,
                sessions: vec![session],
                all_but: None,
            },
        )
        .await?;
    }
    tx.commit().await?;
    if ended {
        doorbell.ring();
    }
    Ok(ended)
}

pub async fn logout(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
) -> ApiResult<()> {
    end_sessions(db, doorbell, person.id, person.session_id).await?;
    Ok(())
}

pub async fn me(db: &DatabaseConnection, person: &AuthenticatedPerson) -> ApiResult<PersonDto> {
    people_repo::find(db, person.id)
        .await?
        .map(PersonDto::from)
        .ok_or_else(session_ended)
}

/// Remembers the language the caller chose for the screens, on every device they use.
pub async fn set_language(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
    language: Option<Language>,
) -> ApiResult<PersonDto> {
    people_repo::set_ui_language(db, person.id, language.map(Language::code))
        .await?
        .map(PersonDto::from)
        .ok_or_else(session_ended)
}

/// Changes the caller's password after checking the current one; every other session ends.
pub async fn change_password(
    state: &AppState,
    person: &AuthenticatedPerson,
    current: &str,
    new: &str,
) -> ApiResult<()> {
    if let Err(problem) = password::check_policy(new) {
        return Err(ApiError::field("new_password", problem));
    }
    let row = people_repo::find(&state.db, person.id)
        .await?
        .ok_or_else(session_ended)?;
    if current.len() > MAX_PASSWORD_BYTES
        || !state
            .passwords
            .verify(current, row.password_hash.as_deref())
            .await?
    {
        let mut error = ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "wrong_password",
            "the current password is wrong",
        );
        error
            .fields
            .insert("current_password".to_owned(), "is wrong".to_owned());
        return Err(error);
    }
    let hash = state.passwords.hash(new).await?;
    let tx = db::begin_write(&state.db).await?;
    people_repo::set_password_hash(&tx, row, hash).await?;
    repo::delete_other_sessions_of(&tx, person.id, person.session_id).await?;
    events::append(
        &tx,
        Event::SessionsEnded {
            person_id: person.id,
            sessions: Vec::new(),
            all_but: Some(person.session_id),
        },
    )
    .await?;
    tx.commit().await?;
    state.doorbell.ring();
    Ok(())
}

pub async fn list_sessions(
    db: &DatabaseConnection,
    person: &AuthenticatedPerson,
) -> ApiResult<Vec<SessionDto>> {
    let rows = repo::list_sessions_of(db, person.id).await?;
    Ok(rows
        .into_iter()
        .map(|row| SessionDto::from_row(row, Some(person.session_id)))
        .collect())
}

/// Ends one of the caller's own sessions; anyone else's is "not found".
pub async fn revoke_session(
    db: &DatabaseConnection,
    doorbell: &Doorbell,
    person: &AuthenticatedPerson,
    id: Uuid,
) -> ApiResult<()> {
    if end_sessions(db, doorbell, person.id, id).await? {
        Ok(())
    } else {
        Err(ApiError::not_found("session"))
    }
}

fn validate_token_request(name: &str, scopes: &[Scope]) -> ApiResult<()> {
    let mut fields = BTreeMap::new();
    let name = name.trim();
    if name.is_empty() {
        fields.insert("name".to_owned(), "is required".to_owned());
    } else if name.chars().count() > MAX_TOKEN_NAME_CHARS || name.chars().any(char::is_control) {
        fields.insert(
            "name".to_owned(),
            format!("must be at most {MAX_TOKEN_NAME_CHARS} printable characters"),
        );
    }
    if scopes.is_empty() {
        fields.insert(
            "scopes".to_owned(),
            "name at least one scope (scim, read, metrics, admin)".to_owned(),
        );
    }
    if fields.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(fields))
    }
}

/// Creates a token without a permission check: for the CLI, which runs with the server's own
/// authority. Over HTTP use [`create_token`].
pub async fn issue_token(
    db: &DatabaseConnection,
    created_by: Option<Uuid>,
    name: &str,
    scopes: &[Scope],
) -> ApiResult<CreatedToken> {
    validate_token_request(name, scopes)?;
    let mut unique: Vec<&'static str> = scopes.iter().map(|scope| scope.as_str()).collect();
    unique.sort_unstable();
    unique.dedup();
    let secret = format!("{API_TOKEN_PREFIX}{}", random_secret());
    let row = repo::insert_token(
        db,
        repo::NewToken {
            name: name.trim().to_owned(),
            token_hash: hash_secret(&secret),
            scopes: unique.join(" "),
            created_by,
        },
    )
    .await?;
    Ok(CreatedToken {
        token: ApiTokenDto::from(row),
        secret,
    })
}

pub async fn create_token(
    db: &DatabaseConnection,
    actor: &Principal,
    name: &str,
    scopes: &[Scope],
) -> ApiResult<CreatedToken> {
    actor.require_admin()?;
    issue_token(db, actor.person_id(), name, scopes).await
}

pub async fn list_tokens(
    db: &DatabaseConnection,
    actor: &Principal,
    cursor: Option<&str>,
    limit: u64,
) -> ApiResult<Page<ApiTokenDto>> {
    actor.require_admin()?;
    let after = cursor.map(Cursor::decode_uuid).transpose()?;
    let rows = repo::list_tokens_after(db, after, limit + 1).await?;
    Ok(Page::from_rows(
        rows,
        limit,
        |row| Cursor::encode_uuid(row.id),
        ApiTokenDto::from,
    ))
}

pub async fn revoke_token(
    db: &DatabaseConnection,
    actor: &Principal,
    id: Uuid,
) -> ApiResult<ApiTokenDto> {
    actor.require_admin()?;
    let tx = db::begin_write(db).await?;
    let token = repo::find_token(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("API token"))?;
    let token = if token.revoked_at.is_some() {
        token
    } else {
        repo::revoke_token(&tx, token).await?
    };
    tx.commit().await?;
    Ok(ApiTokenDto::from(token))
}

/// Removes expired sessions and idle rate-limit keys; run periodically.
pub async fn housekeeping(state: &AppState) -> ApiResult<u64> {
    state.photo_uploads.prune();
    state.attachment_uploads.prune();
    state.reset_limiter.prune();
    let forgotten = state.login_limiter.prune(&state.db).await?;
    if forgotten > 0 {
        tracing::debug!(forgotten, "old sign-in failures forgotten");
    }
    Ok(repo::delete_expired_sessions(&state.db).await?)
}
