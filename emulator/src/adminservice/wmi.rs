//! `GET /AdminService/wmi/{Class}` and key lookups (`{Class}('key')`, `{Class}(16777219)`,
//! `{Class}/key`), with `$filter`, `$select`, `$orderby`, `$top` and `$skip` through the
//! shared OData engine, and the parsing of the paths after `wmi/` every verb shares.
//! Every answer, a key lookup included, is the
//! `{"@odata.context": …#Class, "value": [...]}` envelope; callers page with `$top` and
//! `$skip` until a short page, so there is no next link.
//! Source: MicrosoftDocs/memdocs adminservice/usage.md, and how public scripts call it
//! (microsoft/configmgr-hub samples/CommonFunctions.ps1, AdamGrossTX/ConfigMgr.AdminService).

use super::classes::{self, WmiClass};
use super::rows;
use super::AdminError;
use crate::app::Shared;
use crate::odata::{filter, options, ODataError, Query};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// What the path after `wmi/` addresses: a class, maybe one instance, maybe a method.
pub struct Target {
    pub class: &'static WmiClass,
    pub key: Option<String>,
    /// `…/AdminService.{Method}` or `{Class}.{Method}`.
    pub method: Option<String>,
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    match s.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        Some(inner) => inner.replace("''", "'"),
        None => s.to_string(),
    }
}

/// Parse `{Class}`, `{Class}('key')`, `{Class}(16777219)`, `{Class}/key`, each optionally
/// followed by `/AdminService.{Method}`, and the static form `{Class}.{Method}`.
pub fn parse_target(rest: &str) -> Result<Target, AdminError> {
    let decoded = percent_encoding::percent_decode_str(rest)
        .decode_utf8()
        .map(|c| c.into_owned())
        .unwrap_or_else(|_| rest.to_string());
    let no_segment = || {
        AdminError::new(
            StatusCode::NOT_FOUND,
            format!("Resource not found for the segment '{decoded}'."),
        )
    };
    let trimmed = decoded.trim_end_matches('/');
    let lower = trimmed.to_ascii_lowercase();
    let (path, method) = match lower.rfind("/adminservice.") {
        Some(at) => (
            &trimmed[..at],
            Some(trimmed[at + "/adminservice.".len()..].to_string()),
        ),
        None => (trimmed, None),
    };
    let mut segs = path.splitn(2, '/');
    let first = segs.next().unwrap_or_default();
    let second = segs.next();
    let (name, key, method) = match first.split_once('(') {
        Some((name, inner)) => {
            let inner = inner.strip_suffix(')').ok_or_else(no_segment)?;
            (name, Some(unquote(inner)), method)
        }
        // `SMS_Site.ImportMachineEntry`: a static method on the class.
        None if method.is_none() && second.is_none() && first.contains('.') => {
            let (name, m) = first.split_once('.').unwrap_or((first, ""));
            (name, None, Some(m.to_string()))
        }
        None => (first, None, method),
    };
    let class = classes::find(name).ok_or_else(no_segment)?;
    let key = match (key, second) {
        (k, None) => k,
        (None, Some(k)) if !k.contains('/') && !k.is_empty() => Some(unquote(k)),
        _ => return Err(no_segment()),
    };
    if method.as_deref().is_some_and(|m| m.is_empty()) {
        return Err(no_segment());
    }
    Ok(Target { class, key, method })
}

/// The path after `wmi/` of a request.
pub fn rest_of(uri: &Uri) -> &str {
    uri.path()
        .strip_prefix("/AdminService/wmi/")
        .unwrap_or_default()
}

fn bad_query(e: ODataError) -> AdminError {
    AdminError::new(StatusCode::BAD_REQUEST, e.message)
}

fn number(q: &Query, name: &str) -> Result<Option<usize>, AdminError> {
    match q.get(name) {
        None => Ok(None),
        Some(v) => v.trim().parse().map(Some).map_err(|_| {
            AdminError::new(
                StatusCode::BAD_REQUEST,
                format!("Invalid value '{v}' for {name} query option found."),
            )
        }),
    }
}

pub async fn get(State(st): State<Shared>, uri: Uri, headers: HeaderMap) -> Response {
    let q = Query::parse(uri.query());
    let answered = parse_target(rest_of(&uri)).and_then(|target| {
        if target.method.is_some() {
            return Err(AdminError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "The requested resource does not support http method 'GET'.",
            ));
        }
        let rows = answer(&st, &target, &q)?;
        envelope(&st, &uri, &headers, target.class, &q, rows)
    });
    answered.unwrap_or_else(|e| e.render())
}

fn answer(st: &crate::app::AppState, t: &Target, q: &Query) -> Result<Vec<Value>, AdminError> {
    let class = t.class;
    // Computed values (a CMG's State) are filled in the same read, before `$filter`.
    let docs: Vec<Value> = st.store.read(|db| {
        let mut out = Vec::new();
        let stored = match classes::computed(class) {
            Some(rows) => rows(st, db)?,
            None => db.docs(&class.collection())?,
        };
        for d in stored {
            if let Some(d) = rows::live(st, db, class, d)? {
                out.push(rows::view(class, &d));
            }
        }
        Ok::<_, AdminError>(out)
    })?;
    if let Some(key) = &t.key {
        let found: Vec<Value> = docs
            .into_iter()
            .filter(|d| classes::key_equals(classes::key_of(class, d), key))
            .collect();
        if found.is_empty() {
            return Err(rows::not_found(class, key));
        }
        return Ok(found);
    }
    // Lazy properties are filled on key lookups only (api-surface.md §0.2).
    let mut rows = docs;
    for row in rows.iter_mut() {
        for p in class.lazies() {
            row[p.name] = Value::Null;
        }
    }
    if let Some(src) = q.get("$filter") {
        let e = filter::parse(src, class).map_err(bad_query)?;
        rows.retain(|d| filter::matches(&e, d));
    }
    if let Some(raw) = q.get("$orderby") {
        let keys = options::parse_orderby(raw, class).map_err(bad_query)?;
        rows.sort_by(|a, b| options::order(a, b, &keys));
    }
    let skip = number(q, "$skip")?.unwrap_or(0);
    let top = number(q, "$top")?.unwrap_or(usize::MAX);
    Ok(rows.into_iter().skip(skip).take(top).collect())
}

fn envelope(
    st: &crate::app::AppState,
    uri: &Uri,
    headers: &HeaderMap,
    class: &WmiClass,
    q: &Query,
    rows: Vec<Value>,
) -> Result<Response, AdminError> {
    let select = match q.get("$select") {
        Some(raw) => Some(
            options::parse_select(raw, class)
                .map_err(bad_query)?
                .iter()
                .map(|p| classes::property(class, p).unwrap_or(p).to_string())
                .collect::<Vec<_>>(),
        ),
        None => None,
    };
    let base = st.base_url(uri, headers);
    let value: Vec<Value> = rows
        .iter()
        .map(|d| options::project(d, select.as_deref()))
        .collect();
    let body = json!({
        "@odata.context": format!("{base}AdminService/wmi/$metadata#{}", class.name),
        "value": value,
    });
    Ok((StatusCode::OK, axum::Json(body)).into_response())
}
