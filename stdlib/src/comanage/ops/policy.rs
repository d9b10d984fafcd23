//! Co-management on: the site's co-management policy `CoMgmtSettingsProd` with
//! automatic enrollment, the seven workloads and their pilot collections, deployed to
//! All Systems. One AdminService row found by its name; the site holds one such policy
//! and refuses a twin (409), and the run that gets the 409 changes the first one.
//!
//! How the product stores these settings (the policy's CI XML and a pilot policy) is
//! UNCONFIRMED (api-surface.md §15.5, §21 item 9): the properties written here are
//! emulated at the property level. Both product lines take the same settings; the line
//! (from the site's build) decides the console path the plan names, since 2111 and later
//! edit them under Cloud Attach.

use super::{existing_collection, MODULE};
use crate::change::{ensure, Equivalent, Known};
use crate::comanage::model::*;
use crate::comanage::objects::CoManagement;
use crate::context::Ctx;
use crate::error::{ErrorKind, Result};
use crate::site::ops::row::{ps_quote, WmiRow};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashSet};

const F: &str = "comanage::enable";

/// Enable co-management. `planned`: collections (by name) a plan creates earlier in the
/// same run, passed as `Collection` objects: they are not in the site yet.
pub fn enable(ctx: &Ctx, opts: &EnableOptions, planned: &HashSet<String>) -> Result<CoManagement> {
    let settings = opts.validate()?;
    let site = crate::site::ops::site(ctx)?;
    let line = if site.build == 0 && ctx.is_plan() {
        // A plan that cannot read the site yet (see site::ops::read_or_plan).
        ctx.note_once("the site's build is unknown in this plan: the co-management settings are shown for cloud attach (2111 and later)");
        Line::CloudAttach
    } else {
        Line::of(site.build)?
    };
    ctx.note_once(&format!(
        "co-management: site build {} takes the {} settings ({})",
        site.build,
        line.text(),
        line.console_path()
    ));
    // Every collection named must exist before anything is written.
    let id_of = |name: &str, what: &str| -> Result<String> {
        let row = match existing_collection(ctx, F, name, what) {
            Err(e) if e.kind == ErrorKind::NotFound && ctx.is_plan() && planned.contains(name) => {
                json!({"CollectionID": Known::<String>::AfterApply.text()})
            }
            other => other?,
        };
        Ok(row["CollectionID"].as_str().unwrap_or_default().to_string())
    };
    let auto_coll = settings
        .pilot_collection
        .as_deref()
        .map(|n| id_of(n, "automatic enrollment"))
        .transpose()?;
    let mut body = Map::new();
    body.insert("LocalizedDisplayName".into(), json!(POLICY_NAME));
    body.insert("TargetCollectionID".into(), json!(ALL_SYSTEMS_ID));
    body.insert(
        "AutoEnrollment".into(),
        json!(settings.auto_enrollment as i64),
    );
    body.insert("AutoEnrollmentCollectionID".into(), json!(auto_coll));
    for (w, stage, coll) in &settings.workloads {
        let id = coll
            .as_deref()
            .map(|n| id_of(n, &format!("{} pilot", w.key)))
            .transpose()?;
        body.insert(format!("{}Workload", w.stem), json!(*stage as i64));
        body.insert(format!("{}PilotCollectionID", w.stem), json!(id));
    }

    let changes_before = ctx.summary().changes();
    let mut row = WmiRow::new(
        MODULE,
        "co-management policy",
        POLICY_CLASS,
        (
            "LocalizedDisplayName",
            Known::Value(POLICY_NAME.to_string()),
        ),
        POLICY_NAME,
        Value::Object(body),
    );
    row.key_prop = "CI_ID";
    row.create_equivalent = Some(create_equivalent(&settings, line));
    row.update_equivalent = Some(Equivalent::powershell(format!(
        "# no cmdlet changes co-management settings (there is no Set-CMCoManagementPolicy): console > {} (Enablement, Workloads, Staging)",
        line.console_path()
    )));
    ensure(ctx, row)?;

    let workloads: BTreeMap<String, String> = settings
        .workloads
        .iter()
        .map(|(w, s, _)| (w.key.to_string(), s.workload_text().to_string()))
        .collect();
    let pilot_collections: BTreeMap<String, String> = settings
        .workloads
        .iter()
        .filter_map(|(w, _, c)| c.clone().map(|c| (w.key.to_string(), c)))
        .collect();
    Ok(CoManagement {
        policy: POLICY_NAME.to_string(),
        product_line: line.text().to_string(),
        site_build: site.build,
        auto_enrollment: settings.auto_enrollment.enrollment_text().to_string(),
        pilot_collection: settings.pilot_collection.clone(),
        workloads,
        pilot_collections,
        changed: ctx.summary().changes() > changes_before,
    })
}

/// `New-CMCoManagementPolicy` (a switch per workload moved to Intune) and its
/// deployment to All Systems. Pilot states and collections have no cmdlet parameter
/// (api-surface.md §15.4): the command says where the console sets them.
fn create_equivalent(settings: &Settings, line: Line) -> Equivalent {
    let switches: String = settings
        .workloads
        .iter()
        .filter(|(_, s, _)| *s == Stage::On)
        .map(|(w, _, _)| format!(" {}", w.switch))
        .collect();
    let auto = settings.auto_enrollment != Stage::Off;
    let mut command = format!(
        "New-CMCoManagementPolicy -AutoEnroll ${auto} -CoManagementPolicyName {}{switches}; New-CMConfigurationPolicyDeployment -CoManagementPolicyName {} -CollectionId {}",
        ps_quote(POLICY_NAME),
        ps_quote(POLICY_NAME),
        ps_quote(ALL_SYSTEMS_ID)
    );
    let pilots = settings.auto_enrollment == Stage::Pilot
        || settings
            .workloads
            .iter()
            .any(|(_, s, c)| *s == Stage::Pilot || c.is_some());
    if pilots {
        command.push_str(&format!(
            " # no cmdlet sets pilot enrollment, Pilot Intune or pilot collections: console > {} (Enablement, Staging)",
            line.console_path()
        ));
    }
    Equivalent::powershell(command)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(workloads: &[(&str, &str)], pilots: &[(&str, &str)]) -> Settings {
        EnableOptions {
            auto_enrollment: "all".into(),
            pilot_collection: None,
            workloads: workloads
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            pilot_collections: pilots
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
        .validate()
        .unwrap()
    }

    #[test]
    fn the_cmdlet_line_on_both_product_lines() {
        let all = settings(&[("windows_update_policies", "intune")], &[]);
        let e = create_equivalent(&all, Line::CloudAttach);
        assert_eq!(
            e.command,
            "New-CMCoManagementPolicy -AutoEnroll $true -CoManagementPolicyName 'CoMgmtSettingsProd' -WufbWorkloadEnabled; New-CMConfigurationPolicyDeployment -CoManagementPolicyName 'CoMgmtSettingsProd' -CollectionId 'SMS00001'"
        );
        let pilot = settings(&[("client_apps", "pilot_intune")], &[("client_apps", "P")]);
        let e = create_equivalent(&pilot, Line::CoManagement);
        assert!(e
            .command
            .ends_with("console > Administration > Cloud Services > Co-management > CoMgmtSettingsProd > Properties (Enablement, Staging)"));
        assert!(
            !e.command.contains("-ClientAppsWorkloadEnabled"),
            "pilot is not Intune"
        );
    }
}
