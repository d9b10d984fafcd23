//! The azure module as plain Rust: options, api-versions, the resource providers a VMSS
//! CMG needs, and ARM's name rules. No Rhai and no HTTP here.

use crate::error::{ModuleError, Result};
use serde::Deserialize;
use std::collections::BTreeMap;

/// `Microsoft.Resources` (resource groups, providers).
pub const RESOURCES_API: &str = "2021-04-01";
/// `Microsoft.Resources` subscriptions.
pub const SUBSCRIPTIONS_API: &str = "2022-12-01";
/// `Microsoft.Network` (CheckDnsNameAvailability).
pub const NETWORK_API: &str = "2024-05-01";
/// `Microsoft.Storage` (checkNameAvailability).
pub const STORAGE_API: &str = "2023-01-01";
/// `Microsoft.KeyVault` (checkNameAvailability).
pub const KEY_VAULT_API: &str = "2023-07-01";

/// The resource providers a virtual machine scale set CMG needs registered
/// (configure-azure-ad.md; api-surface §1.1).
pub const CMG_PROVIDERS: &[&str] = &[
    "Microsoft.KeyVault",
    "Microsoft.Storage",
    "Microsoft.Network",
    "Microsoft.Compute",
];

/// Options of `azure::providers`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvidersOptions {
    pub subscription: Option<String>,
    pub namespaces: Option<Vec<String>>,
}

impl ProvidersOptions {
    /// The namespaces asked for (the CMG's four by default), each checked.
    pub fn namespaces(&self) -> Result<Vec<String>> {
        let list = match &self.namespaces {
            Some(n) => n.clone(),
            None => CMG_PROVIDERS.iter().map(|s| s.to_string()).collect(),
        };
        if list.is_empty() {
            return Err(ModuleError::validation(
                "azure::providers: `namespaces` is empty",
            ));
        }
        for ns in &list {
            check_namespace(ns)?;
        }
        Ok(list)
    }
}

/// Options of `azure::role_assignment`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleOptions {
    pub resource_group: Option<String>,
    pub subscription: Option<String>,
}

/// Options of `azure::resource_group`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceGroupOptions {
    pub subscription: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
}

/// Options of `azure::check_cmg_name`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckNameOptions {
    #[serde(default = "yes")]
    pub content: bool,
    pub subscription: Option<String>,
}

impl Default for CheckNameOptions {
    fn default() -> Self {
        CheckNameOptions {
            content: true,
            subscription: None,
        }
    }
}

fn yes() -> bool {
    true
}

/// `Microsoft.Storage`: a dotted name of letters and digits.
pub fn check_namespace(ns: &str) -> Result<()> {
    let ok = !ns.is_empty()
        && ns.split('.').count() >= 2
        && ns
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if ok {
        Ok(())
    } else {
        Err(
            ModuleError::validation(format!("`{ns}` is not a resource provider namespace"))
                .with_hint("e.g. Microsoft.Storage, Microsoft.KeyVault"),
        )
    }
}

/// A subscription id: a GUID.
pub fn check_subscription_id(id: &str) -> Result<String> {
    let parts: Vec<&str> = id.trim().split('-').collect();
    let ok = parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()));
    if ok {
        Ok(id.trim().to_ascii_lowercase())
    } else {
        Err(
            ModuleError::validation(format!("`{id}` is not a subscription id (a GUID)"))
                .with_hint("azure::subscription() returns the id; `az account list` shows them"),
        )
    }
}

/// ARM's resource group name rule: 1–90 characters of letters, digits, `_`, `-`, `.`,
/// `(`, `)` (Unicode letters and digits included), not ending in `.` (api-surface §20).
pub fn check_resource_group_name(name: &str) -> Result<()> {
    let n = name.chars().count();
    let ok = (1..=90).contains(&n)
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "_-.()".contains(c))
        && !name.ends_with('.');
    if ok {
        Ok(())
    } else {
        Err(ModuleError::validation(format!(
            "`{name}` is not a resource group name"
        ))
        .with_hint(
            "1-90 letters, digits, underscores, hyphens, periods and parentheses, not ending in a period",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_resource_group_name("cmg-rg_1.(x)").is_ok());
        assert!(check_resource_group_name("rg.").is_err());
        assert!(check_resource_group_name("").is_err());
        assert!(check_resource_group_name("a b").is_err());
        assert!(check_resource_group_name(&"a".repeat(91)).is_err());
        assert!(check_namespace("Microsoft.Storage").is_ok());
        assert!(check_namespace("Storage").is_err());
        assert!(check_namespace("Microsoft..Storage").is_err());
        assert_eq!(
            check_subscription_id(" A1B2C3D4-0000-1111-2222-333344445555").unwrap(),
            "a1b2c3d4-0000-1111-2222-333344445555"
        );
        assert!(check_subscription_id("Pay-As-You-Go").is_err());
        let o = ProvidersOptions::default();
        assert_eq!(o.namespaces().unwrap().len(), 4);
    }
}

/// An `az` command line, each argument quoted for a POSIX shell (and PowerShell) when it
/// holds anything but letters, digits and `._/:=@-`.
pub fn az_command(args: &[&str]) -> String {
    let quote = |a: &str| {
        if !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._/:=@-".contains(c))
        {
            a.to_string()
        } else {
            format!("'{}'", a.replace('\'', "''"))
        }
    };
    std::iter::once("az".to_string())
        .chain(args.iter().map(|a| quote(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod az_tests {
    use super::az_command;

    #[test]
    fn arguments_are_quoted_only_when_needed() {
        assert_eq!(
            az_command(&["group", "create", "--name", "My group", "--tags", "a=b"]),
            "az group create --name 'My group' --tags a=b"
        );
        assert_eq!(az_command(&["x", "it's"]), "az x 'it''s'");
    }
}
