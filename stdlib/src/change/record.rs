//! What the output layer, the summary and the journal see of a change.

use super::diff::FieldChange;
use super::resource::ResourceId;
use crate::context::Ctx;
use crate::error::{ModuleError, Result};
use crate::journal::{now_rfc3339, JournalEntry};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Delete,
    /// A one-off action such as adding a secret.
    Invoke,
    Unchanged,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Invoke => "invoke",
            Action::Unchanged => "unchanged",
        }
    }
}

/// One change as reported.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeRecord {
    pub module: String,
    /// The kind of object, e.g. "application", "private key".
    pub object: String,
    pub action: Action,
    /// The object's unique key (identifierUri, appId, resource id, file path).
    pub key: String,
    /// What a person calls it, when that differs from the key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
    /// False in plan mode.
    pub applied: bool,
    /// Every request the write sent, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_ids: Vec<String>,
    /// The command that makes the same change by hand (`az …` or a ConfigurationManager
    /// cmdlet), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub equivalent: Option<Equivalent>,
}

/// Which shell an [`Equivalent`] command is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Shell {
    /// The Azure CLI.
    Az,
    /// Windows PowerShell with the ConfigurationManager module, on the site drive.
    PowerShell,
}

/// The command an admin would type for the same change. Never holds a secret: a
/// command that needs one names a PowerShell variable, and `prelude` has the line that
/// asks for it (`$x = Read-Host -AsSecureString …`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Equivalent {
    pub shell: Shell,
    pub command: String,
    /// Lines the command needs first (secret prompts), shared by commands that name the
    /// same variable.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub prelude: Vec<String>,
}

impl Equivalent {
    pub fn az(command: impl Into<String>) -> Self {
        Equivalent {
            shell: Shell::Az,
            command: command.into(),
            prelude: Vec::new(),
        }
    }
    pub fn powershell(command: impl Into<String>) -> Self {
        Equivalent {
            shell: Shell::PowerShell,
            command: command.into(),
            prelude: Vec::new(),
        }
    }
    pub fn with_prelude(mut self, line: impl Into<String>) -> Self {
        self.prelude.push(line.into());
        self
    }
}

/// Counts for the end-of-run summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
    pub invoke: usize,
    pub unchanged: usize,
}

impl Summary {
    pub fn count(&mut self, action: Action) {
        match action {
            Action::Create => self.create += 1,
            Action::Update => self.update += 1,
            Action::Delete => self.delete += 1,
            Action::Invoke => self.invoke += 1,
            Action::Unchanged => self.unchanged += 1,
        }
    }
    pub fn changes(&self) -> usize {
        self.create + self.update + self.delete + self.invoke
    }
}

impl ChangeRecord {
    pub fn new(id: &ResourceId, action: Action, fields: Vec<FieldChange>) -> Self {
        ChangeRecord {
            module: id.module.to_string(),
            object: id.kind.to_string(),
            action,
            key: id.key.clone(),
            label: id.label.clone().filter(|l| *l != id.key),
            id: None,
            fields,
            applied: false,
            request_ids: Vec::new(),
            equivalent: None,
        }
    }
}

impl Ctx {
    /// Count and show a change.
    pub(crate) fn report(&self, record: ChangeRecord) {
        self.summary
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .count(record.action);
        self.output.change(&record);
    }

    /// Append an applied (or partly applied) write to the journal. Built from keys and
    /// ids only, never from field values, so no secret can reach it.
    pub(crate) fn journal_write(
        &self,
        record: &ChangeRecord,
        failed: Option<&ModuleError>,
    ) -> Result<()> {
        self.journal.append(&JournalEntry {
            time: now_rfc3339(),
            target: &self.target,
            module: &record.module,
            object: &record.object,
            action: record.action.as_str(),
            key: &record.key,
            label: record.label.as_deref(),
            id: record.id.as_deref(),
            request_ids: &record.request_ids,
            failed: failed.map(|e| e.message.as_str()),
        })
    }
}
