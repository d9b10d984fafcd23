//! The site's communication settings and roles against an in-process emulator over real
//! HTTP: enhanced HTTP through `IISSSLState`, the management point's CMG traffic
//! refused on an HTTP management point without enhanced HTTP (with the fix) and allowed
//! after `site::set_communication`, the CMG connection point added and removed, a
//! software update point, re-runs that change nothing, plans that write nothing, and
//! the errors a script can make.

mod common;

use comgmt_emulator::EmulatorConfig;
use comgmt_stdlib::change::Action;
use comgmt_stdlib::error::{find_module_error, ErrorKind, ModuleError};
use comgmt_stdlib::testing::TestRun;
use comgmt_stdlib::Mode;
use common::{changes, ok, Lab};
use std::time::Duration;

/// The AdminService takes a token for the server app: it must exist first.
const APP: &str = "entra::server_app(#{ display_name: \"Cloud Management web app\" });\n";
const EHTTP: &str =
    "site::set_communication(#{ client_communication: \"https_or_http\", use_configmgr_certificates: true })";
const ALLOW: &str = "site::management_point(#{ allow_cmg_traffic: true })";

fn err_of(r: Result<rhai::Dynamic, Box<rhai::EvalAltResult>>) -> ModuleError {
    let e = r.expect_err("the call should fail");
    find_module_error(&e).unwrap_or_else(|| panic!("not a module error: {e}"))
}

/// The PowerShell lines of the changes a run reported.
fn cmdlets(run: &TestRun) -> Vec<String> {
    run.output
        .changes
        .lock()
        .unwrap()
        .iter()
        .filter_map(|c| c.equivalent.as_ref().map(|e| e.command.clone()))
        .collect()
}

fn site_changes(run: &TestRun) -> Vec<(Action, String)> {
    changes(run)
        .into_iter()
        .filter(|(_, kind, _)| kind != "server application" && kind != "service principal")
        .filter(|(a, _, _)| *a != Action::Unchanged)
        .map(|(a, kind, _)| (a, kind))
        .collect()
}

#[test]
fn cmg_traffic_on_an_http_mp_is_refused_with_the_fix_then_allowed_after_enhanced_http() {
    let lab = Lab::new();
    let run = lab.run(Mode::Apply);
    ok(run.engine.run(APP));
    let before = lab.admin_writes().len();
    let e = err_of(run.engine.eval::<rhai::Dynamic>(ALLOW));
    assert_eq!(e.kind, ErrorKind::Validation, "{}", e.message);
    assert!(
        e.message.contains("HTTP") && e.message.contains("enhanced HTTP"),
        "{}",
        e.message
    );
    let hint = e.hint.unwrap_or_default();
    assert!(hint.contains("site::set_communication("), "{hint}");
    assert_eq!(lab.admin_writes().len(), before, "refused before any write");

    let c: rhai::Array = ok(run.engine.eval(&format!(
        "let c = {EHTTP}; [c.iis_ssl_state, c.use_configmgr_certificates, c.client_communication, c.changed]"
    )));
    assert_eq!(c[0].as_int().unwrap(), 1216);
    assert!(c[1].as_bool().unwrap() && c[3].as_bool().unwrap());
    assert_eq!(c[2].to_string(), "https_or_http");

    let mp: rhai::Array = ok(run.engine.eval(&format!(
        "let mp = {ALLOW}; [mp.allow_cmg_traffic, mp.changed, mp.server, mp.https]"
    )));
    assert!(mp[0].as_bool().unwrap() && mp[1].as_bool().unwrap());
    assert_eq!(mp[2].to_string(), "CM01.comgmtlab.local");
    assert!(!mp[3].as_bool().unwrap());
    let lines = cmdlets(&run);
    assert!(lines.iter().any(|l| l
        == "Set-CMSite -SiteCode 'ABC' -ClientComputerCommunicationType HttpsOrHttp -UseSmsGeneratedCert $true"), "{lines:?}");
    assert!(lines.iter().any(|l| l
        == "Set-CMManagementPoint -SiteSystemServerName 'CM01.comgmtlab.local' -SiteCode 'ABC' -EnableCloudGateway $true"), "{lines:?}");

    // A second run changes nothing and writes nothing.
    let writes = lab.admin_writes().len();
    let again = lab.run(Mode::Apply);
    let out: rhai::Array = ok(again.engine.eval(&format!(
        "{APP}[{EHTTP}.changed, {ALLOW}.changed, site::management_point(\"cm01.COMGMTLAB.local\", #{{ allow_cmg_traffic: true }}).changed]"
    )));
    assert!(out.iter().all(|c| !c.as_bool().unwrap()), "{out:?}");
    assert_eq!(lab.admin_writes().len(), writes);
}

#[test]
fn a_plan_that_turns_enhanced_http_on_plans_the_mp_and_writes_nothing() {
    let lab = Lab::new();
    ok(lab.run(Mode::Apply).engine.run(APP));
    let before = lab.admin_writes().len();
    let plan = lab.run(Mode::Plan);
    ok(plan.engine.run(&format!("{EHTTP};\n{ALLOW};")));
    assert_eq!(lab.admin_writes().len(), before, "a plan writes nothing");
    let kinds = site_changes(&plan);
    assert_eq!(
        kinds,
        vec![
            (
                Action::Update,
                "site communication (IISSSLState)".to_string()
            ),
            (Action::Update, "management point".to_string()),
        ]
    );
    let rec = plan.output.changes.lock().unwrap().clone();
    let f = rec
        .iter()
        .flat_map(|c| c.fields.iter())
        .find(|f| f.path.contains("IISSSLState"))
        .cloned()
        .expect("the IISSSLState field");
    assert_eq!(f.path, "Props[IISSSLState].Value");
    assert_eq!(f.before, Some(serde_json::json!(192)));
}

#[test]
fn set_communication_keeps_what_it_is_not_given_and_names_bad_options() {
    let lab = Lab::new();
    let run = lab.run(Mode::Apply);
    ok(run.engine.run(APP));
    let s: i64 = ok(run
        .engine
        .eval("site::set_communication(#{ check_crl: true }).iis_ssl_state"));
    assert_eq!(s, 224);
    let s: i64 = ok(run.engine.eval(&format!("{EHTTP}.iis_ssl_state")));
    assert_eq!(s, 1248);
    let e = err_of(
        run.engine
            .eval("site::set_communication(#{ client_communication: \"http\" })"),
    );
    assert_eq!(e.kind, ErrorKind::Validation);
    let e = err_of(
        run.engine
            .eval("site::set_communication(#{ use_configmgr_certs: true })"),
    );
    assert!(e.message.contains("use_configmgr_certs"), "{}", e.message);
    let hint = e.hint.unwrap_or_default();
    assert!(hint.contains("use_configmgr_certificates"), "{hint}");
    let e = err_of(run.engine.eval("site::set_communication(#{})"));
    assert!(e.message.contains("no setting"), "{}", e.message);
}

#[test]
fn roles_name_what_is_wrong() {
    let lab = Lab::new();
    let run = lab.run(Mode::Apply);
    ok(run.engine.run(APP));
    let e =
        err_of(run.engine.eval(
            "site::ensure_role(\"distribution_point\", #{ cmg: \"GraniteFalls.contoso.com\" })",
        ));
    assert!(e.hint.unwrap_or_default().contains("cmg_connection_point"));
    let e = err_of(run.engine.eval("site::ensure_role(\"nowhere.contoso.com\", \"cmg_connection_point\", #{ cmg: \"GraniteFalls.contoso.com\" })"));
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(e.hint.unwrap_or_default().contains("CM01.comgmtlab.local"));
    let e = err_of(run.engine.eval(
        "site::ensure_role(\"cmg_connection_point\", #{ cmg: \"GraniteFalls.contoso.com\" })",
    ));
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(
        e.message.contains("GraniteFalls.contoso.com")
            && e.message.contains("cloud management gateway"),
        "{}",
        e.message
    );
    let e = err_of(
        run.engine
            .eval("site::ensure_role(\"cmg_connection_point\", #{ gateway: 1 })"),
    );
    assert!(e.message.contains("`cmg`"), "{}", e.message);
    let e = err_of(
        run.engine
            .eval("site::management_point(\"nowhere.contoso.com\", #{ allow_cmg_traffic: true })"),
    );
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(e.hint.unwrap_or_default().contains("CM01.comgmtlab.local"));
    let e = err_of(
        run.engine
            .eval("site::software_update_point(#{ allow_cmg_traffic: true })"),
    );
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(e.message.contains("software update point"), "{}", e.message);
    // Nothing to remove is no change.
    let removed: bool = ok(run
        .engine
        .eval("site::remove_role(\"cmg_connection_point\")"));
    assert!(!removed);
}

/// Everything a CMG needs (as in cmg_emulator.rs), then the CMG.
const CMG: &str = r#"
let server = entra::server_app(#{ display_name: "Cloud Management web app" });
let client = entra::client_app(server, #{ display_name: "Cloud Management native client app" });
let secret = entra::client_secret(server, #{ years: 1 });
entra::grant_admin_consent(server);
let svc = site::azure_service(#{ name: "Cloud services", server: server, client: client, secret: secret });
let req = cert::request(#{ common_name: "GraniteFalls.contoso.com", organization: "Contoso", out: "certs/cmg" });
let crt = cert::lab_ca(#{ name: "Test Lab", out: "certs/ca" }).issue(req, #{ days: 365 });
let pfx = cert::export_pfx(crt, #{ out: "certs/cmg.pfx", password: "pfx-pass-1" });
azure::providers();
azure::resource_group("cmg-rg", "westus");
azure::role_assignment(server, "Contributor", #{ resource_group: "cmg-rg" });
let gw = cmg::ensure(#{ pfx: pfx, password: "pfx-pass-1", azure_service: svc, region: "westus", resource_group: "cmg-rg", vm_instances: 1 });
"#;

#[test]
fn the_connection_point_is_added_for_the_cmg_kept_on_a_rerun_and_removed() {
    let lab = Lab::start(EmulatorConfig {
        arm_delay: Duration::from_millis(300),
        ..EmulatorConfig::default()
    });
    let run = lab.run(Mode::Apply);
    let out: rhai::Array = ok(run.engine.eval(&format!(
        "{CMG}let cp = site::ensure_role(\"cmg_connection_point\", #{{ cmg: gw }}); [cp.role_name, cp.server, cp.cmg, cp.changed]"
    )));
    assert_eq!(out[0].to_string(), "SMS Cloud Proxy Connector");
    assert_eq!(out[1].to_string(), "CM01.comgmtlab.local");
    assert_eq!(out[2].to_string(), "GraniteFalls.contoso.com");
    assert!(out[3].as_bool().unwrap());
    let lines = cmdlets(&run);
    assert!(lines.iter().any(|l| l == "Add-CMCloudManagementGatewayConnectionPoint -CloudManagementGatewayName 'GraniteFalls.contoso.com' -SiteSystemServerName 'CM01.comgmtlab.local' -SiteCode 'ABC'"), "{lines:?}");

    // Again, by service name: nothing changes.
    let writes = lab.admin_writes().len();
    let again = lab.run(Mode::Apply);
    let changed: bool = ok(again.engine.eval(&format!(
        "{APP}site::ensure_role(\"CM01.comgmtlab.local\", \"cmg_connection_point\", #{{ cmg: \"GraniteFalls.contoso.com\" }}).changed"
    )));
    assert!(!changed);
    assert_eq!(lab.admin_writes().len(), writes);

    // A plan of the removal writes nothing; the removal then goes, once.
    let plan = lab.run(Mode::Plan);
    let planned: bool = ok(plan
        .engine
        .eval(&format!("{APP}site::remove_role(\"cmg_connection_point\")")));
    assert!(planned);
    assert_eq!(lab.admin_writes().len(), writes);
    assert!(cmdlets(&plan).iter().any(|l| l.starts_with("Remove-CMCloudManagementGatewayConnectionPoint -SiteSystemServerName 'CM01.comgmtlab.local' -SiteCode 'ABC'")));
    let rm = lab.run(Mode::Apply);
    let out: rhai::Array = ok(rm.engine.eval(&format!(
        "{APP}[site::remove_role(\"cmg_connection_point\"), site::remove_role(\"cmg_connection_point\")]"
    )));
    assert!(out[0].as_bool().unwrap() && !out[1].as_bool().unwrap());
    assert!(site_changes(&rm).iter().any(|(a, _)| *a == Action::Delete));
}

#[test]
fn a_plan_that_cannot_read_the_site_yet_still_shows_each_change() {
    let lab = Lab::new();
    let plan = lab.run(Mode::Plan);
    ok(plan.engine.run(&format!(
        "{APP}{EHTTP};\n{ALLOW};\nsite::ensure_role(\"cmg_connection_point\", #{{ cmg: \"GraniteFalls.contoso.com\" }});"
    )));
    let kinds = site_changes(&plan);
    for want in [
        (Action::Update, "site communication (IISSSLState)"),
        (Action::Update, "management point"),
        (Action::Create, "CMG connection point"),
    ] {
        assert!(
            kinds.contains(&(want.0, want.1.to_string())),
            "{want:?} in {kinds:?}"
        );
    }
    assert!(lab.admin_writes().is_empty());
}

#[test]
fn a_software_update_point_takes_the_same_switch_and_the_same_rule() {
    let lab = Lab::new();
    let run = lab.run(Mode::Apply);
    ok(run.engine.run(APP));
    // The site gets a software update point on its site server (by hand: this module
    // switches one, it does not add one).
    let cloud = run.cloud.clone();
    let made = lab.block_on(async move {
        let admin = cloud.admin_service.as_ref().expect("an AdminService");
        admin
            .post(
                "wmi/SMS_SCI_SysResUse",
                &serde_json::json!({
                    "RoleName": "SMS Software Update Point",
                    "NetworkOSPath": "\\\\CM01.comgmtlab.local",
                    "SiteCode": "ABC",
                }),
            )
            .await
            .map(|r| r.status)
    });
    assert!(made.is_ok(), "{made:?}");

    let sup = "site::software_update_point(#{ allow_cmg_traffic: true })";
    let e = err_of(run.engine.eval(sup));
    assert!(e
        .hint
        .unwrap_or_default()
        .contains("site::set_communication("));
    let out: rhai::Array = ok(run.engine.eval(&format!(
        "{EHTTP}; let s = {sup}; [s.allow_cmg_traffic, s.changed, s.role_name]"
    )));
    assert!(out[0].as_bool().unwrap() && out[1].as_bool().unwrap());
    assert_eq!(out[2].to_string(), "SMS Software Update Point");
    assert!(cmdlets(&run).iter().any(|l| l
        == "Set-CMSoftwareUpdatePoint -SiteSystemServerName 'CM01.comgmtlab.local' -SiteCode 'ABC' -EnableCloudGateway $true"));
    let changed: bool = ok(run.engine.eval(&format!("{sup}.changed")));
    assert!(!changed);
}
