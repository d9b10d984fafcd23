//! The resource: the one shape of every ensure.

use super::diff::{create_fields, diff, patch_body, ArrayKeys, FieldChange, DEFAULT_ARRAY_KEYS};
use super::known::Known;
use super::record::{Action, ChangeRecord};
use super::WritePermit;
use crate::cloud::access::Writer;
use crate::context::{Ctx, Mode};
use crate::error::Result;
use serde_json::Value;

/// Who an object is: for plans, the journal and errors.
#[derive(Debug, Clone)]
pub struct ResourceId {
    pub module: &'static str,
    /// The kind of object, e.g. "server application", "private key".
    pub kind: &'static str,
    /// The unique key it is found by: identifierUri, appId, resource id, file path.
    pub key: String,
    /// What a person calls it (a display name), shown beside the key.
    pub label: Option<String>,
}

impl ResourceId {
    pub fn new(module: &'static str, kind: &'static str, key: impl Into<String>) -> Self {
        ResourceId {
            module,
            kind,
            key: key.into(),
            label: None,
        }
    }
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
}

/// The write to make.
pub enum Op<'a> {
    /// The object does not exist: send `body`.
    Create { body: &'a Value },
    /// The object exists as `observed`: send `patch`, the changed top-level properties
    /// of the desired body (`desired` is the whole of it).
    Update {
        observed: &'a Value,
        patch: &'a Value,
        desired: &'a Value,
    },
}

/// What a write produced.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// The object after the write, as the service answered (or as sent).
    pub state: Value,
    /// The object's id as the service assigned it.
    pub id: Option<String>,
}

impl Written {
    pub fn new(state: Value) -> Self {
        Written { state, id: None }
    }
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
}

/// How an ensure ended, handed to [`Resource::output`].
pub enum Outcome {
    /// Already as desired: the observed object.
    Unchanged(Value),
    /// Plan mode: nothing was written.
    Planned {
        observed: Option<Value>,
        desired: Value,
    },
    /// Apply mode: the write ran.
    Applied {
        observed: Option<Value>,
        written: Written,
    },
}

/// An object a module manages. Implementations say how it is observed, what body they
/// want, and how a body is written; [`ensure`] decides whether to write and reports.
// Resources are driven by `block_on` on the script thread, so the futures need no
// `Send` bound, which is what this lint warns about.
#[allow(async_fn_in_trait)]
pub trait Resource {
    /// What the script gets back.
    type Output;

    /// Who the object is; `observed` is there for a resource whose key depends on which
    /// object was found (an adopted app is keyed by its appId).
    fn id(&self, observed: Option<&Value>) -> ResourceId;

    /// The object as it is now, by its unique key; `None` when it does not exist.
    /// Reads only: `Ctx` hands out no writer.
    fn observe(&self, ctx: &Ctx) -> Result<Option<Value>>;

    /// The body to send for a create (`observed` is `None`), or the object as it should
    /// be (an update sends its changed top-level properties whole). A resource that
    /// must not touch what it observed (a foreign key file) returns an error here.
    fn desired(&self, observed: Option<&Value>) -> Result<Value>;

    /// How arrays of objects are matched in the diff.
    fn array_keys(&self) -> ArrayKeys {
        DEFAULT_ARRAY_KEYS
    }

    /// The action a create is reported as (`Invoke` for one-off actions).
    fn create_action(&self) -> Action {
        Action::Create
    }

    /// Fields a plan cannot know (ids the service assigns); after apply they are read
    /// from the written state at the same path.
    fn unknown_fields(&self, _observed: Option<&Value>) -> Vec<&'static str> {
        Vec::new()
    }

    /// The command an admin would type for the same change (an `az` line or a
    /// ConfigurationManager cmdlet), shown with the plan so a change can be made or
    /// reviewed by hand. Never holds a secret.
    fn equivalent(&self) -> Option<super::Equivalent> {
        None
    }

    /// Make the write. Every request sent through `w` is journalled.
    async fn write(&self, w: &Writer<'_>, op: Op<'_>) -> Result<Written>;

    /// What the script gets back, from how the ensure ended.
    fn output(self, outcome: Outcome) -> Result<Self::Output>;
}

/// Observe, diff, then plan or apply, journal and report.
pub fn ensure<R: Resource>(ctx: &Ctx, resource: R) -> Result<R::Output> {
    let observed = resource.observe(ctx)?;
    let id = resource.id(observed.as_ref());
    let desired = resource.desired(observed.as_ref())?;
    let (action, mut fields) = match &observed {
        None => (resource.create_action(), create_fields(&desired)),
        Some(o) => (Action::Update, diff(&desired, o, resource.array_keys())),
    };
    if action == Action::Update && fields.is_empty() {
        let mut record = ChangeRecord::new(&id, Action::Unchanged, Vec::new());
        record.id = observed.as_ref().and_then(object_id);
        ctx.report(record);
        return resource.output(Outcome::Unchanged(observed.unwrap_or_default()));
    }
    for path in resource.unknown_fields(observed.as_ref()) {
        match fields.iter_mut().find(|f| f.path == path) {
            Some(f) => f.after = Known::AfterApply,
            None => fields.push(FieldChange::unknown(
                path,
                observed.as_ref().and_then(|o| value_at(o, path)).cloned(),
            )),
        }
    }
    let mut record = ChangeRecord::new(&id, action, fields);
    record.equivalent = resource.equivalent();
    if ctx.mode == Mode::Plan {
        record.id = observed.as_ref().and_then(object_id);
        ctx.report(record);
        return resource.output(Outcome::Planned { observed, desired });
    }

    let writer = ctx.writer(WritePermit::new());
    let patch = match &observed {
        Some(_) => patch_body(&desired, &record.fields),
        None => Value::Null,
    };
    let op = match &observed {
        None => Op::Create { body: &desired },
        Some(o) => Op::Update {
            observed: o,
            patch: &patch,
            desired: &desired,
        },
    };
    let result = ctx.block_on(resource.write(&writer, op));
    record.request_ids = writer.request_ids();
    record.applied = true;
    let written = match result {
        Ok(w) => w,
        Err(e) => {
            // A write of several requests may have changed something before it failed:
            // keep its request ids on record (a re-run repairs the rest).
            if !record.request_ids.is_empty() {
                record.id = observed.as_ref().and_then(object_id);
                ctx.journal_write(&record, Some(&e))?;
            }
            return Err(e);
        }
    };
    for f in record.fields.iter_mut().filter(|f| !f.after.is_known()) {
        if let Some(v) = value_at(&written.state, &f.path) {
            f.after = Known::Value(v.clone());
        }
    }
    record.id = written
        .id
        .clone()
        .or_else(|| observed.as_ref().and_then(object_id));
    ctx.journal_write(&record, None)?;
    ctx.report(record);
    resource.output(Outcome::Applied { observed, written })
}

/// An object's id for the record: a service object's `id`, a certificate file's
/// thumbprint.
fn object_id(v: &Value) -> Option<String> {
    ["id", "thumbprint"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .map(str::to_string)
}

/// The value at a dotted path (`web.homePageUrl`).
fn value_at<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}
