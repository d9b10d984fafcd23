//! Plain types and rules of the `cert` module: options and the validation of the CSR
//! fields. The CMG's naming rules are in `cmg::names`. No Rhai here.

use crate::cmg::names::{azure_zone, is_wildcard};
use crate::error::{ModuleError, Result};
use serde::{Deserialize, Serialize};

/// Days before expiry when a certificate counts as "expiring soon".
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// RSA key sizes a CSR may ask for.
pub const KEY_SIZES: &[u32] = &[2048, 3072, 4096];

fn default_key_size() -> u32 {
    2048
}

fn default_true() -> bool {
    true
}

/// A string or a list of strings (`san: "a"` or `san: ["a", "b"]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// `cert::request` options.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestOptions {
    pub common_name: String,
    #[serde(default)]
    pub san: Option<OneOrMany>,
    #[serde(default)]
    pub organization: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default = "default_key_size")]
    pub key_size: u32,
    #[serde(default)]
    pub out: Option<String>,
    #[serde(default)]
    pub allow_azure_domain: bool,
}

/// `cert::import_cert` options (the `key` option is taken out before parsing: it may be a
/// `CertRequest`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportOptions {
    pub certificate: String,
    #[serde(default)]
    pub chain: Option<OneOrMany>,
}

/// PFX encryption.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PfxFormat {
    /// AES-256-CBC, PBKDF2-HMAC-SHA256, MAC SHA-256: Windows 10 1709 / Server 2019 and later.
    #[default]
    Aes256,
    /// 3DES + SHA-1: Windows Server 2016 and older.
    #[serde(rename = "3des")]
    TripleDes,
}

impl PfxFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            PfxFormat::Aes256 => "aes256",
            PfxFormat::TripleDes => "3des",
        }
    }
}

/// `cert::export_pfx` options (`password` is taken out first).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportOptions {
    pub out: String,
    #[serde(default = "default_true")]
    pub include_chain: bool,
    #[serde(default)]
    pub format: PfxFormat,
}

/// `cert::check_cmg` options.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckOptions {
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default = "default_true")]
    pub content: bool,
    #[serde(default)]
    pub service_name: Option<String>,
    #[serde(default)]
    pub existing_service_name: Option<String>,
}

/// `cert::lab_ca` options.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabCaOptions {
    #[serde(default = "default_lab_name")]
    pub name: String,
    #[serde(default)]
    pub out: Option<String>,
}

fn default_lab_name() -> String {
    "comgmt Lab".to_string()
}

/// `ca.issue` options.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueOptions {
    #[serde(default = "default_days")]
    pub days: u32,
    #[serde(default)]
    pub out: Option<String>,
}

fn default_days() -> u32 {
    365
}

/// The validated subject of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subject {
    pub common_name: String,
    pub organization: Option<String>,
    pub department: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
}

impl Subject {
    /// Windows order: `CN=..., OU=..., O=..., L=..., S=..., C=...`.
    pub fn display(&self) -> String {
        let mut parts = vec![format!("CN={}", self.common_name)];
        let pairs = [
            ("OU", &self.department),
            ("O", &self.organization),
            ("L", &self.city),
            ("S", &self.state),
            ("C", &self.country),
        ];
        for (k, v) in pairs {
            if let Some(v) = v {
                parts.push(format!("{k}={v}"));
            }
        }
        parts.join(", ")
    }
}

/// A request after validation: what the CSR will say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSpec {
    pub subject: Subject,
    pub sans: Vec<String>,
    pub key_size: u32,
    /// Notes worth showing (wildcard, CN added to the SAN list).
    pub notes: Vec<String>,
}

/// Validate `cert::request` options into a spec.
pub fn validate_request(o: &RequestOptions) -> Result<RequestSpec> {
    let f = "cert::request";
    let cn = o.common_name.trim().to_string();
    validate_dns_name(f, "common_name", &cn)?;
    if cn.len() > 64 {
        return Err(ModuleError::validation(format!(
            "{f}: common_name is {} characters; a certificate's CN holds at most 64",
            cn.len()
        )));
    }
    if !o.allow_azure_domain {
        if let Some(zone) = azure_zone(&cn) {
            return Err(ModuleError::validation(format!(
                "{f}: common_name `{cn}` is under the Azure domain {zone}: a public certificate \
                 provider can't issue a certificate for an Azure domain"
            ))
            .with_hint(
                "use a name in a domain your organisation owns (e.g. GraniteFalls.contoso.com) and \
                 point a DNS CNAME at the deployment name; with an enterprise PKI you may set \
                 allow_azure_domain: true",
            ));
        }
    }
    if !KEY_SIZES.contains(&o.key_size) {
        return Err(ModuleError::validation(format!(
            "{f}: key_size {} is not allowed; use 2048 (default), 3072 or 4096",
            o.key_size
        )));
    }
    let mut notes = Vec::new();
    let mut sans = match &o.san {
        None => vec![cn.clone()],
        Some(s) => s
            .clone()
            .into_vec()
            .into_iter()
            .map(|s| s.trim().to_string())
            .collect(),
    };
    for s in &sans {
        validate_dns_name(f, "san", s)?;
        if !o.allow_azure_domain {
            if let Some(zone) = azure_zone(s) {
                return Err(ModuleError::validation(format!(
                    "{f}: san `{s}` is under the Azure domain {zone}: a public certificate provider \
                     can't issue a certificate for an Azure domain"
                )));
            }
        }
    }
    if !sans.iter().any(|s| s == &cn) {
        sans.insert(0, cn.clone());
        notes.push(format!(
            "added the common name {cn} to the SAN list: clients match the service name against the SAN"
        ));
    }
    let mut seen = Vec::new();
    sans.retain(|s| {
        let k = s.to_ascii_lowercase();
        if seen.contains(&k) {
            false
        } else {
            seen.push(k);
            true
        }
    });
    if is_wildcard(&cn) {
        notes.push(format!(
            "wildcard certificate: in the CMG wizard replace `*` in the service name {cn} with the \
             CMG's name prefix (cert.service_name(\"prefix\"))"
        ));
    }
    let country = match &o.country {
        None => None,
        Some(c) => Some(validate_country(c)?),
    };
    let subject = Subject {
        common_name: cn,
        organization: text_field(f, "organization", &o.organization, 64)?,
        department: text_field(f, "department", &o.department, 64)?,
        city: text_field(f, "city", &o.city, 128)?,
        state: text_field(f, "state", &o.state, 128)?,
        country,
    };
    Ok(RequestSpec {
        subject,
        sans,
        key_size: o.key_size,
        notes,
    })
}

fn text_field(f: &str, key: &str, v: &Option<String>, max: usize) -> Result<Option<String>> {
    let Some(v) = v else { return Ok(None) };
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if v.chars().count() > max {
        return Err(ModuleError::validation(format!(
            "{f}: {key} is longer than {max} characters"
        )));
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(ModuleError::validation(format!(
            "{f}: {key} contains a control character"
        )));
    }
    Ok(Some(v.to_string()))
}

/// A two-letter ISO 3166 country code, upper-cased.
pub fn validate_country(c: &str) -> Result<String> {
    let t = c.trim();
    if t.len() == 2 && t.chars().all(|ch| ch.is_ascii_alphabetic()) {
        return Ok(t.to_ascii_uppercase());
    }
    Err(ModuleError::validation(format!(
        "cert::request: country must be a two-letter ISO 3166 code such as US, GB or DE, not `{t}`"
    ))
    .with_hint("the certificate's C= field holds exactly two letters"))
}

/// A host name a certificate can carry: labels of letters, digits and hyphens, at least
/// two labels, a `*` allowed only as the whole first label.
pub fn validate_dns_name(f: &str, key: &str, name: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(ModuleError::validation(format!(
            "{f}: {key} `{name}` is not a valid DNS name: {why}"
        ))
        .with_hint("use a fully qualified name in a domain you own, e.g. GraniteFalls.contoso.com"))
    };
    if name.is_empty() {
        return bad("it is empty");
    }
    if name.len() > 253 {
        return bad("it is longer than 253 characters");
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return bad("it needs a domain (at least two labels)");
    }
    for (i, l) in labels.iter().enumerate() {
        if i == 0 && *l == "*" {
            if labels.len() < 3 {
                return bad("a wildcard needs a domain below a top-level domain (*.contoso.com)");
            }
            continue;
        }
        if l.is_empty() {
            return bad("it has an empty label");
        }
        if l.len() > 63 {
            return bad("a label is longer than 63 characters");
        }
        if !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return bad("labels hold only letters, digits and hyphens");
        }
        if l.starts_with('-') || l.ends_with('-') {
            return bad("a label starts or ends with a hyphen");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(cn: &str) -> RequestOptions {
        RequestOptions {
            common_name: cn.into(),
            san: None,
            organization: Some("Contoso".into()),
            department: None,
            city: None,
            state: None,
            country: Some("us".into()),
            key_size: 2048,
            out: None,
            allow_azure_domain: false,
        }
    }

    #[test]
    fn san_defaults_to_cn_and_country_is_uppercased() {
        let s = validate_request(&opts("GraniteFalls.contoso.com")).unwrap();
        assert_eq!(s.sans, vec!["GraniteFalls.contoso.com"]);
        assert_eq!(s.subject.country.as_deref(), Some("US"));
        assert_eq!(
            s.subject.display(),
            "CN=GraniteFalls.contoso.com, O=Contoso, C=US"
        );
    }

    #[test]
    fn azure_domain_is_refused_with_the_reason() {
        for cn in ["x.westus.cloudapp.azure.com", "x.CloudApp.Net"] {
            let e = validate_request(&opts(cn)).unwrap_err();
            assert!(
                e.message
                    .contains("can't issue a certificate for an Azure domain"),
                "{}",
                e.message
            );
        }
        let mut o = opts("x.westus.cloudapp.azure.com");
        o.allow_azure_domain = true;
        assert!(validate_request(&o).is_ok());
    }

    #[test]
    fn bad_country_and_key_size() {
        let mut o = opts("a.contoso.com");
        o.country = Some("USA".into());
        let e = validate_request(&o).unwrap_err();
        assert!(e.message.contains("two-letter"), "{}", e.message);
        let mut o = opts("a.contoso.com");
        o.key_size = 1024;
        assert!(validate_request(&o)
            .unwrap_err()
            .message
            .contains("key_size 1024"));
    }

    #[test]
    fn dns_name_rules() {
        assert!(validate_dns_name("f", "k", "cmg.contoso.com").is_ok());
        assert!(validate_dns_name("f", "k", "*.contoso.com").is_ok());
        assert!(validate_dns_name("f", "k", "*.com").is_err());
        assert!(validate_dns_name("f", "k", "cmg").is_err());
        assert!(validate_dns_name("f", "k", "c_m.contoso.com").is_err());
        assert!(validate_dns_name("f", "k", "-a.contoso.com").is_err());
        assert!(validate_dns_name("f", "k", "a..com").is_err());
        assert!(validate_dns_name("f", "k", "a.*.com").is_err());
    }

    #[test]
    fn san_gets_cn_and_wildcard_note() {
        let mut o = opts("*.contoso.com");
        o.san = Some(OneOrMany::Many(vec!["other.contoso.com".into()]));
        let s = validate_request(&o).unwrap();
        assert_eq!(s.sans, vec!["*.contoso.com", "other.contoso.com"]);
        assert_eq!(s.notes.len(), 2);
    }
}
