//! Azure Storage block upload to a SAS URL (the `azureStorageUri` Intune hands out for an
//! app's content file): Put Block per chunk, then Put Block List to commit them.
//!
//! The SAS query is the credential. It never appears in a log line or an error: both
//! name the blob by scheme, host and path only (`http::redact`).

use crate::cloud::channel::{Channel, Payload};
use crate::cloud::http::redact;
use crate::error::{ErrorKind, ModuleError, Result};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use url::Url;

/// The Storage REST version sent as `x-ms-version`.
pub const STORAGE_VERSION: &str = "2023-11-03";
/// Digits in a block id before base64; all ids of one blob must have the same length.
pub const BLOCK_ID_DIGITS: usize = 6;

pub struct Blob {
    ch: Channel,
}

/// The base64 block id of the `index`th block: the zero-padded decimal index, as the
/// Intune samples make it, so every id of a blob has the same length.
pub fn block_id(index: usize) -> Result<String> {
    let digits = format!("{index:0width$}", width = BLOCK_ID_DIGITS);
    if digits.len() != BLOCK_ID_DIGITS {
        return Err(ModuleError::validation(format!(
            "a blob holds at most {} blocks",
            10usize.pow(BLOCK_ID_DIGITS as u32)
        )));
    }
    Ok(B64.encode(digits))
}

/// The Put Block List body committing `ids` in order, each as its latest version.
pub fn block_list_xml(ids: &[String]) -> String {
    let mut s = String::from(r#"<?xml version="1.0" encoding="utf-8"?><BlockList>"#);
    for id in ids {
        // Base64 has no XML metacharacters; escaping is for ids made elsewhere.
        s.push_str("<Latest>");
        s.push_str(&xml_escape(id));
        s.push_str("</Latest>");
    }
    s.push_str("</BlockList>");
    s
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Storage wants base64 ids of at most 64 bytes decoded.
fn check_block_id(id: &str) -> Result<()> {
    match B64.decode(id) {
        Ok(raw) if !raw.is_empty() && raw.len() <= 64 => Ok(()),
        _ => Err(ModuleError::validation(format!(
            "block id `{id}` is not base64 of 1 to 64 bytes"
        ))),
    }
}

impl Blob {
    pub(crate) fn from_channel(ch: Channel) -> Self {
        Blob { ch }
    }

    /// Upload one block of a block blob (`PUT {sas}&comp=block&blockid={id}`).
    pub async fn put_block(&self, sas_url: &Url, block_id: &str, bytes: &[u8]) -> Result<()> {
        check_block_id(block_id)?;
        let mut url = sas_url.clone();
        url.query_pairs_mut()
            .append_pair("comp", "block")
            .append_pair("blockid", block_id);
        self.put(
            &url,
            sas_url,
            Payload::Bytes {
                data: bytes,
                content_type: "application/octet-stream",
            },
            &[("x-ms-blob-type", "BlockBlob")],
        )
        .await
    }

    /// Commit the uploaded blocks, in order (`PUT {sas}&comp=blocklist`).
    pub async fn put_block_list(&self, sas_url: &Url, ids: &[String]) -> Result<()> {
        if ids.is_empty() {
            return Err(ModuleError::validation(
                "a block list needs at least one block",
            ));
        }
        for id in ids {
            check_block_id(id)?;
        }
        if ids.iter().any(|id| id.len() != ids[0].len()) {
            return Err(ModuleError::validation(
                "the block ids of one blob must all have the same length",
            ));
        }
        let mut url = sas_url.clone();
        url.query_pairs_mut().append_pair("comp", "blocklist");
        let xml = block_list_xml(ids);
        self.put(
            &url,
            sas_url,
            Payload::Bytes {
                data: xml.as_bytes(),
                content_type: "application/xml",
            },
            &[],
        )
        .await
    }

    /// Upload `data` as blocks of `block_size` bytes (the Intune samples use 1–6 MiB),
    /// then commit them. Returns the number of blocks. A retried block overwrites
    /// itself, so re-running after a failure is safe.
    pub async fn upload(&self, sas_url: &Url, data: &[u8], block_size: usize) -> Result<usize> {
        if block_size == 0 {
            return Err(ModuleError::validation("the block size must be positive"));
        }
        if data.is_empty() {
            return Err(ModuleError::validation(
                "there is nothing to upload: the file is empty",
            ));
        }
        let mut ids = Vec::new();
        for (i, chunk) in data.chunks(block_size).enumerate() {
            let id = block_id(i)?;
            self.put_block(sas_url, &id, chunk).await?;
            ids.push(id);
        }
        self.put_block_list(sas_url, &ids).await?;
        Ok(ids.len())
    }

    async fn put(
        &self,
        url: &Url,
        sas_url: &Url,
        payload: Payload<'_>,
        headers: &[(&str, &str)],
    ) -> Result<()> {
        if sas_url.query().is_none_or(str::is_empty) {
            return Err(ModuleError::validation(format!(
                "{} has no shared access signature",
                redact(sas_url)
            )));
        }
        let mut all = vec![("x-ms-version", STORAGE_VERSION)];
        all.extend_from_slice(headers);
        let raw = self.ch.send(&Method::PUT, url, payload, &all).await?;
        if raw.status.is_success() {
            return Ok(());
        }
        let request_id = raw
            .header("x-ms-request-id")
            .or_else(|| Some(raw.client_request_id.clone()));
        let mut e = storage_error(raw.status, &raw.body, request_id, url);
        // A HEAD-like answer without a body still names its code in a header.
        if e.remote_code.is_none() {
            if let Some(code) = raw.header("x-ms-error-code") {
                e = storage_error(
                    raw.status,
                    format!("<Error><Code>{code}</Code></Error>").as_bytes(),
                    e.request_id,
                    url,
                );
            }
        }
        Err(e)
    }
}

/// Map Storage's `<Error><Code>…</Code><Message>…</Message></Error>`.
pub fn storage_error(
    status: StatusCode,
    body: &[u8],
    request_id: Option<String>,
    url: &Url,
) -> ModuleError {
    let text = String::from_utf8_lossy(body);
    let code = xml_text(&text, "Code");
    // Storage appends "RequestId:…\nTime:…" lines to the message; the id is kept apart.
    let message = xml_text(&text, "Message")
        .and_then(|m| m.lines().next().map(str::trim).map(str::to_string))
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
    let kind = match (status.as_u16(), code.as_deref()) {
        (403, Some("AuthenticationFailed")) => ErrorKind::Auth,
        (_, Some("InvalidBlockId" | "InvalidBlockList" | "InvalidQueryParameterValue")) => {
            ErrorKind::Validation
        }
        (400, _) => ErrorKind::Validation,
        (401, _) => ErrorKind::Auth,
        (403, _) => ErrorKind::Permission,
        (404, _) => ErrorKind::NotFound,
        (409 | 412, _) => ErrorKind::Conflict,
        (429, _) => ErrorKind::Throttled,
        _ => ErrorKind::Remote,
    };
    let hint = match (kind, code.as_deref()) {
        (ErrorKind::Permission, Some("AuthorizationPermissionMismatch")) => {
            Some("the upload URL does not allow writing; ask Intune for a new one (renewUpload)")
        }
        (ErrorKind::Auth | ErrorKind::Permission, _) => Some(
            "the upload URL's signature was refused; it may have expired: ask Intune for a new one (renewUpload)",
        ),
        _ => None,
    };
    ModuleError::from_service(
        kind,
        format!("Azure Storage PUT {}: {message}", redact(url)),
        code,
        status.as_u16(),
        request_id,
        hint.map(str::to_string),
    )
}

/// The text of the first `<tag>…</tag>`; Storage error bodies are this flat.
fn xml_text(doc: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = doc.find(&open)? + open.len();
    let end = doc[start..].find(&close)? + start;
    let raw = &doc[start..end];
    Some(
        raw.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_ids_are_base64_of_equal_length() {
        assert_eq!(block_id(0).unwrap(), B64.encode("000000"));
        assert_eq!(block_id(42).unwrap(), B64.encode("000042"));
        let ids: Vec<String> = [0, 9, 10, 999, 999_999]
            .iter()
            .map(|i| block_id(*i).unwrap())
            .collect();
        assert!(ids.iter().all(|i| i.len() == ids[0].len()));
        assert!(block_id(1_000_000).is_err());
        assert!(check_block_id(&ids[0]).is_ok());
        assert!(check_block_id("not base64!").is_err());
        assert!(check_block_id("").is_err());
    }

    #[test]
    fn block_list_xml_lists_latest_in_order() {
        let ids = vec![block_id(0).unwrap(), block_id(1).unwrap()];
        assert_eq!(
            block_list_xml(&ids),
            format!(
                r#"<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>{}</Latest><Latest>{}</Latest></BlockList>"#,
                ids[0], ids[1]
            )
        );
        assert!(block_list_xml(&["a<b".into()]).contains("<Latest>a&lt;b</Latest>"));
    }

    #[test]
    fn storage_errors_map_and_never_show_the_signature() {
        let url = Url::parse(
            "https://acct.blob.core.windows.net/c/file.bin?sv=2023-11-03&sig=SECRETSIG&comp=block",
        )
        .unwrap();
        let body = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.\nRequestId:abc\nTime:2026-01-01T00:00:00Z</Message><AuthenticationErrorDetail>Signature did not match. String to sign used was sig=SECRETSIG</AuthenticationErrorDetail></Error>";
        let e = storage_error(
            StatusCode::FORBIDDEN,
            body.as_bytes(),
            Some("abc".into()),
            &url,
        );
        assert_eq!(e.kind, ErrorKind::Auth);
        assert_eq!(e.remote_code.as_deref(), Some("AuthenticationFailed"));
        assert_eq!(
            e.message,
            "Azure Storage PUT https://acct.blob.core.windows.net/c/file.bin?…: Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature."
        );
        assert!(!format!("{e} {e:?}").contains("SECRETSIG"));
        let e = storage_error(
            StatusCode::BAD_REQUEST,
            b"<Error><Code>InvalidBlockList</Code><Message>The specified block list is invalid.</Message></Error>",
            None,
            &url,
        );
        assert_eq!(e.kind, ErrorKind::Validation);
        let e = storage_error(StatusCode::INTERNAL_SERVER_ERROR, b"", None, &url);
        assert_eq!(e.kind, ErrorKind::Remote);
        assert!(e.message.ends_with("HTTP 500"));
    }
}
