//! Collections (`SMS_Collection`): the class, the built-ins, and the hooks that keep a
//! collection's limiting collection sound. Its membership rules are in
//! `collection_rules.rs`, the membership the site evaluates from them
//! (`SMS_FullCollectionMembership`) in `membership.rs`.
//!
//! A collection is created by POST (`CollectionID` `ABC00016` assigned by the site,
//! `Name` unique: a twin is 409), its rules added and removed with the instance methods
//! `AddMembershipRule` / `DeleteMembershipRule` taking a `collectionRule` of type
//! `SMS_CollectionRuleDirect` (`ResourceClassName`, `RuleName`, `ResourceID`) or
//! `SMS_CollectionRuleQuery` (`RuleName`, `QueryExpression`; the site assigns `QueryID`).
//! `CollectionRules` is lazy: filled on a key lookup only. Membership is the rules'
//! resources within the limiting collection's members, evaluated on every read (the
//! product evaluates it asynchronously; callers wait on `SMS_FullCollectionMembership`,
//! which here is at once up to date).
//!
//! Sources: api-surface.md §0.1 and §0.2 (the create body, the method call and its
//! `collectionRule` shape, 201, key lookups, lazy `CollectionRules`), the built-in
//! collection ids (MicrosoftDocs/memdocs configmgr/core/clients/manage/collections/
//! introduction-to-collections.md). UNCONFIRMED: the reply texts, that adding a rule the
//! collection already has changes nothing, `RefreshType`'s default (2, periodic) and the
//! first assigned `CollectionID`.

use super::classes::{lazy, ro, rw, KeyKind, Method, Ty, WmiClass};
use super::collection_rules::{add_rule, delete_rule, query_rule};
use super::membership::Eval;
use super::{rows, AdminError};
use crate::app::AppState;
use crate::store::{Db, StoreError};
use axum::http::StatusCode;
use serde_json::{json, Map, Value};

pub const SMS_COLLECTION: WmiClass = WmiClass {
    name: "SMS_Collection",
    key: "CollectionID",
    key_kind: KeyKind::SiteNumbered { first: 16 },
    natural_key: &["Name"],
    props: &[
        ro("CollectionID", Ty::Str),
        rw("Name", Ty::Str),
        rw("Comment", Ty::Str),
        rw("CollectionType", Ty::Int),
        rw("LimitToCollectionID", Ty::Str),
        ro("LimitToCollectionName", Ty::Str),
        rw("RefreshType", Ty::Int),
        ro("MemberCount", Ty::Int),
        ro("MemberClassName", Ty::Str),
        ro("IsBuiltIn", Ty::Bool),
        ro("LastChangeTime", Ty::Time),
        lazy("CollectionRules", Ty::List),
    ],
    writable: true,
    on_create: Some(create),
    on_update: Some(update),
    on_delete: Some(delete),
    on_read: Some(read),
    methods: &[
        Method {
            name: "AddMembershipRule",
            is_static: false,
            run: add_rule,
        },
        Method {
            name: "DeleteMembershipRule",
            is_static: false,
            run: delete_rule,
        },
    ],
};

/// One row per collection and member. The WMI class is keyed by both; this table's
/// single key is `CollectionID`, so a key lookup answers a collection's members.
pub const SMS_FULLCOLLECTIONMEMBERSHIP: WmiClass = WmiClass::read_only(
    "SMS_FullCollectionMembership",
    "CollectionID",
    KeyKind::Given,
    &[],
    &[
        ro("CollectionID", Ty::Str),
        ro("ResourceID", Ty::Int),
        ro("Name", Ty::Str),
        ro("ResourceType", Ty::Int),
        ro("IsClient", Ty::Bool),
        ro("IsDirect", Ty::Bool),
        ro("SiteCode", Ty::Str),
    ],
);

pub(super) const DEVICE: i64 = 2;
pub(super) const USER: i64 = 1;
pub(super) const SYSTEMS: &str = "SMS_R_System";
pub(super) const USERS: &str = "SMS_R_User";

pub(super) fn bad(message: impl Into<String>) -> AdminError {
    AdminError::new(StatusCode::BAD_REQUEST, message)
}

/// The built-in collections: id, name, type, limiting collection, query.
const BUILT_IN: &[(&str, &str, i64, &str, Option<&str>)] = &[
    (
        "SMS00001",
        "All Systems",
        DEVICE,
        "",
        Some("select * from SMS_R_System"),
    ),
    (
        "SMS00002",
        "All Users",
        USER,
        "",
        Some("select * from SMS_R_User"),
    ),
    ("SMS00003", "All User Groups", USER, "", None),
    (
        "SMS00004",
        "All Users and User Groups",
        USER,
        "",
        Some("select * from SMS_R_User"),
    ),
    ("SMSDM001", "All Mobile Devices", DEVICE, "SMS00001", None),
    (
        "SMSDM003",
        "All Desktop and Server Clients",
        DEVICE,
        "SMS00001",
        Some("select * from SMS_R_System where Client = 1"),
    ),
    (
        "SMS000US",
        "All Unknown Computers",
        DEVICE,
        "SMS00001",
        None,
    ),
];

/// Seed the built-in collections a state lacks.
pub fn seed(db: &Db<'_>) -> Result<(), StoreError> {
    let c = SMS_COLLECTION.collection();
    for (id, name, ty, limit, query) in BUILT_IN {
        if db.get(&c, id)?.is_some() {
            continue;
        }
        let rules: Vec<Value> = query.iter().map(|q| query_rule(name, q, 1)).collect();
        db.insert(
            &c,
            id,
            &json!({
                "CollectionID": id, "Name": name, "Comment": "", "CollectionType": ty,
                "LimitToCollectionID": limit, "LimitToCollectionName": null,
                "RefreshType": 2, "MemberCount": 0,
                "MemberClassName": format!("SMS_CM_RES_COLL_{id}"), "IsBuiltIn": true,
                "LastChangeTime": crate::util::now_iso(), "CollectionRules": rules,
                "_etag": 1,
            }),
        )?;
    }
    Ok(())
}

fn text<'a>(row: &'a Map<String, Value>, name: &str) -> &'a str {
    row.get(name).and_then(Value::as_str).unwrap_or_default()
}

/// The limiting collection exists, has the same type and is not the collection itself
/// or one limited by it.
fn check_limit(db: &Db<'_>, row: &Map<String, Value>) -> Result<Value, AdminError> {
    let me = text(row, "CollectionID");
    let limit = text(row, "LimitToCollectionID");
    if limit.is_empty() {
        return Err(bad(
            "LimitToCollectionID is required: every collection is limited by another.",
        ));
    }
    let found = rows::find(db, &SMS_COLLECTION, limit)?.ok_or_else(|| {
        bad(format!(
            "LimitToCollectionID '{limit}' does not name a collection."
        ))
    })?;
    if found["CollectionType"] != row.get("CollectionType").cloned().unwrap_or_default() {
        return Err(bad(format!(
            "The limiting collection '{limit}' is of another CollectionType."
        )));
    }
    let mut at = found.clone();
    for _ in 0..64 {
        let id = at["CollectionID"].as_str().unwrap_or_default();
        if id.eq_ignore_ascii_case(me) {
            return Err(bad(
                "A collection cannot be limited by itself or by a collection it limits.",
            ));
        }
        let next = at["LimitToCollectionID"].as_str().unwrap_or_default();
        match rows::find(db, &SMS_COLLECTION, next)? {
            Some(n) if !next.is_empty() => at = n,
            _ => break,
        }
    }
    Ok(found)
}

fn create(
    _: &AppState,
    db: &Db<'_>,
    row: &mut Map<String, Value>,
    _: &Map<String, Value>,
) -> Result<(), AdminError> {
    if text(row, "Name").trim().is_empty() {
        return Err(bad(
            "The property 'Name' is required to create an instance of SMS_Collection.",
        ));
    }
    match row.get("CollectionType").and_then(Value::as_i64) {
        Some(DEVICE | USER) => {}
        _ => return Err(bad("CollectionType must be 1 (user) or 2 (device).")),
    }
    check_limit(db, row)?;
    let id = text(row, "CollectionID").to_string();
    for (k, v) in [("Comment", json!("")), ("RefreshType", json!(2))] {
        if row.get(k).is_none_or(Value::is_null) {
            row.insert(k.into(), v);
        }
    }
    row.insert(
        "MemberClassName".into(),
        json!(format!("SMS_CM_RES_COLL_{id}")),
    );
    row.insert("IsBuiltIn".into(), json!(false));
    row.insert("CollectionRules".into(), json!([]));
    row.insert("LastChangeTime".into(), json!(crate::util::now_iso()));
    Ok(())
}

fn update(
    _: &AppState,
    db: &Db<'_>,
    current: &Value,
    row: &mut Map<String, Value>,
    changes: &Map<String, Value>,
) -> Result<(), AdminError> {
    if current["IsBuiltIn"] == json!(true) {
        return Err(bad("A built-in collection cannot be changed."));
    }
    if changes.contains_key("CollectionType")
        && changes["CollectionType"] != current["CollectionType"]
    {
        return Err(bad("A collection's CollectionType cannot be changed."));
    }
    if text(row, "Name").trim().is_empty() {
        return Err(bad("A collection's Name cannot be empty."));
    }
    check_limit(db, row)?;
    row.insert("LastChangeTime".into(), json!(crate::util::now_iso()));
    Ok(())
}

fn delete(_: &AppState, db: &Db<'_>, current: &Value) -> Result<Option<Value>, AdminError> {
    if current["IsBuiltIn"] == json!(true) {
        return Err(bad("A built-in collection cannot be deleted."));
    }
    let id = current["CollectionID"].as_str().unwrap_or_default();
    let limited = db
        .docs(&SMS_COLLECTION.collection())?
        .into_iter()
        .find(|c| {
            c["LimitToCollectionID"]
                .as_str()
                .is_some_and(|l| l.eq_ignore_ascii_case(id))
        });
    match limited {
        Some(c) => Err(AdminError::new(
            StatusCode::CONFLICT,
            format!(
                "The collection {id} limits the collection {} and cannot be deleted.",
                c["CollectionID"].as_str().unwrap_or_default()
            ),
        )),
        None => Ok(None),
    }
}

/// Fill what the site computes: the limiting collection's name and the member count.
fn read(_: &AppState, db: &Db<'_>, doc: &mut Value) -> Result<bool, AdminError> {
    let limit = doc["LimitToCollectionID"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let name = match rows::find(db, &SMS_COLLECTION, &limit)? {
        Some(l) if !limit.is_empty() => l["Name"].clone(),
        _ => Value::Null,
    };
    let id = doc["CollectionID"].as_str().unwrap_or_default().to_string();
    let count = Eval::load(db)?.members(&id, 0).len();
    doc["LimitToCollectionName"] = name;
    doc["MemberCount"] = json!(count);
    Ok(true)
}
