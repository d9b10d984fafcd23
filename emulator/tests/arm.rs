//! The ARM skeleton: audience check with ARM's errors, api-version, subscriptions,
//! resource groups with a long-running delete, ARM-shaped faults.

mod common;

use comgmt_emulator::{EmulatorConfig, FaultSpec};
use common::{into_resp, Emu, Resp};
use reqwest::Method;
use serde_json::{json, Value};

const V: &str = "api-version=2021-04-01";

async fn arm_token(emu: &Emu, scope: &str) -> String {
    let r = emu
        .form(
            &emu.token_url(),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "arm-client"),
                ("client_secret", "s"),
                ("scope", scope),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["access_token"].as_str().unwrap().to_string()
}

async fn arm(emu: &Emu, token: &str, method: Method, path: &str, body: Option<Value>) -> Resp {
    let mut rb = emu.http.request(method, emu.url(path)).bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    into_resp(rb.send().await.unwrap()).await
}

#[track_caller]
fn arm_error(r: &Resp, status: u16, code: &str) -> String {
    assert_eq!(r.status.as_u16(), status, "{}", r.text);
    assert_eq!(r.body["error"]["code"], code, "{}", r.text);
    assert!(r.headers.contains_key("x-ms-request-id"), "{:?}", r.headers);
    assert!(r.headers.contains_key("x-ms-correlation-request-id"));
    r.body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn subscription(emu: &Emu, token: &str) -> String {
    let r = arm(emu, token, Method::GET, &format!("subscriptions?{V}"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["value"][0]["subscriptionId"]
        .as_str()
        .unwrap()
        .to_string()
}

// The audiences ARM accepts are the ones it publishes in `/metadata/endpoints`
// (`authentication.audiences`; api-surface §0): `https://management.core.windows.net/`
// and `https://management.azure.com/`. Another audience is
// `InvalidAuthenticationTokenAudience` with a Bearer challenge (the 401 status and the
// code as ARM clients meet them, e.g. microsoft/azure-tools-for-java issue #2341).
#[tokio::test]
async fn arm_takes_only_arm_tokens() {
    let emu = Emu::start().await;
    let r = into_resp(
        emu.http
            .get(emu.url(&format!("subscriptions?{V}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    arm_error(&r, 401, "AuthenticationFailed");
    // emu.token is a Graph token.
    let r = arm(
        &emu,
        &emu.token,
        Method::GET,
        &format!("subscriptions?{V}"),
        None,
    )
    .await;
    let msg = arm_error(&r, 401, "InvalidAuthenticationTokenAudience");
    assert!(msg.contains("'https://graph.microsoft.com'"), "{msg}");
    let challenge = r.headers["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with("Bearer authorization_uri="),
        "{challenge}"
    );
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    let r = arm(
        &emu,
        "a.b.c",
        Method::GET,
        &format!("subscriptions?{V}"),
        None,
    )
    .await;
    arm_error(&r, 401, "InvalidAuthenticationToken");
    for scope in [
        "https://management.azure.com/.default",
        "https://management.core.windows.net//.default",
        "https://management.core.windows.net/.default",
    ] {
        let t = arm_token(&emu, scope).await;
        let r = arm(&emu, &t, Method::GET, &format!("subscriptions?{V}"), None).await;
        assert_eq!(r.status, 200, "{scope}: {}", r.text);
        // ...and an ARM token is not a Graph token.
        let g = arm(&emu, &t, Method::GET, "v1.0/organization", None).await;
        assert_eq!(g.status, 401);
        assert_eq!(g.body["error"]["code"], "InvalidAuthenticationToken");
    }
}

// Source: Azure/azure-rest-api-specs:specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json
// (`api-version` is a required query parameter of every operation; ARM answers its
// absence with MissingApiVersionParameter) and
// specification/subscription/.../examples/getSubscriptions.json (the subscription shape).
#[tokio::test]
async fn subscriptions_and_api_version() {
    let emu = Emu::start().await;
    let t = arm_token(&emu, "https://management.azure.com/.default").await;
    let r = arm(&emu, &t, Method::GET, "subscriptions", None).await;
    let msg = arm_error(&r, 400, "MissingApiVersionParameter");
    assert!(msg.contains("api-version"), "{msg}");
    let r = arm(&emu, &t, Method::GET, &format!("subscriptions?{V}"), None).await;
    let s = &r.body["value"][0];
    assert_eq!(s["tenantId"], emu.handle.tenant_id());
    assert_eq!(s["state"], "Enabled");
    let id = s["subscriptionId"].as_str().unwrap();
    assert_eq!(s["id"], format!("/subscriptions/{id}"));
    let r = arm(
        &emu,
        &t,
        Method::GET,
        &format!("subscriptions/{id}?{V}"),
        None,
    )
    .await;
    assert_eq!(r.body["subscriptionId"], id);
    let other = "00000000-0000-0000-0000-0000000000aa";
    let r = arm(
        &emu,
        &t,
        Method::GET,
        &format!("subscriptions/{other}/resourcegroups/x?{V}"),
        None,
    )
    .await;
    arm_error(&r, 404, "SubscriptionNotFound");
    // Cloud metadata needs no token and names the emulator as login and ARM endpoint.
    let r = into_resp(
        emu.http
            .get(emu.url("metadata/endpoints?api-version=2022-09-01"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["authentication"]["loginEndpoint"], emu.handle.url());
    assert_eq!(r.body["resourceManager"], emu.handle.url());
    assert!(r.body["authentication"]["audiences"]
        .as_array()
        .unwrap()
        .contains(&json!("https://management.core.windows.net/")));
}

// Source: Azure/azure-rest-api-specs:specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json
// (ResourceGroups_CreateOrUpdate answers 201 then 200; CheckExistence 204/404;
// Delete is `x-ms-long-running-operation` answering 202) and
// examples/CreateResourceGroup.json.
#[tokio::test]
async fn resource_groups_and_long_running_delete() {
    let emu = Emu::start().await;
    let t = arm_token(&emu, "https://management.core.windows.net//.default").await;
    let sub = subscription(&emu, &t).await;
    let path = format!("subscriptions/{sub}/resourcegroups/CMG-RG?{V}");
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &path,
        Some(json!({"location": "East US"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.body["id"],
        format!("/subscriptions/{sub}/resourceGroups/CMG-RG")
    );
    assert_eq!(r.body["location"], "eastus");
    assert_eq!(r.body["properties"]["provisioningState"], "Succeeded");
    assert!(r.headers.contains_key("x-ms-request-id"));
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &path,
        Some(json!({"location": "eastus", "tags": {"a": "b"}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["tags"], json!({"a": "b"}));
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &path,
        Some(json!({"location": "westus"})),
    )
    .await;
    arm_error(&r, 409, "InvalidResourceGroupLocation");
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &format!("subscriptions/{sub}/resourcegroups/other?{V}"),
        Some(json!({})),
    )
    .await;
    arm_error(&r, 400, "LocationRequired");
    let lower = format!("subscriptions/{sub}/resourceGroups/cmg-rg?{V}");
    let r = arm(&emu, &t, Method::GET, &lower, None).await;
    assert_eq!(r.body["name"], "CMG-RG", "names compare without case");
    assert_eq!(arm(&emu, &t, Method::HEAD, &path, None).await.status, 204);
    let r = arm(
        &emu,
        &t,
        Method::GET,
        &format!("subscriptions/{sub}/resourcegroups?{V}"),
        None,
    )
    .await;
    assert_eq!(r.body["value"].as_array().map(Vec::len), Some(1));

    let r = arm(&emu, &t, Method::DELETE, &path, None).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert!(r.headers.contains_key("retry-after"));
    let location = r.headers["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with(&emu.url(&format!("subscriptions/{sub}/operationresults/"))),
        "{location}"
    );
    let r = arm(&emu, &t, Method::GET, &path, None).await;
    assert_eq!(r.body["properties"]["provisioningState"], "Deleting");
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &path,
        Some(json!({"location": "eastus"})),
    )
    .await;
    arm_error(&r, 409, "ResourceGroupBeingDeleted");
    let poll = |emu: &Emu| {
        let (http, t, location) = (emu.http.clone(), t.clone(), location.clone());
        async move {
            http.get(location)
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(poll(&emu).await, 202);
    assert_eq!(poll(&emu).await, 200);
    assert_eq!(poll(&emu).await, 200, "a finished operation stays finished");
    let r = arm(&emu, &t, Method::GET, &path, None).await;
    arm_error(&r, 404, "ResourceGroupNotFound");
    assert_eq!(arm(&emu, &t, Method::HEAD, &path, None).await.status, 404);
    let r = arm(&emu, &t, Method::DELETE, &path, None).await;
    arm_error(&r, 404, "ResourceGroupNotFound");
    // The request log marks PUT and DELETE as writes and the polls as reads.
    let log = emu.handle.requests();
    let arm_writes: Vec<_> = log
        .iter()
        .filter(|e| e.surface == comgmt_emulator::Surface::Arm && e.write)
        .map(|e| e.method.as_str())
        .collect();
    assert!(
        arm_writes.iter().all(|m| *m == "PUT" || *m == "DELETE"),
        "{arm_writes:?}"
    );
}

// Source: MicrosoftDocs/azure-docs:articles/azure-resource-manager/management/request-limits-and-throttling.md
// (429 with Retry-After; ARM error bodies carry `code`/`message` and the response the
// `x-ms-request-id` headers).
#[tokio::test]
async fn faults_on_arm_look_like_arm() {
    let emu = Emu::with(EmulatorConfig {
        faults: Some(FaultSpec::parse("rate=1,status=429,retry_after=2").unwrap()),
        ..EmulatorConfig::default()
    })
    .await;
    let t = arm_token(&emu, "https://management.azure.com/.default").await;
    let r = arm(&emu, &t, Method::GET, &format!("subscriptions?{V}"), None).await;
    arm_error(&r, 429, "TooManyRequests");
    assert_eq!(r.headers["retry-after"], "2");
    assert!(
        r.body["error"].get("innerError").is_none(),
        "not Graph's shape"
    );
    let g = emu.get("v1.0/organization").await;
    assert_eq!(g.status, 429);
    assert!(
        g.body["error"]["innerError"]["request-id"].is_string(),
        "Graph's shape"
    );
}
