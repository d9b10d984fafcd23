//! The cmg module against an in-process emulator over real HTTP: the CMG created through
//! the site and followed to Ready, what lands in Azure, re-runs, scaling, stop and start,
//! a certificate renewal, the preflight that stops a run before anything is written, and
//! faults on every surface.

mod common;

use comgmt_emulator::{EmulatorConfig, FaultSpec, Surface};
use comgmt_stdlib::change::Action;
use comgmt_stdlib::error::find_module_error;
use comgmt_stdlib::Mode;
use common::{changes, ok, Lab};
use std::time::Duration;

/// Everything a CMG needs, for the service name `cn`.
fn setup(cn: &str, instances: i64) -> String {
    setup_with(
        cn,
        &format!("region: \"westus\", resource_group: \"cmg-rg\", vm_instances: {instances}"),
    )
}

/// The same, with `cmg::ensure` options `opts` (region, group, instances, …).
fn setup_with(cn: &str, opts: &str) -> String {
    format!(
        r#"
let server = entra::server_app(#{{ display_name: "Cloud Management web app" }});
let client = entra::client_app(server, #{{ display_name: "Cloud Management native client app" }});
let secret = entra::client_secret(server, #{{ years: 1 }});
entra::grant_admin_consent(server);
let svc = site::azure_service(#{{ name: "Cloud services", server: server, client: client, secret: secret }});
let req = cert::request(#{{ common_name: "{cn}", organization: "Contoso", out: "certs/cmg" }});
let crt = cert::lab_ca(#{{ name: "Test Lab", out: "certs/ca" }}).issue(req, #{{ days: 365 }});
let pfx = cert::export_pfx(crt, #{{ out: "certs/cmg.pfx", password: "pfx-pass-1" }});
azure::providers();
azure::resource_group("cmg-rg", "westus");
azure::role_assignment(server, "Contributor", #{{ resource_group: "cmg-rg" }});
let gw = cmg::ensure(#{{ pfx: pfx, password: "pfx-pass-1", azure_service: svc, {opts} }});
"#
    )
}

fn fast() -> EmulatorConfig {
    EmulatorConfig {
        arm_delay: Duration::from_millis(300),
        ..EmulatorConfig::default()
    }
}

fn err_of(r: Result<rhai::Dynamic, Box<rhai::EvalAltResult>>) -> comgmt_stdlib::error::ModuleError {
    let e = r.expect_err("the call should fail");
    find_module_error(&e).unwrap_or_else(|| panic!("not a module error: {e}"))
}

/// An ARM resource as the emulator's own ARM API answers it.
fn arm_get(lab: &Lab, path: &str, api: &str) -> serde_json::Value {
    let run = lab.run(Mode::Plan);
    let cloud = run.cloud.clone();
    let (path, api) = (path.to_string(), api.to_string());
    lab.block_on(async move { cloud.arm.get(&path, &api).await.unwrap().body })
}

#[test]
fn the_cmg_is_created_through_the_site_and_lands_in_azure() {
    let lab = Lab::start(fast());
    let run = lab.run(Mode::Apply);
    let s = setup("GraniteFalls.contoso.com", 1)
        + "[gw.state, gw.fqdn, gw.instances, gw.resources, gw.deployment_name, gw.thumbprint, gw.certificate_expiry]";
    let out: rhai::Array = ok(run.engine.eval(&s));
    assert_eq!(out[0].to_string(), "Ready");
    assert_eq!(out[1].to_string(), "granitefalls.westus.cloudapp.azure.com");
    assert_eq!(out[2].as_int().unwrap(), 1);
    let resources: Vec<String> = out[3]
        .clone()
        .into_array()
        .unwrap()
        .iter()
        .map(|d| d.to_string())
        .collect();
    for t in [
        "Microsoft.Compute/virtualMachineScaleSets/",
        "Microsoft.KeyVault/vaults/",
        "Microsoft.Network/publicIPAddresses/",
        "Microsoft.Storage/storageAccounts/",
    ] {
        assert_eq!(
            resources.iter().filter(|r| r.starts_with(t)).count(),
            1,
            "{t} in {resources:?}"
        );
    }
    assert_eq!(out[4].to_string(), "GraniteFalls.westus.cloudapp.azure.com");
    assert_eq!(out[5].to_string().len(), 40);
    assert!(!out[6].to_string().is_empty());

    // On the emulator's own ARM API.
    let sub = ok(run.engine.eval::<String>("azure::subscription().id"));
    let rg = format!("/subscriptions/{sub}/resourceGroups/cmg-rg");
    assert_eq!(arm_get(&lab, &rg, "2021-04-01")["location"], "westus");
    let vmss = arm_get(
        &lab,
        &format!("{rg}/providers/Microsoft.Compute/virtualMachineScaleSets/GraniteFalls"),
        "2024-07-01",
    );
    assert_eq!(vmss["sku"]["capacity"], 1);
    let ip = arm_get(
        &lab,
        &format!("{rg}/providers/Microsoft.Network/publicIPAddresses/GraniteFalls"),
        "2024-05-01",
    );
    assert_eq!(
        ip["properties"]["dnsSettings"]["fqdn"],
        "granitefalls.westus.cloudapp.azure.com"
    );

    // The PFX password went to the site only.
    let journal = std::fs::read_to_string(lab.dir.path().join(".comgmt/journal.jsonl")).unwrap();
    assert!(!journal.contains("pfx-pass-1"));
    assert!(!journal.contains("ServiceCertificatePfx"));

    // A second run changes nothing.
    let before = (
        lab.writes(Surface::AdminService).len(),
        lab.writes(Surface::Arm).len(),
    );
    let again = lab.run(Mode::Apply);
    let _ = ok(again
        .engine
        .eval::<rhai::Dynamic>(&setup("GraniteFalls.contoso.com", 1)));
    let changed: Vec<_> = changes(&again)
        .into_iter()
        .filter(|(a, _, _)| *a != Action::Unchanged)
        .collect();
    assert!(changed.is_empty(), "{changed:?}");
    assert_eq!(
        before,
        (
            lab.writes(Surface::AdminService).len(),
            lab.writes(Surface::Arm).len()
        )
    );

    // set_instances(2) changes exactly that.
    let scale = lab.run(Mode::Apply);
    let n = ok(scale
        .engine
        .eval::<i64>(r#"cmg::get("GraniteFalls.contoso.com").set_instances(2).instances"#));
    assert_eq!(n, 2);
    let c = changes(&scale);
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0].0, Action::Update);
    let recorded = scale.output.changes.lock().unwrap().clone();
    let fields: Vec<&str> = recorded[0].fields.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(fields, ["NumberOfInstances"]);
    let vmss = arm_get(
        &lab,
        &format!("{rg}/providers/Microsoft.Compute/virtualMachineScaleSets/GraniteFalls"),
        "2024-07-01",
    );
    assert_eq!(vmss["sku"]["capacity"], 2);

    // Stop, start, status.
    let ops = lab.run(Mode::Apply);
    let out: rhai::Array = ok(ops.engine.eval(
        r#"let g = cmg::get("GraniteFalls.contoso.com");
           let stopped = g.stop().state;
           let again = g.stop().state;
           let started = g.start().state;
           [stopped, again, started, g.status().instances, cmg::list().len()]"#,
    ));
    assert_eq!(out[0].to_string(), "Stopped");
    assert_eq!(out[1].to_string(), "Stopped");
    assert_eq!(out[2].to_string(), "Ready");
    assert_eq!(out[3].as_int().unwrap(), 2);
    assert_eq!(out[4].as_int().unwrap(), 1);
    let invokes: Vec<_> = changes(&ops)
        .into_iter()
        .filter(|(a, _, _)| *a != Action::Unchanged)
        .collect();
    assert_eq!(invokes.len(), 2, "stop once, start once: {invokes:?}");
}

#[test]
fn a_renewed_certificate_replaces_the_old_one_and_a_case_change_is_refused() {
    let lab = Lab::start(fast());
    let run = lab.run(Mode::Apply);
    let first = ok(run
        .engine
        .eval::<String>(&(setup("GraniteFalls.contoso.com", 1) + "gw.thumbprint")));
    let renew = r#"
let req = cert::request(#{ common_name: "GraniteFalls.contoso.com", organization: "Contoso", out: "certs/renew" });
let crt = cert::lab_ca(#{ name: "Test Lab", out: "certs/ca" }).issue(req, #{ days: 200 });
let pfx = cert::export_pfx(crt, #{ out: "certs/renew.pfx", password: "pfx-pass-2" });
cmg::get("GraniteFalls.contoso.com").replace_certificate(pfx, "pfx-pass-2").thumbprint
"#;
    let second = ok(lab.run(Mode::Apply).engine.eval::<String>(renew));
    assert_ne!(first, second);
    let wrong_case = r#"
let req = cert::request(#{ common_name: "granitefalls.contoso.com", organization: "Contoso", out: "certs/lower" });
let crt = cert::lab_ca(#{ name: "Test Lab", out: "certs/ca" }).issue(req);
let pfx = cert::export_pfx(crt, #{ out: "certs/lower.pfx", password: "pfx-pass-3" });
cmg::get("GraniteFalls.contoso.com").replace_certificate(pfx, "pfx-pass-3")
"#;
    let before = lab.writes(Surface::AdminService).len();
    let e = err_of(
        lab.run(Mode::Apply)
            .engine
            .eval::<rhai::Dynamic>(wrong_case),
    );
    assert!(e.message.contains("differs in case"), "{}", e.message);
    assert_eq!(lab.writes(Surface::AdminService).len(), before);
}

#[test]
fn a_taken_prefix_stops_the_run_before_anything_is_created() {
    let lab = Lab::start(fast());
    let e = err_of(
        lab.run(Mode::Apply)
            .engine
            .eval::<rhai::Dynamic>(&setup("takendns.contoso.com", 1)),
    );
    assert!(
        e.message.contains("cannot be used in westus"),
        "{}",
        e.message
    );
    assert!(e.message.contains("dns_label"), "{}", e.message);
    let cmg_writes: Vec<_> = lab
        .writes(Surface::AdminService)
        .into_iter()
        .filter(|(_, p)| p.contains("SMS_AzureService"))
        .collect();
    assert!(cmg_writes.is_empty(), "{cmg_writes:?}");
    assert!(!lab
        .writes(Surface::Arm)
        .iter()
        .any(|(_, p)| p.contains("deployments")));
}

#[test]
fn bad_input_is_refused_before_any_write() {
    let lab = Lab::start(fast());
    // Everything but the CMG, once.
    let cases = [
        (
            "region: \"westus\", resource_group: \"cmg-rg\", vm_instances: 17",
            "vm_instances must be 1 to 16",
        ),
        (
            "region: \"westus\", resource_group: \"cmg-rg\", vm_size: \"D2s_v5\"",
            "is not one the CMG offers",
        ),
        (
            "region: \"eastus\", resource_group: \"cmg-rg\"",
            "is in westus, not the CMG's region eastus",
        ),
    ];
    for (opts, want) in cases {
        let s = setup_with("GraniteFalls.contoso.com", opts);
        let before = lab.writes(Surface::AdminService).len();
        let e = err_of(lab.run(Mode::Apply).engine.eval::<rhai::Dynamic>(&s));
        assert!(e.message.contains(want), "{opts}: {}", e.message);
        let after: Vec<_> = lab
            .writes(Surface::AdminService)
            .into_iter()
            .skip(before)
            .filter(|(_, p)| p.contains("SMS_AzureService"))
            .collect();
        assert!(after.is_empty(), "{opts}: {after:?}");
    }
    // A CN in Azure's own domain cannot be a public certificate's name: refused at the
    // request already, before a CMG could be asked for.
    let before = lab.writes(Surface::AdminService).len();
    let e = err_of(
        lab.run(Mode::Apply)
            .engine
            .eval::<rhai::Dynamic>(&setup("GraniteFalls.westus.cloudapp.azure.com", 1)),
    );
    assert!(
        e.message
            .contains("under the Azure domain cloudapp.azure.com"),
        "{}",
        e.message
    );
    assert_eq!(lab.writes(Surface::AdminService).len(), before);
}

#[test]
fn without_the_role_the_run_names_the_role_and_scope() {
    let lab = Lab::start(fast());
    let s = setup("GraniteFalls.contoso.com", 1).replace(
        "azure::role_assignment(server, \"Contributor\", #{ resource_group: \"cmg-rg\" });",
        "",
    );
    let e = err_of(lab.run(Mode::Apply).engine.eval::<rhai::Dynamic>(&s));
    assert!(
        e.message
            .contains("needs the Contributor role on /subscriptions/"),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("/resourceGroups/cmg-rg"),
        "{}",
        e.message
    );
    assert!(e
        .hint
        .unwrap_or_default()
        .contains("azure::role_assignment"));
}

#[test]
fn with_faults_and_latency_nothing_is_made_twice() {
    for status in [429, 503] {
        let lab = Lab::start(EmulatorConfig {
            faults: Some(
                FaultSpec::parse(&format!("rate=0.2,status={status},retry_after=0,seed=11"))
                    .unwrap(),
            ),
            latency: Duration::from_millis(5),
            ..fast()
        });
        let state = ok(lab
            .run(Mode::Apply)
            .engine
            .eval::<String>(&(setup("GraniteFalls.contoso.com", 1) + "gw.state")));
        assert_eq!(state, "Ready");
        let log = lab.emu().requests();
        assert!(
            log.iter().any(|r| r.status == Some(status)),
            "faults were injected"
        );
        let created = log
            .iter()
            .filter(|r| {
                r.method == "POST" && r.path.ends_with("/SMS_AzureService") && r.status == Some(201)
            })
            .count();
        assert_eq!(created, 1, "one CMG row");
        let rows = ok(lab.run(Mode::Plan).engine.eval::<i64>("cmg::list().len()"));
        assert_eq!(rows, 1);
    }
}

#[test]
fn a_plan_sends_no_write() {
    let lab = Lab::start(fast());
    let run = lab.run(Mode::Plan);
    let state = ok(run
        .engine
        .eval::<String>(&(setup("GraniteFalls.contoso.com", 1) + "gw.deployment_name")));
    assert_eq!(state, "GraniteFalls.westus.cloudapp.azure.com");
    assert!(lab.writes(Surface::AdminService).is_empty());
    assert!(lab.writes(Surface::Arm).is_empty());
    assert!(lab.writes(Surface::Graph).is_empty());
}

#[test]
fn a_deployment_past_its_deadline_names_its_state_and_operation() {
    let lab = Lab::start(EmulatorConfig {
        arm_delay: Duration::from_secs(120),
        ..EmulatorConfig::default()
    });
    let s = setup_with(
        "GraniteFalls.contoso.com",
        "region: \"westus\", resource_group: \"cmg-rg\", timeout: 1",
    );
    let e = err_of(lab.run(Mode::Apply).engine.eval::<rhai::Dynamic>(&s));
    assert!(
        e.message.contains("was still Provisioning after 1 s"),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("deployment /subscriptions/")
            && e.message.contains("/deployments/CMG-GraniteFalls"),
        "{}",
        e.message
    );
    assert!(e.hint.unwrap_or_default().contains("longer `timeout`"));
}

#[test]
fn unregistered_providers_stop_the_cmg_before_any_write() {
    let lab = Lab::start(fast());
    let s = setup("GraniteFalls.contoso.com", 1).replace("azure::providers();", "");
    let e = err_of(lab.run(Mode::Apply).engine.eval::<rhai::Dynamic>(&s));
    assert!(
        e.message
            .contains("not registered: Microsoft.KeyVault (NotRegistered)"),
        "{}",
        e.message
    );
    assert!(e.hint.unwrap_or_default().contains("azure::providers()"));
    assert!(!lab
        .writes(Surface::AdminService)
        .iter()
        .any(|(_, p)| p.contains("SMS_AzureService")));
}
