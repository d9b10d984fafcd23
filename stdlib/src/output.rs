//! Where module output goes. The runtime implements this for text and JSON, tests
//! implement it to capture. Modules never print directly.

use crate::change::ChangeRecord;

pub trait Output: Send + Sync {
    /// A script's `print(...)`.
    fn print(&self, text: &str);
    /// A script's `debug(...)`.
    fn debug(&self, text: &str) {
        self.print(text)
    }
    /// A change planned, applied, or found already right.
    fn change(&self, record: &ChangeRecord);
    /// An informational line from a module (a derived name, a warning worth reading).
    fn note(&self, text: &str);
    /// A transient progress line; shown on a TTY only.
    fn progress(&self, _text: &str) {}
}

/// Discards everything; for `check`, `doc` and unit tests.
pub struct NullOutput;

impl Output for NullOutput {
    fn print(&self, _text: &str) {}
    fn change(&self, _record: &ChangeRecord) {}
    fn note(&self, _text: &str) {}
}

/// Keeps everything in memory; for tests.
#[derive(Default)]
pub struct CaptureOutput {
    pub lines: std::sync::Mutex<Vec<String>>,
    pub changes: std::sync::Mutex<Vec<ChangeRecord>>,
}

impl Output for CaptureOutput {
    fn print(&self, text: &str) {
        if let Ok(mut l) = self.lines.lock() {
            l.push(text.to_string());
        }
    }
    fn change(&self, record: &ChangeRecord) {
        if let Ok(mut c) = self.changes.lock() {
            c.push(record.clone());
        }
    }
    fn note(&self, text: &str) {
        self.print(text)
    }
}
