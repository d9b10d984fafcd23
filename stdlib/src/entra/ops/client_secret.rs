//! The server app's client secret (the wizard's "secret key"): kept while one with this
//! name is valid beyond the renewal window, else added with `addPassword`.

use super::directory::parse_time;
use super::MODULE;
use crate::change::{Action, Known, Op, Outcome, Resource, ResourceId, Written};
use crate::cloud::access::Writer;
use crate::context::Ctx;
use crate::entra::model::SecretOptions;
use crate::entra::objects::{str_of, ClientSecret, EntraApp};
use crate::error::{ModuleError, Result};
use crate::secret::Secret;
use serde_json::{json, Value};
use std::sync::Mutex;

pub struct AppSecret<'a> {
    pub app: &'a EntraApp,
    pub opts: &'a SecretOptions,
    pub now: time::OffsetDateTime,
    /// The text `addPassword` answered, taken out of the reply at once so it never
    /// sits in a JSON value that could be reported.
    made: Mutex<Option<Secret>>,
    /// Add a new secret even when a valid one exists: the site needs a secret whose
    /// text this run holds (Graph shows it only when it is made).
    force: bool,
    /// When the app's secrets expire: a new one never expires in the same millisecond as
    /// another, so its expiry (all a ConfigMgr site keeps of it) tells it apart.
    taken_ends: Mutex<Vec<time::OffsetDateTime>>,
}

impl<'a> AppSecret<'a> {
    pub fn new(app: &'a EntraApp, opts: &'a SecretOptions) -> Self {
        AppSecret {
            app,
            opts,
            now: time::OffsetDateTime::now_utc(),
            made: Mutex::new(None),
            force: false,
            taken_ends: Mutex::new(Vec::new()),
        }
    }

    /// A secret that is always added, whatever secrets the app holds.
    pub fn forced(app: &'a EntraApp, opts: &'a SecretOptions) -> Self {
        AppSecret {
            force: true,
            ..AppSecret::new(app, opts)
        }
    }

    fn end_date_time(&self) -> Result<String> {
        let end = self.now + time::Duration::days(365 * i64::from(self.opts.years));
        // Milliseconds: a ConfigMgr site keeps only a secret's expiry, so two secrets of
        // one app must never share it (not even a secret deleted since, made the same
        // second).
        let mut end = end
            .replace_nanosecond(u32::from(end.millisecond()) * 1_000_000)
            .unwrap_or(end);
        let taken = self.taken_ends.lock().unwrap_or_else(|p| p.into_inner());
        while taken.iter().any(|t| (*t - end).whole_milliseconds() == 0) {
            end += time::Duration::milliseconds(1);
        }
        end.format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| ModuleError::validation(format!("cannot format the expiry date: {e}")))
    }
}

impl Resource for AppSecret<'_> {
    type Output = ClientSecret;

    fn id(&self, _observed: Option<&Value>) -> ResourceId {
        ResourceId::new(
            MODULE,
            "client secret",
            format!("{}#{}", self.app.key, self.opts.display_name),
        )
        .label(format!(
            "{} ({})",
            self.app.display_name, self.opts.display_name
        ))
    }

    /// The newest secret with this name that stays valid past the renewal window.
    fn observe(&self, ctx: &Ctx) -> Result<Option<Value>> {
        let Some(id) = self.app.id.value() else {
            return Ok(None);
        };
        let current = ctx.block_on(ctx.read().graph().get(
            &format!("applications/{id}"),
            &[("$select", "id,passwordCredentials")],
        ))?;
        *self.taken_ends.lock().unwrap_or_else(|p| p.into_inner()) = current.body
            ["passwordCredentials"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| parse_time(&c["endDateTime"]))
            .collect();
        if self.force {
            return Ok(None);
        }
        let renew_after = self.now + time::Duration::days(i64::from(self.opts.renew_within_days));
        Ok(current.body["passwordCredentials"]
            .as_array()
            .and_then(|creds| {
                creds
                    .iter()
                    .filter(|c| c["displayName"].as_str() == Some(self.opts.display_name.as_str()))
                    .filter(|c| parse_time(&c["endDateTime"]).is_some_and(|end| end > renew_after))
                    .max_by_key(|c| parse_time(&c["endDateTime"]))
                    .cloned()
            }))
    }

    fn desired(&self, observed: Option<&Value>) -> Result<Value> {
        Ok(match observed {
            Some(c) => json!({"displayName": c["displayName"]}),
            None => json!({"passwordCredential": {
                "displayName": self.opts.display_name,
                "endDateTime": self.end_date_time()?,
            }}),
        })
    }

    fn create_action(&self) -> Action {
        Action::Invoke
    }

    fn unknown_fields(&self, _observed: Option<&Value>) -> Vec<&'static str> {
        vec!["keyId"]
    }

    async fn write(&self, w: &Writer<'_>, op: Op<'_>) -> Result<Written> {
        let (Op::Create { body }, Some(id)) = (op, self.app.id.value()) else {
            return Err(ModuleError::validation("the app does not exist yet"));
        };
        let r = w
            .graph()
            .post(&format!("applications/{id}/addPassword"), body)
            .await?;
        let mut state = r.body;
        let text = state
            .as_object_mut()
            .and_then(|m| m.remove("secretText"))
            .and_then(|v| v.as_str().map(Secret::new))
            .ok_or_else(|| ModuleError::remote("Graph addPassword answered without secretText"))?;
        *self.made.lock().unwrap_or_else(|p| p.into_inner()) = Some(text);
        let key_id = str_of(&state, "keyId");
        Ok(Written::new(state).id(key_id))
    }

    fn output(self, outcome: Outcome) -> Result<ClientSecret> {
        let made = self.made.lock().unwrap_or_else(|p| p.into_inner()).take();
        let secret = |c: &Value, value: Option<Secret>| ClientSecret {
            key_id: Known::Value(str_of(c, "keyId")),
            display_name: self.opts.display_name.clone(),
            end_date_time: str_of(c, "endDateTime"),
            years: self.opts.years,
            created: value.is_some(),
            value,
        };
        Ok(match outcome {
            Outcome::Unchanged(c) => secret(&c, None),
            Outcome::Applied { written, .. } => secret(&written.state, made),
            Outcome::Planned { desired, .. } => ClientSecret {
                key_id: Known::AfterApply,
                display_name: self.opts.display_name.clone(),
                end_date_time: str_of(&desired["passwordCredential"], "endDateTime"),
                years: self.opts.years,
                value: None,
                created: false,
            },
        })
    }
}
