//! Azure Resource Manager: the skeleton the ARM modules build on — ARM's bearer check
//! (audience `https://management.azure.com` or `https://management.core.windows.net`),
//! request ids, `api-version`, `CloudError` bodies, ARM-shaped faults — with cloud
//! metadata, the tenant's one subscription, resource groups (deleted as a
//! long-running operation), resource provider registration (`providers.rs`) and the
//! three name availability checks of the CMG wizard (`names.rs`), Azure DNS zones
//! with their CNAME record sets (`dns.rs`), and what a CMG deploys (issue 7): template
//! deployments (`deployments.rs` over `deploy_core.rs`, expressions in `template.rs`),
//! scale sets (`vmss.rs` over `vmss_core.rs`, long-running operations in `lro.rs`),
//! key vaults, storage accounts and public IPs (`listing.rs`, `vaults.rs`,
//! `storage.rs`, `public_ips.rs`, all in `resources.rs`'s one collection), role
//! assignments and definitions (`authorization.rs` over `roles.rs`), per-type
//! api-versions (`versions.rs`), and the in-process CMG API the AdminService calls
//! (`cmg.rs`). Paths from four segments on are routed by `dispatch.rs`.

mod authorization;
pub mod cmg;
mod deploy_core;
mod deployments;
mod dispatch;
pub(crate) mod dns;
pub mod errors;
mod listing;
mod lro;
mod names;
mod providers;
mod public_ips;
mod resource_groups;
mod resources;
mod roles;
mod storage;
mod subscriptions;
mod template;
mod vaults;
mod versions;
mod vmss;
mod vmss_core;

use crate::app::Shared;
use crate::faults::{FaultLayer, Faults};
use crate::identity::bearer::{check_bearer, BearerProblem};
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::Response;
use axum::routing::{any, get};
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
        // Everything deeper is told apart by its segments (dispatch.rs).
        .route("/subscriptions/{sub}/{a}/{b}/{c}", any(arm_any))
        .route("/subscriptions/{sub}/{a}/{b}/{c}/{*rest}", any(arm_any))
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

/// Every ARM path from four segments after `/subscriptions/` on.
async fn arm_any(
    State(st): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let r = dispatch::Req {
        st: &st,
        method: &method,
        uri: &uri,
        headers: &headers,
        body: &body,
    };
    dispatch::dispatch(&r).unwrap_or_else(|e| e.render())
}

/// `POST /subscriptions/{sub}/providers/{ns}/{action}`: `register`, and the storage and
/// Key Vault name checks. ARM paths are case-insensitive.
fn provider_action_in(
    st: &crate::app::AppState,
    sub: &str,
    ns: &str,
    action: &str,
    uri: &Uri,
    body: &Bytes,
) -> ArmResult<Response> {
    use resource_groups::kind_is;
    if kind_is(action, "register") {
        return providers::register(st, sub, ns, uri);
    }
    if kind_is(action, "checkNameAvailability") {
        if kind_is(ns, "Microsoft.Storage") {
            return names::storage(st, sub, uri, body);
        }
        if kind_is(ns, "Microsoft.KeyVault") {
            return names::key_vault(st, sub, uri, body);
        }
    }
    Err(unknown_action(ns, action))
}

pub(super) fn unknown_action(ns: &str, action: &str) -> ArmError {
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
