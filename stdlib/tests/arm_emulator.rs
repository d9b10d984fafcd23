//! The ARM client against the in-process emulator over real HTTP: a long-running
//! delete, CloudError mapping, paging, and ARM and Graph each refusing the other's
//! token.

mod common;

use comgmt_emulator::{EmulatorConfig, FaultSpec, Surface};
use comgmt_stdlib::cloud::{endpoints, Cloud, Endpoint, RetryPolicy};
use comgmt_stdlib::ErrorKind;
use common::Lab;
use serde_json::json;
use std::time::Duration;

const RG_API: &str = "2021-04-01";
const SUBS_API: &str = "2022-12-01";

/// The first subscription the signed-in identity sees.
fn subscription(lab: &Lab, cloud: &Cloud) -> String {
    let subs = lab
        .rt
        .block_on(cloud.arm.list("subscriptions", SUBS_API))
        .unwrap();
    subs[0]["subscriptionId"].as_str().unwrap().to_string()
}

#[test]
fn a_resource_group_is_created_read_and_deleted_as_an_operation() {
    let lab = Lab::new();
    let cloud = lab.cloud(lab.config());
    let sub = subscription(&lab, &cloud);
    let rg = format!("subscriptions/{sub}/resourcegroups/rg-comgmt");

    let created = lab
        .rt
        .block_on(cloud.arm.put(&rg, RG_API, &json!({"location": "eastus"})))
        .unwrap();
    assert_eq!(created.status, 201);
    assert_eq!(created.body["name"], "rg-comgmt");
    assert_eq!(created.body["properties"]["provisioningState"], "Succeeded");
    assert!(created.request_id.is_some());
    let again = lab
        .rt
        .block_on(cloud.arm.put(&rg, RG_API, &json!({"location": "eastus"})))
        .unwrap();
    assert_eq!(again.status, 200);

    let read = lab.rt.block_on(cloud.arm.get_opt(&rg, RG_API)).unwrap();
    assert_eq!(read.unwrap()["location"], "eastus");
    let groups = lab
        .rt
        .block_on(
            cloud
                .arm
                .list(&format!("subscriptions/{sub}/resourcegroups"), RG_API),
        )
        .unwrap();
    assert!(groups.iter().any(|g| g["name"] == "rg-comgmt"));

    let deleted = lab.rt.block_on(cloud.arm.delete(&rg, RG_API)).unwrap();
    assert_eq!(deleted.status, 202);
    assert!(deleted.body.is_null(), "{:?}", deleted.body);
    // The delete was followed: its Location polled until it stopped answering 202.
    let polls: Vec<Option<u16>> = lab
        .emu()
        .requests()
        .iter()
        .filter(|r| r.surface == Surface::Arm && r.path.contains("/operationresults/"))
        .map(|r| r.status)
        .collect();
    assert_eq!(polls.last(), Some(&Some(200)), "{polls:?}");
    assert!(polls.contains(&Some(202)), "{polls:?}");
    assert!(lab
        .rt
        .block_on(cloud.arm.get_opt(&rg, RG_API))
        .unwrap()
        .is_none());
}

#[test]
fn arm_errors_are_typed_with_their_code_and_request_id() {
    let lab = Lab::new();
    let cloud = lab.cloud(lab.config());
    let sub = subscription(&lab, &cloud);
    let err = lab
        .rt
        .block_on(cloud.arm.get(
            &format!("subscriptions/{sub}/resourcegroups/missing"),
            RG_API,
        ))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.remote_code.as_deref(), Some("ResourceGroupNotFound"));
    assert_eq!(err.status, Some(404));
    assert!(err.request_id.is_some());
    assert!(
        err.message.starts_with("ARM GET /subscriptions/"),
        "{}",
        err.message
    );
}

#[test]
fn arm_refuses_a_graph_token() {
    let lab = Lab::new();
    let mut config = lab.config();
    config.arm = Endpoint::bearer(config.arm.root.clone(), endpoints::GRAPH_RESOURCE);
    let cloud = lab.cloud(config);
    let err = lab
        .rt
        .block_on(cloud.arm.list("subscriptions", SUBS_API))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
    assert_eq!(err.status, Some(401));
    assert!(err.hint.unwrap_or_default().contains("audience"));
}

#[test]
fn graph_refuses_an_arm_token() {
    let lab = Lab::new();
    let mut config = lab.config();
    config.graph = Endpoint::bearer(config.graph.root.clone(), endpoints::ARM_RESOURCE);
    let cloud = lab.cloud(config);
    let err = lab
        .rt
        .block_on(cloud.graph.list("organization", &[]))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
}

#[test]
fn a_bad_body_is_a_validation_error_naming_the_rule() {
    let lab = Lab::new();
    let cloud = lab.cloud(lab.config());
    let sub = subscription(&lab, &cloud);
    let err = lab
        .rt
        .block_on(cloud.arm.put(
            &format!("subscriptions/{sub}/resourcegroups/rg-x"),
            RG_API,
            &json!({"tags": {}}),
        ))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Validation);
    assert_eq!(err.remote_code.as_deref(), Some("LocationRequired"));
    assert!(
        err.message.contains("location property is required"),
        "{}",
        err.message
    );
}

#[test]
fn arm_throttling_is_retried_then_typed() {
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
        .block_on(cloud.arm.list("subscriptions", SUBS_API))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Throttled);
    assert_eq!(err.remote_code.as_deref(), Some("TooManyRequests"));
    let tries = lab
        .emu()
        .requests()
        .iter()
        .filter(|r| r.surface == Surface::Arm)
        .count();
    assert_eq!(tries, 3);
}

#[test]
fn an_operation_survives_a_flaky_service() {
    // Half the ARM requests answer 503: every call, polls included, still finishes.
    let lab = Lab::start(EmulatorConfig {
        faults: Some(FaultSpec::parse("rate=0.5,status=503,retry_after=0,seed=11").unwrap()),
        ..EmulatorConfig::default()
    });
    let mut config = lab.config();
    config.retry = RetryPolicy {
        max_attempts: 20,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        deadline: Duration::from_secs(20),
    };
    let cloud = lab.cloud(config);
    let sub = subscription(&lab, &cloud);
    let rg = format!("subscriptions/{sub}/resourcegroups/rg-flaky");
    lab.rt.block_on(async {
        cloud
            .arm
            .put(&rg, RG_API, &json!({"location": "westeurope"}))
            .await
            .unwrap();
        cloud.arm.delete(&rg, RG_API).await.unwrap();
        assert!(cloud.arm.get_opt(&rg, RG_API).await.unwrap().is_none());
    });
    let failed: usize = lab
        .emu()
        .requests()
        .iter()
        .filter(|r| r.surface == Surface::Arm && r.status == Some(503))
        .count();
    assert!(failed > 0, "the faults were injected");
}
