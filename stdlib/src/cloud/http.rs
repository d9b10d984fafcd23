//! The HTTP client every surface shares: timeouts, trusted roots, retry with
//! Retry-After and capped exponential backoff under an overall deadline.

use crate::cloud::CloudConfig;
use crate::error::{ModuleError, Result};
use std::time::Duration;

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
            max_attempts: 8,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(30),
            deadline: Duration::from_secs(300),
        }
    }
}

#[derive(Clone)]
pub struct HttpClient {
    pub(crate) inner: reqwest::Client,
    pub(crate) retry: RetryPolicy,
}

impl HttpClient {
    pub fn new(config: &CloudConfig) -> Result<Self> {
        let mut b = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(15))
            .user_agent(concat!("comgmt/", env!("CARGO_PKG_VERSION")));
        for pem in &config.extra_roots_pem {
            let cert = reqwest::Certificate::from_pem(pem)
                .map_err(|e| ModuleError::transport(format!("bad trusted root certificate: {e}")))?;
            b = b.add_root_certificate(cert);
        }
        let inner = b
            .build()
            .map_err(|e| ModuleError::transport(format!("cannot build HTTP client: {e}")))?;
        Ok(HttpClient {
            inner,
            retry: config.retry.clone(),
        })
    }
}
