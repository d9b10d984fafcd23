//! The AdminService skeleton: Entra tokens for a registered application (as through a
//! CMG), the `wmi/` envelope, key lookups, OData options, case-insensitive names.

mod common;

use comgmt_emulator::{EmulatorConfig, FaultSpec};
use common::{into_resp, server_app, Emu, Resp};
use serde_json::json;

/// A token for the CMG server app's identifier URI, as a client reaching the AdminService
/// through the CMG gets one.
async fn adminservice_token(emu: &Emu) -> String {
    let app = emu.app(server_app(emu.handle.tenant_id())).await;
    // Entra issues tokens only for resources with a service principal in the tenant.
    emu.sp(app["appId"].as_str().unwrap()).await;
    let uri = app["identifierUris"][0].as_str().unwrap();
    emu.app_token("cm-client", &format!("{uri}/.default")).await
}

async fn get(emu: &Emu, token: &str, path: &str) -> Resp {
    into_resp(
        emu.http
            .get(emu.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await
}

// Source: MicrosoftDocs/memdocs:memdocs/configmgr/develop/adminservice/overview.md (the
// AdminService takes Entra tokens when reached through a CMG).
#[tokio::test]
async fn takes_tokens_for_a_registered_application_only() {
    let emu = Emu::start().await;
    let r = into_resp(
        emu.http
            .get(emu.url("AdminService/wmi/SMS_Site"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"]["code"], "401");
    let challenges: Vec<&str> = r
        .headers
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(challenges, ["Bearer", "Negotiate"]);
    // A Graph token is not an AdminService token.
    assert_eq!(
        get(&emu, &emu.token, "AdminService/wmi/SMS_Site")
            .await
            .status,
        401
    );
    let token = adminservice_token(&emu).await;
    let r = get(&emu, &token, "AdminService/wmi/SMS_Site").await;
    assert_eq!(r.status, 200, "{}", r.text);
    // ...and an AdminService token is refused by Graph and ARM.
    let g = get(&emu, &token, "v1.0/organization").await;
    assert_eq!(
        (g.status.as_u16(), g.body["error"]["code"].as_str()),
        (401, Some("InvalidAuthenticationToken"))
    );
    let a = get(&emu, &token, "subscriptions?api-version=2022-12-01").await;
    assert_eq!(
        (a.status.as_u16(), a.body["error"]["code"].as_str()),
        (401, Some("InvalidAuthenticationTokenAudience"))
    );
}

// Source: MicrosoftDocs/memdocs adminservice/usage.md and public scripts
// (microsoft/configmgr-hub samples/CommonFunctions.ps1): the `{"@odata.context": ".../AdminService/wmi/$metadata#SMS_Site", "value":
// [...]}` envelope, also for key lookups; both key forms; 404 for a missing key; class
// names in any case on input, the documented spelling in answers.
#[tokio::test]
async fn sms_site_collection_and_key_lookups() {
    let emu = Emu::start().await;
    let token = adminservice_token(&emu).await;
    let context = emu.url("AdminService/wmi/$metadata#SMS_Site");
    let r = get(&emu, &token, "AdminService/wmi/SMS_Site").await;
    assert_eq!(r.body["@odata.context"], context);
    assert_eq!(r.body["value"][0]["SiteCode"], "ABC");
    for path in [
        "AdminService/wmi/SMS_Site('ABC')",
        "adminservice/wmi/sms_site('abc')",
        "AdminService/WMI/SMS_SITE/ABC",
    ] {
        let r = get(&emu, &token, path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert_eq!(r.body["@odata.context"], context, "{path}");
        assert_eq!(r.body["value"].as_array().map(Vec::len), Some(1), "{path}");
    }
    let r = get(&emu, &token, "AdminService/wmi/SMS_Site('XYZ')").await;
    assert_eq!(
        (r.status.as_u16(), r.body["error"]["code"].as_str()),
        (404, Some("404"))
    );
    let r = get(&emu, &token, "AdminService/wmi/SMS_NoSuchClass").await;
    assert_eq!(r.status, 404);
    let r = get(&emu, &token, "AdminService/v1.0/Device").await;
    assert_eq!(r.status, 404);
}

// Source: MicrosoftDocs/memdocs:memdocs/configmgr/develop/adminservice/usage.md
// (`$filter=startswith(Name,'All') eq true`); public scripts (`$top`/`$skip` paging,
// `%27`-encoded filter values).
#[tokio::test]
async fn odata_options_through_the_shared_engine() {
    let emu = Emu::start().await;
    let token = adminservice_token(&emu).await;
    let one = |r: &Resp| r.body["value"].as_array().map(Vec::len);
    let r = get(
        &emu,
        &token,
        "AdminService/wmi/SMS_Site?$filter=SiteCode+eq+%27ABC%27",
    )
    .await;
    assert_eq!(one(&r), Some(1), "{}", r.text);
    let r = get(
        &emu,
        &token,
        "AdminService/wmi/SMS_Site?$filter=startswith(SiteName,'Comgmt') eq true",
    )
    .await;
    assert_eq!(one(&r), Some(1), "{}", r.text);
    let r = get(
        &emu,
        &token,
        "AdminService/wmi/SMS_Site?$filter=SiteCode ne 'ABC'",
    )
    .await;
    assert_eq!(one(&r), Some(0), "no advanced-query rules here: {}", r.text);
    let r = get(
        &emu,
        &token,
        "AdminService/wmi/SMS_Site?$select=SiteCode,Version",
    )
    .await;
    // Every row carries its etag, `$select` or not (OData annotations are not
    // properties).
    assert_eq!(
        r.body["value"][0],
        json!({"@odata.etag": "W/\"1\"", "SiteCode": "ABC", "Version": r.body["value"][0]["Version"].clone()})
    );
    let r = get(&emu, &token, "AdminService/wmi/SMS_Site?$top=1&$skip=1").await;
    assert_eq!(one(&r), Some(0));
    let r = get(&emu, &token, "AdminService/wmi/SMS_Site?$filter=Nope eq 1").await;
    assert_eq!(
        (r.status.as_u16(), r.body["error"]["code"].as_str()),
        (400, Some("400"))
    );
    let r = get(&emu, &token, "AdminService/wmi/SMS_Site?$top=x").await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn faults_on_the_adminservice_use_its_error_shape() {
    let emu = Emu::with(EmulatorConfig {
        faults: Some(FaultSpec::parse("rate=1,status=503,retry_after=3").unwrap()),
        ..EmulatorConfig::default()
    })
    .await;
    // Faults come before the token check: no token is needed to see one.
    let r = into_resp(
        emu.http
            .get(emu.url("AdminService/wmi/SMS_Site"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 503);
    assert_eq!(r.body["error"]["code"], "503");
    assert_eq!(r.headers["retry-after"], "3");
    assert!(r.body["error"].get("innerError").is_none());
}
