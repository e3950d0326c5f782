//! The OpenAPI 3.1 document, assembled from the routes' annotations.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Plein API",
        description = "The JSON API of Plein, the self-hosted social intranet. Errors always answer \
                       `{\"error\": {\"code\", \"message\", \"fields\"}}`; lists take `cursor` and `limit`.",
        license(name = "AGPL-3.0-or-later")
    ),
    components(schemas(crate::realtime::frames::ServerFrame, crate::realtime::frames::ClientFrame)),
    modifiers(&SecurityAddon),
    tags(
        (name = "setup", description = "First run"),
        (name = "auth", description = "Sign-in, sessions, own account"),
        (name = "directory", description = "Colleagues' profiles"),
        (name = "groups", description = "Groups, members, invitations and requests"),
        (name = "posts", description = "Posts in groups, comments and reactions"),
        (name = "chat", description = "Conversations and messages (what arrives comes over the socket)"),
        (name = "realtime", description = "The live socket: frames are `ServerFrame` and `ClientFrame`"),
        (name = "notifications", description = "In-app notifications"),
        (name = "announcements", description = "HR announcements with acknowledgement"),
        (name = "admin", description = "People, roles and API tokens (admins)"),
        (name = "operations", description = "Health and metrics"),
        (name = "scim", description = "SCIM 2.0 provisioning (RFC 7643, RFC 7644) for identity providers: a bearer token with the `scim` scope; answers and errors in `application/scim+json`"),
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

/// Routes anyone may call without signing in.
const OPEN_ROUTES: [&str; 2] = ["/api/v1/auth/login", "/api/v1/setup"];

/// Declares the answers every route of a kind gives through the shared extractors and layers,
/// so no route's annotation can forget them: 401 for routes that need a caller, 403 in the
/// admin area, 404 for an unknown id, and 400, 413, 415 and 422 for JSON bodies.
pub fn declare_common_answers(openapi: &mut utoipa::openapi::OpenApi) {
    for (path, item) in &mut openapi.paths.paths {
        let operations = [
            item.get.as_mut(),
            item.post.as_mut(),
            item.put.as_mut(),
            item.patch.as_mut(),
            item.delete.as_mut(),
        ];
        for operation in operations.into_iter().flatten() {
            let takes_json = operation
                .request_body
                .as_ref()
                .is_some_and(|body| match body {
                    RefOr::T(body) => body.content.contains_key("application/json"),
                    RefOr::Ref(_) => true,
                });
            let mut add = |status: &str, description: &str| {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| RefOr::T(error_answer(description)));
            };
            if path.starts_with("/api/v1/") && !OPEN_ROUTES.contains(&path.as_str()) {
                add(
                    "401",
                    "Not signed in, the session ended, or the API token is not valid",
                );
            }
            if path.starts_with("/api/v1/admin/") {
                add(
                    "403",
                    "Only admins and `admin` tokens; checked before the body is read",
                );
            }
            if path.starts_with("/api/") && path.contains('{') {
                add("404", "No such thing, or not one the caller may see");
            }
            if takes_json {
                add("400", "The body is not JSON");
                add("413", "The body is larger than `body_limit_bytes`");
                add("415", "The body is not `application/json`");
                add(
                    "422",
                    "The body does not have the fields and types this route takes",
                );
            }
        }
    }
}

fn error_answer(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
        )
        .build()
}
