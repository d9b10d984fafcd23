//! Long-running operations of the resource providers (a scale set's start, deallocate,
//! power off, update and delete): the `202 Accepted` with `Azure-AsyncOperation`,
//! `Location` and `Retry-After`, and the two URLs they point at —
//! `GET …/providers/{ns}/locations/{region}/operations/{id}` answers the operation's
//! status (`InProgress`, then `Succeeded`), and the same with `monitor=true` answers
//! 202 while it runs and 200 when it is done. An operation ends at a stored deadline,
//! so its status is computed when read.
//!
//! Source: Azure/azure-rest-api-specs:specification/compute/resource-manager/Microsoft.Compute/ComputeRP/stable/2024-07-01/virtualMachineScaleSet.json
//! (`x-ms-long-running-operation` on start/deallocate/powerOff/delete, 200/202) and
//! MicrosoftDocs/azure-docs:articles/azure-resource-manager/management/async-operations.md
//! (the status body `{"id","name","status","startTime","endTime","error"}`, the
//! `Azure-AsyncOperation` and `Location` headers; status values `InProgress`,
//! `Succeeded`, `Failed`, `Canceled`).

use super::errors::{ArmError, ArmResult};
use super::resources::now_ms;
use crate::app::AppState;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

const OPERATIONS: &str = "armAsyncOperations";
/// Seconds a client should wait between polls (azure-core falls back to 30 s when 0).
pub const RETRY_AFTER: u64 = 1;

/// Where an operation's status is served.
pub struct OpRef<'a> {
    pub sub: &'a str,
    pub ns: &'a str,
    pub region: &'a str,
    pub version: &'a str,
}

/// Record an operation ending at `until`; returns its id.
pub fn record(db: &crate::store::Db<'_>, until: i64) -> ArmResult<String> {
    let id = crate::util::new_guid();
    db.insert(
        OPERATIONS,
        &id,
        &json!({"id": id, "started": now_ms(), "until": until}),
    )?;
    Ok(id)
}

fn urls(base: &str, r: &OpRef<'_>, op: &str) -> (String, String) {
    let status = format!(
        "{base}subscriptions/{}/providers/{}/locations/{}/operations/{op}?api-version={}",
        r.sub, r.ns, r.region, r.version
    );
    let monitor = format!(
        "{base}subscriptions/{}/providers/{}/locations/{}/operations/{op}?monitor=true&api-version={}",
        r.sub, r.ns, r.region, r.version
    );
    (status, monitor)
}

/// Put the polling headers on a response.
pub fn stamp(resp: &mut Response, base: &str, r: &OpRef<'_>, op: &str) {
    let (status, monitor) = urls(base, r, op);
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&status) {
        h.insert("Azure-AsyncOperation", v);
    }
    if let Ok(v) = HeaderValue::from_str(&monitor) {
        h.insert(axum::http::header::LOCATION, v);
    }
    h.insert("Retry-After", HeaderValue::from(RETRY_AFTER));
}

/// `202 Accepted` for an operation.
pub fn accepted(base: &str, r: &OpRef<'_>, op: &str) -> Response {
    let mut resp = StatusCode::ACCEPTED.into_response();
    stamp(&mut resp, base, r, op);
    resp
}

/// A Unix time in milliseconds as ARM writes times (RFC 3339); deployments use it too.
pub(super) fn iso_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(crate::util::now_iso)
}

/// `GET …/providers/{ns}/locations/{region}/operations/{id}[?monitor=true]`.
pub fn status(
    st: &AppState,
    r: &OpRef<'_>,
    op: &str,
    uri: &Uri,
    headers: &HeaderMap,
) -> ArmResult<Response> {
    let doc: Value = st.store.read(|db| db.get(OPERATIONS, op))?.ok_or_else(|| {
        ArmError::new(
            StatusCode::NOT_FOUND,
            "OperationNotFound",
            format!("The operation '{op}' could not be found."),
        )
    })?;
    let until = doc["until"].as_i64().unwrap_or_default();
    let done = now_ms() >= until;
    let q = crate::odata::Query::parse(uri.query());
    if q.get("monitor")
        .is_some_and(|m| m.eq_ignore_ascii_case("true"))
    {
        if done {
            return Ok(StatusCode::OK.into_response());
        }
        return Ok(accepted(&st.base_url(uri, headers), r, op));
    }
    let mut body = json!({
        "name": op,
        "startTime": iso_ms(doc["started"].as_i64().unwrap_or_default()),
        "status": if done { "Succeeded" } else { "InProgress" },
    });
    if done {
        body["endTime"] = json!(iso_ms(until));
    }
    let mut resp = Json(body).into_response();
    if !done {
        resp.headers_mut()
            .insert("Retry-After", HeaderValue::from(RETRY_AFTER));
    }
    Ok(resp)
}
