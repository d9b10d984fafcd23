//! Template deployments over HTTP, at resource-group scope:
//! `PUT …/providers/Microsoft.Resources/deployments/{name}` (201 new / 200 again, with
//! `provisioningState` `Accepted` and an `Azure-AsyncOperation` header),
//! `GET` (Running → Succeeded/Failed), the list, `POST …/{name}/validate` (200 with the
//! validated resources, 400 `InvalidTemplate`), `GET …/{name}/operations`, and the
//! status `GET …/{name}/operationStatuses/{id}` (`{"status": "Running"}`, then
//! `Succeeded`, or `Failed` with the error). A PUT while the same deployment runs is
//! 409 `DeploymentActive`.
//!
//! Source: Azure/azure-rest-api-specs:specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json
//! (Deployments_CreateOrUpdate 200/201 with `x-ms-long-running-operation`,
//! Deployments_Get 200, Deployments_ListByResourceGroup, Deployments_Validate
//! 200/202/400 returning DeploymentValidateResult, DeploymentOperations_List,
//! Deployment {properties {template, templateLink, parameters, mode}}, DeploymentMode
//! Incremental|Complete) and examples/PutDeploymentResourceGroup.json. Complete mode is
//! applied as Incremental here (the emulator deletes nothing a template omits) —
//! a simplification. The `DeploymentActive` text is ARM's as azure-cli users quote it.

use super::deploy_core::{self, Planned};
use super::dispatch::{method_not_allowed, Req};
use super::errors::{json_body, ArmError, ArmResult};
use super::listing::scope;
use super::resources::{self, now_ms, PUBLIC_IP, STORAGE, VAULT, VMSS};
use super::template::{invalid, Scope};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

const VERSIONS: &[&str] = super::versions::DEPLOYMENTS;

pub fn route(r: &Req<'_>, sub: &str, rg: &str, tail: &[&str]) -> ArmResult<Response> {
    use super::resource_groups::kind_is as is;
    match (tail, r.method.clone()) {
        ([], Method::GET) => list(r, sub, rg),
        ([name], Method::GET) => get(r, sub, rg, name),
        ([name], Method::PUT) => put(r, sub, rg, name),
        ([name, v], Method::POST) if is(v, "validate") => validate(r, sub, rg, name),
        ([name, o], Method::GET) if is(o, "operations") => operations(r, sub, rg, name),
        ([name, o, id], Method::GET) if is(o, "operationStatuses") => status(r, sub, rg, name, id),
        ([] | [_] | [_, _] | [_, _, _], m) => Err(method_not_allowed(&m)),
        _ => Err(super::resource_groups::unknown_kind("deployments")),
    }
}

fn live(r: &Req<'_>, sub: &str, group: &str, name: &str) -> ArmResult<Value> {
    let k = deploy_core::key(sub, group, name);
    r.st.store
        .read(|db| deploy_core::get(db, &k))?
        .ok_or_else(|| deploy_core::not_found(name, group))
}

fn get(r: &Req<'_>, sub: &str, rg: &str, name: &str) -> ArmResult<Response> {
    let (sub, group, _) = scope(r, sub, rg, deploy_core::TYPE, VERSIONS)?;
    let doc = live(r, &sub, &group, name)?;
    let view =
        deploy_core::at(&doc, now_ms()).ok_or_else(|| deploy_core::not_found(name, &group))?;
    Ok(Json(view).into_response())
}

fn list(r: &Req<'_>, sub: &str, rg: &str) -> ArmResult<Response> {
    let (sub, group, _) = scope(r, sub, rg, deploy_core::TYPE, VERSIONS)?;
    let prefix = format!("{}/", resources::group_key(&sub, &group));
    let now = now_ms();
    let value: Vec<Value> =
        r.st.store
            .read(|db| db.docs(deploy_core::DEPLOYMENTS))?
            .iter()
            .filter(|d| crate::graph::str_of(d, "_key").starts_with(&prefix))
            .filter_map(|d| deploy_core::at(d, now))
            .collect();
    Ok(Json(json!({"value": value})).into_response())
}

fn operations(r: &Req<'_>, sub: &str, rg: &str, name: &str) -> ArmResult<Response> {
    let (sub, group, _) = scope(r, sub, rg, deploy_core::TYPE, VERSIONS)?;
    let doc = live(r, &sub, &group, name)?;
    Ok(Json(json!({"value": deploy_core::operations_at(&doc, now_ms())})).into_response())
}

/// The deployment's status for `Azure-AsyncOperation` polling.
fn status(r: &Req<'_>, sub: &str, rg: &str, name: &str, _op: &str) -> ArmResult<Response> {
    let (sub, group, _) = scope(r, sub, rg, deploy_core::TYPE, VERSIONS)?;
    let doc = live(r, &sub, &group, name)?;
    let state = deploy_core::state_at(&doc, now_ms());
    let mut body = json!({"status": state});
    if state == "Failed" {
        body["error"] = doc["_error"].clone();
    }
    let mut resp = Json(body).into_response();
    if state == "Running" {
        resp.headers_mut()
            .insert("Retry-After", HeaderValue::from(super::lro::RETRY_AFTER));
    }
    Ok(resp)
}

/// A deployment request's body, evaluated: its resources and its recorded properties.
fn evaluate(r: &Req<'_>, sub: &str, group: &str) -> ArmResult<(Vec<Planned>, Value)> {
    let body = json_body(r.body)?;
    let props = &body["properties"];
    if !props["templateLink"].is_null() || !props["parametersLink"].is_null() {
        return Err(invalid("The comgmt emulator takes inline templates and parameters only (no templateLink or parametersLink)"));
    }
    let template = &props["template"];
    if !template.is_object() {
        return Err(ArmError::new(
            StatusCode::BAD_REQUEST,
            "InvalidDeployment",
            "The deployment must have either a template or a templateLink.",
        ));
    }
    let mode = props["mode"].as_str().unwrap_or_default();
    if !["Incremental", "Complete"]
        .iter()
        .any(|m| m.eq_ignore_ascii_case(mode))
    {
        return Err(ArmError::new(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
            format!("The request content was invalid and could not be deserialized: 'Error converting value \"{mode}\" to type 'Microsoft.WindowsAzure.ResourceStack.Frontdoor.Data.Definitions.DeploymentMode'.'."),
        ));
    }
    let (_, location) = super::resource_groups::group_and_location(r.st, sub, group)?;
    let group_v = json!({
        "id": format!("/subscriptions/{sub}/resourceGroups/{group}"),
        "name": group,
        "type": "Microsoft.Resources/resourceGroups",
        "location": location,
        "properties": {"provisioningState": "Succeeded"},
    });
    let sub_v = json!({
        "id": format!("/subscriptions/{sub}"),
        "subscriptionId": sub,
        "tenantId": r.st.tenant.id,
        "displayName": super::subscriptions::SUBSCRIPTION_NAME,
    });
    let empty = Map::new();
    let scope = Scope::new(template, &props["parameters"], group_v, sub_v, &empty)?;
    let mut planned = Vec::new();
    for res in template["resources"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        if !res["copy"].is_null() || res["resources"].as_array().is_some_and(|a| !a.is_empty()) {
            return Err(invalid(
                "The comgmt emulator does not evaluate copy loops or nested resources",
            ));
        }
        let rtype = scope
            .eval(&res["type"])?
            .as_str()
            .unwrap_or_default()
            .to_string();
        let name = scope
            .eval(&res["name"])?
            .as_str()
            .unwrap_or_default()
            .to_string();
        if rtype.split('/').count() != 2 || name.is_empty() || name.contains('/') {
            return Err(invalid(format!(
                "The resource '{rtype}/{name}' is not a top-level resource with a type and a name"
            )));
        }
        let mut doc = json!({"location": location, "tags": {}, "properties": {}});
        for k in [
            "location",
            "tags",
            "sku",
            "kind",
            "properties",
            "identity",
            "zones",
        ] {
            if !res[k].is_null() {
                doc[k] = scope.eval(&res[k])?;
            }
        }
        if let Some(l) = doc["location"].as_str() {
            doc["location"] = json!(l.replace(' ', "").to_ascii_lowercase());
        }
        let doc = if rtype.eq_ignore_ascii_case(VMSS) {
            super::vmss_core::complete(doc)
        } else if rtype.eq_ignore_ascii_case(VAULT) {
            super::vaults::complete(doc, &name, &r.st.tenant.id)
        } else if rtype.eq_ignore_ascii_case(STORAGE) {
            super::storage::complete(doc, &name)
        } else if rtype.eq_ignore_ascii_case(PUBLIC_IP) {
            super::public_ips::complete(doc)
        } else {
            doc
        };
        planned.push(Planned { rtype, name, doc });
    }
    let parameters: Map<String, Value> = scope
        .parameters
        .iter()
        .map(|(k, v)| {
            let t = template["parameters"][k]["type"]
                .as_str()
                .unwrap_or("String")
                .to_string();
            (k.clone(), json!({"type": t, "value": v}))
        })
        .collect();
    let hash = {
        use sha2::Digest;
        let h = sha2::Sha256::digest(template.to_string().as_bytes());
        let mut b = [0u8; 8];
        b.copy_from_slice(&h[..8]);
        u64::from_be_bytes(b).to_string()
    };
    let properties = json!({
        "templateHash": hash,
        "parameters": parameters,
        "mode": if mode.eq_ignore_ascii_case("Complete") { "Complete" } else { "Incremental" },
        "outputs": {},
        "providers": [],
        "dependencies": [],
    });
    Ok((planned, properties))
}

fn put(r: &Req<'_>, sub: &str, rg: &str, name: &str) -> ArmResult<Response> {
    let (sub, group, version) = scope(r, sub, rg, deploy_core::TYPE, VERSIONS)?;
    let (planned, properties) = evaluate(r, &sub, &group)?;
    let (doc, created) = r.st.store.write(|db| {
        deploy_core::apply(r.st, db, &sub, &group, name, planned, properties, json!({}))
    })?;
    let mut view = deploy_core::at(&doc, now_ms()).unwrap_or_else(|| doc.clone());
    view["properties"]["provisioningState"] = json!("Accepted");
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut resp = (status, Json(view)).into_response();
    let op = format!(
        "{}subscriptions/{sub}/resourcegroups/{group}/providers/Microsoft.Resources/deployments/{}/operationStatuses/{}?api-version={version}",
        r.base(),
        crate::graph::str_of(&doc, "name"),
        crate::util::opaque_id(8).to_ascii_uppercase().replace(['-', '_'], "0"),
    );
    if let Ok(v) = HeaderValue::from_str(&op) {
        resp.headers_mut().insert("Azure-AsyncOperation", v);
    }
    Ok(resp)
}

fn validate(r: &Req<'_>, sub: &str, rg: &str, name: &str) -> ArmResult<Response> {
    let (sub, group, _) = scope(r, sub, rg, deploy_core::TYPE, VERSIONS)?;
    let (planned, mut properties) = evaluate(r, &sub, &group)?;
    properties["provisioningState"] = json!("Succeeded");
    properties["timestamp"] = json!(crate::util::now_iso());
    properties["duration"] = json!("PT0S");
    properties["correlationId"] = json!(crate::util::new_guid());
    properties["validatedResources"] = planned
        .iter()
        .map(|p| json!({"id": resources::resource_id(&sub, &group, &p.rtype, &p.name)}))
        .collect();
    Ok(Json(json!({
        "id": deploy_core::deployment_id(&sub, &group, name),
        "name": name,
        "type": deploy_core::TYPE,
        "properties": properties,
    }))
    .into_response())
}
