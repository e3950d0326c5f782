//! Person types shown over the API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::entities::people;

/// What a person may do: `employee`, `hr` (announcements) or `admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Employee,
    Hr,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Employee => "employee",
            Role::Hr => "hr",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "employee" => Some(Role::Employee),
            "hr" => Some(Role::Hr),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PersonDto {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    /// Whether the person can sign in with a password.
    pub has_password: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<people::Model> for PersonDto {
    fn from(row: people::Model) -> Self {
        PersonDto {
            id: row.id,
            role: Role::parse(&row.role).unwrap_or(Role::Employee),
            has_password: row.password_hash.is_some(),
            email: row.email,
            display_name: row.display_name,
            active: row.active,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// The payload of `person.*` events.
#[derive(Debug, Clone, Serialize)]
pub struct PersonEvent {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
}

impl From<&people::Model> for PersonEvent {
    fn from(row: &people::Model) -> Self {
        PersonEvent {
            id: row.id,
            email: row.email.clone(),
            display_name: row.display_name.clone(),
            role: Role::parse(&row.role).unwrap_or(Role::Employee),
            active: row.active,
        }
    }
}
