//! Engine assembly: resource limits, every stdlib module, and the module resolver that
//! makes `import "x" as y;` relative to the script. Shared by run, plan, check, repl and doc.

use rhai::Engine;

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
