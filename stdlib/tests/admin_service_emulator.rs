//! The AdminService client against the in-process emulator over real HTTP, through the
//! CMG route's Entra token for the server app: key lookups unwrapping the one-row
//! envelope, `$top`/`$skip` paging, errors, and a Graph token refused.

mod common;

use comgmt_emulator::Surface;
use comgmt_stdlib::cloud::{endpoints, Cloud, Endpoint};
use comgmt_stdlib::ErrorKind;
use common::Lab;
use serde_json::json;

/// Register the CMG server app (and its service principal) so the emulator issues
/// tokens for the AdminService's resource.
fn register_server_app(lab: &Lab, cloud: &Cloud) {
    let uri = endpoints::default_server_app_uri(lab.emu().tenant_id());
    lab.rt.block_on(async {
        let app = cloud
            .graph
            .post(
                "applications",
                &json!({"displayName": "ConfigMgr server", "identifierUris": [uri]}),
            )
            .await
            .unwrap();
        cloud
            .graph
            .post("servicePrincipals", &json!({"appId": app.body["appId"]}))
            .await
            .unwrap();
    });
}

#[test]
fn the_site_is_read_by_key_and_by_listing() {
    let lab = Lab::new();
    let cloud = lab.cloud(lab.config());
    register_server_app(&lab, &cloud);
    let admin = cloud.admin_service().unwrap();
    let sites = lab.rt.block_on(admin.list("wmi/SMS_Site", &[])).unwrap();
    assert!(!sites.is_empty());
    let code = sites[0]["SiteCode"].as_str().unwrap().to_string();
    let site = lab
        .rt
        .block_on(admin.get_opt(&format!("wmi/SMS_Site('{code}')")))
        .unwrap()
        .unwrap();
    assert_eq!(site["SiteCode"], code.as_str());
    let by_segment = lab
        .rt
        .block_on(admin.get_opt(&format!("wmi/SMS_Site/{code}")))
        .unwrap()
        .unwrap();
    assert_eq!(by_segment["SiteCode"], code.as_str());
    assert!(lab
        .rt
        .block_on(admin.get_opt("wmi/SMS_Site('ZZZ')"))
        .unwrap()
        .is_none());
    let filtered = lab
        .rt
        .block_on(admin.list(
            "wmi/SMS_Site",
            &[("$filter", &format!("SiteCode eq '{code}'"))],
        ))
        .unwrap();
    assert_eq!(filtered.len(), 1);
}

#[test]
fn admin_service_lists_page_with_top_and_skip_until_a_short_page() {
    let lab = Lab::new();
    let mut cloud = lab.cloud(lab.config());
    register_server_app(&lab, &cloud);
    let all = lab
        .rt
        .block_on(cloud.admin_service().unwrap().list("wmi/SMS_Site", &[]))
        .unwrap();
    assert!(!all.is_empty());
    if let Some(a) = cloud.admin_service.as_mut() {
        a.set_page_size(1);
    }
    let paged = lab
        .rt
        .block_on(cloud.admin_service().unwrap().list("wmi/SMS_Site", &[]))
        .unwrap();
    assert_eq!(paged, all);
    // One page per row, then the short (empty) page that ends it.
    let pages: Vec<String> = lab
        .emu()
        .requests()
        .into_iter()
        .filter(|r| {
            r.surface == Surface::AdminService
                && (r.path.ends_with("%24top=1") || r.path.contains("%24top=1&"))
        })
        .map(|r| r.path)
        .collect();
    assert_eq!(pages.len(), all.len() + 1, "{pages:?}");
    assert!(
        pages
            .last()
            .unwrap()
            .contains(&format!("%24skip={}", all.len())),
        "{pages:?}"
    );

    // A `$top` of the caller's is a limit: one request.
    let one = lab
        .rt
        .block_on(
            cloud
                .admin_service()
                .unwrap()
                .list("wmi/SMS_Site", &[("$top", "1")]),
        )
        .unwrap();
    assert_eq!(one.len(), 1);
}

#[test]
fn admin_service_errors_are_typed() {
    let lab = Lab::new();
    let cloud = lab.cloud(lab.config());
    let admin = cloud.admin_service().unwrap();
    // Before the server app exists, Entra issues no token for it.
    let err = lab
        .rt
        .block_on(admin.list("wmi/SMS_Site", &[]))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
    assert_eq!(err.remote_code.as_deref(), Some("invalid_resource"));
    register_server_app(&lab, &cloud);
    let err = lab
        .rt
        .block_on(admin.get("wmi/SMS_Site('ZZZ')", &[]))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.status, Some(404));
    assert!(err.request_id.is_some());
    assert!(
        err.message
            .starts_with("AdminService GET /AdminService/wmi/SMS_Site('ZZZ')"),
        "{}",
        err.message
    );
    let err = lab
        .rt
        .block_on(admin.list("wmi/SMS_Site", &[("$filter", "NoSuchProperty eq 1")]))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Validation, "{err:?}");
}

#[test]
fn the_admin_service_refuses_a_graph_token() {
    let lab = Lab::new();
    let mut config = lab.config();
    let root = config.admin_service.as_ref().unwrap().root.clone();
    config.admin_service = Some(Endpoint::bearer(root, endpoints::GRAPH_RESOURCE));
    let cloud = lab.cloud(config);
    let err = lab
        .rt
        .block_on(cloud.admin_service().unwrap().list("wmi/SMS_Site", &[]))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
    assert!(
        err.message
            .contains("(auth tried: an Entra bearer token for https://graph.microsoft.com"),
        "{}",
        err.message
    );
    assert!(err
        .hint
        .unwrap_or_default()
        .contains("admin_service_resource"));
}

#[test]
fn an_unreachable_admin_service_and_a_missing_server_app_say_so() {
    let lab = Lab::new();
    // Nothing listens here: the port of a socket just closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = lab.config();
    let resource = endpoints::default_server_app_uri(lab.emu().tenant_id());
    let root = url::Url::parse(&format!("http://127.0.0.1:{port}/AdminService/")).unwrap();
    config.admin_service = Some(Endpoint::bearer(root, &resource));
    config.retry.max_attempts = 1;
    let cloud = lab.cloud(config);
    register_server_app(&lab, &cloud);
    let err = lab
        .rt
        .block_on(cloud.admin_service().unwrap().list("wmi/SMS_Site", &[]))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transport, "{err:?}");
    assert!(
        err.message.contains(&format!(
            "the AdminService at http://127.0.0.1:{port}/AdminService/ is unreachable"
        )),
        "{}",
        err.message
    );
    // No server app yet: Entra cannot issue the token the AdminService takes.
    let fresh = Lab::new();
    let cloud = fresh.cloud(fresh.config());
    let err = fresh
        .rt
        .block_on(cloud.admin_service().unwrap().list("wmi/SMS_Site", &[]))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth, "{err:?}");
    assert!(
        err.message
            .contains("refused or could not get credentials (an Entra bearer token for api://"),
        "{}",
        err.message
    );
}
