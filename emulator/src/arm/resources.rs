//! The resources a resource group holds (scale sets, key vaults, storage accounts,
//! public IPs), in one collection keyed by `{sub}/{group}/{type}/{name}` (lowercase, as
//! ARM ids compare), so a group's delete and its `resources` listing find them by prefix.
//!
//! Progress is computed from timestamps when a resource is read, never by a background
//! task: a write stores `_busy = {state, until}` (milliseconds since the epoch) and a read
//! after `until` shows `Succeeded`; a delete stores `_gone_at`, after which the resource
//! reads as absent (and is dropped by the next write that meets it).

use super::errors::{ArmError, ArmResult};
use crate::app::AppState;
use crate::store::Db;
use axum::http::StatusCode;
use serde_json::{json, Value};

pub(super) const RESOURCES: &str = "armResources";

pub const VMSS: &str = "Microsoft.Compute/virtualMachineScaleSets";
pub const VAULT: &str = "Microsoft.KeyVault/vaults";
pub const STORAGE: &str = "Microsoft.Storage/storageAccounts";
pub const PUBLIC_IP: &str = "Microsoft.Network/publicIPAddresses";

/// Milliseconds since the epoch, the unit of every stored deadline.
pub fn now_ms() -> i64 {
    (crate::util::now().unix_timestamp_nanos() / 1_000_000) as i64
}

/// When a write started now finishes.
pub fn done_at(st: &AppState) -> i64 {
    now_ms() + st.arm_delay.as_millis() as i64
}

pub fn group_key(sub: &str, group: &str) -> String {
    format!(
        "{}/{}",
        sub.to_ascii_lowercase(),
        group.to_ascii_lowercase()
    )
}

pub fn key(sub: &str, group: &str, rtype: &str, name: &str) -> String {
    format!(
        "{}/{}/{}",
        group_key(sub, group),
        rtype.to_ascii_lowercase(),
        name.to_ascii_lowercase()
    )
}

pub fn resource_id(sub: &str, group: &str, rtype: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{group}/providers/{rtype}/{name}")
}

/// A stored document as it reads at `now`: `None` once a delete has finished;
/// otherwise the provisioning state follows the pending write.
pub fn at(doc: &Value, now: i64) -> Option<Value> {
    if doc["_gone_at"].as_i64().is_some_and(|t| now >= t) {
        return None;
    }
    let mut v = doc.clone();
    let state = if doc["_gone_at"].is_i64() {
        "Deleting".to_string()
    } else {
        match doc["_busy"]["until"].as_i64() {
            Some(until) if now < until => doc["_busy"]["state"]
                .as_str()
                .unwrap_or("Updating")
                .to_string(),
            _ => "Succeeded".to_string(),
        }
    };
    v["properties"]["provisioningState"] = json!(state);
    Some(v)
}

/// Read one resource (as it is now).
pub fn get(db: &Db<'_>, k: &str) -> Result<Option<Value>, crate::store::StoreError> {
    Ok(db.get(RESOURCES, k)?.and_then(|d| at(&d, now_ms())))
}

/// Every live resource under a key prefix (a group: `{sub}/{group}/`).
pub fn under(db: &Db<'_>, prefix: &str) -> Result<Vec<Value>, crate::store::StoreError> {
    let now = now_ms();
    Ok(db
        .list(RESOURCES)?
        .into_iter()
        .filter(|r| crate::graph::str_of(&r.doc, "_key").starts_with(prefix))
        .filter_map(|r| at(&r.doc, now))
        .collect())
}

/// Drop everything under a key prefix (the group is gone).
pub fn delete_under(db: &Db<'_>, prefix: &str) -> Result<(), crate::store::StoreError> {
    for row in db.list(RESOURCES)? {
        let k = crate::graph::str_of(&row.doc, "_key");
        if k.starts_with(prefix) {
            db.delete(RESOURCES, k)?;
        }
    }
    Ok(())
}

/// Create or replace a resource's document; the write finishes at `until`. A resource
/// whose delete has finished is dropped first, so its name is free again.
pub fn upsert(db: &Db<'_>, k: &str, mut doc: Value, state: &str, until: i64) -> ArmResult<bool> {
    let existing = db.get(RESOURCES, k)?;
    let live = existing.as_ref().and_then(|d| at(d, now_ms())).is_some();
    doc["_key"] = json!(k);
    // A redeployment rewrites the model, not the VMs' power state.
    if let Some(power) = existing
        .as_ref()
        .filter(|_| live)
        .map(|d| d["_power"].clone())
    {
        if !power.is_null() {
            doc["_power"] = power;
        }
    }
    // Writing over a live resource updates it; only a new one is being created.
    let state = if live && state == "Creating" {
        "Updating"
    } else {
        state
    };
    doc["_busy"] = json!({"state": state, "until": until});
    if existing.is_some() {
        db.update(RESOURCES, k, &doc)?;
    } else {
        db.insert(RESOURCES, k, &doc)?;
    }
    Ok(!live)
}

/// Whether a live resource of `rtype` (in any group of the emulator, as the global
/// names of storage accounts and vaults are) matches `pred`, other than `except`.
pub fn any_of_type(
    db: &Db<'_>,
    rtype: &str,
    except: Option<&str>,
    pred: impl Fn(&Value) -> bool,
) -> Result<bool, crate::store::StoreError> {
    let now = now_ms();
    Ok(db.list(RESOURCES)?.into_iter().any(|r| {
        r.doc["type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case(rtype))
            && Some(crate::graph::str_of(&r.doc, "_key")) != except
            && at(&r.doc, now).is_some_and(|v| pred(&v))
    }))
}

/// Whether a storage account name is taken (seeded names, or an account of this emulator).
pub fn storage_name_taken(db: &Db<'_>, name: &str, except: Option<&str>) -> ArmResult<bool> {
    name_taken(
        db,
        crate::seed::TAKEN_STORAGE_ACCOUNTS,
        STORAGE,
        name,
        except,
    )
}

/// Whether a key vault name is taken (vault names are DNS names: no case).
pub fn vault_name_taken(db: &Db<'_>, name: &str, except: Option<&str>) -> ArmResult<bool> {
    name_taken(db, crate::seed::TAKEN_KEY_VAULTS, VAULT, name, except)
}

/// Whether `name` is one of `seeded` or names a resource of `rtype` other than
/// `except`, without case (both names are global DNS labels).
fn name_taken(
    db: &Db<'_>,
    seeded: &[&str],
    rtype: &str,
    name: &str,
    except: Option<&str>,
) -> ArmResult<bool> {
    Ok(seeded.iter().any(|t| t.eq_ignore_ascii_case(name))
        || any_of_type(db, rtype, except, |v| {
            crate::graph::str_of(v, "name").eq_ignore_ascii_case(name)
        })?)
}

/// Whether a public IP DNS label is taken in a region.
pub fn dns_label_taken(
    db: &Db<'_>,
    region: &str,
    label: &str,
    except: Option<&str>,
) -> ArmResult<bool> {
    Ok(crate::seed::TAKEN_DNS_LABELS
        .iter()
        .any(|(r, l)| r.eq_ignore_ascii_case(region) && l.eq_ignore_ascii_case(label))
        || any_of_type(db, PUBLIC_IP, except, |v| {
            crate::graph::str_of(v, "location").eq_ignore_ascii_case(region)
                && v["properties"]["dnsSettings"]["domainNameLabel"]
                    .as_str()
                    .is_some_and(|l| l.eq_ignore_ascii_case(label))
        })?)
}

/// ARM's 404 for a resource that is not there.
/// Source: ARM's `ResourceNotFound` as clients meet it (azure-cli, azure-sdk-for-python
/// `ResourceNotFoundError`); the message is ARM's form.
pub fn not_found(rtype: &str, name: &str, group: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!("The Resource '{rtype}/{name}' under resource group '{group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"),
    )
}

/// A resource as clients see it.
pub fn view(doc: &Value) -> Value {
    crate::graph::public_view(doc)
}
