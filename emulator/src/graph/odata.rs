//! OData system query options on Graph collections: `$filter`, `$select`, `$top`,
//! `$count`, paging by `@odata.nextLink` with `$skiptoken`, and `@odata.context`.
//! Query keys arrive either literally (`$top`) or encoded (`%24top`); both decode to
//! the same pair.

use super::filter;
use super::schema::Obj;
use super::Ctx;
use crate::errors::{GraphError, GraphResult};
use crate::store::Row;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Map, Value};

pub const DEFAULT_PAGE: usize = 100;
pub const MAX_PAGE: usize = 999;

/// Query values are re-encoded in nextLinks; keep OData punctuation readable.
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

    /// Reject options the emulator does not implement rather than ignore them silently.
    pub fn reject_unsupported(&self) -> GraphResult<()> {
        for (k, _) in &self.pairs {
            let k = k.to_ascii_lowercase();
            match k.as_str() {
                "$orderby" => {
                    return Err(GraphError::new(
                        StatusCode::BAD_REQUEST,
                        "Request_UnsupportedQuery",
                        "Sorting not supported for current query.",
                    ))
                }
                "$skip" => {
                    return Err(GraphError::bad_request(
                        "'$skip' is not supported by the service.",
                    ))
                }
                "$search" | "$expand" | "$apply" => {
                    return Err(GraphError::new(
                        StatusCode::BAD_REQUEST,
                        "Request_UnsupportedQuery",
                        format!("The query option '{k}' is not supported by this emulator."),
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// `$select`, checked against the type.
    pub fn select(&self, obj: &Obj) -> GraphResult<Option<Vec<String>>> {
        let Some(raw) = self.get("$select") else {
            return Ok(None);
        };
        let mut out = Vec::new();
        for name in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if obj.field(name).is_none() {
                return Err(GraphError::odata(format!(
                    "Could not find a property named '{name}' on type '{}'.",
                    obj.name
                )));
            }
            out.push(name.to_string());
        }
        Ok(Some(out))
    }
}

/// Keep only the selected properties (`@odata.*` annotations stay).
pub fn project(doc: &Value, select: Option<&[String]>) -> Value {
    let Some(select) = select else {
        return doc.clone();
    };
    let mut out = Map::new();
    if let Some(m) = doc.as_object() {
        for (k, v) in m {
            if k.starts_with("@odata.") || select.iter().any(|s| s == k) {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

/// `@odata.context` for an entity set or a single entity, with the `$select` list.
pub fn context(ctx: &Ctx<'_>, set: &str, select: Option<&[String]>, entity: bool) -> String {
    let sel = select
        .map(|s| format!("({})", s.join(",")))
        .unwrap_or_default();
    let suffix = if entity { "/$entity" } else { "" };
    format!("{}{}/$metadata#{set}{sel}{suffix}", ctx.base, ctx.version)
}

fn consistency_eventual(ctx: &Ctx<'_>) -> bool {
    ctx.headers
        .get("consistencylevel")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("eventual"))
}

fn count_unsupported() -> GraphError {
    GraphError::bad_request("$count is not currently supported.")
}

/// Every document of `collection`, for a list or count.
pub fn all_rows(ctx: &Ctx<'_>, collection: &str) -> GraphResult<Vec<Row>> {
    ctx.st
        .store
        .read(|db| Ok::<_, GraphError>(db.list(collection)?))
}

/// `GET /{set}/$count`: a bare number as text.
pub fn count_response(
    ctx: &Ctx<'_>,
    rows: Vec<Row>,
    obj: &Obj,
) -> GraphResult<axum::response::Response> {
    if !consistency_eventual(ctx) {
        return Err(count_unsupported());
    }
    let n = filtered(ctx, rows, obj)?.len();
    Ok((
        StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, "text/plain")],
        n.to_string(),
    )
        .into_response())
}

fn filtered(ctx: &Ctx<'_>, rows: Vec<Row>, obj: &Obj) -> GraphResult<Vec<Row>> {
    let Some(src) = ctx.query.get("$filter") else {
        return Ok(rows);
    };
    let expr = filter::parse(src, obj)?;
    Ok(rows
        .into_iter()
        .filter(|r| filter::matches(&expr, &r.doc))
        .collect())
}

fn decode_skiptoken(token: &str) -> GraphResult<i64> {
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("seq:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| {
            GraphError::bad_request("The specified page token value has expired and can no longer be included in your request.")
        })
}

/// A collection response: filter, count, page, select; `view` turns a stored document
/// into what the API shows.
pub fn list_response(
    ctx: &Ctx<'_>,
    set: &str,
    rows: Vec<Row>,
    obj: &Obj,
    view: impl Fn(&Value) -> Value,
) -> GraphResult<axum::response::Response> {
    ctx.query.reject_unsupported()?;
    let select = ctx.query.select(obj)?;
    let top = match ctx.query.get("$top") {
        None => DEFAULT_PAGE,
        Some(t) => match t.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                return Err(GraphError::bad_request(format!(
                "Invalid page size specified: '{t}'. Must be between 1 and {MAX_PAGE} inclusive."
            )))
            }
        },
    };
    let want_count = match ctx.query.get("$count") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => {
            return Err(GraphError::odata(format!(
                "Invalid value '{v}' for $count."
            )))
        }
    };
    if want_count && !consistency_eventual(ctx) {
        return Err(count_unsupported());
    }
    let after = match ctx.query.get("$skiptoken") {
        Some(t) => Some(decode_skiptoken(t)?),
        None => None,
    };
    let rows = filtered(ctx, rows, obj)?;
    let total = rows.len();
    let remaining: Vec<Row> = rows
        .into_iter()
        .filter(|r| after.is_none_or(|a| r.seq > a))
        .collect();
    let more = remaining.len() > top;
    let page: Vec<&Row> = remaining.iter().take(top).collect();
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(context(ctx, set, select.as_deref(), false)),
    );
    // The count is reported on the first page only, as Graph does.
    if want_count && after.is_none() {
        body.insert("@odata.count".into(), json!(total));
    }
    if more {
        if let Some(last) = page.last() {
            body.insert("@odata.nextLink".into(), json!(next_link(ctx, last.seq)));
        }
    }
    let items: Vec<Value> = page
        .iter()
        .map(|r| project(&view(&r.doc), select.as_deref()))
        .collect();
    body.insert("value".into(), Value::Array(items));
    Ok(super::json_response(StatusCode::OK, &Value::Object(body)))
}

fn next_link(ctx: &Ctx<'_>, last_seq: i64) -> String {
    let token = URL_SAFE_NO_PAD.encode(format!("seq:{last_seq}"));
    let mut parts: Vec<String> = ctx
        .query
        .pairs
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("$skiptoken") && !k.eq_ignore_ascii_case("$count"))
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, QUERY_KEY),
                utf8_percent_encode(v, QUERY_VALUE)
            )
        })
        .collect();
    parts.push(format!("$skiptoken={token}"));
    format!(
        "{}{}/{}?{}",
        ctx.base,
        ctx.version,
        ctx.path,
        parts.join("&")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn skiptoken_round_trip() {
        let t = URL_SAFE_NO_PAD.encode("seq:42");
        assert_eq!(decode_skiptoken(&t).unwrap(), 42);
        assert!(decode_skiptoken("garbage!").is_err());
    }
}
