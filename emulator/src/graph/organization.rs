//! `/organization`: the tenant itself, with its verified domains (read-only).

use super::resources::ORGANIZATION;
use super::{entity_response, odata, Ctx, Key, Target};
use crate::errors::{GraphError, GraphResult};
use crate::store::Row;
use crate::tenant::Tenant;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

pub fn document(t: &Tenant) -> Value {
    json!({
        "id": t.id,
        "deletedDateTime": null,
        "businessPhones": [],
        "city": null,
        "country": null,
        "countryLetterCode": "US",
        "createdDateTime": t.created,
        "defaultUsageLocation": null,
        "displayName": t.display_name,
        "marketingNotificationEmails": [],
        "onPremisesLastSyncDateTime": null,
        "onPremisesSyncEnabled": null,
        "postalCode": null,
        "preferredLanguage": "en",
        "securityComplianceNotificationMails": [],
        "securityComplianceNotificationPhones": [],
        "state": null,
        "street": null,
        "technicalNotificationMails": [],
        "tenantType": "AAD",
        "assignedPlans": [],
        "privacyProfile": null,
        "provisionedPlans": [],
        "verifiedDomains": [{
            "capabilities": "Email, OfficeCommunicationsOnline",
            "isDefault": true,
            "isInitial": true,
            "name": t.initial_domain,
            "type": "Managed",
        }],
    })
}

pub fn route(ctx: &Ctx<'_>, method: &Method, t: Target) -> GraphResult<Response> {
    if *method != Method::GET {
        return Err(GraphError::method_not_allowed());
    }
    let doc = document(&ctx.st.tenant);
    match (t.key, t.count, t.rest.is_empty()) {
        (None, false, _) => {
            let rows = vec![Row { seq: 1, doc }];
            odata::list_response(ctx, "organization", rows, &ORGANIZATION, Value::clone)
        }
        (Some(Key::Id(id)), false, true) if id.eq_ignore_ascii_case(&ctx.st.tenant.id) => {
            entity_response(ctx, StatusCode::OK, "organization", &doc, &ORGANIZATION)
        }
        (Some(k), false, true) => Err(GraphError::not_found(&k.display())),
        _ => Err(GraphError::no_route("organization")),
    }
}
