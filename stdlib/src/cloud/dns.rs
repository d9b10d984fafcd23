//! DNS lookups through the target's resolver: the profile's `dns_servers` (the emulator
//! target points them at the emulator's DNS server), or the system's resolver
//! configuration (`/etc/resolv.conf`; the registry on Windows) when none are set.
//! hickory-resolver does the work; this file turns its answers and errors into three
//! plain outcomes (records, no such name, no such record) and a module error for a
//! resolver that cannot be reached.
//!
//! Each check makes a fresh resolver ([`Dns::session`]): a cached negative answer must
//! not hide a record created a moment earlier in the same run.

use crate::error::{ModuleError, Result};
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::Resolver;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// The record types a check asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryType {
    A,
    Aaaa,
    Cname,
}

impl QueryType {
    fn record_type(self) -> RecordType {
        match self {
            QueryType::A => RecordType::A,
            QueryType::Aaaa => RecordType::AAAA,
            QueryType::Cname => RecordType::CNAME,
        }
    }
}

/// One answer record, names without the trailing dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsRecord {
    Cname { name: String, target: String },
    Address { name: String, addr: IpAddr },
}

/// What the resolver said about a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsAnswer {
    /// Records, in answer order (a chain's CNAMEs before the addresses).
    Records(Vec<DnsRecord>),
    /// The name does not exist (NXDOMAIN).
    NxDomain,
    /// The name exists but has no record of the type asked for (NOERROR, no answer).
    NoData,
}

/// The target's resolver settings.
#[derive(Debug, Clone, Default)]
pub struct Dns {
    servers: Vec<SocketAddr>,
}

impl Dns {
    /// `servers` empty: the system's resolver configuration.
    pub fn new(servers: Vec<SocketAddr>) -> Self {
        Dns { servers }
    }

    /// The configured servers (empty: the system's).
    pub fn servers(&self) -> &[SocketAddr] {
        &self.servers
    }

    /// A resolver for one check: `servers` when given (a script's own), else the
    /// target's. `timeout` is per attempt; two attempts per server.
    pub fn session(&self, servers: Option<&[SocketAddr]>, timeout: Duration) -> Result<Session> {
        let servers = servers.unwrap_or(&self.servers).to_vec();
        let builder = if servers.is_empty() {
            Resolver::builder_tokio().map_err(|e| {
                ModuleError::transport(format!(
                    "cannot read the system's DNS resolver configuration: {e}"
                ))
                .with_hint("set dns_servers in the profile, or pass #{ servers: [\"ip:port\"] }")
            })?
        } else {
            let name_servers = servers
                .iter()
                .map(|s| {
                    // The constructors take an IP and use port 53: set the port on each
                    // connection (UDP, then TCP for truncated answers).
                    let mut ns = NameServerConfig::udp_and_tcp(s.ip());
                    for c in &mut ns.connections {
                        c.port = s.port();
                    }
                    ns
                })
                .collect();
            let mut b = Resolver::builder_with_config(
                ResolverConfig::from_name_servers(name_servers),
                TokioRuntimeProvider::default(),
            );
            // Named servers answer alone: /etc/hosts must not stand in for them.
            b.options_mut().use_hosts_file = ResolveHosts::Never;
            b
        };
        let mut builder = builder;
        let opts = builder.options_mut();
        opts.timeout = timeout;
        opts.attempts = 2;
        // Keep the CNAMEs of a chain in an A answer (the default, stated because the
        // checks read them).
        opts.preserve_intermediates = true;
        let resolver = builder
            .build()
            .map_err(|e| ModuleError::transport(format!("cannot set up the DNS resolver: {e}")))?;
        Ok(Session { resolver, servers })
    }
}

/// A resolver for one check.
pub struct Session {
    resolver: Resolver<TokioRuntimeProvider>,
    servers: Vec<SocketAddr>,
}

impl Session {
    /// Which resolver answers, for messages: `127.0.0.1:5353` or "the system's resolver".
    pub fn describe(&self) -> String {
        if self.servers.is_empty() {
            "the system's resolver".to_string()
        } else {
            let list: Vec<String> = self.servers.iter().map(|s| s.to_string()).collect();
            format!("the resolver at {}", list.join(", "))
        }
    }

    /// Ask for `qtype` records of `name` (an absolute name: no search domains apply).
    /// An unreachable resolver or a timeout is a transport error; a SERVFAIL or REFUSED
    /// is a remote one.
    pub async fn query(&self, name: &str, qtype: QueryType) -> Result<DnsAnswer> {
        let fqdn = format!("{}.", name.trim().trim_end_matches('.'));
        let rtype = qtype.record_type();
        match self.resolver.lookup(fqdn.as_str(), rtype).await {
            Ok(lookup) => {
                let records: Vec<DnsRecord> = lookup
                    .answers()
                    .iter()
                    .filter_map(|r| {
                        let name = bare(&r.name.to_string());
                        match &r.data {
                            RData::CNAME(c) => Some(DnsRecord::Cname {
                                name,
                                target: bare(&c.0.to_string()),
                            }),
                            RData::A(a) => Some(DnsRecord::Address {
                                name,
                                addr: IpAddr::V4(a.0),
                            }),
                            RData::AAAA(a) => Some(DnsRecord::Address {
                                name,
                                addr: IpAddr::V6(a.0),
                            }),
                            _ => None,
                        }
                    })
                    .collect();
                Ok(if records.is_empty() {
                    DnsAnswer::NoData
                } else {
                    DnsAnswer::Records(records)
                })
            }
            Err(e) if e.is_nx_domain() => Ok(DnsAnswer::NxDomain),
            Err(e) if e.is_no_records_found() => Ok(DnsAnswer::NoData),
            Err(NetError::Dns(DnsError::ResponseCode(code))) => Err(ModuleError::remote(format!(
                "{} answered {code} for {fqdn} ({rtype})",
                self.describe()
            ))
            .with_hint("the resolver could not answer for the name; try again, or ask another resolver with #{ servers: [...] }")),
            Err(e) => Err(ModuleError::transport(format!(
                "no answer from {} for {fqdn} ({rtype}): {e}",
                self.describe()
            ))
            .with_hint("check dns_servers in the profile (\"ip:port\"), or the machine's DNS settings")),
        }
    }
}

/// A name without its trailing dot.
fn bare(name: &str) -> String {
    name.trim_end_matches('.').to_string()
}

/// A DNS server address as written in a profile or a script: `ip:port`, `[ipv6]:port`,
/// or a bare IP for port 53. Names are refused: the resolver is what turns names into
/// addresses, so it cannot be named by one.
pub fn parse_server(s: &str) -> Result<SocketAddr> {
    let t = s.trim();
    if let Ok(addr) = t.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Ok(ip) = t
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return Ok(SocketAddr::new(ip, 53));
    }
    Err(ModuleError::validation(format!(
        "`{s}` is not a DNS server address"
    ))
    .with_hint("an IP address and port, e.g. \"10.0.0.53:53\" or \"[2001:db8::53]:53\"; a bare IP means port 53"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses() {
        let p = |s: &str| parse_server(s).map(|a| a.to_string()).ok();
        assert_eq!(p("127.0.0.1:5353").as_deref(), Some("127.0.0.1:5353"));
        assert_eq!(p(" 10.0.0.53 ").as_deref(), Some("10.0.0.53:53"));
        assert_eq!(p("[::1]:53").as_deref(), Some("[::1]:53"));
        assert_eq!(p("::1").as_deref(), Some("[::1]:53"));
        assert_eq!(p("dns.contoso.com:53"), None);
        assert_eq!(p("127.0.0.1:99999"), None);
    }
}
