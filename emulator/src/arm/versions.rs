//! The `api-version`s each resource type answers, and ARM's errors for the others.
//!
//! Each list holds the version the contract names (issue 7), the stable versions of the
//! REST specs read for the shapes served, and the version the pinned Python SDK sends
//! (tests/sdk/requirements.txt: azure-mgmt-resource 26.0.0 → 2025-04-01,
//! azure-mgmt-resource-deployments 2.0.0 → 2026-06-01,
//! azure-mgmt-compute 39.0.0 → 2026-04-01, azure-mgmt-keyvault 14.1.0 → 2026-05-15,
//! azure-mgmt-storage 25.3.0 → 2026-09-01, azure-mgmt-network 33.1.0 → 2026-03-01,
//! azure-mgmt-authorization 4.0.0 → 2022-04-01). Real ARM takes many more; these are
//! the emulator's subset.
//!
//! Errors: a resource provider's type with another version is `NoRegisteredProviderFound`
//! (400); ARM's own types (`Microsoft.Resources`, `Microsoft.Authorization`) answer
//! `InvalidApiVersionParameter` (400). Message forms as clients quote them
//! (Azure/azure-cli#28496, pulumi/pulumi-azure-nextgen#170).

use super::errors::{ArmError, ArmResult};
use axum::http::{StatusCode, Uri};

pub const DEPLOYMENTS: &[&str] = &[
    "2021-04-01",
    "2022-09-01",
    "2023-07-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-03-01",
    "2025-04-01",
    "2026-06-01",
];
pub const COMPUTE: &[&str] = &[
    "2023-09-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-04-01",
    "2026-04-01",
];
pub const KEY_VAULT: &[&str] = &["2023-02-01", "2023-07-01", "2024-11-01", "2026-05-15"];
pub const STORAGE: &[&str] = &[
    "2023-01-01",
    "2023-05-01",
    "2024-01-01",
    "2025-01-01",
    "2026-09-01",
];
pub const NETWORK: &[&str] = &[
    "2023-09-01",
    "2024-01-01",
    "2024-05-01",
    "2024-07-01",
    "2024-10-01",
    "2026-03-01",
];
pub const AUTHORIZATION: &[&str] = &["2020-04-01-preview", "2022-04-01"];

/// The request's `api-version`, if it is one of `supported` for resource type `rtype`
/// (`Microsoft.Compute/virtualMachineScaleSets`).
pub fn check(uri: &Uri, rtype: &str, location: &str, supported: &[&str]) -> ArmResult<String> {
    let v = super::api_version(&crate::odata::Query::parse(uri.query()))?;
    if supported.iter().any(|s| s.eq_ignore_ascii_case(&v)) {
        return Ok(v);
    }
    let list: Vec<&str> = supported.iter().rev().copied().collect();
    let (ns, t) = rtype.split_once('/').unwrap_or(("", rtype));
    if ns.eq_ignore_ascii_case("Microsoft.Resources")
        || ns.eq_ignore_ascii_case("Microsoft.Authorization")
    {
        return Err(ArmError::new(
            StatusCode::BAD_REQUEST,
            "InvalidApiVersionParameter",
            format!(
                "The api-version '{v}' is invalid. The supported versions are '{}'.",
                list.join(",")
            ),
        ));
    }
    Err(ArmError::new(
        StatusCode::BAD_REQUEST,
        "NoRegisteredProviderFound",
        format!(
            "No registered resource provider found for location '{location}' and API version '{v}' for type '{t}'. The supported api-versions are '{}'. The supported locations are 'eastus, eastus2, westus, westus2, westus3, centralus, northeurope, westeurope, uksouth'.",
            list.join(", ")
        ),
    ))
}
