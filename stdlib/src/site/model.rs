//! The site module as plain Rust: options, the ConfigMgr schedule token, the version
//! table and the AdminService class names. No Rhai and no HTTP here.

use crate::error::{ModuleError, Result};
use serde::Deserialize;

mod roles;
pub use roles::*;

/// The Entra tenant rows (`Get-CMAADTenant`). Property-level emulation: the class name
/// is inferred from the product's naming (api-surface §6.4), its schema UNCONFIRMED.
pub const TENANT_CLASS: &str = "wmi/SMS_AAD_Tenant_Ex";
/// The app rows (`Import-CMAADServerApplication`, `Import-CMAADClientApplication`).
/// Schema UNCONFIRMED beyond `ClientID` and `SecretKey`, seen in public scripts.
pub const APP_CLASS: &str = "wmi/SMS_AAD_Application_Ex";
/// The Azure service connection (`New-CMCloudManagementAzureService`). Schema
/// UNCONFIRMED beyond `ID`, `Name`, `ServiceType`, `SiteCode`.
pub const CLOUD_SERVICE_CLASS: &str = "wmi/SMS_Azure_CloudService";
/// Users the site discovered.
pub const USER_CLASS: &str = "wmi/SMS_R_User";
/// The site itself.
pub const SITE_CLASS: &str = "wmi/SMS_Site";

/// The `ServiceType` of the cloud-management Azure service (UNCONFIRMED value).
pub const CLOUD_MANAGEMENT: &str = "CloudManagement";

/// Azure environments the wizard offers.
pub const ENVIRONMENTS: &[&str] = &["AzurePublicCloud", "AzureUSGovernmentCloud"];

/// Options of `site::azure_service` (the app objects and the secret are taken out of
/// the map first).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureServiceOptions {
    /// The wizard's "Name": it only identifies the connection in ConfigMgr.
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "public_cloud")]
    pub environment: String,
    /// Enable Entra user discovery.
    #[serde(default = "yes")]
    pub user_discovery: bool,
    /// Minutes between delta discoveries; 0 turns delta discovery off.
    #[serde(default = "five")]
    pub delta_minutes: u32,
    /// How often a full discovery runs: `"7d"`, `"12h"`, `"30m"`.
    #[serde(default = "seven_days")]
    pub schedule: String,
}

fn public_cloud() -> String {
    ENVIRONMENTS[0].to_string()
}
fn yes() -> bool {
    true
}
fn five() -> u32 {
    5
}
fn seven_days() -> String {
    "7d".into()
}

impl AzureServiceOptions {
    pub fn validate(&self) -> Result<Interval> {
        const F: &str = "site::azure_service";
        if self.name.trim().is_empty() {
            return Err(ModuleError::validation(format!("{F}: `name` is empty"))
                .with_hint("the wizard's Name, e.g. \"My cloud management service\""));
        }
        if !ENVIRONMENTS.contains(&self.environment.as_str()) {
            return Err(ModuleError::validation(format!(
                "{F}: environment must be one of {}, not {:?}",
                ENVIRONMENTS.join(", "),
                self.environment
            )));
        }
        if self.delta_minutes != 0 && !(5..=1440).contains(&self.delta_minutes) {
            return Err(ModuleError::validation(format!(
                "{F}: delta_minutes must be 0 (off) or 5 to 1440, not {}",
                self.delta_minutes
            )));
        }
        Interval::parse(&self.schedule)
            .map_err(|e| ModuleError::validation(format!("{F}: schedule: {e}")))
    }
}

/// A recurring interval, as ConfigMgr's `SMS_ST_RecurInterval` holds it: one of days
/// (1-31), hours (1-23) or minutes (1-59).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Days(u32),
    Hours(u32),
    Minutes(u32),
}

impl Interval {
    /// `"7d"`, `"12h"`, `"30m"` (also `"7 days"`, `"1 day"`, `"12 hours"`).
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let t = text.trim().to_ascii_lowercase();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let n: u32 = num
            .parse()
            .map_err(|_| format!("{text:?} is not a number and a unit, like \"7d\""))?;
        let interval = match unit.trim() {
            "d" | "day" | "days" => Interval::Days(n),
            "h" | "hour" | "hours" => Interval::Hours(n),
            "m" | "min" | "mins" | "minute" | "minutes" => Interval::Minutes(n),
            other => return Err(format!("unknown unit {other:?} (use d, h or m)")),
        };
        let (max, what) = match interval {
            Interval::Days(_) => (31, "days"),
            Interval::Hours(_) => (23, "hours"),
            Interval::Minutes(_) => (59, "minutes"),
        };
        if n == 0 || n > max {
            return Err(format!(
                "{n} {what} is outside 1-{max} (a schedule token holds one unit)"
            ));
        }
        Ok(interval)
    }

    /// The schedule token string (16 hex digits) for this interval, starting at
    /// `start` in UTC (the token's UTC flag is set). Layout from
    /// MicrosoftDocs/memdocs:memdocs/configmgr/develop/reference/core/servers/configure/readfromstring-method-in-class-sms_schedulemethods.md:
    /// first DWORD start minute(6) hour(5) day(5) month(4) year-1970(6) duration
    /// minutes(6); second DWORD duration hours(5) days(5) flags(3) = 2 (recur
    /// interval), minute span(6), hour span(5), day span(5), unused(2), UTC(1).
    pub fn token(self, start: time::PrimitiveDateTime) -> String {
        let year = (start.year() - 1970).clamp(0, 63) as u32;
        let first: u32 = (u32::from(start.minute()) << 26)
            | (u32::from(start.hour()) << 21)
            | (u32::from(start.day()) << 16)
            | (u32::from(u8::from(start.month())) << 12)
            | (year << 6);
        let (m, h, d) = match self {
            Interval::Minutes(n) => (n, 0, 0),
            Interval::Hours(n) => (0, n, 0),
            Interval::Days(n) => (0, 0, n),
        };
        let second: u32 = (2 << 19) | (m << 13) | (h << 8) | (d << 3) | 1;
        format!("{first:08X}{second:08X}")
    }

    /// The interval a schedule token recurs at; `None` for other kinds of token.
    pub fn from_token(token: &str) -> Option<Self> {
        let token = token.trim();
        if token.len() != 16 {
            return None;
        }
        let second = u32::from_str_radix(token.get(8..16)?, 16).ok()?;
        if (second >> 19) & 0b111 != 2 {
            return None;
        }
        let (m, h, d) = (
            (second >> 13) & 0x3f,
            (second >> 8) & 0x1f,
            (second >> 3) & 0x1f,
        );
        match (m, h, d) {
            (0, 0, d) if d > 0 => Some(Interval::Days(d)),
            (0, h, 0) if h > 0 => Some(Interval::Hours(h)),
            (m, 0, 0) if m > 0 => Some(Interval::Minutes(m)),
            _ => None,
        }
    }

    /// `New-CMSchedule -RecurInterval Days -RecurCount 7`.
    pub fn new_cm_schedule(self) -> String {
        let (unit, n) = match self {
            Interval::Days(n) => ("Days", n),
            Interval::Hours(n) => ("Hours", n),
            Interval::Minutes(n) => ("Minutes", n),
        };
        format!("New-CMSchedule -RecurInterval {unit} -RecurCount {n}")
    }

    /// `7d`.
    pub fn text(self) -> String {
        match self {
            Interval::Days(n) => format!("{n}d"),
            Interval::Hours(n) => format!("{n}h"),
            Interval::Minutes(n) => format!("{n}m"),
        }
    }
}

/// Current-branch versions by build number (the third part of `5.00.9128.1000`), from
/// the version table of MicrosoftDocs/memdocs:memdocs/configmgr/core/servers/manage/updates.md.
const VERSIONS: &[(u32, &str)] = &[
    (8913, "1910"),
    (8968, "2002"),
    (9012, "2006"),
    (9040, "2010"),
    (9049, "2103"),
    (9058, "2107"),
    (9068, "2111"),
    (9078, "2203"),
    (9088, "2207"),
    (9096, "2211"),
    (9106, "2303"),
    (9122, "2309"),
    (9128, "2403"),
    (9132, "2409"),
    (9135, "2503"),
];

/// "Configuration Manager current branch 2403" for build 9128; a build between two
/// known ones is named after the older (a later hotfix of it), a newer one says so.
pub fn product_line(build: u32) -> String {
    match VERSIONS.iter().rev().find(|(b, _)| *b <= build) {
        Some((b, v)) if *b == build => format!("Configuration Manager current branch {v}"),
        Some((_, v)) if build > VERSIONS[VERSIONS.len() - 1].0 => {
            format!("Configuration Manager current branch, newer than {v} (build {build})")
        }
        Some((_, v)) => format!("Configuration Manager current branch {v} (build {build})"),
        None => format!("Configuration Manager, build {build} (older than 1910, out of support)"),
    }
}

/// Whether the site's build creates a CMG as a virtual machine scale set with its own
/// server app (2309 and later use a third-party server app, api-surface §9.1).
pub fn uses_server_app_for_cmg(build: u32) -> bool {
    build >= 9122
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn intervals_parse_and_refuse() {
        assert_eq!(Interval::parse("7d"), Ok(Interval::Days(7)));
        assert_eq!(Interval::parse(" 12 hours "), Ok(Interval::Hours(12)));
        assert_eq!(Interval::parse("30m"), Ok(Interval::Minutes(30)));
        assert!(Interval::parse("0d").is_err());
        assert!(Interval::parse("32d").is_err());
        assert!(Interval::parse("7w").is_err());
        assert!(Interval::parse("d").is_err());
    }

    #[test]
    fn tokens_round_trip_and_match_a_known_token() {
        // "1033BC7B10100010" decodes (PSCCMClient ConvertFrom-CCMSchedule example) to a
        // recur interval of 2 days: the second DWORD's span fields.
        assert_eq!(
            Interval::from_token("1033BC7B10100010"),
            Some(Interval::Days(2))
        );
        let start = datetime!(2026-11-29 21:30);
        for i in [
            Interval::Days(7),
            Interval::Hours(12),
            Interval::Minutes(30),
        ] {
            let t = i.token(start);
            assert_eq!(t.len(), 16);
            assert_eq!(Interval::from_token(&t), Some(i), "{t}");
        }
        let t = Interval::Days(7).token(start);
        let first = u32::from_str_radix(&t[..8], 16).unwrap();
        assert_eq!(first >> 26, 30);
        assert_eq!((first >> 21) & 0x1f, 21);
        assert_eq!((first >> 16) & 0x1f, 29);
        assert_eq!((first >> 12) & 0xf, 11);
        assert_eq!((first >> 6) & 0x3f, 56);
        assert_eq!(Interval::from_token("nonsense"), None);
    }

    #[test]
    fn builds_name_their_version() {
        assert_eq!(
            product_line(9128),
            "Configuration Manager current branch 2403"
        );
        assert!(product_line(9130).contains("2403 (build 9130)"));
        assert!(product_line(9999).contains("newer than 2503"));
        assert!(product_line(8000).contains("out of support"));
        assert!(uses_server_app_for_cmg(9128));
        assert!(!uses_server_app_for_cmg(9106));
    }

    #[test]
    fn options_are_checked() {
        let mut o = AzureServiceOptions {
            name: "x".into(),
            description: String::new(),
            environment: public_cloud(),
            user_discovery: true,
            delta_minutes: 5,
            schedule: "7d".into(),
        };
        assert_eq!(o.validate().unwrap(), Interval::Days(7));
        o.delta_minutes = 3;
        assert!(o.validate().is_err());
        o.delta_minutes = 0;
        o.environment = "Mars".into();
        assert!(o.validate().is_err());
    }
}
