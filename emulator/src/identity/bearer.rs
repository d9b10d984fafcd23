//! The one bearer-token check every API surface uses: signed by this tenant, unexpired,
//! an access token (not a refresh or id token), and for one of the audiences the surface
//! accepts. Each surface turns a [`BearerProblem`] into its own error body.

use crate::app::AppState;
use crate::graph::str_of;
use axum::http::HeaderMap;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BearerProblem {
    /// No `Authorization` header, or `Bearer` with nothing after it.
    Missing,
    /// A scheme other than `Bearer`, or not a compact JWT.
    Malformed,
    /// Not signed with this tenant's key.
    BadSignature,
    Expired,
    /// Issued for another tenant, or not an access token.
    WrongIssuer,
    /// A valid token for another resource; carries the audience it has.
    WrongAudience(String),
}

/// The token's claims when it is good for one of `audiences`. Audiences compare
/// case-insensitively and with or without a trailing slash.
pub fn check_bearer(
    st: &AppState,
    headers: &HeaderMap,
    audiences: &[&str],
) -> Result<Value, BearerProblem> {
    let raw = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .trim();
    let token = match raw.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => t.trim(),
        _ if raw.is_empty() || raw.eq_ignore_ascii_case("bearer") => "",
        _ => return Err(BearerProblem::Malformed),
    };
    if token.is_empty() {
        return Err(BearerProblem::Missing);
    }
    let claims = st
        .tenant
        .signer
        .verify(token, crate::util::now().unix_timestamp())
        .map_err(|p| match p {
            super::tokens::TokenProblem::Malformed => BearerProblem::Malformed,
            super::tokens::TokenProblem::BadSignature => BearerProblem::BadSignature,
            super::tokens::TokenProblem::Expired => BearerProblem::Expired,
        })?;
    // Refresh tokens carry `typ`; id tokens have a v2.0 issuer and no `idtyp`/`scp`/`roles`
    // — neither is an access token.
    if str_of(&claims, "tid") != st.tenant.id || claims.get("typ").is_some() {
        return Err(BearerProblem::WrongIssuer);
    }
    let aud = str_of(&claims, "aud");
    if audience_in(aud, audiences) {
        Ok(claims)
    } else {
        Err(BearerProblem::WrongAudience(aud.to_string()))
    }
}

/// Whether `aud` is one of `audiences`, ignoring case and a trailing slash.
pub fn audience_in(aud: &str, audiences: &[&str]) -> bool {
    let aud = aud.trim_end_matches('/');
    !aud.is_empty()
        && audiences
            .iter()
            .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(aud))
}

/// The emulator's own base URL as an audience, with and without its port: kiota derives
/// the scope `https://127.0.0.1/.default` from a request URL and drops the port.
pub fn own_base_audiences(base: &str) -> Vec<String> {
    let mut out = vec![base.trim_end_matches('/').to_string()];
    if let Ok(u) = url::Url::parse(base) {
        if let Some(host) = u.host_str() {
            out.push(format!("{}://{host}", u.scheme()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audiences_ignore_case_and_trailing_slash() {
        let arm = [
            "https://management.azure.com",
            "https://management.core.windows.net",
        ];
        assert!(audience_in("https://management.core.windows.net/", &arm));
        assert!(audience_in("HTTPS://management.azure.com", &arm));
        assert!(!audience_in("https://graph.microsoft.com", &arm));
        assert!(!audience_in("", &arm));
        assert_eq!(
            own_base_audiences("http://127.0.0.1:4000/"),
            vec!["http://127.0.0.1:4000", "http://127.0.0.1"]
        );
    }
}
