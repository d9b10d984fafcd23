//! Stored instances: what a client sees of one (secrets as `null`, internal fields
//! gone, `@odata.etag`), lookups by key, server-assigned keys, the natural-key check and
//! the sealing of write-only properties.

use super::classes::{key_equals, KeyKind, WmiClass};
use super::{secrets, AdminError};
use crate::store::{Db, StoreError};
use axum::http::StatusCode;
use serde_json::{json, Map, Value};

/// Internal fields (never shown): the write counter and the sealed secrets.
const ETAG: &str = "_etag";
const SEALED: &str = "_sealed";

pub fn store_error(e: StoreError) -> AdminError {
    tracing::error!(error = %e.0, "emulator state");
    AdminError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "The emulator could not access its state.",
    )
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        store_error(e)
    }
}

/// What a client sees: internal fields removed, secret properties `null`, and
/// `@odata.etag` (`W/"n"`, n counting writes).
pub fn view(class: &WmiClass, doc: &Value) -> Value {
    let mut out = Map::new();
    out.insert("@odata.etag".into(), json!(etag(doc)));
    if let Some(m) = doc.as_object() {
        for (k, v) in m.iter().filter(|(k, _)| !k.starts_with('_')) {
            out.insert(k.clone(), v.clone());
        }
    }
    for p in class.secrets() {
        out.insert(p.name.into(), Value::Null);
    }
    Value::Object(out)
}

/// A stored row with the values the site computes filled in (the class's read hook);
/// `None` when the row is gone though not yet dropped.
pub fn live(
    st: &crate::app::AppState,
    db: &Db<'_>,
    class: &WmiClass,
    mut doc: Value,
) -> Result<Option<Value>, AdminError> {
    match class.on_read {
        Some(hook) => Ok(hook(st, db, &mut doc)?.then_some(doc)),
        None => Ok(Some(doc)),
    }
}

/// [`find`], as a reader sees it: computed values filled in, a gone row absent.
pub fn find_live(
    st: &crate::app::AppState,
    db: &Db<'_>,
    class: &WmiClass,
    key: &str,
) -> Result<Option<Value>, AdminError> {
    match find(db, class, key)? {
        Some(doc) => live(st, db, class, doc),
        None => Ok(None),
    }
}

/// The weak etag of a stored row.
pub fn etag(doc: &Value) -> String {
    format!("W/\"{}\"", doc[ETAG].as_i64().unwrap_or(1))
}

/// Count one more write.
pub fn bump(row: &mut Map<String, Value>) {
    let n = row.get(ETAG).and_then(Value::as_i64).unwrap_or(0);
    row.insert(ETAG.into(), json!(n + 1));
}

/// The store id of a row: its key as text.
pub fn id_of(class: &WmiClass, doc: &Value) -> String {
    match &doc[class.key] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The instance `key` names, with its store id.
pub fn find(db: &Db<'_>, class: &WmiClass, key: &str) -> Result<Option<Value>, StoreError> {
    Ok(db
        .docs(&class.collection())?
        .into_iter()
        .find(|d| key_equals(&d[class.key], key)))
}

pub fn not_found(class: &WmiClass, key: &str) -> AdminError {
    AdminError::new(
        StatusCode::NOT_FOUND,
        format!("No instance of {} with key '{key}' was found.", class.name),
    )
}

/// The next server-assigned key: a counter per class that never hands out a key twice,
/// even after a delete (like an identity column).
pub fn next_key(db: &Db<'_>, class: &WmiClass) -> Result<Value, StoreError> {
    let site = super::site::SITE_CODE;
    // The number in a stored key: the integer, or the counter after the site code.
    let number = |v: &Value| match v {
        Value::String(s) => s.strip_prefix(site).and_then(|n| n.parse::<i64>().ok()),
        other => other.as_i64(),
    };
    let first = match class.key_kind {
        KeyKind::Assigned { first } | KeyKind::SiteNumbered { first } => first,
        KeyKind::Given => return Ok(Value::Null),
    };
    let meta = format!("wmi_next:{}", class.name);
    let stored: Option<i64> = db.meta(&meta)?.and_then(|v| v.parse().ok());
    let highest = db
        .docs(&class.collection())?
        .iter()
        .filter_map(|d| number(&d[class.key]))
        .max()
        .map_or(first, |m| m + 1);
    let next = stored.unwrap_or(first).max(highest).max(first);
    db.set_meta(&meta, &(next + 1).to_string())?;
    Ok(match class.key_kind {
        KeyKind::SiteNumbered { .. } => json!(format!("{site}{next:05}")),
        _ => json!(next),
    })
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
        _ => a == b,
    }
}

/// Refuse a row whose natural key another row already has: 409, as a unique constraint
/// in the site database would (the reply's text is UNCONFIRMED).
pub fn check_unique(db: &Db<'_>, class: &WmiClass, row: &Value) -> Result<(), AdminError> {
    if class.natural_key.is_empty() {
        return Ok(());
    }
    let me = id_of(class, row);
    let twin = db.docs(&class.collection())?.into_iter().find(|d| {
        id_of(class, d) != me && class.natural_key.iter().all(|k| same(&d[*k], &row[*k]))
    });
    match twin {
        None => Ok(()),
        Some(_) => {
            let prop = class.natural_key.join(", ");
            let value = class
                .natural_key
                .iter()
                .map(|k| match &row[*k] {
                    Value::String(s) => s.clone(),
                    v => v.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", ");
            Err(AdminError::new(
                StatusCode::CONFLICT,
                format!(
                    "An instance of {} with {prop} '{value}' already exists.",
                    class.name
                ),
            ))
        }
    }
}

/// Move the secret properties a write names out of the row into its sealed store:
/// a string is sealed, `null` forgets the stored value. The row keeps `null`.
pub fn seal_secrets(
    db: &Db<'_>,
    class: &WmiClass,
    row: &mut Map<String, Value>,
    given: &Map<String, Value>,
) -> Result<(), StoreError> {
    for p in class.secrets() {
        let Some(v) = given.get(p.name) else {
            row.insert(p.name.into(), Value::Null);
            continue;
        };
        let sealed = row
            .entry(SEALED)
            .or_insert_with(|| Value::Object(Map::new()));
        if !sealed.is_object() {
            *sealed = Value::Object(Map::new());
        }
        let blob = match v.as_str() {
            Some(s) => Some(secrets::seal(db, s)?),
            None => None,
        };
        if let Some(m) = sealed.as_object_mut() {
            match blob {
                Some(b) => m.insert(p.name.into(), Value::String(b)),
                None => m.remove(p.name),
            };
        }
        row.insert(p.name.into(), Value::Null);
    }
    Ok(())
}

/// A secret property's plaintext, for the site's own use.
pub fn secret(db: &Db<'_>, doc: &Value, name: &str) -> Result<Option<String>, StoreError> {
    match doc[SEALED][name].as_str() {
        Some(blob) => secrets::open(db, blob).map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adminservice::aad::SMS_AAD_APPLICATION_EX as APP;
    use crate::store::Store;

    #[test]
    fn secrets_are_sealed_and_never_shown() {
        let s = Store::open_memory().unwrap();
        let (row, plain) = s
            .write(|db| {
                let mut row = Map::new();
                row.insert("ID".into(), json!(1));
                let given: Map<String, Value> =
                    serde_json::from_value(json!({"SecretKey": "hunter2"})).unwrap();
                seal_secrets(db, &APP, &mut row, &given)?;
                bump(&mut row);
                let row = Value::Object(row);
                let plain = secret(db, &row, "SecretKey")?;
                Ok::<_, StoreError>((row, plain))
            })
            .unwrap();
        assert_eq!(plain.as_deref(), Some("hunter2"));
        assert!(!row.to_string().contains("hunter2"));
        let shown = view(&APP, &row);
        assert_eq!(shown["SecretKey"], Value::Null);
        assert_eq!(shown["@odata.etag"], "W/\"1\"");
        assert!(shown.get(SEALED).is_none());
    }

    #[test]
    fn assigned_keys_count_up_and_are_never_reused() {
        let s = Store::open_memory().unwrap();
        let keys = s
            .write(|db| {
                let a = next_key(db, &APP)?;
                db.insert(&APP.collection(), &a.to_string(), &json!({"ID": a}))?;
                let b = next_key(db, &APP)?;
                db.delete(&APP.collection(), &a.to_string())?;
                let c = next_key(db, &APP)?;
                Ok::<_, StoreError>((a, b, c))
            })
            .unwrap();
        let (a, b, c) = keys;
        assert_eq!(b.as_i64(), a.as_i64().map(|n| n + 1));
        assert_eq!(c.as_i64(), a.as_i64().map(|n| n + 2));
    }
}
