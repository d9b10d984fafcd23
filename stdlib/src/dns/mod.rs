//! `dns` script module: the CMG's CNAME record (service name -> deployment name) in
//! Azure DNS, or the record to create by hand when the zone is elsewhere; Azure DNS
//! zones; and the check of the record as clients resolve it. Thin bindings only: the work is in `ops/`, the options and rules in
//! `model.rs`, what scripts get back in `objects.rs`.

pub mod model;
pub mod objects;
pub mod ops;

use crate::context::Ctx;
use crate::error::at;
use crate::options;
use objects::{CnameCheck, CnameRecord, DnsZone};
use rhai::plugin::*;
use rhai::{Array, Map};

#[export_module]
pub mod api {
    use super::*;

    /// The CNAME record a CMG's service name needs, to create by hand.
    ///
    /// See `cname(service_name, deployment_name, options)`: without a zone nothing is
    /// written and the record to create is returned and printed.
    ///
    /// # Returns
    /// A `CnameRecord` with `managed` false.
    ///
    /// # Permission
    /// None: nothing is read or written.
    ///
    /// # Example
    /// ```rhai
    /// let r = dns::cname("GraniteFalls.contoso.com", "GraniteFalls.westus.cloudapp.azure.com");
    /// print(r.record);
    /// ```
    #[rhai_fn(name = "cname", return_raw)]
    pub fn cname_default(
        ctx: NativeCallContext,
        service_name: &str,
        deployment_name: &str,
    ) -> Result<CnameRecord, Box<EvalAltResult>> {
        cname(ctx, service_name, deployment_name, Map::new())
    }

    /// Ensure the CNAME record from a CMG's service name to its deployment name.
    ///
    /// Clients hold the service name (`GraniteFalls.contoso.com`) and reach the CMG
    /// through this record, which points at the deployment name
    /// (`GraniteFalls.westus.cloudapp.azure.com`). Both are checked first: the target
    /// must be the service name's prefix, a region and `cloudapp.azure.com`, and a
    /// service name already in Azure's domain needs no record.
    ///
    /// With `zone` and `resource_group` (the organisation's zone is in Azure DNS), the
    /// CNAME record set named by the service name relative to the zone (case-insensitive,
    /// trailing dots ignored; a service name outside the zone is refused before any
    /// request) is created or updated by PUT: a re-run changes nothing, a new TTL or
    /// target is an update. The zone must exist (`dns::zone`). Without a zone nothing is
    /// written: the record to create in the public DNS is returned and printed, in a
    /// plan and a run alike.
    ///
    /// # Options
    /// - `zone` (string, optional): the Azure DNS zone the service name is in, e.g. `contoso.com`.
    /// - `resource_group` (string, optional): the zone's resource group; required with `zone`.
    /// - `subscription` (string, optional): the zone's subscription id; default `azure::subscription()`.
    /// - `ttl` (int, default 3600): the record's time to live in seconds, 1–2147483647.
    ///
    /// # Returns
    /// A `CnameRecord`: `name` (the service name), `target` (the deployment name), `ttl`,
    /// `fqdn` (with a trailing dot), `managed` (true when it is in Azure DNS), `record`
    /// (the zone file line), `id` (the record set's resource id; empty when not managed).
    ///
    /// # Permission
    /// Azure RBAC with a zone: DNS Zone Contributor on the zone (or its resource group),
    /// `Microsoft.Network/dnsZones/CNAME/write`. Without a zone: none here; whoever runs
    /// the organisation's public DNS creates the record.
    ///
    /// # Example
    /// ```rhai
    /// azure::resource_group("dns-rg", "westus");
    /// dns::zone("contoso.com", #{ resource_group: "dns-rg" });
    /// let r = dns::cname("GraniteFalls.contoso.com", "GraniteFalls.westus.cloudapp.azure.com",
    ///     #{ zone: "contoso.com", resource_group: "dns-rg", ttl: 3600 });
    /// print(`${r.record} (managed: ${r.managed})`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn cname(
        ctx: NativeCallContext,
        service_name: &str,
        deployment_name: &str,
        options: Map,
    ) -> Result<CnameRecord, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let opts = options::parse("dns::cname", options).map_err(at(&ctx))?;
        ops::cname(&run, service_name, deployment_name, &opts).map_err(at(&ctx))
    }

    /// Check how a CMG's service name resolves, with the target's resolver.
    ///
    /// See `check_cname(service_name, deployment_name, options)`.
    ///
    /// # Returns
    /// A map: `ok`, `service_name`, `target`, `expected`, `addresses`, `resolver`, `findings`.
    ///
    /// # Permission
    /// None: DNS queries only.
    ///
    /// # Example
    /// ```rhai
    /// let c = dns::check_cname("GraniteFalls.contoso.com", "GraniteFalls.westus.cloudapp.azure.com");
    /// for f in c.findings { print(f); }
    /// ```
    #[rhai_fn(name = "check_cname", return_raw)]
    pub fn check_cname_default(
        ctx: NativeCallContext,
        service_name: &str,
        deployment_name: &str,
    ) -> Result<Map, Box<EvalAltResult>> {
        check_cname(ctx, service_name, deployment_name, Map::new())
    }

    /// Check how a CMG's service name resolves: the CNAME record clients follow to the
    /// deployment name, and that name's address.
    ///
    /// Asks the target's resolver (the profile's `dns_servers`; on the emulator target,
    /// the emulator's DNS server; otherwise the machine's DNS settings) and says exactly
    /// what is wrong, one finding each: `cname-missing` (no record: NXDOMAIN, with the
    /// record to create), `cname-wrong-target` (a CNAME to something else: what it
    /// points at and what it should), `cname-indirect` (a warning: it reaches the
    /// deployment name through another CNAME), `a-record-instead-of-cname`,
    /// `deployment-not-resolving` (the CMG is not deployed yet), `deployment-no-address`,
    /// `resolver-unreachable` (no answer or a timeout) and `resolver-error` (SERVFAIL,
    /// REFUSED). Names compare without case and trailing dots. A fresh resolver per
    /// check, so a record created earlier in the run is not hidden by a cached answer.
    /// It only reads, so it runs in a plan too. The names are checked first as
    /// `dns::cname` checks them.
    ///
    /// # Options
    /// - `servers` (array of strings, optional): DNS servers to ask instead of the
    ///   target's, `"ip:port"` (a bare IP means port 53).
    /// - `timeout` (int, default 3): seconds to wait for each answer, 1–30; two tries per server.
    ///
    /// # Returns
    /// A map: `ok` (bool: no finding of severity `error`), `service_name`, `target` (what
    /// the service name's CNAME points at; empty when it has none), `expected` (the
    /// deployment name), `addresses` (array of strings: what clients resolve the service
    /// name to), `resolver` (who answered), `findings` (array of `Finding`; one
    /// `cname-ok` info finding when all is well).
    ///
    /// # Permission
    /// None: DNS queries only.
    ///
    /// # Example
    /// ```rhai
    /// let c = dns::check_cname("GraniteFalls.contoso.com", "GraniteFalls.westus.cloudapp.azure.com",
    ///     #{ timeout: 2 });
    /// if !c.ok { for f in c.findings { print(f); } }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn check_cname(
        ctx: NativeCallContext,
        service_name: &str,
        deployment_name: &str,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let opts = options::parse("dns::check_cname", options).map_err(at(&ctx))?;
        ops::check_cname(&run, service_name, deployment_name, &opts)
            .map(check_map)
            .map_err(at(&ctx))
    }

    /// Ensure an Azure DNS zone exists in a resource group.
    ///
    /// Found by its resource id and created by PUT (`location` `global`), so two runs
    /// make one zone. The resource group must exist (`azure::resource_group`). For labs:
    /// a real organisation's public zone also needs its domain delegated to the
    /// `name_servers`, which this does not do.
    ///
    /// # Options
    /// - `resource_group` (string, required): the resource group the zone is in.
    /// - `subscription` (string, optional): the subscription id; default `azure::subscription()`.
    ///
    /// # Returns
    /// A `DnsZone`: `id`, `name`, `resource_group`, `name_servers` (array of strings;
    /// `(known after apply)` in a plan that creates it).
    ///
    /// # Permission
    /// Azure RBAC: DNS Zone Contributor on the resource group
    /// (`Microsoft.Network/dnsZones/write`).
    ///
    /// # Example
    /// ```rhai
    /// azure::resource_group("dns-rg", "westus");
    /// let z = dns::zone("contoso.com", #{ resource_group: "dns-rg" });
    /// print(`${z.name}: ${z.name_servers}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn zone(
        ctx: NativeCallContext,
        name: &str,
        options: Map,
    ) -> Result<DnsZone, Box<EvalAltResult>> {
        let run = Ctx::of(&ctx)?;
        let opts = options::parse("dns::zone", options).map_err(at(&ctx))?;
        ops::ensure_zone(&run, name, &opts).map_err(at(&ctx))
    }

    /// The service name, without a trailing dot.
    #[rhai_fn(global, get = "name", pure)]
    pub fn cname_name(r: &mut CnameRecord) -> String {
        r.name.clone()
    }
    /// The deployment name the record points at.
    #[rhai_fn(global, get = "target", pure)]
    pub fn cname_target(r: &mut CnameRecord) -> String {
        r.target.clone()
    }
    /// Time to live, in seconds.
    #[rhai_fn(global, get = "ttl", pure)]
    pub fn cname_ttl(r: &mut CnameRecord) -> i64 {
        r.ttl
    }
    /// The record's name with a trailing dot.
    #[rhai_fn(global, get = "fqdn", pure)]
    pub fn cname_fqdn(r: &mut CnameRecord) -> String {
        r.fqdn.clone()
    }
    /// True when comgmt manages the record in Azure DNS; false: create it by hand.
    #[rhai_fn(global, get = "managed", pure)]
    pub fn cname_managed(r: &mut CnameRecord) -> bool {
        r.managed
    }
    /// The record as a zone file line.
    #[rhai_fn(global, get = "record", pure)]
    pub fn cname_record(r: &mut CnameRecord) -> String {
        r.record.clone()
    }
    /// The record set's resource id; empty when not managed.
    #[rhai_fn(global, get = "id", pure)]
    pub fn cname_id(r: &mut CnameRecord) -> String {
        r.id.clone()
    }
    /// The zone file line.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn cname_to_string(r: &mut CnameRecord) -> String {
        r.record.clone()
    }

    /// Resource id.
    #[rhai_fn(global, get = "id", pure)]
    pub fn zone_id(z: &mut DnsZone) -> String {
        z.id.clone()
    }
    /// The zone name (`contoso.com`).
    #[rhai_fn(global, get = "name", pure)]
    pub fn zone_name(z: &mut DnsZone) -> String {
        z.name.clone()
    }
    /// The resource group it is in.
    #[rhai_fn(global, get = "resource_group", pure)]
    pub fn zone_resource_group(z: &mut DnsZone) -> String {
        z.resource_group.clone()
    }
    /// Azure's name servers for the zone (an array), or `(known after apply)`.
    #[rhai_fn(global, get = "name_servers", pure)]
    pub fn zone_name_servers(z: &mut DnsZone) -> Dynamic {
        match z.name_servers.value() {
            Some(list) => list
                .iter()
                .map(|s| Dynamic::from(s.clone()))
                .collect::<Array>()
                .into(),
            None => crate::change::Known::<String>::AfterApply.to_dynamic(),
        }
    }
    /// One line: name and resource group.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn zone_to_string(z: &mut DnsZone) -> String {
        format!("DNS zone {} in {} ({})", z.name, z.resource_group, z.id)
    }
}

/// A check as the map scripts get.
fn check_map(c: CnameCheck) -> Map {
    let strings =
        |v: Vec<String>| -> Dynamic { v.into_iter().map(Dynamic::from).collect::<Array>().into() };
    let mut m = Map::new();
    m.insert("ok".into(), c.ok.into());
    m.insert("service_name".into(), c.service_name.into());
    m.insert("target".into(), c.target.into());
    m.insert("expected".into(), c.expected.into());
    m.insert("addresses".into(), strings(c.addresses));
    m.insert("resolver".into(), c.resolver.into());
    m.insert(
        "findings".into(),
        c.findings
            .into_iter()
            .map(Dynamic::from)
            .collect::<Array>()
            .into(),
    );
    m
}

pub fn module() -> rhai::Module {
    exported_module!(api)
}

/// The option keys of this module's functions.
pub fn option_specs() -> Vec<options::OptionSpec> {
    use options::OptionSpec;
    vec![
        OptionSpec::of::<model::CnameOptions>("dns::cname", &[]),
        OptionSpec::of::<model::CheckOptions>("dns::check_cname", &[]),
        OptionSpec::of::<model::ZoneOptions>("dns::zone", &[]),
    ]
}

/// This module's types, with the line `comgmt doc` shows for each.
pub fn register_types(types: &mut rhai::Module) {
    use crate::values::document_type;
    document_type::<CnameRecord>(
        types,
        "CnameRecord",
        "A CMG's CNAME record (service name -> deployment name), from `dns::cname`.",
    );
    document_type::<DnsZone>(types, "DnsZone", "An Azure DNS zone, from `dns::zone`.");
}
