//! `SMS_AzureService`: the cloud management gateway as the site records it.
//! Documented properties: MicrosoftDocs/memdocs:memdocs/configmgr/develop/reference/core/servers/configure/sms_azureservice-server-wmi-class.md
//! (api-surface.md §9.3); the VMSS-era ones (`DeploymentModel`, `AzureCloudServiceId`,
//! `ResourceGroup`, `VMSize`, …) and the `State` values are UNCONFIRMED names from the
//! issue-7 contract.

use super::classes::{ro, rw, secret, KeyKind, Ty, WmiClass};

pub const SMS_AZURESERVICE: WmiClass = WmiClass {
    name: "SMS_AzureService",
    key: "AzureServiceID",
    key_kind: KeyKind::Assigned { first: 1 },
    natural_key: &["Name", "ServiceType"],
    props: &[
        ro("AzureServiceID", Ty::Int),
        rw("Name", Ty::Str),
        rw("ServiceCName", Ty::Str),
        rw("Description", Ty::Str),
        rw("ServiceType", Ty::Str),
        rw("SiteCode", Ty::Str),
        rw("SubscriptionID", Ty::Str),
        rw("Region", Ty::Str),
        rw("NumberOfInstances", Ty::Int),
        ro("ServiceCertificate", Ty::Str),
        ro("ServiceThumbprint", Ty::Str),
        ro("ServiceThumbprintAlgorithm", Ty::Str),
        ro("State", Ty::Int),
        ro("StatusDetails", Ty::Str),
        rw("TrafficWarningThreshold", Ty::Int),
        rw("TrafficCriticalThreshold", Ty::Int),
        rw("TrafficOutInGB", Ty::Int),
        rw("TrafficOutStopService", Ty::Bool),
        rw("StorageQuotaInGB", Ty::Int),
        rw("StorageWarningThreshold", Ty::Int),
        rw("StorageCriticalThreshold", Ty::Int),
        ro("StorageServiceName", Ty::Str),
        ro("Fqdn", Ty::Str),
        ro("DeploymentModel", Ty::Int),
        rw("AzureCloudServiceId", Ty::Int),
        rw("ResourceGroup", Ty::Str),
        rw("VMSize", Ty::Str),
        rw("CheckClientCertRevocation", Ty::Bool),
        rw("EnforceProtocol", Ty::Bool),
        rw("EnableCloudDPFunction", Ty::Bool),
        rw("ServerAppClientId", Ty::Guid),
        rw("TenantID", Ty::Guid),
        ro("CertificateExpiry", Ty::Time),
        ro("DeploymentId", Ty::Str),
        secret("ServiceCertificatePfx"),
        secret("ServiceCertificatePassword"),
    ],
    // Writes wait for the ARM side (emulator/src/arm/cmg.rs, branch arm-emu).
    writable: false,
    on_create: None,
    on_update: None,
    on_delete: None,
    methods: &[],
};
