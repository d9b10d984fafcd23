//! The dns module as plain Rust: options, the api-version, and the rules of a CMG's
//! CNAME record (service name -> deployment name, api-surface §10). No Rhai, no HTTP.

use crate::cmg::names::{azure_zone, deployment_name, name_prefix, DEPLOYMENT_DOMAIN};
use crate::error::{ModuleError, Result};
use serde::Deserialize;

/// `Microsoft.Network` DNS zones and record sets (dns.json 2018-05-01).
pub const DNS_API: &str = "2018-05-01";

/// The TTL a record gets when none is given (the tutorial's record).
pub const DEFAULT_TTL: i64 = 3600;

/// Options of `dns::cname`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CnameOptions {
    pub zone: Option<String>,
    pub resource_group: Option<String>,
    pub subscription: Option<String>,
    pub ttl: Option<i64>,
}

impl CnameOptions {
    /// The TTL asked for (3600 by default), checked: 1–2147483647 seconds.
    pub fn ttl(&self) -> Result<i64> {
        let ttl = self.ttl.unwrap_or(DEFAULT_TTL);
        if (1..=i64::from(i32::MAX)).contains(&ttl) {
            Ok(ttl)
        } else {
            Err(ModuleError::validation(format!(
                "dns::cname: ttl {ttl} is out of range: 1 to 2147483647 seconds"
            ))
            .with_hint("3600 (one hour) is usual"))
        }
    }

    /// The zone and its resource group, when the zone is in Azure DNS: both or neither.
    pub fn azure_zone(&self) -> Result<Option<(String, String)>> {
        match (&self.zone, &self.resource_group) {
            (Some(z), Some(g)) => Ok(Some((check_zone_name(z)?, g.trim().to_string()))),
            (None, None) => Ok(None),
            (Some(_), None) => Err(ModuleError::validation(
                "dns::cname: `zone` is given without `resource_group`",
            )
            .with_hint(
                "name the resource group that holds the Azure DNS zone, or give neither to get the record to create by hand",
            )),
            (None, Some(_)) => Err(ModuleError::validation(
                "dns::cname: `resource_group` is given without `zone`",
            )
            .with_hint("name the Azure DNS zone the service name is in, e.g. zone: \"contoso.com\"")),
        }
    }
}

/// Options of `dns::zone`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneOptions {
    pub resource_group: Option<String>,
    pub subscription: Option<String>,
}

/// Options of `dns::check_cname`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckOptions {
    /// DNS servers to ask instead of the target's (`"ip:port"`).
    pub servers: Option<Vec<String>>,
    /// Seconds to wait for each answer (two tries per server).
    pub timeout: Option<i64>,
}

/// Seconds a check waits for each DNS answer when none is given.
pub const DEFAULT_DNS_TIMEOUT: i64 = 3;

impl CheckOptions {
    /// The servers asked for, parsed; `None`: the target's resolver.
    pub fn servers(&self) -> Result<Option<Vec<std::net::SocketAddr>>> {
        let Some(list) = &self.servers else {
            return Ok(None);
        };
        if list.is_empty() {
            return Err(ModuleError::validation(
                "dns::check_cname: `servers` is empty",
            )
            .with_hint("name at least one \"ip:port\", or leave `servers` out to use the target's resolver"));
        }
        list.iter()
            .map(|s| crate::cloud::dns::parse_server(s))
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    /// The wait per answer: 1–30 seconds, 3 by default.
    pub fn timeout(&self) -> Result<std::time::Duration> {
        let t = self.timeout.unwrap_or(DEFAULT_DNS_TIMEOUT);
        match u64::try_from(t) {
            Ok(secs @ 1..=30) => Ok(std::time::Duration::from_secs(secs)),
            _ => Err(ModuleError::validation(format!(
                "dns::check_cname: timeout {t} is out of range: 1 to 30 seconds"
            ))),
        }
    }
}

/// A DNS name without its trailing dot or surrounding blanks.
pub fn bare(name: &str) -> &str {
    name.trim().trim_end_matches('.')
}

/// A zone name: at least two labels of letters, digits and inner hyphens; lower-cased,
/// without a trailing dot.
pub fn check_zone_name(zone: &str) -> Result<String> {
    let z = bare(zone).to_ascii_lowercase();
    let ok = z.split('.').count() >= 2
        && z.len() <= 253
        && z.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if ok {
        Ok(z)
    } else {
        Err(
            ModuleError::validation(format!("`{zone}` is not a DNS zone name"))
                .with_hint("e.g. contoso.com: at least two labels of letters, digits and hyphens"),
        )
    }
}

/// The record set's name relative to `zone` (`GraniteFalls.contoso.com` in
/// `contoso.com` is `GraniteFalls`): case-insensitive, trailing dots ignored. A service
/// name outside the zone, or the zone itself (a CNAME cannot sit at the apex), is an
/// error.
pub fn relative_name(service_name: &str, zone: &str) -> Result<String> {
    let name = bare(service_name);
    let zone_l = bare(zone).to_ascii_lowercase();
    let lower = name.to_ascii_lowercase();
    if lower == zone_l {
        return Err(ModuleError::validation(format!(
            "the service name {name} is the zone {zone_l} itself: a CNAME cannot be at a zone's apex"
        ))
        .with_hint("the service name is a host in the zone, e.g. GraniteFalls.contoso.com"));
    }
    match lower.strip_suffix(&format!(".{zone_l}")) {
        Some(rel) if !rel.is_empty() => Ok(name[..rel.len()].to_string()),
        _ => Err(ModuleError::validation(format!(
            "the service name {name} is not in the zone {zone_l}"
        ))
        .with_hint(format!(
            "give the zone the service name is in (e.g. the part after the first label), or a service name ending in .{zone_l}"
        ))),
    }
}

/// The checks a CMG's CNAME makes before anything is read: the service name is a host
/// name outside Azure's domains (one inside them needs no CNAME), and the target is the
/// CMG's deployment name, `<prefix>.<region>.cloudapp.azure.com` with the service
/// name's prefix. Returns (service name, deployment name), trailing dots removed.
pub fn check_cname(service_name: &str, target: &str) -> Result<(String, String)> {
    let service = bare(service_name).to_string();
    let target = bare(target).to_string();
    let host = service.split('.').count() >= 2
        && service.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if !host || name_prefix(&service).is_none() {
        return Err(ModuleError::validation(format!(
            "`{service_name}` is not a CMG service name (a host name like GraniteFalls.contoso.com)"
        )));
    }
    if let Some(z) = azure_zone(&service) {
        return Err(ModuleError::validation(format!(
            "the service name {service} is in Azure's domain {z}: it needs no CNAME record"
        ))
        .with_hint("a CNAME is for a service name in the organisation's own public domain (server-auth-cert.md)"));
    }
    let labels: Vec<&str> = target.split('.').collect();
    let suffix = format!(".{DEPLOYMENT_DOMAIN}");
    let region =
        (labels.len() == 5 && target.to_ascii_lowercase().ends_with(&suffix)).then(|| labels[1]);
    let expected = region.and_then(|r| deployment_name(&service, r).ok());
    match expected {
        Some(e) if e.eq_ignore_ascii_case(&target) => Ok((service, target)),
        Some(e) => Err(ModuleError::validation(format!(
            "the target {target} is not the deployment name of service name {service}: expected {e}"
        ))
        .with_hint("the deployment name is the service name's first label, the region, then cloudapp.azure.com")),
        None => Err(ModuleError::validation(format!(
            "the target {target} is not a CMG deployment name (<prefix>.<region>.{DEPLOYMENT_DOMAIN})"
        ))
        .with_hint("cert.deployment_name(region) or azure::check_cmg_name(prefix, region).deployment_name gives it")),
    }
}

/// The record as a zone file line: `GraniteFalls.contoso.com. 3600 IN CNAME GraniteFalls.westus.cloudapp.azure.com.`
pub fn record_text(service_name: &str, ttl: i64, target: &str) -> String {
    format!("{}. {ttl} IN CNAME {}.", bare(service_name), bare(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_names() {
        assert_eq!(
            relative_name("GraniteFalls.contoso.com", "contoso.com").unwrap(),
            "GraniteFalls"
        );
        assert_eq!(
            relative_name("GraniteFalls.Contoso.COM.", "contoso.com.").unwrap(),
            "GraniteFalls"
        );
        assert_eq!(
            relative_name("cmg.it.contoso.com", "contoso.com").unwrap(),
            "cmg.it"
        );
        assert!(relative_name("GraniteFalls.fabrikam.com", "contoso.com").is_err());
        assert!(relative_name("xcontoso.com", "contoso.com").is_err());
        assert!(relative_name("contoso.com", "contoso.com").is_err());
    }

    #[test]
    fn targets_and_ttl() {
        let (s, t) = check_cname(
            "GraniteFalls.contoso.com.",
            "GraniteFalls.WestUS.CloudApp.Azure.Com",
        )
        .unwrap();
        assert_eq!(s, "GraniteFalls.contoso.com");
        assert_eq!(t, "GraniteFalls.WestUS.CloudApp.Azure.Com");
        assert!(check_cname(
            "GraniteFalls.contoso.com",
            "Other.westus.cloudapp.azure.com"
        )
        .is_err());
        assert!(check_cname("GraniteFalls.contoso.com", "GraniteFalls.cloudapp.net").is_err());
        assert!(check_cname("GraniteFalls.contoso.com", "www.contoso.com").is_err());
        assert!(check_cname(
            "Granite Falls.contoso.com",
            "Granite Falls.westus.cloudapp.azure.com"
        )
        .is_err());
        assert!(check_cname("*.contoso.com", "GraniteFalls.westus.cloudapp.azure.com").is_err());
        assert!(check_cname(
            "GraniteFalls.westus.cloudapp.azure.com",
            "GraniteFalls.westus.cloudapp.azure.com"
        )
        .is_err());
        assert_eq!(
            record_text(
                "GraniteFalls.contoso.com",
                3600,
                "GraniteFalls.westus.cloudapp.azure.com"
            ),
            "GraniteFalls.contoso.com. 3600 IN CNAME GraniteFalls.westus.cloudapp.azure.com."
        );
        let o = |ttl| CnameOptions {
            ttl,
            ..Default::default()
        };
        assert_eq!(o(None).ttl().unwrap(), 3600);
        assert!(o(Some(0)).ttl().is_err());
        assert!(o(Some(2_147_483_648)).ttl().is_err());
        assert_eq!(o(Some(2_147_483_647)).ttl().unwrap(), 2_147_483_647);
        assert!(check_zone_name("contoso.com.").is_ok());
        assert!(check_zone_name("com").is_err());
    }
}
