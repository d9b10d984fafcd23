//! An Azure DNS zone: keyed by its resource id, created by PUT (`location` `global`),
//! so two runs make one zone. The resource group must exist.

use super::{zone_id, MODULE};
use crate::azure::model::check_resource_group_name;
use crate::change::{ensure, Known, Op, Outcome, Resource, ResourceId, Written};
use crate::cloud::access::Writer;
use crate::context::Ctx;
use crate::dns::model::{check_zone_name, ZoneOptions, DNS_API};
use crate::dns::objects::DnsZone;
use crate::error::{ModuleError, Result};
use serde_json::{json, Value};

struct Zone {
    subscription: String,
    resource_group: String,
    name: String,
}

impl Zone {
    fn id(&self) -> String {
        zone_id(&self.subscription, &self.resource_group, &self.name)
    }
}

impl Resource for Zone {
    type Output = DnsZone;

    fn id(&self, _observed: Option<&Value>) -> ResourceId {
        ResourceId::new(MODULE, "DNS zone", self.id()).label(&self.name)
    }

    fn observe(&self, ctx: &Ctx) -> Result<Option<Value>> {
        ctx.block_on(ctx.read().arm().get_opt(&self.id(), DNS_API))
    }

    fn desired(&self, _observed: Option<&Value>) -> Result<Value> {
        Ok(json!({"location": "global"}))
    }

    fn unknown_fields(&self, observed: Option<&Value>) -> Vec<&'static str> {
        match observed {
            None => vec!["properties.nameServers"],
            Some(_) => Vec::new(),
        }
    }

    fn equivalent(&self) -> Option<crate::change::Equivalent> {
        Some(crate::change::Equivalent::az(
            crate::azure::model::az_command(&[
                "network",
                "dns",
                "zone",
                "create",
                "--subscription",
                &self.subscription,
                "--resource-group",
                &self.resource_group,
                "--name",
                &self.name,
            ]),
        ))
    }

    async fn write(&self, w: &Writer<'_>, op: Op<'_>) -> Result<Written> {
        let body = match op {
            Op::Create { body } => body,
            Op::Update { desired, .. } => desired,
        };
        let r = w.arm().put(&self.id(), DNS_API, body).await.map_err(|e| {
            if e.remote_code.as_deref() == Some("ResourceGroupNotFound") {
                e.with_hint(format!(
                    "create the resource group first: azure::resource_group(\"{}\", region)",
                    self.resource_group
                ))
            } else {
                e
            }
        })?;
        let id = r.body["id"].as_str().unwrap_or_default().to_string();
        Ok(Written::new(r.body).id(id))
    }

    fn output(self, outcome: Outcome) -> Result<DnsZone> {
        Ok(match outcome {
            Outcome::Unchanged(v) => DnsZone::from_arm(&v, &self.resource_group),
            Outcome::Applied { written, .. } => {
                DnsZone::from_arm(&written.state, &self.resource_group)
            }
            Outcome::Planned { observed, .. } => match observed {
                Some(o) => DnsZone::from_arm(&o, &self.resource_group),
                None => DnsZone {
                    id: self.id(),
                    name: self.name.clone(),
                    resource_group: self.resource_group.clone(),
                    name_servers: Known::AfterApply,
                },
            },
        })
    }
}

/// Ensure the Azure DNS zone `name` exists in the resource group the options name.
pub fn ensure_zone(ctx: &Ctx, name: &str, opts: &ZoneOptions) -> Result<DnsZone> {
    let name = check_zone_name(name)?;
    let resource_group = opts.resource_group.clone().ok_or_else(|| {
        ModuleError::validation("dns::zone: `resource_group` is required")
            .with_hint("the resource group the zone is in, e.g. #{ resource_group: \"dns-rg\" }")
    })?;
    check_resource_group_name(&resource_group)?;
    let subscription = crate::azure::ops::subscription_id(ctx, opts.subscription.as_deref())?;
    ensure(
        ctx,
        Zone {
            subscription,
            resource_group,
            name,
        },
    )
}
