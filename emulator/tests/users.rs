//! Graph `/users`: the seeded population, paging, lookups by id and userPrincipalName,
//! the default property set, delta, and the app-role check.
//! Sources: microsoftgraph/microsoft-graph-docs-contrib:api-reference/v1.0/api/user-list.md,
//! user-get.md, user-delta.md, concepts/paging.md.

mod common;

use common::{app_with_secret, grant_graph_role, graph_error, server_app, Emu, DIRECTORY_READ_ALL};
use reqwest::Method;
use serde_json::Value;

/// An emulator whose test token is a registered app's, holding Directory.Read.All.
async fn as_reader() -> Emu {
    let mut emu = Emu::start().await;
    let (app, sp, secret) = app_with_secret(&emu, server_app(emu.handle.tenant_id())).await;
    grant_graph_role(&emu, &sp, DIRECTORY_READ_ALL).await;
    emu.token = emu
        .client_token(app["appId"].as_str().unwrap(), &secret)
        .await;
    emu
}

#[tokio::test]
async fn an_app_without_a_role_that_reads_users_is_refused() {
    let emu = Emu::start().await;
    let r = emu.get("v1.0/users").await;
    graph_error(&r, 403, "Authorization_RequestDenied");
}

#[tokio::test]
async fn lists_page_by_page_with_the_default_properties() {
    let emu = as_reader().await;
    let (all, pages) = emu.list_all("v1.0/users?$top=10").await;
    assert_eq!((all.len(), pages), (25, 3));
    let first = &all[0];
    assert!(first.get("userPrincipalName").is_some());
    assert!(
        first.get("onPremisesSamAccountName").is_none(),
        "not in the default set: {first}"
    );
    let mut ids: Vec<&str> = all.iter().filter_map(|u| u["id"].as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 25);

    let (sel, _) = emu
        .list_all("v1.0/users?$select=id,onPremisesSamAccountName,onPremisesDomainName&$top=999")
        .await;
    let synced: Vec<&Value> = sel
        .iter()
        .filter(|u| u["onPremisesDomainName"] == "comgmtlab.local")
        .collect();
    assert_eq!(synced.len(), 12);
    assert!(sel[0].get("displayName").is_none());
}

#[tokio::test]
async fn finds_a_user_by_id_or_user_principal_name() {
    let emu = as_reader().await;
    let upn = "admin@comgmtlab.onmicrosoft.com";
    let by_upn = emu.get(&format!("v1.0/users/{upn}")).await;
    assert_eq!(by_upn.status, 200, "{}", by_upn.text);
    let id = by_upn.body["id"].as_str().unwrap().to_string();
    let by_id = emu.get(&format!("v1.0/users/{id}")).await;
    assert_eq!(by_id.body["userPrincipalName"], upn);
    let quoted = emu
        .get(&format!("v1.0/users('{}')", upn.to_uppercase()))
        .await;
    assert_eq!(quoted.body["id"], id.as_str());
    let r = emu.get("v1.0/users/nobody@comgmtlab.onmicrosoft.com").await;
    graph_error(&r, 404, "Request_ResourceNotFound");
    let r = emu
        .get("v1.0/users?$filter=userPrincipalName eq 'admin@comgmtlab.onmicrosoft.com'")
        .await;
    assert_eq!(r.body["value"].as_array().map(Vec::len), Some(1));
    let r = emu.delete(&format!("v1.0/users/{id}")).await;
    graph_error(&r, 405, "Request_BadRequest");
}

#[tokio::test]
async fn counts_with_the_advanced_query_header() {
    let emu = as_reader().await;
    let url = emu.url("v1.0/users/$count");
    let r = emu
        .call_with(Method::GET, &url, None, &[("ConsistencyLevel", "eventual")])
        .await;
    assert_eq!((r.status.as_u16(), r.text.as_str()), (200, "25"));
    let url = emu.url("v1.0/users?$count=true&$top=5");
    let r = emu
        .call_with(Method::GET, &url, None, &[("ConsistencyLevel", "eventual")])
        .await;
    assert_eq!(r.body["@odata.count"], 25);
}

#[tokio::test]
async fn delta_pages_to_a_delta_link_then_reports_no_changes() {
    let emu = as_reader().await;
    let mut next = Some(emu.url("v1.0/users/delta?$select=id,userPrincipalName"));
    let mut seen = 0;
    let mut delta_link = None;
    while let Some(url) = next.take() {
        let r = emu.call_with(Method::GET, &url, None, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        seen += r.body["value"].as_array().map_or(0, Vec::len);
        next = r.body["@odata.nextLink"].as_str().map(str::to_string);
        delta_link = r.body["@odata.deltaLink"].as_str().map(str::to_string);
    }
    assert_eq!(seen, 25);
    let link = delta_link.expect("the last page carries @odata.deltaLink");
    assert!(link.contains("$select=id,userPrincipalName"), "{link}");
    let r = emu.call_with(Method::GET, &link, None, &[]).await;
    assert_eq!(r.body["value"], Value::Array(vec![]));
    assert!(r.body["@odata.deltaLink"].is_string());
}
