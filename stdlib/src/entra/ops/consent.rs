//! Tenant-wide admin consent: an app role assignment per application permission, and
//! one `AllPrincipals` delegated grant per resource for the delegated ones. Each is a
//! resource keyed by the apps' unique keys and the permission.

use super::directory::{permission_value, sp_by_app_id};
use super::MODULE;
use crate::change::{ensure, Known, Op, Outcome, Resource, ResourceId, Written};
use crate::cloud::access::Writer;
use crate::cloud::graph::{odata_string, with_replication_wait};
use crate::context::Ctx;
use crate::entra::objects::{str_of, Consent, EntraApp, Permission, PermissionKind};
use crate::error::{ModuleError, Result};
use serde_json::{json, Value};

/// A resource app the client asks permissions of, as far as it is known (not in a
/// plan that creates it).
struct ResourceApp {
    name: String,
    key: String,
    sp_id: Known<String>,
    sp: Option<Value>,
}

impl ResourceApp {
    fn lookup(ctx: &Ctx, first: &Permission) -> Result<ResourceApp> {
        let Some(app_id) = first.resource_app_id.value() else {
            return Ok(ResourceApp {
                name: first.resource.clone(),
                key: first.resource_key.clone(),
                sp_id: Known::AfterApply,
                sp: None,
            });
        };
        let sp = sp_by_app_id(ctx, app_id)?.ok_or_else(|| {
            ModuleError::not_found(format!("no service principal for resource app {app_id}"))
                .with_hint("ensure the server app (entra::server_app) before granting consent")
        })?;
        Ok(ResourceApp {
            name: str_of(&sp, "displayName"),
            key: first.resource_key.clone(),
            sp_id: Known::Value(str_of(&sp, "id")),
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
            .unwrap_or_else(|| p.id.text().to_string())
    }
}

/// Grant tenant-wide admin consent for everything `app` asks for.
pub fn grant_admin_consent(ctx: &Ctx, app: &EntraApp) -> Result<Consent> {
    let mut consent = Consent::default();
    for perms in by_resource(&app.required) {
        let resource = ResourceApp::lookup(ctx, perms[0])?;
        for p in perms
            .iter()
            .filter(|p| p.kind == PermissionKind::Application)
        {
            let value = resource.value_of(p);
            consent.roles.push(format!("{}: {value}", resource.name));
            ensure(
                ctx,
                RoleAssignment {
                    client: app,
                    resource: &resource,
                    permission: p,
                    value,
                },
            )?;
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
            ensure(
                ctx,
                PermissionGrant {
                    client: app,
                    resource: &resource,
                    scopes,
                },
            )?;
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
            .find(|g| g[0].resource_key == p.resource_key)
        {
            Some(g) => g.push(p),
            None => groups.push(vec![p]),
        }
    }
    groups
}

/// One application permission granted: `client` holds `permission` on `resource`.
struct RoleAssignment<'a> {
    client: &'a EntraApp,
    resource: &'a ResourceApp,
    permission: &'a Permission,
    value: String,
}

impl Resource for RoleAssignment<'_> {
    type Output = ();

    fn id(&self, _observed: Option<&Value>) -> ResourceId {
        ResourceId::new(
            MODULE,
            "app role assignment",
            format!(
                "{} -> {}: {}",
                self.client.key, self.resource.key, self.value
            ),
        )
        .label(format!(
            "{} -> {}: {}",
            self.client.display_name, self.resource.name, self.value
        ))
    }

    fn observe(&self, ctx: &Ctx) -> Result<Option<Value>> {
        let (Some(sp), Some(resource_sp), Some(role)) = (
            self.client.service_principal_id.value(),
            self.resource.sp_id.value(),
            self.permission.id.value(),
        ) else {
            return Ok(None);
        };
        let existing = ctx.block_on(
            ctx.read()
                .graph()
                .list(&format!("servicePrincipals/{sp}/appRoleAssignments"), &[]),
        )?;
        Ok(existing.into_iter().find(|a| {
            a["appRoleId"].as_str() == Some(role) && a["resourceId"].as_str() == Some(resource_sp)
        }))
    }

    fn desired(&self, observed: Option<&Value>) -> Result<Value> {
        Ok(match observed {
            Some(a) => json!({"appRoleId": a["appRoleId"]}),
            None => json!({
                "principalId": self.client.service_principal_id.value(),
                "resourceId": self.resource.sp_id.value(),
                "appRoleId": self.permission.id.value(),
            }),
        })
    }

    fn unknown_fields(&self, _observed: Option<&Value>) -> Vec<&'static str> {
        let mut u = vec!["id"];
        if !self.client.service_principal_id.is_known() {
            u.push("principalId");
        }
        if !self.resource.sp_id.is_known() {
            u.push("resourceId");
        }
        u
    }

    async fn write(&self, w: &Writer<'_>, op: Op<'_>) -> Result<Written> {
        let Op::Create { body } = op else {
            return Err(ModuleError::validation(
                "an app role assignment is never updated",
            ));
        };
        let path = format!(
            "servicePrincipals/{}/appRoleAssignedTo",
            self.resource.sp_id
        );
        // The client's service principal may be minutes old.
        let graph = w.graph();
        let r = with_replication_wait(|| graph.post(&path, body)).await?;
        let id = str_of(&r.body, "id");
        Ok(Written::new(r.body).id(id))
    }

    fn output(self, _outcome: Outcome) -> Result<()> {
        Ok(())
    }
}

/// The tenant-wide (`AllPrincipals`) grant of delegated `scopes` on `resource`.
struct PermissionGrant<'a> {
    client: &'a EntraApp,
    resource: &'a ResourceApp,
    scopes: Vec<String>,
}

impl Resource for PermissionGrant<'_> {
    type Output = ();

    fn id(&self, _observed: Option<&Value>) -> ResourceId {
        ResourceId::new(
            MODULE,
            "delegated permission grant",
            format!(
                "{} -> {}: AllPrincipals",
                self.client.key, self.resource.key
            ),
        )
        .label(format!(
            "{} -> {}: {}",
            self.client.display_name,
            self.resource.name,
            self.scopes.join(" ")
        ))
    }

    fn observe(&self, ctx: &Ctx) -> Result<Option<Value>> {
        let (Some(sp), Some(resource_sp)) = (
            self.client.service_principal_id.value(),
            self.resource.sp_id.value(),
        ) else {
            return Ok(None);
        };
        let filter = format!(
            "clientId eq {} and consentType eq 'AllPrincipals'",
            odata_string(sp)
        );
        let grants = ctx.block_on(
            ctx.read()
                .graph()
                .list("oauth2PermissionGrants", &[("$filter", &filter)]),
        )?;
        Ok(grants
            .into_iter()
            .find(|g| g["resourceId"].as_str() == Some(resource_sp.as_str())))
    }

    fn desired(&self, observed: Option<&Value>) -> Result<Value> {
        Ok(match observed {
            Some(g) => {
                // Keep every scope granted; add the missing ones.
                let have = g["scope"].as_str().unwrap_or("");
                let mut all: Vec<&str> = have.split_whitespace().collect();
                let missing: Vec<&str> = self
                    .scopes
                    .iter()
                    .map(String::as_str)
                    .filter(|s| !all.contains(s))
                    .collect();
                let scope = if missing.is_empty() {
                    have.to_string()
                } else {
                    all.extend(missing);
                    all.join(" ")
                };
                json!({"scope": scope})
            }
            None => json!({
                "clientId": self.client.service_principal_id.value(),
                "consentType": "AllPrincipals",
                "resourceId": self.resource.sp_id.value(),
                "scope": self.scopes.join(" "),
            }),
        })
    }

    fn unknown_fields(&self, observed: Option<&Value>) -> Vec<&'static str> {
        let mut u = Vec::new();
        if observed.is_none() {
            u.push("id");
        }
        if !self.client.service_principal_id.is_known() {
            u.push("clientId");
        }
        if !self.resource.sp_id.is_known() {
            u.push("resourceId");
        }
        u
    }

    async fn write(&self, w: &Writer<'_>, op: Op<'_>) -> Result<Written> {
        match op {
            Op::Create { body } => {
                let graph = w.graph();
                let r =
                    with_replication_wait(|| graph.post("oauth2PermissionGrants", body)).await?;
                let id = str_of(&r.body, "id");
                Ok(Written::new(r.body).id(id))
            }
            Op::Update {
                observed, patch, ..
            } => {
                let id = str_of(observed, "id");
                w.graph()
                    .patch(&format!("oauth2PermissionGrants/{id}"), patch)
                    .await?;
                Ok(Written::new(crate::change::merge(observed, patch)).id(id))
            }
        }
    }

    fn output(self, _outcome: Outcome) -> Result<()> {
        Ok(())
    }
}
