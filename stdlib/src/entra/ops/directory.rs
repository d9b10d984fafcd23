//! Reading the directory: the tenant, service principals, permission ids, apps by key;
//! plus the small JSON helpers the writers share.

use super::objects::{required_of, EntraApp, Permission, PermissionKind, Tenant};
use crate::change::FieldChange;
use crate::cloud::graph::odata_string;
use crate::context::Ctx;
use crate::entra::model::{TenantFacts, GRAPH_APP_ID};
use crate::error::{ModuleError, Result};
use serde_json::{json, Value};

pub fn tenant(ctx: &Ctx) -> Result<Tenant> {
    let orgs = ctx.block_on(ctx.cloud.graph.list(
        "organization",
        &[("$select", "id,displayName,verifiedDomains")],
    ))?;
    let org = orgs
        .first()
        .ok_or_else(|| ModuleError::remote("Graph returned no organization for this tenant"))?;
    let domains: Vec<&Value> = org["verifiedDomains"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let initial = domains
        .iter()
        .find(|d| d["isInitial"].as_bool() == Some(true))
        .and_then(|d| d["name"].as_str())
        .unwrap_or_default()
        .to_string();
    Ok(Tenant {
        facts: TenantFacts {
            tenant_id: str_of(org, "id"),
            initial_domain: initial,
            verified_domains: domains
                .iter()
                .filter_map(|d| d["name"].as_str().map(str::to_string))
                .collect(),
        },
        display_name: str_of(org, "displayName"),
    })
}

/// The Microsoft Graph service principal with its roles and scopes, so permission ids
/// are resolved from the tenant rather than hard-coded.
pub fn graph_sp(ctx: &Ctx) -> Result<Value> {
    sp_by_app_id(ctx, GRAPH_APP_ID)?.ok_or_else(|| {
        ModuleError::not_found("the Microsoft Graph service principal is missing from the tenant")
    })
}

pub fn sp_by_app_id(ctx: &Ctx, app_id: &str) -> Result<Option<Value>> {
    let filter = format!("appId eq {}", odata_string(app_id));
    let found = ctx.block_on(ctx.cloud.graph.list(
        "servicePrincipals",
        &[
            ("$filter", &filter),
            (
                "$select",
                "id,appId,displayName,appRoles,oauth2PermissionScopes,servicePrincipalNames",
            ),
        ],
    ))?;
    Ok(found.into_iter().next())
}

/// The permission `value` of `kind` that the resource service principal `sp` declares.
pub fn permission(sp: &Value, kind: PermissionKind, value: &str) -> Result<Permission> {
    let id = sp[kind.sp_list()]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["value"].as_str() == Some(value)))
        .and_then(|p| p["id"].as_str())
        .ok_or_else(|| {
            ModuleError::not_found(format!(
                "{} does not declare the {} `{value}`",
                sp["displayName"].as_str().unwrap_or("the resource"),
                match kind {
                    PermissionKind::Application => "app role",
                    PermissionKind::Delegated => "delegated scope",
                }
            ))
        })?;
    Ok(Permission {
        resource_app_id: str_of(sp, "appId"),
        resource: str_of(sp, "displayName"),
        id: id.to_string(),
        value: value.to_string(),
        kind,
    })
}

/// The value (`User.Read`) of a permission id on a resource service principal.
pub fn permission_value(sp: &Value, p: &Permission) -> Option<String> {
    sp[p.kind.sp_list()]
        .as_array()?
        .iter()
        .find(|x| x["id"].as_str() == Some(p.id.as_str()))
        .and_then(|x| x["value"].as_str())
        .map(str::to_string)
}

pub fn app_by_identifier_uri(ctx: &Ctx, uri: &str) -> Result<Option<Value>> {
    let filter = format!("identifierUris/any(x:x eq {})", odata_string(uri));
    let mut found = ctx.block_on(
        ctx.cloud
            .graph
            .list("applications", &[("$filter", &filter)]),
    )?;
    match found.len() {
        0 => Ok(None),
        1 => Ok(Some(found.swap_remove(0))),
        n => Err(ModuleError::conflict(format!(
            "{n} applications claim the identifier URI {uri}"
        ))),
    }
}

pub fn app_by_app_id(ctx: &Ctx, app_id: &str) -> Result<Option<Value>> {
    ctx.block_on(ctx.cloud.graph.get_opt(
        &format!("applications(appId={})", odata_string(app_id)),
        &[],
    ))
}

/// Look an app up by appId or identifier URI; `None` when there is none.
pub fn find_app(ctx: &Ctx, key: &str) -> Result<Option<EntraApp>> {
    let app = if key.contains("://") {
        app_by_identifier_uri(ctx, key)?
    } else {
        app_by_app_id(ctx, key)?
    };
    let Some(v) = app else { return Ok(None) };
    let uri = v["identifierUris"]
        .as_array()
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .map(str::to_string);
    let kind = if uri.is_some() { "server" } else { "client" };
    let mut app = EntraApp::from_graph(&v, kind, uri, required_of(&v));
    if let Some(sp) = sp_by_app_id(ctx, &app.app_id)? {
        app.service_principal_id = str_of(&sp, "id");
    }
    Ok(Some(app))
}

/// The wait lives with the Graph client now; re-exported for the callers here.
pub use crate::cloud::graph::with_replication_wait;

pub fn str_of(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or_default().to_string()
}

pub fn contains_str(list: &Value, s: &str) -> bool {
    list.as_array()
        .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(s)))
}

/// `list` plus whichever of `add` it lacks, order kept.
pub fn union(list: &Value, add: &[String]) -> Value {
    let mut out: Vec<Value> = list.as_array().cloned().unwrap_or_default();
    for s in add {
        if !out.iter().any(|v| v.as_str() == Some(s)) {
            out.push(json!(s));
        }
    }
    Value::Array(out)
}

pub fn field(path: &str, before: &Value, after: Value) -> FieldChange {
    FieldChange {
        path: path.to_string(),
        before: Some(before.clone()),
        after,
    }
}

pub fn parse_time(v: &Value) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(v.as_str()?, &time::format_description::well_known::Rfc3339).ok()
}

pub fn check_url(option: &str, value: &str) -> Result<()> {
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => Ok(()),
        _ => Err(
            ModuleError::validation(format!("{option} {value:?} is not an http(s) URL"))
                .with_hint("for example https://ConfigMgrService"),
        ),
    }
}
