//! `comgmt.toml`: named live profiles.
//!
//! ```toml
//! [profiles.contoso]
//! tenant = "contoso.onmicrosoft.com"              # tenant id or verified domain
//! authority = "https://login.microsoftonline.com/" # default
//! graph = "https://graph.microsoft.com/"           # default
//! arm = "https://management.azure.com/"            # default
//! admin_service = "https://sms.contoso.com/AdminService/"  # optional
//! ca_file = "emulator-ca.pem"   # optional extra trusted root (PEM), relative to this file
//!
//! [profiles.contoso.auth]
//! method = "client_secret"      # or "client_certificate" or "device_code"
//! client_id = "00000000-0000-0000-0000-000000000000"
//! secret_env = "COMGMT_CLIENT_SECRET"   # the secret itself is never in this file
//! # client_certificate: pfx = "comgmt.pfx", password_env = "COMGMT_PFX_PASSWORD"
//! ```
//!
//! Every table rejects unknown keys by name; TLS verification cannot be turned off.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use url::Url;

pub const DEFAULT_FILE: &str = "comgmt.toml";
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com/";
pub const DEFAULT_GRAPH: &str = "https://graph.microsoft.com/";
pub const DEFAULT_ARM: &str = "https://management.azure.com/";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    profiles: BTreeMap<String, RawProfile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    tenant: String,
    authority: Option<String>,
    graph: Option<String>,
    arm: Option<String>,
    admin_service: Option<String>,
    ca_file: Option<PathBuf>,
    auth: Auth,
}

/// How a live profile authenticates. Secrets are named by environment variable only.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum Auth {
    ClientSecret {
        client_id: String,
        secret_env: String,
    },
    ClientCertificate {
        client_id: String,
        pfx: PathBuf,
        password_env: String,
    },
    DeviceCode {
        client_id: String,
    },
}

/// A validated live profile. Relative paths are already resolved against the folder
/// of the file it came from.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub tenant: String,
    pub authority: Url,
    pub graph: Url,
    pub arm: Url,
    pub admin_service: Option<Url>,
    pub ca_file: Option<PathBuf>,
    pub auth: Auth,
    /// The file it was read from.
    pub source: PathBuf,
}

/// Keys that would hold a secret; named in a dedicated error.
const SECRET_KEYS: &[&str] = &["secret", "client_secret", "password", "pfx_password"];

/// Read `path` (or `./comgmt.toml`) and return profile `name`, validated.
pub fn load(path: Option<&Path>, name: &str) -> anyhow::Result<Profile> {
    let path = path
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_FILE));
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    parse(&text, &path, name)
}

/// Parse profile `name` from the text of a config file at `path`.
pub fn parse(text: &str, path: &Path, name: &str) -> anyhow::Result<Profile> {
    let shown = path.display();
    // Catch a secret written into the file before anything else, with its own message.
    if let Ok(table) = text.parse::<toml::Table>() {
        if let Some(toml::Value::Table(profiles)) = table.get("profiles") {
            for (pname, p) in profiles {
                if let Some(auth) = p.get("auth").and_then(toml::Value::as_table) {
                    for key in SECRET_KEYS {
                        if auth.contains_key(*key) {
                            anyhow::bail!(
                                "{shown}: profile `{pname}`: `auth.{key}` is not allowed: secrets never go in {DEFAULT_FILE}; \
                                 name an environment variable instead (`secret_env` for client_secret, `password_env` for client_certificate)"
                            );
                        }
                    }
                }
            }
        }
    }
    let file: ConfigFile = toml::from_str(text)
        .map_err(|e| anyhow::anyhow!("{shown}: {}", e.to_string().trim_end()))?;
    let names: Vec<&str> = file.profiles.keys().map(String::as_str).collect();
    let Some(raw) = file.profiles.get(name) else {
        if names.is_empty() {
            anyhow::bail!("{shown} has no profiles; add a [profiles.{name}] table");
        }
        anyhow::bail!(
            "{shown} has no profile `{name}`; profiles: {}",
            names.join(", ")
        );
    };
    let ctx = |key: &str| format!("{shown}: profile `{name}`: `{key}`");
    let base = path.parent().unwrap_or(Path::new(""));
    if raw.tenant.trim().is_empty() {
        anyhow::bail!("{} must not be empty", ctx("tenant"));
    }
    let url = |key: &str, value: Option<&str>, default: &str| -> anyhow::Result<Url> {
        parse_url(value.unwrap_or(default)).map_err(|e| anyhow::anyhow!("{}: {e}", ctx(key)))
    };
    let authority = url("authority", raw.authority.as_deref(), DEFAULT_AUTHORITY)?;
    let graph = url("graph", raw.graph.as_deref(), DEFAULT_GRAPH)?;
    let arm = url("arm", raw.arm.as_deref(), DEFAULT_ARM)?;
    let admin_service = raw
        .admin_service
        .as_deref()
        .map(|s| parse_url(s).map_err(|e| anyhow::anyhow!("{}: {e}", ctx("admin_service"))))
        .transpose()?;
    let ca_file = raw.ca_file.as_ref().map(|p| base.join(p));
    let auth = match &raw.auth {
        Auth::ClientSecret {
            client_id,
            secret_env,
        } => {
            non_empty(client_id, &ctx("auth.client_id"))?;
            env_name(secret_env, &ctx("auth.secret_env"))?;
            raw.auth.clone()
        }
        Auth::ClientCertificate {
            client_id,
            pfx,
            password_env,
        } => {
            non_empty(client_id, &ctx("auth.client_id"))?;
            env_name(password_env, &ctx("auth.password_env"))?;
            Auth::ClientCertificate {
                client_id: client_id.clone(),
                pfx: base.join(pfx),
                password_env: password_env.clone(),
            }
        }
        Auth::DeviceCode { client_id } => {
            non_empty(client_id, &ctx("auth.client_id"))?;
            raw.auth.clone()
        }
    };
    Ok(Profile {
        name: name.to_string(),
        tenant: raw.tenant.trim().to_string(),
        authority,
        graph,
        arm,
        admin_service,
        ca_file,
        auth,
        source: path.to_path_buf(),
    })
}

fn non_empty(v: &str, what: &str) -> anyhow::Result<()> {
    if v.trim().is_empty() {
        anyhow::bail!("{what} must not be empty");
    }
    Ok(())
}

fn env_name(v: &str, what: &str) -> anyhow::Result<()> {
    let ok = !v.is_empty()
        && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !v.starts_with(|c: char| c.is_ascii_digit());
    if !ok {
        anyhow::bail!(
            "{what} must name an environment variable (letters, digits and `_`), got `{v}`"
        );
    }
    Ok(())
}

/// An http(s) URL whose path ends with `/`, so joining keeps its path.
pub fn parse_url(s: &str) -> anyhow::Result<Url> {
    let mut url = Url::parse(s.trim()).map_err(|e| anyhow::anyhow!("`{s}` is not a URL: {e}"))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        anyhow::bail!("`{s}` must be an http or https URL");
    }
    if url.cannot_be_a_base() || url.host().is_none() {
        anyhow::bail!("`{s}` has no host");
    }
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str, name: &str) -> anyhow::Result<Profile> {
        parse(text, Path::new("conf/comgmt.toml"), name)
    }

    #[test]
    fn a_full_profile_with_defaults() {
        let prof = p(
            r#"
[profiles.lab]
tenant = "contoso.onmicrosoft.com"
ca_file = "ca.pem"
[profiles.lab.auth]
method = "client_secret"
client_id = "abc"
secret_env = "LAB_SECRET"
"#,
            "lab",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(prof.authority.as_str(), DEFAULT_AUTHORITY);
        assert_eq!(prof.graph.as_str(), DEFAULT_GRAPH);
        assert_eq!(prof.ca_file, Some(PathBuf::from("conf/ca.pem")));
        assert!(matches!(prof.auth, Auth::ClientSecret { .. }));
    }

    #[test]
    fn unknown_and_missing_keys_are_named() {
        let e = p(
            "[profiles.x]\ntenant = \"t\"\ngrpah = \"http://x/\"\nauth = { method = \"device_code\", client_id = \"c\" }\n",
            "x",
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains("unknown field `grpah`"), "{e}");
        assert!(e.contains("`graph`"), "{e}");

        let e = p(
            "[profiles.x]\nauth = { method = \"device_code\", client_id = \"c\" }\n",
            "x",
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains("missing field `tenant`"), "{e}");

        let e = p(
            "[profiles.x]\ntenant = \"t\"\nauth = { method = \"client_secret\", client_id = \"c\", secret_env = \"S\", extra = 1 }\n",
            "x",
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains("unknown field `extra`"), "{e}");

        let e = p(
            "[profiles.x]\ntenant = \"t\"\nauth = { method = \"password\", client_id = \"c\" }\n",
            "x",
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains("client_secret"), "{e}");
    }

    #[test]
    fn secrets_in_the_file_are_refused() {
        let e = p(
            "[profiles.x]\ntenant = \"t\"\nauth = { method = \"client_secret\", client_id = \"c\", secret = \"hunter2\" }\n",
            "x",
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains("secrets never go in"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn unknown_profile_lists_the_known_ones() {
        let e = p(
            "[profiles.a]\ntenant = \"t\"\nauth = { method = \"device_code\", client_id = \"c\" }\n",
            "b",
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains("no profile `b`; profiles: a"), "{e}");
    }

    #[test]
    fn urls_get_a_trailing_slash_and_need_http() {
        assert_eq!(
            parse_url("http://127.0.0.1:5/x")
                .map(|u| u.to_string())
                .ok(),
            Some("http://127.0.0.1:5/x/".to_string())
        );
        assert!(parse_url("ftp://x/").is_err());
        assert!(parse_url("nope").is_err());
    }
}
