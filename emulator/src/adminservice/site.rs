//! The site itself: `SMS_Site` and the site systems' role rows (`SMS_SCI_SysResUse`),
//! seeded as a lab primary site whose site server also hosts an HTTP management point.
//! `SMS_Site` is maintained by the site; role rows take the writes in roles.rs.

use super::classes::{ro, rw, KeyKind, Ty, WmiClass};
use super::{roles, rows};
use crate::store::{Db, StoreError};
use serde_json::{json, Value};

/// The emulated primary site's code.
pub const SITE_CODE: &str = "ABC";
/// The site server (and management point) of the lab site.
pub const SITE_SERVER: &str = "CM01.comgmtlab.local";

/// `SMS_Site`: one row per site.
/// Source: MicrosoftDocs/memdocs:memdocs/configmgr/develop/reference/core/servers/configure/sms_site-server-wmi-class.md
/// (properties); the key lookup `SMS_Site('ABC')` and envelope: how public scripts
/// call it (microsoft/configmgr-hub samples/CommonFunctions.ps1).
pub const SMS_SITE: WmiClass = WmiClass::read_only(
    "SMS_Site",
    "SiteCode",
    KeyKind::Given,
    &[],
    &[
        ro("BuildNumber", Ty::Int),
        ro("InstallDir", Ty::Str),
        ro("ReportingSiteCode", Ty::Str),
        ro("RequestedStatus", Ty::Int),
        ro("ServerName", Ty::Str),
        ro("SiteCode", Ty::Str),
        ro("SiteName", Ty::Str),
        ro("Status", Ty::Int),
        ro("TimeZoneInfo", Ty::Str),
        ro("Type", Ty::Int),
        ro("Version", Ty::Str),
    ],
);

/// `SMS_SCI_SysResUse`: one row per site system role.
/// Source: MicrosoftDocs/memdocs:memdocs/configmgr/develop/reference/core/servers/configure/sms_sci_sysresuse-server-wmi-class.md
/// (properties), sccm-ps Get-CMSiteRole.md (role names). The key here is `ItemName`;
/// the WMI class's key is several properties together and how the AdminService
/// addresses one row is UNCONFIRMED (callers filter by `RoleName` and `SiteCode`,
/// api-surface.md §0.2). Writes (roles.rs): a CMG connection point or a software update
/// point added and removed, a role's `Props` changed.
pub const SMS_SCI_SYSRESUSE: WmiClass = WmiClass {
    name: "SMS_SCI_SysResUse",
    key: "ItemName",
    key_kind: KeyKind::Given,
    natural_key: &[],
    props: &[
        ro("FileType", Ty::Int),
        ro("ItemName", Ty::Str),
        ro("ItemType", Ty::Str),
        ro("NALPath", Ty::Str),
        ro("NALType", Ty::Str),
        rw("NetworkOSPath", Ty::Str),
        rw("PropLists", Ty::List),
        rw("Props", Ty::List),
        ro("RoleCount", Ty::Int),
        rw("RoleName", Ty::Str),
        ro("ServiceWindows", Ty::List),
        rw("SiteCode", Ty::Str),
        rw("SslState", Ty::Int),
        ro("Type", Ty::Int),
    ],
    writable: true,
    on_create: Some(roles::create),
    on_update: Some(roles::update),
    on_delete: Some(roles::delete),
    on_read: None,
    methods: &[],
};

fn site() -> Value {
    json!({
        "BuildNumber": 9128,
        "InstallDir": "C:\\Program Files\\Microsoft Configuration Manager",
        "ReportingSiteCode": "",
        "RequestedStatus": 110,
        "ServerName": SITE_SERVER,
        "SiteCode": SITE_CODE,
        "SiteName": "Comgmt Lab Primary Site",
        "Status": 1,
        "TimeZoneInfo": "000001E0 0000 000B 0001 0002 0000 0000 0000 0000 0000 0003 0002 0002 0000 0000 0000 0000 FFFFFFC4",
        "Type": 2,
        "Version": "5.00.9128.1000",
    })
}

/// Make the site build `build` (test support: `EmulatorHandle::set_site_build`).
pub fn set_build(db: &Db<'_>, build: u32) -> Result<(), StoreError> {
    let collection = SMS_SITE.collection();
    let mut s = db.get(&collection, SITE_CODE)?.unwrap_or_else(site);
    s["BuildNumber"] = json!(build);
    s["Version"] = json!(format!("5.00.{build}.1000"));
    s["_etag"] = json!(s["_etag"].as_i64().unwrap_or(0) + 1);
    match db.get(&collection, SITE_CODE)? {
        Some(_) => db.update(&collection, SITE_CODE, &s),
        None => db.insert(&collection, SITE_CODE, &s),
    }
}

/// One embedded property (`SMS_EmbeddedProperty`: PropertyName, Value, Value1, Value2).
fn prop(name: &str, value: i64, value1: &str) -> Value {
    json!({"PropertyName": name, "Value": value, "Value1": value1, "Value2": ""})
}

/// A role row on the site server. The `ItemName` and `NALPath` shapes follow how WMI
/// shows site system rows (a NAL path, then the role); the exact text is UNCONFIRMED.
fn role(role_name: &str, props: Vec<Value>) -> Value {
    let os_path = format!("\\\\{SITE_SERVER}");
    let nal = format!(
        "[\"Display=\\\\{SITE_SERVER}\\\"]MSWNET:[\"SMS_SITE={SITE_CODE}\"]\\\\{SITE_SERVER}\\"
    );
    json!({
        "FileType": 2,
        "ItemName": format!("{nal},{role_name}"),
        "ItemType": "System Resource Usage",
        "NALPath": nal,
        "NALType": "Windows NT Server",
        "NetworkOSPath": os_path,
        "PropLists": [],
        "Props": props,
        "RoleCount": 2,
        "RoleName": role_name,
        "ServiceWindows": [],
        "SiteCode": SITE_CODE,
        // 0: HTTP (sms_sci_sysresuse-server-wmi-class.md).
        "SslState": 0,
        // 2: primary site server (same source).
        "Type": 2,
        "_etag": 1,
    })
}

/// The site server's roles: the site server itself and an HTTP management point.
/// The embedded property names of the MP come from a third-party DSC resource
/// (dsccommunity/ConfigMgrCBDsc:source/DSCResources/DSC_CMManagementPoint/DSC_CMManagementPoint.psm1);
/// their values for a fresh intranet HTTP MP, and the site server's property, are
/// UNCONFIRMED.
fn roles() -> Vec<Value> {
    vec![
        role(
            "SMS Site Server",
            vec![prop("Server Remote Name", 0, SITE_SERVER)],
        ),
        role(
            "SMS Management Point",
            vec![
                prop("AllowProxyTraffic", 0, ""),
                prop("MPInternetFacing", 0, ""),
                prop("MPIntranetFacing", 1, ""),
                prop("UseSiteDatabase", 0, ""),
                prop("SslState", 0, ""),
                // The path the CMG publishes this MP under, as the site database's
                // vProxy_Roles.MutualAuthPath column holds it (api-surface §17.2); the
                // property's name and the id's derivation are UNCONFIRMED (an opaque
                // integer above 2^56 in every published example).
                prop(
                    "MutualAuthPath",
                    0,
                    "/CCM_Proxy_MutualAuth/72057594037927939",
                ),
            ],
        ),
    ]
}

/// Seed what the state lacks: the site, and the site server's roles (a state from
/// before either existed gets them on its next start).
pub fn seed(db: &Db<'_>) -> Result<(), StoreError> {
    let collection = SMS_SITE.collection();
    if db.get(&collection, SITE_CODE)?.is_none() {
        let mut s = site();
        s["_etag"] = json!(1);
        db.insert(&collection, SITE_CODE, &s)?;
    }
    let collection = SMS_SCI_SYSRESUSE.collection();
    if db.docs(&collection)?.is_empty() {
        for r in roles() {
            db.insert(&collection, &rows::id_of(&SMS_SCI_SYSRESUSE, &r), &r)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn seeds_once() {
        let s = Store::open_memory().unwrap();
        s.write(seed).unwrap();
        s.write(seed).unwrap();
        let roles = s
            .read(|db| db.docs(&SMS_SCI_SYSRESUSE.collection()))
            .unwrap();
        assert_eq!(roles.len(), 2);
        assert!(roles
            .iter()
            .all(|r| r["NetworkOSPath"] == "\\\\CM01.comgmtlab.local"));
        let mp = roles
            .iter()
            .find(|r| r["RoleName"] == "SMS Management Point")
            .unwrap();
        assert!(mp["Props"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p.get("Value1").is_some() && p.get("Value2").is_some()));
    }
}
