//! The CMG name checks: the prefix rules of `cmg::names`, then the three names the VMSS
//! deployment takes from the prefix (api-surface §2.3, §2.4): the public IP's DNS
//! label `<prefix>.<region>.cloudapp.azure.com`, a Key Vault with the same name, and
//! (when the CMG serves content) a storage account with the same name. Reads only:
//! the DNS check is a GET, the other two are POSTs on the reader's allowlist.

use crate::azure::model::{CheckNameOptions, KEY_VAULT_API, NETWORK_API, STORAGE_API};
use crate::azure::objects::{CmgNameCheck, NameCheck};
use crate::cloud::access::ArmReader;
use crate::cmg::names::{deployment_name, prefix_findings, validate_region};
use crate::context::Ctx;
use crate::error::{ErrorKind, Result};
use crate::preflight::Severity;
use serde_json::json;

/// Check `prefix` in `region`; never writes, so it runs the same in a plan.
pub fn check_cmg_name(
    ctx: &Ctx,
    prefix: &str,
    region: &str,
    opts: &CheckNameOptions,
) -> Result<CmgNameCheck> {
    let region = validate_region(region)?;
    let findings: Vec<String> = prefix_findings(prefix, opts.content)
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.message)
        .collect();
    let lower = prefix.to_ascii_lowercase();
    let mut result = CmgNameCheck {
        prefix: prefix.to_string(),
        region: region.clone(),
        deployment_name: deployment_name(prefix, &region)
            .map(|d| d.to_ascii_lowercase())
            .unwrap_or_default(),
        findings,
        checks: Vec::new(),
    };
    if !result.findings.is_empty() {
        return Ok(result);
    }
    let sub = super::subscription_id(ctx, opts.subscription.as_deref())?;
    let arm = ctx.read().arm();
    result
        .checks
        .push(ctx.block_on(dns_label(arm, &sub, &region, &lower))?);
    result.checks.push(ctx.block_on(name_check(
        arm,
        "key_vault",
        &format!("subscriptions/{sub}/providers/Microsoft.KeyVault/checkNameAvailability"),
        KEY_VAULT_API,
        &lower,
        "Microsoft.KeyVault/vaults",
    ))?);
    if opts.content {
        result.checks.push(ctx.block_on(name_check(
            arm,
            "storage_account",
            &format!("subscriptions/{sub}/providers/Microsoft.Storage/checkNameAvailability"),
            STORAGE_API,
            &lower,
            "Microsoft.Storage/storageAccounts",
        ))?);
    }
    Ok(result)
}

/// A check's error says which check it was; an unregistered provider says what to do.
fn about(check: &str, ns: &str) -> impl Fn(crate::error::ModuleError) -> crate::error::ModuleError {
    let check = check.to_string();
    let ns = ns.to_string();
    move |mut e| {
        e.message = format!("the {check} name check failed: {}", e.message);
        if e.remote_code.as_deref() == Some("MissingSubscriptionRegistration") {
            return super::hinted(
                e,
                format!(
                    "register the provider first: azure::providers(#{{ namespaces: [\"{ns}\"] }})"
                ),
            );
        }
        if e.kind == ErrorKind::Permission {
            return super::hinted(e, "a name check needs Reader on the subscription");
        }
        e
    }
}

/// `GET …/locations/{region}/CheckDnsNameAvailability?domainNameLabel=…` → `available`.
async fn dns_label(arm: ArmReader<'_>, sub: &str, region: &str, label: &str) -> Result<NameCheck> {
    let path = format!(
        "subscriptions/{sub}/providers/Microsoft.Network/locations/{region}/CheckDnsNameAvailability?domainNameLabel={label}"
    );
    let r = arm
        .get(&path, NETWORK_API)
        .await
        .map_err(about("dns_label", "Microsoft.Network"))?;
    let available = r.body["available"].as_bool().unwrap_or(false);
    let name = format!("{label}.{region}.{}", crate::cmg::names::DEPLOYMENT_DOMAIN);
    Ok(NameCheck {
        check: "dns_label",
        available,
        reason: if available { "" } else { "AlreadyExists" }.to_string(),
        message: if available {
            String::new()
        } else {
            format!("the DNS name {name} is taken in {region}")
        },
        name: label.to_string(),
    })
}

/// A `checkNameAvailability` POST → `nameAvailable`, `reason`, `message`.
async fn name_check(
    arm: ArmReader<'_>,
    check: &'static str,
    path: &str,
    api_version: &str,
    name: &str,
    resource_type: &str,
) -> Result<NameCheck> {
    let ns = resource_type.split('/').next().unwrap_or_default();
    let r = arm
        .check(
            path,
            api_version,
            &json!({"name": name, "type": resource_type}),
        )
        .await
        .map_err(about(check, ns))?;
    let text = |k: &str| r.body[k].as_str().unwrap_or_default().to_string();
    Ok(NameCheck {
        check,
        name: name.to_string(),
        available: r.body["nameAvailable"].as_bool().unwrap_or(false),
        reason: text("reason"),
        message: text("message"),
    })
}
