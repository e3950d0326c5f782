//! Request and response types of setup and administration.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::directory::dto::Role;

#[derive(Debug, Deserialize, ToSchema)]
pub struct SetupRequest {
    /// The token from the setup link printed in the server log.
    pub token: String,
    #[schema(max_length = 320)]
    pub email: String,
    pub name: String,
    /// At least 12 characters.
    #[schema(min_length = 12)]
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SetupStatus {
    /// True while no admin exists and the setup link can be used.
    pub needed: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreatePersonRequest {
    pub email: String,
    pub name: String,
    #[serde(default = "default_role")]
    pub role: Role,
    /// Optional: people provisioned for single sign-on have none. At least 12 characters.
    #[schema(min_length = 12)]
    pub password: Option<String>,
}

fn default_role() -> Role {
    Role::Employee
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SetRoleRequest {
    pub role: Role,
}
