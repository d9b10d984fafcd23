//! Management points and software update points: "Allow Configuration Manager cloud
//! management gateway traffic" (`AllowProxyTraffic`, api-surface.md §13). An HTTP point
//! may take CMG traffic only when the site has enhanced HTTP: that is refused here,
//! before anything is written, with the fix. The embedded property of a software update
//! point is UNCONFIRMED (the management point's name is used for both).

use super::communication::has_enhanced_http;
use super::role_row::{https, prop_value, RoleRow, Want};
use super::row::ps_quote;
use crate::change::{ensure, Equivalent};
use crate::context::Ctx;
use crate::error::{ModuleError, Result};
use crate::site::model::*;
use crate::site::objects::SiteRole;

/// Which point.
#[derive(Clone, Copy)]
pub enum Point {
    Management,
    SoftwareUpdate,
}

impl Point {
    fn role_name(self) -> &'static str {
        match self {
            Point::Management => MANAGEMENT_POINT_ROLE,
            Point::SoftwareUpdate => SOFTWARE_UPDATE_POINT_ROLE,
        }
    }
    fn script_name(self) -> &'static str {
        match self {
            Point::Management => "management_point",
            Point::SoftwareUpdate => "software_update_point",
        }
    }
    fn words(self) -> &'static str {
        match self {
            Point::Management => "management point",
            Point::SoftwareUpdate => "software update point",
        }
    }
    /// `Set-CMManagementPoint`, `Set-CMSoftwareUpdatePoint` (sccm-ps).
    fn cmdlet(self) -> &'static str {
        match self {
            Point::Management => "Set-CMManagementPoint",
            Point::SoftwareUpdate => "Set-CMSoftwareUpdatePoint",
        }
    }
}

/// `RoleName eq '…' and SiteCode eq '…'`.
pub fn role_filter(role: &str, site_code: &str) -> String {
    format!(
        "RoleName eq '{role}' and SiteCode eq '{}'",
        site_code.replace('\'', "''")
    )
}

/// The servers holding `role` in the site, for a hint.
fn holders(ctx: &Ctx, role: &str, site_code: &str) -> Result<Vec<String>> {
    let read = ctx.read().admin_service()?;
    let rows = ctx.block_on(super::role_row::list(
        read,
        ROLE_CLASS,
        &role_filter(role, site_code),
        None,
    ));
    Ok(super::read_or_plan(ctx, rows, Vec::new)?
        .iter()
        .filter_map(|r| r["NetworkOSPath"].as_str())
        .map(|p| p.trim_start_matches('\\').to_string())
        .collect())
}

pub fn point(ctx: &Ctx, point: Point, server: &str, opts: &PointOptions) -> Result<SiteRole> {
    let f = format!("site::{}", point.script_name());
    let site = super::site(ctx)?;
    let read = ctx.read().admin_service()?;
    let filter = role_filter(point.role_name(), &site.code);
    let rows = ctx.block_on(super::role_row::list(
        read,
        ROLE_CLASS,
        &filter,
        Some(server),
    ));
    let current = super::read_or_plan(ctx, rows, Vec::new)?.into_iter().next();
    let unread = super::unread(&site);
    let current = match current {
        // A plan that cannot read the site cannot check the point either.
        None if unread => Some(serde_json::json!({})),
        c => c,
    };
    let Some(current) = current else {
        let on = holders(ctx, point.role_name(), &site.code)?;
        return Err(ModuleError::not_found(format!(
            "{f}: {server} has no {} in site {}",
            point.words(),
            site.code
        ))
        .with_hint(if on.is_empty() {
            format!("the site has no {}", point.words())
        } else {
            format!("the site's {}s: {}", point.words(), on.join(", "))
        }));
    };
    // The product refuses CMG traffic on an HTTP point unless the site uses enhanced
    // HTTP (plan-cloud-management-gateway.md): say so before writing anything.
    if opts.allow_cmg_traffic == Some(true)
        && !unread
        && prop_value(&current, ALLOW_PROXY_TRAFFIC) != Some(1)
        && !https(&current)
        && !has_enhanced_http(ctx, &site.code)?
    {
        return Err(ModuleError::validation(format!(
            "{f}: the {} on {server} takes HTTP client connections and site {} has no enhanced HTTP, so it cannot allow CMG traffic",
            point.words(),
            site.code
        ))
        .with_hint(format!(
            "turn on enhanced HTTP first: site::set_communication(#{{ client_communication: \"https_or_http\", use_configmgr_certificates: true }}), or configure the {} for HTTPS",
            point.words()
        )));
    }
    let changes_before = ctx.summary().changes();
    let mut row = RoleRow::new(
        match point {
            Point::Management => "management point",
            Point::SoftwareUpdate => "software update point",
        },
        ROLE_CLASS,
        filter,
        format!("{}[{}]", site.code, server),
        server.to_string(),
    );
    row.server = Some(server.to_string());
    row.unread = unread;
    if let Some(allow) = opts.allow_cmg_traffic {
        row.wants.push(Want {
            name: ALLOW_PROXY_TRAFFIC,
            value: i64::from(allow),
            value1: None,
        });
        row.equivalent = Some(Equivalent::powershell(format!(
            "{} -SiteSystemServerName {} -SiteCode {} -EnableCloudGateway ${allow}",
            point.cmdlet(),
            ps_quote(server),
            ps_quote(&site.code)
        )));
    }
    let written = ensure(ctx, row)?;
    let now = written.value().cloned().unwrap_or(current);
    Ok(SiteRole {
        server: server.to_string(),
        role: point.script_name().to_string(),
        role_name: point.role_name().to_string(),
        site_code: site.code,
        cmg: String::new(),
        allow_cmg_traffic: prop_value(&now, ALLOW_PROXY_TRAFFIC) == Some(1),
        https: https(&now),
        changed: ctx.summary().changes() > changes_before,
    })
}
