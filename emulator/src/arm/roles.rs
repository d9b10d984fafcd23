//! Role-based access control: the three built-in role definitions the CMG needs and the
//! role assignments at subscription and resource-group scope, stored in one collection
//! keyed by `{scope}/{name}` (lowercase). `authorization.rs` serves them over HTTP;
//! `cmg.rs` asks [`holds_role`] before it deploys as the server app.
//!
//! Source: Azure/azure-rest-api-specs:specification/authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/authorization-RoleAssignmentsCalls.json
//! (RoleAssignment, RoleAssignmentProperties: roleDefinitionId, principalId,
//! principalType, scope, condition, conditionVersion, createdOn, updatedOn, createdBy,
//! updatedBy, delegatedManagedIdentityResourceId, description) and
//! .../2022-04-01/authorization-RoleDefinitionsCalls.json (RoleDefinition: roleName,
//! type, description, permissions, assignableScopes). The built-in ids and descriptions
//! are the ones MicrosoftDocs/azure-docs:articles/role-based-access-control/built-in-roles.md lists.

use crate::store::{Db, StoreError};
use serde_json::{json, Value};

pub(super) const ASSIGNMENTS: &str = "armRoleAssignments";

pub const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
pub const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7cdc24c7c";
pub const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

/// A built-in role: (id, roleName, description, actions, notActions).
pub type BuiltIn = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

pub const BUILT_IN: &[BuiltIn] = &[
    (
        OWNER,
        "Owner",
        "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
        &["*"],
        &[],
    ),
    (
        CONTRIBUTOR,
        "Contributor",
        "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
        &["*"],
        &[
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
            "Microsoft.Blueprint/blueprintAssignments/write",
            "Microsoft.Blueprint/blueprintAssignments/delete",
            "Microsoft.Compute/galleries/share/action",
            "Microsoft.Purview/consents/write",
            "Microsoft.Purview/consents/delete",
        ],
    ),
    (
        READER,
        "Reader",
        "View all resources, but does not allow you to make any changes.",
        &["*/read"],
        &[],
    ),
];

/// A role definition as ARM shows it at `scope`.
pub fn definition(scope: &str, id: &str) -> Option<Value> {
    let (id, name, description, actions, not_actions) =
        BUILT_IN.iter().find(|d| d.0.eq_ignore_ascii_case(id))?;
    Some(json!({
        "id": format!("{scope}/providers/Microsoft.Authorization/roleDefinitions/{id}"),
        "name": id,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": name,
            "type": "BuiltInRole",
            "description": description,
            "assignableScopes": ["/"],
            "permissions": [{
                "actions": actions,
                "notActions": not_actions,
                "dataActions": [],
                "notDataActions": []
            }],
            "createdOn": "2015-02-02T21:55:09.8806423Z",
            "updatedOn": "2024-01-01T00:00:00.0000000Z",
            "createdBy": null,
            "updatedBy": null
        }
    }))
}

/// The role definition guid at the end of a `roleDefinitionId`.
pub fn definition_guid(role_definition_id: &str) -> &str {
    role_definition_id
        .rsplit('/')
        .next()
        .unwrap_or(role_definition_id)
}

/// Every stored role assignment.
pub fn all(db: &Db<'_>) -> Result<Vec<Value>, StoreError> {
    db.docs(ASSIGNMENTS)
}

/// Whether `principal_id` holds one of `roles` at `scope` or at a scope above it (ARM
/// inherits assignments downwards: subscription → resource group → resource).
pub fn holds_role(
    db: &Db<'_>,
    principal_id: &str,
    roles: &[&str],
    scope: &str,
) -> Result<bool, StoreError> {
    let scope = scope.trim_end_matches('/').to_ascii_lowercase();
    Ok(all(db)?.iter().any(|a| {
        let p = &a["properties"];
        let at = p["scope"].as_str().unwrap_or_default().to_ascii_lowercase();
        p["principalId"]
            .as_str()
            .is_some_and(|id| id.eq_ignore_ascii_case(principal_id))
            && roles.iter().any(|r| {
                definition_guid(p["roleDefinitionId"].as_str().unwrap_or_default())
                    .eq_ignore_ascii_case(r)
            })
            && (scope == at || scope.starts_with(&format!("{at}/")))
    }))
}

/// The object id of the service principal of application `app_id` in the emulator's
/// Graph, if there is one.
pub fn service_principal_of(db: &Db<'_>, app_id: &str) -> Result<Option<String>, StoreError> {
    Ok(db
        .docs(crate::graph::SERVICE_PRINCIPALS)?
        .into_iter()
        .find(|s| crate::graph::str_of(s, "appId").eq_ignore_ascii_case(app_id))
        .map(|s| crate::graph::str_of(&s, "id").to_string()))
}
