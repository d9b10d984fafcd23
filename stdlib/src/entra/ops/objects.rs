//! The objects scripts hold (apps, secrets, consent) and the permission lists apps carry.

use super::directory::str_of;
use crate::change::KNOWN_AFTER_APPLY;
use crate::entra::model::{TenantFacts, GRAPH_APP_ID, USER_IMPERSONATION};
use crate::secret::Secret;
use serde_json::{json, Value};

/// Application permission (an app role) or delegated permission (a scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermissionKind {
    Application,
    Delegated,
}

impl PermissionKind {
    /// The `type` Graph uses in `requiredResourceAccess`.
    pub fn graph_type(self) -> &'static str {
        match self {
            PermissionKind::Application => "Role",
            PermissionKind::Delegated => "Scope",
        }
    }
    pub fn from_graph_type(t: &str) -> Option<Self> {
        match t {
            "Role" => Some(PermissionKind::Application),
            "Scope" => Some(PermissionKind::Delegated),
            _ => None,
        }
    }
    /// Where a resource service principal declares permissions of this kind.
    pub fn sp_list(self) -> &'static str {
        match self {
            PermissionKind::Application => "appRoles",
            PermissionKind::Delegated => "oauth2PermissionScopes",
        }
    }
    fn word(self) -> &'static str {
        match self {
            PermissionKind::Application => "application",
            PermissionKind::Delegated => "delegated",
        }
    }
}

/// One permission an app asks for on a resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Permission {
    pub resource_app_id: String,
    /// The resource's display name, for plans ("Microsoft Graph").
    pub resource: String,
    pub id: String,
    /// e.g. `Directory.Read.All`; empty when only the id is known.
    pub value: String,
    pub kind: PermissionKind,
}

impl Permission {
    /// `Microsoft Graph Directory.Read.All (application)`.
    pub fn label(&self) -> String {
        let what = if self.value.is_empty() {
            &self.id
        } else {
            &self.value
        };
        format!("{} {what} ({})", self.resource, self.kind.word())
    }
}

/// An app registration and its service principal, as scripts see it.
#[derive(Debug, Clone)]
pub struct EntraApp {
    /// "server" or "client".
    pub kind: &'static str,
    /// Application object id.
    pub id: String,
    /// Application (client) id.
    pub app_id: String,
    pub display_name: String,
    pub identifier_uri: Option<String>,
    pub service_principal_id: String,
    /// The server app's `user_impersonation` scope id.
    pub scope_id: Option<String>,
    /// What the app asks for.
    pub required: Vec<Permission>,
}

impl EntraApp {
    /// False in a plan, for an app that does not exist yet.
    pub fn is_known(&self) -> bool {
        self.id != KNOWN_AFTER_APPLY && self.app_id != KNOWN_AFTER_APPLY
    }

    /// An app as Graph returned it.
    pub fn from_graph(
        v: &Value,
        kind: &'static str,
        uri: Option<String>,
        required: Vec<Permission>,
    ) -> Self {
        EntraApp {
            kind,
            id: str_of(v, "id"),
            app_id: str_of(v, "appId"),
            display_name: str_of(v, "displayName"),
            identifier_uri: uri,
            service_principal_id: KNOWN_AFTER_APPLY.into(),
            scope_id: scope_id_of(v),
            required,
        }
    }

    /// An app a plan would create: ids are not known yet.
    pub fn planned(
        kind: &'static str,
        name: &str,
        uri: Option<String>,
        required: Vec<Permission>,
    ) -> Self {
        EntraApp {
            kind,
            id: KNOWN_AFTER_APPLY.into(),
            app_id: KNOWN_AFTER_APPLY.into(),
            display_name: name.to_string(),
            identifier_uri: uri,
            service_principal_id: KNOWN_AFTER_APPLY.into(),
            scope_id: (kind == "server").then(|| KNOWN_AFTER_APPLY.into()),
            required,
        }
    }
}

/// A client secret. `value` is present only right after it was created: Entra shows a
/// secret's text once.
#[derive(Debug, Clone)]
pub struct ClientSecret {
    pub key_id: String,
    pub display_name: String,
    pub end_date_time: String,
    pub value: Option<Secret>,
    pub created: bool,
}

/// The tenant: id, name and domains.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub facts: TenantFacts,
    pub display_name: String,
}

/// What admin consent covers for one app.
#[derive(Debug, Clone, Default)]
pub struct Consent {
    /// Application permissions granted, as `Resource: value`.
    pub roles: Vec<String>,
    /// Delegated permissions granted tenant-wide, as `Resource: value`.
    pub scopes: Vec<String>,
}

pub fn scope_id_of(v: &Value) -> Option<String> {
    v["api"]["oauth2PermissionScopes"]
        .as_array()?
        .iter()
        .find(|s| s["value"].as_str() == Some(USER_IMPERSONATION))
        .and_then(|s| s["id"].as_str())
        .map(str::to_string)
}

/// The permissions an app's `requiredResourceAccess` lists (values not resolved).
pub fn required_of(v: &Value) -> Vec<Permission> {
    let mut out = Vec::new();
    for r in v["requiredResourceAccess"].as_array().into_iter().flatten() {
        let res = str_of(r, "resourceAppId");
        for a in r["resourceAccess"].as_array().into_iter().flatten() {
            let Some(kind) = a["type"].as_str().and_then(PermissionKind::from_graph_type) else {
                continue;
            };
            out.push(Permission {
                resource: if res == GRAPH_APP_ID {
                    "Microsoft Graph".into()
                } else {
                    res.clone()
                },
                resource_app_id: res.clone(),
                id: str_of(a, "id"),
                value: String::new(),
                kind,
            });
        }
    }
    out
}

/// `requiredResourceAccess` for a new app: one entry per resource.
pub fn required_json(required: &[Permission]) -> Value {
    add_required(&json!([]), required).0
}

/// Add what `required` asks for to the app's current list; keep whatever else it has.
/// Returns the new list and whether anything was missing.
pub fn add_required(current: &Value, required: &[Permission]) -> (Value, bool) {
    let mut list: Vec<Value> = current.as_array().cloned().unwrap_or_default();
    let mut missing = false;
    for p in required {
        let entry = json!({"id": p.id, "type": p.kind.graph_type()});
        let res = list
            .iter_mut()
            .find(|r| r["resourceAppId"].as_str() == Some(p.resource_app_id.as_str()));
        match res {
            Some(r) => {
                let has = r["resourceAccess"]
                    .as_array()
                    .is_some_and(|a| a.contains(&entry));
                if !has {
                    missing = true;
                    match r["resourceAccess"].as_array_mut() {
                        Some(a) => a.push(entry),
                        None => r["resourceAccess"] = json!([entry]),
                    }
                }
            }
            None => {
                missing = true;
                list.push(json!({"resourceAppId": p.resource_app_id, "resourceAccess": [entry]}));
            }
        }
    }
    (Value::Array(list), missing)
}

/// Permission labels for a plan.
pub fn labels(required: &[Permission]) -> Value {
    json!(required.iter().map(Permission::label).collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perm(res: &str, id: &str, kind: PermissionKind) -> Permission {
        Permission {
            resource_app_id: res.into(),
            resource: res.into(),
            id: id.into(),
            value: String::new(),
            kind,
        }
    }

    #[test]
    fn add_required_keeps_extras_and_reports_missing() {
        let current =
            json!([{"resourceAppId": "g", "resourceAccess": [{"id": "x", "type": "Scope"}]}]);
        let role = [perm("g", "r", PermissionKind::Application)];
        let (after, missing) = add_required(&current, &role);
        assert!(missing);
        assert_eq!(after[0]["resourceAccess"].as_array().unwrap().len(), 2);
        let (_, missing) = add_required(&after, &role);
        assert!(!missing);
    }

    #[test]
    fn required_json_groups_by_resource() {
        let v = required_json(&[
            perm("a", "1", PermissionKind::Delegated),
            perm("b", "2", PermissionKind::Delegated),
            perm("a", "3", PermissionKind::Application),
        ]);
        assert_eq!(v.as_array().unwrap().len(), 2);
        assert_eq!(v[0]["resourceAccess"].as_array().unwrap().len(), 2);
        assert_eq!(required_of(&json!({"requiredResourceAccess": v})).len(), 3);
    }
}
