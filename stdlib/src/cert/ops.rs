//! The work of `cert::request` and `cert::import_cert`: generate or reuse the key and CSR,
//! read an issued certificate and prove it belongs to the key. PFX files are in
//! pfx.rs, the lab CA in lab_ca.rs, the CMG checks in check.rs.

use super::files::{self, PRIVATE_MODE, PUBLIC_MODE};
use super::model::{self, RequestOptions, RequestSpec};
use super::objects::{CertRequest, Certificate, KeyMaterial};
use super::x509::{self, CertInfo, CsrInfo};
use crate::change::{Applied, Change};
use crate::context::Ctx;
use crate::error::{ModuleError, Result};
use ::time::OffsetDateTime;
use rcgen::{
    CertificateParams, DistinguishedName, DnType, DnValue, ExtendedKeyUsagePurpose, KeyPair,
    KeyUsagePurpose, RsaKeySize, SanType,
};
use serde_json::json;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The key and CSR paths for `out` (a path without extension; `.csr`/`.key` are added).
pub fn request_paths(ctx: &Ctx, out: Option<&str>, cn: &str) -> (PathBuf, PathBuf) {
    let base = match out {
        Some(o) => o
            .strip_suffix(".csr")
            .or_else(|| o.strip_suffix(".key"))
            .unwrap_or(o)
            .to_string(),
        None => cn.replace('*', "wildcard"),
    };
    let base = ctx.resolve_path(&base);
    let with_ext = |ext: &str| {
        let mut s = base.clone().into_os_string();
        s.push(ext);
        PathBuf::from(s)
    };
    (with_ext(".key"), with_ext(".csr"))
}

fn key_size_enum(bits: u32) -> RsaKeySize {
    match bits {
        3072 => RsaKeySize::_3072,
        4096 => RsaKeySize::_4096,
        _ => RsaKeySize::_2048,
    }
}

/// The subject attributes (OID, value) in DER order, as the CSR carries them.
fn expected_attrs(spec: &RequestSpec) -> Vec<(String, String)> {
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

fn key_pem(key: &KeyMaterial) -> Zeroizing<String> {
    Zeroizing::new(pem::encode(&pem::Pem::new(
        "PRIVATE KEY",
        key.pkcs8().to_vec(),
    )))
}

/// Why an existing CSR does not say what `spec` asks, or `None` when it does.
fn csr_difference(csr: &CsrInfo, spec: &RequestSpec, public_key: &[u8]) -> Option<String> {
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

/// `cert::request`: ensure the key and CSR files exist and say what the options ask.
pub fn request(ctx: &Ctx, opts: RequestOptions) -> Result<CertRequest> {
    let spec = model::validate_request(&opts)?;
    let (key_path, csr_path) = request_paths(ctx, opts.out.as_deref(), &spec.subject.common_name);
    for n in &spec.notes {
        ctx.output.note(&format!("cert::request: {n}"));
    }

    // The key: reuse an existing one (never replace a private key silently).
    let key = if key_path.exists() {
        let der = files::read_private_key(&key_path).map_err(|e| {
            e.with_hint(format!(
                "move {} away to create a new key, or point `out` elsewhere",
                key_path.display()
            ))
        })?;
        let key = KeyMaterial::new(der);
        let (alg, bits) = key_facts(&key)?;
        if alg != "RSA" || bits != spec.key_size {
            return Err(ModuleError::conflict(format!(
                "cert::request: the existing key {} is {alg} {bits}-bit, but the request asks for RSA {}-bit",
                key_path.display(),
                spec.key_size
            ))
            .with_hint("move the old key and CSR away (or choose another `out`) to create a new key"));
        }
        ctx.unchanged("cert", "private key", &key_path.display().to_string(), None);
        Some(key)
    } else {
        let change = Change::create("cert", "private key", key_path.display().to_string())
            .field("algorithm", None, json!("RSA"))
            .field("key_size", None, json!(spec.key_size))
            .field("mode", None, json!("0600"));
        let bits = spec.key_size;
        let path = key_path.clone();
        ctx.apply(change, async move {
            let key = generate_key(bits)?;
            files::write_atomic(&path, key_pem(&key).as_bytes(), PRIVATE_MODE)?;
            Ok(Applied::new(key))
        })?
    };

    // The CSR: keep it when it already says the same, with the same key.
    let existing_csr = if csr_path.exists() {
        let bytes = files::read(&csr_path, "certificate request")?;
        Some(x509::parse_csr(&bytes))
    } else {
        None
    };
    let csr_key = csr_path.display().to_string();
    let (before, why) = match (&existing_csr, &key) {
        (Some(Ok(csr)), Some(k)) => match csr_difference(csr, &spec, &k.public_key()?) {
            None => {
                ctx.unchanged("cert", "certificate request", &csr_key, None);
                let pem = String::from_utf8_lossy(&files::read(&csr_path, "certificate request")?)
                    .into_owned();
                return Ok(CertRequest {
                    spec,
                    key_path,
                    csr_path,
                    csr_pem: Some(pem),
                    key,
                });
            }
            Some(why) => (Some(json!(csr.subject)), Some(why)),
        },
        (Some(Ok(csr)), None) => (Some(json!(csr.subject)), Some("its key is new".to_string())),
        (Some(Err(e)), _) => (Some(json!("(unreadable)")), Some(e.clone())),
        (None, _) => (None, None),
    };
    if let Some(why) = &why {
        ctx.output.note(&format!(
            "cert::request: replacing {csr_key}: {why}; send the new request to your certificate provider"
        ));
    }
    let change = if before.is_some() {
        Change::update("cert", "certificate request", csr_key)
    } else {
        Change::create("cert", "certificate request", csr_key)
    }
    .field("subject", before, json!(spec.subject.display()))
    .field("san", None, json!(spec.sans))
    .field("eku", None, json!(["Server Authentication"]));
    let csr_pem = match &key {
        Some(k) => {
            let k = k.clone();
            let spec2 = spec.clone();
            let path = csr_path.clone();
            ctx.apply(change, async move {
                let kp = k.key_pair()?;
                let pem = build_csr(&spec2, &kp)?;
                files::write_atomic(&path, pem.as_bytes(), PUBLIC_MODE)?;
                Ok(Applied::new(pem))
            })?
        }
        None => ctx.apply(change, async {
            Err::<Applied<String>, _>(ModuleError::validation("the private key was not created"))
        })?,
    };
    Ok(CertRequest {
        spec,
        key_path,
        csr_path,
        csr_pem,
        key,
    })
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

/// Where `cert::import_cert` takes the private key from.
pub enum KeySource {
    None,
    Request(Box<CertRequest>),
    File(PathBuf),
}

/// Parse every certificate of `paths`, naming the file in errors.
fn read_infos(path: &Path) -> Result<Vec<CertInfo>> {
    files::read_certificates(path)?
        .iter()
        .map(|d| {
            CertInfo::from_der(d).map_err(|why| {
                ModuleError::validation(format!(
                    "{} holds an unreadable certificate: {why}",
                    path.display()
                ))
            })
        })
        .collect()
}

/// Refuse a certificate that is expired or not valid yet.
pub fn ensure_current(info: &CertInfo, now: OffsetDateTime, what: &str) -> Result<()> {
    if info.not_after <= now {
        return Err(ModuleError::validation(format!(
            "{what} {} expired on {} ({} days ago)",
            info.subject,
            x509::rfc3339(info.not_after),
            (now - info.not_after).whole_days()
        ))
        .with_hint("request and import a new certificate (keep the CN's exact case on renewal)"));
    }
    if info.not_before > now {
        return Err(ModuleError::validation(format!(
            "{what} {} is not valid before {}",
            info.subject,
            x509::rfc3339(info.not_before)
        ))
        .with_hint("check the clock of this machine, or wait until the certificate is valid"));
    }
    Ok(())
}

/// `cert::import_cert`: read the issued certificate, prove it belongs to the key, build the chain.
pub fn import(
    ctx: &Ctx,
    certificate: &str,
    chain: &[String],
    key: KeySource,
) -> Result<Certificate> {
    let cert_path = ctx.resolve_path(certificate);
    let mut infos = read_infos(&cert_path)?;
    for c in chain {
        infos.extend(read_infos(&ctx.resolve_path(c))?);
    }
    let (key, key_path) = match key {
        KeySource::None => (None, None),
        KeySource::File(p) => {
            let p = ctx.resolve_path(&p.to_string_lossy());
            (
                Some(KeyMaterial::new(files::read_private_key(&p)?)),
                Some(p),
            )
        }
        KeySource::Request(r) => match r.key {
            Some(k) => (Some(k), Some(r.key_path)),
            None => return Err(ModuleError::validation(format!(
                "cert::import_cert: the private key {} does not exist yet, so {} cannot belong to it",
                r.key_path.display(),
                cert_path.display()
            ))
            .with_hint(
                "run cert::request first, send its CSR to the provider and import what it issues",
            )),
        },
    };
    let leaf_index = match &key {
        Some(k) => {
            let public = k.public_key()?;
            match infos.iter().position(|c| c.public_key == public) {
                Some(i) => i,
                None => {
                    let first = infos.iter().find(|c| !c.is_ca).or(infos.first());
                    let (subject, thumb) = first
                        .map(|c| (c.subject.clone(), c.thumbprint.clone()))
                        .unwrap_or_default();
                    return Err(ModuleError::validation(format!(
                        "cert::import_cert: the certificate {subject} (thumbprint {thumb}) in {} does not match the private key {}",
                        cert_path.display(),
                        key_path.map(|p| p.display().to_string()).unwrap_or_default()
                    ))
                    .with_hint(
                        "import the certificate issued for the CSR made with this key; if the key \
                         was created again since, send the new CSR to the provider",
                    ));
                }
            }
        }
        None => infos.iter().position(|c| !c.is_ca).unwrap_or(0),
    };
    let leaf = infos.remove(leaf_index);
    let now = OffsetDateTime::now_utc();
    ensure_current(&leaf, now, "cert::import_cert: the certificate")?;
    let cert = Certificate::from_parts(leaf, &infos, key);
    let Some(leaf) = &cert.leaf else {
        return Err(ModuleError::validation("cert::import_cert: no certificate"));
    };
    let top = cert.chain.last().unwrap_or(leaf);
    if cert.chain.is_empty() && !cert.chain_complete {
        return Err(missing_issuer(top, &cert_path, chain));
    }
    for c in &cert.chain {
        ensure_current(c, now, "cert::import_cert: the chain certificate")?;
    }
    if !cert.chain_complete {
        ctx.output.note(&format!(
            "cert::import_cert: the chain ends at {}; its issuer {} must be a root that clients trust",
            top.subject, top.issuer
        ));
    }
    let used = cert.chain.len() + 1;
    if infos.len() + 1 > used {
        ctx.output.note(&format!(
            "cert::import_cert: ignored {} certificate(s) that are not in the chain of {}",
            infos.len() + 1 - used,
            leaf.subject
        ));
    }
    Ok(Certificate {
        path: Some(cert_path),
        ..cert
    })
}

/// The "missing intermediate" error.
pub fn missing_issuer(top: &CertInfo, cert_path: &Path, chain: &[String]) -> ModuleError {
    let given = if chain.is_empty() {
        "no `chain` was given".to_string()
    } else {
        format!("it is not in {}", chain.join(", "))
    };
    ModuleError::validation(format!(
        "the chain of {} is incomplete: the intermediate certificate {} that issued it is missing ({given})",
        top.subject, top.issuer
    ))
    .with_hint(format!(
        "download the intermediate certificate(s) from your provider and pass them as `chain` \
         (PEM, DER or .p7b) next to {}",
        cert_path.display()
    ))
}
