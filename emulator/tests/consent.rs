//! Service principals, app role assignments and delegated grants (admin consent), and
//! the seeded Microsoft Graph service principal.

mod common;

use common::{graph_error, server_app, Emu};
use reqwest::Method;
use serde_json::{json, Value};

const GRAPH: &str = "00000003-0000-0000-c000-000000000000";
const DIRECTORY_READ_ALL_ROLE: &str = "7ab1d382-f21e-4acd-a863-ba3e13f7da61";

#[tokio::test]
async fn graph_service_principal_is_seeded_with_real_ids() {
    let emu = Emu::start().await;
    let sp = emu.graph_sp().await;
    assert_eq!(sp["appId"], GRAPH);
    assert_eq!(sp["displayName"], "Microsoft Graph");
    let role = |v: &str| {
        sp["appRoles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["value"] == v)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let scope = |v: &str| {
        sp["oauth2PermissionScopes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["value"] == v)
            .cloned()
            .unwrap_or(Value::Null)
    };
    for (v, id) in [
        ("Directory.Read.All", DIRECTORY_READ_ALL_ROLE),
        ("User.Read.All", "df021288-bdef-4463-88db-98f22de89214"),
        (
            "Application.ReadWrite.All",
            "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
        ),
        (
            "Application.ReadWrite.OwnedBy",
            "18a4783c-866b-4cc7-a460-3d5e5662c884",
        ),
        (
            "AppRoleAssignment.ReadWrite.All",
            "06b708a9-e830-4db3-a914-8e69da51d44f",
        ),
        ("Group.Read.All", "5b567255-7703-4780-807c-7be8301ae99b"),
        (
            "DeviceManagementApps.ReadWrite.All",
            "78145de6-330d-4800-a6ce-494ff2d33d07",
        ),
    ] {
        let r = role(v);
        assert_eq!(r["id"], id, "{v}");
        assert_eq!(
            (
                r["allowedMemberTypes"].clone(),
                r["isEnabled"].clone(),
                r["origin"].clone()
            ),
            (json!(["Application"]), json!(true), json!("Application"))
        );
        assert!(r["description"].is_string() && r["displayName"].is_string());
    }
    for (v, id) in [
        ("User.Read", "e1fe6dd8-ba31-4d61-89e7-88639da4683d"),
        ("Directory.Read.All", "06da0dbc-49e2-44d2-8312-53f166ab848a"),
        ("openid", "37f7f235-527c-4136-accd-4a02d197296e"),
        ("profile", "14dad69e-099b-42c9-810b-d002981feec1"),
        ("offline_access", "7427e0e9-2fba-42fe-b0c0-848c9e6a8182"),
    ] {
        let s = scope(v);
        assert_eq!(s["id"], id, "{v}");
        assert!(matches!(s["type"].as_str(), Some("User" | "Admin")));
        for k in [
            "adminConsentDescription",
            "adminConsentDisplayName",
            "userConsentDescription",
            "userConsentDisplayName",
        ] {
            assert!(s[k].is_string(), "{v}.{k}");
        }
    }
    // The form clients use to resolve ids at run time.
    let r = emu
        .get(&format!("v1.0/servicePrincipals?$filter=appId eq '{GRAPH}'&$select=id,appRoles,oauth2PermissionScopes"))
        .await;
    assert_eq!(r.body["value"][0]["id"], sp["id"]);
    assert_eq!(r.body["value"][0].as_object().unwrap().len(), 3);
    let r = emu
        .get("v1.0/servicePrincipals?$filter=displayName eq 'Microsoft Graph'")
        .await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn service_principal_copies_the_application() {
    let emu = Emu::start().await;
    let tid = emu.handle.tenant_id().to_string();
    let app = emu.app(server_app(&tid)).await;
    let app_id = app["appId"].as_str().unwrap();
    let sp = emu.sp(app_id).await;
    assert!(sp["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("#servicePrincipals/$entity"));
    assert_eq!(sp["appId"], app_id);
    assert_eq!(sp["displayName"], "Cloud Management web app");
    assert_eq!(sp["appDisplayName"], "Cloud Management web app");
    assert_eq!(sp["appOwnerOrganizationId"], tid.as_str());
    assert_eq!(sp["servicePrincipalType"], "Application");
    assert_eq!(sp["accountEnabled"], true);
    assert_eq!(
        sp["oauth2PermissionScopes"],
        app["api"]["oauth2PermissionScopes"]
    );
    let names = sp["servicePrincipalNames"].as_array().unwrap();
    assert!(
        names.contains(&json!(app_id))
            && names.contains(&json!(format!("api://{tid}/ConfigMgrService")))
    );

    let r = emu
        .post("v1.0/servicePrincipals", json!({"appId": app_id}))
        .await;
    let msg = graph_error(&r, 409, "Request_MultipleObjectsWithSameKeyValue");
    assert!(msg.contains(app_id), "{msg}");
    let r = emu
        .post(
            "v1.0/servicePrincipals",
            json!({"appId": "11111111-1111-1111-1111-111111111111"}),
        )
        .await;
    graph_error(&r, 400, "Request_BadRequest");
    let r = emu.post("v1.0/servicePrincipals", json!({})).await;
    graph_error(&r, 400, "Request_BadRequest");
    let r = emu
        .post(
            "v1.0/servicePrincipals",
            json!({"appId": app_id, "colour": 1}),
        )
        .await;
    graph_error(&r, 400, "BadRequest");

    let by_app_id = emu
        .get(&format!("v1.0/servicePrincipals(appId='{app_id}')"))
        .await;
    assert_eq!(by_app_id.body["id"], sp["id"]);
    let r = emu
        .get(&format!(
            "v1.0/servicePrincipals?$filter=appId eq '{app_id}'"
        ))
        .await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 1);

    // A new scope on the application shows on its service principal.
    let mut scopes = app["api"]["oauth2PermissionScopes"]
        .as_array()
        .unwrap()
        .clone();
    scopes.push(json!({"id": "0b5a6b1c-2d3e-4f50-8a9b-0c1d2e3f4a5b", "value": "extra", "type": "Admin", "isEnabled": true,
                       "adminConsentDisplayName": "x", "adminConsentDescription": "x"}));
    let r = emu
        .patch(
            &format!("v1.0/applications/{}", app["id"].as_str().unwrap()),
            json!({"api": {"oauth2PermissionScopes": scopes}}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let sp2 = emu
        .get(&format!(
            "v1.0/servicePrincipals/{}",
            sp["id"].as_str().unwrap()
        ))
        .await
        .body;
    assert_eq!(sp2["oauth2PermissionScopes"].as_array().unwrap().len(), 2);

    let r = emu
        .patch(
            &format!("v1.0/servicePrincipals/{}", sp["id"].as_str().unwrap()),
            json!({"appRoleAssignmentRequired": true}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);

    // Deleting the application removes its service principal.
    assert_eq!(
        emu.delete(&format!(
            "v1.0/applications/{}",
            app["id"].as_str().unwrap()
        ))
        .await
        .status,
        204
    );
    graph_error(
        &emu.get(&format!(
            "v1.0/servicePrincipals/{}",
            sp["id"].as_str().unwrap()
        ))
        .await,
        404,
        "Request_ResourceNotFound",
    );
}

#[tokio::test]
async fn app_role_assignments_are_validated() {
    let emu = Emu::start().await;
    let tid = emu.handle.tenant_id().to_string();
    let graph = emu.graph_sp().await;
    let graph_id = graph["id"].as_str().unwrap().to_string();
    let app = emu.app(server_app(&tid)).await;
    let sp = emu.sp(app["appId"].as_str().unwrap()).await;
    let sp_id = sp["id"].as_str().unwrap().to_string();
    let path = format!("v1.0/servicePrincipals/{graph_id}/appRoleAssignedTo");
    let body =
        json!({"principalId": sp_id, "resourceId": graph_id, "appRoleId": DIRECTORY_READ_ALL_ROLE});

    let r = emu.post(&path, body.clone()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.body["id"].is_string() && r.body["createdDateTime"].is_string());
    assert_eq!(r.body["principalDisplayName"], "Cloud Management web app");
    assert_eq!(r.body["principalType"], "ServicePrincipal");
    assert_eq!(r.body["resourceDisplayName"], "Microsoft Graph");
    assert_eq!(r.body["appRoleId"], DIRECTORY_READ_ALL_ROLE);
    let assignment_id = r.body["id"].as_str().unwrap().to_string();

    let r = emu.post(&path, body.clone()).await;
    assert_eq!(
        graph_error(&r, 400, "Request_BadRequest"),
        "Permission being assigned already exists on the object"
    );
    let mut wrong = body.clone();
    wrong["appRoleId"] = json!("e1fe6dd8-ba31-4d61-89e7-88639da4683d"); // a scope id, not a role
    graph_error(&emu.post(&path, wrong).await, 400, "Request_BadRequest");
    let mut wrong = body.clone();
    wrong["resourceId"] = json!(sp_id);
    graph_error(&emu.post(&path, wrong).await, 400, "Request_BadRequest");
    let mut wrong = body.clone();
    wrong["principalId"] = json!("11111111-1111-1111-1111-111111111111");
    graph_error(
        &emu.post(&path, wrong).await,
        404,
        "Request_ResourceNotFound",
    );
    graph_error(
        &emu.post(&path, json!({"principalId": sp_id})).await,
        400,
        "Request_BadRequest",
    );

    let list = emu.get(&path).await;
    assert_eq!(list.body["value"].as_array().unwrap().len(), 1);
    let mine = emu
        .get(&format!(
            "v1.0/servicePrincipals/{sp_id}/appRoleAssignments"
        ))
        .await;
    assert_eq!(mine.body["value"][0]["id"], assignment_id.as_str());
    let r = emu
        .get(&format!("{path}?$filter=principalId eq {sp_id}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    assert_eq!(
        emu.delete(&format!("{path}/{assignment_id}")).await.status,
        204
    );
    assert_eq!(
        emu.get(&path).await.body["value"].as_array().unwrap().len(),
        0
    );
    graph_error(
        &emu.delete(&format!("{path}/{assignment_id}")).await,
        404,
        "Request_ResourceNotFound",
    );
    // Assigning through the principal's side works too.
    let r = emu
        .post(
            &format!("v1.0/servicePrincipals/{sp_id}/appRoleAssignments"),
            body,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[tokio::test]
async fn oauth2_permission_grants_are_validated() {
    let emu = Emu::start().await;
    let tid = emu.handle.tenant_id().to_string();
    let graph_id = emu.graph_sp().await["id"].as_str().unwrap().to_string();
    let server = emu.app(server_app(&tid)).await;
    let server_sp = emu.sp(server["appId"].as_str().unwrap()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let client = emu.app(json!({"displayName": "Cloud Management native client app", "isFallbackPublicClient": true})).await;
    let client_app_id = client["appId"].as_str().unwrap().to_string();
    let client_sp = emu.sp(&client_app_id).await["id"]
        .as_str()
        .unwrap()
        .to_string();

    let grant = json!({"clientId": client_sp, "consentType": "AllPrincipals", "resourceId": server_sp, "scope": "user_impersonation"});
    let r = emu.post("v1.0/oauth2PermissionGrants", grant.clone()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["principalId"], Value::Null);
    let grant_id = r.body["id"].as_str().unwrap().to_string();
    graph_error(
        &emu.post("v1.0/oauth2PermissionGrants", grant.clone()).await,
        409,
        "Request_MultipleObjectsWithSameKeyValue",
    );

    let r = emu
        .post("v1.0/oauth2PermissionGrants", json!({"clientId": client_sp, "consentType": "AllPrincipals", "resourceId": graph_id, "scope": "User.Read openid"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    // Undeclared scope, app ids instead of object ids, bad consent types.
    let bad = [
        json!({"clientId": client_sp, "consentType": "AllPrincipals", "resourceId": graph_id, "scope": "User.Read Made.Up"}),
        json!({"clientId": client_app_id, "consentType": "AllPrincipals", "resourceId": server_sp, "scope": "user_impersonation"}),
        json!({"clientId": client_sp, "consentType": "AllPrincipals", "resourceId": server["appId"], "scope": "user_impersonation"}),
        json!({"clientId": client_sp, "consentType": "Everyone", "resourceId": server_sp, "scope": "user_impersonation"}),
        json!({"clientId": client_sp, "consentType": "AllPrincipals", "principalId": client_sp, "resourceId": server_sp, "scope": "user_impersonation"}),
        json!({"clientId": client_sp, "consentType": "Principal", "resourceId": server_sp, "scope": "user_impersonation"}),
    ];
    for b in bad {
        let r = emu.post("v1.0/oauth2PermissionGrants", b.clone()).await;
        graph_error(&r, 400, "Request_BadRequest");
    }
    let r = emu.post("v1.0/oauth2PermissionGrants", json!({"clientId": client_sp, "consentType": "AllPrincipals", "resourceId": graph_id, "scope": "Made.Up"})).await;
    assert!(graph_error(&r, 400, "Request_BadRequest").contains("Made.Up"));

    let r = emu
        .get(&format!("v1.0/oauth2PermissionGrants?$filter=clientId eq '{client_sp}' and consentType eq 'AllPrincipals'"))
        .await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 2);
    let r = emu
        .get(&format!("v1.0/oauth2PermissionGrants?$filter=clientId eq '{client_sp}' and resourceId eq '{server_sp}'"))
        .await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["value"][0]["id"], grant_id.as_str());

    let path = format!("v1.0/oauth2PermissionGrants/{grant_id}");
    graph_error(
        &emu.patch(&path, json!({"scope": "user_impersonation nope"}))
            .await,
        400,
        "Request_BadRequest",
    );
    assert_eq!(emu.patch(&path, json!({"scope": " "})).await.status, 204);
    assert_eq!(
        emu.patch(&path, json!({"scope": "user_impersonation"}))
            .await
            .status,
        204
    );
    graph_error(
        &emu.patch(&path, json!({"clientId": server_sp})).await,
        400,
        "Request_BadRequest",
    );
    assert_eq!(emu.get(&path).await.body["scope"], "user_impersonation");
    assert_eq!(emu.call(Method::DELETE, &path, None).await.status, 204);
    graph_error(&emu.get(&path).await, 404, "Request_ResourceNotFound");
}

#[tokio::test]
async fn organization_lists_the_tenant() {
    let emu = Emu::start().await;
    let r = emu.get("v1.0/organization").await;
    assert_eq!(r.status, 200);
    let org = &r.body["value"][0];
    assert_eq!(org["id"], emu.handle.tenant_id());
    assert_eq!(
        org["verifiedDomains"][0]["name"],
        "comgmtlab.onmicrosoft.com"
    );
    assert_eq!(org["verifiedDomains"][0]["isInitial"], true);
    assert_eq!(org["verifiedDomains"][0]["isDefault"], true);
    assert_eq!(org["verifiedDomains"][0]["type"], "Managed");
    let r = emu
        .get(&format!(
            "v1.0/organization/{}?$select=id,verifiedDomains",
            emu.handle.tenant_id()
        ))
        .await;
    assert_eq!(r.body.as_object().unwrap().len(), 3, "{}", r.text);
    graph_error(
        &emu.post("v1.0/organization", json!({})).await,
        405,
        "Request_BadRequest",
    );
}
