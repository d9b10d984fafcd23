//! Support for the end-to-end tests: the `comgmt` binary, a served emulator, and a
//! small Graph reader that checks the emulator's state through its own API.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Path to the `comgmt` binary, built once per test process with the same profile.
pub fn comgmt_path() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        escargot::CargoBuild::new()
            .package("comgmt")
            .bin("comgmt")
            .manifest_path(repo_root().join("Cargo.toml"))
            .current_release()
            .current_target()
            .run()
            .expect("build comgmt")
            .path()
            .to_path_buf()
    })
}

/// A `comgmt` command running in `dir`, with no colour and no inherited COMGMT_ vars.
pub fn comgmt(dir: &Path) -> Command {
    let mut c = Command::new(comgmt_path());
    c.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("COMGMT_") {
            c.env_remove(k);
        }
    }
    c
}

/// stdout + stderr as text, for assertions and failure messages.
pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Assert success and return (stdout, stderr).
#[track_caller]
pub fn ok(out: Output) -> (String, String) {
    let (o, e) = text(&out);
    assert!(
        out.status.success(),
        "expected success, got {:?}\n--- stdout\n{o}\n--- stderr\n{e}",
        out.status.code()
    );
    (o, e)
}

/// An emulator served on 127.0.0.1 from its own runtime thread; stops when dropped.
pub struct ServedEmulator {
    pub url: String,
    pub tenant_id: String,
    runtime: Option<tokio::runtime::Runtime>,
    handle: Option<comgmt_emulator::EmulatorHandle>,
}

impl ServedEmulator {
    pub fn start(config: comgmt_emulator::EmulatorConfig) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let handle = runtime
            .block_on(comgmt_emulator::start(config))
            .expect("start emulator");
        ServedEmulator {
            url: handle.url().to_string(),
            tenant_id: handle.tenant_id().to_string(),
            runtime: Some(runtime),
            handle: Some(handle),
        }
    }

    pub fn in_memory() -> Self {
        Self::start(comgmt_emulator::EmulatorConfig::default())
    }

    /// A bearer token from the emulator's token endpoint (client credentials).
    pub fn token(&self) -> String {
        let url = format!("{}{}/oauth2/v2.0/token", self.url, self.tenant_id);
        let v: serde_json::Value = self.block(async move {
            reqwest::Client::new()
                .post(url)
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", "test-client"),
                    ("client_secret", "test-secret"),
                    ("scope", "https://graph.microsoft.com/.default"),
                ])
                .send()
                .await
                .expect("token request")
                .json()
                .await
                .expect("token json")
        });
        v["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// GET a Graph path (e.g. `v1.0/applications`) and follow `@odata.nextLink` to the end.
    pub fn graph_list(&self, path: &str) -> Vec<serde_json::Value> {
        let token = self.token();
        let mut next = Some(format!("{}{}", self.url, path));
        let mut all = Vec::new();
        while let Some(url) = next.take() {
            let token = token.clone();
            let page: serde_json::Value = self.block(async move {
                reqwest::Client::new()
                    .get(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .expect("graph request")
                    .json()
                    .await
                    .expect("graph json")
            });
            if let Some(items) = page["value"].as_array() {
                all.extend(items.iter().cloned());
            }
            next = page["@odata.nextLink"].as_str().map(str::to_string);
        }
        all
    }

    pub fn block<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.as_ref().expect("runtime").block_on(f)
    }
}

impl Drop for ServedEmulator {
    fn drop(&mut self) {
        if let (Some(rt), Some(h)) = (self.runtime.as_ref(), self.handle.take()) {
            rt.block_on(h.shutdown());
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
