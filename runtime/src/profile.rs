//! `comgmt.toml`: named live profiles.
//!
//! ```toml
//! [profiles.contoso]
//! tenant = "contoso.onmicrosoft.com"              # tenant id or verified domain
//! authority = "https://login.microsoftonline.com/" # default
//! graph = "https://graph.microsoft.com/"           # default
//! graph_resource = "https://graph.microsoft.com"   # default: whom Graph tokens are for
//! arm = "https://management.azure.com/"            # default
//! arm_resource = "https://management.azure.com"    # default: whom ARM tokens are for
//! # The Azure subscription the azure module works in, optional (default: the one
//! # subscription the identity sees):
//! subscription = "00000000-0000-0000-0000-000000000000"
//! # The AdminService, optional. Through the CMG with an Entra token for the CMG
//! # server app (its App ID URI), or on the intranet with Negotiate:
//! admin_service = "https://cmg.contoso.com/CCM_Proxy_ServerAuth/72057594037927939/AdminService/"
//! admin_service_auth = "entra"                     # or "negotiate"
//! admin_service_resource = "api://5e97358c-d99c-4558-af0c-de7774091dda/ConfigMgrService"
//! ca_file = "emulator-ca.pem"   # optional extra trusted root (PEM), relative to this file
//! # The site server's log folder as this machine reaches it, optional (for
//! # logs::wait_for on SMS_AZUREAD_DISCOVERY_AGENT.log):
//! site_log_dir = '\\CM01.contoso.com\SMS_XYZ\Logs'
//! # DNS servers name checks ask (dns::check_cname), optional; default: the system's.
//! dns_servers = ["10.0.0.53:53", "10.0.1.53"]     # "ip:port"; a bare IP means port 53
//!
//! [profiles.contoso.auth]
//! method = "client_secret"      # or "client_certificate" or "device_code"
//! client_id = "00000000-0000-0000-0000-000000000000"
//! secret_env = "COMGMT_CLIENT_SECRET"   # the secret itself is never in this file
//! # client_certificate: pfx = "comgmt.pfx", password_env = "COMGMT_PFX_PASSWORD"
//! ```
//!
//! Every table rejects unknown keys by name; TLS verification cannot be turned off.
//! The public-cloud defaults come from `comgmt_stdlib::cloud::endpoints`: this crate
//! knows no Microsoft host.

use comgmt_stdlib::cloud::{endpoints, Endpoint, EndpointAuth};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use url::Url;

pub const DEFAULT_FILE: &str = "comgmt.toml";

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
    graph_resource: Option<String>,
    arm: Option<String>,
    arm_resource: Option<String>,
    subscription: Option<String>,
    admin_service: Option<String>,
    admin_service_auth: Option<AdminServiceAuth>,
    admin_service_resource: Option<String>,
    ca_file: Option<PathBuf>,
    site_log_dir: Option<PathBuf>,
    dns_servers: Option<Vec<String>>,
    auth: Auth,
}

/// How the AdminService is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminServiceAuth {
    /// Through the CMG, with an Entra token for the CMG server app.
    Entra,
    /// On the intranet, with Windows Negotiate (not available in this build).
    Negotiate,
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
    pub graph: Endpoint,
    pub arm: Endpoint,
    pub admin_service: Option<Endpoint>,
    /// The Azure subscription id (a GUID, lower-cased), when the profile names one.
    pub subscription: Option<String>,
    pub ca_file: Option<PathBuf>,
    /// The site server's log folder, as this machine reaches it.
    pub site_log_dir: Option<PathBuf>,
    /// The DNS servers name checks ask; empty: the system's resolver configuration.
    pub dns_servers: Vec<SocketAddr>,
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
    let resource = |key: &str, value: Option<&str>, default: &str| -> anyhow::Result<String> {
        endpoints::check_resource(value.unwrap_or(default))
            .map_err(|e| anyhow::anyhow!("{}: {e}", ctx(key)))
    };
    let authority = url("authority", raw.authority.as_deref(), endpoints::AUTHORITY)?;
    let graph = Endpoint::bearer(
        url("graph", raw.graph.as_deref(), endpoints::GRAPH)?,
        &resource(
            "graph_resource",
            raw.graph_resource.as_deref(),
            endpoints::GRAPH_RESOURCE,
        )?,
    );
    let arm = Endpoint::bearer(
        url("arm", raw.arm.as_deref(), endpoints::ARM)?,
        &resource(
            "arm_resource",
            raw.arm_resource.as_deref(),
            endpoints::ARM_RESOURCE,
        )?,
    );
    let admin_service = admin_service(raw, &ctx)?;
    let ca_file = raw.ca_file.as_ref().map(|p| base.join(p));
    let subscription = match raw.subscription.as_deref().map(str::trim) {
        None => None,
        Some(s) if is_guid(s) => Some(s.to_ascii_lowercase()),
        Some(s) => anyhow::bail!(
            "{}: `{s}` is not a subscription id (a GUID, as `az account list` shows it)",
            ctx("subscription")
        ),
    };
    let dns_servers = match &raw.dns_servers {
        None => Vec::new(),
        Some(list) if list.is_empty() => anyhow::bail!(
            "{} is empty: name at least one \"ip:port\", or leave it out to use the system's DNS settings",
            ctx("dns_servers")
        ),
        Some(list) => list
            .iter()
            .map(|s| {
                comgmt_stdlib::cloud::dns::parse_server(s).map_err(|e| {
                    anyhow::anyhow!(
                        "{}: {}{}",
                        ctx("dns_servers"),
                        e.message,
                        e.hint.map(|h| format!(" ({h})")).unwrap_or_default()
                    )
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?,
    };
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
        subscription,
        ca_file,
        site_log_dir: raw.site_log_dir.as_ref().map(|p| base.join(p)),
        dns_servers,
        auth,
        source: path.to_path_buf(),
    })
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hex digits.
fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The AdminService endpoint: its URL, how it authenticates, and for Entra the
/// resource the token is for. All three keys go together.
fn admin_service(
    raw: &RawProfile,
    ctx: &dyn Fn(&str) -> String,
) -> anyhow::Result<Option<Endpoint>> {
    let Some(url) = raw.admin_service.as_deref() else {
        for (key, set) in [
            ("admin_service_auth", raw.admin_service_auth.is_some()),
            (
                "admin_service_resource",
                raw.admin_service_resource.is_some(),
            ),
        ] {
            if set {
                anyhow::bail!("{} needs `admin_service` (the AdminService URL)", ctx(key));
            }
        }
        return Ok(None);
    };
    let root = parse_url(url).map_err(|e| anyhow::anyhow!("{}: {e}", ctx("admin_service")))?;
    let auth = match (
        raw.admin_service_auth,
        raw.admin_service_resource.as_deref(),
    ) {
        (None, _) => anyhow::bail!(
            "{} is required with `admin_service`: \"entra\" (through the CMG, with \
             admin_service_resource) or \"negotiate\" (intranet)",
            ctx("admin_service_auth")
        ),
        (Some(AdminServiceAuth::Entra), None) => anyhow::bail!(
            "{} is required with admin_service_auth = \"entra\": the App ID URI of the CMG \
             server app, e.g. \"api://{{tenant id}}/ConfigMgrService\"",
            ctx("admin_service_resource")
        ),
        (Some(AdminServiceAuth::Entra), Some(r)) => EndpointAuth::Bearer {
            resource: endpoints::check_resource(r)
                .map_err(|e| anyhow::anyhow!("{}: {e}", ctx("admin_service_resource")))?,
        },
        (Some(AdminServiceAuth::Negotiate), Some(_)) => anyhow::bail!(
            "{} is only for admin_service_auth = \"entra\"; Negotiate asks for no token",
            ctx("admin_service_resource")
        ),
        (Some(AdminServiceAuth::Negotiate), None) => EndpointAuth::Negotiate,
    };
    Ok(Some(Endpoint { root, auth }))
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
    endpoints::parse_root(s).map_err(|e| anyhow::anyhow!("{}", e.message))
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
        assert_eq!(prof.authority.as_str(), endpoints::AUTHORITY);
        assert_eq!(prof.graph.root.as_str(), endpoints::GRAPH);
        assert_eq!(
            prof.graph.auth,
            EndpointAuth::Bearer {
                resource: endpoints::GRAPH_RESOURCE.into()
            }
        );
        assert_eq!(prof.arm.root.as_str(), endpoints::ARM);
        assert_eq!(
            prof.arm.auth,
            EndpointAuth::Bearer {
                resource: endpoints::ARM_RESOURCE.into()
            }
        );
        assert_eq!(prof.admin_service, None);
        assert_eq!(prof.ca_file, Some(PathBuf::from("conf/ca.pem")));
        assert!(matches!(prof.auth, Auth::ClientSecret { .. }));
    }

    #[test]
    fn subscription_is_an_optional_guid() {
        const AUTH: &str = "auth = { method = \"device_code\", client_id = \"c\" }\n";
        let prof = p(&format!("[profiles.x]\ntenant = \"t\"\n{AUTH}"), "x")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(prof.subscription, None);
        let prof = p(
            &format!("[profiles.x]\ntenant = \"t\"\nsubscription = \"A1B2C3D4-0000-1111-2222-333344445555\"\n{AUTH}"),
            "x",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            prof.subscription.as_deref(),
            Some("a1b2c3d4-0000-1111-2222-333344445555")
        );
        let e = p(
            &format!("[profiles.x]\ntenant = \"t\"\nsubscription = \"Pay-As-You-Go\"\n{AUTH}"),
            "x",
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(
            e.contains("`subscription`") && e.contains("not a subscription id"),
            "{e}"
        );
    }

    #[test]
    fn dns_servers_are_ip_and_port() {
        let prof = p(
            &format!("[profiles.x]\ntenant = \"t\"\ndns_servers = [\"10.0.0.53:5353\", \"10.0.1.53\"]\n{AUTH}"),
            "x",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let shown: Vec<String> = prof.dns_servers.iter().map(|s| s.to_string()).collect();
        assert_eq!(shown, ["10.0.0.53:5353", "10.0.1.53:53"]);
        let prof = p(&format!("[profiles.x]\ntenant = \"t\"\n{AUTH}"), "x")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(prof.dns_servers.is_empty());
        let e = err(&format!(
            "[profiles.x]\ntenant = \"t\"\ndns_servers = [\"dns.contoso.com\"]\n{AUTH}"
        ));
        assert!(
            e.contains("`dns_servers`") && e.contains("not a DNS server address"),
            "{e}"
        );
        let e = err(&format!(
            "[profiles.x]\ntenant = \"t\"\ndns_servers = []\n{AUTH}"
        ));
        assert!(e.contains("is empty"), "{e}");
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

    fn err(text: &str) -> String {
        p(text, "x")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    const AUTH: &str = "auth = { method = \"device_code\", client_id = \"c\" }\n";

    #[test]
    fn the_admin_service_through_the_cmg_takes_a_token_for_the_server_app() {
        let prof = p(
            &format!(
                "[profiles.x]\ntenant = \"t\"\n\
                 admin_service = \"https://cmg.contoso.com/CCM_Proxy_ServerAuth/1/AdminService\"\n\
                 admin_service_auth = \"entra\"\n\
                 admin_service_resource = \"https://contososerver\"\n{AUTH}"
            ),
            "x",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            prof.admin_service,
            Some(Endpoint {
                root: Url::parse("https://cmg.contoso.com/CCM_Proxy_ServerAuth/1/AdminService/")
                    .unwrap_or_else(|e| panic!("{e}")),
                auth: EndpointAuth::Bearer {
                    resource: "https://contososerver".into()
                },
            })
        );
        let prof = p(
            &format!(
                "[profiles.x]\ntenant = \"t\"\nadmin_service = \"https://sms.contoso.com/AdminService/\"\n\
                 admin_service_auth = \"negotiate\"\n{AUTH}"
            ),
            "x",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            prof.admin_service.map(|e| e.auth),
            Some(EndpointAuth::Negotiate)
        );
    }

    #[test]
    fn admin_service_keys_go_together() {
        let url = "admin_service = \"https://sms.contoso.com/AdminService/\"\n";
        let e = err(&format!("[profiles.x]\ntenant = \"t\"\n{url}{AUTH}"));
        assert!(e.contains("`admin_service_auth` is required"), "{e}");
        let e = err(&format!(
            "[profiles.x]\ntenant = \"t\"\n{url}admin_service_auth = \"entra\"\n{AUTH}"
        ));
        assert!(e.contains("`admin_service_resource` is required"), "{e}");
        let e = err(&format!(
            "[profiles.x]\ntenant = \"t\"\n{url}admin_service_auth = \"negotiate\"\nadmin_service_resource = \"https://s\"\n{AUTH}"
        ));
        assert!(e.contains("only for admin_service_auth"), "{e}");
        let e = err(&format!(
            "[profiles.x]\ntenant = \"t\"\nadmin_service_auth = \"entra\"\n{AUTH}"
        ));
        assert!(e.contains("needs `admin_service`"), "{e}");
        let e = err(&format!(
            "[profiles.x]\ntenant = \"t\"\n{url}admin_service_auth = \"kerberos\"\n{AUTH}"
        ));
        assert!(e.contains("entra") && e.contains("negotiate"), "{e}");
        let e = err(&format!(
            "[profiles.x]\ntenant = \"t\"\n{url}admin_service_auth = \"entra\"\nadmin_service_resource = \"contososerver\"\n{AUTH}"
        ));
        assert!(e.contains("not a resource id"), "{e}");
    }

    #[test]
    fn resources_can_be_overridden_for_other_clouds() {
        let prof = p(
            &format!(
                "[profiles.x]\ntenant = \"t\"\ngraph = \"https://graph.microsoft.us/\"\n\
                 graph_resource = \"https://graph.microsoft.us\"\n\
                 arm = \"https://management.usgovcloudapi.net/\"\n\
                 arm_resource = \"https://management.usgovcloudapi.net\"\n{AUTH}"
            ),
            "x",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            prof.arm.auth,
            EndpointAuth::Bearer {
                resource: "https://management.usgovcloudapi.net".into()
            }
        );
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
