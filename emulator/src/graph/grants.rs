//! `/oauth2PermissionGrants`: delegated permission grants (admin consent). Both ends
//! must be service principal object ids in the tenant, and every scope must be one the
//! resource declares.

use super::entity_set::EntitySet;
use super::query::Rules;
use super::resources::OAUTH2_PERMISSION_GRANT;
use super::{str_of, Ctx, GRANTS, SERVICE_PRINCIPALS};
use crate::errors::{GraphError, GraphResult};
use crate::store::Db;
use axum::http::StatusCode;
use serde_json::{json, Map, Value};

const RESOURCE: &str = "OAuth2PermissionGrant";

/// `/oauth2PermissionGrants` (no `/$count` segment; ids are opaque strings).
pub const SET: EntitySet = EntitySet {
    name: GRANTS,
    schema: &OAUTH2_PERMISSION_GRANT,
    id_is_guid: false,
    alt_keys: &[],
    rules: Rules::plain(RESOURCE),
    count_segment: false,
    rows: None,
    create: Some(create),
    update: Some(update),
    delete: Some(delete),
    actions: &[],
    navigate: None,
};

/// Only `scope` can change.
fn update(
    _ctx: &Ctx<'_>,
    db: &Db<'_>,
    current: &Value,
    given: Map<String, Value>,
) -> GraphResult<()> {
    let given = super::schema::strip_read_only(&OAUTH2_PERMISSION_GRANT, given, Some(current))?;
    let mut g = current.clone();
    for (k, v) in given {
        if k != "scope" && current.get(&k) != Some(&v) {
            return Err(GraphError::bad_request(format!(
                "Property '{k}' is read-only and cannot be set."
            )));
        }
        g[&k] = v;
    }
    let resource = sp(db, str_of(&g, "resourceId"), "resourceId")?;
    check_scopes(&resource, &g["scope"])?;
    db.update(GRANTS, str_of(&g, "id"), &g)?;
    Ok(())
}

fn delete(db: &Db<'_>, g: &Value) -> GraphResult<()> {
    db.delete(GRANTS, str_of(g, "id"))?;
    Ok(())
}

/// A service principal by object id, or the validation error for `property`.
fn sp(db: &Db<'_>, id: &str, property: &str) -> GraphResult<Value> {
    if !crate::util::is_guid(id) {
        return Err(GraphError::invalid_value(property, RESOURCE));
    }
    db.get(SERVICE_PRINCIPALS, &id.to_ascii_lowercase())?
        .ok_or_else(|| GraphError::invalid_value(property, RESOURCE))
}

fn check_scopes(resource: &Value, scope: &Value) -> GraphResult<()> {
    let scope = match scope {
        Value::Null => "",
        Value::String(s) => s.as_str(),
        _ => return Err(GraphError::invalid_value("scope", RESOURCE)),
    };
    let declared: Vec<&str> = resource["oauth2PermissionScopes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("value").and_then(Value::as_str))
        .collect();
    for s in scope.split_whitespace() {
        if !declared.iter().any(|d| d.eq_ignore_ascii_case(s)) {
            return Err(GraphError::bad_request(format!(
                "Invalid value specified for property 'scope' of resource '{RESOURCE}': '{s}' is not a delegated permission of the resource service principal {}.",
                str_of(resource, "id")
            )));
        }
    }
    Ok(())
}

fn create(_ctx: &Ctx<'_>, db: &Db<'_>, given: Map<String, Value>) -> GraphResult<Value> {
    let given = super::schema::strip_read_only(&OAUTH2_PERMISSION_GRANT, given, None)?;
    let text = |k: &str| {
        given
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (client_id, resource_id, consent) =
        (text("clientId"), text("resourceId"), text("consentType"));
    let principal = given.get("principalId").cloned().unwrap_or(Value::Null);
    match consent.as_str() {
        "AllPrincipals" if principal.is_null() => {}
        "Principal" if principal.as_str().is_some_and(crate::util::is_guid) => {}
        "AllPrincipals" | "Principal" => {
            return Err(GraphError::invalid_value("principalId", RESOURCE))
        }
        _ => return Err(GraphError::invalid_value("consentType", RESOURCE)),
    }
    let client = sp(db, &client_id, "clientId")?;
    let resource = sp(db, &resource_id, "resourceId")?;
    let scope = given.get("scope").cloned().unwrap_or(json!(""));
    check_scopes(&resource, &scope)?;
    let exists = db.docs(GRANTS)?.iter().any(|g| {
        str_of(g, "clientId") == str_of(&client, "id")
            && str_of(g, "resourceId") == str_of(&resource, "id")
            && str_of(g, "consentType") == consent
            && g["principalId"] == principal
    });
    if exists {
        return Err(GraphError::new(
            StatusCode::CONFLICT,
            "Request_MultipleObjectsWithSameKeyValue",
            "Permission entry already exists.",
        ));
    }
    let id = crate::util::opaque_id(32);
    let g = json!({
        "id": id,
        "clientId": client["id"],
        "consentType": consent,
        "principalId": principal,
        "resourceId": resource["id"],
        "scope": scope,
    });
    db.insert(GRANTS, &id, &g)?;
    Ok(g)
}
