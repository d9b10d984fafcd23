//! The ARM skeleton: audience check with ARM's errors, api-version, subscriptions,
//! resource groups with a long-running delete, ARM-shaped faults.

mod common;

use comgmt_emulator::{EmulatorConfig, FaultSpec};
// `arm(...)` keeps each request on one line here.
use common::{arm_call as arm, arm_error, into_resp, subscription, Emu, Resp};
use reqwest::Method;
use serde_json::{json, Value};

const V: &str = "api-version=2021-04-01";

/// The ARM client these tests sign in as.
async fn arm_token(emu: &Emu, scope: &str) -> String {
    emu.app_token("arm-client", scope).await
}

// The audiences ARM accepts are the ones it publishes in `/metadata/endpoints`
// (`authentication.audiences`): `https://management.core.windows.net/`
// and `https://management.azure.com/`. Another audience is
// `InvalidAuthenticationTokenAudience` with a Bearer challenge (the 401 status and the
// code as ARM clients meet them, e.g. microsoft/azure-tools-for-java issue #2341).
#[tokio::test]
async fn arm_takes_only_arm_tokens() {
    let emu = Emu::start().await;
    let r = into_resp(
        emu.http
            .get(emu.url(&format!("subscriptions?{V}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    arm_error(&r, 401, "AuthenticationFailed");
    // emu.token is a Graph token.
    let r = arm(
        &emu,
        &emu.token,
        Method::GET,
        &format!("subscriptions?{V}"),
        None,
    )
    .await;
    let msg = arm_error(&r, 401, "InvalidAuthenticationTokenAudience");
    assert!(msg.contains("'https://graph.microsoft.com'"), "{msg}");
    let challenge = r.headers["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with("Bearer authorization_uri="),
        "{challenge}"
    );
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    let r = arm(
        &emu,
        "a.b.c",
        Method::GET,
        &format!("subscriptions?{V}"),
        None,
    )
    .await;
    arm_error(&r, 401, "InvalidAuthenticationToken");
    for scope in [
        "https://management.azure.com/.default",
        "https://management.core.windows.net//.default",
        "https://management.core.windows.net/.default",
    ] {
        let t = arm_token(&emu, scope).await;
        let r = arm(&emu, &t, Method::GET, &format!("subscriptions?{V}"), None).await;
        assert_eq!(r.status, 200, "{scope}: {}", r.text);
        // ...and an ARM token is not a Graph token.
        let g = arm(&emu, &t, Method::GET, "v1.0/organization", None).await;
        assert_eq!(g.status, 401);
        assert_eq!(g.body["error"]["code"], "InvalidAuthenticationToken");
    }
}

// Source: Azure/azure-rest-api-specs:specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json
// (`api-version` is a required query parameter of every operation; ARM answers its
// absence with MissingApiVersionParameter) and
// specification/subscription/.../examples/getSubscriptions.json (the subscription shape).
#[tokio::test]
async fn subscriptions_and_api_version() {
    let emu = Emu::start().await;
    let t = arm_token(&emu, "https://management.azure.com/.default").await;
    let r = arm(&emu, &t, Method::GET, "subscriptions", None).await;
    let msg = arm_error(&r, 400, "MissingApiVersionParameter");
    assert!(msg.contains("api-version"), "{msg}");
    let r = arm(&emu, &t, Method::GET, &format!("subscriptions?{V}"), None).await;
    let s = &r.body["value"][0];
    assert_eq!(s["tenantId"], emu.handle.tenant_id());
    assert_eq!(s["state"], "Enabled");
    let id = s["subscriptionId"].as_str().unwrap();
    assert_eq!(s["id"], format!("/subscriptions/{id}"));
    let r = arm(
        &emu,
        &t,
        Method::GET,
        &format!("subscriptions/{id}?{V}"),
        None,
    )
    .await;
    assert_eq!(r.body["subscriptionId"], id);
    let other = "00000000-0000-0000-0000-0000000000aa";
    let r = arm(
        &emu,
        &t,
        Method::GET,
        &format!("subscriptions/{other}/resourcegroups/x?{V}"),
        None,
    )
    .await;
    arm_error(&r, 404, "SubscriptionNotFound");
    // Cloud metadata needs no token and names the emulator as login and ARM endpoint.
    let r = into_resp(
        emu.http
            .get(emu.url("metadata/endpoints?api-version=2022-09-01"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["authentication"]["loginEndpoint"], emu.handle.url());
    assert_eq!(r.body["resourceManager"], emu.handle.url());
    assert!(r.body["authentication"]["audiences"]
        .as_array()
        .unwrap()
        .contains(&json!("https://management.core.windows.net/")));
}

// Source: Azure/azure-rest-api-specs:specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json
// (ResourceGroups_CreateOrUpdate answers 201 then 200; CheckExistence 204/404;
// Delete is `x-ms-long-running-operation` answering 202) and
// examples/CreateResourceGroup.json.
#[tokio::test]
async fn resource_groups_and_long_running_delete() {
    let emu = Emu::start().await;
    let t = arm_token(&emu, "https://management.core.windows.net//.default").await;
    let sub = subscription(&emu, &t).await;
    let path = format!("subscriptions/{sub}/resourcegroups/CMG-RG?{V}");
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &path,
        Some(json!({"location": "East US"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.body["id"],
        format!("/subscriptions/{sub}/resourceGroups/CMG-RG")
    );
    assert_eq!(r.body["location"], "eastus");
    assert_eq!(r.body["properties"]["provisioningState"], "Succeeded");
    assert!(r.headers.contains_key("x-ms-request-id"));
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &path,
        Some(json!({"location": "eastus", "tags": {"a": "b"}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["tags"], json!({"a": "b"}));
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &path,
        Some(json!({"location": "westus"})),
    )
    .await;
    arm_error(&r, 409, "InvalidResourceGroupLocation");
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &format!("subscriptions/{sub}/resourcegroups/other?{V}"),
        Some(json!({})),
    )
    .await;
    arm_error(&r, 400, "LocationRequired");
    let lower = format!("subscriptions/{sub}/resourceGroups/cmg-rg?{V}");
    let r = arm(&emu, &t, Method::GET, &lower, None).await;
    assert_eq!(r.body["name"], "CMG-RG", "names compare without case");
    assert_eq!(arm(&emu, &t, Method::HEAD, &path, None).await.status, 204);
    let r = arm(
        &emu,
        &t,
        Method::GET,
        &format!("subscriptions/{sub}/resourcegroups?{V}"),
        None,
    )
    .await;
    assert_eq!(r.body["value"].as_array().map(Vec::len), Some(1));

    let r = arm(&emu, &t, Method::DELETE, &path, None).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert!(r.headers.contains_key("retry-after"));
    let location = r.headers["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with(&emu.url(&format!("subscriptions/{sub}/operationresults/"))),
        "{location}"
    );
    let r = arm(&emu, &t, Method::GET, &path, None).await;
    assert_eq!(r.body["properties"]["provisioningState"], "Deleting");
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &path,
        Some(json!({"location": "eastus"})),
    )
    .await;
    arm_error(&r, 409, "ResourceGroupBeingDeleted");
    let poll = |emu: &Emu| {
        let (http, t, location) = (emu.http.clone(), t.clone(), location.clone());
        async move {
            http.get(location)
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(poll(&emu).await, 202);
    assert_eq!(poll(&emu).await, 200);
    assert_eq!(poll(&emu).await, 200, "a finished operation stays finished");
    let r = arm(&emu, &t, Method::GET, &path, None).await;
    arm_error(&r, 404, "ResourceGroupNotFound");
    assert_eq!(arm(&emu, &t, Method::HEAD, &path, None).await.status, 404);
    let r = arm(&emu, &t, Method::DELETE, &path, None).await;
    arm_error(&r, 404, "ResourceGroupNotFound");
    // The request log marks PUT and DELETE as writes and the polls as reads.
    let log = emu.handle.requests();
    let arm_writes: Vec<_> = log
        .iter()
        .filter(|e| e.surface == comgmt_emulator::Surface::Arm && e.write)
        .map(|e| e.method.as_str())
        .collect();
    assert!(
        arm_writes.iter().all(|m| *m == "PUT" || *m == "DELETE"),
        "{arm_writes:?}"
    );
}

// ResourceGroups_Update: `PATCH /subscriptions/{sub}/resourcegroups/{name}` with a
// `ResourceGroupPatchable` body (`name`, `properties`, `managedBy`, `tags`), 200 with
// the group. "Resource groups can be updated through a simple PATCH operation to a group
// address. The format of the request is the same as that for creating a resource group.
// If a field is unspecified, the current value is retained."
// Source: Azure/azure-rest-api-specs:specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json
// (ResourceGroups_Update, ResourceGroupPatchable) and azure-mgmt-resource 26.0.0
// (azure/mgmt/resource/resources/operations/_operations.py: ResourceGroupsOperations.update
// sends PATCH, accepts only 200, maps 404 to ResourceNotFoundError). Before this the
// emulator answered 405, and `resource_groups.update` failed (tests/sdk/test_arm_sdk.py).
#[tokio::test]
async fn resource_group_patch_keeps_what_it_does_not_give() {
    let emu = Emu::start().await;
    let t = arm_token(&emu, "https://management.azure.com/.default").await;
    let sub = subscription(&emu, &t).await;
    let path = format!("subscriptions/{sub}/resourcegroups/Patch-RG?{V}");
    let r = arm(
        &emu,
        &t,
        Method::PATCH,
        &path,
        Some(json!({"tags": {"a": "b"}})),
    )
    .await;
    arm_error(&r, 404, "ResourceGroupNotFound");
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &path,
        Some(json!({"location": "westus", "tags": {"a": "b"}})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // Tags given: they replace the group's tags; name and location stay.
    let r = arm(
        &emu,
        &t,
        Method::PATCH,
        &format!("subscriptions/{sub}/resourceGroups/patch-rg?{V}"),
        Some(json!({"tags": {"c": "d"}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["tags"], json!({"c": "d"}));
    assert_eq!(r.body["name"], "Patch-RG");
    assert_eq!(r.body["location"], "westus");
    assert_eq!(r.body["properties"]["provisioningState"], "Succeeded");
    // Nothing given: nothing changes.
    let r = arm(&emu, &t, Method::PATCH, &path, Some(json!({}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["tags"], json!({"c": "d"}));
    let r = arm(&emu, &t, Method::GET, &path, None).await;
    assert_eq!(r.body["tags"], json!({"c": "d"}), "the PATCH is stored");
    let r = arm(&emu, &t, Method::PATCH, &path, Some(json!({"tags": "x"}))).await;
    arm_error(&r, 400, "InvalidRequestContent");
    // While the group is being deleted it cannot be changed.
    let r = arm(&emu, &t, Method::DELETE, &path, None).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let r = arm(&emu, &t, Method::PATCH, &path, Some(json!({"tags": {}}))).await;
    arm_error(&r, 409, "ResourceGroupBeingDeleted");
}

// Source: MicrosoftDocs/azure-docs:articles/azure-resource-manager/management/request-limits-and-throttling.md
// (429 with Retry-After; ARM error bodies carry `code`/`message` and the response the
// `x-ms-request-id` headers).
#[tokio::test]
async fn faults_on_arm_look_like_arm() {
    let emu = Emu::with(EmulatorConfig {
        faults: Some(FaultSpec::parse("rate=1,status=429,retry_after=2").unwrap()),
        ..EmulatorConfig::default()
    })
    .await;
    let t = arm_token(&emu, "https://management.azure.com/.default").await;
    let r = arm(&emu, &t, Method::GET, &format!("subscriptions?{V}"), None).await;
    arm_error(&r, 429, "TooManyRequests");
    assert_eq!(r.headers["retry-after"], "2");
    assert!(
        r.body["error"].get("innerError").is_none(),
        "not Graph's shape"
    );
    let g = emu.get("v1.0/organization").await;
    assert_eq!(g.status, 429);
    assert!(
        g.body["error"]["innerError"]["request-id"].is_string(),
        "Graph's shape"
    );
}

// Source: Azure/azure-rest-api-specs:specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json
// (Providers_Get, Providers_List, Providers_Register; `Provider.registrationState`) and
// examples/RegisterProviders.json; Azure/azure-sdk-for-go
// sdk/azcore/arm/runtime/policy_register_rp_test.go (register answers `Registering`,
// the provider is polled until `Registered`).
#[tokio::test]
async fn provider_registration_is_followed_to_registered() {
    let emu = Emu::start().await;
    let t = arm_token(&emu, "https://management.azure.com/.default").await;
    let sub = subscription(&emu, &t).await;
    let get = |path: String| {
        let (emu, t) = (&emu, t.clone());
        async move { arm(emu, &t, Method::GET, &path, None).await }
    };
    let r = get(format!(
        "subscriptions/{sub}/providers/Microsoft.Storage?{V}"
    ))
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["namespace"], "Microsoft.Storage");
    assert_eq!(r.body["registrationState"], "NotRegistered");
    assert_eq!(
        r.body["id"],
        format!("/subscriptions/{sub}/providers/Microsoft.Storage")
    );
    // Paths are case-insensitive, and the namespace keeps its own case.
    let r = arm(
        &emu,
        &t,
        Method::POST,
        &format!("subscriptions/{sub}/PROVIDERS/microsoft.storage/Register?{V}"),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["namespace"], "Microsoft.Storage");
    assert_eq!(r.body["registrationState"], "Registering");
    let r = get(format!(
        "subscriptions/{sub}/providers/microsoft.storage?{V}"
    ))
    .await;
    assert_eq!(r.body["registrationState"], "Registering");
    let r = get(format!(
        "subscriptions/{sub}/providers/Microsoft.Storage?{V}"
    ))
    .await;
    assert_eq!(r.body["registrationState"], "Registered");
    // Registering again changes nothing.
    let r = arm(
        &emu,
        &t,
        Method::POST,
        &format!("subscriptions/{sub}/providers/Microsoft.Storage/register?{V}"),
        None,
    )
    .await;
    assert_eq!(r.body["registrationState"], "Registered");
    // The list shows each namespace's state.
    let r = get(format!("subscriptions/{sub}/providers?{V}")).await;
    let state = |ns: &str| {
        r.body["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["namespace"] == ns)
            .map(|p| p["registrationState"].clone())
            .unwrap()
    };
    assert_eq!(state("Microsoft.Storage"), "Registered");
    assert_eq!(state("Microsoft.Compute"), "NotRegistered");
    assert_eq!(state("Microsoft.Resources"), "Registered");
    // Errors are CloudErrors.
    let r = get(format!("subscriptions/{sub}/providers/Microsoft.Nope?{V}")).await;
    arm_error(&r, 404, "InvalidResourceNamespace");
    let r = get(format!("subscriptions/{sub}/providers/Microsoft.Storage")).await;
    arm_error(&r, 400, "MissingApiVersionParameter");
    let r = get(format!(
        "subscriptions/00000000-0000-0000-0000-000000000000/providers?{V}"
    ))
    .await;
    arm_error(&r, 404, "SubscriptionNotFound");
    // The register POST is a write in the request log; the reads are not.
    let writes: Vec<_> = emu
        .handle
        .requests()
        .into_iter()
        .filter(|e| e.surface == comgmt_emulator::Surface::Arm && e.write)
        .map(|e| e.path)
        .collect();
    assert_eq!(writes.len(), 2, "{writes:?}");
    assert!(
        writes.iter().all(|p| p
            .split('?')
            .next()
            .unwrap()
            .to_ascii_lowercase()
            .ends_with("/register")),
        "{writes:?}"
    );
}

// Source: Azure/azure-rest-api-specs:specification/network/resource-manager/Microsoft.Network/stable/2024-05-01/checkDnsAvailability.json
// (GET with `domainNameLabel`, answer `{"available": bool}`, the label pattern
// `^[a-z][a-z0-9-]{1,61}[a-z0-9]$`) and examples/CheckDnsNameAvailability.json.
#[tokio::test]
async fn dns_label_check() {
    let emu = Emu::start().await;
    let t = arm_token(&emu, "https://management.azure.com/.default").await;
    let sub = subscription(&emu, &t).await;
    let check = |region: &str, label: &str| {
        let path = format!(
            "subscriptions/{sub}/providers/Microsoft.Network/locations/{region}/CheckDnsNameAvailability?domainNameLabel={label}&api-version=2024-05-01"
        );
        let (emu, t) = (&emu, t.clone());
        async move { arm(emu, &t, Method::GET, &path, None).await }
    };
    let r = check("westus", "granitefalls").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"available": true}));
    // Seeded: `takendns` is taken in westus only (labels are unique per region).
    assert_eq!(check("westus", "takendns").await.body["available"], false);
    assert_eq!(check("WestUS", "takendns").await.body["available"], false);
    assert_eq!(check("eastus", "takendns").await.body["available"], true);
    arm_error(
        &check("westus", "1abc").await,
        400,
        "InvalidDomainNameLabel",
    );
    arm_error(&check("westus", "").await, 400, "MissingDomainNameLabel");
    // A GET: never a write.
    assert!(emu.handle.requests().iter().all(|e| !e.write));
}

// Source: Azure/azure-rest-api-specs:specification/storage/resource-manager/Microsoft.Storage/stable/2023-01-01/storage.json
// (StorageAccounts_CheckNameAvailability; CheckNameAvailabilityResult `nameAvailable`,
// `reason` AccountNameInvalid|AlreadyExists, `message`) and
// examples/StorageAccountCheckNameAvailability.json; the messages as quoted in
// Azure/azure-rest-api-specs#4594 (invalid) and Azure/azure-cli#27390 (taken).
#[tokio::test]
async fn storage_account_name_check() {
    let emu = Emu::start().await;
    let t = arm_token(&emu, "https://management.azure.com/.default").await;
    let sub = subscription(&emu, &t).await;
    let check = |body: Value| {
        let path = format!(
            "subscriptions/{sub}/providers/Microsoft.Storage/checkNameAvailability?api-version=2023-01-01"
        );
        let (emu, t) = (&emu, t.clone());
        async move { arm(emu, &t, Method::POST, &path, Some(body)).await }
    };
    let ty = "Microsoft.Storage/storageAccounts";
    let r = check(json!({"name": "sto3363", "type": ty})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"nameAvailable": true}));
    let r = check(json!({"name": "takenstorage", "type": ty})).await;
    assert_eq!(r.body["nameAvailable"], false);
    assert_eq!(r.body["reason"], "AlreadyExists");
    assert!(r.body["message"]
        .as_str()
        .unwrap()
        .contains("already taken"));
    for bad in [
        "ab",
        "Granite",
        "granite-falls",
        "a234567890123456789012345",
    ] {
        let r = check(json!({"name": bad, "type": ty})).await;
        assert_eq!(r.body["reason"], "AccountNameInvalid", "{bad}");
        assert!(r.body["message"]
            .as_str()
            .unwrap()
            .contains("is not a valid storage account name"));
    }
    arm_error(
        &check(json!({"name": "x", "type": "Microsoft.KeyVault/vaults"})).await,
        400,
        "InvalidResourceType",
    );
    arm_error(
        &check(json!({"type": ty})).await,
        400,
        "InvalidRequestContent",
    );
    // Counted as reads.
    assert!(emu.handle.requests().iter().all(|e| !e.write));
}

// Source: Azure/azure-rest-api-specs:specification/keyvault/resource-manager/Microsoft.KeyVault/stable/…/keyvault.json
// (Vaults_CheckNameAvailability, body `{"name","type":"Microsoft.KeyVault/vaults"}`,
// CheckNameAvailabilityResult) and examples/checkVaultNameAvailability.json; the
// "already in use" message as Azure/azure-powershell's Test-AzKeyVaultNameAvailability
// help shows it; the naming rule as the VaultNameNotValid text quotes it.
#[tokio::test]
async fn key_vault_name_check() {
    let emu = Emu::start().await;
    let t = arm_token(&emu, "https://management.azure.com/.default").await;
    let sub = subscription(&emu, &t).await;
    let check = |name: &str| {
        let path = format!(
            "subscriptions/{sub}/providers/microsoft.keyvault/CHECKNAMEAVAILABILITY?api-version=2023-07-01"
        );
        let body = json!({"name": name, "type": "Microsoft.KeyVault/vaults"});
        let (emu, t) = (&emu, t.clone());
        async move { arm(emu, &t, Method::POST, &path, Some(body)).await }
    };
    let r = check("sample-vault").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"nameAvailable": true}));
    let r = check("TakenVault").await;
    assert_eq!(r.body["nameAvailable"], false);
    assert_eq!(r.body["reason"], "AlreadyExists");
    assert!(r.body["message"]
        .as_str()
        .unwrap()
        .contains("already in use"));
    for bad in ["ab", "1vault", "vault-", "my--vault"] {
        let r = check(bad).await;
        assert_eq!(r.body["reason"], "AccountNameInvalid", "{bad}");
    }
    assert!(emu.handle.requests().iter().all(|e| !e.write));
}

async fn arm_with(
    emu: &Emu,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Resp {
    let mut rb = emu.http.request(method, emu.url(path)).bearer_auth(token);
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    into_resp(rb.send().await.unwrap()).await
}

// Azure DNS zones and CNAME record sets.
// Source: Azure/azure-rest-api-specs:specification/dns/resource-manager/Microsoft.Network/stable/2018-05-01/dns.json
// — Zones_CreateOrUpdate and RecordSets_CreateOrUpdate answer 201 (created) or 200
// (updated) and take `If-Match` / `If-None-Match`; RecordSets_Delete answers 200, or 204
// when there was nothing; RecordSets_ListByType / RecordSets_ListByDnsZone — and its
// examples CreateOrUpdateZone.json (body `{"location":"global"}`) and
// CreateOrUpdateCNAMERecordset.json (`properties.TTL`, `properties.CNAMERecord.cname`,
// the answer's `properties.fqdn` `record1.zone1`, the name as given, `etag`). A nested resource whose
// parent is missing is ARM's `ParentResourceNotFound`, a missing resource
// `ResourceNotFound` (CloudError shape, errors.rs).
#[tokio::test]
async fn dns_zones_and_cname_record_sets() {
    const D: &str = "api-version=2018-05-01";
    let emu = Emu::start().await;
    let t = arm_token(&emu, "https://management.azure.com/.default").await;
    let sub = subscription(&emu, &t).await;
    let zone = format!(
        "subscriptions/{sub}/resourceGroups/dns-rg/providers/Microsoft.Network/dnsZones/contoso.com"
    );
    let record = format!("{zone}/CNAME/GraniteFalls");
    let cname = |ttl: i64| json!({"properties": {"TTL": ttl, "CNAMERecord": {"cname": "GraniteFalls.westus.cloudapp.azure.com"}}});

    // The resource group must exist.
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &format!("{zone}?{D}"),
        Some(json!({"location": "global"})),
    )
    .await;
    arm_error(&r, 404, "ResourceGroupNotFound");
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &format!("subscriptions/{sub}/resourcegroups/dns-rg?{V}"),
        Some(json!({"location": "westus"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);

    // api-version is required.
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &zone,
        Some(json!({"location": "global"})),
    )
    .await;
    arm_error(&r, 400, "MissingApiVersionParameter");

    // No zone yet: the zone is ResourceNotFound, a record set in it ParentResourceNotFound.
    let r = arm(&emu, &t, Method::GET, &format!("{zone}?{D}"), None).await;
    arm_error(&r, 404, "ResourceNotFound");
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &format!("{record}?{D}"),
        Some(cname(3600)),
    )
    .await;
    arm_error(&r, 404, "ParentResourceNotFound");

    // A zone: 201, then 200; location `global`.
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &format!("{zone}?{D}"),
        Some(json!({"location": "global"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["name"], "contoso.com");
    assert_eq!(r.body["location"], "global");
    assert!(r.body["etag"].is_string());
    assert!(r.body["properties"]["nameServers"].is_array());
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &format!("{zone}?{D}"),
        Some(json!({"location": "global"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &format!("{zone}?{D}"),
        Some(json!({})),
    )
    .await;
    arm_error(&r, 400, "LocationRequired");

    // A CNAME record set: 201, then 200; paths are case-insensitive.
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &format!("{record}?{D}"),
        Some(cname(3600)),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["name"], "GraniteFalls");
    assert_eq!(r.body["type"], "Microsoft.Network/dnsZones/CNAME");
    assert_eq!(r.body["id"], format!("/{zone}/CNAME/GraniteFalls"));
    assert_eq!(r.body["properties"]["TTL"], 3600);
    assert_eq!(r.body["properties"]["fqdn"], "GraniteFalls.contoso.com");
    assert_eq!(
        r.body["properties"]["CNAMERecord"]["cname"],
        "GraniteFalls.westus.cloudapp.azure.com"
    );
    let etag = r.body["etag"].as_str().unwrap().to_string();
    let upper = record
        .replace("dnsZones", "DNSZONES")
        .replace("CNAME", "cname");
    let r = arm(&emu, &t, Method::GET, &format!("{upper}?{D}"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["etag"], etag.as_str());
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &format!("{record}?{D}"),
        Some(cname(300)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["properties"]["TTL"], 300);
    assert_ne!(r.body["etag"], etag.as_str());

    // If-None-Match: * refuses an existing set; If-Match an old etag too.
    let r = arm_with(
        &emu,
        &t,
        Method::PUT,
        &format!("{record}?{D}"),
        Some(cname(60)),
        &[("If-None-Match", "*")],
    )
    .await;
    arm_error(&r, 412, "PreconditionFailed");
    let r = arm_with(
        &emu,
        &t,
        Method::PUT,
        &format!("{record}?{D}"),
        Some(cname(60)),
        &[("If-Match", &etag)],
    )
    .await;
    arm_error(&r, 412, "PreconditionFailed");

    // A body without a target is refused; only CNAME is served.
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &format!("{record}?{D}"),
        Some(json!({"properties": {"TTL": 60}})),
    )
    .await;
    arm_error(&r, 400, "BadRequest");
    let r = arm(&emu, &t, Method::GET, &format!("{zone}/A/www?{D}"), None).await;
    arm_error(&r, 404, "NotFound");

    // Lists.
    let r = arm(
        &emu,
        &t,
        Method::GET,
        &format!("{zone}/recordsets?{D}"),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["value"].as_array().unwrap().len(), 1);
    let r = arm(&emu, &t, Method::GET, &format!("{zone}/CNAME?{D}"), None).await;
    assert_eq!(r.body["value"][0]["name"], "GraniteFalls");

    // Delete: 200, then 204; the set is gone.
    let r = arm(&emu, &t, Method::DELETE, &format!("{record}?{D}"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = arm(&emu, &t, Method::DELETE, &format!("{record}?{D}"), None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = arm(&emu, &t, Method::GET, &format!("{record}?{D}"), None).await;
    arm_error(&r, 404, "ResourceNotFound");

    // Deleting the zone takes its record sets with it.
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &format!("{record}?{D}"),
        Some(cname(3600)),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = arm(&emu, &t, Method::DELETE, &format!("{zone}?{D}"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &format!("{zone}?{D}"),
        Some(json!({"location": "global"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = arm(&emu, &t, Method::GET, &format!("{record}?{D}"), None).await;
    arm_error(&r, 404, "ResourceNotFound");

    // Deleting the resource group takes its zones and their record sets with it.
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &format!("{record}?{D}"),
        Some(cname(3600)),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let group = format!("subscriptions/{sub}/resourcegroups/dns-rg?{V}");
    let r = arm(&emu, &t, Method::DELETE, &group, None).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let location = r.headers["location"].to_str().unwrap().to_string();
    for _ in 0..2 {
        emu.http
            .get(&location)
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
    }
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &group,
        Some(json!({"location": "westus"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = arm(&emu, &t, Method::GET, &format!("{zone}?{D}"), None).await;
    arm_error(&r, 404, "ResourceNotFound");
    let r = arm(
        &emu,
        &t,
        Method::PUT,
        &format!("{zone}?{D}"),
        Some(json!({"location": "global"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = arm(&emu, &t, Method::GET, &format!("{record}?{D}"), None).await;
    arm_error(&r, 404, "ResourceNotFound");
}
