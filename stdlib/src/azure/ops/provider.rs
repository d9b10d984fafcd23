//! Resource provider registration: observed by `GET …/providers/{ns}`, written by
//! `POST …/register`, then followed (polling under a deadline) until `Registered`.

use super::MODULE;
use crate::azure::model::{ProvidersOptions, RESOURCES_API};
use crate::azure::objects::Provider;
use crate::change::{ensure, Op, Outcome, Resource, ResourceId, Written};
use crate::cloud::access::Writer;
use crate::context::Ctx;
use crate::error::{ErrorKind, ModuleError, Result};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Registration takes minutes in Azure; a run waits this long at most, then says so.
const REGISTRATION_DEADLINE: Duration = Duration::from_secs(15 * 60);

const REGISTERED: &str = "Registered";

struct ProviderRegistration {
    subscription: String,
    namespace: String,
}

impl ProviderRegistration {
    fn path(&self) -> String {
        format!(
            "subscriptions/{}/providers/{}",
            self.subscription, self.namespace
        )
    }
}

fn state_of(v: &Value) -> &str {
    v["registrationState"].as_str().unwrap_or_default()
}

impl Resource for ProviderRegistration {
    type Output = Provider;

    fn id(&self, _observed: Option<&Value>) -> ResourceId {
        ResourceId::new(MODULE, "resource provider", format!("/{}", self.path()))
            .label(&self.namespace)
    }

    fn observe(&self, ctx: &Ctx) -> Result<Option<Value>> {
        let r = ctx
            .block_on(ctx.read().arm().get(&self.path(), RESOURCES_API))
            .map_err(|e| match e.kind {
                ErrorKind::NotFound => super::hinted(
                    e,
                    format!(
                        "`{}` is not a resource provider ARM knows; check its spelling (e.g. Microsoft.KeyVault)",
                        self.namespace
                    ),
                ),
                _ => e,
            })?;
        let b = r.body;
        Ok(Some(json!({
            "id": b["id"],
            "namespace": b["namespace"],
            "registrationState": b["registrationState"],
        })))
    }

    fn desired(&self, _observed: Option<&Value>) -> Result<Value> {
        Ok(json!({"registrationState": REGISTERED}))
    }

    fn equivalent(&self) -> Option<crate::change::Equivalent> {
        Some(crate::change::Equivalent::az(
            crate::azure::model::az_command(&[
                "provider",
                "register",
                "--subscription",
                &self.subscription,
                "--namespace",
                &self.namespace,
                "--wait",
            ]),
        ))
    }

    async fn write(&self, w: &Writer<'_>, op: Op<'_>) -> Result<Written> {
        let observed = match op {
            Op::Update { observed, .. } => observed,
            Op::Create { .. } => &Value::Null,
        };
        let path = self.path();
        // A registration already under way is only waited for.
        if state_of(observed) != "Registering" {
            w.arm()
                .post(&format!("{path}/register"), RESOURCES_API, &Value::Null)
                .await
                .map_err(|e| match e.kind {
                    ErrorKind::Permission => super::hinted(
                        e,
                        format!(
                            "registering {} needs `{}/register/action` on the subscription (Contributor or Owner have it)",
                            self.namespace, self.namespace
                        ),
                    ),
                    _ => e,
                })?;
        }
        let policy = w.arm().policy().clone();
        let deadline = policy.deadline.min(REGISTRATION_DEADLINE);
        let started = Instant::now();
        loop {
            let now = w.arm().get(&path, RESOURCES_API).await?.body;
            if state_of(&now) == REGISTERED {
                let id = now["id"].as_str().unwrap_or_default().to_string();
                return Ok(Written::new(json!({
                    "id": now["id"],
                    "namespace": now["namespace"],
                    "registrationState": REGISTERED,
                }))
                .id(id));
            }
            if started.elapsed() >= deadline {
                return Err(ModuleError::new(
                    ErrorKind::Remote,
                    format!(
                        "resource provider {} is still {} after {} s",
                        self.namespace,
                        state_of(&now),
                        started.elapsed().as_secs()
                    ),
                )
                .with_hint("Azure goes on registering it: run the script again later"));
            }
            tokio::time::sleep(policy.poll_interval).await;
        }
    }

    fn output(self, outcome: Outcome) -> Result<Provider> {
        let v = match &outcome {
            Outcome::Unchanged(v) => v,
            Outcome::Applied { written, .. } => &written.state,
            Outcome::Planned { observed, .. } => observed.as_ref().unwrap_or(&Value::Null),
        };
        Ok(Provider {
            namespace: v["namespace"]
                .as_str()
                .unwrap_or(&self.namespace)
                .to_string(),
            registration_state: state_of(v).to_string(),
        })
    }
}

/// Ensure each namespace is registered in the subscription, in order.
pub fn ensure_providers(ctx: &Ctx, opts: &ProvidersOptions) -> Result<Vec<Provider>> {
    let namespaces = opts.namespaces()?;
    let subscription = super::subscription_id(ctx, opts.subscription.as_deref())?;
    namespaces
        .into_iter()
        .map(|namespace| {
            ensure(
                ctx,
                ProviderRegistration {
                    subscription: subscription.clone(),
                    namespace,
                },
            )
        })
        .collect()
}

/// The namespaces of `namespaces` that are not `Registered` in the subscription (reads
/// only), with their state.
pub fn unregistered(
    ctx: &Ctx,
    subscription: &str,
    namespaces: &[&str],
) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for ns in namespaces {
        let path = format!("subscriptions/{subscription}/providers/{ns}");
        let v = ctx
            .block_on(ctx.read().arm().get(&path, RESOURCES_API))?
            .body;
        let state = state_of(&v);
        if state != "Registered" {
            out.push((ns.to_string(), state.to_string()));
        }
    }
    Ok(out)
}
