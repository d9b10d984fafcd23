//! The two app registrations: observe by key, build the desired state, create or patch,
//! then ensure the service principal.

use super::directory::{
    app_by_app_id, app_by_identifier_uri, check_url, contains_str, field, graph_sp, permission,
    sp_by_app_id, str_of, tenant, union, with_replication_wait,
};
use super::objects::{
    add_required, labels, required_json, scope_id_of, EntraApp, Permission, PermissionKind,
};
use super::MODULE;
use crate::change::{Applied, Change, FieldChange, KNOWN_AFTER_APPLY};
use crate::cloud::graph::odata_string;
use crate::context::Ctx;
use crate::entra::model::*;
use crate::error::{ModuleError, Result};
use serde_json::{json, Map, Value};

const BROKER_PREFIX: &str = "ms-appx-web://Microsoft.AAD.BrokerPlugin/";

fn broker_redirect(app_id: &str) -> String {
    format!("{BROKER_PREFIX}{app_id}")
}

/// Ensure the server (web) app, its scope, its Graph permission and its service principal.
pub fn ensure_server_app(ctx: &Ctx, opts: &ServerAppOptions) -> Result<EntraApp> {
    non_empty("entra::server_app", &opts.display_name)?;
    check_url("home_page_url", &opts.home_page_url)?;
    let tenant = tenant(ctx)?;
    let uri = expand_uri(&opts.app_id_uri, &tenant.facts);
    let observed = app_by_identifier_uri(ctx, &uri)?;
    let existing_app_id = observed.as_ref().map(|a| str_of(a, "appId"));
    check_app_id_uri(&uri, &tenant.facts, existing_app_id.as_deref())?;

    let mut required = Vec::new();
    if opts.user_discovery {
        let graph = graph_sp(ctx)?;
        required.push(permission(
            &graph,
            PermissionKind::Application,
            DIRECTORY_READ_ALL,
        )?);
    }
    let scope = |id: &str| user_impersonation_scope(id, &opts.display_name);

    let app = match observed {
        None => {
            let body = json!({
                "displayName": opts.display_name,
                "signInAudience": "AzureADMyOrg",
                "identifierUris": [uri],
                "web": {
                    "homePageUrl": opts.home_page_url,
                    "redirectUris": [opts.home_page_url],
                    "implicitGrantSettings": {"enableIdTokenIssuance": true},
                },
                "api": {"oauth2PermissionScopes": [scope(&uuid::Uuid::new_v4().to_string())]},
                "requiredResourceAccess": required_json(&required),
            });
            let change = Change::create(MODULE, "server application", &uri)
                .field("displayName", None, json!(opts.display_name))
                .field("identifierUris", None, json!([uri]))
                .field("web.homePageUrl", None, json!(opts.home_page_url))
                .field(ID_TOKENS, None, json!(true))
                .field(
                    "api.oauth2PermissionScopes",
                    None,
                    json!([USER_IMPERSONATION]),
                )
                .field("requiredResourceAccess", None, labels(&required))
                .field("appId", None, json!(KNOWN_AFTER_APPLY));
            match create_app(ctx, change, body, None)? {
                Some(v) => EntraApp::from_graph(&v, "server", Some(uri), required),
                None => EntraApp::planned("server", &opts.display_name, Some(uri), required),
            }
        }
        Some(current) => {
            let mut patch = AppPatch::new(&current);
            patch.set(&["displayName"], json!(opts.display_name));
            patch.set(&["web", "homePageUrl"], json!(opts.home_page_url));
            patch.add_to_list(
                &["web", "redirectUris"],
                std::slice::from_ref(&opts.home_page_url),
            );
            patch.set(
                &["web", "implicitGrantSettings", "enableIdTokenIssuance"],
                json!(true),
            );
            patch.ensure_scope(|| scope(&uuid::Uuid::new_v4().to_string()));
            patch.require(&required);
            patch.apply(ctx, &uri, "server application")?;
            let mut app = EntraApp::from_graph(&current, "server", Some(uri), required);
            if app.scope_id.is_none() {
                // The scope was just added: read its id back (unknown in a plan).
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
    ensure_service_principal(ctx, app)
}

/// Ensure the native client app, its redirect URIs, its permissions and its service principal.
pub fn ensure_client_app(
    ctx: &Ctx,
    opts: &ClientAppOptions,
    server: &EntraApp,
) -> Result<EntraApp> {
    non_empty("entra::client_app", &opts.display_name)?;
    check_url("reply_url", &opts.reply_url)?;
    let graph = graph_sp(ctx)?;
    let required = vec![
        Permission {
            resource_app_id: server.app_id.clone(),
            resource: server.display_name.clone(),
            id: server
                .scope_id
                .clone()
                .unwrap_or_else(|| KNOWN_AFTER_APPLY.into()),
            value: USER_IMPERSONATION.into(),
            kind: PermissionKind::Delegated,
        },
        permission(&graph, PermissionKind::Delegated, USER_READ)?,
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
                "requiredResourceAccess": required_json(&required),
            });
            let change = Change::create(MODULE, "client application", &key)
                .field("displayName", None, json!(opts.display_name))
                .field("isFallbackPublicClient", None, json!(true))
                .field(
                    "publicClient.redirectUris",
                    None,
                    json!([opts.reply_url, broker_redirect(KNOWN_AFTER_APPLY)]),
                )
                .field(ID_TOKENS, None, json!(true))
                .field("requiredResourceAccess", None, labels(&required))
                .field("appId", None, json!(KNOWN_AFTER_APPLY));
            match create_app(ctx, change, body, Some(&opts.reply_url))? {
                Some(v) => EntraApp::from_graph(&v, "client", None, required),
                None => EntraApp::planned("client", &opts.display_name, None, required),
            }
        }
        Some(current) => {
            let app_id = str_of(&current, "appId");
            let mut patch = AppPatch::new(&current);
            patch.set(&["displayName"], json!(opts.display_name));
            patch.set(&["isFallbackPublicClient"], json!(true));
            patch.add_to_list(
                &["publicClient", "redirectUris"],
                &[opts.reply_url.clone(), broker_redirect(&app_id)],
            );
            patch.set(
                &["web", "implicitGrantSettings", "enableIdTokenIssuance"],
                json!(true),
            );
            patch.require(&required);
            patch.apply(ctx, &key, "client application")?;
            EntraApp::from_graph(&current, "client", None, required)
        }
    };
    ensure_service_principal(ctx, app)
}

const ID_TOKENS: &str = "web.implicitGrantSettings.enableIdTokenIssuance";

fn non_empty(function: &str, name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(ModuleError::validation(format!(
            "{function}: display_name is empty"
        )));
    }
    Ok(())
}

/// The `user_impersonation` scope as the Azure Services wizard defines it ("Admins and users").
fn user_impersonation_scope(id: &str, app_name: &str) -> Value {
    json!({
        "id": id,
        "value": USER_IMPERSONATION,
        "type": "User",
        "isEnabled": true,
        "adminConsentDisplayName": format!("Access {app_name}"),
        "adminConsentDescription": format!("Allow the application to access {app_name} on behalf of the signed-in user."),
        "userConsentDisplayName": format!("Access {app_name}"),
        "userConsentDescription": format!("Allow the application to access {app_name} on your behalf."),
    })
}

/// POST the app. A client app (`broker_reply` set) then gets the broker redirect, which
/// carries its appId and so can only be added once the app exists.
fn create_app(
    ctx: &Ctx,
    change: Change,
    body: Value,
    broker_reply: Option<&str>,
) -> Result<Option<Value>> {
    let graph = &ctx.cloud.graph;
    ctx.apply(change, async move {
        let r = graph.post("applications", &body).await?;
        let id = str_of(&r.body, "id");
        let mut v = r.body;
        let mut applied = Applied::new(Value::Null)
            .id(id.clone())
            .request_id(r.request_id)
            .resolve("appId", v["appId"].clone());
        if let Some(reply) = broker_reply {
            let uris = json!([reply, broker_redirect(&str_of(&v, "appId"))]);
            graph
                .patch(
                    &format!("applications/{id}"),
                    &json!({"publicClient": {"redirectUris": uris}}),
                )
                .await?;
            v["publicClient"]["redirectUris"] = uris.clone();
            applied = applied.resolve("publicClient.redirectUris", uris);
        }
        applied.value = v;
        Ok(applied)
    })
}

/// The client app is the one named `display_name` that asks for the server app's scope
/// (or the one whose appId the script gives): a name alone is never enough.
fn find_client_app(ctx: &Ctx, opts: &ClientAppOptions, server: &EntraApp) -> Result<Option<Value>> {
    if let Some(app_id) = &opts.app_id {
        return match app_by_app_id(ctx, app_id)? {
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

/// Builds a PATCH for an existing app from what differs. Graph replaces a complex
/// property (`web`, `api`, `publicClient`) whole, so a change inside one sends the whole
/// observed value with the change applied.
struct AppPatch<'a> {
    current: &'a Value,
    body: Map<String, Value>,
    fields: Vec<FieldChange>,
}

impl<'a> AppPatch<'a> {
    fn new(current: &'a Value) -> Self {
        AppPatch {
            current,
            body: Map::new(),
            fields: Vec::new(),
        }
    }

    /// The top-level property as it will be sent: pending changes included.
    fn top(&self, key: &str) -> Value {
        self.body
            .get(key)
            .cloned()
            .unwrap_or_else(|| self.current[key].clone())
    }

    fn put(&mut self, path: &[&str], before: &Value, after: Value) {
        let Some((top, inner)) = path.split_first() else {
            return;
        };
        let mut value = self.top(top);
        let mut slot = &mut value;
        for k in inner {
            slot = &mut slot[*k];
        }
        *slot = after.clone();
        self.body.insert((*top).to_string(), value);
        self.fields.push(field(&path.join("."), before, after));
    }

    fn get(&self, path: &[&str]) -> Value {
        let mut v = &self.current[path[0]];
        for k in &path[1..] {
            v = &v[*k];
        }
        v.clone()
    }

    /// Set a value, when it differs.
    fn set(&mut self, path: &[&str], want: Value) {
        let before = self.get(path);
        if before != want {
            self.put(path, &before, want);
        }
    }

    /// Add strings to a list, keeping what is there.
    fn add_to_list(&mut self, path: &[&str], items: &[String]) {
        let before = self.get(path);
        if items.iter().any(|i| !contains_str(&before, i)) {
            let after = union(&before, items);
            self.put(path, &before, after);
        }
    }

    /// The server app's `user_impersonation` scope, enabled.
    fn ensure_scope(&mut self, make: impl Fn() -> Value) {
        let before = self.get(&["api", "oauth2PermissionScopes"]);
        let mut scopes: Vec<Value> = before.as_array().cloned().unwrap_or_default();
        let existing = scopes
            .iter_mut()
            .find(|s| s["value"].as_str() == Some(USER_IMPERSONATION));
        match existing {
            Some(s) if s["isEnabled"].as_bool() == Some(true) => return,
            Some(s) => s["isEnabled"] = json!(true),
            None => scopes.push(make()),
        }
        self.put(
            &["api", "oauth2PermissionScopes"],
            &before,
            Value::Array(scopes),
        );
    }

    /// Every permission in `required`, keeping any others the app has.
    fn require(&mut self, required: &[Permission]) {
        let before = self.current["requiredResourceAccess"].clone();
        let (after, missing) = add_required(&before, required);
        if missing {
            self.body.insert("requiredResourceAccess".into(), after);
            self.fields.push(field(
                "requiredResourceAccess",
                &Value::Null,
                labels(required),
            ));
        }
    }

    /// PATCH what differs, or report the app unchanged.
    fn apply(self, ctx: &Ctx, key: &str, object: &'static str) -> Result<()> {
        let id = str_of(self.current, "id");
        if self.body.is_empty() {
            ctx.unchanged(MODULE, object, key, Some(&id));
            return Ok(());
        }
        let graph = &ctx.cloud.graph;
        let body = Value::Object(self.body);
        let path = format!("applications/{id}");
        let change = Change::update(MODULE, object, key).with_fields(self.fields);
        ctx.apply(change, async {
            let r = graph.patch(&path, &body).await?;
            Ok(Applied::new(()).id(id.clone()).request_id(r.request_id))
        })?;
        Ok(())
    }
}

/// Ensure the app's service principal. Entra replicates a new app with a delay, so a
/// create that says the app does not exist yet is retried for a bounded time.
fn ensure_service_principal(ctx: &Ctx, mut app: EntraApp) -> Result<EntraApp> {
    let key = format!("{} ({})", app.display_name, app.kind);
    let observed = if app.is_known() {
        sp_by_app_id(ctx, &app.app_id)?
    } else {
        None
    };
    if let Some(sp) = observed {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_sends_whole_complex_properties_and_lists_fields() {
        let current = json!({
            "id": "1",
            "displayName": "A",
            "web": {"homePageUrl": "https://x", "redirectUris": ["https://x"],
                    "implicitGrantSettings": {"enableIdTokenIssuance": false, "enableAccessTokenIssuance": false}},
        });
        let mut p = AppPatch::new(&current);
        p.set(&["displayName"], json!("A"));
        p.set(
            &["web", "implicitGrantSettings", "enableIdTokenIssuance"],
            json!(true),
        );
        p.add_to_list(
            &["web", "redirectUris"],
            &["https://x".into(), "https://y".into()],
        );
        assert_eq!(p.fields.len(), 2);
        assert_eq!(
            p.body["web"],
            json!({"homePageUrl": "https://x", "redirectUris": ["https://x", "https://y"],
                   "implicitGrantSettings": {"enableIdTokenIssuance": true, "enableAccessTokenIssuance": false}})
        );
        assert!(!p.body.contains_key("displayName"));
    }

    #[test]
    fn an_enabled_scope_needs_no_patch() {
        let current = json!({"api": {"oauth2PermissionScopes": [{"value": USER_IMPERSONATION, "isEnabled": true}]}});
        let mut p = AppPatch::new(&current);
        p.ensure_scope(|| json!({}));
        assert!(p.body.is_empty());
        let current = json!({"api": {"oauth2PermissionScopes": [{"value": USER_IMPERSONATION, "isEnabled": false}]}});
        let mut p = AppPatch::new(&current);
        p.ensure_scope(|| json!({}));
        assert_eq!(
            p.body["api"]["oauth2PermissionScopes"][0]["isEnabled"],
            true
        );
    }
}
