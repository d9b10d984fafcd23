//! `comgmt`, the runtime: CLI, engine assembly, diagnostics, plan/apply runs, targets and
//! profiles, the standalone emulator, and the REPL and `doc` commands.
//!
//! The binary is `cli::main()`; the other modules are public so the REPL, the docs
//! generator and tests can assemble the same engine and targets.

pub mod check;
pub mod cli;
pub mod diagnostics;
pub mod docs;
pub mod engine;
pub mod lock;
pub mod logging;
pub mod powershell;
pub mod profile;
pub mod render;
pub mod repl;
pub mod run;
pub mod serve;
pub mod target;

/// Exit codes: 0 ok, 1 script or remote error, 2 usage (bad arguments, unreadable
/// script, invalid profile), 130 interrupted (Ctrl-C).
pub mod exit {
    pub const OK: i32 = 0;
    pub const FAILURE: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const INTERRUPTED: i32 = 130;
}
