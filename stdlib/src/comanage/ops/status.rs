//! Devices by co-management state, counted from `SMS_Client_ComanagementState` the way
//! the console's co-management dashboard groups them (how-to-monitor.md, api-surface.md
//! §15.5): co-managed ⇔ `MDMEnrolled = 1 AND ComgmtPolicyPresent = 1`; the enrollment
//! states Eligible, Scheduled, Enrollment initiated and Enrolled; the statuses Success,
//! Enrolling, Pending user sign in and Failed, with the failures' errors.
//!
//! The property carrying a device's enrollment state and error is UNCONFIRMED (the
//! dashboard's data has no documented property): `EnrollmentStatus` and
//! `EnrollmentErrorDetail` are read where the site answers them; without them only the
//! documented co-managed count is meaningful.

use crate::comanage::model::STATE_CLASS;
use crate::comanage::objects::Status;
use crate::context::Ctx;
use crate::error::Result;
use crate::site::ops::read_or_plan;
use serde_json::Value;

/// The dashboard's enrollment states, by the emulator's `EnrollmentStatus` codes.
const STATES: &[(i64, &str)] = &[
    (0, "Not eligible"),
    (1, "Eligible"),
    (2, "Scheduled"),
    (3, "Enrollment initiated"),
    (4, "Enrolled"),
    (5, "Pending user sign in"),
];

/// Enrollment errors the monitoring doc names (how-to-monitor.md).
const ERRORS: &[(i64, &str)] = &[
    (0x8018_0018, "MENROLL_E_USERLICENSE"),
    (0x8018_002B, "MENROLL_E_MDM_NOT_CONFIGURED"),
    (0x8018_0026, "MENROLL_E_WAB_ERROR"),
    (0x8018_0001, "MENROLL_E_DEVICE_MESSAGE_FORMAT_ERROR"),
];

fn flag(row: &Value, prop: &str) -> bool {
    row[prop].as_i64() == Some(1) || row[prop].as_bool() == Some(true)
}

/// Count the site's devices.
pub fn status(ctx: &Ctx) -> Result<Status> {
    let admin = ctx.read().admin_service()?;
    let rows = read_or_plan(ctx, ctx.block_on(admin.list(STATE_CLASS, &[])), Vec::new)?;
    Ok(count(&rows))
}

pub(crate) fn count(rows: &[Value]) -> Status {
    let mut s = Status {
        total: rows.len() as i64,
        ..Status::default()
    };
    for row in rows {
        let present = flag(row, "ComgmtPolicyPresent");
        s.policy_present += i64::from(present);
        s.co_managed += i64::from(present && flag(row, "MDMEnrolled"));
        let Some(code) = row["EnrollmentStatus"].as_i64() else {
            continue;
        };
        let state = STATES
            .iter()
            .find(|(c, _)| *c == code)
            .map_or("Unknown", |(_, n)| n);
        *s.states.entry(state.to_string()).or_default() += 1;
        let error = row["EnrollmentErrorDetail"].as_i64().unwrap_or(0);
        let status = match code {
            _ if error != 0 => Some("Failed"),
            4 => Some("Success"),
            5 => Some("Pending user sign in"),
            2 | 3 => Some("Enrolling"),
            _ => None,
        };
        if let Some(st) = status {
            *s.statuses.entry(st.to_string()).or_default() += 1;
        }
        if error != 0 {
            let name = ERRORS
                .iter()
                .find(|(c, _)| *c == error)
                .map_or("", |(_, n)| n);
            let key = format!("0x{error:08X} {name}").trim_end().to_string();
            *s.errors.entry(key).or_default() += 1;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn groups_like_the_dashboard() {
        let rows = vec![
            json!({"MDMEnrolled": 1, "ComgmtPolicyPresent": 1, "EnrollmentStatus": 4, "EnrollmentErrorDetail": 0}),
            json!({"MDMEnrolled": 1, "ComgmtPolicyPresent": 0, "EnrollmentStatus": 1}),
            json!({"MDMEnrolled": 0, "ComgmtPolicyPresent": 1, "EnrollmentStatus": 3, "EnrollmentErrorDetail": 0x8018_0018_i64}),
            json!({"MDMEnrolled": 0, "ComgmtPolicyPresent": 1, "EnrollmentStatus": 5, "EnrollmentErrorDetail": 0}),
        ];
        let s = count(&rows);
        assert_eq!((s.total, s.co_managed, s.policy_present), (4, 1, 3));
        assert_eq!(s.statuses["Failed"], 1);
        assert_eq!(s.statuses["Success"], 1);
        assert_eq!(s.statuses["Pending user sign in"], 1);
        assert_eq!(s.errors["0x80180018 MENROLL_E_USERLICENSE"], 1);
        assert_eq!(s.states["Eligible"], 1);
    }
}
