//! Comparing what a resource wants with what the service holds.
//!
//! Only the fields the desired body sets are compared, so properties the service adds
//! (ids, timestamps, defaults) never show as drift. Arrays of objects are matched by
//! their natural key (`requiredResourceAccess` by `resourceAppId`, AdminService `Props`
//! by `PropertyName`), so one added entry shows as one change with a real `before`,
//! not as a whole list replaced.

use super::known::Known;
use serde::Serialize;
use serde_json::{Map, Value};

/// The natural key of arrays of objects, by the array property's name.
pub type ArrayKeys = &'static [(&'static str, &'static str)];

/// The keys every surface uses; resources may pass their own.
pub const DEFAULT_ARRAY_KEYS: ArrayKeys = &[
    // Graph application and service-principal properties.
    // One entry per resource; its `resourceAccess` list compares whole, so a change
    // shows the permissions the app asked for before next to the new list.
    ("requiredResourceAccess", "resourceAppId"),
    ("oauth2PermissionScopes", "value"),
    ("appRoles", "value"),
    ("passwordCredentials", "keyId"),
    // ConfigMgr embedded properties (SMS_SCI_*): one entry per property name.
    ("Props", "PropertyName"),
    ("PropLists", "PropertyListName"),
];

/// One field's before and after. `before` is `None` when the field (or the object) does
/// not exist yet; `after` is unknown for values the service assigns at apply.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    pub path: String,
    pub before: Option<Value>,
    pub after: Known<Value>,
}

impl FieldChange {
    pub fn new(path: impl Into<String>, before: Option<Value>, after: Value) -> Self {
        FieldChange {
            path: path.into(),
            before,
            after: Known::Value(after),
        }
    }
    pub fn unknown(path: impl Into<String>, before: Option<Value>) -> Self {
        FieldChange {
            path: path.into(),
            before,
            after: Known::AfterApply,
        }
    }
    /// The top-level property this field belongs to (`web` for `web.homePageUrl`,
    /// `requiredResourceAccess` for `requiredResourceAccess[…].resourceAccess`).
    pub fn top(&self) -> &str {
        let end = self.path.find(['.', '[']).unwrap_or(self.path.len());
        &self.path[..end]
    }
}

impl Serialize for FieldChange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("path", &self.path)?;
        m.serialize_entry("before", &self.before)?;
        m.serialize_entry("after", &self.after)?;
        if !self.after.is_known() {
            m.serialize_entry("after_unknown", &true)?;
        }
        m.end()
    }
}

/// The fields of a create: every leaf the body sets (objects flattened to dotted
/// paths, arrays whole), each with no `before`. A plan lists exactly what is sent.
pub fn create_fields(desired: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    flatten("", desired, &mut out);
    out
}

fn flatten(path: &str, v: &Value, out: &mut Vec<FieldChange>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, inner) in m {
                flatten(&join(path, k), inner, out);
            }
        }
        _ if path.is_empty() => {}
        _ => out.push(FieldChange::new(path, None, v.clone())),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Compare `desired` against `observed`, looking only at what `desired` sets.
/// Objects recurse (paths are dotted); arrays of scalars compare as sets; arrays of
/// objects with a key in `keys` compare entry by entry (`name[key]`); anything else
/// compares by value. Returns the fields that differ.
pub fn diff(desired: &Value, observed: &Value, keys: ArrayKeys) -> Vec<FieldChange> {
    let mut out = Vec::new();
    diff_at("", "", desired, observed, keys, &mut out);
    out
}

fn diff_at(
    path: &str,
    name: &str,
    desired: &Value,
    observed: &Value,
    keys: ArrayKeys,
    out: &mut Vec<FieldChange>,
) {
    match (desired, observed) {
        (Value::Object(d), Value::Object(o)) => {
            for (k, dv) in d {
                let p = join(path, k);
                match o.get(k) {
                    Some(ov) => diff_at(&p, k, dv, ov, keys, out),
                    None if dv.is_null() => {}
                    None => out.push(FieldChange::new(p, None, dv.clone())),
                }
            }
        }
        (Value::Array(d), Value::Array(o)) if is_scalar_array(d) && is_scalar_array(o) => {
            let same = d.len() == o.len() && d.iter().all(|x| o.contains(x));
            if !same {
                out.push(FieldChange::new(
                    path,
                    Some(observed.clone()),
                    desired.clone(),
                ));
            }
        }
        (Value::Array(d), Value::Array(o)) => match key_of(name, keys) {
            Some(key) if keyed(d, key) && keyed(o, key) => diff_keyed(path, key, d, o, keys, out),
            _ if desired == observed => {}
            _ => out.push(FieldChange::new(
                path,
                Some(observed.clone()),
                desired.clone(),
            )),
        },
        _ if desired == observed => {}
        _ => out.push(FieldChange::new(
            path,
            Some(observed.clone()),
            desired.clone(),
        )),
    }
}

fn key_of(name: &str, keys: ArrayKeys) -> Option<&'static str> {
    keys.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

/// Every entry is an object carrying a scalar `key`.
fn keyed(a: &[Value], key: &str) -> bool {
    a.iter()
        .all(|e| e.get(key).is_some_and(|k| !k.is_object() && !k.is_array()))
}

fn key_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn diff_keyed(
    path: &str,
    key: &str,
    desired: &[Value],
    observed: &[Value],
    keys: ArrayKeys,
    out: &mut Vec<FieldChange>,
) {
    for d in desired {
        let k = &d[key];
        let p = format!("{path}[{}]", key_text(k));
        match observed.iter().find(|o| &o[key] == k) {
            Some(o) => {
                // The entry's own fields, compared like an object; its array members
                // are keyed by their own names.
                if let (Value::Object(dm), Value::Object(om)) = (d, o) {
                    for (field, dv) in dm {
                        let fp = format!("{p}.{field}");
                        match om.get(field) {
                            Some(ov) => diff_at(&fp, field, dv, ov, keys, out),
                            None if dv.is_null() => {}
                            None => out.push(FieldChange::new(fp, None, dv.clone())),
                        }
                    }
                }
            }
            None => out.push(FieldChange::new(p, None, d.clone())),
        }
    }
    for o in observed {
        if !desired.iter().any(|d| d[key] == o[key]) {
            out.push(FieldChange::new(
                format!("{path}[{}]", key_text(&o[key])),
                Some(o.clone()),
                Value::Null,
            ));
        }
    }
}

fn is_scalar_array(a: &[Value]) -> bool {
    a.iter().all(|v| !v.is_object() && !v.is_array())
}

/// The body of an update: each top-level property with a change, as desired. Services
/// such as Graph replace a complex property whole, so the desired value of one must
/// already carry what it keeps (see [`merge`]).
pub fn patch_body(desired: &Value, fields: &[FieldChange]) -> Value {
    let mut body = Map::new();
    for f in fields {
        let top = f.top();
        if let Some(v) = desired.get(top) {
            body.insert(top.to_string(), v.clone());
        }
    }
    Value::Object(body)
}

/// Overlay `desired` on `observed`: objects merge key by key, everything else is replaced.
/// Builds desired values of complex properties that keep what the object already has.
pub fn merge(observed: &Value, desired: &Value) -> Value {
    match (observed, desired) {
        (Value::Object(o), Value::Object(d)) => {
            let mut m = o.clone();
            for (k, dv) in d {
                let merged = match o.get(k) {
                    Some(ov) => merge(ov, dv),
                    None => dv.clone(),
                };
                m.insert(k.clone(), merged);
            }
            Value::Object(m)
        }
        _ => desired.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(desired: Value, observed: Value) -> Vec<FieldChange> {
        diff(&desired, &observed, DEFAULT_ARRAY_KEYS)
    }

    #[test]
    fn diff_only_looks_at_desired_fields() {
        let desired = json!({"displayName": "A", "web": {"homePageUrl": "https://x"}});
        let observed = json!({"displayName": "A", "id": "1", "web": {"homePageUrl": "https://y", "logoutUrl": null}});
        let f = d(desired, observed);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].path, "web.homePageUrl");
        assert_eq!(f[0].before, Some(json!("https://y")));
        assert_eq!(f[0].after, Known::Value(json!("https://x")));
        assert_eq!(f[0].top(), "web");
    }

    #[test]
    fn scalar_arrays_compare_as_sets() {
        assert!(d(json!({"u": ["a", "b"]}), json!({"u": ["b", "a"]})).is_empty());
        assert_eq!(d(json!({"u": ["a", "b"]}), json!({"u": ["a"]})).len(), 1);
    }

    #[test]
    fn keyed_arrays_show_the_entry_that_changed_with_its_real_before() {
        let observed = json!({"requiredResourceAccess": [
            {"resourceAppId": "graph", "resourceAccess": [{"id": "r1", "type": "Role"}]},
            {"resourceAppId": "other", "resourceAccess": [{"id": "s9", "type": "Scope"}]},
        ]});
        let desired = json!({"requiredResourceAccess": [
            {"resourceAppId": "graph", "resourceAccess": [{"id": "r1", "type": "Role"}, {"id": "s1", "type": "Scope"}]},
            {"resourceAppId": "other", "resourceAccess": [{"id": "s9", "type": "Scope"}]},
            {"resourceAppId": "server", "resourceAccess": [{"id": "u1", "type": "Scope"}]},
        ]});
        let f = d(desired, observed);
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[0].path, "requiredResourceAccess[graph].resourceAccess");
        assert_eq!(f[0].before, Some(json!([{"id": "r1", "type": "Role"}])));
        assert_eq!(f[1].path, "requiredResourceAccess[server]");
        assert_eq!(f[1].top(), "requiredResourceAccess");
    }

    #[test]
    fn keyed_entries_recurse_and_removals_show() {
        let observed = json!({"Props": [
            {"PropertyName": "A", "Value": 1, "Value1": "x"},
            {"PropertyName": "B", "Value": 0},
        ]});
        let desired = json!({"Props": [{"PropertyName": "A", "Value": 2}]});
        let f = d(desired, observed);
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[0].path, "Props[A].Value");
        assert_eq!(f[0].before, Some(json!(1)));
        assert_eq!(f[1].path, "Props[B]");
        assert_eq!(f[1].after, Known::Value(Value::Null));
    }

    #[test]
    fn unkeyed_object_arrays_show_the_whole_old_value() {
        let f = d(json!({"x": [{"a": 1}]}), json!({"x": [{"a": 2}]}));
        assert_eq!(f[0].before, Some(json!([{"a": 2}])));
    }

    #[test]
    fn create_fields_flatten_every_leaf() {
        let f =
            create_fields(&json!({"a": 1, "web": {"u": ["x"], "i": {"e": true}}, "l": [{"k": 1}]}));
        let paths: Vec<&str> = f.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["a", "l", "web.i.e", "web.u"]);
        assert!(f.iter().all(|f| f.before.is_none()));
    }

    #[test]
    fn patch_body_sends_whole_top_level_properties() {
        let desired =
            json!({"displayName": "A", "web": {"homePageUrl": "b", "redirectUris": ["x"]}});
        let f = d(
            desired.clone(),
            json!({"displayName": "A", "web": {"homePageUrl": "a", "redirectUris": ["x"]}}),
        );
        assert_eq!(
            patch_body(&desired, &f),
            json!({"web": {"homePageUrl": "b", "redirectUris": ["x"]}})
        );
    }

    #[test]
    fn merge_overlays_objects() {
        let m = merge(
            &json!({"web": {"homePageUrl": "a", "redirectUris": ["x"]}}),
            &json!({"web": {"homePageUrl": "b"}}),
        );
        assert_eq!(
            m,
            json!({"web": {"homePageUrl": "b", "redirectUris": ["x"]}})
        );
    }

    #[test]
    fn field_changes_serialise_unknowns_as_a_flag() {
        let v = serde_json::to_value(FieldChange::unknown("appId", None)).unwrap();
        assert_eq!(
            v,
            json!({"path": "appId", "before": null, "after": null, "after_unknown": true})
        );
    }
}
