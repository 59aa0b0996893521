//! API errors: the one place where service errors become HTTP status codes and JSON bodies.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use seqbank_service::{Error, FindingView};
use serde_json::json;

/// An error answered as JSON: `{"error": {"code", "message", "path"?, "findings"?}}`.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

impl From<seqbank_metadata::ParseError> for ApiError {
    fn from(e: seqbank_metadata::ParseError) -> Self {
        Self(Error::BadRequest(e))
    }
}

impl ApiError {
    /// The status code and error code of a service error.
    pub(crate) fn status_of(error: &Error) -> StatusCode {
        Self::codes(error).0
    }

    fn codes(error: &Error) -> (StatusCode, &'static str) {
        match error {
            Error::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            Error::BadCredentials => (StatusCode::UNAUTHORIZED, "bad_credentials"),
            Error::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Error::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Error::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            Error::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Error::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            Error::Gone(_) => (StatusCode::GONE, "gone"),
            Error::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = Self::codes(&self.0);
        let mut body = json!({"code": code, "message": self.0.to_string()});
        match &self.0 {
            Error::BadRequest(e) if !e.path.is_empty() => body["path"] = json!(e.path),
            Error::Invalid(findings) => {
                body["findings"] =
                    json!(findings.iter().map(FindingView::from).collect::<Vec<_>>());
                if let Some(first) = findings.iter().find(|f| f.severity.is_error()) {
                    body["path"] = json!(first.path);
                    body["message"] = json!(format!("{}: {}", self.0, first.message));
                }
            }
            Error::Internal(source) => {
                // Details go to the log, never to the client.
                tracing::error!(error = %source, "internal error");
            }
            _ => {}
        }
        let mut response = (status, Json(json!({"error": body}))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
