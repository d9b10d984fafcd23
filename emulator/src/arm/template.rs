//! A small evaluator of ARM template expressions, enough for the templates the
//! emulator is sent: `[parameters('x')]`, `[variables('x')]`, `[resourceGroup().location]`
//! (`.name`, `.id`), `[subscription().subscriptionId]`, `toLower`, `toUpper`, `concat`,
//! `format`, `string`, `uniqueString`, string and integer literals, property access.
//! Anything else is refused with `InvalidTemplate` rather than guessed at; so are
//! `copy` loops, nested `resources` and `templateLink`.
//!
//! Source: MicrosoftDocs/azure-docs:articles/azure-resource-manager/templates/template-expressions.md
//! (the `[...]` syntax, `[[` escaping, single-quoted strings with `''`), template-functions-*.md
//! (the functions above), template-syntax.md (`parameters` with `defaultValue`,
//! `variables`, `resources[]` with `type`, `apiVersion`, `name`, `location`, `sku`,
//! `kind`, `tags`, `properties`). `uniqueString`'s real hash is not published: the
//! emulator's is a stable 13-character base-32 hash of its arguments (UNCONFIRMED values).

use super::errors::{ArmError, ArmResult};
use axum::http::StatusCode;
use serde_json::{json, Map, Value};

pub fn invalid(message: impl std::fmt::Display) -> ArmError {
    ArmError::new(
        StatusCode::BAD_REQUEST,
        "InvalidTemplate",
        format!("Deployment template validation failed: '{message}'."),
    )
}

/// What expressions can refer to.
pub struct Scope<'a> {
    pub parameters: Map<String, Value>,
    pub variables: &'a Map<String, Value>,
    pub group: Value,
    pub subscription: Value,
}

impl<'a> Scope<'a> {
    /// Bind the deployment's parameters to the template's declarations.
    pub fn new(
        template: &'a Value,
        given: &Value,
        group: Value,
        subscription: Value,
        empty: &'a Map<String, Value>,
    ) -> ArmResult<Scope<'a>> {
        let declared = template["parameters"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let given = given.as_object().cloned().unwrap_or_default();
        let extra: Vec<&String> = given
            .keys()
            .filter(|k| !declared.contains_key(*k))
            .collect();
        if !extra.is_empty() {
            return Err(invalid(format!(
                "The following parameters were supplied, but do not correspond to any parameters defined in the template: '{}'",
                extra.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
        let mut parameters = Map::new();
        for (name, decl) in &declared {
            let value = match given.get(name) {
                Some(v) => v.get("value").cloned().ok_or_else(|| {
                    invalid(format!("The parameter '{name}' has no 'value'"))
                })?,
                None => decl.get("defaultValue").cloned().ok_or_else(|| {
                    invalid(format!(
                        "The value for the template parameter '{name}' is not provided. Please see https://aka.ms/arm-create-parameter-file for usage details"
                    ))
                })?,
            };
            parameters.insert(name.clone(), value);
        }
        let mut scope = Scope {
            parameters,
            variables: empty,
            group,
            subscription,
        };
        // Parameter defaults may be expressions (`[resourceGroup().location]`).
        let evaluated: ArmResult<Map<String, Value>> = scope
            .parameters
            .clone()
            .into_iter()
            .map(|(k, v)| Ok((k, scope.eval(&v)?)))
            .collect();
        scope.parameters = evaluated?;
        scope.variables = template["variables"].as_object().unwrap_or(empty);
        Ok(scope)
    }

    /// Evaluate every expression string inside `v`.
    pub fn eval(&self, v: &Value) -> ArmResult<Value> {
        Ok(match v {
            Value::String(s) if s.starts_with("[[") => Value::String(s[1..].to_string()),
            Value::String(s) if s.starts_with('[') && s.ends_with(']') && s.len() >= 2 => {
                let mut p = Parser {
                    src: &s.as_bytes()[1..s.len() - 1],
                    pos: 0,
                    scope: self,
                };
                let out = p.expr()?;
                p.skip_ws();
                if p.pos != p.src.len() {
                    return Err(invalid(format!(
                        "The template language expression '{s}' is not valid"
                    )));
                }
                out
            }
            Value::Array(a) => {
                Value::Array(a.iter().map(|x| self.eval(x)).collect::<ArmResult<_>>()?)
            }
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| Ok((k.clone(), self.eval(x)?)))
                    .collect::<ArmResult<_>>()?,
            ),
            other => other.clone(),
        })
    }
}

struct Parser<'a, 's> {
    src: &'a [u8],
    pos: usize,
    scope: &'a Scope<'s>,
}

impl Parser<'_, '_> {
    fn skip_ws(&mut self) {
        while self
            .src
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_whitespace())
        {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.src.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> String {
        self.skip_ws();
        let start = self.pos;
        while self
            .src
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            self.pos += 1;
        }
        String::from_utf8_lossy(&self.src[start..self.pos]).into_owned()
    }

    fn expr(&mut self) -> ArmResult<Value> {
        self.skip_ws();
        let mut v = match self.src.get(self.pos) {
            Some(b'\'') => self.string()?,
            Some(c) if c.is_ascii_digit() || *c == b'-' => self.number()?,
            Some(_) => {
                let name = self.ident();
                if name.is_empty() || !self.eat(b'(') {
                    return Err(invalid("The template language expression is not valid"));
                }
                let mut args = Vec::new();
                if !self.eat(b')') {
                    loop {
                        args.push(self.expr()?);
                        if self.eat(b')') {
                            break;
                        }
                        if !self.eat(b',') {
                            return Err(invalid(format!(
                                "The arguments of '{name}' are not valid"
                            )));
                        }
                    }
                }
                self.call(&name, args)?
            }
            None => return Err(invalid("The template language expression is empty")),
        };
        loop {
            if self.eat(b'.') {
                let prop = self.ident();
                v = member(&v, &prop)?;
            } else if self.eat(b'[') {
                let index = self.expr()?;
                if !self.eat(b']') {
                    return Err(invalid("A ']' is missing"));
                }
                v = match (&v, &index) {
                    (Value::Array(a), Value::Number(n)) => n
                        .as_u64()
                        .and_then(|i| a.get(i as usize).cloned())
                        .ok_or_else(|| invalid("The index is out of range"))?,
                    (_, Value::String(s)) => member(&v, s)?,
                    _ => return Err(invalid("The index is not valid")),
                };
            } else {
                return Ok(v);
            }
        }
    }

    fn string(&mut self) -> ArmResult<Value> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            match self.src.get(self.pos) {
                Some(b'\'') if self.src.get(self.pos + 1) == Some(&b'\'') => {
                    out.push(b'\'');
                    self.pos += 2;
                }
                Some(b'\'') => {
                    self.pos += 1;
                    return Ok(Value::String(String::from_utf8_lossy(&out).into_owned()));
                }
                Some(c) => {
                    out.push(*c);
                    self.pos += 1;
                }
                None => return Err(invalid("A string literal is not terminated")),
            }
        }
    }

    fn number(&mut self) -> ArmResult<Value> {
        let start = self.pos;
        self.pos += 1;
        while self.src.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        std::str::from_utf8(&self.src[start..self.pos])
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .map(|n| json!(n))
            .ok_or_else(|| invalid("A number is not valid"))
    }

    fn call(&self, name: &str, args: Vec<Value>) -> ArmResult<Value> {
        let arg_str = |i: usize| -> ArmResult<String> {
            match args.get(i) {
                Some(Value::String(s)) => Ok(s.clone()),
                Some(v) => Ok(text(v)),
                None => Err(invalid(format!("The function '{name}' needs an argument"))),
            }
        };
        let lookup = |m: &Map<String, Value>, what: &str| -> ArmResult<Value> {
            let k = arg_str(0)?;
            m.iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&k))
                .map(|(_, v)| v.clone())
                .ok_or_else(|| invalid(format!("The {what} '{k}' is not defined in the template")))
        };
        match name.to_ascii_lowercase().as_str() {
            "parameters" => lookup(&self.scope.parameters, "parameter"),
            "variables" => {
                let v = lookup(self.scope.variables, "variable")?;
                self.scope.eval(&v)
            }
            "resourcegroup" => Ok(self.scope.group.clone()),
            "subscription" => Ok(self.scope.subscription.clone()),
            "tolower" => Ok(json!(arg_str(0)?.to_lowercase())),
            "toupper" => Ok(json!(arg_str(0)?.to_uppercase())),
            "string" => Ok(json!(arg_str(0)?)),
            "concat" => {
                if args.iter().all(Value::is_array) {
                    return Ok(Value::Array(
                        args.iter().flat_map(|a| a.as_array().cloned().unwrap_or_default()).collect(),
                    ));
                }
                Ok(json!(args.iter().map(text).collect::<String>()))
            }
            "format" => {
                let mut out = arg_str(0)?;
                for (i, a) in args.iter().enumerate().skip(1) {
                    out = out.replace(&format!("{{{}}}", i - 1), &text(a));
                }
                Ok(json!(out))
            }
            "uniquestring" => {
                use sha2::Digest;
                let joined = args.iter().map(text).collect::<Vec<_>>().join("|");
                let h = sha2::Sha256::digest(joined.as_bytes());
                const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
                Ok(json!(h.iter().take(13).map(|b| ALPHABET[(*b % 32) as usize] as char).collect::<String>()))
            }
            other => Err(invalid(format!(
                "The template function '{other}' is not valid (the comgmt emulator evaluates parameters, variables, resourceGroup, subscription, toLower, toUpper, concat, format, string, uniqueString)"
            ))),
        }
    }
}

fn member(v: &Value, prop: &str) -> ArmResult<Value> {
    v.as_object()
        .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(prop)))
        .map(|(_, v)| v.clone())
        .ok_or_else(|| {
            invalid(format!(
                "The language expression property '{prop}' doesn't exist"
            ))
        })
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions() {
        let template = json!({
            "parameters": {"prefix": {"type": "string"}, "loc": {"type": "string", "defaultValue": "[resourceGroup().location]"}},
            "variables": {"ip": "[concat(toLower(parameters('prefix')), '-ip')]"}
        });
        let empty = Map::new();
        let s = Scope::new(
            &template,
            &json!({"prefix": {"value": "Granite"}}),
            json!({"name": "rg", "location": "westus"}),
            json!({"subscriptionId": "s"}),
            &empty,
        )
        .unwrap();
        assert_eq!(
            s.eval(&json!("[variables('ip')]")).unwrap(),
            json!("granite-ip")
        );
        assert_eq!(
            s.eval(&json!("[parameters('loc')]")).unwrap(),
            json!("westus")
        );
        assert_eq!(s.eval(&json!("[[literal]")).unwrap(), json!("[literal]"));
        assert_eq!(
            s.eval(&json!("[format('{0}.{1}', 'a', 'it''s')]")).unwrap(),
            json!("a.it's")
        );
        assert_eq!(
            s.eval(&json!({"n": ["[add(1, 2)]"]})).unwrap_err().code,
            "InvalidTemplate"
        );
        assert!(Scope::new(&template, &json!({}), json!({}), json!({}), &empty).is_err());
        assert!(Scope::new(
            &template,
            &json!({"x": {"value": 1}}),
            json!({}),
            json!({}),
            &empty
        )
        .is_err());
    }
}
