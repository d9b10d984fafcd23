//! A CMG's CNAME record (service name -> deployment name, api-surface §10). In Azure
//! DNS it is a resource keyed by the record set's resource id and written by PUT of the
//! whole set (idempotent); the TTL and the target are compared, the target
//! case-insensitively. Without an Azure zone, nothing is written: the record to create
//! by hand is returned and printed, in a plan and a run alike.

use super::{zone_id, MODULE};
use crate::azure::model::check_resource_group_name;
use crate::change::{ensure, Op, Outcome, Resource, ResourceId, Written};
use crate::cloud::access::Writer;
use crate::context::Ctx;
use crate::dns::model::{bare, check_cname, record_text, relative_name, CnameOptions, DNS_API};
use crate::dns::objects::CnameRecord;
use crate::error::{ModuleError, Result};
use serde_json::{json, Value};

struct RecordSet {
    subscription: String,
    resource_group: String,
    zone: String,
    relative: String,
    service: String,
    target: String,
    ttl: i64,
}

impl RecordSet {
    fn zone_id(&self) -> String {
        zone_id(&self.subscription, &self.resource_group, &self.zone)
    }
    fn id(&self) -> String {
        format!("{}/CNAME/{}", self.zone_id(), self.relative)
    }
    fn record(&self, state: Option<&Value>) -> CnameRecord {
        let props = state.map(|s| &s["properties"]);
        let target = props
            .and_then(|p| p["CNAMERecord"]["cname"].as_str())
            .unwrap_or(&self.target)
            .trim_end_matches('.')
            .to_string();
        let ttl = props.and_then(|p| p["TTL"].as_i64()).unwrap_or(self.ttl);
        CnameRecord {
            name: self.service.clone(),
            record: record_text(&self.service, ttl, &target),
            target,
            ttl,
            // With one trailing dot, however the service writes it.
            fqdn: format!(
                "{}.",
                props
                    .and_then(|p| p["fqdn"].as_str())
                    .map(bare)
                    .unwrap_or(&self.service)
            ),
            managed: true,
            id: state
                .and_then(|s| s["id"].as_str())
                .map(str::to_string)
                .unwrap_or_else(|| self.id()),
        }
    }
}

impl Resource for RecordSet {
    type Output = CnameRecord;

    fn id(&self, _observed: Option<&Value>) -> ResourceId {
        ResourceId::new(MODULE, "CNAME record", self.id()).label(&self.service)
    }

    fn observe(&self, ctx: &Ctx) -> Result<Option<Value>> {
        let arm = ctx.read().arm();
        // The zone first: a record set in a zone that is not there is a clear error, not
        // ARM's ParentResourceNotFound after the plan said "create".
        if ctx
            .block_on(arm.get_opt(&self.zone_id(), DNS_API))?
            .is_none()
        {
            let missing = ModuleError::not_found(format!(
                "the Azure DNS zone {} is not in resource group {} (or the group does not exist)",
                self.zone, self.resource_group
            ))
            .with_hint(format!(
                "check `zone` and `resource_group`, or create the zone first: dns::zone(\"{}\", #{{ resource_group: \"{}\" }})",
                self.zone, self.resource_group
            ));
            if ctx.is_plan() {
                ctx.output.note(&format!(
                    "dns::cname: {} (planned as a create)",
                    missing.message
                ));
                return Ok(None);
            }
            return Err(missing);
        }
        ctx.block_on(arm.get_opt(&self.id(), DNS_API))
    }

    fn desired(&self, observed: Option<&Value>) -> Result<Value> {
        let props = observed.map(|o| &o["properties"]);
        // Same name in another case is the same target: keep what is there.
        let target = match props.and_then(|p| p["CNAMERecord"]["cname"].as_str()) {
            Some(c) if c.trim_end_matches('.').eq_ignore_ascii_case(&self.target) => c.to_string(),
            _ => self.target.clone(),
        };
        let mut body = json!({"properties": {"TTL": self.ttl, "CNAMERecord": {"cname": target}}});
        // A PUT replaces the set whole: keep its metadata.
        if let Some(m) = props
            .and_then(|p| p.get("metadata"))
            .filter(|m| m.as_object().is_some_and(|o| !o.is_empty()))
        {
            body["properties"]["metadata"] = m.clone();
        }
        Ok(body)
    }

    fn equivalent(&self) -> Option<crate::change::Equivalent> {
        let ttl = self.ttl.to_string();
        Some(crate::change::Equivalent::az(
            crate::azure::model::az_command(&[
                "network",
                "dns",
                "record-set",
                "cname",
                "set-record",
                "--subscription",
                &self.subscription,
                "--resource-group",
                &self.resource_group,
                "--zone-name",
                &self.zone,
                "--record-set-name",
                &self.relative,
                "--cname",
                &self.target,
                "--ttl",
                &ttl,
            ]),
        ))
    }

    async fn write(&self, w: &Writer<'_>, op: Op<'_>) -> Result<Written> {
        // A create and an update are the same PUT of the whole record set.
        let body = match op {
            Op::Create { body } => body,
            Op::Update { desired, .. } => desired,
        };
        let r = w.arm().put(&self.id(), DNS_API, body).await?;
        let id = r.body["id"].as_str().unwrap_or_default().to_string();
        Ok(Written::new(r.body).id(id))
    }

    fn output(self, outcome: Outcome) -> Result<CnameRecord> {
        Ok(match outcome {
            Outcome::Unchanged(v) => self.record(Some(&v)),
            Outcome::Applied { written, .. } => self.record(Some(&written.state)),
            Outcome::Planned { observed, desired } => {
                let mut r = self.record(Some(&desired));
                if let Some(o) = &observed {
                    r.fqdn = self.record(Some(o)).fqdn;
                }
                r
            }
        })
    }
}

/// The CNAME `service_name` -> `deployment_name`: ensured in Azure DNS when the options
/// name the zone and its resource group, else returned (and printed) to create by hand.
pub fn cname(
    ctx: &Ctx,
    service_name: &str,
    deployment_name: &str,
    opts: &CnameOptions,
) -> Result<CnameRecord> {
    let (service, target) = check_cname(service_name, deployment_name)?;
    let ttl = opts.ttl()?;
    let Some((zone, resource_group)) = opts.azure_zone()? else {
        if opts.subscription.is_some() {
            return Err(ModuleError::validation(
                "dns::cname: `subscription` is given without `zone` and `resource_group`",
            ));
        }
        let record = record_text(&service, ttl, &target);
        ctx.output.note(&format!(
            "dns::cname: no Azure DNS zone given, nothing written: create this record in the public DNS of {}: {record}",
            service.split_once('.').map(|(_, d)| d).unwrap_or(&service)
        ));
        return Ok(CnameRecord {
            fqdn: format!("{service}."),
            name: service,
            target,
            ttl,
            managed: false,
            record,
            id: String::new(),
        });
    };
    let relative = relative_name(&service, &zone)?;
    check_resource_group_name(&resource_group)?;
    let subscription = crate::azure::ops::subscription_id(ctx, opts.subscription.as_deref())?;
    ensure(
        ctx,
        RecordSet {
            subscription,
            resource_group,
            zone,
            relative,
            service,
            target,
            ttl,
        },
    )
}
