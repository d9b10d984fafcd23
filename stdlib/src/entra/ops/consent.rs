//! Tenant-wide admin consent: app role assignments for application permissions, one
//! `AllPrincipals` delegated grant per resource for delegated ones.

use super::directory::{permission_value, sp_by_app_id, str_of, with_replication_wait};
use super::objects::{Consent, EntraApp, Permission, PermissionKind};
use super::MODULE;
use crate::change::{Applied, Change, KNOWN_AFTER_APPLY};
use crate::cloud::graph::odata_string;
use crate::context::Ctx;
use crate::error::{ModuleError, Result};
use serde_json::{json, Value};

/// A resource the app asks permissions of, as far as it is known (not in a plan that
/// creates it).
struct Resource {
    name: String,
    sp_id: String,
    sp: Option<Value>,
}

impl Resource {
    fn lookup(ctx: &Ctx, first: &Permission) -> Result<Resource> {
        if first.resource_app_id == KNOWN_AFTER_APPLY {
            return Ok(Resource {
                name: first.resource.clone(),
                sp_id: KNOWN_AFTER_APPLY.into(),
                sp: None,
            });
        }
        let sp = sp_by_app_id(ctx, &first.resource_app_id)?.ok_or_else(|| {
            ModuleError::not_found(format!(
                "no service principal for resource app {}",
                first.resource_app_id
            ))
            .with_hint("ensure the server app (entra::server_app) before granting consent")
        })?;
        Ok(Resource {
            name: str_of(&sp, "displayName"),
            sp_id: str_of(&sp, "id"),
            sp: Some(sp),
        })
    }

    /// The permission's value: from the app's own list, else from the resource.
    fn value_of(&self, p: &Permission) -> String {
        if !p.value.is_empty() {
            return p.value.clone();
        }
        self.sp
            .as_ref()
            .and_then(|sp| permission_value(sp, p))
            .unwrap_or_else(|| p.id.clone())
    }
}

/// Grant tenant-wide admin consent for everything `app` asks for.
pub fn grant_admin_consent(ctx: &Ctx, app: &EntraApp) -> Result<Consent> {
    let mut consent = Consent::default();
    let client_known = app.service_principal_id != KNOWN_AFTER_APPLY;
    let existing_roles: Vec<Value> = if client_known {
        ctx.block_on(ctx.cloud.graph.list(
            &format!(
                "servicePrincipals/{}/appRoleAssignments",
                app.service_principal_id
            ),
            &[],
        ))?
    } else {
        Vec::new()
    };
    for perms in by_resource(&app.required) {
        let resource = Resource::lookup(ctx, perms[0])?;
        for p in perms
            .iter()
            .filter(|p| p.kind == PermissionKind::Application)
        {
            let value = resource.value_of(p);
            consent.roles.push(format!("{}: {value}", resource.name));
            assign_role(ctx, app, &resource, p, &value, &existing_roles)?;
        }
        let scopes: Vec<String> = perms
            .iter()
            .filter(|p| p.kind == PermissionKind::Delegated)
            .map(|p| resource.value_of(p))
            .collect();
        if !scopes.is_empty() {
            consent
                .scopes
                .extend(scopes.iter().map(|s| format!("{}: {s}", resource.name)));
            grant_scopes(ctx, app, &resource, &scopes, client_known)?;
        }
    }
    Ok(consent)
}

/// The app's permissions grouped by resource, in the order they first appear.
fn by_resource(required: &[Permission]) -> Vec<Vec<&Permission>> {
    let mut groups: Vec<Vec<&Permission>> = Vec::new();
    for p in required {
        match groups
            .iter_mut()
            .find(|g| g[0].resource_app_id == p.resource_app_id)
        {
            Some(g) => g.push(p),
            None => groups.push(vec![p]),
        }
    }
    groups
}

fn assign_role(
    ctx: &Ctx,
    app: &EntraApp,
    resource: &Resource,
    p: &Permission,
    value: &str,
    existing: &[Value],
) -> Result<()> {
    let key = format!("{} -> {}: {value}", app.display_name, resource.name);
    let present = existing.iter().any(|a| {
        a["appRoleId"].as_str() == Some(p.id.as_str())
            && a["resourceId"].as_str() == Some(resource.sp_id.as_str())
    });
    if present {
        ctx.unchanged(MODULE, "app role assignment", &key, None);
        return Ok(());
    }
    let body = json!({
        "principalId": app.service_principal_id,
        "resourceId": resource.sp_id,
        "appRoleId": p.id,
    });
    let path = format!("servicePrincipals/{}/appRoleAssignedTo", resource.sp_id);
    let change = Change::create(MODULE, "app role assignment", &key)
        .field("principalId", None, json!(app.service_principal_id))
        .field("resourceId", None, json!(resource.sp_id))
        .field("appRole", None, json!(value));
    let graph = &ctx.cloud.graph;
    ctx.apply(change, async {
        let r = with_replication_wait(|| graph.post(&path, &body)).await?;
        let id = str_of(&r.body, "id");
        Ok(Applied::new(()).id(id).request_id(r.request_id))
    })?;
    Ok(())
}

fn grant_scopes(
    ctx: &Ctx,
    app: &EntraApp,
    resource: &Resource,
    wanted: &[String],
    client_known: bool,
) -> Result<()> {
    let key = format!(
        "{} -> {}: {}",
        app.display_name,
        resource.name,
        wanted.join(" ")
    );
    let existing = if client_known && resource.sp.is_some() {
        let filter = format!(
            "clientId eq {} and consentType eq 'AllPrincipals'",
            odata_string(&app.service_principal_id)
        );
        ctx.block_on(
            ctx.cloud
                .graph
                .list("oauth2PermissionGrants", &[("$filter", &filter)]),
        )?
        .into_iter()
        .find(|g| g["resourceId"].as_str() == Some(resource.sp_id.as_str()))
    } else {
        None
    };
    let graph = &ctx.cloud.graph;
    match existing {
        Some(grant) => {
            let have: Vec<&str> = grant["scope"]
                .as_str()
                .unwrap_or("")
                .split_whitespace()
                .collect();
            let missing: Vec<&String> = wanted
                .iter()
                .filter(|w| !have.contains(&w.as_str()))
                .collect();
            let grant_id = str_of(&grant, "id");
            if missing.is_empty() {
                ctx.unchanged(MODULE, "delegated permission grant", &key, Some(&grant_id));
                return Ok(());
            }
            let mut all: Vec<String> = have.iter().map(|s| s.to_string()).collect();
            all.extend(missing.into_iter().cloned());
            let scope = all.join(" ");
            let change = Change::update(MODULE, "delegated permission grant", &key).field(
                "scope",
                Some(grant["scope"].clone()),
                json!(scope),
            );
            let path = format!("oauth2PermissionGrants/{grant_id}");
            ctx.apply(change, async {
                let r = graph.patch(&path, &json!({"scope": scope})).await?;
                Ok(Applied::new(())
                    .id(grant_id.clone())
                    .request_id(r.request_id))
            })?;
        }
        None => {
            let scope = wanted.join(" ");
            let body = json!({
                "clientId": app.service_principal_id,
                "consentType": "AllPrincipals",
                "resourceId": resource.sp_id,
                "scope": scope,
            });
            let change = Change::create(MODULE, "delegated permission grant", &key)
                .field("clientId", None, json!(app.service_principal_id))
                .field("consentType", None, json!("AllPrincipals"))
                .field("resourceId", None, json!(resource.sp_id))
                .field("scope", None, json!(scope));
            ctx.apply(change, async {
                let r =
                    with_replication_wait(|| graph.post("oauth2PermissionGrants", &body)).await?;
                let id = str_of(&r.body, "id");
                Ok(Applied::new(()).id(id).request_id(r.request_id))
            })?;
        }
    }
    Ok(())
}
