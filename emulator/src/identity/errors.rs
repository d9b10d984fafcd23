//! The Entra ID (AADSTS) OAuth error body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, Clone)]
pub struct AadError {
    pub status: StatusCode,
    /// The OAuth `error` value, e.g. `invalid_request`.
    pub error: &'static str,
    /// The AADSTS number.
    pub code: u32,
    pub description: String,
}

impl AadError {
    pub fn new(
        status: StatusCode,
        error: &'static str,
        code: u32,
        description: impl Into<String>,
    ) -> Self {
        AadError {
            status,
            error,
            code,
            description: description.into(),
        }
    }

    pub fn missing(param: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{param}'."),
        )
    }

    pub fn unknown_tenant(tenant: &str, error: &'static str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            error,
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        )
    }

    pub fn invalid_client(code: u32, description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            code,
            description,
        )
    }

    pub fn render(&self, correlation_id: &str) -> Response {
        let trace_id = crate::util::new_guid();
        let timestamp = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]Z"
            ))
            .unwrap_or_default();
        let body = json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
                self.code, self.description
            ),
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        });
        (self.status, axum::Json(body)).into_response()
    }
}

/// The token endpoint's answer to an injected fault. A throttled token request gets a
/// bare `429 Too Many Requests` text body with `Retry-After` (as MSAL.NET reports it:
/// AzureAD/microsoft-authentication-library-for-dotnet issue #2855, "StatusCode: 429
/// ResponseBody: Too Many Requests Headers: Retry-After: 60"); an unavailable one the
/// OAuth `temporarily_unavailable` error (RFC 6749 §4.1.2.1), which MSAL retries on.
pub fn render_fault(
    status: StatusCode,
    retry_after: Option<u64>,
    _req: &axum::extract::Request,
) -> Response {
    let mut resp = if status == StatusCode::TOO_MANY_REQUESTS {
        (status, "Too Many Requests").into_response()
    } else {
        let body = json!({
            "error": "temporarily_unavailable",
            "error_description": "The service is temporarily unavailable. Retry the request after the time given in the Retry-After header.",
            "error_codes": [],
            "timestamp": crate::util::now_iso(),
            "trace_id": crate::util::new_guid(),
            "correlation_id": crate::util::new_guid(),
        });
        (status, axum::Json(body)).into_response()
    };
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert("Retry-After", axum::http::HeaderValue::from(secs));
    }
    resp
}
