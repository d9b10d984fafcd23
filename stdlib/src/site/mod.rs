//! `site` script module: the Configuration Manager site through its AdminService — the
//! site itself, the Entra apps and the cloud-management Azure service imported into
//! it, Entra user discovery, the site's client communication (enhanced HTTP) and its
//! site system roles (the CMG connection point, management and software update points). Thin bindings only: the work is in `ops/`, the
//! options and rules in `model.rs`, what scripts get back in `objects.rs`.

pub mod model;
pub mod objects;
pub mod ops;

use crate::context::Ctx;
use crate::entra::objects::{ClientSecret, EntraApp};
use crate::error::{at, ModuleError};
use crate::options;
use objects::{AzureService, Communication, Discovery, Site, SiteRole};
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

/// The `cmg` option of `site::ensure_role`: the `Cmg` from `cmg::ensure`, or its
/// service name.
fn take_cmg(function: &str, options: &mut Map) -> Result<ops::CmgRef, ModuleError> {
    let v = options.remove("cmg").ok_or_else(|| {
        ModuleError::validation(format!("{function}: option `cmg` is required"))
            .with_hint("pass the Cmg from cmg::ensure, or the CMG's service name")
    })?;
    let type_name = v.type_name();
    if let Some(c) = v.clone().try_cast::<crate::cmg::objects::Cmg>() {
        return Ok(ops::CmgRef {
            planned: !c.id.is_known(),
            name: c.name,
        });
    }
    match v.into_string() {
        Ok(name) if !name.trim().is_empty() => Ok(ops::CmgRef {
            name,
            planned: false,
        }),
        _ => Err(ModuleError::validation(format!(
            "{function}: option `cmg` must be the Cmg from cmg::ensure or a service name, not {type_name}"
        ))),
    }
}

/// The site server: the default site system of the role functions.
fn default_server(run: &Ctx) -> Result<String, ModuleError> {
    Ok(ops::site(run)?.server)
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

    /// Set how clients talk to the site's HTTP site systems: the site's Communication
    /// Security tab ("HTTPS only" or "HTTPS or HTTP", and "Use Configuration
    /// Manager-generated certificates for HTTP site systems", enhanced HTTP).
    ///
    /// Writes the site component manager's `IISSSLState` (`SMS_SCI_Component`,
    /// `SMS_SITE_COMPONENT_MANAGER|SMS Site Server`), computed from the value the site
    /// has: only the settings given change, every other bit stays as it is. The values
    /// follow an observed table (HTTPS or HTTP 192, with enhanced HTTP 1216); which bit
    /// means what beyond 1024 (enhanced HTTP) is UNCONFIRMED, and so is the AdminService
    /// write of embedded properties (public scripts use WMI): where the site takes no
    /// such write, `comgmt plan --powershell FILE` gives the `Set-CMSite` line instead.
    /// A second run changes nothing; a plan writes nothing.
    ///
    /// # Options
    /// - `client_communication` (string): "https_or_http" or "https_only"; left out: as it is.
    /// - `use_configmgr_certificates` (bool): enhanced HTTP; needs 1806 (build 8692) or later.
    /// - `check_crl` (bool): clients check the CRL for site systems.
    /// - `use_pki_client_certificate` (bool): use a PKI client certificate when available (HTTPS or HTTP only).
    ///
    /// # Returns
    /// A `Communication`: `site_code`, `client_communication`, `use_configmgr_certificates`,
    /// `iis_ssl_state`, `changed`.
    ///
    /// # Permission
    /// ConfigMgr: Full Administrator or Infrastructure Administrator.
    ///
    /// # Example
    /// ```rhai
    /// // On the emulator, as through a CMG, the AdminService takes a token for the server app.
    /// entra::server_app(#{ display_name: "Cloud Management web app" });
    /// let c = site::set_communication(#{
    ///     client_communication: "https_or_http", use_configmgr_certificates: true,
    /// });
    /// print(`site ${c.site_code}: IISSSLState ${c.iis_ssl_state}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn set_communication(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<Communication, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let opts = options::parse("site::set_communication", options).map_err(at(&ctx))?;
        ops::set_communication(&run, &opts).map_err(at(&ctx))
    }

    /// Add a site system role on the site server. See `ensure_role(server, role, options)`.
    ///
    /// # Options
    /// - `cmg` (Cmg or string, required): the `Cmg` from `cmg::ensure`, or the CMG's service name.
    ///
    /// # Returns
    /// A `SiteRole`.
    ///
    /// # Permission
    /// ConfigMgr: Full Administrator or Infrastructure Administrator.
    ///
    /// # Example
    /// ```rhai,no_run
    /// let cp = site::ensure_role("cmg_connection_point", #{ cmg: gw });   // gw from cmg::ensure
    /// ```
    #[rhai_fn(name = "ensure_role", return_raw)]
    pub fn ensure_role_on_site_server(
        ctx: NativeCallContext,
        role: &str,
        options: Map,
    ) -> Result<SiteRole, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let server = super::default_server(&run).map_err(at(&ctx))?;
        ensure_role(ctx, &server, role, options)
    }

    /// Ensure a site system role on a site system: today the CMG connection point
    /// (`"cmg_connection_point"`, the role `SMS Cloud Proxy Connector`), bound to a CMG.
    ///
    /// The role is found by its site, role name and server, and added only when it is
    /// not there; one bound to another CMG is changed. `server` must already be a site
    /// system of the site (an unknown one is an error listing the site's site systems),
    /// and the CMG must exist in the site (in a plan that creates it, it need not yet).
    /// The embedded property naming the CMG on the role is UNCONFIRMED (emulated at the
    /// property level); the plan shows the `Add-CMCloudManagementGatewayConnectionPoint`
    /// line that makes the same change by hand.
    ///
    /// # Options
    /// - `cmg` (Cmg or string, required): the `Cmg` from `cmg::ensure`, or the CMG's service name (`GraniteFalls.contoso.com`).
    ///
    /// # Returns
    /// A `SiteRole`: `server`, `role`, `role_name`, `site_code`, `cmg`, `changed`.
    ///
    /// # Permission
    /// ConfigMgr: Full Administrator or Infrastructure Administrator.
    ///
    /// # Example
    /// ```rhai,no_run
    /// // gw from cmg::ensure(...)
    /// let s = site::get();
    /// let cp = site::ensure_role(s.server, "cmg_connection_point", #{ cmg: gw });
    /// print(`${cp.role_name} on ${cp.server} for ${cp.cmg}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn ensure_role(
        ctx: NativeCallContext,
        server: &str,
        role: &str,
        options: Map,
    ) -> Result<SiteRole, Box<EvalAltResult>> {
        const F: &str = "site::ensure_role";
        let run = Ctx::of(&ctx)?;
        let mut options = options;
        let cmg = take_cmg(F, &mut options).map_err(at(&ctx))?;
        let _: model::RoleOptions = options::parse(F, options).map_err(at(&ctx))?;
        ops::ensure_role(&run, server, role, &cmg).map_err(at(&ctx))
    }

    /// Remove a site system role from the site server. See `remove_role(server, role)`.
    ///
    /// # Returns
    /// True when the role was there.
    ///
    /// # Permission
    /// ConfigMgr: Full Administrator or Infrastructure Administrator.
    ///
    /// # Example
    /// ```rhai
    /// entra::server_app(#{ display_name: "Cloud Management web app" });
    /// let removed = site::remove_role("cmg_connection_point");
    /// print(`removed: ${removed}`);
    /// ```
    #[rhai_fn(name = "remove_role", return_raw)]
    pub fn remove_role_on_site_server(
        ctx: NativeCallContext,
        role: &str,
    ) -> Result<bool, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let server = super::default_server(&run).map_err(at(&ctx))?;
        remove_role(ctx, &server, role)
    }

    /// Remove a site system role (`"cmg_connection_point"`) from a site system.
    ///
    /// Nothing to remove is no change; a plan shows the removal and makes none, with the
    /// `Remove-CMCloudManagementGatewayConnectionPoint` line.
    ///
    /// # Returns
    /// True when the role was there (in a plan: would be removed).
    ///
    /// # Permission
    /// ConfigMgr: Full Administrator or Infrastructure Administrator.
    ///
    /// # Example
    /// ```rhai
    /// entra::server_app(#{ display_name: "Cloud Management web app" });
    /// let s = site::get();
    /// if site::remove_role(s.server, "cmg_connection_point") { print("removed"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn remove_role(
        ctx: NativeCallContext,
        server: &str,
        role: &str,
    ) -> Result<bool, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        ops::remove_role(&run, server, role).map_err(at(&ctx))
    }

    /// Set the site server's management point. See `management_point(server, options)`.
    ///
    /// # Options
    /// - `allow_cmg_traffic` (bool): allow CMG traffic; left out: as it is.
    ///
    /// # Returns
    /// A `SiteRole`.
    ///
    /// # Permission
    /// ConfigMgr: Full Administrator or Infrastructure Administrator.
    ///
    /// # Example
    /// ```rhai,no_run
    /// let mp = site::management_point(#{ allow_cmg_traffic: true });
    /// ```
    #[rhai_fn(name = "management_point", return_raw)]
    pub fn management_point_on_site_server(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<SiteRole, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let server = super::default_server(&run).map_err(at(&ctx))?;
        management_point(ctx, &server, options)
    }

    /// Set a management point: "Allow Configuration Manager cloud management gateway
    /// traffic" (`AllowProxyTraffic` on its `SMS_SCI_SysResUse` row).
    ///
    /// An HTTP management point may take CMG traffic only when the site has enhanced
    /// HTTP: otherwise the call is refused before anything is written, naming the fix
    /// (`site::set_communication(#{ client_communication: "https_or_http",
    /// use_configmgr_certificates: true })`, or HTTPS on the management point). A plan
    /// that turns enhanced HTTP on earlier counts it as on. A server with no management
    /// point is an error listing the site's. `AllowProxyTraffic` comes from a third-party
    /// DSC resource and the AdminService write of embedded properties is UNCONFIRMED
    /// (public scripts use WMI): the plan shows the `Set-CMManagementPoint
    /// -EnableCloudGateway` line that makes the same change by hand.
    ///
    /// # Options
    /// - `allow_cmg_traffic` (bool): allow CMG traffic; left out: as it is.
    ///
    /// # Returns
    /// A `SiteRole`: `server`, `role`, `role_name`, `site_code`, `allow_cmg_traffic`,
    /// `https`, `changed`.
    ///
    /// # Permission
    /// ConfigMgr: Full Administrator or Infrastructure Administrator.
    ///
    /// # Example
    /// ```rhai
    /// entra::server_app(#{ display_name: "Cloud Management web app" });
    /// site::set_communication(#{ client_communication: "https_or_http", use_configmgr_certificates: true });
    /// let s = site::get();
    /// let mp = site::management_point(s.server, #{ allow_cmg_traffic: true });
    /// print(`${mp.server}: CMG traffic ${mp.allow_cmg_traffic}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn management_point(
        ctx: NativeCallContext,
        server: &str,
        options: Map,
    ) -> Result<SiteRole, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let opts = options::parse("site::management_point", options).map_err(at(&ctx))?;
        ops::point(&run, ops::Point::Management, server, &opts).map_err(at(&ctx))
    }

    /// Set the site server's software update point. See
    /// `software_update_point(server, options)`.
    ///
    /// # Options
    /// - `allow_cmg_traffic` (bool): allow CMG traffic; left out: as it is.
    ///
    /// # Returns
    /// A `SiteRole`.
    ///
    /// # Permission
    /// ConfigMgr: Full Administrator or Infrastructure Administrator.
    ///
    /// # Example
    /// ```rhai,no_run
    /// let sup = site::software_update_point(#{ allow_cmg_traffic: true });
    /// ```
    #[rhai_fn(name = "software_update_point", return_raw)]
    pub fn software_update_point_on_site_server(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<SiteRole, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let server = super::default_server(&run).map_err(at(&ctx))?;
        software_update_point(ctx, &server, options)
    }

    /// Set a software update point: "Allow Configuration Manager cloud management
    /// gateway traffic", the same switch and the same rule as `management_point` (an
    /// HTTP point needs the site's enhanced HTTP). The software update point must exist
    /// (this does not add one). Its embedded property name is UNCONFIRMED
    /// (`AllowProxyTraffic`, as on a management point); the plan shows the
    /// `Set-CMSoftwareUpdatePoint -EnableCloudGateway` line.
    ///
    /// # Options
    /// - `allow_cmg_traffic` (bool): allow CMG traffic; left out: as it is.
    ///
    /// # Returns
    /// A `SiteRole`.
    ///
    /// # Permission
    /// ConfigMgr: Full Administrator or Infrastructure Administrator.
    ///
    /// # Example
    /// ```rhai,no_run
    /// let sup = site::software_update_point("SUP01.contoso.com", #{ allow_cmg_traffic: true });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn software_update_point(
        ctx: NativeCallContext,
        server: &str,
        options: Map,
    ) -> Result<SiteRole, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let opts = options::parse("site::software_update_point", options).map_err(at(&ctx))?;
        ops::point(&run, ops::Point::SoftwareUpdate, server, &opts).map_err(at(&ctx))
    }

    /// The site code.
    #[rhai_fn(global, get = "site_code", pure)]
    pub fn comm_site_code(c: &mut Communication) -> String {
        c.site_code.clone()
    }
    /// `https_or_http` or `https_only`.
    #[rhai_fn(global, get = "client_communication", pure)]
    pub fn comm_client_communication(c: &mut Communication) -> String {
        c.client_communication.clone()
    }
    /// Whether enhanced HTTP is on.
    #[rhai_fn(global, get = "use_configmgr_certificates", pure)]
    pub fn comm_ehttp(c: &mut Communication) -> bool {
        c.use_configmgr_certificates
    }
    /// The site's `IISSSLState` (1216: HTTPS or HTTP with enhanced HTTP).
    #[rhai_fn(global, get = "iis_ssl_state", pure)]
    pub fn comm_state(c: &mut Communication) -> i64 {
        c.iis_ssl_state
    }
    /// True when this call changed the site.
    #[rhai_fn(global, get = "changed", pure)]
    pub fn comm_changed(c: &mut Communication) -> bool {
        c.changed
    }
    /// One line: the settings.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn comm_to_string(c: &mut Communication) -> String {
        format!(
            "site {} communication: {}, enhanced HTTP {} (IISSSLState {})",
            c.site_code,
            c.client_communication,
            if c.use_configmgr_certificates {
                "on"
            } else {
                "off"
            },
            c.iis_ssl_state
        )
    }

    /// The site system's FQDN.
    #[rhai_fn(global, get = "server", pure)]
    pub fn role_server(r: &mut SiteRole) -> String {
        r.server.clone()
    }
    /// `cmg_connection_point`, `management_point`, `software_update_point`.
    #[rhai_fn(global, get = "role", pure)]
    pub fn role_role(r: &mut SiteRole) -> String {
        r.role.clone()
    }
    /// The product's role name, e.g. `SMS Cloud Proxy Connector`.
    #[rhai_fn(global, get = "role_name", pure)]
    pub fn role_role_name(r: &mut SiteRole) -> String {
        r.role_name.clone()
    }
    /// The site code.
    #[rhai_fn(global, get = "site_code", pure)]
    pub fn role_site_code(r: &mut SiteRole) -> String {
        r.site_code.clone()
    }
    /// The CMG's service name (a connection point), else "".
    #[rhai_fn(global, get = "cmg", pure)]
    pub fn role_cmg(r: &mut SiteRole) -> String {
        r.cmg.clone()
    }
    /// Whether the point allows CMG traffic.
    #[rhai_fn(global, get = "allow_cmg_traffic", pure)]
    pub fn role_allow(r: &mut SiteRole) -> bool {
        r.allow_cmg_traffic
    }
    /// Whether the role takes HTTPS client connections.
    #[rhai_fn(global, get = "https", pure)]
    pub fn role_https(r: &mut SiteRole) -> bool {
        r.https
    }
    /// True when this call changed the role.
    #[rhai_fn(global, get = "changed", pure)]
    pub fn role_changed(r: &mut SiteRole) -> bool {
        r.changed
    }
    /// One line: role and server.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn role_to_string(r: &mut SiteRole) -> String {
        format!("{} on {} (site {})", r.role_name, r.server, r.site_code)
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
        OptionSpec::of::<model::CommunicationOptions>("site::set_communication", &[]),
        OptionSpec::of::<model::RoleOptions>("site::ensure_role", &["cmg"]),
        OptionSpec::of::<model::PointOptions>("site::management_point", &[]),
        OptionSpec::of::<model::PointOptions>("site::software_update_point", &[]),
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
    document_type::<Communication>(
        types,
        "Communication",
        "The site's client communication settings, from `site::set_communication`.",
    );
    document_type::<SiteRole>(
        types,
        "SiteRole",
        "A site system role, from `site::ensure_role`, `site::management_point` or `site::software_update_point`.",
    );
    document_type::<Discovery>(
        types,
        "Discovery",
        "How a discovery run ended, from `site::run_discovery`.",
    );
}
