//! Extractors whose rejections use our error format, and the authenticated caller.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::auth::service::{self as auth_service, SESSION_COOKIE};
use crate::auth::{AuthenticatedPerson, Principal};
use crate::error::ApiError;
use crate::state::AppState;

/// JSON body. Unlike `axum::Json`, every failure answers in our error format and wrong types name
/// the field (as a JSON path) in `fields`.
pub struct AppJson<T>(pub T);

impl<T, S> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(body_rejection)?;
        let deserializer = &mut serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize::<_, T>(deserializer) {
            Ok(value) => Ok(AppJson(value)),
            Err(error) => {
                let path = error.path().to_string();
                let inner = error.into_inner();
                match inner.classify() {
                    serde_json::error::Category::Data => {
                        let mut api_error = ApiError::new(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "invalid_body",
                            format!("the request body does not have the expected shape: {inner}"),
                        );
                        let field = if path == "." { "body".to_owned() } else { path };
                        api_error.fields =
                            BTreeMap::from([(field, strip_position(&inner.to_string()))]);
                        Err(api_error)
                    }
                    _ => Err(ApiError::bad_request(
                        "malformed_json",
                        format!("the request body is not valid JSON: {inner}"),
                    )),
                }
            }
        }
    }
}

/// A raw upload (a CSV file, a photo) with its media type, read in our error format. The route
/// decides which media types it takes.
pub struct Upload {
    /// Lower-cased media type without parameters; empty when the client sent none.
    pub media_type: String,
    pub bytes: Bytes,
}

impl Upload {
    /// Refuses any media type not in `accepted`.
    pub fn require(&self, accepted: &[&str], what: &str) -> Result<(), ApiError> {
        if accepted.contains(&self.media_type.as_str()) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!(
                    "send {what} with `Content-Type: {}`",
                    accepted.join("` or `")
                ),
            ))
        }
    }
}

impl Upload {
    /// Reads a body of at most `limit` bytes. Upload routes turn axum's default limit off and
    /// call this with their own.
    pub async fn read(
        headers: &HeaderMap,
        body: axum::body::Body,
        limit: usize,
    ) -> Result<Self, ApiError> {
        let media_type = headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .map(|mime| mime.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let bytes = axum::body::to_bytes(body, limit).await.map_err(|error| {
            let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&error);
            let mut too_large = false;
            while let Some(current) = cause {
                too_large |= current.is::<http_body_util::LengthLimitError>();
                cause = current.source();
            }
            if too_large {
                ApiError::from_status(StatusCode::PAYLOAD_TOO_LARGE)
            } else {
                ApiError::bad_request(
                    "unreadable_body",
                    format!("cannot read the request body: {error}"),
                )
            }
        })?;
        Ok(Upload { media_type, bytes })
    }
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::from_status(StatusCode::PAYLOAD_TOO_LARGE)
    } else {
        ApiError::bad_request(
            "unreadable_body",
            format!("cannot read the request body: {}", rejection.body_text()),
        )
    }
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

impl<T: Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Query string, rejected in our error format.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct AppQuery<T>(pub T);

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::bad_request("invalid_query", rejection.body_text())
    }
}

/// Path parameters, rejected in our error format (a malformed id is simply not found).
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct AppPath<T>(pub T);

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        match rejection {
            PathRejection::FailedToDeserializePathParams(inner) => ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no such resource: {}", inner.body_text()),
            ),
            other => ApiError::internal(anyhow::anyhow!(
                "path extraction failed: {}",
                other.body_text()
            )),
        }
    }
}

/// The client's address: the socket peer, or the first `X-Forwarded-For` hop when
/// `trust_proxy_headers` is on.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.config.trust_proxy_headers
            && let Some(forwarded) = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.split(',').next())
                .and_then(|first| first.trim().parse::<IpAddr>().ok())
        {
            return Ok(ClientIp(forwarded));
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip())
            .ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!("server started without connect info"))
            })?;
        Ok(ClientIp(peer))
    }
}

/// Whoever is calling: a signed-in person (session cookie) or an integration (bearer token).
#[derive(Clone)]
pub struct Auth(pub Principal);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(principal) = parts.extensions.get::<Principal>() {
            return Ok(Auth(principal.clone()));
        }
        let principal = if let Some(header) = parts.headers.get(AUTHORIZATION) {
            let token = header
                .to_str()
                .ok()
                .and_then(|value| {
                    value
                        .strip_prefix("Bearer ")
                        .or_else(|| value.strip_prefix("bearer "))
                })
                .map(str::trim)
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        "unauthenticated",
                        "the Authorization header must be `Bearer <token>`",
                    )
                })?;
            auth_service::authenticate_token(&state.db, token).await?
        } else {
            let jar = CookieJar::from_headers(&parts.headers);
            let token = jar
                .get(SESSION_COOKIE)
                .map(|cookie| cookie.value().to_owned())
                .ok_or_else(ApiError::unauthenticated)?;
            auth_service::authenticate_session(&state.db, &token).await?
        };
        parts.extensions.insert(principal.clone());
        Ok(Auth(principal))
    }
}

/// A signed-in person; integrations with a token are refused.
pub struct CurrentPerson(pub AuthenticatedPerson);

impl FromRequestParts<AppState> for CurrentPerson {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Auth(principal) = Auth::from_request_parts(parts, state).await?;
        match principal {
            Principal::Person(person) => Ok(CurrentPerson(person)),
            Principal::Token(_) => Err(ApiError::forbidden(
                "this route is for signed-in people, not API tokens",
            )),
        }
    }
}
