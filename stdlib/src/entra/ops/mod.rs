//! What the entra module reads and writes. Every write goes through `Ctx::apply`; every
//! object is found by its unique key (identifierUris, appId), never by display name alone.

mod apps;
mod consent;
mod directory;
mod objects;
mod secrets;

pub use apps::{ensure_client_app, ensure_server_app};
pub use consent::grant_admin_consent;
pub use directory::{find_app, tenant};
pub use objects::{ClientSecret, Consent, EntraApp, Permission, PermissionKind, Tenant};
pub use secrets::ensure_client_secret;

/// The module name in plans and the journal.
const MODULE: &str = "entra";
