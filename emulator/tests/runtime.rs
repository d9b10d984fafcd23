//! Fault injection, latency, state that survives a restart, and HTTPS.

mod common;

use comgmt_emulator::{EmulatorConfig, FaultKind, FaultSpec, StateLocation};
use common::{graph_error, Emu};
use serde_json::json;
use std::collections::HashSet;
use std::time::{Duration, Instant};

fn faults(spec: &str) -> EmulatorConfig {
    EmulatorConfig {
        faults: Some(FaultSpec::parse(spec).expect("spec")),
        ..EmulatorConfig::default()
    }
}

#[test]
fn fault_spec_parses() {
    let f = FaultSpec::parse("rate=0.3,status=429").unwrap();
    assert_eq!(
        (f.rate, f.kind, f.retry_after),
        (0.3, FaultKind::Status(429), 1)
    );
    assert_eq!(
        FaultSpec::parse("rate=0.2,drop").unwrap().kind,
        FaultKind::Drop
    );
    assert!(FaultSpec::parse("rate=0.2").is_err());
}

#[tokio::test]
async fn every_graph_request_throttled_and_nothing_changes() {
    // Tokens still work: the token endpoint is not faulted by default.
    let emu = Emu::with(faults("rate=1.0,status=429,retry_after=3")).await;
    for _ in 0..5 {
        let r = emu
            .post("v1.0/applications", json!({"displayName": "never"}))
            .await;
        graph_error(&r, 429, "TooManyRequests");
        assert_eq!(r.headers["retry-after"], "3");
        assert!(r.headers.contains_key("request-id"));
    }
    graph_error(&emu.get("v1.0/applications").await, 429, "TooManyRequests");
    let emu503 = Emu::with(faults("rate=1,status=503")).await;
    let r = emu503.get("v1.0/organization").await;
    graph_error(&r, 503, "ServiceUnavailable");
    assert_eq!(r.headers["retry-after"], "1");
    let emu504 = Emu::with(faults("rate=1,status=504")).await;
    graph_error(
        &emu504.get("v1.0/organization").await,
        504,
        "GatewayTimeout",
    );

    // State is unchanged: restart the same state file without faults and look.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite");
    let cfg = EmulatorConfig {
        state: StateLocation::File(path.clone()),
        ..faults("rate=1.0,status=429")
    };
    let emu = Emu::with(cfg).await;
    for _ in 0..3 {
        graph_error(
            &emu.post("v1.0/applications", json!({"displayName": "never"}))
                .await,
            429,
            "TooManyRequests",
        );
    }
    emu.handle.shutdown().await;
    let emu = Emu::with(EmulatorConfig {
        state: StateLocation::File(path),
        ..EmulatorConfig::default()
    })
    .await;
    assert_eq!(emu.get("v1.0/applications").await.body["value"], json!([]));
}

#[tokio::test]
async fn token_endpoint_is_faulted_only_with_scope_all() {
    let cfg = faults("rate=1.0,status=503,scope=all");
    let handle = comgmt_emulator::start(cfg).await.unwrap();
    let r = reqwest::Client::new()
        .post(format!(
            "{}{}/oauth2/v2.0/token",
            handle.url(),
            handle.tenant_id()
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "c"),
            ("client_secret", "s"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    // In the token endpoint's own shape, not Graph's.
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    let handle = comgmt_emulator::start(faults("rate=1.0,status=429,scope=all"))
        .await
        .unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}common/oauth2/v2.0/token", handle.url()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(r.text().await.unwrap(), "Too Many Requests");
}

#[tokio::test]
async fn seeded_faults_never_create_on_429() {
    let emu = Emu::with(faults("rate=0.5,status=429,seed=7")).await;
    let mut created = HashSet::new();
    let mut throttled = 0;
    for i in 0..40 {
        let name = format!("maybe-{i}");
        let r = emu
            .post("v1.0/applications", json!({"displayName": name}))
            .await;
        match r.status.as_u16() {
            201 => {
                created.insert(name);
            }
            429 => throttled += 1,
            s => panic!("unexpected {s}: {}", r.text),
        }
    }
    assert!(
        throttled > 5 && created.len() > 5,
        "seeded rate gives a mix: {throttled} throttled"
    );
    // Read back, retrying throttled reads like a client would.
    let listed = loop {
        let r = emu.get("v1.0/applications?$top=999").await;
        if r.status == 200 {
            break r.body["value"].as_array().unwrap().clone();
        }
        assert_eq!(r.status, 429);
    };
    let names: HashSet<String> = listed
        .iter()
        .map(|a| a["displayName"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, created);

    // The same seed gives the same sequence.
    let again = Emu::with(faults("rate=0.5,status=429,seed=7")).await;
    let mut created2 = HashSet::new();
    for i in 0..40 {
        let name = format!("maybe-{i}");
        if again
            .post("v1.0/applications", json!({"displayName": name}))
            .await
            .status
            == 201
        {
            created2.insert(name);
        }
    }
    assert_eq!(created, created2);
}

#[tokio::test]
async fn drop_closes_the_connection_without_an_answer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite");
    let emu = Emu::with(EmulatorConfig {
        state: StateLocation::File(path.clone()),
        ..faults("rate=1.0,drop")
    })
    .await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let started = Instant::now();
    let r = client
        .post(emu.url("v1.0/applications"))
        .bearer_auth(&emu.token)
        .json(&json!({"displayName": "dropped"}))
        .send()
        .await;
    let e = r.expect_err("the connection is closed");
    assert!(!e.is_timeout(), "closed, not hung: {e:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let r = client
        .get(emu.url("v1.0/applications"))
        .bearer_auth(&emu.token)
        .send()
        .await;
    assert!(r.is_err());
    emu.handle.shutdown().await;
    let emu = Emu::with(EmulatorConfig {
        state: StateLocation::File(path),
        ..EmulatorConfig::default()
    })
    .await;
    assert_eq!(emu.get("v1.0/applications").await.body["value"], json!([]));
}

#[tokio::test]
async fn latency_delays_responses() {
    let emu = Emu::with(EmulatorConfig {
        latency: Duration::from_millis(150),
        ..EmulatorConfig::default()
    })
    .await;
    let t = Instant::now();
    assert_eq!(emu.get("v1.0/organization").await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn state_file_persists_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".comgmt").join("emulator.sqlite");
    let cfg = || EmulatorConfig {
        state: StateLocation::File(path.clone()),
        ..EmulatorConfig::default()
    };
    let emu = Emu::with(cfg()).await;
    let tenant = emu.handle.tenant_id().to_string();
    assert_eq!(uuid::Uuid::parse_str(&tenant).unwrap().to_string(), tenant);
    let app = emu.app(json!({"displayName": "survivor"})).await;
    let secret = emu
        .post(
            &format!(
                "v1.0/applications/{}/addPassword",
                app["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await
        .body["secretText"]
        .as_str()
        .unwrap()
        .to_string();
    let old_token = emu.token.clone();
    emu.handle.shutdown().await;

    let emu = Emu::with(cfg()).await;
    assert_eq!(
        emu.handle.tenant_id(),
        tenant,
        "same tenant for the same file"
    );
    let got = emu
        .get(&format!(
            "v1.0/applications/{}",
            app["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(got.body["displayName"], "survivor");
    // Tokens from before the restart still work; the stored secret still signs in.
    let r = emu
        .http
        .get(emu.url("v1.0/organization"))
        .bearer_auth(old_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    emu.client_token(app["appId"].as_str().unwrap(), &secret)
        .await;
    let graph_sps = emu
        .get("v1.0/servicePrincipals?$filter=appId eq '00000003-0000-0000-c000-000000000000'")
        .await;
    assert_eq!(
        graph_sps.body["value"].as_array().unwrap().len(),
        1,
        "seeded once"
    );

    // A fresh in-memory emulator is another tenant.
    let other = Emu::start().await;
    assert_ne!(other.handle.tenant_id(), tenant);
}

#[tokio::test]
async fn serves_https_with_its_own_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca_path = dir.path().join("ca.pem");
    let handle = comgmt_emulator::start(EmulatorConfig {
        tls_cert_out: Some(ca_path.clone()),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    assert!(handle.url().starts_with("https://127.0.0.1:"));
    let ca = handle.ca_pem().expect("ca").to_vec();
    assert_eq!(std::fs::read(&ca_path).unwrap(), ca);
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .build()
        .unwrap();
    let token_url = format!("{}{}/oauth2/v2.0/token", handle.url(), handle.tenant_id());
    let tok: serde_json::Value = client
        .post(&token_url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "c"),
            ("client_secret", "s"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = client
        .get(format!("{}v1.0/organization", handle.url()))
        .bearer_auth(tok["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // localhost is in the certificate too.
    let local = handle.url().replace("127.0.0.1", "localhost");
    let r = client
        .get(format!("{local}v1.0/organization"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Without the CA, the certificate is not trusted.
    assert!(reqwest::Client::new()
        .get(handle.url())
        .send()
        .await
        .is_err());
    handle.shutdown().await;
}
