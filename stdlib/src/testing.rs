//! Test support: an engine with every module and a run context, for unit and
//! integration tests inside the workspace. Not for scripts.

use crate::cloud::{Cloud, CloudConfig};
use crate::context::{Ctx, Mode};
use crate::journal::Journal;
use crate::output::CaptureOutput;
use std::path::Path;
use std::sync::Arc;

pub struct TestRun {
    pub engine: rhai::Engine,
    pub ctx: Arc<Ctx>,
    /// The same clients the context holds, for a test's own reads and writes (making
    /// drift by hand): scripts and ops never get a writer outside the write path.
    pub cloud: Arc<Cloud>,
    pub output: Arc<CaptureOutput>,
    /// Keeps the runtime the context's handle points at alive.
    pub runtime: Option<tokio::runtime::Runtime>,
}

/// An engine with all modules and a context in `mode`, whose cloud points at `base_url`
/// (pass any URL when the test makes no requests) and whose files resolve under `dir`.
/// The journal is `dir/.comgmt/journal.jsonl`.
pub fn run_in(mode: Mode, dir: &Path, base_url: &str, tenant: &str) -> TestRun {
    run_as(mode, dir, base_url, tenant, "test")
}

/// Like `run_in`, with the target named `target` (what `target()` returns to scripts).
pub fn run_as(mode: Mode, dir: &Path, base_url: &str, tenant: &str, target: &str) -> TestRun {
    let url = url::Url::parse(base_url).expect("test base url");
    run_with(mode, dir, CloudConfig::single_host(&url, tenant), target)
}

/// Like `run_as`, with the whole cloud configuration given (e.g. the emulator's DNS
/// server in `dns_servers`).
pub fn run_with(mode: Mode, dir: &Path, config: CloudConfig, target: &str) -> TestRun {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("test runtime");
    let cloud = Arc::new(Cloud::new(config).expect("cloud"));
    let output = Arc::new(CaptureOutput::default());
    let journal = match mode {
        Mode::Apply => Journal::at(dir.join(".comgmt/journal.jsonl")),
        Mode::Plan => Journal::disabled(),
    };
    let ctx = Ctx::new(
        mode,
        runtime.handle().clone(),
        cloud.clone(),
        journal,
        output.clone(),
        target,
        dir,
    );
    let mut engine = rhai::Engine::new();
    crate::register(&mut engine);
    ctx.install(&mut engine);
    let sink = output.clone();
    engine.on_print(move |s| crate::output::Output::print(sink.as_ref(), s));
    TestRun {
        engine,
        ctx,
        cloud,
        output,
        runtime: Some(runtime),
    }
}
