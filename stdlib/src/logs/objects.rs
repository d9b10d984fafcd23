//! What scripts get back: `LogEntry` (plain Rust; the getters are in mod.rs).

use super::model::Entry;
use crate::change::Known;

/// One entry of a CMTrace log. In a plan, `logs::wait_for` may return one that is
/// known only after apply: the line it waits for comes from a step the plan does not
/// run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub entry: Known<Entry>,
}

impl LogEntry {
    /// The entry an apply would wait for.
    pub fn planned() -> Self {
        LogEntry {
            entry: Known::AfterApply,
        }
    }
}

impl From<Entry> for LogEntry {
    fn from(entry: Entry) -> Self {
        LogEntry {
            entry: Known::Value(entry),
        }
    }
}

impl std::fmt::Display for LogEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.entry {
            Known::Value(e) => e.fmt(f),
            Known::AfterApply => f.write_str(crate::change::AFTER_APPLY_TEXT),
        }
    }
}
