//! The one write path: observe -> diff -> plan or apply -> journal.
//!
//! A module observes the object by its unique key, builds the desired state, and calls
//! [`Ctx::apply`] with a [`Change`] (what differs, field by field) and the future that
//! performs the write. In plan mode the future is dropped unrun and the change is only
//! reported; in apply mode it runs, and the result is journalled and reported.
//! Objects already right are reported with [`Ctx::unchanged`], so the summary counts them.

use crate::context::{Ctx, Mode};
use crate::error::Result;
use crate::journal::{now_rfc3339, JournalEntry};
use serde::Serialize;
use serde_json::Value;
use std::future::Future;

/// Shown for values a plan cannot know (ids the service assigns, secrets made at apply).
pub const KNOWN_AFTER_APPLY: &str = "(known after apply)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Delete,
    /// A one-off action such as adding a secret or granting consent.
    Invoke,
    Unchanged,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Invoke => "invoke",
            Action::Unchanged => "unchanged",
        }
    }
}

/// One field's before and after. `before` is `None` for a create.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub path: String,
    pub before: Option<Value>,
    pub after: Value,
}

/// What a module wants to change.
#[derive(Debug, Clone)]
pub struct Change {
    pub module: &'static str,
    /// What kind of object, e.g. "application", "service principal", "private key".
    pub object: &'static str,
    pub action: Action,
    /// The object's unique key, e.g. the identifierUri or a file path.
    pub key: String,
    pub fields: Vec<FieldChange>,
}

impl Change {
    pub fn create(module: &'static str, object: &'static str, key: impl Into<String>) -> Self {
        Change {
            module,
            object,
            action: Action::Create,
            key: key.into(),
            fields: Vec::new(),
        }
    }
    pub fn update(module: &'static str, object: &'static str, key: impl Into<String>) -> Self {
        Change {
            action: Action::Update,
            ..Self::create(module, object, key)
        }
    }
    pub fn invoke(module: &'static str, object: &'static str, key: impl Into<String>) -> Self {
        Change {
            action: Action::Invoke,
            ..Self::create(module, object, key)
        }
    }
    pub fn field(mut self, path: impl Into<String>, before: Option<Value>, after: Value) -> Self {
        self.fields.push(FieldChange {
            path: path.into(),
            before,
            after,
        });
        self
    }
    pub fn with_fields(mut self, fields: Vec<FieldChange>) -> Self {
        self.fields.extend(fields);
        self
    }
}

/// The result of a write, as the module's future returns it.
pub struct Applied<T> {
    pub value: T,
    /// The object's id as the service assigned it.
    pub id: Option<String>,
    /// The service's request id, for support cases.
    pub request_id: Option<String>,
    /// Values the plan showed as `(known after apply)`, now known: (field path, value).
    pub resolved: Vec<(String, Value)>,
}

impl<T> Applied<T> {
    pub fn new(value: T) -> Self {
        Applied {
            value,
            id: None,
            request_id: None,
            resolved: Vec::new(),
        }
    }
    /// Report the real value of a field the change listed as unknown.
    pub fn resolve(mut self, path: impl Into<String>, value: Value) -> Self {
        self.resolved.push((path.into(), value));
        self
    }
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
    pub fn request_id(mut self, rid: Option<String>) -> Self {
        self.request_id = rid;
        self
    }
}

/// What the output layer and the summary see.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeRecord {
    pub module: String,
    pub object: String,
    pub action: Action,
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
    /// False in plan mode.
    pub applied: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Counts for the end-of-run summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
    pub invoke: usize,
    pub unchanged: usize,
}

impl Summary {
    pub fn count(&mut self, action: Action) {
        match action {
            Action::Create => self.create += 1,
            Action::Update => self.update += 1,
            Action::Delete => self.delete += 1,
            Action::Invoke => self.invoke += 1,
            Action::Unchanged => self.unchanged += 1,
        }
    }
    pub fn changes(&self) -> usize {
        self.create + self.update + self.delete + self.invoke
    }
}

impl Ctx {
    /// Plan or apply `change`. Returns `None` in plan mode (the write did not run) and
    /// `Some(value)` after a successful write in apply mode.
    pub fn apply<T, F>(&self, change: Change, write: F) -> Result<Option<T>>
    where
        F: Future<Output = Result<Applied<T>>>,
    {
        match self.mode {
            Mode::Plan => {
                drop(write);
                self.record(change, None, None, false);
                Ok(None)
            }
            Mode::Apply => {
                let applied = self.block_on(write)?;
                let mut change = change;
                for (path, value) in applied.resolved {
                    if let Some(f) = change.fields.iter_mut().find(|f| f.path == path) {
                        f.after = value;
                    }
                }
                self.journal.append(&JournalEntry {
                    time: now_rfc3339(),
                    target: &self.target,
                    module: change.module,
                    operation: change.object,
                    action: change.action.as_str(),
                    key: &change.key,
                    id: applied.id.as_deref(),
                    request_id: applied.request_id.as_deref(),
                })?;
                self.record(change, applied.id, applied.request_id, true);
                Ok(Some(applied.value))
            }
        }
    }

    /// Report an object that is already as desired.
    pub fn unchanged(
        &self,
        module: &'static str,
        object: &'static str,
        key: &str,
        id: Option<&str>,
    ) {
        self.record(
            Change {
                module,
                object,
                action: Action::Unchanged,
                key: key.to_string(),
                fields: Vec::new(),
            },
            id.map(str::to_string),
            None,
            false,
        );
    }

    fn record(
        &self,
        change: Change,
        id: Option<String>,
        request_id: Option<String>,
        applied: bool,
    ) {
        let record = ChangeRecord {
            module: change.module.to_string(),
            object: change.object.to_string(),
            action: change.action,
            key: change.key,
            id,
            fields: change.fields,
            applied,
            request_id,
        };
        self.summary
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .count(record.action);
        self.output.change(&record);
    }
}

/// Compare `desired` against `observed`, looking only at what `desired` sets.
/// Objects recurse (paths are dotted); arrays of scalars compare as sets; anything else
/// compares by value. Returns the fields that differ.
pub fn diff(desired: &Value, observed: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    diff_at("", desired, observed, &mut out);
    out
}

fn diff_at(path: &str, desired: &Value, observed: &Value, out: &mut Vec<FieldChange>) {
    match (desired, observed) {
        (Value::Object(d), Value::Object(o)) => {
            for (k, dv) in d {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match o.get(k) {
                    Some(ov) => diff_at(&p, dv, ov, out),
                    None if dv.is_null() => {}
                    None => out.push(FieldChange {
                        path: p,
                        before: None,
                        after: dv.clone(),
                    }),
                }
            }
        }
        (Value::Array(d), Value::Array(o)) if is_scalar_array(d) && is_scalar_array(o) => {
            let same = d.len() == o.len() && d.iter().all(|x| o.contains(x));
            if !same {
                out.push(FieldChange {
                    path: path.to_string(),
                    before: Some(observed.clone()),
                    after: desired.clone(),
                });
            }
        }
        _ if desired == observed => {}
        _ => out.push(FieldChange {
            path: path.to_string(),
            before: Some(observed.clone()),
            after: desired.clone(),
        }),
    }
}

fn is_scalar_array(a: &[Value]) -> bool {
    a.iter().all(|v| !v.is_object() && !v.is_array())
}

/// Overlay `desired` on `observed`: objects merge key by key, everything else is replaced.
/// Used to build PATCH bodies for complex properties that the service replaces whole.
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

    #[test]
    fn diff_only_looks_at_desired_fields() {
        let desired = json!({"displayName": "A", "web": {"homePageUrl": "https://x"}});
        let observed = json!({"displayName": "A", "id": "1", "web": {"homePageUrl": "https://y", "logoutUrl": null}});
        let d = diff(&desired, &observed);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, "web.homePageUrl");
        assert_eq!(d[0].before, Some(json!("https://y")));
        assert_eq!(d[0].after, json!("https://x"));
    }

    #[test]
    fn scalar_arrays_compare_as_sets() {
        let d = diff(&json!({"u": ["a", "b"]}), &json!({"u": ["b", "a"]}));
        assert!(d.is_empty());
        let d = diff(&json!({"u": ["a", "b"]}), &json!({"u": ["a"]}));
        assert_eq!(d.len(), 1);
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
}
