//! `/applications`: the entity set's description and its hooks — create, update,
//! delete, `addPassword` / `removePassword`, owners — with the validation Entra applies.

use super::entity_set::{AltKey, EntitySet};
use super::query::Rules;
use super::resources::APPLICATION;
use super::{
    body_object, credentials, find_required, identifier_uris, no_content, public_view,
    service_principals, str_of, Ctx, Key, Seg, APPLICATIONS,
};
use crate::errors::{GraphError, GraphResult};
use crate::store::Db;
use crate::tenant::Tenant;
use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};
use std::collections::HashSet;

const ALT_KEYS: &[&str] = &["appId", "uniqueName"];
const RESOURCE: &str = "Application";

/// `/applications`.
/// Query rules from the application resource's property notes (displayName: `$search`,
/// `$orderby`; description and tags: `$search`; no property supports `endsWith`) and
/// aad-advanced-queries.md ("Support for sorting": createdDateTime, deletedDateTime,
/// displayName, advanced only).
pub const SET: EntitySet = EntitySet {
    name: APPLICATIONS,
    schema: &APPLICATION,
    id_is_guid: true,
    alt_keys: &[
        AltKey {
            name: "appId",
            guid: true,
            upsert: false,
        },
        // Source: microsoftgraph/microsoft-graph-docs-contrib:api-reference/v1.0/api/application-upsert.md
        AltKey {
            name: "uniqueName",
            guid: false,
            upsert: true,
        },
    ],
    rules: Rules {
        resource: RESOURCE,
        ends_with: &[],
        search: &["displayName", "description", "tags"],
        orderby: &["displayName", "createdDateTime", "deletedDateTime"],
        expand: &["owners"],
    },
    count_segment: true,
    rows: None,
    create: Some(create),
    update: Some(update),
    delete: Some(delete),
    actions: &[
        ("addPassword", add_password),
        ("removePassword", remove_password),
    ],
    navigate: Some(navigate),
};

fn navigate(
    ctx: &Ctx<'_>,
    method: &Method,
    app: &Value,
    rest: &[Seg],
    body: &Bytes,
) -> GraphResult<Response> {
    match rest {
        [nav, more @ ..] if nav.is("owners") => {
            super::expand::route(ctx, APPLICATIONS, method, app, more, body)
        }
        [seg, ..] => Err(GraphError::no_route(&seg.name)),
        [] => Err(GraphError::method_not_allowed()),
    }
}

/// `uniqueName` is unique in the tenant, like the key it is.
fn check_unique_name(db: &Db<'_>, app: &Value) -> GraphResult<()> {
    let Some(name) = app["uniqueName"].as_str() else {
        return Ok(());
    };
    let taken = db.docs(APPLICATIONS)?.iter().any(|other| {
        str_of(other, "id") != str_of(app, "id")
            && str_of(other, "uniqueName").eq_ignore_ascii_case(name)
    });
    if taken {
        return Err(GraphError::bad_request(
            "Another object with the same value for property uniqueName already exists.",
        ));
    }
    Ok(())
}

fn create(ctx: &Ctx<'_>, db: &Db<'_>, given: Map<String, Value>) -> GraphResult<Value> {
    let given = super::schema::strip_read_only(&APPLICATION, given, None)?;
    if given
        .get("passwordCredentials")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
    {
        return Err(GraphError::bad_request(
            "New password credentials must be generated using service actions.",
        ));
    }
    let mut app = APPLICATION.defaults();
    let id = crate::util::new_guid();
    let app_id = crate::util::new_guid();
    if let Some(m) = app.as_object_mut() {
        m.extend(given.clone());
        m.insert("id".into(), json!(id));
        m.insert("appId".into(), json!(app_id));
        m.insert("createdDateTime".into(), json!(crate::util::now_iso()));
        m.insert(
            "publisherDomain".into(),
            json!(ctx.st.tenant.initial_domain),
        );
    }
    let keys = given
        .get("keyCredentials")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    app["keyCredentials"] = Value::Array(credentials::key_credentials(&keys, &[])?);
    finish_entitlements(&mut app);
    validate(db, &ctx.st.tenant, &app, None)?;
    check_unique_name(db, &app)?;
    db.insert(APPLICATIONS, &id, &app)?;
    Ok(app)
}

fn update(
    ctx: &Ctx<'_>,
    db: &Db<'_>,
    current: &Value,
    given: Map<String, Value>,
) -> GraphResult<()> {
    let given = super::schema::strip_read_only(&APPLICATION, given, Some(current))?;
    let mut app = current.clone();
    for (k, v) in &given {
        match k.as_str() {
            // Immutable once the application exists (application resource: "uniqueName
            // ... Immutable. Read-only.").
            "uniqueName" if v != &current["uniqueName"] => {
                return Err(GraphError::bad_request(
                    "Property 'uniqueName' is read-only and cannot be set.",
                ))
            }
            "passwordCredentials" => {
                // Only an echo of what is stored is accepted; secrets change through
                // addPassword and removePassword.
                if public_view(v) != public_view(&current["passwordCredentials"]) {
                    return Err(GraphError::bad_request(
                        "New password credentials must be generated using service actions.",
                    ));
                }
            }
            "keyCredentials" => {
                let cur = current[k].as_array().cloned().unwrap_or_default();
                let given = v.as_array().cloned().unwrap_or_default();
                app[k] = Value::Array(credentials::key_credentials(&given, &cur)?);
            }
            // Complex values replace the stored value as a whole (with defaults for
            // what is left out), as OData PATCH does for complex properties.
            _ => app[k] = v.clone(),
        }
    }
    finish_entitlements(&mut app);
    validate(db, &ctx.st.tenant, &app, Some(current))?;
    let id = str_of(&app, "id").to_string();
    db.update(APPLICATIONS, &id, &app)?;
    service_principals::sync_from_application(db, &app, current)?;
    Ok(())
}

fn delete(db: &Db<'_>, app: &Value) -> GraphResult<()> {
    db.delete(APPLICATIONS, str_of(app, "id"))?;
    // Deleting an application removes its service principal in the home tenant.
    for sp in db.docs(super::SERVICE_PRINCIPALS)? {
        if str_of(&sp, "appId").eq_ignore_ascii_case(str_of(app, "appId")) {
            service_principals::delete_with_links(db, str_of(&sp, "id"))?;
        }
    }
    Ok(())
}

fn add_password(ctx: &Ctx<'_>, key: &Key, body: &Bytes) -> GraphResult<Response> {
    let given = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        body_object(body)?
    };
    let (stored, shown) = credentials::add_password(&given)?;
    ctx.st.store.write(|db| {
        let mut app = find_required(db, APPLICATIONS, key, ALT_KEYS)?;
        match app["passwordCredentials"].as_array_mut() {
            Some(list) => list.push(stored),
            None => app["passwordCredentials"] = json!([stored]),
        }
        db.update(APPLICATIONS, str_of(&app, "id"), &app)?;
        Ok::<_, GraphError>(())
    })?;
    let mut out = Map::new();
    out.insert(
        "@odata.context".into(),
        json!(format!(
            "{}{}/$metadata#microsoft.graph.passwordCredential",
            ctx.base, ctx.version
        )),
    );
    if let Value::Object(m) = shown {
        out.extend(m);
    }
    Ok(super::json_response(StatusCode::OK, &Value::Object(out)))
}

fn remove_password(ctx: &Ctx<'_>, key: &Key, body: &Bytes) -> GraphResult<Response> {
    let key_id = credentials::remove_password_key(&body_object(body)?)?;
    ctx.st.store.write(|db| {
        let mut app = find_required(db, APPLICATIONS, key, ALT_KEYS)?;
        let list = app["passwordCredentials"].as_array_mut();
        let before = list.as_ref().map(|l| l.len()).unwrap_or(0);
        if let Some(list) = list {
            list.retain(|c| str_of(c, "keyId") != key_id);
            if list.len() == before {
                return Err(GraphError::bad_request(format!(
                    "No password credential with keyId '{key_id}' exists on the application."
                )));
            }
        }
        db.update(APPLICATIONS, str_of(&app, "id"), &app)?;
        Ok::<_, GraphError>(())
    })?;
    Ok(no_content())
}

/// Fill what Entra fills on scopes and roles: `origin`, and `isEnabled` when left out.
fn finish_entitlements(app: &mut Value) {
    let fix = |list: Option<&mut Vec<Value>>| {
        for e in list.into_iter().flatten() {
            if e["origin"].is_null() {
                e["origin"] = json!("Application");
            }
            if e["isEnabled"].is_null() {
                e["isEnabled"] = json!(true);
            }
        }
    };
    fix(app["api"]["oauth2PermissionScopes"].as_array_mut());
    fix(app["appRoles"].as_array_mut());
}

/// `permissionScope.value` / `appRole.value`: ≤120 characters from the documented set,
/// not starting with a dot, no spaces.
pub fn valid_entitlement_value(v: &str) -> bool {
    const EXTRA: &str = ":!#$%&'()*+,-./;=?@[]^_`{|}~";
    !v.is_empty()
        && v.chars().count() <= 120
        && !v.starts_with('.')
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || EXTRA.contains(c))
}

fn validate(
    db: &Db<'_>,
    tenant: &Tenant,
    app: &Value,
    previous: Option<&Value>,
) -> GraphResult<()> {
    match app.get("displayName") {
        Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= 256 => {}
        _ => return Err(GraphError::invalid_value("displayName", RESOURCE)),
    }
    let audience = str_of(app, "signInAudience");
    if ![
        "AzureADMyOrg",
        "AzureADMultipleOrgs",
        "AzureADandPersonalMicrosoftAccount",
        "PersonalMicrosoftAccount",
    ]
    .contains(&audience)
    {
        return Err(GraphError::invalid_value("signInAudience", RESOURCE));
    }
    validate_identifier_uris(db, tenant, app, previous)?;
    validate_entitlements(app, previous)?;
    for rra in app["requiredResourceAccess"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if str_of(rra, "resourceAppId").is_empty() {
            return Err(GraphError::invalid_value(
                "requiredResourceAccess",
                RESOURCE,
            ));
        }
        for ra in rra["resourceAccess"].as_array().into_iter().flatten() {
            if ra["id"].is_null() || !matches!(str_of(ra, "type"), "Scope" | "Role") {
                return Err(GraphError::invalid_value(
                    "requiredResourceAccess",
                    RESOURCE,
                ));
            }
        }
    }
    Ok(())
}

fn uris(app: &Value) -> Vec<String> {
    app["identifierUris"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

fn validate_identifier_uris(
    db: &Db<'_>,
    tenant: &Tenant,
    app: &Value,
    previous: Option<&Value>,
) -> GraphResult<()> {
    let mine = uris(app);
    let old: HashSet<String> = previous
        .map(uris)
        .unwrap_or_default()
        .into_iter()
        .map(|u| u.to_lowercase())
        .collect();
    let mut seen = HashSet::new();
    for u in &mine {
        if !identifier_uris::well_formed(u) || !seen.insert(u.to_lowercase()) {
            return Err(GraphError::invalid_value("identifierUris", RESOURCE));
        }
    }
    // Apps that take v2.0 tokens are exempt from the identifier-URI policy.
    let v2 = app["api"]["requestedAccessTokenVersion"].as_i64() == Some(2);
    let app_id = str_of(app, "appId");
    for u in mine.iter().filter(|u| !old.contains(&u.to_lowercase())) {
        if !v2 {
            identifier_uris::check_secure(u, app_id, tenant)?;
        }
    }
    let id = str_of(app, "id");
    for other in db.docs(APPLICATIONS)? {
        if str_of(&other, "id") == id {
            continue;
        }
        let theirs: HashSet<String> = uris(&other).into_iter().map(|u| u.to_lowercase()).collect();
        if seen.iter().any(|u| theirs.contains(u)) {
            return Err(GraphError::bad_request(
                "Another object with the same value for property identifierUris already exists.",
            ));
        }
    }
    Ok(())
}

fn validate_entitlements(app: &Value, previous: Option<&Value>) -> GraphResult<()> {
    let scopes = app["api"]["oauth2PermissionScopes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let roles = app["appRoles"].as_array().cloned().unwrap_or_default();
    let mut ids = HashSet::new();
    let mut values = HashSet::new();
    for s in &scopes {
        if s["id"].is_null() || !ids.insert(str_of(s, "id").to_string()) {
            return Err(GraphError::invalid_value("id", "PermissionScope"));
        }
        if !valid_entitlement_value(str_of(s, "value"))
            || !values.insert(str_of(s, "value").to_string())
        {
            return Err(GraphError::invalid_value("value", "PermissionScope"));
        }
        if !matches!(str_of(s, "type"), "User" | "Admin") {
            return Err(GraphError::invalid_value("type", "PermissionScope"));
        }
    }
    let mut role_values = HashSet::new();
    for r in &roles {
        if r["id"].is_null() || !ids.insert(str_of(r, "id").to_string()) {
            return Err(GraphError::invalid_value("id", "AppRole"));
        }
        let value = str_of(r, "value");
        if !value.is_empty()
            && (!valid_entitlement_value(value) || !role_values.insert(value.to_string()))
        {
            return Err(GraphError::invalid_value("value", "AppRole"));
        }
        let types = r["allowedMemberTypes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if types.is_empty()
            || types
                .iter()
                .any(|t| !matches!(t.as_str(), Some("User" | "Application")))
        {
            return Err(GraphError::invalid_value("allowedMemberTypes", "AppRole"));
        }
    }
    // An enabled scope or role cannot be removed or changed; it must be disabled first.
    if let Some(prev) = previous {
        let before = prev["api"]["oauth2PermissionScopes"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(prev["appRoles"].as_array().into_iter().flatten());
        for old in before.filter(|e| e["isEnabled"] == json!(true)) {
            let now = scopes
                .iter()
                .chain(roles.iter())
                .find(|e| str_of(e, "id") == str_of(old, "id"));
            let changed = match now {
                None => true,
                Some(n) => {
                    str_of(n, "value") != str_of(old, "value") || n.get("type") != old.get("type")
                }
            };
            if changed {
                return Err(GraphError::bad_request(
                    "Permission (scope or role) cannot be deleted or updated unless disabled first.",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entitlement_values() {
        assert!(valid_entitlement_value("user_impersonation"));
        assert!(valid_entitlement_value("Directory.Read.All"));
        assert!(!valid_entitlement_value("has space"));
        assert!(!valid_entitlement_value(".dot"));
        assert!(!valid_entitlement_value(""));
        assert!(!valid_entitlement_value(&"a".repeat(121)));
        assert!(!valid_entitlement_value("é"));
    }
}
