//! `cmg` script module: the cloud management gateway, created the way the product
//! creates it (a CMG object on the site's Azure service, which the site then deploys to
//! Azure), followed in Azure, and operated (scale, certificate, stop/start, status).
//! Its naming rules live in `names.rs`, where the certificate checks find them too.
//! Thin bindings only: the work is in `ops/`, options and rules in `model.rs`.

pub mod model;
pub mod names;
pub mod objects;
pub mod ops;

use crate::context::Ctx;
use crate::error::{at, ModuleError};
use crate::options;
use crate::site::objects::AzureService;
use crate::values::strings;
use objects::Cmg;
use ops::PfxSource;
use rhai::plugin::*;
use rhai::{Array, Map};

/// The `pfx` argument: what `cert::export_pfx` returned, or a path.
fn pfx_source(function: &str, v: Dynamic) -> Result<PfxSource, ModuleError> {
    if v.is::<crate::cert::objects::Certificate>() {
        return Ok(PfxSource::Exported(Box::new(v.cast())));
    }
    if v.is_string() {
        return Ok(PfxSource::File(v.into_string().unwrap_or_default()));
    }
    Err(ModuleError::validation(format!(
        "{function}: `pfx` must be what cert::export_pfx returned or a .pfx path, not {}",
        v.type_name()
    )))
}

fn password(function: &str, options: &mut Map) -> Result<crate::secret::Secret, ModuleError> {
    options::take_secret(function, options, "password")?.ok_or_else(|| {
        ModuleError::validation(format!("{function}: option `password` is required"))
            .with_hint("the PFX password, e.g. secret(\"COMGMT_PFX_PASSWORD\")")
    })
}

#[export_module]
pub mod api {
    use super::*;

    /// Ensure the cloud management gateway (a virtual machine scale set CMG) and follow
    /// its deployment in Azure until the site reports it ready.
    ///
    /// The CMG is created as the product creates it: a CMG object (`SMS_AzureService`,
    /// `ServiceType` `CloudProxyService`) on the site's Azure service, after which the
    /// site's service connection point deploys it to Azure with the server app. The
    /// service name is the certificate's CN (for a wildcard certificate, `name_prefix`
    /// under its domain) and the deployment name `<prefix>.<region>.cloudapp.azure.com`,
    /// as the wizard derives them.
    ///
    /// Before anything is written: `cert::check_cmg` on the certificate, the three name
    /// checks of `azure::check_cmg_name` (for a new CMG), the resource group in the CMG's
    /// region, and the server app holding Contributor on it. Found by its service name:
    /// a second run changes nothing; a changed option (instances, alerts, a renewed
    /// certificate) is an update; region, group and subscription cannot change. The PFX
    /// and its password are sent to the site and never printed or journalled. A plan
    /// shows the `New-CMCloudManagementGateway` line. Then, with progress on a terminal,
    /// it polls the site until the CMG is Ready (Error or the deadline is an error naming
    /// the last state and the deployment), and reads what the deployment left in Azure.
    /// The VMSS-era property names of `SMS_AzureService` and the state values are
    /// UNCONFIRMED (the docs give none), emulated at the property level.
    ///
    /// # Options
    /// - `pfx` (Certificate or string, required): what `cert::export_pfx` returned, or a .pfx path.
    /// - `password` (secret, required): the PFX password.
    /// - `azure_service` (AzureService, required): from `site::azure_service`.
    /// - `region` (string, required): e.g. "westus".
    /// - `resource_group` (string, required): an existing group in `region` (`azure::resource_group`).
    /// - `subscription` (string, optional): default `azure::subscription()`.
    /// - `name_prefix` (string, optional): for a wildcard certificate, the CMG's name under its domain.
    /// - `description` (string, default "").
    /// - `vm_instances` (int, default 1): 1 to 16.
    /// - `vm_size` (string, default "A2_v2"): "A2_v2" (Standard), "A4_v2" (Large), "B2s" (Lab).
    /// - `verify_client_cert_revocation` (bool, default true).
    /// - `enforce_tls12` (bool, default true).
    /// - `allow_content` (bool, default true): the CMG serves content (cloud DP).
    /// - `alerts` (map, optional): `traffic_out_gb` (14-day outbound threshold, default none),
    ///   `warning_percent` (default 50), `critical_percent` (default 90), `stop_when_critical` (default false).
    /// - `timeout` (int, default 1800): seconds to follow the deployment.
    ///
    /// # Returns
    /// A `Cmg`: `id`, `name` (service name), `deployment_name`, `region`,
    /// `resource_group`, `subscription`, `instances`, `vm_size`, `state` (`Ready`),
    /// `status_details`, `thumbprint`, `certificate_expiry`, `content`, `fqdn` (the
    /// public IP's, from Azure), `provisioning_state` (the scale set's), `resources`
    /// (what the deployment made), `deployment_id`.
    ///
    /// # Permission
    /// ConfigMgr: Full Administrator or Infrastructure Administrator. Azure: the site's
    /// server app needs Contributor on the resource group (`azure::role_assignment`);
    /// Reader for the checks.
    ///
    /// # Example
    /// ```rhai
    /// // The site's Azure service (see site::azure_service).
    /// let server = entra::server_app(#{ display_name: "Cloud Management web app" });
    /// let client = entra::client_app(server, #{ display_name: "Cloud Management native client app" });
    /// let svc = site::azure_service(#{ name: "My cloud management service", server: server,
    ///     client: client, secret: entra::client_secret(server, #{ years: 1 }) });
    /// // The certificate as a PFX (a lab CA here; a public one for real: cert::import_cert).
    /// let req = cert::request(#{ common_name: "GraniteFalls.contoso.com", out: "certs/cmg" });
    /// let crt = cert::lab_ca(#{ name: "Lab", out: "certs/ca" }).issue(req);
    /// let pfx = cert::export_pfx(crt, #{ out: "certs/cmg.pfx", password: secret("COMGMT_PFX_PASSWORD") });
    /// // Azure: providers, the group in the CMG's region, the server app's role on it.
    /// azure::providers();
    /// azure::resource_group("GraniteFalls-cmg", "westus");
    /// azure::role_assignment(server, "Contributor", #{ resource_group: "GraniteFalls-cmg" });
    /// let gw = cmg::ensure(#{
    ///     pfx: pfx, password: secret("COMGMT_PFX_PASSWORD"), azure_service: svc,
    ///     region: "westus", resource_group: "GraniteFalls-cmg", vm_instances: 1,
    /// });
    /// print(`${gw.name} -> ${gw.fqdn}: ${gw.state}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn ensure(ctx: NativeCallContext, options: Map) -> Result<Cmg, Box<EvalAltResult>> {
        const F: &str = "cmg::ensure";
        let run = Ctx::of(&ctx)?;
        let mut options = options;
        let pfx = options
            .remove("pfx")
            .ok_or_else(|| ModuleError::validation(format!("{F}: option `pfx` is required")))
            .and_then(|v| pfx_source(F, v))
            .map_err(at(&ctx))?;
        let pw = password(F, &mut options).map_err(at(&ctx))?;
        let service: AzureService = options
            .remove("azure_service")
            .and_then(|v| v.try_cast::<AzureService>())
            .ok_or_else(|| {
                ModuleError::validation(format!(
                    "{F}: option `azure_service` is required: the AzureService from site::azure_service"
                ))
            })
            .map_err(at(&ctx))?;
        let opts = options::parse(F, options).map_err(at(&ctx))?;
        ops::ensure_cmg(&run, &opts, pfx, &pw, &service).map_err(at(&ctx))
    }

    /// The site's CMG with this service name, with what it is in Azure.
    ///
    /// # Returns
    /// A `Cmg` (see `cmg::ensure`); an error when the site has none by that name.
    ///
    /// # Permission
    /// ConfigMgr: Read-only Analyst; Azure: Reader on the CMG's resource group.
    ///
    /// # Example
    /// ```rhai,no_run
    /// let gw = cmg::get("GraniteFalls.contoso.com");
    /// print(gw.state);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn get(ctx: NativeCallContext, name: &str) -> Result<Cmg, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        ops::get(&run, name).map_err(at(&ctx))
    }

    /// Every CMG of the site (without Azure details).
    ///
    /// # Returns
    /// An array of `Cmg`.
    ///
    /// # Permission
    /// ConfigMgr: Read-only Analyst.
    ///
    /// # Example
    /// ```rhai
    /// entra::server_app(#{ display_name: "Cloud Management web app" });   // the AdminService's audience
    /// for gw in cmg::list() { print(`${gw.name}: ${gw.state}, ${gw.instances} VM(s)`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn list(ctx: NativeCallContext) -> Result<Array, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let all = ops::list(&run).map_err(at(&ctx))?;
        Ok(all.into_iter().map(Dynamic::from).collect())
    }

    /// Scale the CMG to `n` VM instances (1-16) through the site, and wait until it is
    /// ready again. A second call with the same `n` changes nothing.
    ///
    /// # Returns
    /// The `Cmg` after the change.
    ///
    /// # Permission
    /// ConfigMgr: Full Administrator or Infrastructure Administrator.
    ///
    /// # Example
    /// ```rhai,no_run
    /// let gw = cmg::get("GraniteFalls.contoso.com").set_instances(2);
    /// print(gw.instances);
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn set_instances(
        ctx: NativeCallContext,
        cmg: &mut Cmg,
        n: i64,
    ) -> Result<Cmg, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        ops::set_instances(&run, cmg, n, model::WaitOptions::default().timeout).map_err(at(&ctx))
    }

    /// Replace the CMG's certificate with a renewed one, through the site.
    ///
    /// The new certificate must have the CMG's service name as its CN, with the same
    /// case: a CN differing only in case breaks clients (they compare it as written). The
    /// PFX and password are sent to the site, never printed or journalled.
    ///
    /// # Returns
    /// The `Cmg` after the change, with the new `thumbprint` and `certificate_expiry`.
    ///
    /// # Permission
    /// ConfigMgr: Full Administrator or Infrastructure Administrator.
    ///
    /// # Example
    /// ```rhai,no_run
    /// let gw = cmg::get("GraniteFalls.contoso.com");
    /// gw.replace_certificate("certs/renewed.pfx", secret("COMGMT_PFX_PASSWORD"));
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn replace_certificate(
        ctx: NativeCallContext,
        cmg: &mut Cmg,
        pfx: Dynamic,
        password: Dynamic,
    ) -> Result<Cmg, Box<EvalAltResult>> {
        const F: &str = "cmg::replace_certificate";
        let run = Ctx::of(&ctx)?;
        let source = pfx_source(F, pfx).map_err(at(&ctx))?;
        let pw = options::secret_from_dynamic(F, "password", password).map_err(at(&ctx))?;
        ops::replace_certificate(
            &run,
            cmg,
            source,
            &pw,
            model::WaitOptions::default().timeout,
        )
        .map_err(at(&ctx))
    }

    /// Stop the CMG (the site stops its scale set) and wait until it is stopped.
    ///
    /// # Returns
    /// The `Cmg`, `state` `Stopped`.
    ///
    /// # Permission
    /// ConfigMgr: Full Administrator or Infrastructure Administrator.
    ///
    /// # Example
    /// ```rhai,no_run
    /// cmg::get("GraniteFalls.contoso.com").stop();
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn stop(ctx: NativeCallContext, cmg: &mut Cmg) -> Result<Cmg, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        ops::stop(&run, cmg, model::WaitOptions::default().timeout).map_err(at(&ctx))
    }

    /// Start a stopped CMG and wait until it is ready.
    ///
    /// # Returns
    /// The `Cmg`, `state` `Ready`.
    ///
    /// # Permission
    /// ConfigMgr: Full Administrator or Infrastructure Administrator.
    ///
    /// # Example
    /// ```rhai,no_run
    /// cmg::get("GraniteFalls.contoso.com").start();
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn start(ctx: NativeCallContext, cmg: &mut Cmg) -> Result<Cmg, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        ops::start(&run, cmg, model::WaitOptions::default().timeout).map_err(at(&ctx))
    }

    /// The CMG as the site and Azure see it now: state, instances, certificate expiry,
    /// the public IP's FQDN. Reads only.
    ///
    /// # Returns
    /// A `Cmg`.
    ///
    /// # Permission
    /// ConfigMgr: Read-only Analyst; Azure: Reader on the CMG's resource group.
    ///
    /// # Example
    /// ```rhai,no_run
    /// let s = cmg::get("GraniteFalls.contoso.com").status();
    /// print(`${s.state}, ${s.instances} VM(s), certificate until ${s.certificate_expiry}`);
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn status(ctx: NativeCallContext, cmg: &mut Cmg) -> Result<Cmg, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        ops::status(&run, cmg).map_err(at(&ctx))
    }

    /// The site's id for the CMG (`()` in a plan that creates it).
    #[rhai_fn(global, get = "id", pure)]
    pub fn cmg_id(c: &mut Cmg) -> Dynamic {
        c.id.value()
            .map(|v| Dynamic::from(*v))
            .unwrap_or(Dynamic::UNIT)
    }
    /// The service name (the certificate's CN).
    #[rhai_fn(global, get = "name", pure)]
    pub fn cmg_name(c: &mut Cmg) -> String {
        c.name.clone()
    }
    /// `<prefix>.<region>.cloudapp.azure.com`.
    #[rhai_fn(global, get = "deployment_name", pure)]
    pub fn cmg_deployment_name(c: &mut Cmg) -> String {
        c.deployment_name.clone()
    }
    /// Azure region.
    #[rhai_fn(global, get = "region", pure)]
    pub fn cmg_region(c: &mut Cmg) -> String {
        c.region.clone()
    }
    /// Resource group.
    #[rhai_fn(global, get = "resource_group", pure)]
    pub fn cmg_resource_group(c: &mut Cmg) -> String {
        c.resource_group.clone()
    }
    /// Subscription id.
    #[rhai_fn(global, get = "subscription", pure)]
    pub fn cmg_subscription(c: &mut Cmg) -> String {
        c.subscription.clone()
    }
    /// VM instances.
    #[rhai_fn(global, get = "instances", pure)]
    pub fn cmg_instances(c: &mut Cmg) -> i64 {
        i64::from(c.instances)
    }
    /// Azure VM size (`Standard_A2_v2`).
    #[rhai_fn(global, get = "vm_size", pure)]
    pub fn cmg_vm_size(c: &mut Cmg) -> String {
        c.vm_size.clone()
    }
    /// The site's state: `Ready`, `Provisioning`, `Stopped`, `Error`, …
    #[rhai_fn(global, get = "state", pure)]
    pub fn cmg_state(c: &mut Cmg) -> String {
        c.state.clone()
    }
    /// The site's status text.
    #[rhai_fn(global, get = "status_details", pure)]
    pub fn cmg_status_details(c: &mut Cmg) -> String {
        c.status_details.clone()
    }
    /// The server certificate's SHA-1 thumbprint.
    #[rhai_fn(global, get = "thumbprint", pure)]
    pub fn cmg_thumbprint(c: &mut Cmg) -> String {
        c.thumbprint.clone()
    }
    /// When the server certificate expires.
    #[rhai_fn(global, get = "certificate_expiry", pure)]
    pub fn cmg_certificate_expiry(c: &mut Cmg) -> String {
        c.certificate_expiry.clone()
    }
    /// Whether the CMG serves content.
    #[rhai_fn(global, get = "content", pure)]
    pub fn cmg_content(c: &mut Cmg) -> bool {
        c.content
    }
    /// The public IP's FQDN in Azure ("" until deployed).
    #[rhai_fn(global, get = "fqdn", pure)]
    pub fn cmg_fqdn(c: &mut Cmg) -> String {
        c.fqdn.clone()
    }
    /// The scale set's provisioning state in Azure.
    #[rhai_fn(global, get = "provisioning_state", pure)]
    pub fn cmg_provisioning_state(c: &mut Cmg) -> String {
        c.provisioning_state.clone()
    }
    /// What the deployment made in Azure: `type/name` strings.
    #[rhai_fn(global, get = "resources", pure)]
    pub fn cmg_resources(c: &mut Cmg) -> Array {
        strings(c.resources.clone())
    }
    /// The ARM deployment the site started.
    #[rhai_fn(global, get = "deployment_id", pure)]
    pub fn cmg_deployment_id(c: &mut Cmg) -> String {
        c.deployment_id.clone()
    }
    /// One line: name, deployment, state.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn cmg_to_string(c: &mut Cmg) -> String {
        format!(
            "CMG {} -> {} ({}, {} x {})",
            c.name, c.deployment_name, c.state, c.instances, c.vm_size
        )
    }
}

pub fn module() -> rhai::Module {
    exported_module!(api)
}

/// The option keys of this module's functions.
pub fn option_specs() -> Vec<options::OptionSpec> {
    use options::OptionSpec;
    vec![OptionSpec::of::<model::CmgOptions>(
        "cmg::ensure",
        &["pfx", "password", "azure_service"],
    )]
}

/// This module's types, with the line `comgmt doc` shows for each.
pub fn register_types(types: &mut rhai::Module) {
    crate::values::document_type::<Cmg>(
        types,
        "Cmg",
        "A cloud management gateway, from `cmg::ensure`, `cmg::get` or `cmg::list`.",
    );
}
