//! What scripts get back from the comanage module.

use crate::change::Known;
use std::collections::BTreeMap;

/// A device collection and its rules, from `comanage::collection`.
#[derive(Debug, Clone)]
pub struct Collection {
    /// `ABC00016` (unknown in a plan that creates it).
    pub id: Known<String>,
    pub name: String,
    pub limiting: String,
    pub comment: String,
    /// Members by direct rule: resource ids.
    pub direct: Vec<i64>,
    /// The query rule's expression, if any.
    pub query: Option<String>,
    /// Members the site counts now (0 in a plan that creates it).
    pub member_count: i64,
}

/// The co-management settings, from `comanage::enable`.
#[derive(Debug, Clone)]
pub struct CoManagement {
    pub policy: String,
    /// `cloud attach (2111 and later)` or `co-management (1906-2107)`.
    pub product_line: String,
    pub site_build: u32,
    /// "none" | "pilot" | "all".
    pub auto_enrollment: String,
    pub pilot_collection: Option<String>,
    /// Workload key -> "configmgr" | "pilot_intune" | "intune".
    pub workloads: BTreeMap<String, String>,
    /// Workload key -> pilot collection name.
    pub pilot_collections: BTreeMap<String, String>,
    /// True when this run created or changed the policy.
    pub changed: bool,
}

/// Devices by co-management state, as the console's dashboard counts them.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// Clients reporting a state.
    pub total: i64,
    /// `MDMEnrolled = 1 AND ComgmtPolicyPresent = 1`.
    pub co_managed: i64,
    /// Clients that have the co-management policy.
    pub policy_present: i64,
    /// Enrollment state: Not eligible, Eligible, Scheduled, Enrollment initiated,
    /// Enrolled (and Pending user sign in).
    pub states: BTreeMap<String, i64>,
    /// Enrollment status: Success, Enrolling, Pending user sign in, Failed.
    pub statuses: BTreeMap<String, i64>,
    /// Failed enrollments by error: `0x80180018 MENROLL_E_USERLICENSE`.
    pub errors: BTreeMap<String, i64>,
}
