//! Azure Resource Manager client: an api-version on every call, `x-ms-client-request-id`
//! out and `x-ms-request-id` / `x-ms-correlation-request-id` back, `CloudError` bodies
//! mapped to typed errors, `nextLink` paging, and long-running operations followed to
//! the end (the rules are in `lro`).

use crate::cloud::channel::{self, Channel, Payload, Raw};
use crate::cloud::http::retry_after_header;
use crate::cloud::lro::{self, Begin, LroPolicy, Monitor, Step};
use crate::error::{ErrorKind, ModuleError, Result};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use url::Url;

/// A successful ARM answer. For a long-running operation, `status` and the ids are
/// those of the request that started it (201 tells a create from a 200 update), and
/// `body` is the final resource (or the operation's result; `null` for a delete).
#[derive(Debug, Clone)]
pub struct ArmResponse {
    pub status: u16,
    pub body: Value,
    /// `x-ms-request-id`.
    pub request_id: Option<String>,
    /// `x-ms-correlation-request-id`, the id the Azure activity log is searched by.
    pub correlation_id: Option<String>,
}

pub struct Arm {
    ch: Channel,
    root: Url,
    policy: LroPolicy,
}

impl Arm {
    pub(crate) fn from_channel(ch: Channel, root: Url, policy: LroPolicy) -> Self {
        Arm {
            ch,
            root: channel::with_slash(root),
            policy,
        }
    }

    /// `{root}{path}?api-version={api_version}`; `path` may carry its own query
    /// (`$filter`), but not an api-version: each operation states its own.
    pub fn url(&self, path: &str, api_version: &str) -> Result<Url> {
        arm_url(&self.root, path, api_version)
    }

    /// How long-running work is polled, and how long it may take.
    pub fn policy(&self) -> &LroPolicy {
        &self.policy
    }

    pub async fn get(&self, path: &str, api_version: &str) -> Result<ArmResponse> {
        let url = self.url(path, api_version)?;
        self.call(Method::GET, &url, None).await.map(|(r, _)| r)
    }

    /// GET that maps "not found" (404, `ResourceNotFound`, `ResourceGroupNotFound`) to
    /// `None`.
    pub async fn get_opt(&self, path: &str, api_version: &str) -> Result<Option<Value>> {
        match self.get(path, api_version).await {
            Ok(r) => Ok(Some(r.body)),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// GET a list and follow `nextLink` to the end.
    pub async fn list(&self, path: &str, api_version: &str) -> Result<Vec<Value>> {
        let first = self.url(path, api_version)?;
        channel::follow_links(&self.ch, &self.root, first, "nextLink", |url| async move {
            Ok(self.call(Method::GET, &url, None).await?.0.body)
        })
        .await
    }

    /// Create or replace a resource; waits for the operation and returns the resource.
    pub async fn put(&self, path: &str, api_version: &str, body: &Value) -> Result<ArmResponse> {
        self.write(Method::PUT, path, api_version, body).await
    }

    /// Update part of a resource; waits for the operation and returns the resource.
    pub async fn patch(&self, path: &str, api_version: &str, body: &Value) -> Result<ArmResponse> {
        self.write(Method::PATCH, path, api_version, body).await
    }

    /// An action (`…/register`, `…/validate`); `null` sends no body. Waits for the
    /// operation and returns its result.
    pub async fn post(&self, path: &str, api_version: &str, body: &Value) -> Result<ArmResponse> {
        self.write(Method::POST, path, api_version, body).await
    }

    /// Delete a resource and wait until it is gone. ARM answers 204 (success) for a
    /// resource already gone, but 404 (`NotFound`) for a resource group already gone.
    pub async fn delete(&self, path: &str, api_version: &str) -> Result<ArmResponse> {
        self.write(Method::DELETE, path, api_version, &Value::Null)
            .await
    }

    async fn write(
        &self,
        method: Method,
        path: &str,
        api_version: &str,
        body: &Value,
    ) -> Result<ArmResponse> {
        let url = self.url(path, api_version)?;
        let (first, raw) = self.call(method.clone(), &url, Some(body)).await?;
        let link = |name: &str| -> Result<Option<Url>> {
            raw.header(name)
                .map(|l| self.ch.same_origin(&self.root, &l, name))
                .transpose()
        };
        let begin = lro::begin(
            &method,
            &url,
            first.status,
            link("Azure-AsyncOperation")?,
            link("Location")?,
            &first.body,
        );
        match begin {
            Begin::Done => Ok(first),
            Begin::Running(op) => {
                let wait = self.policy.next_wait(retry_after_header(&raw.headers));
                let body = self
                    .finish(&method, &url, op, wait)
                    .await
                    .map_err(|mut e| {
                        // The id that started it is the one support can trace.
                        if e.request_id.is_none() {
                            e.request_id = first.request_id.clone();
                        }
                        e
                    })?;
                Ok(ArmResponse { body, ..first })
            }
        }
    }

    /// Poll an operation until it ends or the deadline passes; returns the result.
    async fn finish(
        &self,
        method: &Method,
        url: &Url,
        op: lro::Operation,
        mut wait: std::time::Duration,
    ) -> Result<Value> {
        let deadline = tokio::time::Instant::now() + self.policy.deadline;
        let result = loop {
            if tokio::time::Instant::now() + wait > deadline {
                return Err(ModuleError::remote(format!(
                    "ARM {method} {}: the operation did not finish within {} s",
                    url.path(),
                    self.policy.deadline.as_secs()
                ))
                .with_hint("it may still finish in Azure; run the script again to pick it up"));
            }
            tokio::time::sleep(wait).await;
            let poll = op.monitor.url();
            let (answer, raw) = self.call(Method::GET, poll, None).await?;
            match lro::step(&op.monitor, answer.status, &answer.body) {
                Step::Continue => {
                    wait = self.policy.next_wait(retry_after_header(&raw.headers));
                }
                Step::Succeeded(body) => break body,
                Step::Failed(mut e) => {
                    // The caller fills in the id of the request that started it.
                    e.message = format!("ARM {method} {}: {}", url.path(), e.message);
                    e.request_id = None;
                    return Err(e);
                }
            }
        };
        match (&op.final_get, &op.monitor) {
            (Some(final_url), _) => Ok(self.call(Method::GET, final_url, None).await?.0.body),
            (None, Monitor::AsyncOperation(_)) if *method == Method::DELETE => Ok(Value::Null),
            (None, _) => Ok(result),
        }
    }

    /// One request, error-mapped; also returns the raw answer for its headers.
    pub(crate) async fn call(
        &self,
        method: Method,
        url: &Url,
        body: Option<&Value>,
    ) -> Result<(ArmResponse, Raw)> {
        let payload = body.map(Payload::json).unwrap_or(Payload::Empty);
        let raw = self
            .ch
            .send(&method, url, payload, &[("Accept", "application/json")])
            .await?;
        let correlation_id = raw.header("x-ms-correlation-request-id");
        // ARM logs our client request id too, so it still finds the request when the
        // answer carried no id of its own.
        let request_id = raw
            .header("x-ms-request-id")
            .or_else(|| correlation_id.clone())
            .or_else(|| Some(raw.client_request_id.clone()));
        if !raw.status.is_success() {
            return Err(arm_error(raw.status, &raw.body, request_id, &method, url));
        }
        let resp = ArmResponse {
            status: raw.status.as_u16(),
            body: raw.json("ARM")?,
            request_id,
            correlation_id,
        };
        Ok((resp, raw))
    }
}

/// `{root}{path}?api-version={api_version}`, refusing a path that leaves the root or
/// already names an api-version.
fn arm_url(root: &Url, path: &str, api_version: &str) -> Result<Url> {
    if api_version.trim().is_empty() {
        return Err(ModuleError::validation(format!(
            "ARM {path}: an api-version is required"
        )));
    }
    let mut url = channel::join(root, path, "ARM")?;
    if url.query_pairs().any(|(k, _)| k == "api-version") {
        return Err(ModuleError::validation(format!(
            "ARM {path}: pass the api-version as its own argument, not in the path"
        )));
    }
    url.query_pairs_mut()
        .append_pair("api-version", api_version);
    Ok(url)
}

/// ARM's error: `{"error":{"code","message","details":[…]}}` (some providers answer the
/// inner object alone).
#[derive(Debug, Clone, PartialEq)]
pub struct CloudError {
    pub code: String,
    pub message: String,
    /// `(code, message)` of each detail, flattened one level.
    pub details: Vec<(String, String)>,
}

impl CloudError {
    pub fn parse(body: &[u8]) -> Option<Self> {
        let v: Value = serde_json::from_slice(body).ok()?;
        Self::from_error_object(&v["error"]).or_else(|| Self::from_error_object(&v))
    }

    /// From the `error` object of a CloudError or an operation status.
    pub fn from_error_object(e: &Value) -> Option<Self> {
        let code = e["code"].as_str().unwrap_or_default().to_string();
        let message = e["message"].as_str().unwrap_or_default().to_string();
        if code.is_empty() && message.is_empty() {
            return None;
        }
        let details = e["details"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|d| {
                        (
                            d["code"].as_str().unwrap_or_default().to_string(),
                            d["message"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .filter(|(c, m)| !(c.is_empty() && m.is_empty()))
                    .collect()
            })
            .unwrap_or_default();
        Some(CloudError {
            code,
            message,
            details,
        })
    }

    /// The message followed by the details (the reason is often only there).
    pub fn describe(&self) -> String {
        let mut s = if self.message.is_empty() {
            self.code.clone()
        } else {
            self.message.clone()
        };
        const SHOWN: usize = 5;
        let parts: Vec<String> = self
            .details
            .iter()
            .take(SHOWN)
            .map(|(c, m)| match (c.is_empty(), m.is_empty()) {
                (false, false) => format!("{c}: {m}"),
                (true, _) => m.clone(),
                (_, true) => c.clone(),
            })
            .collect();
        if !parts.is_empty() {
            s.push_str(" (");
            s.push_str(&parts.join("; "));
            if self.details.len() > SHOWN {
                s.push_str(&format!("; and {} more", self.details.len() - SHOWN));
            }
            s.push(')');
        }
        s
    }
}

/// The kind an ARM error code means, when the code alone says it.
pub fn kind_for_code(code: &str) -> Option<ErrorKind> {
    Some(match code {
        "ResourceNotFound"
        | "ResourceGroupNotFound"
        | "NotFound"
        | "SubscriptionNotFound"
        | "ParentResourceNotFound" => ErrorKind::NotFound,
        "AuthorizationFailed" | "LinkedAuthorizationFailed" | "RequestDisallowedByPolicy" => {
            ErrorKind::Permission
        }
        "InvalidAuthenticationToken"
        | "InvalidAuthenticationTokenAudience"
        | "InvalidAuthenticationTokenTenant"
        | "ExpiredAuthenticationToken"
        | "AuthenticationFailed" => ErrorKind::Auth,
        "Conflict" | "ResourceGroupBeingDeleted" | "AnotherOperationInProgress" => {
            ErrorKind::Conflict
        }
        "TooManyRequests" | "ResourceRequestsThrottled" | "SubscriptionRequestsThrottled" => {
            ErrorKind::Throttled
        }
        _ => return None,
    })
}

/// Map an ARM error answer to a typed error.
pub fn arm_error(
    status: StatusCode,
    body: &[u8],
    request_id: Option<String>,
    method: &Method,
    url: &Url,
) -> ModuleError {
    let parsed = CloudError::parse(body);
    let by_status = match status.as_u16() {
        400 => ErrorKind::Validation,
        401 => ErrorKind::Auth,
        403 => ErrorKind::Permission,
        404 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        429 => ErrorKind::Throttled,
        _ => ErrorKind::Remote,
    };
    let kind = parsed
        .as_ref()
        .and_then(|c| kind_for_code(&c.code))
        .unwrap_or(by_status);
    let message = parsed
        .as_ref()
        .map(CloudError::describe)
        .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
    let code = parsed.map(|c| c.code).filter(|c| !c.is_empty());
    let hint = match (kind, code.as_deref()) {
        (ErrorKind::Auth, _) => Some(
            "the token was refused; check the credential, the tenant, and that the profile's ARM resource is the audience ARM expects",
        ),
        (ErrorKind::Permission, Some("RequestDisallowedByPolicy")) => {
            Some("an Azure Policy assignment denies this; ask its owner for an exemption")
        }
        (ErrorKind::Permission, _) => Some(
            "the signed-in identity needs an Azure role (for example Contributor) on the subscription or resource group",
        ),
        (ErrorKind::NotFound, Some("SubscriptionNotFound")) => {
            Some("check the subscription id and that the identity can see it")
        }
        (ErrorKind::Throttled, _) => {
            Some("ARM kept throttling past the retry budget; wait and run again")
        }
        _ => None,
    };
    ModuleError::from_service(
        kind,
        format!("ARM {method} {}: {message}", url.path()),
        code,
        status.as_u16(),
        request_id,
        hint.map(str::to_string),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url() -> Url {
        Url::parse(
            "https://management.azure.com/subscriptions/s/resourcegroups/rg?api-version=2021-04-01",
        )
        .unwrap()
    }

    #[test]
    fn urls_carry_exactly_one_api_version() {
        let root = Url::parse("https://management.azure.com/").unwrap();
        let u = arm_url(&root, "/subscriptions/s/resourcegroups/rg", "2021-04-01").unwrap();
        assert_eq!(
            u.as_str(),
            "https://management.azure.com/subscriptions/s/resourcegroups/rg?api-version=2021-04-01"
        );
        let u = arm_url(
            &root,
            "subscriptions/s/resources?$filter=tagName eq 'x'",
            "2021-04-01",
        )
        .unwrap();
        assert!(u.as_str().ends_with("&api-version=2021-04-01"), "{u}");
        assert!(arm_url(&root, "subscriptions?api-version=1", "2021-04-01").is_err());
        assert!(arm_url(&root, "subscriptions", " ").is_err());
        assert!(arm_url(&root, "https://elsewhere.example/x", "1").is_err());
    }

    #[test]
    fn cloud_errors_map_to_kinds() {
        let cases: &[(u16, &str, ErrorKind)] = &[
            (
                404,
                r#"{"error":{"code":"ResourceGroupNotFound","message":"Resource group 'rg' could not be found."}}"#,
                ErrorKind::NotFound,
            ),
            (
                404,
                r#"{"error":{"code":"ResourceNotFound","message":"gone"}}"#,
                ErrorKind::NotFound,
            ),
            (404, "", ErrorKind::NotFound),
            (
                409,
                r#"{"error":{"code":"ResourceGroupBeingDeleted","message":"busy"}}"#,
                ErrorKind::Conflict,
            ),
            (
                401,
                r#"{"error":{"code":"InvalidAuthenticationTokenAudience","message":"The access token has been obtained for wrong audience or resource 'https://graph.microsoft.com'."}}"#,
                ErrorKind::Auth,
            ),
            (
                403,
                r#"{"error":{"code":"AuthorizationFailed","message":"The client 'x' does not have authorization to perform action."}}"#,
                ErrorKind::Permission,
            ),
            (
                429,
                r#"{"error":{"code":"TooManyRequests","message":"slow down"}}"#,
                ErrorKind::Throttled,
            ),
            (
                400,
                r#"{"error":{"code":"InvalidParameter","message":"bad","details":[{"code":"LocationRequired","message":"The location property is required."}]}}"#,
                ErrorKind::Validation,
            ),
            (
                500,
                r#"{"error":{"code":"InternalServerError","message":"oops"}}"#,
                ErrorKind::Remote,
            ),
            (
                400,
                r#"{"code":"ResourceNotFound","message":"bare"}"#,
                ErrorKind::NotFound,
            ),
        ];
        for (status, body, kind) in cases {
            let e = arm_error(
                StatusCode::from_u16(*status).unwrap(),
                body.as_bytes(),
                Some("req-1".into()),
                &Method::PUT,
                &url(),
            );
            assert_eq!(e.kind, *kind, "{status} {body}");
            assert_eq!(e.status, Some(*status));
            assert_eq!(e.request_id.as_deref(), Some("req-1"));
            assert!(!e.message.contains("api-version"), "{}", e.message);
        }
    }

    #[test]
    fn details_are_in_the_message_and_the_hint_fits() {
        let body = br#"{"error":{"code":"InvalidParameter","message":"bad","details":[{"code":"LocationRequired","message":"The location property is required."}]}}"#;
        let e = arm_error(StatusCode::BAD_REQUEST, body, None, &Method::PUT, &url());
        assert_eq!(
            e.message,
            "ARM PUT /subscriptions/s/resourcegroups/rg: bad (LocationRequired: The location property is required.)"
        );
        assert_eq!(e.remote_code.as_deref(), Some("InvalidParameter"));
        let e = arm_error(
            StatusCode::FORBIDDEN,
            br#"{"error":{"code":"AuthorizationFailed","message":"no"}}"#,
            None,
            &Method::PUT,
            &url(),
        );
        assert!(e.hint.unwrap_or_default().contains("Azure role"));
        let e = arm_error(
            StatusCode::BAD_GATEWAY,
            b"<html>",
            None,
            &Method::GET,
            &url(),
        );
        assert_eq!(
            e.message,
            "ARM GET /subscriptions/s/resourcegroups/rg: HTTP 502"
        );
        assert_eq!(e.remote_code, None);
    }

    #[test]
    fn many_details_are_cut() {
        let details: Vec<Value> = (0..8)
            .map(|i| serde_json::json!({"code": format!("C{i}"), "message": "m"}))
            .collect();
        let c = CloudError::from_error_object(
            &serde_json::json!({"code": "X", "message": "top", "details": details}),
        )
        .unwrap();
        assert!(
            c.describe().ends_with("C4: m; and 3 more)"),
            "{}",
            c.describe()
        );
    }
}
