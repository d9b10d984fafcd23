//! The server (web) app registration: found by its identifier URI, created by upsert
//! on a `uniqueName` derived from that URI, so concurrent runs make one app.

use super::app_body::{desired_app, user_impersonation_scope, with_user_impersonation};
use super::MODULE;
use crate::change::{merge, Known, Op, Outcome, Resource, ResourceId, Written};
use crate::cloud::access::Writer;
use crate::cloud::graph::odata_string;
use crate::context::Ctx;
use crate::entra::model::{check_app_id_uri, server_unique_name, ServerAppOptions, TenantFacts};
use crate::entra::objects::{add_required, scope_id_of, str_of, EntraApp, Permission};
use crate::error::{ModuleError, Result};
use serde_json::{json, Value};

pub struct ServerApp<'a> {
    pub opts: &'a ServerAppOptions,
    /// The identifier URI, expanded and checked: the app's unique key.
    pub uri: String,
    pub required: Vec<Permission>,
    /// The id a new `user_impersonation` scope gets (Graph takes client-made scope ids).
    pub new_scope_id: String,
    /// For the identifier URI rules, checked against the app found (its appId may
    /// appear in the URI).
    pub tenant: TenantFacts,
}

impl ServerApp<'_> {
    fn unique_name(&self) -> String {
        server_unique_name(&self.uri)
    }
}

impl Resource for ServerApp<'_> {
    type Output = EntraApp;

    fn id(&self, _observed: Option<&Value>) -> ResourceId {
        ResourceId::new(MODULE, "server application", &self.uri).label(&self.opts.display_name)
    }

    fn observe(&self, ctx: &Ctx) -> Result<Option<Value>> {
        super::directory::app_by_identifier_uri(ctx, &self.uri)
    }

    fn desired(&self, observed: Option<&Value>) -> Result<Value> {
        check_app_id_uri(
            &self.uri,
            &self.tenant,
            observed.and_then(|o| o["appId"].as_str()),
        )?;
        let home = &self.opts.home_page_url;
        let name = &self.opts.display_name;
        let scopes = with_user_impersonation(
            observed.map_or(&Value::Null, |o| &o["api"]["oauth2PermissionScopes"]),
            || user_impersonation_scope(&self.new_scope_id, name),
        );
        let current_required = observed.map_or(json!([]), |o| o["requiredResourceAccess"].clone());
        let required = add_required(&current_required, &self.required).ok_or_else(|| {
            ModuleError::validation("the server app's permissions are not resolved")
        })?;
        let mut wanted = json!({
            "uniqueName": self.unique_name(),
            "displayName": name,
            "identifierUris": [self.uri],
            "web": {
                "homePageUrl": home,
                "redirectUris": [home],
                "implicitGrantSettings": {"enableIdTokenIssuance": true},
            },
            "api": {"oauth2PermissionScopes": scopes},
            "requiredResourceAccess": required,
        });
        if observed.is_none() {
            // Single tenant, as the wizard creates it; an existing app's audience is the
            // admin's choice and is left alone.
            wanted["signInAudience"] = json!("AzureADMyOrg");
        }
        Ok(desired_app(&wanted, observed))
    }

    fn unknown_fields(&self, observed: Option<&Value>) -> Vec<&'static str> {
        match observed {
            None => vec!["id", "appId"],
            Some(_) => Vec::new(),
        }
    }

    async fn write(&self, w: &Writer<'_>, op: Op<'_>) -> Result<Written> {
        match op {
            Op::Create { body } => create_by_unique_name(w, &self.unique_name(), body).await,
            Op::Update {
                observed, patch, ..
            } => update_app(w, observed, patch).await,
        }
    }

    fn output(self, outcome: Outcome) -> Result<EntraApp> {
        let app = |v: &Value| {
            EntraApp::from_graph(
                v,
                "server",
                self.uri.clone(),
                Some(self.uri.clone()),
                self.required.clone(),
            )
        };
        Ok(match outcome {
            Outcome::Unchanged(v) => app(&v),
            Outcome::Applied { written, .. } => app(&written.state),
            Outcome::Planned {
                observed: Some(v), ..
            } => {
                let mut a = app(&v);
                // A scope the plan would add gets its id at apply.
                if scope_id_of(&v).is_none() {
                    a.scope_id = Some(Known::AfterApply);
                }
                a
            }
            Outcome::Planned { observed: None, .. } => EntraApp::planned(
                "server",
                self.uri.clone(),
                &self.opts.display_name,
                Some(self.uri.clone()),
                self.required.clone(),
            ),
        })
    }
}

/// Create an app by upsert on its `uniqueName`. A 204 means another run created it
/// first and our body was applied to it as an update: read it back.
pub async fn create_by_unique_name(
    w: &Writer<'_>,
    unique_name: &str,
    body: &Value,
) -> Result<Written> {
    let path = format!("applications(uniqueName={})", odata_string(unique_name));
    let mut body = body.clone();
    if let Some(m) = body.as_object_mut() {
        // The key is in the URL; Graph sets the property from it.
        m.remove("uniqueName");
    }
    let state = w.graph().upsert_object(&path, &body).await?;
    let id = str_of(&state, "id");
    Ok(Written::new(state).id(id))
}

/// PATCH the changed top-level properties of an app by its object id.
pub async fn update_app(w: &Writer<'_>, observed: &Value, patch: &Value) -> Result<Written> {
    let id = str_of(observed, "id");
    w.graph()
        .patch(&format!("applications/{id}"), patch)
        .await?;
    Ok(Written::new(merge(observed, patch)).id(id))
}
