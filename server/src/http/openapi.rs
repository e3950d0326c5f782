//! The OpenAPI 3.1 document, assembled from the routes' annotations.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Plein API",
        description = "The JSON API of Plein, the self-hosted social intranet. Errors always answer \
                       `{\"error\": {\"code\", \"message\", \"fields\"}}`; lists take `cursor` and `limit`.",
        license(name = "AGPL-3.0-or-later")
    ),
    modifiers(&SecurityAddon),
    tags(
        (name = "setup", description = "First run"),
        (name = "auth", description = "Sign-in, sessions, own account"),
        (name = "directory", description = "Colleagues' profiles"),
        (name = "admin", description = "People, roles and API tokens (admins)"),
        (name = "operations", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("plein_session"))),
        );
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
