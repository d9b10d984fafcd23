//! Operations on a CMG that exists: look it up, scale it, replace its certificate,
//! stop and start it, and read its status. Each goes through the site, as the console
//! does; the site then changes the scale set in Azure.

use super::follow;
use super::gateway::{certificate_secrets, finish, load_pfx, PfxSource, MODULE};
use crate::change::{
    ensure, Action, Equivalent, Known, Op, Outcome, Resource, ResourceId, Written,
};
use crate::cloud::access::Writer;
use crate::cmg::model::*;
use crate::cmg::objects::Cmg;
use crate::context::Ctx;
use crate::error::{ModuleError, Result};
use crate::secret::Secret;
use crate::site::objects::text;
use crate::site::ops::row::{ps_quote, WmiRow};
use serde_json::{json, Value};

/// The CMG with this service name.
pub fn get(ctx: &Ctx, name: &str) -> Result<Cmg> {
    let row = super::gateway::find(ctx, name)?.ok_or_else(|| {
        ModuleError::not_found(format!("the site has no CMG named {name}"))
            .with_hint("cmg::list() shows the site's CMGs")
    })?;
    let mut cmg = Cmg::from_row(&row);
    follow::azure_facts(ctx, &mut cmg)?;
    Ok(cmg)
}

/// Every CMG of the site.
pub fn list(ctx: &Ctx) -> Result<Vec<Cmg>> {
    let filter = format!("ServiceType eq '{CLOUD_PROXY_SERVICE}'");
    let admin = ctx.read().admin_service()?;
    let rows = ctx.block_on(admin.list(CMG_CLASS, &[("$filter", &filter)]));
    let rows = crate::site::ops::read_or_plan(ctx, rows, Vec::new)?;
    Ok(rows.iter().map(Cmg::from_row).collect())
}

/// The CMG's current row (a plan's planned CMG has none).
fn current(ctx: &Ctx, cmg: &Cmg) -> Result<Value> {
    let Some(id) = cmg.id.value() else {
        return Err(ModuleError::validation(format!(
            "the CMG {} does not exist yet (a plan that creates it)",
            cmg.name
        )));
    };
    follow::row(ctx, *id)
}

fn row_for(cmg: &Cmg, body: Value) -> WmiRow {
    let mut row = WmiRow::new(
        MODULE,
        "cloud management gateway",
        CMG_CLASS,
        ("Name", Known::Value(cmg.name.clone())),
        cmg.deployment_name.clone(),
        body,
    );
    row.key_prop = "AzureServiceID";
    row
}

/// Scale the CMG to `n` VM instances (1-16) and wait until the site reports it ready.
pub fn set_instances(ctx: &Ctx, cmg: &Cmg, n: i64, timeout: u64) -> Result<Cmg> {
    let n = check_instances(n)?;
    current(ctx, cmg)?;
    let mut row = row_for(cmg, json!({"NumberOfInstances": n}));
    row.update_equivalent = Some(Equivalent::powershell(format!(
        "Set-CMCloudManagementGateway -Name {} -VMInstanceCount {n}",
        ps_quote(&cmg.name)
    )));
    let planned = row.body.clone();
    let written = ensure(ctx, row)?;
    finish(ctx, written, &planned, timeout)
}

/// Replace the CMG's certificate with a renewed one for the same name.
pub fn replace_certificate(
    ctx: &Ctx,
    cmg: &Cmg,
    source: PfxSource,
    password: &Secret,
    timeout: u64,
) -> Result<Cmg> {
    let observed = current(ctx, cmg)?;
    let pfx = load_pfx(ctx, source, password)?;
    let cn = pfx.cert.common_name();
    let name = text(&observed, "Name");
    // The CMG keeps its service name: a new CN (even one differing only in case,
    // which breaks clients, §3.1) is a new CMG, not a new certificate.
    if !cn.eq_ignore_ascii_case(&name) && !crate::cmg::names::is_wildcard(&cn) {
        return Err(ModuleError::validation(format!(
            "the new certificate is for {cn}, but the CMG is {name}"
        ))
        .with_hint("a renewed certificate must have the CMG's service name as its CN"));
    }
    if cn != name && !crate::cmg::names::is_wildcard(&cn) {
        return Err(ModuleError::validation(format!(
            "the new certificate's CN {cn} differs in case from the CMG's service name {name}"
        ))
        .with_hint("request the certificate with exactly the same CN, case included: clients compare it as written"));
    }
    let thumbprint = pfx.cert.leaf.as_ref().map(|l| l.thumbprint.clone());
    let mut row = row_for(cmg, json!({ "ServiceThumbprint": thumbprint }));
    row.derived = vec!["ServiceThumbprint"];
    if let Some(bytes) = &pfx.bytes {
        row.secrets = certificate_secrets(bytes, password);
    }
    if thumbprint.is_none() {
        row.unknown = vec!["ServiceThumbprint"];
    }
    row.update_equivalent = Some(
        Equivalent::powershell(format!(
            "Set-CMCloudManagementGateway -Name {} -ServiceCertPath {} -ServiceCertPassword $PfxPassword",
            ps_quote(&cmg.name),
            ps_quote(&pfx.path.display().to_string())
        ))
        .with_prelude(format!(
            "$PfxPassword = Read-Host -AsSecureString -Prompt {}",
            ps_quote(&format!("Password of {}", pfx.path.display()))
        )),
    );
    let planned = row.body.clone();
    let written = ensure(ctx, row)?;
    finish(ctx, written, &planned, timeout)
}

/// Stop or start: the documented `Stop`/`Start` methods of `SMS_AzureService`.
struct Power<'a> {
    cmg: &'a Cmg,
    on: bool,
}

impl Power<'_> {
    fn wanted(&self) -> &'static str {
        if self.on {
            state_name(READY)
        } else {
            state_name(STOPPED)
        }
    }
}

impl Resource for Power<'_> {
    type Output = ();

    fn id(&self, _observed: Option<&Value>) -> ResourceId {
        ResourceId::new(MODULE, "CMG power state", self.cmg.name.clone())
            .label(self.cmg.deployment_name.clone())
    }

    fn observe(&self, ctx: &Ctx) -> Result<Option<Value>> {
        let row = current(ctx, self.cmg)?;
        let state = row["State"].as_i64().unwrap_or(-1);
        Ok(Some(json!({"State": state_name(state)})))
    }

    fn desired(&self, _observed: Option<&Value>) -> Result<Value> {
        Ok(json!({"State": self.wanted()}))
    }

    fn create_action(&self) -> Action {
        Action::Invoke
    }

    fn equivalent(&self) -> Option<Equivalent> {
        let verb = if self.on { "Start" } else { "Stop" };
        Some(Equivalent::powershell(format!(
            "{verb}-CMCloudManagementGateway -Name {}",
            ps_quote(&self.cmg.name)
        )))
    }

    async fn write(&self, w: &Writer<'_>, _op: Op<'_>) -> Result<Written> {
        let Some(id) = self.cmg.id.value() else {
            return Err(ModuleError::validation("the CMG does not exist yet"));
        };
        let method = if self.on { "Start" } else { "Stop" };
        let r = w
            .admin_service()?
            .invoke(
                &format!("{CMG_CLASS}({id})/AdminService.{method}"),
                &json!({}),
            )
            .await?;
        Ok(Written::new(
            json!({"State": self.wanted(), "reply": r.body}),
        ))
    }

    fn output(self, _outcome: Outcome) -> Result<()> {
        Ok(())
    }
}

/// Stop (`on` false) or start the CMG and wait until the site reports it so.
pub fn power(ctx: &Ctx, cmg: &Cmg, on: bool, timeout: u64) -> Result<Cmg> {
    ensure(ctx, Power { cmg, on })?;
    let Some(id) = cmg.id.value() else {
        return Ok(cmg.clone());
    };
    if ctx.is_plan() {
        return Ok(Cmg::from_row(&follow::row(ctx, *id)?));
    }
    let done = if on { READY } else { STOPPED };
    let row = follow::wait_for_state(ctx, *id, &[done], timeout)?;
    let mut out = Cmg::from_row(&row);
    follow::azure_facts(ctx, &mut out)?;
    Ok(out)
}

pub fn stop(ctx: &Ctx, cmg: &Cmg, timeout: u64) -> Result<Cmg> {
    power(ctx, cmg, false, timeout)
}

pub fn start(ctx: &Ctx, cmg: &Cmg, timeout: u64) -> Result<Cmg> {
    power(ctx, cmg, true, timeout)
}

/// The CMG as the site and Azure see it now.
pub fn status(ctx: &Ctx, cmg: &Cmg) -> Result<Cmg> {
    let mut out = Cmg::from_row(&current(ctx, cmg)?);
    follow::azure_facts(ctx, &mut out)?;
    Ok(out)
}
