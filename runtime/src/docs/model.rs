//! The documentation model: every stdlib module, function and type, read from the
//! engine's own metadata (`gen_fn_metadata_to_json`), so `///` comments in stdlib are
//! the single source for `comgmt doc`, REPL help and completion, `docs/reference/` and
//! the editor files.
//!
//! Rhai's metadata leaks Rust types (`Result<Secret, Box<EvalAltResult>>`, `&str`,
//! `ImmutableString`, full paths from `register_fn` closures); [`fix_type`] turns them
//! into the names a script writer sees.

use anyhow::Context as _;
use rhai::Engine;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Everything a script can call from stdlib (not Rhai's standard library).
#[derive(Debug, Clone, Default)]
pub struct DocSet {
    /// In `comgmt_stdlib::MODULES` order (tutorial order), then any other static
    /// module by name.
    pub modules: Vec<ModuleDoc>,
    /// Global functions (`secret`, `secret_prompt`), sorted by name.
    pub globals: Vec<FnDoc>,
    /// Custom types with their properties and methods, sorted by name.
    pub types: Vec<TypeDoc>,
}

#[derive(Debug, Clone, Default)]
pub struct ModuleDoc {
    pub name: String,
    pub summary: String,
    /// Sorted by name.
    pub functions: Vec<FnDoc>,
}

/// One function name, with its overloads (`cert::lab_ca()` and `cert::lab_ca(options)`).
#[derive(Debug, Clone, Default)]
pub struct FnDoc {
    /// `None` for a global function.
    pub module: Option<String>,
    pub name: String,
    /// By number of parameters.
    pub overloads: Vec<Overload>,
}

/// One signature and its own doc comment (empty when the overload has none: it is then
/// covered by the other overloads' docs).
#[derive(Debug, Clone, Default)]
pub struct Overload {
    pub sig: Signature,
    pub doc: Doc,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signature {
    pub params: Vec<Param>,
    /// `()` when the function returns nothing.
    pub ret: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub ty: String,
}

/// A parsed `///` comment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Doc {
    /// The whole comment without its markers (for the editor definition files).
    pub text: String,
    /// The first paragraph, on one line.
    pub summary: String,
    /// Text between the summary and the first `# ` section.
    pub description: String,
    /// `# Title` sections in source order.
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    pub title: String,
    /// Markdown, with code fences kept.
    pub body: String,
}

/// A ```rhai block from a function's `# Example` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub code: String,
    /// ```rhai,no_run (or `ignore`): shown, never run by the example test.
    pub no_run: bool,
}

/// A custom type (`Secret`, `ModuleError`, `Cert`, ...) and what a script can read on it.
#[derive(Debug, Clone, Default)]
pub struct TypeDoc {
    pub name: String,
    pub doc: Doc,
    /// Sorted by name.
    pub members: Vec<Member>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// `value.name` (getter), `value.name = x` (setter) or `value.name(...)` (method).
    pub kind: MemberKind,
    pub name: String,
    /// A method's parameters after the value itself.
    pub params: Vec<Param>,
    /// The getter's type, the setter's value type, or the method's return type.
    pub ty: String,
    pub summary: String,
    /// For a method that is also a module function (`cert::issue`): its qualified name,
    /// where its full doc is.
    pub function: Option<String>,
}

impl Member {
    /// `value.name`, `value.name = string`, `value.name(region: string) -> string`.
    pub fn usage(&self) -> String {
        match self.kind {
            MemberKind::Get => format!("value.{}: {}", self.name, self.ty),
            MemberKind::Set => format!("value.{} = {}", self.name, self.ty),
            MemberKind::Method if self.name == "[]" => format!("value[...] -> {}", self.ty),
            MemberKind::Method => {
                let params: Vec<String> = self
                    .params
                    .iter()
                    .map(|p| format!("{}: {}", p.name, p.ty))
                    .collect();
                format!("value.{}({}) -> {}", self.name, params.join(", "), self.ty)
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MemberKind {
    Get,
    Set,
    Method,
}

impl FnDoc {
    /// `entra::server_app` or `secret`.
    pub fn qualified_name(&self) -> String {
        match &self.module {
            Some(m) => format!("{m}::{}", self.name),
            None => self.name.clone(),
        }
    }

    /// `entra::server_app(options: map) -> EntraApp`, one per overload.
    pub fn signature_lines(&self) -> Vec<String> {
        let q = self.qualified_name();
        self.overloads.iter().map(|o| o.sig.render(&q)).collect()
    }

    /// The doc that speaks for the function as a whole: the documented overload with the
    /// most parameters (the short forms usually say "with default options").
    pub fn main_doc(&self) -> &Doc {
        static EMPTY: std::sync::OnceLock<Doc> = std::sync::OnceLock::new();
        self.overloads
            .iter()
            .rev()
            .find(|o| !o.doc.summary.is_empty())
            .or_else(|| self.overloads.last())
            .map(|o| &o.doc)
            .unwrap_or_else(|| EMPTY.get_or_init(Doc::default))
    }

    pub fn summary(&self) -> &str {
        &self.main_doc().summary
    }

    /// The ```rhai examples of every overload, each once.
    pub fn examples(&self) -> Vec<Example> {
        let mut out: Vec<Example> = Vec::new();
        for o in &self.overloads {
            for e in o.doc.examples() {
                if !out.contains(&e) {
                    out.push(e);
                }
            }
        }
        out
    }

    /// Overloads grouped by doc: an overload without a doc joins the main one, and
    /// overloads with the same doc text are shown once, with all their signatures.
    pub fn doc_groups(&self) -> Vec<(Vec<&Signature>, &Doc)> {
        let main = self.main_doc();
        let mut groups: Vec<(Vec<&Signature>, &Doc)> = Vec::new();
        for o in &self.overloads {
            let doc = if o.doc.text.trim().is_empty() {
                main
            } else {
                &o.doc
            };
            match groups.iter_mut().find(|(_, d)| d.text == doc.text) {
                Some((sigs, _)) => sigs.push(&o.sig),
                None => groups.push((vec![&o.sig], doc)),
            }
        }
        groups
    }
}

impl Overload {
    /// True when this overload takes a map (an options map needs `# Options`).
    pub fn takes_options(&self) -> bool {
        self.sig.params.iter().any(|p| p.ty == "map")
    }

    /// True when it returns a value (it needs `# Returns`).
    pub fn returns_value(&self) -> bool {
        self.sig.ret != "()"
    }
}

impl Signature {
    pub fn render(&self, qualified_name: &str) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| format!("{}: {}", p.name, p.ty))
            .collect();
        format!("{qualified_name}({}) -> {}", params.join(", "), self.ret)
    }
}

impl Doc {
    /// The section called `title` (case-insensitive; `Examples` counts as `Example`).
    pub fn section(&self, title: &str) -> Option<&Section> {
        self.sections
            .iter()
            .find(|s| section_matches(&s.title, title))
    }

    /// Every ```rhai block in the `# Example` section.
    pub fn examples(&self) -> Vec<Example> {
        self.section("Example")
            .map(|s| code_blocks(&s.body))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(info, code)| {
                let mut parts = info
                    .split([',', ' '])
                    .map(str::trim)
                    .filter(|p| !p.is_empty());
                let lang = parts.next().unwrap_or_default();
                if !lang.eq_ignore_ascii_case("rhai") {
                    return None;
                }
                let no_run = parts.any(|f| f == "no_run" || f == "ignore");
                Some(Example { code, no_run })
            })
            .collect()
    }
}

fn section_matches(have: &str, want: &str) -> bool {
    let have = have.trim();
    have.eq_ignore_ascii_case(want)
        || (want.eq_ignore_ascii_case("example") && have.eq_ignore_ascii_case("examples"))
}

/// (info string, code) of every fenced block in markdown text.
pub fn code_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for line in markdown.lines() {
        let t = line.trim_start();
        match (&mut current, t.strip_prefix("```")) {
            (None, Some(info)) => current = Some((info.trim().to_string(), Vec::new())),
            (Some(_), Some(rest)) if rest.trim().is_empty() => {
                if let Some((info, lines)) = current.take() {
                    out.push((info, lines.join("\n")));
                }
            }
            (Some((_, lines)), _) => lines.push(line),
            (None, None) => {}
        }
    }
    // An unterminated fence still counts: the lint reports nothing special for it, and
    // the example runner shows the code it ran.
    if let Some((info, lines)) = current {
        out.push((info, lines.join("\n")));
    }
    out
}

/// The text of Rhai doc comments: `///` blocks (joined by rhai_codegen with `\n`) or
/// `/** */` blocks, with the comment markers and one leading space removed.
pub fn comment_text(comments: &[String]) -> String {
    let mut lines: Vec<String> = Vec::new();
    for block in comments {
        if let Some(inner) = block.strip_prefix("/**") {
            let inner = inner.strip_suffix("*/").unwrap_or(inner);
            for l in inner.lines() {
                let l = l.trim_start();
                let l = l.strip_prefix('*').unwrap_or(l);
                lines.push(l.strip_prefix(' ').unwrap_or(l).to_string());
            }
        } else {
            for l in block.lines() {
                let l = l.trim_start();
                let l = l
                    .strip_prefix("///")
                    .or_else(|| l.strip_prefix("//!"))
                    .unwrap_or(l);
                lines.push(l.strip_prefix(' ').unwrap_or(l).trim_end().to_string());
            }
        }
    }
    lines.join("\n")
}

/// Split a doc comment into summary, description and `# ` sections. A `#` inside a code
/// fence is code, not a heading.
pub fn parse_doc(text: &str) -> Doc {
    let mut doc = Doc {
        text: trim_blank_lines(&text.lines().collect::<Vec<_>>()),
        ..Doc::default()
    };
    let mut lines = text.lines().peekable();
    while lines.peek().is_some_and(|l| l.trim().is_empty()) {
        lines.next();
    }
    let mut summary = Vec::new();
    while let Some(l) = lines.peek() {
        let t = l.trim();
        if t.is_empty() || t.starts_with("# ") || t.starts_with("```") {
            break;
        }
        summary.push(t);
        lines.next();
    }
    doc.summary = summary.join(" ");

    let mut in_fence = false;
    let mut description = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for line in lines {
        let t = line.trim_start();
        if t.starts_with("```") {
            in_fence = !in_fence;
        } else if !in_fence {
            if let Some(title) = t.strip_prefix("# ") {
                if let Some((title, body)) = current.take() {
                    doc.sections.push(Section {
                        title,
                        body: trim_blank_lines(&body),
                    });
                }
                current = Some((title.trim().to_string(), Vec::new()));
                continue;
            }
        }
        match &mut current {
            Some((_, body)) => body.push(line),
            None => description.push(line),
        }
    }
    if let Some((title, body)) = current {
        doc.sections.push(Section {
            title,
            body: trim_blank_lines(&body),
        });
    }
    doc.description = trim_blank_lines(&description);
    doc
}

fn trim_blank_lines(lines: &[&str]) -> String {
    let start = lines.iter().position(|l| !l.trim().is_empty());
    let end = lines.iter().rposition(|l| !l.trim().is_empty());
    match (start, end) {
        (Some(s), Some(e)) => lines[s..=e].join("\n"),
        _ => String::new(),
    }
}

// ---- Rhai metadata JSON (only the fields used here) ----

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct MetaModule {
    #[serde(default)]
    modules: BTreeMap<String, MetaModule>,
    #[serde(default)]
    custom_types: Vec<MetaType>,
    #[serde(default)]
    functions: Vec<MetaFn>,
    #[serde(default)]
    doc: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetaType {
    type_name: String,
    display_name: String,
    #[serde(default)]
    doc_comments: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetaFn {
    name: String,
    #[serde(default)]
    access: String,
    /// `global` when callable without the module prefix, and so as a method.
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    is_anonymous: bool,
    #[serde(default)]
    num_params: usize,
    #[serde(default)]
    params: Vec<MetaParam>,
    #[serde(default)]
    return_type: String,
    #[serde(default)]
    doc_comments: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct MetaParam {
    #[serde(default)]
    name: Option<String>,
    #[serde(rename = "type", default)]
    ty: Option<String>,
}

/// Maps Rust type names (full paths and last segments) to the names scripts see.
#[derive(Debug, Default)]
struct TypeNames(BTreeMap<String, String>);

impl TypeNames {
    fn is_custom(&self, display: &str) -> bool {
        self.0.values().any(|v| v == display)
    }

    fn display(&self, raw: &str) -> String {
        fix_type_with(raw, &|name| self.0.get(name).cloned())
    }
}

impl DocSet {
    /// The docs of `new_engine()`: every stdlib module and global function.
    pub fn load() -> anyhow::Result<DocSet> {
        DocSet::from_engine(&crate::engine::new_engine(), comgmt_stdlib::MODULES)
    }

    /// Read the docs from an engine's metadata; `modules` gives order and summaries.
    pub fn from_engine(
        engine: &Engine,
        modules: &[comgmt_stdlib::ScriptModule],
    ) -> anyhow::Result<DocSet> {
        let json = engine
            .gen_fn_metadata_to_json(false)
            .context("cannot read the engine's function metadata")?;
        let summaries: Vec<(&str, &str)> = modules.iter().map(|m| (m.name, m.summary)).collect();
        DocSet::from_metadata_json(&json, &summaries)
    }

    /// Build from `gen_fn_metadata_to_json(false)` output; `summaries` is (module name,
    /// one-line summary) in the order modules should be listed.
    pub fn from_metadata_json(json: &str, summaries: &[(&str, &str)]) -> anyhow::Result<DocSet> {
        let meta: MetaModule =
            serde_json::from_str(json).context("cannot parse the engine's function metadata")?;

        let mut names = TypeNames::default();
        let mut types: BTreeMap<String, TypeDoc> = BTreeMap::new();
        let mut collect_types = |m: &MetaModule| {
            for t in &m.custom_types {
                names.0.insert(t.type_name.clone(), t.display_name.clone());
                let last = t.type_name.rsplit("::").next().unwrap_or(&t.type_name);
                names
                    .0
                    .entry(last.to_string())
                    .or_insert_with(|| t.display_name.clone());
                let entry = types.entry(t.display_name.clone()).or_default();
                entry.name = t.display_name.clone();
                if entry.doc == Doc::default() {
                    entry.doc = parse_doc(&comment_text(&t.doc_comments));
                }
            }
        };
        collect_types(&meta);
        for m in meta.modules.values() {
            collect_types(m);
        }

        let mut set = DocSet::default();
        let (globals, members) = collect_functions(None, &meta.functions, &names);
        set.globals = globals;
        let mut all_members = members;

        let mut module_docs: BTreeMap<String, ModuleDoc> = BTreeMap::new();
        for (name, m) in &meta.modules {
            let (functions, members) = collect_functions(Some(name), &m.functions, &names);
            all_members.extend(members);
            module_docs.insert(
                name.clone(),
                ModuleDoc {
                    name: name.clone(),
                    summary: parse_doc(&m.doc).summary,
                    functions,
                },
            );
        }
        // Listed modules first, in the given (tutorial) order, even while empty.
        for (name, summary) in summaries {
            let mut m = module_docs.remove(*name).unwrap_or_else(|| ModuleDoc {
                name: name.to_string(),
                ..ModuleDoc::default()
            });
            m.summary = summary.to_string();
            set.modules.push(m);
        }
        set.modules.extend(module_docs.into_values());

        for (ty, member) in all_members {
            let entry = types.entry(ty.clone()).or_default();
            entry.name = ty;
            if !entry.members.contains(&member) {
                entry.members.push(member);
            }
        }
        for t in types.values_mut() {
            t.members
                .sort_by(|a, b| (&a.name, a.kind).cmp(&(&b.name, b.kind)));
        }
        set.types = types.into_values().collect();
        Ok(set)
    }

    pub fn module(&self, name: &str) -> Option<&ModuleDoc> {
        self.modules.iter().find(|m| m.name == name)
    }

    /// Every callable function: module functions in module order, then globals.
    pub fn all_functions(&self) -> impl Iterator<Item = &FnDoc> {
        self.modules
            .iter()
            .flat_map(|m| m.functions.iter())
            .chain(self.globals.iter())
    }

    /// `cert::csr`, `secret`, ... : what `help(...)` and `comgmt doc` accept as a function.
    pub fn function(&self, qualified: &str) -> Option<&FnDoc> {
        match qualified.split_once("::") {
            Some((m, f)) => self.module(m)?.functions.iter().find(|x| x.name == f),
            None => self.globals.iter().find(|x| x.name == qualified),
        }
    }

    pub fn type_doc(&self, name: &str) -> Option<&TypeDoc> {
        self.types.iter().find(|t| t.name == name)
    }
}

/// Function names that are really type members (properties, indexers, conversions) or
/// operators: documented under their type, not listed as functions.
fn is_member_name(name: &str) -> bool {
    name.contains('$') || name == "to_string" || name == "to_debug"
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

type Members = Vec<(String, Member)>;

fn collect_functions(
    module: Option<&String>,
    fns: &[MetaFn],
    names: &TypeNames,
) -> (Vec<FnDoc>, Members) {
    let mut by_name: BTreeMap<String, FnDoc> = BTreeMap::new();
    let mut members = Vec::new();
    for f in fns {
        if f.access == "private" || f.is_anonymous {
            continue;
        }
        let params: Vec<Param> = (0..f.num_params)
            .map(|i| {
                let p = f.params.get(i);
                Param {
                    name: p
                        .and_then(|p| p.name.clone())
                        .unwrap_or_else(|| format!("arg{}", i + 1)),
                    ty: p
                        .and_then(|p| p.ty.as_deref())
                        .map(|t| names.display(t))
                        .unwrap_or_else(|| "?".to_string()),
                }
            })
            .collect();
        let ret = names.display(&f.return_type);
        let doc = parse_doc(&comment_text(&f.doc_comments));

        if is_member_name(&f.name) {
            let Some(owner) = params.first().map(|p| p.ty.clone()) else {
                continue;
            };
            let (kind, name, ty) = if let Some(n) = f.name.strip_prefix("get$") {
                (MemberKind::Get, n.to_string(), ret)
            } else if let Some(n) = f.name.strip_prefix("set$") {
                let ty = params.get(1).map(|p| p.ty.clone()).unwrap_or_default();
                (MemberKind::Set, n.to_string(), ty)
            } else if f.name.starts_with("index$") {
                (MemberKind::Method, "[]".to_string(), ret)
            } else {
                (MemberKind::Method, f.name.clone(), ret)
            };
            members.push((
                owner,
                Member {
                    kind,
                    name,
                    params: params.get(2..).map(<[Param]>::to_vec).unwrap_or_default(),
                    ty,
                    summary: doc.summary,
                    function: None,
                },
            ));
            continue;
        }
        if !is_identifier(&f.name) {
            continue; // an operator overload
        }
        // A global function taking a custom type by reference first is also a method on
        // that type (`ca.issue(req)`): list it with the type too.
        let receiver = f.params.first().and_then(|p| p.ty.as_deref());
        if f.namespace == "global" && receiver.is_some_and(|t| t.trim().starts_with("&mut")) {
            if let Some(owner) = params.first().filter(|p| names.is_custom(&p.ty)) {
                members.push((
                    owner.ty.clone(),
                    Member {
                        kind: MemberKind::Method,
                        name: f.name.clone(),
                        params: params[1..].to_vec(),
                        ty: ret.clone(),
                        summary: doc.summary.clone(),
                        function: Some(match module {
                            Some(m) => format!("{m}::{}", f.name),
                            None => f.name.clone(),
                        }),
                    },
                ));
            }
        }
        let entry = by_name.entry(f.name.clone()).or_insert_with(|| FnDoc {
            module: module.cloned(),
            name: f.name.clone(),
            ..FnDoc::default()
        });
        let sig = Signature { params, ret };
        if !entry.overloads.iter().any(|o| o.sig == sig) {
            entry.overloads.push(Overload { sig, doc });
        }
    }
    let mut out: Vec<FnDoc> = by_name.into_values().collect();
    for f in &mut out {
        // Metadata order is not stable across runs for overloads of one name (it comes
        // from hash maps), so order by arity, then by parameter types.
        f.overloads.sort_by(|a, b| {
            let types = |o: &Overload| -> Vec<String> {
                o.sig.params.iter().map(|p| p.ty.clone()).collect()
            };
            (a.sig.params.len(), types(a)).cmp(&(b.sig.params.len(), types(b)))
        });
    }
    (out, members)
}

/// A Rust type name from Rhai metadata as a script writer reads it: `Result<X, Box<..>>`
/// is `X`, `String`/`&str`/`ImmutableString` are `string`, `i64` is `int`, `Dynamic` is
/// `?`, `Map` is `map`, `Array`/`Vec<_>` are `array`, paths and `&mut ` are dropped.
pub fn fix_type(raw: &str) -> String {
    fix_type_with(raw, &|_| None)
}

fn fix_type_with(raw: &str, custom: &dyn Fn(&str) -> Option<String>) -> String {
    let raw = raw.trim();
    if raw.is_empty() || raw == "()" {
        return "()".to_string();
    }
    let tokens = tokenize(raw);
    let mut p = TypeParser { tokens, at: 0 };
    match p.parse() {
        Some(t) if p.at == p.tokens.len() => render_type(&t, custom),
        // Not a type we understand: show it rather than guess.
        _ => raw.to_string(),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Ty {
    Named(String, Vec<Ty>),
    Tuple(Vec<Ty>),
    Slice(Box<Ty>),
}

fn tokenize(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() || c == '_' || c == '\'' {
            word.push(c);
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            word.push_str("::");
            i += 1;
        } else {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            if !c.is_whitespace() {
                out.push(c.to_string());
            }
        }
        i += 1;
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

struct TypeParser {
    tokens: Vec<String>,
    at: usize,
}

impl TypeParser {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.at).map(String::as_str)
    }

    fn eat(&mut self, t: &str) -> bool {
        if self.peek() == Some(t) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn parse(&mut self) -> Option<Ty> {
        // References, `mut`, `dyn` and lifetimes say nothing to a script writer.
        loop {
            match self.peek() {
                Some("&") | Some("mut") | Some("dyn") => self.at += 1,
                Some(t) if t.starts_with('\'') => self.at += 1,
                _ => break,
            }
        }
        if self.eat("(") {
            let items = self.list(")")?;
            return Some(Ty::Tuple(items));
        }
        if self.eat("[") {
            let inner = self.parse()?;
            if self.eat(";") {
                self.at += 1; // the array length
            }
            if !self.eat("]") {
                return None;
            }
            return Some(Ty::Slice(Box::new(inner)));
        }
        let word = self.peek()?.to_string();
        if !word
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            return None;
        }
        self.at += 1;
        let name = word
            .trim_end_matches("::")
            .rsplit("::")
            .next()
            .unwrap_or(&word)
            .to_string();
        let args = if self.eat("<") {
            self.list(">")?
        } else {
            Vec::new()
        };
        Some(Ty::Named(name, args))
    }

    /// Comma-separated types up to `close` (consumed).
    fn list(&mut self, close: &str) -> Option<Vec<Ty>> {
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Some(items);
            }
            let item = self.parse()?;
            // Associated types (`Item = X`): keep the value.
            if self.eat("=") {
                items.push(self.parse()?);
            } else {
                items.push(item);
            }
            if !self.eat(",") && self.peek() != Some(close) {
                return None;
            }
        }
    }
}

fn render_type(t: &Ty, custom: &dyn Fn(&str) -> Option<String>) -> String {
    match t {
        Ty::Tuple(items) if items.is_empty() => "()".to_string(),
        Ty::Tuple(items) => {
            let inner: Vec<String> = items.iter().map(|i| render_type(i, custom)).collect();
            format!("({})", inner.join(", "))
        }
        Ty::Slice(inner) => {
            if matches!(&**inner, Ty::Named(n, _) if n == "u8") {
                "blob".to_string()
            } else {
                "array".to_string()
            }
        }
        Ty::Named(name, args) => {
            let first = || args.first().map(|a| render_type(a, custom));
            match name.as_str() {
                "Result" | "RhaiResultOf" | "Box" | "Rc" | "Arc" | "Shared" | "Locked"
                | "RefCell" | "RwLock" | "Mutex" | "Cow" => first().unwrap_or_else(|| "?".into()),
                "RhaiResult" | "Dynamic" => "?".to_string(),
                "Option" => match first() {
                    Some(inner) => format!("{inner} | ()"),
                    None => "?".to_string(),
                },
                "String" | "str" | "ImmutableString" | "SmartString" => "string".to_string(),
                "i8" | "i16" | "i32" | "i64" | "i128" | "u8" | "u16" | "u32" | "u64" | "u128"
                | "isize" | "usize" | "INT" => "int".to_string(),
                "f32" | "f64" | "FLOAT" => "float".to_string(),
                "bool" => "bool".to_string(),
                "char" => "char".to_string(),
                "Map" | "BTreeMap" | "HashMap" => "map".to_string(),
                "Array" | "Vec" => {
                    if matches!(args.first(), Some(Ty::Named(n, _)) if n == "u8") {
                        "blob".to_string()
                    } else {
                        "array".to_string()
                    }
                }
                "Blob" => "blob".to_string(),
                "FnPtr" => "Fn".to_string(),
                "Instant" => "timestamp".to_string(),
                "Range" | "RangeInclusive" | "ExclusiveRange" | "InclusiveRange" => {
                    "range".to_string()
                }
                other => {
                    let base = custom(other).unwrap_or_else(|| other.to_string());
                    if args.is_empty() {
                        base
                    } else {
                        let inner: Vec<String> =
                            args.iter().map(|a| render_type(a, custom)).collect();
                        format!("{base}<{}>", inner.join(", "))
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaked_rust_types_are_fixed() {
        let cases = [
            ("Result<Secret, Box<EvalAltResult>>", "Secret"),
            ("Result<Secret,Box<EvalAltResult>>", "Secret"),
            (
                "core::result::Result<rhai::types::dynamic::Dynamic,alloc::boxed::Box<rhai::types::error::EvalAltResult>>",
                "?",
            ),
            ("String", "string"),
            ("alloc::string::String", "string"),
            ("&str", "string"),
            ("ImmutableString", "string"),
            ("i64", "int"),
            ("INT", "int"),
            ("Dynamic", "?"),
            ("rhai::Map", "map"),
            ("Map", "map"),
            ("Array", "array"),
            ("Vec<String>", "array"),
            ("Blob", "blob"),
            ("&mut ModuleError", "ModuleError"),
            ("&mut Cert", "Cert"),
            ("", "()"),
            ("()", "()"),
            ("Result<(), Box<EvalAltResult>>", "()"),
            ("bool", "bool"),
            ("f64", "float"),
            ("Option<String>", "string | ()"),
            ("RhaiResultOf<i64>", "int"),
        ];
        for (raw, want) in cases {
            assert_eq!(fix_type(raw), want, "fix_type({raw:?})");
        }
    }

    #[test]
    fn custom_type_paths_use_the_registered_name() {
        let names = TypeNames(BTreeMap::from([
            (
                "comgmt_stdlib::cert::model::CertInfo".to_string(),
                "Cert".to_string(),
            ),
            ("CertInfo".to_string(), "Cert".to_string()),
        ]));
        assert_eq!(
            names.display("Result<comgmt_stdlib::cert::model::CertInfo, Box<EvalAltResult>>"),
            "Cert"
        );
        assert_eq!(names.display("&mut CertInfo"), "Cert");
        assert_eq!(names.display("Unknown"), "Unknown");
    }

    #[test]
    fn doc_comments_split_into_sections() {
        let comments = vec![[
            "/// Read a secret from an environment variable.",
            "///",
            "/// The value never prints.",
            "///",
            "/// # Returns",
            "/// A `Secret`.",
            "///",
            "/// # Permission",
            "/// None (local).",
            "///",
            "/// # Example",
            "/// ```rhai",
            "/// # not a heading inside a fence",
            "/// let pw = secret(\"X\");",
            "/// ```",
            "/// ```rhai,no_run",
            "/// secret_prompt(\"y\");",
            "/// ```",
        ]
        .join("\n")];
        let doc = parse_doc(&comment_text(&comments));
        assert_eq!(doc.summary, "Read a secret from an environment variable.");
        assert_eq!(doc.description, "The value never prints.");
        let titles: Vec<&str> = doc.sections.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(titles, ["Returns", "Permission", "Example"]);
        assert_eq!(
            doc.section("permission").map(|s| s.body.as_str()),
            Some("None (local).")
        );
        let ex = doc.examples();
        assert_eq!(ex.len(), 2);
        assert_eq!(
            ex[0].code,
            "# not a heading inside a fence\nlet pw = secret(\"X\");"
        );
        assert!(!ex[0].no_run);
        assert!(ex[1].no_run);
    }

    #[test]
    fn block_comments_are_read_too() {
        let doc = parse_doc(&comment_text(&[
            "/** Do a thing.\n *\n * # Permission\n * None.\n */".to_string(),
        ]));
        assert_eq!(doc.summary, "Do a thing.");
        assert_eq!(
            doc.section("Permission").map(|s| s.body.as_str()),
            Some("None.")
        );
    }
}
