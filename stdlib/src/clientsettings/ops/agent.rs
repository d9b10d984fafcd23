//! One agent's settings in client settings (the cloud services or the client policy
//! group) as a resource: observed in the settings' row, desired as that row's
//! `AgentConfigurations` with the agent's entry changed, written by PATCH.
//!
//! How the site takes writes of client settings is UNCONFIRMED (no public script
//! writes them through the AdminService, api-surface §0.2): this sends the whole
//! `AgentConfigurations` list, which the emulator matches per agent by `AgentID`. The
//! plan's PowerShell line is the documented way (`Set-CMClientSettingCloudService`,
//! `Set-CMClientSettingClientPolicy`), and `comgmt plan --powershell` collects it.

use super::{Target, MODULE};
use crate::change::{
    ensure, Action, ArrayKeys, Equivalent, Op, Outcome, Resource, ResourceId, Written,
};
use crate::clientsettings::model::{
    AgentSpec, ClientPolicyOptions, CloudServicesOptions, Setting, CLOUD_AGENT, CUSTOM_CLASS,
    DEFAULT_CLASS, POLICY_AGENT,
};
use crate::clientsettings::objects::ClientSettings;
use crate::cloud::access::Writer;
use crate::context::Ctx;
use crate::error::{ModuleError, Result};
use crate::site::ops::row::ps_quote;
use serde_json::{json, Map, Value};

/// Agents are matched by `AgentID`, so a plan shows one field of one agent (with the
/// embedded-property keys of `change::DEFAULT_ARRAY_KEYS` that rows may carry).
const ARRAY_KEYS: ArrayKeys = &[
    ("AgentConfigurations", "AgentID"),
    ("Props", "PropertyName"),
    ("PropLists", "PropertyListName"),
];

struct AgentChange {
    target: Target,
    agent: &'static AgentSpec,
    settings: Vec<Setting>,
}

impl AgentChange {
    /// `$true`-style arguments of the settings, after the target's parameter.
    fn command(&self) -> String {
        let target = match &self.target {
            Target::Default => "-DefaultSetting".to_string(),
            Target::Custom(name) => format!("-Name {}", ps_quote(name)),
        };
        let args: Vec<String> = self.settings.iter().map(Setting::argument).collect();
        format!("{} {target} {}", self.agent.cmdlet, args.join(" "))
    }

    /// The agent's entry as this change wants it: what it has, with the settings.
    fn entry(&self, current: Option<&Value>) -> Value {
        let mut m = current
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_else(|| {
                let mut m = Map::new();
                m.insert("AgentID".into(), json!(self.agent.id));
                m
            });
        for s in &self.settings {
            m.insert(s.property.into(), s.value.clone());
        }
        Value::Object(m)
    }
}

impl Resource for AgentChange {
    type Output = Option<Value>;

    fn id(&self, _observed: Option<&Value>) -> ResourceId {
        let class = match self.target {
            Target::Default => DEFAULT_CLASS,
            Target::Custom(_) => CUSTOM_CLASS,
        };
        let key = format!(
            "{}[Name={}].{}",
            class.trim_start_matches("wmi/"),
            self.target.label(),
            self.agent.class
        );
        ResourceId::new(MODULE, self.agent.kind, key).label(self.target.label())
    }

    fn observe(&self, ctx: &Ctx) -> Result<Option<Value>> {
        self.target.observe(ctx)
    }

    fn desired(&self, observed: Option<&Value>) -> Result<Value> {
        let list: Vec<Value> = observed
            .and_then(|o| o["AgentConfigurations"].as_array())
            .cloned()
            .unwrap_or_default();
        let mut out: Vec<Value> = Vec::with_capacity(list.len() + 1);
        let mut seen = false;
        for e in list {
            if e["AgentID"].as_i64() == Some(self.agent.id) {
                seen = true;
                out.push(self.entry(Some(&e)));
            } else {
                out.push(e);
            }
        }
        if !seen {
            out.push(self.entry(None));
        }
        Ok(json!({ "AgentConfigurations": out }))
    }

    /// The Default Client Settings always exist: a plan that cannot read them yet (the
    /// AdminService is reached with the server app this plan creates) shows an update.
    fn create_action(&self) -> Action {
        match self.target {
            Target::Default => Action::Update,
            Target::Custom(_) => Action::Create,
        }
    }

    fn array_keys(&self) -> ArrayKeys {
        ARRAY_KEYS
    }

    fn equivalent(&self) -> Option<Equivalent> {
        Some(Equivalent::powershell(self.command()))
    }

    async fn write(&self, w: &Writer<'_>, op: Op<'_>) -> Result<Written> {
        let (observed, patch) = match op {
            Op::Update {
                observed, patch, ..
            } => (observed, patch),
            // Apply never gets here for existing settings; custom settings that are not
            // there must be made first.
            Op::Create { .. } => return Err(missing(&self.target)),
        };
        let class = match self.target {
            Target::Default => DEFAULT_CLASS,
            Target::Custom(_) => CUSTOM_CLASS,
        };
        let id = observed["SettingsID"].as_i64().ok_or_else(|| {
            ModuleError::remote(format!(
                "AdminService answered {} without its SettingsID",
                self.target.label()
            ))
        })?;
        let r = w
            .admin_service()?
            .patch(&format!("{class}({id})"), patch)
            .await?;
        Ok(Written::new(r.body))
    }

    fn output(self, outcome: Outcome) -> Result<Option<Value>> {
        Ok(match outcome {
            Outcome::Unchanged(v) => Some(v),
            Outcome::Applied { written, .. } => Some(written.state),
            Outcome::Planned { observed, desired } => observed.map(|mut o| {
                if let (Value::Object(m), Value::Object(d)) = (&mut o, desired) {
                    m.extend(d);
                }
                o
            }),
        })
    }
}

fn missing(target: &Target) -> ModuleError {
    let name = target.label();
    ModuleError::not_found(format!("no client settings named {name:?}")).with_hint(format!(
        "create them first with clientsettings::ensure({name:?}, #{{ type: \"device\" }})"
    ))
}

/// Run one agent change; the settings after it (as planned, in a plan).
fn change(
    ctx: &Ctx,
    target: Target,
    agent: &'static AgentSpec,
    settings: Vec<Setting>,
    planned: Option<&ClientSettings>,
) -> Result<ClientSettings> {
    let label = target.label().to_string();
    let kind = if target == Target::Default {
        "default"
    } else {
        "device"
    };
    let change = AgentChange {
        target,
        agent,
        settings,
    };
    // What a plan shows for settings it cannot read (created by this plan): the
    // settings as planned, with this group as changed.
    let mut as_planned = planned
        .cloned()
        .unwrap_or_else(|| ClientSettings::planned(&label, "", kind));
    let group = if agent.id == CLOUD_AGENT.id {
        &mut as_planned.cloud
    } else {
        &mut as_planned.policy
    };
    *group = Some(change.entry(group.as_ref()));
    match ensure(ctx, change)? {
        Some(r) => Ok(ClientSettings::from_row(&r)),
        None if ctx.is_plan() => Ok(as_planned),
        None => Err(ModuleError::remote(format!(
            "AdminService answered no row for {label}"
        ))),
    }
}

/// The settings a target names must exist before apply: say so before anything else.
fn check_exists(ctx: &Ctx, target: &Target, observed: Option<&Value>) -> Result<()> {
    if observed.is_none() && !ctx.is_plan() {
        return Err(missing(target));
    }
    Ok(())
}

/// Cloud services: Entra registration, CMG use, cloud distribution point.
pub fn cloud_services(
    ctx: &Ctx,
    target: Target,
    opts: &CloudServicesOptions,
    planned: Option<&ClientSettings>,
) -> Result<ClientSettings> {
    let settings = opts.settings()?;
    let observed = target.observe(ctx)?;
    check_exists(ctx, &target, observed.as_ref())?;
    change(ctx, target, &CLOUD_AGENT, settings, planned)
}

/// Client policy: user policy, user policy from internet clients, polling interval.
/// The user-policy rule is checked on the settings as they would be after the change.
pub fn client_policy(
    ctx: &Ctx,
    target: Target,
    opts: &ClientPolicyOptions,
    planned: Option<&ClientSettings>,
) -> Result<ClientSettings> {
    let settings = opts.settings()?;
    let observed = target.observe(ctx)?;
    check_exists(ctx, &target, observed.as_ref())?;
    let now = observed
        .as_ref()
        .map(ClientSettings::from_row)
        .and_then(|s| s.policy);
    // What the agent holds now, or the site's defaults for a group custom settings do
    // not carry yet (user policy on, internet off: UNCONFIRMED defaults).
    let held = |prop: &str, default: bool| {
        now.as_ref()
            .and_then(|p| p[prop].as_bool())
            .unwrap_or(default)
    };
    let user_policy = opts
        .user_policy
        .unwrap_or_else(|| held("PolicyEnableUserPolicyPolling", true));
    let on_internet = opts
        .user_policy_on_internet
        .unwrap_or_else(|| held("PolicyEnableUserPolicyOnInternet", false));
    ClientPolicyOptions::check_user_policy(user_policy, on_internet)?;
    change(ctx, target, &POLICY_AGENT, settings, planned)
}
