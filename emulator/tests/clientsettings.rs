//! Client settings over HTTPS as the stdlib talks to them: the seeded Default Client
//! Settings with their agents' defaults, PATCH of `AgentConfigurations` matched per
//! agent by `AgentID`, custom settings created by name (409 for a second one), and the
//! writes the site refuses.
//! Source: api-surface.md §0.2, §14 (the write path is UNCONFIRMED: property level).

mod common;

use comgmt_emulator::EmulatorConfig;
use common::Site;
use reqwest::Method;
use serde_json::{json, Value};

const DEFAULT: &str = "SMS_ClientSettingsDefault(16777216)";

fn agent(row: &Value, id: i64) -> Value {
    row["AgentConfigurations"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["AgentID"] == id))
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn default_settings_are_seeded_and_patched_per_agent() {
    let s = Site::start(EmulatorConfig::default()).await;
    let r = s.get("SMS_ClientSettingsDefault").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rows = r.body["value"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(
        (row["Priority"].as_i64(), row["Type"].as_i64()),
        (Some(10000), Some(0))
    );
    let policy = agent(row, 13);
    assert_eq!(policy["@odata.type"], "#AdminService.SMS_PolicyAgentConfig");
    assert_eq!(policy["PolicyRequestAssignmentTimeout"], 60);
    assert_eq!(agent(row, 22)["AllowCMG"], true);

    let r = s
        .patch(
            DEFAULT,
            json!({"AgentConfigurations": [{"AgentID": 22, "AutoAADJoin": true, "AllowCloudDP": true}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let cloud = agent(&r.body, 22);
    assert_eq!(
        (
            &cloud["AutoAADJoin"],
            &cloud["AllowCloudDP"],
            &cloud["AllowCMG"]
        ),
        (&json!(true), &json!(true), &json!(true))
    );
    // The agent not named keeps what it had.
    assert_eq!(agent(&r.body, 13), policy);
    let again = s.get(DEFAULT).await;
    assert_eq!(agent(&again.body["value"][0], 22), cloud);

    // Refused: other properties, unknown agents and properties, a create and a delete.
    for (body, what) in [
        (json!({"Priority": 1}), "read-only property"),
        (
            json!({"AgentConfigurations": [{"AgentID": 99}]}),
            "unknown agent",
        ),
        (
            json!({"AgentConfigurations": [{"AgentID": 13, "Polling": 5}]}),
            "unknown property",
        ),
        (
            json!({"AgentConfigurations": [{"AgentID": 13, "PolicyRequestAssignmentTimeout": "5"}]}),
            "wrong type",
        ),
        (
            json!({"AgentConfigurations": [{"AllowCMG": true}]}),
            "no AgentID",
        ),
    ] {
        assert_eq!(s.patch(DEFAULT, body).await.status, 400, "{what}");
    }
    assert_eq!(
        s.post("SMS_ClientSettingsDefault", json!({})).await.status,
        405
    );
    assert_eq!(s.call(Method::DELETE, DEFAULT, None).await.status, 405);
}

#[tokio::test]
async fn custom_settings_are_created_once_by_name() {
    let s = Site::start(EmulatorConfig::default()).await;
    let first = s
        .created(
            "SMS_ClientSettings",
            json!({"Name": "CMG clients", "Type": 1}),
        )
        .await;
    assert!(first["SettingsID"].is_i64());
    assert_eq!(first["Priority"], 1);
    assert_eq!(first["AgentConfigurations"], json!([]));
    let second = s
        .created(
            "SMS_ClientSettings",
            json!({"Name": "CMG users", "Type": 2, "Description": "d"}),
        )
        .await;
    assert_eq!(second["Priority"], 2);

    let twin = s
        .post(
            "SMS_ClientSettings",
            json!({"Name": "cmg CLIENTS", "Type": 1}),
        )
        .await;
    assert_eq!(twin.status, 409, "{}", twin.text);
    for bad in [
        json!({"Type": 1}),
        json!({"Name": "x"}),
        json!({"Name": "x", "Type": 0}),
    ] {
        assert_eq!(s.post("SMS_ClientSettings", bad).await.status, 400);
    }

    // An agent the custom settings do not carry yet comes with its defaults.
    let key = format!("SMS_ClientSettings({})", first["SettingsID"]);
    let r = s
        .patch(
            &key,
            json!({"AgentConfigurations": [{"AgentID": 13, "PolicyRequestAssignmentTimeout": 30}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let policy = agent(&r.body, 13);
    assert_eq!(policy["PolicyRequestAssignmentTimeout"], 30);
    assert_eq!(policy["PolicyEnableUserPolicyPolling"], true);
    assert_eq!(
        r.body["AgentConfigurations"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(s.patch(&key, json!({"Type": 2})).await.status, 400);
    let found = s
        .get("SMS_ClientSettings?$filter=Name eq 'CMG clients'")
        .await;
    assert_eq!(
        found.body["value"].as_array().map(Vec::len),
        Some(1),
        "{}",
        found.text
    );
}
