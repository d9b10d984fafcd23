//! What scripts get back from the azure module.

use serde_json::Value;
use std::collections::BTreeMap;

/// An Azure subscription the identity sees.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    /// The subscription id (a GUID).
    pub id: String,
    pub display_name: String,
    pub tenant_id: String,
    /// `Enabled`, `Warned`, `PastDue`, `Disabled` or `Deleted`.
    pub state: String,
}

impl Subscription {
    /// From an ARM subscription object.
    pub fn from_arm(v: &Value) -> Self {
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        Subscription {
            id: s("subscriptionId"),
            display_name: s("displayName"),
            tenant_id: s("tenantId"),
            state: s("state"),
        }
    }
}

/// A resource provider's registration in a subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct Provider {
    pub namespace: String,
    /// `NotRegistered`, `Registering`, `Registered`, … — in a plan, the state now.
    pub registration_state: String,
}

/// A resource group.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceGroup {
    /// `/subscriptions/{sub}/resourceGroups/{name}`: known before it exists.
    pub id: String,
    pub name: String,
    pub location: String,
    pub tags: BTreeMap<String, String>,
    /// `Succeeded` once it exists; `(known after apply)` in a plan that creates it.
    pub provisioning_state: String,
}

impl ResourceGroup {
    /// From an ARM resource group object.
    pub fn from_arm(v: &Value) -> Self {
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        ResourceGroup {
            id: s("id"),
            name: s("name"),
            location: s("location"),
            tags: tags_of(v),
            provisioning_state: v["properties"]["provisioningState"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        }
    }
}

/// An object's `tags` as a map of strings.
pub fn tags_of(v: &Value) -> BTreeMap<String, String> {
    v["tags"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// One of the name checks `azure::check_cmg_name` makes.
#[derive(Debug, Clone, PartialEq)]
pub struct NameCheck {
    /// `dns_label`, `storage_account` or `key_vault`.
    pub check: &'static str,
    /// The name actually checked.
    pub name: String,
    pub available: bool,
    /// The service's reason (`AlreadyExists`, `AccountNameInvalid`), or empty.
    pub reason: String,
    pub message: String,
}

/// The result of `azure::check_cmg_name`.
#[derive(Debug, Clone, PartialEq)]
pub struct CmgNameCheck {
    pub prefix: String,
    pub region: String,
    /// `<prefix>.<region>.cloudapp.azure.com`.
    pub deployment_name: String,
    /// The prefix rules broken (`cmg::names`); when any, no service was asked.
    pub findings: Vec<String>,
    pub checks: Vec<NameCheck>,
}

impl CmgNameCheck {
    /// No rule broken and every name free.
    pub fn ok(&self) -> bool {
        self.findings.is_empty()
            && !self.checks.is_empty()
            && self.checks.iter().all(|c| c.available)
    }
}
