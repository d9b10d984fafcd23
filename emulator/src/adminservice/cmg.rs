//! `SMS_AzureService`: the cloud management gateway as the site records it, and the
//! site's service connection point deploying and managing it in Azure as the server
//! app (arm/cmg.rs, called in the row's own write transaction so a refused write
//! changes neither side).
//! Documented properties: MicrosoftDocs/memdocs:memdocs/configmgr/develop/reference/core/servers/configure/sms_azureservice-server-wmi-class.md
//! (api-surface.md §9.3), documented methods `Start` and `Stop`; the VMSS-era properties
//! (`DeploymentModel`, `AzureCloudServiceId`, `ResourceGroup`, `VMSize`, …), the write
//! rules below and the `State` values (cmg_state.rs) are UNCONFIRMED, from the issue-7
//! contract.
//!
//! - POST needs the PFX and its password (cmg_cert.rs) and starts the deployment; a
//!   refusal Azure answers at once (no role for the server app: `AuthorizationFailed`)
//!   still makes the row, in Error, as the site records a failed deployment.
//! - PATCH scales (`NumberOfInstances`) or replaces the certificate (same name); where
//!   the CMG is (`Region`, `ResourceGroup`, `SubscriptionID`) and what it is (`Name`,
//!   `ServiceType`, …) cannot change.
//! - DELETE answers 204 at once; the row stays, Deleting, until Azure's resources are
//!   gone, then reads as absent (UNCONFIRMED: the console shows the CMG deleting for a
//!   while, which is what this models).
//! - `Stop`/`Start` deallocate/start the scale set; `Start` on a CMG whose deployment
//!   failed deploys it again (UNCONFIRMED).

use super::classes::{ro, rw, secret, KeyKind, Method, Ty, WmiClass};
use super::cmg_cert::{self, ServiceCert};
use super::cmg_state::{self as state, Live};
use super::{aad, rows, AdminError};
use crate::app::{AppState, Shared};
use crate::arm::cmg::{self as arm, CmgSpec};
use crate::arm::errors::ArmError;
use crate::store::Db;
use axum::http::StatusCode;
use serde_json::{json, Map, Value};

pub const CLOUD_PROXY_SERVICE: &str = "CloudProxyService";
/// `DeploymentModel` of a virtual machine scale set CMG (UNCONFIRMED value).
const VMSS_MODEL: i64 = 2;

pub const SMS_AZURESERVICE: WmiClass = WmiClass {
    name: "SMS_AzureService",
    key: "AzureServiceID",
    key_kind: KeyKind::Assigned { first: 1 },
    natural_key: &["Name", "ServiceType"],
    props: &[
        ro("AzureServiceID", Ty::Int),
        rw("Name", Ty::Str),
        rw("ServiceCName", Ty::Str),
        rw("Description", Ty::Str),
        rw("ServiceType", Ty::Str),
        rw("SiteCode", Ty::Str),
        rw("SubscriptionID", Ty::Str),
        rw("Region", Ty::Str),
        rw("NumberOfInstances", Ty::Int),
        ro("ServiceCertificate", Ty::Str),
        // Derived from the PFX; a client that sends it is refused as for any
        // read-only property (the stdlib never sends it).
        ro("ServiceThumbprint", Ty::Str),
        ro("ServiceThumbprintAlgorithm", Ty::Str),
        ro("State", Ty::Int),
        ro("StatusDetails", Ty::Str),
        rw("TrafficWarningThreshold", Ty::Int),
        rw("TrafficCriticalThreshold", Ty::Int),
        rw("TrafficOutInGB", Ty::Int),
        rw("TrafficOutStopService", Ty::Bool),
        rw("StorageQuotaInGB", Ty::Int),
        rw("StorageWarningThreshold", Ty::Int),
        rw("StorageCriticalThreshold", Ty::Int),
        ro("StorageServiceName", Ty::Str),
        ro("Fqdn", Ty::Str),
        // Written by the stdlib on create (2); only the VMSS model is deployable.
        rw("DeploymentModel", Ty::Int),
        rw("AzureCloudServiceId", Ty::Int),
        rw("ResourceGroup", Ty::Str),
        rw("VMSize", Ty::Str),
        rw("CheckClientCertRevocation", Ty::Bool),
        rw("EnforceProtocol", Ty::Bool),
        rw("EnableCloudDPFunction", Ty::Bool),
        rw("ServerAppClientId", Ty::Guid),
        rw("TenantID", Ty::Guid),
        ro("CertificateExpiry", Ty::Time),
        ro("DeploymentId", Ty::Str),
        secret("ServiceCertificatePfx"),
        secret("ServiceCertificatePassword"),
    ],
    writable: true,
    on_create: Some(create),
    on_update: Some(update),
    on_delete: Some(delete),
    on_read: Some(read),
    methods: &[
        Method {
            name: "Start",
            is_static: false,
            run: start_method,
        },
        Method {
            name: "Stop",
            is_static: false,
            run: stop_method,
        },
    ],
};

/// What cannot change once the CMG exists (its place in Azure, its name and kind).
const FIXED: &[&str] = &[
    "Name",
    "ServiceType",
    "SubscriptionID",
    "Region",
    "ResourceGroup",
    "DeploymentModel",
    "EnableCloudDPFunction",
    "ServerAppClientId",
    "AzureCloudServiceId",
    "TenantID",
    "SiteCode",
];

fn bad(message: impl Into<String>) -> AdminError {
    AdminError::new(StatusCode::BAD_REQUEST, message)
}

fn text<'a>(row: &'a Map<String, Value>, name: &str) -> &'a str {
    row.get(name).and_then(Value::as_str).unwrap_or_default()
}

fn default(row: &mut Map<String, Value>, name: &str, v: Value) {
    if row.get(name).is_none_or(Value::is_null) {
        row.insert(name.into(), v);
    }
}

fn required(row: &Map<String, Value>, name: &str) -> Result<(), AdminError> {
    match row.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(()),
        Some(v) if !v.is_null() && !v.is_string() => Ok(()),
        _ => Err(bad(format!(
            "The property '{name}' is required to create an instance of SMS_AzureService."
        ))),
    }
}

/// The name prefix: the service name's first label (`GraniteFalls.contoso.com`).
fn prefix(name: &str) -> &str {
    name.split('.').next().unwrap_or_default()
}

/// ARM's short region form (`West US` → `westus`).
fn short_region(r: &str) -> String {
    r.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

fn instances(row: &Map<String, Value>) -> Result<u32, AdminError> {
    match row.get("NumberOfInstances").and_then(Value::as_i64) {
        Some(n @ 1..=16) => Ok(n as u32),
        other => Err(bad(format!(
            "NumberOfInstances {} is outside 1..16.",
            other.map_or_else(|| "null".into(), |n| n.to_string())
        ))),
    }
}

/// The certificate a write sends: both secrets together, or neither.
fn sent_certificate(given: &Map<String, Value>) -> Result<Option<ServiceCert>, AdminError> {
    let pfx = given.get("ServiceCertificatePfx").and_then(Value::as_str);
    let password = given
        .get("ServiceCertificatePassword")
        .and_then(Value::as_str);
    match (pfx, password) {
        (None, None) => Ok(None),
        (Some(p), Some(pw)) => cmg_cert::open(p, pw).map(Some),
        _ => Err(bad(
            "ServiceCertificatePfx and ServiceCertificatePassword are written together.",
        )),
    }
}

/// The server app the site deploys as: the app row whose `ClientID` is
/// `ServerAppClientId`, else the server app of the cloud service `AzureCloudServiceId`.
fn server_app(db: &Db<'_>, row: &Map<String, Value>) -> Result<Value, AdminError> {
    let apps = db.docs(&aad::SMS_AAD_APPLICATION_EX.collection())?;
    let by_client_id = |id: &str| {
        apps.iter()
            .find(|a| {
                a["ClientID"]
                    .as_str()
                    .is_some_and(|c| c.eq_ignore_ascii_case(id))
            })
            .cloned()
    };
    if let Some(id) = row.get("ServerAppClientId").and_then(Value::as_str) {
        return match by_client_id(id) {
            Some(a) if a["IsClientApp"] != json!(true) => Ok(a),
            Some(_) => Err(bad(format!("ServerAppClientId {id} names the client app."))),
            None => Err(bad(format!(
                "ServerAppClientId {id} is not a server app the site knows (SMS_AAD_Application_Ex)."
            ))),
        };
    }
    let service_id = row.get("AzureCloudServiceId").and_then(Value::as_i64);
    let service = match service_id {
        Some(id) => rows::find(db, &aad::SMS_AZURE_CLOUDSERVICE, &id.to_string())?,
        None => None,
    }
    .ok_or_else(|| {
        bad("ServerAppClientId or AzureCloudServiceId (the Azure service the CMG deploys with) is required.")
    })?;
    let app_id = service["ServerAppDB_ID"].to_string();
    rows::find(db, &aad::SMS_AAD_APPLICATION_EX, &app_id)?
        .ok_or_else(|| bad("The Azure service's server app is not in the site."))
}

/// Map a refusal of Azure: invalid input is the client's (400, nothing written);
/// anything else is the CMG's failure, recorded on the row (Error).
fn arm_outcome(row: &mut Map<String, Value>, done: Result<(), ArmError>) -> Result<(), AdminError> {
    match done {
        Ok(()) => {
            state::record(row, None);
            Ok(())
        }
        Err(e) if e.code == "InvalidParameter" => Err(bad(e.message)),
        Err(e) if e.status.is_server_error() => Err(AdminError::new(e.status, e.message)),
        Err(e) => {
            tracing::info!(code = %e.code, "CMG: Azure refused the site's request");
            state::record(row, Some(&e));
            Ok(())
        }
    }
}

/// Start the CMG's deployment from its row, as the server app; fills `DeploymentId`.
fn deploy(st: &AppState, db: &Db<'_>, row: &mut Map<String, Value>) -> Result<(), AdminError> {
    let app = server_app(db, row)?;
    let spec = CmgSpec {
        subscription: text(row, "SubscriptionID").to_string(),
        resource_group: text(row, "ResourceGroup").to_string(),
        region: text(row, "Region").to_string(),
        prefix: prefix(text(row, "Name")).to_string(),
        vm_size: text(row, "VMSize").to_string(),
        instances: instances(row)?,
        content: row.get("EnableCloudDPFunction") == Some(&json!(true)),
        principal_app_id: app["ClientID"].as_str().unwrap_or_default().to_string(),
        certificate_thumbprint: text(row, "ServiceThumbprint").to_string(),
    };
    let started = arm::start_in(st, db, &spec).map(|id| {
        row.insert("DeploymentId".into(), json!(id));
    });
    arm_outcome(row, started)
}

/// Drop the records of deleted CMGs whose Azure side is gone, so their names are free.
fn purge_gone(st: &AppState, db: &Db<'_>) -> Result<(), AdminError> {
    let class = &SMS_AZURESERVICE;
    for doc in db.docs(&class.collection())? {
        if doc[state::DELETING_MARK] == json!(true)
            && rows::live(st, db, class, doc.clone())?.is_none()
        {
            db.delete(&class.collection(), &rows::id_of(class, &doc))?;
        }
    }
    Ok(())
}

fn create(
    st: &AppState,
    db: &Db<'_>,
    row: &mut Map<String, Value>,
    given: &Map<String, Value>,
) -> Result<(), AdminError> {
    purge_gone(st, db)?;
    for p in ["Name", "SubscriptionID", "Region", "ResourceGroup"] {
        required(row, p)?;
    }
    default(row, "ServiceType", json!(CLOUD_PROXY_SERVICE));
    if text(row, "ServiceType") != CLOUD_PROXY_SERVICE {
        return Err(bad(format!(
            "ServiceType must be '{CLOUD_PROXY_SERVICE}': this site deploys only cloud management gateways."
        )));
    }
    default(row, "DeploymentModel", json!(VMSS_MODEL));
    if row.get("DeploymentModel") != Some(&json!(VMSS_MODEL)) {
        return Err(bad(
            "DeploymentModel must be 2 (virtual machine scale set): the classic cloud service model is retired.",
        ));
    }
    // The wizard's defaults (plan-cloud-management-gateway.md; the values UNCONFIRMED).
    default(row, "SiteCode", json!(super::site::SITE_CODE));
    default(row, "Description", json!(""));
    default(row, "NumberOfInstances", json!(1));
    default(row, "VMSize", json!("Standard_A2_v2"));
    default(row, "EnableCloudDPFunction", json!(false));
    default(row, "CheckClientCertRevocation", json!(false));
    default(row, "EnforceProtocol", json!(true));
    default(row, "TrafficWarningThreshold", json!(50));
    default(row, "TrafficCriticalThreshold", json!(90));
    default(row, "TrafficOutStopService", json!(false));
    instances(row)?;
    let cert = sent_certificate(given)?.ok_or_else(|| {
        bad("ServiceCertificatePfx and ServiceCertificatePassword are required to create a CMG.")
    })?;
    let name = text(row, "Name").to_string();
    if !cmg_cert::serves(&cert.common_name, &name) {
        return Err(bad(format!(
            "The certificate is for '{}', not the CMG's name '{name}'.",
            cert.common_name
        )));
    }
    cert.fill(row);
    let region = short_region(text(row, "Region"));
    default(
        row,
        "ServiceCName",
        json!(format!(
            "{}.{region}.cloudapp.azure.com",
            prefix(&name).to_ascii_lowercase()
        )),
    );
    let app = server_app(db, row)?;
    default(row, "ServerAppClientId", app["ClientID"].clone());
    default(row, "TenantID", app["TenantID"].clone());
    deploy(st, db, row)
}

fn update(
    st: &AppState,
    db: &Db<'_>,
    current: &Value,
    row: &mut Map<String, Value>,
    changes: &Map<String, Value>,
) -> Result<(), AdminError> {
    if current[state::DELETING_MARK] == json!(true) {
        return Err(AdminError::new(
            StatusCode::CONFLICT,
            "The CMG is being deleted.",
        ));
    }
    for p in FIXED.iter().filter(|p| changes.contains_key(**p)) {
        let same = match (&current[*p], &changes[*p]) {
            (Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
            (a, b) => a == b,
        };
        if !same {
            return Err(bad(format!(
                "The property '{p}' of a CMG cannot change after it is created."
            )));
        }
        // The same value in another case keeps the stored spelling.
        row.insert((*p).into(), current[*p].clone());
    }
    let n = instances(row)?;
    let cert = sent_certificate(changes)?;
    if let Some(c) = &cert {
        let name = text(row, "Name").to_string();
        if !cmg_cert::serves(&c.common_name, &name) {
            return Err(bad(format!(
                "The new certificate is for '{}', but the CMG is '{name}': a renewed certificate must have exactly the CMG's name (case included).",
                c.common_name
            )));
        }
        c.fill(row);
    }
    let Some(id) = current["DeploymentId"].as_str().map(str::to_string) else {
        // Never deployed (Azure refused): a change is a new attempt.
        return deploy(st, db, row);
    };
    let mut done = Ok(());
    if changes.contains_key("NumberOfInstances") && current["NumberOfInstances"] != json!(n) {
        done = arm::set_capacity_in(st, db, &id, n);
    }
    if let (Some(c), Ok(())) = (&cert, &done) {
        done = arm::update_certificate_in(st, db, &id, &c.thumbprint);
    }
    arm_outcome(row, done)
}

fn delete(st: &AppState, db: &Db<'_>, current: &Value) -> Result<Option<Value>, AdminError> {
    let Some(id) = current["DeploymentId"].as_str() else {
        return Ok(None);
    };
    let mut row = current.as_object().cloned().unwrap_or_default();
    match arm::delete_in(st, db, id) {
        Ok(()) => {
            state::record(&mut row, None);
            row.insert(state::DELETING_MARK.into(), json!(true));
        }
        Err(e) if e.code == "DeploymentNotFound" => return Ok(None),
        // Azure refused (the server app lost its role): the CMG stays, in Error, and
        // a later DELETE tries again.
        done => arm_outcome(&mut row, done)?,
    }
    Ok(Some(Value::Object(row)))
}

fn read(st: &AppState, db: &Db<'_>, doc: &mut Value) -> Result<bool, AdminError> {
    let progress = doc["DeploymentId"]
        .as_str()
        .map(|id| arm::progress_in(st, db, id));
    let live = state::live(doc, progress);
    state::apply(doc, &live);
    Ok(live != Live::Gone)
}

/// A power change on the stored row, given its deployment id (none: never deployed).
type PowerFn =
    fn(&AppState, &Db<'_>, &mut Map<String, Value>, Option<&str>) -> Result<(), AdminError>;

/// Run `f` on the stored CMG in one write transaction; `ReturnValue` 0 when Azure took
/// the request, 1 when it refused (recorded on the row) or there is nothing to do it
/// on — WMI's way to fail a method.
fn power(st: &Shared, instance: Option<Value>, f: PowerFn) -> Result<Value, AdminError> {
    let class = &SMS_AZURESERVICE;
    let Some(instance) = instance else {
        return Err(bad("Start and Stop are instance methods."));
    };
    let key = rows::id_of(class, &instance);
    st.store.write(|db| {
        let stored = rows::find(db, class, &key)?.ok_or_else(|| rows::not_found(class, &key))?;
        if stored[state::DELETING_MARK] == json!(true) {
            return Ok(json!({"ReturnValue": 1}));
        }
        let mut row = stored.as_object().cloned().unwrap_or_default();
        f(st, db, &mut row, stored["DeploymentId"].as_str())?;
        let refused = row.contains_key(state::ARM_ERROR);
        rows::bump(&mut row);
        db.update(&class.collection(), &key, &Value::Object(row))?;
        Ok(json!({"ReturnValue": if refused { 1 } else { 0 }}))
    })
}

/// `Start`: start the scale set; a CMG whose deployment failed (or never started) is
/// deployed again.
fn start_method(
    st: &Shared,
    _: &'static WmiClass,
    instance: Option<Value>,
    _: Map<String, Value>,
) -> Result<Value, AdminError> {
    power(st, instance, |st, db, row, id| {
        let Some(id) = id else {
            return deploy(st, db, row);
        };
        match arm::progress_in(st, db, id) {
            Ok(Some(p)) if p.deployment_state != "Failed" => {
                arm_outcome(row, arm::power_on_in(st, db, id))
            }
            Ok(_) => deploy(st, db, row),
            Err(e) => arm_outcome(row, Err(e)),
        }
    })
}

/// `Stop`: deallocate the scale set.
fn stop_method(
    st: &Shared,
    _: &'static WmiClass,
    instance: Option<Value>,
    _: Map<String, Value>,
) -> Result<Value, AdminError> {
    power(st, instance, |st, db, row, id| match id {
        Some(id) => arm_outcome(row, arm::power_off_in(st, db, id)),
        None => {
            state::record(
                row,
                Some(&ArmError::new(
                    StatusCode::CONFLICT,
                    "DeploymentNotFound",
                    "The CMG was never deployed: there is nothing to stop.",
                )),
            );
            Ok(())
        }
    })
}
