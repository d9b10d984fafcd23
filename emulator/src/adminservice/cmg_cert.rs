//! The CMG's server authentication certificate as the site takes it: a base64 PFX and
//! its password (`ServiceCertificatePfx`, `ServiceCertificatePassword`), opened with
//! p12-keystore as the stdlib opens it (stdlib/src/cert/pfx.rs), to fill the public
//! properties of `SMS_AzureService`. The password and the PFX are never in an error.
//! The wrong-password text is the issue-7 contract's (UNCONFIRMED).

use super::AdminError;
use axum::http::StatusCode;
use base64::Engine as _;
use serde_json::{json, Map, Value};

pub const WRONG_PASSWORD: &str = "The certificate password is incorrect.";

/// What the site keeps of the certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceCert {
    /// Base64 DER of the leaf (public part only).
    pub der_b64: String,
    /// SHA-1 of the DER, upper-case hex (how the console shows thumbprints).
    pub thumbprint: String,
    /// The subject's common name, as written (case kept).
    pub common_name: String,
    /// RFC 3339 of notAfter.
    pub not_after: String,
}

impl ServiceCert {
    /// The row's certificate properties.
    pub fn fill(&self, row: &mut Map<String, Value>) {
        row.insert("ServiceCertificate".into(), json!(self.der_b64));
        row.insert("ServiceThumbprint".into(), json!(self.thumbprint));
        row.insert("ServiceThumbprintAlgorithm".into(), json!("SHA1"));
        row.insert("CertificateExpiry".into(), json!(self.not_after));
    }
}

fn bad(message: impl Into<String>) -> AdminError {
    AdminError::new(StatusCode::BAD_REQUEST, message)
}

/// Open the base64 PFX with its password. A MAC or decryption failure is the wrong
/// password (a PFX without a MAC cannot tell it from damage; most have one).
pub fn open(pfx_b64: &str, password: &str) -> Result<ServiceCert, AdminError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(pfx_b64.trim())
        .map_err(|_| bad("ServiceCertificatePfx is not base64."))?;
    use p12_keystore::error::Error as E;
    let archive =
        p12_keystore::Pkcs12Archive::from_pkcs12(&bytes, password).map_err(|e| match e {
            E::MacError(_) | E::UnpadError | E::Pkcs5Error(_) => bad(WRONG_PASSWORD),
            _ => bad("ServiceCertificatePfx is not a readable PFX file."),
        })?;
    if archive.keys.is_empty() {
        return Err(bad(
            "ServiceCertificatePfx holds no private key: export the certificate with its key.",
        ));
    }
    let parsed: Vec<(&[u8], x509_parser::certificate::X509Certificate<'_>)> = archive
        .certs
        .iter()
        .filter_map(|bag| {
            let der = bag.cert.as_der();
            x509_parser::parse_x509_certificate(der)
                .ok()
                .map(|(_, c)| (der, c))
        })
        .collect();
    // The leaf: the first certificate that is not a CA (a PFX may carry its chain).
    let (der, cert) = parsed
        .iter()
        .find(|(_, c)| !c.is_ca())
        .or_else(|| parsed.first())
        .ok_or_else(|| bad("ServiceCertificatePfx holds no certificate."))?;
    let common_name = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .unwrap_or_default()
        .to_string();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, der);
    Ok(ServiceCert {
        der_b64: base64::engine::general_purpose::STANDARD.encode(der),
        thumbprint: digest.as_ref().iter().map(|b| format!("{b:02X}")).collect(),
        common_name,
        not_after: crate::util::iso(cert.validity().not_after.to_datetime()),
    })
}

/// Whether a certificate with `cn` can serve the CMG `name`: the same name exactly
/// (clients compare it as written, case included), or a wildcard for its domain
/// (`*.contoso.com` serves `GraniteFalls.contoso.com`; the domain compared without case,
/// as DNS does).
pub fn serves(cn: &str, name: &str) -> bool {
    if cn == name {
        return true;
    }
    match (cn.strip_prefix("*."), name.split_once('.')) {
        (Some(domain), Some((label, rest))) => {
            !label.is_empty() && rest.eq_ignore_ascii_case(domain)
        }
        _ => false,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use p12_keystore::{KeyStore, KeyStoreEntry, PrivateKeyChain};

    /// A PFX (base64) of a fresh self-signed certificate for `cn`.
    pub fn pfx(cn: &str, password: &str) -> String {
        let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut p = rcgen::CertificateParams::new(vec![cn.to_string()]).unwrap();
        p.distinguished_name
            .push(rcgen::DnType::CommonName, cn.to_string());
        let c = p.self_signed(&kp).unwrap();
        let chain = PrivateKeyChain::new(
            vec![1, 2, 3],
            p12_keystore::PrivateKey::from_der(&kp.serialize_der()).unwrap(),
            vec![p12_keystore::Certificate::from_der(c.der()).unwrap()],
        );
        let mut ks = KeyStore::new();
        ks.add_entry(cn, KeyStoreEntry::PrivateKeyChain(chain));
        let bytes = ks.writer(password).write().unwrap();
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn opens_a_pfx_and_refuses_a_wrong_password() {
        let b64 = pfx("GraniteFalls.contoso.com", "pw");
        let c = open(&b64, "pw").unwrap();
        assert_eq!(c.common_name, "GraniteFalls.contoso.com");
        assert_eq!(c.thumbprint.len(), 40);
        assert_eq!(c.thumbprint, c.thumbprint.to_uppercase());
        assert!(crate::util::parse_iso(&c.not_after).is_some());
        let e = open(&b64, "nope").unwrap_err();
        assert_eq!(
            (e.status, e.message.as_str()),
            (StatusCode::BAD_REQUEST, WRONG_PASSWORD)
        );
        assert!(open("%%%", "pw").is_err());
        assert!(open("AAAA", "pw").unwrap_err().message.contains("readable"));
    }

    #[test]
    fn names_a_certificate_serves() {
        assert!(serves(
            "GraniteFalls.contoso.com",
            "GraniteFalls.contoso.com"
        ));
        assert!(!serves(
            "granitefalls.contoso.com",
            "GraniteFalls.contoso.com"
        ));
        assert!(serves("*.contoso.com", "GraniteFalls.Contoso.com"));
        assert!(!serves("*.contoso.com", "GraniteFalls.fabrikam.com"));
        assert!(!serves("*.contoso.com", "contoso.com"));
    }
}
