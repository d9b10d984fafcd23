//! Azure Resource Manager: the skeleton the ARM modules build on — ARM's bearer check
//! (audience `https://management.azure.com` or `https://management.core.windows.net`),
//! request ids, `api-version`, `CloudError` bodies, ARM-shaped faults — with cloud
//! metadata, the tenant's one subscription, resource groups (deleted as a
//! long-running operation), resource provider registration (`providers.rs`) and the
//! three name availability checks of the CMG wizard (`names.rs`), and Azure DNS zones
//! with their CNAME record sets (`dns.rs`).

pub(crate) mod dns;
pub mod errors;
mod names;
mod providers;
mod resource_groups;
mod subscriptions;

use crate::app::Shared;
use crate::faults::{FaultLayer, Faults};
use crate::identity::bearer::{check_bearer, BearerProblem};
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use errors::{ArmError, ArmIds, ArmResult};
use std::sync::Arc;

/// The audiences an ARM token may carry (with or without a trailing slash).
pub const AUDIENCES: &[&str] = &[
    "https://management.azure.com",
    "https://management.core.windows.net",
];

pub fn router(state: Shared, faults: Option<Arc<Faults>>) -> Router<Shared> {
    let authenticated = Router::new()
        .route("/subscriptions", get(subscriptions::list))
        .route("/subscriptions/{sub}", get(subscriptions::get_one))
        .route("/subscriptions/{sub}/{kind}", get(resource_groups::list))
        .route(
            "/subscriptions/{sub}/{kind}/{name}",
            get(resource_groups::get)
                .head(resource_groups::head)
                .put(resource_groups::put)
                .patch(resource_groups::patch)
                .delete(resource_groups::delete),
        )
        .route(
            "/subscriptions/{sub}/{kind}/{ns}/{action}",
            post(provider_action),
        )
        .route(
            "/subscriptions/{sub}/{kind}/{ns}/{parent}/{region}/{action}",
            get(location_action),
        )
        .route(
            "/subscriptions/{sub}/{kind}/{rg}/{p}/{ns}/{t}/{zone}",
            get(zone_get).put(zone_put).delete(zone_delete),
        )
        .route(
            "/subscriptions/{sub}/{kind}/{rg}/{p}/{ns}/{t}/{zone}/{list}",
            get(record_list),
        )
        .route(
            "/subscriptions/{sub}/{kind}/{rg}/{p}/{ns}/{t}/{zone}/{rtype}/{name}",
            get(record_get).put(record_put).delete(record_delete),
        )
        .route_layer(from_fn_with_state(state, auth));
    Router::new()
        // Cloud metadata is public: clients read it before they have a token.
        .route(
            "/metadata/endpoints",
            get(subscriptions::metadata_endpoints),
        )
        .merge(authenticated)
        // Faults sit outside the token check: a faulted request changed nothing.
        .layer(from_fn_with_state(
            FaultLayer {
                faults,
                render: errors::render_fault,
            },
            crate::faults::middleware,
        ))
        .layer(from_fn(request_ids))
}

/// `POST /subscriptions/{sub}/providers/{ns}/{action}`: `register`, and the storage and
/// Key Vault name checks. ARM paths are case-insensitive.
async fn provider_action(
    State(st): State<Shared>,
    Path((sub, kind, ns, action)): Path<(String, String, String, String)>,
    uri: Uri,
    body: Bytes,
) -> Response {
    use resource_groups::{kind_is, respond, unknown_kind};
    respond((|| {
        if !kind_is(&kind, "providers") {
            return Err(unknown_kind(&kind));
        }
        if kind_is(&action, "register") {
            return providers::register(&st, &sub, &ns, &uri);
        }
        if kind_is(&action, "checkNameAvailability") {
            if kind_is(&ns, "Microsoft.Storage") {
                return names::storage(&st, &sub, &uri, &body);
            }
            if kind_is(&ns, "Microsoft.KeyVault") {
                return names::key_vault(&st, &sub, &uri, &body);
            }
        }
        Err(unknown_action(&ns, &action))
    })())
}

/// `GET /subscriptions/{sub}/providers/Microsoft.Network/locations/{region}/CheckDnsNameAvailability`.
async fn location_action(
    State(st): State<Shared>,
    Path((sub, kind, ns, parent, region, action)): Path<(
        String,
        String,
        String,
        String,
        String,
        String,
    )>,
    uri: Uri,
) -> Response {
    use resource_groups::{kind_is, respond, unknown_kind};
    respond((|| {
        if !kind_is(&kind, "providers") {
            return Err(unknown_kind(&kind));
        }
        if kind_is(&ns, "Microsoft.Network")
            && kind_is(&parent, "locations")
            && kind_is(&action, "CheckDnsNameAvailability")
        {
            return names::dns(&st, &sub, &region, &uri);
        }
        Err(unknown_action(&ns, &action))
    })())
}

/// The path segments of a DNS zone: `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/dnsZones/{zone}`.
type ZonePath = (String, String, String, String, String, String, String);

/// Check the fixed segments of a zone path (case-insensitively, as ARM does) and resolve it.
fn zone_ref(st: &crate::app::AppState, p: &ZonePath, uri: &Uri) -> ArmResult<dns::ZoneRef> {
    use resource_groups::{kind_is, unknown_kind};
    let (sub, kind, rg, providers, ns, t, zone) = p;
    if !kind_is(kind, "resourceGroups") {
        return Err(unknown_kind(kind));
    }
    if !kind_is(providers, "providers")
        || !kind_is(ns, "Microsoft.Network")
        || !kind_is(t, "dnsZones")
    {
        return Err(unknown_kind(&format!("{ns}/{t}")));
    }
    dns::ZoneRef::resolve(st, sub, rg, zone, uri)
}

async fn zone_get(State(st): State<Shared>, Path(p): Path<ZonePath>, uri: Uri) -> Response {
    resource_groups::respond(zone_ref(&st, &p, &uri).and_then(|z| dns::get_zone(&st, &z)))
}

async fn zone_put(
    State(st): State<Shared>,
    Path(p): Path<ZonePath>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    resource_groups::respond(
        zone_ref(&st, &p, &uri).and_then(|z| dns::put_zone(&st, &z, &headers, &body)),
    )
}

async fn zone_delete(
    State(st): State<Shared>,
    Path(p): Path<ZonePath>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    resource_groups::respond(
        zone_ref(&st, &p, &uri).and_then(|z| dns::delete_zone(&st, &z, &headers)),
    )
}

/// A zone path and one more segment (`recordsets`, or a record type).
type ListPath = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

fn split_list(p: ListPath) -> (ZonePath, String) {
    let (a, b, c, d, e, f, g, h) = p;
    ((a, b, c, d, e, f, g), h)
}

/// A zone path, a record type and a relative name.
type RecordPath = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

fn split_record(p: RecordPath) -> (ZonePath, String, String) {
    let (a, b, c, d, e, f, g, h, i) = p;
    ((a, b, c, d, e, f, g), h, i)
}

async fn record_list(State(st): State<Shared>, Path(p): Path<ListPath>, uri: Uri) -> Response {
    let (zp, what) = split_list(p);
    resource_groups::respond(
        zone_ref(&st, &zp, &uri).and_then(|z| dns::list_records(&st, &z, &what)),
    )
}

async fn record_get(State(st): State<Shared>, Path(p): Path<RecordPath>, uri: Uri) -> Response {
    let (zp, rtype, name) = split_record(p);
    resource_groups::respond((|| {
        let z = zone_ref(&st, &zp, &uri)?;
        dns::get_record(&st, &dns::RecordRef::new(&z, &rtype, &name)?)
    })())
}

async fn record_put(
    State(st): State<Shared>,
    Path(p): Path<RecordPath>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (zp, rtype, name) = split_record(p);
    resource_groups::respond((|| {
        let z = zone_ref(&st, &zp, &uri)?;
        dns::put_record(
            &st,
            &dns::RecordRef::new(&z, &rtype, &name)?,
            &headers,
            &body,
        )
    })())
}

async fn record_delete(
    State(st): State<Shared>,
    Path(p): Path<RecordPath>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let (zp, rtype, name) = split_record(p);
    resource_groups::respond((|| {
        let z = zone_ref(&st, &zp, &uri)?;
        dns::delete_record(&st, &dns::RecordRef::new(&z, &rtype, &name)?, &headers)
    })())
}

fn unknown_action(ns: &str, action: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("The comgmt emulator serves no action '{action}' of '{ns}'."),
    )
}

/// Every ARM response carries `x-ms-request-id` and `x-ms-correlation-request-id`.
async fn request_ids(mut req: Request, next: Next) -> Response {
    let ids = ArmIds::from_headers(req.headers());
    req.extensions_mut().insert(ids.clone());
    let mut resp = next.run(req).await;
    ids.stamp(&mut resp);
    resp
}

/// ARM's answers to a bad token, each with a `WWW-Authenticate` challenge. The accepted
/// audiences are the ones ARM publishes in `/metadata/endpoints`
/// (`authentication.audiences`). The codes are the ones ARM clients
/// meet (`AuthenticationFailed`, `InvalidAuthenticationToken`,
/// `ExpiredAuthenticationToken`, `InvalidAuthenticationTokenTenant`,
/// `InvalidAuthenticationTokenAudience` — e.g. microsoft/azure-tools-for-java's changelog,
/// issue #2341); the exact message texts are UNCONFIRMED by a document read here.
async fn auth(State(st): State<Shared>, req: Request, next: Next) -> Response {
    let (code, message) = match check_bearer(&st, req.headers(), AUDIENCES) {
        Ok(_) => return next.run(req).await,
        Err(BearerProblem::Missing) => (
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.".to_string(),
        ),
        Err(BearerProblem::Malformed) | Err(BearerProblem::BadSignature) => (
            "InvalidAuthenticationToken",
            "The access token is invalid.".to_string(),
        ),
        Err(BearerProblem::Expired) => (
            "ExpiredAuthenticationToken",
            "The access token expiry UTC time is earlier than current UTC time.".to_string(),
        ),
        Err(BearerProblem::WrongIssuer) => (
            "InvalidAuthenticationTokenTenant",
            format!(
                "The access token is from the wrong issuer. It must match the tenant 'https://sts.windows.net/{}/' associated with this subscription.",
                st.tenant.id
            ),
        ),
        Err(BearerProblem::WrongAudience(aud)) => (
            "InvalidAuthenticationTokenAudience",
            format!(
                "The access token has been obtained for wrong audience or resource '{aud}'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'."
            ),
        ),
    };
    let base = st.base_url(req.uri(), req.headers());
    let challenge = format!(
        "Bearer authorization_uri=\"{base}{}\", error=\"invalid_token\", error_description=\"{}\"",
        st.tenant.id,
        message.replace('"', "'")
    );
    ArmError {
        www_authenticate: Some(challenge),
        ..ArmError::new(StatusCode::UNAUTHORIZED, code, message)
    }
    .render()
}

/// The `api-version` every ARM request must carry.
pub fn api_version(query: &crate::odata::Query) -> ArmResult<String> {
    match query.get("api-version").map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v.to_string()),
        _ => Err(ArmError::missing_api_version()),
    }
}
