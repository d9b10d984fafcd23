//! What the module reads out of certificates and CSRs (x509-parser), the SHA-1
//! thumbprint Windows shows, issuer-chain building and key matching.

use crate::error::{ModuleError, Result};
use ::time::OffsetDateTime;
use sha1::{Digest, Sha1};
use x509_parser::certificate::X509Certificate;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::{SubjectPublicKeyInfo, X509Name};

/// EKU OIDs with Windows' names.
const EKU_NAMES: &[(&str, &str)] = &[
    ("1.3.6.1.5.5.7.3.1", "Server Authentication"),
    ("1.3.6.1.5.5.7.3.2", "Client Authentication"),
    ("1.3.6.1.5.5.7.3.3", "Code Signing"),
    ("1.3.6.1.5.5.7.3.4", "Secure Email"),
    ("1.3.6.1.5.5.7.3.8", "Time Stamping"),
    ("1.3.6.1.5.5.7.3.9", "OCSP Signing"),
    ("2.5.29.37.0", "Any Purpose"),
];

/// Everything the module shows about one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub der: Vec<u8>,
    /// Windows order: `CN=..., OU=..., O=..., L=..., S=..., C=...`.
    pub subject: String,
    pub issuer: String,
    /// Raw DER of the subject and issuer names, for chain matching.
    pub subject_raw: Vec<u8>,
    pub issuer_raw: Vec<u8>,
    pub common_name: Option<String>,
    pub sans: Vec<String>,
    /// `RSA`, `EC` or another algorithm name.
    pub key_algorithm: String,
    pub key_size: u32,
    /// The raw subject public key (bit string content), for key matching.
    pub public_key: Vec<u8>,
    pub spki_der: Vec<u8>,
    /// `Server Authentication`, … or dotted OIDs. `None` when the extension is absent.
    pub ekus: Option<Vec<String>>,
    pub server_auth: bool,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// SHA-1 of the DER, upper-case hex, as Windows shows it.
    pub thumbprint: String,
    pub serial: String,
    pub signature_algorithm: String,
    pub is_ca: bool,
    pub self_issued: bool,
}

impl CertInfo {
    pub fn from_der(der: &[u8]) -> std::result::Result<CertInfo, String> {
        let (rest, c) = X509Certificate::from_der(der)
            .map_err(|e| format!("not an X.509 certificate ({e})"))?;
        if !rest.is_empty() {
            return Err("trailing bytes after the certificate".into());
        }
        let sans = match c.subject_alternative_name() {
            Ok(Some(ext)) => ext
                .value
                .general_names
                .iter()
                .filter_map(|g| match g {
                    GeneralName::DNSName(d) => Some(d.to_string()),
                    _ => None,
                })
                .collect(),
            Ok(None) => Vec::new(),
            Err(e) => return Err(format!("bad subjectAltName extension ({e})")),
        };
        let (ekus, server_auth) = match c.extended_key_usage() {
            Ok(Some(ext)) => {
                let e = ext.value;
                let mut names = Vec::new();
                for (flag, oid) in [
                    (e.server_auth, "1.3.6.1.5.5.7.3.1"),
                    (e.client_auth, "1.3.6.1.5.5.7.3.2"),
                    (e.code_signing, "1.3.6.1.5.5.7.3.3"),
                    (e.email_protection, "1.3.6.1.5.5.7.3.4"),
                    (e.time_stamping, "1.3.6.1.5.5.7.3.8"),
                    (e.ocsp_signing, "1.3.6.1.5.5.7.3.9"),
                    (e.any, "2.5.29.37.0"),
                ] {
                    if flag {
                        names.push(eku_name(oid));
                    }
                }
                names.extend(e.other.iter().map(|o| eku_name(&o.to_id_string())));
                (Some(names), e.server_auth)
            }
            Ok(None) => (None, false),
            Err(e) => return Err(format!("bad extendedKeyUsage extension ({e})")),
        };
        let (key_algorithm, key_size) = key_info(c.public_key());
        let is_ca = c.is_ca();
        Ok(CertInfo {
            der: der.to_vec(),
            subject: display_name(c.subject()),
            issuer: display_name(c.issuer()),
            subject_raw: c.subject().as_raw().to_vec(),
            issuer_raw: c.issuer().as_raw().to_vec(),
            common_name: common_name(c.subject()),
            sans,
            key_algorithm,
            key_size,
            public_key: c.public_key().subject_public_key.data.to_vec(),
            spki_der: c.public_key().raw.to_vec(),
            ekus,
            server_auth,
            not_before: c.validity().not_before.to_datetime(),
            not_after: c.validity().not_after.to_datetime(),
            thumbprint: thumbprint(der),
            serial: c
                .raw_serial_as_string()
                .replace(':', "")
                .to_ascii_uppercase(),
            signature_algorithm: signature_name(&c.signature_algorithm.algorithm.to_id_string()),
            is_ca,
            self_issued: c.subject().as_raw() == c.issuer().as_raw(),
        })
    }

    /// Whether `issuer` signed this certificate (names match and the signature verifies).
    pub fn issued_by(&self, issuer: &CertInfo) -> bool {
        if self.issuer_raw != issuer.subject_raw {
            return false;
        }
        let Ok((_, me)) = X509Certificate::from_der(&self.der) else {
            return false;
        };
        let Ok((_, spki)) = SubjectPublicKeyInfo::from_der(&issuer.spki_der) else {
            return false;
        };
        me.verify_signature(Some(&spki)).is_ok()
    }

    pub fn days_left(&self, now: OffsetDateTime) -> i64 {
        (self.not_after - now).whole_days()
    }
}

fn eku_name(oid: &str) -> String {
    EKU_NAMES
        .iter()
        .find(|(o, _)| *o == oid)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| oid.to_string())
}

fn signature_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.5" => "sha1RSA",
        "1.2.840.113549.1.1.11" => "sha256RSA",
        "1.2.840.113549.1.1.12" => "sha384RSA",
        "1.2.840.113549.1.1.13" => "sha512RSA",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        "1.2.840.10045.4.3.2" => "sha256ECDSA",
        "1.2.840.10045.4.3.3" => "sha384ECDSA",
        "1.2.840.10045.4.1" => "sha1ECDSA",
        "1.2.840.113549.1.1.4" => "md5RSA",
        other => other,
    }
    .to_string()
}

/// (algorithm, size in bits) of a public key.
pub fn key_info(spki: &SubjectPublicKeyInfo) -> (String, u32) {
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => ("RSA".into(), rsa.key_size() as u32),
        Ok(PublicKey::EC(ec)) => ("EC".into(), ec.key_size() as u32),
        Ok(PublicKey::DSA(_)) => ("DSA".into(), 0),
        Ok(other) => (
            format!("{other:?}")
                .split('(')
                .next()
                .unwrap_or("unknown")
                .to_string(),
            0,
        ),
        Err(_) => (spki.algorithm.algorithm.to_id_string(), 0),
    }
}

fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.11" => "OU",
        "2.5.4.10" => "O",
        "2.5.4.7" => "L",
        "2.5.4.8" => "S",
        "2.5.4.6" => "C",
        "2.5.4.9" => "STREET",
        "2.5.4.5" => "SERIALNUMBER",
        "1.2.840.113549.1.9.1" => "E",
        "0.9.2342.19200300.100.1.25" => "DC",
        _ => return None,
    })
}

/// A name in Windows order (most specific first): `CN=a, OU=b, O=c, L=d, S=e, C=US`.
pub fn display_name(name: &X509Name) -> String {
    let mut parts: Vec<String> = Vec::new();
    for rdn in name.iter_rdn() {
        for atv in rdn.iter() {
            let oid = atv.attr_type().to_id_string();
            let key = short_name(&oid).map(str::to_string).unwrap_or(oid);
            let value = atv
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|_| "(binary)".to_string());
            parts.push(format!("{key}={value}"));
        }
    }
    parts.reverse();
    parts.join(", ")
}

/// Attribute values of a name by OID, in order.
pub fn name_values(name: &X509Name, oid: &str) -> Vec<String> {
    name.iter_rdn()
        .flat_map(|r| r.iter())
        .filter(|a| a.attr_type().to_id_string() == oid)
        .filter_map(|a| a.as_str().ok().map(str::to_string))
        .collect()
}

pub fn common_name(name: &X509Name) -> Option<String> {
    name_values(name, "2.5.4.3").into_iter().next()
}

/// SHA-1 of `der`, upper-case hex.
pub fn thumbprint(der: &[u8]) -> String {
    let digest = Sha1::digest(der);
    digest.iter().map(|b| format!("{b:02X}")).collect()
}

/// The public key (bit-string content) of a PKCS#8 private key.
pub fn private_key_public(pkcs8: &[u8]) -> Result<Vec<u8>> {
    let kp = rcgen::KeyPair::try_from(pkcs8)
        .map_err(|e| ModuleError::validation(format!("the private key is not usable: {e}")))?;
    Ok(rcgen::PublicKeyData::der_bytes(&kp).to_vec())
}

/// What the module reads out of a CSR.
#[derive(Debug, Clone)]
pub struct CsrInfo {
    pub der: Vec<u8>,
    pub subject: String,
    /// (OID, value) of each subject attribute, in DER order.
    pub subject_attrs: Vec<(String, String)>,
    pub common_name: Option<String>,
    pub sans: Vec<String>,
    pub server_auth: bool,
    pub key_algorithm: String,
    pub key_size: u32,
    pub public_key: Vec<u8>,
    pub spki_der: Vec<u8>,
}

/// Parse a CSR (PEM or DER) and verify its self-signature. Extensions the module does
/// not know are ignored, not refused (Windows certreq adds a Subject Key Identifier).
pub fn parse_csr(bytes: &[u8]) -> std::result::Result<CsrInfo, String> {
    let der = if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        let p = pem::parse_many(bytes)
            .map_err(|e| format!("bad PEM: {e}"))?
            .into_iter()
            .find(|p| p.tag() == "CERTIFICATE REQUEST" || p.tag() == "NEW CERTIFICATE REQUEST")
            .ok_or("no CERTIFICATE REQUEST block in the PEM file")?;
        p.into_contents()
    } else {
        bytes.to_vec()
    };
    let (rest, csr) = X509CertificationRequest::from_der(&der)
        .map_err(|e| format!("not a PKCS#10 request ({e})"))?;
    if !rest.is_empty() {
        return Err("trailing bytes after the request".into());
    }
    csr.verify_signature()
        .map_err(|e| format!("the request's signature does not verify ({e})"))?;
    let info = &csr.certification_request_info;
    let mut sans = Vec::new();
    let mut server_auth = false;
    if let Some(exts) = csr.requested_extensions() {
        for ext in exts {
            match ext {
                ParsedExtension::SubjectAlternativeName(san) => {
                    for g in &san.general_names {
                        if let GeneralName::DNSName(d) = g {
                            sans.push(d.to_string());
                        }
                    }
                }
                ParsedExtension::ExtendedKeyUsage(eku) => server_auth |= eku.server_auth,
                _ => {}
            }
        }
    }
    let subject_attrs = info
        .subject
        .iter_rdn()
        .flat_map(|r| r.iter())
        .map(|a| {
            (
                a.attr_type().to_id_string(),
                a.as_str().map(str::to_string).unwrap_or_default(),
            )
        })
        .collect();
    let (key_algorithm, key_size) = key_info(&info.subject_pki);
    Ok(CsrInfo {
        subject: display_name(&info.subject),
        subject_attrs,
        common_name: common_name(&info.subject),
        sans,
        server_auth,
        key_algorithm,
        key_size,
        public_key: info.subject_pki.subject_public_key.data.to_vec(),
        spki_der: info.subject_pki.raw.to_vec(),
        der,
    })
}

/// Order `pool` into the issuer chain of `leaf`: each next certificate is the one that
/// signed the previous. Stops at a self-signed certificate or when no issuer is found.
/// Returns the chain (without the leaf) and whether it ended at a self-signed root.
pub fn build_chain(leaf: &CertInfo, pool: &[CertInfo]) -> (Vec<CertInfo>, bool) {
    let mut chain: Vec<CertInfo> = Vec::new();
    let mut current = leaf.clone();
    if current.self_issued && current.issued_by(&current.clone()) {
        return (chain, true);
    }
    loop {
        let next = pool.iter().find(|c| {
            c.thumbprint != current.thumbprint
                && !chain.iter().any(|x| x.thumbprint == c.thumbprint)
                && current.issued_by(c)
        });
        match next {
            None => return (chain, false),
            Some(n) => {
                chain.push(n.clone());
                if n.self_issued {
                    return (chain, true);
                }
                current = n.clone();
            }
        }
        if chain.len() > 10 {
            return (chain, false);
        }
    }
}

/// RFC 3339 text of a time.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&::time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_is_upper_hex_sha1() {
        // SHA-1("abc")
        assert_eq!(
            thumbprint(b"abc"),
            "A9993E364706816ABA3E25717850C26C9CD0D89D"
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(CertInfo::from_der(b"").is_err());
        assert!(CertInfo::from_der(&[0x30, 0x82, 0x01]).is_err());
        assert!(parse_csr(b"").is_err());
        assert!(parse_csr(
            b"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"
        )
        .is_err());
        assert!(private_key_public(b"nope").is_err());
    }
}
