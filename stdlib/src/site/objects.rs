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
