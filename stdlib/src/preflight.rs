//! Preflight findings: what a check found, how bad it is, and how to fix it. Shared by
//! every module that checks before it writes (`cert::check_cmg`, the CMG name checks).

use serde::Serialize;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One result of `cert::check_cmg`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable id, e.g. `key-size`, `eku-server-auth`.
    pub check: String,
    pub severity: Severity,
    pub message: String,
    /// What to do about it (empty for plain information).
    pub fix: String,
}

impl Finding {
    pub fn new(
        check: &str,
        severity: Severity,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Finding {
            check: check.to_string(),
            severity,
            message: message.into(),
            fix: fix.into(),
        }
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}[{}]: {}",
            self.severity.as_str(),
            self.check,
            self.message
        )?;
        if !self.fix.is_empty() {
            write!(f, " (fix: {})", self.fix)?;
        }
        Ok(())
    }
}
