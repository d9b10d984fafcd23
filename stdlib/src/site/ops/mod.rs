//! What the site module reads and writes through the AdminService: the site, the
//! Entra tenant and apps imported into it, the cloud-management Azure service, a
//! discovery run, the site's communication settings and its site system roles. Rows are written only through `change::ensure` ([`row::WmiRow`]).

mod communication;
mod discovery;
mod points;
mod role_row;
mod roles;
pub mod row;
mod service;

pub use communication::set_communication;
pub use discovery::{run_discovery, DiscoveryOptions};
pub use points::{point, Point};
pub use roles::{ensure_role, remove_role, CmgRef};
pub use service::ensure_azure_service;

use crate::context::Ctx;
use crate::error::{ErrorKind, ModuleError, Result};
use crate::site::model::SITE_CLASS;
use crate::site::objects::Site;

/// The module name in plans and the journal.
pub(crate) const MODULE: &str = "site";

/// Whether a plan may go on without the AdminService: reached through the CMG with a
/// token for the server app, it cannot be asked before a plan's server app exists
/// (Entra answers AADSTS500011). The plan then shows the site's rows as new.
pub(crate) fn unreachable_in_plan(ctx: &Ctx, e: &ModuleError) -> bool {
    let yes = ctx.is_plan() && e.kind == ErrorKind::Auth && e.message.contains("AADSTS500011");
    if yes {
        ctx.note_once(
            "the AdminService is reached with a token for the server app, which this plan creates: \
             the plan cannot read the site, and shows its objects as new",
        );
    }
    yes
}

/// A read of the AdminService that a plan may skip (see [`unreachable_in_plan`]).
pub(crate) fn read_or_plan<T>(ctx: &Ctx, r: Result<T>, planned: impl FnOnce() -> T) -> Result<T> {
    match r {
        Err(e) if unreachable_in_plan(ctx, &e) => Ok(planned()),
        other => other,
    }
}

/// Whether `site` is the stand-in of a plan that cannot read the site
/// ([`read_or_plan`]).
pub(crate) fn unread(site: &Site) -> bool {
    site.code == crate::change::Known::<String>::AfterApply.text()
}

/// The primary site the AdminService serves.
pub fn site(ctx: &Ctx) -> Result<Site> {
    let admin = ctx.read().admin_service()?;
    let rows = ctx.block_on(admin.list(SITE_CLASS, &[]));
    let unknown = crate::change::Known::<String>::AfterApply.text();
    let rows = read_or_plan(ctx, rows, || {
        vec![serde_json::json!({
            "SiteCode": unknown, "SiteName": unknown, "Version": unknown,
            "ServerName": unknown, "Type": 2,
        })]
    })?;
    // Type 2 is a primary site, 4 a central administration site, 1 a secondary.
    let primaries: Vec<_> = rows
        .iter()
        .filter(|r| r["Type"].as_i64() == Some(2))
        .collect();
    match primaries.as_slice() {
        [one] => Ok(Site::from_row(one)),
        [] => Err(ModuleError::not_found(format!(
            "the AdminService lists {} site(s) but no primary site",
            rows.len()
        ))
        .with_hint("point the profile's admin_service at the SMS Provider of a primary site")),
        many => Err(ModuleError::conflict(format!(
            "the AdminService lists {} primary sites: {}",
            many.len(),
            many.iter()
                .map(|r| r["SiteCode"].as_str().unwrap_or("?"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .with_hint("co-management is set up at the top-level site: point the profile's admin_service at its SMS Provider")),
    }
}
