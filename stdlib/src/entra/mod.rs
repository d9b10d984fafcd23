//! `entra` script module: the tutorial's "Enable Azure cloud services" and admin-consent
//! steps. Thin bindings only: the work is in `ops/` (one resource per file), the
//! options and rules in `model.rs`, what scripts get back in `objects.rs`.

pub mod model;
pub mod objects;
pub mod ops;

use crate::context::Ctx;
use crate::error::at;
use crate::options;
use crate::values::{optional, strings};
use objects::{ClientSecret, EntraApp};
use rhai::plugin::*;

#[export_module]
pub mod api {
    use super::*;

    /// Ensure the server (web) app registration the cloud management gateway uses.
    ///
    /// Finds the app by its App ID URI (never by name alone) and creates or updates it
    /// to carry: the display name, the home page URL, the `user_impersonation` scope
    /// ("Admins and users"), ID-token issuance, and — for Entra user discovery — the
    /// Microsoft Graph application permission `Directory.Read.All`. Also ensures the
    /// app's service principal. Permission ids are looked up in the tenant at run time.
    /// A new app is created by upsert on a `uniqueName` derived from the App ID URI, so
    /// two runs creating it at once make one app; the journal keys it by the App ID URI.
    ///
    /// # Options
    /// - `display_name` (string, required): e.g. `"Cloud Management web app"`.
    /// - `home_page_url` (string, default `"https://ConfigMgrService"`): ConfigMgr does not use it; Entra requires one.
    /// - `app_id_uri` (string, default `"api://{tenantId}/ConfigMgrService"`): must follow the tenant's
    ///   secure identifier URI patterns (`api://<tenantId>/<string>`, `https://<verifiedDomain>/<string>`, ...);
    ///   `{tenantId}` is filled in. The wizard's old default `https://ConfigMgrService` is refused.
    /// - `user_discovery` (bool, default `true`): request Graph `Directory.Read.All` (application).
    ///
    /// # Returns
    /// An `EntraApp`: `id`, `app_id`, `display_name`, `identifier_uri`, `service_principal_id`, `scope_id`.
    /// In a plan, ids not yet assigned read `(known after apply)`.
    ///
    /// # Permission
    /// Graph `Application.ReadWrite.All` (application or delegated); Global Administrator or
    /// Application Administrator when signed in as a person.
    ///
    /// # Example
    /// ```rhai
    /// let server = entra::server_app(#{ display_name: "Cloud Management web app" });
    /// print(`server app ${server.app_id} at ${server.identifier_uri}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn server_app(
        ctx: NativeCallContext,
        options: rhai::Map,
    ) -> Result<EntraApp, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let opts = options::parse("entra::server_app", options).map_err(at(&ctx))?;
        ops::ensure_server_app(&run, &opts).map_err(at(&ctx))
    }

    /// Ensure the native client app registration clients use to reach the server app.
    ///
    /// The client app is found by `app_id` when given; otherwise by its `uniqueName`,
    /// which is derived from the server app's App ID URI and this display name (so every
    /// machine running the runbook derives the same one, and two runs creating it at
    /// once make one app); otherwise, for an app made before, as the one app with this
    /// display name that asks for the server app's scope. A name alone is never enough.
    /// It gets: public client flows allowed, the reply URL, the broker redirect
    /// `ms-appx-web://Microsoft.AAD.BrokerPlugin/<appId>`, ID-token issuance, and the
    /// delegated permissions `user_impersonation` on the server app and Graph `User.Read`.
    /// Also ensures the app's service principal.
    ///
    /// # Options
    /// - `display_name` (string, required): e.g. `"Cloud Management native client app"`.
    /// - `reply_url` (string, default `"https://ConfigMgrClient"`): ConfigMgr does not use it.
    /// - `app_id` (string, optional): adopt this existing client app.
    ///
    /// # Returns
    /// An `EntraApp` (see `entra::server_app`).
    ///
    /// # Permission
    /// Graph `Application.ReadWrite.All`.
    ///
    /// # Example
    /// ```rhai
    /// let server = entra::server_app(#{ display_name: "Cloud Management web app" });
    /// let client = entra::client_app(server, #{ display_name: "Cloud Management native client app" });
    /// print(client.app_id);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn client_app(
        ctx: NativeCallContext,
        server: EntraApp,
        options: rhai::Map,
    ) -> Result<EntraApp, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let opts = options::parse("entra::client_app", options).map_err(at(&ctx))?;
        ops::ensure_client_app(&run, &opts, &server).map_err(at(&ctx))
    }

    /// Grant tenant-wide admin consent for everything an app asks for.
    ///
    /// The portal's "Grant admin consent for <tenant>": an app role assignment for each
    /// application permission (e.g. Graph `Directory.Read.All` for the server app) and one
    /// `AllPrincipals` delegated permission grant per resource (e.g. `user_impersonation`
    /// and `User.Read` for the client app). Existing consent is kept; missing scopes are added.
    ///
    /// # Returns
    /// A map: `roles` (array of `"Resource: permission"`) and `scopes` (array of `"Resource: scope"`).
    ///
    /// # Permission
    /// Graph `AppRoleAssignment.ReadWrite.All` and `DelegatedPermissionGrant.ReadWrite.All`
    /// (Global Administrator when signed in as a person).
    ///
    /// # Example
    /// ```rhai
    /// let server = entra::server_app(#{ display_name: "Cloud Management web app" });
    /// let granted = entra::grant_admin_consent(server);
    /// print(granted.roles);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn grant_admin_consent(
        ctx: NativeCallContext,
        app: EntraApp,
    ) -> Result<rhai::Map, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let c = ops::grant_admin_consent(&run, &app).map_err(at(&ctx))?;
        let mut m = rhai::Map::new();
        m.insert("roles".into(), strings(c.roles).into());
        m.insert("scopes".into(), strings(c.scopes).into());
        Ok(m)
    }

    /// Ensure the app has a client secret that stays valid beyond the renewal window.
    ///
    /// When a secret with this display name is valid for longer than `renew_within_days`,
    /// nothing changes and `value` is `()` (Entra shows a secret's text only once).
    /// Otherwise a new secret is added and its `value` is a `Secret`, which never prints.
    ///
    /// # Options
    /// - `display_name` (string, default `"ConfigMgr"`).
    /// - `years` (int, 1 or 2, default 1): the validity the Azure Services wizard offers.
    /// - `renew_within_days` (int, default 30).
    ///
    /// # Returns
    /// A `ClientSecret`: `key_id`, `display_name`, `end_date_time`, `created` (bool), `value` (`Secret` or `()`).
    ///
    /// # Permission
    /// Graph `Application.ReadWrite.All` (or `Application.ReadWrite.OwnedBy` as the owner).
    ///
    /// # Example
    /// ```rhai
    /// let server = entra::server_app(#{ display_name: "Cloud Management web app" });
    /// let s = entra::client_secret(server, #{ years: 1 });
    /// print(`secret ${s.key_id} expires ${s.end_date_time}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn client_secret(
        ctx: NativeCallContext,
        app: EntraApp,
        options: rhai::Map,
    ) -> Result<ClientSecret, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let opts = options::parse("entra::client_secret", options).map_err(at(&ctx))?;
        ops::ensure_client_secret(&run, &app, &opts).map_err(at(&ctx))
    }

    /// The tenant: id, display name, initial domain and verified domains.
    ///
    /// # Returns
    /// A map: `id`, `display_name`, `initial_domain`, `verified_domains` (array).
    ///
    /// # Permission
    /// Graph `Organization.Read.All` (application) or `User.Read` (delegated).
    ///
    /// # Example
    /// ```rhai
    /// let t = entra::tenant();
    /// print(`tenant ${t.id} (${t.initial_domain})`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn tenant(ctx: NativeCallContext) -> Result<rhai::Map, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let t = ops::tenant(&run).map_err(at(&ctx))?;
        let mut m = rhai::Map::new();
        m.insert("id".into(), t.facts.tenant_id.into());
        m.insert("display_name".into(), t.display_name.into());
        m.insert("initial_domain".into(), t.facts.initial_domain.into());
        m.insert(
            "verified_domains".into(),
            strings(t.facts.verified_domains).into(),
        );
        Ok(m)
    }

    /// Look up an app registration by appId or App ID URI.
    ///
    /// # Returns
    /// An `EntraApp`, or `()` when there is none.
    ///
    /// # Permission
    /// Graph `Application.Read.All`.
    ///
    /// # Example
    /// ```rhai
    /// let app = entra::find_app("api://" + entra::tenant().id + "/ConfigMgrService");
    /// if app == () { print("not created yet"); } else { print(app.app_id); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn find_app(ctx: NativeCallContext, key: &str) -> Result<Dynamic, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        Ok(optional(ops::find_app(&run, key).map_err(at(&ctx))?))
    }

    /// Application object id.
    #[rhai_fn(global, get = "id", pure)]
    pub fn app_object_id(a: &mut EntraApp) -> String {
        a.id.text().to_string()
    }
    /// Application (client) id.
    #[rhai_fn(global, get = "app_id", pure)]
    pub fn app_app_id(a: &mut EntraApp) -> String {
        a.app_id.text().to_string()
    }
    /// Display name.
    #[rhai_fn(global, get = "display_name", pure)]
    pub fn app_display_name(a: &mut EntraApp) -> String {
        a.display_name.clone()
    }
    /// App ID URI, or `()` for a client app.
    #[rhai_fn(global, get = "identifier_uri", pure)]
    pub fn app_identifier_uri(a: &mut EntraApp) -> Dynamic {
        optional(a.identifier_uri.clone())
    }
    /// The app's service principal object id.
    #[rhai_fn(global, get = "service_principal_id", pure)]
    pub fn app_sp_id(a: &mut EntraApp) -> String {
        a.service_principal_id.text().to_string()
    }
    /// The `user_impersonation` scope id (server app), or `()`.
    #[rhai_fn(global, get = "scope_id", pure)]
    pub fn app_scope_id(a: &mut EntraApp) -> Dynamic {
        optional(a.scope_id.as_ref().map(|k| k.text().to_string()))
    }
    /// `"server"` or `"client"`.
    #[rhai_fn(global, get = "kind", pure)]
    pub fn app_kind(a: &mut EntraApp) -> String {
        a.kind.to_string()
    }
    /// One line: kind, name, appId.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn app_to_string(a: &mut EntraApp) -> String {
        format!("{} app {:?} (appId {})", a.kind, a.display_name, a.app_id)
    }

    /// The secret's key id.
    #[rhai_fn(global, get = "key_id", pure)]
    pub fn secret_key_id(s: &mut ClientSecret) -> String {
        s.key_id.text().to_string()
    }
    /// The secret's display name.
    #[rhai_fn(global, get = "display_name", pure)]
    pub fn secret_display_name(s: &mut ClientSecret) -> String {
        s.display_name.clone()
    }
    /// When the secret expires (RFC 3339).
    #[rhai_fn(global, get = "end_date_time", pure)]
    pub fn secret_end(s: &mut ClientSecret) -> String {
        s.end_date_time.clone()
    }
    /// True when this run added the secret.
    #[rhai_fn(global, get = "created", pure)]
    pub fn secret_created(s: &mut ClientSecret) -> bool {
        s.created
    }
    /// The secret's text as a `Secret`, only right after it was created; otherwise `()`.
    #[rhai_fn(global, get = "value", pure)]
    pub fn secret_value(s: &mut ClientSecret) -> Dynamic {
        optional(s.value.clone())
    }
    /// One line without the secret's text.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn secret_to_string(s: &mut ClientSecret) -> String {
        format!(
            "client secret {:?} ({}), expires {}",
            s.display_name, s.key_id, s.end_date_time
        )
    }
}

pub fn module() -> rhai::Module {
    exported_module!(api)
}

/// The option keys of this module's functions.
pub fn option_specs() -> Vec<options::OptionSpec> {
    use options::OptionSpec;
    vec![
        OptionSpec::of::<model::ServerAppOptions>("entra::server_app", &[]),
        OptionSpec::of::<model::ClientAppOptions>("entra::client_app", &[]),
        OptionSpec::of::<model::SecretOptions>("entra::client_secret", &[]),
    ]
}

/// This module's types, with the line `comgmt doc` shows for each.
pub fn register_types(types: &mut rhai::Module) {
    use crate::values::document_type;
    document_type::<EntraApp>(
        types,
        "EntraApp",
        "An app registration and its service principal, from `entra::server_app` or `entra::client_app`.",
    );
    document_type::<ClientSecret>(
        types,
        "ClientSecret",
        "An app's client secret; `value` holds the text only right after it was created.",
    );
}
