//! The lab CA (emulator and tests only): a root and an issuing CA, and `ca.issue(csr)`.
//! It signs any well-formed CSR, including ones carrying extensions rcgen does not parse
//! (Windows certreq's Subject Key Identifier): the CSR is read with x509-parser, its
//! signature verified, and its public key signed with fresh parameters (crates.md gotcha 6).

use super::files::{self, PRIVATE_MODE, PUBLIC_MODE};
use super::model::{IssueOptions, LabCaOptions};
use super::objects::{
    lab_subject, CertRequest, Certificate, KeyMaterial, LabCa, PlannedCert, LAB_ORGANIZATION,
};
use super::ops::generate_key;
use super::x509::{self, CertInfo, CsrInfo};
use crate::change::{Applied, Change};
use crate::context::Ctx;
use crate::error::{ErrorKind, ModuleError, Result};
use ::time::{Duration, OffsetDateTime};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyUsagePurpose, SanType, SerialNumber,
};
use serde_json::json;
use std::path::PathBuf;

/// Days of validity left under which a lab certificate is renewed.
const RENEW_DAYS: i64 = 30;

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
fn load_existing(name: &str, dir: &std::path::Path) -> std::result::Result<LabCa, String> {
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

/// `cert::lab_ca`: ensure a lab CA exists under `out` (default `lab-ca/`).
pub fn lab_ca(ctx: &Ctx, opts: LabCaOptions) -> Result<LabCa> {
    let name = opts.name.trim().to_string();
    if name.is_empty() || name.len() > 40 || name.chars().any(|c| c.is_control() || c == ',') {
        return Err(ModuleError::validation(
            "cert::lab_ca: name must be 1-40 characters, without commas",
        ));
    }
    let dir = ctx.resolve_path(opts.out.as_deref().unwrap_or("lab-ca"));
    let planned = LabCa {
        name: name.clone(),
        dir: dir.clone(),
        root: None,
        issuing: None,
        issuing_key: None,
    };
    let key = dir.display().to_string();
    let exists = planned.root_path().exists() || planned.issuing_key_path().exists();
    let change = match load_existing(&name, &dir) {
        Ok(ca) => {
            ctx.unchanged(
                "cert",
                "lab CA",
                &key,
                ca.root.as_ref().map(|r| r.thumbprint.as_str()),
            );
            return Ok(ca);
        }
        Err(why) if exists => {
            ctx.output.note(&format!(
                "cert::lab_ca: replacing the lab CA in {key}: {why}"
            ));
            Change::update("cert", "lab CA", key)
        }
        Err(_) => Change::create("cert", "lab CA", key),
    }
    .field("root", None, json!(planned.root_subject()))
    .field("issuing", None, json!(planned.issuing_subject()));
    let made = ctx.apply(change, async move {
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
        let ca = LabCa {
            name,
            dir,
            root: Some(CertInfo::from_der(root_cert.der()).map_err(ModuleError::io)?),
            issuing: Some(CertInfo::from_der(issuing_cert.der()).map_err(ModuleError::io)?),
            issuing_key: Some(issuing_key),
        };
        let pem_key = zeroize::Zeroizing::new(pem::encode(&pem::Pem::new(
            "PRIVATE KEY",
            ca.issuing_key
                .as_ref()
                .map(|k| k.pkcs8().to_vec())
                .unwrap_or_default(),
        )));
        files::write_atomic(&ca.issuing_key_path(), pem_key.as_bytes(), PRIVATE_MODE)?;
        files::write_atomic(
            &ca.issuing_path(),
            issuing_cert.pem().as_bytes(),
            PUBLIC_MODE,
        )?;
        files::write_atomic(&ca.root_path(), root_cert.pem().as_bytes(), PUBLIC_MODE)?;
        let id = ca
            .root
            .as_ref()
            .map(|r| r.thumbprint.clone())
            .unwrap_or_default();
        Ok(Applied::new(ca).id(id))
    })?;
    Ok(made.unwrap_or(planned))
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

/// `ca.issue`: ensure `out` holds a current certificate from this CA for the CSR.
pub fn issue(ctx: &Ctx, ca: &LabCa, csr: CsrSource, opts: IssueOptions) -> Result<Certificate> {
    if opts.days == 0 || opts.days > 3650 {
        return Err(ModuleError::validation(format!(
            "ca.issue: days must be between 1 and 3650, not {}",
            opts.days
        )));
    }
    let (csr_info, key, default_out, planned_from) = match csr {
        CsrSource::Request(r) => {
            let out = r.csr_path.with_extension("cer");
            let planned = PlannedCert {
                subject: r.spec.subject.display(),
                common_name: r.spec.subject.common_name.clone(),
                sans: r.spec.sans.clone(),
                key_size: r.spec.key_size,
                issuer: ca.issuing_subject(),
            };
            let info = match &r.csr_pem {
                Some(pem) => Some(x509::parse_csr(pem.as_bytes()).map_err(|why| {
                    ModuleError::validation(format!(
                        "ca.issue: {} is not usable: {why}",
                        r.csr_path.display()
                    ))
                })?),
                None => None,
            };
            (info, r.key.clone(), out, planned)
        }
        CsrSource::File(p) => {
            let path = ctx.resolve_path(&p);
            let bytes = files::read(&path, "certificate request")?;
            let info = x509::parse_csr(&bytes).map_err(|why| {
                ModuleError::validation(format!(
                    "ca.issue: {} is not a readable certificate request (the file may be truncated or in another format): {why}",
                    path.display()
                ))
            })?;
            let planned = PlannedCert {
                subject: info.subject.clone(),
                common_name: info.common_name.clone().unwrap_or_default(),
                sans: info.sans.clone(),
                key_size: info.key_size,
                issuer: ca.issuing_subject(),
            };
            (Some(info), None, path.with_extension("cer"), planned)
        }
    };
    let out = opts
        .out
        .as_deref()
        .map(|o| ctx.resolve_path(o))
        .unwrap_or(default_out);
    let key_str = out.display().to_string();
    let chain: Vec<CertInfo> = ca.issuing.iter().chain(ca.root.iter()).cloned().collect();
    let finish = |leaf: CertInfo| -> Certificate {
        let key = key
            .clone()
            .filter(|k| k.public_key().ok().as_ref() == Some(&leaf.public_key));
        let mut c = Certificate::from_parts(leaf, &chain, key);
        c.path = Some(out.clone());
        c
    };

    // Observe the existing certificate.
    let mut before = None;
    if out.exists() {
        let existing = files::read_certificates(&out)
            .ok()
            .and_then(|d| d.first().and_then(|d| CertInfo::from_der(d).ok()));
        if let (Some(e), Some(csr), Some(issuing)) = (&existing, &csr_info, &ca.issuing) {
            let mut a = e.sans.clone();
            let mut b = if csr.sans.is_empty() {
                csr.common_name.clone().into_iter().collect()
            } else {
                csr.sans.clone()
            };
            a.sort();
            b.sort();
            let current = e.issued_by(issuing)
                && e.public_key == csr.public_key
                && e.common_name == csr.common_name
                && a == b
                && e.days_left(OffsetDateTime::now_utc()) > RENEW_DAYS;
            if current {
                ctx.unchanged("cert", "certificate", &key_str, Some(&e.thumbprint));
                return Ok(finish(e.clone()));
            }
        }
        before = Some(json!(existing
            .map(|e| e.thumbprint)
            .unwrap_or_else(|| "(unreadable)".into())));
    }
    let change = if before.is_some() {
        Change::update("cert", "certificate", key_str)
    } else {
        Change::create("cert", "certificate", key_str)
    }
    .field(
        "thumbprint",
        before,
        json!(crate::change::KNOWN_AFTER_APPLY),
    )
    .field("subject", None, json!(planned_from.subject))
    .field("issuer", None, json!(ca.issuing_subject()))
    .field("days", None, json!(opts.days));
    let (Some(csr), true) = (csr_info, ca.issuing.is_some()) else {
        ctx.apply(change, async {
            Err::<Applied<()>, _>(ModuleError::validation(
                "ca.issue: the request or CA does not exist yet",
            ))
        })?;
        return Ok(Certificate::planned(planned_from, key));
    };
    let days = opts.days;
    let ca2 = ca.clone();
    let path = out.clone();
    let issued = ctx.apply(change, async move {
        let leaf = sign(&ca2, &csr, days)?;
        let pem = files::certs_pem(&[&leaf.der]);
        files::write_atomic(&path, pem.as_bytes(), PUBLIC_MODE)?;
        let id = leaf.thumbprint.clone();
        Ok(Applied::new(leaf).id(id))
    })?;
    Ok(match issued {
        Some(leaf) => finish(leaf),
        None => Certificate::planned(planned_from, key),
    })
}
