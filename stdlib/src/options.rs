//! Typed options: a script passes a Rhai map, a module gets a Rust struct declared with
//! `#[serde(deny_unknown_fields)]`. A misspelt key names the valid keys (and the closest
//! one); a wrong type names the key and what it expected.

use crate::error::{ModuleError, Result};
use crate::secret::Secret;
use rhai::{Dynamic, Map};
use serde::de::DeserializeOwned;

/// Convert a Rhai options map into `T`. `function` names the call in messages,
/// for example `entra::server_app`.
pub fn parse<T: DeserializeOwned>(function: &str, options: Map) -> Result<T> {
    let json = map_to_json(function, options)?;
    serde_path_to_error::deserialize::<_, T>(json).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        describe(function, &path, &inner)
    })
}

/// Take a secret-valued option out of the map before `parse` sees it. Accepts a
/// `Secret` (from `secret()` / `secret_prompt()`) or, for lab use, a plain string.
pub fn take_secret(function: &str, options: &mut Map, key: &str) -> Result<Option<Secret>> {
    match options.remove(key) {
        None => Ok(None),
        Some(v) if v.is_unit() => Ok(None),
        Some(v) => secret_from_dynamic(function, key, v).map(Some),
    }
}

/// A `Secret` from a script value: a `Secret`, or a string for lab use.
pub fn secret_from_dynamic(function: &str, key: &str, v: Dynamic) -> Result<Secret> {
    if v.is::<Secret>() {
        return Ok(v.cast::<Secret>());
    }
    if v.is_string() {
        let s = v.into_string().unwrap_or_default();
        return Ok(Secret::new(s));
    }
    Err(ModuleError::validation(format!(
        "{function}: option `{key}` must be a secret or a string, not {}",
        v.type_name()
    ))
    .with_hint("use secret(\"ENV_VAR\") or secret_prompt(\"Password\")"))
}

fn map_to_json(function: &str, options: Map) -> Result<serde_json::Value> {
    for (k, v) in &options {
        if v.is::<Secret>() {
            return Err(ModuleError::validation(format!(
                "{function}: option `{k}` does not take a secret"
            )));
        }
    }
    serde_json::to_value(Dynamic::from_map(options))
        .map_err(|e| ModuleError::validation(format!("{function}: options cannot be read: {e}")))
}

fn describe(function: &str, path: &str, inner: &str) -> ModuleError {
    if let Some(rest) = inner.strip_prefix("unknown field `") {
        let (key, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let valid = expected_keys(expected);
        let mut err = ModuleError::validation(format!("{function}: unknown option `{key}`"));
        let closest = valid
            .iter()
            .map(|v| (strsim::jaro_winkler(key, v), v))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, v)| v.clone());
        let list = valid.join(", ");
        err = match closest {
            Some(c) => err.with_hint(format!("did you mean `{c}`? valid options: {list}")),
            None if list.is_empty() => err.with_hint("this function takes no options"),
            None => err.with_hint(format!("valid options: {list}")),
        };
        return err;
    }
    if let Some(rest) = inner.strip_prefix("missing field `") {
        let key = rest.split('`').next().unwrap_or(rest);
        return ModuleError::validation(format!("{function}: option `{key}` is required"));
    }
    let at = if path.is_empty() || path == "." {
        String::new()
    } else {
        format!(" option `{path}`:")
    };
    ModuleError::validation(format!("{function}:{at} {inner}"))
}

/// serde lists expected fields as "expected one of `a`, `b`" or "expected `a`".
fn expected_keys(text: &str) -> Vec<String> {
    text.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect()
}

/// The option keys a function accepts, for `comgmt check` and the docs lint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionSpec {
    /// `entra::server_app`.
    pub function: &'static str,
    /// Every key, secret-valued ones included, in declaration order.
    pub keys: Vec<&'static str>,
}

impl OptionSpec {
    /// The keys of the options struct `T`, plus `secret_keys` taken out before parsing.
    pub fn of<T: DeserializeOwned>(function: &'static str, secret_keys: &[&'static str]) -> Self {
        let mut keys = fields_of::<T>().to_vec();
        keys.extend_from_slice(secret_keys);
        OptionSpec { function, keys }
    }
}

/// The field names serde expects for `T` (a struct): asked of serde itself by a
/// deserializer that records them, so the list can never drift from the struct.
pub fn fields_of<T: DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{self, Visitor};
    use serde::forward_to_deserialize_any;

    struct Introspect<'a>(&'a mut &'static [&'static str]);

    impl<'de> de::Deserializer<'de> for Introspect<'_> {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("introspection only"))
        }

        forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }

    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Introspect(&mut fields));
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Opts {
        display_name: String,
        #[serde(default)]
        home_page_url: Option<String>,
        #[serde(default)]
        instances: Option<u8>,
    }

    fn map(pairs: &[(&str, Dynamic)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), v.clone()))
            .collect()
    }

    #[test]
    fn fields_come_from_serde() {
        assert_eq!(
            fields_of::<Opts>(),
            &["display_name", "home_page_url", "instances"]
        );
        let spec = OptionSpec::of::<Opts>("m::f", &["password"]);
        assert_eq!(spec.keys.last(), Some(&"password"));
    }

    #[test]
    fn parses_valid_options() {
        let o: Opts = parse(
            "m::f",
            map(&[
                ("display_name", "x".into()),
                ("instances", Dynamic::from(3_i64)),
            ]),
        )
        .unwrap();
        assert_eq!(o.display_name, "x");
        assert_eq!(o.instances, Some(3));
        assert!(o.home_page_url.is_none());
    }

    #[test]
    fn misspelt_key_names_valid_keys_and_closest() {
        let e = parse::<Opts>(
            "m::f",
            map(&[("display_name", "x".into()), ("homepage_url", "y".into())]),
        )
        .unwrap_err();
        assert_eq!(e.message, "m::f: unknown option `homepage_url`");
        let hint = e.hint.unwrap();
        assert!(hint.starts_with("did you mean `home_page_url`?"), "{hint}");
        assert!(
            hint.contains("display_name, home_page_url, instances"),
            "{hint}"
        );
    }

    #[test]
    fn wrong_type_names_the_key() {
        let e = parse::<Opts>("m::f", map(&[("display_name", Dynamic::from(5_i64))])).unwrap_err();
        assert!(e.message.contains("`display_name`"), "{}", e.message);
        let e = parse::<Opts>(
            "m::f",
            map(&[
                ("display_name", "x".into()),
                ("instances", Dynamic::from(300_i64)),
            ]),
        )
        .unwrap_err();
        assert!(e.message.contains("`instances`"), "{}", e.message);
    }

    #[test]
    fn missing_required_key() {
        let e = parse::<Opts>("m::f", Map::new()).unwrap_err();
        assert_eq!(e.message, "m::f: option `display_name` is required");
    }

    #[test]
    fn secrets_are_taken_out_and_refused_elsewhere() {
        let mut m = map(&[("password", Dynamic::from(Secret::new("pw")))]);
        let s = take_secret("m::f", &mut m, "password").unwrap().unwrap();
        assert_eq!(s.expose(), "pw");
        assert!(m.is_empty());
        let m = map(&[("display_name", Dynamic::from(Secret::new("pw")))]);
        assert!(parse::<Opts>("m::f", m).is_err());
    }
}
