//! The clientsettings module against an in-process emulator over real HTTP: the
//! Default Client Settings and custom settings read, created and changed; re-runs that
//! change nothing; plans that write nothing and show per-field changes with the
//! cmdlets; the user-policy rule and the polling range; two runs at once.

mod common;

use comgmt_stdlib::change::{Action, Shell};
use comgmt_stdlib::Mode;
use common::{changes, ok, Lab};

/// The AdminService takes a token for the server app (as through a CMG).
const SERVER_APP: &str = r#"entra::server_app(#{ display_name: "Cloud Management web app" });"#;

const TUTORIAL: &str = r#"
clientsettings::cloud_services("default", #{ auto_aad_join: true, enable_cmg: true, allow_cloud_dp: true });
let d = clientsettings::client_policy("default", #{ user_policy: true, user_policy_on_internet: true, polling_minutes: 60 });
[d.cloud_services.auto_aad_join, d.cloud_services.allow_cloud_dp, d.client_policy.user_policy_on_internet, d.client_policy.polling_minutes, d.type, d.priority]
"#;

/// The tutorial's changes, reading back only what each call changed (a plan that cannot
/// read the site knows only that).
const DEFAULT_ONLY: &str = r#"
let c = clientsettings::cloud_services("default", #{ auto_aad_join: true, enable_cmg: true, allow_cloud_dp: true });
let p = clientsettings::client_policy("default", #{ user_policy: true, user_policy_on_internet: true, polling_minutes: 60 });
[c.cloud_services.enable_cmg, p.client_policy.polling_minutes, p.type]
"#;

const CUSTOM: &str = r#"
let s = clientsettings::ensure("CMG pilot devices", #{ type: "device", description: "pilot" });
let s = clientsettings::cloud_services(s, #{ enable_cmg: true });
let again = clientsettings::client_policy(s, #{ polling_minutes: 30 });
[again.type, again.description, again.client_policy.polling_minutes, again.cloud_services.enable_cmg, again.priority]
"#;

/// A lab whose server app exists, so the AdminService answers.
fn lab() -> Lab {
    let lab = Lab::new();
    let _ = ok(lab
        .run(Mode::Apply)
        .engine
        .eval::<rhai::Dynamic>(SERVER_APP));
    lab
}

fn eval(lab: &Lab, mode: Mode, script: &str) -> (rhai::Array, Vec<(Action, String, String)>) {
    let run = lab.run(mode);
    let out: rhai::Array = ok(run.engine.eval(script));
    (out, changes(&run))
}

#[test]
fn the_tutorial_settings_apply_once() {
    let lab = lab();
    let d: rhai::Array = ok(lab.run(Mode::Apply).engine.eval(
        "let d = clientsettings::default_settings(); [d.name, d.priority, d.client_policy.polling_minutes, d.cloud_services.enable_cmg, d.type]",
    ));
    assert_eq!(d[0].to_string(), "Default Client Settings");
    assert_eq!(d[1].as_int().unwrap(), 10000);
    assert_eq!(d[2].as_int().unwrap(), 60);
    assert!(d[3].as_bool().unwrap());
    assert_eq!(d[4].to_string(), "default");

    let (out, c) = eval(&lab, Mode::Apply, TUTORIAL);
    assert!(out[0].as_bool().unwrap() && out[1].as_bool().unwrap() && out[2].as_bool().unwrap());
    assert_eq!(out[3].as_int().unwrap(), 60);
    assert_eq!(
        (out[4].to_string(), out[5].as_int().unwrap()),
        ("default".into(), 10000)
    );
    assert_eq!(
        c.iter().map(|(a, _, _)| *a).collect::<Vec<_>>(),
        [Action::Update, Action::Update],
        "{c:?}"
    );
    let writes = lab.admin_writes();
    assert_eq!(writes.len(), 2, "{writes:?}");
    assert!(writes
        .iter()
        .all(|(m, p)| m == "PATCH" && p.contains("SMS_ClientSettingsDefault(")));

    // A second run changes nothing and sends nothing.
    let (_, c) = eval(&lab, Mode::Apply, TUTORIAL);
    assert!(c.iter().all(|(a, _, _)| *a == Action::Unchanged), "{c:?}");
    assert_eq!(lab.admin_writes().len(), 2);
}

#[test]
fn custom_settings_are_made_configured_and_left_alone_on_a_rerun() {
    let lab = lab();
    let (out, c) = eval(&lab, Mode::Apply, CUSTOM);
    assert_eq!(out[0].to_string(), "device");
    assert_eq!(out[1].to_string(), "pilot");
    assert_eq!(out[2].as_int().unwrap(), 30);
    assert!(out[3].as_bool().unwrap());
    assert_eq!(out[4].as_int().unwrap(), 1);
    assert_eq!(
        c.iter().map(|(a, _, _)| *a).collect::<Vec<_>>(),
        [Action::Create, Action::Update, Action::Update],
        "{c:?}"
    );
    let (_, c) = eval(&lab, Mode::Apply, CUSTOM);
    assert!(c.iter().all(|(a, _, _)| *a == Action::Unchanged), "{c:?}");
    let (got, _) = eval(
        &lab,
        Mode::Apply,
        r#"let g = clientsettings::get("cmg pilot devices"); [g.name, g.client_policy.polling_minutes, clientsettings::get("default").type]"#,
    );
    assert_eq!(got[0].to_string(), "CMG pilot devices");
    assert_eq!(got[1].as_int().unwrap(), 30);
    assert_eq!(got[2].to_string(), "default");

    // A changed description is an update; the other type is refused.
    let (_, c) = eval(
        &lab,
        Mode::Apply,
        r#"[clientsettings::ensure("CMG pilot devices", #{ description: "pilot 2" })]"#,
    );
    assert_eq!(c[0].0, Action::Update);
    let run = lab.run(Mode::Apply);
    let e = run
        .engine
        .eval::<rhai::Dynamic>(r#"clientsettings::ensure("CMG pilot devices", #{ type: "user" })"#)
        .unwrap_err();
    let m = comgmt_stdlib::error::find_module_error(&e).unwrap();
    assert!(m.message.contains("device settings"), "{}", m.message);
    let e = run
        .engine
        .eval::<rhai::Dynamic>(r#"clientsettings::get("Nope")"#)
        .unwrap_err();
    let m = comgmt_stdlib::error::find_module_error(&e).unwrap();
    assert!(m
        .hint
        .unwrap_or_default()
        .contains("clientsettings::ensure"));
}

#[test]
fn a_plan_writes_nothing_and_shows_fields_and_cmdlets() {
    let lab = lab();
    let before = lab.admin_writes().len();
    let run = lab.run(Mode::Plan);
    let _ = ok(run
        .engine
        .eval::<rhai::Dynamic>(&format!("{TUTORIAL}; {CUSTOM}")));
    assert_eq!(lab.admin_writes().len(), before);
    let recorded = run.output.changes.lock().unwrap().clone();
    let cloud = recorded
        .iter()
        .find(|r| {
            r.object == "cloud services client settings"
                && r.label.as_deref() == Some("Default Client Settings")
        })
        .unwrap();
    let paths: Vec<_> = cloud.fields.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "AgentConfigurations[22].AllowCloudDP",
            "AgentConfigurations[22].AutoAADJoin"
        ],
        "enable_cmg is already on by default"
    );
    assert_eq!(cloud.fields[0].before, Some(serde_json::json!(false)));
    let ps: Vec<String> = recorded
        .iter()
        .filter_map(|r| r.equivalent.as_ref())
        .filter(|e| e.shell == Shell::PowerShell)
        .map(|e| e.command.clone())
        .collect();
    for want in [
        "Set-CMClientSettingCloudService -DefaultSetting -AllowCloudDistributionPoint $true -AllowCloudManagementGateway $true -AutoAzureADJoin $true",
        "Set-CMClientSettingClientPolicy -DefaultSetting -EnableUserPolicy $true -EnableUserPolicyOnInternet $true -PolicyPollingMins 60",
        "New-CMClientSetting -Name 'CMG pilot devices' -Type Device -Description 'pilot'",
        "Set-CMClientSettingCloudService -Name 'CMG pilot devices' -AllowCloudManagementGateway $true",
        "Set-CMClientSettingClientPolicy -Name 'CMG pilot devices' -PolicyPollingMins 30",
    ] {
        assert!(ps.iter().any(|c| c == want), "{want}\n{ps:#?}");
    }
}

#[test]
fn a_plan_on_a_fresh_tenant_shows_the_default_settings_as_an_update() {
    let lab = Lab::new();
    let run = lab.run(Mode::Plan);
    let _ = ok(run
        .engine
        .eval::<rhai::Dynamic>(&format!("{SERVER_APP} {DEFAULT_ONLY}")));
    assert!(lab.admin_writes().is_empty());
    let c = changes(&run);
    let settings: Vec<_> = c
        .iter()
        .filter(|(_, o, _)| o.contains("client settings"))
        .collect();
    assert_eq!(settings.len(), 2, "{c:?}");
    assert!(
        settings.iter().all(|(a, _, _)| *a == Action::Update),
        "{c:?}"
    );
}

#[test]
fn user_policy_from_the_internet_needs_user_policy_and_polling_has_a_range() {
    let lab = lab();
    let before = lab.admin_writes().len();
    let run = lab.run(Mode::Apply);
    for (script, says) in [
        (
            r#"clientsettings::client_policy("default", #{ user_policy: false, user_policy_on_internet: true })"#,
            "need user policy",
        ),
        (
            // On by itself is fine (user policy is on by default); turning user policy
            // off under it is not.
            r#"clientsettings::client_policy("default", #{ user_policy_on_internet: true }); clientsettings::client_policy("default", #{ user_policy: false })"#,
            "need user policy",
        ),
        (
            r#"clientsettings::client_policy("default", #{ polling_minutes: 2 })"#,
            "3 to 1440",
        ),
        (
            r#"clientsettings::client_policy("default", #{})"#,
            "no setting",
        ),
        (
            r#"clientsettings::cloud_services("default", #{ enable_cmgs: true })"#,
            "enable_cmg",
        ),
        (
            r#"clientsettings::cloud_services("Nope", #{ enable_cmg: true })"#,
            "no client settings named",
        ),
    ] {
        let e = run.engine.eval::<rhai::Dynamic>(script).unwrap_err();
        let text = match comgmt_stdlib::error::find_module_error(&e) {
            Some(m) => format!("{} {:?}", m.message, m.hint),
            None => e.to_string(),
        };
        assert!(text.contains(says), "{script}: {text}");
    }
    // Only the one allowed change was written.
    assert_eq!(lab.admin_writes().len(), before + 1);
}

#[test]
fn two_runs_at_once_make_one_custom_settings_object() {
    let lab = lab();
    let s = r#"clientsettings::ensure("CMG pilot devices", #{ type: "device" }).name"#;
    lab.run_at_once(2, s);
    let rows = lab.admin_rows("wmi/SMS_ClientSettings");
    assert_eq!(rows.len(), 1, "{rows:?}");
}
