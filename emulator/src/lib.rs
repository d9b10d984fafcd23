//! `comgmt-emulator`: a faithful local Microsoft Graph + ARM + AdminService + Entra token
//! endpoint + blob endpoint, with real state (SQLite) and fault injection.
//!
//! It listens on 127.0.0.1 only. The public API below is what the runtime and the tests
//! use; keep it stable.
//!
//! Layout: `server` (accept loop, TLS, dropped connections), `app` (shared state and the
//! router), `reqlog` (the request log), `identity` (Entra token endpoints, signing keys,
//! the one bearer check by audience), `odata` (the OData engine Graph and the
//! AdminService share), `graph` (Microsoft Graph: one generic entity-set router, a
//! descriptor per set), `arm` (Azure Resource Manager), `adminservice` (the ConfigMgr
//! AdminService), `blob` (SAS block upload), `faults` (injected per surface, each in its own error shape), `store`
//! (SQLite), `tenant` + `seed` (what a new tenant holds), `dns_server` (a DNS server on
//! UDP and TCP answering for the emulated Azure DNS zones and public IP names).
//!
//! Which tokens each surface takes:
//! - Graph: audience `https://graph.microsoft.com`, `00000003-0000-0000-c000-000000000000`,
//!   or the emulator's own base URL (kiota derives that scope from the request URL).
//! - ARM: `https://management.azure.com` or `https://management.core.windows.net` (with or
//!   without the trailing slash).
//! - AdminService: an identifier URI or app id of an application registered in the tenant
//!   (as through a CMG).

mod adminservice;
mod app;
mod arm;
mod blob;
mod dns_server;
mod errors;
mod faults;
mod graph;
mod identity;
mod odata;
mod reqlog;
mod seed;
mod server;
mod store;
mod tenant;
mod tls;
mod util;

pub use faults::FaultScope;
pub use seed::GRAPH_APP_ID;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where the emulator keeps its state.
#[derive(Debug, Clone)]
pub enum StateLocation {
    /// A SQLite file; created with a fresh tenant when missing.
    File(PathBuf),
    /// In memory, gone when the emulator stops (tests).
    Memory,
}

/// Injected faults: a fraction of requests answered with `status` (429/503 with
/// Retry-After) or dropped, decided before any state changes.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSpec {
    pub rate: f64,
    pub kind: FaultKind,
    /// Retry-After seconds sent with 429/503.
    pub retry_after: u64,
    /// Seed for the fault dice, so a test sees the same faults every run.
    pub seed: Option<u64>,
    /// Whether the token endpoint is faulted too (`scope=all`).
    pub scope: FaultScope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    Status(u16),
    /// Close the connection without an answer.
    Drop,
}

impl FaultSpec {
    /// Parse `rate=0.3,status=429` / `rate=0.1,status=503,retry_after=1` / `rate=0.2,drop`,
    /// with optional `seed=N` and `scope=all` (also fault the token endpoint).
    pub fn parse(spec: &str) -> Result<FaultSpec, String> {
        faults::parse(spec)
    }
}

#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// 0 picks an ephemeral port.
    pub port: u16,
    pub state: StateLocation,
    pub faults: Option<FaultSpec>,
    /// Added to every response.
    pub latency: Duration,
    /// Serve HTTPS with a generated certificate; its CA certificate (PEM) is written here.
    pub tls_cert_out: Option<PathBuf>,
    /// The emulated site server's log folder (`SMS_AZUREAD_DISCOVERY_AGENT.log` …).
    /// `None`: `logs/` beside a state file, or a new temporary folder for in-memory
    /// state, removed when the emulator is dropped.
    pub log_dir: Option<PathBuf>,
    /// How the discovery agent words its success line.
    pub udx_wording: UdxWording,
    /// How long an ARM write (a template deployment, a scale set's scale or power
    /// change, a delete) takes to finish; progress is computed from timestamps when
    /// read. Real deployments take minutes; tests shorten this.
    pub arm_delay: Duration,
}

/// The success line of Entra user discovery: the product string from before the rename
/// (default) or the current documentation's wording. Which one the product writes today
/// is UNCONFIRMED (api-surface.md §8.3); comgmt's log parser accepts both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UdxWording {
    /// `Successfully published UDX for Azure Active Directory users`
    #[default]
    AzureActiveDirectory,
    /// `Successfully published UDX for Microsoft Entra users`
    MicrosoftEntra,
}

impl UdxWording {
    /// The directory's name as the line says it.
    pub fn directory(self) -> &'static str {
        match self {
            UdxWording::AzureActiveDirectory => "Azure Active Directory",
            UdxWording::MicrosoftEntra => "Microsoft Entra",
        }
    }
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            port: 0,
            state: StateLocation::Memory,
            faults: None,
            latency: Duration::ZERO,
            tls_cert_out: None,
            arm_delay: Duration::from_secs(2),
            log_dir: None,
            udx_wording: UdxWording::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot open emulator state {path}: {reason}")]
    State { path: PathBuf, reason: String },
    #[error("cannot listen on 127.0.0.1:{port}: {reason}")]
    Bind { port: u16, reason: String },
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    #[error("cannot create the emulator's log folder {path}: {reason}")]
    LogDir { path: PathBuf, reason: String },
    #[error("cannot start the DNS server on 127.0.0.1: {0}")]
    Dns(String),
}

/// The emulated service a request was addressed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Surface {
    /// Microsoft Graph (`/v1.0`, `/beta`).
    Graph,
    /// The Entra token, device-code, OpenID configuration and key endpoints.
    Identity,
    /// Azure Resource Manager (`/subscriptions`, `/providers`, `/metadata/endpoints`).
    Arm,
    /// The ConfigMgr administration service (`/AdminService/...`).
    AdminService,
    /// Blob upload.
    Blob,
    /// Anything else (answered with 404).
    Other,
}

impl Surface {
    pub fn as_str(self) -> &'static str {
        match self {
            Surface::Graph => "graph",
            Surface::Identity => "identity",
            Surface::Arm => "arm",
            Surface::AdminService => "adminservice",
            Surface::Blob => "blob",
            Surface::Other => "other",
        }
    }
}

/// One request the emulator received, as recorded in its request log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// When it arrived (RFC 3339, UTC, milliseconds).
    pub time: String,
    pub surface: Surface,
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query as sent, e.g. `/v1.0/applications?$filter=...`.
    pub path: String,
    /// The status answered; `None` when the connection closed before an answer (a
    /// `drop` fault).
    pub status: Option<u16>,
    /// Whether the request could change state: any method but GET and HEAD, except
    /// POSTs that only read (token, device code, ARM name-availability checks).
    pub write: bool,
}

impl LoggedRequest {
    /// The JSON form served at `GET /_emulator/requests`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "time": self.time,
            "surface": self.surface.as_str(),
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "write": self.write,
        })
    }
}

/// A running emulator. Dropping it stops the server.
pub struct EmulatorHandle {
    url: String,
    log: Arc<reqlog::RequestLog>,
    tenant_id: String,
    ca_pem: Option<Vec<u8>>,
    log_dir: PathBuf,
    /// Set when the log folder is a temporary one this handle removes when dropped.
    owned_log_dir: bool,
    dns: Option<dns_server::DnsServer>,
    dns_addr: std::net::SocketAddr,
    /// The shared state, for test support only (`set_site_build`).
    state: app::Shared,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl EmulatorHandle {
    /// Base URL with a trailing slash, e.g. `http://127.0.0.1:41234/`.
    pub fn url(&self) -> &str {
        &self.url
    }
    /// The emulated tenant's id (a GUID, stable for a state file).
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }
    /// The CA certificate (PEM) to trust when serving HTTPS.
    pub fn ca_pem(&self) -> Option<&[u8]> {
        self.ca_pem.as_deref()
    }
    /// The emulated site server's log folder: `SMS_AZUREAD_DISCOVERY_AGENT.log` is
    /// written here.
    pub fn log_dir(&self) -> &std::path::Path {
        &self.log_dir
    }
    /// The emulator's DNS server (UDP and TCP, same port, on 127.0.0.1): CNAME record
    /// sets of the emulated Azure DNS zones and public IP addresses' FQDNs; NXDOMAIN
    /// for every other name. Point a resolver here to see what clients would see.
    pub fn dns_addr(&self) -> std::net::SocketAddr {
        self.dns_addr
    }
    /// Test support until the ARM public IP routes land (issue 7): store a public IP
    /// address `name` whose DNS name is `fqdn` and address `ip`, as ARM would after a CMG
    /// deployment, so the DNS server resolves `fqdn`. Not an API of any Azure service.
    #[doc(hidden)]
    pub fn put_public_ip(
        &self,
        name: &str,
        fqdn: &str,
        ip: std::net::IpAddr,
    ) -> Result<(), String> {
        match &self.dns {
            Some(dns) => dns.put_public_ip(name, fqdn, ip).map_err(|e| e.0),
            None => Err("the emulator has stopped".into()),
        }
    }
    /// Test support: make the emulated site an older (or newer) build, as a site that
    /// has not been updated is, so version-dependent behaviour can be tested. Sets
    /// `SMS_Site.BuildNumber` and `Version` (`5.00.{build}.1000`). Not an API of any
    /// Microsoft service.
    #[doc(hidden)]
    pub fn set_site_build(&self, build: u32) -> Result<(), String> {
        self.state
            .store
            .write(|db| adminservice::site::set_build(db, build))
            .map_err(|e| e.0)
    }
    /// Every request answered so far (oldest first), except the emulator's own debug
    /// routes. Also served as JSON at `GET /_emulator/requests`.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.log.snapshot()
    }
    /// Stop serving and wait for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(dns) = self.dns.take() {
            dns.shutdown().await;
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if self.owned_log_dir {
            let _ = std::fs::remove_dir_all(&self.log_dir);
        }
    }
}

/// The log folder to use, and whether it is a temporary one the handle owns.
fn log_dir(config: &EmulatorConfig) -> Result<(PathBuf, bool), EmulatorError> {
    let (dir, owned) = match (&config.log_dir, &config.state) {
        (Some(d), _) => (d.clone(), false),
        (None, StateLocation::File(p)) => (
            p.parent()
                .filter(|d| !d.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("logs"), |d| d.join("logs")),
            false,
        ),
        (None, StateLocation::Memory) => (
            std::env::temp_dir().join(format!(
                "comgmt-emulator-{}-{}",
                std::process::id(),
                util::opaque_id(6).replace(['-', '_'], "x")
            )),
            true,
        ),
    };
    std::fs::create_dir_all(&dir).map_err(|e| EmulatorError::LogDir {
        path: dir.clone(),
        reason: e.to_string(),
    })?;
    Ok((dir, owned))
}

/// Start the emulator on 127.0.0.1 on the current tokio runtime.
pub async fn start(config: EmulatorConfig) -> Result<EmulatorHandle, EmulatorError> {
    let state_err =
        |path: PathBuf, e: store::StoreError| EmulatorError::State { path, reason: e.0 };
    let store = match &config.state {
        StateLocation::File(path) => {
            store::Store::open_file(path).map_err(|e| state_err(path.clone(), e))?
        }
        StateLocation::Memory => {
            store::Store::open_memory().map_err(|e| state_err(":memory:".into(), e))?
        }
    };
    let state_path = match &config.state {
        StateLocation::File(p) => p.clone(),
        StateLocation::Memory => ":memory:".into(),
    };
    let tenant = tenant::load_or_create(&store).map_err(|e| state_err(state_path, e))?;
    let (log_dir, owned_log_dir) = log_dir(&config)?;

    let tls = match &config.tls_cert_out {
        Some(out) => {
            let material = tls::generate().map_err(EmulatorError::Tls)?;
            if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| EmulatorError::Tls(format!("{}: {e}", dir.display())))?;
            }
            std::fs::write(out, &material.ca_pem)
                .map_err(|e| EmulatorError::Tls(format!("{}: {e}", out.display())))?;
            Some(material)
        }
        None => None,
    };

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port))
        .await
        .map_err(|e| EmulatorError::Bind {
            port: config.port,
            reason: e.to_string(),
        })?;
    let addr = listener.local_addr().map_err(|e| EmulatorError::Bind {
        port: config.port,
        reason: e.to_string(),
    })?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let dns = dns_server::bind()
        .await
        .map_err(|e| EmulatorError::Dns(e.to_string()))?;
    let tenant_id = tenant.id.clone();
    let log = Arc::new(reqlog::RequestLog::default());
    let state = Arc::new(app::AppState {
        store,
        tenant,
        scheme,
        local_addr: addr,
        device_flows: Default::default(),
        log: log.clone(),
        ca_pem: tls.as_ref().map(|t| t.ca_pem.clone()),
        site: app::SiteSettings {
            log_dir: log_dir.clone(),
            udx_wording: config.udx_wording,
        },
        arm_delay: config.arm_delay,
        dns_addr: dns.addr(),
    });
    // Faults and latency are HTTP matters: the DNS server answers every query.
    let dns = dns.serve(state.clone());
    let faults = config
        .faults
        .clone()
        .map(|f| Arc::new(faults::Faults::new(f)));
    let router = app::router(state.clone(), faults, config.latency);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let ca_pem = tls.as_ref().map(|t| t.ca_pem.clone().into_bytes());
    let task = server::spawn(listener, router, tls.map(|t| t.server_config), rx);
    Ok(EmulatorHandle {
        url: format!("{scheme}://{addr}/"),
        log,
        tenant_id,
        ca_pem,
        log_dir,
        owned_log_dir,
        dns_addr: dns.addr(),
        dns: Some(dns),
        state,
        shutdown: Some(tx),
        task: Some(task),
    })
}
