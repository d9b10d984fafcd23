//! ARM long-running operations as a pure state machine: what the first answer says about
//! how to follow the operation, and what each poll answer means. The ARM client does
//! the HTTP; this file decides, so every rule is unit-tested without a server.
//!
//! Rules (Azure REST API guidelines, as the Azure SDKs implement them):
//! - an `Azure-AsyncOperation` header names a status resource answering
//!   `{"status":"InProgress|Succeeded|Failed|Canceled","error":{…}}`;
//! - otherwise a `202` with `Location` is polled: `202` while running, then `200`/`204`
//!   with the result;
//! - otherwise a PUT/PATCH answering `200`/`201` whose `properties.provisioningState` is
//!   not terminal is followed by reading the resource until it is;
//! - when done, PUT and PATCH read the resource itself; POST reads `Location` if it had
//!   one; DELETE has no result.

use crate::error::{ErrorKind, ModuleError};
use reqwest::Method;
use serde_json::Value;
use std::time::Duration;
use url::Url;

/// How operations are polled and for how long.
#[derive(Debug, Clone)]
pub struct LroPolicy {
    /// Wait between polls when the service gives no `Retry-After`.
    pub poll_interval: Duration,
    /// Longest wait between polls, whatever `Retry-After` says.
    pub max_interval: Duration,
    /// The operation must finish within this; otherwise the call fails (the operation
    /// may still finish in Azure; re-running the script picks it up).
    pub deadline: Duration,
}

impl Default for LroPolicy {
    fn default() -> Self {
        LroPolicy {
            poll_interval: Duration::from_secs(5),
            max_interval: Duration::from_secs(60),
            // A CMG's scale set and key vault can take tens of minutes.
            deadline: Duration::from_secs(60 * 60),
        }
    }
}

impl LroPolicy {
    /// The wait before the next poll: `Retry-After` when given (but never a busy loop),
    /// otherwise the poll interval; never more than `max_interval`.
    pub fn next_wait(&self, retry_after: Option<Duration>) -> Duration {
        let floor = self.poll_interval.min(Duration::from_secs(1));
        retry_after
            .map(|r| r.max(floor))
            .unwrap_or(self.poll_interval)
            .min(self.max_interval)
    }
}

/// Where an operation's progress is read.
#[derive(Debug, Clone, PartialEq)]
pub enum Monitor {
    AsyncOperation(Url),
    Location(Url),
    ProvisioningState(Url),
}

impl Monitor {
    pub fn url(&self) -> &Url {
        match self {
            Monitor::AsyncOperation(u) | Monitor::Location(u) | Monitor::ProvisioningState(u) => u,
        }
    }
}

/// A running operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub monitor: Monitor,
    /// What to read once it succeeded; `None` means the last poll answer is the result.
    pub final_get: Option<Url>,
}

/// What the first answer means.
#[derive(Debug, Clone, PartialEq)]
pub enum Begin {
    /// Finished; the first answer is the result.
    Done,
    Running(Operation),
}

/// Decide from the first answer of `method` on `request_url`. `async_operation` and
/// `location` are the already-parsed headers.
pub fn begin(
    method: &Method,
    request_url: &Url,
    status: u16,
    async_operation: Option<Url>,
    location: Option<Url>,
    body: &Value,
) -> Begin {
    let reads_resource = *method == Method::PUT || *method == Method::PATCH;
    if let Some(op) = async_operation {
        let final_get = if reads_resource {
            Some(request_url.clone())
        } else if *method == Method::POST {
            location
        } else {
            None
        };
        return Begin::Running(Operation {
            monitor: Monitor::AsyncOperation(op),
            final_get,
        });
    }
    if status == 202 {
        if let Some(loc) = location {
            return Begin::Running(Operation {
                monitor: Monitor::Location(loc),
                final_get: reads_resource.then(|| request_url.clone()),
            });
        }
    }
    if reads_resource && (status == 200 || status == 201) {
        if let Some(state) = provisioning_state(body) {
            if !is_terminal(state) {
                return Begin::Running(Operation {
                    monitor: Monitor::ProvisioningState(request_url.clone()),
                    final_get: None,
                });
            }
        }
    }
    Begin::Done
}

/// What one successful (2xx) poll answer means.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Continue,
    /// Done; the poll answer's body (the result when there is no final read).
    Succeeded(Value),
    Failed(ModuleError),
}

pub fn step(monitor: &Monitor, status: u16, body: &Value) -> Step {
    match monitor {
        Monitor::AsyncOperation(_) => {
            let state = body["status"].as_str().unwrap_or("");
            terminal_step(state, &body["error"], body)
        }
        Monitor::Location(_) => {
            if status == 202 {
                Step::Continue
            } else {
                Step::Succeeded(body.clone())
            }
        }
        Monitor::ProvisioningState(_) => {
            let state = provisioning_state(body).unwrap_or("Succeeded");
            terminal_step(state, &body["properties"]["error"], body)
        }
    }
}

fn terminal_step(state: &str, error: &Value, body: &Value) -> Step {
    if state.eq_ignore_ascii_case("Succeeded") {
        Step::Succeeded(body.clone())
    } else if state.eq_ignore_ascii_case("Failed") || state.eq_ignore_ascii_case("Canceled") {
        Step::Failed(operation_error(state, error))
    } else {
        Step::Continue
    }
}

fn provisioning_state(body: &Value) -> Option<&str> {
    body["properties"]["provisioningState"].as_str()
}

fn is_terminal(state: &str) -> bool {
    ["Succeeded", "Failed", "Canceled"]
        .iter()
        .any(|t| t.eq_ignore_ascii_case(state))
}

/// The error of a failed or canceled operation, from its `error` object.
fn operation_error(state: &str, error: &Value) -> ModuleError {
    let parsed = crate::cloud::arm::CloudError::from_error_object(error);
    let what = if state.eq_ignore_ascii_case("Canceled") {
        "was canceled"
    } else {
        "failed"
    };
    let kind = parsed
        .as_ref()
        .and_then(|c| crate::cloud::arm::kind_for_code(&c.code))
        .unwrap_or(ErrorKind::Remote);
    let message = match &parsed {
        Some(c) => format!("the operation {what}: {}", c.describe()),
        None => format!("the operation {what}"),
    };
    let mut e = ModuleError::new(kind, message);
    e.remote_code = parsed.map(|c| c.code).filter(|c| !c.is_empty());
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    const RG: &str =
        "https://management.azure.com/subscriptions/s/resourcegroups/rg?api-version=2021-04-01";

    #[test]
    fn async_operation_header_wins_and_put_reads_the_resource_at_the_end() {
        let b = begin(
            &Method::PUT,
            &u(RG),
            201,
            Some(u("https://management.azure.com/op/1")),
            Some(u("https://management.azure.com/loc/1")),
            &json!({}),
        );
        assert_eq!(
            b,
            Begin::Running(Operation {
                monitor: Monitor::AsyncOperation(u("https://management.azure.com/op/1")),
                final_get: Some(u(RG)),
            })
        );
    }

    #[test]
    fn post_reads_location_and_delete_reads_nothing() {
        let op = Some(u("https://management.azure.com/op/1"));
        let loc = Some(u("https://management.azure.com/loc/1"));
        match begin(
            &Method::POST,
            &u(RG),
            202,
            op.clone(),
            loc.clone(),
            &Value::Null,
        ) {
            Begin::Running(o) => assert_eq!(o.final_get, loc),
            other => panic!("{other:?}"),
        }
        match begin(
            &Method::DELETE,
            &u(RG),
            202,
            None,
            loc.clone(),
            &Value::Null,
        ) {
            Begin::Running(o) => {
                assert_eq!(
                    o.monitor,
                    Monitor::Location(u("https://management.azure.com/loc/1"))
                );
                assert_eq!(o.final_get, None);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn finished_answers_are_done() {
        let done = json!({"properties": {"provisioningState": "Succeeded"}});
        assert_eq!(
            begin(&Method::PUT, &u(RG), 200, None, None, &done),
            Begin::Done
        );
        assert_eq!(
            begin(&Method::DELETE, &u(RG), 200, None, None, &Value::Null),
            Begin::Done
        );
        assert_eq!(
            begin(&Method::DELETE, &u(RG), 204, None, None, &Value::Null),
            Begin::Done
        );
        // A Location on a 200 is not an operation.
        assert_eq!(
            begin(&Method::PUT, &u(RG), 200, None, Some(u(RG)), &done),
            Begin::Done
        );
    }

    #[test]
    fn a_non_terminal_provisioning_state_is_followed_on_the_resource() {
        let creating = json!({"properties": {"provisioningState": "Creating"}});
        let b = begin(&Method::PUT, &u(RG), 201, None, None, &creating);
        let Begin::Running(op) = b else {
            panic!("{b:?}")
        };
        assert_eq!(op.monitor, Monitor::ProvisioningState(u(RG)));
        assert_eq!(step(&op.monitor, 200, &creating), Step::Continue);
        let done = json!({"properties": {"provisioningState": "Succeeded"}, "id": "x"});
        assert_eq!(step(&op.monitor, 200, &done), Step::Succeeded(done.clone()));
        let failed = json!({"properties": {"provisioningState": "Failed"}});
        assert!(matches!(step(&op.monitor, 200, &failed), Step::Failed(_)));
    }

    #[test]
    fn async_operation_states() {
        let m = Monitor::AsyncOperation(u("https://management.azure.com/op/1"));
        assert_eq!(
            step(&m, 200, &json!({"status": "InProgress"})),
            Step::Continue
        );
        assert_eq!(step(&m, 200, &json!({})), Step::Continue);
        assert!(matches!(
            step(&m, 200, &json!({"status": "succeeded"})),
            Step::Succeeded(_)
        ));
        let failed = json!({"status": "Failed", "error": {"code": "ResourceGroupNotFound", "message": "Resource group 'rg' could not be found.", "details": [{"code": "Inner", "message": "why"}]}});
        let Step::Failed(e) = step(&m, 200, &failed) else {
            panic!()
        };
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert_eq!(e.remote_code.as_deref(), Some("ResourceGroupNotFound"));
        assert!(
            e.message
                .contains("failed: Resource group 'rg' could not be found."),
            "{}",
            e.message
        );
        assert!(e.message.contains("Inner: why"), "{}", e.message);
        let Step::Failed(e) = step(&m, 200, &json!({"status": "Canceled"})) else {
            panic!()
        };
        assert_eq!(e.kind, ErrorKind::Remote);
        assert!(e.message.contains("was canceled"), "{}", e.message);
    }

    #[test]
    fn location_polls_until_not_202() {
        let m = Monitor::Location(u("https://management.azure.com/loc/1"));
        assert_eq!(step(&m, 202, &Value::Null), Step::Continue);
        assert_eq!(step(&m, 204, &Value::Null), Step::Succeeded(Value::Null));
        assert_eq!(
            step(&m, 200, &json!({"a": 1})),
            Step::Succeeded(json!({"a": 1}))
        );
    }

    #[test]
    fn waits_honour_retry_after_without_spinning() {
        let p = LroPolicy {
            poll_interval: Duration::from_secs(5),
            max_interval: Duration::from_secs(60),
            deadline: Duration::from_secs(600),
        };
        assert_eq!(p.next_wait(None), Duration::from_secs(5));
        assert_eq!(
            p.next_wait(Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(p.next_wait(Some(Duration::ZERO)), Duration::from_secs(1));
        assert_eq!(
            p.next_wait(Some(Duration::from_secs(600))),
            Duration::from_secs(60)
        );
    }
}
