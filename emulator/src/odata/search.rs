//! `$search` as directory objects take it: quoted `"property:term"` clauses joined by
//! `AND` / `OR` (AND binds tighter). A clause matches when a word of the property's
//! value starts with the term, case-insensitively — Graph tokenizes the values it
//! searches and matches terms as prefixes of those tokens.
//! Source: microsoftgraph/microsoft-graph-docs-contrib:concepts/search-query-parameter.md
//! ("Using $search on directory object collections").

use super::{ODataError, ODataResult, Schema};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    pub property: String,
    pub term: String,
}

/// A parsed `$search`: an OR of AND-groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    pub any_of: Vec<Vec<Clause>>,
}

fn invalid(raw: &str) -> ODataError {
    ODataError::syntax(format!("Syntax error: invalid $search expression '{raw}'."))
}

/// Parse `$search`, checking each property against `searchable` (and the type).
pub fn parse(raw: &str, schema: &dyn Schema, searchable: &[&str]) -> ODataResult<Search> {
    let mut any_of: Vec<Vec<Clause>> = vec![Vec::new()];
    let mut rest = raw.trim();
    let mut expect_clause = true;
    while !rest.is_empty() {
        if expect_clause {
            let inner = rest.strip_prefix('"').ok_or_else(|| invalid(raw))?;
            let end = inner.find('"').ok_or_else(|| invalid(raw))?;
            let (property, term) = inner[..end].split_once(':').ok_or_else(|| invalid(raw))?;
            let property = property.trim();
            if !schema.has_property(property) {
                return Err(ODataError::unknown_property(property, schema.type_name()));
            }
            if !searchable.iter().any(|s| s.eq_ignore_ascii_case(property)) {
                return Err(ODataError::unsupported(format!(
                    "Search is not supported on property '{property}' of '{}'.",
                    schema.type_name()
                )));
            }
            if let Some(group) = any_of.last_mut() {
                group.push(Clause {
                    property: property.to_string(),
                    term: term.trim().to_lowercase(),
                });
            }
            rest = inner[end + 1..].trim_start();
            expect_clause = false;
        } else {
            let (word, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            match word.to_ascii_uppercase().as_str() {
                "AND" => {}
                "OR" => any_of.push(Vec::new()),
                _ => return Err(invalid(raw)),
            }
            rest = after.trim_start();
            expect_clause = true;
        }
    }
    if expect_clause {
        return Err(invalid(raw));
    }
    Ok(Search { any_of })
}

impl Search {
    pub fn matches(&self, doc: &Value) -> bool {
        self.any_of
            .iter()
            .any(|group| group.iter().all(|c| clause_matches(c, doc)))
    }
}

fn clause_matches(c: &Clause, doc: &Value) -> bool {
    let values: Vec<&str> = match &doc[c.property.as_str()] {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    values.iter().any(|v| {
        let v = v.to_lowercase();
        // A multi-word term matches as a phrase; a single word as a token prefix.
        if c.term.contains(char::is_whitespace) {
            return v.contains(&c.term);
        }
        v.split(|ch: char| !ch.is_alphanumeric())
            .any(|word| word.starts_with(&c.term))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct T;
    impl Schema for T {
        fn type_name(&self) -> &str {
            "t"
        }
        fn has_property(&self, name: &str) -> bool {
            matches!(name, "displayName" | "description" | "appId")
        }
    }
    const S: &[&str] = &["displayName", "description"];

    #[test]
    fn clauses_and_matching() {
        let s = parse("\"displayName:cloud\"", &T, S).unwrap();
        assert!(s.matches(&json!({"displayName": "Cloud Management web app"})));
        assert!(s.matches(&json!({"displayName": "my-cloud-app"})));
        assert!(!s.matches(&json!({"displayName": "Mycloud"})));
        let s = parse(
            "\"displayName:web\" AND \"description:x\" OR \"description:y\"",
            &T,
            S,
        )
        .unwrap();
        assert_eq!(s.any_of.len(), 2);
        assert!(s.matches(&json!({"displayName": "q", "description": "y"})));
        assert!(!s.matches(&json!({"displayName": "web", "description": "z"})));
    }

    #[test]
    fn errors() {
        for bad in [
            "displayName:x",
            "\"displayName:x",
            "\"displayNamex\"",
            "\"displayName:x\" AND",
            "\"displayName:x\" NEAR \"description:y\"",
        ] {
            assert!(parse(bad, &T, S).is_err(), "{bad}");
        }
        assert_eq!(
            parse("\"appId:x\"", &T, S).unwrap_err().kind,
            super::super::ErrorKind::Unsupported
        );
        assert_eq!(
            parse("\"nope:x\"", &T, S).unwrap_err().kind,
            super::super::ErrorKind::UnknownProperty
        );
    }
}
