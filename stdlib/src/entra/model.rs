//! Entra app registrations as plain Rust: options, well-known ids, and the App ID URI
//! rules. No Rhai and no HTTP here.

use crate::error::{ModuleError, Result};
use serde::Deserialize;

/// Microsoft Graph's application id, the same in every tenant.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// The delegated scope clients use to reach the ConfigMgr server app.
pub const USER_IMPERSONATION: &str = "user_impersonation";
/// Graph application permission the server app needs for Entra user discovery.
pub const DIRECTORY_READ_ALL: &str = "Directory.Read.All";
/// Graph delegated permission every client app keeps.
pub const USER_READ: &str = "User.Read";
/// Where the wizard points a client app by default; ConfigMgr does not use it.
pub const DEFAULT_REPLY_URL: &str = "https://ConfigMgrClient";
/// Where the wizard points the server app by default; ConfigMgr does not use it.
pub const DEFAULT_HOME_PAGE_URL: &str = "https://ConfigMgrService";
/// The secure replacement for the wizard's old `https://ConfigMgrService` App ID URI.
pub const DEFAULT_APP_ID_URI: &str = "api://{tenantId}/ConfigMgrService";

/// The `uniqueName` of the server app made for `identifier_uri`: Graph's
/// client-provided alternate key, so two runs creating the app at once upsert one
/// object instead of racing to make two. Derived from the unique key alone, so every
/// machine running the same runbook derives the same name.
pub fn server_unique_name(identifier_uri: &str) -> String {
    format!("comgmt-server-{}", short_hash(&[identifier_uri]))
}

/// The `uniqueName` of the client app named `display_name` that reaches the server app
/// with unique key `server_key`. A client app has no other unique key of its own.
pub fn client_unique_name(server_key: &str, display_name: &str) -> String {
    format!(
        "comgmt-client-{}",
        short_hash(&[server_key, display_name.trim()])
    )
}

/// 16 hex digits of SHA-256 over the parts, lower-cased first: Entra compares
/// identifier URIs case-insensitively, so `API://…` and `api://…` are one app.
fn short_hash(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.to_lowercase().as_bytes());
        h.update([0u8]);
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Options of `entra::server_app`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerAppOptions {
    pub display_name: String,
    #[serde(default = "default_home_page_url")]
    pub home_page_url: String,
    #[serde(default = "default_app_id_uri")]
    pub app_id_uri: String,
    /// Ask for Graph `Directory.Read.All` (application), needed by Entra user discovery.
    #[serde(default = "yes")]
    pub user_discovery: bool,
}

/// Options of `entra::client_app`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientAppOptions {
    pub display_name: String,
    #[serde(default = "default_reply_url")]
    pub reply_url: String,
    /// Adopt this existing app instead of finding one by name and server app.
    #[serde(default)]
    pub app_id: Option<String>,
}

/// Options of `entra::client_secret`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretOptions {
    #[serde(default = "default_secret_name")]
    pub display_name: String,
    /// 1 (the wizard's default) or 2.
    #[serde(default = "one")]
    pub years: u8,
    /// Add a new secret when the existing one expires within this many days.
    #[serde(default = "thirty")]
    pub renew_within_days: u16,
}

fn default_home_page_url() -> String {
    DEFAULT_HOME_PAGE_URL.into()
}
fn default_app_id_uri() -> String {
    DEFAULT_APP_ID_URI.into()
}
fn default_reply_url() -> String {
    DEFAULT_REPLY_URL.into()
}
fn default_secret_name() -> String {
    "ConfigMgr".into()
}
fn yes() -> bool {
    true
}
fn one() -> u8 {
    1
}
fn thirty() -> u16 {
    30
}

impl SecretOptions {
    pub fn validate(&self) -> Result<()> {
        if !(1..=2).contains(&self.years) {
            return Err(ModuleError::validation(format!(
                "entra::client_secret: years must be 1 or 2, not {}",
                self.years
            ))
            .with_hint("the Azure Services wizard offers 1 year (default) or 2 years"));
        }
        if self.display_name.trim().is_empty() {
            return Err(ModuleError::validation(
                "entra::client_secret: display_name is empty",
            ));
        }
        Ok(())
    }
}

/// What the App ID URI rules need to know about the tenant.
#[derive(Debug, Clone)]
pub struct TenantFacts {
    pub tenant_id: String,
    /// `contoso.onmicrosoft.com`.
    pub initial_domain: String,
    /// Every verified domain, the initial one included.
    pub verified_domains: Vec<String>,
}

/// Fill `{tenantId}` in a template such as `api://{tenantId}/ConfigMgrService`.
pub fn expand_uri(template: &str, tenant: &TenantFacts) -> String {
    template
        .replace("{tenantId}", &tenant.tenant_id)
        .replace("{tenantid}", &tenant.tenant_id)
}

/// The Entra "secure patterns" for new identifier URIs, as shown to
/// the admin when a URI breaks them.
pub const SECURE_PATTERNS: &[&str] = &[
    "api://<appId>",
    "api://<tenantId>/<appId>",
    "api://<tenantId>/<string>",
    "api://<string>/<appId>",
    "https://<tenantInitialDomain>.onmicrosoft.com/<string>",
    "https://<verifiedCustomDomain>/<string>",
    "https://<string>.<verifiedCustomDomain>",
    "https://<string>.<verifiedCustomDomain>/<string>",
    "api://<string>.<verifiedCustomDomainOrInitialDomain>/<string>",
];

/// Check `uri` against the secure patterns. `app_id` is known only for an existing app.
pub fn check_app_id_uri(uri: &str, tenant: &TenantFacts, app_id: Option<&str>) -> Result<()> {
    if secure_pattern_matches(uri, tenant, app_id) {
        return Ok(());
    }
    let example = format!("api://{}/ConfigMgrService", tenant.tenant_id);
    Err(ModuleError::validation(format!(
        "App ID URI {uri} does not follow the tenant's identifier URI policy"
    ))
    .with_hint(format!(
        "new App ID URIs must contain the tenant id, an app id or a verified domain; use one of: {}. For example {example} (the default)",
        SECURE_PATTERNS.join(", ")
    )))
}

fn secure_pattern_matches(uri: &str, tenant: &TenantFacts, app_id: Option<&str>) -> bool {
    let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let non_empty_path =
        |s: &str| !s.is_empty() && !s.starts_with('/') && !s.contains(char::is_whitespace);
    if let Some(rest) = uri.strip_prefix("api://") {
        let (host, path) = match rest.split_once('/') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        };
        return match path {
            // api://<appId>
            None => app_id.is_some_and(|a| eq(host, a)),
            Some(p) => {
                // api://<tenantId>/<string> (covers api://<tenantId>/<appId>)
                (eq(host, &tenant.tenant_id) && non_empty_path(p))
                    // api://<string>/<appId>
                    || (app_id.is_some_and(|a| eq(p, a)) && !host.is_empty())
                    // api://<string>.<verifiedDomain>/<string>
                    || (non_empty_path(p)
                        && tenant.verified_domains.iter().any(|d| {
                            host.len() > d.len() + 1
                                && host.to_ascii_lowercase().ends_with(&format!(".{}", d.to_ascii_lowercase()))
                        }))
            }
        };
    }
    if let Some(rest) = uri.strip_prefix("https://") {
        let (host, path) = match rest.split_once('/') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        };
        let host_l = host.to_ascii_lowercase();
        return tenant.verified_domains.iter().any(|d| {
            let d = d.to_ascii_lowercase();
            let exact = host_l == d;
            let sub = host_l.len() > d.len() + 1 && host_l.ends_with(&format!(".{d}"));
            // https://<verifiedDomain>/<string> (the initial domain is verified too)
            (exact && path.is_some_and(non_empty_path))
                // https://<string>.<verifiedDomain>[/<string>]
                || (sub && path.is_none_or(|p| p.is_empty() || non_empty_path(p)))
        });
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> TenantFacts {
        TenantFacts {
            tenant_id: "5e97358c-d99c-4558-af0c-de7774091dda".into(),
            initial_domain: "contoso.onmicrosoft.com".into(),
            verified_domains: vec!["contoso.onmicrosoft.com".into(), "contoso.com".into()],
        }
    }

    #[test]
    fn unique_names_are_stable_and_distinct() {
        let a = server_unique_name("api://t/ConfigMgrService");
        assert_eq!(a, server_unique_name("API://T/configmgrservice"));
        assert!(a.starts_with("comgmt-server-") && a.len() == 30, "{a}");
        assert_ne!(
            client_unique_name("api://t/x", "Client"),
            client_unique_name("api://t/x", "Other")
        );
    }

    #[test]
    fn accepts_the_secure_patterns() {
        let t = tenant();
        let app = "11111111-2222-3333-4444-555555555555";
        for ok in [
            "api://5e97358c-d99c-4558-af0c-de7774091dda/ConfigMgrService",
            "api://5E97358C-D99C-4558-AF0C-DE7774091DDA/x",
            "https://contoso.onmicrosoft.com/ConfigMgrService",
            "https://contoso.com/ConfigMgrService",
            "https://cmg.contoso.com",
            "https://cmg.contoso.com/service",
            "api://cmg.contoso.com/service",
        ] {
            assert!(check_app_id_uri(ok, &t, None).is_ok(), "{ok}");
        }
        assert!(check_app_id_uri(&format!("api://{app}"), &t, Some(app)).is_ok());
        assert!(check_app_id_uri(&format!("api://anything/{app}"), &t, Some(app)).is_ok());
    }

    #[test]
    fn rejects_the_legacy_default_and_lookalikes() {
        let t = tenant();
        for bad in [
            "https://ConfigMgrService",
            "api://ConfigMgrService",
            "https://contoso.com",
            "https://evilcontoso.com/x",
            "https://contoso.com.evil.net/x",
            "api://5e97358c-d99c-4558-af0c-de7774091dda/",
            "http://contoso.com/x",
            "api://11111111-2222-3333-4444-555555555555",
        ] {
            let e = check_app_id_uri(bad, &t, None).unwrap_err();
            assert!(
                e.hint.unwrap().contains("api://<tenantId>/<string>"),
                "{bad}"
            );
        }
    }

    #[test]
    fn expands_the_tenant_placeholder() {
        assert_eq!(
            expand_uri(DEFAULT_APP_ID_URI, &tenant()),
            "api://5e97358c-d99c-4558-af0c-de7774091dda/ConfigMgrService"
        );
    }

    #[test]
    fn secret_years_are_one_or_two() {
        let mut o = SecretOptions {
            display_name: "x".into(),
            years: 3,
            renew_within_days: 30,
        };
        assert!(o.validate().is_err());
        o.years = 2;
        assert!(o.validate().is_ok());
    }
}
