//! The CCMSETUPCMD line computed from what the site knows: its code, the CMG's service
//! name with the path the CMG publishes the management point under, and the Entra apps.
//! Reads only, so a plan computes it too.

use super::model::{self, Command, MUTUAL_AUTH};
use crate::context::Ctx;
use crate::error::{ModuleError, Result};
use crate::preflight::{Finding, Severity};
use crate::site::objects::text;
use serde_json::Value;

/// What the line is made from.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// The CMG's service name (what client policy carries).
    pub cmg_service_name: String,
    /// The server app's App ID URI (AADRESOURCEURI) and the client app's id
    /// (AADCLIENTAPPID); empty to leave them out.
    pub resource_uri: String,
    pub client_app_id: String,
    /// `/CCM_Proxy_MutualAuth/<id>`, when the caller knows it; else read from the site.
    pub mutual_auth_path: Option<String>,
    pub smsmp: Option<String>,
    pub provision_ts: Option<String>,
}

/// The line and what its checks found.
pub struct Computed {
    pub command: Command,
    pub text: String,
    pub findings: Vec<Finding>,
}

/// Compute and check the line.
pub fn compute(ctx: &Ctx, inputs: &Inputs) -> Result<Computed> {
    let site = crate::site::ops::site(ctx)?;
    let mut findings = Vec::new();
    let path = match &inputs.mutual_auth_path {
        Some(p) => normalize_path(p)?,
        None => management_point_path(ctx, &mut findings)?,
    };
    let mut cmd = Command::default();
    cmd.set(
        "CCMHOSTNAME",
        format!("{}{path}", inputs.cmg_service_name.trim_end_matches('.')),
    );
    cmd.set("SMSSITECODE", site.code.clone());
    if !inputs.client_app_id.is_empty() {
        cmd.set("AADCLIENTAPPID", inputs.client_app_id.clone());
    }
    if !inputs.resource_uri.is_empty() {
        cmd.set("AADRESOURCEURI", inputs.resource_uri.clone());
    }
    if let Some(mp) = &inputs.smsmp {
        cmd.set("SMSMP", mp.clone());
    }
    if let Some(ts) = &inputs.provision_ts {
        cmd.set("PROVISIONTS", ts.clone());
    }
    let text = cmd.render();
    findings.extend(model::check(&cmd, &text));
    Ok(Computed {
        command: cmd,
        text,
        findings,
    })
}

/// `/CCM_Proxy_MutualAuth/72057594037927939` from `72057594037927939` or the path.
fn normalize_path(p: &str) -> Result<String> {
    let p = p.trim();
    let id = p
        .rsplit_once(MUTUAL_AUTH.trim_end_matches('/'))
        .map(|(_, id)| id.trim_matches('/'))
        .unwrap_or(p);
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(ModuleError::validation(format!(
            "mutual_auth_path {p:?} is not {MUTUAL_AUTH}<numeric id> or the id"
        )));
    }
    Ok(format!("{MUTUAL_AUTH}{id}"))
}

/// The path the CMG publishes a management point under, from the management point's
/// site system role (`MutualAuthPath`, named after the site database's
/// `vProxy_Roles.MutualAuthPath`: UNCONFIRMED). A management point that allows CMG
/// traffic is preferred; none that does is a warning (the wizard shows the line only
/// once the prerequisites are met).
fn management_point_path(ctx: &Ctx, findings: &mut Vec<Finding>) -> Result<String> {
    let admin = ctx.read().admin_service()?;
    let rows = ctx.block_on(admin.list(
        "wmi/SMS_SCI_SysResUse",
        &[("$filter", "RoleName eq 'SMS Management Point'")],
    ));
    let unknown = || format!("{MUTUAL_AUTH}(known after apply)");
    let rows = match rows {
        Err(e) if crate::site::ops::unreachable_in_plan(ctx, &e) => return Ok(unknown()),
        other => other?,
    };
    let prop = |r: &Value, name: &str| {
        r["Props"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["PropertyName"] == name))
            .cloned()
    };
    let allows =
        |r: &Value| prop(r, "AllowProxyTraffic").is_some_and(|p| p["Value"].as_i64() == Some(1));
    let with_path: Vec<&Value> = rows
        .iter()
        .filter(|r| prop(r, "MutualAuthPath").is_some_and(|p| !text(&p, "Value1").is_empty()))
        .collect();
    let chosen = with_path
        .iter()
        .find(|r| allows(r))
        .or_else(|| with_path.first())
        .copied();
    let Some(mp) = chosen else {
        return Err(ModuleError::not_found(
            "the site publishes no management point path for the CMG (no MutualAuthPath on any management point)",
        )
        .with_hint("pass mutual_auth_path: the CCMHOSTNAME path an internet client shows in SMS_ActiveMPCandidate (…/CCM_Proxy_MutualAuth/<id>)"));
    };
    if !allows(mp) {
        findings.push(Finding::new(
            "mp-cmg-traffic",
            Severity::Warning,
            format!(
                "the management point {} does not allow CMG traffic yet: clients cannot use this line until it does",
                text(mp, "NetworkOSPath").trim_start_matches('\\')
            ),
            "site::management_point(server, #{ allow_cmg_traffic: true })",
        ));
    }
    let path = prop(mp, "MutualAuthPath")
        .map(|p| text(&p, "Value1"))
        .unwrap_or_default();
    normalize_path(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalize() {
        assert_eq!(
            normalize_path("72057594037927939").unwrap(),
            "/CCM_Proxy_MutualAuth/72057594037927939"
        );
        assert_eq!(
            normalize_path("/CCM_Proxy_MutualAuth/72057594037927939").unwrap(),
            "/CCM_Proxy_MutualAuth/72057594037927939"
        );
        assert_eq!(
            normalize_path("cmg.contoso.com/CCM_Proxy_MutualAuth/7").unwrap(),
            "/CCM_Proxy_MutualAuth/7"
        );
        assert!(normalize_path("abc").is_err());
        assert!(normalize_path("/CCM_Proxy_MutualAuth/").is_err());
    }
}
