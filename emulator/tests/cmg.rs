//! The CMG through the AdminService (`SMS_AzureService`), over HTTPS as the stdlib's
//! `cmg` module talks to it: create with a PFX → Provisioning → Ready with its Azure
//! resources on the ARM API; a server app without Contributor → Error naming
//! AuthorizationFailed; scale; stop and start; certificate replacement (same name only);
//! a wrong PFX password; delete; the PFX and its password never in a reply, the request
//! log, the state file or the logs. Waits use deadlines, never timed assertions.
//! Source: /work/issue7-contract.md (SMS_AzureService, ARM).

mod common;

use base64::Engine as _;
use comgmt_emulator::EmulatorConfig;
use common::{
    arm_call, files_contain, resource_types, subscription, wait_for, Resp, Site, ARM_SCOPE,
    CMG_RESOURCE_TYPES,
};
use reqwest::Method;
use serde_json::{json, Value};
use std::ops::Deref;
use std::time::Duration;

const NAME: &str = "GraniteFalls.contoso.com";
const GROUP: &str = "CMG-RG";
const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7cdc24c7c";
const PASSWORD: &str = "Pfx-Pa55-7c1d0e2f";
const CLASS: &str = "SMS_AzureService";

/// A base64 PFX of a fresh self-signed certificate for `cn`.
fn pfx(cn: &str, password: &str) -> String {
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = rcgen::CertificateParams::new(vec![cn.to_string()]).unwrap();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, cn.to_string());
    let c = p.self_signed(&kp).unwrap();
    let chain = p12_keystore::PrivateKeyChain::new(
        vec![7],
        p12_keystore::PrivateKey::from_der(&kp.serialize_der()).unwrap(),
        vec![p12_keystore::Certificate::from_der(c.der()).unwrap()],
    );
    let mut ks = p12_keystore::KeyStore::new();
    ks.add_entry(cn, p12_keystore::KeyStoreEntry::PrivateKeyChain(chain));
    base64::engine::general_purpose::STANDARD.encode(ks.writer(password).write().unwrap())
}

/// A site (`common::Site`) with its Azure side: an ARM token, the subscription and the
/// resource group, and the cloud service registered in the AdminService.
struct Lab {
    site: Site,
    arm: String,
    sub: String,
    service_id: Value,
}

/// The site's AdminService calls, emulator and files read as the lab's own.
impl Deref for Lab {
    type Target = Site;
    fn deref(&self) -> &Site {
        &self.site
    }
}

/// A site with its Entra apps and Azure service registered, and the resource group.
async fn lab() -> Lab {
    let site = Site::start(EmulatorConfig {
        arm_delay: Duration::from_millis(300),
        ..EmulatorConfig::default()
    })
    .await;
    let arm = site.emu.app_token("cm-console", ARM_SCOPE).await;
    let sub = subscription(&site.emu, &arm).await;
    let mut lab = Lab {
        site,
        arm,
        sub,
        service_id: Value::Null,
    };
    let r = lab
        .arm_call(
            Method::PUT,
            &format!("{}?api-version=2021-04-01", lab.group_id()),
            Some(json!({"location": "westus"})),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let secret = lab.secret.clone();
    lab.service_id = lab.register(&secret, json!({})).await.3["ID"].clone();
    lab
}

impl Lab {
    fn group_id(&self) -> String {
        format!("subscriptions/{}/resourceGroups/{GROUP}", self.sub)
    }

    async fn arm_call(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        arm_call(&self.emu, &self.arm, method, path, body).await
    }

    async fn grant_contributor(&self) {
        let scope = self.group_id();
        let r = self
            .arm_call(
                Method::PUT,
                &format!(
                    "{scope}/providers/Microsoft.Authorization/roleAssignments/{}?api-version=2022-04-01",
                    uuid::Uuid::new_v4()
                ),
                Some(json!({"properties": {
                    "roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{CONTRIBUTOR}", self.sub),
                    "principalId": self.sp["id"],
                    "principalType": "ServicePrincipal",
                }})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }

    /// Call a CMG method (`{key}/AdminService.Stop`, …) and assert it was accepted.
    async fn invoke(&self, path: &str) {
        let r = self.call(Method::POST, path, Some(json!({}))).await;
        assert_eq!(
            (r.status.as_u16(), &r.body["ReturnValue"]),
            (201, &json!(0)),
            "{}",
            r.text
        );
    }

    /// The create body the stdlib's `cmg::ensure` sends (gateway.rs).
    fn body(&self, pfx: &str, password: &str) -> Value {
        json!({
            "Name": NAME,
            "ServiceCName": "granitefalls.westus.cloudapp.azure.com",
            "Description": "",
            "ServiceType": "CloudProxyService",
            "SiteCode": "ABC",
            "SubscriptionID": self.sub,
            "TenantID": self.emu.handle.tenant_id(),
            "Region": "westus",
            "ResourceGroup": GROUP,
            "DeploymentModel": 2,
            "AzureCloudServiceId": self.service_id,
            "ServerAppClientId": self.server_app_id,
            "NumberOfInstances": 1,
            "VMSize": "Standard_B2s",
            "CheckClientCertRevocation": false,
            "EnforceProtocol": true,
            "EnableCloudDPFunction": true,
            "TrafficOutInGB": 0,
            "TrafficWarningThreshold": 50,
            "TrafficCriticalThreshold": 90,
            "TrafficOutStopService": false,
            "ServiceCertificatePfx": pfx,
            "ServiceCertificatePassword": password,
        })
    }

    /// The row as `cmg::ensure` finds it.
    async fn find(&self) -> Option<Value> {
        let r = self
            .get(&format!(
                "{CLASS}?$filter=Name eq '{NAME}' and ServiceType eq 'CloudProxyService'"
            ))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["value"][0]
            .as_object()
            .map(|m| Value::Object(m.clone()))
    }

    async fn wait_state(&self, state: i64) -> Value {
        wait_for(30, &format!("State {state}"), || async {
            self.find().await.filter(|r| r["State"] == json!(state))
        })
        .await
    }

    async fn resources(&self) -> Vec<Value> {
        let r = self
            .arm_call(
                Method::GET,
                &format!("{}/resources?api-version=2021-04-01", self.group_id()),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["value"].as_array().cloned().unwrap_or_default()
    }

    async fn scale_set(&self) -> Value {
        let r = self
            .arm_call(
                Method::GET,
                &format!(
                    "{}/providers/Microsoft.Compute/virtualMachineScaleSets/GraniteFalls?api-version=2024-07-01",
                    self.group_id()
                ),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body
    }
}

#[tokio::test]
async fn a_cmg_is_deployed_scaled_stopped_started_recertified_and_deleted() {
    let lab = lab().await;
    lab.grant_contributor().await;
    let first = pfx(NAME, PASSWORD);
    let row = lab.created(CLASS, lab.body(&first, PASSWORD)).await;
    assert_eq!(row["State"], 1, "{row}");
    assert_eq!(row["StatusDetails"], "Provisioning");
    assert_eq!(row["ServiceCertificatePfx"], Value::Null);
    assert_eq!(row["ServiceCertificatePassword"], Value::Null);
    assert_eq!(row["ServiceThumbprintAlgorithm"], "SHA1");
    let thumb = row["ServiceThumbprint"].as_str().unwrap().to_string();
    assert!(
        thumb.len() == 40 && thumb == thumb.to_uppercase(),
        "{thumb}"
    );
    assert!(row["CertificateExpiry"].is_string() && row["ServiceCertificate"].is_string());
    assert!(row["DeploymentId"].as_str().unwrap().ends_with(
        "/resourceGroups/CMG-RG/providers/Microsoft.Resources/deployments/CMG-GraniteFalls"
    ));
    let id = row["AzureServiceID"].clone();
    let key = format!("{CLASS}({id})");

    // Ready, with everything the stdlib reads.
    let ready = lab.wait_state(0).await;
    for p in [
        "AzureServiceID",
        "State",
        "StatusDetails",
        "DeploymentId",
        "ServiceThumbprint",
        "CertificateExpiry",
        "NumberOfInstances",
        "VMSize",
        "Region",
        "ResourceGroup",
        "SubscriptionID",
        "ServiceCName",
        "EnableCloudDPFunction",
    ] {
        assert!(!ready[p].is_null(), "{p}: {ready}");
    }
    assert_eq!(ready["StatusDetails"], "Ready");
    assert_eq!(ready["Fqdn"], "granitefalls.westus.cloudapp.azure.com");
    let r = lab
        .call(Method::GET, &format!("{CLASS}?$filter=State eq 0"), None)
        .await;
    assert_eq!(
        r.body["value"].as_array().map(Vec::len),
        Some(1),
        "{}",
        r.text
    );

    // The four Azure resources, and the public IP's name.
    assert_eq!(resource_types(&lab.resources().await), CMG_RESOURCE_TYPES);
    let ip = lab
        .arm_call(
            Method::GET,
            &format!(
                "{}/providers/Microsoft.Network/publicIPAddresses/GraniteFalls?api-version=2024-05-01",
                lab.group_id()
            ),
            None,
        )
        .await;
    assert_eq!(
        ip.body["properties"]["dnsSettings"]["fqdn"], "granitefalls.westus.cloudapp.azure.com",
        "{}",
        ip.text
    );

    // What cannot be written.
    for body in [
        json!({"NumberOfInstances": 17}),
        json!({"Region": "eastus"}),
        json!({"ServiceThumbprint": "AB"}),
    ] {
        let r = lab.patch(&key, body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
    }
    let r = lab
        .call(Method::PATCH, &key, Some(json!({"Region": "WestUS"})))
        .await;
    assert_eq!(
        (r.status.as_u16(), &r.body["Region"]),
        (200, &json!("westus")),
        "{}",
        r.text
    );

    // Scale to 2: Upgrading, then Ready with the scale set at 2.
    let r = lab
        .call(Method::PATCH, &key, Some(json!({"NumberOfInstances": 2})))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        matches!(r.body["State"].as_i64(), Some(7 | 0)),
        "{}",
        r.text
    );
    lab.wait_state(0).await;
    assert_eq!(lab.scale_set().await["sku"]["capacity"], 2);

    // Stop, then start.
    lab.invoke(&format!("{key}/AdminService.Stop")).await;
    lab.wait_state(5).await;
    lab.invoke(&format!("{CLASS}/{id}/AdminService.Start"))
        .await;
    lab.wait_state(0).await;

    // A renewed certificate for the same name replaces it; another case is refused.
    let renewed = pfx(NAME, PASSWORD);
    let r = lab
        .call(
            Method::PATCH,
            &key,
            Some(json!({"ServiceCertificatePfx": pfx(&NAME.to_lowercase(), PASSWORD), "ServiceCertificatePassword": PASSWORD})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = lab
        .call(
            Method::PATCH,
            &key,
            Some(json!({"ServiceCertificatePfx": renewed, "ServiceCertificatePassword": "wrong"})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body["error"]["message"],
        "The certificate password is incorrect."
    );
    let r = lab
        .call(
            Method::PATCH,
            &key,
            Some(json!({"ServiceCertificatePfx": renewed, "ServiceCertificatePassword": PASSWORD})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let new_thumb = r.body["ServiceThumbprint"].as_str().unwrap().to_string();
    assert_ne!(new_thumb, thumb);
    lab.wait_state(0).await;
    let url = lab.scale_set().await["properties"]["virtualMachineProfile"]["osProfile"]["secrets"]
        [0]["vaultCertificates"][0]["certificateUrl"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(url.ends_with(&new_thumb.to_lowercase()), "{url}");

    // Delete: 204 at once, Deleting meanwhile, then gone with its Azure resources.
    let r = lab.call(Method::DELETE, &key, None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = lab.call(Method::GET, &key, None).await;
    assert!(
        r.status == 404 || r.body["value"][0]["State"] == 6,
        "{}",
        r.text
    );
    wait_for(30, "the CMG to go", || async {
        (lab.call(Method::GET, &key, None).await.status == 404).then_some(())
    })
    .await;
    assert!(lab.resources().await.is_empty());
    // Its name is free again.
    let again = lab.created(CLASS, lab.body(&first, PASSWORD)).await;
    assert!(again["AzureServiceID"].as_i64() > id.as_i64());

    // The PFX and its password are nowhere a reader could see them.
    for text in lab.replies.lock().unwrap().iter() {
        assert!(
            !text.contains(PASSWORD) && !text.contains(&first[..64]),
            "{text}"
        );
    }
    for req in lab.emu.handle.requests() {
        assert!(!req.path.contains(PASSWORD), "{}", req.path);
    }
    for needle in [PASSWORD, &first[..64], &renewed[..64]] {
        assert_eq!(files_contain(lab.dir.path(), needle), Vec::<String>::new());
    }
}

#[tokio::test]
async fn a_server_app_without_contributor_fails_naming_authorization_failed() {
    let lab = lab().await;
    let row = lab
        .created(CLASS, lab.body(&pfx(NAME, PASSWORD), PASSWORD))
        .await;
    assert_eq!(row["State"], 2, "{row}");
    let details = row["StatusDetails"].as_str().unwrap_or_default();
    assert!(
        details.starts_with("Error: AuthorizationFailed: "),
        "{details}"
    );
    assert!(details.contains("Contributor"), "{details}");
    assert!(
        details.contains(&format!(
            "/subscriptions/{}/resourceGroups/{GROUP}",
            lab.sub
        )),
        "{details}"
    );
    assert_eq!(lab.find().await.unwrap()["State"], 2);

    // With the role, Start deploys it.
    lab.grant_contributor().await;
    let key = format!("{CLASS}({})", row["AzureServiceID"]);
    lab.invoke(&format!("{key}/AdminService.Start")).await;
    let ready = lab.wait_state(0).await;
    assert!(ready["DeploymentId"].is_string());
}

#[tokio::test]
async fn a_wrong_pfx_password_or_no_pfx_makes_nothing() {
    let lab = lab().await;
    lab.grant_contributor().await;
    let r = lab
        .call(
            Method::POST,
            CLASS,
            Some(lab.body(&pfx(NAME, PASSWORD), "nope")),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body["error"]["message"],
        "The certificate password is incorrect."
    );
    let mut body = lab.body("", "");
    if let Some(m) = body.as_object_mut() {
        m.remove("ServiceCertificatePfx");
        m.remove("ServiceCertificatePassword");
    }
    let r = lab.call(Method::POST, CLASS, Some(body)).await;
    assert_eq!(r.status, 400, "{}", r.text);
    // A certificate for another name, and a thumbprint sent by the client, are refused.
    let r = lab
        .call(
            Method::POST,
            CLASS,
            Some(lab.body(&pfx("Other.contoso.com", PASSWORD), PASSWORD)),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let mut body = lab.body(&pfx(NAME, PASSWORD), PASSWORD);
    body["ServiceThumbprint"] = json!("AB".repeat(20));
    let r = lab.call(Method::POST, CLASS, Some(body)).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(lab.find().await.is_none());
    assert!(lab.resources().await.is_empty());
}

/// A role key in a path: it holds backslashes and quotes, which a URL would otherwise
/// turn into path separators.
fn role_key(item_name: &str) -> String {
    let quoted = format!("'{}'", item_name.replace('\'', "''"));
    let enc = percent_encoding::utf8_percent_encode(&quoted, percent_encoding::NON_ALPHANUMERIC);
    format!("SMS_SCI_SysResUse({enc})")
}

#[tokio::test]
async fn a_connection_point_is_added_for_a_cmg_the_site_has_and_removed() {
    let lab = lab().await;
    // A CMG whose deployment Azure refused is still the site's CMG (State 2).
    lab.created(CLASS, lab.body(&pfx(NAME, PASSWORD), PASSWORD))
        .await;
    let body = json!({
        "RoleName": "SMS Cloud Proxy Connector",
        "NetworkOSPath": "\\\\CM01.comgmtlab.local",
        "SiteCode": "ABC",
        "Props": [{"PropertyName": "CloudServiceName", "Value": 0, "Value1": NAME.to_lowercase(), "Value2": ""}],
    });
    let cp = lab.created("SMS_SCI_SysResUse", body.clone()).await;
    assert!(cp["ItemName"]
        .as_str()
        .unwrap()
        .ends_with(",SMS Cloud Proxy Connector"));
    let r = lab.post("SMS_SCI_SysResUse", body).await;
    assert_eq!(r.status, 409, "one per server: {}", r.text);

    // Its CMG can change only to another CMG the site has.
    let path = role_key(cp["ItemName"].as_str().unwrap());
    let r = lab
        .patch(
            &path,
            json!({"Props": [{"PropertyName": "CloudServiceName", "Value": 0, "Value1": "Other.contoso.com", "Value2": ""}]}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);

    let r = lab.call(Method::DELETE, &path, None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = lab
        .get("SMS_SCI_SysResUse?$filter=RoleName eq 'SMS Cloud Proxy Connector'")
        .await;
    assert_eq!(
        r.body["value"].as_array().map(Vec::len),
        Some(0),
        "{}",
        r.text
    );
}
