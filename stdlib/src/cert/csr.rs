//! Building keys and certificate requests: RSA keys, the PKCS#10 request with the
//! subject, DNS SANs and the server-authentication EKU, and what an existing request
//! says. Pure functions: no files, no run context.

use super::model::RequestSpec;
use super::objects::KeyMaterial;
use super::x509::{self, CsrInfo};
use crate::error::{ModuleError, Result};
use rcgen::{
    CertificateParams, DistinguishedName, DnType, DnValue, ExtendedKeyUsagePurpose, KeyPair,
    KeyUsagePurpose, RsaKeySize, SanType,
};
use zeroize::Zeroizing;

fn key_size_enum(bits: u32) -> RsaKeySize {
    match bits {
        3072 => RsaKeySize::_3072,
        4096 => RsaKeySize::_4096,
        _ => RsaKeySize::_2048,
    }
}

/// The subject attributes (OID, value) in DER order, as the CSR carries them.
pub fn expected_attrs(spec: &RequestSpec) -> Vec<(String, String)> {
    let s = &spec.subject;
    let mut v = Vec::new();
    let mut add = |oid: &str, val: &Option<String>| {
        if let Some(val) = val {
            v.push((oid.to_string(), val.clone()));
        }
    };
    add("2.5.4.6", &s.country);
    add("2.5.4.8", &s.state);
    add("2.5.4.7", &s.city);
    add("2.5.4.10", &s.organization);
    add("2.5.4.11", &s.department);
    add("2.5.4.3", &Some(s.common_name.clone()));
    v
}

fn distinguished_name(spec: &RequestSpec) -> Result<DistinguishedName> {
    let s = &spec.subject;
    let mut dn = DistinguishedName::new();
    if let Some(c) = &s.country {
        let p = rcgen::string::PrintableString::try_from(c.as_str())
            .map_err(|e| ModuleError::validation(format!("cert::request: country: {e}")))?;
        dn.push(DnType::CountryName, DnValue::PrintableString(p));
    }
    if let Some(v) = &s.state {
        dn.push(DnType::StateOrProvinceName, v.as_str());
    }
    if let Some(v) = &s.city {
        dn.push(DnType::LocalityName, v.as_str());
    }
    if let Some(v) = &s.organization {
        dn.push(DnType::OrganizationName, v.as_str());
    }
    if let Some(v) = &s.department {
        dn.push(DnType::OrganizationalUnitName, v.as_str());
    }
    dn.push(DnType::CommonName, s.common_name.as_str());
    Ok(dn)
}

fn dns_sans(names: &[String]) -> Result<Vec<SanType>> {
    names
        .iter()
        .map(|n| {
            rcgen::string::Ia5String::try_from(n.as_str())
                .map(SanType::DnsName)
                .map_err(|e| ModuleError::validation(format!("SAN `{n}`: {e}")))
        })
        .collect()
}

fn rcgen_err(what: &str) -> impl Fn(rcgen::Error) -> ModuleError + '_ {
    move |e| ModuleError::new(crate::error::ErrorKind::Io, format!("cannot {what}: {e}"))
}

/// A PEM PKCS#10 request for `spec`, signed by `key`: the subject, DNS SANs and the
/// server-authentication EKU (certreq's `[EnhancedKeyUsageExtension]`).
pub fn build_csr(spec: &RequestSpec, key: &KeyPair) -> Result<String> {
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name(spec)?;
    params.subject_alt_names = dns_sans(&spec.sans)?;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let csr = params
        .serialize_request(key)
        .map_err(rcgen_err("build the certificate request"))?;
    csr.pem()
        .map_err(rcgen_err("encode the certificate request"))
}

/// Generate an RSA key of `bits`.
pub fn generate_key(bits: u32) -> Result<KeyMaterial> {
    let kp = KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, key_size_enum(bits))
        .map_err(rcgen_err("generate an RSA key"))?;
    Ok(KeyMaterial::new(Zeroizing::new(kp.serialize_der())))
}

pub fn key_pem(key: &KeyMaterial) -> Zeroizing<String> {
    Zeroizing::new(pem::encode(&pem::Pem::new(
        "PRIVATE KEY",
        key.pkcs8().to_vec(),
    )))
}

/// Why an existing CSR does not say what `spec` asks, or `None` when it does.
pub fn csr_difference(csr: &CsrInfo, spec: &RequestSpec, public_key: &[u8]) -> Option<String> {
    if csr.public_key != public_key {
        return Some("it was made with another key".into());
    }
    if csr.subject_attrs != expected_attrs(spec) {
        return Some(format!("its subject is {}", csr.subject));
    }
    let mut a: Vec<String> = csr.sans.clone();
    let mut b: Vec<String> = spec.sans.clone();
    a.sort();
    b.sort();
    if a != b {
        return Some(format!("its SANs are {}", csr.sans.join(", ")));
    }
    if !csr.server_auth {
        return Some("it does not request the server-authentication EKU".into());
    }
    None
}

/// (algorithm, bits) of a private key.
pub fn key_facts(key: &KeyMaterial) -> Result<(String, u32)> {
    let kp = key.key_pair()?;
    let spki = rcgen::PublicKeyData::subject_public_key_info(&kp);
    let (_, parsed) = <x509_parser::x509::SubjectPublicKeyInfo as x509_parser::prelude::FromDer<
        '_,
        x509_parser::error::X509Error,
    >>::from_der(&spki)
    .map_err(|e| {
        ModuleError::validation(format!("the private key's public part is unreadable: {e}"))
    })?;
    Ok(x509::key_info(&parsed))
}
