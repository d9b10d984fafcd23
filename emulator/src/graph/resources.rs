//! The Graph v1.0 resource types the emulator serves, as in the Graph reference
//! (application, servicePrincipal, oAuth2PermissionGrant, appRoleAssignment and the
//! complex types they use).

use super::schema::{f, fd, ro, Def, Field, Obj, Ty};

const STR_LIST: Ty = Ty::Arr(&Ty::Str);
const GUID_LIST: Ty = Ty::Arr(&Ty::Guid);

pub const PERMISSION_SCOPE: Obj = Obj {
    name: "microsoft.graph.permissionScope",
    fields: &[
        f("adminConsentDescription", Ty::Str),
        f("adminConsentDisplayName", Ty::Str),
        f("id", Ty::Guid),
        f("isEnabled", Ty::Bool),
        f("origin", Ty::Str),
        f("type", Ty::Str),
        f("userConsentDescription", Ty::Str),
        f("userConsentDisplayName", Ty::Str),
        f("value", Ty::Str),
    ],
};

pub const APP_ROLE: Obj = Obj {
    name: "microsoft.graph.appRole",
    fields: &[
        f("allowedMemberTypes", STR_LIST),
        f("description", Ty::Str),
        f("displayName", Ty::Str),
        f("id", Ty::Guid),
        f("isEnabled", Ty::Bool),
        f("origin", Ty::Str),
        f("value", Ty::Str),
    ],
};

const PRE_AUTHORIZED: Obj = Obj {
    name: "microsoft.graph.preAuthorizedApplication",
    fields: &[f("appId", Ty::Str), f("delegatedPermissionIds", GUID_LIST)],
};

const API: Obj = Obj {
    name: "microsoft.graph.apiApplication",
    fields: &[
        f("acceptMappedClaims", Ty::Bool),
        f("knownClientApplications", GUID_LIST),
        f(
            "oauth2PermissionScopes",
            Ty::Arr(&Ty::Obj(&PERMISSION_SCOPE)),
        ),
        f(
            "preAuthorizedApplications",
            Ty::Arr(&Ty::Obj(&PRE_AUTHORIZED)),
        ),
        f("requestedAccessTokenVersion", Ty::Int),
    ],
};

const INFO: Obj = Obj {
    name: "microsoft.graph.informationalUrl",
    fields: &[
        f("logoUrl", Ty::Str),
        f("marketingUrl", Ty::Str),
        f("privacyStatementUrl", Ty::Str),
        f("supportUrl", Ty::Str),
        f("termsOfServiceUrl", Ty::Str),
    ],
};

pub const KEY_CREDENTIAL: Obj = Obj {
    name: "microsoft.graph.keyCredential",
    fields: &[
        f("customKeyIdentifier", Ty::Str),
        f("displayName", Ty::Str),
        f("endDateTime", Ty::Str),
        f("key", Ty::Str),
        f("keyId", Ty::Guid),
        f("startDateTime", Ty::Str),
        f("type", Ty::Str),
        f("usage", Ty::Str),
    ],
};

pub const PASSWORD_CREDENTIAL: Obj = Obj {
    name: "microsoft.graph.passwordCredential",
    fields: &[
        f("customKeyIdentifier", Ty::Str),
        f("displayName", Ty::Str),
        f("endDateTime", Ty::Str),
        f("hint", Ty::Str),
        f("keyId", Ty::Guid),
        f("secretText", Ty::Str),
        f("startDateTime", Ty::Str),
    ],
};

const PARENTAL: Obj = Obj {
    name: "microsoft.graph.parentalControlSettings",
    fields: &[
        f("countriesBlockedForMinors", STR_LIST),
        fd("legalAgeGroupRule", Ty::Str, Def::Str("Allow")),
    ],
};

const PUBLIC_CLIENT: Obj = Obj {
    name: "microsoft.graph.publicClientApplication",
    fields: &[f("redirectUris", STR_LIST)],
};

const SPA: Obj = Obj {
    name: "microsoft.graph.spaApplication",
    fields: &[f("redirectUris", STR_LIST)],
};

const RESOURCE_ACCESS: Obj = Obj {
    name: "microsoft.graph.resourceAccess",
    fields: &[f("id", Ty::Guid), f("type", Ty::Str)],
};

const REQUIRED_RESOURCE_ACCESS: Obj = Obj {
    name: "microsoft.graph.requiredResourceAccess",
    fields: &[
        f("resourceAccess", Ty::Arr(&Ty::Obj(&RESOURCE_ACCESS))),
        f("resourceAppId", Ty::Str),
    ],
};

const VERIFIED_PUBLISHER: Obj = Obj {
    name: "microsoft.graph.verifiedPublisher",
    fields: &[
        f("addedDateTime", Ty::Str),
        f("displayName", Ty::Str),
        f("verifiedPublisherId", Ty::Str),
    ],
};

const IMPLICIT_GRANT: Obj = Obj {
    name: "microsoft.graph.implicitGrantSettings",
    fields: &[
        fd("enableAccessTokenIssuance", Ty::Bool, Def::Bool(false)),
        fd("enableIdTokenIssuance", Ty::Bool, Def::Bool(false)),
    ],
};

const REDIRECT_URI_SETTINGS: Obj = Obj {
    name: "microsoft.graph.redirectUriSettings",
    fields: &[f("uri", Ty::Str), f("index", Ty::Int)],
};

const WEB: Obj = Obj {
    name: "microsoft.graph.webApplication",
    fields: &[
        f("homePageUrl", Ty::Str),
        f("implicitGrantSettings", Ty::Obj(&IMPLICIT_GRANT)),
        f("logoutUrl", Ty::Str),
        f("redirectUris", STR_LIST),
        f(
            "redirectUriSettings",
            Ty::Arr(&Ty::Obj(&REDIRECT_URI_SETTINGS)),
        ),
    ],
};

const APPLICATION_FIELDS: &[Field] = &[
    ro("id", Ty::Str),
    ro("deletedDateTime", Ty::Str),
    ro("appId", Ty::Str),
    ro("applicationTemplateId", Ty::Str),
    ro("disabledByMicrosoftStatus", Ty::Str),
    ro("createdDateTime", Ty::Str),
    f("displayName", Ty::Str),
    f("description", Ty::Str),
    f("groupMembershipClaims", Ty::Str),
    f("identifierUris", STR_LIST),
    f("isDeviceOnlyAuthSupported", Ty::Bool),
    f("isFallbackPublicClient", Ty::Bool),
    f("nativeAuthenticationApisEnabled", Ty::Str),
    f("notes", Ty::Str),
    ro("publisherDomain", Ty::Str),
    f("serviceManagementReference", Ty::Str),
    fd("signInAudience", Ty::Str, Def::Str("AzureADMyOrg")),
    f("tags", STR_LIST),
    f("tokenEncryptionKeyId", Ty::Guid),
    f("uniqueName", Ty::Str),
    f("samlMetadataUrl", Ty::Str),
    f("defaultRedirectUri", Ty::Str),
    ro("certification", Ty::Any),
    f("optionalClaims", Ty::Any),
    f("servicePrincipalLockConfiguration", Ty::Any),
    f("requestSignatureVerification", Ty::Any),
    f("addIns", Ty::Arr(&Ty::Any)),
    f("api", Ty::Obj(&API)),
    f("appRoles", Ty::Arr(&Ty::Obj(&APP_ROLE))),
    f("info", Ty::Obj(&INFO)),
    f("keyCredentials", Ty::Arr(&Ty::Obj(&KEY_CREDENTIAL))),
    f("parentalControlSettings", Ty::Obj(&PARENTAL)),
    f(
        "passwordCredentials",
        Ty::Arr(&Ty::Obj(&PASSWORD_CREDENTIAL)),
    ),
    f("publicClient", Ty::Obj(&PUBLIC_CLIENT)),
    f(
        "requiredResourceAccess",
        Ty::Arr(&Ty::Obj(&REQUIRED_RESOURCE_ACCESS)),
    ),
    ro("verifiedPublisher", Ty::Obj(&VERIFIED_PUBLISHER)),
    f("web", Ty::Obj(&WEB)),
    f("spa", Ty::Obj(&SPA)),
];

pub const APPLICATION: Obj = Obj {
    name: "microsoft.graph.application",
    fields: APPLICATION_FIELDS,
};

const SERVICE_PRINCIPAL_FIELDS: &[Field] = &[
    ro("id", Ty::Str),
    ro("deletedDateTime", Ty::Str),
    fd("accountEnabled", Ty::Bool, Def::Bool(true)),
    f("alternativeNames", STR_LIST),
    ro("appDisplayName", Ty::Str),
    ro("appDescription", Ty::Str),
    f("appId", Ty::Str),
    ro("applicationTemplateId", Ty::Str),
    ro("appOwnerOrganizationId", Ty::Str),
    fd("appRoleAssignmentRequired", Ty::Bool, Def::Bool(false)),
    f("description", Ty::Str),
    ro("disabledByMicrosoftStatus", Ty::Str),
    f("displayName", Ty::Str),
    f("homepage", Ty::Str),
    f("loginUrl", Ty::Str),
    f("logoutUrl", Ty::Str),
    f("notes", Ty::Str),
    f("notificationEmailAddresses", STR_LIST),
    f("preferredSingleSignOnMode", Ty::Str),
    f("preferredTokenSigningKeyThumbprint", Ty::Str),
    f("replyUrls", STR_LIST),
    f("servicePrincipalNames", STR_LIST),
    fd("servicePrincipalType", Ty::Str, Def::Str("Application")),
    ro("signInAudience", Ty::Str),
    f("tags", STR_LIST),
    f("tokenEncryptionKeyId", Ty::Guid),
    f("samlSingleSignOnSettings", Ty::Any),
    f("addIns", Ty::Arr(&Ty::Any)),
    f("appRoles", Ty::Arr(&Ty::Obj(&APP_ROLE))),
    f("info", Ty::Obj(&INFO)),
    f("keyCredentials", Ty::Arr(&Ty::Obj(&KEY_CREDENTIAL))),
    f(
        "oauth2PermissionScopes",
        Ty::Arr(&Ty::Obj(&PERMISSION_SCOPE)),
    ),
    f(
        "passwordCredentials",
        Ty::Arr(&Ty::Obj(&PASSWORD_CREDENTIAL)),
    ),
    ro("resourceSpecificApplicationPermissions", Ty::Arr(&Ty::Any)),
    ro("verifiedPublisher", Ty::Obj(&VERIFIED_PUBLISHER)),
];

pub const SERVICE_PRINCIPAL: Obj = Obj {
    name: "microsoft.graph.servicePrincipal",
    fields: SERVICE_PRINCIPAL_FIELDS,
};

pub const OAUTH2_PERMISSION_GRANT: Obj = Obj {
    name: "microsoft.graph.oAuth2PermissionGrant",
    fields: &[
        ro("id", Ty::Str),
        f("clientId", Ty::Str),
        f("consentType", Ty::Str),
        f("principalId", Ty::Str),
        f("resourceId", Ty::Str),
        f("scope", Ty::Str),
    ],
};

pub const APP_ROLE_ASSIGNMENT: Obj = Obj {
    name: "microsoft.graph.appRoleAssignment",
    fields: &[
        ro("id", Ty::Str),
        ro("deletedDateTime", Ty::Str),
        f("appRoleId", Ty::Guid),
        ro("createdDateTime", Ty::Str),
        ro("principalDisplayName", Ty::Str),
        f("principalId", Ty::Guid),
        ro("principalType", Ty::Str),
        ro("resourceDisplayName", Ty::Str),
        f("resourceId", Ty::Guid),
    ],
};

/// The `organization` resource (read-only here).
pub const ORGANIZATION: Obj = Obj {
    name: "microsoft.graph.organization",
    fields: &[
        ro("id", Ty::Str),
        ro("deletedDateTime", Ty::Str),
        ro("businessPhones", STR_LIST),
        ro("city", Ty::Str),
        ro("country", Ty::Str),
        ro("countryLetterCode", Ty::Str),
        ro("createdDateTime", Ty::Str),
        ro("defaultUsageLocation", Ty::Str),
        ro("displayName", Ty::Str),
        ro("marketingNotificationEmails", STR_LIST),
        ro("onPremisesLastSyncDateTime", Ty::Str),
        ro("onPremisesSyncEnabled", Ty::Bool),
        ro("postalCode", Ty::Str),
        ro("preferredLanguage", Ty::Str),
        ro("securityComplianceNotificationMails", STR_LIST),
        ro("securityComplianceNotificationPhones", STR_LIST),
        ro("state", Ty::Str),
        ro("street", Ty::Str),
        ro("technicalNotificationMails", STR_LIST),
        ro("tenantType", Ty::Str),
        ro("assignedPlans", Ty::Arr(&Ty::Any)),
        ro("privacyProfile", Ty::Any),
        ro("provisionedPlans", Ty::Arr(&Ty::Any)),
        ro("verifiedDomains", Ty::Arr(&Ty::Any)),
    ],
};

/// The `user` resource (read-only here): the properties user discovery reads
/// (api-surface.md §8.1) and the default set a list returns without `$select`.
/// Source: microsoftgraph/microsoft-graph-docs-contrib:api-reference/v1.0/resources/user.md.
pub const USER: Obj = Obj {
    name: "microsoft.graph.user",
    fields: &[
        ro("id", Ty::Str),
        ro("accountEnabled", Ty::Bool),
        ro("businessPhones", STR_LIST),
        ro("createdDateTime", Ty::Str),
        ro("displayName", Ty::Str),
        ro("givenName", Ty::Str),
        ro("jobTitle", Ty::Str),
        ro("mail", Ty::Str),
        ro("mailNickname", Ty::Str),
        ro("mobilePhone", Ty::Str),
        ro("officeLocation", Ty::Str),
        ro("onPremisesDistinguishedName", Ty::Str),
        ro("onPremisesDomainName", Ty::Str),
        ro("onPremisesSamAccountName", Ty::Str),
        ro("onPremisesSecurityIdentifier", Ty::Str),
        ro("onPremisesSyncEnabled", Ty::Bool),
        ro("preferredLanguage", Ty::Str),
        ro("surname", Ty::Str),
        ro("userPrincipalName", Ty::Str),
        ro("userType", Ty::Str),
    ],
};
