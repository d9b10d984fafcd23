//! What scripts get back from the clientsettings module.

use super::model::{CLOUD_AGENT, POLICY_AGENT};
use crate::change::Known;
use serde_json::Value;

/// A client settings object: the Default Client Settings or custom settings.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// `SettingsID` (unknown in a plan that creates the settings).
    pub id: Known<i64>,
    pub name: String,
    pub description: String,
    /// "default", "device" or "user".
    pub kind: String,
    /// 10000 for the default settings; 1 is the highest.
    pub priority: Known<i64>,
    /// The `SMS_CloudAgentConfig` entry, if the settings carry one.
    pub cloud: Option<Value>,
    /// The `SMS_PolicyAgentConfig` entry, if the settings carry one.
    pub policy: Option<Value>,
}

impl ClientSettings {
    /// From a `SMS_ClientSettingsDefault` or `SMS_ClientSettings` row.
    pub fn from_row(row: &Value) -> Self {
        let kind = match row["Type"].as_i64() {
            Some(0) => "default",
            Some(2) => "user",
            _ => "device",
        };
        let agent = |id: i64| {
            row["AgentConfigurations"]
                .as_array()
                .and_then(|a| a.iter().find(|e| e["AgentID"].as_i64() == Some(id)))
                .cloned()
        };
        ClientSettings {
            id: known_int(&row["SettingsID"]),
            name: text(row, "Name"),
            description: text(row, "Description"),
            kind: kind.into(),
            priority: known_int(&row["Priority"]),
            cloud: agent(CLOUD_AGENT.id),
            policy: agent(POLICY_AGENT.id),
        }
    }

    /// Custom settings a plan would create.
    pub fn planned(name: &str, description: &str, kind: &str) -> Self {
        ClientSettings {
            id: Known::AfterApply,
            name: name.into(),
            description: description.into(),
            kind: kind.into(),
            priority: Known::AfterApply,
            cloud: None,
            policy: None,
        }
    }

    pub fn is_default(&self) -> bool {
        self.kind == "default"
    }

    /// The cloud services settings under the module's option names.
    pub fn cloud_services(&self) -> Option<Vec<(&'static str, Value)>> {
        let c = self.cloud.as_ref()?;
        Some(vec![
            ("auto_aad_join", c["AutoAADJoin"].clone()),
            ("enable_cmg", c["AllowCMG"].clone()),
            ("allow_cloud_dp", c["AllowCloudDP"].clone()),
        ])
    }

    /// The client policy settings under the module's option names.
    pub fn client_policy(&self) -> Option<Vec<(&'static str, Value)>> {
        let p = self.policy.as_ref()?;
        Some(vec![
            ("user_policy", p["PolicyEnableUserPolicyPolling"].clone()),
            (
                "user_policy_on_internet",
                p["PolicyEnableUserPolicyOnInternet"].clone(),
            ),
            (
                "polling_minutes",
                p["PolicyRequestAssignmentTimeout"].clone(),
            ),
        ])
    }
}

fn known_int(v: &Value) -> Known<i64> {
    v.as_i64().map_or(Known::AfterApply, Known::Value)
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}
