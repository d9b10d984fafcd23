//! The cmg module as plain Rust: the wizard's options and defaults, VM sizes, the
//! site's CMG states and the API versions the CMG's Azure resources are read with.
//! No Rhai and no HTTP here.

use crate::error::{ModuleError, Result};
use serde::Deserialize;

/// The CMG class (memdocs sms_azureservice-server-wmi-class.md); CMGs have
/// `ServiceType = 'CloudProxyService'` (api-surface §9.3).
pub const CMG_CLASS: &str = "wmi/SMS_AzureService";
pub const CLOUD_PROXY_SERVICE: &str = "CloudProxyService";
/// `DeploymentModel` of a virtual machine scale set CMG (value UNCONFIRMED).
pub const VMSS_DEPLOYMENT_MODEL: i64 = 2;

/// `Microsoft.Compute` virtual machine scale sets.
pub const COMPUTE_API: &str = "2024-07-01";
/// `Microsoft.Network` public IP addresses.
pub const NETWORK_API: &str = "2024-05-01";
/// Listing a resource group's resources.
pub const RESOURCES_API: &str = "2021-04-01";

/// The wizard's VM sizes (cost.md): the name it shows and the Azure SKU.
pub const VM_SIZES: &[(&str, &str)] = &[
    ("A2_v2", "Standard_A2_v2"),
    ("B2s", "Standard_B2s"),
    ("A4_v2", "Standard_A4_v2"),
];

/// The Azure SKU for a wizard size (`A2_v2`, or already `Standard_A2_v2`).
pub fn vm_sku(size: &str) -> Result<&'static str> {
    let s = size.trim();
    VM_SIZES
        .iter()
        .find(|(short, sku)| s.eq_ignore_ascii_case(short) || s.eq_ignore_ascii_case(sku))
        .map(|(_, sku)| *sku)
        .ok_or_else(|| {
            ModuleError::validation(format!("vm_size {size:?} is not one the CMG offers"))
                .with_hint("use \"A2_v2\" (Standard, the default), \"A4_v2\" (Large) or \"B2s\" (Lab, not for production)")
        })
}

/// VM instances the wizard allows.
pub const MIN_INSTANCES: i64 = 1;
pub const MAX_INSTANCES: i64 = 16;

pub fn check_instances(n: i64) -> Result<u32> {
    if (MIN_INSTANCES..=MAX_INSTANCES).contains(&n) {
        Ok(n as u32)
    } else {
        Err(
            ModuleError::validation(format!("vm_instances must be 1 to 16, not {n}")).with_hint(
                "the CMG wizard allows 1 to 16 VM instances; each handles about 6,000 clients",
            ),
        )
    }
}

/// The traffic alert thresholds (percent of the 14-day outbound threshold).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alerts {
    /// The 14-day outbound data threshold in GB; unset: no traffic alert.
    #[serde(default)]
    pub traffic_out_gb: Option<u32>,
    #[serde(default = "fifty")]
    pub warning_percent: u32,
    #[serde(default = "ninety")]
    pub critical_percent: u32,
    /// "Stop this service when the critical threshold is exceeded".
    #[serde(default)]
    pub stop_when_critical: bool,
}

impl Default for Alerts {
    fn default() -> Self {
        Alerts {
            traffic_out_gb: None,
            warning_percent: fifty(),
            critical_percent: ninety(),
            stop_when_critical: false,
        }
    }
}

fn fifty() -> u32 {
    50
}
fn ninety() -> u32 {
    90
}
fn yes() -> bool {
    true
}
fn one() -> i64 {
    1
}
fn a2_v2() -> String {
    "A2_v2".into()
}
fn thirty_minutes() -> u64 {
    1800
}

/// Options of `cmg::ensure` (`pfx`, `password` and `azure_service` are taken out of
/// the map first).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CmgOptions {
    pub region: String,
    pub resource_group: String,
    #[serde(default)]
    pub subscription: Option<String>,
    /// For a wildcard certificate: the name prefix of the service name.
    #[serde(default)]
    pub name_prefix: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default = "one")]
    pub vm_instances: i64,
    #[serde(default = "a2_v2")]
    pub vm_size: String,
    #[serde(default = "yes")]
    pub verify_client_cert_revocation: bool,
    #[serde(default = "yes")]
    pub enforce_tls12: bool,
    #[serde(default = "yes")]
    pub allow_content: bool,
    #[serde(default)]
    pub alerts: Alerts,
    /// Seconds to follow the deployment in Azure.
    #[serde(default = "thirty_minutes")]
    pub timeout: u64,
}

impl CmgOptions {
    pub fn validate(&self) -> Result<(u32, &'static str)> {
        let n = check_instances(self.vm_instances)?;
        let sku = vm_sku(&self.vm_size)?;
        let a = &self.alerts;
        if a.warning_percent == 0
            || a.warning_percent >= a.critical_percent
            || a.critical_percent > 100
        {
            return Err(ModuleError::validation(format!(
                "alerts: warning {}% and critical {}% must be 1 <= warning < critical <= 100",
                a.warning_percent, a.critical_percent
            )));
        }
        Ok((n, sku))
    }
}

/// Options of the functions that wait for the site (`set_instances`, `stop`, …).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitOptions {
    #[serde(default = "thirty_minutes")]
    pub timeout: u64,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            timeout: thirty_minutes(),
        }
    }
}

/// The site's CMG states. The docs give no values for `State`: these are UNCONFIRMED,
/// emulated at the property level.
pub fn state_name(state: i64) -> &'static str {
    match state {
        0 => "Ready",
        1 => "Provisioning",
        2 => "Error",
        3 => "Starting",
        4 => "Stopping",
        5 => "Stopped",
        6 => "Deleting",
        7 => "Upgrading",
        _ => "Unknown",
    }
}

pub const READY: i64 = 0;
pub const ERROR: i64 = 2;
pub const STOPPED: i64 = 5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_instances() {
        assert_eq!(vm_sku("A2_v2").unwrap(), "Standard_A2_v2");
        assert_eq!(vm_sku("standard_b2s").unwrap(), "Standard_B2s");
        assert!(vm_sku("D2s_v5").is_err());
        assert!(check_instances(0).is_err());
        assert!(check_instances(17).is_err());
        assert_eq!(check_instances(16).unwrap(), 16);
    }

    #[test]
    fn states_have_names() {
        assert_eq!(state_name(READY), "Ready");
        assert_eq!(state_name(STOPPED), "Stopped");
        assert_eq!(state_name(42), "Unknown");
    }
}
