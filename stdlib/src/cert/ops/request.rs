//! `cert::request`: the private key and the certificate request, two file resources.
//! A key is never replaced: an existing one of another size is an error. A request is
//! rewritten when it no longer says what the options ask.

use crate::cert::csr::{build_csr, csr_difference, generate_key, key_facts, key_pem};
use crate::cert::files::{self, PRIVATE_MODE, PUBLIC_MODE};
use crate::cert::model::{self, RequestOptions, RequestSpec};
use crate::cert::objects::{CertRequest, KeyMaterial};
use crate::cert::x509;
use crate::change::{ensure, Known, Op, Outcome, Resource, ResourceId, Written};
use crate::cloud::access::Writer;
use crate::context::Ctx;
use crate::error::{ModuleError, Result};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const MODULE: &str = "cert";

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

/// `cert::request`: ensure the key and CSR files exist and say what the options ask.
pub fn request(ctx: &Ctx, opts: RequestOptions) -> Result<CertRequest> {
    let spec = model::validate_request(&opts)?;
    let (key_path, csr_path) = request_paths(ctx, opts.out.as_deref(), &spec.subject.common_name);
    for n in &spec.notes {
        ctx.output.note(&format!("cert::request: {n}"));
    }
    let key = ensure(
        ctx,
        PrivateKey {
            path: &key_path,
            bits: spec.key_size,
            key: Mutex::new(None),
        },
    )?;
    let csr_pem = ensure(
        ctx,
        Request {
            path: &csr_path,
            spec: &spec,
            key: &key,
            pem: Mutex::new(None),
        },
    )?;
    Ok(CertRequest {
        spec,
        key_path,
        csr_path,
        csr_pem,
        key,
    })
}

/// A hex SHA-256 of a public key: how plans compare keys without showing them.
fn fingerprint(public_key: &[u8]) -> String {
    Sha256::digest(public_key)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The RSA private key file (PKCS#8 PEM, 0600).
struct PrivateKey<'a> {
    path: &'a Path,
    bits: u32,
    /// The key read or made, for the output (never in a JSON value).
    key: Mutex<Option<KeyMaterial>>,
}

impl Resource for PrivateKey<'_> {
    type Output = Known<KeyMaterial>;

    fn id(&self, _observed: Option<&Value>) -> ResourceId {
        ResourceId::new(MODULE, "private key", self.path.display().to_string())
    }

    fn observe(&self, _ctx: &Ctx) -> Result<Option<Value>> {
        if !self.path.exists() {
            return Ok(None);
        }
        let der = files::read_private_key(self.path).map_err(|e| {
            e.with_hint(format!(
                "move {} away to create a new key, or point `out` elsewhere",
                self.path.display()
            ))
        })?;
        let key = KeyMaterial::new(der);
        let (alg, bits) = key_facts(&key)?;
        *self.key.lock().unwrap_or_else(|p| p.into_inner()) = Some(key);
        Ok(Some(json!({"algorithm": alg, "key_size": bits})))
    }

    fn desired(&self, observed: Option<&Value>) -> Result<Value> {
        let want = json!({"algorithm": "RSA", "key_size": self.bits});
        match observed {
            None => Ok(json!({"algorithm": "RSA", "key_size": self.bits, "mode": "0600"})),
            // Never replace a private key: a certificate may already be issued for it.
            Some(o) if *o != want => Err(ModuleError::conflict(format!(
                "cert::request: the existing key {} is {} {}-bit, but the request asks for RSA {}-bit",
                self.path.display(),
                o["algorithm"].as_str().unwrap_or("?"),
                o["key_size"],
                self.bits
            ))
            .with_hint("move the old key and CSR away (or choose another `out`) to create a new key")),
            Some(_) => Ok(want),
        }
    }

    async fn write(&self, w: &Writer<'_>, _op: Op<'_>) -> Result<Written> {
        let key = generate_key(self.bits)?;
        w.write_file(self.path, key_pem(&key).as_bytes(), PRIVATE_MODE)?;
        *self.key.lock().unwrap_or_else(|p| p.into_inner()) = Some(key);
        Ok(Written::default())
    }

    fn output(self, outcome: Outcome) -> Result<Known<KeyMaterial>> {
        Ok(match outcome {
            Outcome::Planned { .. } => Known::AfterApply,
            _ => self
                .key
                .into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .into(),
        })
    }
}

/// The PKCS#10 request file (PEM, 0644) for the key.
struct Request<'a> {
    path: &'a Path,
    spec: &'a RequestSpec,
    key: &'a Known<KeyMaterial>,
    /// The PEM text read or written.
    pem: Mutex<Option<String>>,
}

impl Request<'_> {
    fn key_fingerprint(&self) -> Result<Option<String>> {
        self.key
            .value()
            .map(|k| k.public_key().map(|p| fingerprint(&p)))
            .transpose()
    }
}

impl Resource for Request<'_> {
    type Output = Known<String>;

    fn id(&self, _observed: Option<&Value>) -> ResourceId {
        ResourceId::new(
            MODULE,
            "certificate request",
            self.path.display().to_string(),
        )
    }

    /// What the existing request says, in the desired body's terms: its subject reads as
    /// the spec's when the attributes are the same ones in the same order.
    fn observe(&self, ctx: &Ctx) -> Result<Option<Value>> {
        if !self.path.exists() {
            return Ok(None);
        }
        let bytes = files::read(self.path, "certificate request")?;
        let csr = match x509::parse_csr(&bytes) {
            Ok(c) => c,
            Err(why) => {
                ctx.output.note(&format!(
                    "cert::request: replacing {}: {why}; send the new request to your certificate provider",
                    self.path.display()
                ));
                return Ok(Some(json!({"subject": "(unreadable)"})));
            }
        };
        let public = fingerprint(&csr.public_key);
        let why = match self.key.value() {
            Some(k) => csr_difference(&csr, self.spec, &k.public_key()?),
            None => Some("its key is new".to_string()),
        };
        match &why {
            None => {
                *self.pem.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(String::from_utf8_lossy(&bytes).into_owned());
            }
            Some(why) => ctx.output.note(&format!(
                "cert::request: replacing {}: {why}; send the new request to your certificate provider",
                self.path.display()
            )),
        }
        let same_subject = csr.subject_attrs == crate::cert::csr::expected_attrs(self.spec);
        Ok(Some(json!({
            "subject": if same_subject { self.spec.subject.display() } else { csr.subject.clone() },
            "san": csr.sans,
            "eku": if csr.server_auth { json!(["Server Authentication"]) } else { json!([]) },
            "public_key": public,
        })))
    }

    fn desired(&self, _observed: Option<&Value>) -> Result<Value> {
        Ok(json!({
            "subject": self.spec.subject.display(),
            "san": self.spec.sans,
            "eku": ["Server Authentication"],
            "public_key": self.key_fingerprint()?,
        }))
    }

    fn unknown_fields(&self, _observed: Option<&Value>) -> Vec<&'static str> {
        if self.key.is_known() {
            Vec::new()
        } else {
            vec!["public_key"]
        }
    }

    async fn write(&self, w: &Writer<'_>, _op: Op<'_>) -> Result<Written> {
        let key = self
            .key
            .value()
            .ok_or_else(|| ModuleError::validation("the private key was not created"))?;
        let pem = build_csr(self.spec, &key.key_pair()?)?;
        w.write_file(self.path, pem.as_bytes(), PUBLIC_MODE)?;
        *self.pem.lock().unwrap_or_else(|p| p.into_inner()) = Some(pem);
        Ok(Written::default())
    }

    fn output(self, outcome: Outcome) -> Result<Known<String>> {
        Ok(match outcome {
            Outcome::Planned { .. } => Known::AfterApply,
            _ => self
                .pem
                .into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .into(),
        })
    }
}
