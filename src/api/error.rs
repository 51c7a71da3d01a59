//! The API's errors, as JSON: `{"error":{"code":...,"message":...}}`, with the parameter and
//! the column for a bad parameter.

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::json;

/// Why a request got no records.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// 400: a parameter could not be read.
    InvalidParameter {
        parameter: String,
        message: String,
        column: Option<usize>,
    },
    /// 401: nobody authenticated.
    Unauthorized,
    /// 403: the reader may not read the log.
    Forbidden,
    /// 404: no such record, or not one this reader may see.
    NotFound,
    /// 503: the read took longer than its deadline, and was stopped.
    DeadlineExceeded(std::time::Duration),
    /// 500: the store could not answer; the reason is reported, not sent.
    Internal,
}

impl ApiError {
    pub(crate) fn parameter(parameter: &str, message: impl Into<String>) -> Self {
        ApiError::InvalidParameter {
            parameter: parameter.to_owned(),
            message: message.into(),
            column: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            ApiError::InvalidParameter {
                parameter,
                message,
                column,
            } => {
                let mut error = json!({
                    "code": "invalid_parameter",
                    "parameter": parameter,
                    "message": message,
                });
                if let Some(column) = column {
                    error["column"] = column.into();
                }
                (StatusCode::BAD_REQUEST, error)
            }
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                json!({"code": "unauthorized", "message": "sign in to read the security log"}),
            ),
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                json!({"code": "forbidden", "message": "not allowed to read the security log"}),
            ),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                json!({"code": "not_found", "message": "no such security log record"}),
            ),
            ApiError::DeadlineExceeded(limit) => (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({
                    "code": "deadline_exceeded",
                    "message": format!(
                        "the read took longer than {} s and was stopped: narrow the query \
                         (a time range, an event)",
                        limit.as_secs_f64()
                    ),
                }),
            ),
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"code": "internal", "message": "the security log could not be read"}),
            ),
        };
        super::json::response(status, json!({ "error": body }).to_string())
    }
}
