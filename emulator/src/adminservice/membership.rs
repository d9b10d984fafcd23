//! Collection membership as the site evaluates it: a collection's rules' resources
//! within its limiting collection's members, computed from the stored collections and
//! resources on every read (the product evaluates asynchronously; callers wait on
//! `SMS_FullCollectionMembership`, which here is at once up to date).

use super::collection_rules::is_direct;
use super::collections::{SMS_COLLECTION, SYSTEMS, USER, USERS};
use super::site::SITE_CODE;
use super::{wql, AdminError};
use crate::app::AppState;
use crate::store::{Db, StoreError};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};

/// Members evaluated from the stored collections and resources.
pub(super) struct Eval {
    colls: HashMap<String, Value>,
    systems: Vec<Value>,
    users: Vec<Value>,
    memo: HashMap<String, BTreeSet<i64>>,
}

impl Eval {
    pub(super) fn load(db: &Db<'_>) -> Result<Eval, StoreError> {
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
    pub(super) fn members(&mut self, id: &str, depth: usize) -> BTreeSet<i64> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn built_ins_and_limits() {
        let s = Store::open_memory().unwrap();
        s.write(|db| {
            super::super::devices::seed(db)?;
            super::super::collections::seed(db)
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
