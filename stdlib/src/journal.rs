//! `.comgmt/journal.jsonl`: one JSON line per applied change. Never holds a secret:
//! entries are built from `ChangeRecord` keys and ids only, not field values.

use crate::error::{ModuleError, Result};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One applied write. `key` is the object's unique key (identifierUri, appId, resource
/// id, file path); `label` the name a person knows it by.
#[derive(Debug, Serialize)]
pub struct JournalEntry<'a> {
    pub time: String,
    pub target: &'a str,
    pub module: &'a str,
    pub object: &'a str,
    pub action: &'a str,
    pub key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'a str>,
    /// Every request the write sent, in order (a create and its follow-up patch).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub request_ids: &'a [String],
    /// Set when the write failed part-way: what failed (no values, so no secrets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<&'a str>,
}

pub struct Journal {
    path: Option<PathBuf>,
    lock: Mutex<()>,
}

impl Journal {
    /// A journal appending to `path` (its folder is created on first write).
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Journal {
            path: Some(path.into()),
            lock: Mutex::new(()),
        }
    }
    /// A journal that records nothing (plan mode, `check`, unit tests).
    pub fn disabled() -> Self {
        Journal {
            path: None,
            lock: Mutex::new(()),
        }
    }
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn append(&self, entry: &JournalEntry<'_>) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| ModuleError::io_at("create folder", dir, &e))?;
        }
        let mut line = serde_json::to_string(entry)
            .map_err(|e| ModuleError::io(format!("cannot encode journal entry: {e}")))?;
        line.push('\n');
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| ModuleError::io_at("open journal", path, &e))?;
        f.write_all(line.as_bytes())
            .map_err(|e| ModuleError::io_at("write journal", path, &e))
    }
}

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
