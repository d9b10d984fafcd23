//! `comgmt repl`: look things up and fix one thing by hand.
//!
//! - Runs against the embedded emulator by default (the same state and journal under
//!   `.comgmt/` as `comgmt run`), in apply mode; [`run_with`] takes any other session.
//! - Multi-line input while a statement is incomplete (the validator compiles the input:
//!   `UnexpectedEOF`, or a `MissingToken` at the end, means "keep reading").
//! - Tab completes module names, `module::function` names, global functions, names
//!   inside `help("...")`, and the functions and variables defined so far.
//! - `fn` definitions persist between entries: each entry is merged into an accumulated
//!   AST whose statements are then dropped, like rhai-repl.
//! - `help()` / `help("entra::server_app")` print the same text as `comgmt doc`.
//! - Errors are rendered like `comgmt run` renders them (line, label, hint) and the REPL
//!   goes on. The value of an expression statement is printed (`=> 42`).
//! - History in `.comgmt/repl_history` (see [`HISTORY_FILE`]).

use crate::diagnostics::{self, Diag, Sources};
use crate::docs::{self, DocSet};
use crate::render::{Console, OutputFormat};
use crate::target::{self, Connected, TargetSpec};
use comgmt_stdlib::cloud::Cloud;
use comgmt_stdlib::journal::Journal;
use comgmt_stdlib::{Ctx, Mode};
use rhai::{Dynamic, Engine, EvalAltResult, ParseErrorType, Scope, AST};
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::HistoryHinter;
use rustyline::history::FileHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{CompletionType, Config, Context, Editor, Helper, Hinter};
use std::any::Any;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// History lives with the state it acted on: the REPL works on the target whose state
/// and journal are in `.comgmt/` of the working directory, so the commands typed here
/// belong to that folder too (like the journal), and `.comgmt/` is already git-ignored.
/// A global `$XDG_STATE_HOME` history would mix commands for different tenants and sites.
pub const HISTORY_FILE: &str = ".comgmt/repl_history";
const PROMPT: &str = "comgmt> ";
const MAX_HISTORY: usize = 1000;
/// Same as `comgmt run`: deep Rhai expressions recurse.
const EVAL_STACK: usize = 16 * 1024 * 1024;

/// What the REPL evaluates against: an engine with a run context installed, and
/// whatever must stay alive while it is used (the tokio runtime, the emulator).
pub struct Session {
    pub engine: Engine,
    /// One line shown at start: which target this is.
    pub banner: String,
    /// Set (by a Ctrl-C handler) to stop the current evaluation; the REPL clears it
    /// before each entry. The session's engine must check it (`engine::cancel_on`).
    pub cancel: Arc<AtomicBool>,
    pub keep_alive: Option<Box<dyn Any>>,
}

/// The REPL on a session built by `make` (a test engine, a served emulator, a profile).
pub fn run_with(make: impl FnOnce() -> anyhow::Result<Session>) -> anyhow::Result<i32> {
    let docs = Arc::new(DocSet::load()?);
    let Session {
        mut engine,
        banner,
        cancel,
        keep_alive,
    } = make()?;
    register_help(&mut engine, docs.clone());
    let mut repl = Repl::new(engine, cancel);

    let dynamic = Arc::new(Mutex::new(Vec::new()));
    let helper = ReplHelper {
        completer: ReplCompleter {
            words: Words::from_docs(&docs),
            dynamic: dynamic.clone(),
        },
        validator: ReplValidator {
            engine: crate::engine::new_engine(),
        },
        hinter: HistoryHinter::new(),
    };
    let config = Config::builder()
        .auto_add_history(true)
        .max_history_size(MAX_HISTORY)?
        .history_ignore_dups(true)?
        .history_ignore_space(true)
        .completion_type(CompletionType::List)
        .build();
    let mut rl: Editor<ReplHelper, FileHistory> = Editor::with_config(config)?;
    rl.set_helper(Some(helper));
    let history = PathBuf::from(HISTORY_FILE);
    if let Some(dir) = history.parent() {
        // Without the folder there is simply no history; the REPL still works.
        let _ = std::fs::create_dir_all(dir);
    }
    match rl.load_history(&history) {
        Ok(()) => {}
        Err(ReadlineError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => eprintln!("note: cannot read {}: {e}", history.display()),
    }

    println!("{banner}");
    println!("help() lists modules, help(\"entra\") a module's functions; Tab completes; :quit or Ctrl-D exits.");
    loop {
        match rl.readline(PROMPT) {
            Ok(line) => match command(&line) {
                Some(Command::Quit) => break,
                Some(Command::Help) => print!("{}", help_index(&docs)),
                None if line.trim().is_empty() => {}
                None => {
                    report(repl.eval(&line));
                    if let Ok(mut d) = dynamic.lock() {
                        *d = repl.defined_names();
                    }
                }
            },
            // Ctrl-C abandons the line being typed, as in a shell.
            Err(ReadlineError::Interrupted) => println!("(Ctrl-C: :quit or Ctrl-D exits)"),
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                let _ = rl.save_history(&history);
                return Err(e.into());
            }
        }
    }
    if let Err(e) = rl.save_history(&history) {
        eprintln!("note: cannot save {}: {e}", history.display());
    }
    drop(repl);
    drop(keep_alive);
    Ok(crate::exit::OK)
}

fn report(result: Evaluated) {
    match result {
        Evaluated::Nothing => {}
        Evaluated::Value(text) => {
            println!("=> {text}");
        }
        Evaluated::Error(failure) => {
            let _ = std::io::stdout().flush();
            diagnostics::emit(&failure.sources, &[failure.diag], OutputFormat::Text);
        }
    }
}

/// A REPL command (not Rhai).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Quit,
    Help,
}

pub fn command(line: &str) -> Option<Command> {
    match line.trim() {
        ":quit" | ":q" | ":exit" | "quit" | "exit" => Some(Command::Quit),
        ":help" | ":h" | "help" => Some(Command::Help),
        _ => None,
    }
}

/// `help()`: the `comgmt doc` index plus how to use the REPL.
pub fn help_index(docs: &DocSet) -> String {
    let mut s = docs::help_text(docs, None).unwrap_or_default();
    s.push_str(
        "\nIn the REPL: help(\"MODULE\") or help(\"MODULE::FUNCTION\") prints the same text as \
         `comgmt doc`;\nTab completes names; a statement may span lines; :quit or Ctrl-D exits.\n",
    );
    s
}

/// `help()` and `help(name)` as script functions, so they work anywhere in an entry.
pub fn register_help(engine: &mut Engine, docs: Arc<DocSet>) {
    let index_docs = docs.clone();
    engine.register_fn("help", move || {
        print!("{}", help_index(&index_docs));
    });
    engine.register_fn("help", move |name: &str| {
        match docs::help_text(&docs, Some(name)) {
            Ok(text) => print!("{text}"),
            Err(unknown) => eprintln!("error: {unknown}"),
        }
    });
}

/// The result of one entry.
pub enum Evaluated {
    Nothing,
    /// The value of the last expression statement, as `to_debug` shows it.
    Value(String),
    /// A parse or runtime error, ready to render.
    Error(Box<Failure>),
}

/// An entry's error and the source it points into.
pub struct Failure {
    pub sources: Sources,
    pub diag: Diag,
}

/// The evaluation state: engine, variables, and the functions defined so far.
pub struct Repl {
    engine: Engine,
    scope: Scope<'static>,
    /// Only function definitions: statements are dropped after each entry.
    fns: AST,
    cancel: Arc<AtomicBool>,
    entries: usize,
}

impl Repl {
    pub fn new(engine: Engine, cancel: Arc<AtomicBool>) -> Self {
        Repl {
            engine,
            scope: Scope::new(),
            fns: AST::empty(),
            cancel,
            entries: 0,
        }
    }

    /// Evaluate one entry (one or more statements).
    pub fn eval(&mut self, input: &str) -> Evaluated {
        self.entries += 1;
        let name = format!("<repl:{}>", self.entries);
        let mut sources = Sources::new(std::env::current_dir().unwrap_or_else(|_| ".".into()));
        let main = sources.add_main(&name, input.to_string());
        let mut ast = match self.engine.compile_with_scope(&self.scope, input) {
            Ok(ast) => ast,
            Err(e) => {
                let diag = Diag::from_parse(main, &e);
                return Evaluated::Error(Box::new(Failure { sources, diag }));
            }
        };
        ast.set_source(name.as_str());
        // New definitions replace old ones with the same name and arity.
        let program = self.fns.merge(&ast);
        self.cancel.store(false, Ordering::Relaxed);
        let result = self.eval_on_big_stack(&program);
        ast.clear_statements();
        self.fns += ast;
        match result {
            Ok(v) if v.is_unit() => Evaluated::Nothing,
            Ok(v) => Evaluated::Value(self.show(v)),
            Err(e) => {
                let diag = Diag::from_eval(&mut sources, main, &e);
                Evaluated::Error(Box::new(Failure { sources, diag }))
            }
        }
    }

    fn eval_on_big_stack(&mut self, program: &AST) -> Result<Dynamic, Box<EvalAltResult>> {
        let engine = &self.engine;
        let scope = &mut self.scope;
        std::thread::scope(|s| {
            let handle = std::thread::Builder::new()
                .name("comgmt-repl".into())
                .stack_size(EVAL_STACK)
                .spawn_scoped(s, move || {
                    engine.eval_ast_with_scope::<Dynamic>(scope, program)
                });
            match handle {
                Ok(h) => h.join().unwrap_or_else(|_| {
                    Err("internal error: the evaluation panicked (please report this)".into())
                }),
                Err(e) => Err(format!("cannot start the evaluation thread: {e}").into()),
            }
        })
    }

    /// A value as `debug(...)` would show it: through the engine's `to_debug`, so a
    /// `Secret` shows `(secret)` and custom types their own text.
    fn show(&self, value: Dynamic) -> String {
        let fallback = format!("{value:?}");
        let mut scope = Scope::new();
        scope.push("value", value);
        self.engine
            .eval_with_scope::<String>(&mut scope, "to_debug(value)")
            .unwrap_or(fallback)
    }

    /// Functions and variables defined so far (for completion), sorted.
    pub fn defined_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .fns
            .iter_functions()
            .map(|f| format!("{}(", f.name))
            .chain(self.scope.iter().map(|(name, _, _)| name.to_string()))
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// Builds the default session: the target (embedded emulator unless told otherwise),
/// a run context in apply mode with the journal, print routed to the console, and
/// Ctrl-C stopping the current evaluation instead of the REPL.
pub fn session(spec: &TargetSpec) -> anyhow::Result<Session> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("comgmt-rt")
        .enable_all()
        .build()?;
    // Changes apply at once: hold the folder like a run does.
    let lock = crate::lock::acquire(
        std::path::Path::new(target::STATE_DIR),
        crate::lock::LockKind::Exclusive,
    )
    .map_err(|why| anyhow::anyhow!(why))?;
    let Connected {
        name,
        config,
        emulator,
    } = rt.block_on(target::connect(spec))?;
    let base_dir = std::env::current_dir()?;
    let console = Arc::new(Console::new(OutputFormat::Text, 0, Mode::Apply));
    let mut engine = crate::engine::script_engine(&base_dir, console.clone());
    let cloud = {
        let _guard = rt.enter();
        Cloud::new(config).map_err(|e| anyhow::anyhow!("{e}"))?
    };
    let ctx = Ctx::new(
        Mode::Apply,
        rt.handle().clone(),
        Arc::new(cloud),
        Journal::at(target::JOURNAL_FILE),
        console,
        name.clone(),
        base_dir,
    );
    ctx.install(&mut engine);
    let cancel = Arc::new(AtomicBool::new(false));
    crate::engine::cancel_on(&mut engine, cancel.clone());
    {
        // While a line is typed the terminal is raw and Ctrl-C reaches rustyline as a key;
        // during an evaluation it is a signal, which stops the evaluation only.
        let cancel = cancel.clone();
        rt.spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                cancel.store(true, Ordering::Relaxed);
            }
        });
    }
    let banner = match (&emulator, spec) {
        (Some(_), TargetSpec::Embedded { state, .. }) => format!(
            "comgmt repl: target {name} (embedded, state {}), apply mode, journal {}",
            state.display(),
            target::JOURNAL_FILE
        ),
        _ => format!(
            "comgmt repl: target {name}, apply mode, journal {}",
            target::JOURNAL_FILE
        ),
    };
    Ok(Session {
        engine,
        banner,
        cancel,
        keep_alive: Some(Box::new(Running {
            emulator,
            rt: Some(rt),
            _lock: lock,
        })),
    })
}

/// Stops the embedded emulator, then the runtime, when the REPL ends.
struct Running {
    emulator: Option<comgmt_emulator::EmulatorHandle>,
    rt: Option<tokio::runtime::Runtime>,
    /// The folder's run lock, released last.
    _lock: Option<crate::lock::RunLock>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            if let Some(h) = self.emulator.take() {
                rt.block_on(async {
                    let _ = tokio::time::timeout(Duration::from_secs(5), h.shutdown()).await;
                });
            }
            rt.shutdown_timeout(Duration::from_secs(2));
        }
    }
}

// ---- rustyline helper ----

#[derive(Helper, Hinter)]
pub struct ReplHelper {
    completer: ReplCompleter,
    validator: ReplValidator,
    #[rustyline(Hinter)]
    hinter: HistoryHinter,
}

impl Completer for ReplHelper {
    type Candidate = Pair;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        self.completer.complete(line, pos, ctx)
    }
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        self.validator.validate(ctx)
    }
}

impl Highlighter for ReplHelper {}

/// The names completion offers, from the docs.
#[derive(Debug, Clone, Default)]
pub struct Words {
    /// `cert`, `entra`, ...
    pub modules: Vec<String>,
    /// `entra::server_app`, ... and global functions (`secret`).
    pub functions: Vec<String>,
    /// Everything `help("...")` accepts (modules, functions, types).
    pub topics: Vec<String>,
}

impl Words {
    pub fn from_docs(docs: &DocSet) -> Self {
        let mut functions: Vec<String> = docs.all_functions().map(|f| f.qualified_name()).collect();
        functions.push("help".into());
        functions.sort();
        let mut topics = docs.names();
        topics.sort();
        Words {
            modules: docs.modules.iter().map(|m| m.name.clone()).collect(),
            functions,
            topics,
        }
    }
}

pub struct ReplCompleter {
    words: Words,
    /// Functions (`name(`) and variables defined in this session.
    dynamic: Arc<Mutex<Vec<String>>>,
}

impl Completer for ReplCompleter {
    type Candidate = Pair;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let dynamic = self.dynamic.lock().map(|d| d.clone()).unwrap_or_default();
        Ok(complete(&self.words, &dynamic, line, pos))
    }
}

/// Completion at byte `pos` of `line`: the start of the word being completed and the
/// candidates (functions end in `(`, modules in `::`).
pub fn complete(words: &Words, dynamic: &[String], line: &str, pos: usize) -> (usize, Vec<Pair>) {
    let Some(before) = line.get(..pos) else {
        return (pos, Vec::new());
    };
    if before.starts_with(':') && !before.contains(' ') {
        let cands = [":help", ":quit"]
            .iter()
            .filter(|c| c.starts_with(before))
            .map(|c| pair(c, c))
            .collect();
        return (0, cands);
    }
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
        .last()
        .map_or(pos, |(i, _)| i);
    let word = &before[start..];
    let prefix = &before[..start];

    // Inside `help("...`: every documented name, no parenthesis.
    if let Some(p) = prefix.strip_suffix('"') {
        if p.trim_end().ends_with("help(") {
            let cands = words
                .topics
                .iter()
                .filter(|t| t.starts_with(word))
                .map(|t| pair(t, t))
                .collect();
            return (start, cands);
        }
        return (pos, Vec::new()); // inside some other string
    }

    let mut cands: Vec<Pair> = Vec::new();
    if word.contains("::") {
        cands.extend(
            words
                .functions
                .iter()
                .filter(|f| f.contains("::") && f.starts_with(word))
                .map(|f| pair(f, &format!("{f}("))),
        );
    } else {
        cands.extend(
            words
                .modules
                .iter()
                .filter(|m| m.starts_with(word))
                .map(|m| pair(&format!("{m}::"), &format!("{m}::"))),
        );
        cands.extend(
            words
                .functions
                .iter()
                .filter(|f| !f.contains("::") && f.starts_with(word))
                .map(|f| pair(f, &format!("{f}("))),
        );
        cands.extend(
            dynamic
                .iter()
                .filter(|d| !word.is_empty() && d.starts_with(word))
                .map(|d| pair(d.trim_end_matches('('), d)),
        );
    }
    cands.sort_by(|a, b| a.display.cmp(&b.display));
    cands.dedup_by(|a, b| a.display == b.display);
    (start, cands)
}

fn pair(display: &str, replacement: &str) -> Pair {
    Pair {
        display: display.to_string(),
        replacement: replacement.to_string(),
    }
}

pub struct ReplValidator {
    /// Compiles only: no context, no state.
    engine: Engine,
}

impl Validator for ReplValidator {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(if needs_more_input(&self.engine, ctx.input()) {
            ValidationResult::Incomplete
        } else {
            // Complete, or an error that more lines cannot fix: evaluate and report it.
            ValidationResult::Valid(None)
        })
    }
}

/// True when `input` is an unfinished statement (an open block, call or expression),
/// so Enter should start a new line instead of evaluating.
pub fn needs_more_input(engine: &Engine, input: &str) -> bool {
    if input.trim().is_empty() || command(input).is_some() {
        return false;
    }
    match engine.compile(input) {
        Ok(_) => false,
        Err(e) => match e.err_type() {
            ParseErrorType::UnexpectedEOF => true,
            // A missing `}` or `)` reported at the end of the input, not in the middle.
            ParseErrorType::MissingToken(..) => {
                let lines = input.trim_end().lines().count();
                e.position().line().is_none_or(|l| l >= lines)
            }
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docs::model::{FnDoc, ModuleDoc};

    fn words() -> Words {
        let set = DocSet {
            modules: vec![
                ModuleDoc {
                    name: "cert".into(),
                    summary: "Certs.".into(),
                    functions: vec![],
                },
                ModuleDoc {
                    name: "entra".into(),
                    summary: "Entra.".into(),
                    functions: ["server_app", "client_app", "consent"]
                        .iter()
                        .map(|n| FnDoc {
                            module: Some("entra".into()),
                            name: n.to_string(),
                            ..FnDoc::default()
                        })
                        .collect(),
                },
            ],
            globals: vec![FnDoc {
                name: "secret".into(),
                ..FnDoc::default()
            }],
            types: vec![],
        };
        Words::from_docs(&set)
    }

    fn replacements(line: &str, dynamic: &[String]) -> (usize, Vec<String>) {
        let (start, pairs) = complete(&words(), dynamic, line, line.len());
        (start, pairs.into_iter().map(|p| p.replacement).collect())
    }

    #[test]
    fn completes_modules_functions_and_globals() {
        assert_eq!(replacements("ent", &[]), (0, vec!["entra::".to_string()]));
        assert_eq!(
            replacements("let a = entra::s", &[]),
            (8, vec!["entra::server_app(".to_string()])
        );
        assert_eq!(
            replacements("entra::c", &[]).1,
            ["entra::client_app(", "entra::consent("]
        );
        assert_eq!(
            replacements("print(sec", &[]),
            (6, vec!["secret(".to_string()])
        );
        assert_eq!(replacements("he", &[]).1, ["help("]);
        assert_eq!(replacements("x + unknown", &[]).1, Vec::<String>::new());
    }

    #[test]
    fn completes_inside_help_strings_and_commands() {
        assert_eq!(
            replacements("help(\"entra::se", &[]),
            (6, vec!["entra::server_app".to_string()])
        );
        assert_eq!(replacements("print(\"ent", &[]).1, Vec::<String>::new());
        assert_eq!(replacements(":q", &[]), (0, vec![":quit".to_string()]));
    }

    #[test]
    fn completes_names_defined_in_the_session() {
        let dynamic = vec!["double(".to_string(), "doubled".to_string()];
        assert_eq!(replacements("dou", &dynamic).1, ["double(", "doubled"]);
    }

    #[test]
    fn completion_never_panics_on_odd_positions() {
        let w = words();
        for line in ["", "é", "entra::", "help(\"", "a é b::"] {
            for pos in 0..=line.len() + 1 {
                let _ = complete(&w, &[], line, pos);
            }
        }
    }

    #[test]
    fn validator_waits_for_unfinished_statements() {
        let engine = crate::engine::new_engine();
        assert!(needs_more_input(&engine, "fn f(x) {"));
        assert!(needs_more_input(&engine, "fn f(x) {\n  x * 2"));
        assert!(!needs_more_input(&engine, "fn f(x) {\n  x * 2\n}"));
        assert!(needs_more_input(&engine, "let m = #{"));
        assert!(needs_more_input(&engine, "print(1 +"));
        assert!(!needs_more_input(&engine, "1 + 2"));
        assert!(!needs_more_input(&engine, ":quit"));
        assert!(!needs_more_input(&engine, ""));
        // Errors more lines cannot fix are submitted (and reported).
        assert!(!needs_more_input(&engine, "let x = \"open"));
        assert!(!needs_more_input(&engine, "let = 3;"));
    }

    fn repl() -> Repl {
        let mut engine = crate::engine::new_engine();
        register_help(&mut engine, Arc::new(DocSet::default()));
        Repl::new(engine, Arc::new(AtomicBool::new(false)))
    }

    fn value(r: &mut Repl, input: &str) -> String {
        match r.eval(input) {
            Evaluated::Value(v) => v,
            Evaluated::Nothing => "()".into(),
            Evaluated::Error(f) => {
                format!(
                    "error: {}",
                    diagnostics::render_to_string(&f.sources, &f.diag)
                )
            }
        }
    }

    #[test]
    fn functions_and_variables_persist_between_entries() {
        let mut r = repl();
        assert_eq!(value(&mut r, "fn double(x) {\n  x * 2\n}"), "()");
        assert_eq!(value(&mut r, "let n = double(21);"), "()");
        assert_eq!(value(&mut r, "n"), "42");
        assert_eq!(value(&mut r, "double(n)"), "84");
        // A redefinition replaces the old one.
        assert_eq!(value(&mut r, "fn double(x) { x * 3 }"), "()");
        assert_eq!(value(&mut r, "double(2)"), "6");
        assert_eq!(value(&mut r, "\"text\""), "\"text\"");
        let names = r.defined_names();
        assert!(names.contains(&"double(".to_string()) && names.contains(&"n".to_string()));
    }

    #[test]
    fn errors_are_reported_with_the_line_and_the_repl_goes_on() {
        let mut r = repl();
        let out = value(&mut r, "let a = 1;\nnope(a)");
        assert!(out.starts_with("error:"), "{out}");
        assert!(out.contains("nope(a)") && out.contains(":2:"), "{out}");
        let out = value(&mut r, "let = ;");
        assert!(out.contains("syntax error"), "{out}");
        assert_eq!(value(&mut r, "a + 1"), "2");
    }

    #[test]
    fn secrets_never_echo() {
        std::env::set_var("COMGMT_REPL_TEST_SECRET", "hunter2");
        let mut r = repl();
        let out = value(&mut r, "secret(\"COMGMT_REPL_TEST_SECRET\")");
        assert_eq!(out, "(secret)");
        let out = value(&mut r, "#{ pw: secret(\"COMGMT_REPL_TEST_SECRET\") }");
        assert!(!out.contains("hunter2"), "{out}");
    }

    #[test]
    fn help_prints_what_comgmt_doc_prints() {
        let docs = DocSet::load().expect("docs");
        for name in ["secret", "cert"] {
            let mut out = Vec::new();
            assert_eq!(docs::doc_command(Some(name), &mut out).ok(), Some(0));
            let doc = String::from_utf8(out).unwrap_or_default();
            assert_eq!(docs::help_text(&docs, Some(name)).ok(), Some(doc));
        }
        assert!(help_index(&docs).starts_with(&docs::help_text(&docs, None).unwrap_or_default()));
        assert_eq!(command(" :quit "), Some(Command::Quit));
        assert_eq!(command("help"), Some(Command::Help));
        assert_eq!(command("help(\"x\")"), None);
    }
}
