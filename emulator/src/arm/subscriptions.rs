//! Cloud metadata (`/metadata/endpoints`) and the tenant's one subscription.

use super::errors::{ArmError, ArmResult};
use crate::app::{AppState, Shared};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

pub const SUBSCRIPTION_NAME: &str = "Comgmt Lab Subscription";

/// The emulated subscription's id: derived from the tenant id, so it is stable for a
/// state file without being stored.
pub fn subscription_id(st: &AppState) -> String {
    use sha2::Digest;
    let h = sha2::Sha256::digest(format!("{}:subscription", st.tenant.id));
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    uuid::Builder::from_random_bytes(b).into_uuid().to_string()
}

/// Whether `sub` names the emulated subscription (GUIDs compare case-insensitively).
pub fn check(st: &AppState, sub: &str) -> ArmResult<String> {
    let id = subscription_id(st);
    if sub.eq_ignore_ascii_case(&id) {
        Ok(id)
    } else {
        Err(ArmError::subscription_not_found(sub))
    }
}

/// A subscription as `GET /subscriptions` lists it.
/// Source: Azure/azure-rest-api-specs:specification/subscription/resource-manager/Microsoft.Subscription/stable/2016-06-01/examples/getSubscriptions.json
fn document(st: &AppState) -> Value {
    let id = subscription_id(st);
    json!({
        "id": format!("/subscriptions/{id}"),
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": id,
        "tenantId": st.tenant.id,
        "displayName": SUBSCRIPTION_NAME,
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off"
        }
    })
}

fn respond(r: ArmResult<Value>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.render(),
    }
}

fn query(uri: &Uri) -> crate::odata::Query {
    crate::odata::Query::parse(uri.query())
}

pub async fn list(State(st): State<Shared>, uri: Uri) -> Response {
    respond(
        super::api_version(&query(&uri))
            .map(|_| json!({"value": [document(&st)], "count": {"type": "Total", "value": 1}})),
    )
}

pub async fn get_one(State(st): State<Shared>, Path(sub): Path<String>, uri: Uri) -> Response {
    respond(
        super::api_version(&query(&uri))
            .and_then(|_| check(&st, &sub))
            .map(|_| document(&st)),
    )
}

/// What `az cloud register --endpoint-resource-manager` reads: the emulator is the
/// login endpoint and resource manager; ARM's audiences stay the public cloud's.
/// Source: api-surface §0 ("What the Azure CLI needs from a custom ARM endpoint").
pub async fn metadata_endpoints(
    State(st): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let base = st.base_url(&uri, &headers);
    respond(super::api_version(&query(&uri)).map(|_| {
        json!({
            "name": "AzureCloud",
            "portal": "https://portal.azure.com",
            "authentication": {
                "loginEndpoint": base,
                "audiences": [
                    "https://management.core.windows.net/",
                    "https://management.azure.com/"
                ],
                "tenant": "common",
                "identityProvider": "AAD"
            },
            "resourceManager": base,
            "microsoftGraphResourceId": "https://graph.microsoft.com/",
            "graph": "https://graph.windows.net/",
            "suffixes": {
                "storage": "core.windows.net",
                "keyVaultDns": "vault.azure.net",
                "acrLoginServer": "azurecr.io",
                "sqlServerHostname": "database.windows.net"
            }
        })
    }))
}
