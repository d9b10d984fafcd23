//! The WMI classes the AdminService serves here, and what a new site holds. Class names
//! are matched without case on input and answered in their documented spelling
//! (api-surface §0, CONFLICT on case).

use crate::store::{Db, StoreError};
use serde_json::{json, Value};

pub struct WmiClass {
    /// The documented spelling, e.g. `SMS_Site`.
    pub name: &'static str,
    /// The key property, e.g. `SiteCode`.
    pub key: &'static str,
    pub properties: &'static [&'static str],
}

impl crate::odata::Schema for WmiClass {
    fn type_name(&self) -> &str {
        self.name
    }
    fn has_property(&self, name: &str) -> bool {
        self.properties.iter().any(|p| p.eq_ignore_ascii_case(name))
    }
}

impl WmiClass {
    /// The store collection holding this class's instances.
    pub fn collection(&self) -> String {
        format!("wmi:{}", self.name)
    }
}

/// `SMS_Site`: one row per site.
/// Source: MicrosoftDocs/memdocs:memdocs/configmgr/develop/reference/core/servers/configure/sms_site-server-wmi-class.md
/// (properties); the key lookup `SMS_Site('ABC')` and envelope: api-surface §0.2.
pub const SMS_SITE: WmiClass = WmiClass {
    name: "SMS_Site",
    key: "SiteCode",
    properties: &[
        "BuildNumber",
        "InstallDir",
        "ReportingSiteCode",
        "RequestedStatus",
        "ServerName",
        "SiteCode",
        "SiteName",
        "Status",
        "TimeZoneInfo",
        "Type",
        "Version",
    ],
};

pub const CLASSES: &[&WmiClass] = &[&SMS_SITE];

pub fn find(name: &str) -> Option<&'static WmiClass> {
    CLASSES
        .iter()
        .copied()
        .find(|c| c.name.eq_ignore_ascii_case(name))
}

/// The emulated primary site's code.
pub const SITE_CODE: &str = "ABC";

/// Seed the site when the state has none (new state, or one from before the
/// AdminService existed). Values are a plausible lab primary site.
pub fn seed(db: &Db<'_>) -> Result<(), StoreError> {
    let collection = SMS_SITE.collection();
    if db.get(&collection, SITE_CODE)?.is_some() {
        return Ok(());
    }
    let site = json!({
        "BuildNumber": 9128,
        "InstallDir": "C:\\Program Files\\Microsoft Configuration Manager",
        "ReportingSiteCode": "",
        "RequestedStatus": 110,
        "ServerName": "CM01.comgmtlab.local",
        "SiteCode": SITE_CODE,
        "SiteName": "Comgmt Lab Primary Site",
        "Status": 1,
        "TimeZoneInfo": "000001E0 0000 000B 0001 0002 0000 0000 0000 0000 0000 0003 0002 0002 0000 0000 0000 0000 FFFFFFC4",
        "Type": 2,
        "Version": "5.00.9128.1000",
    });
    db.insert(&collection, SITE_CODE, &site)
}

/// Find a class property's documented spelling.
pub fn property<'a>(class: &'a WmiClass, name: &str) -> Option<&'a str> {
    class
        .properties
        .iter()
        .copied()
        .find(|p| p.eq_ignore_ascii_case(name))
}

/// The key of a stored instance, for comparisons.
pub fn key_of<'a>(class: &WmiClass, doc: &'a Value) -> &'a Value {
    &doc[class.key]
}
