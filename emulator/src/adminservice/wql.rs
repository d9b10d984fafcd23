//! The part of WQL a collection's query rule needs: `select … from SMS_R_System
//! [where …]` with `and`, `or`, `not`, parentheses and comparisons (`=`, `<>`, `!=`,
//! `like`, `not like`, `is null`, `is not null`) of a property (`Name` or
//! `SMS_R_System.Name`) with a string or number. Joins, `in` lists and subselects, which
//! real query rules also use, are not emulated: such a query is refused with 400 so a
//! test never passes on a rule the emulator silently misread.
//! Source of the query form: sccm-ps Add-CMDeviceCollectionQueryMembershipRule.md
//! (`-QueryExpression "select * from SMS_R_System where …"`).

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Text(String),
    Num(f64),
    Op(String),
    Open,
    Close,
}

#[derive(Debug, Clone)]
pub enum Expr {
    All,
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp { prop: String, op: Cmp, value: Value },
    Null { prop: String, negated: bool },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cmp {
    Eq,
    Ne,
    Like,
    NotLike,
}

/// A parsed query: the class it selects from and its condition.
#[derive(Debug, Clone)]
pub struct Query {
    pub class: String,
    pub filter: Expr,
}

fn tokens(src: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            _ if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            '\'' | '"' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&x| x == c)
                    .ok_or("a string is not closed")?;
                out.push(Tok::Text(chars[i + 1..i + 1 + end].iter().collect()));
                i += end + 2;
            }
            '=' | ',' | '*' => {
                out.push(Tok::Op(c.to_string()));
                i += 1;
            }
            '<' | '!' | '>' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                if two == "<>" || two == "!=" {
                    out.push(Tok::Op("<>".into()));
                    i += 2;
                } else {
                    return Err(format!("the operator at `{two}` is not supported"));
                }
            }
            _ if c.is_ascii_digit() || c == '-' => {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                out.push(Tok::Num(text.parse().map_err(|_| "a bad number")?));
            }
            _ if c.is_alphanumeric() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.')
                {
                    i += 1;
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
            _ => return Err(format!("unexpected `{c}`")),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek_word(&self, w: &str) -> bool {
        matches!(self.toks.get(self.at), Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w))
    }
    fn eat_word(&mut self, w: &str) -> bool {
        let yes = self.peek_word(w);
        if yes {
            self.at += 1;
        }
        yes
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }
    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.eat_word("or") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }
    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while self.eat_word("and") {
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }
    fn unary(&mut self) -> Result<Expr, String> {
        if self.eat_word("not") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.toks.get(self.at) == Some(&Tok::Open) {
            self.at += 1;
            let e = self.or()?;
            return match self.next() {
                Some(Tok::Close) => Ok(e),
                _ => Err("a parenthesis is not closed".into()),
            };
        }
        self.compare()
    }
    fn compare(&mut self) -> Result<Expr, String> {
        let prop = match self.next() {
            Some(Tok::Word(w)) => w.rsplit('.').next().unwrap_or(&w).to_string(),
            other => return Err(format!("expected a property, found {other:?}")),
        };
        if self.eat_word("is") {
            let negated = self.eat_word("not");
            if !self.eat_word("null") {
                return Err("expected `null` after `is`".into());
            }
            return Ok(Expr::Null { prop, negated });
        }
        let op = match self.next() {
            Some(Tok::Op(o)) if o == "=" => Cmp::Eq,
            Some(Tok::Op(o)) if o == "<>" => Cmp::Ne,
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("like") => Cmp::Like,
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("not") && self.eat_word("like") => {
                Cmp::NotLike
            }
            other => return Err(format!("the operator {other:?} is not supported")),
        };
        let value = match self.next() {
            Some(Tok::Text(t)) => Value::String(t),
            Some(Tok::Num(n)) => serde_json::Number::from_f64(n)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            other => return Err(format!("expected a value, found {other:?}")),
        };
        Ok(Expr::Cmp { prop, op, value })
    }
}

/// Parse `select … from Class [where …]`.
pub fn parse(src: &str) -> Result<Query, String> {
    let toks = tokens(src)?;
    let mut p = Parser { toks, at: 0 };
    if !p.eat_word("select") {
        return Err("a query starts with `select`".into());
    }
    while p.at < p.toks.len() && !p.peek_word("from") {
        p.at += 1;
    }
    if !p.eat_word("from") {
        return Err("a query names its class after `from`".into());
    }
    let class = match p.next() {
        Some(Tok::Word(w)) => w,
        _ => return Err("a query names its class after `from`".into()),
    };
    if p.at >= p.toks.len() {
        return Ok(Query {
            class,
            filter: Expr::All,
        });
    }
    if !p.eat_word("where") {
        return Err(
            "joins are not supported by this emulator; only `where` may follow the class".into(),
        );
    }
    let filter = p.or()?;
    if p.at < p.toks.len() {
        return Err("unexpected text after the condition".into());
    }
    Ok(Query { class, filter })
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// WQL `like`: `%` any run, `_` one character, without case.
fn like(pattern: &str, s: &str) -> bool {
    fn go(p: &[char], s: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('%') => (0..=s.len()).any(|i| go(&p[1..], &s[i..])),
            Some('_') => !s.is_empty() && go(&p[1..], &s[1..]),
            Some(c) => s.first().is_some_and(|x| x == c) && go(&p[1..], &s[1..]),
        }
    }
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let s: Vec<char> = s.to_lowercase().chars().collect();
    go(&p, &s)
}

/// Whether `row` (its properties matched without case) meets `e`.
pub fn matches(e: &Expr, row: &Value) -> bool {
    let get = |prop: &str| -> Value {
        row.as_object()
            .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(prop)))
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::Null)
    };
    match e {
        Expr::All => true,
        Expr::And(a, b) => matches(a, row) && matches(b, row),
        Expr::Or(a, b) => matches(a, row) || matches(b, row),
        Expr::Not(a) => !matches(a, row),
        Expr::Null { prop, negated } => get(prop).is_null() != *negated,
        Expr::Cmp { prop, op, value } => {
            let (Some(have), Some(want)) = (text(&get(prop)), text(value)) else {
                return false;
            };
            let numeric = have
                .parse::<f64>()
                .ok()
                .zip(want.parse::<f64>().ok())
                .map(|(a, b)| a == b);
            let eq = numeric.unwrap_or_else(|| have.eq_ignore_ascii_case(&want));
            match op {
                Cmp::Eq => eq,
                Cmp::Ne => !eq,
                Cmp::Like => like(&want, &have),
                Cmp::NotLike => !like(&want, &have),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_and_matches() {
        let q = parse("select SMS_R_System.ResourceId, SMS_R_System.Name from SMS_R_System where SMS_R_System.Name like 'LAB-WS0%' and not (Client = 0)").unwrap();
        assert_eq!(q.class, "SMS_R_System");
        assert!(matches(
            &q.filter,
            &json!({"Name": "LAB-WS01", "Client": 1})
        ));
        assert!(!matches(
            &q.filter,
            &json!({"Name": "LAB-WS01", "Client": 0})
        ));
        assert!(!matches(&q.filter, &json!({"Name": "CM01", "Client": 1})));
        let all = parse("select * from SMS_R_System").unwrap();
        assert!(matches(&all.filter, &json!({})));
        let n = parse("select * from SMS_R_System where AADDeviceID is not null").unwrap();
        assert!(!matches(&n.filter, &json!({"AADDeviceID": null})));
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert!(parse("delete from SMS_R_System").is_err());
        assert!(parse("select * from SMS_R_System inner join SMS_G_System_OS on x = y").is_err());
        assert!(parse("select * from SMS_R_System where Name = 'x").is_err());
        assert!(parse("select * from SMS_R_System where (Name = 'x'").is_err());
    }
}
