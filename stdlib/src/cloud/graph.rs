//! Microsoft Graph client: OData over the shared core, typed errors with request ids,
//! `@odata.nextLink` paging, and the wait for Entra replication after a write.

use crate::cloud::channel::{self, Channel, Payload};
use crate::error::{ErrorKind, ModuleError, Result};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::time::Duration;
use url::Url;

pub use crate::cloud::channel::Response as GraphResponse;

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

pub struct Graph {
    ch: Channel,
    root: Url,
}

/// Quote a value for an OData `$filter`: single quotes doubled.
pub fn odata_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl Graph {
    pub(crate) fn from_channel(ch: Channel, root: Url) -> Self {
        Graph {
            ch,
            root: channel::with_slash(root),
        }
    }

    /// `v1.0/{path}` with the query pairs encoded.
    pub fn url(&self, version: Version, path: &str, query: &[(&str, &str)]) -> Result<Url> {
        let mut url = channel::join(
            &self.root,
            &format!("{}/{}", version.segment(), path.trim_start_matches('/')),
            "Graph",
        )?;
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
        channel::follow_links(
            &self.ch,
            &self.root,
            first,
            "@odata.nextLink",
            |url| async { Ok(self.call(Method::GET, url, None, headers).await?.body) },
        )
        .await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<GraphResponse> {
        self.post_with(path, body, &[]).await
    }

    /// POST with extra request headers.
    pub async fn post_with(
        &self,
        path: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Result<GraphResponse> {
        let url = self.url(Version::V1, path, &[])?;
        self.call(Method::POST, url, Some(body), headers).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Result<GraphResponse> {
        self.patch_with(path, body, &[]).await
    }

    /// PATCH with extra request headers, e.g. `("Prefer", "create-if-missing")` for an
    /// upsert by alternate key; the answer's `status` tells 201 (created) from 204.
    pub async fn patch_with(
        &self,
        path: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Result<GraphResponse> {
        let url = self.url(Version::V1, path, &[])?;
        self.call(Method::PATCH, url, Some(body), headers).await
    }

    /// PUT (Graph uses it for a few singletons and for `$ref` relations).
    pub async fn put(&self, path: &str, body: &Value) -> Result<GraphResponse> {
        let url = self.url(Version::V1, path, &[])?;
        self.call(Method::PUT, url, Some(body), &[]).await
    }

    pub async fn delete(&self, path: &str) -> Result<GraphResponse> {
        let url = self.url(Version::V1, path, &[])?;
        self.call(Method::DELETE, url, None, &[]).await
    }

    /// One call: token, client-request-id, retry, error mapping.
    pub async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<GraphResponse> {
        if url.origin() != self.root.origin() {
            return Err(ModuleError::validation(format!(
                "refusing to send a Graph token to {}",
                url.origin().ascii_serialization()
            )));
        }
        let payload = body.map(Payload::Json).unwrap_or(Payload::Empty);
        let mut all = Vec::with_capacity(headers.len() + 1);
        all.push(("Accept", "application/json"));
        all.extend_from_slice(headers);
        let raw = self.ch.send(&method, &url, payload, &all).await?;
        let request_id = raw.header("request-id");
        if raw.status.is_success() {
            return Ok(GraphResponse {
                status: raw.status.as_u16(),
                body: raw.json("Graph")?,
                request_id,
            });
        }
        Err(graph_error(
            raw.status, &raw.body, request_id, &method, &url,
        ))
    }
}

/// How long to wait for Entra to replicate a just-created object before a request that
/// references it succeeds.
#[derive(Debug, Clone)]
pub struct ReplicationWait {
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// No wait starts past this much time after the first attempt.
    pub budget: Duration,
}

impl Default for ReplicationWait {
    fn default() -> Self {
        ReplicationWait {
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            budget: Duration::from_secs(60),
        }
    }
}

impl ReplicationWait {
    /// Run `f` until it succeeds, fails for another reason, or the budget is spent.
    pub async fn run<F, Fut, T>(&self, f: F) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let mut delay = self.first_delay;
        let deadline = tokio::time::Instant::now() + self.budget;
        loop {
            match f().await {
                Err(e)
                    if is_replication_lag(&e) && tokio::time::Instant::now() + delay < deadline =>
                {
                    tracing::debug!(error = %e, "waiting for Entra replication");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(self.max_delay);
                }
                other => return other,
            }
        }
    }
}

/// Retry a request that fails only because a just-created object has not replicated yet
/// (400/404 naming a missing reference), for up to a minute.
pub async fn with_replication_wait<F, Fut, T>(f: F) -> Result<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    ReplicationWait::default().run(f).await
}

/// Whether Graph refused a request because an object it references is not visible yet:
/// Entra answers 400 or 404 with "does not exist" / "does not reference" until the new
/// object reaches the replica serving the request.
pub fn is_replication_lag(e: &ModuleError) -> bool {
    matches!(e.kind, ErrorKind::NotFound | ErrorKind::Remote)
        && e.status.is_some_and(|s| s == 400 || s == 404)
        && (e.message.contains("does not exist") || e.message.contains("does not reference"))
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
    ModuleError::from_service(
        kind,
        format!("Graph {method} {}: {message}", url.path()),
        code,
        status.as_u16(),
        request_id,
        hint,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_odata_strings() {
        assert_eq!(odata_string("O'Brien"), "'O''Brien'");
    }

    fn lag(status: u16) -> ModuleError {
        let mut e = ModuleError::not_found(
            "Graph POST /v1.0/servicePrincipals: The appId 'x' of the service principal does not reference a valid application object.",
        );
        e.status = Some(status);
        e
    }

    #[test]
    fn replication_lag_is_recognised() {
        assert!(is_replication_lag(&lag(404)));
        assert!(is_replication_lag(&lag(400)));
        assert!(!is_replication_lag(&lag(403)));
        let mut other = lag(404);
        other.message = "Graph GET /v1.0/applications/x: gone".into();
        assert!(!is_replication_lag(&other));
    }

    #[test]
    fn the_replication_wait_retries_lag_only_and_within_its_budget() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let wait = ReplicationWait {
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            budget: Duration::from_secs(5),
        };
        let calls = std::sync::atomic::AtomicU32::new(0);
        let out = rt.block_on(wait.run(|| {
            let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move {
                if n < 3 {
                    Err(lag(404))
                } else {
                    Ok(n)
                }
            }
        }));
        assert_eq!(out.unwrap(), 3);

        let calls = std::sync::atomic::AtomicU32::new(0);
        let out: Result<()> = rt.block_on(wait.run(|| {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { Err(ModuleError::conflict("exists")) }
        }));
        assert_eq!(out.unwrap_err().kind, ErrorKind::Conflict);
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);

        let short = ReplicationWait {
            budget: Duration::from_millis(20),
            ..wait
        };
        let out: Result<()> = rt.block_on(short.run(|| async { Err(lag(400)) }));
        assert!(is_replication_lag(&out.unwrap_err()));
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
