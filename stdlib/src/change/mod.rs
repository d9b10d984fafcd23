//! The one write path: observe -> diff -> plan or apply -> journal.
//!
//! Every object a module manages is a [`Resource`]: it says how it is observed, what
//! body it wants sent, and how that body is written. [`ensure`] does the rest: the
//! plan's fields come from [`diff::diff`] of the desired body against the observed
//! object (or every field of a create), so a plan never shows less than a write sends;
//! in apply mode the write runs with a [`Writer`](crate::cloud::access::Writer) that
//! only this module can make, every request id it sent is journalled, and the change is
//! reported. Values unknown before apply are [`Known::AfterApply`].

pub mod diff;
pub mod known;
mod record;
mod resource;

pub use diff::{
    create_fields, diff, merge, patch_body, ArrayKeys, FieldChange, DEFAULT_ARRAY_KEYS,
};
pub use known::{Known, AFTER_APPLY_TEXT};
pub use record::{Action, ChangeRecord, Equivalent, Shell, Summary};
pub use resource::{ensure, Op, Outcome, Resource, ResourceId, Written};

/// Proof that the holder is the write path in apply mode. Its field is private, so no
/// code outside `change` can make one, and so none can make a writer.
pub struct WritePermit {
    _private: (),
}

impl WritePermit {
    fn new() -> Self {
        WritePermit { _private: () }
    }
}
