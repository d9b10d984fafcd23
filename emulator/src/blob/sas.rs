//! Shared access signatures for the emulator's blobs. The signature is an HMAC-SHA256,
//! keyed by a per-state secret, over the permissions, expiry and path — the same idea as
//! Azure's service SAS (`sv`, `sr`, `sp`, `se`, `sig`), not its exact string-to-sign.

use super::BlobError;
use crate::app::AppState;
use crate::odata::Query;
use aws_lc_rs::hmac;
use axum::http::StatusCode;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::Rng;

const SV: &str = "2021-12-02";

fn key(st: &AppState) -> Result<hmac::Key, BlobError> {
    let raw = st.store.write(|db| {
        if let Some(k) = db.meta("blob_sas_key")? {
            return Ok::<_, crate::store::StoreError>(k);
        }
        let mut bytes = [0u8; 32];
        rand::rng().fill(&mut bytes);
        let k = STANDARD.encode(bytes);
        db.set_meta("blob_sas_key", &k)?;
        Ok(k)
    })?;
    let bytes = STANDARD.decode(raw).unwrap_or_default();
    Ok(hmac::Key::new(hmac::HMAC_SHA256, &bytes))
}

fn string_to_sign(sp: &str, se: &str, container: &str, blob: &str) -> String {
    format!("{sp}\n{se}\n/blob/{container}/{blob}\n{SV}\nb")
}

/// A SAS URL for one blob: `{base}blob/{container}/{blob}?sv=…&sr=b&sp=…&se=…&sig=…`.
pub fn sas_url(
    st: &AppState,
    base: &str,
    container: &str,
    blob: &str,
    permissions: &str,
    minutes: i64,
) -> Result<String, BlobError> {
    let se = crate::util::iso(crate::util::now() + time::Duration::minutes(minutes));
    let sig = STANDARD.encode(
        hmac::sign(
            &key(st)?,
            string_to_sign(permissions, &se, container, blob).as_bytes(),
        )
        .as_ref(),
    );
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    Ok(format!(
        "{base}blob/{container}/{blob}?sv={SV}&sr=b&sp={}&se={}&sig={}",
        enc(permissions),
        enc(&se),
        enc(&sig)
    ))
}

fn denied(detail: &str) -> BlobError {
    BlobError::new(
        StatusCode::FORBIDDEN,
        "AuthenticationFailed",
        format!("Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature. {detail}"),
    )
}

/// Check the request's SAS for `permission` (`r` or `w`) on this blob.
pub fn check(
    st: &AppState,
    q: &Query,
    container: &str,
    blob: &str,
    permission: char,
) -> Result<(), BlobError> {
    let (Some(sp), Some(se), Some(sig)) = (q.get("sp"), q.get("se"), q.get("sig")) else {
        return Err(BlobError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            "The specified resource does not exist.",
        ));
    };
    let given = STANDARD
        .decode(sig)
        .map_err(|_| denied("Signature did not match."))?;
    hmac::verify(
        &key(st)?,
        string_to_sign(sp, se, container, blob).as_bytes(),
        &given,
    )
    .map_err(|_| denied("Signature did not match."))?;
    match crate::util::parse_iso(se) {
        Some(t) if t > crate::util::now() => {}
        _ => return Err(denied("Signed expiry time has passed.")),
    }
    if !sp.contains(permission) {
        return Err(BlobError::new(
            StatusCode::FORBIDDEN,
            "AuthorizationPermissionMismatch",
            "This request is not authorized to perform this operation using this permission.",
        ));
    }
    Ok(())
}
