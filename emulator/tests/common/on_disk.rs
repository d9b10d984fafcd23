//! An emulator as a site runs it: over HTTPS (its CA trusted by the test's client), its
//! state in a file and its logs in a folder, all under one directory a test can search
//! for secrets afterwards.

use super::Emu;
use comgmt_emulator::{start, EmulatorConfig, StateLocation};
use std::path::Path;

impl Emu {
    /// `config` with its state (`emulator.sqlite`), CA (`ca.pem`) and logs (`logs/`) in `dir`.
    pub async fn on_disk(dir: &Path, config: EmulatorConfig) -> Emu {
        let handle = start(EmulatorConfig {
            state: StateLocation::File(dir.join("emulator.sqlite")),
            tls_cert_out: Some(dir.join("ca.pem")),
            log_dir: Some(dir.join("logs")),
            ..config
        })
        .await
        .expect("emulator starts");
        let root = reqwest::Certificate::from_pem(handle.ca_pem().expect("a CA")).expect("CA PEM");
        let http = reqwest::Client::builder()
            .add_root_certificate(root)
            .build()
            .expect("client");
        Emu::signed_in(handle, http).await
    }
}
