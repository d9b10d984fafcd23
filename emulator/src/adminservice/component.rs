//! `SMS_SCI_Component`: the site's component settings, each an item of the site control
//! file with embedded `Props`. Only the site component manager's item is seeded: its
//! `IISSSLState` says how clients talk to HTTP site systems (HTTPS only, HTTPS or HTTP,
//! and with `1024`, enhanced HTTP).
//! Source: api-surface.md §11.3 (the query and the value table, from a third-party DSC
//! resource and a Microsoft employee's lab tool). The AdminService write path for
//! embedded props is UNCONFIRMED (public scripts use WMI `Put()`): here a PATCH of the
//! whole `Props` array, as for every other row.

use super::classes::{ro, rw, KeyKind, Ty, WmiClass};
use super::site::{SITE_CODE, SMS_SITE};
use super::{rows, AdminError};
use crate::app::AppState;
use crate::store::{Db, StoreError};
use axum::http::StatusCode;
use serde_json::{json, Map, Value};

/// The site component manager's item: where `IISSSLState` lives.
pub const SITE_COMPONENT_MANAGER: &str = "SMS_SITE_COMPONENT_MANAGER|SMS Site Server";
/// The E-HTTP bit of `IISSSLState` (api-surface.md §11.3).
pub const ENHANCED_HTTP: i64 = 1024;
/// The first build with enhanced HTTP: 1806 (enhanced-http.md).
pub const ENHANCED_HTTP_BUILD: i64 = 8692;
/// HTTPS or HTTP, no CRL check, no PKI client certificate, no E-HTTP (§11.3's table).
const HTTPS_OR_HTTP: i64 = 192;

/// The key is `ItemName`: the WMI class's key is several properties together and how
/// the AdminService addresses one item is UNCONFIRMED (callers filter by `ItemName`,
/// `ItemType`, `FileType` and `SiteCode`, api-surface.md §11.3).
pub const SMS_SCI_COMPONENT: WmiClass = WmiClass {
    name: "SMS_SCI_Component",
    key: "ItemName",
    key_kind: KeyKind::Given,
    natural_key: &[],
    props: &[
        ro("FileType", Ty::Int),
        ro("ItemName", Ty::Str),
        ro("ItemType", Ty::Str),
        ro("Name", Ty::Str),
        rw("PropLists", Ty::List),
        rw("Props", Ty::List),
        ro("SiteCode", Ty::Str),
    ],
    writable: true,
    on_create: Some(refuse_create),
    on_update: Some(update),
    on_delete: Some(refuse_delete),
    on_read: None,
    methods: &[],
};

fn bad(message: impl Into<String>) -> AdminError {
    AdminError::new(StatusCode::BAD_REQUEST, message)
}

/// Components come with the site: nothing adds or removes one.
fn refuse_create(
    _: &AppState,
    _: &Db<'_>,
    _: &mut Map<String, Value>,
    _: &Map<String, Value>,
) -> Result<(), AdminError> {
    Err(AdminError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Site components are installed by the site and cannot be created.",
    ))
}

fn refuse_delete(_: &AppState, _: &Db<'_>, _: &Value) -> Result<Option<Value>, AdminError> {
    Err(AdminError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Site components are installed by the site and cannot be deleted.",
    ))
}

/// An embedded property's `Value`, by name.
pub fn prop_value(props: &Value, name: &str) -> Option<i64> {
    props
        .as_array()?
        .iter()
        .find(|p| p["PropertyName"].as_str() == Some(name))?
        .get("Value")?
        .as_i64()
}

/// Every entry of `Props` is an embedded property with a name (the shape
/// `SMS_EmbeddedProperty` has: PropertyName, Value, Value1, Value2).
pub fn check_props(props: Option<&Value>) -> Result<(), AdminError> {
    let Some(list) = props.and_then(Value::as_array) else {
        return Ok(());
    };
    for p in list {
        if !p["PropertyName"].is_string() {
            return Err(bad(
                "Each entry of Props must be an SMS_EmbeddedProperty with a PropertyName.",
            ));
        }
        if !(p["Value"].is_null() || p["Value"].is_i64()) {
            return Err(bad(format!(
                "The Value of embedded property '{}' must be an integer.",
                p["PropertyName"].as_str().unwrap_or_default()
            )));
        }
    }
    Ok(())
}

/// The site's build (`SMS_Site.BuildNumber`).
fn site_build(db: &Db<'_>) -> Result<i64, AdminError> {
    Ok(rows::find(db, &SMS_SITE, SITE_CODE)?
        .and_then(|s| s["BuildNumber"].as_i64())
        .unwrap_or(0))
}

fn update(
    _: &AppState,
    db: &Db<'_>,
    current: &Value,
    row: &mut Map<String, Value>,
    _: &Map<String, Value>,
) -> Result<(), AdminError> {
    check_props(row.get("Props"))?;
    if current["ItemName"] == SITE_COMPONENT_MANAGER {
        let state = row.get("Props").and_then(|p| prop_value(p, "IISSSLState"));
        let build = site_build(db)?;
        // The product's wording for a site too old is UNCONFIRMED; the version is not.
        if state.is_some_and(|s| s & ENHANCED_HTTP != 0) && build < ENHANCED_HTTP_BUILD {
            return Err(bad(format!(
                "Enhanced HTTP needs Configuration Manager 1806 (build {ENHANCED_HTTP_BUILD}) or later; the site is build {build}."
            )));
        }
    }
    Ok(())
}

/// The site component manager as a new lab site has it: HTTPS or HTTP, no E-HTTP.
fn site_component_manager() -> Value {
    json!({
        "FileType": 2,
        "ItemName": SITE_COMPONENT_MANAGER,
        "ItemType": "Component",
        "Name": "SMS_SITE_COMPONENT_MANAGER",
        "PropLists": [],
        "Props": [
            {"PropertyName": "IISSSLState", "Value": HTTPS_OR_HTTP, "Value1": "", "Value2": ""},
            {"PropertyName": "Enforce Enhanced Hash Algorithm", "Value": 0, "Value1": "", "Value2": ""},
            {"PropertyName": "Enforce Message Signing", "Value": 0, "Value1": "", "Value2": ""},
        ],
        "SiteCode": SITE_CODE,
        "_etag": 1,
    })
}

/// Seed the component manager's item when the state lacks it.
pub fn seed(db: &Db<'_>) -> Result<(), StoreError> {
    let collection = SMS_SCI_COMPONENT.collection();
    if db.get(&collection, SITE_COMPONENT_MANAGER)?.is_none() {
        db.insert(
            &collection,
            SITE_COMPONENT_MANAGER,
            &site_component_manager(),
        )?;
    }
    Ok(())
}

/// Whether the site has enhanced HTTP on (the E-HTTP bit of `IISSSLState`).
pub fn enhanced_http(db: &Db<'_>) -> Result<bool, StoreError> {
    let item = db.get(&SMS_SCI_COMPONENT.collection(), SITE_COMPONENT_MANAGER)?;
    Ok(item
        .and_then(|i| prop_value(&i["Props"], "IISSSLState"))
        .is_some_and(|s| s & ENHANCED_HTTP != 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn props_are_read_and_checked() {
        let props = json!([{"PropertyName": "IISSSLState", "Value": 1216}]);
        assert_eq!(prop_value(&props, "IISSSLState"), Some(1216));
        assert_eq!(prop_value(&props, "Nope"), None);
        assert!(check_props(Some(&props)).is_ok());
        assert!(check_props(Some(&json!([{"Value": 1}]))).is_err());
        assert!(check_props(Some(&json!([{"PropertyName": "x", "Value": "1"}]))).is_err());
    }
}
