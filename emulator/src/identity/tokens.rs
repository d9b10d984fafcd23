//! Access and refresh tokens: compact JWTs signed RS256 with the tenant's RSA key, as
//! Entra signs them. The key (and a self-signed certificate for it, which gives the
//! `x5t` thumbprint) is kept in the state, so tokens survive an emulator restart on the
//! same state file, and its public half is published at the tenant's JWKS endpoint so a
//! client can verify tokens the way it verifies real ones.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::{self, UnparsedPublicKey};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
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

/// The tenant's token-signing key.
pub struct Signer {
    key: KeyPair,
    /// DER of the RFC 8017 `RSAPublicKey`, for verification.
    public_der: Vec<u8>,
    n: Vec<u8>,
    e: Vec<u8>,
    cert_der: Vec<u8>,
    /// The key id: as in Entra, the same value as `x5t`.
    pub kid: String,
    /// base64url SHA-1 thumbprint of the certificate.
    pub x5t: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("kid", &self.kid).finish()
    }
}

/// A new RSA-2048 key and a self-signed certificate for it: (PKCS#8 DER, certificate DER).
pub fn generate_key() -> Result<(Vec<u8>, Vec<u8>), String> {
    use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair as RcKey};
    let key = RcKey::generate_for(&rcgen::PKCS_RSA_SHA256).map_err(|e| e.to_string())?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "comgmt emulator token signing");
    params.distinguished_name = dn;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(5 * 365);
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    Ok((key.serialize_der(), cert.der().to_vec()))
}

impl Signer {
    pub fn load(pkcs8: &[u8], cert_der: &[u8]) -> Result<Signer, String> {
        use aws_lc_rs::signature::KeyPair as _;
        let key = KeyPair::from_pkcs8(pkcs8).map_err(|e| format!("signing key: {e}"))?;
        let public = key.public_key();
        let public_der = public.as_ref().to_vec();
        let n = public.modulus().big_endian_without_leading_zero().to_vec();
        let e = public.exponent().big_endian_without_leading_zero().to_vec();
        let sha1 =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der);
        let x5t = URL_SAFE_NO_PAD.encode(sha1.as_ref());
        Ok(Signer {
            key,
            public_der,
            n,
            e,
            cert_der: cert_der.to_vec(),
            kid: x5t.clone(),
            x5t,
        })
    }

    /// A signed JWT with Entra's header (`typ`, `alg`, `x5t`, `kid`).
    pub fn mint(&self, claims: &Value) -> String {
        let header = json!({"typ": "JWT", "alg": "RS256", "x5t": self.x5t, "kid": self.kid});
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0u8; self.key.public_modulus_len()];
        // Signing with a valid key into a buffer of the modulus size cannot fail; an
        // empty signature would only make the token fail verification.
        if self
            .key
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut sig,
            )
            .is_err()
        {
            sig.clear();
        }
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(&sig))
    }

    /// Check header, signature and lifetime; return the claims.
    pub fn verify(&self, token: &str, now: i64) -> Result<Value, TokenProblem> {
        let mut parts = token.split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenProblem::Malformed);
        };
        let header: Value = URL_SAFE_NO_PAD
            .decode(h)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(TokenProblem::Malformed)?;
        // Only our own algorithm: a token claiming `none` or HS256 is not ours.
        if header.get("alg").and_then(Value::as_str) != Some("RS256") {
            return Err(TokenProblem::BadSignature);
        }
        let sig = URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| TokenProblem::Malformed)?;
        let signing_input = format!("{h}.{c}");
        UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &self.public_der)
            .verify(signing_input.as_bytes(), &sig)
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

    /// The public key as a JWK, in the shape of Entra's `discovery/v2.0/keys` entries.
    pub fn jwk(&self, issuer: &str) -> Value {
        json!({
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.x5t,
            "n": URL_SAFE_NO_PAD.encode(&self.n),
            "e": URL_SAFE_NO_PAD.encode(&self.e),
            "x5c": [STANDARD.encode(&self.cert_der)],
            "issuer": issuer,
        })
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

    fn signer() -> Signer {
        let (key, cert) = generate_key().unwrap();
        Signer::load(&key, &cert).unwrap()
    }

    #[test]
    fn round_trip_and_failures() {
        let s = signer();
        let t = s.mint(&json!({"exp": 100, "aud": "x"}));
        assert_eq!(s.verify(&t, 50).unwrap()["aud"], "x");
        assert_eq!(s.verify(&t, 100), Err(TokenProblem::Expired));
        assert_eq!(signer().verify(&t, 50), Err(TokenProblem::BadSignature));
        assert_eq!(s.verify("abc", 50), Err(TokenProblem::Malformed));
        assert_eq!(s.verify("a.b.c", 50), Err(TokenProblem::Malformed));
        let (header, _, _, _) = decode_unverified(&t).unwrap();
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["kid"], s.kid);
        // A token whose header says HS256 is refused whatever its signature.
        let forged = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#),
            t.split_once('.').unwrap().1
        );
        assert_eq!(s.verify(&forged, 50), Err(TokenProblem::BadSignature));
    }

    #[test]
    fn jwk_matches_the_key() {
        let s = signer();
        let jwk = s.jwk("https://issuer");
        assert_eq!(jwk["e"], "AQAB");
        let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
        assert_eq!(n.len(), 256, "RSA-2048 modulus");
        assert_eq!(jwk["kid"], jwk["x5t"]);
        // Loading the same key again gives the same kid (restarts keep validating).
        let (key, cert) = generate_key().unwrap();
        let a = Signer::load(&key, &cert).unwrap();
        let b = Signer::load(&key, &cert).unwrap();
        assert_eq!(a.kid, b.kid);
        assert!(b.verify(&a.mint(&json!({"exp": 10})), 5).is_ok());
    }
}
