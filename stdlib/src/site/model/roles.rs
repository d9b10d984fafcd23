//! The site's communication settings and site system roles as plain Rust: options, the
//! `IISSSLState` bits, role names and the versions they need. No Rhai and no HTTP here.
//! Sources: api-surface.md §11 (IISSSLState, from a third-party DSC resource's observed
//! values), §12 and §13.

use crate::error::{ModuleError, Result};
use serde::Deserialize;

/// Site control items (`SMS_SCI_Component`) and site system roles (`SMS_SCI_SysResUse`).
pub const COMPONENT_CLASS: &str = "wmi/SMS_SCI_Component";
pub const ROLE_CLASS: &str = "wmi/SMS_SCI_SysResUse";
/// The item holding `IISSSLState`.
pub const SITE_COMPONENT_MANAGER: &str = "SMS_SITE_COMPONENT_MANAGER|SMS Site Server";
pub const IIS_SSL_STATE: &str = "IISSSLState";

/// `IISSSLState` bits. 1024 (enhanced HTTP) is documented by a Microsoft employee's lab
/// tool; the others are read off the observed values (31 HTTPS only, 192 HTTPS or HTTP,
/// +32 CRL check, +256 PKI client certificate): UNCONFIRMED as single bits.
pub const HTTPS_ONLY_BITS: i64 = 31;
pub const HTTPS_OR_HTTP_BITS: i64 = 192;
pub const CRL_BIT: i64 = 32;
pub const PKI_BIT: i64 = 256;
pub const ENHANCED_HTTP_BIT: i64 = 1024;
/// Enhanced HTTP arrived in 1806, build 8692 (enhanced-http.md).
pub const ENHANCED_HTTP_BUILD: u32 = 8692;

pub const CONNECTION_POINT_ROLE: &str = "SMS Cloud Proxy Connector";
pub const MANAGEMENT_POINT_ROLE: &str = "SMS Management Point";
pub const SOFTWARE_UPDATE_POINT_ROLE: &str = "SMS Software Update Point";
/// The embedded property binding a connection point to its CMG (its service name in
/// `Value1`): UNCONFIRMED name (api-surface.md §21 item 6).
pub const CMG_PROP: &str = "CloudServiceName";
/// "Allow Configuration Manager cloud management gateway traffic" (§13).
pub const ALLOW_PROXY_TRAFFIC: &str = "AllowProxyTraffic";

/// The role names scripts use, and the product's.
pub const ROLES: &[(&str, &str)] = &[("cmg_connection_point", CONNECTION_POINT_ROLE)];

/// The product's role name for a script's (`cmg_connection_point`).
pub fn role_name(function: &str, role: &str) -> Result<&'static str> {
    ROLES
        .iter()
        .find(|(n, _)| *n == role)
        .map(|(_, r)| *r)
        .ok_or_else(|| {
            ModuleError::validation(format!("{function}: unknown role {role:?}")).with_hint(
                format!(
                    "the roles this function manages: {}",
                    ROLES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                ),
            )
        })
}

/// "Client computer communication" on the site's Communication Security tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientCommunication {
    HttpsOnly,
    HttpsOrHttp,
}

impl ClientCommunication {
    /// `Set-CMSite -ClientComputerCommunicationType`'s value.
    pub fn cmdlet_value(self) -> &'static str {
        match self {
            ClientCommunication::HttpsOnly => "HttpsOnly",
            ClientCommunication::HttpsOrHttp => "HttpsOrHttp",
        }
    }

    pub fn script_name(self) -> &'static str {
        match self {
            ClientCommunication::HttpsOnly => "https_only",
            ClientCommunication::HttpsOrHttp => "https_or_http",
        }
    }

    /// What an `IISSSLState` says.
    pub fn of(state: i64) -> Self {
        if state & HTTPS_OR_HTTP_BITS == HTTPS_OR_HTTP_BITS {
            ClientCommunication::HttpsOrHttp
        } else {
            ClientCommunication::HttpsOnly
        }
    }
}

/// Options of `site::set_communication`; what is left out stays as it is.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunicationOptions {
    pub client_communication: Option<ClientCommunication>,
    /// "Use Configuration Manager-generated certificates for HTTP site systems"
    /// (enhanced HTTP).
    pub use_configmgr_certificates: Option<bool>,
    /// "Clients check the certificate revocation list (CRL) for site systems".
    pub check_crl: Option<bool>,
    /// "Use PKI client certificate (client authentication capability) when available".
    pub use_pki_client_certificate: Option<bool>,
}

impl CommunicationOptions {
    /// The `IISSSLState` these options make of `current`: the bits they name set or
    /// cleared, every other bit kept as it is.
    pub fn apply(&self, current: i64) -> i64 {
        let mut s = current;
        let set = |s: &mut i64, bit: i64, on: bool| {
            if on {
                *s |= bit
            } else {
                *s &= !bit
            }
        };
        match self.client_communication {
            Some(ClientCommunication::HttpsOnly) => {
                s = (s & !HTTPS_OR_HTTP_BITS & !PKI_BIT) | HTTPS_ONLY_BITS;
            }
            Some(ClientCommunication::HttpsOrHttp) => {
                s = (s & !HTTPS_ONLY_BITS) | HTTPS_OR_HTTP_BITS;
            }
            None => {}
        }
        if let Some(on) = self.use_configmgr_certificates {
            set(&mut s, ENHANCED_HTTP_BIT, on);
        }
        if let Some(on) = self.check_crl {
            set(&mut s, CRL_BIT, on);
        }
        // HTTPS only always uses the PKI client certificate: its bit is not used there.
        if let Some(on) = self.use_pki_client_certificate {
            if ClientCommunication::of(s) == ClientCommunication::HttpsOrHttp {
                set(&mut s, PKI_BIT, on);
            }
        }
        s
    }
}

/// Refuse enhanced HTTP on a site older than 1806.
pub fn check_enhanced_http_build(function: &str, build: u32, product_line: &str) -> Result<()> {
    if build < ENHANCED_HTTP_BUILD {
        return Err(ModuleError::validation(format!(
            "{function}: enhanced HTTP (use_configmgr_certificates) needs Configuration Manager 1806 (build {ENHANCED_HTTP_BUILD}) or later; the site is {product_line}"
        ))
        .with_hint("update the site to a current branch version first"));
    }
    Ok(())
}

/// Options of `site::management_point` and `site::software_update_point`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointOptions {
    /// "Allow Configuration Manager cloud management gateway traffic".
    pub allow_cmg_traffic: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(c: Option<ClientCommunication>, ehttp: Option<bool>) -> CommunicationOptions {
        CommunicationOptions {
            client_communication: c,
            use_configmgr_certificates: ehttp,
            ..Default::default()
        }
    }

    #[test]
    fn iis_ssl_state_follows_the_observed_table() {
        use ClientCommunication::*;
        assert_eq!(opts(Some(HttpsOrHttp), Some(true)).apply(192), 1216);
        assert_eq!(opts(Some(HttpsOrHttp), Some(true)).apply(224), 1248);
        assert_eq!(opts(Some(HttpsOrHttp), Some(true)).apply(480), 1504);
        assert_eq!(opts(Some(HttpsOrHttp), Some(false)).apply(1216), 192);
        assert_eq!(opts(Some(HttpsOnly), Some(false)).apply(192), 31);
        assert_eq!(opts(Some(HttpsOnly), Some(false)).apply(224), 63);
        assert_eq!(opts(Some(HttpsOrHttp), None).apply(31), 192);
        let crl = CommunicationOptions {
            check_crl: Some(true),
            use_pki_client_certificate: Some(true),
            ..Default::default()
        };
        assert_eq!(crl.apply(192), 480);
        // Bits no option names are kept.
        assert_eq!(opts(None, Some(true)).apply(192 | 4096), 1216 | 4096);
        assert_eq!(ClientCommunication::of(1216), HttpsOrHttp);
        assert_eq!(ClientCommunication::of(63), HttpsOnly);
    }

    #[test]
    fn versions_and_roles_are_checked() {
        assert!(check_enhanced_http_build("f", 8692, "1806").is_ok());
        let e = check_enhanced_http_build("f", 8634, "1802").unwrap_err();
        assert!(e.message.contains("1806") && e.message.contains("8692"));
        assert_eq!(
            role_name("f", "cmg_connection_point").unwrap(),
            CONNECTION_POINT_ROLE
        );
        let e = role_name("f", "distribution_point").unwrap_err();
        assert!(e.hint.unwrap_or_default().contains("cmg_connection_point"));
    }
}

/// Options of `site::ensure_role` besides `cmg`, which is taken out first (a `Cmg` or
/// a service name). None yet: a misspelt key is still refused.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleOptions {}
