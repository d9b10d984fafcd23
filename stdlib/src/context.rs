//! The run context every module function reaches through the Rhai call context's tag:
//! mode (plan or apply), the tokio handle, the cloud clients, the journal and the output.

use crate::change::{Summary, WritePermit};
use crate::cloud::access::{Reader, Writer};
use crate::cloud::Cloud;
use crate::error::{into_rhai, ModuleError};
use crate::journal::Journal;
use crate::output::Output;
use rhai::{Dynamic, EvalAltResult, NativeCallContext};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Read everything, write nothing, report what would change.
    Plan,
    /// Read, then write what differs.
    Apply,
}

pub struct Ctx {
    pub mode: Mode,
    pub rt: tokio::runtime::Handle,
    /// Private: ops read through [`Ctx::read`]; only the write path gets a writer.
    cloud: Arc<Cloud>,
    pub journal: Journal,
    pub output: Arc<dyn Output>,
    /// The target's name as shown in the journal ("emulator" or a profile name).
    pub target: String,
    /// Relative file paths in module options resolve against this folder: the working
    /// directory of the run, like `.comgmt/` (imports resolve against the script's folder).
    pub base_dir: PathBuf,
    pub(crate) summary: Mutex<Summary>,
    /// Notes already shown, so a note a module could repeat shows once per run.
    noted: Mutex<std::collections::HashSet<String>>,
    /// What a plan has planned to make true (`site:ABC:enhanced_http`): a later check
    /// in the same plan takes it as done, as the apply would find it.
    planned: Mutex<std::collections::HashSet<String>>,
}

/// The handle stored as the engine's default tag.
#[derive(Clone)]
pub struct CtxHandle(pub Arc<Ctx>);

impl Ctx {
    pub fn new(
        mode: Mode,
        rt: tokio::runtime::Handle,
        cloud: Arc<Cloud>,
        journal: Journal,
        output: Arc<dyn Output>,
        target: impl Into<String>,
        base_dir: impl Into<PathBuf>,
    ) -> Arc<Self> {
        Arc::new(Ctx {
            mode,
            rt,
            cloud,
            journal,
            output,
            target: target.into(),
            base_dir: base_dir.into(),
            summary: Mutex::new(Summary::default()),
            noted: Mutex::new(Default::default()),
            planned: Mutex::new(Default::default()),
        })
    }

    /// Install this context on an engine; module functions find it through the tag.
    pub fn install(self: &Arc<Self>, engine: &mut rhai::Engine) {
        engine.set_default_tag(Dynamic::from(CtxHandle(self.clone())));
    }

    /// The context of the running script, or an error at the call site when a module
    /// function runs outside a run (for example in `comgmt check`).
    pub fn of(call: &NativeCallContext) -> Result<Arc<Ctx>, Box<EvalAltResult>> {
        call.tag()
            .and_then(|t| t.clone().try_cast::<CtxHandle>())
            .map(|h| h.0)
            .ok_or_else(|| {
                into_rhai(
                    ModuleError::new(
                        crate::error::ErrorKind::Validation,
                        "module functions need a run context (use `comgmt run` or `comgmt plan`)",
                    ),
                    call.call_position(),
                )
            })
    }

    /// Read-only access to the cloud: all that ops get.
    pub fn read(&self) -> Reader<'_> {
        Reader::new(&self.cloud)
    }

    /// The writer, for the write path alone (a permit only `change` can make).
    pub(crate) fn writer(&self, permit: WritePermit) -> Writer<'_> {
        Writer::new(&self.cloud, permit)
    }

    pub fn is_plan(&self) -> bool {
        self.mode == Mode::Plan
    }

    /// Run a future to completion from a script thread (never from a runtime worker).
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// Show a note once per run.
    pub fn note_once(&self, text: &str) {
        let first = self
            .noted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(text.to_string());
        if first {
            self.output.note(text);
        }
    }

    /// Record that this plan makes `fact` true (see [`Ctx::planned`]).
    pub fn plan_fact(&self, fact: &str) {
        self.planned
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(fact.to_string());
    }

    /// Whether an earlier change of this plan makes `fact` true.
    pub fn planned(&self, fact: &str) -> bool {
        self.is_plan()
            && self
                .planned
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains(fact)
    }

    /// The counts so far: to create, update, unchanged.
    pub fn summary(&self) -> Summary {
        *self.summary.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Resolve a file path from a script against the run's working directory.
    pub fn resolve_path(&self, p: &str) -> PathBuf {
        let path = Path::new(p);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir.join(path)
        }
    }
}
