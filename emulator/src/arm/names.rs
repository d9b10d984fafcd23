//! The three name checks the CMG wizard makes (api-surface §2.4), each with the
//! service's own validity rule and the seeded taken names of `crate::seed`:
//!
//! - public IP DNS label: `GET …/providers/Microsoft.Network/locations/{region}/CheckDnsNameAvailability?domainNameLabel=…`
//!   → `{"available": bool}`; the label must match `^[a-z][a-z0-9-]{1,61}[a-z0-9]$`.
//!   Source: Azure/azure-rest-api-specs:specification/network/resource-manager/Microsoft.Network/stable/2024-05-01/checkDnsAvailability.json
//!   and examples/CheckDnsNameAvailability.json. An invalid or missing label is a 400
//!   CloudError here (`InvalidDomainNameLabel`; the real code and message are UNCONFIRMED).
//! - storage account: `POST …/providers/Microsoft.Storage/checkNameAvailability` with
//!   `{"name","type":"Microsoft.Storage/storageAccounts"}` → `{"nameAvailable", "reason"
//!   (AccountNameInvalid | AlreadyExists), "message"}`; 3–24 lowercase letters and digits.
//!   Source: Azure/azure-rest-api-specs:specification/storage/resource-manager/Microsoft.Storage/stable/2023-01-01/storage.json
//!   (CheckNameAvailabilityResult, Reason) and examples/StorageAccountCheckNameAvailability.json;
//!   the messages as Azure/azure-rest-api-specs#4594 and Azure/azure-cli#27390 quote them.
//! - Key Vault: `POST …/providers/Microsoft.KeyVault/checkNameAvailability` with
//!   `{"name","type":"Microsoft.KeyVault/vaults"}` → the same result shape; 3–24
//!   letters, digits and hyphens, starting with a letter, ending with a letter or digit,
//!   no `--`. Source: Azure/azure-rest-api-specs:specification/keyvault/resource-manager/Microsoft.KeyVault/stable/…/keyvault.json
//!   (Vaults_CheckNameAvailability, CheckNameAvailabilityResult) and the messages
//!   Azure/azure-powershell:src/KeyVault/KeyVault/help/Test-AzKeyVaultNameAvailability.md shows.
//!
//! A name is taken when it is one of the seeded names or a resource of the emulator's
//! ARM has it (a deployed storage account, key vault, or public IP's label in that
//! region) — the same store the deployments write.
//!
//! A body that is not JSON, or lacks `name` or the right `type`, is a 400 CloudError
//! (`InvalidRequestContent` / `InvalidResourceType`; codes as ARM names them, exact
//! texts UNCONFIRMED).

use super::errors::{json_body, ArmError, ArmResult};
use super::subscriptions;
use crate::app::AppState;
use axum::body::Bytes;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

fn bad_request(code: &str, message: impl Into<String>) -> ArmError {
    ArmError::new(StatusCode::BAD_REQUEST, code, message)
}

/// `^[a-z][a-z0-9-]{1,61}[a-z0-9]$`
pub fn is_dns_label(l: &str) -> bool {
    let b = l.as_bytes();
    (3..=63).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[b.len() - 1] != b'-'
}

/// 3–24 lowercase letters and digits.
pub fn is_storage_account_name(n: &str) -> bool {
    (3..=24).contains(&n.len())
        && n.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// 3–24 letters, digits and hyphens; a letter first, a letter or digit last, no `--`.
pub fn is_vault_name(n: &str) -> bool {
    let b = n.as_bytes();
    (3..=24).contains(&b.len())
        && b[0].is_ascii_alphabetic()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && !n.contains("--")
}

/// `GET …/locations/{region}/CheckDnsNameAvailability?domainNameLabel=…`
pub fn dns(st: &AppState, sub: &str, region: &str, uri: &Uri) -> ArmResult<Response> {
    let q = crate::odata::Query::parse(uri.query());
    super::api_version(&q)?;
    subscriptions::check(st, sub)?;
    let label = q.get("domainNameLabel").unwrap_or_default().to_string();
    if label.is_empty() {
        return Err(bad_request(
            "MissingDomainNameLabel",
            "The domainNameLabel query parameter is required.",
        ));
    }
    if !is_dns_label(&label) {
        return Err(bad_request(
            "InvalidDomainNameLabel",
            format!(
                "The domain name label {label} is invalid. It must conform to the following regular expression: ^[a-z][a-z0-9-]{{1,61}}[a-z0-9]$."
            ),
        ));
    }
    let region = region.to_ascii_lowercase();
    let taken = st
        .store
        .read(|db| super::resources::dns_label_taken(db, &region, &label, None))?;
    Ok(Json(json!({"available": !taken})).into_response())
}

/// The name and type of a `checkNameAvailability` body.
fn name_of(body: &Bytes, want_type: &str) -> ArmResult<String> {
    let v = json_body(body)?;
    let name = v["name"].as_str().ok_or_else(|| {
        bad_request(
            "InvalidRequestContent",
            "The request content is missing the required property 'name'.",
        )
    })?;
    match v["type"].as_str() {
        Some(t) if t.eq_ignore_ascii_case(want_type) => Ok(name.to_string()),
        t => Err(bad_request(
            "InvalidResourceType",
            format!(
                "The resource type '{}' is not valid here: expected '{want_type}'.",
                t.unwrap_or_default()
            ),
        )),
    }
}

fn result(available: bool, reason: &str, message: String) -> Response {
    if available {
        Json(json!({"nameAvailable": true})).into_response()
    } else {
        Json(json!({"nameAvailable": false, "reason": reason, "message": message})).into_response()
    }
}

/// `POST …/providers/Microsoft.Storage/checkNameAvailability`
pub fn storage(st: &AppState, sub: &str, uri: &Uri, body: &Bytes) -> ArmResult<Response> {
    super::api_version(&crate::odata::Query::parse(uri.query()))?;
    subscriptions::check(st, sub)?;
    let name = name_of(body, "Microsoft.Storage/storageAccounts")?;
    if !is_storage_account_name(&name) {
        return Ok(result(
            false,
            "AccountNameInvalid",
            format!("{name} is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only."),
        ));
    }
    let taken = st
        .store
        .read(|db| super::resources::storage_name_taken(db, &name, None))?;
    Ok(result(
        !taken,
        "AlreadyExists",
        format!("The storage account named {name} is already taken."),
    ))
}

/// `POST …/providers/Microsoft.KeyVault/checkNameAvailability`
pub fn key_vault(st: &AppState, sub: &str, uri: &Uri, body: &Bytes) -> ArmResult<Response> {
    super::api_version(&crate::odata::Query::parse(uri.query()))?;
    subscriptions::check(st, sub)?;
    let name = name_of(body, "Microsoft.KeyVault/vaults")?;
    if !is_vault_name(&name) {
        return Ok(result(
            false,
            "AccountNameInvalid",
            format!("The vault name '{name}' is invalid. A vault's name must be between 3-24 alphanumeric characters. The name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens."),
        ));
    }
    // Vault names are DNS names (`{name}.vault.azure.net`): case-insensitive.
    let taken = st
        .store
        .read(|db| super::resources::vault_name_taken(db, &name, None))?;
    Ok(result(
        !taken,
        "AlreadyExists",
        format!("The vault name '{name}' is already in use. Vault names are globally unique so it is possible that the name is already taken."),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_rules() {
        assert!(is_dns_label("graniteFalls".to_ascii_lowercase().as_str()));
        assert!(!is_dns_label("1abc") && !is_dns_label("ab") && !is_dns_label("abc-"));
        assert!(!is_dns_label("Abc"));
        assert!(is_storage_account_name("granitefalls1"));
        assert!(!is_storage_account_name("granite-falls") && !is_storage_account_name("Granite"));
        assert!(is_vault_name("Granite-Falls1"));
        assert!(
            !is_vault_name("granite--falls") && !is_vault_name("1abc") && !is_vault_name("abc-")
        );
        assert!(!is_vault_name("a234567890123456789012345"));
    }
}
