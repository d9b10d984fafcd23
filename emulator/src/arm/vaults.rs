//! Key vaults (`Microsoft.KeyVault/vaults`): read by `GET`; written by template
//! deployments (the CMG keeps its server authentication certificate in one).
//!
//! Source: Azure/azure-rest-api-specs:specification/keyvault/resource-manager/Microsoft.KeyVault/stable/2023-07-01/keyvault.json
//! (Vault: properties {tenantId, sku {family, name}, accessPolicies, vaultUri,
//! enabledForDeployment, enableSoftDelete, softDeleteRetentionInDays,
//! enableRbacAuthorization, provisioningState}) and examples/getVault.json.

use serde_json::{json, Value};

/// Fill in what the Key Vault resource provider sets on a new vault.
pub fn complete(mut doc: Value, name: &str, tenant_id: &str) -> Value {
    let p = &mut doc["properties"];
    if !p.is_object() {
        *p = json!({});
    }
    let defaults = json!({
        "tenantId": tenant_id,
        "sku": {"family": "A", "name": "standard"},
        "accessPolicies": [],
        "vaultUri": format!("https://{}.vault.azure.net/", name.to_ascii_lowercase()),
        "enabledForDeployment": false,
        "enableSoftDelete": true,
        "softDeleteRetentionInDays": 90,
        "enableRbacAuthorization": false,
        "publicNetworkAccess": "Enabled",
    });
    if let (Value::Object(p), Value::Object(d)) = (p, defaults) {
        for (k, v) in d {
            p.entry(k).or_insert(v);
        }
    }
    doc
}
