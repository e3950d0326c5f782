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

/// The client's address. Behind trusted proxies (`trusted_proxies`) it is the right-most
/// `X-Forwarded-For` address that is not one of them: everything left of that was written by
/// the client and proves nothing. Otherwise it is the socket peer.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip())
            .ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!("server started without connect info"))
            })?;
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok());
        Ok(ClientIp(client_address(
            peer,
            forwarded,
            &state.config.trusted_proxies,
        )))
    }
}

/// Walks from the socket peer leftwards through `X-Forwarded-For` while the hop is a trusted
/// proxy; the first untrusted hop is the client. A hop that is not an address stops the walk
/// at the last trusted one.
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded: impl Iterator<Item = &'a str>,
    trusted: &[ipnet::IpNet],
) -> IpAddr {
    let is_trusted = |address: &IpAddr| trusted.iter().any(|net| net.contains(address));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded
        .flat_map(|header| header.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(address) = hop.parse::<IpAddr>() else {
            break;
        };
        client = address;
        if !is_trusted(&address) {
            break;
        }
    }
    client
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
            // An API token, or a person's session secret (clients without cookies: the
            // socket's load generator, native apps).
            let principal = if token.starts_with(crate::auth::tokens::API_TOKEN_PREFIX) {
                auth_service::authenticate_token(&state.db, token).await?
            } else {
                auth_service::authenticate_session(&state.db, token).await?
            };
            if let Principal::Token(token) = &principal
                && !token.reaches(&parts.method, parts.uri.path())
            {
                return Err(ApiError::forbidden_code(
                    "insufficient_scope",
                    "this API token's scopes do not reach this route",
                ));
            }
            principal
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

/// A caller allowed into the admin area (an admin, or an `admin` token), checked before the
/// body is read: someone else sending a malformed body learns only that the route is not theirs.
/// The services check again.
pub struct AdminCaller(pub Principal);

impl FromRequestParts<AppState> for AdminCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Auth(principal) = Auth::from_request_parts(parts, state).await?;
        principal.require_admin()?;
        Ok(AdminCaller(principal))
    }
}

/// A signed-in person of HR or an admin, checked before the body is read (as `AdminCaller`).
pub struct HrCaller(pub AuthenticatedPerson);

impl FromRequestParts<AppState> for HrCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let CurrentPerson(person) = CurrentPerson::from_request_parts(parts, state).await?;
        if !matches!(
            person.role,
            crate::directory::dto::Role::Hr | crate::directory::dto::Role::Admin
        ) {
            return Err(ApiError::forbidden("only HR and admins may do this"));
        }
        Ok(HrCaller(person))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> IpAddr {
        text.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    fn nets(list: &[&str]) -> Vec<ipnet::IpNet> {
        list.iter().filter_map(|text| text.parse().ok()).collect()
    }

    #[test]
    fn the_client_is_the_right_most_hop_that_is_not_a_trusted_proxy() {
        let proxies = nets(&["10.0.0.0/8", "127.0.0.1/32"]);
        let via = |peer: &str, header: &str| {
            client_address(address(peer), [header].into_iter(), &proxies)
        };
        // The client wrote the first hop itself; the proxy appended what it saw.
        assert_eq!(
            via("10.0.0.2", "6.6.6.6, 203.0.113.9"),
            address("203.0.113.9")
        );
        // Two proxies in a row.
        assert_eq!(
            via("127.0.0.1", "6.6.6.6, 203.0.113.9, 10.1.2.3"),
            address("203.0.113.9")
        );
        // A peer that is no proxy: its header means nothing.
        assert_eq!(via("198.51.100.1", "203.0.113.9"), address("198.51.100.1"));
        // Garbage stops the walk at the last trusted hop.
        assert_eq!(
            via("10.0.0.2", "203.0.113.9, not-an-ip"),
            address("10.0.0.2")
        );
        // Every hop trusted: the left-most is as far as we can see.
        assert_eq!(via("10.0.0.2", "10.3.3.3"), address("10.3.3.3"));
        // Several header lines count as one list.
        assert_eq!(
            client_address(
                address("10.0.0.2"),
                ["6.6.6.6", "203.0.113.9"].into_iter(),
                &proxies
            ),
            address("203.0.113.9")
        );
        // No proxies configured: the header is ignored.
        assert_eq!(
            client_address(address("127.0.0.1"), ["6.6.6.6"].into_iter(), &[]),
            address("127.0.0.1")
        );
    }
}
