//! Resource providers: `GET /subscriptions/{sub}/providers`, `GET …/providers/{ns}` and
//! `POST …/providers/{ns}/register`. A namespace starts `NotRegistered` (except
//! `Microsoft.Resources`, which every subscription has); `register` answers the provider
//! `Registering`, and a later read finds it `Registered`, as the real service finishes
//! registration some time after the POST.
//! Source: Azure/azure-rest-api-specs:specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json
//! (Providers_List, Providers_Get, Providers_Register; the `Provider` definition:
//! `id`, `namespace`, `registrationState`, `registrationPolicy`, `resourceTypes`) and
//! Azure/azure-sdk-for-go sdk/azcore/arm/runtime/policy_register_rp_test.go (register
//! answers `Registering`; clients poll the provider until `Registered`). Namespaces
//! are case-insensitive; an unknown one is `InvalidResourceNamespace` (the code ARM
//! answers; its exact message text is UNCONFIRMED).

use super::errors::{ArmError, ArmResult};
use super::subscriptions;
use crate::app::AppState;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

const PROVIDERS: &str = "armProviders";
/// Reads of a `Registering` provider that still answer `Registering`.
const READS_WHILE_REGISTERING: i64 = 1;

/// The namespaces the emulator knows, with the resource types it lists for each.
const KNOWN: &[(&str, &[&str])] = &[
    ("Microsoft.Resources", &["resourceGroups", "deployments"]),
    (
        "Microsoft.Compute",
        &["virtualMachineScaleSets", "virtualMachines"],
    ),
    (
        "Microsoft.Network",
        &[
            "publicIPAddresses",
            "loadBalancers",
            "virtualNetworks",
            "locations/CheckDnsNameAvailability",
        ],
    ),
    (
        "Microsoft.Storage",
        &["storageAccounts", "checkNameAvailability"],
    ),
    ("Microsoft.KeyVault", &["vaults", "checkNameAvailability"]),
    ("Microsoft.ClassicCompute", &["domainNames"]),
];

/// Registered in every subscription from the start.
const ALWAYS_REGISTERED: &[&str] = &["Microsoft.Resources"];

fn known(ns: &str) -> Option<(&'static str, &'static [&'static str])> {
    KNOWN
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(ns))
        .copied()
}

fn invalid_namespace(ns: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "InvalidResourceNamespace",
        format!("The resource namespace '{ns}' is invalid."),
    )
}

fn key(sub: &str, ns: &str) -> String {
    format!("{}/{}", sub.to_ascii_lowercase(), ns.to_ascii_lowercase())
}

fn document(sub: &str, ns: &str, types: &[&str], state: &str) -> Value {
    let types: Vec<Value> = types
        .iter()
        .map(|t| json!({"resourceType": t, "locations": [], "apiVersions": []}))
        .collect();
    json!({
        "id": format!("/subscriptions/{sub}/providers/{ns}"),
        "namespace": ns,
        "registrationState": state,
        "registrationPolicy": "RegistrationRequired",
        "resourceTypes": types,
    })
}

fn preamble(st: &AppState, sub: &str, uri: &Uri) -> ArmResult<String> {
    super::api_version(&crate::odata::Query::parse(uri.query()))?;
    subscriptions::check(st, sub)
}

/// The provider's state as a read sees it; a read of a `Registering` provider counts
/// toward its completion.
fn read_state(st: &AppState, sub: &str, ns: &str) -> ArmResult<String> {
    if ALWAYS_REGISTERED.iter().any(|n| n.eq_ignore_ascii_case(ns)) {
        return Ok("Registered".into());
    }
    let k = key(sub, ns);
    st.store.write(|db| {
        let Some(mut rec) = db.get(PROVIDERS, &k)? else {
            return Ok("NotRegistered".into());
        };
        let state = rec["state"].as_str().unwrap_or("NotRegistered").to_string();
        if state != "Registering" {
            return Ok(state);
        }
        let reads = rec["reads"].as_i64().unwrap_or_default();
        if reads < READS_WHILE_REGISTERING {
            rec["reads"] = json!(reads + 1);
            db.update(PROVIDERS, &k, &rec)?;
            return Ok(state);
        }
        rec["state"] = json!("Registered");
        db.update(PROVIDERS, &k, &rec)?;
        Ok::<_, ArmError>("Registered".into())
    })
}

pub fn list(st: &AppState, sub: &str, uri: &Uri) -> ArmResult<Response> {
    let sub = preamble(st, sub, uri)?;
    let mut value = Vec::new();
    for (ns, types) in KNOWN {
        value.push(document(&sub, ns, types, &read_state(st, &sub, ns)?));
    }
    Ok(Json(json!({"value": value})).into_response())
}

pub fn get(st: &AppState, sub: &str, ns: &str, uri: &Uri) -> ArmResult<Response> {
    let sub = preamble(st, sub, uri)?;
    let (ns, types) = known(ns).ok_or_else(|| invalid_namespace(ns))?;
    let state = read_state(st, &sub, ns)?;
    Ok(Json(document(&sub, ns, types, &state)).into_response())
}

/// `POST …/register`: 200 with the provider, `Registering` until a later read (or
/// `Registered` when it already was).
pub fn register(st: &AppState, sub: &str, ns: &str, uri: &Uri) -> ArmResult<Response> {
    let sub = preamble(st, sub, uri)?;
    let (ns, types) = known(ns).ok_or_else(|| invalid_namespace(ns))?;
    let state = if ALWAYS_REGISTERED.contains(&ns) {
        "Registered".to_string()
    } else {
        let k = key(&sub, ns);
        st.store.write(|db| match db.get(PROVIDERS, &k)? {
            Some(rec) if rec["state"] != "NotRegistered" => {
                Ok::<_, ArmError>(rec["state"].as_str().unwrap_or_default().to_string())
            }
            existing => {
                let rec = json!({"state": "Registering", "reads": 0});
                if existing.is_some() {
                    db.update(PROVIDERS, &k, &rec)?;
                } else {
                    db.insert(PROVIDERS, &k, &rec)?;
                }
                Ok("Registering".to_string())
            }
        })?
    };
    Ok(Json(document(&sub, ns, types, &state)).into_response())
}
