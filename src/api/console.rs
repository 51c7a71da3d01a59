//! `GET /console`: the web console, plain HTML, CSS and JavaScript embedded in the crate (no
//! CDN, no build step, nothing fetched at run time but the API's own answers).
//!
//! The page runs under a strict Content-Security-Policy: scripts and styles only from the
//! console's own files (no inline script, no `eval`), requests only to its own origin, no
//! frames. The script puts every value into the page as text (`textContent`, SVG text nodes),
//! never as HTML.

use axum::body::Body;
use axum::extract::Path;
use axum::response::Response;
use http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_FRAME_OPTIONS};
use http::{HeaderValue, StatusCode};

const PAGE: &str = include_str!("console/index.html");
const SCRIPT: &str = include_str!("console/console.js");
const STYLE: &str = include_str!("console/console.css");
/// The countries of the map: Natural Earth's 1:110m shapes as SVG paths, built from npm's
/// `world-atlas` at development time (`tools/world-map`), 124 KB.
const WORLD: &str = include_str!("console/world.json");

/// Only the console's own files; data only from its own origin; nothing else.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

pub(crate) async fn page() -> Response {
    serve(PAGE, "text/html; charset=utf-8")
}

pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    match name.as_str() {
        "console.js" => serve(SCRIPT, "text/javascript; charset=utf-8"),
        "console.css" => serve(STYLE, "text/css; charset=utf-8"),
        "world.json" => serve(WORLD, "application/json"),
        _ => {
            let mut response = serve("not found\n", "text/plain; charset=utf-8");
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
    }
}

fn serve(body: &'static str, content_type: &'static str) -> Response {
    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    super::json::no_store(headers);
    response
}
