//! The shared state and the router: one sub-router per Microsoft surface (identity,
//! Graph; ARM, AdminService and blob upload join the same way), with latency applied to
//! every response.

use crate::faults::{FaultScope, Faults};
use crate::identity::DeviceFlow;
use crate::reqlog::RequestLog;
use crate::store::Store;
use crate::tenant::Tenant;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct AppState {
    pub store: Store,
    pub tenant: Tenant,
    /// `http` or `https`.
    pub scheme: &'static str,
    pub local_addr: SocketAddr,
    pub device_flows: Mutex<HashMap<String, DeviceFlow>>,
    pub log: Arc<RequestLog>,
    /// How long ARM writes take (`EmulatorConfig::arm_delay`).
    pub arm_delay: Duration,
    /// The CA certificate (PEM) the server's certificate chains to, when serving HTTPS;
    /// the emulated site server trusts it when it calls the emulator's own endpoints.
    pub ca_pem: Option<String>,
    /// The emulator's DNS server (UDP and TCP).
    pub dns_addr: SocketAddr,
    pub site: SiteSettings,
}

/// How the emulated site server behaves outside its API.
pub struct SiteSettings {
    /// Where its logs go.
    pub log_dir: std::path::PathBuf,
    pub udx_wording: crate::UdxWording,
}

pub type Shared = Arc<AppState>;

impl AppState {
    /// The emulator's own base URL, as its own components (the site server's discovery
    /// agent) call it.
    pub fn own_url(&self) -> String {
        format!("{}://{}/", self.scheme, self.local_addr)
    }

    /// A state with a fresh in-memory tenant, for the modules' unit tests.
    #[cfg(test)]
    pub fn for_tests(arm_delay: Duration) -> AppState {
        let store = Store::open_memory().expect("memory store");
        let tenant = crate::tenant::load_or_create(&store).expect("tenant");
        AppState {
            store,
            tenant,
            scheme: "http",
            local_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            device_flows: Default::default(),
            log: Arc::new(RequestLog::default()),
            arm_delay,
            ca_pem: None,
            dns_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            site: SiteSettings {
                log_dir: std::env::temp_dir(),
                udx_wording: crate::UdxWording::default(),
            },
        }
    }

    /// The base URL as the client addressed us (`Host` or the HTTP/2 authority), so links
    /// we hand out (nextLink, verification_uri) work under `localhost` and `127.0.0.1`.
    pub fn base_url(&self, uri: &Uri, headers: &HeaderMap) -> String {
        let host = uri
            .authority()
            .map(|a| a.as_str().to_string())
            .or_else(|| {
                headers
                    .get("host")
                    .and_then(|h| h.to_str().ok())
                    .filter(|h| {
                        !h.is_empty()
                            && h.chars()
                                .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
                    })
                    .map(str::to_string)
            })
            .unwrap_or_else(|| self.local_addr.to_string());
        format!("{}://{host}/", self.scheme)
    }
}

pub fn router(state: Shared, faults: Option<Arc<Faults>>, latency: Duration) -> Router {
    let identity = crate::identity::router();
    let identity = match &faults {
        Some(f) if f.spec.scope == FaultScope::All => identity.layer(from_fn_with_state(
            crate::faults::FaultLayer {
                faults: Some(f.clone()),
                render: crate::identity::errors::render_fault,
            },
            crate::faults::middleware,
        )),
        _ => identity,
    };
    let log = state.log.clone();
    let surfaces = Router::new()
        .merge(identity)
        .merge(crate::graph::router(state.clone(), faults.clone()))
        .merge(crate::arm::router(state.clone(), faults.clone()))
        .merge(crate::adminservice::router(state.clone(), faults.clone()))
        .merge(crate::blob::router(faults))
        .route("/_emulator/requests", get(requests))
        .route("/_emulator/blob-sas", get(blob_sas))
        .route("/_emulator/dns", get(dns))
        .fallback(not_found)
        .with_state(state);
    // Paths are matched case-sensitively; the AdminService prefix is not, so it is put
    // in its documented spelling before routing.
    let canonical = tower::ServiceExt::map_request(surfaces, canonical_prefix);
    Router::new()
        .fallback_service(canonical)
        .layer(from_fn_with_state(latency, delay))
        // Outermost, so faulted and dropped requests are logged too.
        .layer(from_fn_with_state(log, crate::reqlog::middleware))
}

/// `GET /_emulator/blob-sas?container=…&blob=…[&permissions=rw][&minutes=60]`: a SAS
/// URL for one blob, for tests and tools until a Graph endpoint hands them out (Intune's
/// `azureStorageUri`).
async fn blob_sas(State(st): State<Shared>, uri: Uri, headers: axum::http::HeaderMap) -> Response {
    let q = crate::odata::Query::parse(uri.query());
    let (Some(container), Some(blob)) = (q.get("container"), q.get("blob")) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({"error": "container and blob are required"})),
        )
            .into_response();
    };
    let permissions = q.get("permissions").unwrap_or("rw");
    let minutes = q
        .get("minutes")
        .and_then(|m| m.parse::<i64>().ok())
        .unwrap_or(60)
        .clamp(-1440, 1440);
    let base = st.base_url(&uri, &headers);
    match crate::blob::sas_url(&st, &base, container, blob, permissions, minutes) {
        Ok(url) => Json(serde_json::json!({"url": url})).into_response(),
        Err(e) => e.render(),
    }
}

fn canonical_prefix(mut req: Request) -> Request {
    if let Some(path) = crate::adminservice::canonical_path(req.uri().path()) {
        let rebuilt = match req.uri().query() {
            Some(q) => format!("{path}?{q}"),
            None => path,
        };
        if let Ok(pq) = rebuilt.parse::<axum::http::uri::PathAndQuery>() {
            let mut parts = req.uri().clone().into_parts();
            parts.path_and_query = Some(pq);
            if let Ok(uri) = Uri::from_parts(parts) {
                *req.uri_mut() = uri;
            }
        }
    }
    req
}

/// `GET /_emulator/dns`: where the emulator's DNS server listens, so a client of a
/// served emulator can point its resolver there.
async fn dns(State(st): State<Shared>) -> Response {
    Json(serde_json::json!({"address": st.dns_addr.to_string(), "protocols": ["udp", "tcp"]}))
        .into_response()
}

/// `GET /_emulator/requests`: the request log as a JSON array.
async fn requests(State(st): State<Shared>) -> Response {
    let all: Vec<serde_json::Value> = st.log.snapshot().iter().map(|r| r.to_json()).collect();
    Json(serde_json::Value::Array(all)).into_response()
}

async fn delay(State(latency): State<Duration>, req: Request, next: Next) -> Response {
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    next.run(req).await
}

async fn not_found(uri: Uri) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({
            "error": {
                "code": "NotFound",
                "message": format!("The comgmt emulator serves no resource at '{}'.", uri.path()),
            }
        })),
    )
        .into_response()
}
