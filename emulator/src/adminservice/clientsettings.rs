//! Client settings: the Default Client Settings (`SMS_ClientSettingsDefault`, one row
//! the site makes) and custom client settings (`SMS_ClientSettings`, natural key `Name`),
//! each carrying its agents' settings as embedded objects in `AgentConfigurations`.
//!
//! Sources: MicrosoftDocs/memdocs sms_clientsettingsdefault-server-wmi-class.md (`Type`
//! 0 default, 1 device, 2 user; `Priority`; key `SettingsID`),
//! sms_policyagentconfig-server-wmi-class.md (its properties, AgentID 13),
//! sms_cloudagentconfig-server-wmi-class.md (`AllowCloudDP`; `AllowCMG` and
//! `AutoAADJoin` are seen through `Get-CMClientSetting` in third-party DSC resources),
//! about-client-settings.md (defaults); api-surface.md §14.
//!
//! UNCONFIRMED, emulated at the property level: no public script writes these classes
//! through the AdminService (api-surface §0.2). Here a PATCH of `AgentConfigurations`
//! is matched per agent by `AgentID`: each given entry's properties overlay that agent's
//! stored entry, agents not named keep what they have, and an agent a custom settings
//! object does not carry yet is added with its defaults (the console adds a group to
//! custom settings only when it is configured). The Default Client Settings cannot be
//! created or deleted; only their `AgentConfigurations` take writes. The cloud agent's
//! AgentID (22) is taken from a third-party script and is UNCONFIRMED; so are the
//! `SettingsID` numbers and the defaults marked below.

use super::classes::{ro, rw, type_ok, KeyKind, Ty, WmiClass};
use super::AdminError;
use crate::app::AppState;
use crate::store::{Db, StoreError};
use axum::http::StatusCode;
use serde_json::{json, Map, Value};

/// The Default Client Settings' `SettingsID` (UNCONFIRMED value).
pub const DEFAULT_SETTINGS_ID: i64 = 16777216;
/// The documented `Priority` of the Default Client Settings: always the lowest.
pub const DEFAULT_PRIORITY: i64 = 10000;

/// An agent configuration class: its AgentID, properties and defaults.
pub struct Agent {
    pub class: &'static str,
    pub id: i64,
    pub props: &'static [(&'static str, Ty)],
    pub defaults: fn() -> Value,
}

/// `SMS_PolicyAgentConfig`, AgentID 13 (documented).
pub const POLICY_AGENT: Agent = Agent {
    class: "SMS_PolicyAgentConfig",
    id: 13,
    props: &[
        ("PolicyDownloadMethod", Ty::Str),
        ("PolicyEnableUserAuthForAllUserPolicies", Ty::Bool),
        ("PolicyEnableUserGroupSupport", Ty::Bool),
        ("PolicyEnableUserPolicyOnInternet", Ty::Bool),
        ("PolicyEnableUserPolicyOnTS", Ty::Bool),
        ("PolicyEnableUserPolicyPolling", Ty::Bool),
        ("PolicyRequestAssignmentTimeout", Ty::Int),
        (
            "PolicyTimeDelayBeforeUserPolicyRefreshAtLogonOrUnlock",
            Ty::Int,
        ),
        ("PolicyTimeUntilAck", Ty::Int),
        ("PolicyTimeUntilExpire", Ty::Int),
        ("PolicyTimeUntilUpdateActualConfig", Ty::Int),
    ],
    defaults: policy_defaults,
};

/// `SMS_CloudAgentConfig`, AgentID 22 (UNCONFIRMED).
pub const CLOUD_AGENT: Agent = Agent {
    class: "SMS_CloudAgentConfig",
    id: 22,
    props: &[
        ("AllowCloudDP", Ty::Bool),
        ("AllowCMG", Ty::Bool),
        ("AutoAADJoin", Ty::Bool),
    ],
    defaults: cloud_defaults,
};

pub const AGENTS: &[&Agent] = &[&POLICY_AGENT, &CLOUD_AGENT];

/// Documented: polling every 60 minutes (about-client-settings.md), user policy on
/// multi-session hosts off. UNCONFIRMED: user policy on (the console's default), user
/// policy from the internet off, and the timing values.
fn policy_defaults() -> Value {
    json!({
        "PolicyDownloadMethod": "BITS",
        "PolicyEnableUserAuthForAllUserPolicies": false,
        "PolicyEnableUserGroupSupport": true,
        "PolicyEnableUserPolicyOnInternet": false,
        "PolicyEnableUserPolicyOnTS": false,
        "PolicyEnableUserPolicyPolling": true,
        "PolicyRequestAssignmentTimeout": 60,
        "PolicyTimeDelayBeforeUserPolicyRefreshAtLogonOrUnlock": 60000,
        "PolicyTimeUntilAck": 40320,
        "PolicyTimeUntilExpire": 90,
        "PolicyTimeUntilUpdateActualConfig": 1440,
    })
}

/// Documented: clients use a CMG by default. UNCONFIRMED (api-surface §21 item 11): the
/// defaults of cloud distribution point access and automatic Entra registration (off).
fn cloud_defaults() -> Value {
    json!({"AllowCloudDP": false, "AllowCMG": true, "AutoAADJoin": false})
}

/// The entry of `agent` with every property at its default.
fn default_entry(agent: &Agent) -> Value {
    let mut m = Map::new();
    m.insert(
        "@odata.type".into(),
        json!(format!("#AdminService.{}", agent.class)),
    );
    m.insert("AgentID".into(), json!(agent.id));
    if let Value::Object(d) = (agent.defaults)() {
        m.extend(d);
    }
    Value::Object(m)
}

fn bad(message: impl Into<String>) -> AdminError {
    AdminError::new(StatusCode::BAD_REQUEST, message)
}

/// Check one given entry against its agent class: answers the agent and the entry's
/// properties under their documented spelling.
fn checked_entry(entry: &Value) -> Result<(&'static Agent, Map<String, Value>), AdminError> {
    let m = entry
        .as_object()
        .ok_or_else(|| bad("Each entry of AgentConfigurations must be an object."))?;
    let id = m
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("AgentID"))
        .and_then(|(_, v)| v.as_i64())
        .ok_or_else(|| bad("Each entry of AgentConfigurations needs its AgentID."))?;
    let agent = AGENTS
        .iter()
        .copied()
        .find(|a| a.id == id)
        .ok_or_else(|| bad(format!("No agent configuration has AgentID {id}.")))?;
    let mut out = Map::new();
    for (k, v) in m {
        if k.eq_ignore_ascii_case("AgentID") {
            continue;
        }
        if k == "@odata.type" {
            let named = v.as_str().unwrap_or_default().trim_start_matches('#');
            let named = named.rsplit('.').next().unwrap_or_default();
            if !named.eq_ignore_ascii_case(agent.class) {
                return Err(bad(format!(
                    "AgentID {id} is {}, not {named}.",
                    agent.class
                )));
            }
            continue;
        }
        let (name, ty) = agent
            .props
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .ok_or_else(|| {
                bad(format!(
                    "The property '{k}' does not exist on type '{}'.",
                    agent.class
                ))
            })?;
        if !type_ok(*ty, v) {
            return Err(bad(format!(
                "The value of property '{name}' of '{}' is not valid for its type ({ty:?}).",
                agent.class
            )));
        }
        out.insert(name.to_string(), v.clone());
    }
    Ok((agent, out))
}

/// `current` with `given` overlaid per agent (see the module comment).
fn merge_agents(current: &Value, given: &Value) -> Result<Value, AdminError> {
    let given = given
        .as_array()
        .ok_or_else(|| bad("AgentConfigurations must be an array."))?;
    let mut list: Vec<Value> = current.as_array().cloned().unwrap_or_default();
    for entry in given {
        let (agent, props) = checked_entry(entry)?;
        let at = list
            .iter()
            .position(|e| e["AgentID"].as_i64() == Some(agent.id));
        let slot = match at {
            Some(i) => &mut list[i],
            None => {
                list.push(default_entry(agent));
                let last = list.len() - 1;
                &mut list[last]
            }
        };
        if let Value::Object(m) = slot {
            m.extend(props);
        }
    }
    Ok(Value::Array(list))
}

/// `SMS_ClientSettingsDefault`: the one Default Client Settings row.
pub const SMS_CLIENTSETTINGSDEFAULT: WmiClass = WmiClass {
    name: "SMS_ClientSettingsDefault",
    key: "SettingsID",
    key_kind: KeyKind::Given,
    natural_key: &[],
    props: &[
        rw("AgentConfigurations", Ty::List),
        ro("Description", Ty::Str),
        ro("Name", Ty::Str),
        ro("Priority", Ty::Int),
        ro("SettingsID", Ty::Int),
        ro("Type", Ty::Int),
    ],
    writable: true,
    on_create: Some(refuse_default_create),
    on_update: Some(update_agents),
    on_delete: Some(refuse_default_delete),
    on_read: None,
    methods: &[],
};

/// `SMS_ClientSettings`: custom client settings, one per `Name`.
pub const SMS_CLIENTSETTINGS: WmiClass = WmiClass {
    name: "SMS_ClientSettings",
    key: "SettingsID",
    // UNCONFIRMED starting value, after the default settings' id.
    key_kind: KeyKind::Assigned { first: 16777217 },
    natural_key: &["Name"],
    props: &[
        rw("AgentConfigurations", Ty::List),
        rw("Description", Ty::Str),
        rw("Enabled", Ty::Bool),
        rw("Name", Ty::Str),
        rw("Priority", Ty::Int),
        ro("SettingsID", Ty::Int),
        rw("Type", Ty::Int),
    ],
    writable: true,
    on_create: Some(create_custom),
    on_update: Some(update_custom),
    on_delete: None,
    on_read: None,
    methods: &[],
};

fn refuse_default_create(
    _: &AppState,
    _: &Db<'_>,
    _: &mut Map<String, Value>,
    _: &Map<String, Value>,
) -> Result<(), AdminError> {
    Err(AdminError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "The Default Client Settings exist once per hierarchy; create custom settings in SMS_ClientSettings.",
    ))
}

fn refuse_default_delete(_: &AppState, _: &Db<'_>, _: &Value) -> Result<Option<Value>, AdminError> {
    Err(AdminError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "The Default Client Settings cannot be deleted.",
    ))
}

fn update_agents(
    _: &AppState,
    _: &Db<'_>,
    current: &Value,
    row: &mut Map<String, Value>,
    changes: &Map<String, Value>,
) -> Result<(), AdminError> {
    if let Some(given) = changes.get("AgentConfigurations") {
        let merged = merge_agents(&current["AgentConfigurations"], given)?;
        row.insert("AgentConfigurations".into(), merged);
    }
    Ok(())
}

/// A new custom settings object: a name, a type (1 device, 2 user), the next priority
/// after the highest (the console's behaviour), and only the agents it was given.
fn create_custom(
    _: &AppState,
    db: &Db<'_>,
    row: &mut Map<String, Value>,
    given: &Map<String, Value>,
) -> Result<(), AdminError> {
    let name = given.get("Name").and_then(Value::as_str).unwrap_or("");
    if name.trim().is_empty() {
        return Err(bad("The property 'Name' is required."));
    }
    check_type(given.get("Type"))?;
    if given.get("Priority").is_none_or(Value::is_null) {
        let highest = db
            .docs(&SMS_CLIENTSETTINGS.collection())?
            .iter()
            .filter_map(|d| d["Priority"].as_i64())
            .max()
            .unwrap_or(0);
        row.insert("Priority".into(), json!(highest + 1));
    }
    let agents = merge_agents(
        &json!([]),
        given.get("AgentConfigurations").unwrap_or(&json!([])),
    )?;
    row.insert("AgentConfigurations".into(), agents);
    for (k, v) in [("Description", json!("")), ("Enabled", json!(true))] {
        if row.get(k).is_none_or(Value::is_null) {
            row.insert(k.into(), v);
        }
    }
    Ok(())
}

fn check_type(t: Option<&Value>) -> Result<(), AdminError> {
    match t.and_then(Value::as_i64) {
        Some(1 | 2) => Ok(()),
        _ => Err(bad(
            "The property 'Type' is required: 1 (device settings) or 2 (user settings).",
        )),
    }
}

fn update_custom(
    st: &AppState,
    db: &Db<'_>,
    current: &Value,
    row: &mut Map<String, Value>,
    changes: &Map<String, Value>,
) -> Result<(), AdminError> {
    // The console offers no way to turn device settings into user settings.
    if let Some(t) = changes.get("Type") {
        if t != &current["Type"] {
            return Err(bad(
                "The property 'Type' cannot be changed: create new settings of the other type.",
            ));
        }
    }
    update_agents(st, db, current, row, changes)
}

/// Seed the Default Client Settings with every agent at its defaults, once.
pub fn seed(db: &Db<'_>) -> Result<(), StoreError> {
    let collection = SMS_CLIENTSETTINGSDEFAULT.collection();
    if !db.docs(&collection)?.is_empty() {
        return Ok(());
    }
    let agents: Vec<Value> = AGENTS.iter().map(|a| default_entry(a)).collect();
    let row = json!({
        "AgentConfigurations": agents,
        "Description": "Default client agent settings",
        "Name": "Default Client Settings",
        "Priority": DEFAULT_PRIORITY,
        "SettingsID": DEFAULT_SETTINGS_ID,
        "Type": 0,
        "_etag": 1,
    });
    db.insert(&collection, &DEFAULT_SETTINGS_ID.to_string(), &row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_match_agents_by_id() {
        let current = json!([default_entry(&POLICY_AGENT), default_entry(&CLOUD_AGENT)]);
        let merged = merge_agents(&current, &json!([{"AgentID": 22, "allowcmg": false}])).unwrap();
        assert_eq!(merged[1]["AllowCMG"], false);
        assert_eq!(merged[1]["AllowCloudDP"], false);
        assert_eq!(merged[0]["PolicyRequestAssignmentTimeout"], 60);
        let added = merge_agents(&json!([]), &json!([{"AgentID": 13}])).unwrap();
        assert_eq!(added[0]["PolicyEnableUserPolicyPolling"], true);
        assert!(merge_agents(&current, &json!([{"AgentID": 99}])).is_err());
        assert!(merge_agents(&current, &json!([{"AgentID": 22, "Nope": 1}])).is_err());
        assert!(merge_agents(&current, &json!([{"AgentID": 22, "AllowCMG": "yes"}])).is_err());
        let wrong = json!([{"AgentID": 22, "@odata.type": "#AdminService.SMS_PolicyAgentConfig"}]);
        assert!(merge_agents(&current, &wrong).is_err());
    }
}
