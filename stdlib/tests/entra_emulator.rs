//! The entra module against an in-process emulator over real HTTP: ensure semantics,
//! drift repair, plan mode and secrets.

mod common;

use comgmt_stdlib::change::{diff, Action, DEFAULT_ARRAY_KEYS};
use comgmt_stdlib::testing::TestRun;
use comgmt_stdlib::Mode;
use common::Lab;
use serde_json::{json, Value};

/// Read Graph through the run's own client.
fn list(run: &TestRun, path: &str) -> Vec<Value> {
    run.ctx.block_on(run.cloud.graph.list(path, &[])).unwrap()
}

const SETUP: &str = r#"
let server = entra::server_app(#{ display_name: "Cloud Management web app" });
let client = entra::client_app(server, #{ display_name: "Cloud Management native client app" });
let secret = entra::client_secret(server, #{});
entra::grant_admin_consent(server);
entra::grant_admin_consent(client);
print(`secret created: ${secret.created}; value: ${secret.value}`);
"#;

fn changes(run: &TestRun) -> Vec<(Action, String)> {
    run.output
        .changes
        .lock()
        .unwrap()
        .iter()
        .map(|c| (c.action, c.object.clone()))
        .collect()
}

#[test]
fn first_run_creates_everything_and_second_run_changes_nothing() {
    let lab = Lab::new();
    let run = lab.run(Mode::Apply);
    run.engine.run(SETUP).unwrap();
    let s = run.ctx.summary();
    // server app + SP, client app + SP, secret (invoke), role assignment, 2 grants.
    assert_eq!(
        (s.create, s.invoke, s.update),
        (7, 1, 0),
        "{:?}",
        changes(&run)
    );
    let apps = list(&run, "applications");
    assert_eq!(apps.len(), 2);
    let lines = run.output.lines.lock().unwrap().join("\n");
    assert!(
        lines.contains("secret created: true; value: (secret)"),
        "{lines}"
    );

    let again = lab.run(Mode::Apply);
    again.engine.run(SETUP).unwrap();
    let s = again.ctx.summary();
    assert_eq!(s.changes(), 0, "{:?}", changes(&again));
    assert_eq!(s.unchanged, 8);
    let lines = again.output.lines.lock().unwrap().join("\n");
    assert!(lines.contains("secret created: false; value: "), "{lines}");
    assert_eq!(list(&again, "applications").len(), 2);
    assert_eq!(list(&again, "oauth2PermissionGrants").len(), 2);
}

#[test]
fn plan_on_an_empty_tenant_writes_nothing() {
    let lab = Lab::new();
    let run = lab.run(Mode::Plan);
    run.engine.run(SETUP).unwrap();
    let s = run.ctx.summary();
    assert_eq!(s.create, 7, "{:?}", changes(&run));
    assert_eq!(s.invoke, 1);
    assert!(list(&run, "applications").is_empty());
    assert!(list(&run, "oauth2PermissionGrants").is_empty());
    assert!(!lab.dir.path().join(".comgmt/journal.jsonl").exists());
    let recs = run.output.changes.lock().unwrap();
    let server = recs
        .iter()
        .find(|c| c.object == "server application")
        .unwrap();
    assert!(!server.applied);
    assert!(server.fields.iter().any(|f| !f.after.is_known()));
}

#[test]
fn drift_is_repaired_by_an_update() {
    let lab = Lab::new();
    let run = lab.run(Mode::Apply);
    run.engine.run(SETUP).unwrap();
    let apps = list(&run, "applications");
    let server = apps
        .iter()
        .find(|a| a["displayName"] == "Cloud Management web app")
        .unwrap();
    let id = server["id"].as_str().unwrap();
    run.ctx
        .block_on(run.cloud.graph.patch(
            &format!("applications/{id}"),
            &json!({"displayName": "renamed by hand",
                    "web": {"homePageUrl": "https://elsewhere", "redirectUris": [],
                            "implicitGrantSettings": {"enableIdTokenIssuance": false}}}),
        ))
        .unwrap();
    let again = lab.run(Mode::Apply);
    again.engine.run(SETUP).unwrap();
    let recs = again.output.changes.lock().unwrap().clone();
    let update = recs
        .iter()
        .find(|c| c.action == Action::Update)
        .expect("an update");
    let paths: Vec<&str> = update.fields.iter().map(|f| f.path.as_str()).collect();
    assert!(paths.contains(&"displayName"), "{paths:?}");
    assert!(paths.contains(&"web.homePageUrl"), "{paths:?}");
    assert!(paths.contains(&"web.implicitGrantSettings.enableIdTokenIssuance"));
    let fixed = list(&again, "applications");
    let server = fixed.iter().find(|a| a["id"] == id).unwrap();
    assert_eq!(server["displayName"], "Cloud Management web app");
    assert_eq!(server["web"]["homePageUrl"], "https://ConfigMgrService");
    assert_eq!(
        server["web"]["implicitGrantSettings"]["enableIdTokenIssuance"],
        true
    );
    assert_eq!(again.ctx.summary().update, 1);
}

#[test]
fn insecure_app_id_uri_is_refused_before_anything_is_written() {
    let lab = Lab::new();
    let run = lab.run(Mode::Apply);
    let err = run
        .engine
        .run(
            r#"entra::server_app(#{ display_name: "A", app_id_uri: "https://ConfigMgrService" });"#,
        )
        .unwrap_err();
    let me = comgmt_stdlib::error::find_module_error(&err).expect("module error");
    assert_eq!(me.kind, comgmt_stdlib::ErrorKind::Validation);
    assert!(me.hint.unwrap().contains("api://<tenantId>/<string>"));
    assert_eq!(err.position().line(), Some(1));
    assert!(list(&run, "applications").is_empty());
}

#[test]
fn a_new_secret_is_added_only_when_the_old_one_is_about_to_expire() {
    let lab = Lab::new();
    let run = lab.run(Mode::Apply);
    let script = r#"
        let server = entra::server_app(#{ display_name: "S", user_discovery: false });
        let s = entra::client_secret(server, #{ display_name: "ConfigMgr", years: 1, renew_within_days: 30 });
        s.created
    "#;
    assert!(run.engine.eval::<bool>(script).unwrap());
    assert!(!run.engine.eval::<bool>(script).unwrap());
    // A renewal window longer than the validity forces a new secret.
    let renew = script.replace("renew_within_days: 30", "renew_within_days: 400");
    assert!(run.engine.eval::<bool>(&renew).unwrap());
    let app = &list(&run, "applications")[0];
    assert_eq!(app["passwordCredentials"].as_array().unwrap().len(), 2);
    assert!(app["passwordCredentials"][0]
        .get("secretText")
        .is_none_or(Value::is_null));
}

/// The value at a dotted path of a Graph object.
fn at<'v>(v: &'v Value, path: &str) -> &'v Value {
    path.split('.').fold(v, |v, k| &v[k])
}

/// A plan lists every field a create sends: the plan's fields are the applied create's
/// fields, and every known one is what the created object holds (the review found
/// `signInAudience` and `web.redirectUris` missing from the server app's plan and
/// `signInAudience` from the client app's).
#[test]
fn a_create_plan_shows_every_field_the_create_sends() {
    let lab = Lab::new();
    let plan = lab.run(Mode::Plan);
    plan.engine.run(SETUP).unwrap();
    let run = lab.run(Mode::Apply);
    run.engine.run(SETUP).unwrap();
    let planned = plan.output.changes.lock().unwrap().clone();
    let applied = run.output.changes.lock().unwrap().clone();
    let apps = list(&run, "applications");
    for object in ["server application", "client application"] {
        let p = planned.iter().find(|c| c.object == object).unwrap();
        let a = applied.iter().find(|c| c.object == object).unwrap();
        let paths = |c: &comgmt_stdlib::change::ChangeRecord| {
            let mut v: Vec<String> = c.fields.iter().map(|f| f.path.clone()).collect();
            v.sort();
            v
        };
        assert_eq!(
            paths(p),
            paths(a),
            "{object}: plan and apply list other fields"
        );
        assert!(
            paths(p).contains(&"signInAudience".to_string()),
            "{object}: {:?}",
            paths(p)
        );
        let made = apps
            .iter()
            .find(|x| x["displayName"] == a.label.clone().unwrap_or_default())
            .unwrap();
        for f in &a.fields {
            // What was sent is in the object (the service may add to it, e.g. a
            // scope's `origin`).
            if let Some(v) = f.after.value() {
                // Wrapped in its property name, so arrays are matched by their key.
                let name = f.path.rsplit('.').next().unwrap_or_default();
                let missing = diff(
                    &json!({ name: v }),
                    &json!({ name: at(made, &f.path) }),
                    DEFAULT_ARRAY_KEYS,
                );
                assert!(
                    missing.is_empty(),
                    "{object}: {} differs from what was sent: {missing:?}",
                    f.path
                );
            }
        }
    }
    let server = planned
        .iter()
        .find(|c| c.object == "server application")
        .unwrap();
    assert!(server.fields.iter().any(|f| f.path == "web.redirectUris"));
    assert!(server
        .fields
        .iter()
        .any(|f| f.path == "appId" && !f.after.is_known()));
}

/// A change to `requiredResourceAccess` shows what the app asked for before, not null.
#[test]
fn a_changed_permission_list_shows_its_old_value() {
    let lab = Lab::new();
    let run = lab.run(Mode::Apply);
    let script = r#"entra::server_app(#{ display_name: "Cloud Management web app" });"#;
    run.engine.run(script).unwrap();
    let app = list(&run, "applications").remove(0);
    let graph = "00000003-0000-0000-c000-000000000000";
    let user_read = json!({"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"});
    run.ctx
        .block_on(run.cloud.graph.patch(
            &format!("applications/{}", app["id"].as_str().unwrap()),
            &json!({"requiredResourceAccess": [{"resourceAppId": graph, "resourceAccess": [user_read]}]}),
        ))
        .unwrap();
    let again = lab.run(Mode::Plan);
    again.engine.run(script).unwrap();
    let recs = again.output.changes.lock().unwrap().clone();
    let update = recs
        .iter()
        .find(|c| c.object == "server application")
        .unwrap();
    let f = update
        .fields
        .iter()
        .find(|f| f.path.starts_with("requiredResourceAccess"))
        .expect("a permission change");
    assert_eq!(
        f.path,
        format!("requiredResourceAccess[{graph}].resourceAccess")
    );
    assert_eq!(f.before, Some(json!([user_read])));
    let after = f.after.value().unwrap().as_array().unwrap().clone();
    assert_eq!(after.len(), 2);
    assert_eq!(after[0], user_read);
}

/// The journal: one line per write, keyed by the object's unique key with its label
/// beside it, and every request id of a write made of several requests.
#[test]
fn the_journal_keys_writes_by_unique_key_with_every_request_id() {
    let lab = Lab::new();
    let run = lab.run(Mode::Apply);
    run.engine.run(SETUP).unwrap();
    let text = std::fs::read_to_string(lab.dir.path().join(".comgmt/journal.jsonl")).unwrap();
    let entries: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 8, "{text}");
    let tenant = lab.emu().tenant_id();
    let entry = |object: &str| entries.iter().find(|e| e["object"] == object).unwrap();
    let server = entry("server application");
    assert_eq!(server["key"], format!("api://{tenant}/ConfigMgrService"));
    assert_eq!(server["label"], "Cloud Management web app");
    let client = entry("client application");
    let unique = client["key"].as_str().unwrap();
    assert!(unique.starts_with("comgmt-client-"), "{client}");
    let app = list(&run, "applications")
        .into_iter()
        .find(|a| a["uniqueName"] == unique)
        .expect("the client app carries its uniqueName");
    assert_eq!(client["id"], app["id"]);
    // The create and the broker-redirect patch: two requests, both on record.
    let ids = client["request_ids"].as_array().unwrap();
    assert_eq!(ids.len(), 2, "{client}");
    assert_ne!(ids[0], ids[1]);
    let mut keys: Vec<(String, String)> = entries
        .iter()
        .map(|e| (e["object"].to_string(), e["key"].to_string()))
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(
        keys.len(),
        entries.len(),
        "journal keys are not unique: {text}"
    );
    assert!(!text.contains("(known after apply)"));
}

/// Two runs creating the same apps at once make one of each: creates are upserts on
/// a key both runs derive alike.
#[test]
fn concurrent_runs_make_one_app_of_each() {
    let lab = Lab::new();
    let script = r#"
        let server = entra::server_app(#{ display_name: "Cloud Management web app" });
        entra::client_app(server, #{ display_name: "Cloud Management native client app" });
    "#;
    let runs = [lab.run(Mode::Apply), lab.run(Mode::Apply)];
    std::thread::scope(|s| {
        for r in &runs {
            s.spawn(move || r.engine.run(script));
        }
    });
    // Whichever lost a race may have failed (an identifier URI already taken); a re-run
    // converges, and there is never a twin.
    lab.run(Mode::Apply).engine.run(script).unwrap();
    let apps = list(&runs[0], "applications");
    assert_eq!(apps.len(), 2, "{apps:#?}");
    assert_eq!(list(&runs[0], "servicePrincipals").len(), 3);
}
