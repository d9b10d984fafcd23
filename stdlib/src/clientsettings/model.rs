//! The clientsettings module as plain Rust: options and their rules, the two agents'
//! settings with their WMI properties and cmdlet parameters, and the class names.
//! No Rhai and no HTTP here.
//!
//! Mapping (api-surface §14.3, from the third-party ConfigMgrCBDsc helpers):
//! PolicyPollingMins ↔ PolicyRequestAssignmentTimeout, EnableUserPolicy ↔
//! PolicyEnableUserPolicyPolling, EnableUserPolicyOnInternet ↔
//! PolicyEnableUserPolicyOnInternet, AllowCloudDistributionPoint ↔ AllowCloudDP,
//! AllowCloudManagementGateway ↔ AllowCMG, AutoAzureADJoin ↔ AutoAADJoin.

use crate::error::{ModuleError, Result};
use serde::Deserialize;
use serde_json::{json, Value};

/// The Default Client Settings (read; writes to `AgentConfigurations` are UNCONFIRMED).
pub const DEFAULT_CLASS: &str = "wmi/SMS_ClientSettingsDefault";
/// Custom client settings.
pub const CUSTOM_CLASS: &str = "wmi/SMS_ClientSettings";

/// Client policy polling: the console's spin box takes 3 to 1440 minutes. The docs give
/// only the default (60, about-client-settings.md); the range is UNCONFIRMED.
pub const POLLING_MINUTES: std::ops::RangeInclusive<i64> = 3..=1440;

/// One agent's settings the module changes.
pub struct AgentSpec {
    /// `SMS_CloudAgentConfig`.
    pub class: &'static str,
    /// Its `AgentID`: 13 for the policy agent is documented; 22 for the cloud agent is
    /// UNCONFIRMED (a third-party script).
    pub id: i64,
    /// The cmdlet that changes it.
    pub cmdlet: &'static str,
    /// What the plan calls it.
    pub kind: &'static str,
}

pub const CLOUD_AGENT: AgentSpec = AgentSpec {
    class: "SMS_CloudAgentConfig",
    id: 22,
    cmdlet: "Set-CMClientSettingCloudService",
    kind: "cloud services client settings",
};

pub const POLICY_AGENT: AgentSpec = AgentSpec {
    class: "SMS_PolicyAgentConfig",
    id: 13,
    cmdlet: "Set-CMClientSettingClientPolicy",
    kind: "client policy client settings",
};

/// One setting to change: the agent property, the cmdlet parameter, the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub property: &'static str,
    pub parameter: &'static str,
    pub value: Value,
}

impl Setting {
    fn of(property: &'static str, parameter: &'static str, value: Value) -> Self {
        Setting {
            property,
            parameter,
            value,
        }
    }

    /// `-AllowCloudManagementGateway $true`, `-PolicyPollingMins 60`.
    pub fn argument(&self) -> String {
        match &self.value {
            Value::Bool(b) => format!("-{} ${b}", self.parameter),
            v => format!("-{} {v}", self.parameter),
        }
    }
}

/// Options of `clientsettings::ensure`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnsureOptions {
    #[serde(default)]
    pub description: String,
    /// "device" or "user".
    #[serde(rename = "type", default = "device")]
    pub kind: String,
}

fn device() -> String {
    "device".into()
}

impl EnsureOptions {
    /// The WMI `Type` (1 device, 2 user) and the cmdlet's `-Type` value.
    pub fn type_code(&self) -> Result<(i64, &'static str)> {
        match self.kind.to_ascii_lowercase().as_str() {
            "device" => Ok((1, "Device")),
            "user" => Ok((2, "User")),
            other => Err(ModuleError::validation(format!(
                "clientsettings::ensure: type must be \"device\" or \"user\", not {other:?}"
            ))),
        }
    }
}

/// Check a custom settings name.
pub fn check_name(function: &str, name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(
            ModuleError::validation(format!("{function}: the settings name is empty")).with_hint(
                "pass \"default\" for the Default Client Settings, or a custom settings name",
            ),
        );
    }
    Ok(())
}

/// Options of `clientsettings::cloud_services`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudServicesOptions {
    /// Automatically register new Windows 10 or later domain-joined devices with Entra ID.
    pub auto_aad_join: Option<bool>,
    /// Enable clients to use a cloud management gateway.
    pub enable_cmg: Option<bool>,
    /// Allow access to cloud distribution point.
    pub allow_cloud_dp: Option<bool>,
}

impl CloudServicesOptions {
    pub fn settings(&self) -> Result<Vec<Setting>> {
        let out: Vec<Setting> = [
            (
                "AllowCloudDP",
                "AllowCloudDistributionPoint",
                self.allow_cloud_dp,
            ),
            ("AllowCMG", "AllowCloudManagementGateway", self.enable_cmg),
            ("AutoAADJoin", "AutoAzureADJoin", self.auto_aad_join),
        ]
        .into_iter()
        .filter_map(|(p, a, v)| v.map(|v| Setting::of(p, a, json!(v))))
        .collect();
        nonempty(
            "clientsettings::cloud_services",
            out,
            "auto_aad_join, enable_cmg, allow_cloud_dp",
        )
    }
}

/// Options of `clientsettings::client_policy`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientPolicyOptions {
    /// Enable user policy on clients.
    pub user_policy: Option<bool>,
    /// Enable user policy requests from internet clients.
    pub user_policy_on_internet: Option<bool>,
    /// Client policy polling interval (minutes).
    pub polling_minutes: Option<i64>,
}

impl ClientPolicyOptions {
    pub fn settings(&self) -> Result<Vec<Setting>> {
        const F: &str = "clientsettings::client_policy";
        if let Some(m) = self.polling_minutes {
            if !POLLING_MINUTES.contains(&m) {
                return Err(ModuleError::validation(format!(
                    "{F}: polling_minutes must be {} to {} minutes, not {m}",
                    POLLING_MINUTES.start(),
                    POLLING_MINUTES.end()
                ))
                .with_hint("the default is 60; shorter intervals load the site (size-and-scale guidance assumes 60)"));
            }
        }
        let mut out = Vec::new();
        if let Some(v) = self.user_policy {
            out.push(Setting::of(
                "PolicyEnableUserPolicyPolling",
                "EnableUserPolicy",
                json!(v),
            ));
        }
        if let Some(v) = self.user_policy_on_internet {
            out.push(Setting::of(
                "PolicyEnableUserPolicyOnInternet",
                "EnableUserPolicyOnInternet",
                json!(v),
            ));
        }
        if let Some(v) = self.polling_minutes {
            out.push(Setting::of(
                "PolicyRequestAssignmentTimeout",
                "PolicyPollingMins",
                json!(v),
            ));
        }
        nonempty(
            F,
            out,
            "user_policy, user_policy_on_internet, polling_minutes",
        )
    }

    /// The documented rule (about-client-settings.md): user policy from internet clients
    /// needs user policy on clients. Checked on the settings as they would be after the
    /// change: `user_policy` and `on_internet` are the values after it.
    pub fn check_user_policy(user_policy: bool, on_internet: bool) -> Result<()> {
        if on_internet && !user_policy {
            return Err(ModuleError::validation(
                "clientsettings::client_policy: user policy requests from internet clients need user policy on clients",
            )
            .with_hint("pass user_policy: true with user_policy_on_internet: true, or user_policy_on_internet: false"));
        }
        Ok(())
    }
}

fn nonempty(function: &str, settings: Vec<Setting>, keys: &str) -> Result<Vec<Setting>> {
    if settings.is_empty() {
        return Err(
            ModuleError::validation(format!("{function}: no setting given"))
                .with_hint(format!("pass one or more of {keys}")),
        );
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_and_rules() {
        let c = CloudServicesOptions {
            enable_cmg: Some(true),
            ..Default::default()
        };
        let s = c.settings().unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].argument(), "-AllowCloudManagementGateway $true");
        assert!(CloudServicesOptions::default().settings().is_err());
        let p = ClientPolicyOptions {
            polling_minutes: Some(60),
            ..Default::default()
        };
        assert_eq!(p.settings().unwrap()[0].argument(), "-PolicyPollingMins 60");
        for bad in [2, 1441, -1] {
            let p = ClientPolicyOptions {
                polling_minutes: Some(bad),
                ..Default::default()
            };
            assert!(p.settings().is_err(), "{bad}");
        }
        assert!(ClientPolicyOptions::check_user_policy(false, true).is_err());
        assert!(ClientPolicyOptions::check_user_policy(true, true).is_ok());
        assert!(ClientPolicyOptions::check_user_policy(false, false).is_ok());
        let e = EnsureOptions {
            description: String::new(),
            kind: "User".into(),
        };
        assert_eq!(e.type_code().unwrap(), (2, "User"));
    }
}
