//! The browser client, built from `web/` by the build script and embedded in the binary.
//!
//! Files under `/assets/app/` carry a content hash in their names and are cached for a year;
//! everything else, `index.html` above all, is revalidated on every load so a new release is
//! picked up at once. Any other path that is not the API's is a client route (`/people/…`,
//! `/search?q=…`) and gets `index.html`, which routes in the browser.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::error::ApiError;

#[derive(RustEmbed)]
#[folder = "$OUT_DIR/web"]
struct Client;

const HASHED_ASSETS: &str = "assets/app/";
const INDEX: &str = "index.html";

/// Paths the client never owns: unknown ones there stay JSON 404s.
const SERVER_PREFIXES: &[&str] = &["api/", "scim/", "healthz", "readyz", "metrics"];

/// The router's fallback: a client file, the client's `index.html`, or a 404.
pub async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().trim_start_matches('/');
    let server_path = path == "api"
        || SERVER_PREFIXES
            .iter()
            .any(|prefix| path.starts_with(prefix));
    if server_path || (method != Method::GET && method != Method::HEAD) {
        return ApiError::from_status(StatusCode::NOT_FOUND).into_response();
    }
    if !path.is_empty()
        && path != INDEX
        && let Some(file) = Client::get(path)
    {
        let cache = if path.starts_with(HASHED_ASSETS) {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        return respond(&headers, file, cache);
    }
    // A missing file (an extension in the last segment) is a 404, not the app.
    let last = path.rsplit('/').next().unwrap_or_default();
    if last.contains('.') {
        return ApiError::from_status(StatusCode::NOT_FOUND).into_response();
    }
    match Client::get(INDEX) {
        Some(file) => respond(&headers, file, "no-cache"),
        None => ApiError::internal(anyhow::anyhow!(
            "the web client was not built into this binary"
        ))
        .into_response(),
    }
}

fn respond(headers: &HeaderMap, file: rust_embed::EmbeddedFile, cache: &'static str) -> Response {
    let hash = file.metadata.sha256_hash();
    let etag = format!(
        "\"{}\"",
        hash.iter()
            .take(16)
            .map(|byte| format!("{byte:02x}"))
            .collect::<String>()
    );
    let etag_value = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\""));
    let matches = super::etag_matches(headers, &etag);
    let content_type = HeaderValue::from_str(file.metadata.mimetype())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let cache = HeaderValue::from_static(cache);
    if matches {
        return (
            StatusCode::NOT_MODIFIED,
            [(ETAG, etag_value), (CACHE_CONTROL, cache)],
        )
            .into_response();
    }
    (
        [
            (CONTENT_TYPE, content_type),
            (ETAG, etag_value),
            (CACHE_CONTROL, cache),
        ],
        file.data,
    )
        .into_response()
}
