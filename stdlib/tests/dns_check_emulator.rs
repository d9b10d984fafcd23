//! `dns::check_cname` against the shared lab: the emulator's DNS server as the target's
//! resolver (as the runtime's emulator target sets it). The record written with
//! `dns::cname` in an Azure DNS zone is checked as clients resolve it: right; pointing
//! at another region; missing; address records instead of a CNAME; no CMG deployed; and
//! a resolver that never answers. Loopback only.

mod common;

use comgmt_stdlib::error::find_module_error;
use comgmt_stdlib::{ErrorKind, Mode};
use common::Lab;

const SERVICE: &str = "GraniteFalls.contoso.com";
const DEPLOYMENT: &str = "GraniteFalls.westus.cloudapp.azure.com";

const ZONE: &str = r#"
azure::resource_group("dns-rg", "westus");
dns::zone("contoso.com", #{ resource_group: "dns-rg" });
"#;

fn record(target: &str) -> String {
    format!(
        r#"dns::cname("{SERVICE}", "{target}", #{{ zone: "contoso.com", resource_group: "dns-rg" }});"#
    )
}

/// `check_cname` as a script sees it: the map, with findings as `check: fix` strings.
fn check(lab: &Lab, mode: Mode, call: &str) -> (rhai::Map, Vec<String>) {
    let run = lab.run(mode);
    let m: rhai::Map = run.engine.eval(call).unwrap();
    let findings: Vec<String> = run
        .engine
        .eval::<rhai::Array>(&format!(
            "let c = {call}; c.findings.map(|f| `${{f.check}}|${{f.severity}}|${{f.message}}|${{f.fix}}`)"
        ))
        .unwrap()
        .into_iter()
        .map(|d| d.to_string())
        .collect();
    (m, findings)
}

fn default_call() -> String {
    format!(r#"dns::check_cname("{SERVICE}.", "{DEPLOYMENT}")"#)
}

#[test]
fn the_record_written_by_dns_cname_checks_out_once_the_cmg_resolves() {
    let lab = Lab::new();
    let run = lab.run(Mode::Apply);
    run.engine.run(ZONE).unwrap();
    run.engine.run(&record(DEPLOYMENT)).unwrap();

    // No CMG yet: the record is right, the deployment name does not resolve.
    let (m, f) = check(&lab, Mode::Plan, &default_call());
    assert!(!m["ok"].as_bool().unwrap(), "{m:?}");
    assert_eq!(m["target"].to_string(), DEPLOYMENT);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].starts_with("deployment-not-resolving|error|"), "{f:?}");

    // The CMG's public IP exists: clients get its address through the CNAME.
    lab.emu()
        .put_public_ip(
            "GraniteFalls",
            "granitefalls.westus.cloudapp.azure.com",
            "20.30.40.50".parse().unwrap(),
        )
        .unwrap();
    let (m, f) = check(
        &lab,
        Mode::Plan,
        r#"dns::check_cname("graniteFALLS.contoso.com", "GRANITEFALLS.WestUS.CloudApp.Azure.Com.")"#,
    );
    assert!(m["ok"].as_bool().unwrap(), "{m:?} {f:?}");
    assert_eq!(m["service_name"].to_string(), "graniteFALLS.contoso.com");
    assert_eq!(
        m["expected"].to_string(),
        "GRANITEFALLS.WestUS.CloudApp.Azure.Com"
    );
    assert_eq!(m["target"].to_string(), DEPLOYMENT);
    let addrs: Vec<String> = m["addresses"]
        .clone()
        .into_array()
        .unwrap()
        .into_iter()
        .map(|d| d.to_string())
        .collect();
    assert_eq!(addrs, ["20.30.40.50"]);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].starts_with("cname-ok|info|"), "{f:?}");
    assert!(
        m["resolver"]
            .to_string()
            .contains(&lab.emu().dns_addr().to_string()),
        "{m:?}"
    );
}

#[test]
fn a_cname_to_another_region_says_what_it_points_at_and_what_it_should() {
    let lab = Lab::new();
    let run = lab.run(Mode::Apply);
    run.engine.run(ZONE).unwrap();
    run.engine
        .run(&record("GraniteFalls.eastus.cloudapp.azure.com"))
        .unwrap();
    lab.emu()
        .put_public_ip(
            "GraniteFalls",
            "granitefalls.westus.cloudapp.azure.com",
            "20.30.40.50".parse().unwrap(),
        )
        .unwrap();
    let (m, f) = check(&lab, Mode::Apply, &default_call());
    assert!(!m["ok"].as_bool().unwrap());
    assert_eq!(
        m["target"].to_string(),
        "GraniteFalls.eastus.cloudapp.azure.com"
    );
    assert_eq!(f.len(), 1, "{f:?}");
    let parts: Vec<&str> = f[0].split('|').collect();
    assert_eq!(parts[0], "cname-wrong-target");
    assert!(
        parts[2].contains("is a CNAME to GraniteFalls.eastus.cloudapp.azure.com")
            && parts[2].contains(DEPLOYMENT),
        "{parts:?}"
    );
    assert!(
        parts[3].contains(
            "GraniteFalls.contoso.com. 3600 IN CNAME GraniteFalls.westus.cloudapp.azure.com."
        ),
        "{parts:?}"
    );
    // The other region's name resolves nowhere.
    assert!(m["addresses"].clone().into_array().unwrap().is_empty());
}

#[test]
fn a_missing_record_gives_the_record_to_create() {
    let lab = Lab::new();
    lab.run(Mode::Apply).engine.run(ZONE).unwrap();
    let (m, f) = check(&lab, Mode::Plan, &default_call());
    assert!(!m["ok"].as_bool().unwrap());
    assert_eq!(m["target"].to_string(), "");
    assert_eq!(f.len(), 2, "{f:?}");
    let parts: Vec<&str> = f[0].split('|').collect();
    assert_eq!(parts[0], "cname-missing");
    assert!(parts[2].contains("NXDOMAIN"), "{parts:?}");
    assert_eq!(
        parts[3],
        "create this record in the public DNS zone of contoso.com: GraniteFalls.contoso.com. 3600 IN CNAME GraniteFalls.westus.cloudapp.azure.com."
    );
    assert!(f[1].starts_with("deployment-not-resolving|"), "{f:?}");
}

#[test]
fn address_records_instead_of_a_cname_are_named() {
    let lab = Lab::new();
    // A public IP whose DNS name is the service name: an A record at that name.
    lab.emu()
        .put_public_ip(
            "wrong",
            "granitefalls.contoso.com",
            "10.9.8.7".parse().unwrap(),
        )
        .unwrap();
    let (m, f) = check(&lab, Mode::Plan, &default_call());
    assert!(!m["ok"].as_bool().unwrap());
    assert!(
        f[0].starts_with("a-record-instead-of-cname|error|"),
        "{f:?}"
    );
    assert!(f[0].contains("10.9.8.7"), "{f:?}");
}

#[test]
fn a_resolver_that_never_answers_is_a_finding_not_a_hang() {
    let lab = Lab::new();
    // A bound UDP socket nobody reads: queries go unanswered until the timeout; no TCP
    // listener on that port, so the TCP retry is refused.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let (m, f) = check(
        &lab,
        Mode::Plan,
        &format!(
            r#"dns::check_cname("{SERVICE}", "{DEPLOYMENT}", #{{ servers: ["{addr}"], timeout: 1 }})"#
        ),
    );
    assert!(!m["ok"].as_bool().unwrap());
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].starts_with("resolver-unreachable|error|"), "{f:?}");
    assert!(f[0].contains(&addr.to_string()), "{f:?}");
    drop(silent);
}

#[test]
fn bad_options_and_names_are_errors_before_any_query() {
    let lab = Lab::new();
    let run = lab.run(Mode::Plan);
    for (call, want) in [
        (
            format!(
                r#"dns::check_cname("{SERVICE}", "{DEPLOYMENT}", #{{ servers: ["dns.contoso.com"] }})"#
            ),
            "not a DNS server address",
        ),
        (
            format!(r#"dns::check_cname("{SERVICE}", "{DEPLOYMENT}", #{{ timeout: 0 }})"#),
            "out of range",
        ),
        (
            format!(r#"dns::check_cname("{SERVICE}", "{DEPLOYMENT}", #{{ sever: [] }})"#),
            "unknown option `sever`",
        ),
        (
            format!(r#"dns::check_cname("{SERVICE}", "Other.westus.cloudapp.azure.com")"#),
            "not the deployment name",
        ),
    ] {
        let err = run.engine.run(&call).unwrap_err();
        let e = find_module_error(&err).unwrap();
        assert_eq!(e.kind, ErrorKind::Validation, "{e:?}");
        assert!(e.message.contains(want), "{call}: {e:?}");
    }
}

#[test]
fn a_cname_through_another_cname_is_a_warning_and_a_loop_is_not_followed_forever() {
    let lab = Lab::new();
    let run = lab.run(Mode::Apply);
    run.engine.run(ZONE).unwrap();
    lab.emu()
        .put_public_ip(
            "GraniteFalls",
            "granitefalls.westus.cloudapp.azure.com",
            "20.30.40.50".parse().unwrap(),
        )
        .unwrap();
    // Records dns::cname would refuse (their targets are no deployment name), written
    // by hand as another tool would.
    let sub: String = run.engine.eval("azure::subscription().id").unwrap();
    let zone =
        format!("/subscriptions/{sub}/resourceGroups/dns-rg/providers/Microsoft.Network/dnsZones/contoso.com");
    let put = |name: &str, target: &str| {
        let body =
            serde_json::json!({"properties": {"TTL": 300, "CNAMERecord": {"cname": target}}});
        lab.block_on(
            run.cloud
                .arm
                .put(&format!("{zone}/CNAME/{name}"), "2018-05-01", &body),
        )
        .unwrap();
    };
    put("GraniteFalls", "cmg-alias.contoso.com");
    put("cmg-alias", DEPLOYMENT);
    let (m, f) = check(&lab, Mode::Plan, &default_call());
    assert!(m["ok"].as_bool().unwrap(), "a warning only: {f:?}");
    assert_eq!(m["target"].to_string(), "cmg-alias.contoso.com");
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].starts_with("cname-indirect|warning|"), "{f:?}");
    assert!(
        f[0].contains(&format!("cmg-alias.contoso.com -> {DEPLOYMENT}")),
        "{f:?}"
    );

    // A loop: the alias points back at the service name.
    put("cmg-alias", SERVICE);
    let (m, f) = check(&lab, Mode::Plan, &default_call());
    assert!(!m["ok"].as_bool().unwrap());
    assert!(f[0].starts_with("cname-wrong-target|error|"), "{f:?}");
}
