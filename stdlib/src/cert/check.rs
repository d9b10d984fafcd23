//! `cert::check_cmg`: the preflight a CMG server-authentication certificate needs, as
//! findings with a severity and a fix (api-surface.md §2.2, §2.3, §3, §20).

use super::model::{self, CheckOptions, Finding, Severity, EXPIRY_WARNING_DAYS};
use super::objects::Certificate;
use super::x509::rfc3339;
use ::time::OffsetDateTime;

/// Every check, in a stable order. `now` is a parameter so tests can pin it.
pub fn check_cmg(cert: &Certificate, opts: &CheckOptions, now: OffsetDateTime) -> Vec<Finding> {
    use Severity::*;
    let mut out = Vec::new();
    let cn = cert.common_name();

    // Key: RSA, at least 2048 bits.
    let (alg, bits) = match &cert.leaf {
        Some(l) => (l.key_algorithm.clone(), l.key_size),
        None => ("RSA".to_string(), cert.key_size()),
    };
    if alg != "RSA" {
        out.push(Finding::new(
            "key-algorithm",
            Error,
            format!("the key is {alg}; the CMG needs an RSA key"),
            "request a new certificate with an RSA key (cert::request makes one)",
        ));
    } else if bits < 2048 {
        out.push(Finding::new(
            "key-size",
            Error,
            format!("the RSA key is {bits}-bit; the CMG needs at least 2048 bits"),
            "request a new certificate with key_size 2048 or 4096",
        ));
    } else if bits != 2048 && bits != 4096 {
        out.push(Finding::new(
            "key-size",
            Info,
            format!("the RSA key is {bits}-bit; Microsoft documents 2048 or 4096"),
            "",
        ));
    }

    // Server authentication EKU.
    if let Some(l) = &cert.leaf {
        if !l.server_auth {
            let has = match &l.ekus {
                Some(e) if !e.is_empty() => format!("its EKUs are {}", e.join(", ")),
                _ => "it has no enhanced key usage extension".to_string(),
            };
            out.push(Finding::new(
                "eku-server-auth",
                Error,
                format!("the certificate is not for server authentication: {has}"),
                "request it with the Server Authentication EKU (1.3.6.1.5.5.7.3.1), e.g. from a web server template",
            ));
        }
    }

    // SAN contains the CN.
    if cn.is_empty() {
        out.push(Finding::new(
            "common-name",
            Error,
            "the certificate has no common name: the CMG wizard takes the service name from the CN",
            "request a certificate whose CN is the CMG service name",
        ));
    } else if !cert.sans().iter().any(|s| s.eq_ignore_ascii_case(&cn)) {
        out.push(Finding::new(
            "san-contains-cn",
            Error,
            format!(
                "the subject alternative names ({}) do not contain the CN {cn}: clients check the SAN",
                if cert.sans().is_empty() { "none".to_string() } else { cert.sans().join(", ") }
            ),
            "request the certificate with a DNS SAN equal to the CN",
        ));
    }

    // Validity.
    if let Some(l) = &cert.leaf {
        let days = l.days_left(now);
        if l.not_after <= now {
            out.push(Finding::new(
                "expired",
                Error,
                format!("the certificate expired on {}", rfc3339(l.not_after)),
                "renew it (keep the CN's exact case) and update the CMG with the new PFX",
            ));
        } else if l.not_before > now {
            out.push(Finding::new(
                "not-yet-valid",
                Error,
                format!(
                    "the certificate is not valid before {}",
                    rfc3339(l.not_before)
                ),
                "check this machine's clock, or wait until it is valid",
            ));
        } else if days < EXPIRY_WARNING_DAYS {
            out.push(Finding::new(
                "expiring",
                Warning,
                format!(
                    "the certificate expires in {days} days ({})",
                    rfc3339(l.not_after)
                ),
                "renew it now (keep the CN's exact case) and update the CMG with the new PFX",
            ));
        }
        if l.signature_algorithm.starts_with("sha1") || l.signature_algorithm.starts_with("md5") {
            out.push(Finding::new(
                "signature-algorithm",
                Warning,
                format!("the certificate is signed with {}", l.signature_algorithm),
                "ask the provider for a SHA-256 certificate",
            ));
        }
    } else {
        out.push(Finding::new(
            "planned",
            Info,
            "the certificate is issued at apply: validity and chain are checked then",
            "",
        ));
    }

    // Chain.
    if let Some(l) = &cert.leaf {
        if l.self_issued && cert.chain.is_empty() {
            out.push(Finding::new(
                "self-signed",
                Error,
                "the certificate is self-signed: internet clients won't trust the CMG",
                "use a certificate from a public provider (or your enterprise PKI with its root on every client)",
            ));
        } else if cert.chain.is_empty() && !cert.chain_complete {
            out.push(Finding::new(
                "chain-incomplete",
                Error,
                format!("the chain is incomplete: the intermediate certificate {} is missing", l.issuer),
                "import the certificate with the provider's intermediate certificate(s) as `chain`, then export the PFX again",
            ));
        } else if !cert.chain_complete {
            let top = cert
                .chain
                .last()
                .map(|c| (c.subject.clone(), c.issuer.clone()))
                .unwrap_or_default();
            out.push(Finding::new(
                "chain-root",
                Warning,
                format!("the chain ends at {} without its root {}", top.0, top.1),
                "make sure that root is trusted by clients (public CA roots are), or include it in `chain`",
            ));
        }
        if let Some(expired) = cert.chain.iter().find(|c| c.not_after <= now) {
            out.push(Finding::new(
                "chain-expired",
                Error,
                format!(
                    "the chain certificate {} expired on {}",
                    expired.subject,
                    rfc3339(expired.not_after)
                ),
                "get the current intermediate certificates from the provider",
            ));
        }
    }
    if cert.is_lab() {
        out.push(Finding::new(
            "lab-ca",
            Warning,
            "the certificate comes from the comgmt lab CA: only the emulator trusts it",
            "for a real CMG, send the CSR to a public certificate provider and cert::import_cert what it issues",
        ));
    }

    // Private key.
    if cert.key.is_none() && !cert.is_planned() {
        out.push(Finding::new(
            "private-key",
            Error,
            "the private key is missing: the CMG wizard needs a PFX with the key",
            "import the certificate with its key (cert::import_cert #{ key: request }) and export the PFX",
        ));
    }

    // Names: wildcard, prefix rules, Azure domain, region.
    let mut service = cn.clone();
    if model::is_wildcard(&cn) {
        match &opts.service_name {
            Some(s) => match model::name_prefix(s).map(|p| model::service_name_with(&cn, p)) {
                Some(Ok(name)) if name.eq_ignore_ascii_case(s) => service = s.clone(),
                _ => out.push(Finding::new(
                    "service-name",
                    Error,
                    format!("the service name {s} is not covered by the wildcard {cn}"),
                    format!("use a service name of the form <prefix>{}", &cn[1..]),
                )),
            },
            None => out.push(Finding::new(
                "wildcard",
                Warning,
                format!("the certificate is a wildcard ({cn}): the CMG wizard needs the `*` replaced with a name prefix"),
                "pass service_name: \"<prefix>.domain\" to check the prefix rules, and enter it in the wizard",
            )),
        }
    }
    if let Some(prefix) = model::name_prefix(&service) {
        out.extend(model::prefix_findings(prefix, opts.content));
    }
    if model::azure_zone(&cn).is_some() {
        out.push(Finding::new(
            "azure-domain",
            Info,
            format!("the CN {cn} is in an Azure domain: only an enterprise PKI can issue it, and clients need its root"),
            "",
        ));
    }
    if let Some(region) = &opts.region {
        match model::validate_region(region) {
            Err(e) => out.push(Finding::new(
                "region",
                Error,
                e.message,
                e.hint.unwrap_or_default(),
            )),
            Ok(r) => {
                if let Some(prefix) = model::name_prefix(&service) {
                    let deployment = format!("{prefix}.{r}.{}", model::DEPLOYMENT_DOMAIN);
                    if model::azure_zone(&cn) == Some("cloudapp.azure.com")
                        && !cn.eq_ignore_ascii_case(&deployment)
                    {
                        out.push(Finding::new(
                            "deployment-name",
                            Error,
                            format!("the CN {cn} is in cloudapp.azure.com but the deployment name in {r} is {deployment}"),
                            "use the region the CN names, or a CN in your own domain",
                        ));
                    } else {
                        out.push(Finding::new(
                            "deployment-name",
                            Info,
                            format!("service name {service}, deployment name {deployment}"),
                            "",
                        ));
                    }
                }
            }
        }
    }

    // CN case on renewal.
    if let Some(existing) = &opts.existing_service_name {
        if existing != &service {
            if existing.eq_ignore_ascii_case(&service) {
                out.push(Finding::new(
                    "cn-case",
                    Error,
                    format!("the CN {service} differs in case from the existing CMG's service name {existing}; the name is case-sensitive on renewal"),
                    format!("request the renewal with the CN exactly {existing}"),
                ));
            } else {
                out.push(Finding::new(
                    "service-name-changed",
                    Error,
                    format!("the CN {service} is not the existing CMG's service name {existing}"),
                    "a new service name means redeploying the CMG; to renew, keep the CN",
                ));
            }
        }
    }
    out
}
