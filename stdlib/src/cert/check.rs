//! `cert::check_cmg`: the preflight a CMG server-authentication certificate needs, as
//! findings with a severity and a fix. One small rule each, run in a fixed order.

use super::model::{CheckOptions, EXPIRY_WARNING_DAYS};
use super::objects::Certificate;
use super::x509::rfc3339;
use crate::cmg::names::{
    azure_zone, is_wildcard, name_prefix, prefix_findings, service_name_with, validate_region,
    DEPLOYMENT_DOMAIN,
};
use crate::preflight::{Finding, Severity::*};
use ::time::OffsetDateTime;

/// What every rule looks at.
struct Input<'a> {
    cert: &'a Certificate,
    opts: &'a CheckOptions,
    now: OffsetDateTime,
    cn: String,
    /// The CMG service name: the CN, or for a wildcard CN the `service_name` option
    /// when the wildcard covers it.
    service: String,
}

type Rule = fn(&Input<'_>, &mut Vec<Finding>);

/// Every rule, in the order findings are reported.
const RULES: &[Rule] = &[
    key,
    server_auth,
    san_contains_cn,
    validity,
    chain,
    lab_ca,
    private_key,
    wildcard,
    prefix,
    azure_domain,
    region,
    cn_case,
];

/// Every check. `now` is a parameter so tests can pin it.
pub fn check_cmg(cert: &Certificate, opts: &CheckOptions, now: OffsetDateTime) -> Vec<Finding> {
    let cn = cert.common_name();
    let service = match &opts.service_name {
        Some(s) if is_wildcard(&cn) && covered_by_wildcard(&cn, s) => s.clone(),
        _ => cn.clone(),
    };
    let input = Input {
        cert,
        opts,
        now,
        cn,
        service,
    };
    let mut out = Vec::new();
    for rule in RULES {
        rule(&input, &mut out);
    }
    out
}

fn covered_by_wildcard(cn: &str, service: &str) -> bool {
    matches!(name_prefix(service).map(|p| service_name_with(cn, p)),
             Some(Ok(name)) if name.eq_ignore_ascii_case(service))
}

/// RSA, at least 2048 bits.
fn key(i: &Input<'_>, out: &mut Vec<Finding>) {
    let (alg, bits) = match &i.cert.leaf {
        Some(l) => (l.key_algorithm.clone(), l.key_size),
        None => ("RSA".to_string(), i.cert.key_size()),
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
}

/// The server authentication EKU.
fn server_auth(i: &Input<'_>, out: &mut Vec<Finding>) {
    let Some(l) = &i.cert.leaf else { return };
    if l.server_auth {
        return;
    }
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

/// A CN, and the SAN contains it.
fn san_contains_cn(i: &Input<'_>, out: &mut Vec<Finding>) {
    let (cn, sans) = (&i.cn, i.cert.sans());
    if cn.is_empty() {
        out.push(Finding::new(
            "common-name",
            Error,
            "the certificate has no common name: the CMG wizard takes the service name from the CN",
            "request a certificate whose CN is the CMG service name",
        ));
    } else if !sans.iter().any(|s| s.eq_ignore_ascii_case(cn)) {
        out.push(Finding::new(
            "san-contains-cn",
            Error,
            format!(
                "the subject alternative names ({}) do not contain the CN {cn}: clients check the SAN",
                if sans.is_empty() { "none".to_string() } else { sans.join(", ") }
            ),
            "request the certificate with a DNS SAN equal to the CN",
        ));
    }
}

/// Valid now and for a while, signed with a current algorithm; or issued at apply.
fn validity(i: &Input<'_>, out: &mut Vec<Finding>) {
    let Some(l) = &i.cert.leaf else {
        out.push(Finding::new(
            "planned",
            Info,
            "the certificate is issued at apply: validity and chain are checked then",
            "",
        ));
        return;
    };
    let days = l.days_left(i.now);
    if l.not_after <= i.now {
        out.push(Finding::new(
            "expired",
            Error,
            format!("the certificate expired on {}", rfc3339(l.not_after)),
            "renew it (keep the CN's exact case) and update the CMG with the new PFX",
        ));
    } else if l.not_before > i.now {
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
}

/// Not self-signed; the chain complete up to a trusted root, and current.
fn chain(i: &Input<'_>, out: &mut Vec<Finding>) {
    let (cert, Some(l)) = (i.cert, &i.cert.leaf) else {
        return;
    };
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
    if let Some(expired) = cert.chain.iter().find(|c| c.not_after <= i.now) {
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

/// Not from the comgmt lab CA.
fn lab_ca(i: &Input<'_>, out: &mut Vec<Finding>) {
    if i.cert.is_lab() {
        out.push(Finding::new(
            "lab-ca",
            Warning,
            "the certificate comes from the comgmt lab CA: only the emulator trusts it",
            "for a real CMG, send the CSR to a public certificate provider and cert::import_cert what it issues",
        ));
    }
}

/// The private key is there, for the PFX.
fn private_key(i: &Input<'_>, out: &mut Vec<Finding>) {
    if i.cert.key.is_none() && !i.cert.is_planned() {
        out.push(Finding::new(
            "private-key",
            Error,
            "the private key is missing: the CMG wizard needs a PFX with the key",
            "import the certificate with its key (cert::import_cert #{ key: request }) and export the PFX",
        ));
    }
}

/// A wildcard CN needs a service name it covers.
fn wildcard(i: &Input<'_>, out: &mut Vec<Finding>) {
    let cn = &i.cn;
    if !is_wildcard(cn) {
        return;
    }
    match &i.opts.service_name {
        Some(s) if covered_by_wildcard(cn, s) => {}
        Some(s) => out.push(Finding::new(
            "service-name",
            Error,
            format!("the service name {s} is not covered by the wildcard {cn}"),
            format!("use a service name of the form <prefix>{}", &cn[1..]),
        )),
        None => out.push(Finding::new(
            "wildcard",
            Warning,
            format!("the certificate is a wildcard ({cn}): the CMG wizard needs the `*` replaced with a name prefix"),
            "pass service_name: \"<prefix>.domain\" to check the prefix rules, and enter it in the wizard",
        )),
    }
}

/// The name prefix rules of the deployment.
fn prefix(i: &Input<'_>, out: &mut Vec<Finding>) {
    if let Some(prefix) = name_prefix(&i.service) {
        out.extend(prefix_findings(prefix, i.opts.content));
    }
}

/// A CN in an Azure domain needs an enterprise PKI.
fn azure_domain(i: &Input<'_>, out: &mut Vec<Finding>) {
    if azure_zone(&i.cn).is_some() {
        out.push(Finding::new(
            "azure-domain",
            Info,
            format!("the CN {} is in an Azure domain: only an enterprise PKI can issue it, and clients need its root", i.cn),
            "",
        ));
    }
}

/// The region is a region, and the deployment name it gives.
fn region(i: &Input<'_>, out: &mut Vec<Finding>) {
    let Some(region) = &i.opts.region else { return };
    let r = match validate_region(region) {
        Ok(r) => r,
        Err(e) => {
            out.push(Finding::new(
                "region",
                Error,
                e.message,
                e.hint.unwrap_or_default(),
            ));
            return;
        }
    };
    let Some(prefix) = name_prefix(&i.service) else {
        return;
    };
    let (cn, service) = (&i.cn, &i.service);
    let deployment = format!("{prefix}.{r}.{DEPLOYMENT_DOMAIN}");
    if azure_zone(cn) == Some(DEPLOYMENT_DOMAIN) && !cn.eq_ignore_ascii_case(&deployment) {
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

/// On renewal the service name is kept, case included.
fn cn_case(i: &Input<'_>, out: &mut Vec<Finding>) {
    let (Some(existing), service) = (&i.opts.existing_service_name, &i.service) else {
        return;
    };
    if existing == service {
        return;
    }
    if existing.eq_ignore_ascii_case(service) {
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
