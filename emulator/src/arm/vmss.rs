//! Virtual machine scale sets over HTTP: `GET`, `PATCH` (`sku.capacity`, `tags`; 200
//! with the scale set `Updating` and an `Azure-AsyncOperation` to poll), `DELETE` (202),
//! `POST …/start`, `…/deallocate`, `…/powerOff` (202, long-running), and
//! `GET …/instanceView`. Scale sets are created by template deployments.
//!
//! Source: Azure/azure-rest-api-specs:specification/compute/resource-manager/Microsoft.Compute/ComputeRP/stable/2024-07-01/virtualMachineScaleSet.json
//! (VirtualMachineScaleSets_Get, _Update 200 with `x-ms-long-running-operation`,
//! _Delete 200/202/204, _Start, _Deallocate and _PowerOff 200/202,
//! _GetInstanceView; VirtualMachineScaleSetUpdate {sku, tags, properties}) and its
//! examples (VirtualMachineScaleSet_Get_WithDiskControllerType.json for the shape). The
//! capacity limit (0..1000) is the service's for a Uniform scale set with a platform
//! image; the `InvalidParameter` text is UNCONFIRMED.

use super::dispatch::{method_not_allowed, Req};
use super::errors::{json_body, ArmError, ArmResult};
use super::listing::scope;
use super::lro::{self, OpRef};
use super::resources::{self, now_ms, VMSS};
use super::vmss_core::{self, Power};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

const VERSIONS: &[&str] = super::versions::COMPUTE;

pub fn route(r: &Req<'_>, sub: &str, rg: &str, tail: &[&str]) -> ArmResult<Response> {
    use super::resource_groups::kind_is as is;
    let power = |a: &str| {
        [
            ("start", Power::Start),
            ("deallocate", Power::Deallocate),
            ("powerOff", Power::Stop),
        ]
        .into_iter()
        .find(|(n, _)| is(a, n))
        .map(|(_, p)| p)
    };
    match (tail, r.method.clone()) {
        ([name], Method::GET) => get(r, sub, rg, name),
        ([name], Method::PATCH) => patch(r, sub, rg, name),
        ([name], Method::DELETE) => delete(r, sub, rg, name),
        ([name, v], Method::GET) if is(v, "instanceView") => instance_view(r, sub, rg, name),
        ([name, a], Method::POST) if power(a).is_some() => {
            let op = power(a).unwrap_or(Power::Start);
            power_action(r, sub, rg, name, op)
        }
        ([_] | [_, _], m) => Err(method_not_allowed(&m)),
        _ => Err(super::resource_groups::unknown_kind(
            "virtualMachineScaleSets",
        )),
    }
}

/// The scale set's key and stored document, after the checks in ARM's order.
fn target(
    r: &Req<'_>,
    sub: &str,
    rg: &str,
    name: &str,
) -> ArmResult<(String, String, String, String)> {
    let (sub, group, version) = scope(r, sub, rg, VMSS, VERSIONS)?;
    Ok((
        resources::key(&sub, &group, VMSS, name),
        sub,
        group,
        version,
    ))
}

fn get(r: &Req<'_>, sub: &str, rg: &str, name: &str) -> ArmResult<Response> {
    let (k, _, group, _) = target(r, sub, rg, name)?;
    let doc =
        r.st.store
            .read(|db| resources::get(db, &k))?
            .ok_or_else(|| resources::not_found(VMSS, name, &group))?;
    Ok(Json(resources::view(&doc)).into_response())
}

fn instance_view(r: &Req<'_>, sub: &str, rg: &str, name: &str) -> ArmResult<Response> {
    let (k, _, group, _) = target(r, sub, rg, name)?;
    let doc =
        r.st.store
            .read(|db| db.get(resources::RESOURCES, &k))?
            .filter(|d| resources::at(d, now_ms()).is_some())
            .ok_or_else(|| resources::not_found(VMSS, name, &group))?;
    Ok(Json(vmss_core::instance_view(&doc, now_ms())).into_response())
}

fn bad(message: impl Into<String>) -> ArmError {
    ArmError::new(StatusCode::BAD_REQUEST, "InvalidParameter", message)
}

fn patch(r: &Req<'_>, sub: &str, rg: &str, name: &str) -> ArmResult<Response> {
    let (k, sub, group, version) = target(r, sub, rg, name)?;
    let body = json_body(r.body)?;
    let capacity = match &body["sku"]["capacity"] {
        Value::Null => None,
        v => match v.as_u64() {
            Some(c) if c <= 1000 => Some(c),
            _ => {
                return Err(bad(format!(
                    "The value {v} of parameter 'sku.capacity' is out of range. The value must be between 0 and 1000, inclusive."
                )))
            }
        },
    };
    let (doc, op) = r.st.store.write(|db| {
        let mut doc = vmss_core::live(db, &k, name, &group)?;
        if let Some(tags) = body.get("tags").filter(|t| t.is_object()) {
            doc["tags"] = tags.clone();
            db.update(resources::RESOURCES, &k, &doc)?;
        }
        if let Some(c) = capacity {
            doc = vmss_core::set_capacity(r.st, db, doc, c)?;
        }
        let op = record_op(db, &doc, "_busy")?;
        Ok::<_, ArmError>((doc, op))
    })?;
    let view = resources::at(&doc, now_ms()).unwrap_or(doc);
    let region = crate::graph::str_of(&view, "location").to_string();
    let mut resp = Json(resources::view(&view)).into_response();
    lro::stamp(
        &mut resp,
        &r.base(),
        &compute_op(&sub, &region, &version),
        &op,
    );
    // The update's own reply carries only Azure-AsyncOperation (the final state is the
    // resource itself).
    resp.headers_mut().remove(axum::http::header::LOCATION);
    Ok(resp)
}

fn power_action(r: &Req<'_>, sub: &str, rg: &str, name: &str, p: Power) -> ArmResult<Response> {
    let (k, sub, group, version) = target(r, sub, rg, name)?;
    let (region, op) = r.st.store.write(|db| {
        let doc = vmss_core::live(db, &k, name, &group)?;
        let doc = vmss_core::power(r.st, db, doc, p)?;
        Ok::<_, ArmError>((
            crate::graph::str_of(&doc, "location").to_string(),
            record_op(db, &doc, "_power")?,
        ))
    })?;
    Ok(lro::accepted(
        &r.base(),
        &compute_op(&sub, &region, &version),
        &op,
    ))
}

/// The operation a scale set change is polled through: it ends when the change that
/// `field` (`_busy` for model updates, `_power` for power actions) records does, or
/// now if that is past.
fn record_op(db: &crate::store::Db<'_>, doc: &Value, field: &str) -> ArmResult<String> {
    let until = doc[field]["until"]
        .as_i64()
        .unwrap_or_default()
        .max(now_ms());
    lro::record(db, until)
}

/// Where Compute publishes a scale set operation in `region`.
fn compute_op<'a>(sub: &'a str, region: &'a str, version: &'a str) -> OpRef<'a> {
    OpRef {
        sub,
        ns: "Microsoft.Compute",
        region,
        version,
    }
}

fn delete(r: &Req<'_>, sub: &str, rg: &str, name: &str) -> ArmResult<Response> {
    let (k, sub, _, version) = target(r, sub, rg, name)?;
    let found = r.st.store.write(|db| {
        let Some(mut doc) = db.get(resources::RESOURCES, &k)? else {
            return Ok::<_, ArmError>(None);
        };
        if resources::at(&doc, now_ms()).is_none() {
            return Ok(None);
        }
        let until = match doc["_gone_at"].as_i64() {
            Some(t) => t,
            None => {
                let t = resources::done_at(r.st);
                doc["_gone_at"] = json!(t);
                db.update(resources::RESOURCES, &k, &doc)?;
                t
            }
        };
        Ok(Some((
            crate::graph::str_of(&doc, "location").to_string(),
            lro::record(db, until)?,
        )))
    })?;
    match found {
        // Deleting what is not there is a success with nothing to do (ARM's 204).
        None => Ok(StatusCode::NO_CONTENT.into_response()),
        Some((region, op)) => Ok(lro::accepted(
            &r.base(),
            &compute_op(&sub, &region, &version),
            &op,
        )),
    }
}
