//! The JSON of application objects both app resources build: the desired value of each
//! complex property keeps what the app already has, because Graph replaces a complex
//! property (`web`, `api`, `publicClient`) whole on PATCH.

use crate::change::merge;
use crate::entra::model::USER_IMPERSONATION;
use serde_json::{json, Value};

/// `list` plus whichever of `add` it lacks, order kept.
pub fn union(list: &Value, add: &[String]) -> Value {
    let mut out: Vec<Value> = list.as_array().cloned().unwrap_or_default();
    for s in add {
        if !out.iter().any(|v| v.as_str() == Some(s)) {
            out.push(json!(s));
        }
    }
    Value::Array(out)
}

/// `wanted` (the body of a create) as the whole object should be once `observed`
/// exists: objects merged key by key, string lists kept with the wanted entries added,
/// anything else as wanted (callers build those from what they observed).
pub fn desired_app(wanted: &Value, observed: Option<&Value>) -> Value {
    let Some(observed) = observed else {
        return wanted.clone();
    };
    let mut out = serde_json::Map::new();
    for (k, w) in wanted.as_object().into_iter().flatten() {
        let o = &observed[k];
        let v = match (k.as_str(), w) {
            // Write-once alternate key: never part of an update.
            ("uniqueName", _) => continue,
            ("identifierUris", Value::Array(a)) => union(o, &strings(a)),
            (_, Value::Object(_)) => merge_lists(o, w),
            _ => w.clone(),
        };
        out.insert(k.clone(), v);
    }
    Value::Object(out)
}

/// Merge an object property, adding to the string lists it holds rather than
/// replacing them (redirect URIs someone else added stay).
fn merge_lists(observed: &Value, wanted: &Value) -> Value {
    let mut merged = merge(observed, wanted);
    if let (Some(m), Some(w)) = (merged.as_object_mut(), wanted.as_object()) {
        for (k, wv) in w {
            match wv {
                Value::Array(a) if a.iter().all(Value::is_string) => {
                    m.insert(k.clone(), union(&observed[k], &strings(a)));
                }
                Value::Object(_) => {
                    m.insert(k.clone(), merge_lists(&observed[k], wv));
                }
                _ => {}
            }
        }
    }
    merged
}

fn strings(a: &[Value]) -> Vec<String> {
    a.iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// The server app's scopes with `user_impersonation` present and enabled; the others
/// kept. `new_scope` makes one when the app has none.
pub fn with_user_impersonation(observed: &Value, new_scope: impl FnOnce() -> Value) -> Value {
    let mut scopes: Vec<Value> = observed.as_array().cloned().unwrap_or_default();
    match scopes
        .iter_mut()
        .find(|s| s["value"].as_str() == Some(USER_IMPERSONATION))
    {
        Some(s) => s["isEnabled"] = json!(true),
        None => scopes.push(new_scope()),
    }
    Value::Array(scopes)
}

/// The `user_impersonation` scope as the Azure Services wizard defines it ("Admins and users").
pub fn user_impersonation_scope(id: &str, app_name: &str) -> Value {
    json!({
        "id": id,
        "value": USER_IMPERSONATION,
        "type": "User",
        "isEnabled": true,
        "adminConsentDisplayName": format!("Access {app_name}"),
        "adminConsentDescription": format!("Allow the application to access {app_name} on behalf of the signed-in user."),
        "userConsentDisplayName": format!("Access {app_name}"),
        "userConsentDescription": format!("Allow the application to access {app_name} on your behalf."),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_keep_what_the_app_has() {
        let observed = json!({
            "uniqueName": "u",
            "identifierUris": ["api://a"],
            "web": {"homePageUrl": "https://x", "redirectUris": ["https://other"],
                    "implicitGrantSettings": {"enableIdTokenIssuance": false, "enableAccessTokenIssuance": true}},
        });
        let wanted = json!({
            "uniqueName": "u",
            "displayName": "A",
            "identifierUris": ["api://a"],
            "web": {"homePageUrl": "https://x", "redirectUris": ["https://x"],
                    "implicitGrantSettings": {"enableIdTokenIssuance": true}},
        });
        let d = desired_app(&wanted, Some(&observed));
        assert_eq!(
            d,
            json!({
                "displayName": "A",
                "identifierUris": ["api://a"],
                "web": {"homePageUrl": "https://x", "redirectUris": ["https://other", "https://x"],
                        "implicitGrantSettings": {"enableIdTokenIssuance": true, "enableAccessTokenIssuance": true}},
            })
        );
        assert_eq!(desired_app(&wanted, None), wanted);
    }

    #[test]
    fn an_enabled_scope_stays_and_a_disabled_one_is_enabled() {
        let s = with_user_impersonation(
            &json!([{"value": USER_IMPERSONATION, "isEnabled": false, "id": "1"}]),
            || json!({}),
        );
        assert_eq!(
            s,
            json!([{"value": USER_IMPERSONATION, "isEnabled": true, "id": "1"}])
        );
        let s = with_user_impersonation(&json!([]), || json!({"value": "new"}));
        assert_eq!(s, json!([{"value": "new"}]));
    }
}
