//! `/scim/v2`: the routes an identity provider (Microsoft Entra ID, Okta, …) calls, with a bearer
//! token of scope `scim`, answering in SCIM's media type and error format.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::discovery::{self, MAX_RESULTS};
use super::error::{SCIM_JSON, ScimError, ScimResult};
use super::filter;
use super::service;
use super::user::{ENTERPRISE_SCHEMA, LIST_SCHEMA, Projection, USER_SCHEMA, resource, version};
use crate::auth::dto::Scope;
use crate::auth::{Principal, service as auth_service};
use crate::entities::people;
use crate::error::ErrorBody;
use crate::state::AppState;

const DEFAULT_COUNT: u64 = 100;
const SEARCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(service_provider_config))
        .routes(routes!(resource_types))
        .routes(routes!(resource_type))
        .routes(routes!(schemas))
        .routes(routes!(schema))
        .routes(routes!(list_users, create_user))
        .routes(routes!(search_users))
        .routes(routes!(get_user, replace_user, patch_user, delete_user))
        .route("/scim/v2", axum::routing::any(not_found))
        .route("/scim/v2/{*rest}", axum::routing::any(not_found))
}

async fn not_found() -> ScimError {
    ScimError::new(StatusCode::NOT_FOUND, None, "no such SCIM endpoint")
}

/// A caller holding an API token with the `scim` scope. Sessions do not count: provisioning is
/// for integrations.
pub struct ScimClient;

impl FromRequestParts<AppState> for ScimClient {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ScimResult<Self> {
        let secret = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                value
                    .split_once(' ')
                    .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                    .map(|(_, secret)| secret.trim().to_owned())
            })
            .ok_or_else(|| {
                ScimError::new(
                    StatusCode::UNAUTHORIZED,
                    None,
                    "send an API token with the scim scope as `Authorization: Bearer …`",
                )
            })?;
        let principal = auth_service::authenticate_token(&state.db, &secret)
            .await
            .map_err(ScimError::from)?;
        match principal {
            Principal::Token(token) if token.scopes.contains(&Scope::Scim) => Ok(ScimClient),
            _ => Err(ScimError::new(
                StatusCode::FORBIDDEN,
                None,
                "this API token does not have the scim scope",
            )),
        }
    }
}

fn base(state: &AppState) -> String {
    state
        .config
        .public_url
        .as_str()
        .trim_end_matches('/')
        .to_owned()
}

/// A SCIM JSON answer.
fn scim_json(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    response
}

/// One user, with its ETag (and its Location when just created).
fn user_response(
    status: StatusCode,
    person: &people::Model,
    base: &str,
    projection: &Projection,
) -> Response {
    let body = projection.apply(resource(person, base));
    let mut response = scim_json(status, &body);
    if let Ok(etag) = HeaderValue::from_str(&version(person)) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    if status == StatusCode::CREATED
        && let Ok(location) = HeaderValue::from_str(&format!("{base}/scim/v2/Users/{}", person.id))
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// Reads a JSON body sent as `application/scim+json` or `application/json`.
fn json_body(headers: &HeaderMap, body: &Bytes) -> ScimResult<Value> {
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if media_type != SCIM_JSON && media_type != "application/json" {
        return Err(ScimError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
            "send the body as application/scim+json",
        ));
    }
    serde_json::from_slice(body)
        .map_err(|error| ScimError::invalid_syntax(format!("the body is not valid JSON: {error}")))
}

fn if_match(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::IF_MATCH)
        .and_then(|value| value.to_str().ok())
}

/// What Plein's SCIM service supports (RFC 7644 §5); open, as discovery is.
#[utoipa::path(
    get, path = "/scim/v2/ServiceProviderConfig", tag = "scim",
    responses((status = 200, description = "The configuration", content_type = "application/scim+json", body = Object)),
)]
async fn service_provider_config(State(state): State<AppState>) -> Response {
    scim_json(
        StatusCode::OK,
        &discovery::service_provider_config(&base(&state)),
    )
}

fn list_of(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// The resource types: `User`.
#[utoipa::path(
    get, path = "/scim/v2/ResourceTypes", tag = "scim",
    responses((status = 200, description = "A ListResponse of resource types", content_type = "application/scim+json", body = Object)),
)]
async fn resource_types(State(state): State<AppState>) -> Response {
    scim_json(
        StatusCode::OK,
        &list_of(vec![discovery::user_resource_type(&base(&state))]),
    )
}

/// One resource type by name.
#[utoipa::path(
    get, path = "/scim/v2/ResourceTypes/{id}", tag = "scim",
    params(("id" = String, Path, description = "`User`")),
    responses(
        (status = 200, description = "The resource type", content_type = "application/scim+json", body = Object),
        (status = 404, description = "No such resource type (SCIM error)", content_type = "application/scim+json", body = Object),
    ),
)]
async fn resource_type(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    if id == "User" {
        scim_json(
            StatusCode::OK,
            &discovery::user_resource_type(&base(&state)),
        )
    } else {
        ScimError::not_found(&id).into_response()
    }
}

/// The User schema and the enterprise extension, with what each attribute means in Plein.
#[utoipa::path(
    get, path = "/scim/v2/Schemas", tag = "scim",
    responses((status = 200, description = "A ListResponse of schemas", content_type = "application/scim+json", body = Object)),
)]
async fn schemas(State(state): State<AppState>) -> Response {
    let base = base(&state);
    scim_json(
        StatusCode::OK,
        &list_of(vec![
            discovery::user_schema(&base),
            discovery::enterprise_schema(&base),
        ]),
    )
}

/// One schema by its URN.
#[utoipa::path(
    get, path = "/scim/v2/Schemas/{id}", tag = "scim",
    params(("id" = String, Path, description = "The schema's URN")),
    responses(
        (status = 200, description = "The schema", content_type = "application/scim+json", body = Object),
        (status = 404, description = "No such schema (SCIM error)", content_type = "application/scim+json", body = Object),
    ),
)]
async fn schema(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let base = base(&state);
    match id.as_str() {
        USER_SCHEMA => scim_json(StatusCode::OK, &discovery::user_schema(&base)),
        ENTERPRISE_SCHEMA => scim_json(StatusCode::OK, &discovery::enterprise_schema(&base)),
        _ => ScimError::not_found(&id).into_response(),
    }
}

fn number(params: &HashMap<String, String>, name: &str) -> ScimResult<Option<i64>> {
    params
        .get(name)
        .map(|text| {
            text.trim()
                .parse::<i64>()
                .map_err(|_| ScimError::invalid_value(format!("{name} must be a whole number")))
        })
        .transpose()
}

/// `attributes` and `excludedAttributes` from the query string (comma-separated).
fn projection(params: &HashMap<String, String>) -> Projection {
    let named = |name: &'static str| {
        params
            .iter()
            .filter(move |(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    };
    Projection::new(named("attributes"), named("excludedAttributes"))
}

/// A page of users as a ListResponse.
async fn list_response(
    state: &AppState,
    filter: Option<&str>,
    start_index: Option<i64>,
    count: Option<i64>,
    projection: &Projection,
) -> ScimResult<Response> {
    let filter = filter::parse(filter.unwrap_or(""))?;
    // RFC 7644 §3.4.2.4: below 1 means 1; a negative count means 0.
    let start_index = start_index.unwrap_or(1).max(1) as u64;
    let count = count
        .map_or(DEFAULT_COUNT, |count| count.max(0) as u64)
        .min(MAX_RESULTS);
    let listed = service::list(&state.db, filter.as_ref(), start_index, count).await?;
    let base = base(state);
    let resources: Vec<Value> = listed
        .people
        .iter()
        .map(|person| projection.apply(resource(person, &base)))
        .collect();
    Ok(scim_json(
        StatusCode::OK,
        &json!({
            "schemas": [LIST_SCHEMA],
            "totalResults": listed.total,
            "startIndex": start_index,
            "itemsPerPage": resources.len(),
            "Resources": resources,
        }),
    ))
}

/// Lists users, filtered (RFC 7644 §3.4.2.2, the whole grammar) and paged. Needs a token with
/// the `scim` scope; errors answer in SCIM's format.
#[utoipa::path(
    get, path = "/scim/v2/Users", tag = "scim",
    params(
        ("filter" = Option<String>, Query, description = "e.g. `userName eq \"anne\"`, `emails[type eq \"work\"].value co \"@example.nl\" and not (active eq false)`, `meta.lastModified gt \"2026-11-30T12:00:00Z\"`"),
        ("startIndex" = Option<i64>, Query, description = "1-based; below 1 counts as 1"),
        ("count" = Option<i64>, Query, description = "At most 200; negative counts as 0"),
        ("attributes" = Option<String>, Query, description = "Comma-separated attributes to return (besides `id` and `schemas`)"),
        ("excludedAttributes" = Option<String>, Query, description = "Comma-separated attributes to leave out"),
    ),
    responses(
        (status = 200, description = "A ListResponse of users", content_type = "application/scim+json", body = Object),
        (status = 400, description = "A bad filter (`invalidFilter`) or number (`invalidValue`)", content_type = "application/scim+json", body = Object),
        (status = 401, description = "No bearer token, or not a valid one", content_type = "application/scim+json", body = Object),
        (status = 403, description = "The token does not have the `scim` scope", content_type = "application/scim+json", body = Object),
    ),
    security(("token" = ["scim"]))
)]
async fn list_users(
    State(state): State<AppState>,
    _client: ScimClient,
    Query(params): Query<HashMap<String, String>>,
) -> ScimResult<Response> {
    list_response(
        &state,
        params.get("filter").map(String::as_str),
        number(&params, "startIndex")?,
        number(&params, "count")?,
        &projection(&params),
    )
    .await
}

/// The same list with the query in a SearchRequest body (RFC 7644 §3.4.3).
#[utoipa::path(
    post, path = "/scim/v2/Users/.search", tag = "scim",
    request_body(content = Object, content_type = "application/scim+json", description = "`{\"schemas\": [\"urn:ietf:params:scim:api:messages:2.0:SearchRequest\"], \"filter\", \"startIndex\", \"count\", \"attributes\", \"excludedAttributes\"}`"),
    responses(
        (status = 200, description = "A ListResponse of users", content_type = "application/scim+json", body = Object),
        (status = 400, description = "Not a SearchRequest (`invalidSyntax`), a bad filter or value", content_type = "application/scim+json", body = Object),
        (status = 401, description = "No bearer token, or not a valid one", content_type = "application/scim+json", body = Object),
        (status = 403, description = "The token does not have the `scim` scope", content_type = "application/scim+json", body = Object),
        (status = 413, description = "The body is too large", content_type = "application/json", body = ErrorBody),
        (status = 415, description = "The body is not `application/scim+json` or `application/json`", content_type = "application/scim+json", body = Object),
    ),
    security(("token" = ["scim"]))
)]
async fn search_users(
    State(state): State<AppState>,
    _client: ScimClient,
    headers: HeaderMap,
    body: Bytes,
) -> ScimResult<Response> {
    let body = json_body(&headers, &body)?;
    let request = service::object(&body)?;
    let field = |name: &str| {
        request
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    };
    let schemas_ok = field("schemas")
        .and_then(Value::as_array)
        .is_some_and(|schemas| schemas.iter().any(|schema| schema == SEARCH_SCHEMA));
    if !schemas_ok {
        return Err(ScimError::invalid_syntax(format!(
            "a search body names the schema {SEARCH_SCHEMA}"
        )));
    }
    let text = |name: &str| -> ScimResult<Option<&str>> {
        match field(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.as_str())),
            Some(_) => Err(ScimError::invalid_value(format!("{name} must be a string"))),
        }
    };
    let whole = |name: &str| -> ScimResult<Option<i64>> {
        match field(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => value
                .as_i64()
                .map(Some)
                .ok_or_else(|| ScimError::invalid_value(format!("{name} must be a whole number"))),
        }
    };
    let names = |name: &str| -> ScimResult<Vec<&str>> {
        match field(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    item.as_str().ok_or_else(|| {
                        ScimError::invalid_value(format!("{name} must be a list of strings"))
                    })
                })
                .collect(),
            Some(Value::String(text)) => Ok(vec![text.as_str()]),
            Some(_) => Err(ScimError::invalid_value(format!(
                "{name} must be a list of strings"
            ))),
        }
    };
    if text("sortBy")?.is_some() {
        return Err(ScimError::invalid_value("Plein does not sort SCIM results"));
    }
    let projection = Projection::new(names("attributes")?, names("excludedAttributes")?);
    list_response(
        &state,
        text("filter")?,
        whole("startIndex")?,
        whole("count")?,
        &projection,
    )
    .await
}

/// One user, with its version as ETag (`If-None-Match` answers 304).
#[utoipa::path(
    get, path = "/scim/v2/Users/{id}", tag = "scim",
    params(
        ("id" = String, Path),
        ("attributes" = Option<String>, Query, description = "Comma-separated attributes to return"),
        ("excludedAttributes" = Option<String>, Query, description = "Comma-separated attributes to leave out"),
    ),
    responses(
        (status = 200, description = "The user", content_type = "application/scim+json", body = Object),
        (status = 304, description = "Not modified"),
        (status = 401, description = "No bearer token, or not a valid one", content_type = "application/scim+json", body = Object),
        (status = 403, description = "The token does not have the `scim` scope", content_type = "application/scim+json", body = Object),
        (status = 404, description = "No such user", content_type = "application/scim+json", body = Object),
    ),
    security(("token" = ["scim"]))
)]
async fn get_user(
    State(state): State<AppState>,
    _client: ScimClient,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> ScimResult<Response> {
    let person = service::get(&state.db, &id).await?;
    let current = version(&person);
    let unchanged = crate::http::etag_matches(&headers, &current);
    if unchanged {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(etag) = HeaderValue::from_str(&current) {
            response.headers_mut().insert(header::ETAG, etag);
        }
        return Ok(response);
    }
    Ok(user_response(
        StatusCode::OK,
        &person,
        &base(&state),
        &projection(&params),
    ))
}

/// Creates a user: `userName` is required (any unique name); the address comes from `emails`
/// (primary, else work) or a `userName` that is one, and may be absent.
#[utoipa::path(
    post, path = "/scim/v2/Users", tag = "scim",
    params(
        ("attributes" = Option<String>, Query, description = "Comma-separated attributes to return"),
        ("excludedAttributes" = Option<String>, Query, description = "Comma-separated attributes to leave out"),
    ),
    request_body(content = Object, content_type = "application/scim+json", description = "A User resource"),
    responses(
        (status = 201, description = "Created; `Location` and `ETag` name it", content_type = "application/scim+json", body = Object),
        (status = 400, description = "Bad JSON (`invalidSyntax`), attribute (`invalidPath`) or value (`invalidValue`)", content_type = "application/scim+json", body = Object),
        (status = 401, description = "No bearer token, or not a valid one", content_type = "application/scim+json", body = Object),
        (status = 403, description = "The token does not have the `scim` scope", content_type = "application/scim+json", body = Object),
        (status = 409, description = "userName, address, externalId or employeeNumber in use (`uniqueness`)", content_type = "application/scim+json", body = Object),
        (status = 413, description = "The body is too large", content_type = "application/json", body = ErrorBody),
        (status = 415, description = "The body is not `application/scim+json` or `application/json`", content_type = "application/scim+json", body = Object),
    ),
    security(("token" = ["scim"]))
)]
async fn create_user(
    State(state): State<AppState>,
    _client: ScimClient,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> ScimResult<Response> {
    let body = json_body(&headers, &body)?;
    let person = service::create(&state.db, &state.doorbell, &body).await?;
    Ok(user_response(
        StatusCode::CREATED,
        &person,
        &base(&state),
        &projection(&params),
    ))
}

/// Replaces a user (PUT): what the body leaves out is cleared. `If-Match` guards the version.
#[utoipa::path(
    put, path = "/scim/v2/Users/{id}", tag = "scim",
    params(
        ("id" = String, Path),
        ("attributes" = Option<String>, Query, description = "Comma-separated attributes to return"),
        ("excludedAttributes" = Option<String>, Query, description = "Comma-separated attributes to leave out"),
    ),
    request_body(content = Object, content_type = "application/scim+json", description = "The whole User resource"),
    responses(
        (status = 200, description = "The user as stored", content_type = "application/scim+json", body = Object),
        (status = 400, description = "Bad JSON, attribute or value", content_type = "application/scim+json", body = Object),
        (status = 401, description = "No bearer token, or not a valid one", content_type = "application/scim+json", body = Object),
        (status = 403, description = "The token does not have the `scim` scope", content_type = "application/scim+json", body = Object),
        (status = 404, description = "No such user", content_type = "application/scim+json", body = Object),
        (status = 409, description = "A unique value in use, or the last admin", content_type = "application/scim+json", body = Object),
        (status = 412, description = "`If-Match` names another version", content_type = "application/scim+json", body = Object),
        (status = 413, description = "The body is too large", content_type = "application/json", body = ErrorBody),
        (status = 415, description = "The body is not `application/scim+json` or `application/json`", content_type = "application/scim+json", body = Object),
    ),
    security(("token" = ["scim"]))
)]
async fn replace_user(
    State(state): State<AppState>,
    _client: ScimClient,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> ScimResult<Response> {
    let body = json_body(&headers, &body)?;
    let person =
        service::replace(&state.db, &state.doorbell, &id, &body, if_match(&headers)).await?;
    Ok(user_response(
        StatusCode::OK,
        &person,
        &base(&state),
        &projection(&params),
    ))
}

/// Changes a user with a PatchOp (`add`, `replace`, `remove`, with or without a path).
#[utoipa::path(
    patch, path = "/scim/v2/Users/{id}", tag = "scim",
    params(
        ("id" = String, Path),
        ("attributes" = Option<String>, Query, description = "Comma-separated attributes to return"),
        ("excludedAttributes" = Option<String>, Query, description = "Comma-separated attributes to leave out"),
    ),
    request_body(content = Object, content_type = "application/scim+json", description = "A PatchOp message"),
    responses(
        (status = 200, description = "The user as stored", content_type = "application/scim+json", body = Object),
        (status = 400, description = "Bad JSON, operation, path or value", content_type = "application/scim+json", body = Object),
        (status = 401, description = "No bearer token, or not a valid one", content_type = "application/scim+json", body = Object),
        (status = 403, description = "The token does not have the `scim` scope", content_type = "application/scim+json", body = Object),
        (status = 404, description = "No such user", content_type = "application/scim+json", body = Object),
        (status = 409, description = "A unique value in use, or the last admin", content_type = "application/scim+json", body = Object),
        (status = 412, description = "`If-Match` names another version", content_type = "application/scim+json", body = Object),
        (status = 413, description = "The body is too large", content_type = "application/json", body = ErrorBody),
        (status = 415, description = "The body is not `application/scim+json` or `application/json`", content_type = "application/scim+json", body = Object),
    ),
    security(("token" = ["scim"]))
)]
async fn patch_user(
    State(state): State<AppState>,
    _client: ScimClient,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> ScimResult<Response> {
    let body = json_body(&headers, &body)?;
    let person = service::patch(&state.db, &state.doorbell, &id, &body, if_match(&headers)).await?;
    Ok(user_response(
        StatusCode::OK,
        &person,
        &base(&state),
        &projection(&params),
    ))
}

/// Deletes a user for SCIM: in Plein they are deactivated (sessions end) and kept for history.
#[utoipa::path(
    delete, path = "/scim/v2/Users/{id}", tag = "scim",
    params(("id" = String, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No bearer token, or not a valid one", content_type = "application/scim+json", body = Object),
        (status = 403, description = "The token does not have the `scim` scope", content_type = "application/scim+json", body = Object),
        (status = 404, description = "No such user", content_type = "application/scim+json", body = Object),
        (status = 409, description = "The last admin", content_type = "application/scim+json", body = Object),
        (status = 412, description = "`If-Match` names another version", content_type = "application/scim+json", body = Object),
    ),
    security(("token" = ["scim"]))
)]
async fn delete_user(
    State(state): State<AppState>,
    _client: ScimClient,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ScimResult<StatusCode> {
    service::delete(&state.db, &state.doorbell, &id, if_match(&headers)).await?;
    Ok(StatusCode::NO_CONTENT)
}
