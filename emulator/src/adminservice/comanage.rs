//! The co-management policy, as `New-CMCoManagementPolicy` leaves it: an
//! `SMS_ConfigurationPolicy` named `CoMgmtSettingsProd` (api-surface.md §15.4, §15.5),
//! deployed to a collection (All Systems by default, as the production policy is).
//!
//! UNCONFIRMED, emulated at the property level: the product keeps these settings in the
//! policy's configuration-item XML, whose schema is not public (§15.5, §21 item 9), and
//! a separate pilot policy whose name is not documented. Here one row holds them as
//! flat properties: `AutoEnrollment` (0 None, 1 Pilot, 2 All) with
//! `AutoEnrollmentCollectionID`, `TargetCollectionID` (the deployment's collection), and
//! per workload `<Workload>Workload` (0 Configuration Manager, 1 Pilot Intune, 2 Intune)
//! with `<Workload>PilotCollectionID`. Only co-management policies are emulated in this
//! class, and the site holds one (the 2207 cmdlet "prevent[s] creation of second
//! policy", §15.4).
//!
//! The rules a write keeps are the wizard's: a pilot needs its collection, a referenced
//! collection exists and holds devices, and device configuration moves only with
//! resource access and endpoint protection (workloads.md, §15.3).

use super::classes::{ro, rw, KeyKind, Ty, WmiClass};
use super::{collections, membership, rows, AdminError};
use crate::app::AppState;
use crate::store::Db;
use axum::http::StatusCode;
use serde_json::{json, Map, Value};

pub const NONE: i64 = 0;
pub const PILOT: i64 = 1;
pub const ALL: i64 = 2;

/// The seven workloads (workloads.md): property stem and `MDMWorkloads` bit (the bits
/// are UNCONFIRMED; see `devices.rs`).
pub const WORKLOADS: &[(&str, i64)] = &[
    ("CompliancePolicies", 2),
    ("ResourceAccessPolicies", 4),
    ("DeviceConfiguration", 8),
    ("WindowsUpdatePolicies", 16),
    ("EndpointProtection", 32),
    ("ClientApps", 64),
    ("OfficeClickToRunApps", 128),
];

/// Co-management itself, set whenever a device is co-managed.
const CO_MANAGED_BIT: i64 = 1;

pub const SMS_CONFIGURATIONPOLICY: WmiClass = WmiClass {
    name: "SMS_ConfigurationPolicy",
    key: "CI_ID",
    key_kind: KeyKind::Assigned { first: 16777500 },
    natural_key: &["LocalizedDisplayName"],
    props: &[
        ro("CI_ID", Ty::Int),
        ro("CI_UniqueID", Ty::Str),
        rw("LocalizedDisplayName", Ty::Str),
        rw("LocalizedDescription", Ty::Str),
        ro("DateCreated", Ty::Time),
        ro("DateLastModified", Ty::Time),
        rw("TargetCollectionID", Ty::Str),
        rw("AutoEnrollment", Ty::Int),
        rw("AutoEnrollmentCollectionID", Ty::Str),
        rw("CompliancePoliciesWorkload", Ty::Int),
        rw("CompliancePoliciesPilotCollectionID", Ty::Str),
        rw("ResourceAccessPoliciesWorkload", Ty::Int),
        rw("ResourceAccessPoliciesPilotCollectionID", Ty::Str),
        rw("DeviceConfigurationWorkload", Ty::Int),
        rw("DeviceConfigurationPilotCollectionID", Ty::Str),
        rw("WindowsUpdatePoliciesWorkload", Ty::Int),
        rw("WindowsUpdatePoliciesPilotCollectionID", Ty::Str),
        rw("EndpointProtectionWorkload", Ty::Int),
        rw("EndpointProtectionPilotCollectionID", Ty::Str),
        rw("ClientAppsWorkload", Ty::Int),
        rw("ClientAppsPilotCollectionID", Ty::Str),
        rw("OfficeClickToRunAppsWorkload", Ty::Int),
        rw("OfficeClickToRunAppsPilotCollectionID", Ty::Str),
    ],
    writable: true,
    on_create: Some(create),
    on_update: Some(update),
    on_delete: None,
    on_read: None,
    methods: &[],
};

fn bad(message: impl Into<String>) -> AdminError {
    AdminError::new(StatusCode::BAD_REQUEST, message)
}

/// The site's co-management policy, if it has one.
pub fn policy(db: &Db<'_>) -> Result<Option<Value>, AdminError> {
    Ok(db
        .docs(&SMS_CONFIGURATIONPOLICY.collection())?
        .into_iter()
        .next())
}

/// The `MDMWorkloads` bits of a co-managed device: each workload on Intune, or on Pilot
/// Intune with the device in its pilot collection.
pub fn workload_bits(db: &Db<'_>, policy: &Value, device: i64) -> Result<i64, AdminError> {
    let mut bits = CO_MANAGED_BIT;
    for (stem, bit) in WORKLOADS {
        let on = match policy[format!("{stem}Workload")].as_i64() {
            Some(ALL) => true,
            Some(PILOT) => match policy[format!("{stem}PilotCollectionID")].as_str() {
                Some(c) => membership::is_member(db, c, device)?,
                None => false,
            },
            _ => false,
        };
        if on {
            bits |= bit;
        }
    }
    Ok(bits)
}

fn int(row: &Map<String, Value>, name: &str) -> i64 {
    row.get(name).and_then(Value::as_i64).unwrap_or(NONE)
}

/// A collection a policy names: it exists and holds devices.
fn device_collection(db: &Db<'_>, prop: &str, id: &str) -> Result<(), AdminError> {
    let c = rows::find(db, &collections::SMS_COLLECTION, id)?
        .ok_or_else(|| bad(format!("{prop} '{id}' does not name a collection.")))?;
    if c["CollectionType"] != json!(2) {
        return Err(bad(format!("{prop} '{id}' is not a device collection.")));
    }
    Ok(())
}

fn rules(db: &Db<'_>, row: &mut Map<String, Value>) -> Result<(), AdminError> {
    if row
        .get("LocalizedDisplayName")
        .and_then(Value::as_str)
        .is_none_or(|n| n.trim().is_empty())
    {
        return Err(bad("LocalizedDisplayName is required."));
    }
    for (k, v) in [
        ("TargetCollectionID", json!("SMS00001")),
        ("AutoEnrollment", json!(NONE)),
        ("LocalizedDescription", json!("")),
    ] {
        if row.get(k).is_none_or(Value::is_null) {
            row.insert(k.into(), v);
        }
    }
    for (stem, _) in WORKLOADS {
        let k = format!("{stem}Workload");
        if row.get(&k).is_none_or(Value::is_null) {
            row.insert(k, json!(NONE));
        }
    }
    let mut pilots = vec![(
        "AutoEnrollment".to_string(),
        "AutoEnrollmentCollectionID".to_string(),
    )];
    pilots.extend(
        WORKLOADS
            .iter()
            .map(|(s, _)| (format!("{s}Workload"), format!("{s}PilotCollectionID"))),
    );
    for (state, coll) in &pilots {
        let v = int(row, state);
        if !(NONE..=ALL).contains(&v) {
            return Err(bad(format!("{state} must be 0, 1 or 2, not {v}.")));
        }
        let id = row.get(coll).and_then(Value::as_str).unwrap_or_default();
        if v == PILOT && id.is_empty() {
            return Err(bad(format!("{state} is Pilot (1): {coll} is required.")));
        }
        if !id.is_empty() {
            device_collection(db, coll, id)?;
        }
    }
    let target = row
        .get("TargetCollectionID")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    device_collection(db, "TargetCollectionID", &target)?;
    let dc = int(row, "DeviceConfigurationWorkload");
    for with in [
        "ResourceAccessPoliciesWorkload",
        "EndpointProtectionWorkload",
    ] {
        if int(row, with) < dc {
            return Err(bad(format!(
                "DeviceConfigurationWorkload {dc} moves {with} with it: {with} must be at least {dc}."
            )));
        }
    }
    row.insert("DateLastModified".into(), json!(crate::util::now_iso()));
    Ok(())
}

fn create(
    _: &AppState,
    db: &Db<'_>,
    row: &mut Map<String, Value>,
    _: &Map<String, Value>,
) -> Result<(), AdminError> {
    if let Some(p) = policy(db)? {
        return Err(AdminError::new(
            StatusCode::CONFLICT,
            format!(
                "The site already has a co-management policy, '{}'.",
                p["LocalizedDisplayName"].as_str().unwrap_or_default()
            ),
        ));
    }
    row.insert(
        "CI_UniqueID".into(),
        json!(format!(
            "ScopeId_{}/CoMgmtSettings_{}",
            crate::util::new_guid(),
            crate::util::new_guid()
        )),
    );
    row.insert("DateCreated".into(), json!(crate::util::now_iso()));
    rules(db, row)
}

fn update(
    _: &AppState,
    db: &Db<'_>,
    _: &Value,
    row: &mut Map<String, Value>,
    _: &Map<String, Value>,
) -> Result<(), AdminError> {
    rules(db, row)
}
