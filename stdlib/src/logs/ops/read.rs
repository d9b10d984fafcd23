//! Reading a whole log file.

use crate::error::{ModuleError, Result};
use crate::logs::model::{parse_bytes, Entry};
use std::path::Path;

/// Every entry of the log at `path`.
pub fn read(path: &Path) -> Result<Vec<Entry>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(parse_bytes(&bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ModuleError::not_found(format!(
            "log file {} does not exist",
            path.display()
        ))
        .with_hint(
            "check the path (relative paths are relative to the working directory); \
             use logs::wait_for to wait for a file that is not written yet",
        )),
        Err(e) => Err(ModuleError::io_at("read", path, &e)),
    }
}

/// The entries of the log at `path` whose message contains any of `patterns`.
pub fn find(path: &Path, patterns: &[String]) -> Result<Vec<Entry>> {
    Ok(read(path)?
        .into_iter()
        .filter(|e| e.matches(patterns))
        .collect())
}
