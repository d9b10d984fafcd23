//! What scripts get back from the site module.

use crate::change::Known;
use serde_json::Value;

/// The site, from `SMS_Site`.
#[derive(Debug, Clone)]
pub struct Site {
    pub code: String,
    pub name: String,
    /// `5.00.9128.1000`.
    pub version: String,
    pub build: u32,
    /// `Configuration Manager current branch 2403`.
    pub product_line: String,
    /// The site server's FQDN.
    pub server: String,
}

impl Site {
    pub fn from_row(v: &Value) -> Self {
        let build = v["BuildNumber"]
            .as_u64()
            .or_else(|| v["BuildNumber"].as_str().and_then(|s| s.parse().ok()))
            .and_then(|b| u32::try_from(b).ok())
            .unwrap_or(0);
        Site {
            code: text(v, "SiteCode"),
            name: text(v, "SiteName"),
            version: text(v, "Version"),
            build,
            product_line: super::model::product_line(build),
            server: text(v, "ServerName"),
        }
    }
}

/// The cloud-management Azure service and the apps imported with it.
#[derive(Debug, Clone)]
pub struct AzureService {
    /// The `SMS_Azure_CloudService` row's `ID`.
    pub id: Known<i64>,
    pub name: String,
    pub tenant_id: String,
    pub server_app_id: Known<String>,
    /// The server app's App ID URI (what clients ask tokens for: AADRESOURCEURI).
    pub server_app_uri: String,
    pub client_app_id: Known<String>,
    pub user_discovery: bool,
    pub delta_minutes: u32,
    /// `7d`.
    pub schedule: String,
    /// When the secret the site holds expires.
    pub secret_expiry: String,
    /// True when this run gave the site a new secret.
    pub secret_replaced: bool,
    /// True when this run created or changed any of it (tenant, apps, service).
    pub changed: bool,
}

/// How a discovery run ended.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub service: String,
    pub kind: String,
    /// `Succeeded` or `Failed`.
    pub status: String,
    /// Users the site holds from the tenant after the run.
    pub users: i64,
    pub finished: String,
}

pub fn text(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The site's client communication settings, from `site::set_communication`.
#[derive(Debug, Clone)]
pub struct Communication {
    pub site_code: String,
    /// `https_or_http` or `https_only`.
    pub client_communication: String,
    /// Enhanced HTTP.
    pub use_configmgr_certificates: bool,
    /// The site's `IISSSLState` after the call.
    pub iis_ssl_state: i64,
    pub changed: bool,
}

/// A site system role, from `site::ensure_role`, `site::management_point` or
/// `site::software_update_point`.
#[derive(Debug, Clone)]
pub struct SiteRole {
    /// The site system's FQDN.
    pub server: String,
    /// `cmg_connection_point`, `management_point`, `software_update_point`.
    pub role: String,
    /// The product's role name, e.g. `SMS Cloud Proxy Connector`.
    pub role_name: String,
    pub site_code: String,
    /// The CMG's service name (a connection point), else empty.
    pub cmg: String,
    /// Whether the role allows CMG traffic (management and software update points).
    pub allow_cmg_traffic: bool,
    /// Whether the role takes HTTPS client connections.
    pub https: bool,
    pub changed: bool,
}
