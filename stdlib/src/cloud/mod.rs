//! Transport shared by all modules: OAuth2 tokens, Graph, ARM, AdminService and blob
//! upload clients; retry, paging, errors. Nothing outside this folder knows a URL.

pub mod access;
pub mod auth;
pub mod graph;
pub mod http;

use crate::error::Result;
use crate::secret::Secret;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

pub use auth::{Credential, TokenCache};
pub use graph::Graph;
pub use http::{HttpClient, RetryPolicy};

/// Where the services are and how to authenticate. The emulator target and a live
/// profile produce the same structure; nothing below this knows which one it is.
#[derive(Clone)]
pub struct CloudConfig {
    /// Tenant id (GUID) or a verified domain; `organizations` / `common` are accepted.
    pub tenant: String,
    /// The Entra authority host, e.g. `https://login.microsoftonline.com/`.
    pub authority: Url,
    /// Microsoft Graph root, e.g. `https://graph.microsoft.com/` (no version segment).
    pub graph: Url,
    /// Azure Resource Manager root, e.g. `https://management.azure.com/`.
    pub arm: Url,
    /// The ConfigMgr AdminService root, e.g. `https://sms.contoso.com/AdminService/`.
    pub admin_service: Option<Url>,
    pub credential: Credential,
    /// Extra trusted roots (PEM), for an emulator served over HTTPS with its own CA.
    /// Certificate verification itself is never turned off.
    pub extra_roots_pem: Vec<Vec<u8>>,
    pub retry: RetryPolicy,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl CloudConfig {
    /// Everything at one base URL (the emulator), with a client-secret credential that
    /// the emulator accepts for any client id.
    pub fn single_host(base: &Url, tenant: &str) -> Self {
        CloudConfig {
            tenant: tenant.to_string(),
            authority: base.clone(),
            graph: base.clone(),
            arm: base.clone(),
            admin_service: base.join("AdminService/").ok(),
            credential: Credential::ClientSecret {
                client_id: "comgmt-emulator-client".into(),
                secret: Secret::new("emulator-accepts-any-secret"),
            },
            extra_roots_pem: Vec::new(),
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(60),
        }
    }
}

/// The clients one run uses.
pub struct Cloud {
    pub config: CloudConfig,
    pub http: HttpClient,
    pub tokens: Arc<TokenCache>,
    pub graph: Graph,
}

impl Cloud {
    pub fn new(config: CloudConfig) -> Result<Self> {
        let http = HttpClient::new(&config)?;
        let tokens = Arc::new(TokenCache::new(
            http.clone(),
            config.authority.clone(),
            config.tenant.clone(),
            config.credential.clone(),
        ));
        let graph = Graph::new(http.clone(), tokens.clone(), config.graph.clone())?;
        Ok(Cloud {
            config,
            http,
            tokens,
            graph,
        })
    }
}
