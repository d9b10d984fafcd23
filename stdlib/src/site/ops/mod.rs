//! What the site module reads and writes through the AdminService: the site, the
//! Entra tenant and apps imported into it, the cloud-management Azure service, and a
//! discovery run. Rows are written only through `change::ensure` ([`row::WmiRow`]).

mod discovery;
pub mod row;
mod service;

pub use discovery::{run_discovery, DiscoveryOptions};
pub use service::ensure_azure_service;

use crate::context::Ctx;
use crate::error::{ModuleError, Result};
use crate::site::model::SITE_CLASS;
use crate::site::objects::Site;

/// The module name in plans and the journal.
pub(crate) const MODULE: &str = "site";

/// The primary site the AdminService serves.
pub fn site(ctx: &Ctx) -> Result<Site> {
    let admin = ctx.read().admin_service()?;
    let rows = ctx.block_on(admin.list(SITE_CLASS, &[]))?;
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
