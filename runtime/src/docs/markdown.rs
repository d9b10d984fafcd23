//! `docs/reference/`: one Markdown page per module, one for global functions, one for
//! types, and an index. Generated; a test fails when they are stale.

use super::model::{Doc, DocSet, FnDoc, MemberKind, ModuleDoc, Section};
use super::REGENERATE_COMMAND;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Page names for the non-module pages. A module with one of these names would clash;
/// `generated_files` refuses that.
pub const GLOBALS_PAGE: &str = "globals.md";
pub const TYPES_PAGE: &str = "types.md";

fn header() -> String {
    format!(
        "<!-- Generated from the `///` comments in stdlib by `{REGENERATE_COMMAND}`. Do not edit by hand. -->\n\n"
    )
}

/// (file name under docs/reference, content).
pub fn pages(set: &DocSet) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    out.insert("README.md".to_string(), index(set));
    for m in &set.modules {
        out.insert(format!("{}.md", m.name), module_page(m));
    }
    out.insert(GLOBALS_PAGE.to_string(), globals_page(set));
    out.insert(TYPES_PAGE.to_string(), types_page(set));
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// GitHub's heading anchor: lower case, punctuation other than `-` and `_` dropped,
/// spaces as `-`.
pub fn anchor(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn index(set: &DocSet) -> String {
    let mut s = header();
    s.push_str("# Module reference\n\n");
    s.push_str(
        "Every function a runbook can call, generated from the doc comments in `stdlib/`. \
         The same text is printed by `comgmt doc [MODULE[::FUNCTION]]` and by `help(\"...\")` \
         in `comgmt repl`.\n\n",
    );
    s.push_str("## Modules\n\n| Module | Summary | Functions |\n| --- | --- | --- |\n");
    for m in &set.modules {
        let _ = writeln!(
            s,
            "| [`{0}`]({0}.md) | {1} | {2} |",
            m.name,
            cell(&m.summary),
            m.functions.len()
        );
    }
    s.push_str("\n## Global functions\n\n");
    if set.globals.is_empty() {
        s.push_str("None.\n");
    } else {
        s.push_str("| Function | Summary |\n| --- | --- |\n");
        for f in &set.globals {
            let _ = writeln!(
                s,
                "| [`{}`]({GLOBALS_PAGE}#{}) | {} |",
                f.name,
                anchor(&f.name),
                cell(f.summary())
            );
        }
    }
    s.push_str("\n## Types\n\n");
    if set.types.is_empty() {
        s.push_str("None.\n");
    } else {
        s.push_str("| Type | Summary |\n| --- | --- |\n");
        for t in &set.types {
            let _ = writeln!(
                s,
                "| [`{}`]({TYPES_PAGE}#{}) | {} |",
                t.name,
                anchor(&t.name),
                cell(&t.doc.summary)
            );
        }
    }
    s
}

fn function_table(s: &mut String, fns: &[FnDoc]) {
    s.push_str("| Function | Summary |\n| --- | --- |\n");
    for f in fns {
        let q = f.qualified_name();
        let _ = writeln!(s, "| [`{q}`](#{}) | {} |", anchor(&q), cell(f.summary()));
    }
}

fn module_page(m: &ModuleDoc) -> String {
    let mut s = header();
    let _ = write!(s, "# `{}`\n\n{}\n\n", m.name, m.summary);
    if m.functions.is_empty() {
        s.push_str("No functions yet.\n");
        return s;
    }
    s.push_str("## Functions\n\n");
    function_table(&mut s, &m.functions);
    for f in &m.functions {
        function(&mut s, f);
    }
    s
}

fn globals_page(set: &DocSet) -> String {
    let mut s = header();
    s.push_str("# Global functions\n\nCalled without a module prefix.\n\n");
    if set.globals.is_empty() {
        s.push_str("None.\n");
        return s;
    }
    function_table(&mut s, &set.globals);
    for f in &set.globals {
        function(&mut s, f);
    }
    s
}

fn function(s: &mut String, f: &FnDoc) {
    let q = f.qualified_name();
    let _ = writeln!(s, "\n## `{q}`");
    for (sigs, doc) in f.doc_groups() {
        s.push_str("\n```text\n");
        for sig in sigs {
            let _ = writeln!(s, "{}", sig.render(&q));
        }
        s.push_str("```\n");
        doc_md(s, doc, "###");
    }
}

fn doc_md(s: &mut String, doc: &Doc, level: &str) {
    if !doc.summary.is_empty() {
        let _ = write!(s, "\n{}\n", doc.summary);
    }
    if !doc.description.is_empty() {
        let _ = write!(s, "\n{}\n", doc.description);
    }
    for section in &doc.sections {
        section_md(s, section, level);
    }
}

fn section_md(s: &mut String, section: &Section, level: &str) {
    let _ = write!(s, "\n{level} {}\n\n", section.title);
    for line in section.body.lines() {
        // `rhai,no_run` is for the example runner; renderers only know `rhai`.
        match line.trim_start().strip_prefix("```") {
            Some(info) if !info.trim().is_empty() => {
                let lang = info.split([',', ' ']).next().unwrap_or_default();
                let indent = &line[..line.len() - line.trim_start().len()];
                let _ = writeln!(s, "{indent}```{lang}");
            }
            _ => {
                let _ = writeln!(s, "{}", line.trim_end());
            }
        }
    }
}

fn types_page(set: &DocSet) -> String {
    let mut s = header();
    s.push_str("# Types\n\nValues modules return, and what a script can read on them.\n");
    if set.types.is_empty() {
        s.push_str("\nNone.\n");
        return s;
    }
    for t in &set.types {
        let _ = write!(s, "\n## {}\n", t.name);
        doc_md(&mut s, &t.doc, "###");
        if !t.members.is_empty() {
            s.push_str("\n| Member | Type | Summary |\n| --- | --- | --- |\n");
            for m in &t.members {
                let shown = match m.kind {
                    MemberKind::Get => format!("`.{}`", m.name),
                    MemberKind::Set => format!("`.{} = …`", m.name),
                    MemberKind::Method if m.name == "[]" => "`[…]`".to_string(),
                    MemberKind::Method => {
                        let params: Vec<&str> = m.params.iter().map(|p| p.name.as_str()).collect();
                        format!("`.{}({})`", m.name, params.join(", "))
                    }
                };
                let summary = match &m.function {
                    Some(q) => {
                        let page = match q.split_once("::") {
                            Some((module, _)) => format!("{module}.md"),
                            None => GLOBALS_PAGE.to_string(),
                        };
                        format!("{} See [`{q}`]({page}#{}).", m.summary, anchor(q))
                    }
                    None => m.summary.clone(),
                };
                let _ = writeln!(
                    s,
                    "| {shown} | `{}` | {} |",
                    cell(&m.ty),
                    cell(summary.trim())
                );
            }
        }
    }
    s
}
