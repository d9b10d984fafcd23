//! A collection's membership rules: the instance methods `AddMembershipRule` and
//! `DeleteMembershipRule` with a `collectionRule` of type `SMS_CollectionRuleDirect` or
//! `SMS_CollectionRuleQuery` (api-surface.md §0.1, §0.2). Adding a rule the collection
//! already has changes nothing (UNCONFIRMED); the site assigns a query rule's `QueryID`.

use super::classes::WmiClass;
use super::collections::{bad, SMS_COLLECTION, SYSTEMS, USER, USERS};
use super::{rows, wql, AdminError};
use crate::app::Shared;
use crate::store::Db;
use serde_json::{json, Map, Value};

pub(super) fn query_rule(name: &str, query: &str, id: i64) -> Value {
    json!({"@odata.type": "#AdminService.SMS_CollectionRuleQuery",
           "RuleName": name, "QueryExpression": query, "QueryID": id})
}

fn direct_rule(class: &str, name: &str, id: i64) -> Value {
    json!({"@odata.type": "#AdminService.SMS_CollectionRuleDirect",
           "ResourceClassName": class, "RuleName": name, "ResourceID": id})
}

pub(super) fn is_direct(rule: &Value) -> bool {
    rule["@odata.type"]
        .as_str()
        .is_some_and(|t| t.ends_with("SMS_CollectionRuleDirect"))
        || rule.get("ResourceID").is_some_and(|v| !v.is_null())
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

pub(super) fn add_rule(
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

pub(super) fn delete_rule(
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
