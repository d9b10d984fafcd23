//! `cert::import_cert`: read the issued certificate, prove it belongs to the key, and
//! build its chain. Reads only: nothing is written.

use crate::cert::files;
use crate::cert::objects::{CertRequest, Certificate, KeyMaterial};
use crate::cert::x509::{self, CertInfo};
use crate::context::Ctx;
use crate::error::{ModuleError, Result};
use ::time::OffsetDateTime;
use std::path::{Path, PathBuf};

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
        KeySource::Request(r) => match r.key.into_option() {
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
