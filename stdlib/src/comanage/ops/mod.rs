//! What the comanage module reads and writes through the AdminService: device
//! collections and their membership rules, the co-management policy, and the clients'
//! co-management state. Writes go only through `change::ensure`.

mod collection;
mod policy;
mod rule;
mod status;

pub use collection::ensure_collection;
pub use policy::enable;
pub use status::status;

use crate::change::Known;
use crate::comanage::model::{COLLECTION_CLASS, DEVICE_COLLECTION};
use crate::context::Ctx;
use crate::error::{ModuleError, Result};
use crate::site::ops::unreachable_in_plan;
use serde_json::{json, Value};

/// The module name in plans and the journal.
pub(crate) const MODULE: &str = "comanage";

/// The rows of `class` whose `prop` is `value`; `None` in a plan that cannot reach the
/// site yet (see `site::ops::unreachable_in_plan`).
pub(crate) fn rows_where(
    ctx: &Ctx,
    class: &str,
    prop: &str,
    value: &str,
) -> Result<Option<Vec<Value>>> {
    let admin = ctx.read().admin_service()?;
    let filter = format!("{prop} eq '{}'", value.replace('\'', "''"));
    match ctx.block_on(admin.list(class, &[("$filter", &filter)])) {
        Ok(rows) => Ok(Some(rows)),
        Err(e) if unreachable_in_plan(ctx, &e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A device collection that must exist already, by name: its row, or an error naming
/// it and `what` it was asked for. In a plan that cannot reach the site, a row whose
/// id is unknown.
pub(crate) fn existing_collection(
    ctx: &Ctx,
    function: &str,
    name: &str,
    what: &str,
) -> Result<Value> {
    let Some(rows) = rows_where(ctx, COLLECTION_CLASS, "Name", name)? else {
        return Ok(
            json!({"CollectionID": Known::<String>::AfterApply.text(), "Name": name,
                         "CollectionType": DEVICE_COLLECTION}),
        );
    };
    let row = rows.into_iter().next().ok_or_else(|| {
        ModuleError::not_found(format!(
            "{function}: the {what} collection {name:?} does not exist"
        ))
        .with_hint(
            "create it first with comanage::collection(name, #{ ... }), or check its name in the console",
        )
    })?;
    if row["CollectionType"].as_i64() != Some(DEVICE_COLLECTION) {
        return Err(ModuleError::validation(format!(
            "{function}: the {what} collection {name:?} is not a device collection"
        )));
    }
    Ok(row)
}
