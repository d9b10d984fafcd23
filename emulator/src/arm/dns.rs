//! Azure DNS over ARM: zones and CNAME record sets.
//! `PUT`/`GET`/`DELETE …/resourceGroups/{rg}/providers/Microsoft.Network/dnsZones/{zone}`,
//! `PUT`/`GET`/`DELETE …/dnsZones/{zone}/CNAME/{relativeName}`, and the record set lists
//! `GET …/dnsZones/{zone}/recordsets` and `GET …/dnsZones/{zone}/CNAME`.
//! Source: Azure/azure-rest-api-specs:specification/dns/resource-manager/Microsoft.Network/stable/2018-05-01/dns.json
//! (Zones_CreateOrUpdate and RecordSets_CreateOrUpdate 200/201 with `If-Match` /
//! `If-None-Match`; Zones_Delete 200/202/204; RecordSets_Delete 200/204 with `If-Match`;
//! RecordSets_ListByType, RecordSets_ListByDnsZone) and its examples
//! CreateOrUpdateZone.json, CreateOrUpdateCNAMERecordset.json, DeleteZone.json (the
//! bodies: `location` `global` (sent as `Global`), `properties.TTL`,
//! `properties.CNAMERecord.cname`, `properties.fqdn` — `record1.zone1`, without the
//! trailing dot the live service is seen to add — `etag`, names as given, types
//! `Microsoft.Network/dnsZones[/CNAME]`). The zone delete is answered at once (200), one of the answers
//! the spec lists. Error codes as ARM gives them for nested resources
//! (`ResourceNotFound`, `ParentResourceNotFound`); their exact message texts are
//! UNCONFIRMED by a document read here. Only CNAME record sets are served.

use super::errors::{json_body, ArmError, ArmResult};
use super::resource_groups::{group_name, kind_is};
use crate::app::AppState;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

pub(super) const ZONES: &str = "armDnsZones";
pub(super) const RECORD_SETS: &str = "armDnsRecordSets";

/// Where a zone lives: subscription (checked), resource group (as created), zone name.
pub(super) struct ZoneRef {
    sub: String,
    group: String,
    zone: String,
}

impl ZoneRef {
    /// Check the api-version, the subscription and the resource group, in ARM's order.
    pub(super) fn resolve(
        st: &AppState,
        sub: &str,
        rg: &str,
        zone: &str,
        uri: &Uri,
    ) -> ArmResult<ZoneRef> {
        super::api_version(&crate::odata::Query::parse(uri.query()))?;
        let sub = super::subscriptions::check(st, sub)?;
        let group = group_name(st, &sub, rg)?;
        Ok(ZoneRef {
            sub,
            group,
            zone: zone.trim_end_matches('.').to_ascii_lowercase(),
        })
    }

    fn key(&self) -> String {
        format!(
            "{}/{}/{}",
            self.sub.to_ascii_lowercase(),
            self.group.to_ascii_lowercase(),
            self.zone
        )
    }

    fn id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/dnsZones/{}",
            self.sub, self.group, self.zone
        )
    }

    fn not_found(&self) -> ArmError {
        ArmError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!(
                "The Resource 'Microsoft.Network/dnszones/{}' under resource group '{}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
                self.zone, self.group
            ),
        )
    }

    fn parent_not_found(&self) -> ArmError {
        ArmError::new(
            StatusCode::NOT_FOUND,
            "ParentResourceNotFound",
            format!(
                "Can not perform requested operation on nested resource. Parent resource '{}' not found.",
                self.zone
            ),
        )
    }

    fn zone_doc(&self, st: &AppState) -> ArmResult<Option<Value>> {
        Ok(st.store.read(|db| db.get(ZONES, &self.key()))?)
    }
}

fn bad_request(message: impl Into<String>) -> ArmError {
    ArmError::new(StatusCode::BAD_REQUEST, "BadRequest", message)
}

fn precondition_failed() -> ArmError {
    ArmError::new(
        StatusCode::PRECONDITION_FAILED,
        "PreconditionFailed",
        "The condition specified using HTTP conditional header(s) is not met.",
    )
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// `If-Match` (an etag, or `*` for "exists") and `If-None-Match` (`*`: "does not exist").
fn check_conditions(headers: &HeaderMap, current: Option<&Value>) -> ArmResult<()> {
    if let Some(want) = header(headers, "if-match") {
        let ok = match current {
            None => false,
            Some(_) if want == "*" => true,
            Some(c) => c["etag"].as_str() == Some(want.trim_matches('"')),
        };
        if !ok {
            return Err(precondition_failed());
        }
    }
    if let Some(want) = header(headers, "if-none-match") {
        if want == "*" && current.is_some() {
            return Err(precondition_failed());
        }
    }
    Ok(())
}

fn view(doc: &Value) -> Value {
    crate::graph::public_view(doc)
}

/// `GET` a zone.
pub(super) fn get_zone(st: &AppState, z: &ZoneRef) -> ArmResult<Response> {
    let doc = z.zone_doc(st)?.ok_or_else(|| z.not_found())?;
    Ok(Json(view(&doc)).into_response())
}

/// `PUT` a zone: 201 when new, 200 when it existed (its record sets are kept).
pub(super) fn put_zone(
    st: &AppState,
    z: &ZoneRef,
    headers: &HeaderMap,
    body: &Bytes,
) -> ArmResult<Response> {
    let given = json_body(body)?;
    match given.get("location").and_then(Value::as_str) {
        Some(l) if l.eq_ignore_ascii_case("global") => {}
        Some(l) if !l.trim().is_empty() => {
            return Err(bad_request(format!(
                "The location '{l}' is not valid for a DNS zone: DNS zones are global resources, use 'global'."
            )))
        }
        _ => {
            return Err(ArmError::new(
                StatusCode::BAD_REQUEST,
                "LocationRequired",
                "The location property is required for this definition.",
            ))
        }
    }
    if z.zone.split('.').count() < 2 || z.zone.split('.').any(str::is_empty) {
        return Err(bad_request(format!(
            "The zone name '{}' is not valid: it must have at least two labels.",
            z.zone
        )));
    }
    let tags = given.get("tags").cloned().unwrap_or_else(|| json!({}));
    let k = z.key();
    let (status, doc) = st.store.write(|db| {
        let existing = db.get(ZONES, &k)?;
        check_conditions(headers, existing.as_ref())?;
        let record_sets = existing
            .as_ref()
            .map(|e| e["properties"]["numberOfRecordSets"].clone())
            .unwrap_or_else(|| json!(2));
        let doc = json!({
            "_key": k,
            "id": z.id(),
            "name": z.zone,
            "type": "Microsoft.Network/dnsZones",
            "location": "global",
            "tags": tags,
            "etag": crate::util::new_guid(),
            "properties": {
                "maxNumberOfRecordSets": 5000,
                "numberOfRecordSets": record_sets,
                "nameServers": [
                    "ns1-01.azure-dns.com",
                    "ns2-01.azure-dns.net",
                    "ns3-01.azure-dns.org",
                    "ns4-01.azure-dns.info"
                ],
                "zoneType": "Public",
            },
        });
        if existing.is_some() {
            db.update(ZONES, &k, &doc)?;
            Ok::<_, ArmError>((StatusCode::OK, doc))
        } else {
            db.insert(ZONES, &k, &doc)?;
            Ok((StatusCode::CREATED, doc))
        }
    })?;
    Ok((status, Json(view(&doc))).into_response())
}

/// `DELETE` a zone and every record set in it: 200, or 204 when there was none.
pub(super) fn delete_zone(st: &AppState, z: &ZoneRef, headers: &HeaderMap) -> ArmResult<Response> {
    let k = z.key();
    let deleted = st.store.write(|db| {
        let existing = db.get(ZONES, &k)?;
        if header(headers, "if-match").is_some() {
            check_conditions(headers, existing.as_ref())?;
        }
        if existing.is_none() {
            return Ok::<_, ArmError>(false);
        }
        delete_under(db, &format!("{k}/"))?;
        db.delete(ZONES, &k)?;
        Ok(true)
    })?;
    Ok(if deleted {
        StatusCode::OK
    } else {
        StatusCode::NO_CONTENT
    }
    .into_response())
}

/// Delete every record set whose key starts with `prefix` (a zone's, or a group's).
pub(super) fn delete_under(
    db: &crate::store::Db<'_>,
    prefix: &str,
) -> Result<(), crate::store::StoreError> {
    for row in db.list(RECORD_SETS)? {
        let key = crate::graph::str_of(&row.doc, "_key");
        if key.starts_with(prefix) {
            db.delete(RECORD_SETS, key)?;
        }
    }
    Ok(())
}

/// A record set in a zone: only `CNAME` is served.
pub(super) struct RecordRef<'a> {
    zone: &'a ZoneRef,
    /// As given in the path; the key is lower-cased.
    name: String,
}

impl<'a> RecordRef<'a> {
    pub(super) fn new(zone: &'a ZoneRef, record_type: &str, name: &str) -> ArmResult<Self> {
        if !kind_is(record_type, "CNAME") {
            return Err(ArmError::new(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!(
                    "The comgmt emulator serves no DNS record type '{record_type}': only CNAME."
                ),
            ));
        }
        Ok(RecordRef {
            zone,
            name: name.to_string(),
        })
    }

    fn key(&self) -> String {
        format!(
            "{}/cname/{}",
            self.zone.key(),
            self.name.to_ascii_lowercase()
        )
    }

    /// As the spec's example gives it: `record1.zone1`, no trailing dot.
    fn fqdn(&self, name: &str) -> String {
        format!("{name}.{}", self.zone.zone)
    }

    fn not_found(&self) -> ArmError {
        ArmError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!(
                "The Resource 'Microsoft.Network/dnszones/{}/CNAME/{}' under resource group '{}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
                self.zone.zone, self.name, self.zone.group
            ),
        )
    }
}

/// `GET` a CNAME record set.
pub(super) fn get_record(st: &AppState, r: &RecordRef) -> ArmResult<Response> {
    if r.zone.zone_doc(st)?.is_none() {
        return Err(r.zone.parent_not_found());
    }
    let doc = st
        .store
        .read(|db| db.get(RECORD_SETS, &r.key()))?
        .ok_or_else(|| r.not_found())?;
    Ok(Json(view(&doc)).into_response())
}

/// `PUT` a CNAME record set: 201 when new, 200 when it existed. The zone must exist.
pub(super) fn put_record(
    st: &AppState,
    r: &RecordRef,
    headers: &HeaderMap,
    body: &Bytes,
) -> ArmResult<Response> {
    let given = json_body(body)?;
    let props = &given["properties"];
    let ttl = match &props["TTL"] {
        Value::Null => 3600,
        v => v
            .as_i64()
            .filter(|t| (0..=2_147_483_647).contains(t))
            .ok_or_else(|| bad_request("The TTL must be an integer from 0 to 2147483647."))?,
    };
    let cname = props["CNAMERecord"]["cname"]
        .as_str()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| bad_request("The CNAME record set must have a CNAMERecord with a cname."))?
        .to_string();
    if r.name == "@" {
        return Err(bad_request(
            "A CNAME record set cannot be created at the zone apex ('@').",
        ));
    }
    let metadata = props.get("metadata").cloned().unwrap_or_else(|| json!({}));
    let zone_key = r.zone.key();
    let k = r.key();
    let (status, doc) = st.store.write(|db| {
        let mut zone = db
            .get(ZONES, &zone_key)?
            .ok_or_else(|| r.zone.parent_not_found())?;
        let existing = db.get(RECORD_SETS, &k)?;
        check_conditions(headers, existing.as_ref())?;
        // The name keeps the case it was created with.
        let shown = existing
            .as_ref()
            .and_then(|c| c["name"].as_str())
            .unwrap_or(&r.name)
            .to_string();
        let doc = json!({
            "_key": k,
            "id": format!("{}/CNAME/{shown}", r.zone.id()),
            "name": shown,
            "type": "Microsoft.Network/dnsZones/CNAME",
            "etag": crate::util::new_guid(),
            "properties": {
                "metadata": metadata,
                "TTL": ttl,
                "fqdn": r.fqdn(&shown),
                "provisioningState": "Succeeded",
                "targetResource": {},
                "CNAMERecord": {"cname": cname},
            },
        });
        if existing.is_some() {
            db.update(RECORD_SETS, &k, &doc)?;
            Ok::<_, ArmError>((StatusCode::OK, doc))
        } else {
            db.insert(RECORD_SETS, &k, &doc)?;
            let n = zone["properties"]["numberOfRecordSets"]
                .as_i64()
                .unwrap_or(2);
            zone["properties"]["numberOfRecordSets"] = json!(n + 1);
            db.update(ZONES, &zone_key, &zone)?;
            Ok((StatusCode::CREATED, doc))
        }
    })?;
    Ok((status, Json(view(&doc))).into_response())
}

/// `DELETE` a CNAME record set: 200, or 204 when there was none.
pub(super) fn delete_record(
    st: &AppState,
    r: &RecordRef,
    headers: &HeaderMap,
) -> ArmResult<Response> {
    let zone_key = r.zone.key();
    let k = r.key();
    let deleted = st.store.write(|db| {
        let mut zone = db
            .get(ZONES, &zone_key)?
            .ok_or_else(|| r.zone.parent_not_found())?;
        let existing = db.get(RECORD_SETS, &k)?;
        if header(headers, "if-match").is_some() {
            check_conditions(headers, existing.as_ref())?;
        }
        if existing.is_none() {
            return Ok::<_, ArmError>(false);
        }
        db.delete(RECORD_SETS, &k)?;
        let n = zone["properties"]["numberOfRecordSets"]
            .as_i64()
            .unwrap_or(3);
        zone["properties"]["numberOfRecordSets"] = json!((n - 1).max(2));
        db.update(ZONES, &zone_key, &zone)?;
        Ok(true)
    })?;
    Ok(if deleted {
        StatusCode::OK
    } else {
        StatusCode::NO_CONTENT
    }
    .into_response())
}

/// `GET …/recordsets` (every type) or `GET …/CNAME`: the zone's CNAME record sets.
/// The SOA and NS record sets a real zone has are not emulated.
pub(super) fn list_records(st: &AppState, z: &ZoneRef, what: &str) -> ArmResult<Response> {
    if !kind_is(what, "recordsets") && !kind_is(what, "CNAME") && !kind_is(what, "all") {
        return Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("The comgmt emulator serves no DNS record type '{what}': only CNAME."),
        ));
    }
    if z.zone_doc(st)?.is_none() {
        return Err(z.parent_not_found());
    }
    let prefix = format!("{}/cname/", z.key());
    let rows = st.store.read(|db| db.list(RECORD_SETS))?;
    let value: Vec<Value> = rows
        .iter()
        .filter(|r| crate::graph::str_of(&r.doc, "_key").starts_with(&prefix))
        .map(|r| view(&r.doc))
        .collect();
    Ok(Json(json!({"value": value})).into_response())
}

/// The zones whose key starts with `prefix` (a group's), as stored.
pub(super) fn zones_under(
    db: &crate::store::Db<'_>,
    prefix: &str,
) -> Result<Vec<Value>, crate::store::StoreError> {
    Ok(db
        .list(ZONES)?
        .into_iter()
        .filter(|r| crate::graph::str_of(&r.doc, "_key").starts_with(prefix))
        .map(|r| view(&r.doc))
        .collect())
}

/// A CNAME record set as the emulator's DNS server serves it.
pub(crate) struct CnameView {
    /// The record's name, `{relative}.{zone}`, in the case it was created with.
    pub fqdn: String,
    /// What it points at, as written (a trailing dot is allowed).
    pub target: String,
    pub ttl: u32,
}

/// Every zone name (lower case) and every CNAME record set in every zone, oldest first,
/// for the DNS server (`crate::dns_server`): the layout of these collections stays here.
pub(crate) fn served_names(
    db: &crate::store::Db<'_>,
) -> Result<(Vec<String>, Vec<CnameView>), crate::store::StoreError> {
    let zones = db
        .docs(ZONES)?
        .iter()
        .map(|z| crate::graph::str_of(z, "name").to_ascii_lowercase())
        .filter(|z| !z.is_empty())
        .collect();
    let records = db
        .docs(RECORD_SETS)?
        .iter()
        .filter_map(|r| {
            let props = &r["properties"];
            let fqdn = props["fqdn"].as_str()?.trim_end_matches('.');
            let target = props["CNAMERecord"]["cname"].as_str()?.trim();
            // Stored TTLs are checked to 0..=2147483647 on PUT; clamp anyway.
            let ttl = props["TTL"]
                .as_i64()
                .unwrap_or(3600)
                .clamp(0, i64::from(i32::MAX));
            Some(CnameView {
                fqdn: fqdn.to_string(),
                target: target.to_string(),
                ttl: u32::try_from(ttl).unwrap_or(3600),
            })
        })
        .collect();
    Ok((zones, records))
}
