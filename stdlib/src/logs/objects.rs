//! What scripts get back: `LogEntry` (plain Rust; the getters are in mod.rs).

use super::model::Entry;

/// One entry of a CMTrace log, with the file it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub entry: Entry,
}

impl From<Entry> for LogEntry {
    fn from(entry: Entry) -> Self {
        LogEntry { entry }
    }
}

impl std::fmt::Display for LogEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.entry.fmt(f)
    }
}
