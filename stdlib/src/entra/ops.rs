//! What the entra module reads and writes. Every write goes through `Ctx::apply`; every
//! object is found by its unique key (identifierUris, appId), never by display name alone.

use super::model::*;
use crate::change::{Applied, Change, FieldChange, KNOWN_AFTER_APPLY};
use crate::cloud::graph::odata_string;
use crate::context::Ctx;
use crate::error::{ErrorKind, ModuleError, Result};
use crate::secret::Secret;
use serde_json::{json, Value};
use std::time::Duration;

const MODULE: &str = "entra";

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
    /// What the app asks for: (resource appId, permission id, "Role" | "Scope").
    pub required: Vec<(String, String, String)>,
}

impl EntraApp {
    pub fn is_known(&self) -> bool {
        self.id != KNOWN_AFTER_APPLY && self.app_id != KNOWN_AFTER_APPLY
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
fn graph_sp(ctx: &Ctx) -> Result<Value> {
    sp_by_app_id(ctx, GRAPH_APP_ID)?.ok_or_else(|| {
        ModuleError::not_found("the Microsoft Graph service principal is missing from the tenant")
    })
}

fn sp_by_app_id(ctx: &Ctx, app_id: &str) -> Result<Option<Value>> {
    let filter = format!("appId eq {}", odata_string(app_id));
    let mut found = ctx.block_on(ctx.cloud.graph.list(
        "servicePrincipals",
        &[
            ("$filter", &filter),
            (
                "$select",
                "id,appId,displayName,appRoles,oauth2PermissionScopes,servicePrincipalNames",
            ),
        ],
    ))?;
    Ok(if found.is_empty() {
        None
    } else {
        Some(found.swap_remove(0))
    })
}

/// Find a permission id on a resource service principal by its value.
fn permission_id(sp: &Value, kind: &str, value: &str) -> Result<String> {
    let list = if kind == "Role" {
        "appRoles"
    } else {
        "oauth2PermissionScopes"
    };
    sp[list]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["value"].as_str() == Some(value)))
        .and_then(|p| p["id"].as_str())
        .map(str::to_string)
        .ok_or_else(|| {
            ModuleError::not_found(format!(
                "{} does not declare the {} `{value}`",
                sp["displayName"].as_str().unwrap_or("the resource"),
                if kind == "Role" {
                    "app role"
                } else {
                    "delegated scope"
                }
            ))
        })
}

fn app_by_identifier_uri(ctx: &Ctx, uri: &str) -> Result<Option<Value>> {
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

/// Ensure the server (web) app, its scope, its Graph permission and its service principal.
pub fn ensure_server_app(ctx: &Ctx, opts: &ServerAppOptions) -> Result<EntraApp> {
    if opts.display_name.trim().is_empty() {
        return Err(ModuleError::validation(
            "entra::server_app: display_name is empty",
        ));
    }
    check_url("home_page_url", &opts.home_page_url)?;
    let tenant = tenant(ctx)?;
    let uri = expand_uri(&opts.app_id_uri, &tenant.facts);
    let observed = app_by_identifier_uri(ctx, &uri)?;
    let existing_app_id = observed.as_ref().map(|a| str_of(a, "appId"));
    check_app_id_uri(&uri, &tenant.facts, existing_app_id.as_deref())?;

    let mut required = Vec::new();
    if opts.user_discovery {
        let graph = graph_sp(ctx)?;
        let role = permission_id(&graph, "Role", DIRECTORY_READ_ALL)?;
        required.push((GRAPH_APP_ID.to_string(), role, "Role".to_string()));
    }

    let scope_template = |id: &str| {
        json!({
            "id": id,
            "value": USER_IMPERSONATION,
            "type": "User",
            "isEnabled": true,
            "adminConsentDisplayName": format!("Access {}", opts.display_name),
            "adminConsentDescription": format!("Allow the application to access {} on behalf of the signed-in user.", opts.display_name),
            "userConsentDisplayName": format!("Access {}", opts.display_name),
            "userConsentDescription": format!("Allow the application to access {} on your behalf.", opts.display_name),
        })
    };

    let app = match observed {
        None => {
            let scope_id = uuid::Uuid::new_v4().to_string();
            let body = json!({
                "displayName": opts.display_name,
                "signInAudience": "AzureADMyOrg",
                "identifierUris": [uri],
                "web": {
                    "homePageUrl": opts.home_page_url,
                    "redirectUris": [opts.home_page_url],
                    "implicitGrantSettings": {"enableIdTokenIssuance": true},
                },
                "api": {"oauth2PermissionScopes": [scope_template(&scope_id)]},
                "requiredResourceAccess": rra_json(&required),
            });
            let change = Change::create(MODULE, "server application", &uri)
                .field("displayName", None, json!(opts.display_name))
                .field("identifierUris", None, json!([uri]))
                .field("web.homePageUrl", None, json!(opts.home_page_url))
                .field(
                    "web.implicitGrantSettings.enableIdTokenIssuance",
                    None,
                    json!(true),
                )
                .field(
                    "api.oauth2PermissionScopes",
                    None,
                    json!([USER_IMPERSONATION]),
                )
                .field(
                    "requiredResourceAccess",
                    None,
                    permissions_summary(&required),
                )
                .field("appId", None, json!(KNOWN_AFTER_APPLY));
            let graph = &ctx.cloud.graph;
            let created = ctx.apply(change, async {
                let r = graph.post("applications", &body).await?;
                let id = str_of(&r.body, "id");
                let app_id = r.body["appId"].clone();
                Ok(Applied::new(r.body)
                    .id(id)
                    .request_id(r.request_id)
                    .resolve("appId", app_id))
            })?;
            match created {
                Some(v) => app_from(&v, "server", Some(uri.clone()), required.clone()),
                None => unknown_app(
                    "server",
                    &opts.display_name,
                    Some(uri.clone()),
                    required.clone(),
                ),
            }
        }
        Some(current) => {
            let scopes = current["api"]["oauth2PermissionScopes"].clone();
            let mut scope_list: Vec<Value> = scopes.as_array().cloned().unwrap_or_default();
            let has_scope = scope_list.iter().any(|s| {
                s["value"].as_str() == Some(USER_IMPERSONATION)
                    && s["isEnabled"].as_bool() == Some(true)
            });
            let mut patch = serde_json::Map::new();
            let mut fields = Vec::new();
            if current["displayName"].as_str() != Some(opts.display_name.as_str()) {
                fields.push(fc(
                    "displayName",
                    &current["displayName"],
                    json!(opts.display_name),
                ));
                patch.insert("displayName".into(), json!(opts.display_name));
            }
            let web_before = current["web"].clone();
            let mut web = web_before.clone();
            if web["homePageUrl"].as_str() != Some(opts.home_page_url.as_str()) {
                fields.push(fc(
                    "web.homePageUrl",
                    &web["homePageUrl"],
                    json!(opts.home_page_url),
                ));
                web["homePageUrl"] = json!(opts.home_page_url);
            }
            if !contains_str(&web["redirectUris"], &opts.home_page_url) {
                let after = union(
                    &web["redirectUris"],
                    std::slice::from_ref(&opts.home_page_url),
                );
                fields.push(fc("web.redirectUris", &web["redirectUris"], after.clone()));
                web["redirectUris"] = after;
            }
            if web["implicitGrantSettings"]["enableIdTokenIssuance"].as_bool() != Some(true) {
                fields.push(fc(
                    "web.implicitGrantSettings.enableIdTokenIssuance",
                    &web["implicitGrantSettings"]["enableIdTokenIssuance"],
                    json!(true),
                ));
                web["implicitGrantSettings"]["enableIdTokenIssuance"] = json!(true);
            }
            if web != web_before {
                patch.insert("web".into(), web);
            }
            if !has_scope {
                let existing = scope_list
                    .iter_mut()
                    .find(|s| s["value"].as_str() == Some(USER_IMPERSONATION));
                match existing {
                    Some(s) => s["isEnabled"] = json!(true),
                    None => scope_list.push(scope_template(&uuid::Uuid::new_v4().to_string())),
                }
                fields.push(fc(
                    "api.oauth2PermissionScopes",
                    &scope_values(&scopes),
                    json!([USER_IMPERSONATION]),
                ));
                let mut api = current["api"].clone();
                api["oauth2PermissionScopes"] = Value::Array(scope_list);
                patch.insert("api".into(), api);
            }
            let (rra_after, missing) = add_required(&current["requiredResourceAccess"], &required);
            if missing {
                fields.push(fc(
                    "requiredResourceAccess",
                    &Value::Null,
                    permissions_summary(&required),
                ));
                patch.insert("requiredResourceAccess".into(), rra_after);
            }
            update_app(ctx, &current, &uri, "server application", patch, fields)?;
            let mut app = app_from(&current, "server", Some(uri.clone()), required.clone());
            if app.scope_id.is_none() {
                app.scope_id = Some(KNOWN_AFTER_APPLY.into());
                if !ctx.is_plan() {
                    let fresh = ctx.block_on(
                        ctx.cloud
                            .graph
                            .get(&format!("applications/{}", app.id), &[]),
                    )?;
                    app.scope_id = scope_id_of(&fresh.body);
                }
            }
            app
        }
    };
    finish_with_service_principal(ctx, app)
}

/// Ensure the native client app, its redirect URIs, its permissions and its service principal.
pub fn ensure_client_app(
    ctx: &Ctx,
    opts: &ClientAppOptions,
    server: &EntraApp,
) -> Result<EntraApp> {
    if opts.display_name.trim().is_empty() {
        return Err(ModuleError::validation(
            "entra::client_app: display_name is empty",
        ));
    }
    check_url("reply_url", &opts.reply_url)?;
    let graph_sp = graph_sp(ctx)?;
    let user_read = permission_id(&graph_sp, "Scope", USER_READ)?;
    let server_scope = server
        .scope_id
        .clone()
        .unwrap_or_else(|| KNOWN_AFTER_APPLY.into());
    let required = vec![
        (server.app_id.clone(), server_scope, "Scope".to_string()),
        (GRAPH_APP_ID.to_string(), user_read, "Scope".to_string()),
    ];

    let observed = find_client_app(ctx, opts, server)?;
    let key = format!(
        "{} -> {}",
        opts.display_name,
        server.identifier_uri.clone().unwrap_or_default()
    );
    let app = match observed {
        None => {
            let body = json!({
                "displayName": opts.display_name,
                "signInAudience": "AzureADMyOrg",
                "isFallbackPublicClient": true,
                "publicClient": {"redirectUris": [opts.reply_url]},
                "web": {"implicitGrantSettings": {"enableIdTokenIssuance": true}},
                "requiredResourceAccess": rra_json(&required),
            });
            let change = Change::create(MODULE, "client application", &key)
                .field("displayName", None, json!(opts.display_name))
                .field("isFallbackPublicClient", None, json!(true))
                .field(
                    "publicClient.redirectUris",
                    None,
                    json!([
                        opts.reply_url,
                        format!("{}{KNOWN_AFTER_APPLY}", broker_prefix())
                    ]),
                )
                .field(
                    "web.implicitGrantSettings.enableIdTokenIssuance",
                    None,
                    json!(true),
                )
                .field(
                    "requiredResourceAccess",
                    None,
                    json!([
                        format!("{} {USER_IMPERSONATION} (delegated)", server.display_name),
                        format!("Microsoft Graph {USER_READ} (delegated)"),
                    ]),
                )
                .field("appId", None, json!(KNOWN_AFTER_APPLY));
            let graph = &ctx.cloud.graph;
            let reply = opts.reply_url.clone();
            let created = ctx.apply(change, async move {
                let r = graph.post("applications", &body).await?;
                let id = str_of(&r.body, "id");
                let app_id = str_of(&r.body, "appId");
                // The broker redirect carries the appId, known only now.
                let uris = json!([reply, broker_redirect(&app_id)]);
                graph
                    .patch(
                        &format!("applications/{id}"),
                        &json!({"publicClient": {"redirectUris": uris}}),
                    )
                    .await?;
                let mut v = r.body;
                v["publicClient"]["redirectUris"] = uris.clone();
                let app_id = v["appId"].clone();
                Ok(Applied::new(v)
                    .id(id)
                    .request_id(r.request_id)
                    .resolve("appId", app_id)
                    .resolve("publicClient.redirectUris", uris))
            })?;
            match created {
                Some(v) => app_from(&v, "client", None, required.clone()),
                None => unknown_app("client", &opts.display_name, None, required.clone()),
            }
        }
        Some(current) => {
            let app_id = str_of(&current, "appId");
            let mut patch = serde_json::Map::new();
            let mut fields = Vec::new();
            if current["displayName"].as_str() != Some(opts.display_name.as_str()) {
                fields.push(fc(
                    "displayName",
                    &current["displayName"],
                    json!(opts.display_name),
                ));
                patch.insert("displayName".into(), json!(opts.display_name));
            }
            if current["isFallbackPublicClient"].as_bool() != Some(true) {
                fields.push(fc(
                    "isFallbackPublicClient",
                    &current["isFallbackPublicClient"],
                    json!(true),
                ));
                patch.insert("isFallbackPublicClient".into(), json!(true));
            }
            let want = [opts.reply_url.clone(), broker_redirect(&app_id)];
            let before = &current["publicClient"]["redirectUris"];
            if want.iter().any(|u| !contains_str(before, u)) {
                let after = union(before, &want);
                fields.push(fc("publicClient.redirectUris", before, after.clone()));
                patch.insert("publicClient".into(), json!({"redirectUris": after}));
            }
            if current["web"]["implicitGrantSettings"]["enableIdTokenIssuance"].as_bool()
                != Some(true)
            {
                let mut web = current["web"].clone();
                fields.push(fc(
                    "web.implicitGrantSettings.enableIdTokenIssuance",
                    &web["implicitGrantSettings"]["enableIdTokenIssuance"],
                    json!(true),
                ));
                web["implicitGrantSettings"]["enableIdTokenIssuance"] = json!(true);
                patch.insert("web".into(), web);
            }
            let (rra_after, missing) = add_required(&current["requiredResourceAccess"], &required);
            if missing {
                fields.push(fc(
                    "requiredResourceAccess",
                    &Value::Null,
                    permissions_summary(&required),
                ));
                patch.insert("requiredResourceAccess".into(), rra_after);
            }
            update_app(ctx, &current, &key, "client application", patch, fields)?;
            app_from(&current, "client", None, required.clone())
        }
    };
    finish_with_service_principal(ctx, app)
}

/// The client app is the one named `display_name` that asks for the server app's scope
/// (or the one whose appId the script gives): a name alone is never enough.
fn find_client_app(ctx: &Ctx, opts: &ClientAppOptions, server: &EntraApp) -> Result<Option<Value>> {
    if let Some(app_id) = &opts.app_id {
        let app = ctx.block_on(ctx.cloud.graph.get_opt(
            &format!("applications(appId={})", odata_string(app_id)),
            &[],
        ))?;
        return match app {
            Some(a) => Ok(Some(a)),
            None => Err(
                ModuleError::not_found(format!("no application has appId {app_id}"))
                    .with_hint("remove `app_id` to create the client app, or check the id"),
            ),
        };
    }
    if !server.is_known() {
        return Ok(None);
    }
    let filter = format!("displayName eq {}", odata_string(&opts.display_name));
    let candidates = ctx.block_on(
        ctx.cloud
            .graph
            .list("applications", &[("$filter", &filter)]),
    )?;
    let mut ours: Vec<Value> = candidates
        .into_iter()
        .filter(|a| {
            a["requiredResourceAccess"].as_array().is_some_and(|r| {
                r.iter()
                    .any(|x| x["resourceAppId"].as_str() == Some(&server.app_id))
            })
        })
        .collect();
    match ours.len() {
        0 => Ok(None),
        1 => Ok(Some(ours.swap_remove(0))),
        n => Err(ModuleError::conflict(format!(
            "{n} applications named {:?} ask for the server app {}",
            opts.display_name, server.app_id
        ))
        .with_hint(format!(
            "pick one with `app_id: \"...\"`: {}",
            ours.iter()
                .map(|a| str_of(a, "appId"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn update_app(
    ctx: &Ctx,
    current: &Value,
    key: &str,
    object: &'static str,
    patch: serde_json::Map<String, Value>,
    fields: Vec<FieldChange>,
) -> Result<()> {
    let id = str_of(current, "id");
    if patch.is_empty() {
        ctx.unchanged(MODULE, object, key, Some(&id));
        return Ok(());
    }
    let graph = &ctx.cloud.graph;
    let body = Value::Object(patch);
    let path = format!("applications/{id}");
    let change = Change::update(MODULE, object, key).with_fields(fields);
    ctx.apply(change, async {
        let r = graph.patch(&path, &body).await?;
        Ok(Applied::new(()).id(id.clone()).request_id(r.request_id))
    })?;
    Ok(())
}

/// Ensure the app's service principal. Entra replicates a new app with a delay, so a
/// create that says the app does not exist yet is retried for a bounded time.
fn finish_with_service_principal(ctx: &Ctx, mut app: EntraApp) -> Result<EntraApp> {
    let key = format!("{} ({})", app.display_name, app.kind);
    if !app.is_known() {
        let change = Change::create(MODULE, "service principal", &key).field(
            "appId",
            None,
            json!(KNOWN_AFTER_APPLY),
        );
        ctx.apply(change, async { Ok(Applied::new(())) })?;
        app.service_principal_id = KNOWN_AFTER_APPLY.into();
        return Ok(app);
    }
    if let Some(sp) = sp_by_app_id(ctx, &app.app_id)? {
        app.service_principal_id = str_of(&sp, "id");
        ctx.unchanged(
            MODULE,
            "service principal",
            &key,
            Some(&app.service_principal_id),
        );
        return Ok(app);
    }
    let change =
        Change::create(MODULE, "service principal", &key).field("appId", None, json!(app.app_id));
    let graph = &ctx.cloud.graph;
    let body = json!({"appId": app.app_id});
    let created = ctx.apply(change, async {
        let r = with_replication_wait(|| graph.post("servicePrincipals", &body)).await?;
        let id = str_of(&r.body, "id");
        Ok(Applied::new(id.clone()).id(id).request_id(r.request_id))
    })?;
    app.service_principal_id = created.unwrap_or_else(|| KNOWN_AFTER_APPLY.into());
    Ok(app)
}

/// Retry a request that fails only because a just-created object has not replicated yet
/// (400/404 naming a missing reference), for up to a minute.
async fn with_replication_wait<F, Fut, T>(f: F) -> Result<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut delay = Duration::from_millis(500);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        match f().await {
            Err(e)
                if matches!(e.kind, ErrorKind::NotFound | ErrorKind::Remote)
                    && e.status.is_some_and(|s| s == 400 || s == 404)
                    && (e.message.contains("does not exist")
                        || e.message.contains("does not reference"))
                    && tokio::time::Instant::now() + delay < deadline =>
            {
                tracing::debug!(error = %e, "waiting for Entra replication");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(8));
            }
            other => return other,
        }
    }
}

/// What admin consent produced for one app.
#[derive(Debug, Clone, Default)]
pub struct Consent {
    /// Application permissions granted, as `Resource: value`.
    pub roles: Vec<String>,
    /// Delegated permissions granted tenant-wide, as `Resource: value`.
    pub scopes: Vec<String>,
}

/// Grant tenant-wide admin consent for everything `app` asks for: app role assignments
/// for application permissions, one `AllPrincipals` grant per resource for delegated ones.
pub fn grant_admin_consent(ctx: &Ctx, app: &EntraApp) -> Result<Consent> {
    let mut consent = Consent::default();
    let mut resources: Vec<&str> = app.required.iter().map(|(r, _, _)| r.as_str()).collect();
    resources.dedup();
    let client_known = app.service_principal_id != KNOWN_AFTER_APPLY;
    for resource_app_id in resources {
        let perms: Vec<&(String, String, String)> = app
            .required
            .iter()
            .filter(|(r, _, _)| r == resource_app_id)
            .collect();
        let resource_sp = if resource_app_id == KNOWN_AFTER_APPLY {
            None
        } else {
            Some(sp_by_app_id(ctx, resource_app_id)?.ok_or_else(|| {
                ModuleError::not_found(format!(
                    "no service principal for resource app {resource_app_id}"
                ))
                .with_hint("ensure the server app (entra::server_app) before granting consent")
            })?)
        };
        let resource_name = resource_sp
            .as_ref()
            .map(|sp| str_of(sp, "displayName"))
            .unwrap_or_else(|| "the server app".into());
        let resource_sp_id = resource_sp
            .as_ref()
            .map(|sp| str_of(sp, "id"))
            .unwrap_or_else(|| KNOWN_AFTER_APPLY.into());
        let value_of = |kind: &str, id: &str| -> String {
            let list = if kind == "Role" {
                "appRoles"
            } else {
                "oauth2PermissionScopes"
            };
            resource_sp
                .as_ref()
                .and_then(|sp| sp[list].as_array())
                .and_then(|a| a.iter().find(|p| p["id"].as_str() == Some(id)))
                .and_then(|p| p["value"].as_str())
                .map(str::to_string)
                .unwrap_or_else(|| {
                    if kind == "Scope" {
                        USER_IMPERSONATION.into()
                    } else {
                        id.into()
                    }
                })
        };

        // Application permissions: one app role assignment each.
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
        for (_, role_id, _) in perms.iter().filter(|(_, _, t)| t == "Role") {
            let value = value_of("Role", role_id);
            let key = format!("{} -> {resource_name}: {value}", app.display_name);
            consent.roles.push(format!("{resource_name}: {value}"));
            let present = existing_roles.iter().any(|a| {
                a["appRoleId"].as_str() == Some(role_id)
                    && a["resourceId"].as_str() == Some(&resource_sp_id)
            });
            if present {
                ctx.unchanged(MODULE, "app role assignment", &key, None);
                continue;
            }
            let body = json!({
                "principalId": app.service_principal_id,
                "resourceId": resource_sp_id,
                "appRoleId": role_id,
            });
            let path = format!("servicePrincipals/{resource_sp_id}/appRoleAssignedTo");
            let change = Change::create(MODULE, "app role assignment", &key)
                .field("principalId", None, json!(app.service_principal_id))
                .field("resourceId", None, json!(resource_sp_id))
                .field("appRole", None, json!(value));
            let graph = &ctx.cloud.graph;
            ctx.apply(change, async {
                let r = with_replication_wait(|| graph.post(&path, &body)).await?;
                let id = str_of(&r.body, "id");
                Ok(Applied::new(()).id(id).request_id(r.request_id))
            })?;
        }

        // Delegated permissions: one AllPrincipals grant carrying every scope.
        let wanted: Vec<String> = perms
            .iter()
            .filter(|(_, _, t)| t == "Scope")
            .map(|(_, id, _)| value_of("Scope", id))
            .collect();
        if wanted.is_empty() {
            continue;
        }
        for s in &wanted {
            consent.scopes.push(format!("{resource_name}: {s}"));
        }
        let key = format!(
            "{} -> {resource_name}: {}",
            app.display_name,
            wanted.join(" ")
        );
        let existing = if client_known && resource_sp.is_some() {
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
            .find(|g| g["resourceId"].as_str() == Some(&resource_sp_id))
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
                    continue;
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
                    "resourceId": resource_sp_id,
                    "scope": scope,
                });
                let change = Change::create(MODULE, "delegated permission grant", &key)
                    .field("clientId", None, json!(app.service_principal_id))
                    .field("consentType", None, json!("AllPrincipals"))
                    .field("resourceId", None, json!(resource_sp_id))
                    .field("scope", None, json!(scope));
                ctx.apply(change, async {
                    let r = with_replication_wait(|| graph.post("oauth2PermissionGrants", &body))
                        .await?;
                    let id = str_of(&r.body, "id");
                    Ok(Applied::new(()).id(id).request_id(r.request_id))
                })?;
            }
        }
    }
    Ok(consent)
}

/// Ensure a client secret named `display_name` that is valid beyond the renewal window.
pub fn ensure_client_secret(
    ctx: &Ctx,
    app: &EntraApp,
    opts: &SecretOptions,
) -> Result<ClientSecret> {
    opts.validate()?;
    let key = format!("{} ({})", app.display_name, opts.display_name);
    let now = time::OffsetDateTime::now_utc();
    if app.is_known() {
        let current = ctx.block_on(ctx.cloud.graph.get(
            &format!("applications/{}", app.id),
            &[("$select", "id,passwordCredentials")],
        ))?;
        let renew_after = now + time::Duration::days(i64::from(opts.renew_within_days));
        let valid = current.body["passwordCredentials"]
            .as_array()
            .and_then(|creds| {
                creds
                    .iter()
                    .filter(|c| c["displayName"].as_str() == Some(opts.display_name.as_str()))
                    .filter(|c| parse_time(&c["endDateTime"]).is_some_and(|end| end > renew_after))
                    .max_by_key(|c| parse_time(&c["endDateTime"]))
                    .cloned()
            });
        if let Some(c) = valid {
            ctx.unchanged(MODULE, "client secret", &key, c["keyId"].as_str());
            return Ok(ClientSecret {
                key_id: str_of(&c, "keyId"),
                display_name: opts.display_name.clone(),
                end_date_time: str_of(&c, "endDateTime"),
                value: None,
                created: false,
            });
        }
    }
    let end = now + time::Duration::days(365 * i64::from(opts.years));
    let end_text = end
        .replace_nanosecond(0)
        .unwrap_or(end)
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| ModuleError::validation(format!("cannot format the expiry date: {e}")))?;
    let change = Change::invoke(MODULE, "client secret", &key)
        .field("displayName", None, json!(opts.display_name))
        .field("endDateTime", None, json!(end_text))
        .field("secretText", None, json!(crate::secret::REDACTED));
    let body =
        json!({"passwordCredential": {"displayName": opts.display_name, "endDateTime": end_text}});
    let path = format!("applications/{}/addPassword", app.id);
    let graph = &ctx.cloud.graph;
    let made = ctx.apply(change, async {
        let r = graph.post(&path, &body).await?;
        let key_id = str_of(&r.body, "keyId");
        let text = r.body["secretText"]
            .as_str()
            .map(Secret::new)
            .ok_or_else(|| ModuleError::remote("Graph addPassword answered without secretText"))?;
        let end = str_of(&r.body, "endDateTime");
        Ok(Applied::new((key_id.clone(), text, end))
            .id(key_id)
            .request_id(r.request_id))
    })?;
    Ok(match made {
        Some((key_id, text, end)) => ClientSecret {
            key_id,
            display_name: opts.display_name.clone(),
            end_date_time: end,
            value: Some(text),
            created: true,
        },
        None => ClientSecret {
            key_id: KNOWN_AFTER_APPLY.into(),
            display_name: opts.display_name.clone(),
            end_date_time: end_text,
            value: None,
            created: false,
        },
    })
}

/// Look an app up by appId or identifier URI; `None` when there is none.
pub fn find_app(ctx: &Ctx, key: &str) -> Result<Option<EntraApp>> {
    let app = if key.contains("://") {
        app_by_identifier_uri(ctx, key)?
    } else {
        ctx.block_on(
            ctx.cloud
                .graph
                .get_opt(&format!("applications(appId={})", odata_string(key)), &[]),
        )?
    };
    let Some(v) = app else { return Ok(None) };
    let uri = v["identifierUris"]
        .as_array()
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .map(str::to_string);
    let kind = if uri.is_some() { "server" } else { "client" };
    let required = required_of(&v);
    let mut app = app_from(&v, kind, uri, required);
    if let Some(sp) = sp_by_app_id(ctx, &app.app_id)? {
        app.service_principal_id = str_of(&sp, "id");
    }
    Ok(Some(app))
}

fn required_of(v: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for r in v["requiredResourceAccess"].as_array().into_iter().flatten() {
        let res = str_of(r, "resourceAppId");
        for a in r["resourceAccess"].as_array().into_iter().flatten() {
            out.push((res.clone(), str_of(a, "id"), str_of(a, "type")));
        }
    }
    out
}

fn app_from(
    v: &Value,
    kind: &'static str,
    uri: Option<String>,
    required: Vec<(String, String, String)>,
) -> EntraApp {
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

fn unknown_app(
    kind: &'static str,
    name: &str,
    uri: Option<String>,
    required: Vec<(String, String, String)>,
) -> EntraApp {
    EntraApp {
        kind,
        id: KNOWN_AFTER_APPLY.into(),
        app_id: KNOWN_AFTER_APPLY.into(),
        display_name: name.to_string(),
        identifier_uri: uri,
        service_principal_id: KNOWN_AFTER_APPLY.into(),
        scope_id: if kind == "server" {
            Some(KNOWN_AFTER_APPLY.into())
        } else {
            None
        },
        required,
    }
}

fn scope_id_of(v: &Value) -> Option<String> {
    v["api"]["oauth2PermissionScopes"]
        .as_array()?
        .iter()
        .find(|s| s["value"].as_str() == Some(USER_IMPERSONATION))
        .and_then(|s| s["id"].as_str())
        .map(str::to_string)
}

fn rra_json(required: &[(String, String, String)]) -> Value {
    let mut out: Vec<Value> = Vec::new();
    for (res, id, kind) in required {
        let entry = json!({"id": id, "type": kind});
        match out
            .iter_mut()
            .find(|r| r["resourceAppId"].as_str() == Some(res))
        {
            Some(r) => {
                if let Some(a) = r["resourceAccess"].as_array_mut() {
                    a.push(entry)
                }
            }
            None => out.push(json!({"resourceAppId": res, "resourceAccess": [entry]})),
        }
    }
    Value::Array(out)
}

/// Add what `required` asks for to the app's current list; keep whatever else it has.
fn add_required(current: &Value, required: &[(String, String, String)]) -> (Value, bool) {
    let mut list: Vec<Value> = current.as_array().cloned().unwrap_or_default();
    let mut missing = false;
    for (res, id, kind) in required {
        let entry = json!({"id": id, "type": kind});
        match list
            .iter_mut()
            .find(|r| r["resourceAppId"].as_str() == Some(res))
        {
            Some(r) => {
                let has = r["resourceAccess"].as_array().is_some_and(|a| {
                    a.iter()
                        .any(|x| x["id"].as_str() == Some(id) && x["type"].as_str() == Some(kind))
                });
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
                list.push(json!({"resourceAppId": res, "resourceAccess": [entry]}));
            }
        }
    }
    (Value::Array(list), missing)
}

fn permissions_summary(required: &[(String, String, String)]) -> Value {
    json!(required
        .iter()
        .map(|(res, id, kind)| {
            let res = if res == GRAPH_APP_ID {
                "Microsoft Graph"
            } else {
                res.as_str()
            };
            format!(
                "{res} {id} ({})",
                if kind == "Role" {
                    "application"
                } else {
                    "delegated"
                }
            )
        })
        .collect::<Vec<_>>())
}

fn scope_values(scopes: &Value) -> Value {
    json!(scopes
        .as_array()
        .map(|a| a
            .iter()
            .filter_map(|s| s["value"].as_str())
            .collect::<Vec<_>>())
        .unwrap_or_default())
}

fn broker_prefix() -> &'static str {
    "ms-appx-web://Microsoft.AAD.BrokerPlugin/"
}

fn broker_redirect(app_id: &str) -> String {
    format!("{}{app_id}", broker_prefix())
}

fn contains_str(list: &Value, s: &str) -> bool {
    list.as_array()
        .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(s)))
}

fn union(list: &Value, add: &[String]) -> Value {
    let mut out: Vec<Value> = list.as_array().cloned().unwrap_or_default();
    for s in add {
        if !out.iter().any(|v| v.as_str() == Some(s)) {
            out.push(json!(s));
        }
    }
    Value::Array(out)
}

fn fc(path: &str, before: &Value, after: Value) -> FieldChange {
    FieldChange {
        path: path.to_string(),
        before: Some(before.clone()),
        after,
    }
}

fn str_of(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or_default().to_string()
}

fn parse_time(v: &Value) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(v.as_str()?, &time::format_description::well_known::Rfc3339).ok()
}

fn check_url(option: &str, value: &str) -> Result<()> {
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => Ok(()),
        _ => Err(
            ModuleError::validation(format!("{option} {value:?} is not an http(s) URL"))
                .with_hint("for example https://ConfigMgrService"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_required_keeps_extras_and_reports_missing() {
        let current =
            json!([{"resourceAppId": "g", "resourceAccess": [{"id": "x", "type": "Scope"}]}]);
        let (after, missing) = add_required(&current, &[("g".into(), "r".into(), "Role".into())]);
        assert!(missing);
        assert_eq!(after[0]["resourceAccess"].as_array().unwrap().len(), 2);
        let (_, missing) = add_required(&after, &[("g".into(), "r".into(), "Role".into())]);
        assert!(!missing);
    }

    #[test]
    fn rra_groups_by_resource() {
        let v = rra_json(&[
            ("a".into(), "1".into(), "Scope".into()),
            ("b".into(), "2".into(), "Scope".into()),
            ("a".into(), "3".into(), "Role".into()),
        ]);
        assert_eq!(v.as_array().unwrap().len(), 2);
        assert_eq!(v[0]["resourceAccess"].as_array().unwrap().len(), 2);
    }
}
