//! Entra user discovery as the site server's discovery agent runs it, in the background
//! on the emulator's runtime: a client-credentials token for the server app **with the
//! secret the site holds**, from the emulator's own token endpoint over its own HTTP(S)
//! listener (trusting only the emulator's CA), then `GET /v1.0/users` page by page;
//! `SMS_R_User` rows upserted by `AADUserID`; lines appended to
//! `SMS_AZUREAD_DISCOVERY_AGENT.log`; the `LastUserDiscovery*` properties of the cloud
//! service row set at the end. A wrong or expired secret fails at the token endpoint
//! exactly as it would against Entra, and the AADSTS text lands in the log.
//! Sources: api-surface.md §8 (attributes, the log's name, the success line);
//! MicrosoftDocs/memdocs:memdocs/configmgr/core/servers/deploy/configure/about-discovery-methods.md.
//! UNCONFIRMED: the Graph calls the product makes (§8.1), every log line but the
//! success line, the status values, and that a delta run reads the full list here
//! (`users/delta` is not used).

use super::aad::{SMS_AAD_APPLICATION_EX, SMS_AAD_TENANT_EX, SMS_AZURE_CLOUDSERVICE, SMS_R_USER};
use super::rows;
use super::sitelog::SiteLog;
use crate::app::Shared;
use crate::store::{Db, StoreError};
use serde_json::{json, Map, Value};
use std::time::Duration;

pub const RUNNING: &str = "Running";
pub const SUCCEEDED: &str = "Succeeded";
pub const FAILED: &str = "Failed";

/// The component and its log file.
pub const COMPONENT: &str = "SMS_AZUREAD_DISCOVERY_AGENT";
/// The attributes discovery reads (about-discovery-methods.md; Graph's names).
const SELECT: &str = "id,displayName,mail,mailNickname,onPremisesSecurityIdentifier,userPrincipalName,onPremisesDomainName,onPremisesSamAccountName,onPremisesDistinguishedName";
/// Users per page (UNCONFIRMED).
const PAGE: usize = 10;
/// A stuck call ends the run instead of leaving it Running.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// Set the cloud service row's status (and, when done, time and count).
pub fn set_status(
    db: &Db<'_>,
    current: &Value,
    status: &str,
    count: Option<usize>,
) -> Result<(), StoreError> {
    let class = &SMS_AZURE_CLOUDSERVICE;
    let mut row = current.as_object().cloned().unwrap_or_default();
    row.insert("LastUserDiscoveryStatus".into(), json!(status));
    if status != RUNNING {
        row.insert(
            "LastUserDiscoveryTime".into(),
            // Milliseconds: two runs within a second must not look like one.
            json!(crate::util::now_iso_millis()),
        );
        row.insert("LastUserDiscoveryCount".into(), json!(count));
    }
    rows::bump(&mut row);
    db.update(
        &class.collection(),
        &rows::id_of(class, current),
        &Value::Object(row),
    )
}

/// A run left `Running` by an emulator that stopped mid-run has failed.
pub fn recover(db: &Db<'_>) -> Result<(), StoreError> {
    for row in db.docs(&SMS_AZURE_CLOUDSERVICE.collection())? {
        if row["LastUserDiscoveryStatus"] == json!(RUNNING) {
            set_status(db, &row, FAILED, None)?;
        }
    }
    Ok(())
}

/// Start a run for the cloud service `key` (already marked Running).
pub fn spawn(st: Shared, key: String, full: bool) {
    tokio::spawn(async move {
        let log = SiteLog {
            path: st.site.log_dir.join(format!("{COMPONENT}.log")),
            component: COMPONENT,
            thread: 5124,
        };
        let outcome = run(&st, &key, full, &log).await;
        let (status, count) = match outcome {
            Ok(n) => (SUCCEEDED, Some(n)),
            Err(message) => {
                log.line(&message);
                log.line("Azure Active Directory user discovery failed. Will retry at the next scheduled run.");
                (FAILED, None)
            }
        };
        let done = st
            .store
            .write(|db| match rows::find(db, &SMS_AZURE_CLOUDSERVICE, &key)? {
                Some(current) => set_status(db, &current, status, count),
                // Deleted while running: nothing to record.
                None => Ok(()),
            });
        if let Err(e) = done {
            tracing::error!(error = %e.0, "discovery status");
        }
    });
}

/// What the run needs from the site's rows.
struct Setup {
    service_name: String,
    tenant_id: String,
    client_id: String,
    secret: String,
}

fn setup(st: &Shared, key: &str) -> Result<Setup, String> {
    let read = st.store.read(|db| {
        let missing = |what: &str| Ok::<_, StoreError>(Err(format!("ERROR: {what}")));
        let Some(service) = rows::find(db, &SMS_AZURE_CLOUDSERVICE, key)? else {
            return missing("the cloud service was deleted.");
        };
        let app_key = service["ServerAppDB_ID"].to_string();
        let Some(app) = rows::find(db, &SMS_AAD_APPLICATION_EX, &app_key)? else {
            return missing("the server app of the cloud service does not exist.");
        };
        let tenant_key = app["TenantDB_ID"].to_string();
        let Some(tenant) = rows::find(db, &SMS_AAD_TENANT_EX, &tenant_key)? else {
            return missing("the tenant of the server app does not exist.");
        };
        let Some(secret) = rows::secret(db, &app, "SecretKey")? else {
            return missing("the server app has no secret key.");
        };
        Ok(Ok(Setup {
            service_name: crate::graph::str_of(&service, "Name").to_string(),
            tenant_id: crate::graph::str_of(&tenant, "TenantID").to_string(),
            client_id: crate::graph::str_of(&app, "ClientID").to_string(),
            secret,
        }))
    });
    match read {
        Ok(r) => r,
        Err(e) => Err(format!("ERROR: cannot read the site database: {}", e.0)),
    }
}

fn client(st: &Shared) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder().timeout(CALL_TIMEOUT);
    if let Some(pem) = &st.ca_pem {
        let ca = reqwest::Certificate::from_pem(pem.as_bytes()).map_err(|e| e.to_string())?;
        b = b.add_root_certificate(ca);
    }
    b.build()
        .map_err(|e| format!("ERROR: cannot build an HTTP client: {e}"))
}

/// The run; `Ok(users discovered)` or the error line to log.
async fn run(st: &Shared, key: &str, full: bool, log: &SiteLog) -> Result<usize, String> {
    let who = st.site.udx_wording.directory();
    let kind = if full { "full" } else { "delta" };
    log.line(&format!("Starting {who} user discovery ({kind} sync)."));
    let s = setup(st, key)?;
    log.line(&format!(
        "Cloud service '{}': tenant {}, server app {}.",
        s.service_name, s.tenant_id, s.client_id
    ));
    let http = client(st)?;
    let base = st.own_url();
    let token = token(&http, &base, &s).await?;
    log.line("Successfully acquired an access token for Microsoft Graph.");
    let users = users(&http, &base, &token, log).await?;
    let n = users.len();
    let written = st
        .store
        .write(|db| upsert(db, &s.tenant_id, &users))
        .map_err(|e| format!("ERROR: cannot write users to the site database: {}", e.0))?;
    log.line(&format!(
        "Discovered {n} users; {written} new or changed user discovery records."
    ));
    log.line(&format!("Successfully published UDX for {who} users."));
    log.line(&format!("{who} user discovery ({kind} sync) completed."));
    Ok(n)
}

async fn token(http: &reqwest::Client, base: &str, s: &Setup) -> Result<String, String> {
    let url = format!("{base}{}/oauth2/v2.0/token", s.tenant_id);
    let resp = http
        .post(&url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", s.client_id.as_str()),
            ("client_secret", s.secret.as_str()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .map_err(|e| {
            format!(
                "ERROR: cannot reach the token endpoint: {}",
                without_url(&e)
            )
        })?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    match body["access_token"].as_str() {
        Some(t) if status.is_success() => Ok(t.to_string()),
        _ => {
            // The first line of error_description is the AADSTS text.
            let description = body["error_description"]
                .as_str()
                .and_then(|d| d.lines().next())
                .unwrap_or("no error description");
            Err(format!(
                "ERROR: Failed to get an access token for the server app {}: {} ({status}).",
                s.client_id, description
            ))
        }
    }
}

/// An error's text without the URL (no secret is in a URL here, but keep lines short).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(u) = e.url() {
        text = text.replace(u.as_str(), "the emulator");
    }
    text
}

async fn users(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    log: &SiteLog,
) -> Result<Vec<Value>, String> {
    let mut next = Some(format!("{base}v1.0/users?$select={SELECT}&$top={PAGE}"));
    let mut all = Vec::new();
    while let Some(url) = next.take() {
        let resp = http
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| format!("ERROR: cannot reach Microsoft Graph: {}", without_url(&e)))?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(format!(
                "ERROR: Microsoft Graph answered {status} to GET /v1.0/users: {}: {}",
                body["error"]["code"].as_str().unwrap_or("unknown"),
                body["error"]["message"].as_str().unwrap_or("no message")
            ));
        }
        let page = body["value"].as_array().cloned().unwrap_or_default();
        log.line(&format!(
            "Read a page of {} users from Microsoft Graph.",
            page.len()
        ));
        all.extend(page);
        next = body["@odata.nextLink"].as_str().map(str::to_string);
    }
    Ok(all)
}

/// The user record the site keeps for one Entra user. `Name` is `DOMAIN\sam` for a
/// synchronized user and the UPN for a cloud-only one (UNCONFIRMED).
fn record(tenant: &str, u: &Value) -> Map<String, Value> {
    let s = |k: &str| crate::graph::str_of(u, k).to_string();
    let name = match (s("onPremisesDomainName"), s("onPremisesSamAccountName")) {
        (d, n) if !d.is_empty() && !n.is_empty() => {
            let netbios = d.split('.').next().unwrap_or(&d).to_ascii_uppercase();
            format!("{netbios}\\{n}")
        }
        _ => s("userPrincipalName"),
    };
    let mut m = Map::new();
    m.insert("Name".into(), json!(name));
    m.insert("UserPrincipalName".into(), u["userPrincipalName"].clone());
    m.insert("AADUserID".into(), u["id"].clone());
    m.insert("AADTenantID".into(), json!(tenant));
    m.insert("DisplayName".into(), u["displayName"].clone());
    m.insert("FullUserName".into(), u["displayName"].clone());
    m.insert("Mail".into(), u["mail"].clone());
    m
}

/// Insert or update one `SMS_R_User` per user, matched by `AADUserID`; answers how
/// many rows changed.
fn upsert(db: &Db<'_>, tenant: &str, users: &[Value]) -> Result<usize, StoreError> {
    let class = &SMS_R_USER;
    let existing = db.docs(&class.collection())?;
    let mut changed = 0;
    for u in users {
        let fresh = record(tenant, u);
        let found = existing.iter().find(|d| {
            d["AADUserID"]
                .as_str()
                .zip(u["id"].as_str())
                .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b))
        });
        match found {
            Some(d) => {
                let mut row = d.as_object().cloned().unwrap_or_default();
                if fresh.iter().all(|(k, v)| row.get(k) == Some(v)) {
                    continue;
                }
                row.extend(fresh);
                rows::bump(&mut row);
                db.update(
                    &class.collection(),
                    &rows::id_of(class, d),
                    &Value::Object(row),
                )?;
            }
            None => {
                let mut row = fresh;
                row.insert(class.key.into(), rows::next_key(db, class)?);
                rows::bump(&mut row);
                let row = Value::Object(row);
                db.insert(&class.collection(), &rows::id_of(class, &row), &row)?;
            }
        }
        changed += 1;
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn upsert_by_aad_user_id() {
        let s = Store::open_memory().unwrap();
        let users = vec![
            json!({"id": "11111111-1111-1111-1111-111111111111", "userPrincipalName": "a@x.com", "displayName": "A", "mail": "a@x.com",
                   "onPremisesDomainName": "comgmtlab.local", "onPremisesSamAccountName": "a"}),
            json!({"id": "22222222-2222-2222-2222-222222222222", "userPrincipalName": "b@x.com", "displayName": "B", "mail": null}),
        ];
        let first = s.write(|db| upsert(db, "t", &users)).unwrap();
        let again = s.write(|db| upsert(db, "t", &users)).unwrap();
        assert_eq!((first, again), (2, 0));
        let mut renamed = users.clone();
        renamed[1]["displayName"] = json!("B2");
        assert_eq!(s.write(|db| upsert(db, "t", &renamed)).unwrap(), 1);
        let rows = s.read(|db| db.docs(&SMS_R_USER.collection())).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["Name"], "COMGMTLAB\\a");
        assert_eq!(rows[1]["Name"], "b@x.com");
        assert_eq!(rows[1]["FullUserName"], "B2");
        assert_ne!(rows[0]["ResourceID"], rows[1]["ResourceID"]);
    }
}
