//! OData `$filter`: comparisons (`eq ne gt ge lt le`), `and`/`or`/`not`, parentheses,
//! `in (...)`, `startswith`/`endswith`/`contains`, and lambdas over collections
//! (`identifierUris/any(x:x eq '…')`). String comparisons are case-insensitive, as they
//! are for directory objects and WMI. Which operators a surface allows, and when, is the
//! surface's business: [`uses`] lists what an expression relies on.

use super::{ODataError, ODataResult, Schema};
use serde_json::Value;
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Comma,
    Colon,
    Str(String),
    Num(f64),
    Ident(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone)]
pub enum Operand {
    /// A property path, possibly starting at a lambda variable.
    Path(Vec<String>),
    Lit(Value),
}

#[derive(Debug, Clone)]
pub enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp(Operand, Op, Operand),
    In(Operand, Vec<Value>),
    Func(String, Operand, Operand),
    /// `path/any(var: body)` (`all` when `all` is true); no body means "non-empty".
    Lambda {
        path: Vec<String>,
        all: bool,
        var: String,
        body: Option<Box<Expr>>,
    },
    /// A bare boolean operand, e.g. `isFallbackPublicClient` or `startswith(...) eq true`.
    Truthy(Operand),
}

fn syntax(src: &str, detail: &str) -> ODataError {
    ODataError::syntax(format!("Invalid filter clause: {detail} in '{src}'."))
}

fn tokenize(src: &str) -> ODataResult<Vec<Tok>> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        // Edm.Guid literals are written unquoted (`principalId eq 5f2c…`).
        if i + 36 <= chars.len() {
            let candidate: String = chars[i..i + 36].iter().collect();
            let ends = chars.get(i + 36).is_none_or(|n| !n.is_alphanumeric());
            if ends && crate::util::is_guid(&candidate) {
                out.push(Tok::Str(candidate));
                i += 36;
                continue;
            }
        }
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1
            }
            ':' => {
                out.push(Tok::Colon);
                i += 1
            }
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(syntax(src, "unterminated string literal")),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(s));
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let start = i;
                i += 1;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric()
                        || chars[i] == '.'
                        || chars[i] == '-'
                        || chars[i] == ':')
                {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                match text.parse::<f64>() {
                    Ok(n) => out.push(Tok::Num(n)),
                    // Unquoted GUIDs and dates: keep them as strings.
                    Err(_) => out.push(Tok::Str(text)),
                }
            }
            c if c.is_alphabetic() || c == '_' || c == '$' || c == '@' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric()
                        || matches!(chars[i], '_' | '/' | '.' | '$' | '@'))
                {
                    i += 1;
                }
                out.push(Tok::Ident(chars[start..i].iter().collect()));
            }
            other => return Err(syntax(src, &format!("unexpected character '{other}'"))),
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    src: &'a str,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(kw))
    }

    fn expect(&mut self, t: Tok, what: &str) -> ODataResult<()> {
        if self.next() == Some(t) {
            Ok(())
        } else {
            Err(syntax(self.src, &format!("expected {what}")))
        }
    }

    fn or(&mut self) -> ODataResult<Expr> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> ODataResult<Expr> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.pos += 1;
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> ODataResult<Expr> {
        if self.keyword("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let e = self.or()?;
            self.expect(Tok::RParen, "')'")?;
            return self.maybe_compare_bool(e);
        }
        self.comparison()
    }

    /// `(expr) eq true` / `startswith(...) eq false`.
    fn maybe_compare_bool(&mut self, e: Expr) -> ODataResult<Expr> {
        for (kw, negate_on_true) in [("eq", false), ("ne", true)] {
            if self.keyword(kw) {
                self.pos += 1;
                let want = match self.next() {
                    Some(Tok::Ident(b)) if b == "true" => true,
                    Some(Tok::Ident(b)) if b == "false" => false,
                    _ => return Err(syntax(self.src, "expected true or false")),
                };
                return Ok(if want != negate_on_true {
                    e
                } else {
                    Expr::Not(Box::new(e))
                });
            }
        }
        Ok(e)
    }

    fn comparison(&mut self) -> ODataResult<Expr> {
        // Function calls and lambdas.
        if let (Some(Tok::Ident(name)), Some(Tok::LParen)) = (
            self.toks.get(self.pos).cloned(),
            self.toks.get(self.pos + 1),
        ) {
            let lower = name.to_ascii_lowercase();
            if lower.ends_with("/any") || lower.ends_with("/all") {
                self.pos += 2;
                let all = lower.ends_with("/all");
                let path: Vec<String> = name[..name.len() - 4]
                    .split('/')
                    .map(str::to_string)
                    .collect();
                if self.peek() == Some(&Tok::RParen) {
                    self.pos += 1;
                    let e = Expr::Lambda {
                        path,
                        all,
                        var: String::new(),
                        body: None,
                    };
                    return self.maybe_compare_bool(e);
                }
                let var = match self.next() {
                    Some(Tok::Ident(v)) if !v.contains('/') => v,
                    _ => return Err(syntax(self.src, "expected a lambda variable")),
                };
                self.expect(Tok::Colon, "':'")?;
                let body = self.or()?;
                self.expect(Tok::RParen, "')'")?;
                let e = Expr::Lambda {
                    path,
                    all,
                    var,
                    body: Some(Box::new(body)),
                };
                return self.maybe_compare_bool(e);
            }
            if matches!(lower.as_str(), "startswith" | "endswith" | "contains") {
                self.pos += 2;
                let a = self.operand()?;
                self.expect(Tok::Comma, "','")?;
                let b = self.operand()?;
                self.expect(Tok::RParen, "')'")?;
                return self.maybe_compare_bool(Expr::Func(lower, a, b));
            }
            return Err(ODataError::unsupported(format!(
                "Unsupported function '{name}' in the filter clause."
            )));
        }
        let left = self.operand()?;
        let op = match self.peek() {
            Some(Tok::Ident(s)) => match s.to_ascii_lowercase().as_str() {
                "eq" => Some(Op::Eq),
                "ne" => Some(Op::Ne),
                "gt" => Some(Op::Gt),
                "ge" => Some(Op::Ge),
                "lt" => Some(Op::Lt),
                "le" => Some(Op::Le),
                "in" => {
                    self.pos += 1;
                    return self.in_list(left);
                }
                _ => None,
            },
            _ => None,
        };
        let Some(op) = op else {
            return Ok(Expr::Truthy(left));
        };
        self.pos += 1;
        let right = self.operand()?;
        Ok(Expr::Cmp(left, op, right))
    }

    fn in_list(&mut self, left: Operand) -> ODataResult<Expr> {
        self.expect(Tok::LParen, "'('")?;
        let mut items = Vec::new();
        loop {
            match self.operand()? {
                Operand::Lit(v) => items.push(v),
                Operand::Path(_) => {
                    return Err(syntax(self.src, "expected a literal in the 'in' list"))
                }
            }
            match self.next() {
                Some(Tok::Comma) => continue,
                Some(Tok::RParen) => break,
                _ => return Err(syntax(self.src, "expected ',' or ')'")),
            }
        }
        Ok(Expr::In(left, items))
    }

    fn operand(&mut self) -> ODataResult<Operand> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Operand::Lit(Value::String(s))),
            Some(Tok::Num(n)) => Ok(Operand::Lit(serde_json::json!(n))),
            Some(Tok::Ident(s)) => Ok(match s.as_str() {
                "true" => Operand::Lit(Value::Bool(true)),
                "false" => Operand::Lit(Value::Bool(false)),
                "null" => Operand::Lit(Value::Null),
                _ => Operand::Path(s.split('/').map(str::to_string).collect()),
            }),
            _ => Err(syntax(self.src, "expected a property or a literal")),
        }
    }
}

/// Parse a `$filter` and check its property names against `obj`.
pub fn parse(src: &str, obj: &dyn Schema) -> ODataResult<Expr> {
    let mut p = Parser {
        toks: tokenize(src)?,
        pos: 0,
        src,
    };
    if p.toks.is_empty() {
        return Err(syntax(src, "empty expression"));
    }
    let e = p.or()?;
    if p.pos < p.toks.len() {
        return Err(syntax(src, &format!("syntax error at token {}", p.pos + 1)));
    }
    check_paths(&e, obj, &[])?;
    Ok(e)
}

fn check_paths(e: &Expr, obj: &dyn Schema, vars: &[&str]) -> ODataResult<()> {
    let check = |o: &Operand| -> ODataResult<()> {
        if let Operand::Path(p) = o {
            let first = p.first().map(String::as_str).unwrap_or_default();
            if !vars.contains(&first) && !obj.has_property(first) {
                return Err(ODataError::unknown_property(first, obj.type_name()));
            }
        }
        Ok(())
    };
    match e {
        Expr::Or(a, b) | Expr::And(a, b) => {
            check_paths(a, obj, vars)?;
            check_paths(b, obj, vars)
        }
        Expr::Not(a) => check_paths(a, obj, vars),
        Expr::Cmp(a, _, b) | Expr::Func(_, a, b) => {
            check(a)?;
            check(b)
        }
        Expr::In(a, _) | Expr::Truthy(a) => check(a),
        Expr::Lambda {
            path, var, body, ..
        } => {
            check(&Operand::Path(path.clone()))?;
            if let Some(body) = body {
                let mut inner = vars.to_vec();
                inner.push(var);
                check_paths(body, obj, &inner)?;
            }
            Ok(())
        }
    }
}

/// An operator an expression relies on, with the top-level property it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Use {
    /// `ne`.
    NotEquals(String),
    /// `not`, or a comparison with `false` that the parser turned into one.
    Not,
    /// `startswith`, `endswith` or `contains` (lower case) on a property.
    Function(String, String),
}

/// Every operator `e` relies on that a surface may restrict. Inside a lambda the
/// variable stands for the collection property.
pub fn uses(e: &Expr) -> Vec<Use> {
    let mut out = Vec::new();
    collect_uses(e, &[], &mut out);
    out
}

fn property_of(o: &Operand, vars: &[(&str, &str)]) -> Option<String> {
    let Operand::Path(p) = o else { return None };
    let first = p.first()?;
    Some(
        vars.iter()
            .rev()
            .find(|(v, _)| v == first)
            .map(|(_, prop)| prop.to_string())
            .unwrap_or_else(|| first.clone()),
    )
}

fn collect_uses(e: &Expr, vars: &[(&str, &str)], out: &mut Vec<Use>) {
    match e {
        Expr::Or(a, b) | Expr::And(a, b) => {
            collect_uses(a, vars, out);
            collect_uses(b, vars, out);
        }
        Expr::Not(a) => {
            out.push(Use::Not);
            collect_uses(a, vars, out);
        }
        Expr::Cmp(a, Op::Ne, b) => {
            let p = property_of(a, vars).or_else(|| property_of(b, vars));
            out.push(Use::NotEquals(p.unwrap_or_default()));
        }
        Expr::Func(name, a, _) => {
            out.push(Use::Function(
                name.clone(),
                property_of(a, vars).unwrap_or_default(),
            ));
        }
        Expr::Lambda {
            path,
            var,
            body: Some(body),
            ..
        } => {
            let prop = path.first().map(String::as_str).unwrap_or_default();
            let mut inner = vars.to_vec();
            inner.push((var.as_str(), prop));
            collect_uses(body, &inner, out);
        }
        Expr::Cmp(..) | Expr::In(..) | Expr::Truthy(_) | Expr::Lambda { body: None, .. } => {}
    }
}

/// Whether `doc` matches.
pub fn matches(e: &Expr, doc: &Value) -> bool {
    eval(e, doc, &[])
}

fn eval(e: &Expr, doc: &Value, env: &[(&str, &Value)]) -> bool {
    match e {
        Expr::Or(a, b) => eval(a, doc, env) || eval(b, doc, env),
        Expr::And(a, b) => eval(a, doc, env) && eval(b, doc, env),
        Expr::Not(a) => !eval(a, doc, env),
        Expr::Cmp(a, op, b) => {
            let (x, y) = (resolve(a, doc, env), resolve(b, doc, env));
            let ord = compare(&x, &y);
            match op {
                Op::Eq => ord == Some(Ordering::Equal),
                Op::Ne => ord != Some(Ordering::Equal),
                Op::Gt => ord == Some(Ordering::Greater),
                Op::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
                Op::Lt => ord == Some(Ordering::Less),
                Op::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
            }
        }
        Expr::In(a, items) => {
            let x = resolve(a, doc, env);
            items
                .iter()
                .any(|i| compare(&x, i) == Some(Ordering::Equal))
        }
        Expr::Func(name, a, b) => {
            let (x, y) = (resolve(a, doc, env), resolve(b, doc, env));
            let (Some(x), Some(y)) = (x.as_str(), y.as_str()) else {
                return false;
            };
            let (x, y) = (x.to_lowercase(), y.to_lowercase());
            match name.as_str() {
                "startswith" => x.starts_with(&y),
                "endswith" => x.ends_with(&y),
                _ => x.contains(&y),
            }
        }
        Expr::Truthy(a) => resolve(a, doc, env) == Value::Bool(true),
        Expr::Lambda {
            path,
            all,
            var,
            body,
        } => {
            let coll = resolve(&Operand::Path(path.clone()), doc, env);
            let items = coll.as_array().cloned().unwrap_or_default();
            let Some(body) = body else {
                return !items.is_empty();
            };
            let test = |item: &Value| {
                let mut inner = env.to_vec();
                inner.push((var.as_str(), item));
                eval(body, doc, &inner)
            };
            if *all {
                items.iter().all(test)
            } else {
                items.iter().any(test)
            }
        }
    }
}

fn resolve(o: &Operand, doc: &Value, env: &[(&str, &Value)]) -> Value {
    match o {
        Operand::Lit(v) => v.clone(),
        Operand::Path(p) => {
            let (mut cur, rest) = match env
                .iter()
                .rev()
                .find(|(n, _)| Some(*n) == p.first().map(String::as_str))
            {
                Some((_, v)) => (*v, &p[1..]),
                None => (doc, &p[..]),
            };
            for seg in rest {
                match cur.get(seg) {
                    Some(v) => cur = v,
                    None => return Value::Null,
                }
            }
            cur.clone()
        }
    }
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::String(x), Value::String(y)) => Some(x.to_lowercase().cmp(&y.to_lowercase())),
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::resources::APPLICATION;
    use serde_json::json;

    fn m(f: &str, doc: &Value) -> bool {
        matches(&parse(f, &APPLICATION).unwrap(), doc)
    }

    #[test]
    fn forms_graph_clients_use() {
        let app = json!({
            "appId": "ABC", "displayName": "Cloud Management web app",
            "identifierUris": ["api://t/ConfigMgrService"],
            "isFallbackPublicClient": true,
            "api": {"requestedAccessTokenVersion": 2}
        });
        assert!(m("appId eq 'abc'", &app));
        assert!(m("displayName eq 'Cloud Management web app'", &app));
        assert!(m("startswith(displayName,'cloud')", &app));
        assert!(m("startswith(displayName, 'Cloud') eq true", &app));
        assert!(!m("startswith(displayName,'x')", &app));
        assert!(m(
            "identifierUris/any(x:x eq 'api://t/ConfigMgrService')",
            &app
        ));
        assert!(m("identifierUris/any(x:startswith(x,'api://'))", &app));
        assert!(!m("identifierUris/any(x:x eq 'api://other')", &app));
        assert!(m("identifierUris/any()", &app));
        assert!(m("appId in ('x','abc') and not (displayName eq 'y')", &app));
        assert!(m("appId eq 'nope' or isFallbackPublicClient eq true", &app));
        assert!(m("api/requestedAccessTokenVersion eq 2", &app));
        let a = json!({"appId": "f56f337f-c555-4098-95df-79c6b2da1aa4"});
        assert!(m("appId eq f56f337f-c555-4098-95df-79c6b2da1aa4", &a));
        assert!(m("appId eq 'F56F337F-C555-4098-95DF-79C6B2DA1AA4'", &a));
        assert!(m("displayName eq 'it''s'", &json!({"displayName": "it's"})));
    }

    #[test]
    fn errors() {
        for bad in [
            "appId eq",
            "appId eq 'x",
            "(appId eq 'x'",
            "appId eq 'x' 'y'",
            "",
            "appId ~ 'x'",
        ] {
            assert!(parse(bad, &APPLICATION).is_err(), "{bad}");
        }
        let e = parse("nope eq 'x'", &APPLICATION).unwrap_err();
        assert!(e.message.contains("Could not find a property named 'nope'"));
        let e = parse("foo(appId)", &APPLICATION).unwrap_err();
        assert_eq!(e.kind, crate::odata::ErrorKind::Unsupported);
    }

    #[test]
    fn uses_name_negations_and_functions() {
        let e = parse(
            "displayName ne 'a' and not (appId eq 'b') or identifierUris/any(u:endswith(u,'x'))",
            &APPLICATION,
        )
        .unwrap();
        assert_eq!(
            uses(&e),
            vec![
                Use::NotEquals("displayName".into()),
                Use::Not,
                Use::Function("endswith".into(), "identifierUris".into()),
            ]
        );
        let e = parse("startswith(displayName,'a') eq false", &APPLICATION).unwrap();
        assert_eq!(
            uses(&e),
            vec![
                Use::Not,
                Use::Function("startswith".into(), "displayName".into())
            ]
        );
        assert!(uses(&parse("appId eq 'x'", &APPLICATION).unwrap()).is_empty());
    }
}
