//! The lab CA's certificates (emulator and tests only): making a root and an issuing CA,
//! and signing requests. It signs any well-formed CSR, including ones carrying
//! extensions rcgen's CSR parser refuses (Windows certreq's Subject Key Identifier): the
//! CSR is read with x509-parser, its signature verified, and its public key signed with
//! fresh parameters. The files are managed by `ops/lab_ca.rs`.

use super::csr::generate_key;
use super::files;
use super::objects::{lab_subject, CertRequest, KeyMaterial, LabCa, LAB_ORGANIZATION};
use super::x509::{CertInfo, CsrInfo};
use crate::error::{ErrorKind, ModuleError, Result};
use ::time::{Duration, OffsetDateTime};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyUsagePurpose, SanType, SerialNumber,
};
use std::path::PathBuf;

/// Days of validity left under which a lab certificate is renewed.
pub const RENEW_DAYS: i64 = 30;

fn rc(what: &'static str) -> impl Fn(rcgen::Error) -> ModuleError {
    move |e| ModuleError::new(ErrorKind::Io, format!("cannot {what}: {e}"))
}

fn serial() -> SerialNumber {
    let mut b: [u8; 16] = rand::random();
    b[0] &= 0x7f;
    b[0] |= 0x01;
    SerialNumber::from_slice(&b)
}

fn ca_params(cn: &str, years: i64, path_len: Option<u8>) -> CertificateParams {
    let now = OffsetDateTime::now_utc();
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, LAB_ORGANIZATION);
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.is_ca = match path_len {
        Some(n) => IsCa::Ca(BasicConstraints::Constrained(n)),
        None => IsCa::Ca(BasicConstraints::Unconstrained),
    };
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = now - Duration::hours(1);
    p.not_after = now + Duration::days(365 * years);
    p.serial_number = Some(serial());
    p
}

/// Load the lab CA in `dir` when it is complete, consistent and not near expiry.
pub fn load_existing(name: &str, dir: &std::path::Path) -> std::result::Result<LabCa, String> {
    let mut ca = LabCa {
        name: name.to_string(),
        dir: dir.to_path_buf(),
        root: None,
        issuing: None,
        issuing_key: None,
    };
    let one = |p: PathBuf| -> std::result::Result<CertInfo, String> {
        let ders = files::read_certificates(&p).map_err(|e| e.message)?;
        let der = ders.first().ok_or("empty")?;
        CertInfo::from_der(der)
    };
    let root = one(ca.root_path())?;
    let issuing = one(ca.issuing_path())?;
    let key =
        KeyMaterial::new(files::read_private_key(&ca.issuing_key_path()).map_err(|e| e.message)?);
    if root.subject != lab_subject(&format!("{name} Root CA")) {
        return Err(format!("it is named {}", root.subject));
    }
    if !(root.self_issued && root.issued_by(&root) && issuing.issued_by(&root)) {
        return Err("its certificates do not chain".into());
    }
    if key.public_key().map_err(|e| e.message)? != issuing.public_key {
        return Err("the issuing key does not match the issuing certificate".into());
    }
    if issuing.days_left(OffsetDateTime::now_utc()) <= RENEW_DAYS {
        return Err("it expires soon".into());
    }
    ca.root = Some(root);
    ca.issuing = Some(issuing);
    ca.issuing_key = Some(key);
    Ok(ca)
}

/// A new lab CA for `name` in `dir`: a root (10 years) and an issuing CA (5 years), with
/// the PEM texts of the issuing key, the issuing certificate and the root, in that order.
/// The root's key is dropped: nothing needs it after it signed the issuing CA.
pub fn generate(
    name: &str,
    dir: &std::path::Path,
) -> Result<(LabCa, [zeroize::Zeroizing<String>; 3])> {
    let root_key = generate_key(2048)?.key_pair()?;
    let root_params = ca_params(&format!("{name} Root CA"), 10, None);
    let root_cert = root_params
        .self_signed(&root_key)
        .map_err(rc("sign the lab root"))?;
    let root_issuer = Issuer::new(root_params, root_key);
    let issuing_key = generate_key(2048)?;
    let mut issuing_params = ca_params(&format!("{name} Issuing CA"), 5, Some(0));
    issuing_params.use_authority_key_identifier_extension = true;
    let issuing_cert = issuing_params
        .signed_by(&issuing_key.key_pair()?, &root_issuer)
        .map_err(rc("sign the lab issuing CA"))?;
    let key_pem = zeroize::Zeroizing::new(pem::encode(&pem::Pem::new(
        "PRIVATE KEY",
        issuing_key.pkcs8().to_vec(),
    )));
    let ca = LabCa {
        name: name.to_string(),
        dir: dir.to_path_buf(),
        root: Some(CertInfo::from_der(root_cert.der()).map_err(ModuleError::io)?),
        issuing: Some(CertInfo::from_der(issuing_cert.der()).map_err(ModuleError::io)?),
        issuing_key: Some(issuing_key),
    };
    Ok((
        ca,
        [
            key_pem,
            zeroize::Zeroizing::new(issuing_cert.pem()),
            zeroize::Zeroizing::new(root_cert.pem()),
        ],
    ))
}

/// What `ca.issue` signs: a `CertRequest` or a CSR file.
pub enum CsrSource {
    Request(Box<CertRequest>),
    File(String),
}

fn oid_components(dotted: &str) -> Option<Vec<u64>> {
    dotted.split('.').map(|p| p.parse().ok()).collect()
}

/// Certificate parameters for a leaf from a CSR: its subject, its DNS SANs (the CN when
/// it has none), server authentication.
fn leaf_params(csr: &CsrInfo, days: u32) -> Result<CertificateParams> {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    for (oid, value) in &csr.subject_attrs {
        let Some(parts) = oid_components(oid) else {
            continue;
        };
        let ty = DnType::from_oid(&parts);
        if ty == DnType::CountryName {
            if let Ok(ps) = rcgen::string::PrintableString::try_from(value.as_str()) {
                dn.push(ty, DnValue::PrintableString(ps));
                continue;
            }
        }
        dn.push(ty, value.as_str());
    }
    p.distinguished_name = dn;
    let names = if csr.sans.is_empty() {
        csr.common_name.clone().into_iter().collect()
    } else {
        csr.sans.clone()
    };
    if names.is_empty() {
        return Err(ModuleError::validation(
            "ca.issue: the request has neither a common name nor a DNS SAN",
        ));
    }
    p.subject_alt_names = names
        .iter()
        .map(|n| {
            rcgen::string::Ia5String::try_from(n.as_str())
                .map(SanType::DnsName)
                .map_err(|e| ModuleError::validation(format!("ca.issue: SAN `{n}`: {e}")))
        })
        .collect::<Result<_>>()?;
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    p.use_authority_key_identifier_extension = true;
    let now = OffsetDateTime::now_utc();
    p.not_before = now - Duration::minutes(5);
    p.not_after = now + Duration::days(i64::from(days));
    p.serial_number = Some(serial());
    Ok(p)
}

/// Sign `csr` with the issuing CA.
pub fn sign(ca: &LabCa, csr: &CsrInfo, days: u32) -> Result<CertInfo> {
    let (Some(issuing), Some(key)) = (&ca.issuing, &ca.issuing_key) else {
        return Err(ModuleError::validation(
            "ca.issue: the lab CA does not exist yet",
        ));
    };
    let issuing_pem = files::certs_pem(&[&issuing.der]);
    let issuer = Issuer::from_ca_cert_pem(&issuing_pem, key.key_pair()?)
        .map_err(rc("read the lab issuing CA"))?;
    let spki = rcgen::SubjectPublicKeyInfo::from_der(&csr.spki_der).map_err(|e| {
        ModuleError::validation(format!(
            "ca.issue: the request's public key is not supported: {e}"
        ))
    })?;
    let cert = leaf_params(csr, days)?
        .signed_by(&spki, &issuer)
        .map_err(rc("sign the certificate"))?;
    CertInfo::from_der(cert.der()).map_err(ModuleError::io)
}
