//! A CMG's `State` and `StatusDetails`, computed when the row is read from its ARM
//! deployment's progress (arm/cmg.rs), so no background task is needed: a read shows
//! Provisioning until the deployment is Succeeded, Upgrading while the scale set
//! updates, and so on.
//! The values are the issue-7 contract's (UNCONFIRMED; the docs give none): 0 Ready,
//! 1 Provisioning, 2 Error, 3 Starting, 4 Stopping, 5 Stopped, 6 Deleting, 7 Upgrading.
//! `StatusDetails` is the state's word, and for Error `Error: {ARM code}: {message}`
//! (the product's wording is UNCONFIRMED; its CloudMgr.log carries ARM's code and text).

use crate::arm::cmg::CmgProgress;
use crate::arm::errors::ArmError;
use serde_json::{json, Value};

pub const READY: i64 = 0;
pub const PROVISIONING: i64 = 1;
pub const ERROR: i64 = 2;
pub const STARTING: i64 = 3;
pub const STOPPING: i64 = 4;
pub const STOPPED: i64 = 5;
pub const DELETING: i64 = 6;
pub const UPGRADING: i64 = 7;

/// Internal fields of a CMG row (never shown: `_`-prefixed): the last failure of an
/// Azure call the site made for it, and a delete in progress.
pub const ARM_ERROR: &str = "_arm_error";
pub const DELETING_MARK: &str = "_deleting";

fn word(state: i64) -> &'static str {
    match state {
        READY => "Ready",
        PROVISIONING => "Provisioning",
        ERROR => "Error",
        STARTING => "Starting",
        STOPPING => "Stopping",
        STOPPED => "Stopped",
        DELETING => "Deleting",
        _ => "Upgrading",
    }
}

/// What a read shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Live {
    /// Deleted, and Azure says its resources are gone: the row is no more.
    Gone,
    Shown {
        state: i64,
        details: String,
        fqdn: Option<String>,
    },
}

fn shown(state: i64, fqdn: Option<String>) -> Live {
    Live::Shown {
        state,
        details: word(state).to_string(),
        fqdn,
    }
}

fn error(code: &str, message: &str) -> Live {
    Live::Shown {
        state: ERROR,
        details: format!("Error: {code}: {message}"),
        fqdn: None,
    }
}

/// Record (or clear, with `None`) the failure of an Azure call on the row.
pub fn record(row: &mut serde_json::Map<String, Value>, failure: Option<&ArmError>) {
    match failure {
        Some(e) => row.insert(
            ARM_ERROR.into(),
            json!({"code": e.code, "message": e.message}),
        ),
        None => row.remove(ARM_ERROR),
    };
}

/// The state of `row` given its deployment's progress (`None`: the row has no
/// deployment yet).
pub fn live(row: &Value, progress: Option<Result<Option<CmgProgress>, ArmError>>) -> Live {
    let deleting = row[DELETING_MARK] == json!(true);
    let failure = &row[ARM_ERROR];
    let failed = || {
        error(
            failure["code"].as_str().unwrap_or_default(),
            failure["message"].as_str().unwrap_or_default(),
        )
    };
    let p = match progress {
        None if deleting => return Live::Gone,
        None if failure.is_object() => return failed(),
        None => return shown(PROVISIONING, None),
        Some(Err(e)) => return error(&e.code, &e.message),
        Some(Ok(None)) if deleting => return Live::Gone,
        Some(Ok(None)) => {
            return error(
                "DeploymentNotFound",
                "The CMG's deployment is no longer in Azure.",
            )
        }
        Some(Ok(Some(p))) => p,
    };
    // A failed delete leaves the CMG in Error until a delete succeeds.
    if failure.is_object() {
        return failed();
    }
    if deleting || p.deployment_state == "Deleting" {
        return shown(DELETING, p.fqdn);
    }
    match p.deployment_state.as_str() {
        "Running" => return shown(PROVISIONING, p.fqdn),
        "Failed" => {
            return error(
                p.error_code.as_deref().unwrap_or("DeploymentFailed"),
                p.error_message.as_deref().unwrap_or_default(),
            )
        }
        _ => {}
    }
    let Some(power) = p.power_state.as_deref() else {
        return error(
            "ResourceNotFound",
            "The CMG's virtual machine scale set is no longer in Azure.",
        );
    };
    let state = match power {
        "starting" => STARTING,
        "deallocating" | "stopping" => STOPPING,
        "deallocated" | "stopped" => STOPPED,
        _ => match p.scale_set_state.as_deref() {
            Some("Creating") => PROVISIONING,
            Some("Updating") => UPGRADING,
            _ => READY,
        },
    };
    shown(state, p.fqdn)
}

/// Write what a read shows into the row.
pub fn apply(row: &mut Value, live: &Live) {
    if let Live::Shown {
        state,
        details,
        fqdn,
    } = live
    {
        row["State"] = json!(state);
        row["StatusDetails"] = json!(details);
        if let Some(f) = fqdn {
            row["Fqdn"] = json!(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    fn progress(deployment: &str, power: &str, vmss: &str) -> CmgProgress {
        CmgProgress {
            deployment_state: deployment.into(),
            error_code: (deployment == "Failed").then(|| "StorageAccountAlreadyTaken".into()),
            error_message: (deployment == "Failed").then(|| "taken".into()),
            fqdn: Some("granitefalls.westus.cloudapp.azure.com".into()),
            capacity: Some(1),
            power_state: Some(power.into()),
            scale_set_state: Some(vmss.into()),
        }
    }

    fn state(row: &Value, p: CmgProgress) -> (i64, String) {
        match live(row, Some(Ok(Some(p)))) {
            Live::Shown { state, details, .. } => (state, details),
            Live::Gone => (-1, String::new()),
        }
    }

    #[test]
    fn states_follow_the_deployment() {
        let row = json!({});
        // (deployment, power, provisioning) → the CMG's state.
        for (dep, power, prov, want) in [
            ("Running", "starting", "Creating", PROVISIONING),
            ("Succeeded", "running", "Succeeded", READY),
            ("Succeeded", "running", "Updating", UPGRADING),
            ("Succeeded", "deallocating", "Succeeded", STOPPING),
            ("Succeeded", "deallocated", "Succeeded", STOPPED),
            ("Succeeded", "starting", "Succeeded", STARTING),
            ("Deleting", "running", "Deleting", DELETING),
        ] {
            assert_eq!(
                state(&row, progress(dep, power, prov)).0,
                want,
                "{dep} {power} {prov}"
            );
        }
        let (s, d) = state(&row, progress("Failed", "running", "Succeeded"));
        assert_eq!(
            (s, d.as_str()),
            (ERROR, "Error: StorageAccountAlreadyTaken: taken")
        );
    }

    #[test]
    fn failures_and_deletes() {
        let mut row = json!({});
        let e = ArmError::new(StatusCode::FORBIDDEN, "AuthorizationFailed", "no role");
        if let Some(m) = row.as_object_mut() {
            record(m, Some(&e));
        }
        assert_eq!(
            live(&row, None),
            Live::Shown {
                state: ERROR,
                details: "Error: AuthorizationFailed: no role".into(),
                fqdn: None
            }
        );
        assert_eq!(live(&json!({}), None), shown(PROVISIONING, None));
        let deleting = json!({DELETING_MARK: true});
        assert_eq!(live(&deleting, Some(Ok(None))), Live::Gone);
        assert_eq!(live(&deleting, None), Live::Gone);
        assert_eq!(
            state(&deleting, progress("Succeeded", "running", "Succeeded")).0,
            DELETING
        );
        assert!(matches!(
            live(&json!({}), Some(Ok(None))),
            Live::Shown { state: ERROR, .. }
        ));
    }
}
