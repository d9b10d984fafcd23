//! `site` script module: the Configuration Manager site through its AdminService — the
//! site itself, the Entra apps and the cloud-management Azure service imported into
//! it, and Entra user discovery. Thin bindings only: the work is in `ops/`, the
//! options and rules in `model.rs`, what scripts get back in `objects.rs`.

pub mod model;
pub mod objects;
pub mod ops;

use crate::context::Ctx;
use crate::entra::objects::{ClientSecret, EntraApp};
use crate::error::{at, ModuleError};
use crate::options;
use objects::{AzureService, Discovery, Site};
use rhai::plugin::*;
use rhai::Map;

/// Take an object option (`server: entra::server_app(...)`) out of the map.
fn take_object<T: Clone + 'static>(
    function: &str,
    options: &mut Map,
    key: &str,
    what: &str,
) -> Result<T, ModuleError> {
    let v = options.remove(key).ok_or_else(|| {
        ModuleError::validation(format!("{function}: option `{key}` is required"))
            .with_hint(format!("pass {what}"))
    })?;
    let type_name = v.type_name();
    v.try_cast::<T>().ok_or_else(|| {
        ModuleError::validation(format!(
            "{function}: option `{key}` must be {what}, not {type_name}"
        ))
    })
}

#[export_module]
pub mod api {
    use super::*;

    /// The Configuration Manager site the profile's AdminService serves.
    ///
    /// Reads `SMS_Site` and picks the primary site (`Type` 2); an AdminService that
    /// lists none, or several, is an error saying which.
    ///
    /// # Returns
    /// A `Site`: `code`, `name`, `version` (`5.00.9128.1000`), `build` (9128),
    /// `product_line` (`Configuration Manager current branch 2403`), `server`.
    ///
    /// # Permission
    /// ConfigMgr: any security role that can read the site (Read-only Analyst at least).
    ///
    /// # Example
    /// ```rhai
    /// // On the emulator, as through a CMG, the AdminService takes a token for the server app.
    /// entra::server_app(#{ display_name: "Cloud Management web app" });
    /// let s = site::get();
    /// print(`${s.code}: ${s.product_line} on ${s.server}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn get(ctx: NativeCallContext) -> Result<Site, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        ops::site(&run).map_err(at(&ctx))
    }

    /// Import the server and client apps into the site and ensure the cloud-management
    /// Azure service with Entra user discovery: the site side of the Azure Services wizard.
    ///
    /// The tenant, the two apps and the service are each found by a unique key (tenant
    /// id, app client id, service name) and created or changed only when they differ,
    /// so a second run changes nothing and two runs at once make no twins (the site
    /// refuses a second row with the same key; the later run changes the first one).
    ///
    /// The server app's client secret is passed as the `ClientSecret` that
    /// `entra::client_secret` returned. It is sent to the site and never printed,
    /// journalled or shown in a plan. The site keeps the secret it holds while Entra
    /// still holds it and it expires no sooner than the newest; otherwise the site gets
    /// the new one. When the run does not hold the new secret's text (Graph shows it only
    /// when it is made), a new secret is added to the app for the site, so nobody copies
    /// a secret by hand.
    ///
    /// The AdminService classes (`SMS_AAD_Tenant_Ex`, `SMS_AAD_Application_Ex`,
    /// `SMS_Azure_CloudService`) and most of their property names are not documented by
    /// Microsoft: they are UNCONFIRMED, emulated at the property level. Where a site
    /// allows no writes through the AdminService, `comgmt plan --powershell FILE` writes
    /// the `Import-CMAADServerApplication`, `Import-CMAADClientApplication` and
    /// `New-CMCloudManagementAzureService` lines instead.
    ///
    /// # Options
    /// - `name` (string, required): the service's name in the console, e.g. "My cloud management service".
    /// - `server` (EntraApp, required): from `entra::server_app`.
    /// - `client` (EntraApp, required): from `entra::client_app`.
    /// - `secret` (ClientSecret, required): from `entra::client_secret(server, …)`.
    /// - `description` (string, default ""): the service's description.
    /// - `environment` (string, default "AzurePublicCloud"): or "AzureUSGovernmentCloud".
    /// - `user_discovery` (bool, default true): enable Entra user discovery.
    /// - `delta_minutes` (int, default 5): minutes between delta discoveries, 5-1440; 0 turns delta discovery off.
    /// - `schedule` (string, default "7d"): how often a full discovery runs: "7d", "12h", "30m".
    ///
    /// # Returns
    /// An `AzureService`: `id` (the site's id for it), `name`, `tenant_id`,
    /// `server_app_id`, `client_app_id`, `user_discovery`, `delta_minutes`, `schedule`,
    /// `secret_expiry` (when the secret the site holds expires), `secret_replaced`.
    ///
    /// # Permission
    /// ConfigMgr: Full Administrator or Infrastructure Administrator. Entra (only when a
    /// new secret is added): `Application.ReadWrite.All`, or owner of the app.
    ///
    /// # Example
    /// ```rhai
    /// let server = entra::server_app(#{ display_name: "Cloud Management web app" });
    /// let client = entra::client_app(server, #{ display_name: "Cloud Management native client app" });
    /// let secret = entra::client_secret(server, #{ years: 1 });
    /// let svc = site::azure_service(#{
    ///     name: "My cloud management service",
    ///     server: server, client: client, secret: secret,
    ///     user_discovery: true, delta_minutes: 5, schedule: "7d",
    /// });
    /// print(`${svc.name}: secret valid until ${svc.secret_expiry}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn azure_service(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<AzureService, Box<EvalAltResult>> {
        const F: &str = "site::azure_service";
        let run = Ctx::of(&ctx)?;
        let mut options = options;
        let server: EntraApp = take_object(
            F,
            &mut options,
            "server",
            "the EntraApp from entra::server_app",
        )
        .map_err(at(&ctx))?;
        let client: EntraApp = take_object(
            F,
            &mut options,
            "client",
            "the EntraApp from entra::client_app",
        )
        .map_err(at(&ctx))?;
        let secret: ClientSecret = take_object(
            F,
            &mut options,
            "secret",
            "the ClientSecret from entra::client_secret",
        )
        .map_err(at(&ctx))?;
        let opts = options::parse(F, options).map_err(at(&ctx))?;
        ops::ensure_azure_service(&run, &opts, &server, &client, &secret).map_err(at(&ctx))
    }

    /// Run a full discovery now and wait for the site to finish it.
    ///
    /// See `run_discovery(service, kind, options)`.
    ///
    /// # Returns
    /// A `Discovery`, or `()` in a plan.
    ///
    /// # Permission
    /// ConfigMgr: Full Administrator or Infrastructure Administrator.
    ///
    /// # Example
    /// ```rhai,no_run
    /// let d = site::run_discovery(svc, "user");   // svc from site::azure_service
    /// ```
    #[rhai_fn(name = "run_discovery", return_raw)]
    pub fn run_discovery_default(
        ctx: NativeCallContext,
        service: AzureService,
        kind: &str,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        run_discovery(ctx, service, kind, Map::new())
    }

    /// Run a full Entra user discovery now ("Run Full Discovery Now") and wait until the
    /// site reports it finished.
    ///
    /// A plan shows the run it would start and starts nothing. When the last run
    /// succeeded and this run changed nothing in the service (its apps, secret or
    /// settings), no new run is started and that run is the answer, so a re-run of a
    /// runbook changes nothing; `force: true` always starts one. After the site reports
    /// the run finished, the result has the number of users it discovered; a run the
    /// site reports failed (for example, Entra refusing the secret the site holds) is an
    /// error. The product documents no API to start discovery: the method and the
    /// properties followed here are UNCONFIRMED, emulated at the property level. The
    /// tutorial then checks `SMS_AZUREAD_DISCOVERY_AGENT.log` with `logs::wait_for`.
    ///
    /// # Options
    /// - `timeout` (int, default 900): seconds to wait for the site.
    /// - `force` (bool, default false): start a run even when the last one succeeded and nothing changed.
    ///
    /// # Returns
    /// A `Discovery` — `service`, `kind` ("user"), `status` ("Succeeded"), `users`
    /// (how many it discovered), `finished` (when) — or `()` in a plan.
    ///
    /// # Permission
    /// ConfigMgr: Full Administrator or Infrastructure Administrator. The server app
    /// needs Graph `Directory.Read.All` (application) with admin consent.
    ///
    /// # Example
    /// ```rhai
    /// let server = entra::server_app(#{ display_name: "Cloud Management web app" });
    /// let client = entra::client_app(server, #{ display_name: "Cloud Management native client app" });
    /// let secret = entra::client_secret(server, #{ years: 1 });
    /// entra::grant_admin_consent(server);   // Directory.Read.All, which discovery needs
    /// let svc = site::azure_service(#{ name: "My cloud management service",
    ///     server: server, client: client, secret: secret });
    /// let d = site::run_discovery(svc, "user", #{ timeout: 600 });
    /// if d != () { print(`${d.users} users discovered`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn run_discovery(
        ctx: NativeCallContext,
        service: AzureService,
        kind: &str,
        options: Map,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let opts: ops::DiscoveryOptions =
            options::parse("site::run_discovery", options).map_err(at(&ctx))?;
        let d = ops::run_discovery(&run, &service, kind, &opts).map_err(at(&ctx))?;
        Ok(d.map(Dynamic::from).unwrap_or(Dynamic::UNIT))
    }

    /// The folder the site server writes its logs to, as this machine reaches it.
    ///
    /// The profile's `site_log_dir` (a share such as `\\CM01\SMS_ABC\Logs`), or the
    /// emulator's log folder on the emulator target.
    ///
    /// # Returns
    /// The folder as a string, or `()` when the target names none.
    ///
    /// # Permission
    /// Read access to the folder (on a site server: the `SMS_<code>\Logs` share).
    ///
    /// # Example
    /// ```rhai
    /// let dir = site::log_dir();
    /// if dir != () { print(`site logs in ${dir}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn log_dir(ctx: NativeCallContext) -> Result<Dynamic, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        Ok(run
            .read()
            .site_log_dir()
            .map(|p| Dynamic::from(p.display().to_string()))
            .unwrap_or(Dynamic::UNIT))
    }

    /// Site code, e.g. `ABC`.
    #[rhai_fn(global, get = "code", pure)]
    pub fn site_code(s: &mut Site) -> String {
        s.code.clone()
    }
    /// Site name.
    #[rhai_fn(global, get = "name", pure)]
    pub fn site_name(s: &mut Site) -> String {
        s.name.clone()
    }
    /// Version, e.g. `5.00.9128.1000`.
    #[rhai_fn(global, get = "version", pure)]
    pub fn site_version(s: &mut Site) -> String {
        s.version.clone()
    }
    /// Build number, e.g. 9128.
    #[rhai_fn(global, get = "build", pure)]
    pub fn site_build(s: &mut Site) -> i64 {
        i64::from(s.build)
    }
    /// e.g. `Configuration Manager current branch 2403`.
    #[rhai_fn(global, get = "product_line", pure)]
    pub fn site_product_line(s: &mut Site) -> String {
        s.product_line.clone()
    }
    /// The site server's FQDN.
    #[rhai_fn(global, get = "server", pure)]
    pub fn site_server(s: &mut Site) -> String {
        s.server.clone()
    }
    /// One line: code, version, server.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn site_to_string(s: &mut Site) -> String {
        format!(
            "site {} ({}, {}) on {}",
            s.code, s.product_line, s.version, s.server
        )
    }

    /// The site's id for the service (`()` in a plan that creates it).
    #[rhai_fn(global, get = "id", pure)]
    pub fn svc_id(s: &mut AzureService) -> Dynamic {
        s.id.value()
            .map(|v| Dynamic::from(*v))
            .unwrap_or(Dynamic::UNIT)
    }
    /// The service's name.
    #[rhai_fn(global, get = "name", pure)]
    pub fn svc_name(s: &mut AzureService) -> String {
        s.name.clone()
    }
    /// The Entra tenant id.
    #[rhai_fn(global, get = "tenant_id", pure)]
    pub fn svc_tenant_id(s: &mut AzureService) -> String {
        s.tenant_id.clone()
    }
    /// The server app's client id.
    #[rhai_fn(global, get = "server_app_id", pure)]
    pub fn svc_server_app_id(s: &mut AzureService) -> Dynamic {
        s.server_app_id.to_dynamic()
    }
    /// The server app's App ID URI.
    #[rhai_fn(global, get = "server_app_uri", pure)]
    pub fn svc_server_app_uri(s: &mut AzureService) -> String {
        s.server_app_uri.clone()
    }
    /// The client app's client id.
    #[rhai_fn(global, get = "client_app_id", pure)]
    pub fn svc_client_app_id(s: &mut AzureService) -> Dynamic {
        s.client_app_id.to_dynamic()
    }
    /// Whether Entra user discovery is on.
    #[rhai_fn(global, get = "user_discovery", pure)]
    pub fn svc_user_discovery(s: &mut AzureService) -> bool {
        s.user_discovery
    }
    /// Minutes between delta discoveries (0: off).
    #[rhai_fn(global, get = "delta_minutes", pure)]
    pub fn svc_delta_minutes(s: &mut AzureService) -> i64 {
        i64::from(s.delta_minutes)
    }
    /// How often a full discovery runs (`7d`).
    #[rhai_fn(global, get = "schedule", pure)]
    pub fn svc_schedule(s: &mut AzureService) -> String {
        s.schedule.clone()
    }
    /// When the secret the site holds expires.
    #[rhai_fn(global, get = "secret_expiry", pure)]
    pub fn svc_secret_expiry(s: &mut AzureService) -> String {
        s.secret_expiry.clone()
    }
    /// True when this run gave the site a new secret.
    #[rhai_fn(global, get = "secret_replaced", pure)]
    pub fn svc_secret_replaced(s: &mut AzureService) -> bool {
        s.secret_replaced
    }
    /// One line: name, apps, discovery.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn svc_to_string(s: &mut AzureService) -> String {
        format!(
            "Azure service {:?} (server app {}, client app {}, user discovery {})",
            s.name,
            s.server_app_id.text(),
            s.client_app_id.text(),
            if s.user_discovery { "on" } else { "off" }
        )
    }

    /// The Azure service's name.
    #[rhai_fn(global, get = "service", pure)]
    pub fn disc_service(d: &mut Discovery) -> String {
        d.service.clone()
    }
    /// `user`.
    #[rhai_fn(global, get = "kind", pure)]
    pub fn disc_kind(d: &mut Discovery) -> String {
        d.kind.clone()
    }
    /// `Succeeded`.
    #[rhai_fn(global, get = "status", pure)]
    pub fn disc_status(d: &mut Discovery) -> String {
        d.status.clone()
    }
    /// How many users the run discovered.
    #[rhai_fn(global, get = "users", pure)]
    pub fn disc_users(d: &mut Discovery) -> i64 {
        d.users
    }
    /// When it finished.
    #[rhai_fn(global, get = "finished", pure)]
    pub fn disc_finished(d: &mut Discovery) -> String {
        d.finished.clone()
    }
    /// One line: status and count.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn disc_to_string(d: &mut Discovery) -> String {
        format!(
            "{} discovery on {:?}: {}, {} users, finished {}",
            d.kind, d.service, d.status, d.users, d.finished
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
        OptionSpec::of::<model::AzureServiceOptions>(
            "site::azure_service",
            &["server", "client", "secret"],
        ),
        OptionSpec::of::<ops::DiscoveryOptions>("site::run_discovery", &[]),
    ]
}

/// This module's types, with the line `comgmt doc` shows for each.
pub fn register_types(types: &mut rhai::Module) {
    use crate::values::document_type;
    document_type::<Site>(
        types,
        "Site",
        "A Configuration Manager site, from `site::get`.",
    );
    document_type::<AzureService>(
        types,
        "AzureService",
        "The cloud-management Azure service in the site, from `site::azure_service`.",
    );
    document_type::<Discovery>(
        types,
        "Discovery",
        "How a discovery run ended, from `site::run_discovery`.",
    );
}
