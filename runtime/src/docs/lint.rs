//! The documentation lint: every exported function carries a one-line summary and the
//! sections the generated reference, REPL help and the example test rely on. A test runs
//! it, so a new stdlib function cannot land undocumented.

use super::model::{DocSet, FnDoc, Overload};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintIssue {
    /// `entra::server_app`, `secret`, or a module name.
    pub item: String,
    pub problem: String,
}

impl fmt::Display for LintIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.item, self.problem)
    }
}

/// Problems in the docs of the stdlib: every module and function, and every options
/// list against the keys the function accepts.
pub fn lint_stdlib(set: &DocSet) -> Vec<LintIssue> {
    let mut issues = lint(set);
    for spec in comgmt_stdlib::option_specs() {
        lint_options(set, &spec, &mut issues);
    }
    issues
}

/// Problems in the docs of every module and function, in listing order.
pub fn lint(set: &DocSet) -> Vec<LintIssue> {
    let mut issues = Vec::new();
    for m in &set.modules {
        if m.summary.trim().is_empty() {
            issues.push(LintIssue {
                item: m.name.clone(),
                problem: "the module has no summary (add it to comgmt_stdlib::MODULES)".into(),
            });
        }
    }
    for f in set.all_functions() {
        lint_function(f, &mut issues);
    }
    issues
}

/// The keys a function's `# Options` section lists (`- \`key\` ...` bullets).
pub fn documented_option_keys(f: &FnDoc) -> Vec<String> {
    let mut keys = Vec::new();
    for o in &f.overloads {
        let Some(section) = o.doc.section("Options") else {
            continue;
        };
        for line in section.body.lines() {
            let Some(rest) = line.trim_start().strip_prefix("- `") else {
                continue;
            };
            if let Some((key, _)) = rest.split_once('`') {
                if !keys.iter().any(|k| k == key) {
                    keys.push(key.to_string());
                }
            }
        }
    }
    keys
}

/// The `# Options` section must list exactly the keys the function accepts.
fn lint_options(
    set: &DocSet,
    spec: &comgmt_stdlib::options::OptionSpec,
    issues: &mut Vec<LintIssue>,
) {
    let Some(f) = set.function(spec.function) else {
        issues.push(LintIssue {
            item: spec.function.to_string(),
            problem: "has an option spec but no such function is registered".into(),
        });
        return;
    };
    let documented = documented_option_keys(f);
    let missing: Vec<&str> = spec
        .keys
        .iter()
        .copied()
        .filter(|k| !documented.iter().any(|d| d == k))
        .collect();
    let extra: Vec<&String> = documented
        .iter()
        .filter(|d| !spec.keys.contains(&d.as_str()))
        .collect();
    if !missing.is_empty() {
        issues.push(LintIssue {
            item: spec.function.to_string(),
            problem: format!("`# Options` does not document: {}", missing.join(", ")),
        });
    }
    if !extra.is_empty() {
        issues.push(LintIssue {
            item: spec.function.to_string(),
            problem: format!(
                "`# Options` documents keys the function does not accept: {}",
                extra
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
}

fn lint_function(f: &FnDoc, issues: &mut Vec<LintIssue>) {
    let q = f.qualified_name();
    let documented: Vec<&Overload> = f
        .overloads
        .iter()
        .filter(|o| !o.doc.text.trim().is_empty())
        .collect();
    if documented.is_empty() {
        issues.push(LintIssue {
            item: q,
            problem: "no `///` doc comment".into(),
        });
        return;
    }
    for o in documented {
        // With several overloads, say which one.
        let item = if f.overloads.len() > 1 {
            o.sig.render(&q)
        } else {
            q.clone()
        };
        let mut report = |problem: String| {
            issues.push(LintIssue {
                item: item.clone(),
                problem,
            })
        };
        let doc = &o.doc;
        if doc.summary.trim().is_empty() {
            report("no `///` summary line".into());
        }
        // Options and Returns are only required when there is something to describe.
        let mut required = Vec::new();
        if o.takes_options() {
            required.push("Options");
        }
        if o.returns_value() {
            required.push("Returns");
        }
        required.extend(["Permission", "Example"]);
        for title in required {
            match doc.section(title) {
                None => report(format!("missing `# {title}` section")),
                Some(s) if s.body.trim().is_empty() => report(format!("empty `# {title}` section")),
                Some(_) => {}
            }
        }
        if doc.section("Example").is_some() {
            let examples = doc.examples();
            if examples.is_empty() {
                report("the `# Example` section has no ```rhai code block".into());
            } else if !examples.iter().any(|e| calls(&e.code, f)) {
                report(format!("no example calls `{q}`"));
            }
        }
    }
}

/// Whether example code calls the function (qualified, plain for globals, or as a
/// method on a value).
fn calls(code: &str, f: &FnDoc) -> bool {
    let q = format!("{}(", f.qualified_name());
    let method = format!(".{}(", f.name);
    code.contains(&q) || code.contains(&method)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docs::model::{parse_doc, ModuleDoc, Overload, Param, Signature};

    fn func(
        module: Option<&str>,
        name: &str,
        ret: &str,
        params: &[(&str, &str)],
        doc: &str,
    ) -> FnDoc {
        FnDoc {
            module: module.map(str::to_string),
            name: name.to_string(),
            overloads: vec![Overload {
                sig: Signature {
                    params: params
                        .iter()
                        .map(|(n, t)| Param {
                            name: n.to_string(),
                            ty: t.to_string(),
                        })
                        .collect(),
                    ret: ret.to_string(),
                },
                doc: parse_doc(doc),
            }],
        }
    }

    #[test]
    fn a_complete_doc_passes() {
        let f = func(
            Some("entra"),
            "server_app",
            "ServerApp",
            &[("options", "map")],
            "Ensure the app.\n\n# Options\n- `name`\n\n# Returns\nThe app.\n\n# Permission\nApplication.ReadWrite.All\n\n# Example\n```rhai\nlet app = entra::server_app(#{});\n```",
        );
        let set = DocSet {
            modules: vec![ModuleDoc {
                name: "entra".into(),
                summary: "Entra.".into(),
                functions: vec![f],
            }],
            ..DocSet::default()
        };
        assert_eq!(lint(&set), vec![]);
    }

    #[test]
    fn missing_pieces_are_named() {
        let f = func(
            Some("cert"),
            "csr",
            "Csr",
            &[("options", "map")],
            "# Notes\nNo summary.",
        );
        let set = DocSet {
            modules: vec![ModuleDoc {
                name: "cert".into(),
                summary: String::new(),
                functions: vec![f],
            }],
            ..DocSet::default()
        };
        let text: Vec<String> = lint(&set).iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "cert: the module has no summary (add it to comgmt_stdlib::MODULES)",
                "cert::csr: no `///` summary line",
                "cert::csr: missing `# Options` section",
                "cert::csr: missing `# Returns` section",
                "cert::csr: missing `# Permission` section",
                "cert::csr: missing `# Example` section",
            ]
        );
    }

    #[test]
    fn an_example_must_call_the_function() {
        let f = func(
            None,
            "secret",
            "Secret",
            &[("name", "string")],
            "Read.\n\n# Returns\nA secret.\n\n# Permission\nNone.\n\n# Example\n```rhai\nprint(1);\n```",
        );
        let set = DocSet {
            globals: vec![f],
            ..DocSet::default()
        };
        let text: Vec<String> = lint(&set).iter().map(ToString::to_string).collect();
        assert_eq!(text, ["secret: no example calls `secret`"]);
    }

    #[test]
    fn each_documented_overload_is_checked_on_its_own() {
        let full = "Check.\n\n# Options\n- `region`\n\n# Returns\nFindings.\n\n# Permission\nNone.\n\n# Example\n```rhai\ncert::check_cmg(c, #{});\n```";
        let short = "Check with defaults.\n\n# Returns\nFindings.\n\n# Permission\nNone.\n\n# Example\n```rhai\ncert::check_cmg(c);\n```";
        let mut f = func(
            Some("cert"),
            "check_cmg",
            "array",
            &[("cert", "Cert")],
            short,
        );
        let mut g = func(
            Some("cert"),
            "check_cmg",
            "array",
            &[("cert", "Cert"), ("options", "map")],
            full,
        );
        f.overloads.append(&mut g.overloads);
        let mut set = DocSet {
            modules: vec![ModuleDoc {
                name: "cert".into(),
                summary: "Certs.".into(),
                functions: vec![f],
            }],
            ..DocSet::default()
        };
        assert_eq!(lint(&set), vec![]);
        // An overload without any comment is covered by the others.
        set.modules[0].functions[0].overloads[0].doc = parse_doc("");
        assert_eq!(lint(&set), vec![]);
        // A documented overload missing a section is named by its signature.
        set.modules[0].functions[0].overloads[1].doc = parse_doc("Check.\n\n# Permission\nNone.");
        let text: Vec<String> = lint(&set).iter().map(ToString::to_string).collect();
        assert_eq!(
            text[0],
            "cert::check_cmg(cert: Cert, options: map) -> array: missing `# Options` section"
        );
    }
}
