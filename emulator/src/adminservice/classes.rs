//! The declarative description of a WMI class the AdminService serves: its key, natural
//! key, properties (type and access), hooks for writes and its methods; and the table of
//! every class. Class names are matched without case on input and answered in their
//! documented spelling (the docs call class names case-sensitive, the 2006 release notes
//! and public scripts treat the WMI route as case-insensitive: any case is accepted).

use super::AdminError;
use crate::app::{AppState, Shared};
use crate::store::Db;
use serde_json::{Map, Value};

/// A property's JSON type, checked on writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Int,
    Str,
    Bool,
    /// A GUID string.
    Guid,
    /// An RFC 3339 timestamp string.
    Time,
    /// An array (embedded objects such as `Props[]`).
    List,
}

/// Who may set a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadWrite,
    /// Keys and values the site computes; a write naming one is refused with 400.
    ReadOnly,
    /// Write-only: stored sealed (`secrets.rs`), answered as `null` on every read.
    Secret,
    /// Read-only and lazy: filled only on a key lookup, `null` in a listing, as WMI's
    /// lazy properties (`SMS_Collection.CollectionRules`, api-surface.md §0.2).
    Lazy,
}

#[derive(Debug)]
pub struct Prop {
    pub name: &'static str,
    pub ty: Ty,
    pub access: Access,
}

pub const fn rw(name: &'static str, ty: Ty) -> Prop {
    Prop {
        name,
        ty,
        access: Access::ReadWrite,
    }
}

pub const fn ro(name: &'static str, ty: Ty) -> Prop {
    Prop {
        name,
        ty,
        access: Access::ReadOnly,
    }
}

pub const fn lazy(name: &'static str, ty: Ty) -> Prop {
    Prop {
        name,
        ty,
        access: Access::Lazy,
    }
}

pub const fn secret(name: &'static str) -> Prop {
    Prop {
        name,
        ty: Ty::Str,
        access: Access::Secret,
    }
}

/// How a new instance gets its key.
#[derive(Debug, Clone, Copy)]
pub enum KeyKind {
    /// An integer the site assigns, counting up from `first` (the SQL tables' identity
    /// columns; the starting values are UNCONFIRMED).
    Assigned { first: i64 },
    /// The caller names it (`SMS_Site.SiteCode`).
    Given,
    /// Text the site assigns: its site code and a five-digit counter from `first`
    /// (`CollectionID` `ABC00016`; the built-in `SMS00001` rows are seeded). Whether the
    /// counter is decimal or hexadecimal, and where it starts, is UNCONFIRMED.
    SiteNumbered { first: i64 },
}

/// Fill defaults, validate and derive values on a new row (inside the write
/// transaction). `row` holds every property; `given` what the request named.
pub type CreateHook =
    fn(&AppState, &Db<'_>, &mut Map<String, Value>, &Map<String, Value>) -> Result<(), AdminError>;
/// Validate a change: `row` is the current row with `changes` applied.
pub type UpdateHook = fn(
    &AppState,
    &Db<'_>,
    &Value,
    &mut Map<String, Value>,
    &Map<String, Value>,
) -> Result<(), AdminError>;
/// Refuse or follow up a delete (inside the write transaction). `None`: the row goes
/// now; `Some(row)`: the row stays, changed, and goes later (a CMG stays, Deleting,
/// until its Azure resources are gone).
pub type DeleteHook = fn(&AppState, &Db<'_>, &Value) -> Result<Option<Value>, AdminError>;
/// Fill the values the site computes when a row is read (inside the reading
/// transaction, before `$filter`, so a filter sees them). `false` hides the row: it is
/// gone, though its record has not been dropped yet.
pub type ReadHook = fn(&AppState, &Db<'_>, &mut Value) -> Result<bool, AdminError>;
/// A method: the class, the instance for an instance method, the parameters. Answers
/// the out-parameters, `ReturnValue` included.
pub type MethodFn =
    fn(&Shared, &'static WmiClass, Option<Value>, Map<String, Value>) -> Result<Value, AdminError>;

pub struct Method {
    pub name: &'static str,
    /// Static methods are called on the class (`SMS_Site.ImportMachineEntry`), instance
    /// methods on a key.
    pub is_static: bool,
    pub run: MethodFn,
}

pub struct WmiClass {
    /// The documented spelling, e.g. `SMS_Site`.
    pub name: &'static str,
    /// The key property, e.g. `SiteCode`.
    pub key: &'static str,
    pub key_kind: KeyKind,
    /// Properties whose values together must be unique (the product's SQL unique
    /// constraints; which columns they cover is UNCONFIRMED). Empty: none.
    pub natural_key: &'static [&'static str],
    pub props: &'static [Prop],
    /// Whether POST/PATCH/DELETE are served (classes the site fills itself are read-only).
    pub writable: bool,
    pub on_create: Option<CreateHook>,
    pub on_update: Option<UpdateHook>,
    pub on_delete: Option<DeleteHook>,
    pub on_read: Option<ReadHook>,
    pub methods: &'static [Method],
}

impl crate::odata::Schema for WmiClass {
    fn type_name(&self) -> &str {
        self.name
    }
    fn has_property(&self, name: &str) -> bool {
        self.prop(name).is_some()
    }
}

impl WmiClass {
    /// A class the site fills itself: served for reads only, with no hooks and no
    /// methods.
    pub const fn read_only(
        name: &'static str,
        key: &'static str,
        key_kind: KeyKind,
        natural_key: &'static [&'static str],
        props: &'static [Prop],
    ) -> WmiClass {
        WmiClass {
            name,
            key,
            key_kind,
            natural_key,
            props,
            writable: false,
            on_create: None,
            on_update: None,
            on_delete: None,
            on_read: None,
            methods: &[],
        }
    }

    /// The store collection holding this class's instances.
    pub fn collection(&self) -> String {
        format!("wmi:{}", self.name)
    }

    /// A property by name, any case.
    pub fn prop(&self, name: &str) -> Option<&'static Prop> {
        self.props
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    pub fn lazies(&self) -> impl Iterator<Item = &'static Prop> + '_ {
        self.props.iter().filter(|p| p.access == Access::Lazy)
    }

    pub fn secrets(&self) -> impl Iterator<Item = &'static Prop> + '_ {
        self.props.iter().filter(|p| p.access == Access::Secret)
    }

    pub fn method(&self, name: &str) -> Option<&'static Method> {
        self.methods
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case(name))
    }
}

/// Every class the AdminService serves.
pub const CLASSES: &[&WmiClass] = &[
    &super::site::SMS_SITE,
    &super::site::SMS_SCI_SYSRESUSE,
    &super::component::SMS_SCI_COMPONENT,
    &super::aad::SMS_AAD_TENANT_EX,
    &super::aad::SMS_AAD_APPLICATION_EX,
    &super::aad::SMS_AZURE_CLOUDSERVICE,
    &super::aad::SMS_R_USER,
    &super::cmg::SMS_AZURESERVICE,
    &super::clientsettings::SMS_CLIENTSETTINGSDEFAULT,
    &super::clientsettings::SMS_CLIENTSETTINGS,
    &super::collections::SMS_COLLECTION,
    &super::collections::SMS_FULLCOLLECTIONMEMBERSHIP,
    &super::devices::SMS_R_SYSTEM,
    &super::devices::SMS_CLIENT_COMANAGEMENTSTATE,
    &super::comanage::SMS_CONFIGURATIONPOLICY,
];

/// The rows of a class the site computes on every read rather than stores.
pub type RowsFn = fn(&AppState, &Db<'_>) -> Result<Vec<Value>, AdminError>;

/// Classes whose rows are computed (membership follows the rules and resources as they
/// are when read).
const COMPUTED: &[(&str, RowsFn)] = &[(
    "SMS_FullCollectionMembership",
    super::membership::membership,
)];

pub fn computed(class: &WmiClass) -> Option<RowsFn> {
    COMPUTED
        .iter()
        .find(|(n, _)| *n == class.name)
        .map(|(_, f)| *f)
}

pub fn find(name: &str) -> Option<&'static WmiClass> {
    CLASSES
        .iter()
        .copied()
        .find(|c| c.name.eq_ignore_ascii_case(name))
}

/// Find a class property's documented spelling.
pub fn property<'a>(class: &'a WmiClass, name: &str) -> Option<&'a str> {
    class.prop(name).map(|p| p.name)
}

/// The key of a stored instance, for comparisons.
pub fn key_of<'a>(class: &WmiClass, doc: &'a Value) -> &'a Value {
    &doc[class.key]
}

/// Keys compare as text without case (`'ABC'`), or as numbers (`16777219`).
pub fn key_equals(stored: &Value, given: &str) -> bool {
    match stored {
        Value::String(s) => s.eq_ignore_ascii_case(given),
        Value::Number(n) => n.to_string() == given.trim(),
        _ => false,
    }
}

/// Whether a value has the property's type (`null` always does).
pub fn type_ok(ty: Ty, v: &Value) -> bool {
    match (ty, v) {
        (_, Value::Null) => true,
        (Ty::Int, Value::Number(n)) => n.is_i64() || n.is_u64(),
        (Ty::Str, Value::String(_)) => true,
        (Ty::Bool, Value::Bool(_)) => true,
        (Ty::Guid, Value::String(s)) => crate::util::is_guid(s),
        (Ty::Time, Value::String(s)) => crate::util::parse_iso(s).is_some(),
        (Ty::List, Value::Array(_)) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_class_is_well_formed() {
        for c in CLASSES {
            assert!(c.prop(c.key).is_some(), "{}: key", c.name);
            for n in c.natural_key {
                assert!(c.prop(n).is_some(), "{}: natural key {n}", c.name);
            }
            if matches!(c.key_kind, KeyKind::Assigned { .. }) {
                let key = c.prop(c.key).map(|p| (p.ty, p.access));
                assert_eq!(key, Some((Ty::Int, Access::ReadOnly)), "{}", c.name);
            }
            if matches!(c.key_kind, KeyKind::SiteNumbered { .. }) {
                let key = c.prop(c.key).map(|p| (p.ty, p.access));
                assert_eq!(key, Some((Ty::Str, Access::ReadOnly)), "{}", c.name);
            }
            let mut names: Vec<String> = c.props.iter().map(|p| p.name.to_lowercase()).collect();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), c.props.len(), "{}: duplicate property", c.name);
        }
        assert!(find("sms_aad_tenant_ex").is_some());
    }

    #[test]
    fn types_and_keys() {
        assert!(type_ok(Ty::Int, &json!(3)));
        assert!(!type_ok(Ty::Int, &json!("3")));
        assert!(type_ok(
            Ty::Guid,
            &json!("6a2cb3d4-8d1e-4a8b-9a4f-3c1e2d4f5a6b")
        ));
        assert!(!type_ok(Ty::Guid, &json!("x")));
        assert!(type_ok(Ty::Time, &json!("2027-11-29T21:00:00Z")));
        assert!(type_ok(Ty::Str, &Value::Null));
        assert!(key_equals(&json!("ABC"), "abc"));
        assert!(key_equals(&json!(16777219), "16777219"));
        assert!(!key_equals(&json!(1), "01x"));
    }
}
