//! OAuth2 tokens from Entra ID (or the emulator), cached per scope.
//!
//! Three flows, each a plain form POST to the v2.0 token endpoint:
//! client secret (RFC 6749 §4.4), client certificate with a signed JWT assertion
//! (RFC 7523, as Entra documents it), and device code (RFC 8628). They are written here
//! rather than through the `oauth2` crate because Entra's error body (AADSTS codes,
//! trace ids) needs its own mapping, the requests must go through our retrying client,
//! and secrets must stay in our `Secret` type end to end.

use crate::cloud::http::HttpClient;
use crate::error::{ErrorKind, ModuleError, Result};
use crate::secret::Secret;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use reqwest::Method;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

/// How comgmt proves who it is.
#[derive(Clone)]
pub enum Credential {
    /// An app registration's client secret.
    ClientSecret { client_id: String, secret: Secret },
    /// An app registration's certificate, from a PFX file.
    ClientCertificate {
        client_id: String,
        pfx: PathBuf,
        password: Secret,
    },
    /// A person signs in on another device; `notify` shows the code and URL.
    DeviceCode {
        client_id: String,
        notify: Arc<dyn Fn(&str) + Send + Sync>,
    },
}

impl Credential {
    pub fn client_id(&self) -> &str {
        match self {
            Credential::ClientSecret { client_id, .. }
            | Credential::ClientCertificate { client_id, .. }
            | Credential::DeviceCode { client_id, .. } => client_id,
        }
    }
}

struct CachedToken {
    token: Secret,
    expires: Instant,
}

/// Tokens per scope. The lock is held across a fetch so concurrent callers wait for one
/// token instead of each starting a sign-in (matters for device code).
pub struct TokenCache {
    http: HttpClient,
    authority: Url,
    tenant: String,
    credential: Credential,
    cache: tokio::sync::Mutex<HashMap<String, CachedToken>>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize, Default)]
struct OAuthError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
    #[serde(default)]
    trace_id: Option<String>,
    #[serde(default)]
    correlation_id: Option<String>,
}

#[derive(Deserialize)]
struct DeviceCodeResponse {
    device_code: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    user_code: String,
    #[serde(default)]
    verification_uri: String,
    #[serde(default = "default_expires")]
    expires_in: u64,
    #[serde(default = "default_interval")]
    interval: u64,
}

fn default_expires() -> u64 {
    900
}
fn default_interval() -> u64 {
    5
}

/// Refresh this long before the token's stated expiry.
const EXPIRY_MARGIN: Duration = Duration::from_secs(120);

impl TokenCache {
    pub fn new(http: HttpClient, authority: Url, tenant: String, credential: Credential) -> Self {
        TokenCache {
            http,
            authority,
            tenant,
            credential,
            cache: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    fn endpoint(&self, leaf: &str) -> Result<Url> {
        self.authority
            .join(&format!("{}/oauth2/v2.0/{leaf}", self.tenant))
            .map_err(|e| ModuleError::validation(format!("bad authority URL: {e}")))
    }

    /// A bearer token for `scope` (e.g. `https://graph.microsoft.com/.default`).
    pub async fn token(&self, scope: &str) -> Result<Secret> {
        let mut cache = self.cache.lock().await;
        if let Some(t) = cache.get(scope) {
            if Instant::now() + EXPIRY_MARGIN < t.expires {
                return Ok(t.token.clone());
            }
        }
        let fetched = self.fetch(scope).await?;
        let lifetime = Duration::from_secs(fetched.expires_in.unwrap_or(3599));
        let token = Secret::new(fetched.access_token);
        cache.insert(
            scope.to_string(),
            CachedToken {
                token: token.clone(),
                expires: Instant::now() + lifetime,
            },
        );
        Ok(token)
    }

    /// Forget a scope's token, e.g. after a 401 from the resource.
    pub async fn invalidate(&self, scope: &str) {
        self.cache.lock().await.remove(scope);
    }

    async fn fetch(&self, scope: &str) -> Result<TokenResponse> {
        let url = self.endpoint("token")?;
        match &self.credential {
            Credential::ClientSecret { client_id, secret } => {
                let form = vec![
                    ("grant_type", "client_credentials".to_string()),
                    ("client_id", client_id.clone()),
                    ("client_secret", secret.expose().to_string()),
                    ("scope", scope.to_string()),
                ];
                self.post_token(&url, &form).await
            }
            Credential::ClientCertificate {
                client_id,
                pfx,
                password,
            } => {
                let assertion = client_assertion(client_id, &url, pfx, password)?;
                let form = vec![
                    ("grant_type", "client_credentials".to_string()),
                    ("client_id", client_id.clone()),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string(),
                    ),
                    ("client_assertion", assertion),
                    ("scope", scope.to_string()),
                ];
                self.post_token(&url, &form).await
            }
            Credential::DeviceCode { client_id, notify } => {
                self.device_code(client_id, scope, notify.as_ref()).await
            }
        }
    }

    async fn post_token(&self, url: &Url, form: &[(&str, String)]) -> Result<TokenResponse> {
        let (status, body) = self.post_form(url, form).await?;
        if status.is_success() {
            serde_json::from_slice(&body).map_err(|e| {
                ModuleError::auth(format!("the token endpoint sent an unreadable answer: {e}"))
            })
        } else {
            Err(oauth_error(
                status.as_u16(),
                &body,
                self.credential.client_id(),
            ))
        }
    }

    async fn post_form(
        &self,
        url: &Url,
        form: &[(&str, String)],
    ) -> Result<(reqwest::StatusCode, Vec<u8>)> {
        let resp = self
            .http
            .send(&Method::POST, || {
                self.http.request(Method::POST, url.clone()).form(form)
            })
            .await?;
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .map_err(|e| crate::cloud::http::transport_error(&e))?;
        Ok((status, body.to_vec()))
    }

    async fn device_code(
        &self,
        client_id: &str,
        scope: &str,
        notify: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<TokenResponse> {
        let url = self.endpoint("devicecode")?;
        let form = vec![
            ("client_id", client_id.to_string()),
            ("scope", format!("{scope} offline_access")),
        ];
        let (status, body) = self.post_form(&url, &form).await?;
        if !status.is_success() {
            return Err(oauth_error(status.as_u16(), &body, client_id));
        }
        let dc: DeviceCodeResponse = serde_json::from_slice(&body).map_err(|e| {
            ModuleError::auth(format!(
                "the device code endpoint sent an unreadable answer: {e}"
            ))
        })?;
        notify(&dc.message.clone().unwrap_or_else(|| {
            format!(
                "To sign in, open {} and enter the code {}.",
                dc.verification_uri, dc.user_code
            )
        }));
        let token_url = self.endpoint("token")?;
        let until = Instant::now() + Duration::from_secs(dc.expires_in);
        let mut interval = Duration::from_secs(dc.interval.max(1));
        loop {
            let form = vec![
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:device_code".to_string(),
                ),
                ("client_id", client_id.to_string()),
                ("device_code", dc.device_code.clone()),
            ];
            let (status, body) = self.post_form(&token_url, &form).await?;
            if status.is_success() {
                return serde_json::from_slice(&body).map_err(|e| {
                    ModuleError::auth(format!("the token endpoint sent an unreadable answer: {e}"))
                });
            }
            let err: OAuthError = serde_json::from_slice(&body).unwrap_or_default();
            match err.error.as_str() {
                "authorization_pending" => {}
                "slow_down" => interval += Duration::from_secs(5),
                _ => return Err(oauth_error(status.as_u16(), &body, client_id)),
            }
            if Instant::now() + interval > until {
                return Err(
                    ModuleError::auth("the device code expired before sign-in finished")
                        .with_hint("run again and complete the sign-in within the time shown"),
                );
            }
            tokio::time::sleep(interval).await;
        }
    }
}

/// Map Entra's OAuth error body to a typed error with a hint for the common cases.
fn oauth_error(status: u16, body: &[u8], client_id: &str) -> ModuleError {
    let e: OAuthError = serde_json::from_slice(body).unwrap_or_default();
    let first_line = e.error_description.lines().next().unwrap_or("").trim();
    let message = if first_line.is_empty() {
        format!("sign-in failed with HTTP {status}")
    } else {
        format!("sign-in failed: {first_line}")
    };
    let hint = match e.error.as_str() {
        "invalid_client" => Some(format!(
            "check the client secret or certificate of app {client_id}, and that it has not expired"
        )),
        "unauthorized_client" => Some(format!(
            "app {client_id} is not allowed this flow; for device code, enable 'Allow public client flows'"
        )),
        "invalid_request" if first_line.contains("AADSTS90002") => {
            Some("the tenant was not found; check the profile's tenant".to_string())
        }
        "expired_token" => Some("the device code expired; run again".to_string()),
        "authorization_declined" => Some("the sign-in was declined".to_string()),
        _ => None,
    };
    let mut err = ModuleError::new(ErrorKind::Auth, message);
    err.remote_code = (!e.error.is_empty()).then_some(e.error);
    err.status = Some(status);
    err.request_id = e.trace_id.or(e.correlation_id);
    err.hint = hint;
    err
}

/// The signed JWT Entra accepts in place of a client secret.
fn client_assertion(
    client_id: &str,
    token_url: &Url,
    pfx: &PathBuf,
    password: &Secret,
) -> Result<String> {
    let bytes = std::fs::read(pfx).map_err(|e| ModuleError::io_at("read", pfx, &e))?;
    let store = p12_keystore::KeyStore::from_pkcs12(
        &bytes,
        password.expose(),
        p12_keystore::Pkcs12ImportPolicy::Relaxed,
    )
    .map_err(|_| {
        ModuleError::auth(format!(
            "cannot open {}: wrong password or not a PFX file",
            pfx.display()
        ))
    })?;
    let (_, chain) = store
        .private_key_chain()
        .ok_or_else(|| ModuleError::auth(format!("{} holds no private key", pfx.display())))?;
    let cert_der = chain
        .certs()
        .first()
        .map(|c| c.as_der().to_vec())
        .ok_or_else(|| ModuleError::auth(format!("{} holds no certificate", pfx.display())))?;
    let key = aws_lc_rs::rsa::KeyPair::from_pkcs8(chain.key().as_der()).map_err(|_| {
        ModuleError::auth(format!("the key in {} is not an RSA key", pfx.display()))
    })?;
    use sha1::Digest as _;
    let x5t = B64URL.encode(sha1::Sha1::digest(&cert_der));
    let x5t256 = B64URL.encode(sha2::Sha256::digest(&cert_der));
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5t": x5t, "x5t#S256": x5t256});
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = serde_json::json!({
        "aud": token_url.as_str(),
        "iss": client_id,
        "sub": client_id,
        "jti": uuid::Uuid::new_v4().to_string(),
        "nbf": now,
        "iat": now,
        "exp": now + 600,
    });
    let signing_input = format!(
        "{}.{}",
        B64URL.encode(header.to_string()),
        B64URL.encode(claims.to_string())
    );
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let mut sig = vec![0u8; key.public_modulus_len()];
    key.sign(
        &aws_lc_rs::signature::RSA_PKCS1_SHA256,
        &rng,
        signing_input.as_bytes(),
        &mut sig,
    )
    .map_err(|_| ModuleError::auth("cannot sign the client assertion"))?;
    Ok(format!("{signing_input}.{}", B64URL.encode(sig)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_entra_errors() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x","trace_id":"t-1"}"#;
        let e = oauth_error(401, body, "app-1");
        assert_eq!(e.kind, ErrorKind::Auth);
        assert_eq!(e.remote_code.as_deref(), Some("invalid_client"));
        assert_eq!(e.request_id.as_deref(), Some("t-1"));
        assert!(e.message.contains("AADSTS7000215"));
        assert!(!e.message.contains("Trace ID"));
        assert!(e.hint.unwrap().contains("app-1"));
    }

    #[test]
    fn unreadable_error_body_still_maps() {
        let e = oauth_error(500, b"<html>", "a");
        assert_eq!(e.message, "sign-in failed with HTTP 500");
    }
}
