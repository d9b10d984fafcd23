//! The shared core of every surface client: authenticate a request the way its surface
//! wants, give it a fresh client request id, send it through the retrying client, and
//! hand back status, headers and body for the surface to interpret.
//!
//! Surfaces differ only in what they put around this: the header their service reads a
//! client request id from, the headers it answers its own ids in, and its error body.

use crate::cloud::auth::TokenCache;
use crate::cloud::http::{transport_error, HttpClient};
use crate::error::{ModuleError, Result};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::sync::Arc;
use url::Url;

/// How a request proves who sends it.
#[derive(Clone)]
pub(crate) enum Authn {
    /// `Authorization: Bearer` with a token for `scope`.
    Bearer {
        tokens: Arc<TokenCache>,
        scope: String,
    },
    /// Windows Negotiate (Kerberos). Not available in this build: every request fails
    /// with an error that says so and names the alternative.
    Negotiate,
    /// Nothing: the URL itself carries the proof (a SAS signature).
    InUrl,
}

/// What a request carries.
#[derive(Clone, Copy)]
pub enum Payload<'a> {
    Empty,
    Json(&'a Value),
    Bytes {
        data: &'a [u8],
        content_type: &'a str,
    },
}

impl<'a> Payload<'a> {
    /// A JSON body, or none for `null` (a POST action without a body).
    pub fn json(v: &'a Value) -> Self {
        if v.is_null() {
            Payload::Empty
        } else {
            Payload::Json(v)
        }
    }
}

/// A raw answer, any status.
pub struct Raw {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The id this client sent, which the service logs next to its own.
    pub client_request_id: String,
}

impl Raw {
    /// A header's value as text, if present and readable.
    pub fn header(&self, name: &str) -> Option<String> {
        header(&self.headers, name)
    }

    /// The body as JSON; `null` for an empty body.
    pub fn json(&self, surface: &str) -> Result<Value> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| ModuleError::remote(format!("{surface} sent unreadable JSON: {e}")))
    }
}

pub fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// One surface's way of sending requests.
#[derive(Clone)]
pub(crate) struct Channel {
    pub http: HttpClient,
    pub authn: Authn,
    /// The header the service reads the client request id from.
    pub id_header: &'static str,
    /// The surface's name in messages.
    pub surface: &'static str,
}

/// The error for an AdminService profile set to Negotiate.
pub const NEGOTIATE_UNSUPPORTED: &str = "Negotiate auth is not supported in this build; reach the AdminService through the CMG with `admin_service_auth = \"entra\"`";

impl Channel {
    /// How requests authenticate, for messages: "an Entra token for api://…/.default".
    pub fn auth_method(&self) -> String {
        match &self.authn {
            Authn::Bearer { scope, .. } => format!("an Entra bearer token for {scope}"),
            Authn::Negotiate => "Windows Negotiate".into(),
            Authn::InUrl => "a signature in the URL".into(),
        }
    }

    /// Send one request (retried by the HTTP client as its rules allow). A 401 on a
    /// bearer request refreshes the token once: it may have been revoked or expired early.
    pub async fn send(
        &self,
        method: &Method,
        url: &Url,
        payload: Payload<'_>,
        headers: &[(&str, &str)],
    ) -> Result<Raw> {
        let mut refreshed = false;
        loop {
            let token = match &self.authn {
                Authn::Bearer { tokens, scope } => Some(tokens.token(scope).await?),
                Authn::Negotiate => {
                    return Err(ModuleError::auth(NEGOTIATE_UNSUPPORTED).with_hint(
                        "set admin_service_auth = \"entra\" and admin_service_resource to the CMG server app's identifier URI in the profile",
                    ))
                }
                Authn::InUrl => None,
            };
            let client_request_id = uuid::Uuid::new_v4().to_string();
            let resp = self
                .http
                .send(method, || {
                    let mut r = self
                        .http
                        .request(method.clone(), url.clone())
                        .header(self.id_header, &client_request_id);
                    if let Some(t) = &token {
                        r = r.bearer_auth(t.expose());
                    }
                    for (k, v) in headers {
                        r = r.header(*k, *v);
                    }
                    match payload {
                        Payload::Empty => r,
                        Payload::Json(b) => r.json(b),
                        Payload::Bytes { data, content_type } => r
                            .header(reqwest::header::CONTENT_TYPE, content_type)
                            .body(data.to_vec()),
                    }
                })
                .await?;
            let status = resp.status();
            let resp_headers = resp.headers().clone();
            let body = resp.bytes().await.map_err(|e| transport_error(&e))?;
            if status == StatusCode::UNAUTHORIZED && !refreshed {
                if let Authn::Bearer { tokens, scope } = &self.authn {
                    refreshed = true;
                    tokens.invalidate(scope).await;
                    continue;
                }
            }
            return Ok(Raw {
                status,
                headers: resp_headers,
                body: body.to_vec(),
                client_request_id,
            });
        }
    }

    /// A link the service sent (next page, operation status) must stay on `root`'s
    /// origin: the bearer token goes with it.
    pub fn same_origin(&self, root: &Url, link: &str, what: &str) -> Result<Url> {
        let surface = self.surface;
        let url = Url::parse(link)
            .map_err(|e| ModuleError::remote(format!("{surface} sent a bad {what}: {e}")))?;
        if url.origin() != root.origin() {
            return Err(ModuleError::remote(format!(
                "{surface} sent a {what} to another host ({}); refusing to send the token there",
                url.origin().ascii_serialization()
            )));
        }
        Ok(url)
    }
}

/// Read a collection to the end: each page's `value` array, following the link in
/// `link_key` (`@odata.nextLink` for Graph, `nextLink` for ARM) while it stays on
/// `root`'s origin. `fetch` reads one page.
pub(crate) async fn follow_links<F, Fut>(
    ch: &Channel,
    root: &Url,
    first: Url,
    link_key: &str,
    fetch: F,
) -> Result<Vec<Value>>
where
    F: Fn(Url) -> Fut,
    Fut: std::future::Future<Output = Result<Value>>,
{
    const MAX_PAGES: usize = 10_000;
    let surface = ch.surface;
    let mut items = Vec::new();
    let mut next = Some(first);
    let mut pages = 0usize;
    while let Some(url) = next.take() {
        pages += 1;
        if pages > MAX_PAGES {
            return Err(ModuleError::remote(format!(
                "{surface} kept sending next pages (over {MAX_PAGES})"
            )));
        }
        let path = url.path().to_string();
        let mut page = fetch(url).await?;
        match page.get_mut("value").map(Value::take) {
            Some(Value::Array(v)) => items.extend(v),
            _ => {
                return Err(ModuleError::remote(format!(
                    "{surface} answered the collection {path} without a `value` array"
                )))
            }
        }
        if let Some(link) = page
            .get(link_key)
            .and_then(Value::as_str)
            .filter(|l| !l.is_empty())
        {
            next = Some(ch.same_origin(root, link, "next link")?);
        }
    }
    Ok(items)
}

/// A successful answer, shared by the surfaces whose callers need status, body and id.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// `null` for an empty body (204).
    pub body: Value,
    /// The service's id for the request, for the journal and for support.
    pub request_id: Option<String>,
}

/// `root` with a trailing slash, so joining a relative path keeps its last segment.
pub fn with_slash(root: Url) -> Url {
    if root.path().ends_with('/') {
        return root;
    }
    let mut u = root;
    let p = format!("{}/", u.path());
    u.set_path(&p);
    u
}

/// Join `path` (which may carry a query) onto `root`, refusing anything that would
/// leave the root: the token for this surface must not go anywhere else.
pub fn join(root: &Url, path: &str, surface: &str) -> Result<Url> {
    let rel = path.trim_start_matches('/');
    let url = root
        .join(rel)
        .map_err(|e| ModuleError::validation(format!("bad {surface} path {path}: {e}")))?;
    if url.origin() != root.origin() || !url.path().starts_with(root.path()) {
        return Err(ModuleError::validation(format!(
            "{surface} path {path} leaves {}",
            root.path()
        )));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_stay_under_the_root() {
        let root = with_slash(Url::parse("https://sms.contoso.com/AdminService").unwrap());
        assert_eq!(root.as_str(), "https://sms.contoso.com/AdminService/");
        let u = join(&root, "/wmi/SMS_Site('ABC')", "AdminService").unwrap();
        assert_eq!(
            u.as_str(),
            "https://sms.contoso.com/AdminService/wmi/SMS_Site('ABC')"
        );
        let u = join(&root, "wmi/SMS_Site?$top=1", "AdminService").unwrap();
        assert_eq!(u.query(), Some("$top=1"));
        assert!(join(&root, "https://evil.example/x", "AdminService").is_err());
        assert!(join(&root, "../other", "AdminService").is_err());
    }

    #[test]
    fn null_is_no_body() {
        assert!(matches!(Payload::json(&Value::Null), Payload::Empty));
        assert!(matches!(
            Payload::json(&serde_json::json!({})),
            Payload::Json(_)
        ));
    }
}
