//! Site system roles added and removed by name: the CMG connection point
//! (`SMS Cloud Proxy Connector`, api-surface.md §12) on a site system, bound to a CMG
//! by its service name. The embedded property holding that name is UNCONFIRMED
//! ([`CMG_PROP`]).

use super::points::role_filter;
use super::role_row::{key_path, list, RoleRow, Want};
use super::row::ps_quote;
use super::MODULE;
use crate::change::{ensure, Action, Equivalent, Op, Outcome, Resource, ResourceId, Written};
use crate::cloud::access::Writer;
use crate::cmg::model::{CLOUD_PROXY_SERVICE, CMG_CLASS};
use crate::context::Ctx;
use crate::error::{ModuleError, Result};
use crate::site::model::*;
use crate::site::objects::{Site, SiteRole};
use serde_json::{json, Value};
use std::cell::RefCell;

/// The CMG a connection point serves: its service name, and whether it may not exist
/// yet (a plan that creates it).
pub struct CmgRef {
    pub name: String,
    pub planned: bool,
}

/// Every site system of the site (servers with any role).
fn site_systems(ctx: &Ctx, site: &Site) -> Result<Vec<String>> {
    let read = ctx.read().admin_service()?;
    let filter = format!("SiteCode eq '{}'", site.code.replace('\'', "''"));
    let rows = ctx.block_on(list(read, ROLE_CLASS, &filter, None));
    let mut out: Vec<String> = super::read_or_plan(ctx, rows, Vec::new)?
        .iter()
        .filter_map(|r| r["NetworkOSPath"].as_str())
        .map(|p| p.trim_start_matches('\\').to_string())
        .collect();
    out.sort_by_key(|s| s.to_ascii_lowercase());
    out.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    Ok(out)
}

/// `server` as the site spells it, or an error listing the site systems.
fn site_system(ctx: &Ctx, f: &str, site: &Site, server: &str) -> Result<String> {
    let all = site_systems(ctx, site)?;
    if all.is_empty() && ctx.is_plan() {
        // A plan that could not read the site (see `read_or_plan`).
        return Ok(server.to_string());
    }
    all.iter()
        .find(|s| s.eq_ignore_ascii_case(server))
        .cloned()
        .ok_or_else(|| {
            ModuleError::not_found(format!(
                "{f}: {server} is not a site system of site {}",
                site.code
            ))
            .with_hint(format!("the site's site systems: {}", all.join(", ")))
        })
}

fn check_cmg(ctx: &Ctx, f: &str, cmg: &CmgRef) -> Result<()> {
    if cmg.planned {
        return Ok(());
    }
    let read = ctx.read().admin_service()?;
    let filter = format!(
        "Name eq '{}' and ServiceType eq '{CLOUD_PROXY_SERVICE}'",
        cmg.name.replace('\'', "''")
    );
    let rows = ctx.block_on(read.list(CMG_CLASS, &[("$filter", &filter)]));
    let rows = super::read_or_plan(ctx, rows, Vec::new)?;
    if rows.is_empty() && !ctx.is_plan() {
        return Err(ModuleError::not_found(format!(
            "{f}: the site has no cloud management gateway {:?}",
            cmg.name
        ))
        .with_hint("create it first with cmg::ensure(...), and pass what it returns as `cmg`"));
    }
    Ok(())
}

pub fn ensure_role(ctx: &Ctx, server: &str, role: &str, cmg: &CmgRef) -> Result<SiteRole> {
    const F: &str = "site::ensure_role";
    let role_name = role_name(F, role)?;
    let site = super::site(ctx)?;
    let server = site_system(ctx, F, &site, server)?;
    check_cmg(ctx, F, cmg)?;
    let changes_before = ctx.summary().changes();
    let mut row = RoleRow::new(
        "CMG connection point",
        ROLE_CLASS,
        role_filter(role_name, &site.code),
        format!("{}[{server}]", site.code),
        cmg.name.clone(),
    );
    row.server = Some(server.clone());
    row.wants = vec![Want {
        name: CMG_PROP,
        value: 0,
        value1: Some(cmg.name.clone()),
    }];
    row.create = Some(json!({
        "RoleName": role_name,
        "NetworkOSPath": format!("\\\\{server}"),
        "SiteCode": site.code,
        "Props": [],
    }));
    row.equivalent = Some(Equivalent::powershell(format!(
        "Add-CMCloudManagementGatewayConnectionPoint -CloudManagementGatewayName {} -SiteSystemServerName {} -SiteCode {}",
        ps_quote(&cmg.name),
        ps_quote(&server),
        ps_quote(&site.code)
    )));
    ensure(ctx, row)?;
    Ok(SiteRole {
        server,
        role: role.to_string(),
        role_name: role_name.to_string(),
        site_code: site.code,
        cmg: cmg.name.clone(),
        allow_cmg_traffic: false,
        https: false,
        changed: ctx.summary().changes() > changes_before,
    })
}

/// Removing a role: observed as absent when the role is there (so `ensure` makes its
/// one write, reported as a delete) and as `{}` when it is gone (unchanged).
struct Removal {
    role_name: &'static str,
    site_code: String,
    server: String,
    found: RefCell<Option<Value>>,
    equivalent: Equivalent,
}

impl Resource for Removal {
    type Output = bool;

    fn id(&self, _observed: Option<&Value>) -> ResourceId {
        ResourceId::new(
            MODULE,
            "site system role",
            format!("{}[{}]", self.site_code, self.server),
        )
        .label(self.role_name)
    }

    fn observe(&self, ctx: &Ctx) -> Result<Option<Value>> {
        let read = ctx.read().admin_service()?;
        let filter = role_filter(self.role_name, &self.site_code);
        let rows = ctx.block_on(list(read, ROLE_CLASS, &filter, Some(&self.server)));
        let row = super::read_or_plan(ctx, rows, Vec::new)?.into_iter().next();
        let gone = row.is_none();
        *self.found.borrow_mut() = row;
        Ok(gone.then(|| json!({})))
    }

    fn desired(&self, _observed: Option<&Value>) -> Result<Value> {
        Ok(json!({}))
    }

    fn create_action(&self) -> Action {
        Action::Delete
    }

    fn equivalent(&self) -> Option<Equivalent> {
        Some(self.equivalent.clone())
    }

    async fn write(&self, w: &Writer<'_>, _op: Op<'_>) -> Result<Written> {
        let row = self.found.borrow().clone().unwrap_or_default();
        let path = key_path(ROLE_CLASS, &row)?;
        w.admin_service()?.delete(&path).await?;
        Ok(Written::new(json!({})))
    }

    fn output(self, outcome: Outcome) -> Result<bool> {
        Ok(!matches!(outcome, Outcome::Unchanged(_)))
    }
}

/// Remove `role` from `server`; true when it was there (in a plan: would be removed).
pub fn remove_role(ctx: &Ctx, server: &str, role: &str) -> Result<bool> {
    const F: &str = "site::remove_role";
    let role_name = role_name(F, role)?;
    let site = super::site(ctx)?;
    let server = site_system(ctx, F, &site, server)?;
    let cmdlet = format!(
        "Remove-CMCloudManagementGatewayConnectionPoint -SiteSystemServerName {} -SiteCode {} -Force",
        ps_quote(&server),
        ps_quote(&site.code)
    );
    ensure(
        ctx,
        Removal {
            role_name,
            site_code: site.code.clone(),
            server,
            found: RefCell::new(None),
            equivalent: Equivalent::powershell(cmdlet),
        },
    )
}
