//! The OData engine shared by the surfaces that speak OData (Microsoft Graph, the
//! ConfigMgr AdminService): query-option parsing, `$filter`, `$search`, `$orderby`,
//! `$select`. It knows no surface: its errors carry a kind that each surface renders in
//! its own error body, and each surface decides which options it accepts and when
//! (Graph's advanced-query rules live in `graph::query`).

pub mod filter;
pub mod options;
pub mod search;

pub use options::Query;

/// What went wrong with a query, independent of how a surface reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// Not valid OData syntax.
    Syntax,
    /// A property the type does not have.
    UnknownProperty,
    /// Valid OData the service does not support.
    Unsupported,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ODataError {
    pub kind: ErrorKind,
    pub message: String,
}

impl ODataError {
    pub fn syntax(message: impl Into<String>) -> Self {
        ODataError {
            kind: ErrorKind::Syntax,
            message: message.into(),
        }
    }
    pub fn unknown_property(name: &str, type_name: &str) -> Self {
        ODataError {
            kind: ErrorKind::UnknownProperty,
            message: format!("Could not find a property named '{name}' on type '{type_name}'."),
        }
    }
    pub fn unsupported(message: impl Into<String>) -> Self {
        ODataError {
            kind: ErrorKind::Unsupported,
            message: message.into(),
        }
    }
}

pub type ODataResult<T> = Result<T, ODataError>;

/// What the engine needs to know about an entity type: its name and properties.
pub trait Schema {
    fn type_name(&self) -> &str;
    fn has_property(&self, name: &str) -> bool;
}
