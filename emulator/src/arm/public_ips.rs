//! Public IP addresses (`Microsoft.Network/publicIPAddresses`): read by `GET`; written by
//! template deployments. A CMG's address is Standard, static, IPv4, with the DNS label
//! `{prefix lower}` and the FQDN `{label}.{region}.cloudapp.azure.com`.
//!
//! Source: Azure/azure-rest-api-specs:specification/network/resource-manager/Microsoft.Network/stable/2024-05-01/publicIpAddress.json
//! (PublicIPAddress: sku {name, tier}, properties.publicIPAllocationMethod,
//! publicIPAddressVersion, ipAddress, idleTimeoutInMinutes, dnsSettings {domainNameLabel,
//! fqdn}, provisioningState, resourceGuid) and examples/PublicIpAddressGet.json. The
//! addresses handed out are from 20.0.0.0/8 (an Azure public range), derived from the
//! resource's name so they are stable; they are not routable from the emulator.

use serde_json::{json, Value};

/// Fill in what the network resource provider sets on a new public IP.
pub fn complete(mut doc: Value) -> Value {
    let region = crate::graph::str_of(&doc, "location").to_string();
    if doc["sku"].is_null() {
        doc["sku"] = json!({"name": "Standard", "tier": "Regional"});
    }
    let p = &mut doc["properties"];
    if !p.is_object() {
        *p = json!({});
    }
    if p["publicIPAllocationMethod"].is_null() {
        p["publicIPAllocationMethod"] = json!("Static");
    }
    if p["publicIPAddressVersion"].is_null() {
        p["publicIPAddressVersion"] = json!("IPv4");
    }
    if p["idleTimeoutInMinutes"].is_null() {
        p["idleTimeoutInMinutes"] = json!(4);
    }
    if p["resourceGuid"].is_null() {
        p["resourceGuid"] = json!(crate::util::new_guid());
    }
    if let Some(label) = p["dnsSettings"]["domainNameLabel"]
        .as_str()
        .map(str::to_string)
    {
        let label = label.to_ascii_lowercase();
        p["dnsSettings"]["domainNameLabel"] = json!(label);
        p["dnsSettings"]["fqdn"] = json!(format!("{label}.{region}.cloudapp.azure.com"));
        if p["ipAddress"].is_null() {
            p["ipAddress"] = json!(address_for(&format!("{region}/{label}")));
        }
    }
    if p["ipAddress"].is_null() {
        p["ipAddress"] = json!(address_for(&crate::util::new_guid()));
    }
    doc
}

/// A stable address in 20.0.0.0/8 for a seed.
pub fn address_for(seed: &str) -> String {
    use sha2::Digest;
    let h = sha2::Sha256::digest(seed.as_bytes());
    format!("20.{}.{}.{}", h[0], h[1], h[2].clamp(1, 254))
}
