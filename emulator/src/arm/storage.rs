//! Storage accounts (`Microsoft.Storage/storageAccounts`): read by `GET`; written by
//! template deployments (the CMG's cloud distribution point content).
//!
//! Source: Azure/azure-rest-api-specs:specification/storage/resource-manager/Microsoft.Storage/stable/2023-05-01/storage.json
//! (StorageAccount: kind, sku {name, tier}, properties {primaryEndpoints, primaryLocation,
//! statusOfPrimary, creationTime, accessTier, supportsHttpsTrafficOnly,
//! minimumTlsVersion, allowBlobPublicAccess, provisioningState}) and
//! examples/StorageAccountGetProperties.json.

use serde_json::{json, Value};

/// Fill in what the storage resource provider sets on a new account.
pub fn complete(mut doc: Value, name: &str) -> Value {
    let location = crate::graph::str_of(&doc, "location").to_string();
    if doc["kind"].is_null() {
        doc["kind"] = json!("StorageV2");
    }
    if doc["sku"].is_null() {
        doc["sku"] = json!({"name": "Standard_LRS", "tier": "Standard"});
    }
    let p = &mut doc["properties"];
    if !p.is_object() {
        *p = json!({});
    }
    let n = name.to_ascii_lowercase();
    let defaults = json!({
        "primaryEndpoints": {
            "blob": format!("https://{n}.blob.core.windows.net/"),
            "queue": format!("https://{n}.queue.core.windows.net/"),
            "table": format!("https://{n}.table.core.windows.net/"),
            "file": format!("https://{n}.file.core.windows.net/"),
            "web": format!("https://{n}.z22.web.core.windows.net/"),
            "dfs": format!("https://{n}.dfs.core.windows.net/"),
        },
        "primaryLocation": location,
        "statusOfPrimary": "available",
        "creationTime": crate::util::now_iso(),
        "accessTier": "Hot",
        "supportsHttpsTrafficOnly": true,
        "minimumTlsVersion": "TLS1_2",
        "allowBlobPublicAccess": false,
        "encryption": {"keySource": "Microsoft.Storage", "services": {"blob": {"enabled": true, "keyType": "Account"}}},
    });
    if let (Value::Object(p), Value::Object(d)) = (p, defaults) {
        for (k, v) in d {
            p.entry(k).or_insert(v);
        }
    }
    doc
}
