//! The azure module against an in-process emulator over real HTTP: ensure semantics,
//! re-runs, plan mode, the region conflict, the name checks, provider registration and
//! faults.

mod common;

use comgmt_emulator::{EmulatorConfig, FaultSpec, Surface};
use comgmt_stdlib::change::Action;
use comgmt_stdlib::error::find_module_error;
use comgmt_stdlib::{ErrorKind, Mode};
use common::{changes, Lab};

const SETUP: &str = r#"
let sub = azure::subscription();
let ps = azure::providers();
let rg = azure::resource_group("cmg-rg", "westus", #{ tags: #{ purpose: "cmg" } });
[sub.id, ps, rg.id, rg.location, rg.tags, rg.provisioning_state]
"#;

#[test]
fn first_run_creates_and_second_run_changes_nothing() {
    let lab = Lab::new();
    let run = lab.run(Mode::Apply);
    let out: rhai::Array = run.engine.eval(SETUP).unwrap();
    let sub = out[0].clone().into_string().unwrap();
    let providers: rhai::Array = out[1].clone().cast();
    assert_eq!(providers.len(), 4);
    for p in &providers {
        let m: rhai::Map = p.clone().cast();
        assert_eq!(m["registration_state"].to_string(), "Registered", "{m:?}");
    }
    assert_eq!(
        out[2].to_string(),
        format!("/subscriptions/{sub}/resourceGroups/cmg-rg")
    );
    assert_eq!(out[3].to_string(), "westus");
    assert_eq!(out[5].to_string(), "Succeeded");
    let c = changes(&run);
    assert_eq!(c.len(), 5, "{c:?}");
    assert!(c[..4]
        .iter()
        .all(|(a, o, _)| *a == Action::Update && o == "resource provider"));
    assert_eq!(c[4].0, Action::Create);
    assert_eq!(
        c[4].2,
        format!("/subscriptions/{sub}/resourceGroups/cmg-rg")
    );
    let writes = lab.arm_writes().len();
    assert_eq!(writes, 5, "four registrations and one PUT");
    // Each write is journalled with the request id of the request that made it.
    let journal = std::fs::read_to_string(lab.dir.path().join(".comgmt/journal.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = journal
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5, "{journal}");
    for l in &lines {
        assert_eq!(l["request_ids"].as_array().map(Vec::len), Some(1), "{l}");
    }

    let again = lab.run(Mode::Apply);
    again.engine.eval::<rhai::Array>(SETUP).unwrap();
    let c = changes(&again);
    assert!(c.iter().all(|(a, _, _)| *a == Action::Unchanged), "{c:?}");
    assert_eq!(lab.arm_writes().len(), writes, "a re-run writes nothing");

    // A new tag is an update that keeps the tag already there.
    let third = lab.run(Mode::Apply);
    let tags: rhai::Map = third
        .engine
        .eval(r#"azure::resource_group("cmg-rg", "westus", #{ tags: #{ owner: "it" } }).tags"#)
        .unwrap();
    assert_eq!(tags["purpose"].to_string(), "cmg");
    assert_eq!(tags["owner"].to_string(), "it");
    let c = changes(&third);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].0, Action::Update);
}

#[test]
fn a_plan_writes_nothing_and_shows_what_it_would_do() {
    let lab = Lab::new();
    let run = lab.run(Mode::Plan);
    let out: rhai::Array = run.engine.eval(SETUP).unwrap();
    assert_eq!(out[5].to_string(), "(known after apply)");
    let providers: rhai::Array = out[1].clone().cast();
    let first: rhai::Map = providers[0].clone().cast();
    assert_eq!(first["registration_state"].to_string(), "NotRegistered");
    let c = changes(&run);
    assert_eq!(c.len(), 5, "{c:?}");
    assert_eq!(c[4].0, Action::Create);
    // The name checks run in a plan too.
    let ok: bool = run
        .engine
        .eval(r#"azure::check_cmg_name("granitefalls", "westus").ok"#)
        .unwrap();
    assert!(ok);
    assert!(lab.arm_writes().is_empty(), "{:?}", lab.arm_writes());
    assert!(!lab.dir.path().join(".comgmt/journal.jsonl").exists());
}

#[test]
fn a_group_in_another_region_is_an_error_that_says_so() {
    let lab = Lab::new();
    let run = lab.run(Mode::Apply);
    run.engine
        .run(r#"azure::resource_group("cmg-rg", "westus");"#)
        .unwrap();
    let writes = lab.arm_writes().len();
    for mode in [Mode::Plan, Mode::Apply] {
        let err = lab
            .run(mode)
            .engine
            .run(r#"azure::resource_group("cmg-rg", "eastus");"#)
            .unwrap_err();
        let e = find_module_error(&err).unwrap();
        assert_eq!(e.kind, ErrorKind::Conflict);
        assert!(e.message.contains("exists in westus, not eastus"), "{e:?}");
        assert!(
            e.hint
                .as_deref()
                .unwrap_or_default()
                .contains("cannot move"),
            "{e:?}"
        );
    }
    assert_eq!(lab.arm_writes().len(), writes, "nothing was sent");
}

/// The entry of `check` in a `check_cmg_name` result.
fn entry(result: &rhai::Map, check: &str) -> rhai::Map {
    let checks: rhai::Array = result["checks"].clone().cast();
    checks
        .into_iter()
        .map(|c| c.cast::<rhai::Map>())
        .find(|c| c["check"].to_string() == check)
        .unwrap_or_else(|| panic!("no {check} in {result:?}"))
}

#[test]
fn a_seeded_taken_name_fails_the_right_check() {
    // Seeded in the emulator (`seed.rs`): `takendns` in westus, the storage account
    // `takenstorage`, the vault `takenvault`.
    let lab = Lab::new();
    let run = lab.run(Mode::Plan);
    let check = |prefix: &str| -> rhai::Map {
        run.engine
            .eval(&format!(r#"azure::check_cmg_name("{prefix}", "westus")"#))
            .unwrap()
    };
    for (prefix, failing) in [
        ("takendns", "dns_label"),
        ("takenstorage", "storage_account"),
        ("TakenVault", "key_vault"),
    ] {
        let r = check(prefix);
        assert!(!r["ok"].as_bool().unwrap(), "{r:?}");
        for c in ["dns_label", "storage_account", "key_vault"] {
            let e = entry(&r, c);
            assert_eq!(
                e["available"].as_bool().unwrap(),
                c != failing,
                "{prefix}: {e:?}"
            );
            if c == failing {
                assert_eq!(e["reason"].to_string(), "AlreadyExists", "{e:?}");
                assert!(!e["message"].to_string().is_empty());
            }
        }
        // The names checked are the prefix, lower-cased.
        assert_eq!(
            entry(&r, "key_vault")["name"].to_string(),
            prefix.to_ascii_lowercase()
        );
    }
    let r = check("GraniteFalls");
    assert!(r["ok"].as_bool().unwrap(), "{r:?}");
    assert_eq!(
        r["deployment_name"].to_string(),
        "granitefalls.westus.cloudapp.azure.com"
    );
    // `takendns` is free in eastus: DNS labels are per region.
    let r: rhai::Map = run
        .engine
        .eval(r#"azure::check_cmg_name("takendns", "eastus")"#)
        .unwrap();
    assert!(r["ok"].as_bool().unwrap(), "{r:?}");
    // A prefix the rules refuse asks no service.
    let before = lab.emu().requests().len();
    let r = check("granite-falls");
    assert!(!r["ok"].as_bool().unwrap());
    let findings: rhai::Array = r["findings"].clone().cast();
    assert!(!findings.is_empty());
    let checks: rhai::Array = r["checks"].clone().cast();
    assert!(checks.is_empty());
    assert_eq!(lab.emu().requests().len(), before);
    // Without content, the storage account is not checked and a dash is allowed.
    let r: rhai::Map = run
        .engine
        .eval(r#"azure::check_cmg_name("granite-falls", "westus", #{ content: false })"#)
        .unwrap();
    assert!(r["ok"].as_bool().unwrap(), "{r:?}");
    let checks: rhai::Array = r["checks"].clone().cast();
    assert_eq!(checks.len(), 2);
    assert!(lab.arm_writes().is_empty());
}

#[test]
fn provider_registration_is_followed_to_registered() {
    let lab = Lab::new();
    let run = lab.run(Mode::Apply);
    let ps: rhai::Array = run
        .engine
        .eval(r#"azure::providers(#{ namespaces: ["Microsoft.Storage"] })"#)
        .unwrap();
    let p: rhai::Map = ps[0].clone().cast();
    assert_eq!(p["registration_state"].to_string(), "Registered");
    // One register POST, then reads until the emulator reports Registered (it answers
    // Registering to the first read after the POST).
    let log: Vec<(String, String)> = lab
        .emu()
        .requests()
        .into_iter()
        .filter(|r| r.surface == Surface::Arm && r.path.contains("/providers/Microsoft.Storage"))
        .map(|r| (r.method, r.path.split('?').next().unwrap().to_string()))
        .collect();
    let methods: Vec<&str> = log.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(methods, ["GET", "POST", "GET", "GET"], "{log:?}");
    assert!(log[1].1.ends_with("/register"));
    let record = run.output.changes.lock().unwrap()[0].clone();
    assert_eq!(
        record.request_ids.len(),
        1,
        "the register POST is journalled"
    );
    // An unknown namespace is an error with a hint.
    let err = run
        .engine
        .run(r#"azure::providers(#{ namespaces: ["Microsoft.Nope"] });"#)
        .unwrap_err();
    let e = find_module_error(&err).unwrap();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert_eq!(e.remote_code.as_deref(), Some("InvalidResourceNamespace"));
    assert!(e.request_id.is_some());
    assert!(e.hint.is_some());
}

#[test]
fn with_faults_nothing_is_made_twice() {
    for status in [429, 503] {
        let lab = Lab::start(EmulatorConfig {
            faults: Some(
                FaultSpec::parse(&format!("rate=0.3,status={status},retry_after=0,seed=7"))
                    .unwrap(),
            ),
            ..EmulatorConfig::default()
        });
        let run = lab.run(Mode::Apply);
        run.engine.eval::<rhai::Array>(SETUP).unwrap();
        let answered = |r: &comgmt_emulator::LoggedRequest| r.status.is_some_and(|s| s < 300);
        let log = lab.emu().requests();
        assert!(
            log.iter().any(|r| r.status == Some(status)),
            "faults were injected"
        );
        let puts = log
            .iter()
            .filter(|r| r.method == "PUT" && answered(r))
            .count();
        assert_eq!(puts, 1, "one group PUT went through");
        let created = log
            .iter()
            .filter(|r| r.method == "PUT" && r.status == Some(201))
            .count();
        assert_eq!(created, 1);
        let registers = log
            .iter()
            .filter(|r| r.method == "POST" && r.path.contains("/register") && answered(r))
            .count();
        assert_eq!(registers, 4, "each provider registered once");
        let again = lab.run(Mode::Apply);
        again.engine.eval::<rhai::Array>(SETUP).unwrap();
        assert!(changes(&again)
            .iter()
            .all(|(a, _, _)| *a == Action::Unchanged));
    }
}

/// A run whose target names `subscription`, as a profile's `subscription` key does.
fn run_with_subscription(lab: &Lab, subscription: &str) -> (rhai::Engine, tokio::runtime::Runtime) {
    use comgmt_stdlib::cloud::{Cloud, CloudConfig};
    use std::sync::Arc;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mut config = CloudConfig::single_host(
        &url::Url::parse(lab.emu().url()).unwrap(),
        lab.emu().tenant_id(),
    );
    config.subscription = Some(subscription.to_string());
    let cloud = Arc::new(Cloud::new(config).unwrap());
    let ctx = comgmt_stdlib::Ctx::new(
        Mode::Plan,
        rt.handle().clone(),
        cloud,
        comgmt_stdlib::journal::Journal::disabled(),
        Arc::new(comgmt_stdlib::output::CaptureOutput::default()),
        "profile",
        lab.dir.path(),
    );
    let mut engine = rhai::Engine::new();
    comgmt_stdlib::register(&mut engine);
    ctx.install(&mut engine);
    (engine, rt)
}

#[test]
fn the_profile_names_the_subscription() {
    let lab = Lab::new();
    let id: String = lab
        .run(Mode::Plan)
        .engine
        .eval("azure::subscription().id")
        .unwrap();
    let (engine, _rt) = run_with_subscription(&lab, &id.to_ascii_uppercase());
    let (got, tenant): (String, String) = {
        let s: rhai::Array = engine
            .eval("let s = azure::subscription(); [s.id, s.tenant_id]")
            .unwrap();
        (s[0].to_string(), s[1].to_string())
    };
    assert_eq!(got, id);
    assert_eq!(tenant, lab.emu().tenant_id());
    // One the identity does not see: ARM's error, with its code, request id and a hint.
    let (engine, _rt) = run_with_subscription(&lab, "00000000-0000-0000-0000-000000000001");
    let err = engine.run("azure::subscription();").unwrap_err();
    let e = find_module_error(&err).unwrap();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert_eq!(e.remote_code.as_deref(), Some("SubscriptionNotFound"));
    assert!(e.request_id.is_some());
    assert!(e.hint.unwrap().contains("no such subscription"));
    // An option names it too, and is checked the same way.
    let err = lab
        .run(Mode::Plan)
        .engine
        .run(r#"azure::providers(#{ subscription: "not-a-guid" });"#)
        .unwrap_err();
    assert_eq!(find_module_error(&err).unwrap().kind, ErrorKind::Validation);
}

#[test]
fn the_server_app_gets_contributor_once_and_a_subscription_role_counts() {
    let lab = Lab::new();
    let s = r#"
let server = entra::server_app(#{ display_name: "Cloud Management web app" });
azure::resource_group("cmg-rg", "westus");
let a = azure::role_assignment(server, "Contributor", #{ resource_group: "cmg-rg" });
[a.role, a.scope, a.inherited, a.principal_id, server.service_principal_id]
"#;
    let run = lab.run(Mode::Apply);
    let out: rhai::Array = run.engine.eval(s).unwrap();
    assert_eq!(out[0].to_string(), "Contributor");
    assert!(
        out[1].to_string().ends_with("/resourceGroups/cmg-rg"),
        "{out:?}"
    );
    assert!(!out[2].as_bool().unwrap());
    assert_eq!(out[3].to_string(), out[4].to_string());
    let puts = |lab: &Lab| {
        lab.arm_writes()
            .into_iter()
            .filter(|(m, p)| m == "PUT" && p.contains("roleAssignments"))
            .count()
    };
    assert_eq!(puts(&lab), 1);
    // Again: found, nothing sent.
    let again = lab.run(Mode::Apply);
    again.engine.eval::<rhai::Array>(s).unwrap();
    assert_eq!(puts(&lab), 1);
    assert!(changes(&again)
        .iter()
        .any(|(a, o, _)| *a == Action::Unchanged && o == "role assignment"));
    // Contributor on the subscription covers the group: an inherited role is enough.
    let sub = r#"
let server = entra::server_app(#{ display_name: "Cloud Management web app" });
azure::role_assignment(server, "Contributor");
azure::resource_group("other-rg", "westus");
let a = azure::role_assignment(server, "Contributor", #{ resource_group: "other-rg" });
a.inherited
"#;
    let third = lab.run(Mode::Apply);
    assert!(third
        .engine
        .eval::<bool>(sub)
        .unwrap_or_else(|e| panic!("{:?}", find_module_error(&e))));
    assert_eq!(
        puts(&lab),
        2,
        "only the subscription-level assignment is new"
    );
    // An unknown role is a clear error.
    let err = lab
        .run(Mode::Apply)
        .engine
        .eval::<rhai::Dynamic>(
            r#"let server = entra::server_app(#{ display_name: "Cloud Management web app" });
               azure::role_assignment(server, "Contributer")"#,
        )
        .unwrap_err();
    let m = find_module_error(&err).unwrap();
    assert!(m.message.contains("no role named"), "{}", m.message);
}
