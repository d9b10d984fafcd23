//! `/organization`: the tenant itself, with its verified domains (read-only).

use super::entity_set::EntitySet;
use super::query::Rules;
use super::resources::ORGANIZATION;
use super::Ctx;
use crate::errors::GraphResult;
use crate::store::Row;
use crate::tenant::Tenant;
use serde_json::{json, Value};

/// `/organization`: one read-only document made from the tenant.
pub const SET: EntitySet = EntitySet {
    name: "organization",
    schema: &ORGANIZATION,
    id_is_guid: true,
    alt_keys: &[],
    rules: Rules::plain("Organization"),
    count_segment: false,
    rows: Some(rows),
    create: None,
    update: None,
    delete: None,
    actions: &[],
    navigate: None,
};

fn rows(ctx: &Ctx<'_>) -> GraphResult<Vec<Row>> {
    Ok(vec![Row {
        seq: 1,
        doc: document(&ctx.st.tenant),
    }])
}

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
