//! Errors that point at the script: parse errors, runtime errors (walked to the innermost
//! call site, in the right file when it is inside an imported module) and `check`
//! findings, rendered with codespan-reporting on stderr, or as one JSON object per
//! diagnostic with `--output json`.

use crate::render::OutputFormat;
use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor};
use comgmt_stdlib::error::find_module_error;
use comgmt_stdlib::ModuleError;
use rhai::{EvalAltResult, ParseError, Position};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The script files a diagnostic may point into: the main script and any module it
/// imports (resolved the way the engine resolves them: relative to the script's folder,
/// `.rhai` forced as the extension).
pub struct Sources {
    files: SimpleFiles<String, String>,
    names: Vec<String>,
    by_source: HashMap<String, Option<usize>>,
    base_dir: PathBuf,
    main: Option<(String, usize)>,
}

impl Sources {
    pub fn new(base_dir: impl Into<PathBuf>) -> Self {
        Sources {
            files: SimpleFiles::new(),
            names: Vec::new(),
            by_source: HashMap::new(),
            base_dir: base_dir.into(),
            main: None,
        }
    }

    /// Add the main script; `name` is how it is shown (and its AST's source).
    pub fn add_main(&mut self, name: &str, text: String) -> usize {
        let id = self.add(name.to_string(), text);
        self.main = Some((name.to_string(), id));
        self.by_source.insert(name.to_string(), Some(id));
        id
    }

    /// Add a file under a display name.
    pub fn add(&mut self, name: String, text: String) -> usize {
        self.names.push(name.clone());
        self.files.add(name, text)
    }

    pub fn name(&self, id: usize) -> &str {
        self.names.get(id).map(String::as_str).unwrap_or("?")
    }

    pub fn text(&self, id: usize) -> &str {
        self.files
            .get(id)
            .map(|f| f.source().as_str())
            .unwrap_or("")
    }

    pub fn base_dir(&self) -> &Path {
        &self.base_dir
    }

    /// Where `import "path"` loads from.
    pub fn module_path(&self, import: &str) -> PathBuf {
        module_file(&self.base_dir, import)
    }

    /// The file a Rhai source name refers to: the main script, or an imported module
    /// (by its import path), loaded on first use. `None` when it cannot be read.
    pub fn resolve(&mut self, source: &str) -> Option<usize> {
        if source.is_empty() {
            return self.main.as_ref().map(|(_, id)| *id);
        }
        if let Some(id) = self.by_source.get(source) {
            return *id;
        }
        let path = self.module_path(source);
        let id = std::fs::read_to_string(&path)
            .ok()
            .map(|text| self.add(path.display().to_string(), text));
        self.by_source.insert(source.to_string(), id);
        id
    }

    /// Register an already-read module file under its import path.
    pub fn add_module(&mut self, import: &str, text: String) -> usize {
        if let Some(Some(id)) = self.by_source.get(import) {
            return *id;
        }
        let id = self.add(self.module_path(import).display().to_string(), text);
        self.by_source.insert(import.to_string(), Some(id));
        id
    }
}

/// `import "x"` -> `<base>/x.rhai`, as rhai's `FileModuleResolver` with a base path does.
pub fn module_file(base_dir: &Path, import: &str) -> PathBuf {
    let p = Path::new(import);
    let mut path = if p.is_relative() && base_dir == Path::new(".") {
        p.to_path_buf()
    } else if p.is_relative() {
        base_dir.join(p)
    } else {
        p.to_path_buf()
    };
    path.set_extension("rhai");
    path
}

/// One problem, with where it is (file + Rhai position) and what to do about it.
#[derive(Debug, Clone, Default)]
pub struct Diag {
    pub message: String,
    /// `syntax`, `runtime`, `check`, `interrupted` or a module error kind.
    pub kind: String,
    pub file: Option<usize>,
    pub pos: Position,
    /// Characters the label covers (at least one).
    pub width: Option<usize>,
    pub label: String,
    pub hint: Option<String>,
    pub remote_code: Option<String>,
    pub status: Option<u16>,
    pub request_id: Option<String>,
    /// Outer call sites, innermost last: (file, position, text).
    pub trace: Vec<(Option<usize>, Position, String)>,
    pub notes: Vec<String>,
}

impl Diag {
    pub fn new(kind: &str, message: impl Into<String>) -> Self {
        Diag {
            message: message.into(),
            kind: kind.to_string(),
            ..Diag::default()
        }
    }

    pub fn at(mut self, file: usize, pos: Position) -> Self {
        self.file = Some(file);
        self.pos = pos;
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn width(mut self, width: usize) -> Self {
        self.width = Some(width.max(1));
        self
    }

    /// A parse error in `file`.
    pub fn from_parse(file: usize, err: &ParseError) -> Self {
        Diag::new("syntax", format!("syntax error: {}", err.err_type()))
            .at(file, err.position())
            .label("here")
    }

    /// A runtime error from a run of the script in `main`: walk function-call and module
    /// wrappers to the innermost position and file, keeping the outer call sites.
    pub fn from_eval(sources: &mut Sources, main: usize, err: &EvalAltResult) -> Self {
        let mut file = Some(main);
        let mut trace = Vec::new();
        let mut cur = err;
        loop {
            match cur {
                EvalAltResult::ErrorInFunctionCall(name, source, inner, pos) => {
                    let what = if name.starts_with("anon$") {
                        "in a closure called here".to_string()
                    } else {
                        format!("in call to `{name}`")
                    };
                    trace.push((file, *pos, what));
                    if !source.is_empty() {
                        file = sources.resolve(source);
                    }
                    cur = inner;
                }
                EvalAltResult::ErrorInModule(path, inner, pos) => {
                    trace.push((file, *pos, format!("in module `{path}` imported here")));
                    file = sources.resolve(path);
                    cur = inner;
                }
                _ => break,
            }
        }
        let mut d = match cur {
            EvalAltResult::ErrorRuntime(..) if find_module_error(cur).is_some() => {
                let m = find_module_error(cur).unwrap_or_else(|| ModuleError::remote(""));
                Diag::from_module_error(&m)
            }
            EvalAltResult::ErrorTerminated(..) => {
                Diag::new("interrupted", "interrupted").label("the script stopped here")
            }
            EvalAltResult::ErrorParsing(t, _) => {
                Diag::new("syntax", format!("syntax error: {t}")).label("here")
            }
            EvalAltResult::ErrorModuleNotFound(path, _) => {
                let expected = sources.module_path(path);
                Diag::new("runtime", format!("module not found: `{path}`"))
                    .label("imported here")
                    .hint(format!(
                        "imports resolve relative to the script's folder; expected {}",
                        expected.display()
                    ))
            }
            other => Diag::new("runtime", without_position(other)).label("here"),
        };
        d.file = if cur.position().is_none() {
            trace.last().and_then(|t| t.0)
        } else {
            file
        };
        d.pos = cur.position();
        if d.pos.is_none() {
            if let Some(last) = trace.last() {
                d.pos = last.1;
            }
        }
        d.trace = trace;
        d
    }

    pub fn from_module_error(m: &ModuleError) -> Self {
        Diag {
            message: format!("{} error: {}", m.kind, m.message),
            kind: m.kind.as_str().to_string(),
            label: format!("{} error", m.kind),
            hint: m.hint.clone(),
            remote_code: m.remote_code.clone(),
            status: m.status,
            request_id: m.request_id.clone(),
            ..Diag::default()
        }
    }

    /// The codespan notes: help, remote code and request id, then free notes.
    fn codespan_notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(h) = &self.hint {
            notes.push(format!("help: {h}"));
        }
        match (&self.remote_code, self.status) {
            (Some(code), Some(status)) => {
                notes.push(format!("remote code: {code} (HTTP {status})"))
            }
            (Some(code), None) => notes.push(format!("remote code: {code}")),
            (None, Some(status)) => notes.push(format!("HTTP status: {status}")),
            (None, None) => {}
        }
        if let Some(r) = &self.request_id {
            notes.push(format!("request id: {r}"));
        }
        notes.extend(self.notes.iter().cloned());
        notes
    }

    fn to_json(&self, sources: &Sources) -> Value {
        let mut o = Map::new();
        o.insert("type".into(), json!("error"));
        o.insert("kind".into(), json!(self.kind));
        o.insert("message".into(), json!(self.message));
        if let Some(f) = self.file {
            o.insert("file".into(), json!(sources.name(f)));
        }
        if let Some(line) = self.pos.line() {
            o.insert("line".into(), json!(line));
            o.insert("column".into(), json!(self.pos.position().unwrap_or(1)));
        }
        if let Some(h) = &self.hint {
            o.insert("hint".into(), json!(h));
        }
        if let Some(c) = &self.remote_code {
            o.insert("remote_code".into(), json!(c));
        }
        if let Some(s) = self.status {
            o.insert("status".into(), json!(s));
        }
        if let Some(r) = &self.request_id {
            o.insert("request_id".into(), json!(r));
        }
        if !self.trace.is_empty() {
            let trace: Vec<Value> = self
                .trace
                .iter()
                .map(|(f, p, what)| {
                    json!({
                        "file": f.map(|f| sources.name(f)),
                        "line": p.line(),
                        "column": p.position(),
                        "what": what,
                    })
                })
                .collect();
            o.insert("trace".into(), Value::Array(trace));
        }
        if !self.notes.is_empty() {
            o.insert("notes".into(), json!(self.notes));
        }
        Value::Object(o)
    }

    fn to_codespan(&self, sources: &Sources) -> Diagnostic<usize> {
        let mut labels = Vec::new();
        let mut notes = self.codespan_notes();
        match self.file {
            Some(f) if !self.pos.is_none() => {
                let span = span_of(sources.text(f), self.pos, self.width);
                labels.push(Label::primary(f, span).with_message(self.label.clone()));
            }
            Some(f) => notes.insert(0, format!("in {}", sources.name(f))),
            None => {}
        }
        // Outer call sites: innermost first, as a reader walks back up.
        for (f, pos, what) in self.trace.iter().rev() {
            match f {
                Some(f) if !pos.is_none() => {
                    let span = span_of(sources.text(*f), *pos, None);
                    labels.push(Label::secondary(*f, span).with_message(what.clone()));
                }
                _ => notes.push(what.clone()),
            }
        }
        Diagnostic::error()
            .with_message(self.message.clone())
            .with_labels(labels)
            .with_notes(notes)
    }
}

/// An error's text without Rhai's ` (line 2, position 11)` suffix (the label shows it).
fn without_position(err: &EvalAltResult) -> String {
    let text = err.to_string();
    let pos = err.position();
    if pos.is_none() {
        return text;
    }
    let suffix = format!(" ({pos})");
    match text.strip_suffix(&suffix) {
        Some(t) => t.to_string(),
        None => text,
    }
}

/// Rhai positions count characters (1-based line and column); codespan wants bytes.
/// Clamped to the text, so a position past the end of a line or file is still valid.
pub fn byte_offset(src: &str, pos: Position) -> usize {
    let Some(line) = pos.line() else { return 0 };
    let col = pos.position().unwrap_or(1).max(1);
    let mut start = 0usize;
    for (i, l) in src.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let body = l.trim_end_matches(['\n', '\r']);
            return start
                + body
                    .char_indices()
                    .nth(col - 1)
                    .map_or(body.len(), |(b, _)| b);
        }
        start += l.len();
    }
    src.len()
}

/// The span a label covers: a whole `name::path` token when the position starts one,
/// otherwise `width` characters (default one).
pub fn span_of(src: &str, pos: Position, width: Option<usize>) -> Range<usize> {
    let at = byte_offset(src, pos);
    let rest = src.get(at..).unwrap_or("");
    let len: usize = match width {
        Some(w) => rest
            .char_indices()
            .take_while(|(_, c)| *c != '\n')
            .take(w)
            .map(|(_, c)| c.len_utf8())
            .sum(),
        None => {
            let word: usize = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .map(char::len_utf8)
                .sum();
            if word > 0 {
                word
            } else {
                rest.chars()
                    .next()
                    .filter(|c| *c != '\n')
                    .map_or(0, char::len_utf8)
            }
        }
    };
    at..at + len
}

/// Colour only on a terminal, and never with NO_COLOR set.
pub fn stderr_color() -> termcolor::ColorChoice {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    if !no_color && std::io::stderr().is_terminal() {
        termcolor::ColorChoice::Auto
    } else {
        termcolor::ColorChoice::Never
    }
}

/// Write diagnostics to stderr in the chosen format.
pub fn emit(sources: &Sources, diags: &[Diag], format: OutputFormat) {
    match format {
        OutputFormat::Json => {
            let mut err = std::io::stderr().lock();
            for d in diags {
                let _ = writeln!(err, "{}", d.to_json(sources));
            }
        }
        OutputFormat::Text => {
            let stream = termcolor::StandardStream::stderr(stderr_color());
            let mut w = stream.lock();
            let config = term::Config::default();
            for d in diags {
                if term::emit_to_write_style(
                    &mut w,
                    &config,
                    &sources.files,
                    &d.to_codespan(sources),
                )
                .is_err()
                {
                    // A label outside its file: fall back to the plain message.
                    let _ = writeln!(w, "error: {}", d.message);
                    for n in d.codespan_notes() {
                        let _ = writeln!(w, "  = {n}");
                    }
                }
            }
        }
    }
}

/// Render to a string without colour (tests and the REPL).
pub fn render_to_string(sources: &Sources, diag: &Diag) -> String {
    term::emit_into_string(
        &term::Config::default(),
        &sources.files,
        &diag.to_codespan(sources),
    )
    .unwrap_or_else(|_| format!("error: {}\n", diag.message))
}

/// An error that is not about a place in a script (unreadable file, bad profile, no
/// connection), in the chosen format.
pub fn emit_plain(format: OutputFormat, kind: &str, message: &str) {
    let mut err = std::io::stderr().lock();
    match format {
        OutputFormat::Json => {
            let _ = writeln!(
                err,
                "{}",
                json!({"type": "error", "kind": kind, "message": message})
            );
        }
        OutputFormat::Text => {
            let stream = termcolor::StandardStream::stderr(stderr_color());
            let mut w = stream.lock();
            use termcolor::WriteColor;
            let _ = w.set_color(
                termcolor::ColorSpec::new()
                    .set_fg(Some(termcolor::Color::Red))
                    .set_bold(true),
            );
            let _ = write!(w, "error");
            let _ = w.reset();
            let _ = writeln!(w, ": {message}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_offsets_count_characters() {
        let src = "let a = 1;\nlet é = \"ü\"; x\n";
        // line 2, column 14 is `x` (after two 2-byte characters)
        let at = byte_offset(src, Position::new(2, 14));
        assert_eq!(&src[at..at + 1], "x");
        // past the end of the line clamps to the line end
        let at = byte_offset(src, Position::new(1, 99));
        assert_eq!(at, 10);
        // past the end of the file clamps to the end
        assert_eq!(byte_offset(src, Position::new(9, 1)), src.len());
    }

    #[test]
    fn spans_cover_qualified_names() {
        let src = "x;\n  entra::nope(1);\n";
        let r = span_of(src, Position::new(2, 3), None);
        assert_eq!(&src[r], "entra::nope");
        let r = span_of(src, Position::new(2, 15), None);
        assert_eq!(&src[r], "1");
    }
}
