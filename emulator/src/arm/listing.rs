//! `GET` of one resource a group holds (key vault, storage account, public IP) and the
//! group's `resources` listing.
//!
//! Source: Azure/azure-rest-api-specs:specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json
//! (Resources_ListByResourceGroup: `{"value": [GenericResourceExpanded], "nextLink"}`
//! with id, name, type, location, tags, sku, kind; `createdTime`, `changedTime` and
//! `provisioningState` only with `$expand`) and the GET operations of
//! keyvault.json (Vaults_Get), storage.json (StorageAccounts_GetProperties) and
//! publicIpAddress.json (PublicIPAddresses_Get): 200 with the resource, 404 otherwise.

use super::dispatch::Req;
use super::errors::ArmResult;
use super::resources;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

/// api-version, subscription, group (as created, and its location), then the
/// type's api-version, in ARM's order.
pub fn scope(
    r: &Req<'_>,
    sub: &str,
    rg: &str,
    rtype: &str,
    versions: &[&str],
) -> ArmResult<(String, String, String)> {
    super::api_version(&r.query())?;
    let sub = super::subscriptions::check(r.st, sub)?;
    let (group, location) = super::resource_groups::group_and_location(r.st, &sub, rg)?;
    let version = super::versions::check(r.uri, rtype, &location, versions)?;
    Ok((sub, group, version))
}

pub fn get(
    r: &Req<'_>,
    sub: &str,
    rg: &str,
    rtype: &str,
    name: &str,
    versions: &[&str],
) -> ArmResult<Response> {
    let (sub, group, _) = scope(r, sub, rg, rtype, versions)?;
    let k = resources::key(&sub, &group, rtype, name);
    let doc =
        r.st.store
            .read(|db| resources::get(db, &k))?
            .ok_or_else(|| resources::not_found(rtype, name, &group))?;
    Ok(Json(resources::view(&doc)).into_response())
}

/// `GET /subscriptions/{sub}/resourceGroups/{rg}/resources`: what the group holds,
/// its DNS zones included.
pub fn list(r: &Req<'_>, sub: &str, rg: &str) -> ArmResult<Response> {
    let (sub, group, _) = scope(
        r,
        sub,
        rg,
        "Microsoft.Resources/resources",
        super::versions::DEPLOYMENTS,
    )?;
    let expand = r
        .query()
        .get("$expand")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let prefix = format!("{}/", resources::group_key(&sub, &group));
    let (mut docs, zones) = r.st.store.read(|db| {
        Ok::<_, super::errors::ArmError>((
            resources::under(db, &prefix)?,
            super::dns::zones_under(db, &prefix)?,
        ))
    })?;
    docs.extend(zones);
    let value: Vec<Value> = docs
        .iter()
        .map(|d| {
            let mut out = Map::new();
            for k in ["id", "name", "type", "sku", "kind", "location", "tags"] {
                if let Some(v) = d.get(k).filter(|v| !v.is_null()) {
                    out.insert(k.into(), v.clone());
                }
            }
            if expand.contains("provisioningstate") {
                out.insert(
                    "provisioningState".into(),
                    d["properties"]["provisioningState"].clone(),
                );
            }
            Value::Object(out)
        })
        .collect();
    Ok(Json(json!({"value": value})).into_response())
}
