//! What the entra module reads and writes: one resource per file, each found by its
//! unique key (identifierUri, uniqueName, appId), never by display name alone, and
//! written only through `change::ensure`.

mod app_body;
mod client_app;
mod client_secret;
mod consent;
mod directory;
mod server_app;
mod service_principal;

pub use consent::grant_admin_consent;
pub use directory::{app_by_app_id, find_app, parse_time, sp_by_app_id, tenant};

use crate::change::{ensure, Known};
use crate::context::Ctx;
use crate::entra::model::*;
use crate::entra::objects::{ClientSecret, EntraApp, Permission, PermissionKind};
use crate::error::{ModuleError, Result};
use directory::{check_url, graph_sp, permission};

/// The module name in plans and the journal.
const MODULE: &str = "entra";

/// Ensure the server (web) app, its scope, its Graph permission and its service principal.
pub fn ensure_server_app(ctx: &Ctx, opts: &ServerAppOptions) -> Result<EntraApp> {
    non_empty("entra::server_app", &opts.display_name)?;
    check_url("home_page_url", &opts.home_page_url)?;
    let tenant = tenant(ctx)?;
    let uri = expand_uri(&opts.app_id_uri, &tenant.facts);
    let mut required = Vec::new();
    if opts.user_discovery {
        let graph = graph_sp(ctx)?;
        required.push(permission(
            &graph,
            PermissionKind::Application,
            DIRECTORY_READ_ALL,
        )?);
    }
    let app = ensure(
        ctx,
        server_app::ServerApp {
            opts,
            uri,
            required,
            new_scope_id: uuid::Uuid::new_v4().to_string(),
            tenant: tenant.facts,
        },
    )?;
    ensure(ctx, service_principal::ServicePrincipal { app })
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
            resource_key: server.key.clone(),
            resource: server.display_name.clone(),
            id: server.scope_id.clone().unwrap_or(Known::AfterApply),
            value: USER_IMPERSONATION.into(),
            kind: PermissionKind::Delegated,
        },
        permission(&graph, PermissionKind::Delegated, USER_READ)?,
    ];
    let app = ensure(
        ctx,
        client_app::ClientApp {
            opts,
            server,
            required,
        },
    )?;
    ensure(ctx, service_principal::ServicePrincipal { app })
}

/// Ensure a client secret named `display_name` that is valid beyond the renewal window.
pub fn ensure_client_secret(
    ctx: &Ctx,
    app: &EntraApp,
    opts: &SecretOptions,
) -> Result<ClientSecret> {
    opts.validate()?;
    ensure(ctx, client_secret::AppSecret::new(app, opts))
}

/// Add a new client secret now, even when a valid one exists (the site needs a secret
/// whose text this run holds; Graph shows the text only when it is made).
pub fn add_client_secret(ctx: &Ctx, app: &EntraApp, opts: &SecretOptions) -> Result<ClientSecret> {
    opts.validate()?;
    ensure(ctx, client_secret::AppSecret::forced(app, opts))
}

fn non_empty(function: &str, name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(ModuleError::validation(format!(
            "{function}: display_name is empty"
        )));
    }
    Ok(())
}
