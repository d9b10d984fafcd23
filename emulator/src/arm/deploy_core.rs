//! Template deployments at resource-group scope, the part both the HTTP routes
//! (`deployments.rs`) and the CMG API (`cmg.rs`) use: apply a template's resources
//! (already evaluated to literal values), record the deployment, and read its progress.
//!
//! A deployment is `Accepted` in the PUT reply, `Running` until `arm_delay` has passed,
//! then `Succeeded` or `Failed` — computed from its timestamps when read. Each resource
//! it writes is upserted by its id, so a deployment run twice updates and never makes
//! twins (ARM's incremental mode). A resource whose globally unique name is taken
//! (storage account, key vault, public IP DNS label) is not written and fails the
//! deployment with ARM's `DeploymentFailed` and the resource provider's error as detail.
//!
//! Source: Azure/azure-rest-api-specs:specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json
//! (DeploymentExtended, DeploymentPropertiesExtended: provisioningState, correlationId,
//! timestamp, duration, outputs, providers, dependencies, templateHash,
//! outputResources, parameters, mode, error; DeploymentOperation,
//! DeploymentOperationProperties: provisioningOperation, provisioningState, timestamp,
//! duration, serviceRequestId, statusCode, statusMessage, targetResource). The
//! `DeploymentFailed` message is the one ARM answers (as azure-cli users quote it); the
//! detail codes `StorageAccountAlreadyTaken`, `VaultAlreadyExists` and `DnsRecordInUse`
//! are the resource providers' as clients meet them — their texts are UNCONFIRMED.

use super::errors::{ArmError, ArmResult};
use super::lro::iso_ms;
use super::resources::{self, now_ms, PUBLIC_IP, STORAGE, VAULT};
use crate::app::AppState;
use crate::store::Db;
use axum::http::StatusCode;
use serde_json::{json, Value};

pub(super) const DEPLOYMENTS: &str = "armDeployments";
pub const TYPE: &str = "Microsoft.Resources/deployments";

pub fn key(sub: &str, group: &str, name: &str) -> String {
    format!(
        "{}/{}",
        resources::group_key(sub, group),
        name.to_ascii_lowercase()
    )
}

pub fn deployment_id(sub: &str, group: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{group}/providers/{TYPE}/{name}")
}

/// A resource of a template after evaluation.
pub struct Planned {
    pub rtype: String,
    pub name: String,
    pub doc: Value,
}

/// Record deployment `name` and write its resources. `Err` only for what ARM refuses
/// synchronously (an active deployment of the same name); a resource that cannot be
/// created fails the deployment when it finishes instead.
#[allow(clippy::too_many_arguments)]
pub fn apply(
    st: &AppState,
    db: &Db<'_>,
    sub: &str,
    group: &str,
    name: &str,
    planned: Vec<Planned>,
    properties: Value,
    extra: Value,
) -> ArmResult<(Value, bool)> {
    let k = key(sub, group, name);
    let now = now_ms();
    let existing = db.get(DEPLOYMENTS, &k)?;
    if let Some(cur) = &existing {
        if cur["_gone_at"].is_null() && cur["_done"].as_i64().is_some_and(|d| now < d) {
            return Err(ArmError::new(
                StatusCode::CONFLICT,
                "DeploymentActive",
                format!("The deployment '{name}' cannot be saved, because this would overwrite an existing deployment which is still active."),
            ));
        }
    }
    let done = resources::done_at(st);
    let mut failures = Vec::new();
    let mut operations = Vec::new();
    let mut outputs = Vec::new();
    for p in planned {
        let rk = resources::key(sub, group, &p.rtype, &p.name);
        let id = resources::resource_id(sub, group, &p.rtype, &p.name);
        let conflict = conflict(db, &p, &rk)?;
        let (status, message) = match &conflict {
            Some((code, msg)) => {
                failures.push(json!({"code": code, "message": msg, "target": id}));
                ("Conflict", json!({"error": {"code": code, "message": msg}}))
            }
            None => {
                let mut doc = p.doc;
                doc["id"] = json!(id);
                doc["name"] = json!(p.name);
                doc["type"] = json!(p.rtype);
                let created = resources::upsert(db, &rk, doc, "Creating", done)?;
                outputs.push(json!({"id": id}));
                (if created { "Created" } else { "OK" }, Value::Null)
            }
        };
        operations.push(json!({
            "operationId": crate::util::opaque_id(8).to_ascii_uppercase(),
            "provisioningOperation": "Create",
            "failed": conflict.is_some(),
            "statusCode": status,
            "statusMessage": message,
            "targetResource": {"id": id, "resourceType": p.rtype, "resourceName": p.name},
        }));
    }
    let error = (!failures.is_empty()).then(|| json!({
        "code": "DeploymentFailed",
        "message": "At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-deployment-operations for usage details.",
        "details": failures,
    }));
    let shown = existing
        .as_ref()
        .and_then(|c| c["name"].as_str())
        .unwrap_or(name)
        .to_string();
    let mut doc = json!({
        "_key": k,
        "_started": now,
        "_done": done,
        "_error": error,
        "_operations": operations,
        "_outputResources": outputs,
        "id": deployment_id(sub, group, &shown),
        "name": shown,
        "type": TYPE,
        "properties": properties,
    });
    doc["properties"]["correlationId"] = json!(crate::util::new_guid());
    if let (Value::Object(d), Value::Object(x)) = (&mut doc, extra) {
        d.extend(x);
    }
    let live = existing.is_some_and(|c| c["_gone_at"].is_null());
    if db.get(DEPLOYMENTS, &k)?.is_some() {
        db.update(DEPLOYMENTS, &k, &doc)?;
    } else {
        db.insert(DEPLOYMENTS, &k, &doc)?;
    }
    Ok((doc, !live))
}

/// The reason a planned resource cannot be created, as (code, message).
fn conflict(db: &Db<'_>, p: &Planned, rk: &str) -> ArmResult<Option<(String, String)>> {
    let t = p.rtype.as_str();
    let n = p.name.as_str();
    if t.eq_ignore_ascii_case(STORAGE) && resources::storage_name_taken(db, n, Some(rk))? {
        return Ok(Some((
            "StorageAccountAlreadyTaken".into(),
            format!("The storage account named {n} is already taken."),
        )));
    }
    if t.eq_ignore_ascii_case(VAULT) && resources::vault_name_taken(db, n, Some(rk))? {
        return Ok(Some((
            "VaultAlreadyExists".into(),
            format!("The vault name '{n}' is already in use. Vault names are globally unique so it is possible that the name is already taken."),
        )));
    }
    if t.eq_ignore_ascii_case(PUBLIC_IP) {
        let region = crate::graph::str_of(&p.doc, "location");
        if let Some(label) = p.doc["properties"]["dnsSettings"]["domainNameLabel"].as_str() {
            if resources::dns_label_taken(db, region, label, Some(rk))? {
                return Ok(Some((
                    "DnsRecordInUse".into(),
                    format!("DNS record {label}.{region}.cloudapp.azure.com is already used by another public IP."),
                )));
            }
        }
    }
    Ok(None)
}

/// The provisioning state of a stored deployment at `now`.
pub fn state_at(doc: &Value, now: i64) -> &'static str {
    if doc["_gone_at"].is_i64() {
        "Deleting"
    } else if doc["_done"].as_i64().is_some_and(|d| now < d) {
        "Running"
    } else if doc["_error"].is_object() {
        "Failed"
    } else {
        "Succeeded"
    }
}

/// A deployment as clients see it at `now`; `None` once deleted.
pub fn at(doc: &Value, now: i64) -> Option<Value> {
    if doc["_gone_at"].as_i64().is_some_and(|t| now >= t) {
        return None;
    }
    let mut v = doc.clone();
    let state = state_at(doc, now);
    let started = doc["_started"].as_i64().unwrap_or(now);
    let finished = matches!(state, "Succeeded" | "Failed");
    let end = if finished {
        doc["_done"].as_i64().unwrap_or(now)
    } else {
        now
    };
    v["properties"]["provisioningState"] = json!(state);
    v["properties"]["timestamp"] = json!(iso_ms(end));
    v["properties"]["duration"] = json!(duration((end - started).max(0)));
    if finished {
        v["properties"]["outputResources"] = doc["_outputResources"].clone();
    }
    if state == "Failed" {
        v["properties"]["error"] = doc["_error"].clone();
    }
    Some(crate::graph::public_view(&v))
}

/// The deployment's operations at `now` (one per resource).
pub fn operations_at(doc: &Value, now: i64) -> Vec<Value> {
    let finished = doc["_done"].as_i64().is_none_or(|d| now >= d);
    let id = crate::graph::str_of(doc, "id");
    let started = doc["_started"].as_i64().unwrap_or(now);
    let end = if finished {
        doc["_done"].as_i64().unwrap_or(now)
    } else {
        now
    };
    doc["_operations"]
        .as_array()
        .map(|ops| {
            ops.iter()
                .map(|op| {
                    let failed = op["failed"] == json!(true);
                    let state = match (finished, failed) {
                        (false, _) => "Running",
                        (true, true) => "Failed",
                        (true, false) => "Succeeded",
                    };
                    let op_id = crate::graph::str_of(op, "operationId");
                    let mut props = json!({
                        "provisioningOperation": op["provisioningOperation"],
                        "provisioningState": state,
                        "timestamp": iso_ms(end),
                        "duration": duration((end - started).max(0)),
                        "serviceRequestId": crate::util::new_guid(),
                        "targetResource": op["targetResource"],
                    });
                    if finished {
                        props["statusCode"] = op["statusCode"].clone();
                        props["statusMessage"] = op["statusMessage"].clone();
                    }
                    json!({
                        "id": format!("{id}/operations/{op_id}"),
                        "operationId": op_id,
                        "properties": props,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Read a deployment (live, as it is now).
pub fn get(db: &Db<'_>, k: &str) -> Result<Option<Value>, crate::store::StoreError> {
    Ok(db
        .get(DEPLOYMENTS, k)?
        .filter(|d| at(d, now_ms()).is_some()))
}

/// Drop every deployment under a key prefix (the group is gone).
pub fn delete_under(db: &Db<'_>, prefix: &str) -> Result<(), crate::store::StoreError> {
    for row in db.list(DEPLOYMENTS)? {
        let k = crate::graph::str_of(&row.doc, "_key");
        if k.starts_with(prefix) {
            db.delete(DEPLOYMENTS, k)?;
        }
    }
    Ok(())
}

/// An ISO 8601 duration as ARM writes it (`PT1.2345S`).
fn duration(ms: i64) -> String {
    format!("PT{}.{:03}S", ms / 1000, ms % 1000)
}

pub fn not_found(name: &str, group: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "DeploymentNotFound",
        format!("Deployment '{name}' could not be found under resource group '{group}'."),
    )
}
