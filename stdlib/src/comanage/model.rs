//! The comanage module as plain Rust: the options of `comanage::collection` and
//! `comanage::enable`, the seven workloads and their states, the product lines, and the
//! rules checked before anything is read or written. No Rhai and no HTTP here.

use crate::error::{ModuleError, Result};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Collections (api-surface.md §0.1, §0.2).
pub const COLLECTION_CLASS: &str = "wmi/SMS_Collection";
/// Devices.
pub const SYSTEM_CLASS: &str = "wmi/SMS_R_System";
/// Each client's co-management state (§15.5; key `ResourceID`, §0.2).
pub const STATE_CLASS: &str = "wmi/SMS_Client_ComanagementState";
/// The co-management policy: an `SMS_ConfigurationPolicy` (`New-CMCoManagementPolicy`
/// returns one, §15.4). How its settings are stored is UNCONFIRMED (the CI XML schema is
/// not public): the properties written here are the emulator's (see
/// `emulator/src/adminservice/comanage.rs`).
pub const POLICY_CLASS: &str = "wmi/SMS_ConfigurationPolicy";
/// The production policy's name (how-to-monitor.md, §15.5).
pub const POLICY_NAME: &str = "CoMgmtSettingsProd";
/// The collection the production policy is deployed to.
pub const ALL_SYSTEMS_ID: &str = "SMS00001";
/// `CollectionType` of a device collection.
pub const DEVICE_COLLECTION: i64 = 2;

/// One co-management workload (MicrosoftDocs/memdocs comanage/workloads.md, §15.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workload {
    /// The option key in scripts.
    pub key: &'static str,
    /// The console's name.
    pub label: &'static str,
    /// The policy's property stem (`<stem>Workload`, `<stem>PilotCollectionID`).
    pub stem: &'static str,
    /// The `New-CMCoManagementPolicy` switch (§15.4).
    pub switch: &'static str,
}

pub const WORKLOADS: [Workload; 7] = [
    Workload {
        key: "compliance_policies",
        label: "Compliance policies",
        stem: "CompliancePolicies",
        switch: "-CAWorkloadEnabled",
    },
    Workload {
        key: "windows_update_policies",
        label: "Windows Update policies",
        stem: "WindowsUpdatePolicies",
        switch: "-WufbWorkloadEnabled",
    },
    Workload {
        key: "resource_access_policies",
        label: "Resource access policies",
        stem: "ResourceAccessPolicies",
        switch: "-RAWorkloadEnabled",
    },
    Workload {
        key: "endpoint_protection",
        label: "Endpoint Protection",
        stem: "EndpointProtection",
        switch: "-EPWorkloadEnabled",
    },
    Workload {
        key: "device_configuration",
        label: "Device configuration",
        stem: "DeviceConfiguration",
        switch: "-DCWorkloadEnabled",
    },
    Workload {
        key: "office_click_to_run",
        label: "Office Click-to-Run apps",
        stem: "OfficeClickToRunApps",
        switch: "-O365WorkloadEnabled",
    },
    Workload {
        key: "client_apps",
        label: "Client apps",
        stem: "ClientApps",
        switch: "-ClientAppsWorkloadEnabled",
    },
];

fn workload(key: &str) -> Result<Workload> {
    WORKLOADS
        .iter()
        .copied()
        .find(|w| w.key == key)
        .ok_or_else(|| {
            ModuleError::validation(format!(
                "comanage::enable: {key:?} is not one of the seven workloads: {}",
                WORKLOADS.map(|w| w.key).join(", ")
            ))
        })
}

/// Where a workload (or automatic enrollment) is: the wizard's slider positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// Configuration Manager / None.
    Off = 0,
    /// Pilot Intune / Pilot.
    Pilot = 1,
    /// Intune / All.
    On = 2,
}

impl Stage {
    fn workload(text: &str) -> Result<Stage> {
        match text {
            "configmgr" => Ok(Stage::Off),
            "pilot_intune" => Ok(Stage::Pilot),
            "intune" => Ok(Stage::On),
            other => Err(ModuleError::validation(format!(
                "comanage::enable: workload state {other:?} is not one of configmgr, pilot_intune, intune"
            ))),
        }
    }

    fn enrollment(text: &str) -> Result<Stage> {
        match text {
            "none" => Ok(Stage::Off),
            "pilot" => Ok(Stage::Pilot),
            "all" => Ok(Stage::On),
            other => Err(ModuleError::validation(format!(
                "comanage::enable: auto_enrollment {other:?} is not one of none, pilot, all"
            ))),
        }
    }

    pub fn workload_text(self) -> &'static str {
        match self {
            Stage::Off => "configmgr",
            Stage::Pilot => "pilot_intune",
            Stage::On => "intune",
        }
    }

    pub fn enrollment_text(self) -> &'static str {
        match self {
            Stage::Off => "none",
            Stage::Pilot => "pilot",
            Stage::On => "all",
        }
    }

    pub fn from_code(code: i64) -> Stage {
        match code {
            1 => Stage::Pilot,
            2 => Stage::On,
            _ => Stage::Off,
        }
    }
}

/// Options of `comanage::collection` (the name is a positional argument).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionOptions {
    /// The limiting collection, by name.
    #[serde(default = "all_systems")]
    pub limiting: String,
    #[serde(default)]
    pub comment: String,
    /// Devices added by direct rules: resource ids or device names.
    #[serde(default)]
    pub direct: Vec<Member>,
    /// A WQL query rule: `select … from SMS_R_System where …`.
    #[serde(default)]
    pub query: Option<String>,
    /// The query rule's name.
    #[serde(default = "query_name")]
    pub query_name: String,
}

fn all_systems() -> String {
    "All Systems".into()
}
fn query_name() -> String {
    "Query".into()
}

/// A device named by resource id or by name.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Member {
    Id(i64),
    Name(String),
}

impl CollectionOptions {
    pub fn validate(&self, name: &str) -> Result<()> {
        const F: &str = "comanage::collection";
        if name.trim().is_empty() {
            return Err(ModuleError::validation(format!(
                "{F}: the collection name is empty"
            )));
        }
        if self.limiting.trim().is_empty() {
            return Err(ModuleError::validation(format!("{F}: `limiting` is empty"))
                .with_hint("a device collection is limited by another, e.g. \"All Systems\""));
        }
        if let Some(q) = &self.query {
            let lower = q.to_ascii_lowercase();
            let words: Vec<&str> = lower.split_whitespace().collect();
            let from = words.iter().position(|w| *w == "from");
            let class = from.and_then(|i| words.get(i + 1)).copied();
            if words.first() != Some(&"select") || class != Some("sms_r_system") {
                return Err(ModuleError::validation(format!(
                    "{F}: `query` must be a WQL query on devices, `select … from SMS_R_System …`, not {q:?}"
                )));
            }
            if self.query_name.trim().is_empty() {
                return Err(ModuleError::validation(format!(
                    "{F}: `query_name` is empty"
                )));
            }
        }
        Ok(())
    }
}

/// Options of `comanage::enable`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnableOptions {
    /// "none" | "pilot" | "all".
    #[serde(default = "none")]
    pub auto_enrollment: String,
    /// The automatic-enrollment collection (required with "pilot").
    #[serde(default)]
    pub pilot_collection: Option<String>,
    /// Workload key -> "configmgr" | "pilot_intune" | "intune"; unnamed stay configmgr.
    #[serde(default)]
    pub workloads: BTreeMap<String, String>,
    /// Workload key -> its pilot collection, by name.
    #[serde(default)]
    pub pilot_collections: BTreeMap<String, String>,
}

fn none() -> String {
    "none".into()
}

/// `comanage::enable`'s options, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub auto_enrollment: Stage,
    pub pilot_collection: Option<String>,
    /// Every workload, in [`WORKLOADS`] order, with its stage and pilot collection name.
    pub workloads: Vec<(Workload, Stage, Option<String>)>,
}

impl EnableOptions {
    /// Check everything that needs no read: names, states, pilots and the workloads that
    /// move together.
    pub fn validate(&self) -> Result<Settings> {
        const F: &str = "comanage::enable";
        let auto = Stage::enrollment(&self.auto_enrollment)?;
        let pilot = self
            .pilot_collection
            .clone()
            .filter(|c| !c.trim().is_empty());
        if auto == Stage::Pilot && pilot.is_none() {
            return Err(ModuleError::validation(format!(
                "{F}: auto_enrollment \"pilot\" needs `pilot_collection`"
            ))
            .with_hint("name the collection whose members enroll, e.g. pilot_collection: \"Co-management pilot\""));
        }
        for k in self.workloads.keys().chain(self.pilot_collections.keys()) {
            workload(k)?;
        }
        let mut out = Vec::new();
        for w in WORKLOADS {
            let stage = match self.workloads.get(w.key) {
                Some(s) => Stage::workload(s)?,
                None => Stage::Off,
            };
            let coll = self.pilot_collections.get(w.key).cloned();
            if stage == Stage::Pilot && coll.is_none() {
                return Err(ModuleError::validation(format!(
                    "{F}: workload {} is pilot_intune but has no pilot collection",
                    w.key
                ))
                .with_hint(format!(
                    "add pilot_collections: #{{ {}: \"<collection>\" }}",
                    w.key
                )));
            }
            out.push((w, stage, coll));
        }
        let stage_of = |key: &str| {
            out.iter()
                .find(|(w, _, _)| w.key == key)
                .map_or(Stage::Off, |(_, s, _)| *s)
        };
        let dc = stage_of("device_configuration");
        for with in ["resource_access_policies", "endpoint_protection"] {
            if stage_of(with) < dc {
                return Err(ModuleError::validation(format!(
                    "{F}: device_configuration is {} but {with} is {}: moving device configuration moves resource access policies and Endpoint Protection with it",
                    dc.workload_text(),
                    stage_of(with).workload_text()
                ))
                .with_hint(format!(
                    "set resource_access_policies and endpoint_protection to {} as well (workloads.md)",
                    dc.workload_text()
                )));
            }
        }
        Ok(Settings {
            auto_enrollment: auto,
            pilot_collection: pilot,
            workloads: out,
        })
    }
}

/// The first build of 1906 (the co-management wizard this module drives) and of 2111
/// (cloud attach), from the version table of updates.md; site::model holds the rest.
pub const BUILD_1906: u32 = 8853;
pub const BUILD_2111: u32 = 9068;

/// The product line a site's build belongs to, as this module drives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    /// 2111 and later: Cloud Attach (Administration > Cloud Services > Cloud Attach).
    CloudAttach,
    /// 1906 to 2107: the co-management wizard (Administration > Cloud Services >
    /// Co-management).
    CoManagement,
}

impl Line {
    pub fn of(build: u32) -> Result<Line> {
        match build {
            b if b >= BUILD_2111 => Ok(Line::CloudAttach),
            b if b >= BUILD_1906 => Ok(Line::CoManagement),
            b => Err(ModuleError::validation(format!(
                "comanage::enable: the site's build {b} is older than 1906 (build {BUILD_1906}), which this module needs"
            ))
            .with_hint("update the site to a supported current-branch version")),
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            Line::CloudAttach => "cloud attach (2111 and later)",
            Line::CoManagement => "co-management (1906-2107)",
        }
    }

    /// Where the policy's properties are edited in the console.
    pub fn console_path(self) -> &'static str {
        match self {
            Line::CloudAttach => {
                "Administration > Cloud Services > Cloud Attach > CoMgmtSettingsProd > Properties"
            }
            Line::CoManagement => {
                "Administration > Cloud Services > Co-management > CoMgmtSettingsProd > Properties"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(workloads: &[(&str, &str)], pilots: &[(&str, &str)]) -> EnableOptions {
        EnableOptions {
            auto_enrollment: "all".into(),
            pilot_collection: None,
            workloads: workloads
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            pilot_collections: pilots
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn refusals_name_the_rule() {
        let e = opts(&[("inventory", "intune")], &[])
            .validate()
            .unwrap_err();
        assert!(
            e.message
                .contains("compliance_policies, windows_update_policies"),
            "{}",
            e.message
        );
        let e = opts(&[("device_configuration", "intune")], &[])
            .validate()
            .unwrap_err();
        assert!(e.message.contains("moves resource access"), "{}", e.message);
        let e = opts(&[("client_apps", "pilot_intune")], &[])
            .validate()
            .unwrap_err();
        assert!(e.message.contains("no pilot collection"));
        let mut o = opts(&[], &[]);
        o.auto_enrollment = "pilot".into();
        assert!(o.validate().is_err());
        o.auto_enrollment = "some".into();
        assert!(o.validate().is_err());
        let ok = opts(
            &[
                ("device_configuration", "pilot_intune"),
                ("resource_access_policies", "intune"),
                ("endpoint_protection", "pilot_intune"),
            ],
            &[("device_configuration", "P"), ("endpoint_protection", "P")],
        )
        .validate()
        .unwrap();
        assert_eq!(ok.workloads.len(), 7);
    }

    #[test]
    fn lines_by_build() {
        assert_eq!(Line::of(9128).unwrap(), Line::CloudAttach);
        assert_eq!(Line::of(9068).unwrap(), Line::CloudAttach);
        assert_eq!(Line::of(9058).unwrap(), Line::CoManagement);
        assert!(Line::of(8790).is_err());
    }

    #[test]
    fn queries_are_checked() {
        let mut o = CollectionOptions {
            limiting: "All Systems".into(),
            comment: String::new(),
            direct: vec![],
            query: Some("select * from SMS_R_User".into()),
            query_name: "Q".into(),
        };
        assert!(o.validate("C").is_err());
        o.query = Some("select SMS_R_System.Name from SMS_R_System where Client = 1".into());
        assert!(o.validate("C").is_ok());
        assert!(o.validate(" ").is_err());
    }
}
