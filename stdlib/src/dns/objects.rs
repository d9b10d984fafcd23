//! What scripts get back from the dns module.

use crate::change::Known;
use serde_json::Value;

/// A CMG's CNAME record: the service name pointing at the deployment name.
#[derive(Debug, Clone, PartialEq)]
pub struct CnameRecord {
    /// The service name, without a trailing dot (`GraniteFalls.contoso.com`).
    pub name: String,
    /// The deployment name, without a trailing dot.
    pub target: String,
    pub ttl: i64,
    /// The record's name with a trailing dot, as Azure DNS reports it.
    pub fqdn: String,
    /// Whether comgmt manages the record in Azure DNS (false: create it by hand).
    pub managed: bool,
    /// The record as a zone file line.
    pub record: String,
    /// The record set's resource id; empty when not managed.
    pub id: String,
}

/// An Azure DNS zone.
#[derive(Debug, Clone, PartialEq)]
pub struct DnsZone {
    /// `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/dnszones/{zone}`.
    pub id: String,
    pub name: String,
    pub resource_group: String,
    /// The Azure name servers to delegate the domain to (known after apply when created).
    pub name_servers: Known<Vec<String>>,
}

impl DnsZone {
    /// From an ARM zone object.
    pub fn from_arm(v: &Value, resource_group: &str) -> Self {
        DnsZone {
            id: v["id"].as_str().unwrap_or_default().to_string(),
            name: v["name"].as_str().unwrap_or_default().to_string(),
            resource_group: resource_group.to_string(),
            name_servers: Known::Value(
                v["properties"]["nameServers"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|s| s.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
        }
    }
}

/// What `dns::check_cname` found: how the service name resolves against what it should.
#[derive(Debug, Clone, PartialEq)]
pub struct CnameCheck {
    /// No finding of severity `error`: the CNAME points at the deployment name and that
    /// name resolves.
    pub ok: bool,
    /// The service name checked, without a trailing dot.
    pub service_name: String,
    /// What the service name's CNAME points at, without a trailing dot; empty when it
    /// has none.
    pub target: String,
    /// The deployment name it should point at.
    pub expected: String,
    /// The addresses the service name resolves to, as clients would get them.
    pub addresses: Vec<String>,
    /// Which resolver answered.
    pub resolver: String,
    pub findings: Vec<crate::preflight::Finding>,
}
