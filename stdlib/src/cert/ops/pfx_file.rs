//! `cert::export_pfx` (the PFX file: key, leaf and chain, password-protected, 0600) and
//! `cert::load_pfx`.

use super::import::ensure_current;
use crate::cert::files::{self, PRIVATE_MODE};
use crate::cert::model::{ExportOptions, PfxFormat};
use crate::cert::objects::Certificate;
use crate::cert::pfx::{build_pfx, detect_format, open_pfx};
use crate::change::{ensure, Op, Outcome, Resource, ResourceId, Written};
use crate::cloud::access::Writer;
use crate::context::Ctx;
use crate::error::{ModuleError, Result};
use crate::secret::{Secret, REDACTED};
use ::time::OffsetDateTime;
use serde_json::{json, Value};
use std::path::PathBuf;
use zeroize::Zeroizing;

/// `cert::load_pfx`.
pub fn load_pfx(ctx: &Ctx, path: &str, password: &Secret) -> Result<Certificate> {
    let path = ctx.resolve_path(path);
    let bytes = files::read_secret(&path, "PFX file")?;
    open_pfx(&path, &bytes, password)
}

/// `cert::export_pfx`: ensure `out` is a PFX with this key, leaf and chain, in `format`.
pub fn export_pfx(
    ctx: &Ctx,
    cert: &Certificate,
    opts: &ExportOptions,
    password: &Secret,
) -> Result<Certificate> {
    let f = "cert::export_pfx";
    if password.is_empty() {
        return Err(
            ModuleError::validation(format!("{f}: the password is empty"))
                .with_hint("a PFX holding a private key must be password-protected"),
        );
    }
    if !cert.is_planned() && cert.key.is_none() {
        return Err(ModuleError::validation(format!(
            "{f}: the certificate {} has no private key, so it can't go into a PFX",
            cert.subject()
        ))
        .with_hint(
            "import it with its key: cert::import_cert(#{ certificate: ..., key: request })",
        ));
    }
    if let Some(leaf) = &cert.leaf {
        ensure_current(
            leaf,
            OffsetDateTime::now_utc(),
            &format!("{f}: the certificate"),
        )?;
    }
    let out = ctx.resolve_path(&opts.out);
    ensure(
        ctx,
        PfxFile {
            out,
            cert,
            opts,
            password,
        },
    )
}

struct PfxFile<'a> {
    out: PathBuf,
    cert: &'a Certificate,
    opts: &'a ExportOptions,
    password: &'a Secret,
}

impl PfxFile<'_> {
    /// The chain certificates that go into the file.
    fn chain(&self) -> Vec<String> {
        if !self.opts.include_chain {
            return Vec::new();
        }
        self.cert
            .chain
            .iter()
            .map(|c| c.thumbprint.clone())
            .collect()
    }
}

impl Resource for PfxFile<'_> {
    type Output = Certificate;

    fn id(&self, _observed: Option<&Value>) -> ResourceId {
        ResourceId::new("cert", "PFX file", self.out.display().to_string())
    }

    /// What the existing file holds, opened with this password.
    fn observe(&self, _ctx: &Ctx) -> Result<Option<Value>> {
        if !self.out.exists() {
            return Ok(None);
        }
        let bytes = files::read_secret(&self.out, "PFX file")?;
        let Ok(existing) = open_pfx(&self.out, &bytes, self.password) else {
            return Ok(Some(
                json!({"thumbprint": "(unreadable with this password)"}),
            ));
        };
        let same_key = match (&existing.key, &self.cert.key) {
            (Some(a), Some(b)) => {
                a.pkcs8() == b.pkcs8() || a.public_key().ok() == b.public_key().ok()
            }
            _ => false,
        };
        Ok(Some(json!({
            "thumbprint": existing.leaf.as_ref().map(|l| l.thumbprint.clone()),
            "key": if same_key { "this certificate's key" } else { "another key" },
            "chain": existing.chain.iter().map(|c| c.thumbprint.clone()).collect::<Vec<_>>(),
            "format": detect_format(&bytes).map(PfxFormat::as_str),
        })))
    }

    fn desired(&self, observed: Option<&Value>) -> Result<Value> {
        let mut want = json!({
            "thumbprint": self.cert.leaf.as_ref().map(|l| l.thumbprint.clone()),
            "key": "this certificate's key",
            "chain": self.chain(),
            "format": self.opts.format.as_str(),
        });
        if observed.is_none() {
            want["password"] = json!(REDACTED);
            want["mode"] = json!("0600");
        }
        Ok(want)
    }

    fn unknown_fields(&self, _observed: Option<&Value>) -> Vec<&'static str> {
        if self.cert.is_planned() {
            vec!["thumbprint", "chain"]
        } else {
            Vec::new()
        }
    }

    async fn write(&self, w: &Writer<'_>, _op: Op<'_>) -> Result<Written> {
        if self.cert.is_planned() {
            return Err(ModuleError::validation(
                "cert::export_pfx: the certificate does not exist yet",
            ));
        }
        let bytes = Zeroizing::new(build_pfx(
            self.cert,
            self.password,
            self.opts.include_chain,
            self.opts.format,
        )?);
        w.write_file(&self.out, &bytes, PRIVATE_MODE)?;
        let thumb = self
            .cert
            .leaf
            .as_ref()
            .map(|l| l.thumbprint.clone())
            .unwrap_or_default();
        Ok(Written::default().id(thumb))
    }

    fn output(self, _outcome: Outcome) -> Result<Certificate> {
        let mut result = self.cert.clone();
        result.pfx_path = Some(self.out);
        Ok(result)
    }
}
