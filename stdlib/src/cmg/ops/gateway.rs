//! `cmg::ensure`: the CMG as the product creates it — a `SMS_AzureService` row on the
//! site's Azure service, after which the site's service connection point deploys it
//! to Azure — preflighted before anything is written, then followed to its end.

use super::follow;
use crate::azure::model::CheckNameOptions;
use crate::azure::ops as azure;
use crate::cert::model::CheckOptions;
use crate::cert::objects::Certificate;
use crate::change::{ensure, Equivalent, Known};
use crate::cmg::model::*;
use crate::cmg::names::{
    deployment_name, is_wildcard, name_prefix, service_name_with, validate_region,
};
use crate::cmg::objects::Cmg;
use crate::context::Ctx;
use crate::error::{ModuleError, Result};
use crate::preflight::Severity;
use crate::secret::Secret;
use crate::site::objects::{text, AzureService};
use crate::site::ops::row::{ps_quote, WmiRow};
use base64::Engine as _;
use serde_json::{json, Value};
use std::path::PathBuf;

/// The module name in plans and the journal.
pub(crate) const MODULE: &str = "cmg";

/// The PFX the CMG is made with: the certificate `cert::export_pfx` returned, or a file.
pub enum PfxSource {
    Exported(Box<Certificate>),
    File(String),
}

/// The certificate, and the PFX bytes when the file is there to send.
pub struct ServiceCert {
    pub cert: Certificate,
    pub path: PathBuf,
    pub bytes: Option<Vec<u8>>,
}

/// Read the PFX (and prove the password opens it). In a plan the file may not exist
/// yet (the plan would write it): the exported certificate stands in for it.
pub fn load_pfx(ctx: &Ctx, source: PfxSource, password: &Secret) -> Result<ServiceCert> {
    let (path, exported) = match source {
        PfxSource::File(p) => (ctx.resolve_path(&p), None),
        PfxSource::Exported(c) => match c.pfx_path.clone() {
            Some(p) => (p, Some(*c)),
            None => {
                return Err(ModuleError::validation(
                    "the certificate has no PFX file: pass what cert::export_pfx returned, or a .pfx path",
                ))
            }
        },
    };
    match std::fs::read(&path) {
        Ok(bytes) => {
            let cert = crate::cert::pfx::open_pfx(&path, &bytes, password)?;
            Ok(ServiceCert {
                cert,
                path,
                bytes: Some(bytes),
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && ctx.is_plan() => match exported {
            Some(cert) => Ok(ServiceCert {
                cert,
                path,
                bytes: None,
            }),
            None => Err(ModuleError::io_at("read", &path, &e)),
        },
        Err(e) => Err(ModuleError::io_at("read", &path, &e)),
    }
}

/// The names the wizard derives from the certificate: service name and prefix.
fn names(cert: &Certificate, prefix: Option<&str>) -> Result<(String, String)> {
    let cn = cert.common_name();
    let service = if is_wildcard(&cn) {
        let p = prefix.ok_or_else(|| {
            ModuleError::validation(format!("the certificate's CN {cn} is a wildcard")).with_hint(
                "pass name_prefix: the CMG's name under the wildcard domain, e.g. \"GraniteFalls\"",
            )
        })?;
        service_name_with(&cn, p)?
    } else {
        cn
    };
    let prefix = name_prefix(&service)
        .ok_or_else(|| ModuleError::validation(format!("{service} has no name prefix")))?
        .to_string();
    Ok((service, prefix))
}

/// Ensure the CMG and follow it until the site reports it ready.
pub fn ensure_cmg(
    ctx: &Ctx,
    opts: &CmgOptions,
    source: PfxSource,
    password: &Secret,
    service: &AzureService,
) -> Result<Cmg> {
    let (instances, sku) = opts.validate()?;
    let region = validate_region(&opts.region)?;
    let pfx = load_pfx(ctx, source, password)?;
    let (service_name, prefix) = names(&pfx.cert, opts.name_prefix.as_deref())?;
    let deployment = deployment_name(&service_name, &region)?;
    let subscription = azure::subscription_id(ctx, opts.subscription.as_deref())?;
    let observed = find(ctx, &service_name)?;

    // Preflight: nothing is written when any of this fails.
    preflight_certificate(&pfx.cert, &region, opts, &service_name, observed.as_ref())?;
    if let Some(o) = &observed {
        immutable(o, "Region", &region)?;
        immutable(o, "ResourceGroup", &opts.resource_group)?;
        immutable(o, "SubscriptionID", &subscription)?;
    } else {
        preflight_names(ctx, &prefix, &region, opts, &subscription)?;
    }
    preflight_providers(ctx, &subscription)?;
    preflight_group(ctx, &subscription, &opts.resource_group, &region)?;
    preflight_role(ctx, &subscription, &opts.resource_group, service)?;

    let site = crate::site::ops::site(ctx)?;
    let thumbprint = pfx
        .cert
        .leaf
        .as_ref()
        .map(|l| Known::Value(l.thumbprint.clone()))
        .unwrap_or(Known::AfterApply);
    let alerts = &opts.alerts;
    let mut row = WmiRow::new(
        MODULE,
        "cloud management gateway",
        CMG_CLASS,
        ("Name", Known::Value(service_name.clone())),
        deployment.clone(),
        json!({
            "Name": service_name,
            "ServiceCName": deployment,
            "Description": opts.description,
            "ServiceType": CLOUD_PROXY_SERVICE,
            "SiteCode": site.code,
            "SubscriptionID": subscription,
            "TenantID": service.tenant_id,
            "Region": region,
            "ResourceGroup": opts.resource_group,
            "DeploymentModel": VMSS_DEPLOYMENT_MODEL,
            "AzureCloudServiceId": service.id.value().copied(),
            "ServerAppClientId": service.server_app_id.value(),
            "NumberOfInstances": instances,
            "VMSize": sku,
            "CheckClientCertRevocation": opts.verify_client_cert_revocation,
            "EnforceProtocol": opts.enforce_tls12,
            "EnableCloudDPFunction": opts.allow_content,
            "TrafficOutInGB": alerts.traffic_out_gb.unwrap_or(0),
            "TrafficWarningThreshold": alerts.warning_percent,
            "TrafficCriticalThreshold": alerts.critical_percent,
            "TrafficOutStopService": alerts.stop_when_critical,
            "ServiceThumbprint": thumbprint.value(),
        }),
    );
    row.key_prop = "AzureServiceID";
    row.derived = vec!["ServiceThumbprint"];
    row.unknown = [
        (!service.id.is_known()).then_some("AzureCloudServiceId"),
        (!service.server_app_id.is_known()).then_some("ServerAppClientId"),
        (!thumbprint.is_known()).then_some("ServiceThumbprint"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let new_certificate = observed.as_ref().is_none_or(|o| {
        thumbprint
            .value()
            .is_none_or(|t| !text(o, "ServiceThumbprint").eq_ignore_ascii_case(t))
    });
    if new_certificate {
        if let Some(bytes) = &pfx.bytes {
            row.secrets = certificate_secrets(bytes, password);
        }
    }
    row.create_equivalent = Some(new_cmg_command(
        opts,
        &pfx,
        &service_name,
        &subscription,
        &region,
        instances,
        sku,
        service,
    ));
    row.update_equivalent = Some(set_cmg_command(
        &service_name,
        instances,
        new_certificate.then_some(&pfx),
    ));
    let planned = row.body.clone();
    let written = ensure(ctx, row)?;
    finish(ctx, written, &planned, opts.timeout)
}

/// After a write (or none): follow the site until the CMG is ready, then read Azure.
/// `planned` is what a plan that creates it shows.
pub fn finish(ctx: &Ctx, written: Known<Value>, planned: &Value, timeout: u64) -> Result<Cmg> {
    let Some(row) = written.value() else {
        return Ok(Cmg::from_row(planned));
    };
    let mut cmg = Cmg::from_row(row);
    if ctx.is_plan() {
        return Ok(cmg);
    }
    let id = row["AzureServiceID"]
        .as_i64()
        .ok_or_else(|| ModuleError::remote("the site answered a CMG without its AzureServiceID"))?;
    let settled = follow::wait_for_state(ctx, id, &[READY, STOPPED], timeout)?;
    cmg = Cmg::from_row(&settled);
    follow::azure_facts(ctx, &mut cmg)?;
    Ok(cmg)
}

/// The site's CMG row with this service name.
pub fn find(ctx: &Ctx, name: &str) -> Result<Option<Value>> {
    let filter = format!(
        "Name eq '{}' and ServiceType eq '{CLOUD_PROXY_SERVICE}'",
        name.replace('\'', "''")
    );
    let admin = ctx.read().admin_service()?;
    let rows = ctx.block_on(admin.list(CMG_CLASS, &[("$filter", &filter)]));
    let rows = crate::site::ops::read_or_plan(ctx, rows, Vec::new)?;
    // The service name is unique in the site; its case is not (§3.1).
    Ok(rows.into_iter().next())
}

/// The PFX and its password, sent only with a write.
pub fn certificate_secrets(bytes: &[u8], password: &Secret) -> Vec<(&'static str, Secret)> {
    vec![
        (
            "ServiceCertificatePfx",
            Secret::new(base64::engine::general_purpose::STANDARD.encode(bytes)),
        ),
        ("ServiceCertificatePassword", password.clone()),
    ]
}

fn preflight_certificate(
    cert: &Certificate,
    region: &str,
    opts: &CmgOptions,
    service_name: &str,
    observed: Option<&Value>,
) -> Result<()> {
    let check = CheckOptions {
        region: Some(region.to_string()),
        content: opts.allow_content,
        service_name: Some(service_name.to_string()),
        existing_service_name: observed.map(|o| text(o, "Name")),
    };
    let findings = crate::cert::check::check_cmg(cert, &check, time::OffsetDateTime::now_utc());
    let errors: Vec<String> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.to_string())
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    Err(ModuleError::validation(format!(
        "the CMG certificate cannot be used: {}",
        errors.join("; ")
    ))
    .with_hint("cert::check_cmg lists every finding with its fix; nothing was created"))
}

fn preflight_names(
    ctx: &Ctx,
    prefix: &str,
    region: &str,
    opts: &CmgOptions,
    subscription: &str,
) -> Result<()> {
    let check = azure::check_cmg_name(
        ctx,
        prefix,
        region,
        &CheckNameOptions {
            content: opts.allow_content,
            subscription: Some(subscription.to_string()),
        },
    )?;
    if check.ok() {
        return Ok(());
    }
    let mut why: Vec<String> = check.findings.clone();
    why.extend(
        check
            .checks
            .iter()
            .filter(|c| !c.available)
            .map(|c| format!("{} {}: {}", c.check, c.name, c.message)),
    );
    Err(ModuleError::conflict(format!(
        "the CMG name {prefix} cannot be used in {region}: {}",
        why.join("; ")
    ))
    .with_hint(
        "choose another name prefix (a certificate with another CN) or region; nothing was created",
    ))
}

/// The resource providers a VMSS CMG deploys with must be registered.
fn preflight_providers(ctx: &Ctx, subscription: &str) -> Result<()> {
    let missing = azure::unregistered(ctx, subscription, crate::azure::model::CMG_PROVIDERS)?;
    if missing.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = missing
        .iter()
        .map(|(ns, state)| {
            format!(
                "{ns} ({})",
                if state.is_empty() { "unknown" } else { state }
            )
        })
        .collect();
    if ctx.is_plan() {
        // The run may register them first (azure::providers before cmg::ensure).
        ctx.output.note(&format!(
            "resource providers not registered yet in {subscription}: {}",
            list.join(", ")
        ));
        return Ok(());
    }
    Err(ModuleError::validation(format!(
        "the subscription {subscription} has resource providers a CMG needs that are not registered: {}",
        list.join(", ")
    ))
    .with_hint("register them first: azure::providers() (Contributor or Owner on the subscription)"))
}

fn preflight_group(ctx: &Ctx, subscription: &str, group: &str, region: &str) -> Result<()> {
    let id = format!("/subscriptions/{subscription}/resourceGroups/{group}");
    let found = ctx.block_on(ctx.read().arm().get_opt(&id, RESOURCES_API))?;
    match found {
        None if ctx.is_plan() => Ok(()),
        None => Err(
            ModuleError::not_found(format!("resource group {group} does not exist")).with_hint(
                format!("create it first: azure::resource_group(\"{group}\", \"{region}\")"),
            ),
        ),
        Some(g) => {
            let at = text(&g, "location");
            if at.eq_ignore_ascii_case(region) {
                Ok(())
            } else {
                Err(ModuleError::conflict(format!(
                    "resource group {group} is in {at}, not the CMG's region {region}"
                ))
                .with_hint("the CMG fails to deploy into a group in another region: use a group in the same region"))
            }
        }
    }
}

/// The site deploys with the server app: it needs Contributor (or Owner) on the group.
fn preflight_role(
    ctx: &Ctx,
    subscription: &str,
    group: &str,
    service: &AzureService,
) -> Result<()> {
    let Some(app_id) = service.server_app_id.value() else {
        return Ok(());
    };
    let Some(sp) = crate::entra::ops::sp_by_app_id(ctx, app_id)? else {
        return if ctx.is_plan() {
            Ok(())
        } else {
            Err(
                ModuleError::not_found(format!("the server app {app_id} has no service principal"))
                    .with_hint("run entra::server_app again: it makes the service principal"),
            )
        };
    };
    let sp_id = text(&sp, "id");
    let scope = format!("/subscriptions/{subscription}/resourceGroups/{group}");
    if azure::can_deploy(ctx, subscription, &scope, &sp_id)? {
        return Ok(());
    }
    if ctx.is_plan() {
        // The run may assign it first (azure::role_assignment before cmg::ensure).
        ctx.output.note(&format!(
            "the server app's service principal {sp_id} holds no Contributor or Owner role on {scope} yet"
        ));
        return Ok(());
    }
    Err(ModuleError::permission(format!(
        "the server app's service principal {sp_id} needs the Contributor role on {scope} to deploy the CMG"
    ))
    .with_hint(format!(
        "azure::role_assignment(server_app, \"Contributor\", #{{ resource_group: \"{group}\" }})"
    )))
}

fn immutable(observed: &Value, prop: &str, wanted: &str) -> Result<()> {
    let have = text(observed, prop);
    if have.is_empty() || have.eq_ignore_ascii_case(wanted) {
        return Ok(());
    }
    Err(ModuleError::conflict(format!(
        "the CMG {} has {prop} {have}, not {wanted}: a CMG cannot be moved",
        text(observed, "Name")
    ))
    .with_hint(format!(
        "use {prop} \"{have}\", or delete the CMG in the console and run again"
    )))
}

const PFX_PASSWORD_VAR: &str = "$PfxPassword";

fn pfx_prompt(pfx: &ServiceCert) -> String {
    format!(
        "{PFX_PASSWORD_VAR} = Read-Host -AsSecureString -Prompt {}",
        ps_quote(&format!("Password of {}", pfx.path.display()))
    )
}

#[allow(clippy::too_many_arguments)]
fn new_cmg_command(
    opts: &CmgOptions,
    pfx: &ServiceCert,
    service_name: &str,
    subscription: &str,
    region: &str,
    instances: u32,
    sku: &str,
    service: &AzureService,
) -> Equivalent {
    let b = |v: bool| if v { "$true" } else { "$false" };
    let mut cmd = format!(
        "New-CMCloudManagementGateway -ServiceCertPath {} -ServiceCertPassword {PFX_PASSWORD_VAR} -EnvironmentSetting AzurePublicCloud -SubscriptionId {} -GroupName {} -IsUsingExistingGroup $true -Region {} -ServiceName {} -VMInstanceCount {instances} -CheckClientCertRevocation {} -EnforceProtocol {} -EnableCloudDPFunction {} -TrafficWarningPct {} -TrafficCriticalPct {} -ServerAppClientId {}",
        ps_quote(&pfx.path.display().to_string()),
        ps_quote(subscription),
        ps_quote(&opts.resource_group),
        region,
        ps_quote(service_name),
        b(opts.verify_client_cert_revocation),
        b(opts.enforce_tls12),
        b(opts.allow_content),
        opts.alerts.warning_percent,
        opts.alerts.critical_percent,
        ps_quote(service.server_app_id.text()),
    );
    if !opts.description.is_empty() {
        cmd.push_str(&format!(" -Description {}", ps_quote(&opts.description)));
    }
    if let Some(gb) = opts.alerts.traffic_out_gb {
        cmd.push_str(&format!(" -EnableTrafficOut -TrafficOutGB {gb}"));
        if opts.alerts.stop_when_critical {
            cmd.push_str(" -TrafficOutStopService");
        }
    }
    if sku != "Standard_A2_v2" {
        // The cmdlet documents no VM size parameter (api-surface §9.2).
        cmd.push_str(&format!(
            " # then set VM size {sku} in the console: the cmdlet has no parameter for it"
        ));
    }
    Equivalent::powershell(cmd).with_prelude(pfx_prompt(pfx))
}

fn set_cmg_command(name: &str, instances: u32, pfx: Option<&ServiceCert>) -> Equivalent {
    let mut cmd = format!(
        "Set-CMCloudManagementGateway -Name {} -VMInstanceCount {instances}",
        ps_quote(name)
    );
    match pfx {
        Some(p) => {
            cmd.push_str(&format!(
                " -ServiceCertPath {} -ServiceCertPassword {PFX_PASSWORD_VAR}",
                ps_quote(&p.path.display().to_string())
            ));
            Equivalent::powershell(cmd).with_prelude(pfx_prompt(p))
        }
        None => Equivalent::powershell(cmd),
    }
}
