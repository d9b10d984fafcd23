//! Microsoft Graph under `/v1.0` and `/beta`: bearer-token check, request ids, OData
//! path parsing (`applications/{id}`, `applications(appId='…')`, `…/$count`), and
//! dispatch to the generic entity-set router (`entity_set`) with each set's description.

pub mod applications;
pub mod assignments;
pub mod credentials;
pub mod entity_set;
pub mod expand;
pub mod grants;
pub mod identifier_uris;
pub mod organization;
pub mod query;
pub mod resources;
pub mod schema;
pub mod service_principals;
pub mod users;

use crate::app::Shared;
use crate::errors::{GraphError, GraphResult, RequestIds};
use crate::faults::Faults;
use crate::store::Db;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use serde_json::{Map, Value};
use std::sync::Arc;

pub const APPLICATIONS: &str = "applications";
pub const SERVICE_PRINCIPALS: &str = "servicePrincipals";
pub const GRANTS: &str = "oauth2PermissionGrants";
pub const ASSIGNMENTS: &str = "appRoleAssignments";

/// Largest request body accepted (Graph's own limit is 4 MB).
const BODY_LIMIT: usize = 4 * 1024 * 1024;

pub fn router(state: Shared, faults: Option<Arc<Faults>>) -> Router<Shared> {
    Router::new()
        .route("/v1.0/{*path}", any(dispatch))
        .route("/beta/{*path}", any(dispatch))
        .route_layer(from_fn_with_state(state, auth))
        // Faults sit outside the token check and before any handler: a faulted request
        // has changed nothing.
        .layer(from_fn_with_state(
            crate::faults::FaultLayer {
                faults,
                render: crate::faults::render_graph,
            },
            crate::faults::middleware,
        ))
        .layer(from_fn(request_ids))
}

/// Every Graph response carries `request-id` and echoes `client-request-id`.
async fn request_ids(mut req: Request, next: Next) -> Response {
    let ids = RequestIds::from_headers(req.headers());
    req.extensions_mut().insert(ids.clone());
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&ids.request_id) {
        h.insert("request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&ids.client_request_id) {
        h.insert("client-request-id", v);
    }
    resp
}

fn ids_of(req: &Request) -> RequestIds {
    req.extensions()
        .get::<RequestIds>()
        .cloned()
        .unwrap_or_else(|| RequestIds::from_headers(req.headers()))
}

/// Graph takes tokens for Graph (by URI or app id) and, for kiota's derived scope, for
/// the emulator's own base URL.
async fn auth(State(st): State<Shared>, mut req: Request, next: Next) -> Response {
    use crate::identity::bearer::{check_bearer, own_base_audiences, BearerProblem};
    let base = st.base_url(req.uri(), req.headers());
    let own = own_base_audiences(&base);
    let mut audiences: Vec<&str> = crate::identity::GRAPH_AUDIENCES.to_vec();
    audiences.extend(own.iter().map(String::as_str));
    let message = match check_bearer(&st, req.headers(), &audiences) {
        Ok(claims) => {
            req.extensions_mut().insert(Claims(claims));
            return next.run(req).await;
        }
        Err(BearerProblem::Missing) => "Access token is empty.",
        Err(BearerProblem::Malformed) => "CompactToken parsing failed with error code: 80049217",
        Err(BearerProblem::BadSignature) => "Access token validation failure.",
        Err(BearerProblem::Expired) => "Lifetime validation failed, the token is expired.",
        Err(BearerProblem::WrongIssuer) => "Access token validation failure. Invalid issuer.",
        Err(BearerProblem::WrongAudience(_)) => {
            "Access token validation failure. Invalid audience."
        }
    };
    GraphError::unauthorized(message).render(&ids_of(&req))
}

/// The caller's token claims, as the bearer check found them.
#[derive(Clone)]
pub struct Claims(pub Value);

/// What a handler needs to know about the request.
pub struct Ctx<'a> {
    pub st: &'a crate::app::AppState,
    /// `v1.0` or `beta`.
    pub version: &'static str,
    /// The emulator's base URL as the client addressed it, with a trailing slash.
    pub base: String,
    /// The path after the version segment, as sent (for nextLinks).
    pub path: String,
    pub headers: &'a HeaderMap,
    pub query: crate::odata::Query,
    /// The caller's token claims (`idtyp`, `roles`, `scp`).
    pub claims: Value,
}

async fn dispatch(State(st): State<Shared>, req: Request) -> Response {
    let ids = ids_of(&req);
    let claims = req
        .extensions()
        .get::<Claims>()
        .map(|c| c.0.clone())
        .unwrap_or(Value::Null);
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            return GraphError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request_BadRequest",
                "The request body is too large.",
            )
            .render(&ids)
        }
    };
    let full = parts.uri.path();
    let (version, rest) = if let Some(r) = full.strip_prefix("/v1.0/") {
        ("v1.0", r)
    } else if let Some(r) = full.strip_prefix("/beta/") {
        ("beta", r)
    } else {
        return GraphError::no_route(full).render(&ids);
    };
    let ctx = Ctx {
        st: &st,
        version,
        base: st.base_url(&parts.uri, &parts.headers),
        path: rest.trim_end_matches('/').to_string(),
        headers: &parts.headers,
        query: crate::odata::Query::parse(parts.uri.query()),
        claims,
    };
    match route(&ctx, &parts.method, &body) {
        Ok(r) => r,
        Err(e) => e.render(&ids),
    }
}

/// A path segment: `name` or `name(key)`.
#[derive(Debug, Clone)]
pub struct Seg {
    pub name: String,
    pub key: Option<Key>,
}

impl Seg {
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
            || self
                .name
                .strip_prefix("microsoft.graph.")
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Clone)]
pub enum Key {
    Id(String),
    /// An alternate key such as `appId='…'`.
    Alt(String, String),
}

impl Key {
    pub fn display(&self) -> String {
        match self {
            Key::Id(id) => id.clone(),
            Key::Alt(_, v) => v.clone(),
        }
    }
}

/// The addressed object in an entity set and what follows it.
pub struct Target {
    pub key: Option<Key>,
    /// `/{set}/$count`
    pub count: bool,
    pub rest: Vec<Seg>,
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    match s.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        Some(inner) => inner.replace("''", "'"),
        None => s.to_string(),
    }
}

fn parse_seg(raw: &str) -> GraphResult<Seg> {
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| GraphError::no_route(raw))?
        .into_owned();
    let Some(open) = decoded.find('(') else {
        return Ok(Seg {
            name: decoded,
            key: None,
        });
    };
    let inner = decoded[open + 1..]
        .strip_suffix(')')
        .ok_or_else(|| GraphError::no_route(&decoded))?;
    let key = match inner.split_once('=') {
        Some((k, v)) if !k.contains('\'') => Key::Alt(k.trim().to_string(), unquote(v)),
        _ => Key::Id(unquote(inner)),
    };
    Ok(Seg {
        name: decoded[..open].to_string(),
        key: Some(key),
    })
}

fn target(segs: &[Seg]) -> Target {
    let first = &segs[0];
    if let Some(k) = &first.key {
        return Target {
            key: Some(k.clone()),
            count: false,
            rest: segs[1..].to_vec(),
        };
    }
    match segs.get(1) {
        None => Target {
            key: None,
            count: false,
            rest: Vec::new(),
        },
        Some(s) if s.name == "$count" && segs.len() == 2 => Target {
            key: None,
            count: true,
            rest: Vec::new(),
        },
        Some(s) => Target {
            key: Some(Key::Id(s.name.clone())),
            count: false,
            rest: segs[2..].to_vec(),
        },
    }
}

fn route(ctx: &Ctx<'_>, method: &Method, body: &Bytes) -> GraphResult<Response> {
    let segs = ctx
        .path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(parse_seg)
        .collect::<GraphResult<Vec<_>>>()?;
    let Some(first) = segs.first() else {
        return Err(GraphError::no_route(""));
    };
    if first.is(users::SET_NAME) {
        return users::route(ctx, method, &segs);
    }
    let t = target(&segs);
    match SETS.iter().find(|set| first.is(set.name)) {
        Some(set) => entity_set::route(set, ctx, method, t, body),
        None => Err(GraphError::no_route(&first.name)),
    }
}

/// Every entity set Graph serves here.
pub const SETS: &[&entity_set::EntitySet] = &[
    &applications::SET,
    &service_principals::SET,
    &grants::SET,
    &organization::SET,
];

/// Look an object up by id or by one of the alternate keys the set supports.
pub fn find(db: &Db<'_>, set: &str, key: &Key, alt_keys: &[&str]) -> GraphResult<Option<Value>> {
    match key {
        // Object ids are GUIDs stored lower-case; grant and assignment ids are
        // case-sensitive opaque strings.
        Key::Id(id) => match db.get(set, id)? {
            Some(doc) => Ok(Some(doc)),
            None => Ok(db.get(set, &id.to_ascii_lowercase())?),
        },
        Key::Alt(prop, value) => {
            if !alt_keys.iter().any(|k| k == prop) {
                return Err(GraphError::odata(format!(
                    "The key property '{prop}' is not an alternate key of '{set}'."
                )));
            }
            Ok(db.docs(set)?.into_iter().find(|d| {
                d.get(prop.as_str())
                    .and_then(Value::as_str)
                    .is_some_and(|v| v.eq_ignore_ascii_case(value))
            }))
        }
    }
}

/// Like [`find`], but a missing object is Graph's 404.
pub fn find_required(db: &Db<'_>, set: &str, key: &Key, alt_keys: &[&str]) -> GraphResult<Value> {
    find(db, set, key, alt_keys)?.ok_or_else(|| GraphError::not_found(&key.display()))
}

/// A JSON request body that must be an object.
pub fn body_object(body: &Bytes) -> GraphResult<Map<String, Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(GraphError::odata("Empty Payload. JSON content expected."));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(GraphError::odata(
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )),
    }
}

pub fn json_body(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec())
}

pub fn json_response(status: StatusCode, v: &Value) -> Response {
    (
        status,
        [(
            axum::http::header::CONTENT_TYPE,
            "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8",
        )],
        json_body(v),
    )
        .into_response()
}

/// An entity with its `@odata.context`, honouring `$select`.
pub fn entity_response(
    ctx: &Ctx<'_>,
    status: StatusCode,
    set: &str,
    doc: &Value,
    obj: &schema::Obj,
) -> GraphResult<Response> {
    let select = match ctx.query.get("$select") {
        Some(raw) if status == StatusCode::OK => {
            Some(crate::odata::options::parse_select(raw, obj)?)
        }
        _ => None,
    };
    let mut out = Map::new();
    out.insert(
        "@odata.context".into(),
        Value::String(query::context(ctx, set, select.as_deref(), true)),
    );
    if let Value::Object(m) = crate::odata::options::project(&public_view(doc), select.as_deref()) {
        out.extend(m);
    }
    Ok(json_response(status, &Value::Object(out)))
}

pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// What clients see of a stored document: internal `_…` fields removed at any depth.
pub fn public_view(doc: &Value) -> Value {
    match doc {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('_'))
                .map(|(k, v)| (k.clone(), public_view(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(public_view).collect()),
        other => other.clone(),
    }
}

pub fn str_of<'a>(doc: &'a Value, key: &str) -> &'a str {
    doc.get(key).and_then(Value::as_str).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_and_keys() {
        let s = parse_seg("applications(appId='abc')").unwrap();
        assert_eq!(s.name, "applications");
        assert!(matches!(s.key, Some(Key::Alt(ref k, ref v)) if k == "appId" && v == "abc"));
        let s = parse_seg("applications(appId%3D%27a%27%27b%27)").unwrap();
        assert!(matches!(s.key, Some(Key::Alt(_, ref v)) if v == "a'b"));
        let s = parse_seg("applications('id1')").unwrap();
        assert!(matches!(s.key, Some(Key::Id(ref v)) if v == "id1"));
        assert_eq!(parse_seg("%24count").unwrap().name, "$count");
        assert!(parse_seg("applications(appId='x'").is_err());
        let segs: Vec<Seg> = ["applications", "$count"]
            .iter()
            .map(|s| parse_seg(s).unwrap())
            .collect();
        assert!(target(&segs).count);
        let segs: Vec<Seg> = ["servicePrincipals", "x", "appRoleAssignedTo", "y"]
            .iter()
            .map(|s| parse_seg(s).unwrap())
            .collect();
        let t = target(&segs);
        assert!(matches!(t.key, Some(Key::Id(ref v)) if v == "x"));
        assert_eq!(t.rest.len(), 2);
        assert!(Seg {
            name: "microsoft.graph.addPassword".into(),
            key: None
        }
        .is("addPassword"));
    }

    #[test]
    fn public_view_strips_internal_fields() {
        let v = serde_json::json!({"a": 1, "_h": 2, "l": [{"_k": 1, "b": 2}]});
        assert_eq!(
            public_view(&v),
            serde_json::json!({"a": 1, "l": [{"b": 2}]})
        );
    }
}
