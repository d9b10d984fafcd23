//! Application credentials: client secrets (`addPassword` / `removePassword`; the
//! secret text is returned once and only its hash is kept) and certificates in
//! `keyCredentials` (the certificate is kept for checking client assertions; `key` is
//! never returned).

use super::resources::PASSWORD_CREDENTIAL;
use crate::errors::{GraphError, GraphResult};
use crate::util;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Map, Value};
use time::{Duration, OffsetDateTime};

fn bad_param(param: &str, action: &str) -> GraphError {
    GraphError::odata(format!(
        "The parameter '{param}' in the request payload is not a valid parameter for the operation '{action}'."
    ))
}

fn parse_date(v: &Value, name: &str) -> GraphResult<Option<OffsetDateTime>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => util::parse_iso(s).map(Some).ok_or_else(|| {
            GraphError::odata(format!(
                "Cannot convert the literal '{s}' to the expected type 'Edm.DateTimeOffset' for '{name}'."
            ))
        }),
        _ => Err(GraphError::odata(format!(
            "Cannot convert the value of property '{name}' to the expected type 'Edm.DateTimeOffset'."
        ))),
    }
}

/// `addPassword`: the credential to store, and the response (with `secretText`).
pub fn add_password(body: &Map<String, Value>) -> GraphResult<(Value, Value)> {
    for k in body.keys() {
        if k != "passwordCredential" {
            return Err(bad_param(k, "addPassword"));
        }
    }
    let given = match body.get("passwordCredential") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => PASSWORD_CREDENTIAL.normalize(m, false)?,
        Some(_) => return Err(bad_param("passwordCredential", "addPassword")),
    };
    let start = parse_date(
        given.get("startDateTime").unwrap_or(&Value::Null),
        "startDateTime",
    )?
    .unwrap_or_else(util::now);
    let end = parse_date(
        given.get("endDateTime").unwrap_or(&Value::Null),
        "endDateTime",
    )?
    .unwrap_or(start + Duration::days(365 * 2));
    if end <= start {
        return Err(GraphError::invalid_value(
            "endDateTime",
            "PasswordCredential",
        ));
    }
    let secret = util::client_secret_text();
    let cred = json!({
        "customKeyIdentifier": null,
        "displayName": given.get("displayName").cloned().unwrap_or(Value::Null),
        // Entra keeps a DateTimeOffset's fractional seconds; clients (a ConfigMgr site
        // knows a secret only by its expiry) may rely on them.
        "endDateTime": util::iso_millis(end),
        "hint": &secret[..3],
        "keyId": util::new_guid(),
        "secretText": null,
        "startDateTime": util::iso(start),
    });
    let mut stored = cred.clone();
    stored["_secretHash"] = json!(util::sha256_b64url(secret.as_bytes()));
    let mut shown = cred;
    shown["secretText"] = json!(secret);
    Ok((stored, shown))
}

/// `removePassword`: the keyId to remove.
pub fn remove_password_key(body: &Map<String, Value>) -> GraphResult<String> {
    for k in body.keys() {
        if k != "keyId" {
            return Err(bad_param(k, "removePassword"));
        }
    }
    match body.get("keyId") {
        Some(Value::String(s)) if util::is_guid(s) => Ok(s.to_ascii_lowercase()),
        _ => Err(GraphError::odata(
            "The parameter 'keyId' is missing or is not a valid Edm.Guid.",
        )),
    }
}

fn in_window(cred: &Value, now: OffsetDateTime) -> bool {
    let parse = |k: &str| {
        cred.get(k)
            .and_then(Value::as_str)
            .and_then(util::parse_iso)
    };
    parse("startDateTime").is_none_or(|s| s <= now) && parse("endDateTime").is_none_or(|e| e > now)
}

/// Whether `secret` is a current client secret of the application.
pub fn secret_matches(app: &Value, secret: &str) -> bool {
    let hash = util::sha256_b64url(secret.as_bytes());
    let now = util::now();
    app.get("passwordCredentials")
        .and_then(Value::as_array)
        .is_some_and(|creds| {
            creds.iter().any(|c| {
                c.get("_secretHash").and_then(Value::as_str) == Some(hash.as_str())
                    && in_window(c, now)
            })
        })
}

/// The DER certificates of an application's current key credentials.
pub fn certificates(app: &Value) -> Vec<Vec<u8>> {
    let now = util::now();
    app.get("keyCredentials")
        .and_then(Value::as_array)
        .map(|creds| {
            creds
                .iter()
                .filter(|c| in_window(c, now))
                .filter_map(|c| c.get("_key").and_then(Value::as_str))
                .filter_map(|k| STANDARD.decode(k).ok())
                .collect()
        })
        .unwrap_or_default()
}

fn cert_der(key: &str) -> Option<Vec<u8>> {
    let trimmed = key.trim();
    if trimmed.starts_with("-----BEGIN") {
        let body: String = trimmed
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        return STANDARD.decode(body).ok();
    }
    STANDARD.decode(trimmed).ok()
}

/// Normalise `keyCredentials` from a request: new entries carry `key` (a base64 DER or
/// PEM certificate); entries without `key` must repeat an existing credential.
pub fn key_credentials(given: &[Value], current: &[Value]) -> GraphResult<Vec<Value>> {
    let invalid = || GraphError::invalid_value("keyCredentials", "Application");
    let mut out = Vec::new();
    for cred in given {
        let key = cred.get("key").and_then(Value::as_str);
        let Some(key) = key else {
            let key_id = cred
                .get("keyId")
                .and_then(Value::as_str)
                .ok_or_else(invalid)?;
            let existing = current
                .iter()
                .find(|c| c.get("keyId").and_then(Value::as_str) == Some(key_id))
                .ok_or_else(invalid)?;
            out.push(existing.clone());
            continue;
        };
        let der = cert_der(key).ok_or_else(invalid)?;
        let (_, cert) = x509_parser::parse_x509_certificate(&der).map_err(|_| invalid())?;
        let validity = cert.validity();
        let from_asn1 = |t: x509_parser::time::ASN1Time| util::iso(t.to_datetime());
        let sha1 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
        let thumb_hex: String = sha1.as_ref().iter().map(|b| format!("{b:02X}")).collect();
        let pick = |k: &str, default: Value| match cred.get(k) {
            Some(v) if !v.is_null() => v.clone(),
            _ => default,
        };
        out.push(json!({
            "customKeyIdentifier": pick("customKeyIdentifier", json!(thumb_hex)),
            "displayName": pick("displayName", json!(cert.subject().to_string())),
            "endDateTime": pick("endDateTime", json!(from_asn1(validity.not_after))),
            "key": null,
            "keyId": pick("keyId", json!(util::new_guid())),
            "startDateTime": pick("startDateTime", json!(from_asn1(validity.not_before))),
            "type": pick("type", json!("AsymmetricX509Cert")),
            "usage": pick("usage", json!("Verify")),
            "_key": STANDARD.encode(&der),
            "_x5t": URL_SAFE_NO_PAD.encode(sha1.as_ref()),
            "_x5tS256": util::sha256_b64url(&der),
        }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_password_shapes() {
        let body = json!({"passwordCredential": {"displayName": "ConfigMgr"}});
        let (stored, shown) = add_password(body.as_object().unwrap()).unwrap();
        let secret = shown["secretText"].as_str().unwrap();
        assert_eq!(secret.len(), 40);
        assert_eq!(shown["hint"].as_str().unwrap(), &secret[..3]);
        assert!(stored["secretText"].is_null());
        let start = util::parse_iso(shown["startDateTime"].as_str().unwrap()).unwrap();
        let end = util::parse_iso(shown["endDateTime"].as_str().unwrap()).unwrap();
        assert_eq!((end - start).whole_days(), 730);
        let app = json!({"passwordCredentials": [stored]});
        assert!(secret_matches(&app, secret));
        assert!(!secret_matches(&app, "nope"));
    }

    #[test]
    fn add_password_rejects_bad_input() {
        let bad = json!({"passwordCredential": {"displayName": "x", "colour": 1}});
        assert!(add_password(bad.as_object().unwrap()).is_err());
        let bad = json!({"other": 1});
        assert!(add_password(bad.as_object().unwrap()).is_err());
        let bad = json!({"passwordCredential": {"endDateTime": "tomorrow"}});
        assert!(add_password(bad.as_object().unwrap()).is_err());
        assert!(add_password(&Map::new()).is_ok());
    }
}
