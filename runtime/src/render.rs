//! The two renderings of a run: text for people and JSON lines (`--output json`) for
//! tools. Both implement stdlib's `Output`; the runtime adds the end-of-run summary.
//!
//! Text: `print` on stdout; changes on stdout as
//! `+ create entra application api://…` with indented `field: before -> after` lines
//! (`= unchanged` only with `-v`); `debug` and module notes on stderr; progress on stderr
//! only when it is a terminal.
//! JSON: one object per line on stdout, each with a `type` (`print`, `debug`, `note`,
//! `change`, `summary`); errors are JSON objects on stderr.

use clap::ValueEnum;
use codespan_reporting::term::termcolor::{self, Color, ColorSpec, WriteColor};
use comgmt_stdlib::change::{Action, ChangeRecord, Known, Summary, AFTER_APPLY_TEXT};
use comgmt_stdlib::output::Output;
use comgmt_stdlib::Mode;
use serde_json::{json, Value};
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OutputFormat {
    /// Text for people (colour on a terminal unless NO_COLOR is set).
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The runtime's `Output`: text or JSON lines.
pub struct Console {
    format: OutputFormat,
    verbose: u8,
    mode: Mode,
    color: bool,
    progress_on: bool,
    /// Whether a progress line is showing on stderr (cleared before any other output).
    progress_shown: Mutex<bool>,
    /// The plan's ConfigMgr changes as cmdlets (`plan --powershell`).
    pub powershell: crate::powershell::Collector,
}

impl Console {
    pub fn new(format: OutputFormat, verbose: u8, mode: Mode) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Console {
            format,
            verbose,
            mode,
            color: !no_color && std::io::stdout().is_terminal(),
            progress_on: format == OutputFormat::Text && std::io::stderr().is_terminal(),
            progress_shown: Mutex::new(false),
            powershell: Default::default(),
        }
    }

    pub fn format(&self) -> OutputFormat {
        self.format
    }

    fn clear_progress(&self) {
        let mut shown = self
            .progress_shown
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if *shown {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
            *shown = false;
        }
    }

    fn json_line(&self, v: &Value) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{v}");
    }

    fn stdout_text(&self, text: &str) {
        self.clear_progress();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
    }

    /// The end-of-run summary line.
    pub fn summary(&self, summary: &Summary) {
        match self.format {
            OutputFormat::Text => self.stdout_text(&summary_line(self.mode, summary)),
            OutputFormat::Json => self.json_line(&json!({
                "type": "summary",
                "mode": mode_name(self.mode),
                "create": summary.create,
                "update": summary.update,
                "delete": summary.delete,
                "invoke": summary.invoke,
                "unchanged": summary.unchanged,
            })),
        }
    }

    fn text_change(&self, r: &ChangeRecord) {
        if r.action == Action::Unchanged && self.verbose == 0 {
            return;
        }
        self.clear_progress();
        let (sym, color) = match r.action {
            Action::Create => ('+', Color::Green),
            Action::Update => ('~', Color::Yellow),
            Action::Delete => ('-', Color::Red),
            Action::Invoke => ('>', Color::Cyan),
            Action::Unchanged => ('=', Color::White),
        };
        let choice = if self.color {
            termcolor::ColorChoice::Always
        } else {
            termcolor::ColorChoice::Never
        };
        let stream = termcolor::StandardStream::stdout(choice);
        let mut w = stream.lock();
        let _ = w.set_color(ColorSpec::new().set_fg(Some(color)).set_bold(true));
        let _ = write!(w, "{sym} {}", r.action.as_str());
        let _ = w.reset();
        let _ = write!(w, " {} {} {}", r.module, r.object, r.key);
        if let Some(label) = &r.label {
            let _ = write!(w, " ({label})");
        }
        // An id that is the key itself (ARM resource ids) is not repeated.
        let id = r.id.as_ref().filter(|id| **id != r.key);
        match (id, r.applied) {
            (Some(id), true) => {
                let _ = writeln!(w, " (id {id})");
            }
            (Some(id), false) if self.verbose > 0 => {
                let _ = writeln!(w, " (id {id})");
            }
            _ => {
                let _ = writeln!(w);
            }
        }
        if let Some(cmd) = r
            .equivalent
            .as_ref()
            .filter(|_| !r.applied)
            .map(|e| &e.command)
        {
            let _ = writeln!(w, "    # by hand: {cmd}");
        }
        for f in &r.fields {
            let _ = match &f.before {
                None => writeln!(w, "    {}: {}", f.path, known_text(&f.after)),
                Some(b) => writeln!(
                    w,
                    "    {}: {} -> {}",
                    f.path,
                    value_text(b),
                    known_text(&f.after)
                ),
            };
        }
    }
}

impl Output for Console {
    fn print(&self, text: &str) {
        match self.format {
            OutputFormat::Text => self.stdout_text(text),
            OutputFormat::Json => self.json_line(&json!({"type": "print", "text": text})),
        }
    }

    fn debug(&self, text: &str) {
        match self.format {
            OutputFormat::Text => {
                self.clear_progress();
                let _ = writeln!(std::io::stderr().lock(), "debug: {text}");
            }
            OutputFormat::Json => self.json_line(&json!({"type": "debug", "text": text})),
        }
    }

    fn change(&self, record: &ChangeRecord) {
        self.powershell.record(record);
        match self.format {
            OutputFormat::Text => self.text_change(record),
            OutputFormat::Json => {
                let mut v = serde_json::to_value(record).unwrap_or_else(|_| json!({}));
                if let Value::Object(m) = &mut v {
                    m.insert("type".into(), json!("change"));
                }
                self.json_line(&v);
            }
        }
    }

    fn note(&self, text: &str) {
        match self.format {
            OutputFormat::Text => {
                self.clear_progress();
                let _ = writeln!(std::io::stderr().lock(), "note: {text}");
            }
            OutputFormat::Json => self.json_line(&json!({"type": "note", "text": text})),
        }
    }

    fn progress(&self, text: &str) {
        if !self.progress_on {
            return;
        }
        let mut shown = self
            .progress_shown
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let line: String = text.chars().filter(|c| !c.is_control()).take(100).collect();
        let _ = write!(std::io::stderr().lock(), "\r\x1b[2K{line}");
        *shown = true;
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        self.clear_progress();
    }
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Plan => "plan",
        Mode::Apply => "apply",
    }
}

/// A field value as shown in a plan: compact JSON (strings quoted).
pub fn value_text(v: &Value) -> String {
    v.to_string()
}

/// A new value: as [`value_text`], or `(known after apply)` unquoted.
pub fn known_text(v: &Known<Value>) -> String {
    match v {
        Known::Value(v) => value_text(v),
        Known::AfterApply => AFTER_APPLY_TEXT.to_string(),
    }
}

/// `Plan: 4 to create, 0 to update, 0 unchanged.` / `Applied: 4 created, 0 updated,
/// 0 unchanged.` / `No changes. 6 unchanged.`
pub fn summary_line(mode: Mode, s: &Summary) -> String {
    if s.changes() == 0 && s.unchanged == 0 {
        return "No changes.".to_string();
    }
    if s.changes() == 0 {
        return format!("No changes. {} unchanged.", s.unchanged);
    }
    let mut parts = Vec::new();
    match mode {
        Mode::Plan => {
            parts.push(format!("{} to create", s.create));
            parts.push(format!("{} to update", s.update));
            if s.delete > 0 {
                parts.push(format!("{} to delete", s.delete));
            }
            if s.invoke > 0 {
                parts.push(format!("{} to invoke", s.invoke));
            }
            parts.push(format!("{} unchanged", s.unchanged));
            format!("Plan: {}.", parts.join(", "))
        }
        Mode::Apply => {
            parts.push(format!("{} created", s.create));
            parts.push(format!("{} updated", s.update));
            if s.delete > 0 {
                parts.push(format!("{} deleted", s.delete));
            }
            if s.invoke > 0 {
                parts.push(format!("{} invoked", s.invoke));
            }
            parts.push(format!("{} unchanged", s.unchanged));
            format!("Applied: {}.", parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lines() {
        let s = Summary {
            create: 4,
            ..Summary::default()
        };
        assert_eq!(
            summary_line(Mode::Plan, &s),
            "Plan: 4 to create, 0 to update, 0 unchanged."
        );
        assert_eq!(
            summary_line(Mode::Apply, &s),
            "Applied: 4 created, 0 updated, 0 unchanged."
        );
        let s = Summary {
            unchanged: 6,
            ..Summary::default()
        };
        assert_eq!(summary_line(Mode::Plan, &s), "No changes. 6 unchanged.");
        assert_eq!(
            summary_line(Mode::Apply, &Summary::default()),
            "No changes."
        );
        let s = Summary {
            create: 1,
            invoke: 2,
            unchanged: 3,
            ..Summary::default()
        };
        assert_eq!(
            summary_line(Mode::Apply, &s),
            "Applied: 1 created, 0 updated, 2 invoked, 3 unchanged."
        );
    }

    #[test]
    fn values_render_quoted_except_known_after_apply() {
        assert_eq!(value_text(&json!("x")), "\"x\"");
        assert_eq!(known_text(&Known::AfterApply), AFTER_APPLY_TEXT);
        assert_eq!(known_text(&Known::Value(json!("x"))), "\"x\"");
        assert_eq!(value_text(&json!(["a", 1])), "[\"a\",1]");
    }
}
