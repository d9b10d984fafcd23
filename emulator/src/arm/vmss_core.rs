//! A virtual machine scale set's state, shared by its HTTP routes (`vmss.rs`) and the CMG
//! API (`cmg.rs`): capacity changes (`Updating` until the write finishes), power changes
//! (`starting` → `running`, `deallocating` → `deallocated`, `stopping` → `stopped`),
//! the certificate its VMs load from Key Vault, and the instance view.
//!
//! Source: Azure/azure-rest-api-specs:specification/compute/resource-manager/Microsoft.Compute/ComputeRP/stable/2024-07-01/virtualMachineScaleSet.json
//! (VirtualMachineScaleSet: sku {name, tier, capacity}, properties.provisioningState,
//! uniqueId, timeCreated, orchestrationMode, upgradePolicy, virtualMachineProfile with
//! osProfile.secrets[].{sourceVault.id, vaultCertificates[].{certificateUrl,
//! certificateStore}}; VirtualMachineScaleSetInstanceView: virtualMachine.statusesSummary,
//! statuses) and the power state codes `PowerState/{running,starting,deallocating,
//! deallocated,stopping,stopped}` of virtualMachine.json's instance views. That the
//! scale set's own instance view summarizes the power state is the emulator's
//! (UNCONFIRMED: the real one shows it per VM).

use super::errors::{ArmError, ArmResult};
use super::resources::{self, now_ms};
use crate::app::AppState;
use crate::store::Db;
use axum::http::StatusCode;
use serde_json::{json, Value};

/// A power operation on a scale set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Power {
    Start,
    Deallocate,
    Stop,
}

impl Power {
    /// (while running, when done)
    fn states(self) -> (&'static str, &'static str) {
        match self {
            Power::Start => ("starting", "running"),
            Power::Deallocate => ("deallocating", "deallocated"),
            Power::Stop => ("stopping", "stopped"),
        }
    }
}

/// The power state at `now`: the transition while it runs, then its end state.
pub fn power_state(doc: &Value, now: i64) -> String {
    let p = &doc["_power"];
    // A scale set being created is starting its VMs.
    if doc["_busy"]["state"] == json!("Creating")
        && doc["_busy"]["until"].as_i64().is_some_and(|u| now < u)
    {
        return "starting".into();
    }
    match p["until"].as_i64() {
        Some(until) if now < until => p["transition"].as_str().unwrap_or("updating").into(),
        _ => p["state"].as_str().unwrap_or("running").into(),
    }
}

/// A live scale set by key, or ARM's 404.
pub fn live(db: &Db<'_>, k: &str, name: &str, group: &str) -> ArmResult<Value> {
    let doc = db
        .get(resources::RESOURCES, k)?
        .filter(|d| resources::at(d, now_ms()).is_some())
        .ok_or_else(|| resources::not_found(resources::VMSS, name, group))?;
    if doc["_gone_at"].is_i64() {
        return Err(ArmError::new(
            StatusCode::CONFLICT,
            "OperationNotAllowed",
            format!("The scale set '{name}' is being deleted."),
        ));
    }
    Ok(doc)
}

fn save(db: &Db<'_>, k: &str, doc: &Value) -> ArmResult<()> {
    db.update(resources::RESOURCES, k, doc)?;
    Ok(())
}

/// Set `sku.capacity`: the scale set is `Updating` until the write finishes. Setting the
/// capacity it already has changes nothing.
pub fn set_capacity(st: &AppState, db: &Db<'_>, mut doc: Value, capacity: u64) -> ArmResult<Value> {
    if doc["sku"]["capacity"].as_u64() != Some(capacity) {
        doc["sku"]["capacity"] = json!(capacity);
        doc["_busy"] = json!({"state": "Updating", "until": resources::done_at(st)});
        save(db, crate::graph::str_of(&doc, "_key"), &doc)?;
    }
    Ok(doc)
}

/// Start a power operation; it finishes after the emulator's ARM delay.
pub fn power(st: &AppState, db: &Db<'_>, mut doc: Value, op: Power) -> ArmResult<Value> {
    let (transition, state) = op.states();
    // Asking for the state it is already in (or going to) starts nothing new.
    let current = &doc["_power"];
    if current["state"] == json!(state) {
        return Ok(doc);
    }
    doc["_power"] = json!({
        "state": state,
        "transition": transition,
        "until": resources::done_at(st),
    });
    save(db, crate::graph::str_of(&doc, "_key"), &doc)?;
    Ok(doc)
}

/// Point the VMs at another certificate in the vault (a model update: `Updating`).
pub fn set_certificate(st: &AppState, db: &Db<'_>, mut doc: Value, url: &str) -> ArmResult<Value> {
    let certs = &mut doc["properties"]["virtualMachineProfile"]["osProfile"]["secrets"][0]
        ["vaultCertificates"];
    if certs[0]["certificateUrl"] != json!(url) {
        *certs = json!([{"certificateUrl": url, "certificateStore": "My"}]);
        doc["_busy"] = json!({"state": "Updating", "until": resources::done_at(st)});
        save(db, crate::graph::str_of(&doc, "_key"), &doc)?;
    }
    Ok(doc)
}

/// The scale set's instance view at `now`.
pub fn instance_view(doc: &Value, now: i64) -> Value {
    let capacity = doc["sku"]["capacity"].as_u64().unwrap_or(0);
    let provisioning = resources::at(doc, now)
        .and_then(|v| {
            v["properties"]["provisioningState"]
                .as_str()
                .map(str::to_ascii_lowercase)
        })
        .unwrap_or_else(|| "succeeded".into());
    let power = power_state(doc, now);
    let time = crate::util::now_iso();
    json!({
        "virtualMachine": {"statusesSummary": [
            {"code": format!("ProvisioningState/{provisioning}"), "count": capacity},
            {"code": format!("PowerState/{power}"), "count": capacity},
        ]},
        "statuses": [{
            "code": format!("ProvisioningState/{provisioning}"),
            "level": "Info",
            "displayStatus": display(&provisioning),
            "time": time,
        }],
    })
}

fn display(provisioning: &str) -> String {
    let mut c = provisioning.chars();
    let word = match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    };
    format!("Provisioning {}", word.to_ascii_lowercase())
}

/// A new scale set's document (what a template's resource adds to is kept).
pub fn complete(mut doc: Value) -> Value {
    let p = &mut doc["properties"];
    if !p.is_object() {
        *p = json!({});
    }
    if p["uniqueId"].is_null() {
        p["uniqueId"] = json!(crate::util::new_guid());
    }
    if p["timeCreated"].is_null() {
        p["timeCreated"] = json!(crate::util::now_iso());
    }
    if p["orchestrationMode"].is_null() {
        p["orchestrationMode"] = json!("Uniform");
    }
    if p["upgradePolicy"].is_null() {
        p["upgradePolicy"] = json!({"mode": "Manual"});
    }
    doc
}
