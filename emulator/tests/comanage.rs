//! Collections, membership rules, membership, the seeded devices and their
//! co-management state, and the co-management policy, over HTTPS as the stdlib calls
//! them. Source: api-surface.md §0.1, §0.2 (create, method calls, lazy rules, membership
//! waits), §15 (co-management).

mod common;

use comgmt_emulator::EmulatorConfig;
use common::Site;
use serde_json::{json, Value};

async fn site() -> Site {
    Site::start(EmulatorConfig::default()).await
}

fn rows(r: &common::Resp) -> Vec<Value> {
    r.body["value"].as_array().cloned().unwrap_or_default()
}

async fn add_rule(s: &Site, id: &str, rule: Value) -> common::Resp {
    s.post(
        &format!("SMS_Collection('{id}')/AdminService.AddMembershipRule"),
        json!({ "collectionRule": rule }),
    )
    .await
}

async fn members(s: &Site, id: &str) -> Vec<i64> {
    let r = s
        .get(&format!(
            "SMS_FullCollectionMembership?$filter=CollectionID+eq+%27{id}%27"
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    rows(&r)
        .iter()
        .filter_map(|m| m["ResourceID"].as_i64())
        .collect()
}

#[tokio::test]
async fn collections_rules_and_membership() {
    let s = site().await;
    // Built-ins, with lazy rules only on a key lookup.
    let r = s
        .get("SMS_Collection?$filter=Name+eq+%27All%20Systems%27")
        .await;
    let all = rows(&r);
    assert_eq!(all.len(), 1, "{}", r.text);
    assert_eq!(all[0]["CollectionID"], "SMS00001");
    assert_eq!(all[0]["MemberCount"], 40);
    assert_eq!(all[0]["CollectionRules"], Value::Null);
    let r = s.get("SMS_Collection('SMS00001')").await;
    assert_eq!(
        rows(&r)[0]["CollectionRules"][0]["QueryExpression"],
        "select * from SMS_R_System"
    );

    // Create, as Microsoft's sample does: 201, the new key at top level.
    let body = json!({"CollectionType": 2, "Comment": "", "LimitToCollectionID": "SMS00001", "Name": "Pilot"});
    let r = s.post("SMS_Collection", body.clone()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["CollectionID"].as_str().unwrap().to_string();
    assert!(id.starts_with("ABC") && id.len() == 8, "{id}");
    assert_eq!(s.post("SMS_Collection", body).await.status, 409);
    let bad = json!({"CollectionType": 2, "LimitToCollectionID": "ABC09999", "Name": "X"});
    assert_eq!(s.post("SMS_Collection", bad).await.status, 400);
    let user_limit = json!({"CollectionType": 2, "LimitToCollectionID": "SMS00002", "Name": "Y"});
    assert_eq!(s.post("SMS_Collection", user_limit).await.status, 400);

    // A direct rule, twice: one rule.
    let direct = json!({"@odata.type": "#AdminService.SMS_CollectionRuleDirect",
        "ResourceClassName": "SMS_R_System", "RuleName": "LAB-WS01", "ResourceID": 16777221});
    for _ in 0..2 {
        let r = add_rule(&s, &id, direct.clone()).await;
        assert_eq!(
            (r.status.as_u16(), &r.body["ReturnValue"]),
            (201, &json!(0)),
            "{}",
            r.text
        );
    }
    // A query rule gets a QueryID.
    let query = json!({"@odata.type": "#AdminService.SMS_CollectionRuleQuery", "RuleName": "WS1x",
        "QueryExpression": "select * from SMS_R_System where Name like 'LAB-WS1%'"});
    let r = add_rule(&s, &id, query).await;
    assert_eq!(r.body["QueryID"], 1, "{}", r.text);
    let r = s.get(&format!("SMS_Collection/{id}")).await;
    let row = &rows(&r)[0];
    assert_eq!(row["CollectionRules"].as_array().unwrap().len(), 2);
    assert_eq!(row["MemberCount"], 11, "LAB-WS01 and LAB-WS10..19");
    assert_eq!(row["LimitToCollectionName"], "All Systems");
    let m = members(&s, &id).await;
    assert!(m.contains(&16777221) && m.len() == 11, "{m:?}");
    let r = s
        .get(&format!("SMS_FullCollectionMembership?$filter=CollectionID eq '{id}' and ResourceID eq 16777221"))
        .await;
    assert_eq!(rows(&r)[0]["IsDirect"], true);

    // Refused rules: an unknown device, a query the emulator cannot read, a user query.
    let nobody = json!({"@odata.type": "#AdminService.SMS_CollectionRuleDirect", "ResourceID": 1});
    assert_eq!(add_rule(&s, &id, nobody).await.status, 400);
    let join = json!({"@odata.type": "#AdminService.SMS_CollectionRuleQuery", "RuleName": "j",
        "QueryExpression": "select * from SMS_R_System inner join SMS_G_System_OS on a = b"});
    assert_eq!(add_rule(&s, &id, join).await.status, 400);
    let users = json!({"@odata.type": "#AdminService.SMS_CollectionRuleQuery", "RuleName": "u",
        "QueryExpression": "select * from SMS_R_User"});
    assert_eq!(add_rule(&s, &id, users).await.status, 400);
    assert_eq!(
        add_rule(&s, "SMS00001", direct.clone()).await.status,
        400,
        "built-in"
    );

    // Delete the direct rule: membership follows.
    let r = s
        .post(
            &format!("SMS_Collection('{id}')/AdminService.DeleteMembershipRule"),
            json!({ "collectionRule": direct }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(members(&s, &id).await.len(), 10);

    // A limiting collection in use cannot go; a built-in cannot go.
    let child = json!({"CollectionType": 2, "LimitToCollectionID": id, "Name": "Child"});
    let child = s.post("SMS_Collection", child).await;
    assert_eq!(child.status, 201);
    let r = s
        .call(
            reqwest::Method::DELETE,
            &format!("SMS_Collection('{id}')"),
            None,
        )
        .await;
    assert_eq!(r.status, 409);
    let r = s
        .call(reqwest::Method::DELETE, "SMS_Collection('SMS00001')", None)
        .await;
    assert_eq!(r.status, 400);
}

fn policy(extra: Value) -> Value {
    let mut p = json!({"LocalizedDisplayName": "CoMgmtSettingsProd", "AutoEnrollment": 2});
    if let (Some(m), Some(e)) = (p.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    p
}

async fn co_managed(s: &Site) -> (usize, usize, usize) {
    let r = s.get("SMS_Client_ComanagementState").await;
    let st = rows(&r);
    let cm = st
        .iter()
        .filter(|r| r["MDMEnrolled"] == 1 && r["ComgmtPolicyPresent"] == 1)
        .count();
    let failed = st
        .iter()
        .filter(|r| r["EnrollmentErrorDetail"] != 0)
        .count();
    (st.len(), cm, failed)
}

#[tokio::test]
async fn devices_states_and_the_policy() {
    let s = site().await;
    assert_eq!(rows(&s.get("SMS_R_System").await).len(), 40);
    let r = s.get("SMS_Client_ComanagementState(16777221)").await;
    let one = &rows(&r)[0];
    for p in [
        "ResourceID",
        "MDMEnrolled",
        "MDMProvisioned",
        "MDMWorkloads",
        "Authority",
        "ComgmtPolicyPresent",
    ] {
        assert!(one.get(p).is_some(), "{p}: {one}");
    }
    // Before the policy: nothing co-managed (two devices enrolled in MDM on their own).
    assert_eq!(co_managed(&s).await, (38, 0, 0));

    // The wizard's rules.
    let r = s
        .post(
            "SMS_ConfigurationPolicy",
            policy(json!({"AutoEnrollment": 1})),
        )
        .await;
    assert_eq!(r.status, 400, "pilot without its collection: {}", r.text);
    let r = s
        .post(
            "SMS_ConfigurationPolicy",
            policy(json!({"DeviceConfigurationWorkload": 2})),
        )
        .await;
    assert_eq!(r.status, 400, "device configuration alone: {}", r.text);
    assert!(r.text.contains("ResourceAccessPoliciesWorkload"));
    let r = s
        .post(
            "SMS_ConfigurationPolicy",
            policy(json!({"ClientAppsWorkload": 1, "ClientAppsPilotCollectionID": "ABC09999"})),
        )
        .await;
    assert_eq!(r.status, 400);

    // All: the targeted devices show their outcomes.
    let r = s
        .post(
            "SMS_ConfigurationPolicy",
            policy(
                json!({"DeviceConfigurationWorkload": 2, "ResourceAccessPoliciesWorkload": 2,
                          "EndpointProtectionWorkload": 2, "WindowsUpdatePoliciesWorkload": 2}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["TargetCollectionID"], "SMS00001");
    assert_eq!(co_managed(&s).await, (38, 22, 4));
    let r = s.get("SMS_Client_ComanagementState(16777221)").await;
    assert_eq!(rows(&r)[0]["MDMWorkloads"], 1 + 4 + 8 + 16 + 32);
    let r = s.get("SMS_Client_ComanagementState(16777219)").await;
    assert_eq!(
        rows(&r)[0]["ComgmtPolicyPresent"],
        0,
        "servers are not targeted"
    );
    let r = s
        .post(
            "SMS_ConfigurationPolicy",
            policy(json!({"LocalizedDisplayName": "Second"})),
        )
        .await;
    assert_eq!(r.status, 409, "one policy per site");

    // Pilot: only the pilot collection's members enroll.
    let c = s
        .post(
            "SMS_Collection",
            json!({"CollectionType": 2, "LimitToCollectionID": "SMS00001", "Name": "Pilot"}),
        )
        .await;
    let cid = c.body["CollectionID"].as_str().unwrap().to_string();
    for id in [16777221, 16777222, 16777230] {
        let rule =
            json!({"@odata.type": "#AdminService.SMS_CollectionRuleDirect", "ResourceID": id});
        assert_eq!(add_rule(&s, &cid, rule).await.status, 201);
    }
    let key = format!("SMS_ConfigurationPolicy({})", r.body["CI_ID"]);
    let listed = rows(&s.get("SMS_ConfigurationPolicy").await);
    let key = if key.contains("null") {
        format!("SMS_ConfigurationPolicy({})", listed[0]["CI_ID"])
    } else {
        key
    };
    let r = s
        .patch(
            &key,
            json!({"AutoEnrollment": 1, "AutoEnrollmentCollectionID": cid}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // LAB-WS01 enrolled, LAB-WS02 scheduled, LAB-WS10 enrolled; WS05 was in MDM already.
    assert_eq!(co_managed(&s).await, (38, 3, 0));
}
