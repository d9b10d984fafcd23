//! App role assignments (application permissions granted to a service principal):
//! `/servicePrincipals/{resource}/appRoleAssignedTo` and
//! `/servicePrincipals/{principal}/appRoleAssignments`.

use super::entity_set::created_response;
use super::query::{self, Rules};
use super::resources::APP_ROLE_ASSIGNMENT;
use super::{
    body_object, entity_response, no_content, public_view, str_of, Ctx, Seg, ASSIGNMENTS,
    SERVICE_PRINCIPALS,
};
use crate::errors::{GraphError, GraphResult};
use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

/// Which side of the assignment the path's service principal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The path names the resource (`appRoleAssignedTo`).
    AssignedTo,
    /// The path names the principal (`appRoleAssignments`).
    Assignments,
}

impl Via {
    fn nav(self) -> &'static str {
        match self {
            Via::AssignedTo => "appRoleAssignedTo",
            Via::Assignments => "appRoleAssignments",
        }
    }
    /// The assignment property that must equal the path's service principal.
    fn anchor(self) -> &'static str {
        match self {
            Via::AssignedTo => "resourceId",
            Via::Assignments => "principalId",
        }
    }
}

const RESOURCE: &str = "AppRoleAssignment";
const RULES: Rules = Rules::plain(RESOURCE);
/// The "default access" role every resource has implicitly.
const DEFAULT_ACCESS: &str = "00000000-0000-0000-0000-000000000000";

pub fn route(
    ctx: &Ctx<'_>,
    method: &Method,
    sp: &Value,
    via: Via,
    rest: &[Seg],
    body: &Bytes,
) -> GraphResult<Response> {
    let sp_id = str_of(sp, "id");
    let set = format!("servicePrincipals('{sp_id}')/{}", via.nav());
    match (rest, method) {
        ([], &Method::GET) => {
            let rows = query::all_rows(ctx, ASSIGNMENTS)?;
            let rows = rows
                .into_iter()
                .filter(|r| str_of(&r.doc, via.anchor()) == sp_id)
                .collect();
            query::list_response(ctx, &set, rows, &APP_ROLE_ASSIGNMENT, &RULES, public_view)
        }
        ([], &Method::POST) => {
            let doc = create(ctx, sp, via, body)?;
            let path = format!("servicePrincipals/{sp_id}/{}", via.nav());
            created_response(ctx, &set, &path, &doc, &APP_ROLE_ASSIGNMENT)
        }
        ([item], m) if item.key.is_none() && (m == Method::GET || m == Method::DELETE) => {
            let id = item.name.as_str();
            let found = ctx.st.store.write(|db| {
                let doc = db
                    .get(ASSIGNMENTS, id)?
                    .filter(|d| str_of(d, via.anchor()) == sp_id)
                    .ok_or_else(|| GraphError::not_found(id))?;
                if m == Method::DELETE {
                    db.delete(ASSIGNMENTS, id)?;
                }
                Ok::<_, GraphError>(doc)
            })?;
            if m == Method::DELETE {
                Ok(no_content())
            } else {
                entity_response(ctx, StatusCode::OK, &set, &found, &APP_ROLE_ASSIGNMENT)
            }
        }
        ([], _) | ([_], _) => Err(GraphError::method_not_allowed()),
        ([_, seg, ..], _) => Err(GraphError::no_route(&seg.name)),
    }
}

fn required_guid(given: &serde_json::Map<String, Value>, name: &str) -> GraphResult<String> {
    match given.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(GraphError::invalid_value(name, RESOURCE)),
    }
}

fn create(ctx: &Ctx<'_>, path_sp: &Value, via: Via, body: &Bytes) -> GraphResult<Value> {
    let given = APP_ROLE_ASSIGNMENT.normalize(&body_object(body)?, false)?;
    let given = super::schema::strip_read_only(&APP_ROLE_ASSIGNMENT, given, None)?;
    let principal_id = required_guid(&given, "principalId")?;
    let resource_id = required_guid(&given, "resourceId")?;
    let app_role_id = required_guid(&given, "appRoleId")?;
    let anchor_value = if via == Via::AssignedTo {
        &resource_id
    } else {
        &principal_id
    };
    if anchor_value != str_of(path_sp, "id") {
        return Err(GraphError::bad_request(format!(
            "The {} in the request body must be the service principal in the request URL.",
            via.anchor()
        )));
    }
    ctx.st.store.write(|db| {
        let principal = db
            .get(SERVICE_PRINCIPALS, &principal_id)?
            .ok_or_else(|| GraphError::not_found(&principal_id))?;
        let resource = db
            .get(SERVICE_PRINCIPALS, &resource_id)?
            .ok_or_else(|| GraphError::not_found(&resource_id))?;
        let declared = resource["appRoles"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| {
                str_of(r, "id") == app_role_id
                    && r["isEnabled"] != json!(false)
                    && r["allowedMemberTypes"]
                        .as_array()
                        .is_some_and(|t| t.iter().any(|t| t == "Application"))
            });
        if !declared && app_role_id != DEFAULT_ACCESS {
            return Err(GraphError::bad_request(format!(
                "Permission being assigned was not found on application '{}'.",
                str_of(&resource, "appId")
            )));
        }
        let duplicate = db.docs(ASSIGNMENTS)?.iter().any(|a| {
            str_of(a, "principalId") == principal_id
                && str_of(a, "resourceId") == resource_id
                && str_of(a, "appRoleId") == app_role_id
        });
        if duplicate {
            return Err(GraphError::bad_request(
                "Permission being assigned already exists on the object",
            ));
        }
        let id = crate::util::opaque_id(32);
        let doc = json!({
            "id": id,
            "deletedDateTime": null,
            "appRoleId": app_role_id,
            "createdDateTime": crate::util::now_iso(),
            "principalDisplayName": principal["displayName"],
            "principalId": principal_id,
            "principalType": "ServicePrincipal",
            "resourceDisplayName": resource["displayName"],
            "resourceId": resource_id,
        });
        db.insert(ASSIGNMENTS, &id, &doc)?;
        Ok(doc)
    })
}
