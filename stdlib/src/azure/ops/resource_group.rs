//! A resource group: keyed by its resource id, created or updated by PUT (idempotent:
//! two runs make one group). ARM cannot move a group, so one that exists in another
//! region is an error before anything is sent. Tags are merged: the ones named are
//! set, others the group carries are kept (a PUT replaces them all, so the body
//! carries them).

use super::MODULE;
use crate::azure::model::{check_resource_group_name, ResourceGroupOptions, RESOURCES_API};
use crate::azure::objects::{tags_of, ResourceGroup};
use crate::change::{ensure, Op, Outcome, Resource, ResourceId, Written};
use crate::cloud::access::Writer;
use crate::cmg::names::validate_region;
use crate::context::Ctx;
use crate::error::{ModuleError, Result};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

struct Group<'a> {
    subscription: String,
    name: String,
    region: String,
    tags: Option<&'a BTreeMap<String, String>>,
}

impl Group<'_> {
    fn id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}",
            self.subscription, self.name
        )
    }
}

impl Resource for Group<'_> {
    type Output = ResourceGroup;

    fn id(&self, _observed: Option<&Value>) -> ResourceId {
        ResourceId::new(MODULE, "resource group", self.id()).label(&self.name)
    }

    fn observe(&self, ctx: &Ctx) -> Result<Option<Value>> {
        ctx.block_on(ctx.read().arm().get_opt(&self.id(), RESOURCES_API))
    }

    fn desired(&self, observed: Option<&Value>) -> Result<Value> {
        if let Some(o) = observed {
            let at = o["location"].as_str().unwrap_or_default();
            if !at.eq_ignore_ascii_case(&self.region) {
                return Err(ModuleError::conflict(format!(
                    "resource group {} exists in {at}, not {}",
                    self.name, self.region
                ))
                .with_hint(format!(
                    "ARM cannot move a resource group: use region \"{at}\", or another group name"
                )));
            }
        }
        let mut tags: Map<String, Value> = observed
            .map(|o| tags_of(o).into_iter().map(|(k, v)| (k, json!(v))).collect())
            .unwrap_or_default();
        for (k, v) in self.tags.into_iter().flatten() {
            tags.insert(k.clone(), json!(v));
        }
        let mut body = json!({"location": self.region});
        if observed.is_some() || !tags.is_empty() {
            body["tags"] = Value::Object(tags);
        }
        Ok(body)
    }

    fn unknown_fields(&self, observed: Option<&Value>) -> Vec<&'static str> {
        match observed {
            None => vec!["properties.provisioningState"],
            Some(_) => Vec::new(),
        }
    }

    fn equivalent(&self) -> Option<crate::change::Equivalent> {
        let tags: Vec<String> = self
            .tags
            .into_iter()
            .flatten()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let mut args = vec![
            "group",
            "create",
            "--subscription",
            &self.subscription,
            "--name",
            &self.name,
            "--location",
            &self.region,
        ];
        if !tags.is_empty() {
            args.push("--tags");
            args.extend(tags.iter().map(String::as_str));
        }
        Some(crate::change::Equivalent::az(
            crate::azure::model::az_command(&args),
        ))
    }

    async fn write(&self, w: &Writer<'_>, op: Op<'_>) -> Result<Written> {
        // A create and an update are the same PUT of the whole group.
        let body = match op {
            Op::Create { body } => body,
            Op::Update { desired, .. } => desired,
        };
        let r = w
            .arm()
            .put(&self.id(), RESOURCES_API, body)
            .await
            .map_err(|e| {
                // Another run made the group elsewhere between our read and this PUT.
                if e.remote_code.as_deref() == Some("InvalidResourceGroupLocation") {
                    super::hinted(
                        e,
                        "ARM cannot move a resource group: use the region it is in, or another group name",
                    )
                } else {
                    e
                }
            })?;
        let id = r.body["id"].as_str().unwrap_or_default().to_string();
        Ok(Written::new(r.body).id(id))
    }

    fn output(self, outcome: Outcome) -> Result<ResourceGroup> {
        Ok(match outcome {
            Outcome::Unchanged(v) => ResourceGroup::from_arm(&v),
            Outcome::Applied { written, .. } => ResourceGroup::from_arm(&written.state),
            Outcome::Planned { observed, desired } => {
                let mut g = ResourceGroup::from_arm(&desired);
                g.id = observed
                    .as_ref()
                    .and_then(|o| o["id"].as_str())
                    .map(str::to_string)
                    .unwrap_or_else(|| self.id());
                g.name = observed
                    .as_ref()
                    .and_then(|o| o["name"].as_str())
                    .unwrap_or(&self.name)
                    .to_string();
                g.provisioning_state = match &observed {
                    Some(o) => o["properties"]["provisioningState"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    None => crate::change::Known::<String>::AfterApply
                        .text()
                        .to_string(),
                };
                g
            }
        })
    }
}

/// Ensure resource group `name` exists in `region` with the tags asked for.
pub fn ensure_resource_group(
    ctx: &Ctx,
    name: &str,
    region: &str,
    opts: &ResourceGroupOptions,
) -> Result<ResourceGroup> {
    check_resource_group_name(name)?;
    let region = validate_region(region)?;
    let subscription = super::subscription_id(ctx, opts.subscription.as_deref())?;
    ensure(
        ctx,
        Group {
            subscription,
            name: name.to_string(),
            region,
            tags: opts.tags.as_ref(),
        },
    )
}
