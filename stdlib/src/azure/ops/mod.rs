//! What the azure module reads and writes: the subscription, resource provider
//! registration and resource groups (resources, written only through
//! `change::ensure`), and the CMG name checks (reads only).

mod names;
mod provider;
mod resource_group;
mod role;
mod subscription;

pub use names::check_cmg_name;
pub use provider::{ensure_providers, unregistered};
pub use resource_group::ensure_resource_group;
pub use role::{can_deploy, ensure_role, RoleAssignment, AUTHORIZATION_API};
pub use subscription::{subscription, subscription_id};

/// The module name in plans and the journal.
const MODULE: &str = "azure";

/// Give an error a hint when it has none.
fn hinted(mut e: crate::error::ModuleError, hint: impl Into<String>) -> crate::error::ModuleError {
    if e.hint.is_none() {
        e.hint = Some(hint.into());
    }
    e
}
