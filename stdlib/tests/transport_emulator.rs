//! The cloud transport against an in-process emulator over real HTTP: the three token
//! flows, paging, retry on throttling, and typed errors.

use base64::Engine as _;
mod common;

use comgmt_emulator::{EmulatorConfig, FaultSpec};
use comgmt_stdlib::cloud::{Cloud, Credential, RetryPolicy};
use comgmt_stdlib::{ErrorKind, Secret};
use common::Lab;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[test]
fn client_secret_token_reaches_graph() {
    let lab = Lab::new();
    let cloud = lab.cloud(lab.config());
    let orgs = lab
        .rt
        .block_on(cloud.graph.list("organization", &[]))
        .unwrap();
    assert_eq!(orgs.len(), 1);
}

#[test]
fn a_wrong_secret_for_a_registered_app_is_an_auth_error_with_a_hint() {
    let lab = Lab::new();
    let cloud = lab.cloud(lab.config());
    let app = lab
        .rt
        .block_on(
            cloud
                .graph
                .post("applications", &json!({"displayName": "automation"})),
        )
        .unwrap()
        .body;
    let app_id = app["appId"].as_str().unwrap().to_string();
    lab.rt
        .block_on(cloud.graph.post(
            &format!("applications/{}/addPassword", app["id"].as_str().unwrap()),
            &json!({"passwordCredential": {"displayName": "x"}}),
        ))
        .unwrap();
    let mut config = lab.config();
    config.credential = Credential::ClientSecret {
        client_id: app_id.clone(),
        secret: Secret::new("not-the-secret"),
    };
    let other = lab.cloud(config);
    let err = lab
        .rt
        .block_on(other.graph.list("organization", &[]))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
    assert_eq!(err.remote_code.as_deref(), Some("invalid_client"));
    assert!(err.message.contains("AADSTS"), "{}", err.message);
    assert!(err.hint.unwrap().contains(&app_id));
    assert!(!err.message.contains("not-the-secret"));
}

#[test]
fn device_code_shows_the_code_and_gets_a_token() {
    let lab = Lab::new();
    let shown = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = shown.clone();
    let mut config = lab.config();
    config.credential = Credential::DeviceCode {
        client_id: "04b07795-8ddb-461a-bbee-02f9e1bf7b46".into(),
        notify: Arc::new(move |m: &str| sink.lock().unwrap().push(m.to_string())),
    };
    let cloud = lab.cloud(config);
    lab.rt
        .block_on(cloud.graph.list("organization", &[]))
        .unwrap();
    let shown = shown.lock().unwrap();
    assert_eq!(shown.len(), 1, "one sign-in prompt for all calls");
    assert!(shown[0].contains("code"), "{}", shown[0]);
}

#[test]
fn client_certificate_assertion_is_accepted_for_the_registered_certificate() {
    let lab = Lab::new();
    // A key and self-signed certificate, registered on an app as a key credential.
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["automation.contoso.com".into()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2025, 1, 1);
    params.not_after = rcgen::date_time_ymd(2035, 1, 1);
    let cert = params.self_signed(&key).unwrap();
    let admin = lab.cloud(lab.config());
    let app = lab
        .rt
        .block_on(admin.graph.post(
            "applications",
            &json!({
                "displayName": "automation",
                "keyCredentials": [{
                    "type": "AsymmetricX509Cert",
                    "usage": "Verify",
                    "key": base64::engine::general_purpose::STANDARD.encode(cert.der()),
                }],
            }),
        ))
        .unwrap()
        .body;
    let dir = tempfile::tempdir().unwrap();
    let pfx = dir.path().join("automation.pfx");
    let chain = p12_keystore::PrivateKeyChain::new(
        b"k".as_slice(),
        p12_keystore::PrivateKey::from_der(&key.serialize_der()).unwrap(),
        vec![p12_keystore::Certificate::from_der(cert.der()).unwrap()],
    );
    let mut store = p12_keystore::KeyStore::new();
    store.add_entry(
        "automation",
        p12_keystore::KeyStoreEntry::PrivateKeyChain(chain),
    );
    std::fs::write(&pfx, store.writer("pfx-pass").write().unwrap()).unwrap();

    let mut config = lab.config();
    config.credential = Credential::ClientCertificate {
        client_id: app["appId"].as_str().unwrap().into(),
        pfx: pfx.clone(),
        password: Secret::new("pfx-pass"),
    };
    let cloud = lab.cloud(config);
    lab.rt
        .block_on(cloud.graph.list("organization", &[]))
        .unwrap();

    // The wrong PFX password is an auth error that says so.
    let mut config = lab.config();
    config.credential = Credential::ClientCertificate {
        client_id: app["appId"].as_str().unwrap().into(),
        pfx,
        password: Secret::new("nope"),
    };
    let err = lab
        .rt
        .block_on(lab.cloud(config).graph.list("organization", &[]))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
    assert!(err.message.contains("wrong password"), "{}", err.message);
}

#[test]
fn paging_reads_250_applications_exactly_once() {
    let lab = Lab::new();
    let cloud = lab.cloud(lab.config());
    lab.rt.block_on(async {
        for i in 0..250 {
            cloud
                .graph
                .post(
                    "applications",
                    &json!({"displayName": format!("app-{i:03}")}),
                )
                .await
                .unwrap();
        }
    });
    let apps = lab
        .rt
        .block_on(cloud.graph.list(
            "applications",
            &[("$top", "100"), ("$select", "id,displayName")],
        ))
        .unwrap();
    assert_eq!(apps.len(), 250);
    let mut names: Vec<&str> = apps
        .iter()
        .map(|a| a["displayName"].as_str().unwrap())
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 250);
}

#[test]
fn throttling_is_retried_and_then_reported_as_throttled() {
    // Every Graph request throttled: the client retries, then gives up with a typed error.
    let lab = Lab::start(EmulatorConfig {
        faults: Some(FaultSpec::parse("rate=1.0,status=429,retry_after=0").unwrap()),
        ..EmulatorConfig::default()
    });
    let mut config = lab.config();
    config.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        deadline: Duration::from_secs(5),
    };
    let cloud = lab.cloud(config);
    let err = lab
        .rt
        .block_on(
            cloud
                .graph
                .post("applications", &json!({"displayName": "x"})),
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Throttled);
    assert_eq!(err.status, Some(429));
    assert!(err.request_id.is_some());

    // Half the requests throttled: every call still succeeds, and nothing is duplicated.
    let lab = Lab::start(EmulatorConfig {
        faults: Some(FaultSpec::parse("rate=0.5,status=503,retry_after=0,seed=7").unwrap()),
        ..EmulatorConfig::default()
    });
    let cloud = lab.cloud(lab.config());
    lab.rt.block_on(async {
        for i in 0..20 {
            cloud
                .graph
                .post("applications", &json!({"displayName": format!("t-{i}")}))
                .await
                .unwrap();
        }
    });
    let apps = lab
        .rt
        .block_on(cloud.graph.list("applications", &[]))
        .unwrap();
    assert_eq!(apps.len(), 20);
}

#[test]
fn not_found_is_typed_and_get_opt_maps_it_to_none() {
    let lab = Lab::new();
    let cloud = lab.cloud(lab.config());
    let missing = "applications/00000000-0000-0000-0000-000000000001";
    let err = lab.rt.block_on(cloud.graph.get(missing, &[])).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.remote_code.as_deref(), Some("Request_ResourceNotFound"));
    assert!(err.request_id.is_some());
    assert!(lab
        .rt
        .block_on(cloud.graph.get_opt(missing, &[]))
        .unwrap()
        .is_none());
}

#[test]
fn discovery_finds_the_emulators_tenant() {
    let lab = Lab::new();
    let emu = lab.emu();
    let base = url::Url::parse(emu.url()).unwrap();
    let tid = lab
        .rt
        .block_on(comgmt_stdlib::cloud::discovery::discover_tenant(&base, &[]))
        .unwrap();
    assert_eq!(tid, emu.tenant_id());

    // Nothing listening: a transport error that names the URL, quickly.
    let nowhere = url::Url::parse("http://127.0.0.1:1/").unwrap();
    let err = lab
        .rt
        .block_on(comgmt_stdlib::cloud::discovery::discover_tenant(
            &nowhere,
            &[],
        ))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transport);
    assert!(err.message.contains("127.0.0.1:1"), "{}", err.message);
}

#[test]
fn a_write_with_extra_headers_reports_its_status() {
    let lab = Lab::new();
    let cloud = lab.cloud(lab.config());
    let app = lab
        .rt
        .block_on(
            cloud
                .graph
                .post("applications", &json!({"displayName": "headers"})),
        )
        .unwrap();
    assert_eq!(app.status, 201);
    let id = app.body["id"].as_str().unwrap();
    let r = lab
        .rt
        .block_on(cloud.graph.patch_with(
            &format!("applications/{id}"),
            &json!({"notes": "patched"}),
            &[("Prefer", "create-if-missing")],
        ))
        .unwrap();
    assert_eq!(r.status, 204);
    assert!(r.request_id.is_some());
    let back = lab
        .rt
        .block_on(cloud.graph.get(&format!("applications/{id}"), &[]))
        .unwrap();
    assert_eq!(back.body["notes"], "patched");
}

#[test]
fn an_admin_service_set_to_negotiate_fails_saying_so_before_sending() {
    use comgmt_stdlib::cloud::{Endpoint, EndpointAuth, NEGOTIATE_UNSUPPORTED};
    let lab = Lab::new();
    let mut config = lab.config();
    let root = config.admin_service.as_ref().unwrap().root.clone();
    config.admin_service = Some(Endpoint {
        root,
        auth: EndpointAuth::Negotiate,
    });
    let cloud = lab.cloud(config);
    let admin = cloud.admin_service().unwrap();
    let err = lab
        .rt
        .block_on(admin.get_opt("wmi/SMS_Site('ABC')"))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
    assert_eq!(err.message, NEGOTIATE_UNSUPPORTED);
    assert!(err.status.is_none(), "nothing was sent");

    let mut config = lab.config();
    config.admin_service = None;
    let cloud = lab.cloud(config);
    assert!(cloud.admin_service.is_none());
    let err = cloud.admin_service().err().unwrap();
    assert_eq!(err.kind, ErrorKind::Validation);
}

#[test]
fn graph_and_arm_cannot_be_given_anything_but_bearer_auth() {
    use comgmt_stdlib::cloud::EndpointAuth;
    let lab = Lab::new();
    let mut config = lab.config();
    config.arm.auth = EndpointAuth::Sas;
    let _g = lab.rt.enter();
    let err = Cloud::new(config).err().unwrap();
    assert_eq!(err.kind, ErrorKind::Validation);
    assert!(err.message.contains("ARM"), "{}", err.message);
}

#[test]
fn a_failed_upload_never_shows_the_signature() {
    // Nothing listens on port 1: the transport error names the blob, not its SAS.
    let lab = Lab::new();
    let mut config = lab.config();
    config.retry = RetryPolicy {
        max_attempts: 1,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(1),
        deadline: Duration::from_secs(1),
    };
    let cloud = lab.cloud(config);
    let sas =
        url::Url::parse("http://127.0.0.1:1/c/ccmsetup.msi?sv=2023-11-03&sig=SECRETSIG").unwrap();
    let id = comgmt_stdlib::cloud::blob::block_id(0).unwrap();
    let err = lab
        .rt
        .block_on(cloud.blob.put_block(&sas, &id, b"data"))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transport);
    assert!(err.message.contains("/c/ccmsetup.msi"), "{}", err.message);
    assert!(!format!("{err} {err:?}").contains("SECRETSIG"), "{err:?}");

    // No signature at all is refused before anything is sent.
    let bare = url::Url::parse("http://127.0.0.1:1/c/ccmsetup.msi").unwrap();
    let err = lab
        .rt
        .block_on(cloud.blob.put_block_list(&bare, &[id]))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Validation);
}

#[test]
fn an_upsert_by_alternate_key_tells_created_from_updated() {
    let lab = Lab::new();
    let cloud = lab.cloud(lab.config());
    let app = lab
        .rt
        .block_on(
            cloud
                .graph
                .post("applications", &json!({"displayName": "upsert target"})),
        )
        .unwrap()
        .body;
    let path = format!(
        "servicePrincipals(appId='{}')",
        app["appId"].as_str().unwrap()
    );
    let prefer = [("Prefer", "create-if-missing")];
    let created = lab
        .rt
        .block_on(
            cloud
                .graph
                .patch_with(&path, &json!({"notes": "one"}), &prefer),
        )
        .unwrap();
    assert_eq!(created.status, 201);
    let updated = lab
        .rt
        .block_on(
            cloud
                .graph
                .patch_with(&path, &json!({"notes": "two"}), &prefer),
        )
        .unwrap();
    assert_eq!(updated.status, 204);
    let sps = lab
        .rt
        .block_on(cloud.graph.list("servicePrincipals", &[]))
        .unwrap();
    let mine: Vec<_> = sps
        .iter()
        .filter(|sp| sp["appId"] == app["appId"])
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["notes"], "two");
}
