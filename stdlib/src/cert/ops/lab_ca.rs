//! `cert::lab_ca` (the lab CA's folder: root, issuing certificate and issuing key) and
//! `ca.issue` (a certificate file signed by it). Lab only: the emulator and tests.

use crate::cert::files::{self, PRIVATE_MODE, PUBLIC_MODE};
use crate::cert::lab_ca::{generate, load_existing, sign, CsrSource, RENEW_DAYS};
use crate::cert::model::{IssueOptions, LabCaOptions};
use crate::cert::objects::{Certificate, KeyMaterial, LabCa, PlannedCert};
use crate::cert::x509::{self, CertInfo, CsrInfo};
use crate::change::{ensure, Op, Outcome, Resource, ResourceId, Written};
use crate::cloud::access::Writer;
use crate::context::Ctx;
use crate::error::{ModuleError, Result};
use ::time::OffsetDateTime;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Mutex;

const MODULE: &str = "cert";

/// `cert::lab_ca`: ensure a lab CA exists under `out` (default `lab-ca/`).
pub fn lab_ca(ctx: &Ctx, opts: LabCaOptions) -> Result<LabCa> {
    let name = opts.name.trim().to_string();
    if name.is_empty() || name.len() > 40 || name.chars().any(|c| c.is_control() || c == ',') {
        return Err(ModuleError::validation(
            "cert::lab_ca: name must be 1-40 characters, without commas",
        ));
    }
    let dir = ctx.resolve_path(opts.out.as_deref().unwrap_or("lab-ca"));
    ensure(
        ctx,
        LabCaFolder {
            planned: LabCa {
                name,
                dir,
                root: None,
                issuing: None,
                issuing_key: None,
            },
            ca: Mutex::new(None),
        },
    )
}

struct LabCaFolder {
    /// The CA as named, without certificates.
    planned: LabCa,
    /// The CA loaded or made.
    ca: Mutex<Option<LabCa>>,
}

impl Resource for LabCaFolder {
    type Output = LabCa;

    fn id(&self, _observed: Option<&Value>) -> ResourceId {
        ResourceId::new(MODULE, "lab CA", self.planned.dir.display().to_string())
            .label(&self.planned.name)
    }

    /// The CA when it is complete and usable; a broken or expiring one reads as such.
    fn observe(&self, ctx: &Ctx) -> Result<Option<Value>> {
        let p = &self.planned;
        match load_existing(&p.name, &p.dir) {
            Ok(ca) => {
                let seen = json!({
                    "root": p.root_subject(),
                    "issuing": p.issuing_subject(),
                    "thumbprint": ca.root.as_ref().map(|r| r.thumbprint.clone()),
                });
                *self.ca.lock().unwrap_or_else(|e| e.into_inner()) = Some(ca);
                Ok(Some(seen))
            }
            Err(why) if p.root_path().exists() || p.issuing_key_path().exists() => {
                ctx.output.note(&format!(
                    "cert::lab_ca: replacing the lab CA in {}: {why}",
                    p.dir.display()
                ));
                Ok(Some(json!({"root": format!("(unusable: {why})")})))
            }
            Err(_) => Ok(None),
        }
    }

    fn desired(&self, _observed: Option<&Value>) -> Result<Value> {
        Ok(json!({
            "root": self.planned.root_subject(),
            "issuing": self.planned.issuing_subject(),
        }))
    }

    async fn write(&self, w: &Writer<'_>, _op: Op<'_>) -> Result<Written> {
        let (ca, [key_pem, issuing_pem, root_pem]) =
            generate(&self.planned.name, &self.planned.dir)?;
        w.write_file(&ca.issuing_key_path(), key_pem.as_bytes(), PRIVATE_MODE)?;
        w.write_file(&ca.issuing_path(), issuing_pem.as_bytes(), PUBLIC_MODE)?;
        w.write_file(&ca.root_path(), root_pem.as_bytes(), PUBLIC_MODE)?;
        let thumb = ca
            .root
            .as_ref()
            .map(|r| r.thumbprint.clone())
            .unwrap_or_default();
        *self.ca.lock().unwrap_or_else(|e| e.into_inner()) = Some(ca);
        Ok(Written::default().id(thumb))
    }

    fn output(self, outcome: Outcome) -> Result<LabCa> {
        let loaded = self.ca.into_inner().unwrap_or_else(|e| e.into_inner());
        Ok(match outcome {
            Outcome::Planned { .. } => self.planned,
            _ => loaded.unwrap_or(self.planned),
        })
    }
}

/// `ca.issue`: ensure `out` holds a current certificate from this CA for the CSR.
pub fn issue(ctx: &Ctx, ca: &LabCa, csr: CsrSource, opts: IssueOptions) -> Result<Certificate> {
    if opts.days == 0 || opts.days > 3650 {
        return Err(ModuleError::validation(format!(
            "ca.issue: days must be between 1 and 3650, not {}",
            opts.days
        )));
    }
    let (csr, key, default_out, planned) = match csr {
        CsrSource::Request(r) => {
            let out = r.csr_path.with_extension("cer");
            let planned = PlannedCert {
                subject: r.spec.subject.display(),
                common_name: r.spec.subject.common_name.clone(),
                sans: r.spec.sans.clone(),
                key_size: r.spec.key_size,
                issuer: ca.issuing_subject(),
            };
            let info = match r.csr_pem.value() {
                Some(pem) => Some(x509::parse_csr(pem.as_bytes()).map_err(|why| {
                    ModuleError::validation(format!(
                        "ca.issue: {} is not usable: {why}",
                        r.csr_path.display()
                    ))
                })?),
                None => None,
            };
            (info, r.key.clone().into_option(), out, planned)
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
    ensure(
        ctx,
        LabCertificate {
            ca,
            csr,
            key,
            planned,
            out,
            days: opts.days,
            leaf: Mutex::new(None),
        },
    )
}

struct LabCertificate<'a> {
    ca: &'a LabCa,
    /// Unknown while a plan creates the request.
    csr: Option<CsrInfo>,
    key: Option<KeyMaterial>,
    planned: PlannedCert,
    out: PathBuf,
    days: u32,
    /// The certificate found current, or the one signed.
    leaf: Mutex<Option<CertInfo>>,
}

impl LabCertificate<'_> {
    /// The names a certificate for this request carries: its SANs, else its CN.
    fn names(csr: &CsrInfo) -> Vec<String> {
        let mut n = if csr.sans.is_empty() {
            csr.common_name.clone().into_iter().collect()
        } else {
            csr.sans.clone()
        };
        n.sort();
        n
    }
}

impl Resource for LabCertificate<'_> {
    type Output = Certificate;

    fn id(&self, _observed: Option<&Value>) -> ResourceId {
        ResourceId::new(MODULE, "certificate", self.out.display().to_string())
    }

    /// The existing certificate, read as "current" when this CA issued it for this
    /// request's key and names and it is not due for renewal.
    fn observe(&self, _ctx: &Ctx) -> Result<Option<Value>> {
        if !self.out.exists() {
            return Ok(None);
        }
        let existing = files::read_certificates(&self.out)
            .ok()
            .and_then(|d| d.first().and_then(|d| CertInfo::from_der(d).ok()));
        let Some(e) = existing else {
            return Ok(Some(
                json!({"thumbprint": "(unreadable)", "current": false}),
            ));
        };
        let current = match (&self.csr, &self.ca.issuing) {
            (Some(csr), Some(issuing)) => {
                let mut names = e.sans.clone();
                names.sort();
                e.issued_by(issuing)
                    && e.public_key == csr.public_key
                    && e.common_name == csr.common_name
                    && names == Self::names(csr)
                    && e.days_left(OffsetDateTime::now_utc()) > RENEW_DAYS
            }
            _ => false,
        };
        let seen = json!({"thumbprint": e.thumbprint, "current": current});
        if current {
            *self.leaf.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
        }
        Ok(Some(seen))
    }

    fn desired(&self, observed: Option<&Value>) -> Result<Value> {
        if observed.is_some_and(|o| o["current"] == json!(true)) {
            return Ok(json!({"current": true}));
        }
        let mut want = json!({
            "subject": self.planned.subject,
            "issuer": self.ca.issuing_subject(),
            "days": self.days,
        });
        if observed.is_some() {
            want["current"] = json!(true);
        }
        Ok(want)
    }

    fn unknown_fields(&self, _observed: Option<&Value>) -> Vec<&'static str> {
        vec!["thumbprint"]
    }

    async fn write(&self, w: &Writer<'_>, _op: Op<'_>) -> Result<Written> {
        let (Some(csr), true) = (&self.csr, self.ca.issuing.is_some()) else {
            return Err(ModuleError::validation(
                "ca.issue: the request or CA does not exist yet",
            ));
        };
        let leaf = sign(self.ca, csr, self.days)?;
        w.write_file(
            &self.out,
            files::certs_pem(&[&leaf.der]).as_bytes(),
            PUBLIC_MODE,
        )?;
        let thumb = leaf.thumbprint.clone();
        *self.leaf.lock().unwrap_or_else(|p| p.into_inner()) = Some(leaf.clone());
        Ok(Written::new(json!({"thumbprint": thumb})).id(thumb))
    }

    fn output(self, outcome: Outcome) -> Result<Certificate> {
        let leaf = self.leaf.into_inner().unwrap_or_else(|p| p.into_inner());
        let (Some(leaf), false) = (leaf, matches!(outcome, Outcome::Planned { .. })) else {
            return Ok(Certificate::planned(self.planned, self.key));
        };
        let chain: Vec<CertInfo> = self
            .ca
            .issuing
            .iter()
            .chain(self.ca.root.iter())
            .cloned()
            .collect();
        let key = self
            .key
            .filter(|k| k.public_key().ok().as_ref() == Some(&leaf.public_key));
        let mut c = Certificate::from_parts(leaf, &chain, key);
        c.path = Some(self.out);
        Ok(c)
    }
}
