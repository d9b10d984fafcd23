//! ARM's error body (`CloudError`: `{"error":{"code","message"}}`) and the request ids
//! every ARM response carries (`x-ms-request-id`, `x-ms-correlation-request-id`).
//! Source: Azure/azure-rest-api-specs:specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json
//! (`CloudError`, `ErrorResponse`); MicrosoftDocs/azure-docs:articles/azure-resource-manager/management/request-limits-and-throttling.md
//! (429 `TooManyRequests` with `Retry-After`).

use crate::store::StoreError;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The ids of one ARM request. The correlation id is the caller's when it sent one.
#[derive(Debug, Clone)]
pub struct ArmIds {
    pub request_id: String,
    pub correlation_id: String,
}

impl ArmIds {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let request_id = crate::util::new_guid();
        let correlation_id = headers
            .get("x-ms-correlation-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| crate::util::is_guid(v))
            .map(str::to_string)
            .unwrap_or_else(crate::util::new_guid);
        ArmIds {
            request_id,
            correlation_id,
        }
    }

    pub fn of(req: &Request) -> Self {
        req.extensions()
            .get::<ArmIds>()
            .cloned()
            .unwrap_or_else(|| ArmIds::from_headers(req.headers()))
    }

    /// Put the ids on a response.
    pub fn stamp(&self, resp: &mut Response) {
        let h = resp.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&self.request_id) {
            h.insert("x-ms-request-id", v);
        }
        if let Ok(v) = HeaderValue::from_str(&self.correlation_id) {
            h.insert("x-ms-correlation-request-id", v);
        }
    }
}

#[derive(Debug, Clone)]
pub struct ArmError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub retry_after: Option<u64>,
    /// `WWW-Authenticate` for 401s.
    pub www_authenticate: Option<String>,
}

pub type ArmResult<T> = Result<T, ArmError>;

/// A request body as JSON, or ARM's 400 for content it cannot deserialize (every ARM
/// write says this the same way).
pub fn json_body(body: &[u8]) -> ArmResult<serde_json::Value> {
    serde_json::from_slice(body).map_err(|e| {
        ArmError::new(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
            format!("The request content was invalid and could not be deserialized: '{e}'."),
        )
    })
}

impl ArmError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ArmError {
            status,
            code: code.to_string(),
            message: message.into(),
            retry_after: None,
            www_authenticate: None,
        }
    }

    /// Source: Azure/azure-rest-api-specs (every ARM operation declares the
    /// `api-version` query parameter as required); the code and message are ARM's.
    pub fn missing_api_version() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    }

    pub fn subscription_not_found(sub: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "SubscriptionNotFound",
            format!("The subscription '{sub}' could not be found."),
        )
    }

    pub fn render(&self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert("Retry-After", HeaderValue::from(secs));
        }
        if let Some(v) = self
            .www_authenticate
            .as_deref()
            .and_then(|w| HeaderValue::from_str(w).ok())
        {
            resp.headers_mut().insert("WWW-Authenticate", v);
        }
        resp
    }
}

impl From<StoreError> for ArmError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e.0, "emulator state");
        ArmError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "The emulator could not access its state.",
        )
    }
}

/// ARM's throttling and availability errors, for injected faults.
pub fn render_fault(status: StatusCode, retry_after: Option<u64>, req: &Request) -> Response {
    let (code, message) = match status {
        StatusCode::TOO_MANY_REQUESTS => (
            "TooManyRequests",
            "The request is being throttled as the limit has been reached for operation type - Read_ObservationWindow_00:05:00. For more information, see https://aka.ms/srpthrottlinglimits",
        ),
        StatusCode::GATEWAY_TIMEOUT => (
            "GatewayTimeout",
            "The gateway did not receive a response from 'Microsoft.Resources' within the specified time period.",
        ),
        _ => (
            "ServiceUnavailable",
            "The server (leader) is currently unable to receive requests. Please retry your request.",
        ),
    };
    let mut resp = ArmError {
        retry_after,
        ..ArmError::new(status, code, message)
    }
    .render();
    ArmIds::of(req).stamp(&mut resp);
    resp
}
