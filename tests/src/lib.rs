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

/// Path to the `comgmt` binary.
///
/// `cargo test --workspace` already builds it next to the test executables (the runtime
/// crate has integration tests), with the workspace's feature set; building it again
/// with `cargo build -p comgmt` would compile every dependency a second time. So that
/// binary is used when it is newer than every source it is built from; otherwise (for
/// example `cargo test -p comgmt-tests` after an edit) it is built once per process.
/// `COMGMT_BIN` overrides both.
pub fn comgmt_path() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("COMGMT_BIN") {
            return PathBuf::from(bin);
        }
        if let Some(bin) = sibling_binary().filter(|b| is_fresh(b)) {
            return bin;
        }
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

/// `target/<profile>/comgmt`, beside this test's `target/<profile>/deps/` folder.
fn sibling_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?.parent()?.join("comgmt");
    bin.is_file().then_some(bin)
}

/// True when `bin` is newer than every source file and manifest it is built from.
fn is_fresh(bin: &Path) -> bool {
    fn newest(path: &Path) -> Option<std::time::SystemTime> {
        let meta = std::fs::metadata(path).ok()?;
        if meta.is_file() {
            return meta.modified().ok();
        }
        std::fs::read_dir(path)
            .ok()?
            .filter_map(|e| e.ok())
            .filter_map(|e| newest(&e.path()))
            .max()
    }
    let Some(built) = std::fs::metadata(bin).and_then(|m| m.modified()).ok() else {
        return false;
    };
    let root = repo_root();
    [
        "runtime/src",
        "runtime/Cargo.toml",
        "stdlib/src",
        "stdlib/Cargo.toml",
        "emulator/src",
        "emulator/Cargo.toml",
        "Cargo.toml",
        "Cargo.lock",
    ]
    .iter()
    .filter_map(|p| newest(&root.join(p)))
    .all(|t| t <= built)
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

    /// Every request the emulator answered so far (its request log).
    pub fn requests(&self) -> Vec<comgmt_emulator::LoggedRequest> {
        self.handle
            .as_ref()
            .map(|h| h.requests())
            .unwrap_or_default()
    }

    /// The logged requests that could have changed state (e.g. to prove `comgmt plan`
    /// sent none).
    pub fn writes(&self) -> Vec<comgmt_emulator::LoggedRequest> {
        self.requests().into_iter().filter(|r| r.write).collect()
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
