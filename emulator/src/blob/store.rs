//! Staged blocks and committed blobs, kept in the emulator's state.

use super::BlobError;
use crate::app::AppState;
use axum::body::Bytes;
use axum::http::StatusCode;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;

const BLOCKS: &str = "blobBlocks";
const BLOBS: &str = "blobs";

fn blob_key(container: &str, blob: &str) -> String {
    format!("{container}/{blob}")
}

fn block_key(container: &str, blob: &str, id: &str) -> String {
    format!("{container}/{blob}#{id}")
}

fn invalid_block_id() -> BlobError {
    BlobError::new(
        StatusCode::BAD_REQUEST,
        "InvalidQueryParameterValue",
        "Value for one of the query parameters specified in the request URI is invalid: blockid.",
    )
}

fn etag(content: &[u8]) -> String {
    format!("\"0x{}\"", &crate::util::sha256_b64url(content)[..16])
}

/// Stage one block. Block ids are base64 of at most 64 bytes, and every block of a
/// blob has an id of the same length (BlockBlob_StageBlock in blob.json).
pub fn stage_block(
    st: &AppState,
    container: &str,
    blob: &str,
    id: &str,
    body: &Bytes,
) -> Result<(), BlobError> {
    match STANDARD.decode(id) {
        Ok(raw) if !raw.is_empty() && raw.len() <= 64 => {}
        _ => return Err(invalid_block_id()),
    }
    let prefix = format!("{container}/{blob}#");
    st.store.write(|db| {
        let same_length = db.list(BLOCKS)?.iter().all(|r| {
            let k = crate::graph::str_of(&r.doc, "key");
            !k.starts_with(&prefix) || k.len() - prefix.len() == id.len()
        });
        if !same_length {
            return Err(BlobError::new(
                StatusCode::BAD_REQUEST,
                "InvalidBlobOrBlock",
                "The specified blob or block content is invalid.",
            ));
        }
        let k = block_key(container, blob, id);
        let doc = json!({"key": k, "data": STANDARD.encode(body)});
        if db.get(BLOCKS, &k)?.is_some() {
            db.update(BLOCKS, &k, &doc)?;
        } else {
            db.insert(BLOCKS, &k, &doc)?;
        }
        Ok(())
    })
}

/// The block ids of a `<BlockList>` body, in order (`Latest`, `Uncommitted` and
/// `Committed` all name staged blocks here).
pub fn parse_block_list(body: &Bytes) -> Result<Vec<String>, BlobError> {
    let text = std::str::from_utf8(body).map_err(|_| invalid_xml())?;
    if !text.contains("<BlockList>") {
        return Err(invalid_xml());
    }
    let mut ids = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else { break };
        let tag = &after[..close];
        let inner = &after[close + 1..];
        if matches!(tag, "Latest" | "Uncommitted" | "Committed") {
            let end = inner.find(&format!("</{tag}>")).ok_or_else(invalid_xml)?;
            ids.push(inner[..end].trim().to_string());
            rest = &inner[end..];
        } else {
            rest = inner;
        }
    }
    Ok(ids)
}

fn invalid_xml() -> BlobError {
    BlobError::new(
        StatusCode::BAD_REQUEST,
        "InvalidXmlDocument",
        "XML specified is not syntactically valid.",
    )
}

/// Commit the listed blocks as the blob's content; returns its ETag.
pub fn commit(
    st: &AppState,
    container: &str,
    blob: &str,
    ids: &[String],
) -> Result<String, BlobError> {
    st.store.write(|db| {
        let mut content = Vec::new();
        for id in ids {
            let doc = db
                .get(BLOCKS, &block_key(container, blob, id))?
                .ok_or_else(|| {
                    BlobError::new(
                        StatusCode::BAD_REQUEST,
                        "InvalidBlockList",
                        "The specified block list is invalid.",
                    )
                })?;
            let data = STANDARD
                .decode(crate::graph::str_of(&doc, "data"))
                .unwrap_or_default();
            content.extend(data);
        }
        // Uncommitted blocks are discarded once a list is committed.
        let prefix = format!("{container}/{blob}#");
        for r in db.list(BLOCKS)? {
            let k = crate::graph::str_of(&r.doc, "key").to_string();
            if k.starts_with(&prefix) {
                db.delete(BLOCKS, &k)?;
            }
        }
        save(db, container, blob, &content)
    })
}

/// A single-shot `Put Blob`.
pub fn put_whole(
    st: &AppState,
    container: &str,
    blob: &str,
    body: &Bytes,
) -> Result<String, BlobError> {
    st.store.write(|db| save(db, container, blob, body))
}

fn save(
    db: &crate::store::Db<'_>,
    container: &str,
    blob: &str,
    content: &[u8],
) -> Result<String, BlobError> {
    let k = blob_key(container, blob);
    let tag = etag(content);
    let doc = json!({
        "key": k,
        "data": STANDARD.encode(content),
        "length": content.len(),
        "etag": tag,
        "lastModified": crate::util::now_iso(),
    });
    if db.get(BLOBS, &k)?.is_some() {
        db.update(BLOBS, &k, &doc)?;
    } else {
        db.insert(BLOBS, &k, &doc)?;
    }
    Ok(tag)
}

/// A committed blob's content and ETag.
pub fn read(st: &AppState, container: &str, blob: &str) -> Result<(Vec<u8>, String), BlobError> {
    let doc = st
        .store
        .read(|db| db.get(BLOBS, &blob_key(container, blob)))?
        .ok_or_else(|| {
            BlobError::new(
                StatusCode::NOT_FOUND,
                "BlobNotFound",
                "The specified blob does not exist.",
            )
        })?;
    let data = STANDARD
        .decode(crate::graph::str_of(&doc, "data"))
        .unwrap_or_default();
    Ok((data, crate::graph::str_of(&doc, "etag").to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_lists() {
        let body = Bytes::from_static(
            b"<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><Latest>QUFB</Latest><Uncommitted> QkJC </Uncommitted></BlockList>",
        );
        assert_eq!(parse_block_list(&body).unwrap(), ["QUFB", "QkJC"]);
        assert!(parse_block_list(&Bytes::from_static(b"nope")).is_err());
        assert!(parse_block_list(&Bytes::from_static(b"<BlockList><Latest>x")).is_err());
    }
}
