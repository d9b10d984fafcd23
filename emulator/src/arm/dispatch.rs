//! Routing below `/subscriptions/{sub}/…` by the path's segments, matched without case
//! as ARM matches them. The router's fixed-shape routes cannot tell
//! `…/dnsZones/{zone}/CNAME/{name}` from `…/deployments/{name}/operationStatuses/{id}`
//! (both are nine segments), so every path from four segments on comes here and is
//! told apart by its namespace and type.

use super::errors::{ArmError, ArmResult};
use super::resource_groups::kind_is as is;
use crate::app::AppState;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;

/// One ARM request.
pub struct Req<'a> {
    pub st: &'a AppState,
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub body: &'a Bytes,
}

impl Req<'_> {
    pub fn base(&self) -> String {
        self.st.base_url(self.uri, self.headers)
    }

    pub fn query(&self) -> crate::odata::Query {
        crate::odata::Query::parse(self.uri.query())
    }
}

/// The path's segments after `/subscriptions/`, percent-decoded.
fn segments(uri: &Uri) -> Vec<String> {
    uri.path()
        .trim_matches('/')
        .split('/')
        .skip(1)
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

pub fn method_not_allowed(m: &Method) -> ArmError {
    ArmError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!("The requested resource does not support http method '{m}'."),
    )
}

pub fn dispatch(r: &Req<'_>) -> ArmResult<Response> {
    let seg = segments(r.uri);
    let s: Vec<&str> = seg.iter().map(String::as_str).collect();
    let (sub, rest) = match s.split_first() {
        Some((sub, rest)) if !rest.is_empty() => (*sub, rest),
        _ => return Err(super::resource_groups::unknown_kind("")),
    };
    if is(rest[0], "providers") {
        return subscription_providers(r, sub, &rest[1..]);
    }
    if !is(rest[0], "resourceGroups") || rest.len() < 3 {
        return Err(super::resource_groups::unknown_kind(rest[0]));
    }
    let rg = rest[1];
    if rest.len() == 3 && is(rest[2], "resources") {
        return only(r, Method::GET, || super::listing::list(r, sub, rg));
    }
    // DeploymentOperations_List's path has no `providers/Microsoft.Resources`
    // (resources.json: `/subscriptions/{sub}/resourcegroups/{rg}/deployments/{name}/operations`).
    if is(rest[2], "deployments") {
        return super::deployments::route(r, sub, rg, &rest[3..]);
    }
    if !is(rest[2], "providers") || rest.len() < 5 {
        return Err(super::resource_groups::unknown_kind(rest[2]));
    }
    let (ns, t, tail) = (rest[3], rest[4], &rest[5..]);
    let nt = |n: &str, ty: &str| is(ns, n) && is(t, ty);
    if is(ns, "Microsoft.Authorization") {
        return super::authorization::route(r, sub, Some(rg), &rest[4..]);
    }
    if nt("Microsoft.Network", "dnsZones") {
        return dns(r, sub, rg, tail);
    }
    if nt("Microsoft.Resources", "deployments") {
        return super::deployments::route(r, sub, rg, tail);
    }
    if nt("Microsoft.Compute", "virtualMachineScaleSets") {
        return super::vmss::route(r, sub, rg, tail);
    }
    for (rtype, versions) in [
        (super::resources::VAULT, super::versions::KEY_VAULT),
        (super::resources::STORAGE, super::versions::STORAGE),
        (super::resources::PUBLIC_IP, super::versions::NETWORK),
    ] {
        let (n, ty) = rtype.split_once('/').unwrap_or_default();
        if nt(n, ty) && tail.len() == 1 {
            return only(r, Method::GET, || {
                super::listing::get(r, sub, rg, rtype, tail[0], versions)
            });
        }
    }
    Err(ArmError::new(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("The comgmt emulator serves no ARM resource type '{ns}/{t}' here."),
    ))
}

/// Answer `f` for `method`, 405 for any other.
pub fn only(
    r: &Req<'_>,
    method: Method,
    f: impl FnOnce() -> ArmResult<Response>,
) -> ArmResult<Response> {
    if *r.method == method {
        f()
    } else {
        Err(method_not_allowed(r.method))
    }
}

/// `/subscriptions/{sub}/providers/…`
fn subscription_providers(r: &Req<'_>, sub: &str, p: &[&str]) -> ArmResult<Response> {
    let Some(ns) = p.first().copied() else {
        return Err(super::resource_groups::unknown_kind("providers"));
    };
    if is(ns, "Microsoft.Authorization") {
        return super::authorization::route(r, sub, None, &p[1..]);
    }
    match p {
        [ns, action] => only(r, Method::POST, || {
            super::provider_action_in(r.st, sub, ns, action, r.uri, r.body)
        }),
        [ns, locations, region, action] if is(locations, "locations") => {
            only(r, Method::GET, || {
                if is(ns, "Microsoft.Network") && is(action, "CheckDnsNameAvailability") {
                    return super::names::dns(r.st, sub, region, r.uri);
                }
                Err(super::unknown_action(ns, action))
            })
        }
        [ns, locations, region, operations, op]
            if is(locations, "locations") && is(operations, "operations") =>
        {
            only(r, Method::GET, || {
                let version = super::api_version(&r.query())?;
                let sub = super::subscriptions::check(r.st, sub)?;
                let at = super::lro::OpRef {
                    sub: &sub,
                    ns,
                    region,
                    version: &version,
                };
                super::lro::status(r.st, &at, op, r.uri, r.headers)
            })
        }
        [ns, rest @ ..] => Err(super::unknown_action(
            ns,
            rest.last().copied().unwrap_or(""),
        )),
        [] => Err(super::resource_groups::unknown_kind("providers")),
    }
}

/// Azure DNS: `dnsZones/{zone}`, `dnsZones/{zone}/{recordsets|CNAME}`,
/// `dnsZones/{zone}/{type}/{name}`.
fn dns(r: &Req<'_>, sub: &str, rg: &str, tail: &[&str]) -> ArmResult<Response> {
    use super::dns;
    let zone = |z: &str| dns::ZoneRef::resolve(r.st, sub, rg, z, r.uri);
    match (tail, r.method.clone()) {
        ([z], Method::GET) => dns::get_zone(r.st, &zone(z)?),
        ([z], Method::PUT) => dns::put_zone(r.st, &zone(z)?, r.headers, r.body),
        ([z], Method::DELETE) => dns::delete_zone(r.st, &zone(z)?, r.headers),
        ([z, what], Method::GET) => dns::list_records(r.st, &zone(z)?, what),
        ([z, rtype, name], m) => {
            let z = zone(z)?;
            let rec = dns::RecordRef::new(&z, rtype, name)?;
            match m {
                Method::GET => dns::get_record(r.st, &rec),
                Method::PUT => dns::put_record(r.st, &rec, r.headers, r.body),
                Method::DELETE => dns::delete_record(r.st, &rec, r.headers),
                m => Err(method_not_allowed(&m)),
            }
        }
        ([_] | [_, _], m) => Err(method_not_allowed(&m)),
        _ => Err(super::resource_groups::unknown_kind("dnsZones")),
    }
}
