//! Resource groups: `PUT` (201 new, 200 existing), `PATCH` (200; what the body gives
//! replaces, the rest is kept), `GET`, `HEAD` (204/404), list, and
//! `DELETE` as a long-running operation — 202 with `Location` and `Retry-After`, the
//! location polled (202 while running, then 200) — plus the operation-result polling.
//! Source: Azure/azure-rest-api-specs:specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json
//! (ResourceGroups_CreateOrUpdate 200/201, ResourceGroups_Update 200 with a
//! `ResourceGroupPatchable` body — "If a field is unspecified, the current value is
//! retained" —, ResourceGroups_CheckExistence 204/404, ResourceGroups_Delete 200/202
//! with `x-ms-long-running-operation`) and examples/CreateResourceGroup.json (the body).

use super::errors::{json_body, ArmError, ArmResult};
use super::subscriptions;
use crate::app::{AppState, Shared};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

const GROUPS: &str = "armResourceGroups";
const OPERATIONS: &str = "armOperations";
/// Polls of an operation result that still answer 202 before it completes.
const POLLS_BEFORE_DONE: i64 = 1;
/// Retry-After for operation polling (az waits 30 s when it is 0).
const RETRY_AFTER: u64 = 1;

fn key(sub: &str, name: &str) -> String {
    format!("{}/{}", sub.to_ascii_lowercase(), name.to_ascii_lowercase())
}

/// ARM stores locations in their short form: `East US` is `eastus`.
fn normalize_location(l: &str) -> String {
    l.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

fn view(doc: &Value) -> Value {
    crate::graph::public_view(doc)
}

fn not_found(name: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "ResourceGroupNotFound",
        format!("Resource group '{name}' could not be found."),
    )
}

/// The name of resource group `name` as it was created, or ARM's 404 when there is none.
pub(super) fn group_name(st: &AppState, sub: &str, name: &str) -> ArmResult<String> {
    let doc = st
        .store
        .read(|db| db.get(GROUPS, &key(sub, name)))?
        .ok_or_else(|| not_found(name))?;
    Ok(doc["name"].as_str().unwrap_or(name).to_string())
}

pub(super) fn kind_is(kind: &str, want: &str) -> bool {
    kind.eq_ignore_ascii_case(want)
}

pub(super) fn unknown_kind(kind: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("The comgmt emulator serves no ARM resource type '{kind}' here."),
    )
}

/// For a route under `/subscriptions/{sub}/{kind}/…`: the kind must be resource
/// groups; then the `api-version` and the subscription, checked in ARM's order.
fn group_preamble(st: &AppState, kind: &str, sub: &str, uri: &Uri) -> ArmResult<(String, String)> {
    if !kind_is(kind, "resourcegroups") {
        return Err(unknown_kind(kind));
    }
    preamble(st, sub, uri)
}

/// `api-version` and the subscription, checked in ARM's order.
fn preamble(st: &AppState, sub: &str, uri: &Uri) -> ArmResult<(String, String)> {
    let version = super::api_version(&crate::odata::Query::parse(uri.query()))?;
    let sub = subscriptions::check(st, sub)?;
    Ok((sub, version))
}

pub(super) fn respond(r: ArmResult<Response>) -> Response {
    r.unwrap_or_else(|e| e.render())
}

pub async fn list(
    State(st): State<Shared>,
    Path((sub, kind)): Path<(String, String)>,
    uri: Uri,
) -> Response {
    respond((|| {
        if kind_is(&kind, "providers") {
            return super::providers::list(&st, &sub, &uri);
        }
        let (sub, _) = group_preamble(&st, &kind, &sub, &uri)?;
        let prefix = format!("{}/", sub.to_ascii_lowercase());
        let rows = st.store.read(|db| db.list(GROUPS))?;
        let value: Vec<Value> = rows
            .iter()
            .filter(|r| crate::graph::str_of(&r.doc, "_key").starts_with(&prefix))
            .map(|r| view(&r.doc))
            .collect();
        Ok(Json(json!({"value": value})).into_response())
    })())
}

pub async fn get(
    State(st): State<Shared>,
    Path((sub, kind, name)): Path<(String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        if kind_is(&kind, "operationresults") {
            return poll(&st, &sub, &name, &uri, &headers);
        }
        if kind_is(&kind, "providers") {
            return super::providers::get(&st, &sub, &name, &uri);
        }
        let (sub, _) = group_preamble(&st, &kind, &sub, &uri)?;
        let doc = st
            .store
            .read(|db| db.get(GROUPS, &key(&sub, &name)))?
            .ok_or_else(|| not_found(&name))?;
        Ok(Json(view(&doc)).into_response())
    })())
}

/// `HEAD`: 204 when the group exists, 404 when not, no body either way.
pub async fn head(
    State(st): State<Shared>,
    Path((sub, kind, name)): Path<(String, String, String)>,
    uri: Uri,
) -> Response {
    let found = (|| -> ArmResult<bool> {
        let (sub, _) = group_preamble(&st, &kind, &sub, &uri)?;
        Ok(st
            .store
            .read(|db| db.get(GROUPS, &key(&sub, &name)))?
            .is_some())
    })();
    match found {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => e.status.into_response(),
    }
}

pub async fn put(
    State(st): State<Shared>,
    Path((sub, kind, name)): Path<(String, String, String)>,
    uri: Uri,
    body: Bytes,
) -> Response {
    respond((|| {
        let (sub, _) = group_preamble(&st, &kind, &sub, &uri)?;
        let given = json_body(&body)?;
        let location = match given.get("location").and_then(Value::as_str) {
            Some(l) if !l.trim().is_empty() => normalize_location(l),
            _ => {
                return Err(ArmError::new(
                    StatusCode::BAD_REQUEST,
                    "LocationRequired",
                    "The location property is required for this definition.",
                ))
            }
        };
        let tags = given.get("tags").cloned().unwrap_or_else(|| json!({}));
        let k = key(&sub, &name);
        let (status, doc) = st.store.write(|db| {
            let existing = db.get(GROUPS, &k)?;
            if let Some(cur) = &existing {
                if cur["properties"]["provisioningState"] == "Deleting" {
                    return Err(being_deleted(&name));
                }
                if cur["location"] != json!(location) {
                    return Err(ArmError::new(
                        StatusCode::CONFLICT,
                        "InvalidResourceGroupLocation",
                        format!(
                            "Invalid resource group location '{location}'. The Resource group already exists in location '{}'.",
                            cur["location"].as_str().unwrap_or_default()
                        ),
                    ));
                }
            }
            // The name keeps the case it was created with.
            let shown = existing
                .as_ref()
                .and_then(|c| c["name"].as_str())
                .unwrap_or(&name)
                .to_string();
            let doc = json!({
                "_key": k,
                "id": format!("/subscriptions/{sub}/resourceGroups/{shown}"),
                "name": shown,
                "type": "Microsoft.Resources/resourceGroups",
                "location": location,
                "tags": tags,
                "properties": {"provisioningState": "Succeeded"},
            });
            if existing.is_some() {
                db.update(GROUPS, &k, &doc)?;
                Ok((StatusCode::OK, doc))
            } else {
                db.insert(GROUPS, &k, &doc)?;
                Ok((StatusCode::CREATED, doc))
            }
        })?;
        Ok((status, Json(view(&doc))).into_response())
    })())
}

fn being_deleted(name: &str) -> ArmError {
    ArmError::new(
        StatusCode::CONFLICT,
        "ResourceGroupBeingDeleted",
        format!("The resource group '{name}' is in deprovisioning state and cannot perform this operation."),
    )
}

/// `PATCH` (ResourceGroups_Update, what azure-mgmt-resource's `resource_groups.update`
/// sends): the group must exist; `tags` when given replace the group's tags; the name
/// and location stay. 200 with the group.
pub async fn patch(
    State(st): State<Shared>,
    Path((sub, kind, name)): Path<(String, String, String)>,
    uri: Uri,
    body: Bytes,
) -> Response {
    respond((|| {
        let (sub, _) = group_preamble(&st, &kind, &sub, &uri)?;
        let given = json_body(&body)?;
        let tags = match given.get("tags") {
            None | Some(Value::Null) => None,
            Some(t @ Value::Object(_)) => Some(t.clone()),
            Some(_) => {
                return Err(ArmError::new(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestContent",
                    "The request content was invalid and could not be deserialized: 'tags' must be an object.",
                ))
            }
        };
        let k = key(&sub, &name);
        let doc = st.store.write(|db| {
            let mut doc = db.get(GROUPS, &k)?.ok_or_else(|| not_found(&name))?;
            if doc["properties"]["provisioningState"] == "Deleting" {
                return Err(being_deleted(&name));
            }
            if let Some(tags) = tags {
                doc["tags"] = tags;
                db.update(GROUPS, &k, &doc)?;
            }
            Ok::<_, ArmError>(doc)
        })?;
        Ok(Json(view(&doc)).into_response())
    })())
}

/// `202 Accepted` pointing at the operation's result.
fn accepted(base: &str, sub: &str, op: &str, version: &str) -> Response {
    let mut resp = StatusCode::ACCEPTED.into_response();
    let location = format!("{base}subscriptions/{sub}/operationresults/{op}?api-version={version}");
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(axum::http::header::LOCATION, v);
    }
    resp.headers_mut()
        .insert("Retry-After", HeaderValue::from(RETRY_AFTER));
    resp
}

pub async fn delete(
    State(st): State<Shared>,
    Path((sub, kind, name)): Path<(String, String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let (sub, version) = group_preamble(&st, &kind, &sub, &uri)?;
        let k = key(&sub, &name);
        let op = st.store.write(|db| {
            let mut doc = db.get(GROUPS, &k)?.ok_or_else(|| not_found(&name))?;
            // A second DELETE while deleting joins the running operation.
            if let Some(op) = doc["_operation"].as_str() {
                return Ok(op.to_string());
            }
            let op = crate::util::opaque_id(24);
            doc["properties"]["provisioningState"] = json!("Deleting");
            doc["_operation"] = json!(op);
            db.update(GROUPS, &k, &doc)?;
            let record =
                json!({"id": op, "subscription": sub, "target": k, "polls": 0, "done": false});
            db.insert(OPERATIONS, &op, &record)?;
            Ok::<_, ArmError>(op)
        })?;
        let base = st.base_url(&uri, &headers);
        Ok(accepted(&base, &sub, &op, &version))
    })())
}

/// `GET /subscriptions/{sub}/operationresults/{op}`: 202 while running, then the group
/// is gone and the answer is 200.
fn poll(st: &AppState, sub: &str, op: &str, uri: &Uri, headers: &HeaderMap) -> ArmResult<Response> {
    let (sub, version) = preamble(st, sub, uri)?;
    let running = st.store.write(|db| {
        let mut record = db.get(OPERATIONS, op)?.ok_or_else(|| {
            ArmError::new(
                StatusCode::NOT_FOUND,
                "OperationNotFound",
                format!("The operation '{op}' could not be found."),
            )
        })?;
        if record["done"] == json!(true) {
            return Ok(false);
        }
        let polls = record["polls"].as_i64().unwrap_or_default();
        if polls < POLLS_BEFORE_DONE {
            record["polls"] = json!(polls + 1);
            db.update(OPERATIONS, op, &record)?;
            return Ok(true);
        }
        if let Some(target) = record["target"].as_str() {
            db.delete(GROUPS, target)?;
            // What the group held goes with it.
            let inside = format!("{target}/");
            super::dns::delete_under(db, &inside)?;
            super::resources::delete_under(db, &inside)?;
            super::deploy_core::delete_under(db, &inside)?;
            for row in db.list(super::dns::ZONES)? {
                let k = crate::graph::str_of(&row.doc, "_key");
                if k.starts_with(&inside) {
                    db.delete(super::dns::ZONES, k)?;
                }
            }
        }
        record["done"] = json!(true);
        db.update(OPERATIONS, op, &record)?;
        Ok::<_, ArmError>(false)
    })?;
    if running {
        let base = st.base_url(uri, headers);
        Ok(accepted(&base, &sub, op, &version))
    } else {
        Ok(StatusCode::OK.into_response())
    }
}

/// The group `name` as created, creating it in `location` when there is none (what a
/// deployment tool does for a new group). A group being deleted is refused.
pub(super) fn ensure(
    db: &crate::store::Db<'_>,
    sub: &str,
    name: &str,
    location: &str,
) -> ArmResult<String> {
    let k = key(sub, name);
    if let Some(cur) = db.get(GROUPS, &k)? {
        if cur["properties"]["provisioningState"] == "Deleting" {
            return Err(being_deleted(name));
        }
        return Ok(cur["name"].as_str().unwrap_or(name).to_string());
    }
    let doc = json!({
        "_key": k,
        "id": format!("/subscriptions/{sub}/resourceGroups/{name}"),
        "name": name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": normalize_location(location),
        "tags": {},
        "properties": {"provisioningState": "Succeeded"},
    });
    db.insert(GROUPS, &k, &doc)?;
    Ok(name.to_string())
}

/// The group `name` (its name as created and its location), or ARM's 404.
pub(super) fn group_and_location(
    st: &AppState,
    sub: &str,
    name: &str,
) -> ArmResult<(String, String)> {
    let doc = st
        .store
        .read(|db| db.get(GROUPS, &key(sub, name)))?
        .ok_or_else(|| not_found(name))?;
    Ok((
        doc["name"].as_str().unwrap_or(name).to_string(),
        doc["location"].as_str().unwrap_or_default().to_string(),
    ))
}
