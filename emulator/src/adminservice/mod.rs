//! The ConfigMgr administration service (AdminService): its bearer check (a token for
//! an application registered in the tenant, which is how a CMG-fronted AdminService
//! takes Entra tokens), its error body, its faults, and the `wmi/` route: reads with
//! OData queries through the shared engine (`wmi.rs`), writes and method calls
//! (`write.rs`) over a declarative class table (`classes.rs`; the classes in `site.rs` with `roles.rs`,
//! `component.rs`, `aad.rs`, `cmg.rs` with `cmg_cert.rs` and `cmg_state.rs`, `clientsettings.rs`;
//! collections in `collections.rs` with their rules in `collection_rules.rs`, membership in
//! `membership.rs` and queries in `wql.rs`, the devices and their
//! co-management state in `devices.rs`, the co-management policy in `comanage.rs`), rows with etags and sealed secrets (`rows.rs`, `secrets.rs`),
//! and the site server's Entra user discovery (`discovery.rs`) writing its CMTrace log
//! (`sitelog.rs`).
//! Source: MicrosoftDocs/memdocs:memdocs/configmgr/develop/adminservice/usage.md,
//! overview.md.

pub mod aad;
mod classes;
mod clientsettings;
mod cmg;
mod cmg_cert;
mod cmg_state;
mod collection_rules;
mod collections;
mod comanage;
mod component;
mod devices;
mod discovery;
mod membership;
mod roles;
mod rows;
mod secrets;
pub mod site;
mod sitelog;
mod wmi;
mod wql;
mod write;

/// Seed what a site holds on a new (or older) state, and end discovery runs a stopped
/// emulator left running.
pub fn seed(db: &crate::store::Db<'_>) -> Result<(), crate::store::StoreError> {
    site::seed(db)?;
    clientsettings::seed(db)?;
    component::seed(db)?;
    devices::seed(db)?;
    collections::seed(db)?;
    discovery::recover(db)
}

use crate::app::Shared;
use crate::faults::{FaultLayer, Faults};
use crate::graph::{str_of, APPLICATIONS};
use crate::identity::bearer::check_bearer;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use serde_json::{json, Value};
use std::sync::Arc;

/// The path prefix, in its documented spelling. Any case is accepted on input
/// ([`canonical_path`]).
pub const PREFIX: &str = "/AdminService";

pub fn router(state: Shared, faults: Option<Arc<Faults>>) -> Router<Shared> {
    Router::new()
        .route(
            "/AdminService/wmi/{*rest}",
            get(wmi::get)
                .post(write::post)
                .patch(write::patch)
                .delete(write::delete),
        )
        .route("/AdminService/{*rest}", any(not_found))
        .route_layer(from_fn_with_state(state, auth))
        .layer(from_fn_with_state(
            FaultLayer {
                faults,
                render: render_fault,
            },
            crate::faults::middleware,
        ))
}

/// `/adminservice/WMI/…` → `/AdminService/wmi/…`: callers use either case
/// (set-up.md writes `/adminservice/`, public scripts call `sms_site`).
pub fn canonical_path(path: &str) -> Option<String> {
    let rest = path.strip_prefix('/')?;
    let (first, after) = rest.split_once('/').unwrap_or((rest, ""));
    if !first.eq_ignore_ascii_case("adminservice") {
        return None;
    }
    let (second, tail) = after
        .split_once('/')
        .map_or((after, None), |(a, b)| (a, Some(b)));
    let second = if second.eq_ignore_ascii_case("wmi") {
        "wmi"
    } else {
        second
    };
    let rebuilt = match tail {
        Some(t) => format!("{PREFIX}/{second}/{t}"),
        None if after.is_empty() => PREFIX.to_string(),
        None => format!("{PREFIX}/{second}"),
    };
    (rebuilt != path).then_some(rebuilt)
}

/// An AdminService error: `{"error":{"code":"<status>","message":…}}`, the shape the
/// service answers with (e.g. `{"error":{"code":"404","message":"Access denied  WMI
/// QUERY: "}}` quoted in MSEndpointMgr/ModernDriverManagement issue #179).
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let body = json!({"error": {"code": status.as_u16().to_string(), "message": message.into()}});
    (status, axum::Json(body)).into_response()
}

/// An AdminService error before it is rendered.
#[derive(Debug, Clone)]
pub struct AdminError {
    pub status: StatusCode,
    pub message: String,
}

impl AdminError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        AdminError {
            status,
            message: message.into(),
        }
    }

    pub fn render(&self) -> Response {
        error(self.status, self.message.clone())
    }
}

async fn not_found(req: Request) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!(
            "No HTTP resource was found that matches the request URI '{}'.",
            req.uri().path()
        ),
    )
}

fn render_fault(status: StatusCode, retry_after: Option<u64>, _req: &Request) -> Response {
    let mut resp = error(status, "The service is busy. Retry the request later.");
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert("Retry-After", HeaderValue::from(secs));
    }
    resp
}

/// The audiences the AdminService takes: the identifier URIs and app ids of the
/// applications registered in the tenant (the CMG's server app among them).
fn audiences(st: &crate::app::AppState) -> Result<Vec<String>, crate::store::StoreError> {
    let apps = st.store.read(|db| db.docs(APPLICATIONS))?;
    let mut out = Vec::new();
    for app in &apps {
        out.push(str_of(app, "appId").to_string());
        out.extend(
            app["identifierUris"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string),
        );
    }
    Ok(out)
}

/// A bad or missing token is a 401 with Bearer and Negotiate challenges (IIS offers
/// Windows authentication beside the CMG's Entra tokens). The status is what callers
/// report (MSEndpointMgr/ConfigMgr issues #262, #306: "(401) Unauthorized"); the body
/// text is UNCONFIRMED.
async fn auth(State(st): State<Shared>, req: Request, next: Next) -> Response {
    let allowed = match audiences(&st) {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e.0, "emulator state");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The emulator could not access its state.",
            );
        }
    };
    let refs: Vec<&str> = allowed.iter().map(String::as_str).collect();
    if check_bearer(&st, req.headers(), &refs).is_ok() {
        return next.run(req).await;
    }
    let mut resp = error(
        StatusCode::UNAUTHORIZED,
        "Authorization has been denied for this request.",
    );
    let h = resp.headers_mut();
    h.append("WWW-Authenticate", HeaderValue::from_static("Bearer"));
    h.append("WWW-Authenticate", HeaderValue::from_static("Negotiate"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_paths() {
        assert_eq!(
            canonical_path("/adminservice/wmi/sms_site").as_deref(),
            Some("/AdminService/wmi/sms_site")
        );
        assert_eq!(
            canonical_path("/ADMINSERVICE/WMI/SMS_Site('ABC')").as_deref(),
            Some("/AdminService/wmi/SMS_Site('ABC')")
        );
        assert_eq!(canonical_path("/AdminService/wmi/SMS_Site"), None);
        assert_eq!(canonical_path("/v1.0/applications"), None);
        assert_eq!(
            canonical_path("/adminservice").as_deref(),
            Some("/AdminService")
        );
    }
}
