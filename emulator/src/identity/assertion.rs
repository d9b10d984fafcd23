//! Client assertions (`private_key_jwt`): a JWT signed with the app's certificate key.
//! When the client is a registered application with certificates, the signature must
//! verify against one of them; otherwise an `x5c` header certificate is used if sent;
//! in every case the token must be well formed, unexpired, for this token endpoint,
//! and issued by and about the client.

use super::errors::AadError;
use super::tokens::decode_unverified;
use crate::tenant::Tenant;
use aws_lc_rs::signature::{self, UnparsedPublicKey};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::Value;

/// Accepted clock skew, in seconds.
const SKEW: i64 = 300;

fn malformed() -> AadError {
    AadError::new(
        axum::http::StatusCode::BAD_REQUEST,
        "invalid_request",
        50027,
        "JWT token is invalid or malformed.",
    )
}

fn bad_signature() -> AadError {
    AadError::invalid_client(700027, "Client assertion failed signature validation.")
}

/// Verify `assertion` for `client_id`. `registered` holds the DER certificates of the
/// client's application, or None when the client is not registered in the tenant.
pub fn verify(
    assertion: &str,
    client_id: &str,
    tenant: &Tenant,
    registered: Option<Vec<Vec<u8>>>,
    now: i64,
) -> Result<(), AadError> {
    let (header, claims, signing_input, sig) =
        decode_unverified(assertion).ok_or_else(malformed)?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let algorithm: &'static dyn signature::VerificationAlgorithm = match alg {
        "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
        "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
        _ => return Err(malformed()),
    };
    let claim = |k: &str| claims.get(k).and_then(Value::as_str).unwrap_or_default();
    if claim("iss") != claim("sub") {
        return Err(AadError::invalid_client(
            50048,
            "Subject mismatches Issuer claim in the client assertion.",
        ));
    }
    if !claim("iss").eq_ignore_ascii_case(client_id) {
        return Err(AadError::invalid_client(
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter.",
        ));
    }
    if !audience_ok(claim("aud"), tenant) {
        return Err(AadError::invalid_client(
            700016,
            format!(
                "The client assertion audience '{}' is not this tenant's token endpoint.",
                claim("aud")
            ),
        ));
    }
    // NumericDate may carry a fraction (RFC 7519 §2); MSAL Python sends `time.time()`.
    let seconds = |k: &str| claims.get(k).and_then(Value::as_f64).map(|v| v as i64);
    let exp = seconds("exp").ok_or_else(malformed)?;
    let nbf = seconds("nbf").unwrap_or(now);
    if exp + SKEW <= now || nbf - SKEW > now {
        return Err(AadError::invalid_client(
            700024,
            "Client assertion is not within its valid time range.",
        ));
    }
    let candidates: Vec<Vec<u8>> = match registered {
        Some(certs) => {
            let wanted = thumbprint_hint(&header);
            let matching: Vec<Vec<u8>> = certs
                .into_iter()
                .filter(|c| wanted.as_ref().is_none_or(|w| w.matches(c)))
                .collect();
            if matching.is_empty() {
                return Err(AadError::invalid_client(
                    700027,
                    "The certificate with identifier used to sign the client assertion is not registered on application.",
                ));
            }
            matching
        }
        None => match header
            .get("x5c")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            // MSAL Python sends the PEM body, line breaks included.
            Some(Value::String(c)) => {
                let compact: String = c.chars().filter(|ch| !ch.is_whitespace()).collect();
                vec![STANDARD.decode(compact).map_err(|_| malformed())?]
            }
            // Nothing to check the signature against: an unregistered client is trusted.
            _ => return Ok(()),
        },
    };
    let verified = candidates.iter().any(|der| {
        public_key(der).is_some_and(|pk| {
            UnparsedPublicKey::new(algorithm, pk)
                .verify(signing_input.as_bytes(), &sig)
                .is_ok()
        })
    });
    if verified {
        Ok(())
    } else {
        Err(bad_signature())
    }
}

fn audience_ok(aud: &str, tenant: &Tenant) -> bool {
    let Ok(url) = url::Url::parse(aud) else {
        return false;
    };
    let segs: Vec<&str> = url.path().trim_matches('/').split('/').collect();
    match segs.as_slice() {
        // The v2.0 and v1 token endpoints; the host is not checked because the emulator
        // may be reached under several names.
        [t, "oauth2", "v2.0", "token"] | [t, "oauth2", "token"] => tenant.matches(t),
        _ => false,
    }
}

enum Thumbprint {
    Sha256(String),
    Sha1(String),
}

impl Thumbprint {
    fn matches(&self, der: &[u8]) -> bool {
        match self {
            Thumbprint::Sha256(t) => crate::util::sha256_b64url(der) == *t,
            Thumbprint::Sha1(t) => {
                let d =
                    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, der);
                URL_SAFE_NO_PAD.encode(d.as_ref()) == t.trim_end_matches('=')
                    || STANDARD.encode(d.as_ref()) == *t
            }
        }
    }
}

fn thumbprint_hint(header: &Value) -> Option<Thumbprint> {
    if let Some(t) = header.get("x5t#S256").and_then(Value::as_str) {
        return Some(Thumbprint::Sha256(t.trim_end_matches('=').to_string()));
    }
    header
        .get("x5t")
        .and_then(Value::as_str)
        .map(|t| Thumbprint::Sha1(t.to_string()))
}

/// The PKCS#1 RSA public key inside a certificate.
fn public_key(der: &[u8]) -> Option<Vec<u8>> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(cert.public_key().subject_public_key.data.to_vec())
}
