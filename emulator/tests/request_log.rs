//! The request log: what `EmulatorHandle::requests()` and `GET /_emulator/requests` show.

mod common;

use comgmt_emulator::{EmulatorConfig, FaultSpec, Surface};
use common::Emu;
use serde_json::json;

#[tokio::test]
async fn reads_writes_and_token_posts_are_told_apart() {
    let emu = Emu::start().await;
    let r = emu.get("v1.0/applications?$top=1").await;
    assert_eq!(r.status, 200);
    emu.app(json!({"displayName": "logged"})).await;
    let log = emu.handle.requests();
    // The token request made by Emu::start, then the two Graph calls.
    assert_eq!(log.len(), 3, "{log:?}");
    assert_eq!(log[0].surface, Surface::Identity);
    assert_eq!(log[0].method, "POST");
    assert!(!log[0].write, "a token request reads");
    assert_eq!(log[0].status, Some(200));
    assert_eq!(log[1].surface, Surface::Graph);
    assert_eq!(log[1].path, "/v1.0/applications?$top=1");
    assert!(!log[1].write);
    assert_eq!((log[2].method.as_str(), log[2].write), ("POST", true));
    assert_eq!(log[2].status, Some(201));
    assert!(log.iter().all(|e| e.time.ends_with('Z')));
}

#[tokio::test]
async fn served_as_json_and_not_logging_itself() {
    let emu = Emu::start().await;
    let _ = emu
        .delete("v1.0/applications/00000000-0000-0000-0000-000000000001")
        .await;
    let first = emu
        .http
        .get(emu.url("_emulator/requests"))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let body: serde_json::Value = first.json().await.unwrap();
    let again: serde_json::Value = emu
        .http
        .get(emu.url("_emulator/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body, again, "reading the log is not logged");
    let entries = body.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let last = &entries[1];
    assert_eq!(last["surface"], "graph");
    assert_eq!(last["method"], "DELETE");
    assert_eq!(last["status"], 404);
    assert_eq!(last["write"], true);
    assert!(last["time"].is_string());
    // Unknown routes are logged too.
    let _ = emu.http.get(emu.url("nowhere")).send().await.unwrap();
    let log = emu.handle.requests();
    assert_eq!(log.last().unwrap().surface, Surface::Other);
    assert_eq!(log.last().unwrap().status, Some(404));
}

#[tokio::test]
async fn faulted_and_dropped_requests_are_logged() {
    let emu = Emu::with(EmulatorConfig {
        faults: Some(FaultSpec::parse("rate=1,drop").unwrap()),
        ..EmulatorConfig::default()
    })
    .await;
    let r = emu
        .http
        .post(emu.url("v1.0/applications"))
        .bearer_auth(&emu.token)
        .json(&json!({"displayName": "x"}))
        .send()
        .await;
    assert!(r.is_err(), "the connection is dropped");
    // The drop is logged once the connection task lets go of the request.
    let mut entry = None;
    for _ in 0..50 {
        entry = emu
            .handle
            .requests()
            .into_iter()
            .find(|e| e.surface == Surface::Graph);
        if entry.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let entry = entry.expect("dropped request logged");
    assert_eq!(entry.status, None);
    assert!(entry.write);
}
