//! The one error type every module returns, and its conversion into a Rhai error that
//! keeps the script position (namespaced native calls lose
//! it otherwise: Rhai does not fill in their call position).

use rhai::{Dynamic, EvalAltResult, Position};
use serde::Serialize;
use std::fmt;

/// What went wrong, in the terms an admin acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The script gave a value that breaks a rule; nothing was sent.
    Validation,
    /// The object asked for does not exist.
    NotFound,
    /// The object exists in a state that conflicts with the request.
    Conflict,
    /// No token, a bad credential, or an expired token.
    Auth,
    /// Authenticated, but not allowed.
    Permission,
    /// The service kept throttling past the retry budget.
    Throttled,
    /// The service answered with an error.
    Remote,
    /// The request did not reach the service or no answer came back.
    Transport,
    /// A local file could not be read or written.
    Io,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Validation => "validation",
            ErrorKind::NotFound => "not found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Auth => "auth",
            ErrorKind::Permission => "permission",
            ErrorKind::Throttled => "throttled",
            ErrorKind::Remote => "remote",
            ErrorKind::Transport => "transport",
            ErrorKind::Io => "io",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A module error: kind, message, an optional hint, and the remote code, HTTP status and
/// request id when a service produced it. Messages never contain secrets: callers build
/// them from names and rules, never from secret values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModuleError {
    pub kind: ErrorKind,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ModuleError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ModuleError {
            kind,
            message: message.into(),
            hint: None,
            remote_code: None,
            status: None,
            request_id: None,
        }
    }
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Validation, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }
    pub fn io(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Io, message)
    }
    pub fn transport(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Transport, message)
    }
    pub fn remote(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Remote, message)
    }
    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Auth, message)
    }
    pub fn permission(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Permission, message)
    }
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    /// A service's answer: its error code, HTTP status and request id, and a hint when
    /// the surface has one for this kind of failure.
    pub fn from_service(
        kind: ErrorKind,
        message: impl Into<String>,
        code: Option<String>,
        status: u16,
        request_id: Option<String>,
        hint: Option<String>,
    ) -> Self {
        ModuleError {
            remote_code: code,
            status: Some(status),
            request_id,
            hint,
            ..Self::new(kind, message)
        }
    }
    /// An I/O error on `path`, with the OS reason.
    pub fn io_at(action: &str, path: &std::path::Path, err: &std::io::Error) -> Self {
        Self::io(format!("cannot {action} {}: {err}", path.display()))
    }
}

impl fmt::Display for ModuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(code) = &self.remote_code {
            write!(f, " [{code}")?;
            if let Some(status) = self.status {
                write!(f, ", HTTP {status}")?;
            }
            write!(f, "]")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request-id {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ModuleError {}

pub type Result<T, E = ModuleError> = std::result::Result<T, E>;

/// Turn a module error into a Rhai runtime error at `pos`. The payload is the
/// `ModuleError` itself, so the runtime can render kind, hint and request id, and a
/// script's `catch (e)` sees a typed value.
pub fn into_rhai(err: ModuleError, pos: Position) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(Dynamic::from(err), pos).into()
}

/// Find the `ModuleError` inside a Rhai error, looking through function-call wrappers.
pub fn find_module_error(err: &EvalAltResult) -> Option<ModuleError> {
    match err {
        EvalAltResult::ErrorRuntime(value, _) => value.clone().try_cast::<ModuleError>(),
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
        | EvalAltResult::ErrorInModule(_, inner, _) => find_module_error(inner),
        _ => None,
    }
}

/// Adapter used by bindings: `ops_call().map_err(at(&ctx))?`.
pub fn at(ctx: &rhai::NativeCallContext<'_>) -> impl Fn(ModuleError) -> Box<EvalAltResult> {
    let pos = ctx.call_position();
    move |e| into_rhai(e, pos)
}
