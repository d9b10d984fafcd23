//! What the cmg module reads and writes: the CMG row on the site's Azure service
//! (`gateway.rs`), the operations on an existing CMG (`actions.rs`), and following the
//! site and Azure until the CMG settles (`follow.rs`).

mod actions;
mod follow;
mod gateway;

pub use actions::{get, list, replace_certificate, set_instances, start, status, stop};
pub use gateway::{ensure_cmg, PfxSource};
