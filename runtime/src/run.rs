//! `comgmt run` and `comgmt plan`: compile the script, resolve the target, then run the
//! script on a dedicated thread (never a tokio worker: module functions `block_on` the
//! runtime, and a tokio worker that did would panic) while the multi-thread runtime hosts the embedded
//! emulator and HTTP. Ctrl-C stops the script at its next operation.

use crate::diagnostics::{self, Diag, Sources};
use crate::lock::{self, LockKind};
use crate::render::{Console, OutputFormat};
use crate::target::{self, Connected, TargetSpec, UsageError};
use comgmt_stdlib::cloud::Cloud;
use comgmt_stdlib::journal::Journal;
use comgmt_stdlib::{Ctx, Mode};
use rhai::EvalAltResult;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Stack for the script thread: deep Rhai expressions recurse.
const SCRIPT_STACK: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub file: PathBuf,
    pub vars: Vec<(String, String)>,
    pub target: TargetSpec,
    pub mode: Mode,
    pub format: OutputFormat,
    pub verbose: u8,
    /// `plan --powershell FILE`: where the site's changes go as cmdlets.
    pub powershell: Option<PathBuf>,
}

/// The folder imports and relative paths resolve against.
pub fn script_dir(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Run or plan a script; returns the exit code.
pub fn execute(opts: &RunOptions) -> i32 {
    let format = opts.format;
    if opts.powershell.is_some() && opts.mode == Mode::Apply {
        diagnostics::emit_plain(
            format,
            "usage",
            "--powershell goes with `comgmt plan`: a run makes the changes itself",
        );
        return crate::exit::USAGE;
    }
    let text = match std::fs::read_to_string(&opts.file) {
        Ok(t) => t,
        Err(e) => {
            diagnostics::emit_plain(
                format,
                "usage",
                &format!("cannot read {}: {e}", opts.file.display()),
            );
            return crate::exit::USAGE;
        }
    };
    let name = opts.file.display().to_string();
    let base_dir = script_dir(&opts.file);
    let mut sources = Sources::new(&base_dir);
    let main = sources.add_main(&name, text);

    let console = Arc::new(Console::new(format, opts.verbose, opts.mode));
    let mut engine = crate::engine::script_engine(&base_dir, console.clone());
    // Compile before starting anything, so a syntax error costs nothing.
    let mut ast = match engine.compile(sources.text(main)) {
        Ok(ast) => ast,
        Err(e) => {
            diagnostics::emit(&sources, &[Diag::from_parse(main, &e)], format);
            return crate::exit::FAILURE;
        }
    };
    ast.set_source(name.as_str());

    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("comgmt-rt")
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            diagnostics::emit_plain(
                format,
                "io",
                &format!("cannot start the async runtime: {e}"),
            );
            return crate::exit::FAILURE;
        }
    };

    // Held until the run ends: no second run in this folder meanwhile.
    let lock_kind = match opts.mode {
        Mode::Apply => LockKind::Exclusive,
        Mode::Plan => LockKind::Shared,
    };
    let _lock = match lock::acquire(Path::new(target::STATE_DIR), lock_kind) {
        Ok(l) => l,
        Err(why) => {
            diagnostics::emit_plain(format, "conflict", &why);
            return crate::exit::FAILURE;
        }
    };

    let connected: Connected = match rt.block_on(target::connect(&opts.target)) {
        Ok(c) => c,
        Err(e) => {
            let usage = e.downcast_ref::<UsageError>().is_some();
            diagnostics::emit_plain(
                format,
                if usage { "usage" } else { "transport" },
                &format!("{e:#}"),
            );
            return if usage {
                crate::exit::USAGE
            } else {
                crate::exit::FAILURE
            };
        }
    };
    let Connected {
        name: target_name,
        config,
        emulator,
    } = connected;

    let code = {
        // Cloud clients are built inside the runtime (they need none to build,
        // but keep every client on the same one).
        let _guard = rt.enter();
        match Cloud::new(config) {
            Ok(cloud) => {
                let journal = match opts.mode {
                    Mode::Apply => Journal::at(target::JOURNAL_FILE),
                    Mode::Plan => Journal::disabled(),
                };
                let ctx = Ctx::new(
                    opts.mode,
                    rt.handle().clone(),
                    Arc::new(cloud),
                    journal,
                    console.clone(),
                    target_name,
                    // Files a script names (keys, CSRs, PFX) land in the working directory,
                    // next to `.comgmt/`, not in the folder the runbook is kept in.
                    std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
                );
                ctx.install(&mut engine);
                drop(_guard);
                run_script(&rt, engine, ast, opts, &ctx, &console, &mut sources, main)
            }
            Err(e) => {
                drop(_guard);
                let d = Diag::from_module_error(&e);
                diagnostics::emit(&sources, &[d], format);
                crate::exit::FAILURE
            }
        }
    };

    if let Some(h) = emulator {
        rt.block_on(async {
            let _ = tokio::time::timeout(Duration::from_secs(5), h.shutdown()).await;
        });
    }
    rt.shutdown_timeout(Duration::from_secs(2));
    code
}

#[allow(clippy::too_many_arguments)]
fn run_script(
    rt: &tokio::runtime::Runtime,
    mut engine: rhai::Engine,
    ast: rhai::AST,
    opts: &RunOptions,
    ctx: &Arc<Ctx>,
    console: &Arc<Console>,
    sources: &mut Sources,
    main: usize,
) -> i32 {
    let cancel = Arc::new(AtomicBool::new(false));
    crate::engine::cancel_on(&mut engine, cancel.clone());
    let interrupt = {
        let cancel = cancel.clone();
        rt.spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.store(true, Ordering::Relaxed);
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "interrupted: stopping after the current step (Ctrl-C again to quit now)"
                );
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(crate::exit::INTERRUPTED);
                }
            }
        })
    };

    let mut scope = crate::engine::vars_scope(&opts.vars);
    let thread = std::thread::Builder::new()
        .name("comgmt-script".into())
        .stack_size(SCRIPT_STACK)
        .spawn(move || engine.run_ast_with_scope(&mut scope, &ast));
    let result: Result<(), Box<EvalAltResult>> = match thread {
        Ok(handle) => match handle.join() {
            Ok(r) => r,
            Err(_) => {
                interrupt.abort();
                diagnostics::emit_plain(
                    opts.format,
                    "internal",
                    "internal error: the script thread panicked (please report this)",
                );
                return crate::exit::FAILURE;
            }
        },
        Err(e) => {
            interrupt.abort();
            diagnostics::emit_plain(
                opts.format,
                "io",
                &format!("cannot start the script thread: {e}"),
            );
            return crate::exit::FAILURE;
        }
    };
    interrupt.abort();

    let summary = ctx.summary();
    match result {
        Ok(()) => {
            console.summary(&summary);
            if let Some(path) = &opts.powershell {
                let script = opts.file.display().to_string();
                if let Err(e) = console.powershell.write(path, &script) {
                    diagnostics::emit_plain(
                        opts.format,
                        "io",
                        &format!("cannot write {}: {e}", path.display()),
                    );
                    return crate::exit::FAILURE;
                }
                if opts.format == OutputFormat::Text {
                    let _ = writeln!(
                        std::io::stderr().lock(),
                        "the site's changes as PowerShell: {}",
                        path.display()
                    );
                }
            }
            crate::exit::OK
        }
        Err(err) => {
            let d = Diag::from_eval(sources, main, &err);
            let interrupted = d.kind == "interrupted";
            diagnostics::emit(sources, &[d], opts.format);
            if opts.mode == Mode::Apply
                && summary.changes() > 0
                && opts.format == OutputFormat::Text
            {
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "note: {} change(s) were applied before the error (see {}); re-run to resume",
                    summary.changes(),
                    target::JOURNAL_FILE
                );
            }
            if interrupted {
                crate::exit::INTERRUPTED
            } else {
                crate::exit::FAILURE
            }
        }
    }
}
