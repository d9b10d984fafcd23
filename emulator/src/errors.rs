//! Microsoft Graph's error body and the request ids every Graph response carries.

use crate::store::StoreError;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The ids of one request: ours, and the caller's `client-request-id` echoed back.
#[derive(Debug, Clone)]
pub struct RequestIds {
    pub request_id: String,
    pub client_request_id: String,
}

impl RequestIds {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let request_id = crate::util::new_guid();
        let client_request_id = headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 200)
            .map(str::to_string)
            .unwrap_or_else(|| request_id.clone());
        RequestIds {
            request_id,
            client_request_id,
        }
    }
}

/// A Graph error: status, `error.code`, `error.message`.
#[derive(Debug, Clone)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// Seconds for the `Retry-After` header (throttling and unavailability).
    pub retry_after: Option<u64>,
}

pub type GraphResult<T> = Result<T, GraphError>;

impl GraphError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        GraphError {
            status,
            code: code.to_string(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// Directory validation failures (`Request_BadRequest`).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Request_BadRequest", message)
    }

    /// Failures raised by the OData layer in front of the directory (`BadRequest`).
    pub fn odata(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// A valid query the directory does not support (`Request_UnsupportedQuery`).
    pub fn unsupported_query(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", message)
    }

    pub fn not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    }

    /// A path or method Graph has no route for.
    pub fn no_route(path: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("Resource not found for the segment '{path}'."),
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
        )
    }

    pub fn invalid_value(property: &str, resource: &str) -> Self {
        Self::bad_request(format!(
            "Invalid value specified for property '{property}' of resource '{resource}'."
        ))
    }

    pub fn unknown_property(property: &str, odata_type: &str) -> Self {
        Self::odata(format!(
            "Property '{property}' does not exist on type '{odata_type}'. Make sure to only use property names that are defined by the type or mark the type as open type."
        ))
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            message,
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "UnknownError", message)
    }

    /// The response, with the request ids in `innerError`.
    pub fn render(&self, ids: &RequestIds) -> Response {
        let body = json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {
                    "date": crate::util::inner_error_date(),
                    "request-id": ids.request_id,
                    "client-request-id": ids.client_request_id,
                }
            }
        });
        let mut resp = (self.status, crate::graph::json_body(&body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert("Retry-After", HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                "WWW-Authenticate",
                HeaderValue::from_static(
                    "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
                ),
            );
        }
        resp.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        resp
    }
}

/// Graph reports malformed queries and unknown properties as `BadRequest` (its OData
/// layer) and valid but unsupported ones as `Request_UnsupportedQuery` (the directory).
impl From<crate::odata::ODataError> for GraphError {
    fn from(e: crate::odata::ODataError) -> Self {
        match e.kind {
            crate::odata::ErrorKind::Unsupported => GraphError::unsupported_query(e.message),
            _ => GraphError::odata(e.message),
        }
    }
}

impl From<StoreError> for GraphError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e.0, "emulator state");
        GraphError::internal("The emulator could not access its state.")
    }
}
