//! Helpers for the emulator's HTTP tests: a started emulator, a token, and JSON calls.
#![allow(dead_code)]

use comgmt_emulator::{start, EmulatorConfig, EmulatorHandle};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

// One small file a job; each adds to `Emu` or stands alone.
mod arm;
mod files;
mod on_disk;
mod site;
mod tokens;

// Each test binary uses only some of these (as with `dead_code` above).
#[allow(unused_imports)]
pub use arm::{arm_call, arm_error, resource_types, subscription, ARM_SCOPE, CMG_RESOURCE_TYPES};
#[allow(unused_imports)]
pub use files::files_contain;
#[allow(unused_imports)]
pub use site::{Site, CLIENT_APP_ID, EXPIRY};

pub struct Emu {
    pub handle: EmulatorHandle,
    pub http: Client,
    pub token: String,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Emu {
    pub async fn start() -> Emu {
        Self::with(EmulatorConfig::default()).await
    }

    pub async fn with(config: EmulatorConfig) -> Emu {
        let handle = start(config).await.expect("emulator starts");
        Self::signed_in(handle, Client::new()).await
    }

    /// A started emulator reached through `http`, with a Graph token for the test client.
    pub(crate) async fn signed_in(handle: EmulatorHandle, http: Client) -> Emu {
        let mut emu = Emu {
            handle,
            http,
            token: String::new(),
        };
        emu.token = emu.client_token("test-client", "test-secret").await;
        emu
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.handle.url(), path.trim_start_matches('/'))
    }

    pub fn token_url(&self) -> String {
        self.url(&format!("{}/oauth2/v2.0/token", self.handle.tenant_id()))
    }

    /// A Graph token for the client `id`.
    pub async fn client_token(&self, id: &str, secret: &str) -> String {
        self.token_for(id, secret, "https://graph.microsoft.com/.default")
            .await
    }

    pub async fn form(&self, url: &str, params: &[(&str, &str)]) -> Resp {
        let r = self.http.post(url).form(params).send().await.expect("send");
        into_resp(r).await
    }

    /// A Graph call with the test token; `path` is relative to the base URL.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        self.call_with(method, &self.url(path), body, &[]).await
    }

    pub async fn call_with(
        &self,
        method: Method,
        url: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        self.send(method, url, &self.token, body, headers).await
    }

    /// A call to an absolute `url` with the bearer `token` (ARM's, the AdminService's).
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        token: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut rb = self.http.request(method, url).bearer_auth(token);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        into_resp(rb.send().await.expect("send")).await
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

    pub async fn delete(&self, path: &str) -> Resp {
        self.call(Method::DELETE, path, None).await
    }

    /// Create an application and return it.
    pub async fn app(&self, body: Value) -> Value {
        let r = self.post("v1.0/applications", body).await;
        assert_eq!(r.status, 201, "create app: {}", r.text);
        r.body
    }

    pub async fn sp(&self, app_id: &str) -> Value {
        let r = self
            .post("v1.0/servicePrincipals", json!({"appId": app_id}))
            .await;
        assert_eq!(r.status, 201, "create sp: {}", r.text);
        r.body
    }

    pub async fn graph_sp(&self) -> Value {
        let r = self
            .get("v1.0/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')")
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body
    }

    /// Every item of a collection, following nextLinks.
    pub async fn list_all(&self, path: &str) -> (Vec<Value>, usize) {
        let mut next = Some(self.url(path));
        let mut items = Vec::new();
        let mut pages = 0;
        while let Some(url) = next.take() {
            let r = self.call_with(Method::GET, &url, None, &[]).await;
            assert_eq!(r.status, 200, "{}", r.text);
            pages += 1;
            items.extend(r.body["value"].as_array().cloned().unwrap_or_default());
            next = r.body["@odata.nextLink"].as_str().map(str::to_string);
        }
        (items, pages)
    }
}

pub async fn into_resp(r: reqwest::Response) -> Resp {
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        body,
        text,
    }
}

/// Assert a Graph error body with this status and code; returns the message.
#[track_caller]
pub fn graph_error(r: &Resp, status: u16, code: &str) -> String {
    assert_eq!(r.status.as_u16(), status, "{}", r.text);
    assert_eq!(r.body["error"]["code"], code, "{}", r.text);
    let inner = &r.body["error"]["innerError"];
    assert!(
        inner["request-id"].is_string() && inner["date"].is_string(),
        "{}",
        r.text
    );
    assert!(r.headers.contains_key("request-id"));
    r.body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

pub fn server_app(tenant: &str) -> Value {
    json!({
        "displayName": "Cloud Management web app",
        "signInAudience": "AzureADMyOrg",
        "identifierUris": [format!("api://{tenant}/ConfigMgrService")],
        "web": {
            "homePageUrl": "https://ConfigMgrService",
            "redirectUris": ["https://ConfigMgrService"],
            "implicitGrantSettings": {"enableIdTokenIssuance": true}
        },
        "api": {"oauth2PermissionScopes": [{
            "id": "6a2cb3d4-8d1e-4a8b-9a4f-3c1e2d4f5a6b", "value": "user_impersonation", "type": "User", "isEnabled": true,
            "adminConsentDisplayName": "Access Cloud Management web app",
            "adminConsentDescription": "Allow the application to access Cloud Management web app on behalf of the signed-in user.",
            "userConsentDisplayName": "Access Cloud Management web app",
            "userConsentDescription": "Allow the application to access Cloud Management web app on your behalf."
        }]},
        "requiredResourceAccess": [{
            "resourceAppId": "00000003-0000-0000-c000-000000000000",
            "resourceAccess": [{"id": "7ab1d382-f21e-4acd-a863-ba3e13f7da61", "type": "Role"}]
        }]
    })
}

/// `Directory.Read.All`, the Graph app role user discovery needs
/// (manually-register-azure-ad-apps.md).
pub const DIRECTORY_READ_ALL: &str = "7ab1d382-f21e-4acd-a863-ba3e13f7da61";

/// A registered application with a service principal and a client secret, as the
/// site's server app is: (app, service principal, secret).
pub async fn app_with_secret(emu: &Emu, body: Value) -> (Value, Value, String) {
    let app = emu.app(body).await;
    let sp = emu.sp(app["appId"].as_str().expect("appId")).await;
    let r = emu
        .post(
            &format!("v1.0/applications/{}/addPassword", app["id"].as_str().expect("id")),
            json!({"passwordCredential": {"displayName": "ConfigMgr", "endDateTime": "2030-01-01T00:00:00Z"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let secret = r.body["secretText"]
        .as_str()
        .expect("secretText")
        .to_string();
    (app, sp, secret)
}

/// Grant a service principal one of Microsoft Graph's app roles (admin consent).
pub async fn grant_graph_role(emu: &Emu, sp: &Value, role_id: &str) {
    let graph = emu.graph_sp().await;
    let graph_id = graph["id"].as_str().expect("graph sp id");
    let r = emu
        .post(
            &format!("v1.0/servicePrincipals/{graph_id}/appRoleAssignedTo"),
            json!({"principalId": sp["id"], "resourceId": graph_id, "appRoleId": role_id}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

/// Poll `check` until it answers `Some`, or panic after `secs` seconds.
pub async fn wait_for<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
