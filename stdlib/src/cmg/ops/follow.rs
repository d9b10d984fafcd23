//! Following a CMG after the site was told what to do: the site's state until it
//! settles (with progress on a TTY and a deadline), then what the deployment left in
//! Azure. The site deploys to Azure itself; this only reads.

use crate::cmg::model::*;
use crate::cmg::objects::Cmg;
use crate::context::Ctx;
use crate::error::{ModuleError, Result};
use crate::site::objects::text;
use serde_json::Value;
use std::time::{Duration, Instant};

/// The site's row of a CMG, by its id.
pub fn row(ctx: &Ctx, id: i64) -> Result<Value> {
    let admin = ctx.read().admin_service()?;
    ctx.block_on(admin.get_opt(&format!("{CMG_CLASS}({id})")))?
        .ok_or_else(|| ModuleError::not_found(format!("the site has no CMG with id {id}")))
}

/// Wait until the site reports the CMG in one of `done` (or Error), at most `timeout`
/// seconds. A state outside `done` at the deadline, or Error, is an error with the last
/// state and the deployment's operation id.
pub fn wait_for_state(ctx: &Ctx, id: i64, done: &[i64], timeout: u64) -> Result<Value> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(timeout.max(1));
    let mut pause = Duration::from_millis(250);
    loop {
        let r = row(ctx, id)?;
        let state = r["State"].as_i64().unwrap_or(-1);
        let name = text(&r, "Name");
        if done.contains(&state) {
            return Ok(r);
        }
        if state == ERROR {
            return Err(ModuleError::remote(format!(
                "the CMG {name} failed in Azure: {} (deployment {})",
                or_none(&text(&r, "StatusDetails")),
                or_none(&text(&r, "DeploymentId"))
            ))
            .with_hint(
                "the site's CloudMgr.log and CMGSetup.log say more; fix the cause, then run again",
            ));
        }
        if Instant::now() >= deadline {
            return Err(ModuleError::remote(format!(
                "the CMG {name} was still {} after {timeout} s (last status {}; deployment {})",
                state_name(state),
                or_none(&text(&r, "StatusDetails")),
                or_none(&text(&r, "DeploymentId"))
            ))
            .with_hint("a VMSS CMG can take 15 minutes or more: run again with a longer `timeout` to go on following it"));
        }
        ctx.output.progress(&format!(
            "CMG {name}: {} {}({} s)",
            state_name(state),
            match text(&r, "StatusDetails") {
                d if d.is_empty() => String::new(),
                d => format!("- {d} "),
            },
            started.elapsed().as_secs()
        ));
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_secs(15));
    }
}

fn or_none(s: &str) -> &str {
    if s.is_empty() {
        "none"
    } else {
        s
    }
}

/// Fill in what the CMG is in Azure: the resources named from its prefix in its
/// resource group, the scale set's provisioning state and the public IP's FQDN. Names
/// are matched without case, since the product's resource names are UNCONFIRMED.
pub fn azure_facts(ctx: &Ctx, cmg: &mut Cmg) -> Result<()> {
    if cmg.subscription.is_empty() || cmg.resource_group.is_empty() {
        return Ok(());
    }
    let prefix = cmg.name.split('.').next().unwrap_or_default().to_string();
    let arm = ctx.read().arm();
    let list = format!(
        "/subscriptions/{}/resourceGroups/{}/resources",
        cmg.subscription, cmg.resource_group
    );
    let resources = ctx.block_on(arm.list(&list, RESOURCES_API))?;
    let mine: Vec<&Value> = resources
        .iter()
        .filter(|r| {
            r["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(&prefix))
        })
        .collect();
    cmg.resources = mine
        .iter()
        .map(|r| format!("{}/{}", text(r, "type"), text(r, "name")))
        .collect();
    cmg.resources.sort();
    let of_type = |t: &str| {
        mine.iter()
            .find(|r| text(r, "type").eq_ignore_ascii_case(t))
            .map(|r| text(r, "id"))
    };
    if let Some(id) = of_type("Microsoft.Compute/virtualMachineScaleSets") {
        if let Some(v) = ctx.block_on(arm.get_opt(&id, COMPUTE_API))? {
            cmg.provisioning_state = text(&v["properties"], "provisioningState");
        }
    }
    if let Some(id) = of_type("Microsoft.Network/publicIPAddresses") {
        if let Some(v) = ctx.block_on(arm.get_opt(&id, NETWORK_API))? {
            cmg.fqdn = text(&v["properties"]["dnsSettings"], "fqdn");
        }
    }
    Ok(())
}
