//! Which services a run talks to, turned into one `CloudConfig`: the embedded emulator
//! (default), an already-served emulator (`--emulator-url`), or a live profile
//! (`--profile`). Nothing after this point knows which one it is.

use crate::profile::{self, Auth, Profile};
use comgmt_emulator::{EmulatorConfig, EmulatorHandle, StateLocation};
use comgmt_stdlib::cloud::{discovery, http, CloudConfig, Credential};
use comgmt_stdlib::Secret;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use url::Url;

/// The embedded emulator's state, relative to the working directory.
pub const STATE_DIR: &str = ".comgmt";
pub const STATE_FILE: &str = ".comgmt/emulator.sqlite";
pub const JOURNAL_FILE: &str = ".comgmt/journal.jsonl";

/// What the command line asked for.
#[derive(Debug, Clone)]
pub enum TargetSpec {
    /// Start the emulator in-process on 127.0.0.1, state in `state`.
    Embedded { state: PathBuf, fresh: bool },
    /// Start the emulator in-process with an empty tenant kept in memory: `plan --fresh`,
    /// which must not delete the state a later `run` uses.
    EmbeddedEmpty,
    /// An emulator already served at `url` (`comgmt emulator serve`).
    Served { url: Url },
    /// A live profile from `comgmt.toml` (or `config`).
    Profile {
        name: String,
        config: Option<PathBuf>,
    },
}

impl TargetSpec {
    pub fn embedded(fresh: bool) -> Self {
        TargetSpec::Embedded {
            state: PathBuf::from(STATE_FILE),
            fresh,
        }
    }
}

/// A configuration problem the user fixes on the command line or in `comgmt.toml`
/// (exit code 2), as opposed to a failure to reach a service (exit code 1).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg.into()))
}

/// A resolved target.
pub struct Connected {
    /// Shown in the journal: `emulator` or the profile name.
    pub name: String,
    pub config: CloudConfig,
    /// The embedded emulator, when this run started one; shut it down at the end.
    pub emulator: Option<EmulatorHandle>,
}

/// Resolve a target. Runs on the tokio runtime (it may start the embedded emulator).
pub async fn connect(spec: &TargetSpec) -> anyhow::Result<Connected> {
    match spec {
        TargetSpec::Embedded { state, fresh } => embedded(state, *fresh).await,
        TargetSpec::EmbeddedEmpty => start_embedded(StateLocation::Memory).await,
        TargetSpec::Served { url } => served(url).await,
        TargetSpec::Profile { name, config } => {
            let p = profile::load(config.as_deref(), name).map_err(|e| usage(format!("{e:#}")))?;
            live(&p)
        }
    }
}

async fn embedded(state: &Path, fresh: bool) -> anyhow::Result<Connected> {
    if let Some(dir) = state.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    if fresh {
        remove_state(state)?;
    }
    start_embedded(StateLocation::File(state.to_path_buf())).await
}

async fn start_embedded(state: StateLocation) -> anyhow::Result<Connected> {
    let handle = comgmt_emulator::start(EmulatorConfig {
        port: 0,
        state: state.clone(),
        ..EmulatorConfig::default()
    })
    .await
    .map_err(|e| anyhow::anyhow!("cannot start the embedded emulator: {e}"))?;
    let url = Url::parse(handle.url())
        .map_err(|e| anyhow::anyhow!("the emulator gave a bad URL `{}`: {e}", handle.url()))?;
    tracing::info!(url = %url, tenant = handle.tenant_id(), state = ?state, "embedded emulator started");
    let mut config = CloudConfig::single_host(&url, handle.tenant_id());
    // The emulated site server writes its logs here (SMS_AZUREAD_DISCOVERY_AGENT.log).
    config.site_log_dir = Some(handle.log_dir().to_path_buf());
    // Name checks resolve through the emulator's DNS server, which answers for the
    // emulated Azure DNS zones and public IPs and for nothing else.
    config.dns_servers = vec![handle.dns_addr()];
    Ok(Connected {
        name: "emulator".into(),
        config,
        emulator: Some(handle),
    })
}

/// Delete a SQLite state file and its side files; a missing file is fine.
pub fn remove_state(state: &Path) -> anyhow::Result<()> {
    let mut paths = vec![state.to_path_buf()];
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut s = state.as_os_str().to_owned();
        s.push(suffix);
        paths.push(PathBuf::from(s));
    }
    for p in paths {
        match std::fs::remove_file(&p) {
            Ok(()) => tracing::info!(path = %p.display(), "removed emulator state"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => anyhow::bail!("cannot remove {}: {e}", p.display()),
        }
    }
    Ok(())
}

async fn served(url: &Url) -> anyhow::Result<Connected> {
    let base =
        profile::parse_url(url.as_str()).map_err(|e| usage(format!("--emulator-url: {e:#}")))?;
    let tenant = discovery::discover_tenant(&base, &[])
        .await
        .map_err(|e| match &e.hint {
            Some(hint) => anyhow::anyhow!("{e}; {hint}"),
            None => anyhow::anyhow!("{e}"),
        })?;
    let mut config = CloudConfig::single_host(&base, &tenant);
    // Name checks ask the served emulator's DNS server, like the embedded one's.
    match discovery::discover_dns(&base, &[]).await {
        Ok(Some(dns)) => config.dns_servers = vec![dns],
        Ok(None) => {
            tracing::warn!(url = %base, "the served emulator names no DNS server; DNS checks use the system's resolver")
        }
        Err(e) => anyhow::bail!("{e}"),
    }
    tracing::info!(url = %base, tenant = %tenant, dns = ?config.dns_servers, "using served emulator");
    Ok(Connected {
        name: "emulator".into(),
        config,
        emulator: None,
    })
}

/// A live profile as a cloud configuration; reads the secret from the environment.
pub fn live(p: &Profile) -> anyhow::Result<Connected> {
    let what = |key: &str| format!("{}: profile `{}`: {key}", p.source.display(), p.name);
    let env_secret = |var: &str, key: &str| -> anyhow::Result<Secret> {
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Secret::new(v)),
            _ => Err(usage(format!(
                "{}: environment variable {var} is not set; export it before the run",
                what(key)
            ))),
        }
    };
    let credential = match &p.auth {
        Auth::ClientSecret {
            client_id,
            secret_env,
        } => Credential::ClientSecret {
            client_id: client_id.clone(),
            secret: env_secret(secret_env, "auth.secret_env")?,
        },
        Auth::ClientCertificate {
            client_id,
            pfx,
            password_env,
        } => {
            if !pfx.is_file() {
                return Err(usage(format!(
                    "{}: {} is not a file",
                    what("auth.pfx"),
                    pfx.display()
                )));
            }
            Credential::ClientCertificate {
                client_id: client_id.clone(),
                pfx: pfx.clone(),
                password: env_secret(password_env, "auth.password_env")?,
            }
        }
        Auth::DeviceCode { client_id } => Credential::DeviceCode {
            client_id: client_id.clone(),
            notify: Arc::new(|message: &str| {
                use std::io::Write;
                let _ = writeln!(std::io::stderr().lock(), "{message}");
            }),
        },
    };
    let mut extra_roots_pem = Vec::new();
    if let Some(ca) = &p.ca_file {
        let pem = std::fs::read(ca).map_err(|e| {
            usage(format!(
                "{}: cannot read {}: {e}",
                what("ca_file"),
                ca.display()
            ))
        })?;
        if http::root_certificate(&pem).is_err() {
            return Err(usage(format!(
                "{}: {} is not a PEM certificate",
                what("ca_file"),
                ca.display()
            )));
        }
        extra_roots_pem.push(pem);
    }
    let mut config =
        CloudConfig::public(&p.tenant, credential).map_err(|e| anyhow::anyhow!("{e}"))?;
    config.authority = p.authority.clone();
    config.graph = p.graph.clone();
    config.arm = p.arm.clone();
    config.admin_service = p.admin_service.clone();
    config.subscription = p.subscription.clone();
    config.site_log_dir = p.site_log_dir.clone();
    config.extra_roots_pem = extra_roots_pem;
    config.dns_servers = p.dns_servers.clone();
    Ok(Connected {
        name: p.name.clone(),
        config,
        emulator: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn emulator_targets_resolve_through_the_emulators_dns_server() {
        let Connected {
            config, emulator, ..
        } = start_embedded(StateLocation::Memory)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let handle = emulator.unwrap_or_else(|| panic!("an embedded emulator"));
        assert_eq!(config.dns_servers, [handle.dns_addr()]);
        // The same emulator reached by URL, as `--emulator-url` does.
        let url = Url::parse(handle.url()).unwrap_or_else(|e| panic!("{e}"));
        let served = served(&url).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(served.config.dns_servers, [handle.dns_addr()]);
        handle.shutdown().await;
    }

    #[test]
    fn removing_missing_state_is_fine() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let state = dir.path().join("s.sqlite");
        std::fs::write(&state, b"x").unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join("s.sqlite-wal"), b"x").unwrap_or_else(|e| panic!("{e}"));
        assert!(remove_state(&state).is_ok());
        assert!(!state.exists());
        assert!(remove_state(&state).is_ok());
    }
}
