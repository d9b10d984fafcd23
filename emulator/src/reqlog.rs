//! The request log: every request the emulator answers, with its surface and whether it
//! was a write. It lets a test prove that `comgmt plan` sent nothing but reads.
//!
//! The log lives in memory for the life of the emulator. A request whose connection is
//! dropped (a `drop` fault, or a client that hung up) is logged without a status.

use crate::{LoggedRequest, Surface};
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::{Arc, Mutex};

/// Paths under this prefix are the emulator's own debug routes; they are not logged.
pub const DEBUG_PREFIX: &str = "/_emulator/";

#[derive(Default)]
pub struct RequestLog {
    entries: Mutex<Vec<LoggedRequest>>,
}

impl RequestLog {
    pub fn snapshot(&self) -> Vec<LoggedRequest> {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn push(&self, entry: LoggedRequest) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(entry);
    }
}

/// Which emulated service a path belongs to.
pub fn surface_of(path: &str) -> Surface {
    let mut segs = path.trim_start_matches('/').split('/');
    let first = segs.next().unwrap_or_default();
    let second = segs.next().unwrap_or_default();
    match first.to_ascii_lowercase().as_str() {
        "v1.0" | "beta" => Surface::Graph,
        "subscriptions" | "providers" | "tenants" | "metadata" => Surface::Arm,
        "adminservice" => Surface::AdminService,
        "blob" => Surface::Blob,
        "devicelogin" => Surface::Identity,
        _ if matches!(second, "oauth2" | "discovery" | "v2.0") => Surface::Identity,
        _ => Surface::Other,
    }
}

/// Whether a request can change state: any method but GET and HEAD, except the POSTs
/// that only read — the token and device-code endpoints, and ARM's name-availability
/// checks (`checkNameAvailability`, `CheckDnsNameAvailability`) and a template
/// deployment's `validate`.
pub fn is_write(method: &Method, path: &str) -> bool {
    if method == Method::GET || method == Method::HEAD {
        return false;
    }
    if method != Method::POST {
        return true;
    }
    let lower = path.to_ascii_lowercase();
    let last = lower.rsplit('/').next().unwrap_or_default();
    let reading_post = lower.contains("/oauth2/") && matches!(last, "token" | "devicecode")
        || last.starts_with("checknameavailability")
        || last.starts_with("checkdnsnameavailability")
        || last.starts_with("validate") && lower.contains("/microsoft.resources/deployments/");
    !reading_post
}

/// Records the request when it is answered, or without a status when its future is
/// dropped (the connection went away first).
struct Pending {
    log: Arc<RequestLog>,
    entry: Option<LoggedRequest>,
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(entry) = self.entry.take() {
            self.log.push(entry);
        }
    }
}

pub async fn middleware(State(log): State<Arc<RequestLog>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with(DEBUG_PREFIX) {
        return next.run(req).await;
    }
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| path.clone());
    let method = req.method().clone();
    let mut pending = Pending {
        log,
        entry: Some(LoggedRequest {
            time: crate::util::now_iso_millis(),
            surface: surface_of(&path),
            method: method.as_str().to_string(),
            path: path_and_query,
            status: None,
            write: is_write(&method, &path),
        }),
    };
    let resp = next.run(req).await;
    if let Some(e) = pending.entry.as_mut() {
        e.status = Some(resp.status().as_u16());
    }
    drop(pending);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surfaces() {
        assert_eq!(surface_of("/v1.0/applications"), Surface::Graph);
        assert_eq!(surface_of("/beta/servicePrincipals"), Surface::Graph);
        assert_eq!(surface_of("/t/oauth2/v2.0/token"), Surface::Identity);
        assert_eq!(surface_of("/common/discovery/v2.0/keys"), Surface::Identity);
        assert_eq!(
            surface_of("/t/v2.0/.well-known/openid-configuration"),
            Surface::Identity
        );
        assert_eq!(
            surface_of("/subscriptions/x/resourcegroups/y"),
            Surface::Arm
        );
        assert_eq!(surface_of("/metadata/endpoints"), Surface::Arm);
        assert_eq!(
            surface_of("/AdminService/wmi/SMS_Site"),
            Surface::AdminService
        );
        assert_eq!(
            surface_of("/adminservice/v1.0/Device"),
            Surface::AdminService
        );
        assert_eq!(surface_of("/nowhere"), Surface::Other);
    }

    #[test]
    fn writes() {
        assert!(!is_write(&Method::GET, "/v1.0/applications"));
        assert!(!is_write(
            &Method::HEAD,
            "/subscriptions/s/resourcegroups/r"
        ));
        assert!(is_write(&Method::POST, "/v1.0/applications"));
        assert!(is_write(&Method::PATCH, "/v1.0/applications/x"));
        assert!(is_write(&Method::PUT, "/subscriptions/s/resourcegroups/r"));
        assert!(is_write(&Method::DELETE, "/v1.0/applications/x"));
        assert!(!is_write(&Method::POST, "/t/oauth2/v2.0/token"));
        assert!(!is_write(&Method::POST, "/t/oauth2/v2.0/devicecode"));
        assert!(!is_write(
            &Method::POST,
            "/subscriptions/s/providers/Microsoft.Storage/checkNameAvailability"
        ));
        assert!(!is_write(
            &Method::POST,
            "/subscriptions/s/providers/Microsoft.Network/locations/eastus/CheckDnsNameAvailability"
        ));
        assert!(is_write(&Method::POST, "/v1.0/applications/x/addPassword"));
        // A deployment's validate reads; the scale set's power actions write.
        assert!(!is_write(
            &Method::POST,
            "/subscriptions/s/resourceGroups/r/providers/Microsoft.Resources/deployments/d/validate"
        ));
        assert!(is_write(
            &Method::POST,
            "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachineScaleSets/v/deallocate"
        ));
    }
}
