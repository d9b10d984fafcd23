//! Graph's query rules on directory collections: advanced queries, `$count`, paging
//! links, `$orderby`, `$search`, `$expand=owners`.

mod common;

use common::{graph_error, Emu, Resp};
use reqwest::Method;
use serde_json::{json, Value};

const EVENTUAL: &[(&str, &str)] = &[("ConsistencyLevel", "eventual")];

async fn get_with(emu: &Emu, path: &str, headers: &[(&str, &str)]) -> Resp {
    emu.call_with(Method::GET, &emu.url(path), None, headers)
        .await
}

fn names(r: &Resp) -> Vec<String> {
    r.body["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["displayName"].as_str().map(str::to_string))
        .collect()
}

async fn apps(emu: &Emu, names: &[&str]) {
    for n in names {
        emu.app(json!({"displayName": n})).await;
    }
}

// Source: microsoftgraph/microsoft-graph-docs-contrib:concepts/aad-advanced-queries.md
// ("The not and ne negation operators are supported only with advanced query
// parameters"; advanced query parameters are the ConsistencyLevel header *and*
// $count=true).
#[tokio::test]
async fn negations_need_the_advanced_query_parameters() {
    let emu = Emu::start().await;
    apps(&emu, &["neg-a", "neg-b"]).await;
    for filter in [
        "displayName ne 'neg-a' and startswith(displayName,'neg-')",
        "not(displayName eq 'neg-a') and startswith(displayName,'neg-')",
    ] {
        let path = format!("v1.0/applications?$filter={filter}");
        let msg = graph_error(&emu.get(&path).await, 400, "Request_UnsupportedQuery");
        assert!(msg.contains("ConsistencyLevel:eventual"), "{msg}");
        // The header alone is not enough; $count=true alone neither.
        graph_error(
            &get_with(&emu, &path, EVENTUAL).await,
            400,
            "Request_UnsupportedQuery",
        );
        graph_error(
            &emu.get(&format!("{path}&$count=true")).await,
            400,
            "Request_UnsupportedQuery",
        );
        let r = get_with(&emu, &format!("{path}&$count=true"), EVENTUAL).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(names(&r), vec!["neg-b"]);
        assert_eq!(r.body["@odata.count"], 1);
    }
}

// Source: microsoftgraph/microsoft-graph-docs-contrib:concepts/aad-advanced-queries.md
// ("The endsWith operator is supported only with advanced query parameters by mail,
// otherMails, userPrincipalName, and proxyAddresses properties" — user properties;
// the error bodies for a missing parameter and an unindexed property are quoted from
// its "Error handling" section). Application and servicePrincipal properties list no
// endsWith or contains (their resource pages' "Supports $filter" notes).
#[tokio::test]
async fn ends_with_and_contains_are_refused_on_applications() {
    let emu = Emu::start().await;
    for set in ["applications", "servicePrincipals"] {
        for (f, op) in [
            ("endsWith(displayName,'x')", "endsWith"),
            ("contains(displayName,'x')", "contains"),
        ] {
            let msg = graph_error(
                &emu.get(&format!("v1.0/{set}?$filter={f}")).await,
                400,
                "Request_UnsupportedQuery",
            );
            assert!(
                msg.starts_with(&format!("Operator '{op}' is not supported")),
                "{msg}"
            );
            let msg = graph_error(
                &get_with(
                    &emu,
                    &format!("v1.0/{set}?$filter={f}&$count=true"),
                    EVENTUAL,
                )
                .await,
                400,
                "Request_UnsupportedQuery",
            );
            assert!(
                msg.starts_with(
                    "Unsupported or invalid query filter clause specified for property 'displayName' of resource"
                ),
                "{msg}"
            );
        }
    }
    // Inside a lambda the property is the collection's.
    let msg = graph_error(
        &get_with(
            &emu,
            "v1.0/applications?$filter=identifierUris/any(u:endswith(u,'x'))&$count=true",
            EVENTUAL,
        )
        .await,
        400,
        "Request_UnsupportedQuery",
    );
    assert!(msg.contains("'identifierUris'"), "{msg}");
}

// Source: microsoftgraph/microsoft-graph-docs-contrib:concepts/aad-advanced-queries.md
// ("If the ConsistencyLevel=eventual header is not specified, the request returns an
// error when the $count URL segment is used": 400 Request_BadRequest "$count is not
// currently supported.").
#[tokio::test]
async fn the_count_segment_needs_the_header() {
    let emu = Emu::start().await;
    apps(&emu, &["cnt-1", "cnt-2"]).await;
    let msg = graph_error(
        &emu.get("v1.0/servicePrincipals/$count").await,
        400,
        "Request_BadRequest",
    );
    assert_eq!(msg, "$count is not currently supported.");
    let r = get_with(
        &emu,
        "v1.0/applications/$count?$filter=startswith(displayName,'cnt-')",
        EVENTUAL,
    )
    .await;
    assert_eq!((r.status.as_u16(), r.text.as_str()), (200, "2"));
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let r = get_with(
        &emu,
        "v1.0/applications/$count?$search=\"displayName:cnt\"",
        EVENTUAL,
    )
    .await;
    assert_eq!(r.text, "2");
}

// Source: microsoftgraph/microsoft-graph-docs-contrib:concepts/paging.md (follow
// @odata.nextLink as is; the count comes on the first page) and
// concepts/aad-advanced-queries.md ("Support for sorting": displayName, advanced only).
#[tokio::test]
async fn next_links_keep_every_option_and_sorting_needs_advanced_queries() {
    let emu = Emu::start().await;
    apps(&emu, &["srt-c", "srt-a", "srt-e", "srt-b", "srt-d"]).await;
    graph_error(
        &emu.get("v1.0/applications?$orderby=displayName").await,
        400,
        "Request_UnsupportedQuery",
    );
    graph_error(
        &get_with(
            &emu,
            "v1.0/applications?$orderby=appId&$count=true",
            EVENTUAL,
        )
        .await,
        400,
        "Request_UnsupportedQuery",
    );
    let first = "v1.0/applications?$filter=startswith(displayName,'srt-')&$orderby=displayName desc&$select=id,displayName&$count=true&$top=2";
    let mut r = get_with(&emu, first, EVENTUAL).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["@odata.count"], 5);
    let mut seen = names(&r);
    let mut pages = 1;
    while let Some(next) = r.body["@odata.nextLink"].as_str().map(str::to_string) {
        for option in [
            "$filter=",
            "$orderby=",
            "$select=",
            "$count=true",
            "$top=2",
            "$skiptoken=",
        ] {
            assert!(next.contains(option), "{option} kept in {next}");
        }
        r = emu.call_with(Method::GET, &next, None, EVENTUAL).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(
            r.body.get("@odata.count").is_none(),
            "count on the first page only"
        );
        let keys: Vec<&String> = r.body["value"][0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["displayName", "id"], "$select kept");
        seen.extend(names(&r));
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["srt-e", "srt-d", "srt-c", "srt-b", "srt-a"]);
    // $search keeps in links too.
    let r = get_with(
        &emu,
        "v1.0/applications?$search=\"displayName:srt\"&$top=4",
        EVENTUAL,
    )
    .await;
    let next = r.body["@odata.nextLink"].as_str().unwrap().to_string();
    assert!(next.contains("$search="), "{next}");
    let r = emu.call_with(Method::GET, &next, None, EVENTUAL).await;
    assert_eq!(names(&r).len(), 1);
}

// Source: microsoftgraph/microsoft-graph-docs-contrib:concepts/aad-advanced-queries.md
// ("For directory objects, $search works only in advanced queries. If the
// ConsistencyLevel header is not specified, the request returns an error", with the
// message quoted there) and concepts/search-query-parameter.md (directory objects:
// tokenized `"property:value"` search).
#[tokio::test]
async fn search_needs_the_header_and_matches_words() {
    let emu = Emu::start().await;
    apps(&emu, &["Contoso Browser", "Fabrikam browser-app", "Other"]).await;
    let msg = graph_error(
        &emu.get("v1.0/applications?$search=\"displayName:browser\"")
            .await,
        400,
        "Request_UnsupportedQuery",
    );
    assert_eq!(msg, "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'");
    let r = get_with(
        &emu,
        "v1.0/applications?$search=\"displayName:brow\"",
        EVENTUAL,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(names(&r), ["Contoso Browser", "Fabrikam browser-app"]);
    let r = get_with(
        &emu,
        "v1.0/servicePrincipals?$search=\"displayName:microsoft\"&$count=true",
        EVENTUAL,
    )
    .await;
    assert_eq!(names(&r), ["Microsoft Graph"]);
    assert_eq!(r.body["@odata.count"], 1);
    graph_error(
        &get_with(&emu, "v1.0/applications?$search=displayName:x", EVENTUAL).await,
        400,
        "BadRequest",
    );
    graph_error(
        &get_with(&emu, "v1.0/applications?$search=\"appId:x\"", EVENTUAL).await,
        400,
        "Request_UnsupportedQuery",
    );
}

// Source: microsoftgraph/microsoft-graph-docs-contrib:api-reference/v1.0/api/application-post-owners.md,
// application-list-owners.md; concepts/aad-advanced-queries.md ("$expand is not
// currently supported with advanced queries").
#[tokio::test]
async fn owners_and_expand() {
    let emu = Emu::start().await;
    let app = emu.app(json!({"displayName": "owned"})).await;
    let id = app["id"].as_str().unwrap();
    let r = emu
        .get(&format!("v1.0/applications/{id}?$expand=owners"))
        .await;
    assert_eq!(
        r.body["owners"],
        json!([]),
        "an app-only creator is not an owner"
    );
    let graph = emu.graph_sp().await;
    let owner_ref = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{}", graph["id"].as_str().unwrap())});
    let r = emu
        .post(
            &format!("v1.0/applications/{id}/owners/$ref"),
            owner_ref.clone(),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    graph_error(
        &emu.post(&format!("v1.0/applications/{id}/owners/$ref"), owner_ref)
            .await,
        400,
        "Request_BadRequest",
    );
    let r = emu
        .get("v1.0/applications?$expand=owners&$filter=displayName eq 'owned'")
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let owners = &r.body["value"][0]["owners"];
    assert_eq!(owners[0]["id"], graph["id"]);
    assert_eq!(
        owners[0]["@odata.type"],
        "#microsoft.graph.servicePrincipal"
    );
    let r = emu.get(&format!("v1.0/applications/{id}/owners")).await;
    assert_eq!(r.body["value"].as_array().map(Vec::len), Some(1));
    let r = emu
        .get("v1.0/servicePrincipals?$expand=owners&$top=1")
        .await;
    assert_eq!(r.body["value"][0]["owners"], json!([]));
    graph_error(
        &get_with(
            &emu,
            "v1.0/applications?$expand=owners&$count=true",
            EVENTUAL,
        )
        .await,
        400,
        "Request_UnsupportedQuery",
    );
    graph_error(
        &emu.get("v1.0/applications?$expand=nope").await,
        400,
        "BadRequest",
    );
    let r = emu
        .delete(&format!(
            "v1.0/applications/{id}/owners/{}/$ref",
            graph["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = emu.get(&format!("v1.0/applications/{id}/owners")).await;
    assert_eq!(r.body["value"], json!([]));
}

#[tokio::test]
async fn value_shapes_stay_graphs() {
    // A plain list still has no count and the usual context.
    let emu = Emu::start().await;
    let r = emu.get("v1.0/servicePrincipals?$top=1").await;
    assert_eq!(r.status, 200);
    assert!(r.body.get("@odata.count").is_none());
    assert_eq!(
        r.body["@odata.context"],
        Value::String(emu.url("v1.0/$metadata#servicePrincipals"))
    );
}
