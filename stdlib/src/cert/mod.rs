//! `cert` script module: the CMG server-authentication certificate from CSR to PFX.
//! Bindings only; the rules are in model.rs, the work in ops.rs, pfx.rs, lab_ca.rs and
//! check.rs.

pub mod check;
pub mod csr;
pub mod files;
pub mod lab_ca;
pub mod model;
pub mod objects;
pub mod ops;
pub mod pfx;
pub mod x509;

pub use crate::preflight::{Finding, Severity};
pub use objects::{CertRequest, Certificate, KeyMaterial, LabCa};

use crate::change::{Known, AFTER_APPLY_TEXT};
use crate::context::Ctx;
use crate::error::{at, ModuleError};
use crate::options;
use crate::values::strings;
use rhai::plugin::*;
use rhai::{Array, Map, INT};

/// A value a plan may not know yet, as scripts see it.
fn known(v: Option<String>) -> Dynamic {
    Dynamic::from(Known::from(v).text().to_string())
}

fn path_text(p: &std::path::Path) -> String {
    p.display().to_string()
}

#[export_module]
pub mod api {
    use super::*;
    use crate::cert::lab_ca::CsrSource;
    use crate::cert::ops::KeySource;

    /// Create (or reuse) the private key and the certificate signing request (CSR) for the
    /// CMG server-authentication certificate.
    ///
    /// Writes `<out>.key` (the RSA private key, PKCS#8 PEM, mode 0600, never printed) and
    /// `<out>.csr` (PEM PKCS#10) with the subject, a DNS SAN and the Server Authentication
    /// EKU. Send the CSR to your certificate provider. Re-running with the same options
    /// changes nothing; an existing key is never replaced (a different subject or SAN
    /// list gives a new CSR from the same key).
    ///
    /// # Options
    /// - `common_name` (string, required): the CMG service name, e.g.
    ///   `GraniteFalls.contoso.com`; a DNS name in a domain you own. Not under
    ///   `cloudapp.azure.com` / `cloudapp.net`: a public provider can't issue a
    ///   certificate for an Azure domain. `*.contoso.com` is allowed (wildcard).
    /// - `san` (string or array, default: the CN): DNS subject alternative names; the CN is
    ///   added when missing.
    /// - `organization` (string, optional): O, e.g. `Contoso`.
    /// - `department` (string, optional): OU, e.g. `IT`.
    /// - `city` (string, optional): L, e.g. `Redmond`.
    /// - `state` (string, optional): S, e.g. `WA`.
    /// - `country` (string, optional): two-letter ISO 3166 code (`US`), upper-cased.
    /// - `key_size` (int, default 2048): 2048, 3072 or 4096.
    /// - `out` (string, default: the CN): path without extension, relative to the working directory.
    /// - `allow_azure_domain` (bool, default false): allow a CN in an Azure domain
    ///   (enterprise PKI only).
    ///
    /// # Returns
    /// A `CertRequest`: `subject`, `common_name`, `sans`, `key_size`, `key_path`,
    /// `csr_path`, `csr` (PEM text), `service_name`, `deployment_name(region)`.
    ///
    /// # Permission
    /// None (local files).
    ///
    /// # Example
    /// ```rhai
    /// let req = cert::request(#{
    ///     common_name: "GraniteFalls.contoso.com",
    ///     organization: "Contoso", department: "IT", city: "Redmond",
    ///     state: "WA", country: "US",
    ///     out: "certs/cmg",
    /// });
    /// print(req.subject);   // CN=GraniteFalls.contoso.com, OU=IT, O=Contoso, L=Redmond, S=WA, C=US
    /// print(req.csr_path);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn request(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<CertRequest, Box<EvalAltResult>> {
        let c = Ctx::of(&ctx)?;
        let opts =
            options::parse::<model::RequestOptions>("cert::request", options).map_err(at(&ctx))?;
        ops::request(&c, opts).map_err(at(&ctx))
    }

    /// Import the certificate your provider issued: prove it belongs to the request's
    /// private key and build its issuer chain.
    ///
    /// (Named `import_cert` because `import` is a Rhai keyword.)
    ///
    /// Reads PEM, DER or PKCS#7 (`.p7b`) files; a `.p7b` may carry the intermediates. An
    /// expired certificate, one that does not match the key, or a chain without the
    /// intermediate that issued it is an error. Nothing is written.
    ///
    /// # Options
    /// - `certificate` (string, required): the issued certificate file.
    /// - `chain` (string or array, optional): intermediate (and root) certificate files.
    /// - `key` (`CertRequest` or string, optional): the request whose key the certificate
    ///   must match, or a private key file (PEM or DER, PKCS#8 or PKCS#1). Without it the
    ///   certificate has no key and can't be exported as a PFX.
    ///
    /// # Returns
    /// A `Certificate` with its chain and key.
    ///
    /// # Permission
    /// None (local files).
    ///
    /// # Example
    /// ```rhai
    /// let req = cert::request(#{ common_name: "cmg.contoso.com", out: "certs/cmg" });
    /// let ca = cert::lab_ca();
    /// ca.issue(req, #{ out: "certs/issued.cer" });
    /// let cert = cert::import_cert(#{ certificate: "certs/issued.cer", chain: ["lab-ca/issuing.cer", "lab-ca/root.cer"], key: req });
    /// print(cert.thumbprint);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn import_cert(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<Certificate, Box<EvalAltResult>> {
        let c = Ctx::of(&ctx)?;
        let mut options = options;
        let key = match options.remove("key") {
            None => KeySource::None,
            Some(k) if k.is_unit() => KeySource::None,
            Some(k) if k.is::<CertRequest>() => {
                KeySource::Request(Box::new(k.cast::<CertRequest>()))
            }
            Some(k) if k.is_string() => KeySource::File(k.into_string().unwrap_or_default().into()),
            Some(k) => {
                return Err(at(&ctx)(ModuleError::validation(format!(
                "cert::import_cert: option `key` must be a CertRequest or a key file path, not {}",
                k.type_name()
            ))))
            }
        };
        let opts = options::parse::<model::ImportOptions>("cert::import_cert", options)
            .map_err(at(&ctx))?;
        let chain = opts.chain.map(|c| c.into_vec()).unwrap_or_default();
        ops::import(&c, &opts.certificate, &chain, key).map_err(at(&ctx))
    }

    /// Export a certificate with its private key and chain as a password-protected PFX.
    ///
    /// The file is written atomically with mode 0600. Re-running with the same
    /// certificate, password and format changes nothing. The password never appears in
    /// output, plans or the journal.
    ///
    /// # Options
    /// - `out` (string, required): the PFX path, relative to the working directory.
    /// - `password` (secret or string, required): from `secret("ENV_VAR")` or
    ///   `secret_prompt("...")`; a plain string is accepted for labs.
    /// - `include_chain` (bool, default true): include the intermediates and root.
    /// - `format` (string, default `"aes256"`): `"aes256"` (Windows 10 1709 / Server 2019
    ///   and later) or `"3des"` (Windows Server 2016 and older, which otherwise report a
    ///   wrong password).
    ///
    /// # Returns
    /// The `Certificate`, with `pfx_path` set.
    ///
    /// # Permission
    /// None (local files).
    ///
    /// # Example
    /// ```rhai
    /// let req = cert::request(#{ common_name: "cmg.contoso.com", out: "certs/cmg" });
    /// let cert = cert::lab_ca().issue(req);
    /// cert::export_pfx(cert, #{ out: "certs/cmg.pfx", password: "lab-only-password" });
    /// cert::export_pfx(cert, #{ out: "certs/cmg-2016.pfx", password: "lab-only-password", format: "3des" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn export_pfx(
        ctx: NativeCallContext,
        cert: Certificate,
        options: Map,
    ) -> Result<Certificate, Box<EvalAltResult>> {
        let c = Ctx::of(&ctx)?;
        let f = "cert::export_pfx";
        let mut options = options;
        let password = options::take_secret(f, &mut options, "password").map_err(at(&ctx))?;
        let opts = options::parse::<model::ExportOptions>(f, options).map_err(at(&ctx))?;
        let Some(password) = password else {
            return Err(at(&ctx)(
                ModuleError::validation(format!("{f}: option `password` is required"))
                    .with_hint("password: secret(\"COMGMT_PFX_PASSWORD\")"),
            ));
        };
        ops::export_pfx(&c, &cert, &opts, &password).map_err(at(&ctx))
    }

    /// Open a PFX file: the certificate, its chain and private key, and the CMG names the
    /// wizard derives from it.
    ///
    /// A wrong password is reported as "wrong password"; a truncated or foreign file as
    /// not readable.
    ///
    /// # Returns
    /// A `Certificate`: `subject`, `sans`, `ekus`, `key_algorithm`, `key_size`,
    /// `not_before`, `not_after`, `thumbprint`, `issuer`, `chain`, `service_name`,
    /// `deployment_name(region)`.
    ///
    /// # Permission
    /// None (local files).
    ///
    /// # Example
    /// ```rhai
    /// let req = cert::request(#{ common_name: "GraniteFalls.contoso.com", out: "certs/cmg" });
    /// cert::export_pfx(cert::lab_ca().issue(req), #{ out: "certs/cmg.pfx", password: "lab-only-password" });
    /// let cert = cert::load_pfx("certs/cmg.pfx", "lab-only-password");
    /// print(cert.service_name);                 // GraniteFalls.contoso.com
    /// print(cert.deployment_name("westus"));    // GraniteFalls.westus.cloudapp.azure.com
    /// ```
    #[rhai_fn(return_raw)]
    pub fn load_pfx(
        ctx: NativeCallContext,
        path: &str,
        password: Dynamic,
    ) -> Result<Certificate, Box<EvalAltResult>> {
        let c = Ctx::of(&ctx)?;
        let password = options::secret_from_dynamic("cert::load_pfx", "password", password)
            .map_err(at(&ctx))?;
        ops::load_pfx(&c, path, &password).map_err(at(&ctx))
    }

    /// Check a certificate against what a CMG needs, with default options.
    ///
    /// See `check_cmg(cert, options)`.
    ///
    /// # Returns
    /// An array of `Finding`.
    ///
    /// # Permission
    /// None (local).
    ///
    /// # Example
    /// ```rhai
    /// let req = cert::request(#{ common_name: "cmg.contoso.com", out: "certs/cmg" });
    /// for f in cert::check_cmg(cert::lab_ca().issue(req)) { print(f); }
    /// ```
    #[rhai_fn(name = "check_cmg", return_raw)]
    pub fn check_cmg_default(
        ctx: NativeCallContext,
        cert: Certificate,
    ) -> Result<Array, Box<EvalAltResult>> {
        check_cmg(ctx, cert, Map::new())
    }

    /// Check a certificate against what a CMG needs: the preflight admins get wrong.
    ///
    /// Checks: RSA key of at least 2048 bits; Server Authentication EKU; the SAN contains
    /// the CN; not expired, not expiring within 30 days; chain complete to a root;
    /// private key present; the name prefix is a DNS label and, with content, 3-24
    /// lowercase letters and digits (storage account); wildcard service names; the
    /// deployment name in `region`; the CN's case against an existing CMG on renewal.
    ///
    /// # Options
    /// - `region` (string, optional): the Azure region, e.g. `westus`; adds the deployment name.
    /// - `content` (bool, default true): the CMG serves content (prefix must be a storage
    ///   account name).
    /// - `service_name` (string, optional): for a wildcard certificate, the service name
    ///   to use (`GraniteFalls.contoso.com` for `*.contoso.com`).
    /// - `existing_service_name` (string, optional): the service name of the CMG this
    ///   certificate renews; the CN must match it exactly, case included.
    ///
    /// # Returns
    /// An array of `Finding` (`check`, `severity`: `error`/`warning`/`info`, `message`,
    /// `fix`); empty when all is well.
    ///
    /// # Permission
    /// None (local).
    ///
    /// # Example
    /// ```rhai
    /// let req = cert::request(#{ common_name: "GraniteFalls.contoso.com", out: "certs/cmg" });
    /// let findings = cert::check_cmg(cert::lab_ca().issue(req), #{ region: "westus", content: true });
    /// for f in findings { print(`${f.severity}: ${f.message}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn check_cmg(
        ctx: NativeCallContext,
        cert: Certificate,
        options: Map,
    ) -> Result<Array, Box<EvalAltResult>> {
        let opts =
            options::parse::<model::CheckOptions>("cert::check_cmg", options).map_err(at(&ctx))?;
        if let Some(r) = &opts.region {
            crate::cmg::names::validate_region(r).map_err(at(&ctx))?;
        }
        let findings = check::check_cmg(&cert, &opts, ::time::OffsetDateTime::now_utc());
        Ok(findings.into_iter().map(Dynamic::from).collect())
    }

    /// A lab certificate authority with default options (name "comgmt Lab", folder `lab-ca`).
    ///
    /// See `lab_ca(options)`.
    ///
    /// # Returns
    /// A `LabCa`.
    ///
    /// # Permission
    /// None (local files).
    ///
    /// # Example
    /// ```rhai
    /// let ca = cert::lab_ca();
    /// print(ca.root_subject);
    /// ```
    #[rhai_fn(name = "lab_ca", return_raw)]
    pub fn lab_ca_default(ctx: NativeCallContext) -> Result<LabCa, Box<EvalAltResult>> {
        lab_ca(ctx, Map::new())
    }

    /// A LAB-ONLY certificate authority (root + issuing CA) for the emulator and tests.
    ///
    /// Nothing outside the emulator trusts it. Writes `root.cer`, `issuing.cer` and
    /// `issuing.key` (0600) under `out`; the root's key is not kept. Re-running reuses
    /// the CA while it is valid for more than 30 days.
    ///
    /// # Options
    /// - `name` (string, default `"comgmt Lab"`): CA names become `<name> Root CA` and
    ///   `<name> Issuing CA`.
    /// - `out` (string, default `"lab-ca"`): the folder, relative to the working directory.
    ///
    /// # Returns
    /// A `LabCa`: `name`, `root_subject`, `issuing_subject`, `root_path`, `root_thumbprint`,
    /// and `issue(csr, options)`.
    ///
    /// # Permission
    /// None (local files).
    ///
    /// # Example
    /// ```rhai
    /// let ca = cert::lab_ca(#{ name: "Contoso Lab", out: "lab-ca" });
    /// print(ca.issuing_subject);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn lab_ca(ctx: NativeCallContext, options: Map) -> Result<LabCa, Box<EvalAltResult>> {
        let c = Ctx::of(&ctx)?;
        let opts =
            options::parse::<model::LabCaOptions>("cert::lab_ca", options).map_err(at(&ctx))?;
        ops::lab_ca(&c, opts).map_err(at(&ctx))
    }

    /// Issue a 365-day server-authentication certificate from the lab CA.
    ///
    /// See `ca.issue(csr, options)`.
    ///
    /// # Returns
    /// A `Certificate`.
    ///
    /// # Permission
    /// None (local files).
    ///
    /// # Example
    /// ```rhai
    /// let req = cert::request(#{ common_name: "cmg.contoso.com", out: "certs/cmg" });
    /// let cert = cert::lab_ca().issue(req);
    /// print(cert.issuer);
    /// ```
    #[rhai_fn(global, name = "issue", return_raw)]
    pub fn issue_default(
        ctx: NativeCallContext,
        ca: &mut LabCa,
        csr: Dynamic,
    ) -> Result<Certificate, Box<EvalAltResult>> {
        issue(ctx, ca, csr, Map::new())
    }

    /// Issue a server-authentication certificate from the LAB CA for a request.
    ///
    /// Accepts a `CertRequest` or a CSR file (PEM or DER), including CSRs with extensions
    /// such as a Subject Key Identifier (Windows certreq). The certificate gets the CSR's
    /// subject and DNS SANs (the CN when it has none) and the Server Authentication EKU,
    /// and is written as PEM. Re-running keeps a certificate that still matches the CSR
    /// and is valid for more than 30 days. With a `CertRequest`, the result carries the
    /// request's key.
    ///
    /// # Options
    /// - `days` (int, default 365): validity, 1-3650.
    /// - `out` (string, default: the CSR path with `.cer`): where to write the certificate.
    ///
    /// # Returns
    /// A `Certificate` with the lab chain (issuing CA, root).
    ///
    /// # Permission
    /// None (local files).
    ///
    /// # Example
    /// ```rhai
    /// let req = cert::request(#{ common_name: "cmg.contoso.com", out: "certs/cmg" });
    /// let cert = cert::lab_ca().issue(req, #{ days: 90 });
    /// print(cert.not_after);
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn issue(
        ctx: NativeCallContext,
        ca: &mut LabCa,
        csr: Dynamic,
        options: Map,
    ) -> Result<Certificate, Box<EvalAltResult>> {
        let c = Ctx::of(&ctx)?;
        let source = if csr.is::<CertRequest>() {
            CsrSource::Request(Box::new(csr.cast::<CertRequest>()))
        } else if csr.is_string() {
            CsrSource::File(csr.into_string().unwrap_or_default())
        } else {
            return Err(at(&ctx)(ModuleError::validation(format!(
                "ca.issue: the request must be a CertRequest or a CSR file path, not {}",
                csr.type_name()
            ))));
        };
        let opts = options::parse::<model::IssueOptions>("ca.issue", options).map_err(at(&ctx))?;
        ops::issue(&c, ca, source, opts).map_err(at(&ctx))
    }

    // ---- CertRequest ----

    /// The request's subject, e.g. `CN=cmg.contoso.com, O=Contoso, C=US`.
    #[rhai_fn(global, get = "subject", pure)]
    pub fn req_subject(r: &mut CertRequest) -> String {
        r.spec.subject.display()
    }
    /// The request's common name (the CMG service name).
    #[rhai_fn(global, get = "common_name", pure)]
    pub fn req_common_name(r: &mut CertRequest) -> String {
        r.spec.subject.common_name.clone()
    }
    /// The CMG service name: the common name.
    #[rhai_fn(global, get = "service_name", pure)]
    pub fn req_service_name(r: &mut CertRequest) -> String {
        r.spec.subject.common_name.clone()
    }
    /// The DNS subject alternative names.
    #[rhai_fn(global, get = "sans", pure)]
    pub fn req_sans(r: &mut CertRequest) -> Array {
        strings(r.spec.sans.clone())
    }
    /// The RSA key size in bits.
    #[rhai_fn(global, get = "key_size", pure)]
    pub fn req_key_size(r: &mut CertRequest) -> INT {
        INT::from(r.spec.key_size)
    }
    /// The private key file (0600).
    #[rhai_fn(global, get = "key_path", pure)]
    pub fn req_key_path(r: &mut CertRequest) -> String {
        path_text(&r.key_path)
    }
    /// The CSR file to send to the certificate provider.
    #[rhai_fn(global, get = "csr_path", pure)]
    pub fn req_csr_path(r: &mut CertRequest) -> String {
        path_text(&r.csr_path)
    }
    /// The CSR as PEM text (known after apply in a plan).
    #[rhai_fn(global, get = "csr", pure)]
    pub fn req_csr(r: &mut CertRequest) -> Dynamic {
        Dynamic::from(r.csr_pem.text().to_string())
    }
    /// The VMSS deployment name in `region`: `<prefix>.<region>.cloudapp.azure.com`.
    ///
    /// # Returns
    /// A string; an error for a wildcard request (use the certificate's `deployment_name(region, prefix)`).
    ///
    /// # Permission
    /// None (local).
    ///
    /// # Example
    /// ```rhai
    /// let req = cert::request(#{ common_name: "GraniteFalls.contoso.com", country: "US", out: "certs/cmg" });
    /// print(req.deployment_name("westus"));   // GraniteFalls.westus.cloudapp.azure.com
    /// ```
    #[rhai_fn(global, name = "deployment_name", pure, return_raw)]
    pub fn req_deployment_name(
        ctx: NativeCallContext,
        r: &mut CertRequest,
        region: &str,
    ) -> Result<String, Box<EvalAltResult>> {
        crate::cmg::names::deployment_name(&r.spec.subject.common_name, region).map_err(at(&ctx))
    }
    /// `CertRequest(<subject>)`.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn req_to_string(r: &mut CertRequest) -> String {
        format!(
            "CertRequest({}, {})",
            r.spec.subject.display(),
            path_text(&r.csr_path)
        )
    }

    // ---- Certificate ----

    /// The certificate's subject, Windows style (`CN=..., O=..., C=US`).
    #[rhai_fn(global, get = "subject", pure)]
    pub fn cert_subject(c: &mut Certificate) -> String {
        c.subject()
    }
    /// The common name.
    #[rhai_fn(global, get = "common_name", pure)]
    pub fn cert_common_name(c: &mut Certificate) -> String {
        c.common_name()
    }
    /// The CMG service name the wizard takes from the certificate: the CN.
    #[rhai_fn(global, get = "service_name", pure)]
    pub fn cert_service_name(c: &mut Certificate) -> String {
        c.service_name()
    }
    /// The service name with `prefix` in place of a wildcard's `*`.
    ///
    /// # Returns
    /// A string such as `GraniteFalls.contoso.com`; an error when the prefix is not a DNS label.
    ///
    /// # Permission
    /// None (local).
    ///
    /// # Example
    /// ```rhai
    /// let req = cert::request(#{ common_name: "*.contoso.com", country: "US", out: "certs/wild" });
    /// let cert = cert::lab_ca().issue(req);
    /// print(cert.service_name("GraniteFalls"));   // GraniteFalls.contoso.com
    /// ```
    #[rhai_fn(global, name = "service_name", pure, return_raw)]
    pub fn cert_service_name_with(
        ctx: NativeCallContext,
        c: &mut Certificate,
        prefix: &str,
    ) -> Result<String, Box<EvalAltResult>> {
        c.service_name_with(prefix).map_err(at(&ctx))
    }
    /// The VMSS deployment name in `region`: `<prefix>.<region>.cloudapp.azure.com`.
    ///
    /// # Returns
    /// A string; an error for a wildcard certificate (give the prefix: `deployment_name(region, prefix)`).
    ///
    /// # Permission
    /// None (local).
    ///
    /// # Example
    /// ```rhai
    /// let req = cert::request(#{ common_name: "GraniteFalls.contoso.com", country: "US", out: "certs/cmg" });
    /// let cert = cert::lab_ca().issue(req);
    /// print(cert.deployment_name("westus"));  // GraniteFalls.westus.cloudapp.azure.com
    /// ```
    #[rhai_fn(global, name = "deployment_name", pure, return_raw)]
    pub fn cert_deployment_name(
        ctx: NativeCallContext,
        c: &mut Certificate,
        region: &str,
    ) -> Result<String, Box<EvalAltResult>> {
        c.deployment_name(region, None).map_err(at(&ctx))
    }
    /// The deployment name of a wildcard certificate for the name `prefix`.
    ///
    /// # Returns
    /// A string such as `GraniteFalls.westus.cloudapp.azure.com`.
    ///
    /// # Permission
    /// None (local).
    ///
    /// # Example
    /// ```rhai
    /// let req = cert::request(#{ common_name: "*.contoso.com", country: "US", out: "certs/wild" });
    /// let cert = cert::lab_ca().issue(req);
    /// print(cert.deployment_name("westus", "GraniteFalls"));
    /// ```
    #[rhai_fn(global, name = "deployment_name", pure, return_raw)]
    pub fn cert_deployment_name_prefix(
        ctx: NativeCallContext,
        c: &mut Certificate,
        region: &str,
        prefix: &str,
    ) -> Result<String, Box<EvalAltResult>> {
        c.deployment_name(region, Some(prefix)).map_err(at(&ctx))
    }
    /// The DNS subject alternative names.
    #[rhai_fn(global, get = "sans", pure)]
    pub fn cert_sans(c: &mut Certificate) -> Array {
        strings(c.sans())
    }
    /// The enhanced key usages (`Server Authentication`, ...).
    #[rhai_fn(global, get = "ekus", pure)]
    pub fn cert_ekus(c: &mut Certificate) -> Array {
        match &c.leaf {
            Some(l) => strings(l.ekus.clone().unwrap_or_default()),
            None => strings(["Server Authentication"]),
        }
    }
    /// The key algorithm: `RSA` or `EC`.
    #[rhai_fn(global, get = "key_algorithm", pure)]
    pub fn cert_key_algorithm(c: &mut Certificate) -> String {
        c.leaf
            .as_ref()
            .map(|l| l.key_algorithm.clone())
            .unwrap_or_else(|| "RSA".into())
    }
    /// The key size in bits.
    #[rhai_fn(global, get = "key_size", pure)]
    pub fn cert_key_size(c: &mut Certificate) -> INT {
        INT::from(c.key_size())
    }
    /// The SHA-1 thumbprint, upper-case hex, as Windows shows it.
    #[rhai_fn(global, get = "thumbprint", pure)]
    pub fn cert_thumbprint(c: &mut Certificate) -> Dynamic {
        known(c.leaf.as_ref().map(|l| l.thumbprint.clone()))
    }
    /// The serial number, upper-case hex.
    #[rhai_fn(global, get = "serial", pure)]
    pub fn cert_serial(c: &mut Certificate) -> Dynamic {
        known(c.leaf.as_ref().map(|l| l.serial.clone()))
    }
    /// Start of validity (RFC 3339, UTC).
    #[rhai_fn(global, get = "not_before", pure)]
    pub fn cert_not_before(c: &mut Certificate) -> Dynamic {
        known(c.leaf.as_ref().map(|l| x509::rfc3339(l.not_before)))
    }
    /// End of validity (RFC 3339, UTC).
    #[rhai_fn(global, get = "not_after", pure)]
    pub fn cert_not_after(c: &mut Certificate) -> Dynamic {
        known(c.leaf.as_ref().map(|l| x509::rfc3339(l.not_after)))
    }
    /// Whole days until expiry (negative when expired).
    #[rhai_fn(global, get = "days_left", pure)]
    pub fn cert_days_left(c: &mut Certificate) -> Dynamic {
        match &c.leaf {
            Some(l) => Dynamic::from(l.days_left(::time::OffsetDateTime::now_utc())),
            None => Dynamic::from(AFTER_APPLY_TEXT.to_string()),
        }
    }
    /// The issuer's subject.
    #[rhai_fn(global, get = "issuer", pure)]
    pub fn cert_issuer(c: &mut Certificate) -> String {
        c.issuer()
    }
    /// The issuer chain, nearest first: maps with `subject`, `issuer`, `thumbprint`, `not_after`.
    #[rhai_fn(global, get = "chain", pure)]
    pub fn cert_chain(c: &mut Certificate) -> Array {
        c.chain
            .iter()
            .map(|i| {
                let mut m = Map::new();
                m.insert("subject".into(), i.subject.clone().into());
                m.insert("issuer".into(), i.issuer.clone().into());
                m.insert("thumbprint".into(), i.thumbprint.clone().into());
                m.insert("not_after".into(), x509::rfc3339(i.not_after).into());
                Dynamic::from_map(m)
            })
            .collect()
    }
    /// True when the chain ends at a self-signed root.
    #[rhai_fn(global, get = "chain_complete", pure)]
    pub fn cert_chain_complete(c: &mut Certificate) -> bool {
        c.chain_complete
    }
    /// True when the private key is present (needed for a PFX).
    #[rhai_fn(global, get = "has_private_key", pure)]
    pub fn cert_has_private_key(c: &mut Certificate) -> bool {
        c.key.is_some()
    }
    /// True when the certificate comes from the comgmt lab CA.
    #[rhai_fn(global, get = "is_lab", pure)]
    pub fn cert_is_lab(c: &mut Certificate) -> bool {
        c.is_lab()
    }
    /// The certificate file, or `()`.
    #[rhai_fn(global, get = "path", pure)]
    pub fn cert_path(c: &mut Certificate) -> Dynamic {
        c.path
            .as_ref()
            .map(|p| Dynamic::from(path_text(p)))
            .unwrap_or(Dynamic::UNIT)
    }
    /// The PFX file it was loaded from or exported to, or `()`.
    #[rhai_fn(global, get = "pfx_path", pure)]
    pub fn cert_pfx_path(c: &mut Certificate) -> Dynamic {
        c.pfx_path
            .as_ref()
            .map(|p| Dynamic::from(path_text(p)))
            .unwrap_or(Dynamic::UNIT)
    }
    /// `Certificate(<subject>, <thumbprint>)`.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn cert_to_string(c: &mut Certificate) -> String {
        let thumb = c
            .leaf
            .as_ref()
            .map(|l| l.thumbprint.clone())
            .unwrap_or_else(|| AFTER_APPLY_TEXT.into());
        format!("Certificate({}, {thumb})", c.subject())
    }

    // ---- LabCa ----

    /// The lab CA's name.
    #[rhai_fn(global, get = "name", pure)]
    pub fn ca_name(ca: &mut LabCa) -> String {
        ca.name.clone()
    }
    /// The root CA's subject.
    #[rhai_fn(global, get = "root_subject", pure)]
    pub fn ca_root_subject(ca: &mut LabCa) -> String {
        ca.root_subject()
    }
    /// The issuing CA's subject (the issuer of lab certificates).
    #[rhai_fn(global, get = "issuing_subject", pure)]
    pub fn ca_issuing_subject(ca: &mut LabCa) -> String {
        ca.issuing_subject()
    }
    /// The root certificate file (PEM), to trust in a lab.
    #[rhai_fn(global, get = "root_path", pure)]
    pub fn ca_root_path(ca: &mut LabCa) -> String {
        path_text(&ca.root_path())
    }
    /// The issuing CA certificate file (PEM).
    #[rhai_fn(global, get = "issuing_path", pure)]
    pub fn ca_issuing_path(ca: &mut LabCa) -> String {
        path_text(&ca.issuing_path())
    }
    /// The root certificate's SHA-1 thumbprint.
    #[rhai_fn(global, get = "root_thumbprint", pure)]
    pub fn ca_root_thumbprint(ca: &mut LabCa) -> Dynamic {
        known(ca.root.as_ref().map(|r| r.thumbprint.clone()))
    }
    /// `LabCa(<root subject>)`.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn ca_to_string(ca: &mut LabCa) -> String {
        format!("LabCa({}, lab only)", ca.root_subject())
    }

    // ---- Finding ----

    /// The check's id, e.g. `key-size`, `eku-server-auth`, `expiring`.
    #[rhai_fn(global, get = "check", pure)]
    pub fn finding_check(f: &mut Finding) -> String {
        f.check.clone()
    }
    /// `error`, `warning` or `info`.
    #[rhai_fn(global, get = "severity", pure)]
    pub fn finding_severity(f: &mut Finding) -> String {
        f.severity.as_str().to_string()
    }
    /// What was found.
    #[rhai_fn(global, get = "message", pure)]
    pub fn finding_message(f: &mut Finding) -> String {
        f.message.clone()
    }
    /// What to do about it (empty for information).
    #[rhai_fn(global, get = "fix", pure)]
    pub fn finding_fix(f: &mut Finding) -> String {
        f.fix.clone()
    }
    /// `severity[check]: message (fix: ...)`.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn finding_to_string(f: &mut Finding) -> String {
        f.to_string()
    }
}

pub fn module() -> rhai::Module {
    exported_module!(api)
}

/// The option keys of this module's functions (`ca.issue` is a method, not listed).
pub fn option_specs() -> Vec<options::OptionSpec> {
    use options::OptionSpec;
    vec![
        OptionSpec::of::<model::RequestOptions>("cert::request", &[]),
        // `key` is taken out before parsing: it may be a CertRequest.
        OptionSpec::of::<model::ImportOptions>("cert::import_cert", &["key"]),
        OptionSpec::of::<model::ExportOptions>("cert::export_pfx", &["password"]),
        OptionSpec::of::<model::CheckOptions>("cert::check_cmg", &[]),
        OptionSpec::of::<model::LabCaOptions>("cert::lab_ca", &[]),
    ]
}

/// This module's types, with the line `comgmt doc` shows for each.
pub fn register_types(types: &mut rhai::Module) {
    use crate::values::document_type;
    document_type::<CertRequest>(
        types,
        "CertRequest",
        "A private key and its CSR, from `cert::request`.",
    );
    document_type::<Certificate>(
        types,
        "Certificate",
        "A certificate with its chain and (usually) its private key: from `cert::import_cert`, `cert::load_pfx` or a lab CA.",
    );
    document_type::<LabCa>(
        types,
        "LabCa",
        "A lab-only certificate authority from `cert::lab_ca`: nothing outside the emulator trusts it.",
    );
    document_type::<Finding>(
        types,
        "Finding",
        "One result of `cert::check_cmg`: `check`, `severity`, `message` and `fix`.",
    );
}
