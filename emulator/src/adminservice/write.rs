//! Writes on the `wmi/` route: `POST {Class}` creates (201 with the new row, its
//! server-assigned key filled in), `PATCH {Class}({key})` updates (200 with the whole
//! row, `If-Match` honoured), `DELETE {Class}({key})` (204), and `POST …/AdminService.{Method}`
//! calls a method (201 with its out-parameters and `ReturnValue`).
//! Sources: api-surface.md §0.2 (201 for creates and method calls, 204 for deletes, the
//! new key at top level — MicrosoftDocs/memdocs adminservice/usage.md and the public
//! scripts surveyed there). The update verb of the `wmi/` route is UNCONFIRMED (WMI's
//! own is PutInstance); PATCH with the whole row answered is this emulator's choice, as
//! is 412 for a stale `If-Match`.
//! Request bodies are never logged: secret properties arrive in them.

use super::classes::{type_ok, Access, WmiClass};
use super::wmi::{parse_target, rest_of, Target};
use super::{rows, AdminError};
use crate::app::Shared;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

fn answer(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn bad(message: impl Into<String>) -> AdminError {
    AdminError::new(StatusCode::BAD_REQUEST, message)
}

/// The body as a JSON object (an empty body is an empty object, as method calls with
/// no parameters send, e.g. `…/AdminService.RequestRefresh`).
fn body_object(body: &Bytes) -> Result<Map<String, Value>, AdminError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(bad("The request body is not a JSON object.")),
    }
}

/// Check the properties a create or update names: each must exist, be writable and
/// have its type. Answers them under their documented spelling. `@odata.*` annotations
/// are ignored. The messages are UNCONFIRMED (OData's wording).
pub fn checked(
    class: &WmiClass,
    given: Map<String, Value>,
) -> Result<Map<String, Value>, AdminError> {
    let mut out = Map::new();
    for (k, v) in given {
        if k.starts_with("@odata.") {
            continue;
        }
        let p = class.prop(&k).ok_or_else(|| {
            bad(format!(
                "The property '{k}' does not exist on type '{}'. Make sure to only use property names that are defined by the type.",
                class.name
            ))
        })?;
        if matches!(p.access, Access::ReadOnly | Access::Lazy) {
            return Err(bad(format!(
                "The property '{}' of type '{}' is read-only and cannot be set.",
                p.name, class.name
            )));
        }
        if !type_ok(p.ty, &v) {
            return Err(bad(format!(
                "The value of property '{}' is not valid for its type ({:?}).",
                p.name, p.ty
            )));
        }
        out.insert(p.name.to_string(), v);
    }
    Ok(out)
}

fn writable(class: &WmiClass) -> Result<(), AdminError> {
    if class.writable {
        Ok(())
    } else {
        Err(AdminError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!(
                "Instances of {} are maintained by the site and cannot be written.",
                class.name
            ),
        ))
    }
}

/// The row a PATCH or DELETE (`verb`) addresses: a key and no method, in a class the
/// AdminService writes.
fn row_to_write<'a>(t: &'a Target, verb: &str) -> Result<&'a String, AdminError> {
    let (Some(key), None) = (&t.key, &t.method) else {
        return Err(AdminError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("The requested resource does not support http method '{verb}'."),
        ));
    };
    writable(t.class)?;
    Ok(key)
}

pub async fn post(State(st): State<Shared>, uri: Uri, body: Bytes) -> Response {
    let done = parse_target(rest_of(&uri)).and_then(|t| {
        let given = body_object(&body)?;
        match (&t.method, &t.key) {
            (Some(_), _) => call(&st, &t, given),
            (None, None) => create(&st, t.class, given),
            (None, Some(_)) => Err(AdminError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "The requested resource does not support http method 'POST'.",
            )),
        }
    });
    done.unwrap_or_else(|e| e.render())
}

fn create(
    st: &Shared,
    class: &'static WmiClass,
    given: Map<String, Value>,
) -> Result<Response, AdminError> {
    writable(class)?;
    let given = checked(class, given)?;
    let row = st.store.write(|db| {
        let mut row: Map<String, Value> = class
            .props
            .iter()
            .map(|p| (p.name.to_string(), Value::Null))
            .collect();
        for (k, v) in &given {
            row.insert(k.clone(), v.clone());
        }
        let key = rows::next_key(db, class)?;
        if !key.is_null() {
            row.insert(class.key.into(), key);
        }
        if let Some(hook) = class.on_create {
            hook(st, db, &mut row, &given)?;
        }
        if row[class.key].is_null() {
            return Err(bad(format!(
                "The key property '{}' is required.",
                class.key
            )));
        }
        rows::seal_secrets(db, class, &mut row, &given)?;
        rows::bump(&mut row);
        let row = Value::Object(row);
        rows::check_unique(db, class, &row)?;
        let id = rows::id_of(class, &row);
        if rows::find(db, class, &id)?.is_some() {
            return Err(AdminError::new(
                StatusCode::CONFLICT,
                format!(
                    "An instance of {} with {} '{id}' already exists.",
                    class.name, class.key
                ),
            ));
        }
        db.insert(&class.collection(), &id, &row)?;
        Ok::<_, AdminError>(rows::live(st, db, class, row.clone())?.unwrap_or(row))
    })?;
    Ok(answer(StatusCode::CREATED, rows::view(class, &row)))
}

fn if_match_ok(headers: &HeaderMap, current: &Value) -> bool {
    let Some(v) = headers.get("if-match").and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let now = rows::etag(current);
    let strong = now.trim_start_matches("W/");
    v.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag == now || tag.trim_start_matches("W/") == strong)
}

pub async fn patch(
    State(st): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let done = parse_target(rest_of(&uri)).and_then(|t| {
        let key = row_to_write(&t, "PATCH")?;
        let changes = checked(t.class, body_object(&body)?)?;
        update(&st, t.class, key, &headers, changes)
    });
    done.unwrap_or_else(|e| e.render())
}

fn update(
    st: &Shared,
    class: &'static WmiClass,
    key: &str,
    headers: &HeaderMap,
    changes: Map<String, Value>,
) -> Result<Response, AdminError> {
    let row = st.store.write(|db| {
        let current = rows::find(db, class, key)?.ok_or_else(|| rows::not_found(class, key))?;
        // A row that is gone but not yet dropped (a deleted CMG) is not there to change.
        if rows::live(st, db, class, current.clone())?.is_none() {
            return Err(rows::not_found(class, key));
        }
        if !if_match_ok(headers, &current) {
            return Err(AdminError::new(
                StatusCode::PRECONDITION_FAILED,
                "The etag given in If-Match does not match the instance's current etag.",
            ));
        }
        let mut row = current.as_object().cloned().unwrap_or_default();
        for (k, v) in &changes {
            row.insert(k.clone(), v.clone());
        }
        if let Some(hook) = class.on_update {
            hook(st, db, &current, &mut row, &changes)?;
        }
        rows::seal_secrets(db, class, &mut row, &changes)?;
        rows::bump(&mut row);
        let row = Value::Object(row);
        rows::check_unique(db, class, &row)?;
        db.update(&class.collection(), &rows::id_of(class, &current), &row)?;
        Ok::<_, AdminError>(rows::live(st, db, class, row.clone())?.unwrap_or(row))
    })?;
    Ok(answer(StatusCode::OK, rows::view(class, &row)))
}

pub async fn delete(State(st): State<Shared>, uri: Uri) -> Response {
    let done = parse_target(rest_of(&uri)).and_then(|t| {
        let key = row_to_write(&t, "DELETE")?;
        let class = t.class;
        st.store.write(|db| {
            let current =
                rows::find_live(&st, db, class, key)?.ok_or_else(|| rows::not_found(class, key))?;
            let id = rows::id_of(class, &current);
            // The stored record, not the computed view, is what a kept row keeps.
            let stored = rows::find(db, class, key)?.unwrap_or(current);
            let kept = match class.on_delete {
                Some(hook) => hook(&st, db, &stored)?,
                None => None,
            };
            match kept {
                None => {
                    db.delete(&class.collection(), &id)?;
                }
                Some(row) => {
                    let mut row = row.as_object().cloned().unwrap_or_default();
                    rows::bump(&mut row);
                    db.update(&class.collection(), &id, &Value::Object(row))?;
                }
            }
            Ok::<_, AdminError>(())
        })?;
        Ok(StatusCode::NO_CONTENT.into_response())
    });
    done.unwrap_or_else(|e| e.render())
}

/// A method call: 201 with the out-parameters; a failing method says so in a non-zero
/// `ReturnValue` (WMI's way), not in the status.
fn call(st: &Shared, t: &Target, params: Map<String, Value>) -> Result<Response, AdminError> {
    let name = t.method.as_deref().unwrap_or_default();
    let m = t.class.method(name).ok_or_else(|| {
        AdminError::new(
            StatusCode::NOT_FOUND,
            format!("The class {} has no method named '{name}'.", t.class.name),
        )
    })?;
    let instance = match (&t.key, m.is_static) {
        (Some(_), true) | (None, false) => {
            return Err(bad(format!(
                "{}.{} is {} method.",
                t.class.name,
                m.name,
                if m.is_static {
                    "a static"
                } else {
                    "an instance"
                }
            )))
        }
        (None, true) => None,
        (Some(key), false) => Some(
            st.store
                .read(|db| rows::find_live(st, db, t.class, key))?
                .ok_or_else(|| rows::not_found(t.class, key))?,
        ),
    };
    let mut out = (m.run)(st, t.class, instance, params)?;
    if let Some(o) = out.as_object_mut() {
        o.entry("ReturnValue").or_insert(Value::from(0));
    }
    Ok(answer(StatusCode::CREATED, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adminservice::aad::SMS_AAD_APPLICATION_EX as APP;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn properties_are_checked() {
        let ok = checked(&APP, map(json!({"name": "x", "@odata.type": "t"}))).unwrap();
        assert_eq!(ok.get("Name"), Some(&json!("x")));
        assert!(checked(&APP, map(json!({"Nope": 1}))).is_err());
        assert!(checked(&APP, map(json!({"ID": 5}))).is_err());
        assert!(checked(&APP, map(json!({"IsClientApp": "yes"}))).is_err());
        assert!(checked(&APP, map(json!({"ClientID": "not-a-guid"}))).is_err());
    }

    #[test]
    fn if_match() {
        let row = json!({"_etag": 3});
        let mut h = HeaderMap::new();
        assert!(if_match_ok(&h, &row));
        h.insert("if-match", "W/\"3\"".parse().unwrap());
        assert!(if_match_ok(&h, &row));
        h.insert("if-match", "\"3\"".parse().unwrap());
        assert!(if_match_ok(&h, &row));
        h.insert("if-match", "W/\"2\"".parse().unwrap());
        assert!(!if_match_ok(&h, &row));
        h.insert("if-match", "*".parse().unwrap());
        assert!(if_match_ok(&h, &row));
    }
}
