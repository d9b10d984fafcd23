//! The HTTP client every surface shares: timeouts, trusted roots, and retry.
//!
//! Retry rules: 429 and 503 are retried for every method, because
//! the service rejected the request before changing anything; 504 and a connection that
//! broke after the request went out are retried only for idempotent methods, because a
//! write may have happened; a connection that never opened is always retried. Waits honour
//! `Retry-After` (seconds or HTTP date), otherwise capped exponential backoff with jitter,
//! and no wait starts past the overall deadline.

use crate::cloud::CloudConfig;
use crate::error::{ModuleError, Result};
use rand::Rng;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use std::time::{Duration, Instant, SystemTime};

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// No retry starts after this much time since the first attempt.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(30),
            deadline: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// Backoff before attempt `attempt` (1-based count of failures so far), with up to
    /// 25% jitter so parallel clients do not retry in lockstep.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.base_delay.saturating_mul(
            1u32.checked_shl(attempt.saturating_sub(1))
                .unwrap_or(u32::MAX),
        );
        let capped = exp.min(self.max_delay);
        let jitter = rand::rng().random_range(0.0..0.25);
        capped.mul_f64(1.0 + jitter).min(self.max_delay)
    }
}

#[derive(Clone)]
pub struct HttpClient {
    pub(crate) inner: reqwest::Client,
    pub(crate) retry: RetryPolicy,
}

impl HttpClient {
    pub fn new(config: &CloudConfig) -> Result<Self> {
        Self::build(
            &config.extra_roots_pem,
            config.retry.clone(),
            config.timeout,
        )
    }

    /// A client trusting the system roots plus `extra_roots_pem`.
    pub fn build(
        extra_roots_pem: &[Vec<u8>],
        retry: RetryPolicy,
        timeout: Duration,
    ) -> Result<Self> {
        let mut b = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(15))
            .user_agent(concat!("comgmt/", env!("CARGO_PKG_VERSION")));
        for pem in extra_roots_pem {
            b = b.add_root_certificate(root_certificate(pem)?);
        }
        let inner = b
            .build()
            .map_err(|e| ModuleError::transport(format!("cannot build HTTP client: {e}")))?;
        Ok(HttpClient { inner, retry })
    }

    pub fn request(&self, method: Method, url: url::Url) -> RequestBuilder {
        self.inner.request(method, url)
    }

    /// Send the request `build` makes (called once per attempt), retrying as the module
    /// doc says. Returns the last response, which may still be an error status: the
    /// caller maps it to a typed error with the surface's error body.
    pub async fn send(
        &self,
        method: &Method,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Response> {
        let started = Instant::now();
        let idempotent = matches!(
            *method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        ) || *method == Method::PATCH;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let req = build();
            let outcome = req.send().await;
            let wait = match &outcome {
                Ok(resp) => {
                    let status = resp.status();
                    tracing::debug!(%method, url = %redact(resp.url()), status = status.as_u16(), attempt, "http");
                    let retryable = status == StatusCode::TOO_MANY_REQUESTS
                        || status == StatusCode::SERVICE_UNAVAILABLE
                        || (idempotent && status == StatusCode::GATEWAY_TIMEOUT);
                    if !retryable {
                        return outcome.map_err(|e| transport_error(&e));
                    }
                    retry_after(resp).unwrap_or_else(|| self.retry.backoff(attempt))
                }
                Err(e) => {
                    tracing::debug!(%method, error = %redacted_chain(e), attempt, "http transport error");
                    let never_sent = e.is_connect();
                    if !(never_sent || idempotent) {
                        return Err(transport_error(e));
                    }
                    self.retry.backoff(attempt)
                }
            };
            let wait = wait.min(self.retry.max_delay);
            if attempt >= self.retry.max_attempts || started.elapsed() + wait > self.retry.deadline
            {
                return match outcome {
                    Ok(resp) => Ok(resp),
                    Err(e) => Err(transport_error(&e)),
                };
            }
            tracing::debug!(wait_ms = wait.as_millis() as u64, "retrying");
            tokio::time::sleep(wait).await;
        }
    }
}

/// A PEM certificate to trust as a root, or a validation error naming the problem.
pub fn root_certificate(pem: &[u8]) -> Result<reqwest::Certificate> {
    reqwest::Certificate::from_pem(pem)
        .map_err(|e| ModuleError::validation(format!("bad trusted root certificate: {e}")))
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(resp: &Response) -> Option<Duration> {
    retry_after_header(resp.headers())
}

/// `Retry-After` from a header map (also used between polls of an operation).
pub fn retry_after_header(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    if let Ok(secs) = v.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate_parse(v.trim())?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Parse an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only form servers send now.
fn httpdate_parse(s: &str) -> Option<SystemTime> {
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let dt = time::PrimitiveDateTime::parse(s, &fmt).ok()?.assume_utc();
    let secs = u64::try_from(dt.unix_timestamp()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

/// reqwest's Display omits the cause: walk the chain.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// The error chain with the request URL's query replaced: keep the host and path for
/// the admin, never a query string (SAS signatures).
fn redacted_chain(e: &reqwest::Error) -> String {
    let msg = error_chain(e);
    match e.url() {
        Some(url) => msg.replace(url.as_str(), &redact(url)),
        None => msg,
    }
}

pub fn transport_error(e: &reqwest::Error) -> ModuleError {
    let msg = redacted_chain(e);
    let hint = if e.is_timeout() {
        "the service did not answer in time; check the network or raise the timeout"
    } else if e.is_connect() {
        "cannot connect; check the URL, DNS, proxy and firewall (for the emulator: is it running?)"
    } else {
        "the connection failed; re-running the script is safe: it resumes where it stopped"
    };
    ModuleError::transport(msg).with_hint(hint)
}

/// A URL for logs and messages: scheme, host, port and path; the query is replaced by `?…`.
pub fn redact(url: &url::Url) -> String {
    let mut u = url.clone();
    if u.query().is_some() {
        u.set_query(None);
        format!("{u}?…")
    } else {
        u.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            deadline: Duration::from_secs(10),
        };
        assert!(p.backoff(1) >= Duration::from_millis(100));
        assert!(p.backoff(1) < Duration::from_millis(130));
        assert!(p.backoff(3) >= Duration::from_millis(400));
        assert_eq!(p.backoff(30), Duration::from_secs(1));
    }

    #[test]
    fn parses_http_dates() {
        let t = httpdate_parse("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(),
            784111777
        );
        assert!(httpdate_parse("yesterday").is_none());
    }

    #[test]
    fn redacts_queries() {
        let u = url::Url::parse("https://x.blob.core.windows.net/c/b?sv=1&sig=SECRET").unwrap();
        assert_eq!(redact(&u), "https://x.blob.core.windows.net/c/b?…");
    }
}
