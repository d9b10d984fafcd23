//! Collections (`SMS_Collection`) with their membership rules and the membership the
//! site evaluates from them (`SMS_FullCollectionMembership`).
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
use super::site::SITE_CODE;
use super::{rows, wql, AdminError};
use crate::app::{AppState, Shared};
use crate::store::{Db, StoreError};
use axum::http::StatusCode;
use serde_json::{json, Map, Value};
use std::collections::{BTreeSet, HashMap};

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

const DEVICE: i64 = 2;
const USER: i64 = 1;
const SYSTEMS: &str = "SMS_R_System";
const USERS: &str = "SMS_R_User";

fn bad(message: impl Into<String>) -> AdminError {
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

fn query_rule(name: &str, query: &str, id: i64) -> Value {
    json!({"@odata.type": "#AdminService.SMS_CollectionRuleQuery",
           "RuleName": name, "QueryExpression": query, "QueryID": id})
}

fn direct_rule(class: &str, name: &str, id: i64) -> Value {
    json!({"@odata.type": "#AdminService.SMS_CollectionRuleDirect",
           "ResourceClassName": class, "RuleName": name, "ResourceID": id})
}

fn is_direct(rule: &Value) -> bool {
    rule["@odata.type"]
        .as_str()
        .is_some_and(|t| t.ends_with("SMS_CollectionRuleDirect"))
        || rule.get("ResourceID").is_some_and(|v| !v.is_null())
}

/// Members evaluated from the stored collections and resources.
struct Eval {
    colls: HashMap<String, Value>,
    systems: Vec<Value>,
    users: Vec<Value>,
    memo: HashMap<String, BTreeSet<i64>>,
}

impl Eval {
    fn load(db: &Db<'_>) -> Result<Eval, StoreError> {
        let colls = db
            .docs(&SMS_COLLECTION.collection())?
            .into_iter()
            .map(|c| {
                (
                    c["CollectionID"].as_str().unwrap_or_default().to_string(),
                    c,
                )
            })
            .collect();
        Ok(Eval {
            colls,
            systems: db.docs(&super::devices::SMS_R_SYSTEM.collection())?,
            users: db.docs(&super::aad::SMS_R_USER.collection())?,
            memo: HashMap::new(),
        })
    }

    fn resources(&self, class: &str) -> &[Value] {
        if class.eq_ignore_ascii_case(USERS) {
            &self.users
        } else {
            &self.systems
        }
    }

    fn key(class: &str) -> &'static str {
        if class.eq_ignore_ascii_case(USERS) {
            "ResourceID"
        } else {
            "ResourceId"
        }
    }

    /// The members of `id`; `depth` guards a limiting loop (the hooks refuse one).
    fn members(&mut self, id: &str, depth: usize) -> BTreeSet<i64> {
        let upper = id.to_ascii_uppercase();
        if let Some(m) = self.memo.get(&upper) {
            return m.clone();
        }
        let Some(coll) = self.colls.get(&upper).cloned() else {
            return BTreeSet::new();
        };
        let limit = coll["LimitToCollectionID"].as_str().unwrap_or_default();
        let within = (!limit.is_empty() && depth < 32).then(|| self.members(limit, depth + 1));
        let class = if coll["CollectionType"] == json!(USER) {
            USERS
        } else {
            SYSTEMS
        };
        let mut out = BTreeSet::new();
        for rule in coll["CollectionRules"].as_array().into_iter().flatten() {
            if is_direct(rule) {
                out.extend(rule["ResourceID"].as_i64());
            } else if let Some(q) = rule["QueryExpression"]
                .as_str()
                .and_then(|q| wql::parse(q).ok())
            {
                let key = Self::key(&q.class);
                out.extend(
                    self.resources(&q.class)
                        .iter()
                        .filter(|r| wql::matches(&q.filter, r))
                        .filter_map(|r| r[key].as_i64()),
                );
            }
        }
        let known: BTreeSet<i64> = self
            .resources(class)
            .iter()
            .filter_map(|r| r[Self::key(class)].as_i64())
            .collect();
        out.retain(|r| known.contains(r) && within.as_ref().is_none_or(|w| w.contains(r)));
        self.memo.insert(upper, out.clone());
        out
    }
}

/// Whether resource `id` is in collection `coll` now.
pub fn is_member(db: &Db<'_>, coll: &str, id: i64) -> Result<bool, AdminError> {
    Ok(Eval::load(db)?.members(coll, 0).contains(&id))
}

/// Every membership row, computed from the collections as they are now.
pub fn membership(_: &AppState, db: &Db<'_>) -> Result<Vec<Value>, AdminError> {
    let mut e = Eval::load(db)?;
    let mut ids: Vec<String> = e.colls.keys().cloned().collect();
    ids.sort();
    let mut out = Vec::new();
    for id in ids {
        let coll = e.colls.get(&id).cloned().unwrap_or_default();
        let user = coll["CollectionType"] == json!(USER);
        let class = if user { USERS } else { SYSTEMS };
        let direct: BTreeSet<i64> = coll["CollectionRules"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| is_direct(r))
            .filter_map(|r| r["ResourceID"].as_i64())
            .collect();
        for rid in e.members(&id, 0) {
            let res = e
                .resources(class)
                .iter()
                .find(|r| r[Eval::key(class)].as_i64() == Some(rid))
                .cloned()
                .unwrap_or_default();
            out.push(json!({
                "CollectionID": id, "ResourceID": rid, "Name": res["Name"],
                "ResourceType": if user { 4 } else { 5 },
                "IsClient": res["Client"] == json!(1), "IsDirect": direct.contains(&rid),
                "SiteCode": SITE_CODE, "_etag": 1,
            }));
        }
    }
    Ok(out)
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

/// The `collectionRule` parameter (any case), checked against the collection.
fn rule_param(db: &Db<'_>, coll: &Value, params: &Map<String, Value>) -> Result<Value, AdminError> {
    let rule = params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("collectionRule"))
        .map(|(_, v)| v.clone())
        .filter(Value::is_object)
        .ok_or_else(|| bad("The parameter 'collectionRule' is required."))?;
    let class = if coll["CollectionType"] == json!(USER) {
        USERS
    } else {
        SYSTEMS
    };
    let name = rule["RuleName"].as_str().unwrap_or_default();
    if is_direct(&rule) {
        let rc = rule["ResourceClassName"].as_str().unwrap_or(class);
        if !rc.eq_ignore_ascii_case(class) {
            return Err(bad(format!(
                "ResourceClassName '{rc}' does not fit a collection of {class} resources."
            )));
        }
        let id = rule["ResourceID"]
            .as_i64()
            .ok_or_else(|| bad("A direct rule needs an integer ResourceID."))?;
        let rclass = if class == USERS {
            &super::aad::SMS_R_USER
        } else {
            &super::devices::SMS_R_SYSTEM
        };
        let res = rows::find(db, rclass, &id.to_string())?
            .ok_or_else(|| bad(format!("ResourceID {id} is not a resource of {class}.")))?;
        let rule_name = if name.is_empty() {
            res["Name"].as_str().unwrap_or_default()
        } else {
            name
        };
        return Ok(direct_rule(class, rule_name, id));
    }
    let query = rule["QueryExpression"]
        .as_str()
        .ok_or_else(|| bad("A query rule needs a QueryExpression."))?;
    if name.trim().is_empty() {
        return Err(bad("A query rule needs a RuleName."));
    }
    let parsed = wql::parse(query).map_err(|e| bad(format!("QueryExpression: {e}")))?;
    if !parsed.class.eq_ignore_ascii_case(class) {
        return Err(bad(format!(
            "QueryExpression selects from {}, but this collection holds {class} resources.",
            parsed.class
        )));
    }
    Ok(query_rule(name, query, 0))
}

fn same_rule(a: &Value, b: &Value) -> bool {
    if is_direct(a) != is_direct(b) {
        return false;
    }
    if is_direct(a) {
        return a["ResourceID"] == b["ResourceID"];
    }
    a["RuleName"] == b["RuleName"] && a["QueryExpression"] == b["QueryExpression"]
}

/// Change a stored collection's rules inside one write transaction.
fn with_rules(
    st: &Shared,
    instance: Option<Value>,
    params: Map<String, Value>,
    f: fn(&mut Vec<Value>, Value) -> Result<Value, AdminError>,
) -> Result<Value, AdminError> {
    let class = &SMS_COLLECTION;
    let key = instance
        .as_ref()
        .map(|i| rows::id_of(class, i))
        .ok_or_else(|| bad("Membership rules are changed on a collection instance."))?;
    st.store.write(|db| {
        let stored = rows::find(db, class, &key)?.ok_or_else(|| rows::not_found(class, &key))?;
        if stored["IsBuiltIn"] == json!(true) {
            return Err(bad("The rules of a built-in collection cannot be changed."));
        }
        let rule = rule_param(db, &stored, &params)?;
        let mut rules: Vec<Value> = stored["CollectionRules"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let out = f(&mut rules, rule)?;
        let mut row = stored.as_object().cloned().unwrap_or_default();
        row.insert("CollectionRules".into(), Value::Array(rules));
        row.insert("LastChangeTime".into(), json!(crate::util::now_iso()));
        rows::bump(&mut row);
        db.update(&class.collection(), &key, &Value::Object(row))?;
        Ok(out)
    })
}

fn add_rule(
    st: &Shared,
    _: &'static WmiClass,
    instance: Option<Value>,
    params: Map<String, Value>,
) -> Result<Value, AdminError> {
    with_rules(st, instance, params, |rules, mut rule| {
        if let Some(have) = rules.iter().find(|r| same_rule(r, &rule)) {
            return Ok(json!({"ReturnValue": 0, "QueryID": have["QueryID"]}));
        }
        if is_direct(&rule) {
            rules.push(rule);
            return Ok(json!({"ReturnValue": 0}));
        }
        let next = rules
            .iter()
            .filter_map(|r| r["QueryID"].as_i64())
            .max()
            .unwrap_or(0)
            + 1;
        rule["QueryID"] = json!(next);
        rules.push(rule);
        Ok(json!({"ReturnValue": 0, "QueryID": next}))
    })
}

fn delete_rule(
    st: &Shared,
    _: &'static WmiClass,
    instance: Option<Value>,
    params: Map<String, Value>,
) -> Result<Value, AdminError> {
    with_rules(st, instance, params, |rules, rule| {
        let before = rules.len();
        rules.retain(|r| {
            if is_direct(&rule) {
                !same_rule(r, &rule)
            } else {
                is_direct(r) || r["RuleName"] != rule["RuleName"]
            }
        });
        if rules.len() == before {
            return Err(bad("The collection has no such membership rule."));
        }
        Ok(json!({"ReturnValue": 0}))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn built_ins_and_limits() {
        let s = Store::open_memory().unwrap();
        s.write(|db| {
            super::super::devices::seed(db)?;
            seed(db)
        })
        .unwrap();
        let (all, clients) = s
            .read(|db| {
                let mut e = Eval::load(db)?;
                Ok::<_, StoreError>((
                    e.members("SMS00001", 0).len(),
                    e.members("smsdm003", 0).len(),
                ))
            })
            .unwrap();
        assert_eq!((all, clients), (40, 38));
    }
}
