//! The CMG's side of ARM, as the site's service connection point deploys and manages a
//! cloud management gateway on a virtual machine scale set. The AdminService's
//! `SMS_AzureService` calls this API (in-process; no HTTP), and everything it writes is
//! the same ARM state the HTTP routes serve: the deployment `CMG-{prefix}`, the scale
//! set, key vault, storage account and public IP, and the name checks see the names as
//! taken.
//!
//! ```text
//! pub struct CmgSpec {
//!     pub subscription: String,       // subscription id (GUID)
//!     pub resource_group: String,     // created in `region` when missing
//!     pub region: String,             // "westus" or "West US"
//!     pub prefix: String,             // the deployment name's label, e.g. "GraniteFalls"
//!     pub vm_size: String,            // Standard_A2_v2 | Standard_B2s | Standard_A4_v2
//!     pub instances: u32,             // 1..=16
//!     pub content: bool,              // cloud DP function: a storage account too
//!     pub principal_app_id: String,   // the server app's appId; deploys as its service principal
//!     pub certificate_thumbprint: String, // the server authentication certificate's SHA-1, hex
//! }
//! pub struct CmgProgress {
//!     pub deployment_state: String,   // Running | Succeeded | Failed | Deleting
//!     pub error_code: Option<String>, // when Failed: the resource provider's code
//!     pub error_message: Option<String>,
//!     pub fqdn: Option<String>,       // "{prefix lower}.{region}.cloudapp.azure.com"
//!     pub capacity: Option<u32>,      // the scale set's sku.capacity
//!     pub power_state: Option<String>, // running | starting | deallocating | deallocated | stopping | stopped
//!     pub scale_set_state: Option<String>, // Creating | Updating | Succeeded | Deleting
//! }
//! pub fn start(st: &AppState, spec: &CmgSpec) -> Result<String, ArmError>; // the deployment id
//! pub fn progress(st: &AppState, deployment_id: &str) -> Result<Option<CmgProgress>, ArmError>; // None: deleted
//! pub fn set_capacity(st: &AppState, deployment_id: &str, instances: u32) -> Result<(), ArmError>;
//! pub fn power_off(st: &AppState, deployment_id: &str) -> Result<(), ArmError>; // deallocate
//! pub fn power_on(st: &AppState, deployment_id: &str) -> Result<(), ArmError>;  // start
//! pub fn update_certificate(st: &AppState, deployment_id: &str, thumbprint: &str) -> Result<(), ArmError>;
//! pub fn delete(st: &AppState, deployment_id: &str) -> Result<(), ArmError>;
//! ```
//!
//! The AdminService calls the `…_in` forms, which take the store transaction the caller
//! already holds (`start_in(st, db, spec)`, `progress_in(st, db, id)`, …): it writes a
//! CMG's row and changes its Azure side in one transaction, so a refused write leaves
//! neither, and the store's lock is not re-entrant. The forms above, each in a
//! transaction of its own, are for this module's tests.
//!
//! Every write is checked as the principal: its service principal (looked up by appId
//! in the emulator's Graph) must hold Contributor or Owner on the resource group or the
//! subscription through a role assignment, else `AuthorizationFailed` (403) naming the
//! action, the scope and the roles it needs. The message's first sentence is ARM's form
//! (as azure-cli users quote it); the sentence naming the roles is the emulator's.
//!
//! Every change takes the emulator's `arm_delay` and is computed from timestamps when
//! read: `progress` right after `start` shows `Running`; after the delay, `Succeeded`
//! (or `Failed` with the provider's code, e.g. `StorageAccountAlreadyTaken`). A
//! `start` while the same deployment still runs returns its id again; a `start` after it
//! finished redeploys (resources are upserted, never doubled).
//!
//! UNCONFIRMED (the product publishes neither its template nor its names): the
//! deployment name `CMG-{prefix}`; the scale set, key vault and public IP named
//! `{prefix}` and the storage account `{prefix lower}` (the docs say "same name"); a
//! storage account only with the cloud DP function; the certificate URL form
//! `https://{vault}.vault.azure.net/secrets/{prefix}/{thumbprint lower}`.

use super::deploy_core::{self, Planned};
use super::errors::{ArmError, ArmResult};
use super::resources::{self, now_ms, PUBLIC_IP, STORAGE, VAULT, VMSS};
use super::vmss_core::{self, Power};
use crate::app::AppState;
use crate::store::Db;
use axum::http::StatusCode;
use serde_json::{json, Value};

/// What the CMG wizard asks for, as the site hands it to Azure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmgSpec {
    pub subscription: String,
    pub resource_group: String,
    pub region: String,
    pub prefix: String,
    pub vm_size: String,
    pub instances: u32,
    pub content: bool,
    pub principal_app_id: String,
    pub certificate_thumbprint: String,
}

/// A CMG's deployment and resources as they are now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmgProgress {
    pub deployment_state: String,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub fqdn: Option<String>,
    pub capacity: Option<u32>,
    pub power_state: Option<String>,
    pub scale_set_state: Option<String>,
}

/// The VM sizes the CMG wizard offers (memdocs: plan-cloud-management-gateway.md, "VM size").
pub const VM_SIZES: &[&str] = &["Standard_A2_v2", "Standard_B2s", "Standard_A4_v2"];

pub fn deployment_name(prefix: &str) -> String {
    format!("CMG-{prefix}")
}

fn invalid(message: impl Into<String>) -> ArmError {
    ArmError::new(StatusCode::BAD_REQUEST, "InvalidParameter", message)
}

/// ARM stores regions in their short form: `West US` is `westus`.
fn region(r: &str) -> String {
    r.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

fn validate(spec: &CmgSpec) -> ArmResult<()> {
    let label = spec.prefix.to_ascii_lowercase();
    if !super::names::is_dns_label(&label) || !super::names::is_vault_name(&spec.prefix) {
        return Err(invalid(format!(
            "The CMG name '{}' must be 3-24 letters, digits and hyphens, starting with a letter.",
            spec.prefix
        )));
    }
    if spec.content && !super::names::is_storage_account_name(&label) {
        return Err(invalid(format!(
            "{label} is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only."
        )));
    }
    if !(1..=16).contains(&spec.instances) {
        return Err(invalid(format!(
            "The number of VM instances {} is outside 1..16.",
            spec.instances
        )));
    }
    if !VM_SIZES
        .iter()
        .any(|s| s.eq_ignore_ascii_case(&spec.vm_size))
    {
        return Err(invalid(format!(
            "The VM size '{}' is not one the CMG offers ({}).",
            spec.vm_size,
            VM_SIZES.join(", ")
        )));
    }
    if region(&spec.region).is_empty() {
        return Err(invalid("The region is required."));
    }
    Ok(())
}

/// Check that `app_id`'s service principal holds Contributor or Owner on the group (or
/// the subscription) before `action` on `target`.
fn authorize(
    db: &Db<'_>,
    app_id: &str,
    sub: &str,
    group: &str,
    action: &str,
    target: &str,
) -> ArmResult<()> {
    let group_scope = format!("/subscriptions/{sub}/resourceGroups/{group}");
    let oid = super::roles::service_principal_of(db, app_id)?;
    let allowed = match &oid {
        Some(oid) => super::roles::holds_role(
            db,
            oid,
            &[super::roles::OWNER, super::roles::CONTRIBUTOR],
            &group_scope,
        )?,
        None => false,
    };
    if allowed {
        return Ok(());
    }
    Err(ArmError::new(
        StatusCode::FORBIDDEN,
        "AuthorizationFailed",
        format!(
            "The client '{app_id}' with object id '{}' does not have authorization to perform action '{action}' over scope '{target}' or the scope is invalid. If access was recently granted, please refresh your credentials. It needs the Contributor or Owner role on the resource group '{group_scope}' or the subscription '/subscriptions/{sub}'.",
            oid.as_deref().unwrap_or("(no service principal)")
        ),
    ))
}

/// The template's resources for a spec (UNCONFIRMED shapes: see the module doc).
fn plan(st: &AppState, spec: &CmgSpec, sub: &str, group: &str) -> Vec<Planned> {
    let loc = region(&spec.region);
    let p = &spec.prefix;
    let label = p.to_ascii_lowercase();
    let vault_id = resources::resource_id(sub, group, VAULT, p);
    let mut out = vec![
        Planned {
            rtype: VAULT.into(),
            name: p.clone(),
            doc: super::vaults::complete(
                json!({"location": loc, "tags": {}, "properties": {"enabledForDeployment": true}}),
                p,
                &st.tenant.id,
            ),
        },
        Planned {
            rtype: PUBLIC_IP.into(),
            name: p.clone(),
            doc: super::public_ips::complete(json!({
                "location": loc,
                "tags": {},
                "properties": {"dnsSettings": {"domainNameLabel": label}},
            })),
        },
    ];
    if spec.content {
        out.push(Planned {
            rtype: STORAGE.into(),
            name: label.clone(),
            doc: super::storage::complete(json!({"location": loc, "tags": {}}), &label),
        });
    }
    out.push(Planned {
        rtype: VMSS.into(),
        name: p.clone(),
        doc: vmss_core::complete(json!({
            "location": loc,
            "tags": {},
            "sku": {"name": spec.vm_size, "tier": "Standard", "capacity": spec.instances},
            "properties": {
                "overprovision": false,
                "singlePlacementGroup": true,
                "virtualMachineProfile": {
                    "osProfile": {
                        "computerNamePrefix": label.chars().take(9).collect::<String>(),
                        "adminUsername": "cmgadmin",
                        "secrets": [{
                            "sourceVault": {"id": vault_id},
                            "vaultCertificates": [{
                                "certificateUrl": certificate_url(p, &spec.certificate_thumbprint),
                                "certificateStore": "My",
                            }],
                        }],
                    },
                },
            },
        })),
    });
    out
}

fn certificate_url(prefix: &str, thumbprint: &str) -> String {
    format!(
        "https://{}.vault.azure.net/secrets/{prefix}/{}",
        prefix.to_ascii_lowercase(),
        thumbprint.to_ascii_lowercase()
    )
}

/// Start (or rejoin) the CMG's deployment; returns its ARM id.
#[cfg(test)]
pub fn start(st: &AppState, spec: &CmgSpec) -> ArmResult<String> {
    st.store.write(|db| start_in(st, db, spec))
}

/// [`start`] inside a write transaction the caller holds (the AdminService writes the
/// CMG's row and starts its deployment in one transaction; the store's lock is not
/// re-entrant, so it cannot call [`start`]).
pub fn start_in(st: &AppState, db: &Db<'_>, spec: &CmgSpec) -> ArmResult<String> {
    validate(spec)?;
    let sub = super::subscriptions::check(st, &spec.subscription)?;
    let name = deployment_name(&spec.prefix);
    let target = deploy_core::deployment_id(&sub, &spec.resource_group, &name);
    authorize(
        db,
        &spec.principal_app_id,
        &sub,
        &spec.resource_group,
        "Microsoft.Resources/deployments/write",
        &target,
    )?;
    let group = super::resource_groups::ensure(db, &sub, &spec.resource_group, &spec.region)?;
    let k = deploy_core::key(&sub, &group, &name);
    if let Some(cur) = deploy_core::get(db, &k)? {
        if deploy_core::state_at(&cur, now_ms()) == "Running" {
            return Ok(crate::graph::str_of(&cur, "id").to_string());
        }
    }
    let planned = plan(st, spec, &sub, &group);
    let properties = json!({
        "mode": "Incremental",
        "templateHash": crate::util::sha256_b64url(format!("{spec:?}").as_bytes()),
        "parameters": {},
        "outputs": {},
        "providers": [],
        "dependencies": [],
    });
    let cmg = json!({"_cmg": {
        "prefix": spec.prefix,
        "principal": spec.principal_app_id,
        "content": spec.content,
    }});
    let (doc, _) = deploy_core::apply(st, db, &sub, &group, &name, planned, properties, cmg)?;
    Ok(crate::graph::str_of(&doc, "id").to_string())
}

/// A parsed deployment id.
struct Target {
    sub: String,
    group: String,
    name: String,
}

fn parse(st: &AppState, deployment_id: &str) -> ArmResult<Target> {
    let parts: Vec<&str> = deployment_id.trim_matches('/').split('/').collect();
    let ok = parts.len() == 8
        && parts[0].eq_ignore_ascii_case("subscriptions")
        && parts[2].eq_ignore_ascii_case("resourceGroups")
        && parts[4].eq_ignore_ascii_case("providers")
        && parts[5].eq_ignore_ascii_case("Microsoft.Resources")
        && parts[6].eq_ignore_ascii_case("deployments");
    if !ok {
        return Err(ArmError::new(
            StatusCode::BAD_REQUEST,
            "InvalidResourceId",
            format!("'{deployment_id}' is not a deployment id."),
        ));
    }
    Ok(Target {
        sub: super::subscriptions::check(st, parts[1])?,
        group: parts[3].to_string(),
        name: parts[7].to_string(),
    })
}

/// The stored deployment of a CMG (live) and its CMG record.
fn deployment(db: &Db<'_>, t: &Target) -> ArmResult<(Value, Value)> {
    let doc = deploy_core::get(db, &deploy_core::key(&t.sub, &t.group, &t.name))?
        .ok_or_else(|| deploy_core::not_found(&t.name, &t.group))?;
    let cmg = doc["_cmg"].clone();
    if !cmg.is_object() {
        return Err(ArmError::new(
            StatusCode::BAD_REQUEST,
            "InvalidResourceId",
            format!("The deployment '{}' is not a CMG's.", t.name),
        ));
    }
    Ok((doc, cmg))
}

fn prefix_of(cmg: &Value) -> String {
    crate::graph::str_of(cmg, "prefix").to_string()
}

/// The CMG's deployment and resources now; `None` once `delete` has finished.
#[cfg(test)]
pub fn progress(st: &AppState, deployment_id: &str) -> ArmResult<Option<CmgProgress>> {
    st.store.read(|db| progress_in(st, db, deployment_id))
}

/// [`progress`] inside a transaction the caller holds.
pub fn progress_in(
    st: &AppState,
    db: &Db<'_>,
    deployment_id: &str,
) -> ArmResult<Option<CmgProgress>> {
    let t = parse(st, deployment_id)?;
    {
        let now = now_ms();
        let Some(doc) = db.get(
            deploy_core::DEPLOYMENTS,
            &deploy_core::key(&t.sub, &t.group, &t.name),
        )?
        else {
            return Ok(None);
        };
        if deploy_core::at(&doc, now).is_none() {
            return Ok(None);
        }
        let prefix = prefix_of(&doc["_cmg"]);
        let state = deploy_core::state_at(&doc, now);
        let detail = &doc["_error"]["details"][0];
        let failed = state == "Failed";
        let ip = resources::get(db, &resources::key(&t.sub, &t.group, PUBLIC_IP, &prefix))?;
        let vmss_doc = db
            .get(
                resources::RESOURCES,
                &resources::key(&t.sub, &t.group, VMSS, &prefix),
            )?
            .filter(|d| resources::at(d, now).is_some());
        Ok::<_, ArmError>(Some(CmgProgress {
            deployment_state: state.to_string(),
            error_code: failed.then(|| crate::graph::str_of(detail, "code").to_string()),
            error_message: failed.then(|| crate::graph::str_of(detail, "message").to_string()),
            fqdn: ip.and_then(|i| {
                i["properties"]["dnsSettings"]["fqdn"]
                    .as_str()
                    .map(str::to_string)
            }),
            capacity: vmss_doc
                .as_ref()
                .and_then(|v| v["sku"]["capacity"].as_u64())
                .map(|c| c as u32),
            power_state: vmss_doc.as_ref().map(|v| vmss_core::power_state(v, now)),
            scale_set_state: vmss_doc.as_ref().and_then(|v| {
                resources::at(v, now).and_then(|v| {
                    v["properties"]["provisioningState"]
                        .as_str()
                        .map(str::to_string)
                })
            }),
        }))
    }
}

/// Run `f` on the CMG's scale set, as its principal, in the caller's transaction.
fn with_scale_set(
    st: &AppState,
    db: &Db<'_>,
    deployment_id: &str,
    action: &str,
    f: impl FnOnce(&Db<'_>, Value) -> ArmResult<Value>,
) -> ArmResult<()> {
    let t = parse(st, deployment_id)?;
    {
        let (_, cmg) = deployment(db, &t)?;
        let prefix = prefix_of(&cmg);
        let target = resources::resource_id(&t.sub, &t.group, VMSS, &prefix);
        authorize(
            db,
            crate::graph::str_of(&cmg, "principal"),
            &t.sub,
            &t.group,
            action,
            &target,
        )?;
        let k = resources::key(&t.sub, &t.group, VMSS, &prefix);
        let doc = vmss_core::live(db, &k, &prefix, &t.group)?;
        f(db, doc)?;
        Ok(())
    }
}

/// Scale the CMG to `instances` VMs (1..=16): the scale set is `Updating` for a while.
#[cfg(test)]
pub fn set_capacity(st: &AppState, deployment_id: &str, instances: u32) -> ArmResult<()> {
    st.store
        .write(|db| set_capacity_in(st, db, deployment_id, instances))
}

/// [`set_capacity`] inside a write transaction the caller holds.
pub fn set_capacity_in(
    st: &AppState,
    db: &Db<'_>,
    deployment_id: &str,
    instances: u32,
) -> ArmResult<()> {
    if !(1..=16).contains(&instances) {
        return Err(invalid(format!(
            "The number of VM instances {instances} is outside 1..16."
        )));
    }
    with_scale_set(
        st,
        db,
        deployment_id,
        "Microsoft.Compute/virtualMachineScaleSets/write",
        |db, doc| vmss_core::set_capacity(st, db, doc, instances as u64),
    )
}

/// Stop the CMG: deallocate the scale set.
#[cfg(test)]
pub fn power_off(st: &AppState, deployment_id: &str) -> ArmResult<()> {
    st.store.write(|db| power_off_in(st, db, deployment_id))
}

/// [`power_off`] inside a write transaction the caller holds.
pub fn power_off_in(st: &AppState, db: &Db<'_>, deployment_id: &str) -> ArmResult<()> {
    with_scale_set(
        st,
        db,
        deployment_id,
        "Microsoft.Compute/virtualMachineScaleSets/deallocate/action",
        |db, doc| vmss_core::power(st, db, doc, Power::Deallocate),
    )
}

/// Start the CMG: start the scale set.
#[cfg(test)]
pub fn power_on(st: &AppState, deployment_id: &str) -> ArmResult<()> {
    st.store.write(|db| power_on_in(st, db, deployment_id))
}

/// [`power_on`] inside a write transaction the caller holds.
pub fn power_on_in(st: &AppState, db: &Db<'_>, deployment_id: &str) -> ArmResult<()> {
    with_scale_set(
        st,
        db,
        deployment_id,
        "Microsoft.Compute/virtualMachineScaleSets/start/action",
        |db, doc| vmss_core::power(st, db, doc, Power::Start),
    )
}

/// Replace the server authentication certificate: the VMs load another secret version
/// from the vault (a scale set model update, `Updating` for a while).
#[cfg(test)]
pub fn update_certificate(st: &AppState, deployment_id: &str, thumbprint: &str) -> ArmResult<()> {
    st.store
        .write(|db| update_certificate_in(st, db, deployment_id, thumbprint))
}

/// [`update_certificate`] inside a write transaction the caller holds.
pub fn update_certificate_in(
    st: &AppState,
    db: &Db<'_>,
    deployment_id: &str,
    thumbprint: &str,
) -> ArmResult<()> {
    if thumbprint.len() != 40 || !thumbprint.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid(format!(
            "'{thumbprint}' is not a SHA-1 thumbprint."
        )));
    }
    with_scale_set(
        st,
        db,
        deployment_id,
        "Microsoft.Compute/virtualMachineScaleSets/write",
        |db, doc| {
            let prefix = crate::graph::str_of(&doc, "name").to_string();
            vmss_core::set_certificate(st, db, doc, &certificate_url(&prefix, thumbprint))
        },
    )
}

/// Delete the CMG's resources and its deployment; `progress` shows `Deleting` until
/// they are gone, then `None`.
#[cfg(test)]
pub fn delete(st: &AppState, deployment_id: &str) -> ArmResult<()> {
    st.store.write(|db| delete_in(st, db, deployment_id))
}

/// [`delete`] inside a write transaction the caller holds.
pub fn delete_in(st: &AppState, db: &Db<'_>, deployment_id: &str) -> ArmResult<()> {
    let t = parse(st, deployment_id)?;
    let (mut doc, cmg) = deployment(db, &t)?;
    authorize(
        db,
        crate::graph::str_of(&cmg, "principal"),
        &t.sub,
        &t.group,
        "Microsoft.Resources/deployments/delete",
        deployment_id,
    )?;
    if doc["_gone_at"].is_i64() {
        return Ok(());
    }
    let until = resources::done_at(st);
    let prefix = prefix_of(&cmg);
    for (rtype, name) in [
        (VMSS, prefix.clone()),
        (VAULT, prefix.clone()),
        (PUBLIC_IP, prefix.clone()),
        (STORAGE, prefix.to_ascii_lowercase()),
    ] {
        let k = resources::key(&t.sub, &t.group, rtype, &name);
        if let Some(mut r) = db.get(resources::RESOURCES, &k)? {
            if r["_gone_at"].is_null() {
                r["_gone_at"] = json!(until);
                db.update(resources::RESOURCES, &k, &r)?;
            }
        }
    }
    doc["_gone_at"] = json!(until);
    let k = crate::graph::str_of(&doc, "_key").to_string();
    db.update(deploy_core::DEPLOYMENTS, &k, &doc)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    const APP: &str = "11111111-2222-3333-4444-555555555555";
    const SP: &str = "99999999-8888-7777-6666-555555555555";

    fn lab() -> AppState {
        let st = AppState::for_tests(Duration::from_millis(40));
        st.store
            .write(|db| {
                db.insert(
                    crate::graph::SERVICE_PRINCIPALS,
                    SP,
                    &json!({"id": SP, "appId": APP}),
                )
            })
            .expect("sp");
        st
    }

    fn spec(st: &AppState) -> CmgSpec {
        CmgSpec {
            subscription: super::super::subscriptions::subscription_id(st),
            resource_group: "CMG-RG".into(),
            region: "West US".into(),
            prefix: "GraniteFalls".into(),
            vm_size: "Standard_B2s".into(),
            instances: 2,
            content: true,
            principal_app_id: APP.into(),
            certificate_thumbprint: "AB".repeat(20),
        }
    }

    fn grant(st: &AppState, scope: &str, role: &str) {
        let doc = json!({"properties": {
            "scope": scope,
            "principalId": SP,
            "roleDefinitionId": format!("{scope}/providers/Microsoft.Authorization/roleDefinitions/{role}"),
        }});
        st.store
            .write(|db| {
                db.insert(
                    super::super::roles::ASSIGNMENTS,
                    &crate::util::new_guid(),
                    &doc,
                )
            })
            .expect("assignment");
    }

    /// Poll `progress` until `pred` holds; panics after a deadline (no timed assertions).
    fn until(
        st: &AppState,
        id: &str,
        pred: impl Fn(&Option<CmgProgress>) -> bool,
    ) -> Option<CmgProgress> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let p = progress(st, id).expect("progress");
            if pred(&p) {
                return p;
            }
            assert!(Instant::now() < deadline, "still {p:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn start_needs_contributor_or_owner() {
        let st = lab();
        let s = spec(&st);
        let e = start(&st, &s).expect_err("no role");
        assert_eq!(
            (e.status.as_u16(), e.code.as_str()),
            (403, "AuthorizationFailed")
        );
        assert!(
            e.message.contains(APP) && e.message.contains(SP),
            "{}",
            e.message
        );
        assert!(e.message.contains("Contributor or Owner"), "{}", e.message);
        assert!(e.message.contains(&format!(
            "/subscriptions/{}/resourceGroups/CMG-RG",
            s.subscription
        )));
        // Reader is not enough; Contributor on another group neither.
        let sub_scope = format!("/subscriptions/{}", s.subscription);
        grant(&st, &sub_scope, super::super::roles::READER);
        grant(
            &st,
            &format!("{sub_scope}/resourceGroups/other"),
            super::super::roles::CONTRIBUTOR,
        );
        assert_eq!(
            start(&st, &s).expect_err("reader").code,
            "AuthorizationFailed"
        );
        // Owner on the subscription is inherited by the group.
        grant(&st, &sub_scope, super::super::roles::OWNER);
        assert!(start(&st, &s).is_ok());
    }

    #[test]
    fn deploy_scale_stop_start_certificate_delete() {
        let st = lab();
        let s = spec(&st);
        grant(
            &st,
            &format!("/subscriptions/{}/resourceGroups/cmg-rg", s.subscription),
            super::super::roles::CONTRIBUTOR,
        );
        let id = start(&st, &s).expect("start");
        assert!(
            id.ends_with(
                "/resourceGroups/CMG-RG/providers/Microsoft.Resources/deployments/CMG-GraniteFalls"
            ),
            "{id}"
        );
        let p = progress(&st, &id).expect("progress").expect("exists");
        assert!(matches!(
            p.deployment_state.as_str(),
            "Running" | "Succeeded"
        ));
        // A second start while it runs (or after) never makes twins.
        let again = start(&st, &s).expect("again");
        assert_eq!(again, id);
        let p = until(&st, &id, |p| {
            p.as_ref()
                .is_some_and(|p| p.deployment_state == "Succeeded")
        })
        .expect("p");
        assert_eq!(
            p.fqdn.as_deref(),
            Some("granitefalls.westus.cloudapp.azure.com")
        );
        assert_eq!(p.capacity, Some(2));
        assert_eq!(p.power_state.as_deref(), Some("running"));
        assert_eq!(p.error_code, None);
        let n = st
            .store
            .read(|db| {
                Ok::<_, ArmError>(
                    resources::under(db, &resources::group_key(&s.subscription, "cmg-rg"))?.len(),
                )
            })
            .expect("list");
        assert_eq!(n, 4);

        set_capacity(&st, &id, 3).expect("scale");
        until(&st, &id, |p| {
            p.as_ref().is_some_and(|p| {
                p.scale_set_state.as_deref() == Some("Succeeded") && p.capacity == Some(3)
            })
        });
        assert_eq!(
            set_capacity(&st, &id, 17).expect_err("17").code,
            "InvalidParameter"
        );

        power_off(&st, &id).expect("off");
        until(&st, &id, |p| {
            p.as_ref().and_then(|p| p.power_state.as_deref()) == Some("deallocated")
        });
        power_on(&st, &id).expect("on");
        until(&st, &id, |p| {
            p.as_ref().and_then(|p| p.power_state.as_deref()) == Some("running")
        });

        update_certificate(&st, &id, &"CD".repeat(20)).expect("cert");
        let url = st
            .store
            .read(|db| {
                Ok::<_, ArmError>(resources::get(
                    db,
                    &resources::key(&s.subscription, "cmg-rg", VMSS, "GraniteFalls"),
                )?)
            })
            .expect("read")
            .expect("vmss")["properties"]["virtualMachineProfile"]["osProfile"]["secrets"][0]
            ["vaultCertificates"][0]["certificateUrl"]
            .clone();
        assert_eq!(
            url,
            json!(format!(
                "https://granitefalls.vault.azure.net/secrets/GraniteFalls/{}",
                "cd".repeat(20)
            ))
        );

        delete(&st, &id).expect("delete");
        until(&st, &id, |p| p.is_none());
        let n = st
            .store
            .read(|db| {
                Ok::<_, ArmError>(
                    resources::under(db, &resources::group_key(&s.subscription, "cmg-rg"))?.len(),
                )
            })
            .expect("list");
        assert_eq!(n, 0);
    }

    #[test]
    fn a_taken_name_fails_the_deployment() {
        let st = lab();
        let mut s = spec(&st);
        s.prefix = "contosocmgstore".into(); // a seeded taken storage account name
        grant(
            &st,
            &format!("/subscriptions/{}", s.subscription),
            super::super::roles::CONTRIBUTOR,
        );
        let id = start(&st, &s).expect("start");
        let p = until(&st, &id, |p| {
            p.as_ref().is_some_and(|p| p.deployment_state != "Running")
        })
        .expect("p");
        assert_eq!(p.deployment_state, "Failed");
        assert_eq!(p.error_code.as_deref(), Some("StorageAccountAlreadyTaken"));
        assert!(p
            .error_message
            .unwrap_or_default()
            .contains("contosocmgstore"));
    }

    #[test]
    fn the_spec_is_validated() {
        let st = lab();
        let mut s = spec(&st);
        s.instances = 0;
        assert_eq!(start(&st, &s).expect_err("0").code, "InvalidParameter");
        let mut s = spec(&st);
        s.vm_size = "Standard_D64s_v5".into();
        assert_eq!(start(&st, &s).expect_err("size").code, "InvalidParameter");
        let mut s = spec(&st);
        s.prefix = "1bad".into();
        assert_eq!(start(&st, &s).expect_err("name").code, "InvalidParameter");
        assert_eq!(
            progress(&st, "/nope").expect_err("id").code,
            "InvalidResourceId"
        );
    }
}
