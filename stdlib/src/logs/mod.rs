//! `logs` script module: read CMTrace logs (the client/CCM format and the site-server
//! format), find entries, and wait for one to appear. Bindings only; the parser is in
//! model.rs, file reading and following in ops/. Nothing here writes.

pub mod model;
pub mod objects;
pub mod ops;

pub use objects::LogEntry;

use crate::context::Ctx;
use crate::error::{at, ModuleError};
use crate::options;
use crate::values::optional;
use rhai::plugin::*;
use rhai::{Array, Map, INT};
use std::time::Duration;

/// The patterns a script gave: a string, or an array of alternative strings.
fn patterns(function: &str, pattern: Dynamic) -> Result<Vec<String>, ModuleError> {
    let list: Vec<Dynamic> = if pattern.is_array() {
        pattern.into_array().unwrap_or_default()
    } else {
        vec![pattern]
    };
    let mut out = Vec::with_capacity(list.len());
    for p in list {
        if !p.is_string() {
            return Err(ModuleError::validation(format!(
                "{function}: the pattern must be a string or an array of strings, not {}",
                p.type_name()
            )));
        }
        let s = p.into_string().unwrap_or_default();
        if s.is_empty() {
            return Err(ModuleError::validation(format!(
                "{function}: the pattern must not be empty"
            )));
        }
        out.push(s);
    }
    if out.is_empty() {
        return Err(ModuleError::validation(format!(
            "{function}: give at least one pattern"
        )));
    }
    Ok(out)
}

/// `"a"`, or `"a" or "b"` for alternatives.
fn patterns_text(patterns: &[String]) -> String {
    patterns
        .iter()
        .map(|p| format!("{p:?}"))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// A field of an entry, or `(known after apply)` for the entry a plan did not wait for.
fn field(e: &LogEntry, f: impl FnOnce(&model::Entry) -> Dynamic) -> Dynamic {
    match e.entry.value() {
        Some(entry) => f(entry),
        None => Dynamic::from(crate::change::AFTER_APPLY_TEXT.to_string()),
    }
}

fn entries(v: Vec<model::Entry>) -> Array {
    v.into_iter()
        .map(|e| Dynamic::from(LogEntry::from(e)))
        .collect()
}

/// Whether the run was interrupted (Ctrl-C). `comgmt run` and `repl` stop a script
/// through the engine's progress callback (`engine::cancel_on`), which runs on every
/// operation; a native call that waits asks it by evaluating one operation. Engines
/// without a callback are never interrupted.
fn interrupted(ctx: &NativeCallContext) -> Option<Dynamic> {
    match ctx.engine().eval_expression::<INT>("0") {
        Err(e) => match *e {
            EvalAltResult::ErrorTerminated(token, _) => Some(token),
            _ => None,
        },
        Ok(_) => None,
    }
}

#[export_module]
pub mod api {
    use super::*;

    /// Read every entry of a CMTrace log file.
    ///
    /// Reads both formats CMTrace shows: the client/CCM format (`ccmsetup.log`,
    /// `ComanagementHandler.log`: `<![LOG[...]LOG]!><time=... >`) and the site-server
    /// format (`SMS_AZUREAD_DISCOVERY_AGENT.log`, `CloudMgr.log`: `message  $$<COMPONENT>
    /// <date time+bias><thread=...>`), UTF-8 or UTF-16 with a byte order mark, CRLF or
    /// LF. A message may span several lines; in the site-server format, lines without
    /// the `$$<...>` trailer belong to the entry that follows them. Lines that match no
    /// format are entries too, with their text as the message and no time. Client logs
    /// are in `%windir%\CCM\Logs` (ccmsetup's in `%windir%\ccmsetup\Logs`), site-server
    /// logs in `%ProgramFiles%\Microsoft Configuration Manager\Logs`.
    ///
    /// # Returns
    /// An array of `LogEntry`, in file order: `message`, `component`, `time` (UTC),
    /// `local_time`, `bias_minutes`, `severity`, `thread_id`, `line`, `file`. A missing
    /// file is a `not found` error.
    ///
    /// # Permission
    /// Read access to the log file (on a site server, the Logs folder); none in
    /// Entra/Azure.
    ///
    /// # Example
    /// ```rhai
    /// let entries = logs::read("ccmsetup.log");
    /// for e in entries { print(`${e.time} ${e.severity} ${e.component}: ${e.message}`); }
    /// let errors = entries.filter(|e| e.severity == "error");
    /// print(`${errors.len()} error(s)`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn read(ctx: NativeCallContext, path: &str) -> Result<Array, Box<EvalAltResult>> {
        let c = Ctx::of(&ctx)?;
        ops::read(&c.resolve_path(path))
            .map(entries)
            .map_err(at(&ctx))
    }

    /// The entries of a CMTrace log file whose message contains a text.
    ///
    /// `pattern` is plain text, matched case-sensitively anywhere in the message, or an
    /// array of alternatives (an entry matches when it contains any of them): for
    /// example both the current and the older wording of a message. The file is read
    /// as `logs::read` reads it.
    ///
    /// # Returns
    /// An array of `LogEntry`, in file order; empty when none matches. A missing file
    /// is a `not found` error.
    ///
    /// # Permission
    /// Read access to the log file (on a site server, the Logs folder); none in
    /// Entra/Azure.
    ///
    /// # Example
    /// ```rhai
    /// let hits = logs::find("SMS_AZUREAD_DISCOVERY_AGENT.log", [
    ///     "Successfully published UDX for Microsoft Entra users",
    ///     "Successfully published UDX for Azure Active Directory users",
    /// ]);
    /// if hits.is_empty() {
    ///     print("user discovery has not published users yet");
    /// } else {
    ///     print(`users published at ${hits[-1].time}`);
    /// }
    /// print(logs::find("ccmsetup.log", "exiting with return code").len());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn find(
        ctx: NativeCallContext,
        path: &str,
        pattern: Dynamic,
    ) -> Result<Array, Box<EvalAltResult>> {
        let c = Ctx::of(&ctx)?;
        let patterns = patterns("logs::find", pattern).map_err(at(&ctx))?;
        ops::find(&c.resolve_path(path), &patterns)
            .map(entries)
            .map_err(at(&ctx))
    }

    /// Wait for an entry containing a text to appear in a CMTrace log file, with default
    /// options (up to 300 seconds).
    ///
    /// See `wait_for(path, pattern, options)`.
    ///
    /// # Returns
    /// The first matching `LogEntry`.
    ///
    /// # Permission
    /// Read access to the log file; none in Entra/Azure.
    ///
    /// # Example
    /// ```rhai
    /// let e = logs::wait_for("ccmsetup.log", "CcmSetup is exiting with return code 0");
    /// print(`ccmsetup finished at ${e.local_time}`);
    /// ```
    #[rhai_fn(name = "wait_for", return_raw)]
    pub fn wait_for_default(
        ctx: NativeCallContext,
        path: &str,
        pattern: Dynamic,
    ) -> Result<LogEntry, Box<EvalAltResult>> {
        wait_for(ctx, path, pattern, Map::new())
    }

    /// Wait for an entry containing a text to appear in a CMTrace log file.
    ///
    /// Entries already in the file count, so a step that has already logged its line
    /// returns at once. Otherwise the file is followed as it grows: it may not exist
    /// yet, and a file that is rolled over (renamed away and started again) or truncated
    /// is read again from its start. `pattern` is plain text or an array of
    /// alternatives, as in `logs::find`. Ctrl-C stops the wait.
    ///
    /// A plan does not wait: it looks at the file once and returns the matching entry
    /// if there is one, otherwise an entry whose fields are `(known after apply)`.
    ///
    /// # Options
    /// - `timeout` (int, default 300): seconds to wait, 1 to 86400; then the call fails
    ///   with a `not found` error naming the file and the pattern.
    /// - `poll` (number, default 1): seconds between looks at the file, 0.1 to 60.
    ///
    /// # Returns
    /// The first matching `LogEntry` (in a plan, possibly one known after apply).
    ///
    /// # Permission
    /// Read access to the log file (on a site server, the Logs folder); none in
    /// Entra/Azure.
    ///
    /// # Example
    /// ```rhai
    /// let e = logs::wait_for("SMS_AZUREAD_DISCOVERY_AGENT.log", [
    ///     "Successfully published UDX for Microsoft Entra users",
    ///     "Successfully published UDX for Azure Active Directory users",
    /// ], #{ timeout: 600, poll: 2 });
    /// print(`user discovery published users at ${e.time} (line ${e.line})`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn wait_for(
        ctx: NativeCallContext,
        path: &str,
        pattern: Dynamic,
        options: Map,
    ) -> Result<LogEntry, Box<EvalAltResult>> {
        let f = "logs::wait_for";
        let c = Ctx::of(&ctx)?;
        let patterns = patterns(f, pattern).map_err(at(&ctx))?;
        let opts = options::parse::<model::WaitOptions>(f, options).map_err(at(&ctx))?;
        opts.validate(f).map_err(at(&ctx))?;
        let file = c.resolve_path(path);
        // A plan looks once: the line usually comes from a step the plan does not run.
        let timeout = if c.is_plan() {
            Duration::ZERO
        } else {
            Duration::from_secs(opts.timeout)
        };
        let mut token = None;
        let waited = ops::wait_for(
            &file,
            &patterns,
            timeout,
            Duration::from_secs_f64(opts.poll),
            || {
                token = interrupted(&ctx);
                token.is_some()
            },
        )
        .map_err(at(&ctx))?;
        match waited {
            ops::Waited::Found(e) => Ok(e.into()),
            ops::Waited::Cancelled => Err(EvalAltResult::ErrorTerminated(
                token.unwrap_or_else(|| Dynamic::from("interrupted")),
                ctx.call_position(),
            )
            .into()),
            ops::Waited::TimedOut { .. } if c.is_plan() => {
                c.output.note(&format!(
                    "{f}: a plan does not wait; an apply waits up to {} s for {} in {path}",
                    opts.timeout,
                    patterns_text(&patterns)
                ));
                Ok(LogEntry::planned())
            }
            ops::Waited::TimedOut { file_seen } => {
                let what = patterns_text(&patterns);
                let hint = if file_seen {
                    format!(
                        "{} exists but has no entry containing {what}: check the text \
                         (plain, case-sensitive) or raise `timeout`",
                        file.display()
                    )
                } else {
                    format!(
                        "{} was never created: check the path (relative paths are \
                         relative to the working directory) and that the component that \
                         logs {what} runs",
                        file.display()
                    )
                };
                Err(at(&ctx)(
                    ModuleError::not_found(format!(
                        "{f}: timed out after {} s waiting for {what} in {path}",
                        opts.timeout
                    ))
                    .with_hint(hint),
                ))
            }
        }
    }

    // ---- LogEntry ----

    /// The message (lines joined with `\n`; for a line that matches no format, its text).
    #[rhai_fn(global, get = "message", pure)]
    pub fn entry_message(e: &mut LogEntry) -> Dynamic {
        field(e, |x| Dynamic::from(x.message.clone()))
    }
    /// The component (`ccmsetup`, `SMS_AZUREAD_DISCOVERY_AGENT`), or `()`.
    #[rhai_fn(global, get = "component", pure)]
    pub fn entry_component(e: &mut LogEntry) -> Dynamic {
        field(e, |x| optional(x.component.clone()))
    }
    /// When it was logged, in UTC (RFC 3339, milliseconds: `2023-01-13T21:28:46.510Z`),
    /// or `()` when the entry has no time.
    #[rhai_fn(global, get = "time", pure)]
    pub fn entry_time(e: &mut LogEntry) -> Dynamic {
        field(e, |x| optional(x.stamp.map(|s| s.utc_text())))
    }
    /// When it was logged, in the writer's time zone (RFC 3339 with its offset:
    /// `2023-01-13T13:28:46.510-08:00`), or `()`.
    #[rhai_fn(global, get = "local_time", pure)]
    pub fn entry_local_time(e: &mut LogEntry) -> Dynamic {
        field(e, |x| optional(x.stamp.map(|s| s.local_text())))
    }
    /// The log's time bias in minutes (UTC = local time + bias: `480` is UTC-8), or `()`.
    #[rhai_fn(global, get = "bias_minutes", pure)]
    pub fn entry_bias_minutes(e: &mut LogEntry) -> Dynamic {
        field(e, |x| optional(x.stamp.map(|s| INT::from(s.bias_minutes))))
    }
    /// `info`, `warning` or `error` (client `type` 1, 2, 3; site-server lines are `info`).
    #[rhai_fn(global, get = "severity", pure)]
    pub fn entry_severity(e: &mut LogEntry) -> Dynamic {
        field(e, |x| Dynamic::from(x.severity.as_str().to_string()))
    }
    /// The thread id, or `()` (`thread` is a reserved word in Rhai).
    #[rhai_fn(global, get = "thread_id", pure)]
    pub fn entry_thread(e: &mut LogEntry) -> Dynamic {
        field(e, |x| {
            optional(x.thread.and_then(|t| INT::try_from(t).ok()))
        })
    }
    /// The 1-based line of the file where the entry starts.
    #[rhai_fn(global, get = "line", pure)]
    pub fn entry_line(e: &mut LogEntry) -> Dynamic {
        field(e, |x| {
            Dynamic::from(INT::try_from(x.line).unwrap_or(INT::MAX))
        })
    }
    /// The source file that logged it (client format: `ccmsetup.cpp:10632`), or `()`.
    #[rhai_fn(global, get = "file", pure)]
    pub fn entry_file(e: &mut LogEntry) -> Dynamic {
        field(e, |x| optional(x.file.clone()))
    }
    /// `<time> <severity> <component>: <message>`.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn entry_to_string(e: &mut LogEntry) -> String {
        e.to_string()
    }
}

pub fn module() -> rhai::Module {
    exported_module!(api)
}

/// The option keys of this module's functions.
pub fn option_specs() -> Vec<options::OptionSpec> {
    use options::OptionSpec;
    vec![OptionSpec::of::<model::WaitOptions>("logs::wait_for", &[])]
}

/// This module's types, with the line `comgmt doc` shows for each.
pub fn register_types(types: &mut rhai::Module) {
    crate::values::document_type::<LogEntry>(
        types,
        "LogEntry",
        "One entry of a CMTrace log, from `logs::read`, `logs::find` or `logs::wait_for`.",
    );
}
