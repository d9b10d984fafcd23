//! The site's communication settings and its roles over HTTPS, as the stdlib writes
//! them: `SMS_SCI_Component`'s `IISSSLState` (enhanced HTTP), a software update point
//! added, switched and removed, and the management point's `AllowProxyTraffic`, refused
//! on an HTTP management point until the site has enhanced HTTP.
//! Source: api-surface.md §11.3, §12, §13.

mod common;

use comgmt_emulator::EmulatorConfig;
use common::Site;
use reqwest::Method;
use serde_json::{json, Value};

const COMPONENT: &str = "SMS_SITE_COMPONENT_MANAGER|SMS Site Server";
const SERVER: &str = "CM01.comgmtlab.local";

/// A key in a path: role rows' keys hold backslashes and quotes, which a URL would
/// otherwise turn into path separators.
fn key(class: &str, k: &str) -> String {
    let quoted = format!("'{}'", k.replace('\'', "''"));
    let enc = percent_encoding::utf8_percent_encode(&quoted, percent_encoding::NON_ALPHANUMERIC);
    format!("{class}({enc})")
}

async fn rows(s: &Site, role: &str) -> Vec<Value> {
    let r = s
        .get(&format!(
            "SMS_SCI_SysResUse?$filter=RoleName eq '{role}' and SiteCode eq 'ABC'"
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["value"].as_array().cloned().unwrap_or_default()
}

/// `props` with `name`'s `Value` set.
fn with_prop(props: &Value, name: &str, value: i64) -> Value {
    let mut list = props.as_array().cloned().unwrap_or_default();
    match list.iter_mut().find(|p| p["PropertyName"] == name) {
        Some(p) => p["Value"] = json!(value),
        None => {
            list.push(json!({"PropertyName": name, "Value": value, "Value1": "", "Value2": ""}))
        }
    }
    Value::Array(list)
}

fn prop(row: &Value, name: &str) -> Value {
    row["Props"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["PropertyName"] == name))
        .map(|p| p["Value"].clone())
        .unwrap_or(Value::Null)
}

async fn set_iis_ssl_state(s: &Site, value: i64) -> Value {
    let path = key("SMS_SCI_Component", COMPONENT);
    let item = s.get(&path).await.body["value"][0].clone();
    let r = s
        .patch(
            &path,
            json!({"Props": with_prop(&item["Props"], "IISSSLState", value)}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

#[tokio::test]
async fn the_component_manager_is_seeded_https_or_http_and_takes_enhanced_http() {
    let s = Site::start(EmulatorConfig::default()).await;
    let r = s
        .get(&format!(
            "SMS_SCI_Component?$filter=ItemName eq '{COMPONENT}' and ItemType eq 'Component' and FileType eq 2 and SiteCode eq 'ABC'"
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let item = r.body["value"][0].clone();
    assert_eq!(prop(&item, "IISSSLState"), 192, "{}", r.text);

    let after = set_iis_ssl_state(&s, 1216).await;
    assert_eq!(prop(&after, "IISSSLState"), 1216);
    assert_eq!(after["@odata.etag"], "W/\"2\"");

    // Components are the site's: none is added or removed, and names stay.
    let r = s.post("SMS_SCI_Component", json!({"Props": []})).await;
    assert_eq!(r.status, 405, "{}", r.text);
    let r = s
        .call(Method::DELETE, &key("SMS_SCI_Component", COMPONENT), None)
        .await;
    assert_eq!(r.status, 405, "{}", r.text);
    let r = s
        .patch(
            &key("SMS_SCI_Component", COMPONENT),
            json!({"ItemName": "x"}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = s
        .patch(
            &key("SMS_SCI_Component", COMPONENT),
            json!({"Props": [{"Value": 1}]}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
}

#[tokio::test]
async fn an_http_management_point_takes_cmg_traffic_only_with_enhanced_http() {
    let s = Site::start(EmulatorConfig::default()).await;
    let mp = rows(&s, "SMS Management Point").await.remove(0);
    assert_eq!(prop(&mp, "SslState"), 0);
    let path = key("SMS_SCI_SysResUse", mp["ItemName"].as_str().unwrap());
    let allow = json!({"Props": with_prop(&mp["Props"], "AllowProxyTraffic", 1)});

    let r = s.patch(&path, allow.clone()).await;
    assert_eq!(r.status, 400, "{}", r.text);
    let msg = r.body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("enhanced HTTP") && msg.contains("HTTPS"),
        "{msg}"
    );
    assert_eq!(
        prop(
            &rows(&s, "SMS Management Point").await[0],
            "AllowProxyTraffic"
        ),
        0
    );

    set_iis_ssl_state(&s, 1216).await;
    let r = s.patch(&path, allow).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(prop(&r.body, "AllowProxyTraffic"), 1);

    // What a role is and where it runs cannot change; the site server's roles stay.
    let r = s
        .patch(&path, json!({"RoleName": "SMS Distribution Point"}))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = s.call(Method::DELETE, &path, None).await;
    assert_eq!(r.status, 400, "{}", r.text);
}

#[tokio::test]
async fn a_software_update_point_is_added_switched_and_removed() {
    let s = Site::start(EmulatorConfig::default()).await;
    let body = json!({
        "RoleName": "SMS Software Update Point",
        "NetworkOSPath": format!("\\\\{}", SERVER.to_lowercase()),
        "SiteCode": "ABC",
        "Props": [{"PropertyName": "AllowProxyTraffic", "Value": 0, "Value1": "", "Value2": ""}],
    });
    let sup = s.created("SMS_SCI_SysResUse", body.clone()).await;
    assert_eq!(sup["NetworkOSPath"], format!("\\\\{SERVER}"));
    assert!(sup["ItemName"]
        .as_str()
        .unwrap()
        .ends_with(",SMS Software Update Point"));
    assert_eq!(sup["Type"], 2, "on the site server");
    let r = s.post("SMS_SCI_SysResUse", body).await;
    assert_eq!(r.status, 409, "one per server: {}", r.text);

    let path = key("SMS_SCI_SysResUse", sup["ItemName"].as_str().unwrap());
    let allow = json!({"Props": with_prop(&sup["Props"], "AllowProxyTraffic", 1)});
    let r = s.patch(&path, allow.clone()).await;
    assert_eq!(r.status, 400, "HTTP without E-HTTP: {}", r.text);
    let https = json!({"Props": with_prop(&allow["Props"], "SslState", 1)});
    let r = s.patch(&path, https).await;
    assert_eq!(r.status, 200, "an HTTPS SUP may: {}", r.text);

    let r = s.call(Method::DELETE, &path, None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(rows(&s, "SMS Software Update Point").await.is_empty());

    // Roles go on site systems only, and only the roles this emulator adds.
    let r = s
        .post(
            "SMS_SCI_SysResUse",
            json!({"RoleName": "SMS Software Update Point", "NetworkOSPath": "\\\\nowhere.contoso.com"}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("not a site system"), "{}", r.text);
    let r = s
        .post(
            "SMS_SCI_SysResUse",
            json!({"RoleName": "SMS Provider", "NetworkOSPath": format!("\\\\{SERVER}")}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
}

#[tokio::test]
async fn a_connection_point_needs_a_cmg_the_site_has() {
    let s = Site::start(EmulatorConfig::default()).await;
    let r = s
        .post(
            "SMS_SCI_SysResUse",
            json!({
                "RoleName": "SMS Cloud Proxy Connector",
                "NetworkOSPath": format!("\\\\{SERVER}"),
                "Props": [{"PropertyName": "CloudServiceName", "Value": 0, "Value1": "GraniteFalls.contoso.com", "Value2": ""}],
            }),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("GraniteFalls.contoso.com"), "{}", r.text);
    let r = s
        .post(
            "SMS_SCI_SysResUse",
            json!({"RoleName": "SMS Cloud Proxy Connector", "NetworkOSPath": format!("\\\\{SERVER}")}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("CloudServiceName"), "{}", r.text);
}
