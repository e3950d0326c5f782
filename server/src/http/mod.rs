//! HTTP plumbing shared by every domain: extractors, pagination, middleware, OpenAPI.

pub mod extractors;
pub mod middleware;
pub mod openapi;
pub mod ops;
pub mod pagination;
pub mod web;

pub use extractors::{
    AdminCaller, AppJson, AppPath, AppQuery, Auth, ClientIp, CurrentPerson, HrCaller, Upload,
};

/// Whether the client's `If-None-Match` names `etag` (a list of tags, compared exactly), so the
/// answer can be `304 Not Modified`.
pub fn etag_matches(headers: &axum::http::HeaderMap, etag: &str) -> bool {
    headers
        .get(axum::http::header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag))
}
