//! The Entra sections end to end: the `comgmt` binary runs scripts against the emulator,
//! and the emulator's state is checked through its own Graph API.

use comgmt_emulator::{EmulatorConfig, FaultSpec, StateLocation};
use comgmt_tests::{comgmt, ok, repo_root, text, ServedEmulator};
use serde_json::Value;
use std::path::Path;

fn entra_script() -> std::path::PathBuf {
    repo_root().join("scripts/examples/entra-only.rhai")
}

fn served(dir: &Path, faults: Option<&str>) -> ServedEmulator {
    ServedEmulator::start(EmulatorConfig {
        state: StateLocation::File(dir.join("emulator.sqlite")),
        faults: faults.map(|f| FaultSpec::parse(f).expect("fault spec")),
        ..EmulatorConfig::default()
    })
}

/// Apps, service principals, role assignments and grants as the emulator holds them.
struct TenantState {
    apps: Vec<Value>,
    sps: Vec<Value>,
    grants: Vec<Value>,
}

fn state(emu: &ServedEmulator) -> TenantState {
    TenantState {
        apps: emu.graph_list("v1.0/applications"),
        sps: emu.graph_list("v1.0/servicePrincipals"),
        grants: emu.graph_list("v1.0/oauth2PermissionGrants"),
    }
}

fn by_name<'a>(items: &'a [Value], name: &str) -> Vec<&'a Value> {
    items
        .iter()
        .filter(|a| a["displayName"].as_str() == Some(name))
        .collect()
}

fn assert_exactly_one_of_each(emu: &ServedEmulator) {
    let s = state(emu);
    let server = by_name(&s.apps, "Cloud Management web app");
    let client = by_name(&s.apps, "Cloud Management native client app");
    assert_eq!(server.len(), 1, "server apps: {:#?}", s.apps);
    assert_eq!(client.len(), 1, "client apps: {:#?}", s.apps);
    let (server, client) = (server[0], client[0]);
    assert_eq!(
        server["identifierUris"][0].as_str().unwrap(),
        format!("api://{}/ConfigMgrService", emu.tenant_id)
    );
    let sp_of = |app: &Value| -> Vec<Value> {
        s.sps
            .iter()
            .filter(|sp| sp["appId"] == app["appId"])
            .cloned()
            .collect()
    };
    let server_sp = sp_of(server);
    let client_sp = sp_of(client);
    assert_eq!(server_sp.len(), 1);
    assert_eq!(client_sp.len(), 1);
    // Server app: one app role assignment (Graph Directory.Read.All).
    let roles = emu.graph_list(&format!(
        "v1.0/servicePrincipals/{}/appRoleAssignments",
        server_sp[0]["id"].as_str().unwrap()
    ));
    assert_eq!(roles.len(), 1, "{roles:#?}");
    assert_eq!(
        roles[0]["appRoleId"].as_str(),
        Some("7ab1d382-f21e-4acd-a863-ba3e13f7da61")
    );
    // Client app: one AllPrincipals grant per resource (server app, Graph).
    let client_grants: Vec<&Value> = s
        .grants
        .iter()
        .filter(|g| g["clientId"] == client_sp[0]["id"])
        .collect();
    assert_eq!(client_grants.len(), 2, "{client_grants:#?}");
    let to_server = client_grants
        .iter()
        .find(|g| g["resourceId"] == server_sp[0]["id"])
        .expect("grant to the server app");
    assert_eq!(to_server["scope"], "user_impersonation");
    assert_eq!(to_server["consentType"], "AllPrincipals");
    // The client app carries the broker redirect with its own appId.
    let broker = format!(
        "ms-appx-web://Microsoft.AAD.BrokerPlugin/{}",
        client["appId"].as_str().unwrap()
    );
    assert!(client["publicClient"]["redirectUris"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u.as_str() == Some(broker.as_str())));
    assert_eq!(client["isFallbackPublicClient"], true);
}

#[test]
fn entra_sections_twice_against_a_served_emulator_create_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let emu = served(dir.path(), None);
    let script = entra_script();
    let (first, _) = ok(comgmt(dir.path())
        .args(["run", script.to_str().unwrap(), "--emulator-url", &emu.url])
        .output()
        .unwrap());
    assert!(first.contains("server app"), "{first}");
    assert_exactly_one_of_each(&emu);
    let (second, _) = ok(comgmt(dir.path())
        .args(["run", script.to_str().unwrap(), "--emulator-url", &emu.url])
        .output()
        .unwrap());
    assert!(
        second.contains("0 created") || second.contains("No changes"),
        "second run changed something:\n{second}"
    );
    assert_exactly_one_of_each(&emu);
    // The journal recorded the first run's changes and no secret text.
    let journal = std::fs::read_to_string(dir.path().join(".comgmt/journal.jsonl")).unwrap();
    assert!(journal.lines().count() >= 8, "{journal}");
    assert!(!journal.contains("secretText"));
}

#[test]
fn throttled_emulator_still_converges_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let emu = served(dir.path(), Some("rate=0.3,status=429,retry_after=0"));
    let script = entra_script();
    for _ in 0..2 {
        ok(comgmt(dir.path())
            .args(["run", script.to_str().unwrap(), "--emulator-url", &emu.url])
            .output()
            .unwrap());
    }
    drop(emu);
    let emu = served(dir.path(), None);
    assert_exactly_one_of_each(&emu);
}

#[test]
fn plan_against_an_empty_emulator_lists_creates_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let emu = served(dir.path(), None);
    let before = state(&emu);
    let script = entra_script();
    let (out, _) = ok(comgmt(dir.path())
        .args(["plan", script.to_str().unwrap(), "--emulator-url", &emu.url])
        .output()
        .unwrap());
    assert!(out.contains("server application"), "{out}");
    assert!(out.contains("client application"), "{out}");
    assert!(out.contains("(known after apply)"), "{out}");
    assert!(out.contains("to create"), "{out}");
    let after = state(&emu);
    assert_eq!(before.apps.len(), after.apps.len());
    assert_eq!(before.sps.len(), after.sps.len());
    assert_eq!(before.grants.len(), after.grants.len());
    assert!(!dir.path().join(".comgmt/journal.jsonl").exists());
}

#[test]
fn a_live_profile_pointing_at_a_served_emulator_runs_the_same_code() {
    let dir = tempfile::tempdir().unwrap();
    let emu = served(dir.path(), None);
    std::fs::write(
        dir.path().join("comgmt.toml"),
        format!(
            r#"[profiles.lab]
tenant = "{tenant}"
authority = "{url}"
graph = "{url}"
arm = "{url}"

[profiles.lab.auth]
method = "client_secret"
client_id = "11111111-2222-3333-4444-555555555555"
secret_env = "COMGMT_TEST_CLIENT_SECRET"
"#,
            tenant = emu.tenant_id,
            url = emu.url
        ),
    )
    .unwrap();
    let script = entra_script();
    let (out, err) = ok(comgmt(dir.path())
        .args(["run", script.to_str().unwrap(), "--profile", "lab"])
        .env("COMGMT_TEST_CLIENT_SECRET", "a-client-secret-value-4711")
        .output()
        .unwrap());
    assert!(
        !out.contains("a-client-secret-value-4711") && !err.contains("a-client-secret-value-4711")
    );
    assert_exactly_one_of_each(&emu);
}

/// Run `source` as `typo.rhai` against `emu`; it must exit 1. Returns stderr.
fn run_failing(dir: &Path, emu: &ServedEmulator, source: &str) -> String {
    let script = dir.join("typo.rhai");
    std::fs::write(&script, source).unwrap();
    let out = comgmt(dir)
        .args(["run", script.to_str().unwrap(), "--emulator-url", &emu.url])
        .output()
        .unwrap();
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    err
}

#[test]
fn bad_options_point_at_the_script_line() {
    let dir = tempfile::tempdir().unwrap();
    let emu = served(dir.path(), None);
    let err = run_failing(
        dir.path(),
        &emu,
        "let x = 1;\nlet s = entra::server_app(#{ display_name: \"A\", homepage_url: \"https://x\" });\n",
    );
    assert!(err.contains("typo.rhai:2"), "{err}");
    assert!(err.contains("unknown option `homepage_url`"), "{err}");
    assert!(err.contains("home_page_url"), "{err}");

    let err = run_failing(
        dir.path(),
        &emu,
        "let s = entra::server_app(#{\n  display_name: \"A\",\n  app_id_uri: \"https://ConfigMgrService\" });\n",
    );
    assert!(err.contains("typo.rhai:1"), "{err}");
    assert!(err.contains("https://ConfigMgrService"), "{err}");
    assert!(err.contains("api://<tenantId>/<string>"), "{err}");
    // Nothing was created.
    assert!(by_name(&state(&emu).apps, "A").is_empty());
}

#[test]
fn dropped_connections_never_duplicate_and_rerunning_finishes_the_job() {
    // A write whose connection drops is not retried in-run (it may have happened), so a
    // run can fail; the emulator decides a fault before any state changes, and ensure
    // semantics make the next run pick up where the last one stopped.
    let dir = tempfile::tempdir().unwrap();
    let emu = served(dir.path(), Some("rate=0.2,drop,seed=11"));
    let script = entra_script();
    let mut failures = 0;
    let mut finished = false;
    for _ in 0..15 {
        let out = comgmt(dir.path())
            .args(["run", script.to_str().unwrap(), "--emulator-url", &emu.url])
            .output()
            .unwrap();
        if out.status.success() {
            finished = true;
            break;
        }
        failures += 1;
        let (_, err) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("transport error"), "{err}");
    }
    assert!(finished, "no run finished in 15 tries");
    drop(emu);
    let emu = served(dir.path(), None);
    assert_exactly_one_of_each(&emu);
    eprintln!("runs that failed on a dropped connection before one finished: {failures}");
}
