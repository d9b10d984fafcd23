//! "Run Full Discovery Now" for Entra user discovery, and waiting for the site to
//! finish it. The product documents no API for running discovery now (api-surface
//! §8.2): the method `RunUserDiscovery` on the Azure service row and the
//! `LastUserDiscovery*` properties it is followed by are emulated at the property
//! level, UNCONFIRMED.

use super::row::ps_quote;
use super::MODULE;
use crate::change::{ensure, Action, Equivalent, Op, Outcome, Resource, ResourceId, Written};
use crate::cloud::access::Writer;
use crate::context::Ctx;
use crate::error::{ModuleError, Result};
use crate::site::model::{CLOUD_SERVICE_CLASS, USER_CLASS};
use crate::site::objects::{text, AzureService, Discovery};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Options of `site::run_discovery`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscoveryOptions {
    /// Seconds to wait for the site to finish.
    #[serde(default = "fifteen_minutes")]
    pub timeout: u64,
    /// Run even when the last run succeeded and nothing changed since.
    #[serde(default)]
    pub force: bool,
}

fn fifteen_minutes() -> u64 {
    900
}

impl Default for DiscoveryOptions {
    fn default() -> Self {
        DiscoveryOptions {
            timeout: fifteen_minutes(),
            force: false,
        }
    }
}

/// The trigger, as a one-off action: a plan shows it, apply runs it.
struct Trigger<'a> {
    service: &'a AzureService,
    path: String,
}

impl Resource for Trigger<'_> {
    type Output = ();

    fn id(&self, _observed: Option<&Value>) -> ResourceId {
        ResourceId::new(
            MODULE,
            "full user discovery",
            format!("{}/RunUserDiscovery", self.path),
        )
        .label(self.service.name.clone())
    }

    fn observe(&self, _ctx: &Ctx) -> Result<Option<Value>> {
        Ok(None)
    }

    fn desired(&self, _observed: Option<&Value>) -> Result<Value> {
        Ok(json!({"Full": true}))
    }

    fn create_action(&self) -> Action {
        Action::Invoke
    }

    fn equivalent(&self) -> Option<Equivalent> {
        Some(Equivalent::powershell(format!(
            "# no cmdlet runs Entra user discovery now: console > Administration > Cloud Services > Azure Services > {} > Microsoft Entra user Discovery > Run Full Discovery Now",
            ps_quote(&self.service.name)
        )))
    }

    async fn write(&self, w: &Writer<'_>, op: Op<'_>) -> Result<Written> {
        let Op::Create { body } = op else {
            return Err(ModuleError::validation("discovery is only ever started"));
        };
        let admin = w.admin_service()?;
        let r = admin
            .invoke(
                &format!("{}/AdminService.RunUserDiscovery", self.path),
                body,
            )
            .await?;
        Ok(Written::new(r.body))
    }

    fn output(self, _outcome: Outcome) -> Result<()> {
        Ok(())
    }
}

/// Start a full user discovery and wait until the site reports how it ended.
pub fn run_discovery(
    ctx: &Ctx,
    service: &AzureService,
    kind: &str,
    opts: &DiscoveryOptions,
) -> Result<Option<Discovery>> {
    if !kind.eq_ignore_ascii_case("user") {
        return Err(ModuleError::validation(format!(
            "site::run_discovery: kind must be \"user\", not {kind:?}"
        ))
        .with_hint(
            "Entra group discovery is not part of the tutorial; only user discovery is supported",
        ));
    }
    if !service.user_discovery {
        return Err(ModuleError::validation(format!(
            "site::run_discovery: user discovery is off on the Azure service {:?}",
            service.name
        ))
        .with_hint("pass user_discovery: true to site::azure_service"));
    }
    let Some(id) = service.id.value().copied() else {
        // A plan that creates the service: the run would start discovery after it.
        ensure(
            ctx,
            Trigger {
                service,
                path: format!("{CLOUD_SERVICE_CLASS}(?)"),
            },
        )?;
        return Ok(None);
    };
    let path = format!("{CLOUD_SERVICE_CLASS}({id})");
    let admin = ctx.read().admin_service()?;
    let before = ctx
        .block_on(admin.get_opt(&path))?
        .ok_or_else(|| ModuleError::not_found(format!("the Azure service {path} is gone")))?;
    let before_time = text(&before, "LastUserDiscoveryTime");
    // A run that succeeded since the service last changed is the answer: a re-run of
    // a runbook starts no discovery.
    if !opts.force && !service.changed && text(&before, "LastUserDiscoveryStatus") == "Succeeded" {
        return Ok(Some(discovery_of(ctx, service, &before)?));
    }
    ensure(
        ctx,
        Trigger {
            service,
            path: path.clone(),
        },
    )?;
    if ctx.is_plan() {
        return Ok(None);
    }

    let deadline = Instant::now() + Duration::from_secs(opts.timeout.max(1));
    let mut pause = Duration::from_millis(200);
    // Done when the finish time moves, or the run was seen running and has ended.
    let mut seen_running = false;
    let row = loop {
        let row = ctx
            .block_on(admin.get_opt(&path))?
            .ok_or_else(|| ModuleError::not_found(format!("the Azure service {path} is gone")))?;
        let status = text(&row, "LastUserDiscoveryStatus");
        let finished = text(&row, "LastUserDiscoveryTime");
        let ended = status == "Succeeded" || status == "Failed";
        if ended && (finished != before_time || seen_running) {
            break row;
        }
        seen_running |= status == "Running";
        if Instant::now() >= deadline {
            return Err(ModuleError::remote(format!(
                "user discovery on {:?} did not finish within {} s (last status {:?})",
                service.name,
                opts.timeout,
                if status.is_empty() { "none" } else { &status }
            ))
            .with_hint(
                "check SMS_AZUREAD_DISCOVERY_AGENT.log on the site server, then run again",
            ));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_secs(10));
    };

    if text(&row, "LastUserDiscoveryStatus") == "Failed" {
        return Err(ModuleError::remote(format!(
            "user discovery on {:?} failed: {}",
            service.name,
            text(&row, "StatusDetails")
        ))
        .with_hint("SMS_AZUREAD_DISCOVERY_AGENT.log says why; a secret the site holds that Entra refuses is replaced by running site::azure_service again"));
    }
    Ok(Some(discovery_of(ctx, service, &row)?))
}

/// How the last run ended, from the service's row.
fn discovery_of(ctx: &Ctx, service: &AzureService, row: &Value) -> Result<Discovery> {
    let admin = ctx.read().admin_service()?;
    // The count the run reported; else the users the site holds from the tenant.
    let users = match row["LastUserDiscoveryCount"].as_i64() {
        Some(n) => n,
        None => {
            let filter = format!("AADTenantID eq '{}'", service.tenant_id.replace('\'', "''"));
            let rows = ctx.block_on(admin.list(
                USER_CLASS,
                &[("$filter", &filter), ("$select", "ResourceID")],
            ))?;
            rows.len() as i64
        }
    };
    Ok(Discovery {
        service: service.name.clone(),
        kind: "user".into(),
        status: text(row, "LastUserDiscoveryStatus"),
        users,
        finished: text(row, "LastUserDiscoveryTime"),
    })
}
