//! What scripts get back from the cmg module.

use super::model::state_name;
use crate::change::Known;
use crate::site::objects::text;
use serde_json::Value;

/// A cloud management gateway: the site's row, and what it is in Azure.
#[derive(Debug, Clone)]
pub struct Cmg {
    /// The site's `AzureServiceID` (unknown in a plan that creates it).
    pub id: Known<i64>,
    /// The service name: the certificate's CN, e.g. `GraniteFalls.contoso.com`.
    pub name: String,
    /// The deployment name, `granitefalls.westus.cloudapp.azure.com`.
    pub deployment_name: String,
    pub region: String,
    pub resource_group: String,
    pub subscription: String,
    pub instances: u32,
    pub vm_size: String,
    /// `Ready`, `Provisioning`, `Stopped`, … (the site's state).
    pub state: String,
    pub status_details: String,
    pub thumbprint: String,
    pub certificate_expiry: String,
    pub content: bool,
    /// The public IP's FQDN in Azure, once deployed.
    pub fqdn: String,
    /// The scale set's provisioning state in Azure, once deployed.
    pub provisioning_state: String,
    /// The Azure resources the deployment made: `Microsoft.Compute/virtualMachineScaleSets/GraniteFalls`, …
    pub resources: Vec<String>,
    /// The ARM deployment the site started (for support cases).
    pub deployment_id: String,
}

impl Cmg {
    /// The site's row; the Azure facts are filled in separately.
    pub fn from_row(v: &Value) -> Self {
        let int = |k: &str| v[k].as_i64().unwrap_or(0);
        Cmg {
            id: v["AzureServiceID"]
                .as_i64()
                .map(Known::Value)
                .unwrap_or(Known::AfterApply),
            name: text(v, "Name"),
            deployment_name: text(v, "ServiceCName"),
            region: text(v, "Region"),
            resource_group: text(v, "ResourceGroup"),
            subscription: text(v, "SubscriptionID"),
            instances: u32::try_from(int("NumberOfInstances")).unwrap_or(0),
            vm_size: text(v, "VMSize"),
            state: match v["State"].as_i64() {
                Some(s) => state_name(s).to_string(),
                None => Known::<String>::AfterApply.text().to_string(),
            },
            status_details: text(v, "StatusDetails"),
            thumbprint: text(v, "ServiceThumbprint"),
            certificate_expiry: text(v, "CertificateExpiry"),
            content: v["EnableCloudDPFunction"].as_bool().unwrap_or(false),
            fqdn: String::new(),
            provisioning_state: String::new(),
            resources: Vec::new(),
            deployment_id: text(v, "DeploymentId"),
        }
    }
}
