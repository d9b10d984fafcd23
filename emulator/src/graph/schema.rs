//! A small description of Graph resource types: which properties exist, their types and
//! defaults. It drives the validation Graph's OData layer does on request bodies
//! (unknown properties, wrong types) and the defaults a new object gets.

use crate::errors::{GraphError, GraphResult};
use serde_json::{Map, Value};

#[derive(Debug)]
pub enum Ty {
    Str,
    Bool,
    Int,
    Guid,
    /// Not modelled further; any JSON value.
    Any,
    Obj(&'static Obj),
    Arr(&'static Ty),
}

#[derive(Debug)]
pub struct Obj {
    /// The OData type name used in error messages, e.g. `microsoft.graph.application`.
    pub name: &'static str,
    pub fields: &'static [Field],
}

#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub default: Def,
    /// Set by the service; a request may only repeat the current value.
    pub read_only: bool,
}

#[derive(Debug, Clone, Copy)]
pub enum Def {
    Null,
    Bool(bool),
    Str(&'static str),
    /// `[]` for collections, the type's defaults for complex types.
    Empty,
}

/// Shorthands so the resource tables read like the Graph reference.
pub const fn f(name: &'static str, ty: Ty) -> Field {
    let default = match ty {
        Ty::Obj(_) | Ty::Arr(_) => Def::Empty,
        _ => Def::Null,
    };
    Field {
        name,
        ty,
        default,
        read_only: false,
    }
}

pub const fn fd(name: &'static str, ty: Ty, default: Def) -> Field {
    Field {
        name,
        ty,
        default,
        read_only: false,
    }
}

pub const fn ro(name: &'static str, ty: Ty) -> Field {
    let mut field = f(name, ty);
    field.read_only = true;
    field
}

impl crate::odata::Schema for Obj {
    fn type_name(&self) -> &str {
        self.name
    }
    fn has_property(&self, name: &str) -> bool {
        self.field(name).is_some()
    }
}

impl Obj {
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// A value with every property at its default.
    pub fn defaults(&self) -> Value {
        let mut m = Map::new();
        for field in self.fields {
            m.insert(field.name.to_string(), field.default_value());
        }
        Value::Object(m)
    }

    /// Validate a request body against this type. With `fill`, unspecified properties get
    /// their defaults (how Graph treats a complex value it receives); without, only the
    /// given properties are returned (top level of POST and PATCH bodies).
    pub fn normalize(
        &self,
        given: &Map<String, Value>,
        fill: bool,
    ) -> GraphResult<Map<String, Value>> {
        let mut out = Map::new();
        for (k, v) in given {
            if k.starts_with("@odata.") {
                continue;
            }
            let field = self
                .field(k)
                .ok_or_else(|| GraphError::unknown_property(k, self.name))?;
            out.insert(k.clone(), check_value(&field.ty, k, v)?);
        }
        if fill {
            for field in self.fields {
                out.entry(field.name.to_string())
                    .or_insert_with(|| field.default_value());
            }
        }
        Ok(out)
    }
}

impl Field {
    pub fn default_value(&self) -> Value {
        match (self.default, &self.ty) {
            (Def::Null, _) => Value::Null,
            (Def::Bool(b), _) => Value::Bool(b),
            (Def::Str(s), _) => Value::String(s.into()),
            (Def::Empty, Ty::Obj(o)) => o.defaults(),
            (Def::Empty, _) => Value::Array(Vec::new()),
        }
    }
}

fn check_value(ty: &Ty, name: &str, v: &Value) -> GraphResult<Value> {
    let bad = |edm: &str| {
        GraphError::odata(format!(
            "Cannot convert the value of property '{name}' to the expected type '{edm}'."
        ))
    };
    match ty {
        Ty::Any => Ok(v.clone()),
        Ty::Str => match v {
            Value::Null | Value::String(_) => Ok(v.clone()),
            _ => Err(bad("Edm.String")),
        },
        Ty::Bool => match v {
            Value::Null | Value::Bool(_) => Ok(v.clone()),
            _ => Err(bad("Edm.Boolean")),
        },
        Ty::Int => match v {
            Value::Null => Ok(v.clone()),
            Value::Number(n) if n.is_i64() => Ok(v.clone()),
            _ => Err(bad("Edm.Int32")),
        },
        Ty::Guid => match v {
            Value::Null => Ok(v.clone()),
            Value::String(s) if crate::util::is_guid(s) => {
                Ok(Value::String(s.to_ascii_lowercase()))
            }
            _ => Err(bad("Edm.Guid")),
        },
        Ty::Arr(inner) => match v {
            Value::Null => Ok(Value::Array(Vec::new())),
            Value::Array(items) => items
                .iter()
                .map(|i| check_value(inner, name, i))
                .collect::<GraphResult<Vec<_>>>()
                .map(Value::Array),
            _ => Err(bad("Collection")),
        },
        Ty::Obj(o) => match v {
            Value::Null => Ok(o.defaults()),
            Value::Object(m) => o.normalize(m, true).map(Value::Object),
            _ => Err(bad(o.name)),
        },
    }
}

/// Reject read-only properties whose value differs from `current` (or is set at all
/// when there is no current object). Returns the body without them.
pub fn strip_read_only(
    obj: &Obj,
    mut given: Map<String, Value>,
    current: Option<&Value>,
) -> GraphResult<Map<String, Value>> {
    for field in obj.fields.iter().filter(|f| f.read_only) {
        if let Some(v) = given.remove(field.name) {
            let same = current
                .map(|c| c.get(field.name) == Some(&v))
                .unwrap_or(true);
            if !same {
                return Err(GraphError::bad_request(format!(
                    "Property '{}' is read-only and cannot be set.",
                    field.name
                )));
            }
        }
    }
    Ok(given)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const INNER: Obj = Obj {
        name: "t.inner",
        fields: &[
            fd("flag", Ty::Bool, Def::Bool(false)),
            f("uris", Ty::Arr(&Ty::Str)),
        ],
    };
    const OUTER: Obj = Obj {
        name: "t.outer",
        fields: &[
            f("name", Ty::Str),
            f("inner", Ty::Obj(&INNER)),
            ro("id", Ty::Str),
        ],
    };

    #[test]
    fn defaults_and_fill() {
        assert_eq!(
            OUTER.defaults(),
            json!({"name": null, "inner": {"flag": false, "uris": []}, "id": null})
        );
        let body = json!({"inner": {"uris": ["a"]}});
        let m = OUTER.normalize(body.as_object().unwrap(), false).unwrap();
        assert_eq!(
            Value::Object(m),
            json!({"inner": {"flag": false, "uris": ["a"]}})
        );
    }

    #[test]
    fn unknown_and_wrong_types() {
        let e = OUTER
            .normalize(json!({"nmae": "x"}).as_object().unwrap(), false)
            .unwrap_err();
        assert!(e
            .message
            .contains("Property 'nmae' does not exist on type 't.outer'"));
        let e = OUTER
            .normalize(
                json!({"inner": {"flag": "yes"}}).as_object().unwrap(),
                false,
            )
            .unwrap_err();
        assert!(e.message.contains("Edm.Boolean"), "{}", e.message);
        let e = OUTER
            .normalize(json!({"inner": {"x": 1}}).as_object().unwrap(), false)
            .unwrap_err();
        assert!(e.message.contains("t.inner"));
    }

    #[test]
    fn read_only_must_match() {
        let cur = json!({"id": "1"});
        let m = json!({"id": "1", "name": "a"}).as_object().unwrap().clone();
        assert!(strip_read_only(&OUTER, m.clone(), Some(&cur)).is_ok());
        let m2 = json!({"id": "2"}).as_object().unwrap().clone();
        assert!(strip_read_only(&OUTER, m2, Some(&cur)).is_err());
    }
}
