//! The CMG's names: service name (the certificate's CN), name prefix, deployment name
//! `<prefix>.<region>.cloudapp.azure.com`, and the rules the VMSS deployment puts on the
//! prefix (a DNS label; a storage account name when the CMG serves content).

use crate::error::{ModuleError, Result};
use crate::preflight::{Finding, Severity};

/// Azure's DNS zones for cloud services. A public CA cannot issue a certificate for a
/// name under them (server-auth-cert.md), so a CSR for a public CA must not use them.
pub const AZURE_DOMAINS: &[&str] = &["cloudapp.azure.com", "cloudapp.net", "usgovcloudapp.net"];

/// The zone the VMSS CMG deployment name lives in.
pub const DEPLOYMENT_DOMAIN: &str = "cloudapp.azure.com";

/// The Azure zone `name` is under, if any.
pub fn azure_zone(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    AZURE_DOMAINS
        .iter()
        .find(|z| lower == **z || lower.ends_with(&format!(".{z}")))
        .copied()
}

pub fn is_wildcard(name: &str) -> bool {
    name.starts_with("*.")
}

/// The first label of a service name: the CMG name prefix (`GraniteFalls.contoso.com` ->
/// `GraniteFalls`). `None` for a wildcard name.
pub fn name_prefix(service_name: &str) -> Option<&str> {
    let first = service_name.split('.').next().unwrap_or("");
    if first == "*" || first.is_empty() {
        None
    } else {
        Some(first)
    }
}

/// The service name for a wildcard CN with `prefix` put in place of `*`; for other CNs,
/// the CN itself when the prefix matches (case-insensitively), else an error.
pub fn service_name_with(cn: &str, prefix: &str) -> Result<String> {
    validate_label("service name prefix", prefix)?;
    if let Some(rest) = cn.strip_prefix("*.") {
        return Ok(format!("{prefix}.{rest}"));
    }
    match name_prefix(cn) {
        Some(p) if p.eq_ignore_ascii_case(prefix) => Ok(cn.to_string()),
        _ => Err(ModuleError::validation(format!(
            "the certificate's CN {cn} is not a wildcard: its service name is fixed to {cn}"
        ))),
    }
}

fn validate_label(what: &str, l: &str) -> Result<()> {
    let ok = !l.is_empty()
        && l.len() <= 63
        && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !l.starts_with('-')
        && !l.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(ModuleError::validation(format!(
            "{what} `{l}` is not a DNS label (letters, digits, inner hyphens, at most 63)"
        )))
    }
}

/// An Azure region's programmatic name (`westus`, `westeurope`), lower-cased.
pub fn validate_region(region: &str) -> Result<String> {
    let r = region.trim().to_ascii_lowercase();
    let ok = r.len() >= 3
        && r.len() <= 40
        && r.starts_with(|c: char| c.is_ascii_lowercase())
        && r.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if ok {
        Ok(r)
    } else {
        Err(
            ModuleError::validation(format!("region `{region}` is not an Azure region name"))
                .with_hint("use the region's programmatic name, e.g. westus, eastus2, westeurope"),
        )
    }
}

/// `<prefix>.<region>.cloudapp.azure.com` (§2.2). A wildcard service name needs a
/// prefix (`service_name_with` first).
pub fn deployment_name(service_name: &str, region: &str) -> Result<String> {
    let region = validate_region(region)?;
    match name_prefix(service_name) {
        Some(p) => Ok(format!("{p}.{region}.{DEPLOYMENT_DOMAIN}")),
        None => Err(ModuleError::validation(format!(
            "{service_name} is a wildcard name: the deployment name needs the CMG's name prefix"
        ))
        .with_hint("call cert.deployment_name(region, \"prefix\")")),
    }
}

/// The prefix rules of the VMSS deployment (§2.3): a DNS label always, and 3–24
/// lowercase letters and digits when the CMG serves content (storage account name).
pub fn prefix_findings(prefix: &str, content: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    let lower = prefix.to_ascii_lowercase();
    let dns_ok = lower.len() >= 3
        && lower.len() <= 63
        && lower.starts_with(|c: char| c.is_ascii_lowercase())
        && lower
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !lower.ends_with('-');
    if !dns_ok {
        out.push(Finding::new(
            "prefix-dns-label",
            Severity::Error,
            format!(
                "the name prefix `{prefix}` is not a valid Azure DNS label \
                 (^[a-z][a-z0-9-]{{1,61}}[a-z0-9]$): the VMSS deployment name can't be created"
            ),
            "choose a CN whose first label starts with a letter, is 3-63 characters of letters, \
             digits and inner hyphens",
        ));
    }
    if content {
        let storage_ok = (3..=24).contains(&lower.len())
            && lower
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if !storage_ok {
            out.push(Finding::new(
                "prefix-storage-name",
                Severity::Error,
                format!(
                    "the name prefix `{prefix}` can't be a storage account name (3-24 lowercase \
                     letters and digits, no dashes), which a content-enabled CMG needs"
                ),
                "choose a prefix of 3-24 letters and digits, or pass content: false if the CMG \
                 won't serve content",
            ));
        }
    }
    if prefix.chars().any(|c| c.is_ascii_uppercase()) {
        out.push(Finding::new(
            "prefix-case",
            Severity::Info,
            format!(
                "the name prefix `{prefix}` has upper-case letters: Azure names are lower-case \
                 ({lower}); keep the CN's exact case when you renew the certificate"
            ),
            "",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            deployment_name("GraniteFalls.contoso.com", "WestUS").unwrap(),
            "GraniteFalls.westus.cloudapp.azure.com"
        );
        assert!(deployment_name("*.contoso.com", "westus").is_err());
        assert!(deployment_name("a.contoso.com", "West US").is_err());
        assert_eq!(
            service_name_with("*.contoso.com", "cmg1").unwrap(),
            "cmg1.contoso.com"
        );
        assert_eq!(
            service_name_with("CMG1.contoso.com", "cmg1").unwrap(),
            "CMG1.contoso.com"
        );
        assert!(service_name_with("cmg.contoso.com", "other").is_err());
        assert!(service_name_with("*.contoso.com", "bad_label").is_err());
    }

    #[test]
    fn prefix_rules() {
        assert!(prefix_findings("granitefalls", true).is_empty());
        let f = prefix_findings("my-cmg", true);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].check, "prefix-storage-name");
        assert!(prefix_findings("my-cmg", false).is_empty());
        let f = prefix_findings("1cmg", false);
        assert_eq!(f[0].check, "prefix-dns-label");
        let f = prefix_findings("GraniteFalls", true);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].check, "prefix-case");
        let long = "a".repeat(25);
        assert_eq!(prefix_findings(&long, true)[0].check, "prefix-storage-name");
    }
}
