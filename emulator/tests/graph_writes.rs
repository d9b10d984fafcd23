//! Writes Graph answers in a particular way: `Location` on 201, invalid object
//! identifiers, upsert by alternate key (atomic under concurrency).

mod common;

use common::{graph_error, Emu};
use reqwest::Method;
use serde_json::json;

const CREATE: &[(&str, &str)] = &[("Prefer", "create-if-missing")];

// Source: OData Version 4.01 Part 1: Protocol, 11.4.2 Create an Entity ("the response
// MUST contain a Location header that contains the edit URL or read URL of the created
// entity").
#[tokio::test]
async fn created_objects_have_a_location() {
    let emu = Emu::start().await;
    let r = emu
        .post("v1.0/applications", json!({"displayName": "loc"}))
        .await;
    assert_eq!(r.status, 201);
    let id = r.body["id"].as_str().unwrap().to_string();
    let app_id = r.body["appId"].as_str().unwrap().to_string();
    let location = r.headers["location"].to_str().unwrap().to_string();
    assert_eq!(location, emu.url(&format!("v1.0/applications/{id}")));
    let got = emu.call_with(Method::GET, &location, None, &[]).await;
    assert_eq!(got.body["id"], id.as_str());
    let r = emu
        .post("v1.0/servicePrincipals", json!({"appId": app_id}))
        .await;
    let sp_id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        r.headers["location"].to_str().unwrap(),
        emu.url(&format!("v1.0/servicePrincipals/{sp_id}"))
    );
    let graph = emu.graph_sp().await;
    let graph_id = graph["id"].as_str().unwrap();
    let r = emu
        .post(
            "v1.0/oauth2PermissionGrants",
            json!({"clientId": sp_id, "consentType": "AllPrincipals", "resourceId": graph_id, "scope": "User.Read"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let grant = r.body["id"].as_str().unwrap();
    assert_eq!(
        r.headers["location"].to_str().unwrap(),
        emu.url(&format!("v1.0/oauth2PermissionGrants/{grant}"))
    );
    let r = emu
        .post(
            &format!("v1.0/servicePrincipals/{graph_id}/appRoleAssignedTo"),
            json!({"principalId": sp_id, "resourceId": graph_id, "appRoleId": "7ab1d382-f21e-4acd-a863-ba3e13f7da61"}),
        )
        .await;
    let a = r.body["id"].as_str().unwrap();
    assert_eq!(
        r.headers["location"].to_str().unwrap(),
        emu.url(&format!(
            "v1.0/servicePrincipals/{graph_id}/appRoleAssignedTo/{a}"
        ))
    );
}

// Graph checks an object id's form before looking it up: "Invalid object identifier"
// (Request_BadRequest), as reproduced by microsoftgraph/entra-powershell's mocks of
// Get-EntraBetaPolicy ("Code: Request_BadRequest Message: Invalid object identifier").
#[tokio::test]
async fn malformed_keys_are_bad_requests() {
    let emu = Emu::start().await;
    for path in [
        "v1.0/applications(appId='x')",
        "v1.0/applications/not-a-guid",
        "v1.0/servicePrincipals(appId='nope')",
        "v1.0/servicePrincipals/123",
    ] {
        let msg = graph_error(&emu.get(path).await, 400, "Request_BadRequest");
        assert!(
            msg.starts_with("Invalid object identifier '"),
            "{path}: {msg}"
        );
    }
    graph_error(
        &emu.get("v1.0/applications(displayName='x')").await,
        400,
        "BadRequest",
    );
    // A well-formed id that names nothing is still a 404.
    graph_error(
        &emu.get("v1.0/applications(appId='00000000-0000-0000-0000-00000000000a')")
            .await,
        404,
        "Request_ResourceNotFound",
    );
}

// Source: microsoftgraph/microsoft-graph-docs-contrib:api-reference/v1.0/api/application-upsert.md
// (201 with the object when missing and `Prefer: create-if-missing` is sent; 404
// without it; 204 when it exists) and the application resource ("uniqueName ...
// alternate key. Immutable.").
#[tokio::test]
async fn applications_upsert_by_unique_name() {
    let emu = Emu::start().await;
    let path = "v1.0/applications(uniqueName='cmg-server-app')";
    let url = emu.url(path);
    graph_error(
        &emu.patch(path, json!({"displayName": "Server"})).await,
        404,
        "Request_ResourceNotFound",
    );
    let r = emu
        .call_with(
            Method::PATCH,
            &url,
            Some(json!({"displayName": "Server"})),
            CREATE,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["uniqueName"], "cmg-server-app");
    assert_eq!(r.body["displayName"], "Server");
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        r.headers["location"].to_str().unwrap(),
        emu.url(&format!("v1.0/applications/{id}"))
    );
    let r = emu
        .call_with(
            Method::PATCH,
            &url,
            Some(json!({"displayName": "Server 2"})),
            CREATE,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let got = emu.get(path).await;
    assert_eq!(
        (got.body["id"].as_str(), got.body["displayName"].as_str()),
        (Some(id.as_str()), Some("Server 2"))
    );
    // Immutable: neither a PATCH by id nor an upsert body may change it.
    graph_error(
        &emu.patch(
            &format!("v1.0/applications/{id}"),
            json!({"uniqueName": "other"}),
        )
        .await,
        400,
        "Request_BadRequest",
    );
    graph_error(
        &emu.call_with(
            Method::PATCH,
            &emu.url("v1.0/applications(uniqueName='fresh')"),
            Some(json!({"displayName": "x", "uniqueName": "different"})),
            CREATE,
        )
        .await,
        400,
        "Request_BadRequest",
    );
    // Unique in the tenant.
    graph_error(
        &emu.post(
            "v1.0/applications",
            json!({"displayName": "dup", "uniqueName": "CMG-server-app"}),
        )
        .await,
        400,
        "Request_BadRequest",
    );
    // Creation validates like POST.
    graph_error(
        &emu.call_with(
            Method::PATCH,
            &emu.url("v1.0/applications(uniqueName='bad')"),
            Some(json!({"displayName": ""})),
            CREATE,
        )
        .await,
        400,
        "Request_BadRequest",
    );
}

// Source: microsoftgraph/microsoft-graph-docs-contrib:api-reference/v1.0/api/serviceprincipal-upsert.md
#[tokio::test]
async fn service_principals_upsert_by_app_id() {
    let emu = Emu::start().await;
    let app = emu.app(json!({"displayName": "sp upsert"})).await;
    let url = emu.url(&format!(
        "v1.0/servicePrincipals(appId='{}')",
        app["appId"].as_str().unwrap()
    ));
    let r = emu
        .call_with(Method::PATCH, &url, Some(json!({"notes": "first"})), &[])
        .await;
    graph_error(&r, 404, "Request_ResourceNotFound");
    let r = emu
        .call_with(Method::PATCH, &url, Some(json!({"notes": "first"})), CREATE)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["appId"], app["appId"]);
    assert_eq!(r.body["displayName"], "sp upsert");
    let r = emu
        .call_with(
            Method::PATCH,
            &url,
            Some(json!({"notes": "second"})),
            CREATE,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let got = emu.call_with(Method::GET, &url, None, &[]).await;
    assert_eq!(got.body["notes"], "second");
    // appId is not an upsert key of applications.
    let r = emu
        .call_with(
            Method::PATCH,
            &emu.url("v1.0/applications(appId='00000000-0000-0000-0000-00000000000b')"),
            Some(json!({"displayName": "x"})),
            CREATE,
        )
        .await;
    graph_error(&r, 404, "Request_ResourceNotFound");
}

/// Eight clients upserting the same key at once make one object: the lookup and the
/// write are one transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_upserts_make_one_object() {
    let emu = Emu::start().await;
    let url = emu.url("v1.0/applications(uniqueName='race')");
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(8));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (http, url, token, start) = (
                emu.http.clone(),
                url.clone(),
                emu.token.clone(),
                start.clone(),
            );
            tokio::spawn(async move {
                start.wait().await;
                let r = http
                    .patch(&url)
                    .bearer_auth(token)
                    .header("Prefer", "create-if-missing")
                    .json(&json!({"displayName": format!("race {i}")}))
                    .send()
                    .await
                    .expect("send");
                r.status().as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    statuses.sort();
    assert_eq!(statuses, [201, 204, 204, 204, 204, 204, 204, 204]);
    let r = emu
        .get("v1.0/applications?$filter=uniqueName eq 'race'")
        .await;
    assert_eq!(r.body["value"].as_array().map(Vec::len), Some(1));
}
