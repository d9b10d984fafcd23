//! `dns::check_cname`: how a CMG's service name resolves, through the target's
//! resolver, against the record it needs (service name CNAME deployment name,
//! api-surface §10), and what exactly is wrong when it does not: no record, a CNAME to
//! something else, address records instead of a CNAME, a deployment name that does not
//! resolve yet (no CMG deployed), or a resolver that does not answer. Reads only.

use crate::cloud::dns::{DnsAnswer, DnsRecord, QueryType, Session};
use crate::context::Ctx;
use crate::dns::model::{check_cname as check_names, record_text, CheckOptions, DEFAULT_TTL};
use crate::dns::objects::CnameCheck;
use crate::error::{ErrorKind, ModuleError, Result};
use crate::preflight::{Finding, Severity};

/// How many CNAME hops are followed to tell an indirect record from a wrong one
/// (resolvers give up near here too).
const MAX_HOPS: usize = 8;

/// Check the CNAME `service_name` -> `deployment_name` as clients resolve it.
pub fn check_cname(
    ctx: &Ctx,
    service_name: &str,
    deployment_name: &str,
    opts: &CheckOptions,
) -> Result<CnameCheck> {
    let (service, expected) = check_names(service_name, deployment_name)?;
    let servers = opts.servers()?;
    let timeout = opts.timeout()?;
    let dns = ctx.read().dns();
    // Built and dropped inside the runtime: hickory spawns its connection tasks on the
    // current tokio runtime and aborts them when the resolver goes.
    ctx.block_on(async {
        let session = dns.session(servers.as_deref(), timeout)?;
        Ok(inspect(&session, &service, &expected).await)
    })
}

/// The check itself; a resolver failure becomes a finding, not an error, so a script
/// gets the same shape whatever went wrong.
pub async fn inspect(session: &Session, service: &str, expected: &str) -> CnameCheck {
    let mut out = CnameCheck {
        ok: false,
        service_name: service.to_string(),
        target: String::new(),
        expected: expected.to_string(),
        addresses: Vec::new(),
        resolver: session.describe(),
        findings: Vec::new(),
    };
    if let Err(e) = steps(session, &mut out).await {
        out.findings.push(resolver_finding(&e));
    }
    out.ok = !out.findings.iter().any(|f| f.severity == Severity::Error);
    if out.findings.is_empty() {
        out.findings.push(Finding::new(
            "cname-ok",
            Severity::Info,
            format!(
                "{service} is a CNAME to {expected}, which resolves to {}",
                out.addresses.join(", ")
            ),
            "",
        ));
    }
    out
}

async fn steps(session: &Session, out: &mut CnameCheck) -> Result<()> {
    let service = out.service_name.clone();
    let expected = out.expected.clone();
    let record = record_text(&service, DEFAULT_TTL, &expected);
    let domain = service
        .split_once('.')
        .map(|(_, d)| d.to_string())
        .unwrap_or_else(|| service.clone());
    match session.query(&service, QueryType::Cname).await? {
        DnsAnswer::NxDomain => out.findings.push(Finding::new(
            "cname-missing",
            Severity::Error,
            format!("{service} does not exist in DNS (NXDOMAIN): it has no CNAME record"),
            format!("create this record in the public DNS zone of {domain}: {record}"),
        )),
        DnsAnswer::NoData => {
            let addrs = addresses(session, &service).await?;
            if addrs.is_empty() {
                out.findings.push(Finding::new(
                    "cname-missing",
                    Severity::Error,
                    format!("{service} exists in DNS but has no CNAME record"),
                    format!("create this record in the public DNS zone of {domain}: {record}"),
                ));
            } else {
                out.findings.push(Finding::new(
                    "a-record-instead-of-cname",
                    Severity::Error,
                    format!(
                        "{service} has address records ({}) instead of a CNAME to {expected}: clients would not follow the CMG when its address changes",
                        addrs.join(", ")
                    ),
                    format!("delete the A/AAAA records of {service} and create: {record}"),
                ));
                out.addresses = addrs;
            }
        }
        DnsAnswer::Records(records) => {
            let target = first_cname(&records, &service).unwrap_or_default();
            out.target = target.clone();
            if !target.eq_ignore_ascii_case(&expected) {
                match chain_to(session, &target, &expected).await? {
                    Some(chain) => out.findings.push(Finding::new(
                        "cname-indirect",
                        Severity::Warning,
                        format!(
                            "{service} reaches {expected} only through {}: the record should point at the deployment name itself",
                            chain.join(" -> ")
                        ),
                        format!("change the record to: {record}"),
                    )),
                    None => out.findings.push(Finding::new(
                        "cname-wrong-target",
                        Severity::Error,
                        format!(
                            "{service} is a CNAME to {target}, but it should point at the CMG's deployment name {expected}"
                        ),
                        format!("change the record to: {record}"),
                    )),
                }
            }
            // What clients get: the resolver follows the chain.
            out.addresses = addresses(session, &service).await?;
        }
    }
    // The deployment name itself: it resolves once the CMG's public IP exists.
    match session.query(&expected, QueryType::A).await? {
        DnsAnswer::NxDomain => out.findings.push(Finding::new(
            "deployment-not-resolving",
            Severity::Error,
            format!(
                "the deployment name {expected} does not exist in DNS (NXDOMAIN): the CMG is not deployed yet, or the region in the name is not the CMG's"
            ),
            "deploy the CMG and wait until it is Ready; Azure registers the name with the CMG's public IP",
        )),
        DnsAnswer::Records(_) => {}
        DnsAnswer::NoData => {
            if addresses(session, &expected).await?.is_empty() {
                out.findings.push(Finding::new(
                    "deployment-no-address",
                    Severity::Error,
                    format!("the deployment name {expected} exists in DNS but has no address"),
                    "check the CMG's public IP address in Azure",
                ));
            }
        }
    }
    Ok(())
}

/// The CNAME target of `name` among `records`.
fn first_cname(records: &[DnsRecord], name: &str) -> Option<String> {
    records.iter().find_map(|r| match r {
        DnsRecord::Cname { name: n, target } if n.eq_ignore_ascii_case(name) => {
            Some(target.clone())
        }
        _ => None,
    })
}

/// The chain `from` -> ... -> `to` when following CNAMEs from `from` reaches `to`.
async fn chain_to(session: &Session, from: &str, to: &str) -> Result<Option<Vec<String>>> {
    let mut chain = vec![from.to_string()];
    let mut hop = from.to_string();
    for _ in 0..MAX_HOPS {
        let DnsAnswer::Records(records) = session.query(&hop, QueryType::Cname).await? else {
            return Ok(None);
        };
        let Some(next) = first_cname(&records, &hop) else {
            return Ok(None);
        };
        chain.push(next.clone());
        if next.eq_ignore_ascii_case(to) {
            return Ok(Some(chain));
        }
        if chain[..chain.len() - 1]
            .iter()
            .any(|c| c.eq_ignore_ascii_case(&next))
        {
            return Ok(None);
        }
        hop = next;
    }
    Ok(None)
}

/// The A and AAAA addresses `name` resolves to (CNAMEs followed); none when it does not.
async fn addresses(session: &Session, name: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for qtype in [QueryType::A, QueryType::Aaaa] {
        if let DnsAnswer::Records(records) = session.query(name, qtype).await? {
            for r in records {
                if let DnsRecord::Address { addr, .. } = r {
                    let a = addr.to_string();
                    if !out.contains(&a) {
                        out.push(a);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// A resolver that did not answer, or answered with an error.
fn resolver_finding(e: &ModuleError) -> Finding {
    let (check, fix) = match e.kind {
        ErrorKind::Transport => (
            "resolver-unreachable",
            "check dns_servers in the profile (\"ip:port\"), the machine's DNS settings, or pass #{ servers: [\"ip:port\"] }",
        ),
        _ => ("resolver-error", "try again, or ask another resolver with #{ servers: [\"ip:port\"] }"),
    };
    Finding::new(check, Severity::Error, e.message.clone(), fix)
}
