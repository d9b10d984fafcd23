//! A device collection with its membership rules: the collection is an AdminService row
//! found by its name (`SMS_Collection` names are unique: the site refuses a twin with
//! 409, and the run that gets it changes the first one), each rule a resource of its own
//! (`rule.rs`). Everything a run needs is read and checked before the first write: the
//! limiting collection exists and holds devices, every direct member is a device.

use super::rule::{MembershipRule, RuleKind};
use super::{existing_collection, rows_where, MODULE};
use crate::change::{ensure, Equivalent, Known};
use crate::comanage::model::*;
use crate::comanage::objects::Collection;
use crate::context::Ctx;
use crate::error::{ErrorKind, ModuleError, Result};
use crate::site::ops::row::{ps_quote, WmiRow};
use serde_json::{json, Value};
use std::collections::HashSet;

const F: &str = "comanage::collection";

/// Ensure the device collection `name` and its rules.
///
/// `planned`: collections (by name) a plan creates earlier in the same run, passed as
/// `Collection` objects: they are not in the site yet.
pub fn ensure_collection(
    ctx: &Ctx,
    name: &str,
    opts: &CollectionOptions,
    planned: &HashSet<String>,
) -> Result<Collection> {
    opts.validate(name)?;
    let unknown = Known::<String>::AfterApply.text().to_string();
    let limit_id = match existing_collection(ctx, F, &opts.limiting, "limiting") {
        Ok(row) => row["CollectionID"].as_str().unwrap_or_default().to_string(),
        Err(e)
            if e.kind == ErrorKind::NotFound
                && ctx.is_plan()
                && planned.contains(&opts.limiting) =>
        {
            unknown.clone()
        }
        Err(e) => return Err(e),
    };
    let members = opts
        .direct
        .iter()
        .map(|m| device(ctx, m))
        .collect::<Result<Vec<_>>>()?;

    let mut row = WmiRow::new(
        MODULE,
        "device collection",
        COLLECTION_CLASS,
        ("Name", Known::Value(name.to_string())),
        name,
        json!({
            "Name": name,
            "CollectionType": DEVICE_COLLECTION,
            "LimitToCollectionID": limit_id,
            "Comment": opts.comment,
        }),
    );
    row.key_prop = "CollectionID";
    if limit_id == unknown {
        row.unknown = vec!["LimitToCollectionID"];
    }
    row.create_equivalent = Some(Equivalent::powershell(format!(
        "New-CMDeviceCollection -Name {} -LimitingCollectionName {} -Comment {}",
        ps_quote(name),
        ps_quote(&opts.limiting),
        ps_quote(&opts.comment)
    )));
    row.update_equivalent = Some(Equivalent::powershell(format!(
        "Set-CMCollection -Name {} -LimitingCollectionName {} -Comment {}",
        ps_quote(name),
        ps_quote(&opts.limiting),
        ps_quote(&opts.comment)
    )));
    let row = ensure(ctx, row)?;
    let id: Known<String> = match row.value() {
        Some(r) => match r["CollectionID"].as_str() {
            Some(s) if s != Known::<String>::AfterApply.text() => Known::Value(s.to_string()),
            _ => Known::AfterApply,
        },
        None => Known::AfterApply,
    };

    let mut rules: Vec<RuleKind> = members
        .iter()
        .map(|(id, name)| RuleKind::Direct {
            id: *id,
            name: name.clone(),
        })
        .collect();
    if let Some(q) = &opts.query {
        rules.push(RuleKind::Query {
            name: opts.query_name.clone(),
            expression: q.clone(),
        });
    }
    for rule in rules {
        ensure(
            ctx,
            MembershipRule {
                collection: name.to_string(),
                collection_id: id.clone(),
                rule,
            },
        )?;
    }
    let member_count = match id.value() {
        Some(i) => count(ctx, i)?,
        None => 0,
    };
    Ok(Collection {
        id,
        name: name.to_string(),
        limiting: opts.limiting.clone(),
        comment: opts.comment.clone(),
        direct: members.iter().map(|(i, _)| *i).collect(),
        query: opts.query.clone(),
        member_count,
    })
}

/// The site's member count of a collection now (0 when a plan cannot read it).
fn count(ctx: &Ctx, id: &str) -> Result<i64> {
    let rows = rows_where(ctx, COLLECTION_CLASS, "CollectionID", id)?.unwrap_or_default();
    Ok(rows
        .first()
        .and_then(|r| r["MemberCount"].as_i64())
        .unwrap_or(0))
}

/// A direct member: (resource id, device name), checked to be a device of the site.
fn device(ctx: &Ctx, m: &Member) -> Result<(i64, String)> {
    let (rows, asked) = match m {
        Member::Id(id) => (rows_where_int(ctx, *id)?, format!("resource id {id}")),
        Member::Name(n) => (
            rows_where(ctx, SYSTEM_CLASS, "Name", n)?,
            format!("device {n:?}"),
        ),
    };
    let Some(rows) = rows else {
        // A plan that cannot read the site: show the member as asked.
        return Ok(match m {
            Member::Id(id) => (*id, id.to_string()),
            Member::Name(n) => (0, n.clone()),
        });
    };
    match rows.as_slice() {
        [one] => {
            let id = one["ResourceId"].as_i64().ok_or_else(|| {
                ModuleError::remote("AdminService answered a device without its ResourceId")
            })?;
            Ok((id, one["Name"].as_str().unwrap_or_default().to_string()))
        }
        [] => Err(ModuleError::not_found(format!(
            "{F}: {asked} is not a device of the site (SMS_R_System)"
        ))
        .with_hint("check the name or id in the console under Assets and Compliance > Devices")),
        many => Err(ModuleError::conflict(format!(
            "{F}: {asked} names {} devices: {}",
            many.len(),
            many.iter()
                .map(|r| r["ResourceId"].to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .with_hint("name the device by its resource id instead")),
    }
}

fn rows_where_int(ctx: &Ctx, id: i64) -> Result<Option<Vec<Value>>> {
    let admin = ctx.read().admin_service()?;
    let filter = format!("ResourceId eq {id}");
    match ctx.block_on(admin.list(SYSTEM_CLASS, &[("$filter", &filter)])) {
        Ok(rows) => Ok(Some(rows)),
        Err(e) if crate::site::ops::unreachable_in_plan(ctx, &e) => Ok(None),
        Err(e) => Err(e),
    }
}
