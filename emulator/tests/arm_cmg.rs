//! What a CMG deploys, over ARM's HTTP surface: template deployments polled through
//! `Azure-AsyncOperation`, the scale set's scale and power operations, key vault,
//! storage account and public IP, the group's resource listing, the name checks seeing
//! deployed names, role assignments and definitions, per-type api-versions, and the
//! whole under injected 429/503 and latency. Progress is polled with deadlines, never
//! timed.

mod common;

use comgmt_emulator::{EmulatorConfig, FaultSpec};
use common::{arm_call, arm_error, resource_types, Emu, Resp, ARM_SCOPE, CMG_RESOURCE_TYPES};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const RG_V: &str = "api-version=2021-04-01";
const DEP_V: &str = "api-version=2021-04-01";
const VMSS_V: &str = "api-version=2024-07-01";
const KV_V: &str = "api-version=2023-07-01";
const ST_V: &str = "api-version=2023-05-01";
const NET_V: &str = "api-version=2024-05-01";
const AUTH_V: &str = "api-version=2022-04-01";
const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7cdc24c7c";
const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";

struct Arm {
    emu: Emu,
    token: String,
    sub: String,
    /// Retry 429/503 answers (when faults are injected), as ARM clients do.
    retry: bool,
}

fn quick() -> EmulatorConfig {
    EmulatorConfig {
        arm_delay: Duration::from_millis(150),
        ..EmulatorConfig::default()
    }
}

impl Arm {
    async fn start(config: EmulatorConfig) -> Arm {
        let retry = config.faults.is_some();
        let emu = Emu::with(config).await;
        let token = emu.app_token("arm-client", ARM_SCOPE).await;
        let mut arm = Arm {
            emu,
            token,
            sub: String::new(),
            retry,
        };
        // Through `call`, which retries what faults refuse (`subscription` does not).
        let r = arm
            .call(Method::GET, &format!("subscriptions?{RG_V}"), None)
            .await;
        arm.sub = r.body["value"][0]["subscriptionId"]
            .as_str()
            .unwrap()
            .to_string();
        arm
    }

    /// A call to a path or an absolute URL, retried through injected faults.
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let r = arm_call(&self.emu, &self.token, method.clone(), path, body.clone()).await;
            if self.retry && (r.status == 429 || r.status == 503) {
                assert!(Instant::now() < deadline, "still faulted: {}", r.text);
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            return r;
        }
    }

    fn rg(&self, rg: &str) -> String {
        format!("subscriptions/{}/resourceGroups/{rg}", self.sub)
    }

    /// A deployment's path in `rg` (without the api-version).
    fn deployment(&self, rg: &str, name: &str) -> String {
        format!(
            "{}/providers/Microsoft.Resources/deployments/{name}",
            self.rg(rg)
        )
    }

    fn scale_set(&self, rg: &str, name: &str) -> String {
        format!(
            "{}/providers/Microsoft.Compute/virtualMachineScaleSets/{name}",
            self.rg(rg)
        )
    }

    /// The group's resource listing.
    async fn resources(&self, rg: &str) -> Resp {
        self.call(
            Method::GET,
            &format!("{}/resources?{RG_V}", self.rg(rg)),
            None,
        )
        .await
    }

    async fn group(&self, rg: &str) {
        let r = self
            .call(
                Method::PUT,
                &format!("{}?{RG_V}", self.rg(rg)),
                Some(json!({"location": "westus"})),
            )
            .await;
        assert!(r.status == 201 || r.status == 200, "{}", r.text);
    }

    /// Poll `url` until `done` holds for the answer; panics after a deadline.
    async fn poll(&self, url: &str, done: impl Fn(&Resp) -> bool) -> Resp {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let r = self.call(Method::GET, url, None).await;
            if done(&r) {
                return r;
            }
            assert!(Instant::now() < deadline, "still: {} {}", r.status, r.text);
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

fn header(r: &Resp, name: &str) -> String {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header: {:?}", r.headers))
        .to_string()
}

/// A CMG-like template: the four resources from one `prefix` parameter.
fn template() -> Value {
    json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "prefix": {"type": "string"},
            "instances": {"type": "int", "defaultValue": 2},
            "location": {"type": "string", "defaultValue": "[resourceGroup().location]"}
        },
        "variables": {"label": "[toLower(parameters('prefix'))]"},
        "resources": [
            {"type": "Microsoft.KeyVault/vaults", "apiVersion": "2023-07-01", "name": "[parameters('prefix')]",
             "location": "[parameters('location')]",
             "properties": {"tenantId": "[subscription().tenantId]", "sku": {"family": "A", "name": "standard"}, "accessPolicies": []}},
            {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-05-01", "name": "[variables('label')]",
             "location": "[parameters('location')]", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}},
            {"type": "Microsoft.Network/publicIPAddresses", "apiVersion": "2024-05-01", "name": "[parameters('prefix')]",
             "location": "[parameters('location')]", "sku": {"name": "Standard"},
             "properties": {"publicIPAllocationMethod": "Static", "dnsSettings": {"domainNameLabel": "[variables('label')]"}}},
            {"type": "Microsoft.Compute/virtualMachineScaleSets", "apiVersion": "2024-07-01", "name": "[parameters('prefix')]",
             "location": "[parameters('location')]",
             "sku": {"name": "Standard_B2s", "tier": "Standard", "capacity": "[parameters('instances')]"},
             "properties": {"upgradePolicy": {"mode": "Manual"}}}
        ]
    })
}

async fn deploy(arm: &Arm, rg: &str, name: &str, prefix: &str) -> Resp {
    arm.call(
        Method::PUT,
        &format!("{}?{DEP_V}", arm.deployment(rg, name)),
        Some(json!({"properties": {
            "mode": "Incremental",
            "template": template(),
            "parameters": {"prefix": {"value": prefix}}
        }})),
    )
    .await
}

async fn deployed(arm: &Arm, rg: &str, name: &str, prefix: &str) -> Resp {
    let r = deploy(arm, rg, name, prefix).await;
    assert!(r.status == 201 || r.status == 200, "{}", r.text);
    let status = header(&r, "azure-asyncoperation");
    let s = arm.poll(&status, |s| s.body["status"] != "Running").await;
    assert_eq!(s.body["status"], "Succeeded", "{}", s.text);
    r
}

// Source: resources.json (Deployments_CreateOrUpdate 201 with Azure-AsyncOperation;
// the status document; Deployments_Get; DeploymentOperations_List; Deployments_Validate).
#[tokio::test]
async fn a_template_deployment_runs_to_succeeded() {
    let arm = Arm::start(quick()).await;
    arm.group("cmg-rg").await;
    let r = deploy(&arm, "cmg-rg", "CMG-GraniteFalls", "GraniteFalls").await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["properties"]["provisioningState"], "Accepted");
    assert_eq!(r.body["name"], "CMG-GraniteFalls");
    assert_eq!(
        r.body["id"],
        format!(
            "/subscriptions/{}/resourceGroups/cmg-rg/providers/Microsoft.Resources/deployments/CMG-GraniteFalls",
            arm.sub
        )
    );
    let status = header(&r, "azure-asyncoperation");
    assert!(status.contains("/operationStatuses/"), "{status}");
    // Seen running (the first poll is within the delay), then succeeded.
    let first = arm.call(Method::GET, &status, None).await;
    assert!(first.body["status"] == "Running" || first.body["status"] == "Succeeded");
    let s = arm.poll(&status, |s| s.body["status"] != "Running").await;
    assert_eq!(s.body["status"], "Succeeded", "{}", s.text);

    // Paths are matched without case.
    let dep = format!(
        "subscriptions/{}/resourcegroups/CMG-RG/providers/microsoft.resources/DEPLOYMENTS/cmg-granitefalls?{DEP_V}",
        arm.sub
    );
    let g = arm.call(Method::GET, &dep, None).await;
    assert_eq!(g.status, 200, "{}", g.text);
    assert_eq!(g.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(g.body["properties"]["mode"], "Incremental");
    assert_eq!(
        g.body["properties"]["parameters"]["prefix"]["value"],
        "GraniteFalls"
    );
    assert_eq!(g.body["properties"]["parameters"]["instances"]["value"], 2);
    assert_eq!(
        g.body["properties"]["outputResources"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let ops = arm
        .call(
            Method::GET,
            &format!(
                "{}/operations?{DEP_V}",
                arm.deployment("cmg-rg", "CMG-GraniteFalls")
            ),
            None,
        )
        .await;
    let ops = ops.body["value"].as_array().unwrap().clone();
    assert_eq!(ops.len(), 4);
    // The path azure-mgmt-resource-deployments uses (the spec's, without the provider).
    let short = arm
        .call(
            Method::GET,
            &format!(
                "{}/deployments/CMG-GraniteFalls/operations?{DEP_V}",
                arm.rg("cmg-rg").replace("resourceGroups", "resourcegroups")
            ),
            None,
        )
        .await;
    assert_eq!(
        short.body["value"].as_array().map(Vec::len),
        Some(4),
        "{}",
        short.text
    );
    assert!(ops
        .iter()
        .all(|o| o["properties"]["provisioningState"] == "Succeeded"
            && o["properties"]["statusCode"] == "Created"));

    // The resources, each at its own api-version.
    let res = |t: &str, n: &str, v: &str| format!("{}/providers/{t}/{n}?{v}", arm.rg("cmg-rg"));
    let ip = arm
        .call(
            Method::GET,
            &res("Microsoft.Network/publicIPAddresses", "GraniteFalls", NET_V),
            None,
        )
        .await;
    assert_eq!(ip.status, 200, "{}", ip.text);
    let p = &ip.body["properties"];
    assert_eq!(p["dnsSettings"]["domainNameLabel"], "granitefalls");
    assert_eq!(
        p["dnsSettings"]["fqdn"],
        "granitefalls.westus.cloudapp.azure.com"
    );
    assert_eq!(p["publicIPAllocationMethod"], "Static");
    assert_eq!(p["provisioningState"], "Succeeded");
    assert!(p["ipAddress"].as_str().unwrap().starts_with("20."));
    assert_eq!(ip.body["sku"]["name"], "Standard");
    let kv = arm
        .call(
            Method::GET,
            &res("Microsoft.KeyVault/vaults", "GraniteFalls", KV_V),
            None,
        )
        .await;
    assert_eq!(kv.status, 200, "{}", kv.text);
    assert_eq!(
        kv.body["properties"]["vaultUri"],
        "https://granitefalls.vault.azure.net/"
    );
    assert_eq!(
        kv.body["properties"]["tenantId"],
        arm.emu.handle.tenant_id()
    );
    let st = arm
        .call(
            Method::GET,
            &res("Microsoft.Storage/storageAccounts", "granitefalls", ST_V),
            None,
        )
        .await;
    assert_eq!(st.status, 200, "{}", st.text);
    assert_eq!(st.body["kind"], "StorageV2");
    assert_eq!(
        st.body["properties"]["primaryEndpoints"]["blob"],
        "https://granitefalls.blob.core.windows.net/"
    );
    let missing = arm
        .call(
            Method::GET,
            &res("Microsoft.Storage/storageAccounts", "nosuch", ST_V),
            None,
        )
        .await;
    arm_error(&missing, 404, "ResourceNotFound");

    // The group's listing holds the four, once each — also after deploying again.
    let again = deploy(&arm, "cmg-rg", "CMG-GraniteFalls", "GraniteFalls").await;
    assert_eq!(again.status, 200, "{}", again.text);
    let l = arm.resources("cmg-rg").await;
    assert_eq!(
        resource_types(l.body["value"].as_array().unwrap()),
        CMG_RESOURCE_TYPES
    );
    // A PUT while the same deployment runs is refused.
    let third = deploy(&arm, "cmg-rg", "CMG-GraniteFalls", "GraniteFalls").await;
    if third.status == 409 {
        arm_error(&third, 409, "DeploymentActive");
    }
}

// The name checks (names.rs) read the same store the deployments write.
#[tokio::test]
async fn deployed_names_are_taken() {
    let arm = Arm::start(quick()).await;
    arm.group("cmg-rg").await;
    let sub = arm.sub.clone();
    let dns = format!(
        "subscriptions/{sub}/providers/Microsoft.Network/locations/westus/CheckDnsNameAvailability?domainNameLabel=granitefalls&{NET_V}"
    );
    let storage =
        format!("subscriptions/{sub}/providers/Microsoft.Storage/checkNameAvailability?{ST_V}");
    let vault =
        format!("subscriptions/{sub}/providers/Microsoft.KeyVault/checkNameAvailability?{KV_V}");
    let check = |path: String, body: Option<Value>| {
        let arm = &arm;
        async move {
            let m = if body.is_some() {
                Method::POST
            } else {
                Method::GET
            };
            arm.call(m, &path, body).await
        }
    };
    let sbody = json!({"name": "granitefalls", "type": "Microsoft.Storage/storageAccounts"});
    let vbody = json!({"name": "GRANITEFALLS", "type": "Microsoft.KeyVault/vaults"});
    assert_eq!(check(dns.clone(), None).await.body["available"], true);
    assert_eq!(
        check(storage.clone(), Some(sbody.clone())).await.body["nameAvailable"],
        true
    );
    assert_eq!(
        check(vault.clone(), Some(vbody.clone())).await.body["nameAvailable"],
        true
    );
    deployed(&arm, "cmg-rg", "CMG-GraniteFalls", "GraniteFalls").await;
    assert_eq!(check(dns.clone(), None).await.body["available"], false);
    let s = check(storage, Some(sbody)).await;
    assert_eq!(
        (s.body["nameAvailable"].clone(), s.body["reason"].clone()),
        (json!(false), json!("AlreadyExists"))
    );
    assert_eq!(check(vault, Some(vbody)).await.body["nameAvailable"], false);
    // Another region's label is free.
    let east = dns.replace("/westus/", "/eastus/");
    assert_eq!(check(east, None).await.body["available"], true);

    // A second deployment of the same names elsewhere fails with the providers' codes.
    arm.group("other-rg").await;
    let r = deploy(&arm, "other-rg", "twin", "GraniteFalls").await;
    assert_eq!(r.status, 201, "{}", r.text);
    let status = header(&r, "azure-asyncoperation");
    let s = arm.poll(&status, |s| s.body["status"] != "Running").await;
    assert_eq!(s.body["status"], "Failed", "{}", s.text);
    assert_eq!(s.body["error"]["code"], "DeploymentFailed");
    let codes: Vec<&str> = s.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "VaultAlreadyExists",
            "StorageAccountAlreadyTaken",
            "DnsRecordInUse"
        ]
    );
    let g = arm
        .call(
            Method::GET,
            &format!("{}?{DEP_V}", arm.deployment("other-rg", "twin")),
            None,
        )
        .await;
    assert_eq!(g.body["properties"]["provisioningState"], "Failed");
    assert_eq!(g.body["properties"]["error"]["code"], "DeploymentFailed");
}

#[tokio::test]
async fn deployment_errors() {
    let arm = Arm::start(quick()).await;
    arm.group("cmg-rg").await;
    let base = format!(
        "{}/providers/Microsoft.Resources/deployments",
        arm.rg("cmg-rg")
    );
    let put = |path: String, body: Value| {
        let arm = &arm;
        async move { arm.call(Method::PUT, &path, Some(body)).await }
    };
    let body =
        |t: Value| json!({"properties": {"mode": "Incremental", "template": t, "parameters": {}}});
    // Validate answers the resources without deploying them.
    let v = arm
        .call(
            Method::POST,
            &format!("{base}/d1/validate?{DEP_V}"),
            Some(json!({"properties": {"mode": "Incremental", "template": template(), "parameters": {"prefix": {"value": "Val1"}}}})),
        )
        .await;
    assert_eq!(v.status, 200, "{}", v.text);
    assert_eq!(
        v.body["properties"]["validatedResources"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let g = arm
        .call(Method::GET, &format!("{base}/d1?{DEP_V}"), None)
        .await;
    arm_error(&g, 404, "DeploymentNotFound");
    // A missing parameter, an unknown function.
    let r = put(format!("{base}/d1?{DEP_V}"), body(template())).await;
    let msg = arm_error(&r, 400, "InvalidTemplate");
    assert!(msg.contains("'prefix'"), "{msg}");
    let r = put(
        format!("{base}/d1?{DEP_V}"),
        body(json!({"resources": [{"type": "Microsoft.KeyVault/vaults", "name": "[reference('x')]"}]})),
    )
    .await;
    arm_error(&r, 400, "InvalidTemplate");
    let r = put(
        format!("{base}/d1?{DEP_V}"),
        json!({"properties": {"mode": "Incremental"}}),
    )
    .await;
    arm_error(&r, 400, "InvalidDeployment");
    // api-versions: ARM's own types answer InvalidApiVersionParameter.
    let r = put(format!("{base}/d1?api-version=2099-01-01"), body(json!({}))).await;
    let msg = arm_error(&r, 400, "InvalidApiVersionParameter");
    assert!(msg.contains("2021-04-01"), "{msg}");
    let r = put(format!("{base}/d1"), body(json!({}))).await;
    arm_error(&r, 400, "MissingApiVersionParameter");
    // A group that does not exist.
    let r = put(
        format!("{}?{DEP_V}", arm.deployment("nope", "d1")),
        body(json!({})),
    )
    .await;
    arm_error(&r, 404, "ResourceGroupNotFound");
    // An empty template deploys nothing and succeeds.
    let r = put(
        format!("{base}/empty?{DEP_V}"),
        body(json!({"resources": []})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

// Source: virtualMachineScaleSet.json (Update 200 + Azure-AsyncOperation; Start,
// Deallocate, PowerOff 202 with Location; GetInstanceView; Delete 202).
#[tokio::test]
async fn a_scale_set_scales_and_powers_as_long_running_operations() {
    let arm = Arm::start(quick()).await;
    arm.group("cmg-rg").await;
    deployed(&arm, "cmg-rg", "CMG-Granite", "Granite").await;
    let vmss = arm.scale_set("cmg-rg", "Granite");
    let g = arm
        .call(Method::GET, &format!("{vmss}?{VMSS_V}"), None)
        .await;
    assert_eq!(g.status, 200, "{}", g.text);
    assert_eq!(g.body["sku"]["capacity"], 2);
    assert_eq!(g.body["properties"]["provisioningState"], "Succeeded");
    assert!(g.body["properties"]["uniqueId"].is_string());

    let p = arm
        .call(
            Method::PATCH,
            &format!("{vmss}?{VMSS_V}"),
            Some(json!({"sku": {"capacity": 3}})),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert_eq!(p.body["sku"]["capacity"], 3);
    assert_eq!(p.body["properties"]["provisioningState"], "Updating");
    let op = header(&p, "azure-asyncoperation");
    assert!(
        op.contains("/providers/Microsoft.Compute/locations/westus/operations/"),
        "{op}"
    );
    let s = arm.poll(&op, |s| s.body["status"] != "InProgress").await;
    assert_eq!(s.body["status"], "Succeeded", "{}", s.text);
    let g = arm
        .call(Method::GET, &format!("{vmss}?{VMSS_V}"), None)
        .await;
    assert_eq!(g.body["properties"]["provisioningState"], "Succeeded");
    let bad = arm
        .call(
            Method::PATCH,
            &format!("{vmss}?{VMSS_V}"),
            Some(json!({"sku": {"capacity": -1}})),
        )
        .await;
    arm_error(&bad, 400, "InvalidParameter");

    for (action, state) in [
        ("deallocate", "deallocated"),
        ("start", "running"),
        ("powerOff", "stopped"),
    ] {
        let r = arm
            .call(Method::POST, &format!("{vmss}/{action}?{VMSS_V}"), None)
            .await;
        assert_eq!(r.status, 202, "{action}: {}", r.text);
        let monitor = header(&r, "location");
        assert!(monitor.contains("monitor=true"), "{monitor}");
        assert!(r.headers.contains_key("retry-after"));
        arm.poll(&monitor, |m| m.status == 200).await;
        let iv = arm
            .call(Method::GET, &format!("{vmss}/instanceView?{VMSS_V}"), None)
            .await;
        assert_eq!(iv.status, 200, "{}", iv.text);
        let codes: Vec<&str> = iv.body["virtualMachine"]["statusesSummary"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["code"].as_str().unwrap())
            .collect();
        assert!(
            codes.contains(&format!("PowerState/{state}").as_str()),
            "{action}: {codes:?}"
        );
    }

    // Another provider's api-version is NoRegisteredProviderFound.
    let r = arm.call(Method::GET, &format!("{vmss}?{KV_V}"), None).await;
    let msg = arm_error(&r, 400, "NoRegisteredProviderFound");
    assert!(
        msg.contains("'virtualMachineScaleSets'") && msg.contains("2024-07-01"),
        "{msg}"
    );
    let r = arm
        .call(Method::PUT, &format!("{vmss}?{VMSS_V}"), Some(json!({})))
        .await;
    arm_error(&r, 405, "MethodNotAllowed");

    let d = arm
        .call(Method::DELETE, &format!("{vmss}?{VMSS_V}"), None)
        .await;
    assert_eq!(d.status, 202, "{}", d.text);
    let op = header(&d, "azure-asyncoperation");
    arm.poll(&op, |s| s.body["status"] == "Succeeded").await;
    let g = arm
        .call(Method::GET, &format!("{vmss}?{VMSS_V}"), None)
        .await;
    arm_error(&g, 404, "ResourceNotFound");
    let d = arm
        .call(Method::DELETE, &format!("{vmss}?{VMSS_V}"), None)
        .await;
    assert_eq!(d.status, 204);
}

// Source: authorization-RoleAssignmentsCalls.json / -RoleDefinitionsCalls.json (2022-04-01).
#[tokio::test]
async fn role_assignments_are_idempotent_by_name_and_refuse_twins() {
    let arm = Arm::start(quick()).await;
    arm.group("cmg-rg").await;
    let app = arm
        .emu
        .app(json!({"displayName": "Cloud Management web app"}))
        .await;
    let sp = arm.emu.sp(app["appId"].as_str().unwrap()).await;
    let oid = sp["id"].as_str().unwrap().to_string();
    let sub_scope = format!("subscriptions/{}", arm.sub);
    let rg_scope = arm.rg("cmg-rg");

    // The built-in definitions, found by name.
    let defs = arm
        .call(
            Method::GET,
            &format!("{rg_scope}/providers/Microsoft.Authorization/roleDefinitions?$filter=roleName%20eq%20'Contributor'&{AUTH_V}"),
            None,
        )
        .await;
    assert_eq!(defs.status, 200, "{}", defs.text);
    let defs = defs.body["value"].as_array().unwrap().clone();
    assert_eq!(defs.len(), 1);
    assert_eq!(defs[0]["name"], CONTRIBUTOR);
    assert_eq!(defs[0]["properties"]["type"], "BuiltInRole");
    let role_id = defs[0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        role_id,
        format!(
            "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{CONTRIBUTOR}",
            arm.sub
        )
    );
    let owner = arm
        .call(
            Method::GET,
            &format!(
                "{sub_scope}/providers/Microsoft.Authorization/roleDefinitions/{OWNER}?{AUTH_V}"
            ),
            None,
        )
        .await;
    assert_eq!(owner.body["properties"]["roleName"], "Owner");

    let name = "3f2504e0-4f89-11d3-9a0c-0305e82c3301";
    let at = |scope: &str, n: &str| {
        format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{n}?{AUTH_V}")
    };
    let body = |role: &str, principal: &str| json!({"properties": {"roleDefinitionId": role, "principalId": principal, "principalType": "ServicePrincipal"}});
    let r = arm
        .call(
            Method::PUT,
            &at(&rg_scope, name),
            Some(body(&role_id, &oid)),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["properties"]["scope"], format!("/{rg_scope}"));
    assert_eq!(r.body["properties"]["principalId"], oid);
    assert_eq!(r.body["name"], name);
    let again = arm
        .call(
            Method::PUT,
            &at(&rg_scope, name),
            Some(body(&role_id, &oid)),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["id"], r.body["id"]);
    // The same (scope, role, principal) under another name.
    let twin = arm
        .call(
            Method::PUT,
            &at(&rg_scope, "9a1f2b3c-0000-4000-8000-000000000001"),
            Some(body(&role_id, &oid)),
        )
        .await;
    let msg = arm_error(&twin, 409, "RoleAssignmentExists");
    assert_eq!(msg, "The role assignment already exists.");
    // Another role under the same name.
    let owner_id = format!(
        "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{OWNER}",
        arm.sub
    );
    let other = arm
        .call(
            Method::PUT,
            &at(&rg_scope, name),
            Some(body(&owner_id, &oid)),
        )
        .await;
    arm_error(&other, 400, "RoleAssignmentUpdateNotPermitted");
    let ghost = arm
        .call(
            Method::PUT,
            &at(&rg_scope, "9a1f2b3c-0000-4000-8000-000000000002"),
            Some(body(&role_id, "00000000-1111-2222-3333-444444444444")),
        )
        .await;
    let msg = arm_error(&ghost, 400, "PrincipalNotFound");
    assert!(msg.contains(arm.emu.handle.tenant_id()), "{msg}");
    let bad_role = arm
        .call(Method::PUT, &at(&rg_scope, "9a1f2b3c-0000-4000-8000-000000000003"), Some(body("/providers/Microsoft.Authorization/roleDefinitions/00000000-0000-0000-0000-000000000000", &oid)))
        .await;
    arm_error(&bad_role, 400, "RoleDefinitionDoesNotExist");
    let bad_name = arm
        .call(
            Method::PUT,
            &at(&rg_scope, "not-a-guid"),
            Some(body(&role_id, &oid)),
        )
        .await;
    arm_error(&bad_name, 400, "InvalidRoleAssignmentId");
    let bad_version = arm
        .call(Method::GET, &format!("{rg_scope}/providers/Microsoft.Authorization/roleAssignments?api-version=2021-04-01"), None)
        .await;
    arm_error(&bad_version, 400, "InvalidApiVersionParameter");

    // Owner at the subscription too, for the filters.
    let sub_name = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
    let r = arm
        .call(
            Method::PUT,
            &at(&sub_scope, sub_name),
            Some(body(&owner_id, &oid)),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let list = |scope: String, filter: &str| {
        let filter = filter.to_string();
        let arm = &arm;
        async move {
            let q = if filter.is_empty() {
                String::new()
            } else {
                format!("$filter={filter}&")
            };
            let r = arm
                .call(
                    Method::GET,
                    &format!(
                        "{scope}/providers/Microsoft.Authorization/roleAssignments?{q}{AUTH_V}"
                    ),
                    None,
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            let mut names: Vec<String> = r.body["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["name"].as_str().unwrap().to_string())
                .collect();
            names.sort();
            names
        }
    };
    let mut both = vec![name.to_string(), sub_name.to_string()];
    both.sort();
    // At the subscription: at and below; atScope(): at (and above) only.
    assert_eq!(list(sub_scope.clone(), "").await, both);
    assert_eq!(
        list(sub_scope.clone(), "atScope()").await,
        vec![sub_name.to_string()]
    );
    // At the group: at and above (inherited).
    assert_eq!(list(rg_scope.clone(), "atScope()").await, both);
    let by_principal = format!("principalId eq '{oid}'");
    assert_eq!(list(sub_scope.clone(), &by_principal).await, both);
    assert_eq!(
        list(
            sub_scope.clone(),
            "principalId eq '00000000-1111-2222-3333-444444444444'"
        )
        .await,
        Vec::<String>::new()
    );

    let d = arm.call(Method::DELETE, &at(&rg_scope, name), None).await;
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(d.body["name"], name);
    let d = arm.call(Method::DELETE, &at(&rg_scope, name), None).await;
    assert_eq!(d.status, 204);
    let g = arm.call(Method::GET, &at(&rg_scope, name), None).await;
    arm_error(&g, 404, "RoleAssignmentNotFound");
}

// Faults are decided before any state changes, so a client that retries what was
// refused ends with one of everything; latency slows, never doubles.
#[tokio::test]
async fn under_faults_and_latency_nothing_is_created_twice() {
    let arm = Arm::start(EmulatorConfig {
        faults: Some(FaultSpec::parse("rate=0.3,status=429,retry_after=0,seed=7").unwrap()),
        latency: Duration::from_millis(5),
        ..quick()
    })
    .await;
    arm.group("cmg-rg").await;
    deployed(&arm, "cmg-rg", "CMG-Fault", "Fault1").await;
    let vmss = arm.scale_set("cmg-rg", "Fault1");
    let r = arm
        .call(Method::POST, &format!("{vmss}/deallocate?{VMSS_V}"), None)
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    arm.poll(&header(&r, "location"), |m| m.status == 200).await;
    let l = arm.resources("cmg-rg").await;
    assert_eq!(l.body["value"].as_array().unwrap().len(), 4, "{}", l.text);
    let faulted = arm
        .emu
        .handle
        .requests()
        .iter()
        .filter(|q| q.status == Some(429))
        .count();
    assert!(faulted > 0, "the fault dice never rolled a 429");

    let arm503 = Arm::start(EmulatorConfig {
        faults: Some(FaultSpec::parse("rate=0.3,status=503,retry_after=0,seed=11").unwrap()),
        ..quick()
    })
    .await;
    arm503.group("cmg-rg").await;
    deployed(&arm503, "cmg-rg", "CMG-Fault", "Fault2").await;
    let ops = arm503
        .call(
            Method::GET,
            &format!(
                "{}/operations?{DEP_V}",
                arm503.deployment("cmg-rg", "CMG-Fault")
            ),
            None,
        )
        .await;
    assert_eq!(
        ops.body["value"].as_array().unwrap().len(),
        4,
        "{}",
        ops.text
    );
    let l = arm503.resources("cmg-rg").await;
    assert_eq!(l.body["value"].as_array().unwrap().len(), 4, "{}", l.text);
}

// Deleting the group takes what it holds (the resources and deployments too).
#[tokio::test]
async fn deleting_the_group_takes_its_resources() {
    let arm = Arm::start(quick()).await;
    arm.group("cmg-rg").await;
    deployed(&arm, "cmg-rg", "CMG-Gone", "Gone1").await;
    let d = arm
        .call(
            Method::DELETE,
            &format!("{}?{RG_V}", arm.rg("cmg-rg")),
            None,
        )
        .await;
    assert_eq!(d.status, 202, "{}", d.text);
    let loc = header(&d, "location");
    arm.poll(&loc, |r| r.status == 200).await;
    arm.group("cmg-rg").await;
    let l = arm.resources("cmg-rg").await;
    assert_eq!(l.body["value"], json!([]), "{}", l.text);
    let g = arm
        .call(
            Method::GET,
            &format!("{}?{DEP_V}", arm.deployment("cmg-rg", "CMG-Gone")),
            None,
        )
        .await;
    arm_error(&g, 404, "DeploymentNotFound");
    // The names are free again.
    let s = arm
        .call(
            Method::POST,
            &format!(
                "subscriptions/{}/providers/Microsoft.Storage/checkNameAvailability?{ST_V}",
                arm.sub
            ),
            Some(json!({"name": "gone1", "type": "Microsoft.Storage/storageAccounts"})),
        )
        .await;
    assert_eq!(s.body["nameAvailable"], true, "{}", s.text);
}
