//! A site's AdminService as the stdlib reaches it: an emulator on disk over HTTPS, the
//! CMG server app registered in Entra with a secret, a token for that app, and the
//! AdminService rows that register the tenant, the apps and the cloud service.

use super::{app_with_secret, server_app, Emu, Resp};
use comgmt_emulator::EmulatorConfig;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Mutex;

/// The server app's secret expiry as the site stores it.
pub const EXPIRY: &str = "2027-11-29T21:00:00Z";
/// The native client app's ID (no Entra app behind it is needed for these tests).
pub const CLIENT_APP_ID: &str = "5f0c3b1e-2a4d-4c6e-8f10-1a2b3c4d5e6f";

pub struct Site {
    pub emu: Emu,
    /// A token for the server app, which the AdminService takes.
    pub admin: String,
    /// The server app's service principal.
    pub sp: Value,
    pub server_app_id: String,
    pub secret: String,
    /// Where the state, the CA and the logs are.
    pub dir: tempfile::TempDir,
    /// Every AdminService reply body, to prove no secret came back.
    pub replies: Mutex<Vec<String>>,
}

impl Site {
    /// `config` on disk (see `Emu::on_disk`), with the server app registered in Entra.
    pub async fn start(config: EmulatorConfig) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let emu = Emu::on_disk(dir.path(), config).await;
        let (app, sp, secret) = app_with_secret(&emu, server_app(emu.handle.tenant_id())).await;
        let uri = app["identifierUris"][0].as_str().unwrap();
        let admin = emu
            .app_token("cm-console", &format!("{uri}/.default"))
            .await;
        Site {
            server_app_id: app["appId"].as_str().unwrap().to_string(),
            emu,
            admin,
            sp,
            secret,
            dir,
            replies: Default::default(),
        }
    }

    /// An AdminService call; `path` is relative to `AdminService/wmi/`.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        self.call_with(method, path, body, &[]).await
    }

    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let url = self.emu.url(&format!("AdminService/wmi/{path}"));
        let r = self
            .emu
            .send(method, &url, &self.admin, body, headers)
            .await;
        self.replies.lock().unwrap().push(r.text.clone());
        r
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.call(Method::PATCH, path, Some(body)).await
    }

    /// Create a row of `class` and return it.
    pub async fn created(&self, class: &str, body: Value) -> Value {
        let r = self.post(class, body).await;
        assert_eq!(r.status, 201, "{class}: {}", r.text);
        r.body
    }

    /// Tenant, server app (with `secret`), client app and the cloud service, whose row
    /// also takes `service` (e.g. user discovery settings): (tenant, server, client,
    /// service).
    pub async fn register(&self, secret: &str, service: Value) -> (Value, Value, Value, Value) {
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
        let mut body = json!({"Name": "My cloud management service", "ServerAppDB_ID": server["ID"],
                              "ClientAppDB_ID": client["ID"]});
        if let (Some(b), Some(extra)) = (body.as_object_mut(), service.as_object()) {
            b.extend(extra.clone());
        }
        let service = self.created("SMS_Azure_CloudService", body).await;
        (tenant, server, client, service)
    }
}
