//! The few pages the server renders itself: the first-run setup form and a landing page.

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::get;

const SETUP_HTML: &str = include_str!("../../assets/setup.html");
const SETUP_JS: &str = include_str!("../../assets/setup.js");
const INDEX_HTML: &str = include_str!("../../assets/index.html");
const STYLESHEET: &str = include_str!("../../assets/plein.css");

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/",
            get(|| async { page("text/html; charset=utf-8", INDEX_HTML) }),
        )
        .route(
            "/setup",
            get(|| async { page("text/html; charset=utf-8", SETUP_HTML) }),
        )
        .route(
            "/assets/setup.js",
            get(|| async { page("text/javascript; charset=utf-8", SETUP_JS) }),
        )
        .route(
            "/assets/plein.css",
            get(|| async { page("text/css; charset=utf-8", STYLESHEET) }),
        )
}

fn page(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")],
        body,
    )
}
