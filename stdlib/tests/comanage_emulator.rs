//! The comanage module against an in-process emulator over real HTTP: a collection with
//! its rules, co-management enabled and the devices counted, second runs that change
//! nothing, plans that write nothing, refusals before any write, two runs at once.

mod common;

use comgmt_stdlib::change::{Action, Shell};
use comgmt_stdlib::Mode;
use common::{changes, ok, Lab};

/// The AdminService takes a token for the server app (as through a CMG).
const SERVER: &str = r#"entra::server_app(#{ display_name: "Cloud Management web app" });"#;

const COLLECTION: &str = r#"
let c = comanage::collection("Co-management pilot", #{
    limiting: "All Systems",
    comment: "Devices that enroll first",
    direct: ["LAB-WS01", 16777225],
    query: "select * from SMS_R_System where Name like 'LAB-WS1%'",
    query_name: "WS1x",
});
"#;

const ENABLE: &str = r#"
let cm = comanage::enable(#{
    auto_enrollment: "all",
    workloads: #{ compliance_policies: "intune", device_configuration: "pilot_intune",
                  resource_access_policies: "pilot_intune", endpoint_protection: "intune",
                  client_apps: "pilot_intune" },
    pilot_collections: #{ device_configuration: c, resource_access_policies: c,
                          client_apps: "Co-management pilot" },
});
"#;

/// The module error's message (and hint) of a script that must fail.
fn refused(lab: &Lab, script: &str) -> String {
    let run = lab.run(Mode::Apply);
    let e = run
        .engine
        .eval::<rhai::Dynamic>(script)
        .expect_err("the script must fail");
    match comgmt_stdlib::error::find_module_error(&e) {
        Some(m) => format!("{} | {}", m.message, m.hint.clone().unwrap_or_default()),
        None => e.to_string(),
    }
}

fn apply(lab: &Lab, script: &str) -> (rhai::Array, Vec<(Action, String, String)>) {
    let run = lab.run(Mode::Apply);
    let out: rhai::Array = ok(run.engine.eval(script));
    (out, changes(&run))
}

fn comanage_changes(c: &[(Action, String, String)]) -> Vec<(Action, String, String)> {
    c.iter()
        .filter(|(_, o, _)| o.contains("collection") || o.contains("rule") || o.contains("policy"))
        .cloned()
        .collect()
}

#[test]
fn a_collection_with_its_rules_and_a_second_run_changes_nothing() {
    let lab = Lab::new();
    let script = format!("{SERVER}{COLLECTION}[c.id, c.member_count, c.direct.len()]");
    let (out, c) = apply(&lab, &script);
    assert!(out[0].to_string().starts_with("ABC"), "{out:?}");
    // LAB-WS01, LAB-WS05 and LAB-WS10..19.
    assert_eq!(out[1].as_int().unwrap(), 12);
    assert_eq!(out[2].as_int().unwrap(), 2);
    let made = comanage_changes(&c);
    assert_eq!(made.len(), 4, "{made:?}");
    assert!(made.iter().all(|(a, _, _)| *a == Action::Create));
    let writes = lab.admin_writes();
    assert_eq!(writes.len(), 4, "{writes:?}");
    assert!(
        writes
            .iter()
            .filter(|(_, p)| p.ends_with("AdminService.AddMembershipRule"))
            .count()
            == 3
    );

    let (again, c) = apply(&lab, &script);
    assert_eq!(again[0].to_string(), out[0].to_string());
    assert!(
        comanage_changes(&c)
            .iter()
            .all(|(a, _, _)| *a == Action::Unchanged),
        "{c:?}"
    );
    assert_eq!(lab.admin_writes().len(), 4, "the second run wrote");

    // A changed query is replaced: one delete and one add.
    let changed = script.replace("LAB-WS1%", "LAB-WS2%");
    let (out, c) = apply(&lab, &changed);
    assert_eq!(out[1].as_int().unwrap(), 12, "LAB-WS01, 05 and 20..29");
    assert_eq!(
        comanage_changes(&c)
            .iter()
            .filter(|(a, _, _)| *a == Action::Update)
            .count(),
        1
    );
}

#[test]
fn enable_counts_and_a_second_run_changes_nothing() {
    let lab = Lab::new();
    let before =
        format!("{SERVER}let s = comanage::status(); [s.total, s.co_managed, s.policy_present]");
    let (out, _) = apply(&lab, &before);
    assert_eq!(
        out.iter().map(|v| v.as_int().unwrap()).collect::<Vec<_>>(),
        [38, 0, 0]
    );
    let script = format!(
        "{SERVER}{COLLECTION}{ENABLE}let s = comanage::status();
         [cm.product_line, cm.site_build, cm.workloads.client_apps, cm.changed, s.co_managed,
          s.statuses.Failed, s.statuses.Success, s.states[\"Pending user sign in\"], s.errors]"
    );
    let (out, c) = apply(&lab, &script);
    assert_eq!(out[0].to_string(), "cloud attach (2111 and later)");
    assert_eq!(out[1].as_int().unwrap(), 9128);
    assert_eq!(out[2].to_string(), "pilot_intune");
    assert!(out[3].as_bool().unwrap());
    assert_eq!(out[4].as_int().unwrap(), 22);
    assert_eq!(out[5].as_int().unwrap(), 4);
    assert_eq!(out[6].as_int().unwrap(), 22);
    assert_eq!(out[7].as_int().unwrap(), 4);
    assert!(
        out[8].to_string().contains("MENROLL_E_USERLICENSE"),
        "{:?}",
        out[8]
    );
    assert!(c
        .iter()
        .any(|(a, o, _)| *a == Action::Create && o == "co-management policy"));

    let writes = lab.admin_writes().len();
    let (out, c) = apply(&lab, &script);
    assert!(!out[3].as_bool().unwrap(), "changed on the second run");
    assert!(comanage_changes(&c)
        .iter()
        .all(|(a, _, _)| *a == Action::Unchanged));
    assert_eq!(lab.admin_writes().len(), writes);

    // Moving a workload changes the policy, and only it.
    let (_, c) = apply(
        &lab,
        &script.replace(
            "compliance_policies: \"intune\"",
            "compliance_policies: \"configmgr\"",
        ),
    );
    let changed = comanage_changes(&c);
    assert_eq!(
        changed
            .iter()
            .filter(|(a, _, _)| *a != Action::Unchanged)
            .map(|(_, o, _)| o.as_str())
            .collect::<Vec<_>>(),
        ["co-management policy"]
    );
}

#[test]
fn refusals_come_before_any_write() {
    let lab = Lab::new();
    let prep = lab.run(Mode::Apply);
    let _ = ok(prep.engine.eval::<rhai::Dynamic>(SERVER));
    let cases = [
        (
            r#"comanage::collection("P", #{ limiting: "No Such Collection" })"#,
            "\"No Such Collection\" does not exist",
        ),
        (
            r#"comanage::collection("P", #{ limiting: "All Users" })"#,
            "not a device collection",
        ),
        (
            r#"comanage::collection("P", #{ direct: ["NOPE-01"] })"#,
            "device \"NOPE-01\" is not a device of the site",
        ),
        (
            r#"comanage::collection("P", #{ query: "select * from SMS_R_User" })"#,
            "a WQL query on devices",
        ),
        (
            r#"comanage::collection("P", #{ limits: "All Systems" })"#,
            "unknown option `limits`",
        ),
        (
            r#"comanage::enable(#{ auto_enrollment: "pilot", pilot_collection: "Missing" })"#,
            "the automatic enrollment collection \"Missing\" does not exist",
        ),
        (
            r#"comanage::enable(#{ auto_enrollment: "pilot" })"#,
            "needs `pilot_collection`",
        ),
        (
            r#"comanage::enable(#{ workloads: #{ inventory: "intune" } })"#,
            "not one of the seven workloads: compliance_policies, windows_update_policies, resource_access_policies, endpoint_protection, device_configuration, office_click_to_run, client_apps",
        ),
        (
            r#"comanage::enable(#{ workloads: #{ device_configuration: "intune", endpoint_protection: "intune" } })"#,
            "moves resource access policies and Endpoint Protection with it",
        ),
        (
            r#"comanage::enable(#{ workloads: #{ client_apps: "pilot_intune" } })"#,
            "client_apps is pilot_intune but has no pilot collection",
        ),
        (
            r#"comanage::enable(#{ workloads: #{ client_apps: "pilot_intune" }, pilot_collections: #{ client_apps: "Nope" } })"#,
            "client_apps pilot collection \"Nope\" does not exist",
        ),
        (
            r#"comanage::enable(#{ workloads: #{ client_apps: "sometimes" } })"#,
            "not one of configmgr, pilot_intune, intune",
        ),
    ];
    for (script, expected) in cases {
        let msg = refused(&lab, &format!("{SERVER}{script}"));
        assert!(msg.contains(expected), "{script}: {msg}");
    }
    assert!(lab.admin_writes().is_empty(), "{:?}", lab.admin_writes());
}

#[test]
fn a_plan_writes_nothing_and_shows_the_cmdlets() {
    let lab = Lab::new();
    let prep = lab.run(Mode::Apply);
    let _ = ok(prep.engine.eval::<rhai::Dynamic>(SERVER));
    let run = lab.run(Mode::Plan);
    let out: rhai::Array = ok(run
        .engine
        .eval(&format!("{SERVER}{COLLECTION}{ENABLE}[c.id, cm.policy]")));
    assert!(out[0].is_unit(), "unknown before apply: {out:?}");
    assert!(lab.admin_writes().is_empty());
    let recorded = run.output.changes.lock().unwrap().clone();
    let ps: Vec<String> = recorded
        .iter()
        .filter_map(|r| r.equivalent.as_ref())
        .filter(|e| e.shell == Shell::PowerShell)
        .map(|e| e.command.clone())
        .collect();
    let has = |s: &str| ps.iter().any(|c| c.contains(s));
    assert!(has("New-CMDeviceCollection -Name 'Co-management pilot' -LimitingCollectionName 'All Systems' -Comment 'Devices that enroll first'"), "{ps:?}");
    assert!(has("Add-CMDeviceCollectionDirectMembershipRule -CollectionName 'Co-management pilot' -ResourceId 16777221"), "{ps:?}");
    assert!(has("Add-CMDeviceCollectionQueryMembershipRule -CollectionName 'Co-management pilot' -RuleName 'WS1x' -QueryExpression 'select * from SMS_R_System where Name like ''LAB-WS1%'''"), "{ps:?}");
    assert!(has("New-CMCoManagementPolicy -AutoEnroll $true -CoManagementPolicyName 'CoMgmtSettingsProd' -CAWorkloadEnabled -EPWorkloadEnabled"), "{ps:?}");
    assert!(has("New-CMConfigurationPolicyDeployment -CoManagementPolicyName 'CoMgmtSettingsProd' -CollectionId 'SMS00001'"));
    assert!(
        has("console > Administration > Cloud Services > Cloud Attach"),
        "{ps:?}"
    );
}

/// A plan that creates a collection and limits another by it: the Collection object
/// stands for the one the site does not have yet.
#[test]
fn a_plan_limits_by_a_collection_it_creates() {
    let lab = Lab::new();
    let prep = lab.run(Mode::Apply);
    let _ = ok(prep.engine.eval::<rhai::Dynamic>(SERVER));
    let script = format!(
        "{SERVER}{COLLECTION}let s = comanage::collection(\"Staging\", #{{ limiting: c }}); s.limiting"
    );
    let run = lab.run(Mode::Plan);
    let out: String = ok(run.engine.eval(&script));
    assert_eq!(out, "Co-management pilot");
    assert!(lab.admin_writes().is_empty());
    // By name, the same plan is refused: the site has no such collection yet.
    let by_name = script.replace("limiting: c", "limiting: \"Co-management pilot\"");
    let run = lab.run(Mode::Plan);
    assert!(run.engine.eval::<rhai::Dynamic>(&by_name).is_err());
    // Applied, both exist and a second run changes nothing.
    apply(&lab, &format!("{script};[]"));
    let (_, c) = apply(&lab, &format!("{script};[]"));
    assert!(
        comanage_changes(&c)
            .iter()
            .all(|(a, _, _)| *a == Action::Unchanged),
        "{c:?}"
    );
}

#[test]
fn two_runs_at_once_make_one_collection() {
    let lab = Lab::new();
    let prep = lab.run(Mode::Apply);
    let _ = ok(prep.engine.eval::<rhai::Dynamic>(SERVER));
    let s = format!("{SERVER}{COLLECTION}{ENABLE}c.id");
    lab.run_at_once(2, &s);
    let run = lab.run(Mode::Plan);
    let cloud = run.cloud.clone();
    let (colls, policies) = lab.block_on(async move {
        let a = cloud.admin_service().unwrap();
        let f = [("$filter", "Name eq 'Co-management pilot'")];
        let c = a.list("wmi/SMS_Collection", &f).await.unwrap();
        let rules = a
            .get_opt(&format!(
                "wmi/SMS_Collection('{}')",
                c[0]["CollectionID"].as_str().unwrap()
            ))
            .await
            .unwrap()
            .unwrap();
        let p = a.list("wmi/SMS_ConfigurationPolicy", &[]).await.unwrap();
        (
            (c.len(), rules["CollectionRules"].as_array().unwrap().len()),
            p.len(),
        )
    });
    assert_eq!(colls, (1, 3));
    assert_eq!(policies, 1);
}

/// A site not updated since 2107 gets the 1906–2107 co-management wizard's policy, with
/// the same cmdlets; a site older than 1906 is refused before any write.
#[test]
fn the_1906_to_2107_line_and_a_site_too_old() {
    let lab = Lab::new();
    lab.emu().set_site_build(9058).unwrap(); // 2107
    let run = lab.run(Mode::Apply);
    let s = format!("{SERVER}{COLLECTION}{ENABLE}[cm.product_line, cm.site_build, cm.policy]");
    let out: rhai::Array = ok(run.engine.eval(&s));
    assert_eq!(out[0].to_string(), "co-management (1906-2107)");
    assert_eq!(out[1].as_int().unwrap(), 9058);
    assert_eq!(out[2].to_string(), "CoMgmtSettingsProd");
    let ps: Vec<String> = run
        .output
        .changes
        .lock()
        .unwrap()
        .iter()
        .filter_map(|r| r.equivalent.as_ref().map(|e| e.command.clone()))
        .collect();
    assert!(
        ps.iter()
            .any(|c| c.starts_with("New-CMCoManagementPolicy ")),
        "{ps:?}"
    );
    let status: i64 = ok(run.engine.eval("comanage::status().co_managed"));
    assert!(status > 0, "devices enroll on the older line too");

    let old = Lab::new();
    old.emu().set_site_build(8790).unwrap(); // 1902
    let why = refused(&old, &format!("{SERVER}{COLLECTION}{ENABLE}"));
    assert!(why.contains("older than 1906"), "{why}");
    assert!(
        !old.admin_writes()
            .iter()
            .any(|(_, p)| p.contains("SMS_ConfigurationPolicy")),
        "nothing written for the policy"
    );
}
