//! The generated documentation (`docs/reference/`) and editor files (`editors/`) match
//! the `///` comments in stdlib, and every exported function is documented.
//!
//! After changing a doc comment or adding a function, regenerate with
//! `COMGMT_REGENERATE=1 cargo test -p comgmt --test generated_docs`.

use comgmt::docs::{self, DocSet, REGENERATE_COMMAND};
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    // runtime/ is one level below the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

#[test]
fn generated_files_are_up_to_date() {
    let root = repo_root();
    if std::env::var_os("COMGMT_REGENERATE").is_some_and(|v| !v.is_empty() && v != "0") {
        docs::write_generated(&root).expect("write the generated files");
    }
    let stale = docs::check_generated(&root).expect("compare the generated files");
    assert!(
        stale.is_empty(),
        "these generated files are stale:\n  {}\n\nRegenerate them with:\n  {REGENERATE_COMMAND}\nand commit the result.",
        stale.join("\n  ")
    );
}

#[test]
fn every_exported_function_is_documented() {
    let set = DocSet::load().expect("read the docs from the engine");
    let issues = docs::lint_stdlib(&set);
    assert!(
        issues.is_empty(),
        "undocumented stdlib functions (each needs a `///` summary line and the sections \
         `# Options` (when it takes a map), `# Returns` (when it returns a value), \
         `# Permission` and `# Example` with a ```rhai block that calls it; see \
         stdlib/src/globals.rs):\n  {}",
        issues
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}

#[test]
fn generation_is_deterministic() {
    let a = docs::generated_files(&DocSet::load().expect("docs")).expect("files");
    let b = docs::generated_files(&DocSet::load().expect("docs")).expect("files");
    assert_eq!(a, b);
}
