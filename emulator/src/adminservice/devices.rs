//! The lab's devices (`SMS_R_System`) and their co-management state
//! (`SMS_Client_ComanagementState`), both maintained by the site and served read-only.
//!
//! Forty devices are seeded: the site server and a domain controller (servers, which
//! co-management does not target), 36 Windows workstations with the client and two
//! discovered workstations without it. Each workstation carries a fixed enrollment
//! outcome, so the co-management state is computed when read: before the co-management
//! policy exists nothing is co-managed; once it exists, each device the automatic
//! enrollment targets (all, or the members of its collection) shows its outcome —
//! enrolled, pending user sign-in, enrollment initiated, scheduled, or failed with one of
//! the documented errors (how-to-monitor.md).
//!
//! Sources: api-surface.md §0.2 and §15.5 (`ResourceID` key, `MDMEnrolled`,
//! `MDMProvisioned`, `MDMWorkloads`, `Authority`, `ComgmtPolicyPresent`; co-managed ⇔
//! `MDMEnrolled=1 AND ComgmtPolicyPresent=1`), MicrosoftDocs/memdocs
//! comanage/how-to-monitor.md (the dashboard's states and errors). UNCONFIRMED and
//! emulator-only: `EnrollmentStatus` and `EnrollmentErrorDetail` (the dashboard's
//! states have no documented property), the values of `Authority`, and the
//! `MDMWorkloads` bits (the third-party reading that 16 is Windows Update policies and
//! 255 is everything is kept, api-surface.md §15.3).

use super::classes::{ro, KeyKind, Ty, WmiClass};
use super::{comanage, membership, AdminError};
use crate::app::AppState;
use crate::store::{Db, StoreError};
use serde_json::{json, Value};

pub const SMS_R_SYSTEM: WmiClass = WmiClass::read_only(
    "SMS_R_System",
    "ResourceId",
    KeyKind::Given,
    &[],
    &[
        ro("ResourceId", Ty::Int),
        ro("Name", Ty::Str),
        ro("NetbiosName", Ty::Str),
        ro("Client", Ty::Int),
        ro("ClientVersion", Ty::Str),
        ro("Active", Ty::Int),
        ro("Obsolete", Ty::Int),
        ro("OperatingSystemNameandVersion", Ty::Str),
        ro("ResourceDomainORWorkgroup", Ty::Str),
        ro("AADDeviceID", Ty::Str),
    ],
);

pub const SMS_CLIENT_COMANAGEMENTSTATE: WmiClass = WmiClass {
    name: "SMS_Client_ComanagementState",
    key: "ResourceID",
    key_kind: KeyKind::Given,
    natural_key: &[],
    props: &[
        ro("ResourceID", Ty::Int),
        ro("MDMEnrolled", Ty::Int),
        ro("MDMProvisioned", Ty::Int),
        ro("MDMWorkloads", Ty::Int),
        ro("Authority", Ty::Str),
        ro("ComgmtPolicyPresent", Ty::Int),
        ro("EnrollmentStatus", Ty::Int),
        ro("EnrollmentErrorDetail", Ty::Int),
    ],
    writable: false,
    on_create: None,
    on_update: None,
    on_delete: None,
    on_read: Some(state),
    methods: &[],
};

/// `EnrollmentStatus` (emulator-only codes, in the dashboard's order).
pub const NOT_ELIGIBLE: i64 = 0;
pub const ELIGIBLE: i64 = 1;
pub const SCHEDULED: i64 = 2;
pub const INITIATED: i64 = 3;
pub const ENROLLED: i64 = 4;
pub const PENDING_USER_SIGN_IN: i64 = 5;

/// MENROLL_E_USERLICENSE and MENROLL_E_MDM_NOT_CONFIGURED (how-to-monitor.md).
pub const E_USERLICENSE: i64 = 0x8018_0018;
pub const E_MDM_NOT_CONFIGURED: i64 = 0x8018_002B;

/// The first seeded device's `ResourceId` (the range is UNCONFIRMED).
const FIRST_DEVICE: i64 = 16777219;
const DOMAIN: &str = "COMGMTLAB";

/// How a workstation's enrollment goes once it is targeted (hidden field).
const FATE: &str = "_fate";
/// Enrolled in MDM before co-management (hidden field): the device shows MDMEnrolled
/// but is not co-managed until the policy reaches it.
const PRE_ENROLLED: &str = "_mdm";

fn fate(i: i64) -> (i64, i64) {
    match (i % 9, i) {
        (0, 9 | 27) => (INITIATED, E_USERLICENSE),
        (0, _) => (INITIATED, E_MDM_NOT_CONFIGURED),
        (4, _) => (PENDING_USER_SIGN_IN, 0),
        (7, _) => (INITIATED, 0),
        (_, 2 | 11) => (SCHEDULED, 0),
        _ => (ENROLLED, 0),
    }
}

fn device(id: i64, name: &str, server: bool, client: bool) -> Value {
    let os = if server {
        "Microsoft Windows NT Server 10.0"
    } else {
        "Microsoft Windows NT Workstation 10.0"
    };
    json!({
        "ResourceId": id,
        "Name": name,
        "NetbiosName": name,
        "Client": i64::from(client),
        "ClientVersion": if client { json!("5.00.9128.1007") } else { Value::Null },
        "Active": i64::from(client),
        "Obsolete": 0,
        "OperatingSystemNameandVersion": os,
        "ResourceDomainORWorkgroup": DOMAIN,
        "AADDeviceID": format!("5e1ab000-0000-4000-8000-{id:012}"),
        "_etag": 1,
    })
}

/// The seeded devices, and a state row for each one with a client.
fn population() -> (Vec<Value>, Vec<Value>) {
    let mut devices = vec![
        device(FIRST_DEVICE, "CM01", true, true),
        device(FIRST_DEVICE + 1, "DC01", true, true),
    ];
    let mut states = Vec::new();
    for id in [FIRST_DEVICE, FIRST_DEVICE + 1] {
        states.push(json!({"ResourceID": id, "_etag": 1}));
    }
    for i in 1..=38 {
        let id = FIRST_DEVICE + 1 + i;
        let client = i <= 36;
        devices.push(device(id, &format!("LAB-WS{i:02}"), false, client));
        if client {
            let (status, error) = fate(i);
            states.push(json!({
                "ResourceID": id, "_etag": 1,
                FATE: {"status": status, "error": error},
                PRE_ENROLLED: i == 1 || i == 5,
            }));
        }
    }
    (devices, states)
}

/// Seed the devices and their state once.
pub fn seed(db: &Db<'_>) -> Result<(), StoreError> {
    let (devices, states) = population();
    for (class, rows) in [
        (&SMS_R_SYSTEM, devices),
        (&SMS_CLIENT_COMANAGEMENTSTATE, states),
    ] {
        let collection = class.collection();
        if db.docs(&collection)?.is_empty() {
            for r in rows {
                db.insert(&collection, &super::rows::id_of(class, &r), &r)?;
            }
        }
    }
    Ok(())
}

/// The state as the client reports it, given the co-management policy (if any).
fn state(_: &AppState, db: &Db<'_>, doc: &mut Value) -> Result<bool, AdminError> {
    let id = doc["ResourceID"].as_i64().unwrap_or_default();
    let fate = doc[FATE].clone();
    let workstation = fate.is_object();
    let pre = doc[PRE_ENROLLED] == json!(true);
    let policy = comanage::policy(db)?;
    // The production policy targets All Systems; its applicability excludes servers
    // (how-to-monitor.md).
    let present = workstation && policy.is_some();
    let targeted = match &policy {
        Some(p) if present => match p["AutoEnrollment"].as_i64() {
            Some(comanage::ALL) => true,
            Some(comanage::PILOT) => p["AutoEnrollmentCollectionID"]
                .as_str()
                .map(|c| membership::is_member(db, c, id))
                .transpose()?
                .unwrap_or(false),
            _ => false,
        },
        _ => false,
    };
    let (status, error) = if targeted {
        (
            fate["status"].as_i64().unwrap_or(ELIGIBLE),
            fate["error"].as_i64().unwrap_or(0),
        )
    } else if workstation {
        (ELIGIBLE, 0)
    } else {
        (NOT_ELIGIBLE, 0)
    };
    let enrolled = status == ENROLLED || pre;
    let co_managed = enrolled && present;
    let workloads = match (&policy, co_managed) {
        (Some(p), true) => comanage::workload_bits(db, p, id)?,
        _ => 0,
    };
    let m = doc
        .as_object_mut()
        .ok_or_else(|| AdminError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "bad row"))?;
    m.insert("MDMEnrolled".into(), json!(i64::from(enrolled)));
    m.insert("MDMProvisioned".into(), json!(i64::from(enrolled)));
    m.insert("MDMWorkloads".into(), json!(workloads));
    m.insert(
        "Authority".into(),
        json!(if co_managed { "CoManaged" } else { "ConfigMgr" }),
    );
    m.insert("ComgmtPolicyPresent".into(), json!(i64::from(present)));
    m.insert(
        "EnrollmentStatus".into(),
        json!(if pre && status != ENROLLED && !targeted {
            ELIGIBLE
        } else {
            status
        }),
    );
    m.insert("EnrollmentErrorDetail".into(), json!(error));
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forty_devices_and_a_mix_of_outcomes() {
        let (devices, states) = population();
        assert_eq!(devices.len(), 40);
        assert_eq!(states.len(), 38);
        let enrolled = (1..=36).filter(|i| fate(*i).0 == ENROLLED).count();
        let failed = (1..=36).filter(|i| fate(*i).1 != 0).count();
        assert_eq!((enrolled, failed), (22, 4));
    }
}
