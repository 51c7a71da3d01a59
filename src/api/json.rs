//! JSON answers, with the headers every answer of the API carries.

use axum::body::Body;
use axum::response::Response;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use http::{HeaderValue, StatusCode};

/// `body` (JSON text) as a response that no cache keeps and no browser sniffs as HTML.
pub(crate) fn response(status: StatusCode, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    no_store(headers);
    response
}

/// Security log pages are never cached and never sniffed.
pub(crate) fn no_store(headers: &mut http::HeaderMap) {
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
}

/// A query's warnings, as the `warnings` member of an answer:
/// `[{"field":"event.name","value":"...","suggestion":"..."|null,"message":"..."}]`.
pub(crate) fn warnings(warnings: &[crate::query::QueryWarning]) -> serde_json::Value {
    warnings
        .iter()
        .map(|w| {
            serde_json::json!({
                "field": w.field(),
                "value": w.value(),
                "suggestion": w.suggestion(),
                "message": w.to_string(),
            })
        })
        .collect()
}
