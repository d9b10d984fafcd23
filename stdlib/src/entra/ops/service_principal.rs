//! An app's service principal, keyed by the app: created by upsert on its appId, so two
//! runs make one.

use super::MODULE;
use crate::change::{Known, Op, Outcome, Resource, ResourceId, Written};
use crate::cloud::access::Writer;
use crate::cloud::graph::odata_string;
use crate::context::Ctx;
use crate::entra::objects::{str_of, EntraApp};
use crate::error::{ModuleError, Result};
use serde_json::{json, Value};

pub struct ServicePrincipal {
    pub app: EntraApp,
}

impl Resource for ServicePrincipal {
    type Output = EntraApp;

    fn id(&self, _observed: Option<&Value>) -> ResourceId {
        ResourceId::new(MODULE, "service principal", &self.app.key)
            .label(format!("{} ({})", self.app.display_name, self.app.kind))
    }

    fn observe(&self, ctx: &Ctx) -> Result<Option<Value>> {
        match self.app.app_id.value() {
            Some(app_id) => super::directory::sp_by_app_id(ctx, app_id),
            None => Ok(None),
        }
    }

    fn desired(&self, observed: Option<&Value>) -> Result<Value> {
        Ok(match observed {
            Some(sp) => json!({"appId": sp["appId"]}),
            None => json!({
                "appId": self.app.app_id.value(),
                "displayName": self.app.display_name,
            }),
        })
    }

    fn unknown_fields(&self, observed: Option<&Value>) -> Vec<&'static str> {
        match (observed, self.app.app_id.is_known()) {
            (Some(_), _) => Vec::new(),
            (None, true) => vec!["id"],
            (None, false) => vec!["id", "appId"],
        }
    }

    async fn write(&self, w: &Writer<'_>, op: Op<'_>) -> Result<Written> {
        let app_id = self
            .app
            .app_id
            .value()
            .ok_or_else(|| ModuleError::validation("the app does not exist yet"))?;
        let Op::Create { .. } = op else {
            return Err(ModuleError::validation(
                "a service principal is never updated here",
            ));
        };
        let path = format!("servicePrincipals(appId={})", odata_string(app_id));
        let body = json!({"displayName": self.app.display_name});
        // A just-created app reaches the directory's replicas with a delay: the
        // upsert waits for it.
        let state = w.graph().upsert_object(&path, &body).await?;
        let id = str_of(&state, "id");
        Ok(Written::new(state).id(id))
    }

    fn output(mut self, outcome: Outcome) -> Result<EntraApp> {
        self.app.service_principal_id = match outcome {
            Outcome::Unchanged(sp) => Known::Value(str_of(&sp, "id")),
            Outcome::Applied { written, .. } => Known::Value(str_of(&written.state, "id")),
            Outcome::Planned { .. } => Known::AfterApply,
        };
        Ok(self.app)
    }
}
