//! The CCMSETUPCMD line of the co-management wizard, as `comanage::ccmsetup_command` and
//! `comanage::parse_ccmsetup_command`: the grammar and rules in `model.rs`, computing it
//! from the site in `compute.rs`. These functions are part of the `comanage` module.

pub mod compute;
pub mod model;

use crate::cmg::objects::Cmg;
use crate::context::Ctx;
use crate::error::{at, ModuleError};
use crate::options;
use crate::preflight::{Finding, Severity};
use crate::site::objects::AzureService;
use rhai::plugin::*;
use rhai::{Array, Map};

/// Options of `comanage::ccmsetup_command` (the objects are taken out first).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandOptions {
    /// Add AADCLIENTAPPID and AADRESOURCEURI from the Azure service (default true).
    #[serde(default)]
    pub aad: Option<bool>,
    #[serde(default)]
    pub mutual_auth_path: Option<String>,
    #[serde(default)]
    pub smsmp: Option<String>,
    #[serde(default)]
    pub provision_ts: Option<String>,
}

/// What scripts get back: `text`, `ok`, `properties`, `switches`, `findings`.
fn result_map(command: &model::Command, text: String, findings: Vec<Finding>) -> Map {
    let mut m = Map::new();
    let ok = !findings.iter().any(|f| f.severity == Severity::Error);
    m.insert("text".into(), text.into());
    m.insert("ok".into(), ok.into());
    let props: Map = command
        .properties
        .iter()
        .map(|p| {
            (
                p.name.to_ascii_uppercase().into(),
                Dynamic::from(p.value.clone()),
            )
        })
        .collect();
    m.insert("properties".into(), props.into());
    let switches: Array = command
        .switches
        .iter()
        .map(|(n, v)| match v {
            Some(v) => Dynamic::from(format!("/{n}:{v}")),
            None => Dynamic::from(format!("/{n}")),
        })
        .collect();
    m.insert("switches".into(), switches.into());
    let findings: Array = findings.into_iter().map(Dynamic::from).collect();
    m.insert("findings".into(), findings.into());
    m
}

#[export_module]
pub mod api {
    use super::*;

    /// The CCMSETUPCMD line for the Intune app that installs the ConfigMgr client on
    /// internet-based devices, as the co-management wizard shows it, computed from the
    /// site and checked.
    ///
    /// `CCMHOSTNAME` is the CMG's service name (what client policy carries) with the
    /// path the CMG publishes the management point under (`/CCM_Proxy_MutualAuth/<id>`,
    /// read from the management point's role: the property name is UNCONFIRMED, the id's
    /// derivation is not public); `SMSSITECODE` the site's code; with an Azure service,
    /// `AADCLIENTAPPID` (the client app) and `AADRESOURCEURI` (the server app's App ID
    /// URI). Written in the current docs' form,
    /// `CCMSETUPCMD="CCMHOSTNAME=… SMSSITECODE=ABC …"`, and checked against every rule
    /// (≤ 1024 characters, no scheme in CCMHOSTNAME, no `AUTO` site code, a
    /// three-character site code, well-formed ids); a management point that does not
    /// allow CMG traffic yet is a warning. Reads only: a plan computes it too.
    ///
    /// # Options
    /// - `cmg` (Cmg or string, required): the CMG from `cmg::ensure`, or its service name.
    /// - `azure_service` (AzureService, optional): from `site::azure_service`, for the Entra app properties.
    /// - `aad` (bool, default true with `azure_service`): add AADCLIENTAPPID and AADRESOURCEURI.
    /// - `mutual_auth_path` (string, optional): the `/CCM_Proxy_MutualAuth/<id>` path (or the id), when the site does not publish it.
    /// - `smsmp` (string, optional): an intranet management point (`https://` when it is HTTPS-only).
    /// - `provision_ts` (string, optional): a task sequence deployment ID to run after the client registers.
    ///
    /// # Returns
    /// A map: `text` (the line), `ok` (no error found), `properties` (map of upper-case
    /// names to values), `switches`, `findings` (array of `Finding`).
    ///
    /// # Permission
    /// ConfigMgr: Read-only Analyst (reads the site and its management point).
    ///
    /// # Example
    /// ```rhai
    /// entra::server_app(#{ display_name: "Cloud Management web app" });   // the AdminService's audience
    /// let line = comanage::ccmsetup_command(#{ cmg: "GraniteFalls.contoso.com" });
    /// print(line.text);
    /// for f in line.findings { print(`  ${f}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn ccmsetup_command(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        const F: &str = "comanage::ccmsetup_command";
        let run = Ctx::of(&ctx)?;
        let mut options = options;
        let cmg = options.remove("cmg").ok_or_else(|| {
            ModuleError::validation(format!("{F}: option `cmg` is required"))
                .with_hint("pass the Cmg from cmg::ensure, or the CMG's service name")
        });
        let cmg_name = cmg
            .and_then(|v| {
                if v.is::<Cmg>() {
                    Ok(v.cast::<Cmg>().name)
                } else if v.is_string() {
                    Ok(v.into_string().unwrap_or_default())
                } else {
                    Err(ModuleError::validation(format!(
                        "{F}: `cmg` must be a Cmg or a service name, not {}",
                        v.type_name()
                    )))
                }
            })
            .map_err(at(&ctx))?;
        let service = match options.remove("azure_service") {
            None => None,
            Some(v) if v.is_unit() => None,
            Some(v) => Some(v.try_cast::<AzureService>().ok_or_else(|| {
                at(&ctx)(ModuleError::validation(format!(
                    "{F}: `azure_service` must be the AzureService from site::azure_service"
                )))
            })?),
        };
        let opts: CommandOptions = options::parse(F, options).map_err(at(&ctx))?;
        let aad = opts.aad.unwrap_or(true);
        let inputs = compute::Inputs {
            cmg_service_name: cmg_name,
            resource_uri: service
                .as_ref()
                .filter(|_| aad)
                .map(|s| s.server_app_uri.clone())
                .unwrap_or_default(),
            client_app_id: service
                .as_ref()
                .filter(|_| aad)
                .map(|s| s.client_app_id.text().to_string())
                .unwrap_or_default(),
            mutual_auth_path: opts.mutual_auth_path,
            smsmp: opts.smsmp,
            provision_ts: opts.provision_ts,
        };
        let c = compute::compute(&run, &inputs).map_err(at(&ctx))?;
        Ok(result_map(&c.command, c.text, c.findings))
    }

    /// Read a CCMSETUPCMD line and say what is wrong with it.
    ///
    /// Accepts the current docs' form (`CCMSETUPCMD="CCMHOSTNAME=… SMSSITECODE=ABC"`),
    /// the tutorial's (`SMSSiteCode="ABC"` outside the quotes, which is a warning), a
    /// leading `ccmsetup.msi`, `/mp:` style switches, and bare `NAME=value` pairs. A line
    /// that cannot be read (an unclosed quote, a property given twice) is an error naming
    /// why; every rule a readable line breaks is a finding, named by the rule.
    ///
    /// # Returns
    /// A map: `text` (the line in the current form), `ok`, `properties`, `switches`, `findings`.
    ///
    /// # Permission
    /// None: nothing is read or written.
    ///
    /// # Example
    /// ```rhai
    /// let r = comanage::parse_ccmsetup_command(
    ///     `CCMSETUPCMD="CCMHOSTNAME=GraniteFalls.contoso.com/CCM_Proxy_MutualAuth/72057594037927939" SMSSiteCode="ABC"`);
    /// print(r.properties.SMSSITECODE);
    /// for f in r.findings { print(`  ${f}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn parse_ccmsetup_command(
        ctx: NativeCallContext,
        text: &str,
    ) -> Result<Map, Box<EvalAltResult>> {
        let cmd = model::parse(text).map_err(|why| {
            at(&ctx)(
                ModuleError::validation(format!("comanage::parse_ccmsetup_command: {why}"))
                    .with_hint("the form is CCMSETUPCMD=\"CCMHOSTNAME=<CMG>/CCM_Proxy_MutualAuth/<id> SMSSITECODE=<code>\""),
            )
        })?;
        let findings = model::check(&cmd, text);
        let rendered = cmd.render();
        Ok(result_map(&cmd, rendered, findings))
    }
}

pub fn module() -> rhai::Module {
    exported_module!(api)
}

/// The option keys of these functions.
pub fn option_specs() -> Vec<options::OptionSpec> {
    vec![options::OptionSpec::of::<CommandOptions>(
        "comanage::ccmsetup_command",
        &["cmg", "azure_service"],
    )]
}
