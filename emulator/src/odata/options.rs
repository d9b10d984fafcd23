//! System query options: decoding (`$top` or `%24top`, case-insensitive names),
//! `$select`, `$orderby`, projection and ordering of documents, and re-encoding the
//! options into a next-page link.

use super::{ODataError, ODataResult, Schema};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{Map, Value};
use std::cmp::Ordering;

/// Query values are re-encoded in next links; keep OData punctuation readable.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'(')
    .remove(b')')
    .remove(b',')
    .remove(b':')
    .remove(b'/')
    .remove(b'\'');

const QUERY_KEY: &AsciiSet = &QUERY_VALUE.remove(b'$');

/// Decoded query pairs in request order.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        let pairs = raw
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Query { pairs }
    }

    /// A system query option, matched case-insensitively (`$top`, `$TOP`).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `$count=true` (`false` and absent are false; anything else is an error).
    pub fn count_requested(&self) -> ODataResult<bool> {
        match self.get("$count") {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(ODataError::syntax(format!(
                "Invalid value '{v}' for $count."
            ))),
        }
    }

    /// Every option but `drop`, re-encoded, with `extra` appended: the query of a next
    /// link, which must keep every option the client sent.
    pub fn encode_except(&self, drop: &str, extra: &str) -> String {
        let mut parts: Vec<String> = self
            .pairs
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case(drop))
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    utf8_percent_encode(k, QUERY_KEY),
                    utf8_percent_encode(v, QUERY_VALUE)
                )
            })
            .collect();
        parts.push(extra.to_string());
        parts.join("&")
    }
}

/// `$select=a,b`, each name checked against the type.
pub fn parse_select(raw: &str, schema: &dyn Schema) -> ODataResult<Vec<String>> {
    let mut out = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if name != "*" && !schema.has_property(name) {
            return Err(ODataError::unknown_property(name, schema.type_name()));
        }
        out.push(name.to_string());
    }
    Ok(out)
}

/// Keep only the selected properties (`@odata.*` annotations stay; `*` keeps all).
pub fn project(doc: &Value, select: Option<&[String]>) -> Value {
    let Some(select) = select.filter(|s| !s.iter().any(|n| n == "*")) else {
        return doc.clone();
    };
    let mut out = Map::new();
    if let Some(m) = doc.as_object() {
        for (k, v) in m {
            if k.starts_with("@odata.") || select.iter().any(|s| s.eq_ignore_ascii_case(k)) {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

/// One `$orderby` item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    pub property: String,
    pub descending: bool,
}

/// `$orderby=displayName desc,createdDateTime`.
pub fn parse_orderby(raw: &str, schema: &dyn Schema) -> ODataResult<Vec<OrderBy>> {
    let mut out = Vec::new();
    for item in raw.split(',').map(str::trim) {
        let mut words = item.split_whitespace();
        let Some(property) = words.next() else {
            return Err(ODataError::syntax(format!(
                "Invalid $orderby clause '{raw}'."
            )));
        };
        let descending = match words.next().map(str::to_ascii_lowercase).as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(_) => {
                return Err(ODataError::syntax(format!(
                    "Invalid $orderby clause '{raw}'."
                )))
            }
        };
        if words.next().is_some() {
            return Err(ODataError::syntax(format!(
                "Invalid $orderby clause '{raw}'."
            )));
        }
        if !schema.has_property(property) {
            return Err(ODataError::unknown_property(property, schema.type_name()));
        }
        out.push(OrderBy {
            property: property.to_string(),
            descending,
        });
    }
    Ok(out)
}

/// Compare two documents by the `$orderby` keys (strings case-insensitively, nulls
/// first as OData orders them).
pub fn order(a: &Value, b: &Value, keys: &[OrderBy]) -> Ordering {
    for k in keys {
        let ord = compare_values(&a[k.property.as_str()], &b[k.property.as_str()]);
        let ord = if k.descending { ord.reverse() } else { ord };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::String(x), Value::String(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
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
            matches!(name, "id" | "displayName" | "n")
        }
    }

    #[test]
    fn encoded_and_literal_keys_decode_alike() {
        let a = Query::parse(Some("$top=5&$select=id,displayName"));
        let b = Query::parse(Some("%24top=5&%24select=id%2CdisplayName"));
        assert_eq!(a.get("$top"), b.get("$top"));
        assert_eq!(a.get("$select"), b.get("$select"));
        let c = Query::parse(Some("$filter=displayName%20eq%20%27a%20b%27"));
        assert_eq!(c.get("$filter"), Some("displayName eq 'a b'"));
    }

    #[test]
    fn next_link_query_keeps_every_option() {
        let q = Query::parse(Some(
            "$filter=startswith(displayName,'a b')&$count=true&$skiptoken=old&$select=id",
        ));
        assert_eq!(
            q.encode_except("$skiptoken", "$skiptoken=new"),
            "$filter=startswith(displayName,'a%20b')&$count=true&$select=id&$skiptoken=new"
        );
    }

    #[test]
    fn select_orderby_project() {
        assert!(parse_select("id,nope", &T).is_err());
        let sel = parse_select("id, displayName", &T).unwrap();
        let doc = json!({"id": 1, "displayName": "a", "n": 2, "@odata.type": "x"});
        assert_eq!(
            project(&doc, Some(&sel)),
            json!({"id": 1, "displayName": "a", "@odata.type": "x"})
        );
        let keys = parse_orderby("displayName desc, n", &T).unwrap();
        assert!(keys[0].descending && !keys[1].descending);
        assert!(parse_orderby("displayName sideways", &T).is_err());
        assert!(parse_orderby("nope", &T).is_err());
        let (a, b) = (
            json!({"displayName": "b", "n": 1}),
            json!({"displayName": "A"}),
        );
        assert_eq!(order(&a, &b, &keys), Ordering::Less);
        assert_eq!(
            order(&json!({"displayName": null}), &b, &keys[1..]),
            Ordering::Equal
        );
    }
}
