//! The dns module against an in-process emulator over real HTTP (the shared lab):
//! the CNAME record set ensured in Azure DNS, re-runs, a TTL change, plan mode, the
//! checks made before any request, a missing zone, and the record to create by hand.

mod common;

use comgmt_emulator::Surface;
use comgmt_stdlib::change::Action;
use comgmt_stdlib::error::find_module_error;
use comgmt_stdlib::testing::TestRun;
use comgmt_stdlib::{ErrorKind, Mode};
use common::{changes, Lab};

fn arm_requests(lab: &Lab) -> usize {
    lab.emu()
        .requests()
        .into_iter()
        .filter(|r| r.surface == Surface::Arm)
        .count()
}

fn lines(run: &TestRun) -> String {
    run.output.lines.lock().unwrap().join("\n")
}

const ZONE: &str = r#"
azure::resource_group("dns-rg", "westus");
dns::zone("contoso.com", #{ resource_group: "dns-rg" });
"#;

fn cname(ttl: i64) -> String {
    format!(
        r#"dns::cname("GraniteFalls.Contoso.com.", "GraniteFalls.westus.cloudapp.azure.com",
            #{{ zone: "contoso.com", resource_group: "dns-rg", ttl: {ttl} }})"#
    )
}

#[test]
fn the_record_is_ensured_once_and_a_ttl_change_is_an_update() {
    let lab = Lab::new();
    let run = lab.run(Mode::Apply);
    run.engine.run(ZONE).unwrap();
    let r: rhai::Map = run
        .engine
        .eval(&format!(
            "let r = {}; #{{ name: r.name, target: r.target, ttl: r.ttl, fqdn: r.fqdn, managed: r.managed, record: r.record, id: r.id }}",
            cname(3600)
        ))
        .unwrap();
    assert_eq!(r["name"].to_string(), "GraniteFalls.Contoso.com");
    assert_eq!(
        r["target"].to_string(),
        "GraniteFalls.westus.cloudapp.azure.com"
    );
    assert_eq!(r["ttl"].as_int().unwrap(), 3600);
    assert_eq!(r["fqdn"].to_string(), "GraniteFalls.contoso.com.");
    assert!(r["managed"].as_bool().unwrap());
    assert_eq!(
        r["record"].to_string(),
        "GraniteFalls.Contoso.com. 3600 IN CNAME GraniteFalls.westus.cloudapp.azure.com."
    );
    assert!(
        r["id"]
            .to_string()
            .ends_with("/resourceGroups/dns-rg/providers/Microsoft.Network/dnsZones/contoso.com/CNAME/GraniteFalls"),
        "{r:?}"
    );
    let c = changes(&run);
    assert_eq!(c.len(), 3, "{c:?}");
    assert_eq!(c[1].0, Action::Create);
    assert_eq!(c[1].1, "DNS zone");
    assert_eq!(c[2].0, Action::Create);
    assert_eq!(c[2].1, "CNAME record");
    assert!(
        c[2].2.ends_with("/dnsZones/contoso.com/CNAME/GraniteFalls"),
        "{c:?}"
    );
    let writes = lab.arm_writes();
    assert_eq!(writes.len(), 3, "{writes:?}");
    assert!(writes[2].1.contains("/CNAME/GraniteFalls?"), "{writes:?}");

    // A re-run changes nothing, even with the target in another case.
    let again = lab.run(Mode::Apply);
    again.engine.run(ZONE).unwrap();
    again
        .engine
        .run(
            r#"dns::cname("GraniteFalls.contoso.com", "GRANITEFALLS.westus.cloudapp.azure.com",
                #{ zone: "contoso.com", resource_group: "dns-rg" });"#,
        )
        .unwrap();
    let c = changes(&again);
    assert!(c.iter().all(|(a, _, _)| *a == Action::Unchanged), "{c:?}");
    assert_eq!(lab.arm_writes().len(), 3, "a re-run writes nothing");

    // A new TTL is an update, by PUT of the same record set.
    let third = lab.run(Mode::Apply);
    let ttl: i64 = third.engine.eval(&format!("{}.ttl", cname(300))).unwrap();
    assert_eq!(ttl, 300);
    let c = changes(&third);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].0, Action::Update);
    let writes = lab.arm_writes();
    assert_eq!(writes.len(), 4);
    assert_eq!(writes[3].0, "PUT");
    assert_eq!(writes[3].1, writes[2].1);
}

#[test]
fn a_plan_writes_nothing_and_shows_the_record() {
    let lab = Lab::new();
    lab.run(Mode::Apply).engine.run(ZONE).unwrap();
    let before = lab.arm_writes().len();
    let plan = lab.run(Mode::Plan);
    let record: String = plan
        .engine
        .eval(&format!("{}.record", cname(3600)))
        .unwrap();
    assert_eq!(
        record,
        "GraniteFalls.Contoso.com. 3600 IN CNAME GraniteFalls.westus.cloudapp.azure.com."
    );
    let c = changes(&plan);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].0, Action::Create);
    assert_eq!(lab.arm_writes().len(), before, "a plan writes nothing");

    // A whole plan from nothing: the zone is not there yet, the record is planned anyway.
    let fresh = Lab::new();
    let plan = fresh.run(Mode::Plan);
    plan.engine
        .run(&format!("{ZONE}\n{};", cname(3600)))
        .unwrap();
    let c = changes(&plan);
    assert_eq!(c.len(), 3, "{c:?}");
    assert!(c.iter().all(|(a, _, _)| *a == Action::Create), "{c:?}");
    assert!(
        lines(&plan).contains("is not in resource group dns-rg"),
        "{}",
        lines(&plan)
    );
    assert!(fresh.arm_writes().is_empty());
}

#[test]
fn a_service_name_outside_the_zone_is_refused_before_any_request() {
    let lab = Lab::new();
    let before = arm_requests(&lab);
    for mode in [Mode::Plan, Mode::Apply] {
        for script in [
            r#"dns::cname("GraniteFalls.fabrikam.com", "GraniteFalls.westus.cloudapp.azure.com", #{ zone: "contoso.com", resource_group: "dns-rg" })"#,
            r#"dns::cname("GraniteFalls.contoso.com", "Other.westus.cloudapp.azure.com", #{ zone: "contoso.com", resource_group: "dns-rg" })"#,
            r#"dns::cname("GraniteFalls.contoso.com", "GraniteFalls.westus.cloudapp.azure.com", #{ zone: "contoso.com", resource_group: "dns-rg", ttl: 0 })"#,
            r#"dns::cname("GraniteFalls.contoso.com", "GraniteFalls.westus.cloudapp.azure.com", #{ zone: "contoso.com" })"#,
        ] {
            let err = lab.run(mode).engine.run(script).unwrap_err();
            let e = find_module_error(&err).unwrap();
            assert_eq!(e.kind, ErrorKind::Validation, "{e:?}");
        }
        let err = lab
            .run(mode)
            .engine
            .run(r#"dns::cname("GraniteFalls.fabrikam.com", "GraniteFalls.westus.cloudapp.azure.com", #{ zone: "contoso.com", resource_group: "dns-rg" })"#)
            .unwrap_err();
        let e = find_module_error(&err).unwrap();
        assert!(
            e.message
                .contains("GraniteFalls.fabrikam.com is not in the zone contoso.com"),
            "{e:?}"
        );
    }
    assert_eq!(arm_requests(&lab), before, "nothing was asked of ARM");
}

#[test]
fn a_missing_zone_is_a_clear_error() {
    let lab = Lab::new();
    let run = lab.run(Mode::Apply);
    run.engine
        .run(r#"azure::resource_group("dns-rg", "westus");"#)
        .unwrap();
    let before = lab.arm_writes().len();
    let err = run.engine.run(&cname(3600)).unwrap_err();
    let e = find_module_error(&err).unwrap();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e:?}");
    assert!(
        e.message
            .contains("the Azure DNS zone contoso.com is not in resource group dns-rg"),
        "{e:?}"
    );
    assert!(
        e.hint.as_deref().unwrap_or_default().contains("dns::zone("),
        "{e:?}"
    );
    assert_eq!(lab.arm_writes().len(), before, "nothing was sent");
}

#[test]
fn without_a_zone_the_record_to_create_is_returned_and_printed() {
    let lab = Lab::new();
    for mode in [Mode::Plan, Mode::Apply] {
        let run = lab.run(mode);
        let r: rhai::Map = run
            .engine
            .eval(
                r#"let r = dns::cname("GraniteFalls.contoso.com", "GraniteFalls.westus.cloudapp.azure.com");
                   #{ record: r.record, managed: r.managed, id: r.id, ttl: r.ttl }"#,
            )
            .unwrap();
        let text =
            "GraniteFalls.contoso.com. 3600 IN CNAME GraniteFalls.westus.cloudapp.azure.com.";
        assert_eq!(r["record"].to_string(), text);
        assert!(!r["managed"].as_bool().unwrap());
        assert_eq!(r["id"].to_string(), "");
        assert!(lines(&run).contains(text), "{}", lines(&run));
        assert!(changes(&run).is_empty());
    }
    assert!(
        lab.emu().requests().is_empty(),
        "nothing was asked of anyone"
    );
}
