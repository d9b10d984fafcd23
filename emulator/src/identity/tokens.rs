//! Access and refresh tokens: compact JWTs signed with the tenant's HMAC key, so they
//! survive an emulator restart on the same state file and need no token table.

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

/// Lifetime Entra gives access tokens by default, in seconds (as in `expires_in`).
pub const ACCESS_TOKEN_SECONDS: i64 = 3599;
/// How long a refresh token stays usable.
pub const REFRESH_TOKEN_SECONDS: i64 = 90 * 24 * 3600;

#[derive(Debug, PartialEq, Eq)]
pub enum TokenProblem {
    Malformed,
    BadSignature,
    Expired,
}

pub fn mint(key: &[u8], claims: &Value) -> String {
    let header = json!({"typ": "JWT", "alg": "HS256", "kid": "comgmt-emulator"});
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, key),
        signing_input.as_bytes(),
    );
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// Check signature and lifetime; return the claims.
pub fn verify(key: &[u8], token: &str, now: i64) -> Result<Value, TokenProblem> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenProblem::Malformed);
    };
    let sig = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| TokenProblem::Malformed)?;
    let signing_input = format!("{h}.{c}");
    hmac::verify(
        &hmac::Key::new(hmac::HMAC_SHA256, key),
        signing_input.as_bytes(),
        &sig,
    )
    .map_err(|_| TokenProblem::BadSignature)?;
    let claims: Value = URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(TokenProblem::Malformed)?;
    match claims.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp > now => Ok(claims),
        Some(_) => Err(TokenProblem::Expired),
        None => Err(TokenProblem::Malformed),
    }
}

/// Decode a JWT's header and claims without checking anything (client assertions).
pub fn decode_unverified(token: &str) -> Option<(Value, Value, String, Vec<u8>)> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    // Some clients (azure-identity's async certificate credential) pad each part with
    // `=`; Entra accepts that, and the signature is checked over the parts as sent.
    let b64 = |part: &str| URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok();
    let header = serde_json::from_slice(&b64(h)?).ok()?;
    let claims = serde_json::from_slice(&b64(c)?).ok()?;
    let sig = b64(s)?;
    Some((header, claims, format!("{h}.{c}"), sig))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_failures() {
        let key = b"0123456789abcdef0123456789abcdef";
        let t = mint(key, &json!({"exp": 100, "aud": "x"}));
        assert_eq!(verify(key, &t, 50).unwrap()["aud"], "x");
        assert_eq!(verify(key, &t, 100), Err(TokenProblem::Expired));
        assert_eq!(verify(b"other", &t, 50), Err(TokenProblem::BadSignature));
        assert_eq!(verify(key, "abc", 50), Err(TokenProblem::Malformed));
        assert_eq!(verify(key, "a.b.c", 50), Err(TokenProblem::Malformed));
        assert!(decode_unverified(&t).is_some());
    }
}
