//! Plain-text rendering for `comgmt doc` and the REPL's `help(...)`: both print exactly
//! these strings, so what a user reads in the terminal and in the REPL is the same.

use super::model::{Doc, DocSet, FnDoc, ModuleDoc, TypeDoc};
use std::fmt::Write as _;

/// What a name given to `comgmt doc` / `help(...)` refers to.
#[derive(Debug, Clone, Copy)]
pub enum Topic<'a> {
    Index,
    Module(&'a ModuleDoc),
    Function(&'a FnDoc),
    Type(&'a TypeDoc),
}

/// A name that matches nothing, with the closest names that exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    pub name: String,
    pub suggestions: Vec<String>,
}

impl std::fmt::Display for UnknownName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no module, function or type named `{}`", self.name)?;
        match self.suggestions.as_slice() {
            [] => write!(f, "\n  run `comgmt doc` to list the modules"),
            [one] => write!(f, "\n  did you mean `{one}`?"),
            many => {
                let list: Vec<String> = many.iter().map(|s| format!("`{s}`")).collect();
                write!(f, "\n  did you mean one of {}?", list.join(", "))
            }
        }
    }
}

impl std::error::Error for UnknownName {}

impl DocSet {
    /// Resolve `None` (the index), `MODULE`, `MODULE::FUNCTION`, a global function or a
    /// type name. Trailing `()` and surrounding spaces are forgiven.
    pub fn lookup(&self, target: Option<&str>) -> Result<Topic<'_>, UnknownName> {
        let Some(raw) = target else {
            return Ok(Topic::Index);
        };
        let name = raw.trim().trim_end_matches("()").trim();
        if name.is_empty() {
            return Ok(Topic::Index);
        }
        if let Some(m) = self.module(name) {
            return Ok(Topic::Module(m));
        }
        if let Some(f) = self.function(name) {
            return Ok(Topic::Function(f));
        }
        if let Some(t) = self.type_doc(name) {
            return Ok(Topic::Type(t));
        }
        Err(UnknownName {
            name: name.to_string(),
            suggestions: self.suggest(name),
        })
    }

    /// Every name `lookup` accepts, for suggestions and completion.
    pub fn names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for m in &self.modules {
            out.push(m.name.clone());
            out.extend(m.functions.iter().map(FnDoc::qualified_name));
        }
        out.extend(self.globals.iter().map(|f| f.name.clone()));
        out.extend(self.types.iter().map(|t| t.name.clone()));
        out
    }

    /// Up to three existing names close to `name`, best first. A bare function name
    /// (`server_app`) also matches `entra::server_app`.
    pub fn suggest(&self, name: &str) -> Vec<String> {
        let wanted = name.to_ascii_lowercase();
        let mut scored: Vec<(f64, String)> = self
            .names()
            .into_iter()
            .map(|candidate| {
                let lower = candidate.to_ascii_lowercase();
                let bare = lower.rsplit("::").next().unwrap_or(&lower);
                let score = strsim::jaro_winkler(&wanted, &lower)
                    .max(strsim::jaro_winkler(&wanted, bare) - 0.02);
                (score, candidate)
            })
            .filter(|(score, _)| *score >= 0.8)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        scored.into_iter().take(3).map(|(_, n)| n).collect()
    }
}

/// The text for a topic.
pub fn render(set: &DocSet, topic: Topic<'_>) -> String {
    match topic {
        Topic::Index => index(set),
        Topic::Module(m) => module(m),
        Topic::Function(f) => function(f),
        Topic::Type(t) => type_doc(t),
    }
}

fn index(set: &DocSet) -> String {
    let mut s = String::new();
    s.push_str("Modules (`comgmt doc MODULE` lists its functions):\n\n");
    let width = set.modules.iter().map(|m| m.name.len()).max().unwrap_or(0);
    for m in &set.modules {
        let _ = writeln!(s, "  {:<width$}  {}", m.name, m.summary);
    }
    if !set.globals.is_empty() {
        s.push_str("\nGlobal functions:\n\n");
        rows(&mut s, set.globals.iter());
    }
    if !set.types.is_empty() {
        s.push_str("\nTypes:\n\n");
        let width = set.types.iter().map(|t| t.name.len()).max().unwrap_or(0);
        for t in &set.types {
            let line = format!("  {:<width$}  {}", t.name, t.doc.summary);
            let _ = writeln!(s, "{}", line.trim_end());
        }
    }
    s.push_str("\nFull documentation of one function: `comgmt doc MODULE::FUNCTION`.\n");
    s
}

/// One line per signature, its summary under it.
fn rows<'a>(s: &mut String, fns: impl Iterator<Item = &'a FnDoc>) {
    for f in fns {
        let q = f.qualified_name();
        for o in &f.overloads {
            let _ = writeln!(s, "  {}", o.sig.render(&q));
            let summary = if o.doc.summary.is_empty() {
                f.summary()
            } else {
                &o.doc.summary
            };
            if !summary.is_empty() {
                let _ = writeln!(s, "      {summary}");
            }
        }
    }
}

fn module(m: &ModuleDoc) -> String {
    let mut s = format!("{} — {}\n\n", m.name, m.summary);
    if m.functions.is_empty() {
        s.push_str("  (no functions yet)\n");
    } else {
        s.push_str("Functions:\n\n");
        rows(&mut s, m.functions.iter());
        let _ = write!(
            s,
            "\nFull documentation: `comgmt doc {}::FUNCTION`.\n",
            m.name
        );
    }
    s
}

fn function(f: &FnDoc) -> String {
    let q = f.qualified_name();
    let mut s = String::new();
    for (i, (sigs, doc)) in f.doc_groups().into_iter().enumerate() {
        if i > 0 {
            s.push_str("\n----\n\n");
        }
        for sig in sigs {
            let _ = writeln!(s, "{}", sig.render(&q));
        }
        doc_text(&mut s, doc);
    }
    s
}

fn doc_text(s: &mut String, doc: &Doc) {
    if !doc.summary.is_empty() {
        let _ = write!(s, "\n{}\n", doc.summary);
    }
    if !doc.description.is_empty() {
        let _ = write!(s, "\n{}\n", doc.description);
    }
    for section in &doc.sections {
        let _ = write!(s, "\n{}:\n", section.title);
        for line in section_text(&section.body).lines() {
            let line = line.trim_end();
            if line.is_empty() {
                s.push('\n');
            } else {
                let _ = writeln!(s, "    {line}");
            }
        }
    }
}

fn type_doc(t: &TypeDoc) -> String {
    let mut s = format!("type {}\n", t.name);
    doc_text(&mut s, &t.doc);
    if !t.members.is_empty() {
        s.push_str("\nMembers:\n\n");
        for m in &t.members {
            let shown = m.usage();
            let _ = writeln!(s, "  {shown}");
            if !m.summary.is_empty() {
                let _ = writeln!(s, "      {}", m.summary);
            }
        }
    }
    s
}

/// A section body for the terminal: fences dropped (code stays, indented a little more
/// so it stands out), everything else as written.
fn section_text(body: &str) -> String {
    let mut out = Vec::new();
    let mut in_fence = false;
    for line in body.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            out.push(format!("  {line}"));
        } else {
            out.push(line.to_string());
        }
    }
    out.join("\n")
}
