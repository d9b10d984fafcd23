//! Owners of applications and service principals: `GET …/owners`,
//! `POST …/owners/$ref`, `DELETE …/owners/{id}/$ref`, and `$expand=owners`. The emulated
//! tenant has no users, so owners are service principals; an object created by an
//! app-only client has no owners until one is added.
//! Source: microsoftgraph/microsoft-graph-docs-contrib:api-reference/v1.0/api/application-post-owners.md,
//! application-list-owners.md.

use super::{body_object, json_response, no_content, public_view, query, str_of, Ctx, Seg};
use crate::errors::{GraphError, GraphResult};
use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

/// Where owner ids are kept on a stored object (internal, never shown).
const OWNERS: &str = "_owners";

fn owner_ids(doc: &Value) -> Vec<String> {
    doc[OWNERS]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// The directory objects behind the owner ids, as Graph lists them (with `@odata.type`).
fn owners(ctx: &Ctx<'_>, doc: &Value) -> GraphResult<Vec<Value>> {
    let ids = owner_ids(doc);
    ctx.st.store.read(|db| {
        let mut out = Vec::new();
        for id in &ids {
            if let Some(sp) = db.get(super::SERVICE_PRINCIPALS, id)? {
                let mut v = public_view(&sp);
                if let Some(m) = v.as_object_mut() {
                    m.insert(
                        "@odata.type".into(),
                        json!("#microsoft.graph.servicePrincipal"),
                    );
                }
                out.push(v);
            }
        }
        Ok(out)
    })
}

/// The value of an expanded navigation property.
pub fn navigation(ctx: &Ctx<'_>, doc: &Value, nav: &str) -> GraphResult<Value> {
    match nav.to_ascii_lowercase().as_str() {
        "owners" => Ok(Value::Array(owners(ctx, doc)?)),
        _ => Err(GraphError::no_route(nav)),
    }
}

/// The object id an `@odata.id` reference names (`…/directoryObjects/{id}` or a bare id).
fn referenced_id(body: &Bytes) -> GraphResult<String> {
    let given = body_object(body)?;
    let raw = given
        .get("@odata.id")
        .and_then(Value::as_str)
        .ok_or_else(|| GraphError::bad_request("The request body must contain '@odata.id'."))?;
    let id = raw
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    if crate::util::is_guid(id) {
        Ok(id.to_ascii_lowercase())
    } else {
        Err(GraphError::bad_request(format!(
            "Invalid object identifier '{raw}'."
        )))
    }
}

/// `…/{set}/{id}/owners…` for the object `doc` of `collection`.
pub fn route(
    ctx: &Ctx<'_>,
    collection: &str,
    method: &Method,
    doc: &Value,
    rest: &[Seg],
    body: &Bytes,
) -> GraphResult<Response> {
    let id = str_of(doc, "id").to_string();
    match (rest, method) {
        ([], &Method::GET) => {
            let list = owners(ctx, doc)?;
            let body = json!({
                "@odata.context": query::context(ctx, "directoryObjects", None, false),
                "value": list,
            });
            Ok(json_response(StatusCode::OK, &body))
        }
        ([r], &Method::POST) if r.name == "$ref" => {
            let owner = referenced_id(body)?;
            ctx.st.store.write(|db| {
                if db.get(super::SERVICE_PRINCIPALS, &owner)?.is_none() {
                    return Err(GraphError::not_found(&owner));
                }
                let mut current = db
                    .get(collection, &id)?
                    .ok_or_else(|| GraphError::not_found(&id))?;
                let mut ids = owner_ids(&current);
                if ids.contains(&owner) {
                    return Err(GraphError::bad_request(
                        "One or more added object references already exist for the following modified properties: 'owners'.",
                    ));
                }
                ids.push(owner.clone());
                current[OWNERS] = json!(ids);
                db.update(collection, &id, &current)?;
                Ok(())
            })?;
            Ok(no_content())
        }
        ([owner, r], &Method::DELETE) if r.name == "$ref" => {
            let owner = owner.name.to_ascii_lowercase();
            ctx.st.store.write(|db| {
                let mut current = db
                    .get(collection, &id)?
                    .ok_or_else(|| GraphError::not_found(&id))?;
                let mut ids = owner_ids(&current);
                let before = ids.len();
                ids.retain(|o| *o != owner);
                if ids.len() == before {
                    return Err(GraphError::not_found(&owner));
                }
                current[OWNERS] = json!(ids);
                db.update(collection, &id, &current)?;
                Ok(())
            })?;
            Ok(no_content())
        }
        _ => Err(GraphError::method_not_allowed()),
    }
}
