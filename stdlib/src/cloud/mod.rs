//! Transport shared by all modules: OAuth2 tokens, then one client per surface — Graph,
//! ARM, the ConfigMgr AdminService and blob upload — over one core (`channel`) that does
//! authentication, request ids and retry; and DNS lookups through the target's resolver
//! (`dns`). Nothing outside this folder knows a URL, a
//! host or an HTTP detail.

pub mod access;
pub mod admin_service;
pub mod arm;
pub mod auth;
pub mod blob;
mod channel;
pub mod discovery;
pub mod dns;
pub mod endpoints;
pub mod graph;
pub mod http;
pub mod lro;

use crate::error::{ModuleError, Result};
use crate::secret::Secret;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

pub use admin_service::AdminService;
pub use arm::{Arm, ArmResponse};
pub use auth::{Credential, TokenCache};
pub use blob::Blob;
pub use channel::{Response, NEGOTIATE_UNSUPPORTED};
pub use dns::Dns;
pub use graph::Graph;
pub use http::{HttpClient, RetryPolicy};
pub use lro::LroPolicy;

use channel::{Authn, Channel};

/// How requests to a surface prove who sends them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointAuth {
    /// An Entra bearer token issued for `resource` (its identifier URI or app id); the
    /// scope asked for is `{resource}/.default`. Never derived from the root URL.
    Bearer { resource: String },
    /// Windows Negotiate, for an AdminService on the intranet. Not available in this
    /// build: requests fail with [`NEGOTIATE_UNSUPPORTED`].
    Negotiate,
    /// A shared access signature in each URL (Azure Storage); no Authorization header.
    Sas,
}

/// One surface: where it answers and how it authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Root URL, ending with `/`; paths are joined below it and never leave it.
    pub root: Url,
    pub auth: EndpointAuth,
}

impl Endpoint {
    /// A surface taking bearer tokens for `resource`.
    pub fn bearer(root: Url, resource: &str) -> Self {
        Endpoint {
            root: channel::with_slash(root),
            auth: EndpointAuth::Bearer {
                resource: resource.to_string(),
            },
        }
    }
}

/// Where the services are and how to authenticate. The emulator target and a live
/// profile produce the same structure; nothing below this knows which one it is.
#[derive(Clone)]
pub struct CloudConfig {
    /// Tenant id (GUID) or a verified domain; `organizations` / `common` are accepted.
    pub tenant: String,
    /// The Entra authority host, e.g. `https://login.microsoftonline.com/`.
    pub authority: Url,
    /// Microsoft Graph (root without a version segment), bearer for Graph.
    pub graph: Endpoint,
    /// Azure Resource Manager, bearer for ARM.
    pub arm: Endpoint,
    /// The ConfigMgr AdminService root (ending in `AdminService/`): bearer for the CMG
    /// server app when reached through a CMG, or Negotiate on the intranet.
    pub admin_service: Option<Endpoint>,
    /// The Azure subscription ARM modules work in when a script names none (a
    /// profile's `subscription`); `None`: the one subscription the identity sees.
    pub subscription: Option<String>,
    /// The folder the site server writes its logs to, as this machine reaches it (a
    /// share such as `\\CM01\SMS_ABC\Logs`, or the emulator's log folder); `None`
    /// when the profile names none.
    pub site_log_dir: Option<std::path::PathBuf>,
    pub credential: Credential,
    /// Extra trusted roots (PEM), for an emulator served over HTTPS with its own CA.
    /// Certificate verification itself is never turned off.
    pub extra_roots_pem: Vec<Vec<u8>>,
    pub retry: RetryPolicy,
    /// How long-running ARM operations are polled and how long they may take.
    pub operations: LroPolicy,
    /// Per-request timeout.
    pub timeout: Duration,
    /// The DNS servers name checks ask (a profile's `dns_servers`; the emulator target
    /// sets its own DNS server). Empty: the system's resolver configuration.
    pub dns_servers: Vec<SocketAddr>,
}

/// The client id and secret the emulator accepts for an app it does not know.
const EMULATOR_CLIENT_ID: &str = "comgmt-emulator-client";
const EMULATOR_CLIENT_SECRET: &str = "emulator-accepts-any-secret";

impl CloudConfig {
    /// Microsoft's public cloud, signing in to `tenant` with `credential`; no AdminService.
    pub fn public(tenant: &str, credential: Credential) -> Result<Self> {
        let root = |s: &str| endpoints::parse_root(s);
        Ok(CloudConfig {
            tenant: tenant.to_string(),
            authority: root(endpoints::AUTHORITY)?,
            graph: Endpoint::bearer(root(endpoints::GRAPH)?, endpoints::GRAPH_RESOURCE),
            arm: Endpoint::bearer(root(endpoints::ARM)?, endpoints::ARM_RESOURCE),
            admin_service: None,
            subscription: None,
            site_log_dir: None,
            credential,
            extra_roots_pem: Vec::new(),
            retry: RetryPolicy::default(),
            operations: LroPolicy::default(),
            timeout: Duration::from_secs(60),
            dns_servers: Vec::new(),
        })
    }

    /// Everything at one base URL (the emulator), with a client-secret credential that
    /// the emulator accepts for any client id. Tokens are still asked for the real
    /// resources (Graph, ARM, and comgmt's default CMG server app for the AdminService),
    /// because the emulator checks each surface's audience as the services do.
    pub fn single_host(base: &Url, tenant: &str) -> Self {
        let base = channel::with_slash(base.clone());
        let admin_root = base.join("AdminService/").unwrap_or_else(|_| base.clone());
        CloudConfig {
            tenant: tenant.to_string(),
            authority: base.clone(),
            graph: Endpoint::bearer(base.clone(), endpoints::GRAPH_RESOURCE),
            arm: Endpoint::bearer(base.clone(), endpoints::ARM_RESOURCE),
            admin_service: Some(Endpoint::bearer(
                admin_root,
                &endpoints::default_server_app_uri(tenant),
            )),
            subscription: None,
            site_log_dir: None,
            credential: Credential::ClientSecret {
                client_id: EMULATOR_CLIENT_ID.into(),
                secret: Secret::new(EMULATOR_CLIENT_SECRET),
            },
            extra_roots_pem: Vec::new(),
            retry: RetryPolicy::default(),
            // The emulator finishes operations in a moment: poll often.
            operations: LroPolicy {
                poll_interval: Duration::from_millis(100),
                ..LroPolicy::default()
            },
            timeout: Duration::from_secs(60),
            // The caller adds the emulator's DNS server (its handle knows the address).
            dns_servers: Vec::new(),
        }
    }
}

/// The clients one run uses.
pub struct Cloud {
    pub config: CloudConfig,
    pub http: HttpClient,
    pub tokens: Arc<TokenCache>,
    pub graph: Graph,
    pub arm: Arm,
    /// `None` when the target has no AdminService configured.
    pub admin_service: Option<AdminService>,
    pub blob: Blob,
    pub dns: Dns,
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
        let authn = |name: &str, e: &Endpoint| -> Result<Authn> {
            match &e.auth {
                EndpointAuth::Bearer { resource } => Ok(Authn::Bearer {
                    tokens: tokens.clone(),
                    scope: endpoints::scope_for(resource),
                }),
                EndpointAuth::Negotiate if name == "AdminService" => {
                    tracing::warn!("{NEGOTIATE_UNSUPPORTED}");
                    Ok(Authn::Negotiate)
                }
                other => Err(ModuleError::validation(format!(
                    "{name} cannot authenticate with {other:?}; it takes a bearer token"
                ))),
            }
        };
        let graph = Graph::from_channel(
            Channel {
                http: http.clone(),
                authn: authn("Graph", &config.graph)?,
                id_header: "client-request-id",
                surface: "Graph",
            },
            config.graph.root.clone(),
        );
        let arm = Arm::from_channel(
            Channel {
                http: http.clone(),
                authn: authn("ARM", &config.arm)?,
                id_header: "x-ms-client-request-id",
                surface: "ARM",
            },
            config.arm.root.clone(),
            config.operations.clone(),
        );
        let admin_service = match &config.admin_service {
            Some(e) => Some(AdminService::from_channel(
                Channel {
                    http: http.clone(),
                    authn: authn("AdminService", e)?,
                    id_header: "client-request-id",
                    surface: "AdminService",
                },
                e.root.clone(),
            )),
            None => None,
        };
        let blob = Blob::from_channel(Channel {
            http: http.clone(),
            authn: Authn::InUrl,
            id_header: "x-ms-client-request-id",
            surface: "Azure Storage",
        });
        let dns = Dns::new(config.dns_servers.clone());
        Ok(Cloud {
            dns,
            config,
            http,
            tokens,
            graph,
            arm,
            admin_service,
            blob,
        })
    }

    /// The AdminService client, or an error saying the target has none.
    pub fn admin_service(&self) -> Result<&AdminService> {
        self.admin_service.as_ref().ok_or_else(|| {
            ModuleError::validation("this target has no AdminService").with_hint(
                "add admin_service, admin_service_auth and admin_service_resource to the profile",
            )
        })
    }
}
