//! The objects scripts hold (apps, secrets, consent) and the permission lists apps carry.

use crate::change::Known;
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
    /// Unknown in a plan that creates the resource app (the server app).
    pub resource_app_id: Known<String>,
    /// The resource app's unique key (its appId, or the server app's identifier URI),
    /// for the keys of consent objects.
    pub resource_key: String,
    /// The resource's display name, for plans ("Microsoft Graph").
    pub resource: String,
    /// Unknown in a plan that creates the scope (the server app's `user_impersonation`).
    pub id: Known<String>,
    /// e.g. `Directory.Read.All`; empty when only the id is known.
    pub value: String,
    pub kind: PermissionKind,
}

impl Permission {
    /// `Microsoft Graph Directory.Read.All (application)`.
    pub fn label(&self) -> String {
        let what = if self.value.is_empty() {
            self.id.text()
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
    /// The unique key it is found by and journalled under: the identifier URI (server
    /// app), the `uniqueName` (client app made here) or the appId (an adopted app).
    pub key: String,
    /// Application object id.
    pub id: Known<String>,
    /// Application (client) id.
    pub app_id: Known<String>,
    pub display_name: String,
    pub identifier_uri: Option<String>,
    pub service_principal_id: Known<String>,
    /// The server app's `user_impersonation` scope id.
    pub scope_id: Option<Known<String>>,
    /// What the app asks for.
    pub required: Vec<Permission>,
}

impl EntraApp {
    /// False in a plan, for an app that does not exist yet.
    pub fn is_known(&self) -> bool {
        self.id.is_known() && self.app_id.is_known()
    }

    /// An app as Graph returned it.
    pub fn from_graph(
        v: &Value,
        kind: &'static str,
        key: String,
        uri: Option<String>,
        required: Vec<Permission>,
    ) -> Self {
        EntraApp {
            kind,
            key,
            id: known_str(v, "id"),
            app_id: known_str(v, "appId"),
            display_name: str_of(v, "displayName"),
            identifier_uri: uri,
            service_principal_id: Known::AfterApply,
            scope_id: scope_id_of(v).map(Known::Value),
            required,
        }
    }

    /// An app a plan would create: ids are not known yet.
    pub fn planned(
        kind: &'static str,
        key: String,
        name: &str,
        uri: Option<String>,
        required: Vec<Permission>,
    ) -> Self {
        EntraApp {
            kind,
            key,
            id: Known::AfterApply,
            app_id: Known::AfterApply,
            display_name: name.to_string(),
            identifier_uri: uri,
            service_principal_id: Known::AfterApply,
            scope_id: (kind == "server").then_some(Known::AfterApply),
            required,
        }
    }
}

/// A string property, unknown when absent (an object a plan would create).
pub fn known_str(v: &Value, k: &str) -> Known<String> {
    v[k].as_str().map(str::to_string).into()
}

pub fn str_of(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or_default().to_string()
}

/// A client secret. `value` is present only right after it was created: Entra shows a
/// secret's text once.
#[derive(Debug, Clone)]
pub struct ClientSecret {
    pub key_id: Known<String>,
    pub display_name: String,
    pub end_date_time: String,
    /// The validity asked for (1 or 2 years), for a replacement.
    pub years: u8,
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
                resource_app_id: Known::Value(res.clone()),
                resource_key: res.clone(),
                id: known_str(a, "id"),
                value: String::new(),
                kind,
            });
        }
    }
    out
}

/// `requiredResourceAccess` for a new app, one entry per resource; `None` when a
/// permission's ids are not known yet (a plan that creates the server app).
pub fn required_json(required: &[Permission]) -> Option<Value> {
    add_required(&json!([]), required)
}

/// The app's current list with what `required` asks for added; whatever else the app
/// asks for is kept. `None` when a permission's ids are not known yet.
pub fn add_required(current: &Value, required: &[Permission]) -> Option<Value> {
    let mut list: Vec<Value> = current.as_array().cloned().unwrap_or_default();
    for p in required {
        let (Some(res), Some(id)) = (p.resource_app_id.value(), p.id.value()) else {
            return None;
        };
        let entry = json!({"id": id, "type": p.kind.graph_type()});
        match list
            .iter_mut()
            .find(|r| r["resourceAppId"].as_str() == Some(res.as_str()))
        {
            Some(r) => match r["resourceAccess"].as_array_mut() {
                Some(a) if a.contains(&entry) => {}
                Some(a) => a.push(entry),
                None => r["resourceAccess"] = json!([entry]),
            },
            None => list.push(json!({"resourceAppId": res, "resourceAccess": [entry]})),
        }
    }
    Some(Value::Array(list))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perm(res: &str, id: &str, kind: PermissionKind) -> Permission {
        Permission {
            resource_app_id: Known::Value(res.to_string()),
            resource_key: res.into(),
            resource: res.into(),
            id: Known::Value(id.to_string()),
            value: String::new(),
            kind,
        }
    }

    #[test]
    fn add_required_keeps_extras_and_reports_missing() {
        let current =
            json!([{"resourceAppId": "g", "resourceAccess": [{"id": "x", "type": "Scope"}]}]);
        let role = [perm("g", "r", PermissionKind::Application)];
        let after = add_required(&current, &role).unwrap();
        assert_eq!(after[0]["resourceAccess"].as_array().unwrap().len(), 2);
        assert_eq!(add_required(&after, &role).unwrap(), after);
        let mut unknown = role[0].clone();
        unknown.id = Known::AfterApply;
        assert!(add_required(&current, &[unknown]).is_none());
    }

    #[test]
    fn required_json_groups_by_resource() {
        let v = required_json(&[
            perm("a", "1", PermissionKind::Delegated),
            perm("b", "2", PermissionKind::Delegated),
            perm("a", "3", PermissionKind::Application),
        ])
        .unwrap();
        assert_eq!(v.as_array().unwrap().len(), 2);
        assert_eq!(v[0]["resourceAccess"].as_array().unwrap().len(), 2);
        assert_eq!(required_of(&json!({"requiredResourceAccess": v})).len(), 3);
    }
}
