//! `comanage::ccmsetup_command` against the in-process emulator: computed from the site,
//! the CMG's service name, the management point's CMG path and the Entra apps; checked;
//! and read back by `comanage::parse_ccmsetup_command`.

mod common;

use comgmt_stdlib::Mode;
use common::Lab;

const SETUP: &str = r#"
let server = entra::server_app(#{ display_name: "Cloud Management web app" });
let client = entra::client_app(server, #{ display_name: "Cloud Management native client app" });
let secret = entra::client_secret(server, #{ years: 1 });
let svc = site::azure_service(#{ name: "Cloud services", server: server, client: client, secret: secret });
"#;

#[test]
fn the_line_is_computed_from_the_site_and_round_trips() {
    let lab = Lab::new();
    let run = lab.run(Mode::Apply);
    let s = format!(
        r#"{SETUP}
let line = comanage::ccmsetup_command(#{{ cmg: "GraniteFalls.contoso.com", azure_service: svc }});
let back = comanage::parse_ccmsetup_command(line.text);
[line.text, line.ok, line.findings.map(|f| f.check), back.properties == line.properties, back.text == line.text,
 svc.client_app_id, svc.server_app_uri]
"#
    );
    let out: rhai::Array = run.engine.eval(&s).unwrap();
    let text = out[0].to_string();
    let (client, uri) = (out[5].to_string(), out[6].to_string());
    assert_eq!(
        text,
        format!("CCMSETUPCMD=\"CCMHOSTNAME=GraniteFalls.contoso.com/CCM_Proxy_MutualAuth/72057594037927939 SMSSITECODE=ABC AADCLIENTAPPID={client} AADRESOURCEURI={uri}\"")
    );
    assert!(out[1].as_bool().unwrap(), "only a warning: {:?}", out[2]);
    let checks: Vec<String> = out[2]
        .clone()
        .into_array()
        .unwrap()
        .iter()
        .map(|d| d.to_string())
        .collect();
    assert_eq!(
        checks,
        ["mp-cmg-traffic"],
        "the seeded management point does not allow CMG traffic yet"
    );
    assert!(out[3].as_bool().unwrap() && out[4].as_bool().unwrap());
}

#[test]
fn a_plan_computes_it_and_writes_nothing_and_bad_input_names_the_problem() {
    let lab = Lab::new();
    let run = lab.run(Mode::Plan);
    let text: String = run
        .engine
        .eval(&format!(r#"{SETUP} comanage::ccmsetup_command(#{{ cmg: "GraniteFalls.contoso.com", azure_service: svc }}).text"#))
        .unwrap();
    assert!(
        text.starts_with(
            "CCMSETUPCMD=\"CCMHOSTNAME=GraniteFalls.contoso.com/CCM_Proxy_MutualAuth/"
        ),
        "{text}"
    );
    assert!(lab.emu().requests().iter().all(|r| !r.write));

    let apply = lab.run(Mode::Apply);
    let err = apply
        .engine
        .eval::<rhai::Dynamic>(&format!(
            r#"{SETUP} comanage::ccmsetup_command(#{{ cmg: "GraniteFalls.contoso.com", mutual_auth_path: "abc" }})"#
        ))
        .unwrap_err();
    let m = comgmt_stdlib::error::find_module_error(&err).unwrap();
    assert!(m.message.contains("mutual_auth_path"), "{}", m.message);
    let err = apply
        .engine
        .eval::<rhai::Dynamic>(r#"comanage::parse_ccmsetup_command(`CCMSETUPCMD="CCMHOSTNAME=x`)"#)
        .unwrap_err();
    let m = comgmt_stdlib::error::find_module_error(&err).unwrap();
    assert!(m.message.contains("not closed"), "{}", m.message);
    let rules: rhai::Array = apply
        .engine
        .eval(r#"comanage::parse_ccmsetup_command(`CCMSETUPCMD="CCMHOSTNAME=https://cmg.contoso.com/CCM_Proxy_MutualAuth/1 SMSSITECODE=AUTO"`).findings.map(|f| f.check)"#)
        .unwrap();
    let rules: Vec<String> = rules.iter().map(|d| d.to_string()).collect();
    assert!(
        rules.contains(&"ccmhostname-scheme".to_string())
            && rules.contains(&"sitecode-auto".to_string()),
        "{rules:?}"
    );
}
