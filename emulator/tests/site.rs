//! The AdminService's writes and the site's Entra user discovery, over HTTPS as the
//! stdlib talks to them: create (201, assigned keys), natural-key twins (409), unknown
//! and read-only properties (400), PATCH with If-Match, DELETE, method calls, secrets
//! that never come back (not in replies, the request log, the state file or the logs),
//! discovery end to end and with a wrong secret.
//! Source: /work/issue7-contract.md (the emulator/stdlib contract) and api-surface.md
//! §0.2, §6.4, §8.

mod common;

use comgmt_emulator::{EmulatorConfig, StateLocation, UdxWording};
use common::{
    app_with_secret, grant_graph_role, into_resp, server_app, wait_for, Emu, Resp,
    DIRECTORY_READ_ALL,
};
use reqwest::Method;
use serde_json::{json, Value};
use std::path::Path;

const EXPIRY: &str = "2027-11-29T21:00:00Z";
const CLIENT_APP_ID: &str = "5f0c3b1e-2a4d-4c6e-8f10-1a2b3c4d5e6f";

/// A site on an HTTPS emulator with its state in a file, a server app registered in
/// Entra with a secret and Directory.Read.All, and a token for the AdminService.
struct Site {
    emu: Emu,
    admin: String,
    server_app_id: String,
    secret: String,
    dir: tempfile::TempDir,
}

async fn site() -> Site {
    site_with(UdxWording::default()).await
}

async fn site_with(udx_wording: UdxWording) -> Site {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let handle = comgmt_emulator::start(EmulatorConfig {
        state: StateLocation::File(dir.path().join("emulator.sqlite")),
        tls_cert_out: Some(ca.clone()),
        log_dir: Some(dir.path().join("logs")),
        udx_wording,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let root = reqwest::Certificate::from_pem(handle.ca_pem().unwrap()).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(root)
        .build()
        .unwrap();
    let mut emu = Emu {
        handle,
        http,
        token: String::new(),
    };
    emu.token = emu.client_token("test-client", "test-secret").await;
    let (app, sp, secret) = app_with_secret(&emu, server_app(emu.handle.tenant_id())).await;
    grant_graph_role(&emu, &sp, DIRECTORY_READ_ALL).await;
    let uri = app["identifierUris"][0].as_str().unwrap().to_string();
    let r = emu
        .form(
            &emu.token_url(),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "cm-console"),
                ("client_secret", "s"),
                ("scope", &format!("{uri}/.default")),
            ],
        )
        .await;
    let admin = r.body["access_token"].as_str().unwrap().to_string();
    Site {
        emu,
        admin,
        server_app_id: app["appId"].as_str().unwrap().to_string(),
        secret,
        dir,
    }
}

impl Site {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut rb = self
            .emu
            .http
            .request(method, self.emu.url(&format!("AdminService/wmi/{path}")))
            .bearer_auth(&self.admin);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        into_resp(rb.send().await.unwrap()).await
    }
    async fn get(&self, path: &str) -> Resp {
        self.call(Method::GET, path, None, &[]).await
    }
    async fn post(&self, path: &str, body: Value) -> Resp {
        self.call(Method::POST, path, Some(body), &[]).await
    }
    async fn patch(&self, path: &str, body: Value) -> Resp {
        self.call(Method::PATCH, path, Some(body), &[]).await
    }
    async fn created(&self, class: &str, body: Value) -> Value {
        let r = self.post(class, body).await;
        assert_eq!(r.status, 201, "{class}: {}", r.text);
        r.body
    }

    /// Tenant, server app (with the secret), client app and the cloud service.
    async fn register(&self, secret: &str) -> (Value, Value, Value, Value) {
        let tid = self.emu.handle.tenant_id();
        let tenant = self
            .created(
                "SMS_AAD_Tenant_Ex",
                json!({"Name": "Comgmt Lab", "TenantID": tid}),
            )
            .await;
        let server = self
            .created(
                "SMS_AAD_Application_Ex",
                json!({"Name": "Cloud Management web app", "ClientID": self.server_app_id,
                       "TenantDB_ID": tenant["ID"], "IdentifierUri": format!("api://{tid}/ConfigMgrService"),
                       "IsClientApp": false, "SecretKey": secret, "SecretKeyExpiry": EXPIRY}),
            )
            .await;
        let client = self
            .created(
                "SMS_AAD_Application_Ex",
                json!({"Name": "Cloud Management native client app", "ClientID": CLIENT_APP_ID,
                       "TenantDB_ID": tenant["ID"], "IsClientApp": true}),
            )
            .await;
        let service = self
            .created(
                "SMS_Azure_CloudService",
                json!({"Name": "My cloud management service", "ServerAppDB_ID": server["ID"],
                       "ClientAppDB_ID": client["ID"], "EnableUserDiscovery": true,
                       "UserDiscoverySchedule": "000A470000100038"}),
            )
            .await;
        (tenant, server, client, service)
    }

    /// Run discovery and wait for its end; answers the cloud service row.
    async fn discover(&self, service: &Value) -> Value {
        let path = format!(
            "SMS_Azure_CloudService({})/AdminService.RunUserDiscovery",
            service["ID"]
        );
        let r = self.post(&path, json!({"Full": true})).await;
        assert_eq!(
            (r.status.as_u16(), &r.body["ReturnValue"]),
            (201, &json!(0)),
            "{}",
            r.text
        );
        let key = format!("SMS_Azure_CloudService({})", service["ID"]);
        wait_for(60, "discovery to end", || async {
            let r = self.get(&key).await;
            let row = r.body["value"][0].clone();
            (row["LastUserDiscoveryStatus"] != "Running").then_some(row)
        })
        .await
    }

    fn log(&self) -> String {
        let path = self
            .emu
            .handle
            .log_dir()
            .join("SMS_AZUREAD_DISCOVERY_AGENT.log");
        std::fs::read_to_string(path).unwrap_or_default()
    }
}

/// Every byte of the state (database, WAL) and the log folder.
fn files_contain(dir: &Path, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p)
                .unwrap_or_default()
                .windows(needle.len())
                .any(|w| w == needle.as_bytes())
            {
                hits.push(p.display().to_string());
            }
        }
    }
    hits
}

#[tokio::test]
async fn creates_reads_patches_and_deletes_rows() {
    let s = site().await;
    let (tenant, server, client, service) = s.register(&s.secret).await;
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
        .call(
            Method::PATCH,
            &key,
            Some(json!({"Name": "x"})),
            &[("If-Match", "W/\"1\"")],
        )
        .await;
    assert_eq!(r.status, 412, "{}", r.text);
    let r = s
        .call(
            Method::PATCH,
            &format!("SMS_AAD_Application_Ex/{}", client["ID"]),
            Some(json!({"Name": "y"})),
            &[("If-Match", "W/\"2\"")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // A row in use cannot go; the service can, then its apps.
    let r = s.call(Method::DELETE, &key, None, &[]).await;
    assert_eq!(r.status, 409, "{}", r.text);
    let r = s
        .call(
            Method::DELETE,
            &format!("SMS_Azure_CloudService({})", service["ID"]),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = s.call(Method::DELETE, &key, None, &[]).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = s.call(Method::DELETE, &key, None, &[]).await;
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
    let (_, server, _, service) = s.register(&s.secret).await;
    let row = s.discover(&service).await;
    let log = s.log();
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
    let row = s.discover(&service).await;
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
    let (_, server, _, service) = s.register("not-the-secret").await;
    let row = s.discover(&service).await;
    let log = s.log();
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
    let row = s.discover(&service).await;
    assert_eq!(row["LastUserDiscoveryStatus"], "Succeeded", "{}", s.log());
}

#[tokio::test]
async fn discovery_says_so_when_it_is_off() {
    let s = site().await;
    let (_, _, _, service) = s.register(&s.secret).await;
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
    let (_, _, _, service) = s.register(&s.secret).await;
    let row = s.discover(&service).await;
    assert_eq!(row["LastUserDiscoveryStatus"], "Succeeded", "{}", s.log());
    assert!(s
        .log()
        .contains("Successfully published UDX for Microsoft Entra users"));
}

#[tokio::test]
async fn an_in_memory_emulator_gets_a_temporary_log_folder() {
    let emu = Emu::start().await;
    let path = emu.handle.log_dir().to_path_buf();
    assert!(path.is_dir());
    drop(emu);
    assert!(!path.exists());
}
