//! The one API error type and its JSON body `{"error": {"code", "message", "fields"}}`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The error body every `/api` route answers with.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_credentials`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// Per-field problems, keyed by field name (JSON path for nested fields).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    /// Per-row problems of an uploaded file (HR import), every bad row listed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<RowProblem>,
}

/// What is wrong with one row of an uploaded file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RowProblem {
    /// Line number in the file, counting the header as line 1.
    pub line: u64,
    /// The row's key (employee number) when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employee_id: Option<String>,
    /// The column at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub message: String,
}

/// An internal error, attached to the response so the logging middleware can record it once,
/// inside the request's span, without the details reaching the client.
#[derive(Clone)]
pub struct InternalErrorReport(pub Arc<anyhow::Error>);

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub fields: BTreeMap<String, String>,
    pub rows: Vec<RowProblem>,
    pub retry_after_secs: Option<u64>,
    pub internal: Option<anyhow::Error>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            fields: BTreeMap::new(),
            rows: Vec::new(),
            retry_after_secs: None,
            internal: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 422 with one message per offending field.
    pub fn validation(fields: BTreeMap<String, String>) -> Self {
        let mut error = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "some fields are not valid",
        );
        error.fields = fields;
        error
    }

    pub fn field(field: &str, problem: impl Into<String>) -> Self {
        Self::validation(BTreeMap::from([(field.to_owned(), problem.into())]))
    }

    /// 422 for an uploaded file with bad rows; nothing was changed.
    pub fn rows(message: impl Into<String>, rows: Vec<RowProblem>) -> Self {
        let mut error = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_rows", message);
        error.rows = rows;
        error
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "you need to sign in",
        )
    }

    pub fn invalid_credentials() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "the email address or password is wrong",
        )
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn forbidden_code(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn is_not_found(&self) -> bool {
        self.status == StatusCode::NOT_FOUND
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let mut error = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many attempts, try again in {retry_after_secs} seconds"),
        );
        error.retry_after_secs = Some(retry_after_secs);
        error
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        let mut api_error = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "something went wrong on our side; it has been logged",
        );
        api_error.internal = Some(error.into());
        api_error
    }

    /// The stable code used for a bare status answered by a layer rather than a handler.
    pub fn code_for_status(status: StatusCode) -> &'static str {
        match status {
            StatusCode::BAD_REQUEST => "bad_request",
            StatusCode::UNAUTHORIZED => "unauthenticated",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::REQUEST_TIMEOUT => "request_timeout",
            StatusCode::CONFLICT => "conflict",
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::UNPROCESSABLE_ENTITY => "validation_failed",
            StatusCode::TOO_MANY_REQUESTS => "rate_limited",
            StatusCode::SERVICE_UNAVAILABLE => "unavailable",
            status if status.is_server_error() => "internal_error",
            _ => "error",
        }
    }

    /// The message used for a bare status answered by a layer rather than a handler.
    pub fn message_for_status(status: StatusCode) -> &'static str {
        match status {
            StatusCode::NOT_FOUND => "no such route",
            StatusCode::METHOD_NOT_ALLOWED => "this route does not accept that method",
            StatusCode::REQUEST_TIMEOUT => "the request took too long and was stopped",
            StatusCode::PAYLOAD_TOO_LARGE => "the request body is larger than the server accepts",
            StatusCode::FORBIDDEN => "this request is not allowed",
            StatusCode::UNAUTHORIZED => "you need to sign in",
            status if status.is_server_error() => {
                "something went wrong on our side; it has been logged"
            }
            _ => "the request could not be handled",
        }
    }

    pub fn from_status(status: StatusCode) -> Self {
        Self::new(
            status,
            Self::code_for_status(status),
            Self::message_for_status(status),
        )
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        ApiError::internal(error)
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        ApiError::internal(error)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                fields: self.fields,
                rows: self.rows,
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(internal) = self.internal {
            response
                .extensions_mut()
                .insert(InternalErrorReport(Arc::new(internal)));
        }
        response
    }
}
