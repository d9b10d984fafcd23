//! Writes on the site systems' roles (`SMS_SCI_SysResUse`): adding and removing a CMG
//! connection point or a software update point on a site system, and changing a role's
//! embedded `Props` (a management point's "Allow Configuration Manager cloud management
//! gateway traffic", `AllowProxyTraffic`).
//! Sources: api-surface.md §12 (`SMS Cloud Proxy Connector`, a CMG named by its service
//! name), §13 (`AllowProxyTraffic`; an HTTP management point may take CMG traffic only
//! when the site has enhanced HTTP). UNCONFIRMED: the AdminService write path for role
//! rows (the cmdlets go through WMI), the embedded property binding a connection point
//! to its CMG ([`CMG_PROP`]), the embedded property of a software update point
//! ([`ALLOW_PROXY_TRAFFIC`] is used for both), and the text of every refusal here.

use super::component::{self, check_props, prop_value};
use super::site::SITE_CODE;
use super::{cmg, cmg_state, AdminError};
use crate::app::AppState;
use crate::store::Db;
use axum::http::StatusCode;
use serde_json::{json, Map, Value};

pub const CONNECTION_POINT: &str = "SMS Cloud Proxy Connector";
pub const MANAGEMENT_POINT: &str = "SMS Management Point";
pub const SOFTWARE_UPDATE_POINT: &str = "SMS Software Update Point";
/// The embedded property naming the connection point's CMG by its service name
/// (`Value1`). UNCONFIRMED name (api-surface.md §21 item 6).
pub const CMG_PROP: &str = "CloudServiceName";
/// "Allow Configuration Manager cloud management gateway traffic" (§13).
pub const ALLOW_PROXY_TRAFFIC: &str = "AllowProxyTraffic";

/// The roles this emulator adds and removes; the site server's own roles stay.
const ADDABLE: &[&str] = &[CONNECTION_POINT, SOFTWARE_UPDATE_POINT];
/// What a role keeps for its life.
const FIXED: &[&str] = &["RoleName", "NetworkOSPath", "SiteCode"];

fn bad(message: impl Into<String>) -> AdminError {
    AdminError::new(StatusCode::BAD_REQUEST, message)
}

fn text<'a>(row: &'a Map<String, Value>, name: &str) -> &'a str {
    row.get(name).and_then(Value::as_str).unwrap_or_default()
}

/// The NAL path WMI shows for a site system (the exact text is UNCONFIRMED, as for the
/// seeded rows in site.rs).
pub fn nal_path(server: &str) -> String {
    format!("[\"Display=\\\\{server}\\\"]MSWNET:[\"SMS_SITE={SITE_CODE}\"]\\\\{server}\\")
}

/// A role row's `ItemName`: its NAL path, then the role.
pub fn item_name(server: &str, role: &str) -> String {
    format!("{},{role}", nal_path(server))
}

/// A role on a new site system: the row the site writes (`Type` 8, "not colocated",
/// unless the server is the site server; sms_sci_sysresuse-server-wmi-class.md).
pub fn fill(row: &mut Map<String, Value>, server: &str, site_server_type: Option<i64>) {
    let role = text(row, "RoleName").to_string();
    let defaults = [
        ("FileType", json!(2)),
        ("ItemName", json!(item_name(server, &role))),
        ("ItemType", json!("System Resource Usage")),
        ("NALPath", json!(nal_path(server))),
        ("NALType", json!("Windows NT Server")),
        ("PropLists", json!([])),
        ("Props", json!([])),
        ("RoleCount", json!(1)),
        ("ServiceWindows", json!([])),
        ("SiteCode", json!(SITE_CODE)),
        ("SslState", json!(0)),
        ("Type", json!(site_server_type.unwrap_or(8))),
    ];
    for (k, v) in defaults {
        if row.get(k).is_none_or(Value::is_null) || k == "ItemName" {
            row.insert(k.into(), v);
        }
    }
}

/// `\\CM01.contoso.com` → `CM01.contoso.com`.
fn server_of(os_path: &str) -> &str {
    os_path.trim_start_matches('\\')
}

pub fn create(
    _: &AppState,
    db: &Db<'_>,
    row: &mut Map<String, Value>,
    _: &Map<String, Value>,
) -> Result<(), AdminError> {
    let role = text(row, "RoleName").to_string();
    if !ADDABLE.contains(&role.as_str()) {
        return Err(bad(format!(
            "RoleName '{role}' cannot be added here; the roles that can are: {}.",
            ADDABLE.join(", ")
        )));
    }
    let os_path = text(row, "NetworkOSPath").to_string();
    let server = server_of(&os_path).to_string();
    if !os_path.starts_with("\\\\") || server.is_empty() {
        return Err(bad(
            "NetworkOSPath must name the site system as \\\\<FQDN>, e.g. \\\\CM01.contoso.com.",
        ));
    }
    let site_code = row.get("SiteCode").and_then(Value::as_str);
    if site_code.is_some_and(|c| !c.eq_ignore_ascii_case(SITE_CODE)) {
        return Err(bad(format!(
            "SiteCode '{}' is not a site this provider serves ({SITE_CODE}).",
            site_code.unwrap_or_default()
        )));
    }
    // A role goes on a server that is already a site system of the site.
    let same_server = db
        .docs(&super::site::SMS_SCI_SYSRESUSE.collection())?
        .into_iter()
        .filter(|r| {
            r["NetworkOSPath"]
                .as_str()
                .is_some_and(|p| p.eq_ignore_ascii_case(&os_path))
        })
        .collect::<Vec<_>>();
    if same_server.is_empty() {
        return Err(bad(format!(
            "{server} is not a site system of site {SITE_CODE}. Add it as a site system server first."
        )));
    }
    let site_server_type = same_server
        .iter()
        .find(|r| r["RoleName"] == "SMS Site Server")
        .and_then(|r| r["Type"].as_i64());
    // The server's spelling as the site already knows it.
    let known = same_server[0]["NetworkOSPath"]
        .as_str()
        .map(server_of)
        .unwrap_or(&server)
        .to_string();
    row.insert("NetworkOSPath".into(), json!(format!("\\\\{known}")));
    fill(row, &known, site_server_type);
    check_props(row.get("Props"))?;
    if role == CONNECTION_POINT {
        check_cmg(db, row)?;
    }
    Ok(())
}

/// A connection point names a CMG the site has (`SMS_AzureService`, a cloud proxy
/// service that is not being deleted).
fn check_cmg(db: &Db<'_>, row: &Map<String, Value>) -> Result<(), AdminError> {
    let name = row
        .get("Props")
        .and_then(Value::as_array)
        .and_then(|ps| ps.iter().find(|p| p["PropertyName"] == CMG_PROP))
        .and_then(|p| p["Value1"].as_str())
        .unwrap_or_default()
        .to_string();
    if name.is_empty() {
        return Err(bad(format!(
            "A CMG connection point needs the embedded property {CMG_PROP} (Value1: the CMG's service name)."
        )));
    }
    let found = db
        .docs(&cmg::SMS_AZURESERVICE.collection())?
        .into_iter()
        .any(|c| {
            c["ServiceType"] == cmg::CLOUD_PROXY_SERVICE
                && c[cmg_state::DELETING_MARK] != json!(true)
                && c["Name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(&name))
        });
    if !found {
        return Err(bad(format!(
            "There is no cloud management gateway named '{name}' in the site."
        )));
    }
    Ok(())
}

/// Whether a role serves clients over HTTPS: its `SslState` prop, else its own
/// `SslState` (1 HTTPS, 3 always HTTPS; sms_sci_sysresuse-server-wmi-class.md).
fn https(row: &Map<String, Value>) -> bool {
    let state = row
        .get("Props")
        .and_then(|p| prop_value(p, "SslState"))
        .or_else(|| row.get("SslState").and_then(Value::as_i64));
    matches!(state, Some(1 | 3))
}

/// The product refuses CMG traffic on an HTTP management point unless the site uses
/// enhanced HTTP (plan-cloud-management-gateway.md; the wording here is UNCONFIRMED).
pub fn refusal(role: &str) -> String {
    format!(
        "The {role} cannot allow Configuration Manager cloud management gateway traffic: it accepts HTTP client connections and the site does not use Configuration Manager-generated certificates for HTTP site systems (enhanced HTTP). Configure the {role} for HTTPS, or enable enhanced HTTP on the site."
    )
}

pub fn update(
    _: &AppState,
    db: &Db<'_>,
    current: &Value,
    row: &mut Map<String, Value>,
    changes: &Map<String, Value>,
) -> Result<(), AdminError> {
    for k in FIXED {
        if changes.contains_key(*k) && changes[*k] != current[*k] {
            return Err(bad(format!(
                "{k} of a site system role cannot change; remove the role and add it again."
            )));
        }
    }
    check_props(row.get("Props"))?;
    let role = text(row, "RoleName").to_string();
    if role == CONNECTION_POINT {
        check_cmg(db, row)?;
    }
    let allows = row
        .get("Props")
        .and_then(|p| prop_value(p, ALLOW_PROXY_TRAFFIC))
        == Some(1);
    let points = [MANAGEMENT_POINT, SOFTWARE_UPDATE_POINT];
    if allows && points.contains(&role.as_str()) && !https(row) && !component::enhanced_http(db)? {
        let what = if role == MANAGEMENT_POINT {
            "management point"
        } else {
            "software update point"
        };
        return Err(bad(refusal(what)));
    }
    Ok(())
}

pub fn delete(_: &AppState, _: &Db<'_>, current: &Value) -> Result<Option<Value>, AdminError> {
    let role = current["RoleName"].as_str().unwrap_or_default();
    if ADDABLE.contains(&role) {
        Ok(None)
    } else {
        Err(bad(format!(
            "The role '{role}' cannot be removed here; the roles that can are: {}.",
            ADDABLE.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_names_end_with_the_role() {
        let n = item_name("CM01.x.local", CONNECTION_POINT);
        assert!(n.starts_with("[\"Display=\\\\CM01.x.local\\\"]"));
        assert!(n.ends_with(",SMS Cloud Proxy Connector"));
    }

    #[test]
    fn https_reads_the_prop_first() {
        let row = |v: Value| v.as_object().cloned().unwrap();
        assert!(https(&row(
            json!({"SslState": 0, "Props": [{"PropertyName": "SslState", "Value": 1}]})
        )));
        assert!(!https(&row(json!({"SslState": 0, "Props": []}))));
        assert!(https(&row(json!({"SslState": 3}))));
    }
}
