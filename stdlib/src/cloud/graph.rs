//! Microsoft Graph client: bearer tokens, typed errors with request ids, and paging.

use crate::cloud::auth::TokenCache;
use crate::cloud::http::{transport_error, HttpClient};
use crate::error::{ErrorKind, ModuleError, Result};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// The Graph API version a call uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    Beta,
}

impl Version {
    fn segment(self) -> &'static str {
        match self {
            Version::V1 => "v1.0",
            Version::Beta => "beta",
        }
    }
}

/// A successful Graph answer.
#[derive(Debug, Clone)]
pub struct GraphResponse {
    pub status: u16,
    /// `null` for 204.
    pub body: Value,
    pub request_id: Option<String>,
}

pub struct Graph {
    http: HttpClient,
    tokens: Arc<TokenCache>,
    root: Url,
    scope: String,
}

/// Quote a value for an OData `$filter`: single quotes doubled.
pub fn odata_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl Graph {
    pub fn new(http: HttpClient, tokens: Arc<TokenCache>, root: Url) -> Result<Self> {
        let scope = format!("{}.default", ensure_slash(&root));
        Ok(Graph {
            http,
            tokens,
            root: ensure_slash_url(root),
            scope,
        })
    }

    /// `v1.0/{path}` with the query pairs encoded.
    pub fn url(&self, version: Version, path: &str, query: &[(&str, &str)]) -> Result<Url> {
        let mut url = self
            .root
            .join(&format!(
                "{}/{}",
                version.segment(),
                path.trim_start_matches('/')
            ))
            .map_err(|e| ModuleError::validation(format!("bad Graph path {path}: {e}")))?;
        if !query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        Ok(url)
    }

    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<GraphResponse> {
        let url = self.url(Version::V1, path, query)?;
        self.call(Method::GET, url, None, &[]).await
    }

    /// GET that maps 404 to `None`.
    pub async fn get_opt(&self, path: &str, query: &[(&str, &str)]) -> Result<Option<Value>> {
        match self.get(path, query).await {
            Ok(r) => Ok(Some(r.body)),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// GET a collection and follow `@odata.nextLink` to the end.
    pub async fn list(&self, path: &str, query: &[(&str, &str)]) -> Result<Vec<Value>> {
        let first = self.url(Version::V1, path, query)?;
        self.list_url(first, &[]).await
    }

    /// Like `list`, with extra headers on every page (e.g. `ConsistencyLevel: eventual`,
    /// which Graph does not carry to the next page by itself).
    pub async fn list_url(&self, first: Url, headers: &[(&str, &str)]) -> Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut next = Some(first);
        let mut pages = 0usize;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > 10_000 {
                return Err(ModuleError::remote(
                    "Graph kept sending next pages (over 10,000)",
                ));
            }
            let page = self.call(Method::GET, url, None, headers).await?;
            match page.body.get("value") {
                Some(Value::Array(v)) => items.extend(v.iter().cloned()),
                _ => {
                    return Err(ModuleError::remote(
                        "Graph answered a collection request without a `value` array",
                    ))
                }
            }
            if let Some(link) = page.body.get("@odata.nextLink").and_then(Value::as_str) {
                next = Some(self.same_origin(link)?);
            }
        }
        Ok(items)
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<GraphResponse> {
        let url = self.url(Version::V1, path, &[])?;
        self.call(Method::POST, url, Some(body), &[]).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Result<GraphResponse> {
        let url = self.url(Version::V1, path, &[])?;
        self.call(Method::PATCH, url, Some(body), &[]).await
    }

    pub async fn delete(&self, path: &str) -> Result<GraphResponse> {
        let url = self.url(Version::V1, path, &[])?;
        self.call(Method::DELETE, url, None, &[]).await
    }

    /// A next link must stay on the Graph host: the bearer token goes with it.
    fn same_origin(&self, link: &str) -> Result<Url> {
        let url = Url::parse(link)
            .map_err(|e| ModuleError::remote(format!("Graph sent a bad next link: {e}")))?;
        if url.origin() != self.root.origin() {
            return Err(ModuleError::remote(format!(
                "Graph sent a next link to another host ({}); refusing to send the token there",
                url.origin().ascii_serialization()
            )));
        }
        Ok(url)
    }

    /// One call: token, client-request-id, retry, error mapping. A 401 refreshes the
    /// token once (it may have been revoked or expired early).
    pub async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<GraphResponse> {
        let mut refreshed = false;
        loop {
            let token = self.tokens.token(&self.scope).await?;
            let client_request_id = uuid::Uuid::new_v4().to_string();
            let resp = self
                .http
                .send(&method, || {
                    let mut r = self
                        .http
                        .request(method.clone(), url.clone())
                        .bearer_auth(token.expose())
                        .header("client-request-id", &client_request_id)
                        .header("Accept", "application/json");
                    for (k, v) in headers {
                        r = r.header(*k, *v);
                    }
                    if let Some(b) = body {
                        r = r.json(b);
                    }
                    r
                })
                .await?;
            let status = resp.status();
            let request_id = resp
                .headers()
                .get("request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let bytes = resp.bytes().await.map_err(|e| transport_error(&e))?;
            if status == StatusCode::UNAUTHORIZED && !refreshed {
                refreshed = true;
                self.tokens.invalidate(&self.scope).await;
                continue;
            }
            if status.is_success() {
                let body = if bytes.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_slice(&bytes).map_err(|e| {
                        ModuleError::remote(format!("Graph sent unreadable JSON: {e}"))
                    })?
                };
                return Ok(GraphResponse {
                    status: status.as_u16(),
                    body,
                    request_id,
                });
            }
            return Err(graph_error(status, &bytes, request_id, &method, &url));
        }
    }
}

/// Map Graph's error body `{"error":{"code","message","innerError":{"request-id"}}}`.
pub fn graph_error(
    status: StatusCode,
    body: &[u8],
    header_request_id: Option<String>,
    method: &Method,
    url: &Url,
) -> ModuleError {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let err = &v["error"];
    let code = err["code"].as_str().map(str::to_string);
    let message = err["message"]
        .as_str()
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
    let request_id = err["innerError"]["request-id"]
        .as_str()
        .map(str::to_string)
        .or(header_request_id);
    let kind = match status.as_u16() {
        401 => ErrorKind::Auth,
        403 => ErrorKind::Permission,
        404 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        429 => ErrorKind::Throttled,
        _ => ErrorKind::Remote,
    };
    let hint = match kind {
        ErrorKind::Auth => Some("the token was refused; check the credential and tenant".to_string()),
        ErrorKind::Permission => Some(
            "the signed-in identity lacks a Graph permission for this call; see `comgmt doc` for the permission each function needs"
                .to_string(),
        ),
        ErrorKind::Throttled => {
            Some("Graph kept throttling past the retry budget; wait and run again".to_string())
        }
        _ => None,
    };
    let mut e = ModuleError::new(kind, format!("Graph {method} {}: {message}", url.path()));
    e.remote_code = code;
    e.status = Some(status.as_u16());
    e.request_id = request_id;
    e.hint = hint;
    e
}

/// Retry a request that fails only because a just-created object has not replicated yet
/// (400/404 naming a missing reference), for up to a minute. Entra replicates new
/// objects with a delay, so a write that references one may briefly be refused.
pub(crate) async fn with_replication_wait<F, Fut, T>(f: F) -> Result<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut delay = Duration::from_millis(500);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        match f().await {
            Err(e)
                if matches!(e.kind, ErrorKind::NotFound | ErrorKind::Remote)
                    && e.status.is_some_and(|s| s == 400 || s == 404)
                    && (e.message.contains("does not exist")
                        || e.message.contains("does not reference"))
                    && tokio::time::Instant::now() + delay < deadline =>
            {
                tracing::debug!(error = %e, "waiting for Entra replication");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(8));
            }
            other => return other,
        }
    }
}

fn ensure_slash(u: &Url) -> String {
    let s = u.as_str();
    if s.ends_with('/') {
        s.to_string()
    } else {
        format!("{s}/")
    }
}

fn ensure_slash_url(u: Url) -> Url {
    Url::parse(&ensure_slash(&u)).unwrap_or(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_odata_strings() {
        assert_eq!(odata_string("O'Brien"), "'O''Brien'");
    }

    #[test]
    fn maps_graph_error_body() {
        let body = br#"{"error":{"code":"Request_BadRequest","message":"Bad thing.","innerError":{"date":"2026-01-01T00:00:00","request-id":"r-1"}}}"#;
        let url = Url::parse("https://graph.microsoft.com/v1.0/applications").unwrap();
        let e = graph_error(StatusCode::BAD_REQUEST, body, None, &Method::POST, &url);
        assert_eq!(e.kind, ErrorKind::Remote);
        assert_eq!(e.remote_code.as_deref(), Some("Request_BadRequest"));
        assert_eq!(e.request_id.as_deref(), Some("r-1"));
        assert_eq!(e.message, "Graph POST /v1.0/applications: Bad thing.");
        let e = graph_error(
            StatusCode::NOT_FOUND,
            b"",
            Some("h".into()),
            &Method::GET,
            &url,
        );
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert_eq!(e.request_id.as_deref(), Some("h"));
    }
}
