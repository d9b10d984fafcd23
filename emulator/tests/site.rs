//! The AdminService's writes and the site's Entra user discovery, over HTTPS as the
//! stdlib talks to them: create (201, assigned keys), natural-key twins (409), unknown
//! and read-only properties (400), PATCH with If-Match, DELETE, method calls, secrets
//! that never come back (not in replies, the request log, the state file or the logs),
//! discovery end to end and with a wrong secret.
//! Source: /work/issue7-contract.md (the emulator/stdlib contract) and api-surface.md
//! §0.2, §6.4, §8.

mod common;

use comgmt_emulator::{EmulatorConfig, UdxWording};
use common::{
    files_contain, grant_graph_role, wait_for, Emu, Site, CLIENT_APP_ID, DIRECTORY_READ_ALL, EXPIRY,
};
use reqwest::Method;
use serde_json::{json, Value};

/// A site (`common::Site`) whose server app also holds Directory.Read.All, which user
/// discovery needs.
async fn site() -> Site {
    site_with(UdxWording::default()).await
}

async fn site_with(udx_wording: UdxWording) -> Site {
    let s = Site::start(EmulatorConfig {
        udx_wording,
        ..EmulatorConfig::default()
    })
    .await;
    grant_graph_role(&s.emu, &s.sp, DIRECTORY_READ_ALL).await;
    s
}

/// Tenant, server app (with `secret`), client app and a cloud service with user
/// discovery on.
async fn register(s: &Site, secret: &str) -> (Value, Value, Value, Value) {
    s.register(
        secret,
        json!({"EnableUserDiscovery": true, "UserDiscoverySchedule": "000A470000100038"}),
    )
    .await
}

/// Run discovery and wait for its end; answers the cloud service row.
async fn discover(s: &Site, service: &Value) -> Value {
    let path = format!(
        "SMS_Azure_CloudService({})/AdminService.RunUserDiscovery",
        service["ID"]
    );
    let r = s.post(&path, json!({"Full": true})).await;
    assert_eq!(
        (r.status.as_u16(), &r.body["ReturnValue"]),
        (201, &json!(0)),
        "{}",
        r.text
    );
    let key = format!("SMS_Azure_CloudService({})", service["ID"]);
    wait_for(60, "discovery to end", || async {
        let r = s.get(&key).await;
        let row = r.body["value"][0].clone();
        (row["LastUserDiscoveryStatus"] != "Running").then_some(row)
    })
    .await
}

fn discovery_log(s: &Site) -> String {
    let path = s
        .emu
        .handle
        .log_dir()
        .join("SMS_AZUREAD_DISCOVERY_AGENT.log");
    std::fs::read_to_string(path).unwrap_or_default()
}

#[tokio::test]
async fn creates_reads_patches_and_deletes_rows() {
    let s = site().await;
    let (tenant, server, client, service) = register(&s, &s.secret).await;
    assert!(tenant["ID"].is_i64() && tenant["LastUpdateTime"].is_string());
    assert_eq!(server["TenantID"], s.emu.handle.tenant_id());
    assert_eq!(server["SecretKey"], Value::Null);
    assert_eq!(server["@odata.etag"], "W/\"1\"");
    assert_eq!(service["ServiceType"], "CloudManagement");
    assert_eq!(service["TenantDB_ID"], tenant["ID"]);

    // A twin by natural key is refused: the loser of a race re-reads.
    let r = s
        .post(
            "SMS_AAD_Tenant_Ex",
            json!({"Name": "again", "TenantID": s.emu.handle.tenant_id().to_uppercase()}),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body["error"]["code"].as_str()),
        (409, Some("409")),
        "{}",
        r.text
    );
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("TenantID"));

    let r = s
        .post(
            "SMS_AAD_Tenant_Ex",
            json!({"TenantID": s.emu.handle.tenant_id(), "Colour": 1}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = s
        .post("SMS_AAD_Application_Ex", json!({"ClientID": "8c3b8a4e-7f6a-4f7e-9d2b-0a1b2c3d4e5f", "TenantDB_ID": tenant["ID"], "SecretKey": "x"}))
        .await;
    assert_eq!(r.status, 400, "a secret needs its expiry: {}", r.text);

    // PATCH: the whole row back, the etag bumped; read-only properties and stale etags refused.
    let key = format!("SMS_AAD_Application_Ex({})", client["ID"]);
    let r = s.patch(&key, json!({"Name": "renamed"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (&r.body["Name"], &r.body["@odata.etag"]),
        (&json!("renamed"), &json!("W/\"2\""))
    );
    assert_eq!(r.body["ClientID"], CLIENT_APP_ID);
    let r = s.patch(&key, json!({"ID": 5})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = s
        .call_with(
            Method::PATCH,
            &key,
            Some(json!({"Name": "x"})),
            &[("If-Match", "W/\"1\"")],
        )
        .await;
    assert_eq!(r.status, 412, "{}", r.text);
    let r = s
        .call_with(
            Method::PATCH,
            &format!("SMS_AAD_Application_Ex/{}", client["ID"]),
            Some(json!({"Name": "y"})),
            &[("If-Match", "W/\"2\"")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // A row in use cannot go; the service can, then its apps.
    let r = s.call(Method::DELETE, &key, None).await;
    assert_eq!(r.status, 409, "{}", r.text);
    let r = s
        .call(
            Method::DELETE,
            &format!("SMS_Azure_CloudService({})", service["ID"]),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = s.call(Method::DELETE, &key, None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = s.call(Method::DELETE, &key, None).await;
    assert_eq!(r.status, 404, "{}", r.text);

    // Keys are never reused.
    let again = s
        .created(
            "SMS_AAD_Application_Ex",
            json!({"ClientID": CLIENT_APP_ID, "TenantDB_ID": tenant["ID"], "IsClientApp": true}),
        )
        .await;
    assert!(again["ID"].as_i64() > client["ID"].as_i64());

    // The site's own classes are read-only; an unknown method is not found.
    let r = s.post("SMS_Site", json!({"SiteCode": "XYZ"})).await;
    assert_eq!(r.status, 405);
    let r = s.post("SMS_Site('ABC')/AdminService.Nope", json!({})).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn the_site_server_and_its_management_point_are_seeded() {
    let s = site().await;
    let r = s
        .get("SMS_SCI_SysResUse?$filter=RoleName eq 'SMS Management Point' and SiteCode eq 'ABC'")
        .await;
    let rows = r.body["value"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 1, "{}", r.text);
    assert_eq!(rows[0]["NetworkOSPath"], "\\\\CM01.comgmtlab.local");
    assert!(rows[0]["Props"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["PropertyName"] == "SslState"));
    let r = s
        .get("SMS_SCI_SysResUse?$filter=RoleName eq 'SMS Site Server'")
        .await;
    assert_eq!(r.body["value"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn discovery_publishes_the_tenant_s_users_and_the_secret_never_leaks() {
    let s = site().await;
    let (_, server, _, service) = register(&s, &s.secret).await;
    let row = discover(&s, &service).await;
    let log = discovery_log(&s);
    assert_eq!(row["LastUserDiscoveryStatus"], "Succeeded", "{log}");
    assert_eq!(row["LastUserDiscoveryCount"], 25);
    assert!(row["LastUserDiscoveryTime"].is_string());

    let r = s.get("SMS_R_User?$top=100").await;
    let users = r.body["value"].as_array().cloned().unwrap_or_default();
    assert_eq!(users.len(), 25, "{}", r.text);
    assert!(
        users.iter().any(|u| u["Name"] == "COMGMTLAB\\adelev"),
        "{}",
        r.text
    );
    assert!(users
        .iter()
        .all(|u| u["AADTenantID"] == s.emu.handle.tenant_id()));

    let last = log.lines().rfind(|l| l.contains("$$<")).unwrap_or_default();
    assert!(
        log.contains("Successfully published UDX for Azure Active Directory users"),
        "{log}"
    );
    assert!(last.contains("$$<SMS_AZUREAD_DISCOVERY_AGENT><"), "{last}");
    assert!(last.ends_with("<thread=5124 (0x1404)>"), "{last}");
    assert!(log.contains("\r\n"));

    // A second run upserts: still 25 rows.
    let row = discover(&s, &service).await;
    assert_eq!(row["LastUserDiscoveryStatus"], "Succeeded");
    let r = s.get("SMS_R_User?$top=100").await;
    assert_eq!(r.body["value"].as_array().map(Vec::len), Some(25));

    // The secret is nowhere a reader could see it.
    let r = s
        .get(&format!("SMS_AAD_Application_Ex({})", server["ID"]))
        .await;
    assert_eq!(r.body["value"][0]["SecretKey"], Value::Null);
    assert!(!r.text.contains(&s.secret));
    let r = s
        .get("SMS_AAD_Application_Ex?$select=ClientID,SecretKey")
        .await;
    assert!(!r.text.contains(&s.secret));
    for req in s.emu.handle.requests() {
        assert!(!req.path.contains(&s.secret), "{}", req.path);
    }
    assert_eq!(files_contain(s.dir.path(), &s.secret), Vec::<String>::new());
}

#[tokio::test]
async fn a_wrong_secret_fails_with_the_aadsts_text_in_the_log() {
    let s = site().await;
    let (_, server, _, service) = register(&s, "not-the-secret").await;
    let row = discover(&s, &service).await;
    let log = discovery_log(&s);
    assert_eq!(row["LastUserDiscoveryStatus"], "Failed", "{log}");
    assert!(log.contains("AADSTS7000215"), "{log}");
    assert!(!log.contains("Successfully published UDX"), "{log}");
    let r = s.get("SMS_R_User").await;
    assert_eq!(r.body["value"].as_array().map(Vec::len), Some(0));

    // Fixing the secret (with its expiry) fixes discovery.
    let r = s
        .patch(
            &format!("SMS_AAD_Application_Ex({})", server["ID"]),
            json!({"SecretKey": s.secret, "SecretKeyExpiry": EXPIRY}),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), &r.body["SecretKey"]),
        (200, &Value::Null),
        "{}",
        r.text
    );
    let row = discover(&s, &service).await;
    assert_eq!(
        row["LastUserDiscoveryStatus"],
        "Succeeded",
        "{}",
        discovery_log(&s)
    );
}

#[tokio::test]
async fn discovery_says_so_when_it_is_off() {
    let s = site().await;
    let (_, _, _, service) = register(&s, &s.secret).await;
    let key = format!("SMS_Azure_CloudService({})", service["ID"]);
    let r = s.patch(&key, json!({"EnableUserDiscovery": false})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s
        .post(
            &format!(
                "SMS_Azure_CloudService/{}/AdminService.RunUserDiscovery",
                service["ID"]
            ),
            json!({}),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), &r.body["ReturnValue"]),
        (201, &json!(1)),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn the_microsoft_entra_wording_is_configurable() {
    let s = site_with(UdxWording::MicrosoftEntra).await;
    assert_eq!(s.emu.handle.log_dir(), s.dir.path().join("logs"));
    let (_, _, _, service) = register(&s, &s.secret).await;
    let row = discover(&s, &service).await;
    assert_eq!(
        row["LastUserDiscoveryStatus"],
        "Succeeded",
        "{}",
        discovery_log(&s)
    );
    assert!(discovery_log(&s).contains("Successfully published UDX for Microsoft Entra users"));
}

#[tokio::test]
async fn an_in_memory_emulator_gets_a_temporary_log_folder() {
    let emu = Emu::start().await;
    let path = emu.handle.log_dir().to_path_buf();
    assert!(path.is_dir());
    drop(emu);
    assert!(!path.exists());
}
