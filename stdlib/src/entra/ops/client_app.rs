//! The native client app registration. It has no unique key of its own, so one made
//! here gets a `uniqueName` derived from the server app's key and its display name,
//! and is created by upsert on it: concurrent runs make one app.

use super::app_body::{desired_app, union};
use super::server_app::{create_by_unique_name, update_app};
use super::MODULE;
use crate::change::{Op, Outcome, Resource, ResourceId, Written};
use crate::cloud::access::Writer;
use crate::cloud::graph::odata_string;
use crate::context::Ctx;
use crate::entra::model::{client_unique_name, ClientAppOptions};
use crate::entra::objects::{add_required, str_of, EntraApp, Permission};
use crate::error::{ModuleError, Result};
use serde_json::{json, Value};

const BROKER_PREFIX: &str = "ms-appx-web://Microsoft.AAD.BrokerPlugin/";

/// The Web Account Manager broker redirect, which carries the app's own appId.
pub fn broker_redirect(app_id: &str) -> String {
    format!("{BROKER_PREFIX}{app_id}")
}

pub struct ClientApp<'a> {
    pub opts: &'a ClientAppOptions,
    pub server: &'a EntraApp,
    pub required: Vec<Permission>,
}

impl ClientApp<'_> {
    fn unique_name(&self) -> String {
        client_unique_name(&self.server.key, &self.opts.display_name)
    }

    /// Found by `app_id` when the script adopts one; else by its `uniqueName`; else (an
    /// app made before uniqueNames were used) as the one app with this display name that
    /// asks for the server app's scope. A name alone is never enough.
    fn find_by_name_and_server(&self, ctx: &Ctx) -> Result<Option<Value>> {
        let Some(server_app_id) = self.server.app_id.value() else {
            return Ok(None);
        };
        let filter = format!("displayName eq {}", odata_string(&self.opts.display_name));
        let candidates = ctx.block_on(
            ctx.read()
                .graph()
                .list("applications", &[("$filter", &filter)]),
        )?;
        let mut ours: Vec<Value> = candidates
            .into_iter()
            .filter(|a| {
                a["requiredResourceAccess"].as_array().is_some_and(|r| {
                    r.iter()
                        .any(|x| x["resourceAppId"].as_str() == Some(server_app_id.as_str()))
                })
            })
            .collect();
        match ours.len() {
            0 => Ok(None),
            1 => Ok(Some(ours.swap_remove(0))),
            n => Err(ModuleError::conflict(format!(
                "{n} applications named {:?} ask for the server app {server_app_id}",
                self.opts.display_name
            ))
            .with_hint(format!(
                "pick one with `app_id: \"...\"`: {}",
                ours.iter()
                    .map(|a| str_of(a, "appId"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

impl Resource for ClientApp<'_> {
    type Output = EntraApp;

    fn id(&self, observed: Option<&Value>) -> ResourceId {
        ResourceId::new(MODULE, "client application", key_of(self, observed))
            .label(&self.opts.display_name)
    }

    fn observe(&self, ctx: &Ctx) -> Result<Option<Value>> {
        if let Some(app_id) = &self.opts.app_id {
            return match super::directory::app_by_app_id(ctx, app_id)? {
                Some(a) => Ok(Some(a)),
                None => Err(
                    ModuleError::not_found(format!("no application has appId {app_id}"))
                        .with_hint("remove `app_id` to create the client app, or check the id"),
                ),
            };
        }
        match super::directory::app_by_unique_name(ctx, &self.unique_name())? {
            Some(a) => Ok(Some(a)),
            None => self.find_by_name_and_server(ctx),
        }
    }

    fn desired(&self, observed: Option<&Value>) -> Result<Value> {
        let reply = &self.opts.reply_url;
        let mut redirects = vec![reply.clone()];
        if let Some(app_id) = observed.and_then(|o| o["appId"].as_str()) {
            redirects.push(broker_redirect(app_id));
        }
        let current_required = observed.map_or(json!([]), |o| o["requiredResourceAccess"].clone());
        // Unknown while a plan creates the server app: shown as known after apply.
        let required = add_required(&current_required, &self.required).unwrap_or(Value::Null);
        let mut wanted = json!({
            "uniqueName": self.unique_name(),
            "displayName": self.opts.display_name,
            "isFallbackPublicClient": true,
            "publicClient": {"redirectUris": redirects},
            "web": {"implicitGrantSettings": {"enableIdTokenIssuance": true}},
            "requiredResourceAccess": required,
        });
        if observed.is_none() {
            wanted["signInAudience"] = json!("AzureADMyOrg");
        }
        Ok(desired_app(&wanted, observed))
    }

    fn unknown_fields(&self, observed: Option<&Value>) -> Vec<&'static str> {
        let mut unknown = match observed {
            // The broker redirect carries the appId the create assigns.
            None => vec!["id", "appId", "publicClient.redirectUris"],
            Some(_) => Vec::new(),
        };
        if self
            .required
            .iter()
            .any(|p| !p.id.is_known() || !p.resource_app_id.is_known())
        {
            unknown.push("requiredResourceAccess");
        }
        unknown
    }

    async fn write(&self, w: &Writer<'_>, op: Op<'_>) -> Result<Written> {
        match op {
            Op::Create { body } => {
                // Two requests: the app, then the broker redirect its new appId names.
                let mut written = create_by_unique_name(w, &self.unique_name(), body).await?;
                let app_id = str_of(&written.state, "appId");
                let id = str_of(&written.state, "id");
                let uris = union(
                    &written.state["publicClient"]["redirectUris"],
                    &[self.opts.reply_url.clone(), broker_redirect(&app_id)],
                );
                let patch = json!({"publicClient": {"redirectUris": uris}});
                w.graph()
                    .patch(&format!("applications/{id}"), &patch)
                    .await?;
                written.state["publicClient"]["redirectUris"] =
                    patch["publicClient"]["redirectUris"].clone();
                Ok(written)
            }
            Op::Update {
                observed, patch, ..
            } => update_app(w, observed, patch).await,
        }
    }

    fn output(self, outcome: Outcome) -> Result<EntraApp> {
        let key = match &outcome {
            Outcome::Unchanged(v) => key_of(&self, Some(v)),
            Outcome::Applied { observed, .. } | Outcome::Planned { observed, .. } => {
                key_of(&self, observed.as_ref())
            }
        };
        let app =
            |v: &Value| EntraApp::from_graph(v, "client", key.clone(), None, self.required.clone());
        Ok(match outcome {
            Outcome::Unchanged(v) => app(&v),
            Outcome::Applied { written, .. } => app(&written.state),
            Outcome::Planned {
                observed: Some(v), ..
            } => app(&v),
            Outcome::Planned { observed: None, .. } => EntraApp::planned(
                "client",
                key,
                &self.opts.display_name,
                None,
                self.required.clone(),
            ),
        })
    }
}

/// The app's unique key: the `uniqueName` it was made with, or the appId of an app
/// adopted or made before uniqueNames were used.
fn key_of(r: &ClientApp<'_>, observed: Option<&Value>) -> String {
    match observed {
        Some(o) => o["uniqueName"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| str_of(o, "appId")),
        None => r.opts.app_id.clone().unwrap_or_else(|| r.unique_name()),
    }
}
