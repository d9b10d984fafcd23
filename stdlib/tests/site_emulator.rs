//! The site module against an in-process emulator over real HTTP: the apps and the
//! Azure service imported into the site, the client secret reaching it (proved by a
//! discovery that authenticates with it), re-runs, plans, a secret this run cannot read,
//! and two runs at once.

mod common;

use comgmt_stdlib::change::{Action, Shell};
use comgmt_stdlib::Mode;
use common::{changes, ok, Lab};

const APPS: &str = r#"
let server = entra::server_app(#{ display_name: "Cloud Management web app" });
let client = entra::client_app(server, #{ display_name: "Cloud Management native client app" });
let secret = entra::client_secret(server, #{ years: 1 });
entra::grant_admin_consent(server);
entra::grant_admin_consent(client);
"#;

const SERVICE: &str = r#"
let svc = site::azure_service(#{
    name: "My cloud management service",
    server: server, client: client, secret: secret,
    delta_minutes: 5, schedule: "7d",
});
"#;

fn script(extra: &str) -> String {
    format!("{APPS}{SERVICE}{extra}")
}

#[test]
fn imports_the_apps_runs_discovery_and_a_second_run_changes_nothing() {
    let lab = Lab::new();
    let log = lab.emu().log_dir().join("SMS_AZUREAD_DISCOVERY_AGENT.log");
    let run = lab.run(Mode::Apply);
    let s = site_script(&log);
    let out: rhai::Array = ok(run.engine.eval(&s));
    assert_eq!(out[0].to_string(), "ABC");
    assert!(out[1]
        .to_string()
        .starts_with("Configuration Manager current branch"));
    assert_eq!(out[2].to_string(), "Succeeded");
    assert_eq!(out[3].as_int().unwrap(), 25, "the seeded users");
    assert!(
        out[4]
            .to_string()
            .contains("Successfully published UDX for"),
        "{out:?}"
    );
    assert!(
        out[5].as_bool().unwrap(),
        "the first run gives the site its secret"
    );
    let c = changes(&run);
    let site: Vec<_> = c
        .iter()
        .filter(|(_, o, _)| o.contains("site") || o == "Azure service")
        .collect();
    assert_eq!(
        site.len(),
        4,
        "tenant, server app, client app, service: {c:?}"
    );
    assert!(site.iter().all(|(a, _, _)| *a == Action::Create));

    // The secret went to the site with the write and nowhere else.
    let journal = std::fs::read_to_string(lab.dir.path().join(".comgmt/journal.jsonl")).unwrap();
    assert!(!journal.contains("\"SecretKey\""), "{journal}");
    let recorded = run.output.changes.lock().unwrap().clone();
    let paths: Vec<&str> = recorded
        .iter()
        .flat_map(|r| r.fields.iter().map(|f| f.path.as_str()))
        .collect();
    assert!(paths.contains(&"SecretKeyExpiry"), "{paths:?}");
    assert!(
        !paths
            .iter()
            .any(|p| *p == "SecretKey" || p.contains("Secret") && !p.contains("Expiry")),
        "{paths:?}"
    );

    // Again: nothing changes, and the last discovery stands.
    let before = lab.admin_writes().len();
    let again = lab.run(Mode::Apply);
    let out2 = ok(again.engine.eval::<rhai::Array>(&s));
    assert_eq!(out2[3].as_int().unwrap(), 25);
    let c2 = changes(&again);
    let changed: Vec<_> = c2
        .iter()
        .filter(|(a, _, _)| *a != Action::Unchanged)
        .collect();
    assert!(changed.is_empty(), "{changed:?}");
    assert_eq!(lab.admin_writes().len(), before, "no write on a re-run");
    // force starts one anyway.
    let forced = lab.run(Mode::Apply);
    let d: rhai::Dynamic = ok(forced.engine.eval(&script(
        "site::run_discovery(svc, \"user\", #{ force: true, timeout: 60 }).status",
    )));
    assert_eq!(d.to_string(), "Succeeded");
    let after: Vec<_> = lab.admin_writes().into_iter().skip(before).collect();
    assert_eq!(after.len(), 1, "only the discovery trigger: {after:?}");
    assert!(
        after[0].1.ends_with("/AdminService.RunUserDiscovery"),
        "{after:?}"
    );
}

fn site_script(log: &std::path::Path) -> String {
    script(&format!(
        r#"
let s = site::get();
let d = site::run_discovery(svc, "user", #{{ timeout: 60 }});
let line = logs::wait_for({log:?}, ["Successfully published UDX for Microsoft Entra users",
    "Successfully published UDX for Azure Active Directory users"], #{{ timeout: 30 }});
[s.code, s.product_line, d.status, d.users, line.message, svc.secret_replaced]
"#
    ))
}

#[test]
fn a_plan_writes_nothing_and_shows_the_cmdlets() {
    let lab = Lab::new();
    let run = lab.run(Mode::Plan);
    let _ = ok(run
        .engine
        .eval::<rhai::Dynamic>(&script("site::run_discovery(svc, \"user\")")));
    assert!(lab.admin_writes().is_empty());
    let recorded = run.output.changes.lock().unwrap().clone();
    let ps: Vec<String> = recorded
        .iter()
        .filter_map(|r| r.equivalent.as_ref())
        .filter(|e| e.shell == Shell::PowerShell)
        .map(|e| e.command.clone())
        .collect();
    assert!(
        ps.iter()
            .any(|c| c
                .starts_with("Import-CMAADServerApplication -AppName 'Cloud Management web app'")),
        "{ps:?}"
    );
    assert!(ps.iter().any(|c| c.contains("-SecretKey $ServerAppSecret")));
    assert!(ps
        .iter()
        .any(|c| c.starts_with("Import-CMAADClientApplication")));
    assert!(ps.iter().any(|c| c
        .starts_with("New-CMCloudManagementAzureService -Name 'My cloud management service'")
        && c.contains("New-CMSchedule -RecurInterval Days -RecurCount 7")));
    assert!(recorded
        .iter()
        .any(|r| r.object == "full user discovery" && r.action == Action::Invoke));
}

/// A run killed after Entra made the secret but before the site got it: the next run
/// cannot read that secret's text (Graph shows it once), so it adds a new one for the
/// site, and discovery proves the site holds a secret Entra accepts.
#[test]
fn a_secret_this_run_cannot_read_is_replaced_by_a_new_one() {
    let lab = Lab::new();
    let first = lab.run(Mode::Apply);
    let _ = ok(first.engine.eval::<rhai::Dynamic>(APPS));
    let log = lab.emu().log_dir().join("SMS_AZUREAD_DISCOVERY_AGENT.log");
    let second = lab.run(Mode::Apply);
    let out: rhai::Array = ok(second.engine.eval(&site_script(&log)));
    assert_eq!(out[2].to_string(), "Succeeded");
    assert!(out[5].as_bool().unwrap());
    let c = changes(&second);
    assert!(
        c.iter()
            .any(|(a, o, _)| *a == Action::Invoke && o == "client secret"),
        "a forced new secret: {c:?}"
    );
    // A third run keeps it.
    let third = lab.run(Mode::Apply);
    let out: rhai::Array = ok(third.engine.eval(&site_script(&log)));
    assert!(!out[5].as_bool().unwrap());
}

#[test]
fn two_runs_at_once_make_one_of_each_row() {
    let lab = Lab::new();
    let prep = lab.run(Mode::Apply);
    let _ = ok(prep.engine.eval::<rhai::Dynamic>(APPS));
    let s = script("svc.name");
    lab.run_at_once(2, &s);
    let rows = |class: &str| lab.admin_rows(&format!("wmi/{class}")).len();
    assert_eq!(rows("SMS_AAD_Tenant_Ex"), 1);
    assert_eq!(rows("SMS_AAD_Application_Ex"), 2);
    assert_eq!(rows("SMS_Azure_CloudService"), 1);
}

#[test]
fn bad_options_fail_before_any_request() {
    let lab = Lab::new();
    let run = lab.run(Mode::Apply);
    let _ = ok(run.engine.eval::<rhai::Dynamic>(APPS));
    for (opts, want) in [
        (
            "delta_minutes: 2",
            "delta_minutes must be 0 (off) or 5 to 1440",
        ),
        ("schedule: \"40d\"", "schedule"),
        ("environment: \"Mars\"", "environment must be one of"),
        ("sever: 1", "unknown option `sever`"),
    ] {
        let s = format!(
            "{APPS}site::azure_service(#{{ name: \"x\", server: server, client: client, secret: secret, {opts} }})"
        );
        let before = lab.admin_writes().len();
        let err = lab
            .run(Mode::Apply)
            .engine
            .eval::<rhai::Dynamic>(&s)
            .unwrap_err();
        let m = comgmt_stdlib::error::find_module_error(&err).unwrap();
        assert!(m.message.contains(want), "{opts}: {}", m.message);
        assert_eq!(lab.admin_writes().len(), before, "{opts}");
    }
    let err = lab
        .run(Mode::Apply)
        .engine
        .eval::<rhai::Dynamic>(&format!(
            "{APPS}site::azure_service(#{{ name: \"x\", server: client, client: server, secret: secret }})"
        ))
        .unwrap_err();
    let m = comgmt_stdlib::error::find_module_error(&err).unwrap();
    assert!(
        m.message.contains("must be the server app"),
        "{}",
        m.message
    );
}

/// Someone deletes the secret the site holds from the app in Entra: the next run makes a
/// new one (entra::client_secret) and gives it to the site, and discovery, which signs in
/// with it, succeeds again.
#[test]
fn a_secret_entra_no_longer_holds_is_replaced_in_the_site() {
    let lab = Lab::new();
    let log = lab.emu().log_dir().join("SMS_AZUREAD_DISCOVERY_AGENT.log");
    let first = lab.run(Mode::Apply);
    let _ = ok(first.engine.eval::<rhai::Array>(&site_script(&log)));
    let ids: rhai::Array = ok(first
        .engine
        .eval(&format!("{APPS}[server.id, secret.key_id]")));
    let (app, key) = (ids[0].to_string(), ids[1].to_string());
    let cloud = first.cloud.clone();
    lab.block_on(async move {
        cloud
            .graph
            .post(
                &format!("applications/{app}/removePassword"),
                &serde_json::json!({ "keyId": key }),
            )
            .await
            .unwrap();
    });
    let second = lab.run(Mode::Apply);
    let out = ok(second.engine.eval::<rhai::Array>(&site_script(&log)));
    assert_eq!(out[2].to_string(), "Succeeded");
    assert!(out[5].as_bool().unwrap(), "the site got the new secret");
    let c = changes(&second);
    assert!(
        c.iter()
            .any(|(a, o, _)| *a == Action::Update && o == "server app in the site"),
        "{c:?}"
    );
    assert!(c
        .iter()
        .any(|(a, o, _)| *a == Action::Invoke && o == "full user discovery"));
}
