//! `clientsettings` script module: the Default Client Settings and custom client
//! settings through the AdminService — the cloud services group (Entra registration,
//! CMG use, cloud distribution point) and the client policy group (user policy, user
//! policy from internet clients, polling interval). Thin bindings only: the work is in
//! `ops/`, the options and rules in `model.rs`, what scripts get back in `objects.rs`.

pub mod model;
pub mod objects;
pub mod ops;

use crate::context::Ctx;
use crate::error::at;
use crate::options;
use objects::ClientSettings;
use ops::Target;
use rhai::plugin::*;
use rhai::Map;
use serde_json::Value;

/// A settings group as a Rhai map, or `()` when the settings do not carry it.
fn group(entries: Option<Vec<(&'static str, Value)>>) -> Dynamic {
    let Some(entries) = entries else {
        return Dynamic::UNIT;
    };
    let mut m = Map::new();
    for (k, v) in entries {
        let d = rhai::serde::to_dynamic(&v).unwrap_or(Dynamic::UNIT);
        m.insert(k.into(), d);
    }
    Dynamic::from_map(m)
}

#[export_module]
pub mod api {
    use super::*;

    /// The Default Client Settings.
    ///
    /// Reads `SMS_ClientSettingsDefault`, the one settings object every client gets
    /// (priority 10000, the lowest). Named `default_settings` because `default` is a
    /// reserved word in Rhai; `clientsettings::get("default")` reads the same object.
    ///
    /// # Returns
    /// A `ClientSettings`: `id`, `name` ("Default Client Settings"), `description`,
    /// `type` ("default"), `priority` (10000), `cloud_services` and `client_policy`
    /// (maps under this module's option names, or `()` when the settings carry no
    /// such group).
    ///
    /// # Permission
    /// ConfigMgr: any security role that can read client settings (Read-only Analyst at least).
    ///
    /// # Example
    /// ```rhai
    /// // On the emulator, as through a CMG, the AdminService takes a token for the server app.
    /// entra::server_app(#{ display_name: "Cloud Management web app" });
    /// let d = clientsettings::default_settings();
    /// print(`${d.name}: policy every ${d.client_policy.polling_minutes} minutes`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn default_settings(ctx: NativeCallContext) -> Result<ClientSettings, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        ops::default_settings(&run).map_err(at(&ctx))
    }

    /// Client settings by name: custom settings, or "default" for the Default Client
    /// Settings.
    ///
    /// Custom settings are found by their name (`SMS_ClientSettings`, `Name eq '…'`);
    /// settings that do not exist are an error naming `clientsettings::ensure`.
    ///
    /// # Returns
    /// A `ClientSettings` (see `clientsettings::default_settings`); `type` is "device" or "user".
    ///
    /// # Permission
    /// ConfigMgr: any security role that can read client settings.
    ///
    /// # Example
    /// ```rhai
    /// entra::server_app(#{ display_name: "Cloud Management web app" });
    /// clientsettings::ensure("CMG pilot devices", #{ type: "device" });
    /// let s = clientsettings::get("CMG pilot devices");
    /// print(`${s.name}: priority ${s.priority}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn get(ctx: NativeCallContext, name: &str) -> Result<ClientSettings, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        ops::get(&run, name).map_err(at(&ctx))
    }

    /// Ensure custom client settings with this name: created when missing, their
    /// description brought in line otherwise.
    ///
    /// Custom settings are found by name, the key the site keeps unique, so a second run
    /// changes nothing and two runs at once make one object (the site refuses a second
    /// one with the same name; the later run changes the first). New settings get the
    /// next priority after the highest, as the console gives them, and no groups until
    /// `cloud_services` or `client_policy` configures one. Device settings do not turn
    /// into user settings: a name that exists with the other type is an error. The write
    /// through the AdminService is UNCONFIRMED (emulated at the property level); the
    /// plan's `New-CMClientSetting` line is the documented way.
    ///
    /// # Options
    /// - `type` (string, default "device"): "device" or "user".
    /// - `description` (string, default ""): the settings' description.
    ///
    /// # Returns
    /// A `ClientSettings`; in a plan that creates it, `id` and `priority` are `()`.
    ///
    /// # Permission
    /// ConfigMgr: Full Administrator or Infrastructure Administrator (Client Settings: Create, Modify).
    ///
    /// # Example
    /// ```rhai
    /// entra::server_app(#{ display_name: "Cloud Management web app" });
    /// let s = clientsettings::ensure("CMG pilot devices", #{
    ///     type: "device", description: "Internet clients in the CMG pilot",
    /// });
    /// print(s);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn ensure(
        ctx: NativeCallContext,
        name: &str,
        options: Map,
    ) -> Result<ClientSettings, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let opts: model::EnsureOptions =
            options::parse("clientsettings::ensure", options).map_err(at(&ctx))?;
        ops::ensure_settings(&run, name, &opts).map_err(at(&ctx))
    }

    /// Set the cloud services group of client settings (the tutorial's "Configure the
    /// clients to use the CMG"): register new domain-joined Windows devices with Entra ID,
    /// let clients use the CMG, allow the cloud distribution point.
    ///
    /// `target` is "default" (the Default Client Settings), a custom settings name, or
    /// a `ClientSettings`. Only the options given change; each is compared with the
    /// settings' `SMS_CloudAgentConfig` entry, so a plan shows each field before and
    /// after and a second run changes nothing. How the site takes this write through
    /// the AdminService is UNCONFIRMED (no public script writes client settings): it is
    /// emulated at the property level, the agent matched by `AgentID` (22, also
    /// UNCONFIRMED). The plan's line is the documented way:
    /// `Set-CMClientSettingCloudService -DefaultSetting -AllowCloudDistributionPoint $true
    /// -AllowCloudManagementGateway $true -AutoAzureADJoin $true`.
    ///
    /// # Options
    /// - `auto_aad_join` (bool): automatically register new Windows 10 or later domain-joined devices with Entra ID.
    /// - `enable_cmg` (bool): enable clients to use a cloud management gateway (the product's default: true).
    /// - `allow_cloud_dp` (bool): allow access to cloud distribution point (content from a content-enabled CMG).
    ///
    /// At least one is required.
    ///
    /// # Returns
    /// The `ClientSettings` after the change (as planned, in a plan; a plan that cannot
    /// read the settings yet — they are created by the same plan, or the AdminService
    /// is reached with a server app the plan creates — knows only the group it changes).
    ///
    /// # Permission
    /// ConfigMgr: Full Administrator or Infrastructure Administrator (Client Settings: Modify).
    ///
    /// # Example
    /// ```rhai
    /// entra::server_app(#{ display_name: "Cloud Management web app" });
    /// let d = clientsettings::cloud_services("default", #{
    ///     auto_aad_join: true, enable_cmg: true, allow_cloud_dp: true,
    /// });
    /// print(d.cloud_services);
    /// ```
    #[rhai_fn(name = "cloud_services", return_raw)]
    pub fn cloud_services_named(
        ctx: NativeCallContext,
        target: &str,
        options: Map,
    ) -> Result<ClientSettings, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        model::check_name("clientsettings::cloud_services", target).map_err(at(&ctx))?;
        let opts: model::CloudServicesOptions =
            options::parse("clientsettings::cloud_services", options).map_err(at(&ctx))?;
        ops::cloud_services(&run, Target::named(target), &opts, None).map_err(at(&ctx))
    }

    /// Set the cloud services group of these client settings.
    ///
    /// See `cloud_services(target, options)`: the same, for the settings `target` is
    /// (the Default Client Settings or custom settings from `ensure` or `get`).
    ///
    /// # Options
    /// - `auto_aad_join` (bool): automatically register new Windows 10 or later domain-joined devices with Entra ID.
    /// - `enable_cmg` (bool): enable clients to use a cloud management gateway.
    /// - `allow_cloud_dp` (bool): allow access to cloud distribution point.
    ///
    /// # Returns
    /// The `ClientSettings` after the change.
    ///
    /// # Permission
    /// ConfigMgr: Full Administrator or Infrastructure Administrator (Client Settings: Modify).
    ///
    /// # Example
    /// ```rhai
    /// entra::server_app(#{ display_name: "Cloud Management web app" });
    /// let s = clientsettings::ensure("CMG pilot devices", #{ type: "device" });
    /// clientsettings::cloud_services(s, #{ enable_cmg: true });
    /// ```
    #[rhai_fn(name = "cloud_services", return_raw)]
    pub fn cloud_services_of(
        ctx: NativeCallContext,
        target: ClientSettings,
        options: Map,
    ) -> Result<ClientSettings, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let opts: model::CloudServicesOptions =
            options::parse("clientsettings::cloud_services", options).map_err(at(&ctx))?;
        ops::cloud_services(&run, Target::of(&target), &opts, Some(&target)).map_err(at(&ctx))
    }

    /// Set the client policy group of client settings: user policy on clients, user
    /// policy requests from internet clients (the tutorial turns it on for the CMG), and
    /// the polling interval.
    ///
    /// `target` is "default", a custom settings name, or a `ClientSettings`. Only the
    /// options given change; each is compared with the settings' `SMS_PolicyAgentConfig`
    /// entry (AgentID 13), so a plan shows each field before and after and a second run
    /// changes nothing. User policy from internet clients needs user policy on clients
    /// (about-client-settings.md): a change that would leave the first on without the
    /// second is refused before any write. The write through the AdminService is
    /// UNCONFIRMED (emulated at the property level); the plan's line is the documented
    /// way: `Set-CMClientSettingClientPolicy -DefaultSetting -EnableUserPolicy $true
    /// -EnableUserPolicyOnInternet $true -PolicyPollingMins 60`.
    ///
    /// # Options
    /// - `user_policy` (bool): enable user policy on clients.
    /// - `user_policy_on_internet` (bool): enable user policy requests from internet clients; needs `user_policy`.
    /// - `polling_minutes` (int): client policy polling interval, 3 to 1440 minutes (the console's range; UNCONFIRMED in the docs); the product's default is 60.
    ///
    /// At least one is required.
    ///
    /// # Returns
    /// The `ClientSettings` after the change (as planned, in a plan; a plan that cannot
    /// read the settings yet — they are created by the same plan, or the AdminService
    /// is reached with a server app the plan creates — knows only the group it changes).
    ///
    /// # Permission
    /// ConfigMgr: Full Administrator or Infrastructure Administrator (Client Settings: Modify).
    ///
    /// # Example
    /// ```rhai
    /// entra::server_app(#{ display_name: "Cloud Management web app" });
    /// let d = clientsettings::client_policy("default", #{
    ///     user_policy: true, user_policy_on_internet: true, polling_minutes: 60,
    /// });
    /// print(d.client_policy);
    /// ```
    #[rhai_fn(name = "client_policy", return_raw)]
    pub fn client_policy_named(
        ctx: NativeCallContext,
        target: &str,
        options: Map,
    ) -> Result<ClientSettings, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        model::check_name("clientsettings::client_policy", target).map_err(at(&ctx))?;
        let opts: model::ClientPolicyOptions =
            options::parse("clientsettings::client_policy", options).map_err(at(&ctx))?;
        ops::client_policy(&run, Target::named(target), &opts, None).map_err(at(&ctx))
    }

    /// Set the client policy group of these client settings.
    ///
    /// See `client_policy(target, options)`: the same, for the settings `target` is
    /// (the Default Client Settings or custom settings from `ensure` or `get`).
    ///
    /// # Options
    /// - `user_policy` (bool): enable user policy on clients.
    /// - `user_policy_on_internet` (bool): enable user policy requests from internet clients; needs `user_policy`.
    /// - `polling_minutes` (int): client policy polling interval, 3 to 1440 minutes.
    ///
    /// # Returns
    /// The `ClientSettings` after the change.
    ///
    /// # Permission
    /// ConfigMgr: Full Administrator or Infrastructure Administrator (Client Settings: Modify).
    ///
    /// # Example
    /// ```rhai
    /// entra::server_app(#{ display_name: "Cloud Management web app" });
    /// let s = clientsettings::ensure("CMG pilot devices", #{ type: "device" });
    /// clientsettings::client_policy(s, #{ polling_minutes: 30 });
    /// ```
    #[rhai_fn(name = "client_policy", return_raw)]
    pub fn client_policy_of(
        ctx: NativeCallContext,
        target: ClientSettings,
        options: Map,
    ) -> Result<ClientSettings, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let opts: model::ClientPolicyOptions =
            options::parse("clientsettings::client_policy", options).map_err(at(&ctx))?;
        ops::client_policy(&run, Target::of(&target), &opts, Some(&target)).map_err(at(&ctx))
    }

    /// The `SettingsID` (`()` in a plan that creates the settings).
    #[rhai_fn(global, get = "id", pure)]
    pub fn cs_id(s: &mut ClientSettings) -> Dynamic {
        s.id.value()
            .map(|v| Dynamic::from(*v))
            .unwrap_or(Dynamic::UNIT)
    }
    /// The settings' name.
    #[rhai_fn(global, get = "name", pure)]
    pub fn cs_name(s: &mut ClientSettings) -> String {
        s.name.clone()
    }
    /// The settings' description.
    #[rhai_fn(global, get = "description", pure)]
    pub fn cs_description(s: &mut ClientSettings) -> String {
        s.description.clone()
    }
    /// "default", "device" or "user".
    #[rhai_fn(global, get = "type", pure)]
    pub fn cs_type(s: &mut ClientSettings) -> String {
        s.kind.clone()
    }
    /// 10000 for the default settings; 1 is the highest (`()` in a plan that creates them).
    #[rhai_fn(global, get = "priority", pure)]
    pub fn cs_priority(s: &mut ClientSettings) -> Dynamic {
        s.priority
            .value()
            .map(|v| Dynamic::from(*v))
            .unwrap_or(Dynamic::UNIT)
    }
    /// `auto_aad_join`, `enable_cmg`, `allow_cloud_dp`; `()` when not configured.
    #[rhai_fn(global, get = "cloud_services", pure)]
    pub fn cs_cloud_services(s: &mut ClientSettings) -> Dynamic {
        group(s.cloud_services())
    }
    /// `user_policy`, `user_policy_on_internet`, `polling_minutes`; `()` when not configured.
    #[rhai_fn(global, get = "client_policy", pure)]
    pub fn cs_client_policy(s: &mut ClientSettings) -> Dynamic {
        group(s.client_policy())
    }
    /// One line: name, type, priority.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn cs_to_string(s: &mut ClientSettings) -> String {
        format!(
            "client settings {:?} ({}, priority {})",
            s.name, s.kind, s.priority
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
        OptionSpec::of::<model::EnsureOptions>("clientsettings::ensure", &[]),
        OptionSpec::of::<model::CloudServicesOptions>("clientsettings::cloud_services", &[]),
        OptionSpec::of::<model::ClientPolicyOptions>("clientsettings::client_policy", &[]),
    ]
}

/// This module's types, with the line `comgmt doc` shows for each.
pub fn register_types(types: &mut rhai::Module) {
    crate::values::document_type::<ClientSettings>(
        types,
        "ClientSettings",
        "Client settings (the Default Client Settings or custom settings), from `clientsettings::default_settings`, `get` or `ensure`.",
    );
}
