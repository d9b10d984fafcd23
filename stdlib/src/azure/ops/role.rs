//! A role assignment: an Azure RBAC role for a service principal at a scope. The site's
//! server app deploys the CMG into the resource group (2309 and later use it instead
//! of a first-party app, api-surface §9.1), so it needs Contributor there.
//!
//! Found by (scope, role, principal), including an assignment inherited from the
//! subscription; created by PUT under a name derived from those three (a UUID v5), so
//! two runs PUT the same assignment. ARM refuses a second assignment of the same role
//! to the same principal at the same scope (`RoleAssignmentExists`), which this treats
//! as done. Source: Azure/azure-rest-api-specs:specification/authorization/
//! resource-manager/Microsoft.Authorization/stable/2022-04-01/authorization-RoleAssignmentsCalls.json.

use super::MODULE;
use crate::change::{ensure, Equivalent, Op, Outcome, Resource, ResourceId, Written};
use crate::cloud::access::Writer;
use crate::context::Ctx;
use crate::error::{ModuleError, Result};
use serde_json::{json, Value};
use std::time::Duration;

/// `Microsoft.Authorization` role assignments and definitions.
pub const AUTHORIZATION_API: &str = "2022-04-01";

/// Built-in role ids, the same in every tenant (learn.microsoft.com built-in roles).
pub const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
pub const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7cdc24c7c";

/// Namespace for the assignment names this tool derives.
const NAME_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6d1c_2f0e_4b7a_4c1e_9a53_c06d_676d_7400);

/// An assignment as scripts see it.
#[derive(Debug, Clone)]
pub struct RoleAssignment {
    pub id: String,
    pub role: String,
    pub scope: String,
    pub principal_id: String,
    /// True when the role comes from a wider scope (the subscription).
    pub inherited: bool,
}

struct Assignment<'a> {
    scope: &'a str,
    subscription: &'a str,
    role_name: &'a str,
    role_definition_id: String,
    principal_id: &'a str,
    label: &'a str,
}

impl Assignment<'_> {
    fn name(&self) -> String {
        let seed = format!(
            "{}|{}|{}",
            self.scope.to_ascii_lowercase(),
            role_guid(&self.role_definition_id),
            self.principal_id.to_ascii_lowercase()
        );
        uuid_v5(&seed)
    }
    fn path(&self) -> String {
        format!(
            "{}/providers/Microsoft.Authorization/roleAssignments/{}",
            self.scope,
            self.name()
        )
    }
}

impl Resource for Assignment<'_> {
    type Output = RoleAssignment;

    fn id(&self, _observed: Option<&Value>) -> ResourceId {
        ResourceId::new(
            MODULE,
            "role assignment",
            format!("{} {} {}", self.scope, self.role_name, self.principal_id),
        )
        .label(format!("{} for {}", self.role_name, self.label))
    }

    fn observe(&self, ctx: &Ctx) -> Result<Option<Value>> {
        // A plan that creates the service principal: nothing can hold a role yet.
        if uuid::Uuid::parse_str(self.principal_id).is_err() {
            return Ok(None);
        }
        let found = match assignments(ctx, self.scope, self.principal_id) {
            // A plan that creates the group first: nothing can be assigned on it yet.
            Err(e)
                if ctx.is_plan() && e.remote_code.as_deref() == Some("ResourceGroupNotFound") =>
            {
                return Ok(None)
            }
            Err(e) if e.remote_code.as_deref() == Some("ResourceGroupNotFound") => {
                return Err(super::hinted(
                    e,
                    "create the resource group first: azure::resource_group(name, region)",
                ))
            }
            other => other?,
        };
        let guid = role_guid(&self.role_definition_id);
        Ok(found
            .into_iter()
            .filter(|a| {
                role_guid(a["properties"]["roleDefinitionId"].as_str().unwrap_or("")) == guid
            })
            .find(|a| {
                covers(
                    a["properties"]["scope"].as_str().unwrap_or(""),
                    self.scope,
                    self.subscription,
                )
            }))
    }

    /// An existing assignment (here or inherited) is all that is needed: nothing to
    /// change on it.
    fn desired(&self, observed: Option<&Value>) -> Result<Value> {
        Ok(match observed {
            Some(o) => {
                json!({"properties": {"roleDefinitionId": o["properties"]["roleDefinitionId"]}})
            }
            None => json!({"properties": {
                "roleDefinitionId": self.role_definition_id,
                "principalId": self.principal_id,
                "principalType": "ServicePrincipal",
            }}),
        })
    }

    fn equivalent(&self) -> Option<Equivalent> {
        Some(Equivalent::az(crate::azure::model::az_command(&[
            "role",
            "assignment",
            "create",
            "--assignee-object-id",
            self.principal_id,
            "--assignee-principal-type",
            "ServicePrincipal",
            "--role",
            self.role_name,
            "--scope",
            self.scope,
        ])))
    }

    async fn write(&self, w: &Writer<'_>, op: Op<'_>) -> Result<Written> {
        let Op::Create { body } = op else {
            return Err(ModuleError::validation(
                "a role assignment is never changed",
            ));
        };
        // A service principal made moments ago may not have reached ARM's directory
        // cache yet (`PrincipalNotFound`): ARM's own advice is to retry.
        let mut pause = Duration::from_secs(2);
        for attempt in 0.. {
            match w.arm().put(&self.path(), AUTHORIZATION_API, body).await {
                Ok(r) => {
                    let id = r.body["id"].as_str().unwrap_or_default().to_string();
                    return Ok(Written::new(r.body).id(id));
                }
                Err(e) if e.remote_code.as_deref() == Some("RoleAssignmentExists") => {
                    // Another run (or a person) assigned it under another name.
                    return Ok(Written::new(json!({"properties": body["properties"]})));
                }
                Err(e) if e.remote_code.as_deref() == Some("PrincipalNotFound") && attempt < 6 => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(20));
                }
                Err(e) => return Err(e),
            }
        }
        unreachable!("the loop returns")
    }

    fn output(self, outcome: Outcome) -> Result<RoleAssignment> {
        let from = |v: &Value| RoleAssignment {
            id: v["id"].as_str().unwrap_or_default().to_string(),
            role: self.role_name.to_string(),
            scope: v["properties"]["scope"]
                .as_str()
                .unwrap_or(self.scope)
                .to_string(),
            principal_id: self.principal_id.to_string(),
            inherited: v["properties"]["scope"]
                .as_str()
                .is_some_and(|s| !s.eq_ignore_ascii_case(self.scope)),
        };
        Ok(match outcome {
            Outcome::Unchanged(v) => from(&v),
            Outcome::Applied { written, .. } => from(&written.state),
            Outcome::Planned { .. } => RoleAssignment {
                id: crate::change::Known::<String>::AfterApply
                    .text()
                    .to_string(),
                role: self.role_name.to_string(),
                scope: self.scope.to_string(),
                principal_id: self.principal_id.to_string(),
                inherited: false,
            },
        })
    }
}

/// Ensure `role` (a built-in role name such as `Contributor`) for the service principal
/// `principal_id` at `scope` (a subscription or resource group id).
pub fn ensure_role(
    ctx: &Ctx,
    subscription: &str,
    scope: &str,
    role: &str,
    principal_id: &str,
    label: &str,
) -> Result<RoleAssignment> {
    let role_definition_id = role_definition(ctx, subscription, role)?;
    ensure(
        ctx,
        Assignment {
            scope,
            subscription: &format!("/subscriptions/{subscription}"),
            role_name: role,
            role_definition_id,
            principal_id,
            label,
        },
    )
}

/// Whether the principal holds Owner or Contributor at `scope` or above: what a CMG
/// deployment by the server app needs.
pub fn can_deploy(ctx: &Ctx, subscription: &str, scope: &str, principal_id: &str) -> Result<bool> {
    let sub = format!("/subscriptions/{subscription}");
    Ok(assignments(ctx, scope, principal_id)?.iter().any(|a| {
        let role = role_guid(a["properties"]["roleDefinitionId"].as_str().unwrap_or(""));
        (role == OWNER || role == CONTRIBUTOR)
            && covers(a["properties"]["scope"].as_str().unwrap_or(""), scope, &sub)
    }))
}

/// Assignments of `principal_id` that apply at `scope` (ARM lists those at the scope,
/// above it and below it).
fn assignments(ctx: &Ctx, scope: &str, principal_id: &str) -> Result<Vec<Value>> {
    let path = format!(
        "{scope}/providers/Microsoft.Authorization/roleAssignments?$filter=principalId eq '{principal_id}'"
    );
    ctx.block_on(ctx.read().arm().list(&path, AUTHORIZATION_API))
}

/// The role definition id of a built-in role, asked of ARM by name.
fn role_definition(ctx: &Ctx, subscription: &str, role: &str) -> Result<String> {
    if role.contains('\'') || role.trim().is_empty() {
        return Err(ModuleError::validation(format!(
            "{role:?} is not a role name"
        )));
    }
    let path = format!(
        "/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions?$filter=roleName eq '{role}'"
    );
    let found = ctx.block_on(ctx.read().arm().list(&path, AUTHORIZATION_API))?;
    found
        .first()
        .and_then(|d| d["id"].as_str())
        .map(str::to_string)
        .ok_or_else(|| {
            ModuleError::not_found(format!("Azure has no role named {role:?}"))
                .with_hint("use a built-in role name, e.g. \"Contributor\" or \"Owner\"")
        })
}

/// The GUID at the end of a role definition id.
fn role_guid(id: &str) -> String {
    id.rsplit('/').next().unwrap_or(id).to_ascii_lowercase()
}

/// Whether an assignment at `at` applies at `scope`: the same scope or the subscription.
fn covers(at: &str, scope: &str, subscription: &str) -> bool {
    at.eq_ignore_ascii_case(scope) || at.eq_ignore_ascii_case(subscription)
}

/// A name-based UUID (version 5) in this tool's namespace, so every machine derives
/// the same assignment name.
fn uuid_v5(name: &str) -> String {
    uuid::Uuid::new_v5(&NAME_NAMESPACE, name.as_bytes()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable_and_versioned() {
        let a = uuid_v5("/subscriptions/s|b24988ac|p");
        assert_eq!(a, uuid_v5("/subscriptions/s|b24988ac|p"));
        assert_ne!(a, uuid_v5("/subscriptions/s|b24988ac|q"));
        assert_eq!(a.as_bytes()[14], b'5');
    }

    #[test]
    fn scopes_cover_themselves_and_below_the_subscription() {
        let rg = "/subscriptions/s/resourceGroups/rg";
        assert!(covers(
            "/subscriptions/S/resourcegroups/RG",
            rg,
            "/subscriptions/s"
        ));
        assert!(covers("/subscriptions/s", rg, "/subscriptions/s"));
        assert!(!covers(
            "/subscriptions/s/resourceGroups/other",
            rg,
            "/subscriptions/s"
        ));
        assert_eq!(
            role_guid("/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/B24988AC-6180-42a0-ab88-20f7cdc24c7c"),
            CONTRIBUTOR
        );
    }
}
