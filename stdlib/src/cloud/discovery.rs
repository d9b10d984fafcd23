//! Finding the tenant behind an authority that was given only as a URL (an emulator
//! served elsewhere): read its OpenID configuration, and when that names no tenant, ask
//! it for a token and read the token's `tid`. And where a served emulator's DNS server
//! listens.

use crate::cloud::auth::{Credential, TokenCache};
use crate::cloud::http::{transport_error, HttpClient, RetryPolicy};
use crate::cloud::{endpoints, EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET};
use crate::error::{ModuleError, Result};
use crate::secret::Secret;
use base64::Engine as _;
use reqwest::Method;
use serde_json::Value;
use std::time::Duration;
use url::Url;

/// A client for discovery requests: one that cannot connect should say so quickly, not
/// retry for minutes.
fn quick_client(extra_roots_pem: &[Vec<u8>]) -> Result<HttpClient> {
    let retry = RetryPolicy {
        max_attempts: 2,
        base_delay: Duration::from_millis(200),
        max_delay: Duration::from_secs(1),
        deadline: Duration::from_secs(10),
    };
    HttpClient::build(extra_roots_pem, retry, Duration::from_secs(10))
}

/// The tenant id of the authority at `base`, from the issuer in its standard
/// `common/v2.0/.well-known/openid-configuration` document.
pub async fn discover_tenant(base: &Url, extra_roots_pem: &[Vec<u8>]) -> Result<String> {
    let http = quick_client(extra_roots_pem)?;
    let doc = base
        .join("common/v2.0/.well-known/openid-configuration")
        .map_err(|e| ModuleError::validation(format!("bad authority URL {base}: {e}")))?;
    let resp = http
        .send(&Method::GET, || http.request(Method::GET, doc.clone()))
        .await
        .map_err(|e| {
            let mut e = e;
            e.message = format!("cannot reach {base}: {}", e.message);
            e
        })?;
    let status = resp.status();
    if !status.is_success() {
        return Err(ModuleError::remote(format!(
            "{doc} answered HTTP {status}; is {base} a comgmt emulator?"
        )));
    }
    let bytes = resp.bytes().await.map_err(|e| transport_error(&e))?;
    let v: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ModuleError::remote(format!("{doc} is not JSON: {e}")))?;
    let issuer = v
        .get("issuer")
        .and_then(Value::as_str)
        .ok_or_else(|| ModuleError::remote(format!("{doc} has no `issuer`")))?;
    if let Some(tid) = tenant_from_issuer(issuer) {
        return Ok(tid);
    }
    // A faithful `common` document has the `{tenantid}` template as its issuer: ask for
    // a token instead and read its standard `tid` claim.
    tenant_from_token(http, base).await.map_err(|mut e| {
        e.message = format!(
            "cannot find the tenant id at {base}: issuer `{issuer}`; {}",
            e.message
        );
        e
    })
}

/// Where a served comgmt emulator's DNS server listens (`GET /_emulator/dns`), so name
/// checks ask it rather than the machine's resolver. `None` when the emulator has no
/// such route (an older build).
pub async fn discover_dns(
    base: &Url,
    extra_roots_pem: &[Vec<u8>],
) -> Result<Option<std::net::SocketAddr>> {
    let http = quick_client(extra_roots_pem)?;
    let url = base
        .join("_emulator/dns")
        .map_err(|e| ModuleError::validation(format!("bad emulator URL {base}: {e}")))?;
    let resp = http
        .send(&Method::GET, || http.request(Method::GET, url.clone()))
        .await?;
    if resp.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !resp.status().is_success() {
        return Err(ModuleError::remote(format!(
            "{url} answered HTTP {}",
            resp.status()
        )));
    }
    let bytes = resp.bytes().await.map_err(|e| transport_error(&e))?;
    let v: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ModuleError::remote(format!("{url} is not JSON: {e}")))?;
    let address = v
        .get("address")
        .and_then(Value::as_str)
        .ok_or_else(|| ModuleError::remote(format!("{url} has no `address`")))?;
    crate::cloud::dns::parse_server(address).map(Some)
}

/// A Graph token from the emulator's client-credentials flow, and its `tid` claim.
async fn tenant_from_token(http: HttpClient, base: &Url) -> Result<String> {
    let tokens = TokenCache::new(
        http,
        base.clone(),
        "common".into(),
        Credential::ClientSecret {
            client_id: EMULATOR_CLIENT_ID.into(),
            secret: Secret::new(EMULATOR_CLIENT_SECRET),
        },
    );
    let token = tokens
        .token(&endpoints::scope_for(endpoints::GRAPH_RESOURCE))
        .await?;
    tid_claim(token.expose())
}

/// The `tid` claim of a JWT, read without verifying it: this only tells which tenant
/// the authority issued it for.
fn tid_claim(jwt: &str) -> Result<String> {
    let not_jwt = || ModuleError::remote("the access token is not a JWT");
    let payload = jwt.split('.').nth(1).ok_or_else(not_jwt)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| not_jwt())?;
    let claims: Value = serde_json::from_slice(&bytes).map_err(|_| not_jwt())?;
    claims
        .get("tid")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| ModuleError::remote("the access token has no `tid` claim"))
}

/// `https://login.microsoftonline.com/{tid}/v2.0` -> `{tid}`.
pub fn tenant_from_issuer(issuer: &str) -> Option<String> {
    let url = Url::parse(issuer).ok()?;
    let segs: Vec<&str> = url.path_segments()?.filter(|s| !s.is_empty()).collect();
    let tid = match segs.iter().position(|s| *s == "v2.0") {
        Some(i) if i > 0 => segs[i - 1],
        _ => *segs.last()?,
    };
    let templated = tid.contains('{') || tid.to_ascii_lowercase().contains("%7b");
    (!tid.is_empty() && !templated).then(|| tid.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_come_from_issuers() {
        assert_eq!(
            tenant_from_issuer("https://login.microsoftonline.com/abc-123/v2.0").as_deref(),
            Some("abc-123")
        );
        assert_eq!(
            tenant_from_issuer("http://127.0.0.1:4000/t1/v2.0/").as_deref(),
            Some("t1")
        );
        assert_eq!(
            tenant_from_issuer("https://login.microsoftonline.com/{tenantid}/v2.0"),
            None
        );
        assert_eq!(tenant_from_issuer("nope"), None);
    }

    #[test]
    fn tid_comes_from_the_payload() {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let jwt = format!("{}.{}.sig", b64("{}"), b64(r#"{"tid":"t-9"}"#));
        assert_eq!(tid_claim(&jwt).unwrap(), "t-9");
        assert!(tid_claim("opaque").is_err());
        assert!(tid_claim(&format!("x.{}.y", b64("{}"))).is_err());
    }
}
