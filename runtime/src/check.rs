//! `comgmt check FILE`: parse the script and every script module it imports, then walk
//! each AST and resolve every `module::function(...)` call against the registered
//! modules (and the imported scripts' functions) with its arity. Every problem is
//! reported with its span; nothing touches the network.

use crate::diagnostics::{self, Diag, Sources};
use crate::render::OutputFormat;
use rhai::{ASTNode, Engine, Expr, FnAccess, Stmt, AST};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::Path;

/// Function name -> the argument counts it accepts.
pub type Functions = BTreeMap<String, BTreeSet<usize>>;

/// What a check found.
pub struct Report {
    pub sources: Sources,
    pub diags: Vec<Diag>,
    /// Files parsed (the script and its imported modules).
    pub files: usize,
    /// Qualified calls resolved.
    pub calls: usize,
}

/// The registered modules and their functions, from the engine's own metadata.
pub fn registered_modules(engine: &Engine) -> BTreeMap<String, Functions> {
    let mut out = BTreeMap::new();
    let Ok(text) = engine.gen_fn_metadata_to_json(false) else {
        return out;
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
        return out;
    };
    if let Some(mods) = v.get("modules").and_then(|m| m.as_object()) {
        for (name, m) in mods {
            let fns: &mut Functions = out.entry(name.clone()).or_default();
            for f in m
                .get("functions")
                .and_then(|f| f.as_array())
                .into_iter()
                .flatten()
            {
                let (Some(fname), Some(n)) = (
                    f.get("name").and_then(|n| n.as_str()),
                    f.get("numParams").and_then(|n| n.as_u64()),
                ) else {
                    continue;
                };
                if fname.contains('$')
                    || f.get("access").and_then(|a| a.as_str()) == Some("private")
                {
                    continue; // getters, setters, operators
                }
                fns.entry(fname.to_string()).or_default().insert(n as usize);
            }
        }
    }
    out
}

/// The public functions a script module exports.
fn script_exports(ast: &AST) -> Functions {
    let mut out = Functions::new();
    for f in ast.iter_functions() {
        if f.access == FnAccess::Public {
            out.entry(f.name.to_string())
                .or_default()
                .insert(f.params.len());
        }
    }
    out
}

struct Call {
    module: String,
    name: String,
    args: usize,
    pos: rhai::Position,
    /// Keys of the map literals among the arguments, with their positions.
    option_keys: Vec<(String, rhai::Position)>,
}

struct Import {
    path: Option<String>,
    alias: String,
    pos: rhai::Position,
}

fn collect(ast: &AST) -> (Vec<Import>, Vec<Call>) {
    let mut imports = Vec::new();
    let mut calls = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Stmt(Stmt::Import(x, pos))) => {
                let (expr, alias) = &**x;
                let path = match expr {
                    Expr::StringConstant(s, _) => Some(s.to_string()),
                    _ => None,
                };
                imports.push(Import {
                    path,
                    alias: alias.name.to_string(),
                    pos: *pos,
                });
            }
            Some(ASTNode::Expr(Expr::FnCall(x, pos)))
            | Some(ASTNode::Stmt(Stmt::FnCall(x, pos)))
                if !x.namespace.is_empty() =>
            {
                let ns_pos = x.namespace.position();
                calls.push(Call {
                    module: x.namespace.root().to_string(),
                    name: x.name.to_string(),
                    args: x.args.len(),
                    pos: if ns_pos.is_none() { *pos } else { ns_pos },
                    option_keys: x.args.iter().flat_map(map_literal_keys).collect(),
                });
            }
            _ => {}
        }
        true
    });
    (imports, calls)
}

/// The keys of a map literal. The optimizer folds a constant map into a constant value,
/// which keeps the keys but not their positions: those get the map's position.
fn map_literal_keys(arg: &Expr) -> Vec<(String, rhai::Position)> {
    match arg {
        Expr::Map(m, _) => {
            m.0.iter()
                .map(|(k, _)| (k.name.to_string(), k.pos))
                .collect()
        }
        Expr::DynamicConstant(v, pos) => v
            .read_lock::<rhai::Map>()
            .map(|m| m.keys().map(|k| (k.to_string(), *pos)).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Unknown keys in a call's options map, against the keys the function accepts.
fn check_option_keys(
    call: &Call,
    qualified: &str,
    specs: &HashMap<&str, Vec<&str>>,
    file: usize,
    diags: &mut Vec<Diag>,
) {
    let Some(valid) = specs.get(qualified) else {
        return;
    };
    for (key, pos) in &call.option_keys {
        if valid.contains(&key.as_str()) {
            continue;
        }
        let list = valid.join(", ");
        let hint = match suggest(
            key,
            valid
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .iter(),
        ) {
            Some(s) => format!("did you mean `{s}`? valid options: {list}"),
            None => format!("valid options: {list}"),
        };
        diags.push(
            Diag::new("check", format!("{qualified}: unknown option `{key}`"))
                .at(file, *pos)
                .width(key.chars().count())
                .label("unknown option")
                .hint(hint),
        );
    }
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {one}s")
    }
}

fn arities(set: &BTreeSet<usize>) -> String {
    let v: Vec<String> = set.iter().map(|n| n.to_string()).collect();
    match v.len() {
        0 => "no".into(),
        1 => v[0].clone(),
        _ => format!("{} or {}", v[..v.len() - 1].join(", "), v[v.len() - 1]),
    }
}

fn suggest<'a>(name: &str, candidates: impl Iterator<Item = &'a String>) -> Option<String> {
    candidates
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.clone())
}

/// Check `text` (the script at `name`, imports relative to `base_dir`).
pub fn check_source(engine: &Engine, name: &str, text: String, base_dir: &Path) -> Report {
    let modules = registered_modules(engine);
    let option_specs = comgmt_stdlib::option_specs();
    let specs: HashMap<&str, Vec<&str>> = option_specs
        .iter()
        .map(|s| (s.function, s.keys.clone()))
        .collect();
    let mut sources = Sources::new(base_dir);
    let main = sources.add_main(name, text);
    let mut diags = Vec::new();
    let mut calls_checked = 0;
    // Files to check: (file id); imported modules are parsed once each.
    let mut queue = vec![main];
    let mut parsed: HashMap<String, Option<Functions>> = HashMap::new();
    let mut files = 0;
    while let Some(file) = queue.pop() {
        files += 1;
        let ast = match engine.compile(sources.text(file)) {
            Ok(ast) => ast,
            Err(e) => {
                diags.push(Diag::from_parse(file, &e));
                continue;
            }
        };
        let (imports, calls) = collect(&ast);
        let mut aliases: HashMap<String, Option<Functions>> = HashMap::new();
        for imp in &imports {
            let Some(path) = &imp.path else {
                continue; // a computed path: only known at run time
            };
            if !parsed.contains_key(path) {
                let fs_path = sources.module_path(path);
                match std::fs::read_to_string(&fs_path) {
                    Ok(text) => {
                        let id = sources.add_module(path, text);
                        let exports = match engine.compile(sources.text(id)) {
                            Ok(m) => Some(script_exports(&m)),
                            Err(_) => None, // reported when the file is checked
                        };
                        parsed.insert(path.clone(), exports);
                        queue.push(id);
                    }
                    Err(e) => {
                        diags.push(
                            Diag::new("check", format!("cannot read module `{path}`: {e}"))
                                .at(file, imp.pos)
                                .label("imported here")
                                .hint(format!(
                                    "imports resolve relative to the script's folder; expected {}",
                                    fs_path.display()
                                )),
                        );
                        parsed.insert(path.clone(), None);
                    }
                }
            }
            if !imp.alias.is_empty() {
                aliases.insert(imp.alias.clone(), parsed.get(path).cloned().flatten());
            }
        }
        for call in calls {
            calls_checked += 1;
            let qualified = format!("{}::{}", call.module, call.name);
            let width = qualified.chars().count();
            let (fns, what) = if let Some(a) = aliases.get(&call.module) {
                match a {
                    Some(f) => (f, format!("script module `{}`", call.module)),
                    None => continue, // the module itself is broken or missing: reported above
                }
            } else if let Some(f) = modules.get(&call.module) {
                (f, format!("module `{}`", call.module))
            } else if call.module == "global" {
                continue;
            } else {
                let mut d = Diag::new("check", format!("unknown module `{}`", call.module))
                    .at(file, call.pos)
                    .width(call.module.chars().count())
                    .label("no such module");
                let known: Vec<String> = modules.keys().chain(aliases.keys()).cloned().collect();
                d = match suggest(&call.module, known.iter()) {
                    Some(s) => d.hint(format!("did you mean `{s}::{}`?", call.name)),
                    None => d.hint(format!(
                        "modules: {}; or `import \"file\" as {};`",
                        known.join(", "),
                        call.module
                    )),
                };
                diags.push(d);
                continue;
            };
            match fns.get(&call.name) {
                None => {
                    let mut d = Diag::new("check", format!("no function `{qualified}` in {what}"))
                        .at(file, call.pos)
                        .width(width)
                        .label("not found");
                    d = match suggest(&call.name, fns.keys()) {
                        Some(s) => d.hint(format!("did you mean `{}::{s}`?", call.module)),
                        None if fns.is_empty() => d.hint(format!("{what} has no functions")),
                        None => d.hint(format!(
                            "{what} has: {}",
                            fns.keys()
                                .filter(|k| !matches!(k.as_str(), "to_string" | "to_debug"))
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    };
                    diags.push(d);
                }
                Some(counts) if !counts.contains(&call.args) => {
                    diags.push(
                        Diag::new(
                            "check",
                            format!(
                                "`{qualified}` takes {} but {} given",
                                plural_args(counts),
                                if call.args == 1 {
                                    "1 was".to_string()
                                } else {
                                    format!("{} were", call.args)
                                }
                            ),
                        )
                        .at(file, call.pos)
                        .width(width)
                        .label(format!("called with {}", plural(call.args, "argument")))
                        .hint(format!("see `comgmt doc {qualified}`")),
                    );
                }
                Some(_) => check_option_keys(&call, &qualified, &specs, file, &mut diags),
            }
        }
    }
    Report {
        sources,
        diags,
        files,
        calls: calls_checked,
    }
}

fn plural_args(counts: &BTreeSet<usize>) -> String {
    let one = counts.len() == 1 && counts.contains(&1);
    format!("{} argument{}", arities(counts), if one { "" } else { "s" })
}

/// The `check` command: exit 0 when clean, 1 with every problem reported, 2 when the
/// file cannot be read.
pub fn command(file: &Path, format: OutputFormat) -> i32 {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            diagnostics::emit_plain(
                format,
                "usage",
                &format!("cannot read {}: {e}", file.display()),
            );
            return crate::exit::USAGE;
        }
    };
    let base = crate::run::script_dir(file);
    let mut engine = crate::engine::new_engine();
    // Unoptimised, constant option maps keep their keys' positions for the diagnostics.
    engine.set_optimization_level(rhai::OptimizationLevel::None);
    let name = file.display().to_string();
    let report = check_source(&engine, &name, text, &base);
    diagnostics::emit(&report.sources, &report.diags, format);
    let n = report.diags.len();
    match format {
        OutputFormat::Json => {
            let _ = writeln!(
                std::io::stdout().lock(),
                "{}",
                json!({"type": "check", "file": name, "ok": n == 0, "problems": n,
                       "files": report.files, "calls": report.calls})
            );
        }
        OutputFormat::Text if n == 0 => {
            let _ = writeln!(
                std::io::stdout().lock(),
                "{name}: ok ({} checked in {})",
                plural(report.calls, "module call"),
                plural(report.files, "file")
            );
        }
        OutputFormat::Text => {
            let _ = writeln!(
                std::io::stderr().lock(),
                "{name}: {} found",
                plural(n, "problem")
            );
        }
    }
    if n == 0 {
        crate::exit::OK
    } else {
        crate::exit::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhai::{FuncRegistration, Module, NativeCallContext};

    fn engine() -> Engine {
        let mut e = Engine::new();
        let mut m = Module::new();
        FuncRegistration::new("ensure_app")
            .set_into_module(&mut m, |_ctx: NativeCallContext, _o: rhai::Map| 1_i64);
        FuncRegistration::new("two").set_into_module(&mut m, |_a: i64, _b: i64| 1_i64);
        FuncRegistration::new("two").set_into_module(&mut m, |_a: i64| 1_i64);
        e.register_static_module("entra", m.into());
        e
    }

    fn messages(r: &Report) -> Vec<String> {
        r.diags.iter().map(|d| d.message.clone()).collect()
    }

    #[test]
    fn every_problem_is_reported_with_its_position() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let src = "entra::ensure_app(#{});\nfn f() { entra::no_such_function() }\nentra::two(1, 2, 3);\nenrta::ensure_app(#{});\n";
        let r = check_source(&engine(), "t.rhai", src.into(), dir.path());
        let m = messages(&r);
        assert_eq!(m.len(), 3, "{m:?}");
        assert!(
            m.iter()
                .any(|s| s.contains("no function `entra::no_such_function`")),
            "{m:?}"
        );
        assert!(
            m.iter()
                .any(|s| s.contains("`entra::two` takes 1 or 2 arguments but 3 were given")),
            "{m:?}"
        );
        assert!(
            m.iter().any(|s| s.contains("unknown module `enrta`")),
            "{m:?}"
        );
        let nf = r
            .diags
            .iter()
            .find(|d| d.message.contains("no_such"))
            .map(|d| d.pos);
        assert_eq!(nf.and_then(|p| p.line()), Some(2));
        assert_eq!(nf.and_then(|p| p.position()), Some(10));
        let rendered = diagnostics::render_to_string(&r.sources, &r.diags[0]);
        assert!(rendered.contains("t.rhai:"), "{rendered}");
    }

    #[test]
    fn imported_script_modules_are_checked() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            dir.path().join("lib.rhai"),
            "fn greet(x) { x }\nprivate fn hidden() {}\nfn bad() { entra::nope() }\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let src = "import \"lib\" as lib;\nlib::greet(1);\nlib::greet();\nlib::hidden();\nimport \"missing\" as m;\n";
        let r = check_source(&engine(), "t.rhai", src.into(), dir.path());
        let m = messages(&r);
        assert_eq!(m.len(), 4, "{m:?}");
        assert!(
            m.iter()
                .any(|s| s.contains("`lib::greet` takes 1 argument but 0 were given")),
            "{m:?}"
        );
        assert!(
            m.iter().any(|s| s.contains("no function `lib::hidden`")),
            "{m:?}"
        );
        assert!(
            m.iter().any(|s| s.contains("cannot read module `missing`")),
            "{m:?}"
        );
        let bad = r.diags.iter().find(|d| d.message.contains("entra::nope"));
        assert!(
            bad.is_some_and(
                |d| d.file.map(|f| r.sources.name(f).ends_with("lib.rhai")) == Some(true)
            )
        );
    }

    #[test]
    fn a_clean_script_passes_and_syntax_errors_are_reported() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let r = check_source(
            &engine(),
            "t.rhai",
            "let x = entra::two(1);\nprint(x);\n".into(),
            dir.path(),
        );
        assert!(r.diags.is_empty());
        assert_eq!(r.calls, 1);
        let r = check_source(&engine(), "t.rhai", "let x = ;\n".into(), dir.path());
        assert_eq!(r.diags.len(), 1);
        assert_eq!(r.diags[0].kind, "syntax");
        assert_eq!(r.diags[0].pos.line(), Some(1));
    }
}
