//! `comanage` script module: co-management through the site's AdminService — device
//! collections with their membership rules, the co-management policy (automatic
//! enrollment, the seven workloads, pilot collections) and the devices' co-management
//! state. Thin bindings only: the work is in `ops/`, the options and rules in
//! `model.rs`, what scripts get back in `objects.rs`.

pub mod model;
pub mod objects;
pub mod ops;

use crate::context::Ctx;
use crate::error::at;
use crate::options;
use objects::{CoManagement, Collection, Status};
use rhai::plugin::*;
use rhai::Map;
use std::collections::{BTreeMap, HashSet};

/// Replace `Collection` objects in the `limiting`, `pilot_collection` and
/// `pilot_collections` options by their names; answer the names of those a plan has not created yet.
fn collection_names(options: &mut Map) -> HashSet<String> {
    let mut planned = HashSet::new();
    let mut name_of = |v: &mut Dynamic| {
        if let Some(c) = v.clone().try_cast::<Collection>() {
            if !c.id.is_known() {
                planned.insert(c.name.clone());
            }
            *v = Dynamic::from(c.name);
        }
    };
    for key in ["pilot_collection", "limiting"] {
        if let Some(v) = options.get_mut(key) {
            name_of(v);
        }
    }
    if let Some(m) = options.get_mut("pilot_collections") {
        if let Some(mut inner) = m.clone().try_cast::<Map>() {
            inner.values_mut().for_each(&mut name_of);
            *m = Dynamic::from_map(inner);
        }
    }
    planned
}

fn to_map(m: &BTreeMap<String, impl Clone + Into<Dynamic>>) -> Map {
    m.iter()
        .map(|(k, v)| (k.as_str().into(), v.clone().into()))
        .collect()
}

#[export_module]
pub mod api {
    use super::*;

    /// Ensure a device collection with default options: limited by All Systems, no
    /// comment, no rules.
    ///
    /// See `collection(name, options)`.
    ///
    /// # Returns
    /// A `Collection`.
    ///
    /// # Permission
    /// ConfigMgr: a security role with the Collection class's Create and Modify
    /// permissions (Full Administrator, Infrastructure Administrator, Operations
    /// Administrator).
    ///
    /// # Example
    /// ```rhai
    /// entra::server_app(#{ display_name: "Cloud Management web app" });
    /// let c = comanage::collection("Co-management staging");
    /// print(`${c.name}: ${c.id}`);
    /// ```
    #[rhai_fn(name = "collection", return_raw)]
    pub fn collection_default(
        ctx: NativeCallContext,
        name: &str,
    ) -> Result<Collection, Box<EvalAltResult>> {
        collection(ctx, name, Map::new())
    }

    /// Ensure a device collection and its membership rules, found by its name.
    ///
    /// The collection is created (`POST wmi/SMS_Collection`) or changed only when it
    /// differs; each rule is added (`AddMembershipRule`) only when the collection lacks
    /// it, so a second run changes nothing. Rules the collection has beyond the ones
    /// named here are kept. Two runs at once make one collection: the site refuses a
    /// second one with the same name, and the later run uses the first. Before anything
    /// is written, the limiting collection must exist and hold devices, and every direct
    /// member must be a device of the site.
    ///
    /// # Options
    /// - `limiting` (string or Collection, default "All Systems"): the limiting collection, by name or as `comanage::collection` returned it (a plan that creates it in the same run needs the Collection).
    /// - `comment` (string, default ""): the collection's comment.
    /// - `direct` (array, default []): devices added by direct rules, by resource id (int) or name (string).
    /// - `query` (string): a query rule, `select … from SMS_R_System where …`.
    /// - `query_name` (string, default "Query"): the query rule's name.
    ///
    /// # Returns
    /// A `Collection`: `id` (`ABC00016`; `()` in a plan that creates it), `name`,
    /// `limiting`, `comment`, `direct` (resource ids), `query`, `member_count`.
    ///
    /// # Permission
    /// ConfigMgr: a security role with the Collection class's Create and Modify
    /// permissions (Full Administrator, Infrastructure Administrator, Operations
    /// Administrator).
    ///
    /// # Example
    /// ```rhai
    /// // On the emulator, as through a CMG, the AdminService takes a token for the server app.
    /// entra::server_app(#{ display_name: "Cloud Management web app" });
    /// let c = comanage::collection("Co-management pilot", #{
    ///     limiting: "All Systems",
    ///     comment: "Devices that enroll in Intune first",
    ///     direct: ["LAB-WS01", 16777225],
    ///     query: "select * from SMS_R_System where Name like 'LAB-WS1%'",
    ///     query_name: "Pilot workstations",
    /// });
    /// print(`${c.name} (${c.id}): ${c.member_count} devices`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn collection(
        ctx: NativeCallContext,
        name: &str,
        options: Map,
    ) -> Result<Collection, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let mut options = options;
        let planned = collection_names(&mut options);
        let opts: model::CollectionOptions =
            options::parse("comanage::collection", options).map_err(at(&ctx))?;
        ops::ensure_collection(&run, name, &opts, &planned).map_err(at(&ctx))
    }

    /// Enable co-management: automatic enrollment in Intune, the seven workloads and
    /// their pilot collections, in the site's co-management policy `CoMgmtSettingsProd`
    /// (deployed to All Systems).
    ///
    /// Works on both product lines, told apart by the site's build (`site::get`): 2111
    /// and later (cloud attach: Administration > Cloud Services > Cloud Attach) and
    /// 1906–2107 (the co-management wizard: Administration > Cloud Services >
    /// Co-management); the result's `product_line` says which was used. The policy is
    /// written only when it differs, so a second run changes nothing.
    ///
    /// Refused before anything is written: a collection that does not exist, a workload
    /// that is not one of the seven, a `pilot_intune` workload (or `"pilot"` enrollment)
    /// without its pilot collection, and device configuration moved without resource
    /// access policies and Endpoint Protection moving at least as far with it (the
    /// product moves them together, workloads.md).
    ///
    /// How the site stores these settings (the policy's configuration-item XML and its
    /// pilot policy) is not documented: the class `SMS_ConfigurationPolicy` and the
    /// properties written are UNCONFIRMED, emulated at the property level. The plan's
    /// PowerShell line is `New-CMCoManagementPolicy` with a switch per workload moved to
    /// Intune, and `New-CMConfigurationPolicyDeployment`; no cmdlet sets Pilot Intune or
    /// pilot collections, so the line names the console page that does.
    ///
    /// # Options
    /// - `auto_enrollment` (string, default "none"): "none", "pilot" or "all".
    /// - `pilot_collection` (string or Collection): the automatic-enrollment collection, by name or as `comanage::collection` returned it (required with "pilot").
    /// - `workloads` (map, default #{}): workload -> "configmgr", "pilot_intune" or "intune"; the seven are compliance_policies, windows_update_policies, resource_access_policies, endpoint_protection, device_configuration, office_click_to_run, client_apps (unnamed ones stay "configmgr").
    /// - `pilot_collections` (map, default #{}): workload -> its pilot collection, by name or as a Collection (a plan that creates the collection in the same run needs the Collection: the site does not have it yet).
    ///
    /// # Returns
    /// A `CoManagement`: `policy` (`CoMgmtSettingsProd`), `product_line`, `site_build`,
    /// `auto_enrollment`, `pilot_collection`, `workloads` (map of the seven),
    /// `pilot_collections`, `changed`.
    ///
    /// # Permission
    /// ConfigMgr: Full Administrator. Enabling co-management in the console also signs
    /// in to Entra as a Global Administrator (onboarding, api-surface.md §15.2).
    ///
    /// # Example
    /// ```rhai
    /// entra::server_app(#{ display_name: "Cloud Management web app" });
    /// comanage::collection("Co-management pilot", #{
    ///     query: "select * from SMS_R_System where Name like 'LAB-WS0%'" });
    /// let cm = comanage::enable(#{
    ///     auto_enrollment: "pilot", pilot_collection: "Co-management pilot",
    ///     workloads: #{ compliance_policies: "intune", client_apps: "pilot_intune" },
    ///     pilot_collections: #{ client_apps: "Co-management pilot" },
    /// });
    /// print(`${cm.policy} through ${cm.product_line}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn enable(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<CoManagement, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let mut options = options;
        let planned = collection_names(&mut options);
        let opts: model::EnableOptions =
            options::parse("comanage::enable", options).map_err(at(&ctx))?;
        ops::enable(&run, &opts, &planned).map_err(at(&ctx))
    }

    /// The site's devices by co-management state, grouped as the console's
    /// co-management dashboard groups them.
    ///
    /// Reads `SMS_Client_ComanagementState`: a device is co-managed when `MDMEnrolled`
    /// and `ComgmtPolicyPresent` are both 1 (how-to-monitor.md). The enrollment states
    /// and statuses come from properties that are UNCONFIRMED (`EnrollmentStatus`,
    /// `EnrollmentErrorDetail`, emulated at the property level); a site that lacks them
    /// still gives the co-managed count.
    ///
    /// # Returns
    /// A `CoManagementStatus`: `total`, `co_managed`, `policy_present`, `states` (map:
    /// Not eligible, Eligible, Scheduled, Enrollment initiated, Enrolled, Pending user
    /// sign in), `statuses` (map: Success, Enrolling, Pending user sign in, Failed),
    /// `errors` (map: `0x80180018 MENROLL_E_USERLICENSE` -> count).
    ///
    /// # Permission
    /// ConfigMgr: any role that can read devices (Read-only Analyst at least).
    ///
    /// # Example
    /// ```rhai
    /// entra::server_app(#{ display_name: "Cloud Management web app" });
    /// let s = comanage::status();
    /// print(`${s.co_managed} of ${s.total} devices are co-managed`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn status(ctx: NativeCallContext) -> Result<Status, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        ops::status(&run).map_err(at(&ctx))
    }

    /// `ABC00016` (`()` in a plan that creates it).
    #[rhai_fn(global, get = "id", pure)]
    pub fn coll_id(c: &mut Collection) -> Dynamic {
        c.id.value()
            .map(|v| Dynamic::from(v.clone()))
            .unwrap_or(Dynamic::UNIT)
    }
    /// The collection's name.
    #[rhai_fn(global, get = "name", pure)]
    pub fn coll_name(c: &mut Collection) -> String {
        c.name.clone()
    }
    /// The limiting collection's name.
    #[rhai_fn(global, get = "limiting", pure)]
    pub fn coll_limiting(c: &mut Collection) -> String {
        c.limiting.clone()
    }
    /// The comment.
    #[rhai_fn(global, get = "comment", pure)]
    pub fn coll_comment(c: &mut Collection) -> String {
        c.comment.clone()
    }
    /// Resource ids of the direct members this run asked for.
    #[rhai_fn(global, get = "direct", pure)]
    pub fn coll_direct(c: &mut Collection) -> rhai::Array {
        c.direct.iter().map(|i| Dynamic::from(*i)).collect()
    }
    /// The query rule's expression, or `()`.
    #[rhai_fn(global, get = "query", pure)]
    pub fn coll_query(c: &mut Collection) -> Dynamic {
        c.query.clone().map(Dynamic::from).unwrap_or(Dynamic::UNIT)
    }
    /// Members the site counts now.
    #[rhai_fn(global, get = "member_count", pure)]
    pub fn coll_member_count(c: &mut Collection) -> i64 {
        c.member_count
    }
    /// One line: name, id, members.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn coll_to_string(c: &mut Collection) -> String {
        format!(
            "device collection {:?} ({}), limited by {:?}, {} members",
            c.name,
            c.id.text(),
            c.limiting,
            c.member_count
        )
    }

    /// `CoMgmtSettingsProd`.
    #[rhai_fn(global, get = "policy", pure)]
    pub fn cm_policy(c: &mut CoManagement) -> String {
        c.policy.clone()
    }
    /// `cloud attach (2111 and later)` or `co-management (1906-2107)`.
    #[rhai_fn(global, get = "product_line", pure)]
    pub fn cm_product_line(c: &mut CoManagement) -> String {
        c.product_line.clone()
    }
    /// The site's build number.
    #[rhai_fn(global, get = "site_build", pure)]
    pub fn cm_site_build(c: &mut CoManagement) -> i64 {
        i64::from(c.site_build)
    }
    /// "none", "pilot" or "all".
    #[rhai_fn(global, get = "auto_enrollment", pure)]
    pub fn cm_auto_enrollment(c: &mut CoManagement) -> String {
        c.auto_enrollment.clone()
    }
    /// The automatic-enrollment collection, or `()`.
    #[rhai_fn(global, get = "pilot_collection", pure)]
    pub fn cm_pilot_collection(c: &mut CoManagement) -> Dynamic {
        c.pilot_collection
            .clone()
            .map(Dynamic::from)
            .unwrap_or(Dynamic::UNIT)
    }
    /// Workload -> "configmgr", "pilot_intune" or "intune", for all seven.
    #[rhai_fn(global, get = "workloads", pure)]
    pub fn cm_workloads(c: &mut CoManagement) -> Map {
        to_map(&c.workloads)
    }
    /// Workload -> pilot collection name.
    #[rhai_fn(global, get = "pilot_collections", pure)]
    pub fn cm_pilot_collections(c: &mut CoManagement) -> Map {
        to_map(&c.pilot_collections)
    }
    /// True when this run created or changed the policy.
    #[rhai_fn(global, get = "changed", pure)]
    pub fn cm_changed(c: &mut CoManagement) -> bool {
        c.changed
    }
    /// One line: policy, line, enrollment.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn cm_to_string(c: &mut CoManagement) -> String {
        format!(
            "{} ({}, build {}): automatic enrollment {}",
            c.policy, c.product_line, c.site_build, c.auto_enrollment
        )
    }

    /// Clients reporting a co-management state.
    #[rhai_fn(global, get = "total", pure)]
    pub fn st_total(s: &mut Status) -> i64 {
        s.total
    }
    /// Co-managed devices (`MDMEnrolled = 1 AND ComgmtPolicyPresent = 1`).
    #[rhai_fn(global, get = "co_managed", pure)]
    pub fn st_co_managed(s: &mut Status) -> i64 {
        s.co_managed
    }
    /// Devices that have the co-management policy.
    #[rhai_fn(global, get = "policy_present", pure)]
    pub fn st_policy_present(s: &mut Status) -> i64 {
        s.policy_present
    }
    /// Enrollment state -> count.
    #[rhai_fn(global, get = "states", pure)]
    pub fn st_states(s: &mut Status) -> Map {
        to_map(&s.states)
    }
    /// Enrollment status (Success, Enrolling, Pending user sign in, Failed) -> count.
    #[rhai_fn(global, get = "statuses", pure)]
    pub fn st_statuses(s: &mut Status) -> Map {
        to_map(&s.statuses)
    }
    /// Enrollment error -> count.
    #[rhai_fn(global, get = "errors", pure)]
    pub fn st_errors(s: &mut Status) -> Map {
        to_map(&s.errors)
    }
    /// One line: co-managed of total.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn st_to_string(s: &mut Status) -> String {
        format!(
            "{} of {} devices co-managed ({} with the co-management policy)",
            s.co_managed, s.total, s.policy_present
        )
    }
}

/// The module's functions, with the CCMSETUPCMD line's (`crate::ccmsetup`).
pub fn module() -> rhai::Module {
    let mut m = exported_module!(api);
    m.combine_flatten(crate::ccmsetup::module());
    m
}

/// The option keys of this module's functions.
pub fn option_specs() -> Vec<options::OptionSpec> {
    use options::OptionSpec;
    vec![
        OptionSpec::of::<model::CollectionOptions>("comanage::collection", &[]),
        OptionSpec::of::<model::EnableOptions>("comanage::enable", &[]),
    ]
    .into_iter()
    .chain(crate::ccmsetup::option_specs())
    .collect()
}

/// This module's types, with the line `comgmt doc` shows for each.
pub fn register_types(types: &mut rhai::Module) {
    use crate::values::document_type;
    document_type::<Collection>(
        types,
        "Collection",
        "A device collection and its membership rules, from `comanage::collection`.",
    );
    document_type::<CoManagement>(
        types,
        "CoManagement",
        "The site's co-management settings, from `comanage::enable`.",
    );
    document_type::<Status>(
        types,
        "CoManagementStatus",
        "Devices by co-management state, from `comanage::status`.",
    );
}
