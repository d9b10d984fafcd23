//! `azure` script module: the Azure side of the CMG's prerequisites — the subscription,
//! resource provider registration, the resource group, and the CMG name checks.
//! Thin bindings only: the work is in `ops/` (one resource per file), the options and
//! rules in `model.rs`, what scripts get back in `objects.rs`.

pub mod model;
pub mod objects;
pub mod ops;

use crate::context::Ctx;
use crate::error::at;
use crate::options;
use crate::values::strings;
use objects::{CmgNameCheck, Provider, ResourceGroup, Subscription};
use ops::RoleAssignment;
use rhai::plugin::*;
use rhai::{Array, Map};

fn provider_map(p: Provider) -> Dynamic {
    let mut m = Map::new();
    m.insert("namespace".into(), p.namespace.into());
    m.insert("registration_state".into(), p.registration_state.into());
    m.into()
}

fn name_check_map(c: CmgNameCheck) -> Map {
    let mut m = Map::new();
    m.insert("ok".into(), c.ok().into());
    m.insert("prefix".into(), c.prefix.into());
    m.insert("region".into(), c.region.into());
    m.insert("deployment_name".into(), c.deployment_name.into());
    m.insert("findings".into(), strings(c.findings).into());
    let checks: Array = c
        .checks
        .into_iter()
        .map(|k| {
            let mut e = Map::new();
            e.insert("check".into(), k.check.into());
            e.insert("name".into(), k.name.into());
            e.insert("available".into(), k.available.into());
            e.insert("reason".into(), k.reason.into());
            e.insert("message".into(), k.message.into());
            Dynamic::from(e)
        })
        .collect();
    m.insert("checks".into(), checks.into());
    m
}

/// The service principal object id (and a label) of an `EntraApp` or an id string.
fn principal_of(principal: Dynamic) -> Result<(String, String), crate::error::ModuleError> {
    use crate::entra::objects::EntraApp;
    if principal.is::<EntraApp>() {
        let app = principal.cast::<EntraApp>();
        return match app.service_principal_id.value() {
            Some(id) => Ok((id.clone(), app.display_name.clone())),
            // A plan that creates the app: its service principal has no id yet.
            None => Ok((
                crate::change::Known::<String>::AfterApply
                    .text()
                    .to_string(),
                app.display_name.clone(),
            )),
        };
    }
    if principal.is_string() {
        let id = principal.into_string().unwrap_or_default();
        if uuid::Uuid::parse_str(&id).is_ok() {
            return Ok((id.clone(), id));
        }
        return Err(crate::error::ModuleError::validation(format!(
            "azure::role_assignment: {id:?} is not a service principal object id (a GUID)"
        )));
    }
    Err(crate::error::ModuleError::validation(format!(
        "azure::role_assignment: the principal must be an app from entra::server_app or a service principal object id, not {}",
        principal.type_name()
    )))
}

#[export_module]
pub mod api {
    use super::*;

    /// The Azure subscription this run works in.
    ///
    /// The profile's `subscription` when it names one; otherwise the only subscription
    /// the signed-in identity sees. When it sees several, the error lists them.
    ///
    /// # Returns
    /// A `Subscription`: `id`, `display_name`, `tenant_id`, `state`.
    ///
    /// # Permission
    /// Azure RBAC: any role on the subscription (Reader at least:
    /// `Microsoft.Resources/subscriptions/read`).
    ///
    /// # Example
    /// ```rhai
    /// let sub = azure::subscription();
    /// print(`${sub.display_name} (${sub.id}) is ${sub.state}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn subscription(ctx: NativeCallContext) -> Result<Subscription, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        ops::subscription(&run, None).map_err(at(&ctx))
    }

    /// Register the resource providers a virtual machine scale set CMG needs.
    ///
    /// See `providers(options)`.
    ///
    /// # Returns
    /// An array of maps: `namespace`, `registration_state`.
    ///
    /// # Permission
    /// Azure RBAC: `{namespace}/register/action` on the subscription (Contributor or Owner).
    ///
    /// # Example
    /// ```rhai
    /// for p in azure::providers() { print(`${p.namespace}: ${p.registration_state}`); }
    /// ```
    #[rhai_fn(name = "providers", return_raw)]
    pub fn providers_default(ctx: NativeCallContext) -> Result<Array, Box<EvalAltResult>> {
        providers(ctx, Map::new())
    }

    /// Register resource providers in the subscription and wait until they are registered.
    ///
    /// Each provider is read first; one not `Registered` is registered
    /// (`POST …/providers/{namespace}/register`) and then polled until Azure reports it
    /// `Registered` (at most 15 minutes; a re-run picks up a registration still under
    /// way). A plan shows which would be registered; a re-run changes nothing.
    ///
    /// # Options
    /// - `subscription` (string, optional): the subscription id; default `azure::subscription()`.
    /// - `namespaces` (array of strings, default `["Microsoft.KeyVault", "Microsoft.Storage",
    ///   "Microsoft.Network", "Microsoft.Compute"]`): the four a VMSS CMG needs.
    ///
    /// # Returns
    /// An array of maps, one per namespace in order: `namespace`, `registration_state`
    /// (`Registered` after apply; in a plan, the state now).
    ///
    /// # Permission
    /// Azure RBAC: `{namespace}/register/action` on the subscription (Contributor or Owner).
    ///
    /// # Example
    /// ```rhai
    /// let ps = azure::providers(#{ namespaces: ["Microsoft.Storage", "Microsoft.KeyVault"] });
    /// for p in ps { print(`${p.namespace}: ${p.registration_state}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn providers(ctx: NativeCallContext, options: Map) -> Result<Array, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let opts = options::parse("azure::providers", options).map_err(at(&ctx))?;
        let list = ops::ensure_providers(&run, &opts).map_err(at(&ctx))?;
        Ok(list.into_iter().map(provider_map).collect())
    }

    /// Ensure a resource group in a region.
    ///
    /// See `resource_group(name, region, options)`.
    ///
    /// # Returns
    /// A `ResourceGroup`.
    ///
    /// # Permission
    /// Azure RBAC: `Microsoft.Resources/subscriptions/resourceGroups/write` (Contributor or Owner).
    ///
    /// # Example
    /// ```rhai
    /// let rg = azure::resource_group("cmg-rg", "westus");
    /// print(rg.id);
    /// ```
    #[rhai_fn(name = "resource_group", return_raw)]
    pub fn resource_group_default(
        ctx: NativeCallContext,
        name: &str,
        region: &str,
    ) -> Result<ResourceGroup, Box<EvalAltResult>> {
        resource_group(ctx, name, region, Map::new())
    }

    /// Ensure a resource group exists in a region, with tags.
    ///
    /// Found by its resource id `/subscriptions/{sub}/resourceGroups/{name}` and created
    /// or updated by PUT, so two runs make one group. A group that exists in another
    /// region is an error (ARM cannot move a group), reported before anything is sent.
    /// The tags given are set; tags the group already carries are kept.
    ///
    /// # Options
    /// - `subscription` (string, optional): the subscription id; default `azure::subscription()`.
    /// - `tags` (map of strings, optional): e.g. `#{ purpose: "cmg" }`.
    ///
    /// # Returns
    /// A `ResourceGroup`: `id`, `name`, `location`, `tags` (map), `provisioning_state`
    /// (`(known after apply)` in a plan that creates it).
    ///
    /// # Permission
    /// Azure RBAC: `Microsoft.Resources/subscriptions/resourceGroups/write` (Contributor or Owner).
    ///
    /// # Example
    /// ```rhai
    /// let rg = azure::resource_group("cmg-rg", "westus", #{ tags: #{ purpose: "cmg" } });
    /// print(`${rg.name} in ${rg.location}: ${rg.tags}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn resource_group(
        ctx: NativeCallContext,
        name: &str,
        region: &str,
        options: Map,
    ) -> Result<ResourceGroup, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let opts = options::parse("azure::resource_group", options).map_err(at(&ctx))?;
        ops::ensure_resource_group(&run, name, region, &opts).map_err(at(&ctx))
    }

    /// Check a CMG name prefix in a region, for a content-enabled CMG.
    ///
    /// See `check_cmg_name(prefix, region, options)`.
    ///
    /// # Returns
    /// A map: `ok`, `prefix`, `region`, `deployment_name`, `findings`, `checks`.
    ///
    /// # Permission
    /// Azure RBAC: Reader on the subscription.
    ///
    /// # Example
    /// ```rhai
    /// let r = azure::check_cmg_name("GraniteFalls", "westus");
    /// print(r.ok);
    /// ```
    #[rhai_fn(name = "check_cmg_name", return_raw)]
    pub fn check_cmg_name_default(
        ctx: NativeCallContext,
        prefix: &str,
        region: &str,
    ) -> Result<Map, Box<EvalAltResult>> {
        check_cmg_name(ctx, prefix, region, Map::new())
    }

    /// Check that a CMG name prefix is valid and free in Azure, before creating the CMG.
    ///
    /// First the prefix rules (a DNS label; with content, 3-24 lowercase letters and
    /// digits); when one is broken, `findings` says which and no service is asked.
    /// Then the names the VMSS deployment takes from the prefix, as the portal checks
    /// them: the public IP DNS label `<prefix>.<region>.cloudapp.azure.com`, a Key Vault
    /// named like the prefix, and, with content, a storage account named like it (all
    /// lower-cased). Only reads: it runs the same in a plan.
    ///
    /// # Options
    /// - `content` (bool, default true): the CMG serves content, so the storage account name is checked too.
    /// - `subscription` (string, optional): the subscription id; default `azure::subscription()`.
    ///
    /// # Returns
    /// A map: `ok` (bool: no rule broken and every name free), `prefix`, `region`,
    /// `deployment_name`, `findings` (array of strings), `checks` (array of maps, one per
    /// check: `check` — `dns_label`, `key_vault` or `storage_account` — `name` (the name
    /// checked), `available`, `reason` (`AlreadyExists`, `AccountNameInvalid`, or empty),
    /// `message`).
    ///
    /// # Permission
    /// Azure RBAC: Reader on the subscription (the checks are read actions).
    ///
    /// # Example
    /// ```rhai
    /// let r = azure::check_cmg_name("GraniteFalls", "westus", #{ content: true });
    /// for c in r.checks { print(`${c.check} ${c.name}: ${c.available} ${c.message}`); }
    /// if !r.ok { throw `choose another CMG name: ${r.findings} ${r.checks}`; }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn check_cmg_name(
        ctx: NativeCallContext,
        prefix: &str,
        region: &str,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let opts = options::parse("azure::check_cmg_name", options).map_err(at(&ctx))?;
        let r = ops::check_cmg_name(&run, prefix, region, &opts).map_err(at(&ctx))?;
        Ok(name_check_map(r))
    }

    /// Ensure an Azure role for an app's service principal, on the subscription.
    ///
    /// See `role_assignment(principal, role, options)`.
    ///
    /// # Returns
    /// A `RoleAssignment`.
    ///
    /// # Permission
    /// Azure RBAC: `Microsoft.Authorization/roleAssignments/write` (Owner or User Access Administrator).
    ///
    /// # Example
    /// ```rhai
    /// let server_app = entra::server_app(#{ display_name: "Cloud Management web app" });
    /// let a = azure::role_assignment(server_app, "Contributor");
    /// print(a.scope);
    /// ```
    #[rhai_fn(name = "role_assignment", return_raw)]
    pub fn role_assignment_default(
        ctx: NativeCallContext,
        principal: Dynamic,
        role: &str,
    ) -> Result<RoleAssignment, Box<EvalAltResult>> {
        role_assignment(ctx, principal, role, Map::new())
    }

    /// Ensure an Azure RBAC role for a service principal at the subscription or a
    /// resource group: the role the site's server app needs to deploy the CMG.
    ///
    /// Since version 2309 the site deploys the CMG with its server app (no first-party
    /// app), so the server app's service principal needs Contributor on the CMG's
    /// resource group (or the subscription). An assignment of the role at that scope, or
    /// inherited from the subscription, is enough: nothing is written then. Otherwise it
    /// is created by PUT under a name derived from the scope, role and principal, so two
    /// runs make one assignment; one made meanwhile under another name
    /// (`RoleAssignmentExists`) counts as done. A service principal made moments before
    /// is retried while ARM does not see it yet (`PrincipalNotFound`).
    ///
    /// # Options
    /// - `resource_group` (string, optional): assign at this resource group; default: the subscription.
    /// - `subscription` (string, optional): the subscription id; default `azure::subscription()`.
    ///
    /// # Returns
    /// A `RoleAssignment`: `id`, `role`, `scope` (where it is assigned), `principal_id`,
    /// `inherited` (true when it comes from the subscription).
    ///
    /// # Permission
    /// Azure RBAC: `Microsoft.Authorization/roleAssignments/write` at the scope (Owner or
    /// User Access Administrator).
    ///
    /// # Example
    /// ```rhai
    /// let server_app = entra::server_app(#{ display_name: "Cloud Management web app" });
    /// azure::resource_group("cmg-rg", "westus");
    /// let a = azure::role_assignment(server_app, "Contributor", #{ resource_group: "cmg-rg" });
    /// print(`${a.role} on ${a.scope}${if a.inherited { " (inherited)" } else { "" }}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn role_assignment(
        ctx: NativeCallContext,
        principal: Dynamic,
        role: &str,
        options: Map,
    ) -> Result<RoleAssignment, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let opts: model::RoleOptions =
            options::parse("azure::role_assignment", options).map_err(at(&ctx))?;
        let (principal_id, label) = principal_of(principal).map_err(at(&ctx))?;
        let subscription =
            ops::subscription_id(&run, opts.subscription.as_deref()).map_err(at(&ctx))?;
        let scope = match &opts.resource_group {
            Some(rg) => {
                model::check_resource_group_name(rg).map_err(at(&ctx))?;
                format!("/subscriptions/{subscription}/resourceGroups/{rg}")
            }
            None => format!("/subscriptions/{subscription}"),
        };
        ops::ensure_role(&run, &subscription, &scope, role, &principal_id, &label).map_err(at(&ctx))
    }

    /// The assignment's resource id.
    #[rhai_fn(global, get = "id", pure)]
    pub fn ra_id(a: &mut RoleAssignment) -> String {
        a.id.clone()
    }
    /// The role's name (`Contributor`).
    #[rhai_fn(global, get = "role", pure)]
    pub fn ra_role(a: &mut RoleAssignment) -> String {
        a.role.clone()
    }
    /// Where the role is assigned.
    #[rhai_fn(global, get = "scope", pure)]
    pub fn ra_scope(a: &mut RoleAssignment) -> String {
        a.scope.clone()
    }
    /// The service principal's object id.
    #[rhai_fn(global, get = "principal_id", pure)]
    pub fn ra_principal_id(a: &mut RoleAssignment) -> String {
        a.principal_id.clone()
    }
    /// True when the role comes from the subscription.
    #[rhai_fn(global, get = "inherited", pure)]
    pub fn ra_inherited(a: &mut RoleAssignment) -> bool {
        a.inherited
    }
    /// One line: role, scope.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn ra_to_string(a: &mut RoleAssignment) -> String {
        format!("{} for {} on {}", a.role, a.principal_id, a.scope)
    }

    /// Subscription id (a GUID).
    #[rhai_fn(global, get = "id", pure)]
    pub fn sub_id(s: &mut Subscription) -> String {
        s.id.clone()
    }
    /// Subscription display name.
    #[rhai_fn(global, get = "display_name", pure)]
    pub fn sub_display_name(s: &mut Subscription) -> String {
        s.display_name.clone()
    }
    /// The tenant the subscription trusts.
    #[rhai_fn(global, get = "tenant_id", pure)]
    pub fn sub_tenant_id(s: &mut Subscription) -> String {
        s.tenant_id.clone()
    }
    /// `Enabled`, `Warned`, `PastDue`, `Disabled` or `Deleted`.
    #[rhai_fn(global, get = "state", pure)]
    pub fn sub_state(s: &mut Subscription) -> String {
        s.state.clone()
    }
    /// One line: name and id.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn sub_to_string(s: &mut Subscription) -> String {
        format!("subscription {:?} ({})", s.display_name, s.id)
    }

    /// Resource id.
    #[rhai_fn(global, get = "id", pure)]
    pub fn rg_id(g: &mut ResourceGroup) -> String {
        g.id.clone()
    }
    /// Name.
    #[rhai_fn(global, get = "name", pure)]
    pub fn rg_name(g: &mut ResourceGroup) -> String {
        g.name.clone()
    }
    /// Region (`westus`).
    #[rhai_fn(global, get = "location", pure)]
    pub fn rg_location(g: &mut ResourceGroup) -> String {
        g.location.clone()
    }
    /// Tags, as a map of strings.
    #[rhai_fn(global, get = "tags", pure)]
    pub fn rg_tags(g: &mut ResourceGroup) -> Map {
        g.tags
            .iter()
            .map(|(k, v)| (k.as_str().into(), Dynamic::from(v.clone())))
            .collect()
    }
    /// `Succeeded` once created.
    #[rhai_fn(global, get = "provisioning_state", pure)]
    pub fn rg_provisioning_state(g: &mut ResourceGroup) -> String {
        g.provisioning_state.clone()
    }
    /// One line: name, region, id.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn rg_to_string(g: &mut ResourceGroup) -> String {
        format!("resource group {} in {} ({})", g.name, g.location, g.id)
    }
}

pub fn module() -> rhai::Module {
    exported_module!(api)
}

/// The option keys of this module's functions.
pub fn option_specs() -> Vec<options::OptionSpec> {
    use options::OptionSpec;
    vec![
        OptionSpec::of::<model::ProvidersOptions>("azure::providers", &[]),
        OptionSpec::of::<model::ResourceGroupOptions>("azure::resource_group", &[]),
        OptionSpec::of::<model::CheckNameOptions>("azure::check_cmg_name", &[]),
        OptionSpec::of::<model::RoleOptions>("azure::role_assignment", &[]),
    ]
}

/// This module's types, with the line `comgmt doc` shows for each.
pub fn register_types(types: &mut rhai::Module) {
    use crate::values::document_type;
    document_type::<Subscription>(
        types,
        "Subscription",
        "An Azure subscription, from `azure::subscription`.",
    );
    document_type::<RoleAssignment>(
        types,
        "RoleAssignment",
        "An Azure role for a service principal at a scope, from `azure::role_assignment`.",
    );
    document_type::<ResourceGroup>(
        types,
        "ResourceGroup",
        "An Azure resource group, from `azure::resource_group`.",
    );
}
