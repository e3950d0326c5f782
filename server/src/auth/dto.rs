//! Request and response types of sign-in, sessions and tokens.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::directory::dto::PersonDto;
use crate::entities::{api_tokens, sessions};

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub person: PersonDto,
    pub session: SessionDto,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    /// At least 12 characters.
    #[schema(min_length = 12)]
    pub new_password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionDto {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
    /// True for the session this request was made with.
    pub current: bool,
}

impl SessionDto {
    pub fn from_row(row: sessions::Model, current_id: Option<Uuid>) -> Self {
        SessionDto {
            current: Some(row.id) == current_id,
            id: row.id,
            created_at: row.created_at,
            last_seen_at: row.last_seen_at,
            expires_at: row.expires_at,
            user_agent: row.user_agent,
            ip_address: row.ip_address,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    pub items: Vec<SessionDto>,
}

/// What an API token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// SCIM 2.0 provisioning under `/scim/v2`, and nothing else.
    Scim,
    /// Reading the directory (`GET` under `/api/v1`, outside `/api/v1/admin`), for integrations
    /// such as a phone book or a chat bot.
    Read,
    /// Scraping `/metrics`.
    Metrics,
    /// Everything an admin can do over the API.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::Scim, Scope::Read, Scope::Metrics, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Scim => "scim",
            Scope::Read => "read",
            Scope::Metrics => "metrics",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == text)
    }

    pub fn parse_list(text: &str) -> Vec<Scope> {
        text.split_whitespace().filter_map(Scope::parse).collect()
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateTokenRequest {
    pub name: String,
    pub scopes: Vec<Scope>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiTokenDto {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<api_tokens::Model> for ApiTokenDto {
    fn from(row: api_tokens::Model) -> Self {
        ApiTokenDto {
            id: row.id,
            scopes: Scope::parse_list(&row.scopes),
            name: row.name,
            created_by: row.created_by,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub token: ApiTokenDto,
    /// The bearer secret. It is shown only in this answer; Plein stores only its hash.
    pub secret: String,
}

/// "Forgot password".
#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordResetRequest {
    pub email: String,
}

/// A mailed link (password reset or invitation) used to choose a password.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordResetCompleteRequest {
    /// The `token` of the link.
    pub token: String,
    /// At least 12 characters.
    #[schema(min_length = 12)]
    pub password: String,
}

/// Whom to invite: exactly one of the three.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationRequest {
    /// These people (at most 1,000).
    pub person_ids: Option<Vec<Uuid>>,
    /// Everyone in this department.
    pub department: Option<String>,
    /// Everyone who cannot sign in yet.
    pub all_without_sign_in: Option<bool>,
}

/// What an invitation did. People who can already sign in, are deactivated or have no email
/// address are skipped (a reset link serves those who forgot their password).
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationOutcome {
    pub invited: u64,
    pub skipped: u64,
}

/// Whether Plein sends mail, and how its queue stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct MailStatus {
    /// False: no SMTP server is configured and mails are written to the log.
    pub enabled: bool,
    /// `host:port (TLS mode)`.
    pub server: Option<String>,
    pub from: Option<String>,
    /// Queued, not sent yet (including those waiting for another try).
    pub waiting: u64,
    /// Given up after refusals or ten tries (kept a month).
    pub failed: u64,
    /// Handed to the SMTP server in the last month.
    pub sent: u64,
}
