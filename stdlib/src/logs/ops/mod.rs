//! What the logs module does with files: read one whole, or follow one as it grows.
//! Nothing here writes.

mod follow;
mod read;

pub use follow::{wait_for, Follower, Waited};
pub use read::{find, read};
