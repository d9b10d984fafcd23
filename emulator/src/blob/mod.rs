//! Blob upload as Intune's LOB app upload uses it: a SAS URL per blob, then
//! `PUT ?comp=block&blockid=…` for each chunk and `PUT ?comp=blocklist` to commit (or one
//! `PUT` with `x-ms-blob-type: BlockBlob`), and `GET` to read it back. Errors are Azure
//! Storage's XML `<Error><Code>…</Code><Message>…</Message></Error>` with
//! `x-ms-error-code`.
//! Source: Azure/azure-rest-api-specs:specification/storage/data-plane/Microsoft.BlobStorage/stable/2021-12-02/blob.json
//! (BlockBlob_StageBlock, BlockBlob_CommitBlockList, BlockBlob_Upload: 201 Created);
//! microsoftgraph/powershell-intune-samples:LOB_Application/Application_LOB_Add.ps1
//! (the upload sequence); api-surface §0.1 (SAS in the URL).

mod sas;
mod store;

pub use sas::sas_url;

use crate::app::{AppState, Shared};
use crate::faults::{FaultLayer, Faults};
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

/// The storage service version the emulator answers as.
const VERSION: &str = "2021-12-02";
/// Largest block or single-shot blob accepted (Azure's limit is far higher; an Intune
/// upload sends 6 MiB chunks).
const BODY_LIMIT: usize = 64 * 1024 * 1024;

pub fn router(faults: Option<Arc<Faults>>) -> Router<Shared> {
    Router::new()
        .route("/blob/{container}/{*blob}", get(read).put(write))
        .layer(axum::middleware::from_fn_with_state(
            FaultLayer {
                faults,
                render: render_fault,
            },
            crate::faults::middleware,
        ))
}

/// A storage error as the service sends it.
#[derive(Debug, Clone)]
pub struct BlobError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl BlobError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        BlobError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn render(&self) -> Response {
        let request_id = crate::util::new_guid();
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{}</Code><Message>{}\nRequestId:{request_id}\nTime:{}</Message></Error>",
            self.code,
            xml_escape(&self.message),
            crate::util::now_iso_millis()
        );
        let mut resp = (self.status, body).into_response();
        let h = resp.headers_mut();
        h.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        );
        h.insert("x-ms-error-code", HeaderValue::from_static(self.code));
        stamp(h, &request_id);
        resp
    }
}

impl From<crate::store::StoreError> for BlobError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::error!(error = %e.0, "emulator state");
        BlobError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "The emulator could not access its state.",
        )
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn stamp(h: &mut HeaderMap, request_id: &str) {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-ms-request-id", v);
    }
    h.insert("x-ms-version", HeaderValue::from_static(VERSION));
}

/// Storage throttles with 503 `ServerBusy` (and the fault's own status otherwise).
fn render_fault(status: StatusCode, retry_after: Option<u64>, _req: &Request) -> Response {
    let (code, message) = match status {
        StatusCode::GATEWAY_TIMEOUT => (
            "OperationTimedOut",
            "The operation could not be completed within the permitted time.",
        ),
        _ => ("ServerBusy", "The server is busy."),
    };
    let mut resp = BlobError::new(status, code, message).render();
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert("Retry-After", HeaderValue::from(secs));
    }
    resp
}

fn created(extra: &[(&'static str, String)]) -> Response {
    let mut resp = StatusCode::CREATED.into_response();
    let h = resp.headers_mut();
    stamp(h, &crate::util::new_guid());
    h.insert(
        "x-ms-request-server-encrypted",
        HeaderValue::from_static("true"),
    );
    for (k, v) in extra {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(*k, v);
        }
    }
    resp
}

async fn write(
    State(st): State<Shared>,
    Path((container, blob)): Path<(String, String)>,
    uri: Uri,
    req: Request,
) -> Response {
    let headers = req.headers().clone();
    let body = match axum::body::to_bytes(req.into_body(), BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            return BlobError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestBodyTooLarge",
                "The request body is too large and exceeds the maximum permissible limit.",
            )
            .render()
        }
    };
    put(&st, &container, &blob, &uri, &headers, &body).unwrap_or_else(|e| e.render())
}

fn put(
    st: &AppState,
    container: &str,
    blob: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, BlobError> {
    let q = crate::odata::Query::parse(uri.query());
    sas::check(st, &q, container, blob, 'w')?;
    match q.get("comp") {
        Some("block") => {
            let id = q.get("blockid").unwrap_or_default();
            store::stage_block(st, container, blob, id, body)?;
            Ok(created(&[]))
        }
        Some("blocklist") => {
            let ids = store::parse_block_list(body)?;
            let etag = store::commit(st, container, blob, &ids)?;
            Ok(created(&[("ETag", etag)]))
        }
        Some(other) => Err(BlobError::new(
            StatusCode::BAD_REQUEST,
            "InvalidQueryParameterValue",
            format!("Value for one of the query parameters specified in the request URI is invalid: comp={other}."),
        )),
        None => {
            let blob_type = headers
                .get("x-ms-blob-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if blob_type != "BlockBlob" {
                return Err(BlobError::new(
                    StatusCode::BAD_REQUEST,
                    "MissingRequiredHeader",
                    "An HTTP header that's mandatory for this request is not specified: x-ms-blob-type.",
                ));
            }
            let etag = store::put_whole(st, container, blob, body)?;
            Ok(created(&[("ETag", etag)]))
        }
    }
}

async fn read(
    State(st): State<Shared>,
    Path((container, blob)): Path<(String, String)>,
    uri: Uri,
) -> Response {
    let q = crate::odata::Query::parse(uri.query());
    let found = sas::check(&st, &q, &container, &blob, 'r')
        .and_then(|_| store::read(&st, &container, &blob));
    match found {
        Ok((content, etag)) => {
            let mut resp = (StatusCode::OK, content).into_response();
            let h = resp.headers_mut();
            stamp(h, &crate::util::new_guid());
            h.insert("x-ms-blob-type", HeaderValue::from_static("BlockBlob"));
            if let Ok(v) = HeaderValue::from_str(&etag) {
                h.insert("ETag", v);
            }
            resp
        }
        Err(e) => e.render(),
    }
}
