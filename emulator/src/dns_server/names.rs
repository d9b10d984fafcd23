//! What the DNS server knows, read from the emulator's store for each query: the Azure
//! DNS zones with their CNAME record sets (`crate::arm::dns`), and the public IP
//! addresses' FQDNs (`{label}.{region}.cloudapp.azure.com`, the CMG's deployment name).
//! A snapshot per query keeps answers in step with ARM writes without any cache to
//! invalidate; the store is small.

use crate::store::{Db, StoreError};
use serde_json::Value;
use std::collections::HashMap;
use std::net::IpAddr;

/// Store collections that hold public IP addresses, rows of the public IP `type`: the
/// first is the test hook's (`EmulatorHandle::put_public_ip`, for DNS tests that need no
/// CMG deployment), the second ARM's own resources (`arm/resources.rs`).
pub(crate) const PUBLIC_IP_COLLECTIONS: &[&str] = &["armPublicIPAddresses", "armResources"];

const PUBLIC_IP_TYPE: &str = "Microsoft.Network/publicIPAddresses";

/// The TTL of a public IP's A record. Azure's own value for `cloudapp.azure.com` names is
/// not documented in the sources read here (UNCONFIRMED); short, since the CMG's address
/// can change when it is redeployed.
pub(crate) const PUBLIC_IP_TTL: u32 = 60;

/// A CNAME: where it points (as written) and its TTL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Alias {
    pub target: String,
    pub ttl: u32,
}

/// The names the server answers for, keyed by lower-case name without a trailing dot.
#[derive(Debug, Default)]
pub(crate) struct Names {
    pub aliases: HashMap<String, Alias>,
    pub addresses: HashMap<String, Vec<IpAddr>>,
    /// Zone apexes: they exist (a real zone has SOA and NS there) but hold no A record.
    pub zones: Vec<String>,
}

/// A DNS name as a lookup key: lower case, no trailing dot, no blanks.
pub(crate) fn key(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

impl Names {
    /// Read everything the server answers for.
    pub(crate) fn read(db: &Db<'_>) -> Result<Names, StoreError> {
        let mut names = Names::default();
        let (zones, records) = crate::arm::dns::served_names(db)?;
        names.zones = zones;
        for r in records {
            // Two zones of the same name in different resource groups: the oldest record
            // wins, as if its zone were the delegated one.
            names.aliases.entry(key(&r.fqdn)).or_insert(Alias {
                target: r.target,
                ttl: r.ttl,
            });
        }
        for ip in public_ip_rows(db)? {
            if let Some((fqdn, addr)) = public_ip_name(&ip) {
                let list = names.addresses.entry(key(fqdn)).or_default();
                if !list.contains(&addr) {
                    list.push(addr);
                }
            }
        }
        Ok(names)
    }

    /// Whether `name` exists in the DNS at all: it holds a record, is a zone apex, or
    /// has names below it (an "empty non-terminal", RFC 8020: NOERROR, not NXDOMAIN).
    pub(crate) fn exists(&self, name: &str) -> bool {
        let below = format!(".{name}");
        self.zones.iter().any(|z| z == name || z.ends_with(&below))
            || self
                .aliases
                .keys()
                .chain(self.addresses.keys())
                .any(|k| k == name || k.ends_with(&below))
    }
}

/// Every stored public IP address resource, from the collections that may hold them.
/// The one place a merge with the ARM public IP routes changes.
pub(crate) fn public_ip_rows(db: &Db<'_>) -> Result<Vec<Value>, StoreError> {
    let mut out = Vec::new();
    for collection in PUBLIC_IP_COLLECTIONS {
        out.extend(
            db.docs(collection)?
                .into_iter()
                .filter(|d| crate::graph::str_of(d, "type").eq_ignore_ascii_case(PUBLIC_IP_TYPE)),
        );
    }
    Ok(out)
}

/// A public IP's FQDN and address, when it has both: `properties.dnsSettings.fqdn` and
/// `properties.ipAddress` (the ARM shape, Azure/azure-rest-api-specs
/// Microsoft.Network/stable/2024-05-01/publicIpAddress.json). An address not yet
/// allocated means the name does not resolve yet, as in Azure.
pub(crate) fn public_ip_name(doc: &Value) -> Option<(&str, IpAddr)> {
    let props = &doc["properties"];
    let fqdn = props["dnsSettings"]["fqdn"]
        .as_str()
        .map(str::trim)
        .filter(|f| !f.is_empty())?;
    let addr = props["ipAddress"].as_str()?.trim().parse().ok()?;
    Some((fqdn, addr))
}
