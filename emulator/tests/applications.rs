//! `/applications` over HTTP: CRUD, keys, paging, OData options, validation, secrets,
//! and the requests Microsoft's SDKs send.

mod common;

use common::{graph_error, server_app, Emu};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashSet;

#[tokio::test]
async fn create_get_patch_delete() {
    let emu = Emu::start().await;
    let app = emu.app(json!({"displayName": "Plain app"})).await;
    let id = app["id"].as_str().unwrap().to_string();
    let app_id = app["appId"].as_str().unwrap().to_string();
    assert!(app["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("v1.0/$metadata#applications/$entity"));
    assert_eq!(app["publisherDomain"], "comgmtlab.onmicrosoft.com");
    assert_eq!(app["signInAudience"], "AzureADMyOrg");
    assert_eq!(app["identifierUris"], json!([]));
    assert_eq!(app["isFallbackPublicClient"], Value::Null);
    assert_eq!(
        app["web"],
        json!({"homePageUrl": null, "logoutUrl": null, "redirectUris": [], "redirectUriSettings": [],
               "implicitGrantSettings": {"enableIdTokenIssuance": false, "enableAccessTokenIssuance": false}})
    );
    assert_eq!(app["publicClient"], json!({"redirectUris": []}));
    assert_eq!(app["api"]["requestedAccessTokenVersion"], Value::Null);
    assert_eq!(app["api"]["oauth2PermissionScopes"], json!([]));
    assert_eq!(app["passwordCredentials"], json!([]));
    assert_eq!(app["requiredResourceAccess"], json!([]));
    assert!(app["createdDateTime"].as_str().unwrap().ends_with('Z'));

    let got = emu.get(&format!("v1.0/applications/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["displayName"], "Plain app");
    let by_app_id = emu
        .get(&format!("v1.0/applications(appId='{app_id}')"))
        .await;
    assert_eq!(by_app_id.body["id"], id.as_str());
    let beta = emu.get(&format!("beta/applications/{id}")).await;
    assert!(beta.body["@odata.context"]
        .as_str()
        .unwrap()
        .contains("/beta/$metadata#applications"));

    let r = emu
        .patch(
            &format!("v1.0/applications(appId='{app_id}')"),
            json!({"displayName": "Renamed", "isFallbackPublicClient": true, "publicClient": {"redirectUris": [format!("ms-appx-web://Microsoft.AAD.BrokerPlugin/{app_id}")]}}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let got = emu.get(&format!("v1.0/applications/{id}")).await.body;
    assert_eq!(got["displayName"], "Renamed");
    assert_eq!(got["isFallbackPublicClient"], true);
    assert_eq!(
        got["publicClient"]["redirectUris"][0],
        format!("ms-appx-web://Microsoft.AAD.BrokerPlugin/{app_id}")
    );
    assert_eq!(
        got["appId"],
        app_id.as_str(),
        "PATCH leaves other properties alone"
    );

    assert_eq!(
        emu.delete(&format!("v1.0/applications/{id}")).await.status,
        204
    );
    let r = emu.get(&format!("v1.0/applications/{id}")).await;
    let msg = graph_error(&r, 404, "Request_ResourceNotFound");
    assert_eq!(msg, format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."));
    graph_error(
        &emu.delete(&format!("v1.0/applications/{id}")).await,
        404,
        "Request_ResourceNotFound",
    );
}

#[tokio::test]
async fn request_validation_errors() {
    let emu = Emu::start().await;
    let r = emu
        .post(
            "v1.0/applications",
            json!({"displayName": "x", "colour": "red"}),
        )
        .await;
    let msg = graph_error(&r, 400, "BadRequest");
    assert!(
        msg.starts_with("Property 'colour' does not exist on type 'microsoft.graph.application'."),
        "{msg}"
    );
    let r = emu
        .post(
            "v1.0/applications",
            json!({"displayName": "x", "web": {"homepage": "x"}}),
        )
        .await;
    assert!(graph_error(&r, 400, "BadRequest").contains("microsoft.graph.webApplication"));
    let r = emu
        .post(
            "v1.0/applications",
            json!({"signInAudience": "AzureADMyOrg"}),
        )
        .await;
    assert!(graph_error(&r, 400, "Request_BadRequest").contains("'displayName'"));
    let r = emu
        .post(
            "v1.0/applications",
            json!({"displayName": "x", "isFallbackPublicClient": "yes"}),
        )
        .await;
    graph_error(&r, 400, "BadRequest");
    let r = emu
        .call_with(
            Method::POST,
            &emu.url("v1.0/applications"),
            None,
            &[("content-type", "application/json")],
        )
        .await;
    graph_error(&r, 400, "BadRequest");
    let r = emu
        .http
        .post(emu.url("v1.0/applications"))
        .bearer_auth(&emu.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    graph_error(&common::into_resp(r).await, 400, "BadRequest");
    let r = emu
        .post(
            "v1.0/applications",
            json!({"displayName": "x", "passwordCredentials": [{"displayName": "s"}]}),
        )
        .await;
    graph_error(&r, 400, "Request_BadRequest");
    let r = emu.get("v1.0/nothingHere").await;
    graph_error(&r, 400, "BadRequest");
    let r = emu
        .patch(
            "v1.0/applications/11111111-1111-1111-1111-111111111111",
            json!({"displayName": "x"}),
        )
        .await;
    graph_error(&r, 404, "Request_ResourceNotFound");
    // A PATCH with an unknown property changes nothing.
    let app = emu.app(json!({"displayName": "keep"})).await;
    let id = app["id"].as_str().unwrap();
    let r = emu
        .patch(
            &format!("v1.0/applications/{id}"),
            json!({"displayName": "changed", "bogus": 1}),
        )
        .await;
    graph_error(&r, 400, "BadRequest");
    assert_eq!(
        emu.get(&format!("v1.0/applications/{id}")).await.body["displayName"],
        "keep"
    );
    let r = emu
        .patch(
            &format!("v1.0/applications/{id}"),
            json!({"appId": "11111111-1111-1111-1111-111111111111"}),
        )
        .await;
    graph_error(&r, 400, "Request_BadRequest");
}

#[tokio::test]
async fn identifier_uris_are_unique_and_secure() {
    let emu = Emu::start().await;
    let tid = emu.handle.tenant_id().to_string();
    let first = emu.app(server_app(&tid)).await;
    assert_eq!(
        first["identifierUris"][0],
        format!("api://{tid}/ConfigMgrService")
    );
    assert_eq!(
        first["api"]["oauth2PermissionScopes"][0]["origin"],
        "Application"
    );

    let mut dup = server_app(&tid);
    dup["displayName"] = json!("second");
    dup["api"] = json!({});
    let r = emu.post("v1.0/applications", dup).await;
    assert_eq!(
        graph_error(&r, 400, "Request_BadRequest"),
        "Another object with the same value for property identifierUris already exists."
    );

    let r = emu
        .post(
            "v1.0/applications",
            json!({"displayName": "legacy", "identifierUris": ["https://ConfigMgrService"]}),
        )
        .await;
    assert_eq!(
        graph_error(&r, 400, "Request_BadRequest"),
        "Failed to add identifier URI https://ConfigMgrService. All newly added URIs must contain a tenant verified domain, tenant ID, or app ID, as per the default tenant policy of your organization. See https://aka.ms/identifier-uri-addition-error for more information on this error."
    );
    // v2.0-token apps are exempt; api://{appId} needs the appId, so it is a PATCH.
    let r = emu
        .post("v1.0/applications", json!({"displayName": "v2", "identifierUris": ["https://ConfigMgrService"], "api": {"requestedAccessTokenVersion": 2}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let app = emu.app(json!({"displayName": "appid uri"})).await;
    let (id, app_id) = (app["id"].as_str().unwrap(), app["appId"].as_str().unwrap());
    let r = emu
        .patch(
            &format!("v1.0/applications/{id}"),
            json!({"identifierUris": [format!("api://{app_id}")]}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = emu
        .patch(
            &format!("v1.0/applications/{id}"),
            json!({"identifierUris": ["https://comgmtlab.onmicrosoft.com/cmg"]}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = emu
        .patch(
            &format!("v1.0/applications/{id}"),
            json!({"identifierUris": ["not a uri"]}),
        )
        .await;
    graph_error(&r, 400, "Request_BadRequest");
}

#[tokio::test]
async fn scopes_follow_entra_rules() {
    let emu = Emu::start().await;
    let tid = emu.handle.tenant_id().to_string();
    let app = emu.app(server_app(&tid)).await;
    let id = app["id"].as_str().unwrap();
    let mut bad = server_app(&tid);
    bad["identifierUris"] = json!([]);
    bad["api"]["oauth2PermissionScopes"][0]["value"] = json!("has space");
    graph_error(
        &emu.post("v1.0/applications", bad).await,
        400,
        "Request_BadRequest",
    );
    // An enabled scope cannot be removed; disabling first works.
    let r = emu
        .patch(
            &format!("v1.0/applications/{id}"),
            json!({"api": {"oauth2PermissionScopes": []}}),
        )
        .await;
    assert!(graph_error(&r, 400, "Request_BadRequest").contains("unless disabled first"));
    let mut scopes = app["api"]["oauth2PermissionScopes"].clone();
    scopes[0]["isEnabled"] = json!(false);
    let r = emu
        .patch(
            &format!("v1.0/applications/{id}"),
            json!({"api": {"oauth2PermissionScopes": scopes}}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = emu
        .patch(
            &format!("v1.0/applications/{id}"),
            json!({"api": {"oauth2PermissionScopes": []}}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
}

#[tokio::test]
async fn two_hundred_fifty_apps_page_exactly_once() {
    let emu = Emu::start().await;
    let mut ids = HashSet::new();
    for i in 0..250 {
        let app = emu
            .app(json!({"displayName": format!("bulk-{i:03}")}))
            .await;
        ids.insert(app["id"].as_str().unwrap().to_string());
    }
    let (items, pages) = emu.list_all("v1.0/applications?$top=100").await;
    assert_eq!(pages, 3);
    assert_eq!(items.len(), 250);
    let seen: HashSet<String> = items
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(seen, ids);

    let first = emu.get("v1.0/applications?$top=100").await.body;
    let next = first["@odata.nextLink"].as_str().unwrap();
    assert!(next.starts_with(&emu.url("v1.0/applications?")), "{next}");
    assert!(next.contains("$skiptoken="), "{next}");
    assert_eq!(first["value"].as_array().unwrap().len(), 100);
    // Default page size is 100, too.
    assert_eq!(
        emu.get("v1.0/applications").await.body["value"]
            .as_array()
            .unwrap()
            .len(),
        100
    );

    let eventual = [("ConsistencyLevel", "eventual")];
    let r = emu
        .call_with(
            Method::GET,
            &emu.url("v1.0/applications?$count=true&$top=5"),
            None,
            &eventual,
        )
        .await;
    assert_eq!(r.body["@odata.count"], 250);
    let r = emu
        .call_with(
            Method::GET,
            &emu.url("v1.0/applications/$count"),
            None,
            &eventual,
        )
        .await;
    assert_eq!((r.status.as_u16(), r.text.as_str()), (200, "250"));
    let r = emu
        .call_with(
            Method::GET,
            &emu.url("v1.0/applications/$count?$filter=startswith(displayName,'bulk-1')"),
            None,
            &eventual,
        )
        .await;
    assert_eq!(r.text, "100");
    // Without the header `$count=true` is silently ignored: 200, no `@odata.count`.
    // Source: microsoftgraph/microsoft-graph-docs-contrib:concepts/aad-advanced-queries.md
    // ("Error handling for advanced queries": "silently ignores the $count query
    // parameter (?$count=true) if it's used").
    let r = emu.get("v1.0/applications?$count=true&$top=1").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.body.get("@odata.count").is_none(),
        "no count without the header"
    );
    assert_eq!(r.body["value"].as_array().map(Vec::len), Some(1));
    graph_error(
        &emu.get("v1.0/applications?$top=1000").await,
        400,
        "Request_BadRequest",
    );
    graph_error(
        &emu.get("v1.0/applications?$top=0").await,
        400,
        "Request_BadRequest",
    );
    assert_eq!(
        emu.get("v1.0/applications?$top=999").await.body["value"]
            .as_array()
            .unwrap()
            .len(),
        250
    );
    // Filtered pages carry the filter in their nextLinks.
    let (items, pages) = emu
        .list_all("v1.0/applications?$filter=startswith(displayName,'bulk-2')&$top=20")
        .await;
    assert_eq!((items.len(), pages), (50, 3));
}

#[tokio::test]
async fn filter_and_select_forms() {
    let emu = Emu::start().await;
    let tid = emu.handle.tenant_id().to_string();
    let server = emu.app(server_app(&tid)).await;
    let other = emu.app(json!({"displayName": "Cloud Management native client app", "isFallbackPublicClient": true})).await;
    let count = |r: &common::Resp| r.body["value"].as_array().map(Vec::len).unwrap_or(99);

    let app_id = server["appId"].as_str().unwrap();
    let r = emu
        .get(&format!("v1.0/applications?$filter=appId eq '{app_id}'"))
        .await;
    assert_eq!(
        (count(&r), r.body["value"][0]["id"].clone()),
        (1, server["id"].clone())
    );
    let r = emu
        .get("v1.0/applications?$filter=displayName eq 'Cloud Management native client app'")
        .await;
    assert_eq!(r.body["value"][0]["id"], other["id"]);
    let r = emu
        .get("v1.0/applications?$filter=startswith(displayName,'Cloud Management')")
        .await;
    assert_eq!(count(&r), 2);
    let r = emu
        .get(&format!(
            "v1.0/applications?$filter=identifierUris/any(x:x eq 'api://{tid}/ConfigMgrService')"
        ))
        .await;
    assert_eq!(
        (count(&r), r.body["value"][0]["id"].clone()),
        (1, server["id"].clone())
    );
    let r = emu
        .get("v1.0/applications?$filter=identifierUris/any(x:x eq 'api://nobody')")
        .await;
    assert_eq!(count(&r), 0);

    let r = emu
        .get(&format!(
            "v1.0/applications?$filter=appId eq '{app_id}'&$select=id,appId,identifierUris"
        ))
        .await;
    let item = r.body["value"][0].as_object().unwrap();
    let keys: HashSet<&str> = item.keys().map(String::as_str).collect();
    assert_eq!(keys, HashSet::from(["id", "appId", "identifierUris"]));
    assert!(r.body["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("#applications(id,appId,identifierUris)"));
    let r = emu
        .get(&format!(
            "v1.0/applications/{}?$select=displayName",
            server["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(r.body.as_object().unwrap().len(), 2, "{}", r.text);

    graph_error(
        &emu.get("v1.0/applications?$select=nope").await,
        400,
        "BadRequest",
    );
    graph_error(
        &emu.get("v1.0/applications?$filter=displayName eq").await,
        400,
        "BadRequest",
    );
    graph_error(
        &emu.get("v1.0/applications?$filter=nope eq 'x'").await,
        400,
        "BadRequest",
    );
    graph_error(
        &emu.get("v1.0/applications?$orderby=displayName").await,
        400,
        "Request_UnsupportedQuery",
    );
}

#[tokio::test]
async fn add_password_returns_secret_once() {
    let emu = Emu::start().await;
    let app = emu.app(json!({"displayName": "secret app"})).await;
    let (id, app_id) = (app["id"].as_str().unwrap(), app["appId"].as_str().unwrap());
    let r = emu
        .post(&format!("v1.0/applications/{id}/addPassword"), json!({"passwordCredential": {"displayName": "ConfigMgr", "endDateTime": "2030-01-01T00:00:00Z"}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let secret = r.body["secretText"].as_str().unwrap();
    assert_eq!(secret.len(), 40);
    assert_eq!(r.body["hint"].as_str().unwrap(), &secret[..3]);
    assert_eq!(r.body["displayName"], "ConfigMgr");
    assert_eq!(r.body["endDateTime"], "2030-01-01T00:00:00Z");
    assert!(r.body["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("$metadata#microsoft.graph.passwordCredential"));
    let key_id = r.body["keyId"].as_str().unwrap().to_string();

    let r2 = emu
        .post(
            &format!("v1.0/applications(appId='{app_id}')/addPassword"),
            json!({}),
        )
        .await;
    assert_eq!(r2.status, 200);
    let start = time::OffsetDateTime::parse(
        r2.body["startDateTime"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let end = time::OffsetDateTime::parse(
        r2.body["endDateTime"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(
        (end - start).whole_days(),
        730,
        "default lifetime is two years"
    );

    for path in [
        format!("v1.0/applications/{id}"),
        "v1.0/applications".to_string(),
    ] {
        let r = emu.get(&path).await;
        assert!(!r.text.contains(secret), "GET never returns the secret");
        assert!(!r.text.contains("_secretHash"));
    }
    let got = emu.get(&format!("v1.0/applications/{id}")).await.body;
    assert_eq!(got["passwordCredentials"].as_array().unwrap().len(), 2);
    assert_eq!(got["passwordCredentials"][0]["secretText"], Value::Null);
    assert_eq!(
        got["passwordCredentials"][0]["hint"].as_str().unwrap(),
        &secret[..3]
    );

    // Echoing the credentials back in a PATCH is fine; changing them is not.
    let r = emu
        .patch(
            &format!("v1.0/applications/{id}"),
            json!({"passwordCredentials": got["passwordCredentials"]}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = emu
        .patch(
            &format!("v1.0/applications/{id}"),
            json!({"passwordCredentials": []}),
        )
        .await;
    graph_error(&r, 400, "Request_BadRequest");

    let r = emu
        .post(
            &format!("v1.0/applications/{id}/removePassword"),
            json!({"keyId": key_id}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let got = emu.get(&format!("v1.0/applications/{id}")).await.body;
    assert_eq!(got["passwordCredentials"].as_array().unwrap().len(), 1);
    graph_error(
        &emu.post(
            &format!("v1.0/applications/{id}/addPassword"),
            json!({"bogus": 1}),
        )
        .await,
        400,
        "BadRequest",
    );
}

/// What the Microsoft Graph SDKs send: charset in Content-Type, SdkVersion and
/// client-request-id headers, encoded `$` in query keys, comma lists in `$select`.
#[tokio::test]
async fn requests_shaped_like_microsoft_sdks() {
    let emu = Emu::start().await;
    let crid = "6d6e1d5b-3f7e-4b8e-9a55-0a1b2c3d4e5f";
    let r = emu
        .http
        .post(emu.url("v1.0/applications"))
        .bearer_auth(&emu.token)
        .header("Content-Type", "application/json; charset=utf-8")
        .header("SdkVersion", "graph-dotnet/5.56.0")
        .header("client-request-id", crid)
        .header("Accept", "application/json")
        .body(r##"{"@odata.type":"#microsoft.graph.application","displayName":"sdk app"}"##)
        .send()
        .await
        .unwrap();
    let r = common::into_resp(r).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.headers["client-request-id"], crid);
    assert!(r.headers.contains_key("request-id"));
    let app_id = r.body["appId"].as_str().unwrap().to_string();

    let url = emu.url(&format!("v1.0/applications?%24filter=appId%20eq%20%27{app_id}%27&%24select=id%2CappId%2CdisplayName&%24top=10"));
    let r = emu
        .call_with(
            Method::GET,
            &url,
            None,
            &[
                ("client-request-id", crid),
                ("SdkVersion", "graph-python/1.0"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["value"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["value"][0].as_object().unwrap().len(), 3);
    assert_eq!(r.headers["client-request-id"], crid);

    // Errors echo the client-request-id inside the body too.
    let r = emu
        .call_with(
            Method::GET,
            &emu.url("v1.0/applications/none"),
            None,
            &[("client-request-id", crid)],
        )
        .await;
    assert_eq!(r.body["error"]["innerError"]["client-request-id"], crid);

    // Encoded key segment, as URL builders produce.
    let r = emu
        .get(&format!("v1.0/applications(appId=%27{app_id}%27)"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}
