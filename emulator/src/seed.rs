//! What every new tenant starts with: the Microsoft Graph service principal, carrying the
//! real ids and values of its app roles and delegated scopes so that clients resolve
//! permission ids at run time exactly as they must against a real tenant.
//!
//! Ids checked against the Microsoft Graph permissions reference and its migration
//! tables (learn.microsoft.com/graph/permissions-reference,
//! learn.microsoft.com/graph/migrate-azure-ad-graph-permissions-differences) and
//! consistent public scripts.

use crate::graph::resources::SERVICE_PRINCIPAL;
use crate::store::{Db, StoreError};
use crate::tenant::Tenant;
use serde_json::{json, Value};

pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// The tenant that owns Microsoft's first-party apps.
const MICROSOFT_SERVICES_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

/// Names other Azure customers hold, so tests can meet a "taken" answer from each of the
/// three checks the CMG wizard makes (`arm/names.rs`). Each name is taken by one check
/// only, so a test can tell which check refused it. Public IP DNS labels are unique per
/// region (`<label>.<region>.cloudapp.azure.com`): (region, label).
pub const TAKEN_DNS_LABELS: &[(&str, &str)] = &[("westus", "takendns"), ("eastus", "contosocmg")];
/// Storage account names are global.
pub const TAKEN_STORAGE_ACCOUNTS: &[&str] = &["takenstorage", "contosocmgstore"];
/// Key Vault names are global.
pub const TAKEN_KEY_VAULTS: &[&str] = &["takenvault", "contoso-vault"];

/// Application permissions: (value, id, displayName, description).
const APP_ROLES: &[(&str, &str, &str, &str)] = &[
    ("Application.Read.All", "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", "Read all applications",
     "Allows the app to read all applications and service principals without a signed-in user."),
    ("Application.ReadWrite.All", "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", "Read and write all applications",
     "Allows the app to create, read, update and delete applications and service principals without a signed-in user. Does not allow management of consent grants."),
    ("Application.ReadWrite.OwnedBy", "18a4783c-866b-4cc7-a460-3d5e5662c884", "Manage apps that this app creates or owns",
     "Allows the app to create other applications, and fully manage those applications (read, update, update application secrets and delete), without a signed-in user. It cannot update any apps that it is not an owner of."),
    ("AppRoleAssignment.ReadWrite.All", "06b708a9-e830-4db3-a914-8e69da51d44f", "Manage app permission grants and app role assignments",
     "Allows the app to manage permission grants for application permissions to any API (including Microsoft Graph) and application assignments for any app, without a signed-in user."),
    ("DelegatedPermissionGrant.ReadWrite.All", "8e8e4742-1d95-4f68-9d56-6ee75648c72a", "Manage all delegated permission grants",
     "Allows the app to manage permission grants for delegated permissions exposed by any API (including Microsoft Graph), without a signed-in user."),
    ("Directory.Read.All", "7ab1d382-f21e-4acd-a863-ba3e13f7da61", "Read directory data",
     "Allows the app to read data in your organization's directory, such as users, groups and apps, without a signed-in user."),
    ("Directory.ReadWrite.All", "19dbc75e-c2e2-444c-a770-ec69d8559fc7", "Read and write directory data",
     "Allows the app to read and write data in your organization's directory, such as users, and groups, without a signed-in user. Does not allow user or group deletion."),
    ("User.Read.All", "df021288-bdef-4463-88db-98f22de89214", "Read all users' full profiles",
     "Allows the app to read user profiles without a signed in user."),
    ("User.ReadWrite.All", "741f803b-c850-494e-b5df-cde7c675a1ca", "Read and write all users' full profiles",
     "Allows the app to read and update user profiles without a signed in user."),
    ("Group.Read.All", "5b567255-7703-4780-807c-7be8301ae99b", "Read all groups",
     "Allows the app to read group properties and memberships, and read conversations for all groups, without a signed-in user."),
    ("Group.ReadWrite.All", "62a82d76-70ea-41e2-9197-370581804d09", "Read and write all groups",
     "Allows the app to create groups, read all group properties and memberships, update group properties and memberships, and delete groups. Also allows the app to read and write conversations. All of these operations can be performed by the app without a signed-in user."),
    ("GroupMember.Read.All", "98830695-27a2-44f7-8c18-0c3ebc9698f6", "Read all group memberships",
     "Allows the app to read memberships and basic group properties for all groups without a signed-in user."),
    ("DeviceManagementApps.Read.All", "7a6ee1e7-141e-4cec-ae74-d9db155731ff", "Read Microsoft Intune apps",
     "Allows the app to read the properties, group assignments and status of apps, app configurations and app protection policies managed by Microsoft Intune, without a signed-in user."),
    ("DeviceManagementApps.ReadWrite.All", "78145de6-330d-4800-a6ce-494ff2d33d07", "Read and write Microsoft Intune apps",
     "Allows the app to read and write the properties, group assignments and status of apps, app configurations and app protection policies managed by Microsoft Intune, without a signed-in user."),
];

/// Delegated permissions: (value, id, type, admin display name, admin description,
/// user display name, user description).
type Scope = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);
const SCOPES: &[Scope] = &[
    ("User.Read", "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "User",
     "Sign in and read user profile",
     "Allows users to sign-in to the app, and allows the app to read the profile of signed-in users. It also allows the app to read basic company information of signed-in users.",
     "Sign in and read your profile",
     "Allows you to sign in to the app with your organizational account and let the app read your profile. It also allows the app to read basic company information."),
    ("User.Read.All", "a154be20-db9c-4678-8ab7-66f6cc099a59", "Admin",
     "Read all users' full profiles",
     "Allows the app to read the full set of profile properties, reports, and managers of other users in your organization, on behalf of the signed-in user.",
     "Read all users' full profiles",
     "Allows the app to read the full set of profile properties, reports, and managers of other users in your organization, on your behalf."),
    ("Directory.Read.All", "06da0dbc-49e2-44d2-8312-53f166ab848a", "Admin",
     "Read directory data",
     "Allows the app to read data in your organization's directory, such as users, groups and apps.",
     "Read directory data",
     "Allows the app to read data in your organization's directory."),
    ("Directory.AccessAsUser.All", "0e263e50-5827-48a4-b97c-d940288653c7", "Admin",
     "Access directory as the signed in user",
     "Allows the app to have the same access to information in the directory as the signed-in user.",
     "Access the directory as you",
     "Allows the app to have the same access to information in your work or school directory as you do."),
    ("Application.ReadWrite.All", "bdfbf15f-ee85-4955-8675-146e8e5296b5", "Admin",
     "Read and write all applications",
     "Allows the app to create, read, update and delete applications and service principals on behalf of the signed-in user. Does not allow management of consent grants.",
     "Read and write applications",
     "Allows the app to create, read, update and delete applications and service principals on your behalf. Does not allow management of consent grants."),
    ("openid", "37f7f235-527c-4136-accd-4a02d197296e", "User",
     "Sign users in",
     "Allows users to sign in to the app with their work or school accounts and allows the app to see basic user profile information.",
     "Sign in as you",
     "Allows you to sign in to the app with your work or school account and allows the app to read your basic profile information."),
    ("profile", "14dad69e-099b-42c9-810b-d002981feec1", "User",
     "View users' basic profile",
     "Allows the app to see your users' basic profile (e.g., name, picture, user name, email address)",
     "View your basic profile",
     "Allows the app to see your basic profile (e.g., name, picture, user name, email address)"),
    ("email", "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0", "User",
     "View users' email address",
     "Allows the app to read your users' primary email address",
     "View your email address",
     "Allows the app to read your primary email address"),
    ("offline_access", "7427e0e9-2fba-42fe-b0c0-848c9e6a8182", "User",
     "Maintain access to data you have given it access to",
     "Allows the app to see and update the data you gave it access to, even when users are not currently using the app. This does not give the app any additional permissions.",
     "Maintain access to data you have given it access to",
     "Allows the app to see and update the data you gave it access to, even when you are not currently using the app. This does not give the app any additional permissions."),
];

pub fn graph_app_roles() -> Vec<Value> {
    APP_ROLES
        .iter()
        .map(|(value, id, name, desc)| {
            json!({
                "allowedMemberTypes": ["Application"],
                "description": desc,
                "displayName": name,
                "id": id,
                "isEnabled": true,
                "origin": "Application",
                "value": value,
            })
        })
        .collect()
}

pub fn graph_scopes() -> Vec<Value> {
    SCOPES
        .iter()
        .map(|(value, id, ty, a_name, a_desc, u_name, u_desc)| {
            json!({
                "adminConsentDescription": a_desc,
                "adminConsentDisplayName": a_name,
                "id": id,
                "isEnabled": true,
                "type": ty,
                "userConsentDescription": u_desc,
                "userConsentDisplayName": u_name,
                "value": value,
            })
        })
        .collect()
}

/// The Microsoft Graph service principal as it appears in a tenant.
pub fn graph_service_principal() -> Value {
    let mut sp = SERVICE_PRINCIPAL.defaults();
    let fields = json!({
        "id": crate::util::new_guid(),
        "appDisplayName": "Microsoft Graph",
        "appId": GRAPH_APP_ID,
        "appOwnerOrganizationId": MICROSOFT_SERVICES_TENANT,
        "displayName": "Microsoft Graph",
        "servicePrincipalNames": [
            "https://graph.microsoft.com",
            "https://graph.microsoft.com/",
            "https://canary.graph.microsoft.com",
            "https://ags.windows.net",
            GRAPH_APP_ID,
        ],
        "signInAudience": "AzureADMultipleOrgs",
        "appRoles": graph_app_roles(),
        "oauth2PermissionScopes": graph_scopes(),
    });
    if let (Some(sp), Some(fields)) = (sp.as_object_mut(), fields.as_object()) {
        for (k, v) in fields {
            sp.insert(k.clone(), v.clone());
        }
    }
    sp
}

pub fn seed_tenant(db: &Db<'_>, _tenant: &Tenant) -> Result<(), StoreError> {
    let sp = graph_service_principal();
    let id = sp["id"].as_str().unwrap_or_default().to_string();
    db.insert(crate::graph::SERVICE_PRINCIPALS, &id, &sp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for r in graph_app_roles().iter().chain(graph_scopes().iter()) {
            let id = r["id"].as_str().unwrap();
            assert!(crate::util::is_guid(id), "{id}");
            assert!(seen.insert((id.to_string(), r.get("type").is_some())));
        }
        let sp = graph_service_principal();
        assert_eq!(sp["appId"], GRAPH_APP_ID);
        assert!(sp["oauth2PermissionScopes"]
            .as_array()
            .unwrap()
            .iter()
            .any(
                |s| s["value"] == "User.Read" && s["id"] == "e1fe6dd8-ba31-4d61-89e7-88639da4683d"
            ));
    }
}
