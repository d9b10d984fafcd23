//! ARM as its clients reach it: a token for management.azure.com, the subscription, one
//! call, ARM's error shape, and what a CMG deployment leaves in its resource group.

use super::{Emu, Resp};
use reqwest::Method;
use serde_json::Value;

pub const ARM_SCOPE: &str = "https://management.azure.com/.default";

/// The four resource types a CMG deployment creates, sorted.
pub const CMG_RESOURCE_TYPES: [&str; 4] = [
    "Microsoft.Compute/virtualMachineScaleSets",
    "Microsoft.KeyVault/vaults",
    "Microsoft.Network/publicIPAddresses",
    "Microsoft.Storage/storageAccounts",
];

/// An ARM call with `token` to a path or an absolute URL (as polling headers give them).
pub async fn arm_call(
    emu: &Emu,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Resp {
    let url = if path.starts_with("http") {
        path.to_string()
    } else {
        emu.url(path)
    };
    emu.send(method, &url, token, body, &[]).await
}

/// The emulator's one subscription.
pub async fn subscription(emu: &Emu, token: &str) -> String {
    let r = arm_call(
        emu,
        token,
        Method::GET,
        "subscriptions?api-version=2021-04-01",
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["value"][0]["subscriptionId"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Assert an ARM error body with this status and code; returns the message.
#[track_caller]
pub fn arm_error(r: &Resp, status: u16, code: &str) -> String {
    assert_eq!(r.status.as_u16(), status, "{}", r.text);
    assert_eq!(r.body["error"]["code"], code, "{}", r.text);
    assert!(r.headers.contains_key("x-ms-request-id"), "{:?}", r.headers);
    assert!(r.headers.contains_key("x-ms-correlation-request-id"));
    r.body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The sorted types of a resource group listing's `value`.
pub fn resource_types(listing: &[Value]) -> Vec<String> {
    let mut types: Vec<String> = listing
        .iter()
        .map(|r| r["type"].as_str().unwrap_or_default().to_string())
        .collect();
    types.sort();
    types
}
