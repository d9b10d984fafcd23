//! `Microsoft.Authorization` over HTTP, at subscription and resource-group scope:
//! role assignments (`PUT` 201, again 200; a twin of the same scope, role and principal
//! under another name 409 `RoleAssignmentExists`; another role or principal under the
//! same name 400 `RoleAssignmentUpdateNotPermitted`; an unknown principal 400
//! `PrincipalNotFound`; an unknown role 400 `RoleDefinitionDoesNotExist`; `GET`; `DELETE`
//! 200 with the assignment, 204 when there is none; the list with `$filter=atScope()`,
//! `principalId eq '…'`, `assignedTo('…')`) and the built-in role definitions (`GET`
//! by id, the list with `$filter=roleName eq '…'` or `type eq 'BuiltInRole'`).
//!
//! Source: Azure/azure-rest-api-specs:specification/authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/authorization-RoleAssignmentsCalls.json
//! (RoleAssignments_Create 200/201, _Get, _Delete 200/204, _ListForScope with `$filter`
//! "Use atScope() to return all role assignments at or above the scope. Use
//! principalId eq {id} to return all role assignments at, above or below the scope for
//! the specified principal") and authorization-RoleDefinitionsCalls.json
//! (RoleDefinitions_Get, _List with `$filter` "Use atScopeAndBelow filter to search
//! below the given scope as well"). The error texts of `RoleAssignmentExists` and
//! `PrincipalNotFound` are ARM's as clients quote them (Azure-Samples/azure-search-openai-demo#1091,
//! Azure/HubAndSpokeResearchEnclave#50); `RoleAssignmentUpdateNotPermitted`'s,
//! `RoleDefinitionDoesNotExist`'s, `RoleAssignmentNotFound`'s and the 400 for a name
//! that is not a GUID (`InvalidRoleAssignmentId`) are UNCONFIRMED.

use super::dispatch::{method_not_allowed, Req};
use super::errors::{json_body, ArmError, ArmResult};
use super::resource_groups::kind_is as is;
use super::roles::{self, ASSIGNMENTS};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

pub fn route(r: &Req<'_>, sub: &str, rg: Option<&str>, p: &[&str]) -> ArmResult<Response> {
    let (scope, sub) = preamble(r, sub, rg)?;
    match (p, r.method.clone()) {
        ([t], Method::GET) if is(t, "roleAssignments") => list(r, &scope),
        ([t, name], m) if is(t, "roleAssignments") => match m {
            Method::GET => get(r, &scope, name),
            Method::PUT => put(r, &scope, &sub, name),
            Method::DELETE => delete(r, &scope, name),
            m => Err(method_not_allowed(&m)),
        },
        ([t], Method::GET) if is(t, "roleDefinitions") => definitions(r, &sub),
        ([t, id], Method::GET) if is(t, "roleDefinitions") => {
            let body = roles::definition(&format!("/subscriptions/{sub}"), id)
                .ok_or_else(|| no_definition(id))?;
            Ok(Json(body).into_response())
        }
        ([t] | [t, _], m) if is(t, "roleAssignments") || is(t, "roleDefinitions") => {
            Err(method_not_allowed(&m))
        }
        _ => Err(super::unknown_action(
            "Microsoft.Authorization",
            p.first().copied().unwrap_or(""),
        )),
    }
}

/// api-version present, subscription, group, then the version: the scope as ARM shows it.
fn preamble(r: &Req<'_>, sub: &str, rg: Option<&str>) -> ArmResult<(String, String)> {
    super::api_version(&r.query())?;
    let sub = super::subscriptions::check(r.st, sub)?;
    let scope = match rg {
        Some(rg) => {
            let (group, _) = super::resource_groups::group_and_location(r.st, &sub, rg)?;
            format!("/subscriptions/{sub}/resourceGroups/{group}")
        }
        None => format!("/subscriptions/{sub}"),
    };
    super::versions::check(
        r.uri,
        "Microsoft.Authorization/roleAssignments",
        "global",
        super::versions::AUTHORIZATION,
    )?;
    Ok((scope, sub))
}

fn key(scope: &str, name: &str) -> String {
    format!(
        "{}/{}",
        scope.to_ascii_lowercase(),
        name.to_ascii_lowercase()
    )
}

fn bad(code: &str, message: impl Into<String>) -> ArmError {
    ArmError::new(StatusCode::BAD_REQUEST, code, message)
}

fn no_definition(id: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "RoleDefinitionDoesNotExist",
        format!("The specified role definition with ID '{id}' does not exist."),
    )
}

fn not_found(name: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "RoleAssignmentNotFound",
        format!("The role assignment '{name}' is not found."),
    )
}

fn view(doc: &Value) -> Value {
    crate::graph::public_view(doc)
}

fn get(r: &Req<'_>, scope: &str, name: &str) -> ArmResult<Response> {
    let doc =
        r.st.store
            .read(|db| db.get(ASSIGNMENTS, &key(scope, name)))?
            .ok_or_else(|| not_found(name))?;
    Ok(Json(view(&doc)).into_response())
}

fn delete(r: &Req<'_>, scope: &str, name: &str) -> ArmResult<Response> {
    let k = key(scope, name);
    let gone = r.st.store.write(|db| {
        let doc = db.get(ASSIGNMENTS, &k)?;
        if doc.is_some() {
            db.delete(ASSIGNMENTS, &k)?;
        }
        Ok::<_, ArmError>(doc)
    })?;
    match gone {
        Some(doc) => Ok(Json(view(&doc)).into_response()),
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

/// What kind of directory object `id` is, if it is one.
fn principal_type(db: &crate::store::Db<'_>, id: &str) -> ArmResult<Option<&'static str>> {
    for (set, t) in [
        (crate::graph::SERVICE_PRINCIPALS, "ServicePrincipal"),
        ("users", "User"),
        ("groups", "Group"),
    ] {
        if db
            .docs(set)?
            .iter()
            .any(|d| crate::graph::str_of(d, "id").eq_ignore_ascii_case(id))
        {
            return Ok(Some(t));
        }
    }
    Ok(None)
}

fn put(r: &Req<'_>, scope: &str, sub: &str, name: &str) -> ArmResult<Response> {
    if !crate::util::is_guid(name) {
        return Err(bad(
            "InvalidRoleAssignmentId",
            format!("The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID."),
        ));
    }
    let body = json_body(r.body)?;
    let p = &body["properties"];
    let (Some(role_id), Some(principal)) =
        (p["roleDefinitionId"].as_str(), p["principalId"].as_str())
    else {
        return Err(bad(
            "InvalidRequestContent",
            "The request content is missing the required properties 'roleDefinitionId' and 'principalId'.",
        ));
    };
    let role = roles::definition_guid(role_id).to_ascii_lowercase();
    if roles::definition(scope, &role).is_none() {
        return Err(bad(
            "RoleDefinitionDoesNotExist",
            format!("The specified role definition with ID '{role}' does not exist."),
        ));
    }
    let principal = principal.to_ascii_lowercase();
    let k = key(scope, name);
    let tenant = r.st.tenant.id.clone();
    let (status, doc) = r.st.store.write(|db| {
        let Some(ptype) = principal_type(db, &principal)? else {
            return Err(bad(
                "PrincipalNotFound",
                format!("Principal {} does not exist in the directory {tenant}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype", principal.replace('-', "")),
            ));
        };
        let same = |d: &Value| {
            let q = &d["properties"];
            q["principalId"].as_str().is_some_and(|x| x.eq_ignore_ascii_case(&principal))
                && roles::definition_guid(q["roleDefinitionId"].as_str().unwrap_or_default())
                    .eq_ignore_ascii_case(&role)
        };
        if let Some(cur) = db.get(ASSIGNMENTS, &k)? {
            if same(&cur) {
                return Ok((StatusCode::OK, cur));
            }
            return Err(bad(
                "RoleAssignmentUpdateNotPermitted",
                "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
            ));
        }
        let twin = roles::all(db)?.into_iter().any(|d| {
            same(&d)
                && d["properties"]["scope"]
                    .as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(scope))
        });
        if twin {
            return Err(ArmError::new(
                StatusCode::CONFLICT,
                "RoleAssignmentExists",
                "The role assignment already exists.",
            ));
        }
        let now = crate::util::now_iso();
        let doc = json!({
            "_key": k,
            "id": format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{}", name.to_ascii_lowercase()),
            "name": name.to_ascii_lowercase(),
            "type": "Microsoft.Authorization/roleAssignments",
            "properties": {
                "roleDefinitionId": format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role}"),
                "principalId": principal,
                "principalType": p["principalType"].as_str().unwrap_or(ptype),
                "scope": scope,
                "condition": p["condition"],
                "conditionVersion": p["conditionVersion"],
                "description": p["description"],
                "createdOn": now,
                "updatedOn": now,
                "createdBy": null,
                "updatedBy": null,
                "delegatedManagedIdentityResourceId": null,
            }
        });
        db.insert(ASSIGNMENTS, &k, &doc)?;
        Ok((StatusCode::CREATED, doc))
    })?;
    Ok((status, Json(view(&doc))).into_response())
}

/// The `$filter` of a role assignment list.
struct Filter {
    at_scope: bool,
    principal: Option<String>,
}

/// The quoted value of `{prefix}'value'` (or `{prefix}'value')`), without case.
fn quoted(term: &str, prefix: &str) -> Option<String> {
    term.get(..prefix.len())
        .filter(|p| p.eq_ignore_ascii_case(prefix))?;
    let v = term
        .get(prefix.len()..)?
        .trim_end_matches(')')
        .trim_matches('\'');
    Some(v.to_ascii_lowercase())
}

fn filter(r: &Req<'_>) -> ArmResult<Filter> {
    let mut f = Filter {
        at_scope: false,
        principal: None,
    };
    let Some(text) = r.query().get("$filter").map(str::to_string) else {
        return Ok(f);
    };
    let lower = text.to_ascii_lowercase();
    let mut start = 0;
    let mut terms = Vec::new();
    for (i, _) in lower.match_indices(" and ") {
        terms.push(text[start..i].trim().to_string());
        start = i + 5;
    }
    terms.push(text[start..].trim().to_string());
    for t in terms {
        if t.eq_ignore_ascii_case("atScope()") {
            f.at_scope = true;
        } else if let Some(id) = quoted(&t, "principalId eq ").or_else(|| quoted(&t, "assignedTo("))
        {
            f.principal = Some(id);
        } else {
            return Err(bad(
                "InvalidFilter",
                format!("The filter '{text}' is not supported. Supported filters: atScope(), principalId eq '{{id}}', assignedTo('{{id}}')."),
            ));
        }
    }
    Ok(f)
}

fn list(r: &Req<'_>, scope: &str) -> ArmResult<Response> {
    let f = filter(r)?;
    let scope_l = scope.to_ascii_lowercase();
    let value: Vec<Value> =
        r.st.store
            .read(roles::all)?
            .iter()
            .filter(|d| {
                let at = d["properties"]["scope"]
                    .as_str()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                let above_or_at = scope_l == at || scope_l.starts_with(&format!("{at}/"));
                let below = at.starts_with(&format!("{scope_l}/"));
                (above_or_at || (!f.at_scope && below))
                    && f.principal.as_ref().is_none_or(|p| {
                        d["properties"]["principalId"]
                            .as_str()
                            .is_some_and(|x| x.eq_ignore_ascii_case(p))
                    })
            })
            .map(view)
            .collect();
    Ok(Json(json!({"value": value})).into_response())
}

fn definitions(r: &Req<'_>, sub: &str) -> ArmResult<Response> {
    let text = r.query().get("$filter").unwrap_or_default().to_string();
    let name = quoted(text.trim(), "roleName eq ");
    let builtin = quoted(text.trim(), "type eq ");
    if !text.trim().is_empty() && name.is_none() && builtin.is_none() {
        return Err(bad(
            "InvalidFilter",
            format!("The filter '{text}' is not supported. Supported filters: roleName eq '{{name}}', type eq 'BuiltInRole'."),
        ));
    }
    let scope = format!("/subscriptions/{sub}");
    let value: Vec<Value> = roles::BUILT_IN
        .iter()
        .filter(|d| name.as_ref().is_none_or(|n| d.1.eq_ignore_ascii_case(n)))
        .filter(|_| {
            builtin
                .as_ref()
                .is_none_or(|t| t.eq_ignore_ascii_case("BuiltInRole"))
        })
        .filter_map(|d| roles::definition(&scope, d.0))
        .collect();
    Ok(Json(json!({"value": value})).into_response())
}
