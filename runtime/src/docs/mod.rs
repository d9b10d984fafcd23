//! "Documentation is data": the `///` comments of stdlib functions, read from the
//! engine's metadata, are the one source for `comgmt doc`, the REPL's `help(...)` and
//! completion, `docs/reference/`, and the editor files under `editors/`.
//!
//! - [`model`]: the docs extracted from the engine (types repaired).
//! - [`lint`]: what every exported function must document.
//! - [`text`]: the terminal text (`comgmt doc`, `help`).
//! - [`markdown`], [`editors`]: the generated files; [`write_generated`] and
//!   [`check_generated`] keep them in sync (the `generated_docs` test calls both).

pub mod editors;
pub mod lint;
pub mod markdown;
pub mod model;
pub mod text;

pub use lint::{lint, lint_stdlib, LintIssue};
pub use model::{DocSet, Example, FnDoc, ModuleDoc, TypeDoc};
pub use text::{render, Topic, UnknownName};

use anyhow::Context as _;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// The command that rewrites every generated file; printed in their headers and by the
/// staleness test.
pub const REGENERATE_COMMAND: &str =
    "COMGMT_REGENERATE=1 cargo test -p comgmt --test generated_docs";

/// Folders whose every file of the given suffix is generated: a file there that is no
/// longer generated (a removed module) is stale too.
const OWNED_DIRS: &[(&str, &str)] = &[
    ("docs/reference", ".md"),
    ("editors/definitions", ".d.rhai"),
];

/// `comgmt doc [MODULE[::FUNCTION]]`: the index, a module's functions, or one function's
/// full doc on `out`. An unknown name prints the closest names on stderr and returns 1.
pub fn doc_command(target: Option<&str>, out: &mut dyn Write) -> anyhow::Result<i32> {
    let set = DocSet::load()?;
    match help_text(&set, target) {
        Ok(text) => {
            out.write_all(text.as_bytes())?;
            out.flush()?;
            Ok(0)
        }
        Err(unknown) => {
            eprintln!("error: {unknown}");
            Ok(1)
        }
    }
}

/// The text `comgmt doc` prints for `target` (`help(...)` in the REPL prints the same).
pub fn help_text(set: &DocSet, target: Option<&str>) -> Result<String, UnknownName> {
    set.lookup(target).map(|topic| render(set, topic))
}

/// Every generated file: path relative to the repository root (with `/`) and content.
pub fn generated_files(set: &DocSet) -> anyhow::Result<BTreeMap<String, String>> {
    for m in &set.modules {
        let page = format!("{}.md", m.name);
        if page == markdown::GLOBALS_PAGE || page == markdown::TYPES_PAGE || page == "README.md" {
            anyhow::bail!(
                "module `{}` clashes with the reference page {page}; rename the module",
                m.name
            );
        }
    }
    let mut files = BTreeMap::new();
    for (name, text) in markdown::pages(set) {
        files.insert(format!("docs/reference/{name}"), text);
    }
    files.extend(editors::files(set));
    Ok(files)
}

/// Write every generated file under `root` (the repository root) and delete generated
/// files that no longer belong (a removed module's page).
pub fn write_generated(root: &Path) -> anyhow::Result<()> {
    let set = DocSet::load()?;
    let files = generated_files(&set)?;
    for (rel, text) in &files {
        let path = root.join(rel);
        if std::fs::read_to_string(&path).is_ok_and(|old| normalize(&old) == *text) {
            continue; // unchanged: keep the mtime so editors and builds don't churn
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    for rel in orphans(root, &files)? {
        let path = root.join(&rel);
        std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    }
    Ok(())
}

/// The generated files under `root` that are missing, differ from what the docs say
/// now, or should no longer exist; empty when everything is in sync.
pub fn check_generated(root: &Path) -> anyhow::Result<Vec<String>> {
    let set = DocSet::load()?;
    let files = generated_files(&set)?;
    let mut stale = Vec::new();
    for (rel, text) in &files {
        match std::fs::read_to_string(root.join(rel)) {
            Ok(old) if normalize(&old) == *text => {}
            Ok(_) => stale.push(rel.clone()),
            Err(_) => stale.push(format!("{rel} (missing)")),
        }
    }
    for rel in orphans(root, &files)? {
        stale.push(format!("{rel} (no longer generated)"));
    }
    Ok(stale)
}

/// A checkout with `core.autocrlf` has CRLF files; compare the text, not line endings.
fn normalize(s: &str) -> String {
    s.replace("\r\n", "\n")
}

fn orphans(root: &Path, files: &BTreeMap<String, String>) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for (dir, suffix) in OWNED_DIRS {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue; // not created yet
        };
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot list {dir}"))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = format!("{dir}/{name}");
            if name.ends_with(suffix) && entry.path().is_file() && !files.contains_key(&rel) {
                out.push(rel);
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdlib_docs_load_and_list_modules() {
        let set = DocSet::load().expect("docs load");
        let names: Vec<&str> = set.modules.iter().map(|m| m.name.as_str()).collect();
        for m in comgmt_stdlib::MODULES {
            assert!(names.contains(&m.name), "{} missing from {names:?}", m.name);
        }
        assert!(
            set.function("secret").is_some(),
            "global `secret` is documented"
        );
        // Rhai's standard library is not ours to document.
        assert!(set.function("print").is_none());
        assert!(set.globals.iter().all(|f| f.name != "to_string"));
    }

    #[test]
    fn doc_command_prints_the_same_text_as_help() {
        let set = DocSet::load().expect("docs load");
        let mut out = Vec::new();
        assert_eq!(doc_command(Some("secret"), &mut out).expect("doc"), 0);
        let text = String::from_utf8(out).expect("utf-8");
        assert_eq!(Ok(text.clone()), help_text(&set, Some("secret")));
        assert!(
            text.starts_with("secret(name: string) -> Secret\n"),
            "{text}"
        );
        assert!(text.contains("Permission:\n    None (local)."), "{text}");
    }

    #[test]
    fn unknown_names_exit_1_with_a_suggestion() {
        let mut out = Vec::new();
        assert_eq!(doc_command(Some("secrte"), &mut out).expect("doc"), 1);
        assert!(out.is_empty());
        let set = DocSet::load().expect("docs load");
        let err = help_text(&set, Some("entr")).expect_err("unknown");
        assert!(err.suggestions.contains(&"entra".to_string()), "{err}");
        assert!(err.to_string().contains("did you mean"), "{err}");
    }

    #[test]
    fn index_lists_every_module_with_its_summary() {
        let set = DocSet::load().expect("docs load");
        let text = help_text(&set, None).expect("index");
        for m in comgmt_stdlib::MODULES {
            assert!(text.contains(m.name) && text.contains(m.summary), "{text}");
        }
    }
}
