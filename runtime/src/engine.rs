//! Engine assembly: resource limits, every stdlib module, and the module resolver that
//! makes `import "x" as y;` relative to the script. Shared by run, plan, check, repl and doc.

use comgmt_stdlib::output::Output;
use rhai::module_resolvers::FileModuleResolver;
use rhai::{Dynamic, Engine, Map, Scope};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Sandbox limits. Runbooks are small; these stop a runaway loop or a huge string
/// long before they hurt the machine, and every limit error carries a position.
pub const MAX_OPERATIONS: u64 = 50_000_000;
pub const MAX_CALL_LEVELS: usize = 64;
pub const MAX_EXPR_DEPTH: usize = 128;
pub const MAX_FN_EXPR_DEPTH: usize = 64;
pub const MAX_STRING_SIZE: usize = 4 * 1024 * 1024;
pub const MAX_ARRAY_SIZE: usize = 100_000;
pub const MAX_MAP_SIZE: usize = 100_000;
pub const MAX_MODULES: usize = 64;

/// An engine with the limits and every stdlib module, but no run context: fine for
/// `check`, `doc` and the REPL's completion; `run`/`plan` install a context on top.
pub fn new_engine() -> Engine {
    let mut engine = Engine::new();
    engine
        .set_max_operations(MAX_OPERATIONS)
        .set_max_call_levels(MAX_CALL_LEVELS)
        .set_max_expr_depths(MAX_EXPR_DEPTH, MAX_FN_EXPR_DEPTH)
        .set_max_string_size(MAX_STRING_SIZE)
        .set_max_array_size(MAX_ARRAY_SIZE)
        .set_max_map_size(MAX_MAP_SIZE)
        .set_max_modules(MAX_MODULES);
    comgmt_stdlib::register(&mut engine);
    engine
}

/// An engine for running one script file: `new_engine()` plus `import "x" as y;`
/// resolved relative to `base_dir` (the script's folder), and `print`/`debug` routed to
/// `output`. `run`/`plan` install a run context on top (`Ctx::install`).
pub fn script_engine(base_dir: &Path, output: Arc<dyn Output>) -> Engine {
    let mut engine = new_engine();
    engine.set_module_resolver(FileModuleResolver::new_with_path(base_dir));
    route_output(&mut engine, output);
    engine
}

/// Send the script's `print` and `debug` to `output` (never straight to stdout).
pub fn route_output(engine: &mut Engine, output: Arc<dyn Output>) {
    let out = output.clone();
    engine.on_print(move |text| out.print(text));
    engine.on_debug(move |text, source, pos| {
        let text = match (source, pos.line()) {
            (Some(src), Some(line)) => format!("{src}:{line}: {text}"),
            (None, Some(line)) => format!("line {line}: {text}"),
            _ => text.to_string(),
        };
        output.debug(&text)
    });
}

/// Stop the script at its next operation once `cancel` is set (Ctrl-C). The error is
/// `ErrorTerminated`, reported as "interrupted".
pub fn cancel_on(engine: &mut Engine, cancel: Arc<AtomicBool>) {
    engine.on_progress(move |_ops| {
        cancel
            .load(Ordering::Relaxed)
            .then(|| Dynamic::from("interrupted"))
    });
}

/// A scope holding the `vars` constant: the `--var KEY=VALUE` pairs as a map of
/// strings (the last value wins for a repeated key).
pub fn vars_scope(vars: &[(String, String)]) -> Scope<'static> {
    let mut map = Map::new();
    for (k, v) in vars {
        map.insert(k.as_str().into(), Dynamic::from(v.clone()));
    }
    let mut scope = Scope::new();
    scope.push_constant("vars", map);
    scope
}

#[cfg(test)]
mod tests {
    use super::*;
    use comgmt_stdlib::output::CaptureOutput;

    #[test]
    fn vars_reach_the_script_as_strings() {
        let engine = new_engine();
        let mut scope = vars_scope(&[("a".into(), "1".into()), ("a".into(), "2".into())]);
        let v: String = engine
            .eval_with_scope(&mut scope, "vars.a + type_of(vars.a)")
            .unwrap_or_default();
        assert_eq!(v, "2string");
    }

    #[test]
    fn print_goes_to_the_output() {
        let out = Arc::new(CaptureOutput::default());
        let engine = script_engine(Path::new("."), out.clone());
        assert!(engine.run("print(`x${1 + 1}`);").is_ok());
        assert_eq!(
            out.lines.lock().map(|l| l.clone()).unwrap_or_default(),
            vec!["x2".to_string()]
        );
    }

    #[test]
    fn cancel_stops_a_loop() {
        let mut engine = new_engine();
        let flag = Arc::new(AtomicBool::new(true));
        cancel_on(&mut engine, flag);
        let err = engine.run("loop {}").err();
        assert!(matches!(
            err.as_deref(),
            Some(rhai::EvalAltResult::ErrorTerminated(..))
        ));
    }
}
