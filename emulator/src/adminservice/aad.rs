//! The site's Azure services: the Entra tenant and the two app registrations it knows
//! (`SMS_AAD_Tenant_Ex`, `SMS_AAD_Application_Ex`), the Azure service connection
//! (`SMS_Azure_CloudService`, with `RunUserDiscovery`) and the users discovery finds
//! (`SMS_R_User`). Property names follow the issue-7 contract: the product documents
//! none of these classes' schemas (api-surface.md §6.4), so everything beyond the
//! names public scripts show (`ClientID`, `SecretKey`, `ID`, `Name`, `ServiceType`,
//! `SiteCode`, `AuthenticationType`) is UNCONFIRMED, as are the validation rules below
//! (they mirror the cmdlets' required parameters, sccm-ps Import-CMAADServerApplication.md,
//! New-CMCloudManagementAzureService.md).

use super::classes::{ro, rw, secret, KeyKind, Method, Ty, WmiClass};
use super::site::SITE_CODE;
use super::{discovery, rows, AdminError};
use crate::app::{AppState, Shared};
use crate::store::Db;
use axum::http::StatusCode;
use serde_json::{json, Map, Value};

/// The first server-assigned `ID` (UNCONFIRMED; the SQL identity seeds are not public).
const FIRST_ID: i64 = 16777217;

pub const SMS_AAD_TENANT_EX: WmiClass = WmiClass {
    name: "SMS_AAD_Tenant_Ex",
    key: "ID",
    key_kind: KeyKind::Assigned { first: FIRST_ID },
    natural_key: &["TenantID"],
    props: &[
        ro("ID", Ty::Int),
        rw("Name", Ty::Str),
        rw("TenantID", Ty::Guid),
        rw("Description", Ty::Str),
        rw("AzureEnvironment", Ty::Str),
        ro("LastUpdateTime", Ty::Time),
    ],
    writable: true,
    on_create: Some(tenant_write),
    on_update: Some(tenant_update),
    on_delete: Some(tenant_delete),
    on_read: None,
    methods: &[],
};

pub const SMS_AAD_APPLICATION_EX: WmiClass = WmiClass {
    name: "SMS_AAD_Application_Ex",
    key: "ID",
    key_kind: KeyKind::Assigned { first: FIRST_ID },
    natural_key: &["ClientID"],
    props: &[
        ro("ID", Ty::Int),
        rw("Name", Ty::Str),
        rw("ClientID", Ty::Guid),
        rw("TenantDB_ID", Ty::Int),
        rw("TenantID", Ty::Guid),
        rw("IdentifierUri", Ty::Str),
        rw("IsClientApp", Ty::Bool),
        secret("SecretKey"),
        rw("SecretKeyExpiry", Ty::Time),
        ro("LastUpdateTime", Ty::Time),
    ],
    writable: true,
    on_create: Some(app_write),
    on_update: Some(app_update),
    on_delete: Some(app_delete),
    on_read: None,
    methods: &[],
};

pub const SMS_AZURE_CLOUDSERVICE: WmiClass = WmiClass {
    name: "SMS_Azure_CloudService",
    key: "ID",
    key_kind: KeyKind::Assigned { first: FIRST_ID },
    natural_key: &["Name"],
    props: &[
        ro("ID", Ty::Int),
        rw("Name", Ty::Str),
        rw("Description", Ty::Str),
        rw("ServiceType", Ty::Str),
        rw("SiteCode", Ty::Str),
        rw("TenantDB_ID", Ty::Int),
        rw("ServerAppDB_ID", Ty::Int),
        rw("ClientAppDB_ID", Ty::Int),
        rw("AuthenticationType", Ty::Int),
        rw("EnableUserDiscovery", Ty::Bool),
        rw("EnableUserDeltaDiscovery", Ty::Bool),
        rw("UserDeltaDiscoveryMins", Ty::Int),
        rw("UserDiscoverySchedule", Ty::Str),
        ro("LastUpdateTime", Ty::Time),
        ro("LastUserDiscoveryTime", Ty::Time),
        ro("LastUserDiscoveryCount", Ty::Int),
        ro("LastUserDiscoveryStatus", Ty::Str),
    ],
    writable: true,
    on_create: Some(service_write),
    on_update: Some(service_update),
    on_delete: Some(service_delete),
    on_read: None,
    methods: &[Method {
        name: "RunUserDiscovery",
        is_static: false,
        run: run_user_discovery,
    }],
};

/// User resource ids start here (UNCONFIRMED: ConfigMgr's user resource ids are large
/// integers; the exact range is not documented).
pub const FIRST_USER_RESOURCE_ID: i64 = 2063597569;

/// Users, as discovery writes them; maintained by the site only.
pub const SMS_R_USER: WmiClass = WmiClass::read_only(
    "SMS_R_User",
    "ResourceID",
    KeyKind::Assigned {
        first: FIRST_USER_RESOURCE_ID,
    },
    &["AADUserID"],
    &[
        ro("ResourceID", Ty::Int),
        ro("Name", Ty::Str),
        ro("UserPrincipalName", Ty::Str),
        ro("AADUserID", Ty::Guid),
        ro("AADTenantID", Ty::Guid),
        ro("DisplayName", Ty::Str),
        ro("FullUserName", Ty::Str),
        ro("Mail", Ty::Str),
    ],
);

fn bad(message: impl Into<String>) -> AdminError {
    AdminError::new(StatusCode::BAD_REQUEST, message)
}

fn conflict(message: impl Into<String>) -> AdminError {
    AdminError::new(StatusCode::CONFLICT, message)
}

fn required(row: &Map<String, Value>, class: &WmiClass, name: &str) -> Result<(), AdminError> {
    match row.get(name) {
        None | Some(Value::Null) => Err(bad(format!(
            "The property '{name}' is required to create an instance of {}.",
            class.name
        ))),
        Some(Value::String(s)) if s.trim().is_empty() => Err(bad(format!(
            "The property '{name}' of {} cannot be empty.",
            class.name
        ))),
        Some(_) => Ok(()),
    }
}

fn default(row: &mut Map<String, Value>, name: &str, v: Value) {
    if row.get(name).is_none_or(Value::is_null) {
        row.insert(name.into(), v);
    }
}

fn touch(row: &mut Map<String, Value>) {
    row.insert("LastUpdateTime".into(), json!(crate::util::now_iso()));
}

/// The row of `class` whose key is `row[prop]`, or a 400 naming the reference.
fn referenced(
    db: &Db<'_>,
    class: &WmiClass,
    row: &Map<String, Value>,
    prop: &str,
) -> Result<Value, AdminError> {
    let key = row.get(prop).map(Value::to_string).unwrap_or_default();
    rows::find(db, class, &key)?.ok_or_else(|| {
        bad(format!(
            "{prop} {key} does not name an instance of {}.",
            class.name
        ))
    })
}

/// `AzurePublicCloud` | `AzureUSGovernmentCloud` (configure-azure-ad.md; the
/// `-AzureEnvironmentOption` values of Import-CMAADServerApplication).
fn tenant_rules(row: &mut Map<String, Value>) -> Result<(), AdminError> {
    default(row, "AzureEnvironment", json!("AzurePublicCloud"));
    match row.get("AzureEnvironment").and_then(Value::as_str) {
        Some("AzurePublicCloud" | "AzureUSGovernmentCloud") => Ok(()),
        other => Err(bad(format!(
            "AzureEnvironment '{}' is not one of AzurePublicCloud, AzureUSGovernmentCloud.",
            other.unwrap_or_default()
        ))),
    }
}

fn tenant_write(
    _: &AppState,
    _: &Db<'_>,
    row: &mut Map<String, Value>,
    _: &Map<String, Value>,
) -> Result<(), AdminError> {
    required(row, &SMS_AAD_TENANT_EX, "TenantID")?;
    default(row, "Description", json!(""));
    tenant_rules(row)?;
    touch(row);
    Ok(())
}

fn tenant_update(
    _: &AppState,
    _: &Db<'_>,
    _: &Value,
    row: &mut Map<String, Value>,
    _: &Map<String, Value>,
) -> Result<(), AdminError> {
    required(row, &SMS_AAD_TENANT_EX, "TenantID")?;
    tenant_rules(row)?;
    touch(row);
    Ok(())
}

/// A referenced row cannot go (the site database's foreign keys; UNCONFIRMED reply).
/// A row no one uses goes now (`None`).
fn in_use(
    db: &Db<'_>,
    class: &WmiClass,
    current: &Value,
    users: &WmiClass,
    props: &[&str],
) -> Result<Option<Value>, AdminError> {
    let id = &current[class.key];
    let user = db
        .docs(&users.collection())?
        .into_iter()
        .find(|d| props.iter().any(|p| &d[*p] == id));
    match user {
        None => Ok(None),
        Some(u) => Err(conflict(format!(
            "The instance of {} with {} {id} is in use by {} {}.",
            class.name, class.key, users.name, u[users.key]
        ))),
    }
}

fn tenant_delete(_: &AppState, db: &Db<'_>, current: &Value) -> Result<Option<Value>, AdminError> {
    in_use(
        db,
        &SMS_AAD_TENANT_EX,
        current,
        &SMS_AAD_APPLICATION_EX,
        &["TenantDB_ID"],
    )
}

/// Rules every write of an app row keeps: the tenant row exists and `TenantID` agrees
/// with it; a secret comes with its expiry and only on the server app.
fn app_rules(
    db: &Db<'_>,
    row: &mut Map<String, Value>,
    given: &Map<String, Value>,
) -> Result<(), AdminError> {
    let tenant = referenced(db, &SMS_AAD_TENANT_EX, row, "TenantDB_ID")?;
    match row.get("TenantID") {
        Some(Value::String(t))
            if !given.contains_key("TenantDB_ID") || given.contains_key("TenantID") =>
        {
            if !tenant["TenantID"]
                .as_str()
                .is_some_and(|tt| tt.eq_ignore_ascii_case(t))
            {
                return Err(bad(format!(
                    "TenantID '{t}' is not the TenantID of the SMS_AAD_Tenant_Ex instance {}.",
                    tenant["ID"]
                )));
            }
        }
        _ => {
            row.insert("TenantID".into(), tenant["TenantID"].clone());
        }
    }
    let sets_secret = given.get("SecretKey").is_some_and(Value::is_string);
    if sets_secret {
        if given.get("SecretKeyExpiry").is_none_or(Value::is_null) {
            return Err(bad(
                "SecretKeyExpiry is required in the same write as SecretKey.",
            ));
        }
        if row.get("IsClientApp") == Some(&json!(true)) {
            return Err(bad("A client app (IsClientApp true) holds no SecretKey."));
        }
    }
    Ok(())
}

fn app_write(
    _: &AppState,
    db: &Db<'_>,
    row: &mut Map<String, Value>,
    given: &Map<String, Value>,
) -> Result<(), AdminError> {
    let class = &SMS_AAD_APPLICATION_EX;
    required(row, class, "ClientID")?;
    required(row, class, "TenantDB_ID")?;
    default(row, "IsClientApp", json!(false));
    default(row, "IdentifierUri", json!(""));
    default(row, "Name", json!(""));
    app_rules(db, row, given)?;
    touch(row);
    Ok(())
}

fn app_update(
    _: &AppState,
    db: &Db<'_>,
    _: &Value,
    row: &mut Map<String, Value>,
    changes: &Map<String, Value>,
) -> Result<(), AdminError> {
    required(row, &SMS_AAD_APPLICATION_EX, "ClientID")?;
    app_rules(db, row, changes)?;
    touch(row);
    Ok(())
}

fn app_delete(_: &AppState, db: &Db<'_>, current: &Value) -> Result<Option<Value>, AdminError> {
    in_use(
        db,
        &SMS_AAD_APPLICATION_EX,
        current,
        &SMS_AZURE_CLOUDSERVICE,
        &["ServerAppDB_ID", "ClientAppDB_ID"],
    )
}

/// A ConfigMgr schedule token: 16 hex digits (SMS_ST_RecurInterval and friends packed
/// as `ScheduleString`).
fn is_schedule_token(s: &str) -> bool {
    s.len() == 16 && s.chars().all(|c| c.is_ascii_hexdigit())
}

fn service_rules(db: &Db<'_>, row: &mut Map<String, Value>) -> Result<(), AdminError> {
    let server = referenced(db, &SMS_AAD_APPLICATION_EX, row, "ServerAppDB_ID")?;
    let client = referenced(db, &SMS_AAD_APPLICATION_EX, row, "ClientAppDB_ID")?;
    if server["IsClientApp"] == json!(true) {
        return Err(bad("ServerAppDB_ID names a client app (IsClientApp true)."));
    }
    if client["IsClientApp"] != json!(true) {
        return Err(bad(
            "ClientAppDB_ID names a server app (IsClientApp false).",
        ));
    }
    if server["TenantDB_ID"] != client["TenantDB_ID"] {
        return Err(bad(
            "The server app and the client app belong to different tenants.",
        ));
    }
    default(row, "TenantDB_ID", server["TenantDB_ID"].clone());
    if row.get("TenantDB_ID") != Some(&server["TenantDB_ID"]) {
        return Err(bad("TenantDB_ID is not the tenant of the server app."));
    }
    match row.get("UserDeltaDiscoveryMins").and_then(Value::as_i64) {
        Some(5..=1440) => {}
        other => {
            return Err(bad(format!(
                "UserDeltaDiscoveryMins {} is outside 5..1440.",
                other.map_or_else(|| "null".into(), |n| n.to_string())
            )))
        }
    }
    match row.get("UserDiscoverySchedule") {
        Some(Value::String(s)) if is_schedule_token(s) => {}
        Some(Value::Null) | None => {}
        Some(v) => {
            return Err(bad(format!(
                "UserDiscoverySchedule {v} is not a schedule token (16 hex digits)."
            )))
        }
    }
    Ok(())
}

fn service_write(
    _: &AppState,
    db: &Db<'_>,
    row: &mut Map<String, Value>,
    _: &Map<String, Value>,
) -> Result<(), AdminError> {
    let class = &SMS_AZURE_CLOUDSERVICE;
    required(row, class, "Name")?;
    required(row, class, "ServerAppDB_ID")?;
    required(row, class, "ClientAppDB_ID")?;
    // "CloudManagement" and the defaults below are UNCONFIRMED values.
    default(row, "ServiceType", json!("CloudManagement"));
    default(row, "SiteCode", json!(SITE_CODE));
    default(row, "Description", json!(""));
    default(row, "AuthenticationType", json!(0));
    default(row, "EnableUserDiscovery", json!(false));
    default(row, "EnableUserDeltaDiscovery", json!(false));
    default(row, "UserDeltaDiscoveryMins", json!(5));
    service_rules(db, row)?;
    touch(row);
    Ok(())
}

fn service_update(
    _: &AppState,
    db: &Db<'_>,
    _: &Value,
    row: &mut Map<String, Value>,
    _: &Map<String, Value>,
) -> Result<(), AdminError> {
    required(row, &SMS_AZURE_CLOUDSERVICE, "Name")?;
    service_rules(db, row)?;
    touch(row);
    Ok(())
}

fn service_delete(_: &AppState, db: &Db<'_>, current: &Value) -> Result<Option<Value>, AdminError> {
    in_use(
        db,
        &SMS_AZURE_CLOUDSERVICE,
        current,
        &super::cmg::SMS_AZURESERVICE,
        &["AzureCloudServiceId"],
    )
}

/// `AdminService.RunUserDiscovery {"Full": true}`: the console's "Run Full Discovery
/// Now" (no API for it is documented: UNCONFIRMED). Starts discovery in the background
/// and answers at once; a service with user discovery off answers `ReturnValue` 1, one
/// already running answers 0 without starting another (both UNCONFIRMED).
fn run_user_discovery(
    st: &Shared,
    class: &'static WmiClass,
    instance: Option<Value>,
    params: Map<String, Value>,
) -> Result<Value, AdminError> {
    let Some(service) = instance else {
        return Err(bad("RunUserDiscovery is an instance method."));
    };
    let full = match params.get("Full") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad("The parameter 'Full' must be a boolean.")),
    };
    let key = rows::id_of(class, &service);
    let started = st.store.write(|db| {
        let current = rows::find(db, class, &key)?.ok_or_else(|| rows::not_found(class, &key))?;
        if current["EnableUserDiscovery"] != json!(true) {
            return Ok(None);
        }
        if current["LastUserDiscoveryStatus"] == json!(discovery::RUNNING) {
            return Ok(Some(false));
        }
        discovery::set_status(db, &current, discovery::RUNNING, None)?;
        Ok::<_, AdminError>(Some(true))
    })?;
    match started {
        None => Ok(json!({"ReturnValue": 1})),
        Some(false) => Ok(json!({"ReturnValue": 0})),
        Some(true) => {
            discovery::spawn(st.clone(), key, full);
            Ok(json!({"ReturnValue": 0}))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_tokens() {
        assert!(is_schedule_token("000A470000100038"));
        assert!(!is_schedule_token("000A47000010003"));
        assert!(!is_schedule_token("000A47000010003G"));
    }

    #[test]
    fn required_and_defaults() {
        let mut row = Map::new();
        row.insert("Name".into(), json!(" "));
        assert!(required(&row, &SMS_AZURE_CLOUDSERVICE, "Name").is_err());
        assert!(required(&row, &SMS_AZURE_CLOUDSERVICE, "ClientAppDB_ID").is_err());
        default(&mut row, "Name", json!("x"));
        assert_eq!(row["Name"], json!(" "));
        default(&mut row, "SiteCode", json!("ABC"));
        assert_eq!(row["SiteCode"], json!("ABC"));
        let mut env = Map::new();
        tenant_rules(&mut env).unwrap();
        assert_eq!(env["AzureEnvironment"], "AzurePublicCloud");
        env.insert("AzureEnvironment".into(), json!("AzureChinaCloud"));
        assert!(tenant_rules(&mut env).is_err());
    }
}
