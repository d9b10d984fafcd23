//! Graph's rules for queries on directory collections, over the shared OData engine:
//! which operators need the advanced-query parameters (`ConsistencyLevel: eventual`
//! plus `$count=true`), `$count` (ignored without the header, reported on the first page
//! only), `$search`, `$orderby`, `$expand`, `$select`, `$top`, paging with `$skiptoken`
//! in an `@odata.nextLink` that keeps every other option, and `@odata.context`.
//! Source: microsoftgraph/microsoft-graph-docs-contrib:concepts/aad-advanced-queries.md,
//! concepts/paging.md, concepts/query-parameters.md.

use super::schema::Obj;
use super::Ctx;
use crate::errors::{GraphError, GraphResult};
use crate::odata::filter::{self, Expr, Use};
use crate::odata::options::{self, OrderBy};
use crate::odata::search::{self, Search};
use crate::store::Row;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};

pub const DEFAULT_PAGE: usize = 100;
pub const MAX_PAGE: usize = 999;

/// What a collection allows beyond the default `$filter` operators.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// The resource name directory errors use, e.g. `Application`.
    pub resource: &'static str,
    /// Properties `endsWith` works on (only in advanced queries).
    pub ends_with: &'static [&'static str],
    /// Properties `$search` works on (needs the `ConsistencyLevel` header).
    pub search: &'static [&'static str],
    /// Properties `$orderby` works on (only in advanced queries).
    pub orderby: &'static [&'static str],
    /// Navigation properties `$expand` works on.
    pub expand: &'static [&'static str],
}

impl Rules {
    /// A collection with no advanced capabilities beyond negation.
    pub const fn plain(resource: &'static str) -> Rules {
        Rules {
            resource,
            ends_with: &[],
            search: &[],
            orderby: &[],
            expand: &[],
        }
    }
}

/// `ConsistencyLevel: eventual` was sent.
pub fn eventual(ctx: &Ctx<'_>) -> bool {
    ctx.headers
        .get("consistencylevel")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("eventual"))
}

fn needs_advanced(op: &str) -> GraphError {
    GraphError::unsupported_query(format!(
        "Operator '{op}' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information"
    ))
}

fn unsupported_clause(property: &str, resource: &str) -> GraphError {
    GraphError::unsupported_query(format!(
        "Unsupported or invalid query filter clause specified for property '{property}' of resource '{resource}'."
    ))
}

/// Page position: after an insertion sequence number (natural order), or an offset
/// into a sorted result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    Seq(i64),
    Offset(usize),
}

fn encode_token(after: After) -> String {
    let raw = match after {
        After::Seq(n) => format!("seq:{n}"),
        After::Offset(n) => format!("off:{n}"),
    };
    URL_SAFE_NO_PAD.encode(raw)
}

fn decode_token(token: &str) -> GraphResult<After> {
    let text = URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default();
    let parsed = match text.split_once(':') {
        Some(("seq", n)) => n.parse().ok().map(After::Seq),
        Some(("off", n)) => n.parse().ok().map(After::Offset),
        _ => None,
    };
    parsed.ok_or_else(|| {
        GraphError::bad_request(
            "The specified page token value has expired and can no longer be included in your request.",
        )
    })
}

/// A collection request's options, checked against Graph's rules.
pub struct Plan {
    filter: Option<Expr>,
    search: Option<Search>,
    orderby: Vec<OrderBy>,
    pub select: Option<Vec<String>>,
    pub expand: Vec<String>,
    top: usize,
    /// Report `@odata.count` (asked for, with the header).
    count: bool,
    after: Option<After>,
}

/// Check the query of a collection request (also used by `/$count`, which takes
/// `$filter` and `$search` the same way).
pub fn plan(ctx: &Ctx<'_>, obj: &Obj, rules: &Rules) -> GraphResult<Plan> {
    let q = &ctx.query;
    for (k, _) in &q.pairs {
        match k.to_ascii_lowercase().as_str() {
            "$skip" => {
                return Err(GraphError::bad_request(
                    "'$skip' is not supported by the service.",
                ))
            }
            "$apply" => {
                return Err(GraphError::unsupported_query(
                    "The query option '$apply' is not supported.",
                ))
            }
            _ => {}
        }
    }
    let eventual = eventual(ctx);
    let count_asked = q.count_requested()?;
    // Advanced queries: the header and `$count=true` together. Without the header a
    // `$count=true` is silently ignored (aad-advanced-queries.md, "Error handling").
    let advanced = eventual && count_asked;

    let filter = match q.get("$filter") {
        Some(src) => {
            let e = filter::parse(src, obj)?;
            check_filter(&e, rules, advanced)?;
            Some(e)
        }
        None => None,
    };
    let search = match q.get("$search") {
        Some(_) if !eventual => {
            return Err(GraphError::unsupported_query(
                "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
            ))
        }
        Some(raw) => Some(search::parse(raw, obj, rules.search)?),
        None => None,
    };
    let orderby = match q.get("$orderby") {
        Some(raw) => {
            let keys = options::parse_orderby(raw, obj)?;
            let allowed = keys.iter().all(|k| {
                rules
                    .orderby
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(&k.property))
            });
            // Sorting directory objects (and sorting a filtered result) needs the
            // advanced-query parameters (aad-advanced-queries.md, "Support for sorting").
            if !allowed || !advanced {
                return Err(GraphError::unsupported_query(
                    "Sorting not supported for current query.",
                ));
            }
            keys
        }
        None => Vec::new(),
    };
    let expand: Vec<String> = match q.get("$expand") {
        Some(raw) => {
            let navs: Vec<String> = raw
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            for n in &navs {
                if !rules.expand.iter().any(|e| e.eq_ignore_ascii_case(n)) {
                    return Err(GraphError::odata(format!(
                        "Could not find a property named '{n}' on type '{}'.",
                        obj.name
                    )));
                }
            }
            // "$expand is not currently supported with advanced queries."
            if advanced {
                return Err(GraphError::unsupported_query(
                    "$expand is not supported with advanced queries ($count=true and ConsistencyLevel: eventual).",
                ));
            }
            navs
        }
        None => Vec::new(),
    };
    let select = q
        .get("$select")
        .map(|raw| options::parse_select(raw, obj))
        .transpose()?;
    let top = match q.get("$top") {
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
    let after = q.get("$skiptoken").map(decode_token).transpose()?;
    Ok(Plan {
        filter,
        search,
        orderby,
        select,
        expand,
        top,
        count: advanced,
        after,
    })
}

/// `ne`, `not`, `endsWith` and `contains` need the advanced-query parameters; even then
/// `endsWith` works only on the properties the resource indexes for it, and `contains`
/// on none (aad-advanced-queries.md, "Support for filter by properties").
fn check_filter(e: &Expr, rules: &Rules, advanced: bool) -> GraphResult<()> {
    for u in filter::uses(e) {
        match u {
            Use::NotEquals(_) if !advanced => return Err(needs_advanced("ne")),
            Use::Not if !advanced => return Err(needs_advanced("not")),
            Use::Function(f, p) if f == "endswith" => {
                if !advanced {
                    return Err(needs_advanced("endsWith"));
                }
                if !rules.ends_with.iter().any(|a| a.eq_ignore_ascii_case(&p)) {
                    return Err(unsupported_clause(&p, rules.resource));
                }
            }
            Use::Function(f, p) if f == "contains" => {
                if !advanced {
                    return Err(needs_advanced("contains"));
                }
                return Err(unsupported_clause(&p, rules.resource));
            }
            _ => {}
        }
    }
    Ok(())
}

impl Plan {
    /// The rows that match, in the order asked for (insertion order by default).
    fn matching(&self, rows: Vec<Row>) -> Vec<Row> {
        let mut rows: Vec<Row> = rows
            .into_iter()
            .filter(|r| {
                self.filter
                    .as_ref()
                    .is_none_or(|f| filter::matches(f, &r.doc))
            })
            .filter(|r| self.search.as_ref().is_none_or(|s| s.matches(&r.doc)))
            .collect();
        if !self.orderby.is_empty() {
            rows.sort_by(|a, b| {
                options::order(&a.doc, &b.doc, &self.orderby).then(a.seq.cmp(&b.seq))
            });
        }
        rows
    }
}

/// `@odata.context` for an entity set or a single entity, with the `$select` list.
pub fn context(ctx: &Ctx<'_>, set: &str, select: Option<&[String]>, entity: bool) -> String {
    let sel = select
        .map(|s| format!("({})", s.join(",")))
        .unwrap_or_default();
    let suffix = if entity { "/$entity" } else { "" };
    format!("{}{}/$metadata#{set}{sel}{suffix}", ctx.base, ctx.version)
}

/// Every document of `collection`, for a list or count.
pub fn all_rows(ctx: &Ctx<'_>, collection: &str) -> GraphResult<Vec<Row>> {
    ctx.st
        .store
        .read(|db| Ok::<_, GraphError>(db.list(collection)?))
}

/// `GET /{set}/$count`: a bare number as text, only with `ConsistencyLevel: eventual`.
pub fn count_response(
    ctx: &Ctx<'_>,
    rows: Vec<Row>,
    obj: &Obj,
    rules: &Rules,
) -> GraphResult<Response> {
    // Source: microsoftgraph/microsoft-graph-docs-contrib:concepts/aad-advanced-queries.md
    // ("If the ConsistencyLevel=eventual header is not specified, the request returns an
    // error when the $count URL segment is used": 400 Request_BadRequest).
    if !eventual(ctx) {
        return Err(GraphError::bad_request(
            "$count is not currently supported.",
        ));
    }
    let plan = plan(ctx, obj, rules)?;
    let n = plan.matching(rows).len();
    Ok((
        StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, "text/plain")],
        n.to_string(),
    )
        .into_response())
}

/// A collection response: filter, search, sort, count, page, select, expand. `view`
/// turns a stored document into what the API shows.
pub fn list_response(
    ctx: &Ctx<'_>,
    set: &str,
    rows: Vec<Row>,
    obj: &Obj,
    rules: &Rules,
    view: impl Fn(&Value) -> Value,
) -> GraphResult<Response> {
    let plan = plan(ctx, obj, rules)?;
    let rows = plan.matching(rows);
    let total = rows.len();
    let sorted = !plan.orderby.is_empty();
    let start = match plan.after {
        None => 0,
        Some(After::Offset(n)) => n.min(total),
        Some(After::Seq(s)) => rows.iter().position(|r| r.seq > s).unwrap_or(total),
    };
    let page: Vec<&Row> = rows[start..].iter().take(plan.top).collect();
    let more = start + page.len() < total;
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(context(ctx, set, plan.select.as_deref(), false)),
    );
    // The count is reported on the first page only (paging.md).
    if plan.count && plan.after.is_none() {
        body.insert("@odata.count".into(), json!(total));
    }
    if more {
        let after = if sorted {
            After::Offset(start + page.len())
        } else {
            After::Seq(page.last().map(|r| r.seq).unwrap_or_default())
        };
        body.insert("@odata.nextLink".into(), json!(next_link(ctx, after)));
    }
    let mut items = Vec::with_capacity(page.len());
    for r in page {
        let mut doc = view(&r.doc);
        for nav in &plan.expand {
            let expanded = super::expand::navigation(ctx, &r.doc, nav)?;
            if let Some(m) = doc.as_object_mut() {
                m.insert(nav.clone(), expanded);
            }
        }
        items.push(options::project(&doc, plan.select.as_deref()));
    }
    body.insert("value".into(), Value::Array(items));
    Ok(super::json_response(StatusCode::OK, &Value::Object(body)))
}

/// The next page's URL: the request's own path and every option it sent, with a new
/// `$skiptoken` (paging.md: follow `@odata.nextLink` verbatim).
fn next_link(ctx: &Ctx<'_>, after: After) -> String {
    let query = ctx
        .query
        .encode_except("$skiptoken", &format!("$skiptoken={}", encode_token(after)));
    format!("{}{}/{}?{query}", ctx.base, ctx.version, ctx.path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skiptoken_round_trip() {
        for a in [After::Seq(42), After::Offset(7)] {
            assert_eq!(decode_token(&encode_token(a)).unwrap(), a);
        }
        assert!(decode_token("garbage!").is_err());
        assert!(decode_token(&URL_SAFE_NO_PAD.encode("seq:x")).is_err());
    }
}
