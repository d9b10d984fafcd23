//! One generic router for every Graph entity set: a set is described once (name, type,
//! keys, query rules, create/update/delete hooks, actions, navigations) and this module
//! does the OData plumbing they share — list, `/$count`, get by id or alternate key,
//! create (201 with `Location`), update, upsert by alternate key, delete, and the
//! dispatch to actions and navigation properties.

use super::query::{self, Rules};
use super::schema::Obj;
use super::{body_object, entity_response, no_content, public_view, str_of, Ctx, Key, Seg, Target};
use crate::errors::{GraphError, GraphResult};
use crate::store::{Db, Row};
use axum::body::Bytes;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value};

/// An alternate key (`applications(appId='…')`).
#[derive(Debug, Clone, Copy)]
pub struct AltKey {
    pub name: &'static str,
    /// Values must be GUIDs; anything else is an invalid object identifier.
    pub guid: bool,
    /// `PATCH /{set}({name}='…')` with `Prefer: create-if-missing` creates the object.
    pub upsert: bool,
}

/// Validate and insert a new object (inside the write transaction); returns it.
pub type CreateFn = fn(&Ctx<'_>, &Db<'_>, Map<String, Value>) -> GraphResult<Value>;
/// Validate and apply a PATCH body to the current object.
pub type UpdateFn = fn(&Ctx<'_>, &Db<'_>, &Value, Map<String, Value>) -> GraphResult<()>;
/// Delete an object and whatever goes with it.
pub type DeleteFn = fn(&Db<'_>, &Value) -> GraphResult<()>;
/// A bound action (`POST /{set}/{key}/{action}`).
pub type ActionFn = fn(&Ctx<'_>, &Key, &Bytes) -> GraphResult<Response>;
/// Requests under `/{set}/{key}/{navigation}/…`, given the addressed object.
pub type NavigateFn = fn(&Ctx<'_>, &Method, &Value, &[Seg], &Bytes) -> GraphResult<Response>;
/// The documents of a set that is not a store collection (e.g. `organization`).
pub type RowsFn = fn(&Ctx<'_>) -> GraphResult<Vec<Row>>;

pub struct EntitySet {
    /// The URL segment, the store collection and the `@odata.context` name.
    pub name: &'static str,
    pub schema: &'static Obj,
    /// Object ids are GUIDs (directory objects); grants use opaque strings.
    pub id_is_guid: bool,
    pub alt_keys: &'static [AltKey],
    pub rules: Rules,
    /// Whether `/{set}/$count` exists.
    pub count_segment: bool,
    /// `None`: the documents are the store collection `name`.
    pub rows: Option<RowsFn>,
    pub create: Option<CreateFn>,
    pub update: Option<UpdateFn>,
    pub delete: Option<DeleteFn>,
    pub actions: &'static [(&'static str, ActionFn)],
    pub navigate: Option<NavigateFn>,
}

fn rows(ctx: &Ctx<'_>, set: &EntitySet) -> GraphResult<Vec<Row>> {
    match set.rows {
        Some(f) => f(ctx),
        None => query::all_rows(ctx, set.name),
    }
}

/// Refuse a key that cannot name an object of this set: an alternate key the set does
/// not have, or a malformed GUID. Graph answers those with 400, not 404.
fn check_key(set: &EntitySet, key: &Key) -> GraphResult<()> {
    let invalid = |v: &str| GraphError::bad_request(format!("Invalid object identifier '{v}'."));
    match key {
        Key::Id(id) if set.id_is_guid && !crate::util::is_guid(id) => Err(invalid(id)),
        Key::Id(_) => Ok(()),
        Key::Alt(prop, value) => match set.alt_keys.iter().find(|k| k.name == prop) {
            None => Err(GraphError::odata(format!(
                "The key property '{prop}' is not an alternate key of '{}'.",
                set.name
            ))),
            Some(k) if k.guid && !crate::util::is_guid(value) => Err(invalid(value)),
            Some(_) => Ok(()),
        },
    }
}

/// The object `key` names, if any.
pub fn find(ctx: &Ctx<'_>, set: &EntitySet, db: &Db<'_>, key: &Key) -> GraphResult<Option<Value>> {
    if set.rows.is_some() {
        let all = rows(ctx, set)?;
        return Ok(all.into_iter().map(|r| r.doc).find(|d| key_matches(d, key)));
    }
    match key {
        // Object ids are GUIDs stored lower-case; grant ids are case-sensitive.
        Key::Id(id) => match db.get(set.name, id)? {
            Some(doc) => Ok(Some(doc)),
            None => Ok(db.get(set.name, &id.to_ascii_lowercase())?),
        },
        Key::Alt(..) => Ok(db.docs(set.name)?.into_iter().find(|d| key_matches(d, key))),
    }
}

fn key_matches(doc: &Value, key: &Key) -> bool {
    let (prop, value) = match key {
        Key::Id(id) => ("id", id.as_str()),
        Key::Alt(p, v) => (p.as_str(), v.as_str()),
    };
    doc.get(prop)
        .and_then(Value::as_str)
        .is_some_and(|v| v.eq_ignore_ascii_case(value))
}

fn find_required(ctx: &Ctx<'_>, set: &EntitySet, db: &Db<'_>, key: &Key) -> GraphResult<Value> {
    find(ctx, set, db, key)?.ok_or_else(|| GraphError::not_found(&key.display()))
}

pub fn route(
    set: &EntitySet,
    ctx: &Ctx<'_>,
    method: &Method,
    t: Target,
    body: &Bytes,
) -> GraphResult<Response> {
    if t.count {
        if !set.count_segment {
            return Err(GraphError::no_route("$count"));
        }
        return match *method {
            Method::GET => query::count_response(ctx, rows(ctx, set)?, set.schema, &set.rules),
            _ => Err(GraphError::method_not_allowed()),
        };
    }
    let Some(key) = t.key else {
        return match (method, set.create) {
            (&Method::GET, _) => query::list_response(
                ctx,
                set.name,
                rows(ctx, set)?,
                set.schema,
                &set.rules,
                public_view,
            ),
            (&Method::POST, Some(create)) => {
                let given = set.schema.normalize(&body_object(body)?, false)?;
                let doc = ctx.st.store.write(|db| create(ctx, db, given))?;
                created_response(ctx, set.name, set.name, &doc, set.schema)
            }
            _ => Err(GraphError::method_not_allowed()),
        };
    };
    check_key(set, &key)?;
    match (t.rest.as_slice(), method) {
        ([], &Method::GET) => {
            let doc = ctx.st.store.read(|db| find_required(ctx, set, db, &key))?;
            entity_with_expand(ctx, set, &doc)
        }
        ([], &Method::PATCH) if set.update.is_some() => patch(set, ctx, &key, body),
        ([], &Method::DELETE) if set.delete.is_some() => {
            ctx.st.store.write(|db| {
                let doc = find_required(ctx, set, db, &key)?;
                match set.delete {
                    Some(delete) => delete(db, &doc),
                    None => Err(GraphError::method_not_allowed()),
                }
            })?;
            Ok(no_content())
        }
        ([], _) => Err(GraphError::method_not_allowed()),
        ([seg], m) if set.actions.iter().any(|(name, _)| seg.is(name)) => {
            match set.actions.iter().find(|(name, _)| seg.is(name)) {
                Some((_, run)) if *m == Method::POST => run(ctx, &key, body),
                _ => Err(GraphError::method_not_allowed()),
            }
        }
        (rest @ [seg, ..], m) => match set.navigate {
            Some(nav) => {
                let doc = ctx.st.store.read(|db| find_required(ctx, set, db, &key))?;
                nav(ctx, m, &doc, rest, body)
            }
            None => Err(GraphError::no_route(&seg.name)),
        },
    }
}

/// A single entity with `$select` and `$expand` applied.
fn entity_with_expand(ctx: &Ctx<'_>, set: &EntitySet, doc: &Value) -> GraphResult<Response> {
    let mut shown = public_view(doc);
    if let Some(raw) = ctx.query.get("$expand") {
        for nav in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if !set.rules.expand.iter().any(|e| e.eq_ignore_ascii_case(nav)) {
                return Err(GraphError::odata(format!(
                    "Could not find a property named '{nav}' on type '{}'.",
                    set.schema.name
                )));
            }
            let expanded = super::expand::navigation(ctx, doc, nav)?;
            if let Some(m) = shown.as_object_mut() {
                m.insert(nav.to_string(), expanded);
            }
        }
    }
    entity_response(ctx, StatusCode::OK, set.name, &shown, set.schema)
}

/// `Prefer: create-if-missing` (one of possibly several comma-separated preferences).
fn create_if_missing(ctx: &Ctx<'_>) -> bool {
    ctx.headers.get_all("prefer").iter().any(|v| {
        v.to_str().is_ok_and(|s| {
            s.split(',')
                .any(|p| p.trim().eq_ignore_ascii_case("create-if-missing"))
        })
    })
}

/// PATCH: update the object; for an upsert key with `Prefer: create-if-missing`, create
/// it when missing. Lookup and write are one transaction, so two concurrent upserts
/// with the same key make one object.
/// Source: microsoftgraph/microsoft-graph-docs-contrib:api-reference/v1.0/api/application-upsert.md
/// (201 with the object when created, 204 when updated, 404 without the header).
fn patch(set: &EntitySet, ctx: &Ctx<'_>, key: &Key, body: &Bytes) -> GraphResult<Response> {
    let given = set.schema.normalize(&body_object(body)?, false)?;
    let upsert_key = match key {
        Key::Alt(prop, value)
            if set.alt_keys.iter().any(|k| k.name == prop && k.upsert)
                && create_if_missing(ctx) =>
        {
            Some((prop.clone(), value.clone()))
        }
        _ => None,
    };
    let created = ctx.st.store.write(|db| {
        if let Some(current) = find(ctx, set, db, key)? {
            if let Some(update) = set.update {
                update(ctx, db, &current, given)?;
            }
            return Ok(None);
        }
        let (Some((prop, value)), Some(create)) = (&upsert_key, set.create) else {
            return Err(GraphError::not_found(&key.display()));
        };
        let mut given = given;
        match given.get(prop.as_str()) {
            Some(Value::String(v)) if !v.eq_ignore_ascii_case(value) => {
                return Err(GraphError::bad_request(format!(
                    "The value of property '{prop}' in the request body does not match the key in the request URL."
                )))
            }
            _ => {
                given.insert(prop.clone(), Value::String(value.clone()));
            }
        }
        create(ctx, db, given).map(Some)
    })?;
    match created {
        Some(doc) => created_response(ctx, set.name, set.name, &doc, set.schema),
        None => Ok(no_content()),
    }
}

/// `201 Created` with the new entity and a `Location` header naming it.
/// Source: OData Version 4.01 Part 1: Protocol, 11.4.2 Create an Entity ("Upon successful
/// completion, the response MUST contain a Location header that contains the edit URL or
/// read URL of the created entity").
/// `context_set` names the set in `@odata.context`; `collection_path` is the URL path of
/// the collection the object was created in.
pub fn created_response(
    ctx: &Ctx<'_>,
    context_set: &str,
    collection_path: &str,
    doc: &Value,
    obj: &Obj,
) -> GraphResult<Response> {
    let mut resp = entity_response(ctx, StatusCode::CREATED, context_set, doc, obj)?;
    let location = format!(
        "{}{}/{collection_path}/{}",
        ctx.base,
        ctx.version,
        str_of(doc, "id")
    );
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(axum::http::header::LOCATION, v);
    }
    Ok(resp)
}
