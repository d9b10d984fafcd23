//! `/servicePrincipals`: the entity set's description and its hooks — create from an
//! application's appId (also as an upsert by `appId`), update, delete with the grants
//! and assignments that reference it — and its navigations (app role assignments,
//! delegated grants, owners).

use super::entity_set::{AltKey, EntitySet};
use super::query::Rules;
use super::resources::SERVICE_PRINCIPAL;
use super::{
    assignments, public_view, query, str_of, Ctx, Seg, APPLICATIONS, ASSIGNMENTS, GRANTS,
    SERVICE_PRINCIPALS,
};
use crate::errors::{GraphError, GraphResult};
use crate::store::Db;
use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

const RESOURCE: &str = "ServicePrincipal";

/// `/servicePrincipals`.
/// Query rules from the servicePrincipal resource's property notes (displayName:
/// `$search`, `$orderby`; description: `$search`; no property supports `endsWith`) and
/// aad-advanced-queries.md ("Support for sorting").
pub const SET: EntitySet = EntitySet {
    name: SERVICE_PRINCIPALS,
    schema: &SERVICE_PRINCIPAL,
    id_is_guid: true,
    // Source: microsoftgraph/microsoft-graph-docs-contrib:api-reference/v1.0/api/serviceprincipal-upsert.md
    // (`PATCH /servicePrincipals(appId='{appId}')` with `Prefer: create-if-missing`).
    alt_keys: &[AltKey {
        name: "appId",
        guid: true,
        upsert: true,
    }],
    rules: Rules {
        resource: RESOURCE,
        ends_with: &[],
        search: &["displayName", "description"],
        orderby: &["displayName", "createdDateTime", "deletedDateTime"],
        expand: &["owners"],
    },
    count_segment: true,
    rows: None,
    create: Some(create),
    update: Some(update),
    delete: Some(delete),
    actions: &[],
    navigate: Some(navigate),
};

fn delete(db: &Db<'_>, sp: &Value) -> GraphResult<()> {
    delete_with_links(db, str_of(sp, "id"))
}

fn navigate(
    ctx: &Ctx<'_>,
    method: &Method,
    sp: &Value,
    rest: &[Seg],
    body: &Bytes,
) -> GraphResult<Response> {
    let sp_id = str_of(sp, "id").to_string();
    match (rest, method) {
        ([nav, rest @ ..], _) if nav.is("appRoleAssignedTo") => {
            assignments::route(ctx, method, sp, assignments::Via::AssignedTo, rest, body)
        }
        ([nav, rest @ ..], _) if nav.is("appRoleAssignments") => {
            assignments::route(ctx, method, sp, assignments::Via::Assignments, rest, body)
        }
        ([nav, rest @ ..], _) if nav.is("owners") => {
            super::expand::route(ctx, SERVICE_PRINCIPALS, method, sp, rest, body)
        }
        ([nav], &Method::GET) if nav.is("oauth2PermissionGrants") => {
            let rows = query::all_rows(ctx, GRANTS)?;
            let rows = rows
                .into_iter()
                .filter(|r| str_of(&r.doc, "clientId") == sp_id)
                .collect();
            let set = format!("servicePrincipals('{sp_id}')/oauth2PermissionGrants");
            query::list_response(
                ctx,
                &set,
                rows,
                &super::resources::OAUTH2_PERMISSION_GRANT,
                &super::grants::SET.rules,
                public_view,
            )
        }
        ([seg, ..], _) => Err(GraphError::no_route(&seg.name)),
        ([], _) => Err(GraphError::method_not_allowed()),
    }
}

fn create(ctx: &Ctx<'_>, db: &Db<'_>, given: Map<String, Value>) -> GraphResult<Value> {
    let given = super::schema::strip_read_only(&SERVICE_PRINCIPAL, given, None)?;
    let app_id = match given.get("appId") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_ascii_lowercase(),
        _ => return Err(GraphError::invalid_value("appId", RESOURCE)),
    };
    let app = db
        .docs(APPLICATIONS)?
        .into_iter()
        .find(|a| str_of(a, "appId").eq_ignore_ascii_case(&app_id))
        .ok_or_else(|| {
            GraphError::bad_request(format!(
                "The appId '{app_id}' of the service principal does not reference a valid application object."
            ))
        })?;
    if db
        .docs(SERVICE_PRINCIPALS)?
        .iter()
        .any(|s| str_of(s, "appId").eq_ignore_ascii_case(&app_id))
    {
        return Err(GraphError::new(
            StatusCode::CONFLICT,
            "Request_MultipleObjectsWithSameKeyValue",
            format!(
                "The service principal cannot be created, updated, or restored because the service principal name {app_id} is already in use."
            ),
        ));
    }
    let mut sp = SERVICE_PRINCIPAL.defaults();
    let id = crate::util::new_guid();
    if let Some(m) = sp.as_object_mut() {
        m.extend(given.clone());
        m.insert("id".into(), json!(id));
        m.insert("appId".into(), json!(str_of(&app, "appId")));
        m.insert("appOwnerOrganizationId".into(), json!(ctx.st.tenant.id));
    }
    if sp["passwordCredentials"]
        .as_array()
        .is_some_and(|a| !a.is_empty())
    {
        return Err(GraphError::bad_request(
            "New password credentials must be generated using service actions.",
        ));
    }
    derive_from_app(&mut sp, &app);
    if str_of(&sp, "displayName").is_empty() {
        sp["displayName"] = app["displayName"].clone();
    }
    db.insert(SERVICE_PRINCIPALS, &id, &sp)?;
    Ok(sp)
}

fn update(
    _ctx: &Ctx<'_>,
    db: &Db<'_>,
    current: &Value,
    given: Map<String, Value>,
) -> GraphResult<()> {
    let given = super::schema::strip_read_only(&SERVICE_PRINCIPAL, given, Some(current))?;
    let mut sp = current.clone();
    for (k, v) in given {
        let unchanged = current.get(&k).is_some_and(|c| match (c, &v) {
            (Value::String(a), Value::String(b)) if k == "appId" => a.eq_ignore_ascii_case(b),
            _ => *c == v,
        });
        match k.as_str() {
            "appId" if !unchanged => {
                return Err(GraphError::bad_request(
                    "Property 'appId' is read-only and cannot be set.",
                ))
            }
            "appId" => {}
            "passwordCredentials" if public_view(&v) != public_view(&current[&k]) => {
                return Err(GraphError::bad_request(
                    "New password credentials must be generated using service actions.",
                ))
            }
            "passwordCredentials" => {}
            _ => sp[&k] = v,
        }
    }
    if str_of(&sp, "displayName").trim().is_empty() {
        return Err(GraphError::invalid_value("displayName", RESOURCE));
    }
    db.update(SERVICE_PRINCIPALS, str_of(&sp, "id"), &sp)?;
    Ok(())
}

/// Copy what a service principal mirrors from its application.
fn derive_from_app(sp: &mut Value, app: &Value) {
    let app = public_view(app);
    let strings = |v: &Value| -> Vec<Value> { v.as_array().cloned().unwrap_or_default() };
    let mut names = strings(&app["identifierUris"]);
    names.push(app["appId"].clone());
    let mut reply = strings(&app["web"]["redirectUris"]);
    reply.extend(strings(&app["publicClient"]["redirectUris"]));
    reply.extend(strings(&app["spa"]["redirectUris"]));
    sp["appDisplayName"] = app["displayName"].clone();
    sp["appDescription"] = app["description"].clone();
    sp["appRoles"] = json!(strings(&app["appRoles"]));
    sp["oauth2PermissionScopes"] = json!(strings(&app["api"]["oauth2PermissionScopes"]));
    sp["servicePrincipalNames"] = json!(names);
    sp["homepage"] = app["web"]["homePageUrl"].clone();
    sp["logoutUrl"] = app["web"]["logoutUrl"].clone();
    sp["replyUrls"] = json!(reply);
    sp["signInAudience"] = app["signInAudience"].clone();
    sp["info"] = app["info"].clone();
}

/// After an application changed, bring its service principals along.
pub fn sync_from_application(db: &Db<'_>, app: &Value, previous: &Value) -> GraphResult<()> {
    for mut sp in db.docs(SERVICE_PRINCIPALS)? {
        if !str_of(&sp, "appId").eq_ignore_ascii_case(str_of(app, "appId")) {
            continue;
        }
        if sp["displayName"] == previous["displayName"] {
            sp["displayName"] = app["displayName"].clone();
        }
        derive_from_app(&mut sp, app);
        db.update(SERVICE_PRINCIPALS, str_of(&sp, "id"), &sp)?;
    }
    Ok(())
}

/// Delete a service principal with the assignments and grants that reference it.
pub fn delete_with_links(db: &Db<'_>, sp_id: &str) -> GraphResult<()> {
    db.delete(SERVICE_PRINCIPALS, sp_id)?;
    for a in db.docs(ASSIGNMENTS)? {
        if str_of(&a, "principalId") == sp_id || str_of(&a, "resourceId") == sp_id {
            db.delete(ASSIGNMENTS, str_of(&a, "id"))?;
        }
    }
    for g in db.docs(GRANTS)? {
        if str_of(&g, "clientId") == sp_id || str_of(&g, "resourceId") == sp_id {
            db.delete(GRANTS, str_of(&g, "id"))?;
        }
    }
    Ok(())
}
